"""Collecting items: every request a source makes goes through one shared fetcher
(:mod:`.http`, its conditional-GET and parse caches in :mod:`.cache`); feeds are parsed by
:mod:`.feeds`, in worker processes (:mod:`.workers`); each source runs in a thread of its own
where it can be abandoned at its deadline (:mod:`.source_threads`)."""
