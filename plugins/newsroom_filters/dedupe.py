"""The ``dedupe`` filter: one item per story, however many sources carried it.

Reports of one story are found two ways (docs/stories.md):

1. **Cross-references** (:mod:`.references`): the same canonical link, arXiv id or
   repository, in an item's own link, its listed links, or its title and summary. These are
   exact and transitive: a paper, its Hugging Face page (which names its repository) and
   that repository on GitHub trending are one story.
2. **Near-identical titles** from different sources (:mod:`.similarity`), compared with the
   first report of each story only, so a chain of rewordings never drifts into another
   story.

Two reports naming different papers or different repositories are never one story, however
alike their titles. The merged item is built by :mod:`.stories`.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import Field, field_validator

from newsroom import Filter, FilterContext, Item, Options

from .references import (
    References,
    distinctive,
    name_pattern,
    references,
    repository_names,
)
from .similarity import (
    bigrams,
    collector_paused,
    normalize_title,
    numbers,
    numbers_conflict,
    similar_pairs,
)
from .stories import merge_story, metric_sources

__all__ = ["Dedupe", "metric_sources", "group_stories"]


class _Survivor(NamedTuple):
    key: int
    """The item that heads its story (stories are numbered by their first item)."""
    origin: str


class _Titles:
    """Finds, for an item, the first earlier story head with a similar title.

    Items whose titles are equal after normalisation form one *title class*; the similarity
    join runs over the distinct classes, so a thousand "Untitled" posts cost one comparison.
    An item whose ``original_title`` differs from its title (a translation) is in the classes
    of both, so a story told in two languages meets once either side is translated.
    """

    def __init__(self, items: list[Item], threshold: float, distinct_numbers: bool) -> None:
        classes: dict[str, int] = {}

        def class_of(norm: str) -> int:
            # -1: nothing left of the title to compare ("🔥🔥🔥").
            return classes.setdefault(norm, len(classes)) if norm else -1

        self.class_of = [class_of(normalize_title(i.title)) for i in items]
        # Each item's classes: its title's, and its original title's when that differs.
        self.own: list[tuple[int, ...]] = [(c,) if c >= 0 else () for c in self.class_of]
        for n, item in enumerate(items):
            if item.original_title and item.original_title != item.title:
                other = class_of(normalize_title(item.original_title))
                if other >= 0 and other != self.class_of[n]:
                    self.own[n] = (*self.own[n], other)
        self.titles = list(classes)
        if threshold >= 1:
            self.similar = _same_without_spaces(self.titles)
        else:
            self.similar = similar_pairs([bigrams(t) for t in self.titles], threshold)
        self.distinct_numbers = distinct_numbers
        self._numbers: dict[int, frozenset[str]] = {}
        # Per class, the first head and the first from another origin than that one:
        # whatever an item's origin, the earliest head it may join is one of these two.
        # (All items of a class have the same numbers, so they are all compatible or not.)
        self._survivors: dict[int, list[_Survivor]] = {}

    def match(self, n: int, origin: str) -> int | None:
        """The earliest head from another origin whose title is like item ``n``'s (and
        has no conflicting numbers)."""
        best: int | None = None
        for own in self.own[n]:
            for cls in (own, *self.similar.get(own, ())):
                survivors = self._survivors.get(cls)
                if not survivors or not self._compatible(own, cls):
                    continue
                for survivor in survivors:
                    if best is not None and survivor.key >= best:
                        break
                    # One source listing two similar titles means two things (papers, repos).
                    if survivor.origin != origin:
                        best = survivor.key
                        break
        return best

    def add(self, n: int, origin: str) -> None:
        """Record item ``n``, from ``origin``, as the head of a story."""
        for cls in self.own[n]:
            known = self._survivors.setdefault(cls, [])
            if not known or (len(known) == 1 and known[0].origin != origin):
                known.append(_Survivor(n, origin))

    def _compatible(self, a: int, b: int) -> bool:
        return not (
            self.distinct_numbers and numbers_conflict(self._numbers_of(a), self._numbers_of(b))
        )

    def _numbers_of(self, cls: int) -> frozenset[str]:
        found = self._numbers.get(cls)
        if found is None:
            found = self._numbers[cls] = numbers(self.titles[cls])
        return found


def _same_without_spaces(titles: list[str]) -> dict[int, list[int]]:
    """Titles equal but for spaces, for ``title_similarity = 1``. (Equal bigram sets are not
    enough: "abab" and "ababab" have the same.)"""
    groups: dict[str, list[int]] = {}
    for n, title in enumerate(titles):
        groups.setdefault(title.replace(" ", ""), []).append(n)
    return {
        n: [other for other in group if other != n]
        for group in groups.values()
        if len(group) > 1
        for n in group
    }


def _origin(item: Item) -> str:
    """Where an item came from: its source and, for multi-feed sources, its feed. Two feeds
    of one ``news`` source are as independent as two sources."""
    feed = item.extra.get("feed")
    return f"{item.source}\n{feed}" if isinstance(feed, str) else item.source


class _Stories:
    """Union-find over item positions; a story's root is its first item. Two stories that
    name different papers or different repositories are never joined."""

    def __init__(self, refs: list[References]) -> None:
        self.parent = list(range(len(refs)))
        # Only stories that name a paper or a repository keep a set (most items do not).
        self.papers: dict[int, frozenset[str]] = {}
        self.repos: dict[int, frozenset[str]] = {}
        for n, ref in enumerate(refs):
            if len(ref.identity) == 1:
                (key,) = ref.identity
                if key.startswith("url:"):
                    continue  # most items: their own link and nothing else
            if papers := ref.papers():
                self.papers[n] = papers
            if repos := ref.repositories():
                self.repos[n] = repos

    def find(self, n: int) -> int:
        parent = self.parent
        root = n
        while parent[root] != root:
            root = parent[root]
        while parent[n] != root:  # path compression
            parent[n], n = root, parent[n]
        return root

    def union(self, a: int, b: int) -> bool:
        """Join the stories of items ``a`` and ``b``; False when they name different papers
        or repositories (they stay apart)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if _conflict(self.papers, ra, rb) or _conflict(self.repos, ra, rb):
            return False
        root, other = (ra, rb) if ra < rb else (rb, ra)
        self.parent[other] = root
        for known in (self.papers, self.repos):
            if other in known:
                known[root] = known.get(root, frozenset()) | known.pop(other)
        return True


def _conflict(known: dict[int, frozenset[str]], a: int, b: int) -> bool:
    first, second = known.get(a), known.get(b)
    return bool(first and second and first.isdisjoint(second))


def group_stories(
    items: list[Item],
    *,
    title_similarity: float = 0.8,
    distinct_numbers: bool = True,
    cross_references: bool = True,
    refs: list[References] | None = None,
) -> list[list[int]]:
    """The stories among ``items``: lists of positions, each in input order, the lists in
    the order of their first items."""
    if refs is None:
        if cross_references:
            refs = [references(i) for i in items]
        else:
            refs = [_url_only(i) for i in items]
    stories = _Stories(refs)
    # 1. Cross-references: an identity key joins every item that has it, or mentions it.
    first: dict[str, int] = {}
    for n, ref in enumerate(refs):
        # In a fixed order (the keys are sorted): it decides which of two conflicting
        # stories an item joins.
        for key in ref.identity:
            known = first.setdefault(key, n)
            if known != n:
                stories.union(known, n)
    for n, ref in enumerate(refs):
        for key in ref.mentions:
            cited = first.get(key)
            if cited is not None:
                stories.union(cited, n)
    if cross_references:
        _join_named_repositories(items, first, stories)
    # 2. Titles: each story's first report is compared with the earlier stories' first
    # reports (0 turns title matching off: as a similarity it would merge everything).
    if title_similarity > 0:
        titles = _Titles(items, title_similarity, distinct_numbers)
        for n, item in enumerate(items):
            if stories.find(n) != n:
                continue  # already part of an earlier story through a link
            origin = _origin(item)
            found = titles.match(n, origin)
            if found is None or not stories.union(found, n):
                titles.add(n, origin)
    groups: dict[int, list[int]] = {}
    for n in range(len(items)):
        groups.setdefault(stories.find(n), []).append(n)
    return list(groups.values())


def _join_named_repositories(items: list[Item], first: dict[str, int], stories: _Stories) -> None:
    """Join each title that writes a repository's distinctive name to that repository."""
    names = repository_names(items)
    pattern = name_pattern(names)
    if pattern is None:
        return
    for n, item in enumerate(items):
        for written in set(pattern.findall(item.title)):
            key = names[written.lower()]
            if key.startswith("?"):  # an ordinary-looking name: only as "AlphaGenome"
                if not distinctive(written):
                    continue
                key = key[1:]
            known = first.get(key)
            if known is not None and known != n:
                stories.union(known, n)


def _url_only(item: Item) -> References:
    from newsroom.core.urls import canonical_url

    return References(("url:" + canonical_url(item.url),), ())


class Dedupe(Filter):
    """One item per story: the reports of one story (same link, paper or repository, or a
    near-identical title from another source) become one item that keeps every report's
    links, metrics and source (``Item.sources``).

    Which report leads (its title, link and kind) and which section the story goes to
    follow the sections: the first section in config order that would take any report
    takes the story, led by the first report it would take (docs/stories.md). The lead's
    summary is kept unless it is empty, then the longest of the others'. Tags are joined,
    each metric keeps its highest value with the source that reported it
    (``extra["metric_sources"]``: ``{"points": "hn"}``, which ``rank`` uses), and the other
    reports are listed in ``extra["duplicates"]`` as ``{"source", "url"}``.
    """

    name = "dedupe"
    description = (
        "One item per story: merge reports sharing a link, an arXiv id or a repository, or a "
        "near-identical title from another source, keeping every source's links and metrics."
    )

    class Options(Options):
        title_similarity: float = Field(0.8, ge=0.0, le=1.0)
        """Jaccard similarity of the titles' character bigrams (after normalisation) from
        which two items of different sources are one story: ``0`` turns title matching off
        (only links and cross-references are compared), otherwise 0.5 to 1. ``1`` merges
        only titles equal after normalisation (case, punctuation, emoji and spacing
        ignored). Lower values catch more rewordings, but merge different stories told with
        the same formula ("OpenAI releases a new open-weight reasoning model" and "Google
        releases …" are 0.795) and take longer (more candidate pairs to verify)."""
        distinct_numbers: bool = True
        """Never merge titles where each has a number the other lacks ("GPT-5 released" vs
        "GPT-4 released", "iPhone 16" vs "iPhone 15"): a version or a count is often the
        whole news, and one differing digit barely moves the similarity of a long title."""
        cross_references: bool = True
        """Merge items that name the same arXiv paper, GitHub repository or Hugging Face
        model in their links, title or summary, or list the same link; ``false`` compares
        only the items' own links (and titles)."""

        @field_validator("title_similarity")
        @classmethod
        def _off_or_meaningful(cls, value: float) -> float:
            # Below 0.5 unrelated headlines sharing a few words already match
            # ("카카오, 새 AI 모델 공개" and "네이버, 새 AI 모델 공개" are 0.5).
            if 0 < value < 0.5:
                raise ValueError("use 0 to turn title matching off, or a value from 0.5 to 1")
            return value

    options: Options  # the validated options of this instance, typed for readers and mypy

    def apply(self, items: list[Item], ctx: FilterContext) -> list[Item] | None:
        opts = self.options
        with collector_paused():
            groups = group_stories(
                items,
                title_similarity=opts.title_similarity,
                distinct_numbers=opts.distinct_numbers,
                cross_references=opts.cross_references,
            )
        if len(groups) == len(items):
            return None
        sections = ctx.sections
        return [
            items[g[0]] if len(g) == 1 else merge_story([items[n] for n in g], sections)
            for g in groups
        ]
