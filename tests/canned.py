"""A source plugin that returns the items its options list, and a build helper: for tests of
what happens after the sources (summaries, the editor's notes, the insight)."""

from __future__ import annotations

import asyncio
import datetime as dt
import tomllib
import types
from pathlib import Path
from typing import Any

from newsroom import FetchContext, Item, Options, Source, hookimpl
from newsroom.config import Config, parse_config
from newsroom.core.plugins import Plugins, load_plugins
from newsroom.curate.pipeline import BuildResult, build

NOW = dt.datetime(2026, 2, 14, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
EDITION = "2026-02-14"


class CannedItem(Options):
    title: str
    url: str
    summary: str = ""
    kind: str = "article"
    hours_ago: float = 1.0
    metrics: dict[str, float] = {}


class Canned(Source):
    """The items of its ``items`` option, published ``hours_ago`` before the build."""

    name = "canned"

    class Options(Options):
        items: list[CannedItem] = []

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        return [
            Item(
                url=c.url,
                title=c.title,
                summary=c.summary,
                kind=c.kind,
                published=ctx.now - dt.timedelta(hours=c.hours_ago),
                metrics=c.metrics,
            )
            for c in self.options.items  # type: ignore[attr-defined]
        ]


def canned_plugin() -> types.ModuleType:
    module = types.ModuleType("canned_plugin")

    @hookimpl
    def register_sources(register: Any) -> None:
        register(Canned)

    module.register_sources = register_sources  # type: ignore[attr-defined]
    return module


HEAD = """
[newsletter]
title = "AI 브리핑"
language = "ko"
timezone = "Asia/Seoul"
base_url = "https://example.org/briefing/"
"""


def configure(
    folder: Path, toml: str, *, plugins: Plugins | None = None, extra: list[Any] = ()
) -> tuple[Config, Plugins]:
    """A config in ``folder`` from ``toml`` (the [newsletter] table is added), validated
    against the installed plugins plus the canned source and ``extra`` plugin modules."""
    plugins = plugins or load_plugins()
    plugins.add(canned_plugin(), "canned-test")
    for n, module in enumerate(extra):
        plugins.add(module, f"extra-test-{n}")
    text = HEAD + toml
    path = folder / "newsroom.toml"
    path.write_text(text, "utf-8")
    return parse_config(tomllib.loads(text), path, plugins), plugins


def run_build(
    folder: Path, toml: str, *, extra: list[Any] = (), now: dt.datetime = NOW
) -> BuildResult:
    config, plugins = configure(folder, toml, extra=extra)
    return asyncio.run(build(config, plugins, now=now))


def items_toml(source: str, items: list[dict[str, Any]]) -> str:
    """A ``[[sources]]`` table of the canned source with ``items``."""
    lines = [f'[[sources]]\nname = "{source}"\nplugin = "canned"']
    for item in items:
        lines.append("[[sources.items]]")
        for key, value in item.items():
            lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    import json

    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)
