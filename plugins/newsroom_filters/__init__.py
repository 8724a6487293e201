"""newsroom plugin: filters.

``window``
    Keep items published in the last hours, since the last published edition, or today.
``dedupe``
    One item per story: same canonical link, or near-identical titles from different sources.
``keywords``
    Keep items mentioning any ``include`` word, drop those mentioning an ``exclude`` word.
``history``
    Drop items already sent in an earlier published edition.
``rank``
    Score items by freshness, metrics normalised within each source, and keywords.
"""

from __future__ import annotations

from newsroom import hookimpl

from .dedupe import Dedupe
from .history import History
from .keywords import Keywords
from .rank import Rank
from .window import Window

__all__ = ["Dedupe", "History", "Keywords", "Rank", "Window"]


@hookimpl
def register_filters(register):  # type: ignore[no-untyped-def]
    register(Window)
    register(Dedupe)
    register(Keywords)
    register(History)
    register(Rank)
