"""Scraping repositories out of a ``github.com/trending`` page.

GitHub has changed the markup several times; one set of selectors covers every era seen:

=========  ==================================================================
2019       ``ol.repo-list > li``, ``h3 > a``, ``a.muted-link`` counts
2020-22    ``article.Box-row``, ``h1.h3 > a``
2023       ``article.Box-row``, ``h2.h3 > a``
2026       ``article.Box-row``, ``h2.h3 > a.Link``, ``tmp-*`` classes
=========  ==================================================================

So the parser leans on what has not changed: the heading link is ``/owner/name``, the
counts link to ``…/stargazers`` and ``…/forks`` (or ``…/network/members``), the language
has ``itemprop="programmingLanguage"``, and the period's stars read "1,234 stars today".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

ROWS = "article.Box-row, ol.repo-list > li"
HEADING_LINK = "h1 a[href], h2 a[href], h3 a[href]"
STARS_LINK = 'a[href$="/stargazers"]'
FORKS_LINK = 'a[href$="/forks"], a[href*="/network/members"]'
LANGUAGE = '[itemprop="programmingLanguage"]'

_PERIOD_STARS = re.compile(r"([\d,.]+k?)\s+stars?\s+(?:today|this\s+week|this\s+month)", re.I)
# Two path segments, nothing else: "/owner/name" (developer rows link to "/login").
_REPO_PATH = re.compile(r"^/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/?$")


@dataclass
class Repository:
    """One row of the trending page."""

    owner: str
    name: str
    description: str = ""
    language: str | None = None
    stars: int | None = None
    forks: int | None = None
    stars_period: int | None = None
    built_by: list[dict[str, str]] = field(default_factory=list)
    """``{"login": ..., "path": "/login", "avatar": ...}`` for each avatar shown."""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def fold(text: str | None) -> str:
    return " ".join((text or "").split())


def parse_count(text: str | None) -> int | None:
    """``"23,305"`` → 23305, ``"1.2k"`` → 1200; ``None`` when there is no number."""
    value = fold(text).lower().replace(",", "")
    match = re.search(r"\d+(?:\.\d+)?k?", value)
    if not match:
        return None
    number = match.group()
    if number.endswith("k"):
        return round(float(number[:-1]) * 1000)
    return int(float(number))


def _text(node: LexborNode | None) -> str:
    return fold(node.text(deep=True)) if node is not None else ""


def _built_by(row: LexborNode) -> list[dict[str, str]]:
    people = []
    for img in row.css("img.avatar"):
        login = (img.attributes.get("alt") or "").lstrip("@").strip()
        if not login:
            continue
        parent = img.parent
        path = parent.attributes.get("href") if parent is not None and parent.tag == "a" else None
        people.append(
            {"login": login, "path": path or f"/{login}", "avatar": img.attributes.get("src") or ""}
        )
    return people


def parse_row(row: LexborNode) -> Repository | None:
    """The repository in one row, or ``None`` when the row is not a repository."""
    link = row.css_first(HEADING_LINK)
    if link is None:
        return None
    match = _REPO_PATH.match(urlsplit(link.attributes.get("href") or "").path)
    if match is None:
        return None
    period = _PERIOD_STARS.search(_text(row))
    return Repository(
        owner=match.group(1),
        name=match.group(2),
        description=_text(row.css_first("p")),
        language=_text(row.css_first(LANGUAGE)) or None,
        stars=parse_count(_text(row.css_first(STARS_LINK))),
        forks=parse_count(_text(row.css_first(FORKS_LINK))),
        stars_period=parse_count(period.group(1)) if period else None,
        built_by=_built_by(row),
    )


def parse_page(html: bytes | str) -> list[Repository]:
    """Every repository on the page, in rank order (possibly none)."""
    tree = LexborHTMLParser(html)
    repos = (parse_row(row) for row in tree.css(ROWS))
    return [repo for repo in repos if repo is not None]
