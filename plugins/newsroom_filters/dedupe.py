"""The ``dedupe`` filter: one item per story, however many sources carried it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from newsroom import Filter, FilterContext, Item, Options
from newsroom.urls import canonical_url

from .similarity import Record, TitleIndex, bigrams, normalize_title, numbers, numbers_conflict


@dataclass
class _Group:
    """A surviving item and the duplicates folded into it, in input order."""

    position: int
    """The survivor's index in the input."""
    survivor: Item
    duplicates: list[Item] = field(default_factory=list)


class _Titles:
    """Title lookup over the survivors so far: similarity join, or exact match when t = 1."""

    def __init__(self, items: list[Item], threshold: float) -> None:
        self.normalized = [normalize_title(i.title) for i in items]
        self.numbers = [numbers(t) for t in self.normalized]
        self.compact = [t.replace(" ", "") for t in self.normalized]
        self.by_compact: dict[str, list[int]] = {}
        self.index: TitleIndex | None = None
        self.records: list[Record] = []
        if threshold < 1:
            token_sets = [bigrams(t) for t in self.normalized]
            self.index = TitleIndex(token_sets, threshold)
            self.records = [self.index.prepare(tokens) for tokens in token_sets]

    def matches(self, n: int) -> list[int]:
        """Group keys whose survivor's title is similar to item ``n``'s, first first."""
        if self.index is None:
            return self.by_compact.get(self.compact[n], []) if self.compact[n] else []
        return [key for key, _score in self.index.candidates(self.records[n])]

    def add(self, n: int, key: int) -> None:
        """Make item ``n`` findable as the survivor of group ``key``."""
        if self.index is None:
            if self.compact[n]:
                self.by_compact.setdefault(self.compact[n], []).append(key)
        else:
            self.index.add(key, self.records[n])


class Dedupe(Filter):
    """Drop duplicates: same canonical URL, or near-identical titles from different sources.

    The first item of each group (in input order, i.e. the sources' config order) survives;
    it gains the duplicates' tags and the highest value of each metric, and lists them in
    ``extra["duplicates"]`` as ``{"source", "url"}``.
    """

    name = "dedupe"
    description = "Drop items that repeat a link or a near-identical title from another source."

    class Options(Options):
        title_similarity: float = Field(0.8, ge=0.0, le=1.0)
        """Jaccard similarity of the titles' character bigrams (after normalisation) from
        which two items of different sources are one story. ``0`` turns title matching off
        (only links are compared); ``1`` merges only titles equal after normalisation
        (case, punctuation, emoji and spacing ignored). Lower values catch more rewordings
        but risk merging different stories with formulaic titles."""
        distinct_numbers: bool = True
        """Never merge titles where each has a number the other lacks ("GPT-5 released" vs
        "GPT-4 released", "iPhone 16" vs "iPhone 15"): a version or a count is often the
        whole news, and one differing digit barely moves the similarity of a long title."""

    def apply(self, items: list[Item], ctx: FilterContext) -> list[Item] | None:
        groups = self._group(items)
        if len(groups) == len(items):
            return None
        return [_merged(g) for g in groups]

    def _group(self, items: list[Item]) -> list[_Group]:
        # title_similarity = 0 turns title matching off (it would otherwise merge everything).
        titles = _Titles(items, self.options.title_similarity) if self.options.title_similarity else None
        groups: list[_Group] = []
        by_url: dict[str, int] = {}  # canonical URL -> group, for every item seen
        for n, item in enumerate(items):
            url = canonical_url(item.url)
            found = by_url.get(url)
            if found is None and titles is not None:
                found = self._similar(n, item, groups, titles)
            if found is not None:
                groups[found].duplicates.append(item)
                # A duplicate's link leads to its group too, so a third copy of it is caught
                # even when its title differs.
                by_url.setdefault(url, found)
                continue
            by_url[url] = len(groups)
            # Only survivors are indexed by title: each new item is compared with the story
            # it would join, not with other copies, so similarity never drifts down a chain.
            if titles is not None:
                titles.add(n, len(groups))
            groups.append(_Group(n, item))
        return groups

    def _similar(self, n: int, item: Item, groups: list[_Group], titles: _Titles) -> int | None:
        """The first group whose survivor's title matches item ``n``'s, if any."""
        for key in titles.matches(n):
            group = groups[key]
            # One source listing two similar titles means two things (papers, repositories).
            if group.survivor.source == item.source:
                continue
            if self.options.distinct_numbers and numbers_conflict(
                titles.numbers[n], titles.numbers[group.position]
            ):
                continue
            return key
        return None


def _merged(group: _Group) -> Item:
    """The survivor with its duplicates' tags, best metrics and a record of them."""
    if not group.duplicates:
        return group.survivor
    survivor = group.survivor
    tags = list(survivor.tags)
    seen = {t.casefold() for t in tags}
    metrics = dict(survivor.metrics)
    recorded: list[Any] = list(survivor.extra.get("duplicates", []))
    for dup in group.duplicates:
        for tag in dup.tags:
            if tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
        for key, value in dup.metrics.items():
            metrics[key] = max(value, metrics.get(key, value))
        recorded.append({"source": dup.source, "url": dup.url})
        # A duplicate that was itself a survivor of an earlier dedupe passes on its record.
        recorded.extend(dup.extra.get("duplicates", []))
    # A copy, so the caller's items are left as they were.
    return survivor.model_copy(
        update={"tags": tags, "metrics": metrics, "extra": {**survivor.extra, "duplicates": recorded}}
    )
