"""The ``dedupe`` filter: one item per story, however many sources carried it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import Field, field_validator

from newsroom import Filter, FilterContext, Item, Options
from newsroom.core.urls import canonical_url

from .similarity import (
    bigrams,
    collector_paused,
    normalize_title,
    numbers,
    numbers_conflict,
    similar_pairs,
)


@dataclass
class _Group:
    """A surviving item and the duplicates folded into it, in input order."""

    survivor: Item
    duplicates: list[Item] = field(default_factory=list)


class _Survivor(NamedTuple):
    key: int
    """Its group (groups are numbered in input order)."""
    source: str


class _Titles:
    """Finds, for an item, the first earlier survivor with a similar title.

    Items whose titles are equal after normalisation form one *title class*; the similarity
    join runs over the distinct classes, so a thousand "Untitled" posts cost one comparison.
    """

    def __init__(self, items: list[Item], threshold: float, distinct_numbers: bool) -> None:
        classes: dict[str, int] = {}
        # -1: nothing left of the title to compare ("🔥🔥🔥").
        self.class_of = [
            classes.setdefault(title, len(classes)) if title else -1
            for title in map(normalize_title, (i.title for i in items))
        ]
        self.titles = list(classes)
        if threshold >= 1:
            self.similar = _same_without_spaces(self.titles)
        else:
            self.similar = similar_pairs([bigrams(t) for t in self.titles], threshold)
        self.distinct_numbers = distinct_numbers
        self._numbers: dict[int, frozenset[str]] = {}
        # Per class, the first survivor and the first from another source than that one:
        # whatever an item's source, the earliest survivor it may join is one of these two.
        # (All items of a class have the same numbers, so they are all compatible or not.)
        self._survivors: dict[int, list[_Survivor]] = {}

    def match(self, n: int, source: str) -> int | None:
        """The group of the earliest survivor from another source whose title is like item
        ``n``'s (and has no conflicting numbers)."""
        own = self.class_of[n]
        if own < 0:
            return None
        best: int | None = None
        for cls in (own, *self.similar.get(own, ())):
            survivors = self._survivors.get(cls)
            if not survivors or not self._compatible(own, cls):
                continue
            for survivor in survivors:
                if best is not None and survivor.key >= best:
                    break
                # One source listing two similar titles means two things (papers, repos).
                if survivor.source != source:
                    best = survivor.key
                    break
        return best

    def add(self, n: int, key: int, source: str) -> None:
        """Record item ``n``, from ``source``, as the survivor of group ``key``."""
        cls = self.class_of[n]
        if cls < 0:
            return
        known = self._survivors.setdefault(cls, [])
        if not known or (len(known) == 1 and known[0].source != source):
            known.append(_Survivor(key, source))

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


class Dedupe(Filter):
    """Drop duplicates: same canonical URL, or near-identical titles from different sources.

    The first item of each group (in input order, i.e. the sources' config order) survives;
    it gains the duplicates' tags and the highest value of each metric, and lists them in
    ``extra["duplicates"]`` as ``{"source", "url"}``. A metric taken from a duplicate of
    another source is recorded with that source in ``extra["metric_sources"]`` (``{"points":
    "hn"}``), so ``rank`` compares it with that source's items. Each item is compared with the
    survivors only, not with other duplicates, so similarity never drifts down a chain of
    rewordings (A ≈ B ≈ C with A ≉ C keeps C apart from A).
    """

    name = "dedupe"
    description = (
        "Drop items that repeat a link or a near-identical title from another source or feed."
    )

    class Options(Options):
        title_similarity: float = Field(0.8, ge=0.0, le=1.0)
        """Jaccard similarity of the titles' character bigrams (after normalisation) from
        which two items of different sources are one story: ``0`` turns title matching off
        (only links are compared), otherwise 0.5 to 1. ``1`` merges only titles equal after
        normalisation (case, punctuation, emoji and spacing ignored). Lower values catch
        more rewordings, but merge different stories told with the same formula ("OpenAI
        releases a new open-weight reasoning model" and "Google releases …" are 0.795) and
        take longer (more candidate pairs to verify)."""
        distinct_numbers: bool = True
        """Never merge titles where each has a number the other lacks ("GPT-5 released" vs
        "GPT-4 released", "iPhone 16" vs "iPhone 15"): a version or a count is often the
        whole news, and one differing digit barely moves the similarity of a long title."""

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
        with collector_paused():
            groups = self._group(items)
        if len(groups) == len(items):
            return None
        return [_merged(g) for g in groups]

    def _group(self, items: list[Item]) -> list[_Group]:
        threshold = self.options.title_similarity
        # 0 turns title matching off (as a similarity it would merge everything).
        titles = _Titles(items, threshold, self.options.distinct_numbers) if threshold > 0 else None
        groups: list[_Group] = []
        by_url: dict[str, int] = {}  # canonical URL -> group, for every item seen
        for n, item in enumerate(items):
            url = canonical_url(item.url)
            origin = _origin(item)
            found = by_url.get(url)
            if found is None and titles is not None:
                found = titles.match(n, origin)
            if found is not None:
                groups[found].duplicates.append(item)
                # A duplicate's link leads to its group too, so a third copy of it is caught
                # even when its title differs.
                by_url.setdefault(url, found)
                continue
            by_url[url] = len(groups)
            if titles is not None:
                titles.add(n, len(groups), origin)
            groups.append(_Group(item))
        return groups


def _merged(group: _Group) -> Item:
    """The survivor with its duplicates' tags, best metrics and a record of them."""
    if not group.duplicates:
        return group.survivor
    survivor = group.survivor
    tags = list(survivor.tags)
    seen = {t.casefold() for t in tags}
    metrics = dict(survivor.metrics)
    sources = metric_sources(survivor)
    recorded: list[Any] = list(survivor.extra.get("duplicates", []))
    for dup in group.duplicates:
        for tag in dup.tags:
            if tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
        from_dup = metric_sources(dup)
        for key, value in dup.metrics.items():
            if key not in metrics or value > metrics[key]:
                metrics[key] = value
                sources[key] = from_dup[key]
        recorded.append({"source": dup.source, "url": dup.url})
        # A duplicate that was itself a survivor of an earlier dedupe passes on its record.
        recorded.extend(dup.extra.get("duplicates", []))
    extra = {**survivor.extra, "duplicates": recorded}
    # Only the metrics another source reported: the others are the item's own source's.
    foreign = {k: v for k, v in sources.items() if v != survivor.source}
    if foreign:
        extra["metric_sources"] = foreign
    else:
        extra.pop("metric_sources", None)
    # A copy, so the caller's items are left as they were.
    return survivor.model_copy(update={"tags": tags, "metrics": metrics, "extra": extra})


def metric_sources(item: Item) -> dict[str, str]:
    """The source that reported each of ``item``'s metrics: its own, unless ``dedupe`` took
    the value from a duplicate of another source (kept in ``extra["metric_sources"]``)."""
    recorded = item.extra.get("metric_sources")
    known = recorded if isinstance(recorded, dict) else {}
    return {metric: str(known.get(metric, item.source)) for metric in item.metrics}
