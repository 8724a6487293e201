"""newsroom plugin: articles — the text of the page an item links to, for items that have
little or none of their own (link posts, launches, discussions), so they can be summarized.

::

    [[filters]]
    plugin = "articles"       # before the summarizers (llm, extractive)
    min_chars = 120           # items with less text of their own get their page's text
    timeout = 15              # seconds for the whole step, every page included

Pages are fetched through the build's shared client (the ``[http]`` limits, per-host
spacing, the cache, ``--mirror``), at most ``per_host`` at a time from one host and only
where the host's robots.txt allows it; the main text is extracted by trafilatura
(``pip install 'newsroom-digest[articles]'``) in the build's worker processes, and kept by the
page's content, so an unchanged page is not extracted twice.

Like the summarizers it works after the sections are arranged, on the items that made it
into the edition: a page is fetched only for an item readers will see.
"""

from __future__ import annotations

import asyncio
import html
import importlib.util
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, model_validator

from newsroom import Edition, Filter, FilterContext, Item, Options, hookimpl
from newsroom.collect.http import requests_until
from newsroom.core.errors import FetchError
from newsroom.core.sanitize import clean_text
from newsroom.core.urls import is_safe_url

from . import extract
from .robots import Robots

if TYPE_CHECKING:
    from newsroom.collect.http import Fetcher, Response
    from newsroom.core.registry import Register

__all__ = ["Articles"]

#: Content types read as pages; anything else (a PDF, an image, a feed) is left alone.
PAGE_TYPES = ("text/html", "application/xhtml+xml")


class Articles(Filter):
    """Fill the text of items that have little of their own from the page they link to."""

    name = "articles"
    description = (
        "The main text of the page an item links to (trafilatura), for items with little "
        "text of their own; robots.txt honoured, one deadline for the whole step."
    )

    class Options(Options):
        min_chars: int = Field(120, ge=0, le=100_000)
        """Items whose own text is shorter than this (in characters, markup not counted)
        get their page's text; 0: only items with no text at all."""
        max_chars: int = Field(4000, ge=200, le=100_000)
        """Characters of a page's text kept (the summarizers shorten it further)."""
        max_bytes: int = Field(2 * 1024 * 1024, ge=10_000)
        """Largest page read, in bytes (also bounded by ``[http] max_bytes``)."""
        timeout: float = Field(15.0, gt=0, le=600)
        """Seconds for the whole step: robots.txt files, pages, extraction. Pages not in by
        then are left out (their items keep the text they had), and the build goes on."""
        concurrency: int = Field(8, ge=1, le=64)
        """Pages fetched at once."""
        per_host: int = Field(2, ge=1, le=16)
        """Pages fetched at once from one host."""
        kinds: list[str] = Field(default_factory=list)
        """Only items of these kinds (``discussion``, ``product`` ...); empty: every kind."""

        @model_validator(mode="after")
        def _extractor_installed(self) -> Self:
            if importlib.util.find_spec("trafilatura") is None:
                raise ValueError(
                    "the trafilatura package is not installed: "
                    "pip install 'newsroom-digest[articles]'"
                )
            return self

    options: Options

    def apply(self, items: list[Item], ctx: FilterContext) -> None:
        # Pages are fetched for the items that made it into the edition: see edit().
        return None

    def wanted(self, item: Item) -> bool:
        """Whether ``item`` should get its page's text."""
        if item.extra.get("summary_by"):
            return False  # an earlier summarizer, or the editor, wrote its summary
        if self.options.kinds and item.kind not in self.options.kinds:
            return False
        if not is_safe_url(item.url):
            return False
        own = len(clean_text(item.summary))
        return own == 0 or own < self.options.min_chars

    async def edit(self, edition: Edition, ctx: FilterContext) -> None:
        """Fetch and extract the pages of the items of ``edition`` that need text."""
        items = [item for item in edition.items if self.wanted(item)]
        if not items:
            return
        if ctx.http is None:
            ctx.warn("articles: no HTTP client in this context; no page was fetched")
            return
        step = _Step(self.options, ctx, ctx.http)
        await step.run(items)


class _Step:
    """One edition's pages: the robots.txt rules, the limits, and what happened."""

    def __init__(self, options: Articles.Options, ctx: FilterContext, http: Fetcher) -> None:
        self.o = options
        self.ctx = ctx
        self.http = http
        self.robots = Robots(http, http.settings.user_agent)
        self.slots = asyncio.Semaphore(options.concurrency)
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.outcomes: Counter[str] = Counter()
        self.filled = 0
        self.cached = 0
        self.shorter = 0

    async def run(self, items: list[Item]) -> None:
        started = time.monotonic()
        end = started + self.o.timeout
        # Every request of the step (robots.txt files, pages, their retries) ends by `end`:
        # the tasks inherit the deadline from the context they are created in.
        late = f"the step's {self.o.timeout:g} s (timeout) ran out"
        with requests_until(end, self.o.timeout, late):
            tasks = [asyncio.ensure_future(self.one(item)) for item in items]
        done, pending = await asyncio.wait(tasks, timeout=self.o.timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            self.outcomes[f"not finished when {late}"] += len(pending)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                self.outcomes[f"{type(exc).__name__}: {exc}"[:120]] += 1
        self.report(len(items), time.monotonic() - started)

    def host_slots(self, url: str) -> asyncio.Semaphore:
        host = url.split("/", 3)[2].lower()
        return self.hosts.setdefault(host, asyncio.Semaphore(self.o.per_host))

    async def one(self, item: Item) -> None:
        url = item.url
        async with self.slots:
            if not await self.robots.allowed(url):
                host = url.split("/", 3)[2]
                reason = self.robots.unreadable.get(url.split("/", 3)[0] + "//" + host)
                if reason:
                    self.outcomes["robots.txt could not be read"] += 1
                else:
                    self.outcomes["robots.txt disallows it"] += 1
                return
            async with self.host_slots(url):
                try:
                    response = await self.http.get(url, max_bytes=self.o.max_bytes)
                except FetchError as exc:
                    self.outcomes[_reason(exc)] += 1
                    return
        text = await self.text_of(response)
        if text is None:
            return
        if len(text) <= len(clean_text(item.summary)):
            self.shorter += 1  # the item's own text stays: nothing went wrong
            return
        item.summary = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in text.split("\n\n"))
        item.extra = {**item.extra, "text_from": "article"}
        self.filled += 1

    async def text_of(self, response: Response) -> str | None:
        if response.content_type and response.content_type not in PAGE_TYPES:
            self.outcomes[f"not a page ({response.content_type})"] += 1
            return None
        key = f"articles:{extract.VERSION}:{self.o.max_chars}"
        results = self.http.results
        remembered = results.recall(response.content, key) if results is not None else None
        if isinstance(remembered, str):
            self.cached += 1
            text = remembered
        else:
            text = await self.ctx.run_cpu(
                extract.main_text, response.content, response.url, self.o.max_chars
            )
            if results is not None:
                results.remember(response.content, key, text)
        if not text:
            self.outcomes["no main text found on the page"] += 1
            return None
        return text

    def report(self, wanted: int, seconds: float) -> None:
        if self.outcomes:
            reasons = "; ".join(f"{why} ({n})" for why, n in self.outcomes.most_common(4))
            missing = sum(self.outcomes.values())
            self.ctx.warn(f"articles: {missing} of {wanted} page(s) gave no text: {reasons}")
        self.ctx.log.info(
            "articles: %d of %d item(s) got their page's text in %.2f s (%d extraction(s) "
            "from the cache)",
            self.filled,
            wanted,
            seconds,
            self.cached,
        )


def _reason(exc: FetchError) -> str:
    if exc.status is not None:
        return f"HTTP {exc.status}"
    return exc.message.split(";")[0][:100]


@hookimpl
def register_filters(register: Register[Any]) -> None:
    register(Articles)
