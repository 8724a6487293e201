"""What an item is and what it points to, as keys two reports of one story share.

A story reported by several sources (an arXiv paper, its Hugging Face daily-papers entry,
its GitHub repository, a Hacker News thread about it) is recognised by explicit
cross-references before any title is compared:

=================  ===================================================================
``url:<url>``      a canonical URL (:func:`newsroom.core.urls.canonical_url`: no tracking
                   parameters, no ``www.``, https): the item's own link and every link it
                   lists (PDF, code, discussion, article ...)
``arxiv:<id>``     an arXiv id, without its version: ``arxiv.org/abs/2602.12205``,
                   ``/pdf/2602.12205v2``, ``hf.co/papers/…``, ``huggingface.co/papers/…``,
                   ``arXiv:2602.12205``, or a bare ``2602.12205`` in a title or a summary
``repo:<o>/<n>``   a GitHub repository: ``github.com/owner/name`` and any page under it
``hf:<o>/<n>``     a Hugging Face model, dataset or Space: ``huggingface.co/owner/name``
=================  ===================================================================

A repository's name is a mention too where another item's title writes it as a word
(``DeepGen`` in "DeepGen 1.0: …", ``GLM-5`` in "즈푸AI, 'GLM-5' 공개"), when the name, or
the title's way of writing it, is distinctive: at least four characters with a digit, a
hyphen, an underscore or a capital inside (``nanoGPT``; ``alphagenome`` written
"AlphaGenome"), so ``pathway`` or ``qlib`` never match ordinary words.

Each item has *identity* keys (what it is: its own link, its listed links, the paper or
repository those are) and *mentions* (papers and repositories its title or summary names).
Two items are one story when one's identity is among the other's identity or mentions: a
Reddit post citing ``arxiv.org/abs/2602.12153`` joins that paper, but two papers that both
cite ``github.com/pytorch/pytorch`` stay two papers.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from newsroom import Item
from newsroom.core.urls import canonical_url

# New-style ids: yymm.nnnnn since 2015, yymm.nnnn from April 2007 to 2014; months 01-12.
_NEW_ID = r"(?:\d{2}(?:0[1-9]|1[0-2])\.\d{4,5})"
# Old-style ids keep their archive: astro-ph/0601001, math.GT/0309136.
_OLD_ID = r"(?:[a-z-]+(?:\.[A-Z]{2})?/\d{7})"
#: An arXiv id in a link to arXiv or to Hugging Face's paper pages.
_ARXIV_URL = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html|format)/|(?:huggingface\.co|hf\.co)/papers/)"
    rf"({_NEW_ID}|{_OLD_ID})(?:v\d+)?",
    re.IGNORECASE,
)
#: A bare new-style id in text ("arXiv:2602.12205", "(2602.12205)"): digits on neither
#: side, so a price or a version number ("1.2602.12205", "12602.122050") is no id.
_ARXIV_TEXT = re.compile(rf"(?<![\d.]){_NEW_ID}(?:v\d+)?(?![\d])")
_GITHUB = re.compile(
    r"(?<!gist\.)github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})"
)
_HUGGINGFACE = re.compile(
    r"huggingface\.co/(?:(datasets|spaces)/)?([A-Za-z0-9][\w.-]{0,95})/([\w.-]{1,96})"
)
#: First path segments of github.com that are pages of the site, not owners.
GITHUB_PAGES = frozenset(
    {
        "about",
        "apps",
        "blog",
        "collections",
        "contact",
        "customer-stories",
        "enterprise",
        "events",
        "explore",
        "features",
        "login",
        "marketplace",
        "new",
        "notifications",
        "orgs",
        "organizations",
        "pricing",
        "pulls",
        "issues",
        "readme",
        "search",
        "security",
        "settings",
        "site",
        "sponsors",
        "topics",
        "trending",
        "users",
    }
)
#: First path segments of huggingface.co that are pages of the site, not owners.
HUGGINGFACE_PAGES = frozenset(
    {
        "api",
        "blog",
        "chat",
        "collections",
        "datasets",
        "docs",
        "join",
        "learn",
        "login",
        "models",
        "organizations",
        "papers",
        "posts",
        "pricing",
        "settings",
        "spaces",
        "tasks",
    }
)
#: Keys of ``Item.links`` whose link is the item's paper or repository (its identity).
_ARXIV_EXTRA = "arxiv_id"
#: ``Item.extra`` key a filter sets on items it found to be one story (the ``llm`` filter's
#: ``stories``): items with the same value are joined like items with one link.
_STORY = "story"


class References(NamedTuple):
    """An item's keys, each sorted: what it is (``identity``) and what it names
    (``mentions``). Tuples, not sets: most items have one key and no mention, and a build
    makes ten thousand of them."""

    identity: tuple[str, ...]
    mentions: tuple[str, ...]

    def papers(self) -> frozenset[str]:
        """The arXiv ids the item *is* (a paper, or a page about exactly that paper)."""
        return frozenset(k for k in self.identity if k.startswith("arxiv:"))

    def repositories(self) -> frozenset[str]:
        return frozenset(k for k in self.identity if k.startswith("repo:"))


def arxiv_ids(text: str, *, bare: bool = False) -> set[str]:
    """The arXiv ids in links of ``text``; with ``bare``, also ids written out in it."""
    found: set[str] = set()
    if "arxiv" in text or "/papers/" in text:
        found.update(m.lower() for m in _ARXIV_URL.findall(text))
    if bare and "." in text:
        found.update(_without_version(m) for m in _ARXIV_TEXT.findall(text))
    return found


def names_arxiv(text: str) -> bool:
    """Whether ``text`` says "arXiv" (any case): only then are bare ids in a summary read
    as papers. (Three substring tests cost less than a case-folded copy or a regex scan.)"""
    return "rxiv" in text or "rXiv" in text or "RXIV" in text


def _without_version(arxiv_id: str) -> str:
    head, sep, _ = arxiv_id.partition("v")
    return head if sep else arxiv_id


def repositories(text: str) -> set[str]:
    """``owner/name`` of every GitHub repository linked in ``text`` (lower case)."""
    if "github.com" not in text:
        return set()
    found = set()
    for owner, name in _GITHUB.findall(text):
        if owner.lower() in GITHUB_PAGES:
            continue
        name = name.removesuffix(".git").rstrip(".")
        if name:
            found.add(f"{owner}/{name}".lower())
    return found


def hub_repositories(text: str) -> set[str]:
    """``owner/name`` (``datasets/owner/name``, ``spaces/...``) of every Hugging Face
    model, dataset or Space linked in ``text``."""
    if "huggingface.co" not in text:
        return set()
    found = set()
    for area, owner, name in _HUGGINGFACE.findall(text):
        if not area and owner.lower() in HUGGINGFACE_PAGES:
            continue
        found.add(f"{area + '/' if area else ''}{owner}/{name}".lower())
    return found


def _names_a_page(url: str) -> bool:
    """Whether a link may name a paper or a repository besides being a page."""
    return "arxiv" in url or "/papers/" in url or "github.com" in url or "huggingface.co" in url


def _keys_of_link(url: str, into: set[str]) -> None:
    into.add("url:" + canonical_url(url))
    if "arxiv" in url or "/papers/" in url:
        into.update("arxiv:" + i for i in arxiv_ids(url))
    if "github.com" in url:
        into.update("repo:" + r for r in repositories(url))
    if "huggingface.co" in url:
        into.update("hf:" + r for r in hub_repositories(url))


def _mentions(text: str, *, bare: bool, into: set[str]) -> None:
    if "arxiv" in text or "/papers/" in text or (bare and "." in text):
        into.update("arxiv:" + i for i in arxiv_ids(text, bare=bare))
    if "github.com" in text:
        into.update("repo:" + r for r in repositories(text))
    if "huggingface.co" in text:
        into.update("hf:" + r for r in hub_repositories(text))


def references(item: Item) -> References:
    """The cross-reference keys of ``item`` (see the module's docstring).

    Bare arXiv ids count in the title, and in the summary when it says "arXiv": a summary's
    other numbers (prices, versions, dates) are left alone, and most summaries are scanned
    for nothing but a few substrings.
    """
    url = item.url
    paper = item.extra.get(_ARXIV_EXTRA) if item.extra else None
    identity: tuple[str, ...]
    story = item.extra.get(_STORY) if item.extra else None
    if not item.links and paper is None and story is None and not _names_a_page(url):
        identity = ("url:" + canonical_url(url),)  # most items: their own link only
    else:
        keys: set[str] = set()
        _keys_of_link(url, keys)
        for link in item.links.values():
            if isinstance(link, str):
                _keys_of_link(link, keys)
        if isinstance(paper, str) and paper.strip():
            keys.add("arxiv:" + _without_version(paper.strip().lower()))
        if isinstance(story, str) and story:
            keys.add("story:" + story)
        identity = tuple(sorted(keys))
    found: set[str] = set()
    title, summary = item.title, item.summary
    if title:
        _mentions(title, bare=True, into=found)
    if summary:
        _mentions(summary, bare=names_arxiv(summary), into=found)
    if not found:
        return References(identity, ())
    return References(identity, tuple(sorted(found.difference(identity))))


_DISTINCTIVE = re.compile(r"[0-9_.-]|[a-z][A-Z]")


def distinctive(name: str) -> bool:
    """Whether a repository's name is unlike an ordinary word (see the module docstring)."""
    return len(name) >= 4 and _DISTINCTIVE.search(name) is not None


def repository_names(items: list[Item]) -> dict[str, str]:
    """The names of the repositories among ``items`` (an item whose own link is a
    repository) that may be written in titles, lower case, with their ``repo:`` key and
    whether the name itself is distinctive."""
    names: dict[str, str] = {}
    for item in items:
        if "github.com" not in item.url:
            continue
        found = _GITHUB.search(item.url)
        if found is None or found.group(1).lower() in GITHUB_PAGES:
            continue
        name = found.group(2).removesuffix(".git")
        if len(name) >= 4:
            key = f"repo:{found.group(1)}/{name}".lower()
            # A name that is not distinctive itself counts only as a title writes it.
            names.setdefault(name.lower(), key if distinctive(name) else "?" + key)
    return names


def name_pattern(names: dict[str, str]) -> re.Pattern[str] | None:
    """A pattern finding any of ``names`` written as a word (Korean particles may follow)."""
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_/.-])({alternatives})(?![A-Za-z0-9_-]|\.\d)", re.IGNORECASE)
