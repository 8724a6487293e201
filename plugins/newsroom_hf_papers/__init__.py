"""newsroom plugin: hf-papers — the papers on Hugging Face's Daily Papers, with upvotes.

::

    [[sources]]
    name = "hf-papers"
    plugin = "hf-papers"
    max_items = 20
    min_upvotes = 5

One request to ``https://huggingface.co/api/daily_papers``: a JSON list of entries, each with
a ``paper`` (its arXiv ``id``, ``title``, ``summary``, ``authors``, ``upvotes``,
``submittedOnDailyAt``, and since 2025 ``githubRepo``/``githubStars``) and the entry's own
``title``, ``numComments`` and ``thumbnail``. Items link to the paper's page on Hugging Face
(or to arXiv, with ``link = "arxiv"``) and carry ``upvotes``, ``comments`` and, when there
is a repository, ``github_stars`` in their metrics; their links are the ``paper`` on arXiv,
its ``pdf``, the repository (``code``) and the page on Hugging Face (``huggingface``), and
``extra["arxiv_id"]`` is the paper's id, so ``dedupe`` joins the paper's other reports.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from newsroom import FetchContext, Item, Options, Source, SourceError, hookimpl

if TYPE_CHECKING:
    from newsroom.core.registry import Register


class NotAPaper(ValueError):
    """An entry without the shape of a daily paper."""


def _fold(value: Any) -> str:
    # Titles and abstracts of 2024 entries are hard-wrapped ("Scaling for\n  Contrastive").
    return " ".join(value.split()) if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _date(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class HfPapersSource(Source):
    """Hugging Face Daily Papers: community-picked arXiv papers, with their upvotes."""

    name = "hf-papers"
    kind = "paper"
    description = "Hugging Face Daily Papers with upvotes, comments and linked repositories."

    class Options(Options):
        max_items: int = Field(30, ge=1, le=100)
        min_upvotes: int = Field(0, ge=0)
        """Leave out papers with fewer upvotes."""
        link: Literal["huggingface", "arxiv"] = "huggingface"
        """Where an item links: its page on Hugging Face (with the discussion) or arXiv."""
        base_url: str = "https://huggingface.co"
        """Where the API is asked (``{base_url}/api/daily_papers``)."""
        site_url: str = "https://huggingface.co"
        """Where paper links point: kept apart from ``base_url`` so an edition fetched from
        a local copy still links to huggingface.co."""

    options: Options

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        url = self.options.base_url.rstrip("/") + "/api/daily_papers"
        ctx.progress("reading Hugging Face Daily Papers")
        response = await ctx.http.get(url, params={"limit": "100"})
        try:
            entries = response.json()
        except ValueError:
            raise SourceError("the answer is not JSON", url=url) from None
        if not isinstance(entries, list):
            raise SourceError(
                f"expected a list of papers, got a JSON {type(entries).__name__}", url=url
            )
        items: list[Item] = []
        skipped = 0
        for entry in entries:
            try:
                item = self.to_item(entry, rank=len(items) + skipped + 1)
            except NotAPaper:
                skipped += 1
                continue
            if item.metrics.get("upvotes", 0) >= self.options.min_upvotes:
                items.append(item)
        if skipped and not items:
            raise SourceError(f"none of the {skipped} entries is a paper", url=url)
        if skipped:
            ctx.warn(f"skipped {skipped} entr{'ies' if skipped != 1 else 'y'} without a paper", url)
        return items[: self.options.max_items]

    def to_item(self, entry: Any, rank: int) -> Item:
        """One entry of the list as an item (raises :class:`NotAPaper`)."""
        if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
            raise NotAPaper("no paper")
        paper: dict[str, Any] = entry["paper"]
        paper_id = paper.get("id")
        if not isinstance(paper_id, str) or not paper_id.strip():
            raise NotAPaper("no paper id")
        paper_id = paper_id.strip()
        title = _fold(entry.get("title")) or _fold(paper.get("title"))
        if not title:
            raise NotAPaper("no title")
        site = self.options.site_url.rstrip("/")
        page = f"{site}/papers/{paper_id}"
        arxiv = f"https://arxiv.org/abs/{paper_id}"
        # Keyed by what each link is (themes label them): the paper on arXiv, its PDF, its
        # repository, and its page on Hugging Face (upvotes and the discussion).
        links = {"paper": arxiv, "pdf": f"https://arxiv.org/pdf/{paper_id}"}
        repo = paper.get("githubRepo")
        if isinstance(repo, str) and repo.startswith("https://"):
            links["code"] = repo
        links["huggingface"] = page
        metrics = {
            name: float(value)
            for name, value in (
                ("upvotes", _count(paper.get("upvotes"))),
                ("comments", _count(entry.get("numComments"))),
                ("github_stars", _count(paper.get("githubStars"))),
            )
            if value is not None
        }
        authors = [
            a["name"].strip()
            for a in paper.get("authors") or []
            if isinstance(a, dict) and isinstance(a.get("name"), str) and not a.get("hidden")
        ]
        abstract = _fold(paper.get("summary")) or _fold(entry.get("summary"))
        organization = paper.get("organization") or entry.get("organization")
        org_name = organization.get("fullname") if isinstance(organization, dict) else None
        thumbnail = entry.get("thumbnail")
        return Item(
            url=arxiv if self.options.link == "arxiv" else page,
            title=title,
            summary=f"<p>{html.escape(abstract)}</p>" if abstract else "",
            kind="paper",
            publisher="Hugging Face Daily Papers",
            # When it reached the daily list, which is what a newsletter's window is about;
            # the arXiv date can be days earlier.
            published=_date(paper.get("submittedOnDailyAt"))
            or _date(entry.get("publishedAt"))
            or _date(paper.get("publishedAt")),
            authors=authors,
            metrics=metrics,
            image=thumbnail if isinstance(thumbnail, str) else None,
            links=links,
            extra={
                "arxiv_id": paper_id,
                "rank": rank,
                **({"organization": org_name} if isinstance(org_name, str) and org_name else {}),
            },
        )


@hookimpl
def register_sources(register: Register[Any]) -> None:
    register(HfPapersSource)
