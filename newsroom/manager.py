"""Finding and loading plugins, and the registries they fill.

Code plugins are modules named by entry points in the ``newsroom.plugins`` group; the
first-party ones are declared in newsroom's own ``pyproject.toml`` exactly like a third-party
package's. The core never imports a plugin by name.

``NEWSROOM_LOAD_PLUGINS`` limits loading to a comma-separated allowlist of distributions
(``""`` loads only the plugins shipped in the ``newsroom`` distribution).
``NEWSROOM_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from newsroom import hookspecs
from newsroom.components import Filter, Renderer, SectionLayout, Source
from newsroom.errors import PluginError
from newsroom.registry import Register, Registry
from newsroom.transport import Transport

PLUGIN_GROUP = "newsroom.plugins"
THEME_GROUP = "newsroom.themes"
OWN_DISTRIBUTION = "newsroom"


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, the distribution and version it came from."""

    name: str
    package: str
    version: str
    module: str


@dataclass(frozen=True)
class LoadFailure:
    """A plugin that could not be imported; the rest keep working."""

    name: str
    package: str
    version: str
    error: str

    def message(self) -> str:
        return (
            f'plugin "{self.name}" from {self.package} {self.version} failed to load: {self.error}'
        )


def _dist(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return ("?", "?")
    return (dist.metadata["Name"] or "?", dist.version or "?")


def _allowlist() -> set[str] | None:
    raw = os.environ.get("NEWSROOM_LOAD_PLUGINS")
    if raw is None:
        return None
    return {p.strip().lower().replace("_", "-") for p in raw.split(",") if p.strip()}


@dataclass
class Plugins:
    """A plugin manager with its loaded plugins and component registries."""

    pm: pluggy.PluginManager
    info: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[LoadFailure] = field(default_factory=list)
    _registries: dict[str, Registry[Any]] = field(default_factory=dict)

    # -- loading --------------------------------------------------------------------------

    def load_entrypoints(self, blocked: set[str] | frozenset[str] = frozenset()) -> None:
        """Import every ``newsroom.plugins`` entry point, recording failures, not raising."""
        allow = _allowlist()
        for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
            package, version = _dist(ep)
            if ep.name in blocked or self.pm.is_blocked(ep.name):
                continue
            if allow is not None:
                normalized = package.lower().replace("_", "-")
                if normalized != OWN_DISTRIBUTION and normalized not in allow:
                    continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not take the others down
                self.failures.append(
                    LoadFailure(ep.name, package, version, f"{type(exc).__name__}: {exc}")
                )
                continue
            self.add(module, ep.name, package=package, version=version)

    def add(self, plugin: Any, name: str, *, package: str = "?", version: str = "?") -> None:
        """Register a plugin object (module or instance) under ``name``."""
        self.pm.register(plugin, name=name)
        self.info[name] = PluginInfo(
            name, package, version, getattr(plugin, "__name__", type(plugin).__name__)
        )
        self._registries.clear()

    # -- registries -----------------------------------------------------------------------

    def _registry(self, kind: str, hook: str, base: type[Any]) -> Registry[Any]:
        if kind in self._registries:
            return self._registries[kind]
        registry: Registry[Any] = Registry(kind)
        # Call implementations one plugin at a time so each registration knows its owner.
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            info = self.info.get(impl.plugin_name)
            package = info.package if info else "?"
            register: Register[Any] = Register(registry, base, impl.plugin_name, package)
            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} ({package}) failed in {hook}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        self._registries[kind] = registry
        return registry

    @property
    def sources(self) -> Registry[type[Source]]:
        return self._registry("source", "register_sources", Source)

    @property
    def filters(self) -> Registry[type[Filter]]:
        return self._registry("filter", "register_filters", Filter)

    @property
    def sections(self) -> Registry[type[SectionLayout]]:
        return self._registry("section", "register_sections", SectionLayout)

    @property
    def renderers(self) -> Registry[type[Renderer]]:
        return self._registry("renderer", "register_renderers", Renderer)

    @property
    def transports(self) -> Registry[type[Transport]]:
        return self._registry("transport", "register_transports", Transport)

    def registry(self, kind: str) -> Registry[Any]:
        """The registry for ``kind``: ``source``, ``filter``, ``section``, ``renderer`` or
        ``transport``."""
        hooks = {
            "source": ("register_sources", Source),
            "filter": ("register_filters", Filter),
            "section": ("register_sections", SectionLayout),
            "renderer": ("register_renderers", Renderer),
            "transport": ("register_transports", Transport),
        }
        hook, base = hooks[kind]
        return self._registry(kind, hook, base)

    def failure_for(self, name: str) -> LoadFailure | None:
        """A load failure that may explain why ``name`` is missing (same plugin name)."""
        for failure in self.failures:
            if failure.name == name:
                return failure
        return self.failures[0] if len(self.failures) == 1 else None


def new_plugin_manager() -> pluggy.PluginManager:
    """A fresh pluggy manager with newsroom's hookspecs and nothing loaded."""
    pm = pluggy.PluginManager("newsroom")
    pm.add_hookspecs(hookspecs)
    if os.environ.get("NEWSROOM_TRACE_PLUGINS"):

        def before(hook_name: str, impls: Any, kwargs: Any) -> None:
            print(
                f"newsroom: calling {hook_name} on {[i.plugin_name for i in impls]}",
                file=sys.stderr,
            )

        def after(outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
            pass

        pm.add_hookcall_monitoring(before, after)
    return pm


def load_plugins(blocked: set[str] | frozenset[str] = frozenset()) -> Plugins:
    """A :class:`Plugins` with every installed plugin loaded (except ``blocked`` ones)."""
    plugins = Plugins(new_plugin_manager())
    plugins.load_entrypoints(blocked)
    return plugins
