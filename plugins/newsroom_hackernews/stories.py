"""Hacker News stories out of the two public APIs' JSON.

The Firebase API (``hacker-news.firebaseio.com/v0``) lists story ids
(``topstories.json``: ``[37047053, 37047304, ...]``) and serves each item on its own
(``item/<id>.json``: ``{"id", "type", "by", "time", "title", "url", "text", "score",
"descendants", "kids"}``; ``null`` for an id that does not exist). The Algolia search API
(``hn.algolia.com/api/v1/search``) answers ``{"hits": [...]}`` with ``objectID``, ``title``,
``url``, ``author``, ``points``, ``num_comments``, ``created_at_i`` and ``story_text``.

Both become a :class:`Story`; anything that does not have the shape of a story is
``None`` or a :class:`NotAStory` with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

#: Firebase item types that are stories with a title and a score (jobs have no score,
#: comments and poll options are parts of a story).
STORY_TYPES = frozenset({"story", "poll"})


@dataclass(frozen=True)
class Story:
    """One story, whichever API it came from."""

    id: int
    title: str
    url: str | None
    """The linked article; ``None`` for Ask HN and text-only posts."""
    points: int
    comments: int
    author: str | None
    published: dt.datetime | None
    text: str
    """The post's own text (HTML, as Hacker News stores it); mostly empty for links."""
    type: str = "story"


class NotAStory(ValueError):
    """The JSON does not have the shape of a story."""


class Unlisted(NotAStory):
    """A real item, but not one to list: deleted, flagged dead, a job, a comment."""


def _int(value: Any) -> int | None:
    # bool is an int in Python, and never a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _when(value: Any) -> dt.datetime | None:
    seconds = _int(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _http_url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value
    return None


def story_ids(data: Any) -> list[int]:
    """The ids of a story list (``topstories.json`` and friends), without repeats."""
    if not isinstance(data, list):
        raise NotAStory(f"expected a list of story ids, got {type(data).__name__}")
    ids = [_int(value) for value in data]
    if any(i is None for i in ids):
        raise NotAStory("the list holds something other than story ids")
    return list(dict.fromkeys(i for i in ids if i is not None))


def from_item(data: Any) -> Story | None:
    """A Firebase ``item/<id>.json`` body as a story; ``None`` for ``null`` (no such item)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise NotAStory(f"expected an object, got {type(data).__name__}")
    story_id = _int(data.get("id"))
    if story_id is None:
        raise NotAStory("it has no id")
    if data.get("deleted") or data.get("dead"):
        raise Unlisted("deleted or flagged dead")
    kind = data.get("type")
    if kind not in STORY_TYPES:
        raise Unlisted(f"a {kind!r}, not a story")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise NotAStory("it has no title")
    return Story(
        id=story_id,
        title=title.strip(),
        url=_http_url(data.get("url")),
        points=_int(data.get("score")) or 0,
        comments=_int(data.get("descendants")) or 0,
        author=data.get("by") if isinstance(data.get("by"), str) else None,
        published=_when(data.get("time")),
        text=data.get("text") if isinstance(data.get("text"), str) else "",
        type=str(kind),
    )


def from_hit(hit: Any) -> Story:
    """One Algolia search hit as a story."""
    if not isinstance(hit, dict):
        raise NotAStory(f"expected an object, got {type(hit).__name__}")
    raw_id = hit.get("objectID", hit.get("story_id"))
    try:
        story_id = int(raw_id)
    except (TypeError, ValueError):
        raise NotAStory("it has no objectID") from None
    title = hit.get("title")
    if not isinstance(title, str) or not title.strip():
        raise NotAStory("it has no title")
    return Story(
        id=story_id,
        title=title.strip(),
        url=_http_url(hit.get("url")),
        points=_int(hit.get("points")) or 0,
        comments=_int(hit.get("num_comments")) or 0,
        author=hit.get("author") if isinstance(hit.get("author"), str) else None,
        published=_when(hit.get("created_at_i")),
        text=hit.get("story_text") if isinstance(hit.get("story_text"), str) else "",
    )


def hits(data: Any) -> list[Any]:
    """The ``hits`` of an Algolia search response."""
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise NotAStory("expected a search response with a list of hits")
    return list(data["hits"])
