"""The ``window`` filter: keep what is recent enough for this edition."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import Field, model_validator

from newsroom import Filter, FilterContext, Item, Options

#: Dates further ahead than this are clock skew or a broken feed, not scheduled posts.
FUTURE_TOLERANCE = dt.timedelta(hours=1)


class Window(Filter):
    """Keep items published within a time window ending now.

    The window starts ``hours`` before the build (default 24), at the last published edition
    (``since = "last-edition"``, falling back to ``hours`` before the first one), or at
    midnight in the newsletter's time zone (``since = "today"``).
    """

    name = "window"
    description = "Keep items published in the last hours, since the last edition, or today."

    class Options(Options):
        hours: float = Field(24.0, gt=0)
        """Length of the window; with ``since = "last-edition"``, used until an edition has
        been published."""
        since: Literal["last-edition", "today"] | None = None
        """``"last-edition"``: since the last published edition was built; ``"today"``:
        since midnight in the newsletter's time zone; unset: the last ``hours``."""
        undated: Literal["keep", "drop"] = "keep"
        """Items without a date: many feeds omit them, so they are kept by default."""

        @model_validator(mode="after")
        def _hours_with_today(self) -> Self:
            if self.since == "today" and "hours" in self.model_fields_set:
                raise ValueError('`hours` has no effect with since = "today"; remove one')
            return self

    options: Options  # the validated options of this instance, typed for readers and mypy

    def start(self, ctx: FilterContext) -> dt.datetime:
        """The earliest publication time kept in this build."""
        opts = self.options
        if opts.since == "today":
            # Midnight of the newsletter's day, not the server's (Seoul is 9 h ahead of UTC).
            return dt.datetime.combine(ctx.today, dt.time(), tzinfo=ctx.timezone)
        if opts.since == "last-edition" and ctx.last_published is not None:
            return ctx.last_published
        return ctx.now - dt.timedelta(hours=opts.hours)

    def apply(self, items: list[Item], ctx: FilterContext) -> list[Item] | None:
        start = self.start(ctx)
        keep_undated = self.options.undated == "keep"
        kept: list[Item] = []
        for item in items:
            if item.published is None:
                if keep_undated:
                    kept.append(item)
            elif item.published > ctx.now + FUTURE_TOLERANCE:
                # Treated as published now: kept, and dated now so it does not sit at the top
                # of "newest first" sections for days (or show a date years ahead).
                kept.append(item.model_copy(update={"published": ctx.now}))
            elif item.published >= start:
                kept.append(item)
        return kept
