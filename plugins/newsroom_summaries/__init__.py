"""newsroom plugin: summaries — ``extractive``, a summary cut from the item's own text.

::

    [[filters]]
    plugin = "extractive"
    sentences = 2        # whole sentences kept, at most (0: no limit)
    max_chars = 280      # characters kept, at most (0: no limit)

Offline and instant. It is also what the build uses when no summarizer is configured, with
the options' defaults; configure it to change them, or put ``llm`` before it to have a model
write the summaries and ``extractive`` fill in what the model did not.

Like every summarizer it works after the sections are arranged, on the items that made it
into the edition (see ``docs/summaries.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from newsroom import Edition, Filter, FilterContext, Item, Options, hookimpl

from .extractive import summarize

if TYPE_CHECKING:
    from newsroom.core.registry import Register

__all__ = ["Extractive", "summarize"]


class Extractive(Filter):
    """Shorten each item's summary to its first sentences, keeping its inline markup."""

    name = "extractive"
    description = (
        "Summaries cut from each item's own text: whole sentences (Korean, English, Chinese "
        "and Japanese endings), inline markup kept and closed."
    )
    summarizer: ClassVar[bool] = True
    """Marks a summarizer: when none is configured, the build runs this one."""

    class Options(Options):
        sentences: int = Field(2, ge=0, le=50)
        """Whole sentences kept, at most; 0: no limit."""
        max_chars: int = Field(280, ge=0, le=10_000)
        """Characters of text kept, at most (markup not counted); 0: no limit. A first
        sentence longer than this is cut at a space and ends with "…"."""

    options: Options

    def apply(self, items: list[Item], ctx: FilterContext) -> None:
        # Summaries are written for the items that made it into the edition: see edit().
        return None

    def edit(self, edition: Edition, ctx: FilterContext) -> None:
        """Summarize every item of ``edition`` that no earlier summarizer took."""
        for item in edition.items:
            if item.extra.get("summary_by") or not item.summary:
                continue
            item.summary = self.summarize(item.summary)
            item.extra = {**item.extra, "summary_by": self.name}

    def summarize(self, markup: str) -> str:
        """``markup`` shortened as the options say."""
        return summarize(markup, sentences=self.options.sentences, max_chars=self.options.max_chars)


@hookimpl
def register_filters(register: Register[Any]) -> None:
    register(Extractive)
