"""The four kinds of component a plugin registers, and what each is handed.

A component is a small class with a ``name``, a typed :class:`Options` model (validated from
the TOML table that configures it) and one method:

========================  =============================================================
:class:`Source`           ``async fetch(ctx) -> list[Item]``
:class:`Filter`           ``apply(items, ctx) -> list[Item] | None`` (may be ``async``)
:class:`SectionLayout`    ``arrange(items, ctx) -> list[Section]``
:class:`Renderer`         ``render(edition, ctx) -> list[Path]``
========================  =============================================================

The configuration creates instances: two ``[[sources]]`` tables with ``plugin = "news"`` are
two ``NewsSource`` objects, each with its own options.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, SecretStr

from newsroom.core.model import Edition, Item, Section

if TYPE_CHECKING:
    import jinja2

    from newsroom.collect.http import Fetcher
    from newsroom.render.themes import Theme
    from newsroom.store.state import State


class Options(BaseModel):
    """Base class of every component's options: unknown keys are errors.

    Declare secrets as :class:`pydantic.SecretStr`: the config then refuses a literal value and
    asks for ``{ "$env" = "NAME" }`` instead, and the value never appears in logs or reprs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class Component:
    """What all components share: a registered ``name`` and validated ``options``."""

    name: ClassVar[str] = ""
    """The name users write as ``plugin = "..."`` in newsroom.toml."""
    Options: ClassVar[type[Options]] = Options
    """The options model; subclass it to declare typed options."""
    description: ClassVar[str] = ""

    def __init__(self, options: Any = None, *, instance: str | None = None) -> None:
        self.options = options if options is not None else type(self).Options()
        self.instance = instance or self.name
        """The configured instance name (a source's ``name``, a section's ``id``)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.instance!r}>"


# -- Contexts ---------------------------------------------------------------------------


@dataclass
class Context:
    """What every component may read about the run."""

    newsletter_title: str
    language: str
    timezone: ZoneInfo
    now: dt.datetime
    """The build's clock (timezone-aware); use it instead of ``datetime.now()``."""
    state: State | None = None
    root: Path = field(default_factory=Path.cwd)
    """The folder that holds newsroom.toml."""
    edition_id: str = ""
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("newsroom"))

    @property
    def today(self) -> dt.date:
        """Today's date in the newsletter's time zone."""
        return self.now.astimezone(self.timezone).date()


@dataclass
class FetchContext(Context):
    """Handed to :meth:`Source.fetch`."""

    http: Fetcher = None  # type: ignore[assignment]
    """The shared HTTP client: timeouts, retries, size limit, conditional-GET cache."""
    since: dt.datetime | None = None
    """Items published before this are not wanted (a hint; the ``window`` filter enforces it)."""
    warn: Callable[[str, str | None], None] = field(default=lambda message, url=None: None)
    """Report a problem that did not stop the source: ``ctx.warn("feed X is empty", url)``."""
    progress: Callable[[str], None] = lambda message: None
    """Report what the source is doing now, for the live display."""
    run_cpu: Callable[..., Awaitable[Any]] = asyncio.to_thread
    """``await ctx.run_cpu(fn, *args)``: CPU-heavy work (parsing a large download) off the
    event loop: in a worker process when the build has them (``[plugins] worker_processes``:
    on Linux with more than one core, by default), else in a thread. ``fn`` must be a
    module-level function without side effects (if its worker dies, it runs again in a
    thread), its arguments and result picklable; a result of bytes or JSON text travels back
    far faster than many objects. Its exceptions are raised here, as a RuntimeError with the
    message for one that cannot be pickled (docs/plugins.md)."""
    cpu_processes: int = 0
    """How many worker processes ``run_cpu`` has (0: it runs ``fn`` in a thread)."""


@dataclass
class FilterContext(Context):
    """Handed to :meth:`Filter.apply`."""

    sources: dict[str, Source] = field(default_factory=dict)
    sections: dict[str, SectionLayout] = field(default_factory=dict)
    """The ``[[sections]]`` layouts by id, in config order: a filter may ask which section
    would take an item (:meth:`SectionLayout.accepts`)."""
    last_published: dt.datetime | None = None
    """When the newsletter's last published edition was built, if any."""
    warn: Callable[[str], None] = lambda message: None
    section_titles: dict[str, str] = field(default_factory=dict)
    """The configured sections' titles by id, in config order (a filter that assigns
    ``Item.section`` picks an id from these)."""
    http: Fetcher | None = None
    """The build's shared HTTP client (as sources have it: limits, per-host spacing, the
    cache, ``--mirror``), for filters that fetch (article pages, say); ``None`` outside a
    build."""
    run_cpu: Callable[..., Awaitable[Any]] = asyncio.to_thread
    """``await ctx.run_cpu(fn, *args)``: CPU-heavy work in the build's worker processes,
    as :attr:`FetchContext.run_cpu` (same rules for ``fn``)."""


@dataclass
class RenderContext(Context):
    """Handed to :meth:`Renderer.render`."""

    theme: Theme = None  # type: ignore[assignment]
    output_dir: Path = field(default_factory=Path.cwd)
    """The edition's own folder (``<output>/editions/<id>/``)."""
    site_dir: Path = field(default_factory=Path.cwd)
    """The web edition's folder, shared by all editions (``<output>/site/``)."""
    base_url: str = ""
    theme_settings: dict[str, Any] = field(default_factory=dict)
    jinja: jinja2.Environment = None  # type: ignore[assignment]
    """The theme's Jinja2 environment (autoescape on, plugins' additions applied)."""
    variables: Callable[[Edition, str], dict[str, Any]] = lambda edition, fmt: {}
    """``ctx.variables(edition, "email")``: the template variables for one format."""
    placeholder_key: str = field(default_factory=lambda: secrets.token_hex(16))
    """A new random key per render, the secret part of its per-subscriber placeholders
    (see :mod:`newsroom.render.rendering`); a renderer of the email records it in ``email.json``."""


# -- Components ---------------------------------------------------------------------------


class Source(Component, ABC):
    """Fetches items from one place. Register with ``register_sources``."""

    kind: ClassVar[str] = "article"
    """Default kind of the items this source produces."""

    @abstractmethod
    async def fetch(self, ctx: FetchContext) -> list[Item]:
        """Return the items available now.

        Raise :class:`newsroom.SourceError` with a clear message when nothing could be
        fetched; call ``ctx.warn`` for partial problems. Any other exception is reported as a
        failure of this source only. Use ``ctx.http`` for every request.
        """


class Filter(Component, ABC):
    """Drops, reorders or enriches items. Register with ``register_filters``.

    Filters run in the order of ``[[filters]]`` in newsroom.toml; each gets the previous
    one's output.
    """

    @abstractmethod
    def apply(
        self, items: list[Item], ctx: FilterContext
    ) -> list[Item] | None | Awaitable[list[Item] | None]:
        """Return the new item list, or ``None`` to leave it unchanged. May be ``async``."""


class SectionLayout(Component, ABC):
    """Arranges items into sections. Register with ``register_sections``.

    Each ``[[sections]]`` table makes one instance; ``arrange`` is handed the items no earlier
    section took, and the items it places are taken.
    """

    @abstractmethod
    def arrange(self, items: list[Item], ctx: Context) -> list[Section]:
        """Return the section(s) this layout builds from ``items`` (possibly none)."""

    def accepts(self, item: Item) -> bool | None:
        """Whether this section would take ``item``, its limit aside; ``None`` when the
        layout cannot tell. Filters that merge items ask it (``FilterContext.sections``) to
        decide where a story goes."""
        return None


class Renderer(Component, ABC):
    """Turns an edition into files. Register with ``register_renderers``."""

    @abstractmethod
    def render(self, edition: Edition, ctx: RenderContext) -> list[Path]:
        """Write the outputs for ``edition`` and return their paths."""


def secret_value(value: SecretStr | str | None) -> str | None:
    """The plain value of a secret option, for the moment it is used."""
    if value is None:
        return None
    return value.get_secret_value() if isinstance(value, SecretStr) else value
