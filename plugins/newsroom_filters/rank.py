"""The ``rank`` filter: one score per item from freshness, source metrics and keywords.

A section with ``order = "score"`` then lists its items best first. Raw counts are not
comparable across sources (a repository's 2,000 stars today, a paper's 40 upvotes and a
story's 400 points say different things), so every metric is first normalised within the
source that reported it: an item scores by its standing among that source's items. That is
the item's own source, unless ``dedupe`` took the metric from a duplicate of another source
(a paper's Hacker News points are compared with Hacker News stories). A value alone in its
source has nothing to stand among and scores a neutral 0.5.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from typing import Literal

from pydantic import Field, field_validator

from newsroom import Filter, FilterContext, Item, Options
from newsroom.core.sanitize import clean_text

from .dedupe import metric_sources
from .keywords import DEFAULT_FIELDS, SearchField, _fold

#: Metrics weighted by default: the one popularity count each first-party source reports.
DEFAULT_METRICS = {"stars_period": 1.0, "points": 1.0, "upvotes": 1.0, "votes": 1.0}


class Rank(Filter):
    """Give every item a ``score``: freshness + normalised metrics + keyword weights.

    ``score = recency × 0.5^(age / half_life) + Σ weight(m) × norm(m) + Σ keyword weights
    + source weight``, where ``norm(m)`` is the item's percentile (0 to 1) among the items
    that report ``m`` from the same source (0.5 for a value alone there). The parts are kept
    in ``extra["score_parts"]``.
    """

    name = "rank"
    description = "Score items by freshness, metrics normalised per source, and keywords."

    class Options(Options):
        recency: float = Field(1.0, ge=0)
        """Weight of freshness: an item published now adds this much, one ``half_life``
        old half of it."""
        half_life: float = Field(24.0, gt=0)
        """Hours after which an item's freshness is halved."""
        undated: float = Field(0.5, ge=0, le=1)
        """Freshness (0 to 1) of items without a date."""
        metrics: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_METRICS))
        """Weight of each metric, normalised within the source that reported it
        (``{ points = 1, stars_period = 1, upvotes = 1, votes = 1 }`` by default). An item
        without the metric gets nothing for it; a value alone in its source gets half the
        weight."""
        normalize: Literal["percentile", "log"] = "percentile"
        """``percentile``: the share of its source's items it beats (ties share the middle);
        ``log``: ``log(1 + value) / log(1 + the source's highest value)``, which keeps
        distances (400 points against 40 is more than 41 against 40). Either way a value
        alone in its source is 0.5."""
        keywords: dict[str, float] = Field(default_factory=dict)
        """Added once when an item mentions the word (any case, full-width forms
        folded; Korean particles do not matter: "에이전트" matches "에이전트가"); negative
        weights push items down."""
        fields: list[SearchField] = Field(default_factory=lambda: list(DEFAULT_FIELDS))
        """Where keywords are looked for."""
        sources: dict[str, float] = Field(default_factory=dict)
        """Added to every item of a source: ``{ papers = 0.5 }``."""

        @field_validator("keywords")
        @classmethod
        def _no_blank_keywords(cls, value: dict[str, float]) -> dict[str, float]:
            if any(not word.strip() for word in value):
                raise ValueError("keywords must not be empty")
            return {word.strip(): weight for word, weight in value.items()}

    options: Options

    def apply(self, items: list[Item], ctx: FilterContext) -> list[Item] | None:
        if not items:
            return None
        normalised = {
            metric: self._normalised(items, metric)
            for metric, weight in self.options.metrics.items()
            if weight
        }
        keywords = [(_fold(w, False), w, weight) for w, weight in self.options.keywords.items()]
        ranked = []
        for n, item in enumerate(items):
            parts: dict[str, float] = {}
            if self.options.recency:
                parts["recency"] = self.options.recency * self._freshness(item, ctx)
            for metric, values in normalised.items():
                if n in values:
                    parts[f"metric:{metric}"] = self.options.metrics[metric] * values[n]
            if keywords:
                text = _fold(" ".join(self._texts(item)), False)
                for folded, word, weight in keywords:
                    if folded in text:
                        parts[f"keyword:{word}"] = weight
            if item.source in self.options.sources:
                parts["source"] = self.options.sources[item.source]
            rounded = {k: round(v, 4) for k, v in parts.items()}
            ranked.append(
                item.model_copy(
                    update={
                        "score": round(sum(parts.values()), 4),
                        "extra": {**item.extra, "score_parts": rounded},
                    }
                )
            )
        return ranked

    def _freshness(self, item: Item, ctx: FilterContext) -> float:
        if item.published is None:
            return self.options.undated
        hours = max((ctx.now - item.published).total_seconds() / 3600, 0.0)
        return float(0.5 ** (hours / self.options.half_life))

    def _normalised(self, items: list[Item], metric: str) -> dict[int, float]:
        """Item position → its normalised value of ``metric``, for items that have it, among
        the items whose ``metric`` the same source reported."""
        by_source: defaultdict[str, list[int]] = defaultdict(list)
        for n, item in enumerate(items):
            if metric in item.metrics:
                by_source[metric_sources(item)[metric]].append(n)
        out: dict[int, float] = {}
        for positions in by_source.values():
            if len(positions) == 1:  # nothing to compare it with: neither best nor worst
                out[positions[0]] = 0.5
                continue
            values = [items[n].metrics[metric] for n in positions]
            scale = _percentiles if self.options.normalize == "percentile" else _logs
            out.update(zip(positions, scale(values), strict=True))
        return out

    def _texts(self, item: Item) -> list[str]:
        texts: list[str] = []
        for name in self.options.fields:
            if name == "summary":
                texts.append(clean_text(item.summary))
            elif name in ("tags", "authors"):
                texts.extend(getattr(item, name))
            else:
                texts.append(getattr(item, name) or "")
        return texts


def _percentiles(values: list[float]) -> list[float]:
    """Each value's share of the others it beats, ties counting half (0 to 1), for two
    values or more."""
    ordered = sorted(values)
    out = []
    for value in values:
        below = _count_below(ordered, value)
        equal = _count_below(ordered, value, inclusive=True) - below
        out.append((below + (equal - 1) / 2) / (len(values) - 1))
    return out


def _count_below(ordered: list[float], value: float, *, inclusive: bool = False) -> int:
    return (bisect_right if inclusive else bisect_left)(ordered, value)


def _logs(values: list[float]) -> list[float]:
    top = max(values)
    if top <= 0:
        return [0.0 for _ in values]
    return [math.log1p(max(v, 0.0)) / math.log1p(top) for v in values]
