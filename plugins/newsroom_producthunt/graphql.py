"""The Product Hunt API v2 (GraphQL): a day's posts ordered by votes.

Responses follow the public schema: ``data.posts.edges[].node``. Failures come two ways:
HTTP 200 with ``{"errors": [{"message": ...}]}`` for a bad query, and HTTP 401 with
``{"data": null, "errors": [{"error": "invalid_oauth_token", "error_description": ...}]}``
for a bad token. Since 2023 the API hides makers' names from ordinary tokens
(``"[REDACTED]"``); those are dropped.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from newsroom import Item
from newsroom.core.urls import is_tracking_param

#: Product Hunt's launch day runs midnight to midnight, Pacific time.
PH_TIMEZONE = ZoneInfo("America/Los_Angeles")
REDACTED = "[REDACTED]"

POSTS_QUERY = """
query DailyPosts($first: Int!, $postedAfter: DateTime, $postedBefore: DateTime) {
  posts(order: VOTES, first: $first, postedAfter: $postedAfter, postedBefore: $postedBefore) {
    edges {
      node {
        id name tagline description url website votesCount commentsCount createdAt
        thumbnail { url }
        topics { edges { node { name } } }
        makers { name }
      }
    }
  }
}
""".strip()


def day_bounds(now: dt.datetime, day: str) -> tuple[dt.datetime, dt.datetime | None]:
    """Start and end (``None``: open) of Product Hunt's ``today`` or ``yesterday``."""
    local = now.astimezone(PH_TIMEZONE)
    start = dt.datetime.combine(local.date(), dt.time(), tzinfo=PH_TIMEZONE)
    if day == "yesterday":
        return start - dt.timedelta(days=1), start
    return start, None


def request_body(first: int, after: dt.datetime, before: dt.datetime | None) -> dict[str, Any]:
    variables: dict[str, Any] = {"first": first, "postedAfter": after.isoformat()}
    if before is not None:
        variables["postedBefore"] = before.isoformat()
    return {"query": POSTS_QUERY, "variables": variables}


def error_message(payload: Any) -> str | None:
    """The API's own words from an ``errors`` list, or ``None`` when there is none."""
    if not isinstance(payload, dict) or not payload.get("errors"):
        return None
    messages = []
    for error in payload["errors"]:
        if isinstance(error, dict):
            text = error.get("message") or error.get("error_description") or error.get("error")
            messages.append(str(text or error))
        else:
            messages.append(str(error))
    return "; ".join(messages)


def without_tracking(url: str) -> str:
    """``url`` without ``utm_*`` and the like (the API appends them to every link)."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _names(connection: Any) -> list[str]:
    edges = connection.get("edges", []) if isinstance(connection, dict) else []
    return [e["node"]["name"] for e in edges if e.get("node", {}).get("name")]


def _created(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def node_to_item(node: dict[str, Any]) -> Item | None:
    """One post, or ``None`` when it lacks a name or URL."""
    name, url = (node.get("name") or "").strip(), node.get("url")
    if not name or not url:
        return None
    tagline = (node.get("tagline") or "").strip()
    makers = [
        m["name"] for m in node.get("makers") or [] if m.get("name") and m["name"] != REDACTED
    ]
    metrics = {
        key: float(node[field])
        for key, field in (("votes", "votesCount"), ("comments", "commentsCount"))
        if isinstance(node.get(field), int)
    }
    extra: dict[str, Any] = {"producthunt_id": str(node.get("id", ""))}
    if node.get("description"):
        extra["description"] = node["description"]
    return Item(
        url=without_tracking(url),
        title=name,
        summary=f"<p>{html.escape(tagline)}</p>" if tagline else "",
        kind="product",
        publisher="Product Hunt",
        published=_created(node.get("createdAt")),
        authors=makers,
        tags=_names(node.get("topics")),
        metrics=metrics,
        image=(node.get("thumbnail") or {}).get("url"),
        links={"website": without_tracking(node["website"])} if node.get("website") else {},
        extra=extra,
    )


def posts(payload: Any) -> list[dict[str, Any]] | None:
    """The post nodes of a response, or ``None`` when it has no ``data.posts``."""
    try:
        edges = payload["data"]["posts"]["edges"]
    except (KeyError, TypeError):
        return None
    return [edge["node"] for edge in edges if isinstance(edge, dict) and edge.get("node")]
