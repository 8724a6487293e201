"""The editor's insight from the model's structured answer, linked to the edition's items.

The model is shown the edition's items by number and answers with JSON (see
:data:`newsroom_llm.prompts.INSIGHT_FORMAT`): trends, recommendations and an outlook, each
naming the numbers of the items it is about. The HTML is written here, not by the model:

- every entry names at least one item of the edition, and links to each one it names;
- a number that is not an item of the edition is dropped, and an entry left naming none is
  dropped with it (both reported);
- the model's text is plain text: markup is escaped and links in it are removed, so the only
  links in the insight lead to the edition's own items.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from newsroom import Item

#: The answer's JSON Schema, for models that can be held to one (``llm``'s ``schema=``).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "trends": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "text": {"type": "string"},
                    "items": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["title", "text", "items"],
            },
        },
        "recommendations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": ["now", "watch", "skip"]},
                    "text": {"type": "string"},
                    "items": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["action", "text", "items"],
            },
        },
        "outlook": {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "items": {"type": "array", "items": {"type": "integer"}},
            },
            "required": ["text", "items"],
        },
    },
    "required": ["trends", "recommendations", "outlook"],
}

LABELS = {
    "ko": {
        "trends": "오늘의 핵심 트렌드",
        "recommendations": "추천",
        "outlook": "전망",
        "now": "🟢 바로 해 볼 것",
        "watch": "🟡 지켜볼 것",
        "skip": "🔴 넘겨도 될 것",
    },
    "en": {
        "trends": "Today's trends",
        "recommendations": "Recommendations",
        "outlook": "Outlook",
        "now": "🟢 Try now",
        "watch": "🟡 Keep an eye on",
        "skip": "🔴 Safe to skip",
    },
}
MAX_TRENDS = 5
MAX_RECOMMENDATIONS = 6
_URL = re.compile(r"https?://\S+|www\.\S+")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


class Unusable(ValueError):
    """The answer cannot be read as an insight (or an intro) at all."""


@dataclass
class Insight:
    """The insight as HTML, and what had to be left out of the answer."""

    html: str
    unknown_items: list[int] = field(default_factory=list)
    dropped_entries: list[str] = field(default_factory=list)


def parse_answer(text: str) -> dict[str, Any]:
    """The JSON object in the model's answer (also inside a ```json fence or prose)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise Unusable("no JSON object in the answer")
    try:
        data = json.loads(text[start : end + 1])
    except ValueError as exc:
        raise Unusable(f"the JSON does not parse ({exc})") from None
    if not isinstance(data, dict):
        raise Unusable("the JSON is not an object")
    return data


def _text(value: Any) -> str:
    """The model's words as safe HTML: escaped, links removed, **bold** kept."""
    if not isinstance(value, str):
        return ""
    plain = " ".join(_URL.sub("", value).split())
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(plain, quote=False))


def _links(numbers: list[int], items: list[Item]) -> str:
    links = []
    for n in numbers:
        item = items[n - 1]
        title = item.title if len(item.title) <= 60 else item.title[:59].rstrip() + "…"
        links.append(f'<a href="{html.escape(item.url)}">{html.escape(title, quote=False)}</a>')
    return " (" + ", ".join(links) + ")"


def render(data: dict[str, Any], items: list[Item], language: str) -> Insight:
    """The insight HTML of a parsed answer about ``items`` (numbered from 1)."""
    labels = LABELS.get(language.split("-")[0].lower(), LABELS["en"])
    result = Insight(html="")

    def known(entry: Any, what: str) -> list[int] | None:
        """The entry's valid item numbers, or None (and a note) when it names none."""
        raw = entry.get("items") if isinstance(entry, dict) else None
        numbers: list[int] = []
        for value in raw if isinstance(raw, list) else []:
            if isinstance(value, bool) or not isinstance(value, int | str):
                continue
            try:
                n = int(value)
            except ValueError:
                continue
            if 1 <= n <= len(items):
                if n not in numbers:
                    numbers.append(n)
            elif n not in result.unknown_items:
                result.unknown_items.append(n)
        text = _text(entry.get("text")) if isinstance(entry, dict) else ""
        if not numbers or not text:
            result.dropped_entries.append(what)
            return None
        return numbers

    parts: list[str] = []
    trends = []
    for n, entry in enumerate(_list(data.get("trends"))[:MAX_TRENDS], start=1):
        numbers = known(entry, f"trend {n}")
        if numbers is None:
            continue
        title = _text(entry.get("title"))
        head = f"<strong>{title}</strong> — " if title else ""
        trends.append(f"<li>{head}{_text(entry['text'])}{_links(numbers, items)}</li>")
    if trends:
        parts.append(
            f"<p><strong>{labels['trends']}</strong></p>\n<ol>\n" + "\n".join(trends) + "\n</ol>"
        )

    advice = []
    recommendations = _list(data.get("recommendations"))[:MAX_RECOMMENDATIONS]
    order = {"now": 0, "watch": 1, "skip": 2}
    for n, entry in sorted(
        enumerate(recommendations, start=1),
        key=lambda pair: order.get(
            str(pair[1].get("action")) if isinstance(pair[1], dict) else "", 1
        ),
    ):
        numbers = known(entry, f"recommendation {n}")
        if numbers is None:
            continue
        action = str(entry.get("action", "watch"))
        label = labels.get(action, labels["watch"]) if action in order else labels["watch"]
        advice.append(
            f"<li><strong>{label}</strong>: {_text(entry['text'])}{_links(numbers, items)}</li>"
        )
    if advice:
        parts.append(
            f"<p><strong>{labels['recommendations']}</strong></p>\n<ul>\n"
            + "\n".join(advice)
            + "\n</ul>"
        )

    outlook = data.get("outlook")
    if isinstance(outlook, str):  # a bare string names no item: it cannot stay
        outlook = {"text": outlook, "items": []}
    if isinstance(outlook, dict):
        numbers = known(outlook, "the outlook")
        if numbers is not None:
            parts.append(
                f"<p><strong>{labels['outlook']}</strong></p>\n"
                f"<p>{_text(outlook['text'])}{_links(numbers, items)}</p>"
            )
    if not parts:
        raise Unusable("no trend, recommendation or outlook in it names an item of the edition")
    result.html = "\n".join(parts)
    return result


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
