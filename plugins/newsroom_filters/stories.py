"""Building one item out of the reports of one story (the rules are in docs/stories.md).

- **Section and lead.** A report a filter assigned to a configured section (``Item.section``)
  takes the story there. Otherwise the first section in config order that would take any
  report (``SectionLayout.accepts``) gets the story, and the first report it would take
  leads. Without sections that can tell, the first report (in the sources' config order)
  leads.
- **What readers see** is the lead's: title, link, kind, publisher, date. The summary is the
  lead's unless it is empty, then the longest of the others'.
- **Everything else is kept**: every report as an :class:`~newsroom.ItemSource` (the lead
  first) with its own link, kind, metrics and links; the links of all of them on the item
  (each URL once, the first label given to it wins); tags joined; each metric at its highest
  value, with the source that reported it in ``extra["metric_sources"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from newsroom import Item, ItemSource, SectionLayout
from newsroom.core.sanitize import clean_text
from newsroom.core.urls import canonical_url, same_page

#: The ``Item.links`` key a report's own link is listed under on the merged item, by the
#: kind of that link.
LINK_KEYS = {
    "paper": "paper",
    "repository": "code",
    "model": "model",
    "product": "website",
    "discussion": "discussion",
    "article": "article",
}


#: What filters keep in ``Item.extra`` about the item as a whole, not about one report.
_FILTERS_EXTRA = frozenset({"duplicates", "metric_sources", "score_parts"})


def metric_sources(item: Item) -> dict[str, str]:
    """The source that reported each of ``item``'s metrics: its own, unless ``dedupe`` took
    the value from another report of the story (kept in ``extra["metric_sources"]``)."""
    recorded = item.extra.get("metric_sources")
    known = recorded if isinstance(recorded, dict) else {}
    return {metric: str(known.get(metric, item.source)) for metric in item.metrics}


def choose_lead(
    reports: list[Item], sections: Mapping[str, SectionLayout]
) -> tuple[int, str | None]:
    """The position of the report that leads, and the section the story goes to (``None``
    when no section can tell)."""
    for n, report in enumerate(reports):
        if report.section and report.section in sections:
            return n, report.section
    for section_id, layout in sections.items():
        for n, report in enumerate(reports):
            if layout.accepts(report):
                return n, section_id
    return 0, None


def as_source(item: Item) -> list[ItemSource]:
    """``item`` as the reports of a story: its own ``sources`` when it was merged before."""
    if item.sources:
        return list(item.sources)
    return [
        ItemSource(
            source=item.source,
            url=item.url,
            kind=item.link_kind,
            publisher=item.publisher,
            title=item.title,
            metrics=dict(item.metrics),
            links=dict(item.links),
            extra={k: v for k, v in item.extra.items() if k not in _FILTERS_EXTRA},
        )
    ]


def merge_story(reports: list[Item], sections: Mapping[str, SectionLayout]) -> Item:
    """One item for the story ``reports`` tell (in input order); the input is left as it was."""
    lead_at, section = choose_lead(reports, sections)
    lead = reports[lead_at]
    others = reports[:lead_at] + reports[lead_at + 1 :]

    summary = lead.summary
    if not clean_text(summary):
        texts = [r.summary for r in others if clean_text(r.summary)]
        summary = max(texts, key=lambda s: len(clean_text(s)), default=summary)

    tags = list(lead.tags)
    seen_tags = {t.casefold() for t in tags}
    metrics = dict(lead.metrics)
    origins = metric_sources(lead)
    links = dict(lead.links)
    seen_urls = {same_page(lead.url), *(same_page(u) for u in links.values())}
    sources = as_source(lead)
    recorded: list[Any] = list(lead.extra.get("duplicates", []))

    def add_link(key: str, url: str) -> None:
        page = same_page(url)
        if page in seen_urls:
            return
        seen_urls.add(page)
        links.setdefault(key, url)

    for other in others:
        for tag in other.tags:
            if tag.casefold() not in seen_tags:
                seen_tags.add(tag.casefold())
                tags.append(tag)
        from_other = metric_sources(other)
        for key, value in other.metrics.items():
            if key not in metrics or value > metrics[key]:
                metrics[key] = value
                origins[key] = from_other[key]
        for source in as_source(other):
            add_link(LINK_KEYS.get(source.kind, source.kind), source.url)
            for key, url in source.links.items():
                add_link(key, url)
        sources.extend(as_source(other))
        recorded.append({"source": other.source, "url": other.url})
        # A report that was itself merged by an earlier dedupe passes on its record.
        recorded.extend(other.extra.get("duplicates", []))

    extra = {**lead.extra, "duplicates": recorded}
    # Only the metrics another source reported: the others are the lead's own source's.
    foreign = {k: v for k, v in origins.items() if v != lead.source}
    if foreign:
        extra["metric_sources"] = foreign
    else:
        extra.pop("metric_sources", None)
    update: dict[str, Any] = {
        "summary": summary,
        "tags": tags,
        "metrics": metrics,
        "links": links,
        "sources": _unique(sources),
        "extra": extra,
        "published": lead.published or next((r.published for r in others if r.published), None),
        "authors": lead.authors or next((r.authors for r in others if r.authors), []),
        "image": lead.image or next((r.image for r in others if r.image), None),
    }
    if section is not None:
        update["section"] = section
    # A copy, so the caller's items are left as they were.
    return lead.model_copy(update=update)


def _unique(sources: list[ItemSource]) -> list[ItemSource]:
    """Each report once (a second dedupe sees reports the first merged)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for source in sources:
        key = (source.source, canonical_url(source.url))
        if key not in seen:
            seen.add(key)
            out.append(source)
    return out
