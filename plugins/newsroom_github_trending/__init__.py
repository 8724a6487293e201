"""newsroom plugin: github-trending — the repositories on ``github.com/trending``.

::

    [[sources]]
    name = "repos"
    plugin = "github-trending"
    language = "python"      # optional: /trending/python
    since = "daily"          # daily, weekly or monthly
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urljoin

from newsroom import FetchContext, Item, Options, Source, SourceError, hookimpl

from .page import Repository, parse_page

if TYPE_CHECKING:
    from newsroom.core.registry import Register

Since = Literal["daily", "weekly", "monthly"]


class GitHubTrendingSource(Source):
    """Today's (or this week's, this month's) trending repositories, in GitHub's order."""

    name = "github-trending"
    kind = "repository"
    description = "Trending repositories on GitHub, optionally for one language."

    class Options(Options):
        language: str | None = None
        """A language as GitHub spells it in the URL: ``python``, ``rust``, ``c++``."""
        since: Since = "daily"
        spoken_language: str | None = None
        """Only repositories written in this spoken language (ISO 639-1: ``ko``, ``en``)."""
        base_url: str = "https://github.com"
        """Where the trending page is fetched from."""
        site_url: str = "https://github.com"
        """Where repository links point: kept apart from ``base_url`` so an edition fetched
        from a local copy of the page still links to github.com."""

    options: Options

    def page_url(self) -> str:
        """``{base_url}/trending`` or ``{base_url}/trending/{language}``."""
        url = self.options.base_url.rstrip("/") + "/trending"
        language = (self.options.language or "").strip()
        # "c++" and "c#" are path segments on GitHub: keep "+", escape "#" and the rest.
        return f"{url}/{quote(language, safe='+')}" if language else url

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {"since": self.options.since}
        if self.options.spoken_language:
            params["spoken_language_code"] = self.options.spoken_language
        return params

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        url = self.page_url()
        ctx.progress("reading the GitHub trending page")
        response = await ctx.http.get(url, params=self.params())
        repos = parse_page(response.content)
        if not repos:
            # A trending page always lists repositories; none means GitHub changed the
            # markup, or answered with an error page: either way, say so loudly.
            raise SourceError(
                "no repositories were found on the trending page "
                "(an error page, or GitHub changed its layout)",
                url=url,
            )
        return [self.to_item(repo, rank) for rank, repo in enumerate(repos, start=1)]

    def to_item(self, repo: Repository, rank: int) -> Item:
        """One repository as an item; links resolve against ``site_url``."""
        site = self.options.site_url.rstrip("/")
        metrics = {
            key: float(value)
            for key, value in (
                ("stars", repo.stars),
                ("forks", repo.forks),
                ("stars_period", repo.stars_period),
            )
            if value is not None
        }
        built_by = [
            {"login": p["login"], "url": urljoin(site + "/", p["path"]), "avatar": p["avatar"]}
            for p in repo.built_by
        ]
        return Item(
            url=f"{site}/{repo.full_name}",
            title=repo.full_name,
            summary=html.escape(repo.description),
            kind="repository",
            publisher="GitHub",
            authors=[repo.owner],
            tags=[repo.language] if repo.language else [],
            metrics=metrics,
            extra={
                "repo": repo.full_name,
                "since": self.options.since,
                "rank": rank,
                "built_by": built_by,
            },
        )


@hookimpl
def register_sources(register: Register[Any]) -> None:
    register(GitHubTrendingSource)
