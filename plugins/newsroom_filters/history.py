"""The ``history`` filter: never send the same item twice."""

from __future__ import annotations

from newsroom import Filter, FilterContext, Item
from newsroom.core.urls import canonical_url


def _sent(item: Item, ids: set[str], urls: set[str]) -> bool:
    """Whether ``item``, or any report of the story it tells (``Item.sources``: a paper sent
    yesterday is today's repository's story too), went out before."""
    if item.id in ids or canonical_url(item.url) in urls:
        return True
    return any(canonical_url(source.url) in urls for source in item.sources)


class History(Filter):
    """Drop items that went out in an earlier published edition (same id or same canonical
    URL, of the item or of any report of its story). Editions that were only built do not
    count, and neither does the edition being built, so rebuilding today's edition keeps
    today's items."""

    name = "history"
    description = "Drop items already sent in a published edition."

    _warned = False
    """Set on the instance after the first warning: one per build is enough."""

    def apply(self, items: list[Item], ctx: FilterContext) -> list[Item] | None:
        if ctx.state is None:
            if not self._warned:
                self._warned = True
                ctx.warn("history: no state file is open, so items already sent are kept")
            return None
        ids, urls = ctx.state.published_keys(excluding=ctx.edition_id or None)
        if not ids and not urls:
            return None
        kept = [i for i in items if not _sent(i, ids, urls)]
        if len(kept) < len(items):
            ctx.log.info("history: dropped %d item(s) already sent", len(items) - len(kept))
        return kept
