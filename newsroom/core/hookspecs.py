"""Hook specifications: the contract between newsroom and its plugins.

Every hook here is documented in ``docs/hooks.md`` (a test fails when one is not).
Implementations may accept any subset of the documented arguments, by name, so adding an
argument later breaks no plugin. Hooks are synchronous and cheap: the work (fetching,
filtering, rendering) happens on the components they register.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    import click
    import jinja2

    from newsroom.config import Config
    from newsroom.core.model import Edition
    from newsroom.core.registry import Register
    from newsroom.render.themes import Theme

hookspec = HookspecMarker("newsroom")
hookimpl = HookimplMarker("newsroom")

#: Version of this hook API and of the component contracts. A minor version adds (hooks,
#: arguments, context attributes) and breaks nothing; only a major version removes or
#: changes something, after a deprecation period (``docs/hooks.md``). A plugin module states
#: the versions it works with as ``NEWSROOM_API = ">=1.0,<2"``; one whose range excludes this
#: version is not loaded, and the failure names its package and version.
API_VERSION = "1.0"


# -- Registration: called once per process, the first time a kind is needed. No I/O. --------


@hookspec
def register_sources(register: Register[Any]) -> None:
    """Register :class:`~newsroom.Source` classes.

    Call ``register(MySource)``; ``MySource.name`` is what users write as ``plugin = "..."`` in
    a ``[[sources]]`` table, and ``MySource.Options`` validates the rest of that table.

    :param register: Refuses (and reports, naming both packages) a name another plugin owns,
        and a class that is not a complete :class:`~newsroom.Source`.

    Called: once per process, before the first build.
    """


@hookspec
def register_filters(register: Register[Any]) -> None:
    """Register :class:`~newsroom.Filter` classes, used by ``[[filters]]`` tables.

    Called: once per process, before the first build.
    """


@hookspec
def register_sections(register: Register[Any]) -> None:
    """Register :class:`~newsroom.SectionLayout` classes, used by ``[[sections]]`` tables.

    Called: once per process, before the first build.
    """


@hookspec
def register_renderers(register: Register[Any]) -> None:
    """Register :class:`~newsroom.Renderer` classes, used by ``[[renderers]]`` tables.

    Called: once per process, before the first render.
    """


@hookspec
def register_transports(register: Register[Any]) -> None:
    """Register :class:`~newsroom.core.transport.Transport` classes, selected by
    ``[transport] plugin = "..."`` (``smtp`` and ``file`` are built in).

    Called: once per process, before the first ``newsroom send``.
    """


@hookspec
def register_feedback(register: Register[Any]) -> None:
    """Register :class:`~newsroom.FeedbackReceiver` classes: readers of an email service's
    bounce and complaint reports, configured by ``[[feedback]]`` tables and answered by
    ``newsroom serve`` at ``/webhooks/<name>``.

    Called: once per process, before ``newsroom serve`` answers its first request.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``newsroom`` command line.

    :param cli: The root click group; use ``@cli.command()``.

    Called: once, when the command line starts.
    """


# -- Customisation ---------------------------------------------------------------------------


@hookspec
def prepare_jinja2_environment(env: jinja2.Environment, theme: Theme) -> None:
    """Add filters, tests or globals to the Jinja2 environment a theme renders with.

    :param env: The environment (autoescape on).
    :param theme: The theme being rendered.

    Called: once per theme environment.
    """


@hookspec
def extra_template_vars(edition: Edition, format: str) -> dict[str, Any] | None:
    """Return extra variables for theme templates; dicts from several plugins are merged.

    :param edition: The edition being rendered (already sanitized).
    :param format: ``"email"``, ``"text"``, ``"web"``, ``"markdown"`` or a plugin's own.

    Called: each time a renderer builds template variables for that format; keep it cheap.
    """


# -- Events: every implementation runs; return values are ignored ----------------------------


@hookspec
def edition_built(edition: Edition, config: Config) -> None:
    """Inspect the assembled, sanitized edition before it is written (metrics, archiving).

    Called: once per ``newsroom build``, after the sections are arranged.
    """
