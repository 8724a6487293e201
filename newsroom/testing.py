"""Test helpers for newsroom and its plugins, also a pytest plugin (``pytest11``).

The fixtures stay inert unless a test asks for them:

``local_server``
    A real HTTP server on 127.0.0.1 (:class:`LocalServer`) that serves files and scripted
    responses (status codes, headers, delays, gzip, ETag/304), and records every request.
``plugin_manager``
    A fresh :class:`newsroom.core.plugins.Plugins` with every installed plugin loaded; add one
    under test with ``plugin_manager.add(module, "name")``.
``build_edition``
    ``build_edition(toml)`` builds an edition from ``newsroom.toml`` text with the real
    pipeline (config validation, sources, filters, sections, sanitizing) in a temporary
    folder, and returns the :class:`newsroom.curate.pipeline.BuildResult`.

:func:`run_source` runs one source the way a build does, for a test; :func:`build_from_toml`
is what ``build_edition`` calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.dev.httpserver import LocalServer, Request, Route

__all__ = [
    "LocalServer",
    "Request",
    "Route",
    "SourceRun",
    "build_from_toml",
    "build_edition",
    "local_server",
    "plugin_manager",
    "run_source",
]

if TYPE_CHECKING:
    from newsroom.core.components import Source
    from newsroom.core.model import Item
    from newsroom.core.plugins import Plugins
    from newsroom.curate.pipeline import BuildResult


@dataclass
class SourceRun:
    """What :func:`run_source` saw: the items of the last fetch and every warning."""

    items: list[Item]
    warnings: list[tuple[str, str | None]]
    """``(message, url)`` pairs, as the source reported them with ``ctx.warn``."""

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.warnings]


def run_source(
    source: Source,
    *,
    times: int = 1,
    language: str = "en",
    timezone: str = "UTC",
    now: Any = None,
    cache_dir: Path | None = None,
    **settings: Any,
) -> SourceRun:
    """Fetch with ``source`` ``times`` times over one real shared client, as a build does.

    ``settings`` override :class:`newsroom.collect.http.FetchSettings` (default: no retries, no
    backoff, so a failing test fails fast). Exceptions from ``fetch`` propagate.
    """
    import asyncio
    import datetime as dt
    from zoneinfo import ZoneInfo

    from newsroom.collect.http import Fetcher, FetchSettings
    from newsroom.core.components import FetchContext

    warnings: list[tuple[str, str | None]] = []
    options = {"retries": 0, "backoff": 0.0, **settings}

    def warn(message: str, url: str | None = None) -> None:
        warnings.append((message, url))

    async def run() -> list[Item]:
        async with Fetcher(FetchSettings(**options), cache_dir=cache_dir) as http:
            ctx = FetchContext(
                newsletter_title="Test",
                language=language,
                timezone=ZoneInfo(timezone),
                now=now or dt.datetime.now(dt.UTC),
                http=http,
                warn=warn,
            )
            items: list[Item] = []
            for _ in range(times):
                items = await source.fetch(ctx)
            return items

    return SourceRun(asyncio.run(run()), warnings)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1; script it with ``local_server.add(path, body)``.

    A request that fails inside the server (a scripted ``handler`` that raises) fails the
    test, with the traceback."""
    with LocalServer() as server:
        yield server
    if server.errors:
        pytest.fail("the local server failed a request:\n" + "\n".join(server.errors))


def build_from_toml(
    toml: str,
    folder: Path,
    *,
    plugins: Plugins | None = None,
    now: Any = None,
    render: bool = False,
) -> BuildResult:
    """Write ``toml`` as ``folder/newsroom.toml`` and build it as ``newsroom build`` does.

    A missing ``[newsletter]`` table is filled in (title "Test"). ``plugins`` defaults to
    every installed plugin; ``render=True`` also runs the renderers (their files are in
    ``folder/build/``). Configuration problems raise :class:`newsroom.ConfigError`.
    """
    import asyncio

    from newsroom.config.newsletter import open_newsletter
    from newsroom.curate.pipeline import build

    if not any(line.strip() == "[newsletter]" for line in toml.splitlines()):
        toml = '[newsletter]\ntitle = "Test"\n' + toml
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "newsroom.toml"
    path.write_text(toml, "utf-8")
    newsletter = open_newsletter(path, plugins)
    from newsroom.render.themes import check_theme

    check_theme(newsletter.config)
    result = asyncio.run(build(newsletter.config, newsletter.plugins, now=now))
    if render:
        from newsroom.render.rendering import render as run_render

        run_render(newsletter.config, newsletter.plugins, result.edition)
    return result


@pytest.fixture
def plugin_manager() -> Plugins:
    """A fresh plugin manager with every installed plugin loaded."""
    from newsroom.core.plugins import load_plugins

    return load_plugins()


@pytest.fixture
def build_edition(tmp_path: Path) -> Callable[..., BuildResult]:
    """``build_edition(toml, plugins=None, now=None, render=False)``: an edition built from
    newsroom.toml text in a fresh folder; see :func:`build_from_toml`."""
    count = 0

    def build(toml: str, **options: Any) -> BuildResult:
        nonlocal count
        count += 1
        return build_from_toml(toml, tmp_path / f"newsletter-{count}", **options)

    return build
