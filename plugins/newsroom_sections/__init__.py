"""Section layouts: ``select`` picks items by source, kind or tag, with a limit and an order."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from newsroom import Context, Item, Options, Section, SectionLayout, hookimpl

_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class Match(Options):
    """Which items a section takes. Several keys must all match; a list matches any of it."""

    source: list[str] = Field(default_factory=list)
    kind: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)

    @field_validator("source", "kind", "tag", mode="before")
    @classmethod
    def _listify(cls, value: str | list[str] | None) -> list[str]:
        return _as_list(value)

    @model_validator(mode="after")
    def _known_sources(self, info: ValidationInfo) -> Match:
        known = (info.context or {}).get("sources")
        unknown = [s for s in self.source if known is not None and s not in known]
        if unknown:
            raise ValueError(
                f"source {', '.join(map(repr, unknown))} is not a configured source "
                f"(configured: {', '.join(known) or 'none'})"
            )
        return self

    def accepts(self, item: Item) -> bool:
        if self.source and item.source not in self.source:
            return False
        if self.kind and item.kind not in self.kind:
            return False
        if self.tag:
            tags = {t.casefold() for t in item.tags}
            if not any(t.casefold() in tags for t in self.tag):
                return False
        return True


Order = Literal["newest", "oldest", "score", "title", "feed"]
ORDERS = ("newest", "oldest", "score", "title", "feed")
_METRIC = re.compile(r"[a-z][a-z0-9_]*")


class Select(SectionLayout):
    """One section of the items that match, ordered, cut to ``limit``."""

    name = "select"
    description = "Items by source, kind or tag, with a limit and an order."

    class Options(Options):
        match: Match = Field(default_factory=Match)
        limit: int = Field(10, ge=1, le=500)
        order: Order | str = "newest"
        """newest, oldest, score, title, feed (as fetched), or a metric name such as
        ``stars`` or ``votes`` (highest first)."""
        layout: str = "list"
        """A hint for themes: which partial renders the section (list, cards, compact)."""
        min_items: int = Field(1, ge=0)
        """With fewer matching items the section is left out of the edition."""

        @field_validator("order")
        @classmethod
        def _order_shape(cls, value: str) -> str:
            if value not in ORDERS and not _METRIC.fullmatch(value):
                raise ValueError(
                    f"use one of {', '.join(ORDERS)} or a metric name such as 'stars' "
                    "(lower-case letters, digits and '_')"
                )
            return value

    def arrange(self, items: list[Item], ctx: Context) -> list[Section]:
        opts = self.options
        chosen = [i for i in items if opts.match.accepts(i)]
        chosen = sort_items(chosen, opts.order)[: opts.limit]
        if len(chosen) < max(opts.min_items, 1) and opts.min_items > 0:
            return []
        return [Section(id=self.instance, title="", items=chosen, layout=opts.layout)]


def sort_items(items: list[Item], order: str) -> list[Item]:
    """Items in ``order`` (stable, so ties keep the sources' own order)."""
    if order == "feed":
        return list(items)
    if order == "newest":
        return sorted(items, key=lambda i: i.published or _OLDEST, reverse=True)
    if order == "oldest":
        return sorted(items, key=lambda i: (i.published is None, i.published or _OLDEST))
    if order == "title":
        return sorted(items, key=lambda i: i.title.casefold())
    if order == "score":
        return sorted(
            items, key=lambda i: i.score if i.score is not None else float("-inf"), reverse=True
        )
    # A metric: highest first, items without it last.
    return sorted(items, key=lambda i: i.metrics.get(order, float("-inf")), reverse=True)


@hookimpl
def register_sections(register):  # type: ignore[no-untyped-def]
    register(Select)
