"""What ``newsroom build`` shows: a live line per source, then a summary table."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from newsroom.core.model import Edition


@dataclass
class _Row:
    plugin: str
    started: float = field(default_factory=time.perf_counter)
    message: str = "starting"
    items: int | None = None
    seconds: float | None = None
    error: str | None = None


class LiveProgress:
    """A :class:`newsroom.curate.pipeline.Progress` drawn with rich: one row per source."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, _Row] = {}
        self.current_stage = "fetching"
        self._live = Live(self._render(), console=console, refresh_per_second=8, transient=True)

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.__exit__(*exc)

    def _render(self) -> Group:
        table = Table.grid(padding=(0, 2))
        for name, row in self.rows.items():
            if row.seconds is None:
                status: Any = Spinner("dots")
                detail = Text(row.message, style="dim")
            elif row.error:
                status = Text("✗", style="red")
                detail = Text(row.error, style="red")
            else:
                status = Text("✓", style="green")
                detail = Text(f"{row.items} items in {row.seconds:.1f} s", style="dim")
            table.add_row(status, Text(name, style="bold"), Text(row.plugin, style="cyan"), detail)
        return Group(table, Text(self.current_stage, style="dim"))

    def _refresh(self) -> None:
        self._live.update(self._render())

    def source_started(self, name: str, plugin: str) -> None:
        self.rows[name] = _Row(plugin)
        self._refresh()

    def source_update(self, name: str, message: str) -> None:
        if name in self.rows:
            self.rows[name].message = message
            self._refresh()

    def source_finished(self, name: str, items: int, seconds: float, error: str | None) -> None:
        row = self.rows.setdefault(name, _Row("?"))
        row.items, row.seconds, row.error = items, seconds, error
        self._refresh()

    def stage(self, message: str) -> None:
        self.current_stage = message
        self._refresh()


def summary_tables(edition: Edition, fetched: dict[str, int]) -> list[Table]:
    """The tables printed after a build: sources, sections, warnings."""
    sources = Table(title="Sources", title_justify="left")
    sources.add_column("source")
    sources.add_column("plugin", style="cyan")
    sources.add_column("fetched", justify="right")
    sources.add_column("time", justify="right")
    sources.add_column("")
    for report in edition.sources:
        sources.add_row(
            Text(report.name),
            Text(report.plugin),
            str(fetched.get(report.name, report.items)),
            f"{report.seconds:.1f} s",
            "[green]ok[/]" if report.ok else "[red]failed[/]",
        )
    sections = Table(title="Sections", title_justify="left")
    sections.add_column("section")
    sections.add_column("title")
    sections.add_column("items", justify="right")
    for section in edition.sections:
        sections.add_row(Text(section.id), Text(section.title), str(len(section.items)))
    tables = [sources, sections]
    if edition.warnings:
        warnings = Table(
            title=f"Warnings ({len(edition.warnings)})", title_justify="left", title_style="yellow"
        )
        warnings.add_column("source")
        warnings.add_column("problem")
        warnings.add_column("url", overflow="fold")
        for w in edition.warnings:
            # Text, not str: feed content must never be read as rich markup.
            warnings.add_row(Text(w.source), Text(w.message), Text(w.url or ""))
        tables.append(warnings)
    return tables
