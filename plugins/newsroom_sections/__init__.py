"""Section layouts: ``select`` picks items by source, kind, tag or words, with a limit and an
order; an item a filter assigned to the section (``Item.section``) comes first."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from newsroom import Context, Item, Options, Section, SectionLayout, hookimpl

from .words import Words, item_text

_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


MatchField = Literal["title", "summary", "tags"]


class Match(Options):
    """Which items a section takes. Several keys must all match; a list matches any of it.

    ``words`` looks in the title (and the original title) and the summary by default:
    a word matches where it starts a word of a spaced script ("model" in "models") and
    anywhere in Korean text ("모델" in "모델을"); ``exclude`` words keep an item out
    whatever else matches.
    """

    source: list[str] = Field(default_factory=list)
    kind: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list)
    """Any of these words in the item's title or text: ``["모델", "model", "출시",
    "launch"]``."""
    exclude: list[str] = Field(default_factory=list)
    """None of these words in the item's title, text or tags: ``["주가", "stock"]``."""
    fields: list[MatchField] = Field(default_factory=lambda: ["title", "summary"])
    """Where ``words`` are looked for (``exclude`` looks in tags too)."""
    whole_words: bool = False
    """Words of spaced scripts must end where a word ends too ("model" then misses
    "models"); Korean words still match with their particles."""

    @field_validator("source", "kind", "tag", "words", "exclude", mode="before")
    @classmethod
    def _listify(cls, value: str | list[str] | None) -> list[str]:
        return _as_list(value)

    @field_validator("words", "exclude")
    @classmethod
    def _no_blanks(cls, value: list[str]) -> list[str]:
        words = [w.strip() for w in value]
        if any(not w for w in words):
            raise ValueError("words must not be empty")
        return words

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

    # Compiled once per section (the options are frozen, so they cannot go stale).
    _words: Words = PrivateAttr()
    _exclude: Words = PrivateAttr()

    _text: bool = PrivateAttr(False)
    """Whether ``words`` or ``exclude`` are set (most sections select by source alone)."""

    def model_post_init(self, context: object, /) -> None:
        self._words = Words(self.words, whole_words=self.whole_words)
        self._exclude = Words(self.exclude, whole_words=self.whole_words)
        self._text = bool(self.words or self.exclude)

    def accepts(self, item: Item) -> bool:
        if self.source and item.source not in self.source:
            return False
        if self.kind and item.kind not in self.kind:
            return False
        if self.tag:
            tags = {t.casefold() for t in item.tags}
            if not any(t.casefold() in tags for t in self.tag):
                return False
        if not self._text:
            return True
        if self.words and not self._words.found(item_text(item, self.fields)):
            return False
        if self.exclude and self._exclude.found(item_text(item, (*self.fields, "tags"))):
            return False
        return True


Order = Literal["newest", "oldest", "score", "title", "feed"]
ORDERS = ("newest", "oldest", "score", "title", "feed")
_METRIC = re.compile(r"[a-z][a-z0-9_]*")


class Select(SectionLayout):
    """One section of the items that match, ordered, cut to ``limit``."""

    name = "select"
    description = "Items by source, kind, tag or words, with a limit and an order."

    class Options(Options):
        match: Match | list[Match] = Field(default_factory=Match)
        """Which items the section takes (``source``, ``kind``, ``tag``, ``words``,
        ``exclude``, ``fields``, ``whole_words``); a list of such tables takes an item that
        matches any of them: ``[{ source = "launches" }, { words = ["출시", "launch"] }]``.
        Items a filter assigned to this section (``Item.section``) are taken first, whatever
        they match."""
        limit: int = Field(10, ge=1, le=500)
        order: Order | str = "newest"

        """newest, oldest, score, title, feed (as fetched), or a metric name such as
        ``stars`` or ``votes`` (highest first)."""
        layout: str = "list"
        """A hint for themes: which partial renders the section (list, cards, compact)."""
        min_items: int = Field(1, ge=0)
        """With fewer matching items the section is left out of the edition."""

        @field_validator("match", mode="wrap")
        @classmethod
        def _table_or_tables(
            cls, value: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
        ) -> Match | list[Match]:
            # Validated as what it is, so a mistake is reported once (not once per shape).
            if isinstance(value, list):
                return [Match.model_validate(v, context=info.context) for v in value]
            if isinstance(value, dict):
                return Match.model_validate(value, context=info.context)
            result: Match | list[Match] = handler(value)
            return result

        @field_validator("order")
        @classmethod
        def _order_shape(cls, value: str) -> str:
            if value not in ORDERS and not _METRIC.fullmatch(value):
                raise ValueError(
                    f"use one of {', '.join(ORDERS)} or a metric name such as 'stars' "
                    "(lower-case letters, digits and '_')"
                )
            return value

    def matches(self, item: Item) -> bool:
        """Whether the section's ``match`` takes ``item`` (assignments aside)."""
        match = self.options.match
        if isinstance(match, Match):
            return match.accepts(item)
        return any(m.accepts(item) for m in match)

    def accepts(self, item: Item) -> bool:
        """Assigned here by a filter, or matching; its limit aside."""
        return item.section == self.instance or self.matches(item)

    def arrange(self, items: list[Item], ctx: Context) -> list[Section]:
        opts = self.options
        tables = [opts.match] if isinstance(opts.match, Match) else opts.match
        accepts = tables[0].accepts if len(tables) == 1 else self.matches
        section = self.instance
        assigned: list[Item] = []
        matching: list[Item] = []
        for item in items:
            if item.section == section:
                assigned.append(item)
            elif accepts(item):
                matching.append(item)
        if not assigned:
            chosen = sort_items(matching, opts.order)[: opts.limit]
        else:
            # Items assigned to this section first: they take their places before the
            # rules' ones, and are then shown in the section's own order, ties in the
            # sources' order.
            taken = sort_items(assigned, opts.order) + sort_items(matching, opts.order)
            keep = {id(i) for i in taken[: opts.limit]}
            chosen = sort_items([i for i in items if id(i) in keep], opts.order)
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
