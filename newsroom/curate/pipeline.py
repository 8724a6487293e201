"""Building an edition: sources → filters → sections → Edition → ``edition.json``.

Each stage is a plain call on plain data. Sources run concurrently over one shared HTTP
client, each in a thread of its own so that one that blocks can be cut off and left behind,
and fail alone (a warning names the source and URL); a filter or section plugin that
fails stops the build with its name. Untrusted content is sanitized once, when the edition is
assembled, after every plugin has run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from babel.dates import format_date

from newsroom.collect.http import Fetcher
from newsroom.collect.source_threads import LoopFetcher, SourceThread
from newsroom.collect.workers import CpuWorkers
from newsroom.config import ComponentConfig, Config
from newsroom.config.outputs import edition_dir as edition_dir
from newsroom.config.outputs import remove_rendered_email
from newsroom.core.components import Context, FetchContext, FilterContext, Source
from newsroom.core.errors import BuildError, NewsroomError, SourceError
from newsroom.core.model import (
    EDITION_ID,
    BuildWarning,
    Edition,
    Item,
    Newsletter,
    Section,
    SourceReport,
)
from newsroom.core.plugins import Plugins
from newsroom.core.sanitize import sanitize_edition
from newsroom.core.urls import is_safe_url
from newsroom.curate.editing import edit_edition
from newsroom.curate.notes import EditorNotes
from newsroom.curate.subject import default_subject
from newsroom.store.state import State

log = logging.getLogger("newsroom")


class Progress(Protocol):
    """What the build reports as it goes (the CLI draws it; tests may record it)."""

    def source_started(self, name: str, plugin: str) -> None: ...
    def source_update(self, name: str, message: str) -> None: ...
    def source_finished(self, name: str, items: int, seconds: float, error: str | None) -> None: ...
    def stage(self, message: str) -> None: ...


class NoProgress:
    """A :class:`Progress` that shows nothing."""

    def source_started(self, name: str, plugin: str) -> None:
        pass

    def source_update(self, name: str, message: str) -> None:
        pass

    def source_finished(self, name: str, items: int, seconds: float, error: str | None) -> None:
        pass

    def stage(self, message: str) -> None:
        pass


@dataclass
class SourceOutcome:
    """What one source produced."""

    config: ComponentConfig
    items: list[Item] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)
    seconds: float = 0.0
    ok: bool = True


@dataclass
class BuildResult:
    """The outcome of :func:`build`."""

    edition: Edition
    path: Path
    """Where ``edition.json`` was written."""
    fetched: dict[str, int]
    """Items fetched per source, before filtering."""
    kept: dict[str, int]
    """Items kept per section."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in each stage: fetch, filter, sections, write."""

    @property
    def warnings(self) -> list[BuildWarning]:
        return self.edition.warnings


#: The share of a source's time its requests may use; the rest is left for it to return
#: what it has (the other feeds of a ``news`` source, say) after a slow one was stopped.
REQUESTS_SHARE = 0.9


async def _fetch_one(
    cc: ComponentConfig,
    source: Source,
    ctx_args: dict[str, Any],
    http: Fetcher,
    progress: Progress,
    since: dt.datetime | None,
    source_timeout: float,
    max_items: int | None,
    workers: CpuWorkers,
) -> SourceOutcome:
    """Run one source in a thread of its own (:mod:`newsroom.collect.source_threads`),
    waiting for it at most ``source_timeout`` seconds."""
    outcome = SourceOutcome(cc)
    name = cc.name
    loop = asyncio.get_running_loop()
    left_behind = False

    def warn(message: str, url: str | None = None) -> None:
        if not left_behind:  # a source that was cut off may still be running
            outcome.warnings.append(BuildWarning(source=name, message=message, url=url))

    def report(message: str) -> None:
        with contextlib.suppress(RuntimeError):  # called after the build's loop closed
            loop.call_soon_threadsafe(progress.source_update, name, message)

    requests_time = source_timeout * REQUESTS_SHARE
    source_http = LoopFetcher(
        http, loop, requests_end=time.monotonic() + requests_time, seconds=requests_time
    )

    async def fetch() -> Any:
        # Runs in the source's thread: an SQLite connection may not cross threads, so the
        # source gets a state connection of its own.
        state = ctx_args.get("state")
        own_state = state.reopen() if isinstance(state, State) else None
        try:
            ctx = FetchContext(
                **{**ctx_args, "state": own_state},
                http=source_http,
                since=since,
                warn=warn,
                progress=report,
                log=logging.getLogger(f"newsroom.source.{name}"),
                run_cpu=workers.run,
                cpu_processes=workers.processes,
            )
            return await source.fetch(ctx)
        finally:
            if own_state is not None:
                own_state.close()

    runner = SourceThread(name, fetch)
    progress.source_started(name, cc.plugin)
    start = time.perf_counter()
    error: str | None = None
    try:
        async with asyncio.timeout(source_timeout):
            items = await runner.start()
        outcome.items = _checked_items(items, name, cc.plugin, max_items, warn)
    except SourceError as exc:
        error = exc.message
        warn(exc.message, exc.url)
    except TimeoutError:
        error = f"plugin {cc.plugin!r} gave no result within {source_timeout:g} s; cut off"
        warn(error)
        # Left behind: cancelled, and if it is stuck in a blocking call, not waited for.
        left_behind = True
        runner.abandon()
        source_http.cancel()
    except NewsroomError as exc:
        error = exc.message
        warn(exc.message)
    except Exception as exc:  # a plugin bug: isolate it to this source
        error = f"plugin {cc.plugin!r} crashed: {type(exc).__name__}: {exc}"
        log.debug("source %s failed:\n%s", name, traceback.format_exc())
        warn(error)
    outcome.seconds = time.perf_counter() - start
    if error:
        outcome.ok = False
    elif not outcome.items:
        warn("returned no items")
    progress.source_finished(name, len(outcome.items), outcome.seconds, error)
    return outcome


def _checked_items(
    items: Any,
    source: str,
    plugin: str,
    limit: int | None = None,
    warn: Callable[[str], None] = lambda message: None,
) -> list[Item]:
    if not isinstance(items, list):
        raise SourceError(f"plugin {plugin!r} returned {type(items).__name__}, not a list of Item")
    if limit is not None and len(items) > limit:
        # Bounded before anything looks at them: every later stage is linear or worse.
        warn(
            f"plugin {plugin!r} returned {len(items):,} items; kept the first {limit:,} "
            "([plugins] max_items_per_source)"
        )
        items = items[:limit]
    out = []
    for item in items:
        if not isinstance(item, Item):
            raise SourceError(
                f"plugin {plugin!r} returned a {type(item).__name__} where an Item was expected"
            )
        if not item.source:
            item.source = source
        out.append(item)
    return out


async def fetch_all(
    config: Config,
    instances: dict[str, Source],
    ctx_args: dict[str, Any],
    *,
    since: dt.datetime | None,
    progress: Progress,
    mirror: str | None = None,
    workers: CpuWorkers | None = None,
    http: Fetcher | None = None,
    unresolved: set[str] | None = None,
) -> list[SourceOutcome]:
    """Run every configured source concurrently over one shared client.

    ``workers`` parse for the sources (``FetchContext.run_cpu``); without them, this starts
    its own for the fetch (processes only if no other thread runs yet: see
    :mod:`newsroom.collect.workers`) and stops them after it. ``http`` is the client to
    share (left open); without it, one is opened for the fetch. ``unresolved`` receives the
    host names that did not resolve.
    """
    sources = [(cc, instances[cc.name]) for cc in config.sources]
    source_timeout = config.plugins.source_timeout
    max_items = config.plugins.max_items_per_source
    with nullcontext(workers) if workers else CpuWorkers(config.plugins.worker_processes) as pool:
        async with nullcontext(http) if http else _fetcher(config, mirror) as http:
            outcomes = list(
                await asyncio.gather(
                    *(
                        _fetch_one(
                            cc,
                            src,
                            ctx_args,
                            http,
                            progress,
                            since,
                            source_timeout,
                            max_items,
                            pool,
                        )
                        for cc, src in sources
                    )
                )
            )
            if unresolved is not None:
                unresolved.update(http.unresolved)
            return outcomes


def nothing_fetched(warnings: list[BuildWarning], unresolved: set[str], mirror: str | None) -> str:
    """Why a build has no items, and what to check."""
    if unresolved and not mirror:
        names = ", ".join(sorted(unresolved))
        return (
            f"no source returned any items: no host name resolved ({names}). Check that "
            "this machine is online and its DNS answers. To build without the network, serve "
            "saved responses and build with `newsroom build --mirror URL` (docs/cli.md), or "
            "try the example offline: `newsroom init --example ai-briefing`, then its "
            "README's `newsroom build --mirror sample-data`"
        )
    details = "; ".join(f"{w.source}: {w.message}" for w in warnings) or "no sources"
    return f"no source returned any items ({details})"


def _fetcher(config: Config, mirror: str | None) -> Fetcher:
    cache_dir = config.cache_dir / "http" if config.http.cache else None
    return Fetcher(config.http.settings(), cache_dir=cache_dir, mirror=mirror)


@contextlib.asynccontextmanager
async def _build_resources(
    config: Config, mirror: str | None, workers: CpuWorkers | None
) -> AsyncIterator[tuple[State, Fetcher, CpuWorkers]]:
    """The state file, the worker processes and the shared HTTP client of one build: open
    from the fetch to the end of the edit stage, so filters that fetch (article pages) share
    the sources' client, cache and limits."""
    with (
        State.of(config) as state,
        nullcontext(workers) if workers else CpuWorkers(config.plugins.worker_processes) as pool,
    ):
        async with _fetcher(config, mirror) as http:
            yield state, http, pool


@contextmanager
def _attributed(cc: ComponentConfig, stage: str) -> Iterator[None]:
    """Any failure inside becomes a one-line BuildError naming the plugin and its table."""
    try:
        yield
    except NewsroomError as exc:
        raise BuildError(f"{stage} {cc.label}: {exc.message}") from exc
    except Exception as exc:
        raise BuildError(f"{stage} {cc.label} failed: {type(exc).__name__}: {exc}") from exc


async def run_filters(
    config: Config, items: list[Item], ctx: FilterContext, progress: Progress
) -> list[Item]:
    """Apply the ``[[filters]]`` chain in order."""
    for cc in config.filters:
        progress.stage(f"filter {cc.name}")
        with _attributed(cc, "filter"):
            result = cc.create().apply(items, ctx)  # type: ignore[attr-defined]
            if inspect.isawaitable(result):
                result = await result
        if result is None:
            continue
        if not isinstance(result, list) or not all(isinstance(i, Item) for i in result):
            raise BuildError(f"filter {cc.label} returned something other than a list of Item")
        items = result
    return items


def arrange_sections(
    config: Config,
    items: list[Item],
    ctx: Context,
    warn: Callable[[str], None] = lambda message: None,
) -> list[Section]:
    """Give each ``[[sections]]`` layout the items no earlier section took.

    An item a filter assigned to a section (``Item.section``, the id of a configured
    section) is kept from the sections before that one, so its own section sees it first;
    one that section leaves out is offered to the sections after it.
    """
    remaining = list(items)
    sections: list[Section] = []
    ids = [cc.name for cc in config.sections]
    assigned = any(i.section for i in items)
    for position, cc in enumerate(config.sections):
        layout = cc.create()
        later = set(ids[position + 1 :])
        offered = [i for i in remaining if i.section not in later] if assigned else remaining
        with _attributed(cc, "section"):
            made = layout.arrange(offered, ctx)  # type: ignore[attr-defined]
        if not isinstance(made, list) or not all(isinstance(s, Section) for s in made):
            raise BuildError(f"section {cc.label} returned something other than a list of Section")
        taken: set[int] = set()
        for section in made:
            if not section.title:
                section.title = cc.title
            if cc.intro and not section.intro:
                section.intro = cc.intro
            taken.update(id(i) for i in section.items)
        if not any(section.items for section in made):
            warn(f"section {cc.name!r} has no items and is left out of the edition")
        sections.extend(s for s in made if s.items)
        remaining = [i for i in remaining if id(i) not in taken]
    return sections


def edition_title(config: Config, date: dt.date) -> str:
    long_date = format_date(
        date, format="long", locale=config.newsletter.language.replace("-", "_")
    )
    try:
        return config.newsletter.edition_title.format(
            title=config.newsletter.title, date=long_date, iso_date=date.isoformat()
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise BuildError(f"[newsletter] edition_title: cannot fill in {exc}") from None


async def build(
    config: Config,
    plugins: Plugins,
    *,
    now: dt.datetime | None = None,
    edition_id: str | None = None,
    mirror: str | None = None,
    progress: Progress | None = None,
    workers: CpuWorkers | None = None,
) -> BuildResult:
    """Fetch, filter and arrange one edition, write its ``edition.json`` and record it.

    ``workers`` (see :func:`fetch_all`) are for a caller that is about to start threads of
    its own, such as a live progress display: processes can only be forked before those.
    """
    progress = progress or NoProgress()
    now = (now or dt.datetime.now(dt.UTC)).astimezone(config.timezone)
    date = now.date()
    edition_id = edition_id or date.isoformat()
    if not EDITION_ID.fullmatch(edition_id) or ".." in edition_id:
        raise BuildError(
            f"edition id {edition_id!r} must be letters, digits, '.', '-' or '_' (no slashes)"
        )
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        timings[stage] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    async with _build_resources(config, mirror, workers) as (state, http, pool):
        ctx_args = config.context_args(now=now, state=state, edition_id=edition_id)
        last = state.last_published(excluding=edition_id)
        instances: dict[str, Source] = {cc.name: cc.create() for cc in config.sources}  # type: ignore[misc]
        unresolved: set[str] = set()
        outcomes = await fetch_all(
            config,
            instances,
            ctx_args,
            since=last.built_at if last else None,
            progress=progress,
            mirror=mirror,
            workers=pool,
            http=http,
            unresolved=unresolved,
        )
        lap("fetch")
        warnings = [w for o in outcomes for w in o.warnings]
        items = [i for o in outcomes for i in o.items]
        if not items:
            raise BuildError(nothing_fetched(warnings, unresolved, mirror))

        filter_ctx = FilterContext(
            **ctx_args,
            sources=instances,
            sections={cc.name: cc.create() for cc in config.sections},  # type: ignore[misc]
            last_published=last.built_at if last else None,
            warn=lambda message: warnings.append(BuildWarning(source="filters", message=message)),
            section_titles={cc.name: cc.title for cc in config.sections},
            http=http,
            run_cpu=pool.run,
        )
        items = await run_filters(config, items, filter_ctx, progress)
        # The editor's notes (notes/<edition id>.md) drop items before the sections fill up.
        notes = EditorNotes.for_edition(config.root, edition_id, warnings)
        items = notes.drop(items)
        # Items whose own link is unusable would be dropped by the sanitizer after taking a
        # place in a section: drop them now, and say so.
        unsafe = [i for i in items if not is_safe_url(i.url)]
        if unsafe:
            items = [i for i in items if is_safe_url(i.url)]
            for item in unsafe:
                warnings.append(
                    BuildWarning(
                        source=item.source or "filters",
                        message=f"dropped an item whose link is not an http(s) URL: {item.url!r}",
                    )
                )
        lap("filter")
        progress.stage("sections")
        sections = arrange_sections(
            config,
            items,
            Context(**ctx_args),
            lambda message: warnings.append(BuildWarning(source="sections", message=message)),
        )
        lap("sections")
        nl = config.newsletter
        edition = Edition(
            id=edition_id,
            date=date,
            title=edition_title(config, date),
            newsletter=Newsletter(
                title=nl.title,
                language=nl.language,
                timezone=nl.timezone,
                base_url=nl.base_url,
                description=nl.description,
                author=nl.author,
            ),
            generated_at=now,
            sections=sections,
            categories=list(nl.categories),
            tags=list(nl.tags),
            warnings=warnings,
            sources=[
                SourceReport(
                    name=o.config.name,
                    plugin=o.config.plugin,
                    items=len(o.items),
                    seconds=round(o.seconds, 3),
                    ok=o.ok,
                )
                for o in outcomes
            ],
        )
        # The editor's pins, additions and order, then the summarizers (docs/summaries.md).
        edition = await edit_edition(
            config, plugins, edition, items, filter_ctx, notes, progress.stage
        )
        # The editor's subject (notes) or a model's stand; else one naming the lead story.
        edition.subject = edition.subject or default_subject(edition)
        lap("edit")
        # The one place untrusted content enters the edition: after every plugin has run.
        edition = sanitize_edition(edition)
        try:
            # A copy: a hook inspects the edition, it cannot put unsanitized values back in.
            # One plugin at a time, so a failure names its plugin.
            plugins.call_each("edition_built", edition=edition.model_copy(deep=True), config=config)
        except NewsroomError as exc:
            raise BuildError(exc.message) from exc
        except Exception as exc:
            raise BuildError(f"an edition_built hook failed: {type(exc).__name__}: {exc}") from exc
        folder = edition_dir(config, edition_id)
        folder.mkdir(parents=True, exist_ok=True)
        remove_rendered_email(folder)
        path = folder / "edition.json"
        edition.save(path)
        state.record_edition(edition)
        lap("write")
    return BuildResult(
        edition=edition,
        path=path,
        fetched={o.config.name: len(o.items) for o in outcomes},
        kept={s.id: len(s.items) for s in edition.sections},
        timings=timings,
    )
