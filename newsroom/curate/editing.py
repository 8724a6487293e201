"""The editing stage of a build: after the sections, before the sanitizer.

Two things happen here, in this order, on the arranged (not yet sanitized) edition:

1. the editor's notes (:mod:`newsroom.curate.notes`): pinned and added items, section order, the
   editor's intro and insight;
2. the ``edit`` step of the configured filters that have one (summarizers: ``extractive``,
   ``llm``), in ``[[filters]]`` order. A filter's ``edit(edition, ctx)`` (which may be
   ``async``) changes the edition in place or returns a new one. Summarizers do their work
   here rather than in ``apply`` so that they write only about what readers will see, and
   an insight can only be about the edition.

When no configured filter is a summarizer (a class with ``summarizer = True``), the
registered ``extractive`` filter runs with its default options, so every edition gets short,
clean summaries unless the configuration says otherwise.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from newsroom.core.components import Context, FilterContext
from newsroom.core.errors import BuildError, NewsroomError
from newsroom.core.model import BuildWarning, Edition, Item
from newsroom.curate.notes import EditorNotes

if TYPE_CHECKING:
    from newsroom.config import Config
    from newsroom.core.plugins import Plugins

#: The summarizer a build uses when none is configured.
DEFAULT_SUMMARIZER = "extractive"


@contextmanager
def _attributed(label: str) -> Iterator[None]:
    try:
        yield
    except NewsroomError as exc:
        raise BuildError(f"filter {label}: {exc.message}") from exc
    except Exception as exc:
        raise BuildError(f"filter {label} failed: {type(exc).__name__}: {exc}") from exc


def editors(config: Config, plugins: Plugins) -> list[tuple[str, Any]]:
    """The components whose ``edit`` step runs, with the labels that name them."""
    steps: list[tuple[str, Any]] = []
    for cc in config.filters:
        component = cc.create()
        if callable(getattr(component, "edit", None)):
            steps.append((cc.label, component))
    if not any(getattr(cc.registration.cls, "summarizer", False) for cc in config.filters):
        fallback = plugins.registry("filter").get(DEFAULT_SUMMARIZER)
        if fallback is not None:
            steps.append((f"{DEFAULT_SUMMARIZER!r} (the default summarizer)", fallback.cls(None)))
    return steps


def _section_finder(config: Config, ctx: Context) -> Any:
    """``find(item)``: the id of the first configured section that would take ``item``."""

    def find(item: Item) -> str | None:
        for cc in config.sections:
            try:
                made = cc.create().arrange([item], ctx)  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - a layout that cannot say simply does not take it
                continue
            if any(item in section.items for section in made):
                return cc.name
        return None

    return find


async def edit_edition(
    config: Config,
    plugins: Plugins,
    edition: Edition,
    candidates: list[Item],
    ctx: FilterContext,
    notes: EditorNotes,
    stage: Any = None,
) -> Edition:
    """Apply the editor's notes, then every ``edit`` step, to ``edition``.

    ``candidates`` are the items the filters kept (sections may have had no room for some).
    ``stage(message)`` reports progress.
    """
    titles = {cc.name: (cc.title, cc.intro) for cc in config.sections}
    # The edition holds its own copy of the build's warnings: add to that one from here on.
    notes.warnings = edition.warnings
    notes.apply(edition, candidates, _section_finder(config, ctx), titles)
    current = [edition]
    ctx = replace(
        ctx,
        warn=lambda message: current[0].warnings.append(
            BuildWarning(source="filters", message=message)
        ),
    )
    for label, component in editors(config, plugins):
        if stage is not None:
            stage(f"filter {label}")
        with _attributed(label):
            result = component.edit(current[0], ctx)
            if inspect.isawaitable(result):
                result = await result
        if result is None:
            continue
        if not isinstance(result, Edition):
            raise BuildError(f"filter {label}: edit() returned something other than an Edition")
        current[0] = result
    return current[0]
