"""Curating the collected items into an edition: :mod:`.pipeline` runs the sources, the
filters and the section layouts, then the edit stage (:mod:`.editing`: summaries, the intro,
the insight, the editor's notes of :mod:`.notes`), sanitizes the result and writes
``edition.json``."""
