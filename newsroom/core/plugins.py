"""Finding and loading plugins, and the registries they fill.

Code plugins are modules named by entry points in the ``newsroom.plugins`` group; the
first-party ones are declared in newsroom's own ``pyproject.toml`` exactly like a third-party
package's. The core never imports a plugin by name. A newsletter may add a folder of ``.py``
files (``[plugins] plugins_dir``), each loaded as a plugin named after its file.

``NEWSROOM_LOAD_PLUGINS`` limits loading to a comma-separated allowlist of distributions
(``""`` loads only the plugins shipped in the ``newsroom`` distribution).
``NEWSROOM_TRACE_PLUGINS=1`` prints every hook call to stderr.
``NEWSROOM_PLUGIN_IMPORT_TIMEOUT`` is how many seconds one plugin's import may take (30).

Nothing a plugin does while loading stops the others: an import error, an import that does
not finish (it waits on a network share, a lock, a server), an incompatible
``NEWSROOM_API`` range, a crash inside a ``register_*`` hook or a refused registration is
recorded as a :class:`LoadFailure` naming the plugin, its package and version.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from newsroom.__about__ import DISTRIBUTION, __version__
from newsroom.core import hookspecs
from newsroom.core.components import Filter, Renderer, SectionLayout, Source
from newsroom.core.errors import PluginError
from newsroom.core.feedback import FeedbackReceiver
from newsroom.core.registry import Register, Registry
from newsroom.core.transport import Transport

PLUGIN_GROUP = "newsroom.plugins"
THEME_GROUP = "newsroom.themes"
#: newsroom's own distribution, whose plugins always load first (compared canonicalized).
OWN_DISTRIBUTION = DISTRIBUTION
#: The module attribute in which a plugin states the hook API versions it supports.
API_ATTRIBUTE = "NEWSROOM_API"
#: Seconds one plugin's import may take (``NEWSROOM_PLUGIN_IMPORT_TIMEOUT`` overrides it).
IMPORT_TIMEOUT = 30.0
#: After this many seconds of one import, say which plugin is being waited for.
IMPORT_NOTICE = 5.0

log = logging.getLogger("newsroom.plugins")

#: Registry kind → (registration hook, base class of what it registers).
KINDS: dict[str, tuple[str, type[Any]]] = {
    "source": ("register_sources", Source),
    "filter": ("register_filters", Filter),
    "section": ("register_sections", SectionLayout),
    "renderer": ("register_renderers", Renderer),
    "transport": ("register_transports", Transport),
    "feedback": ("register_feedback", FeedbackReceiver),
}


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, the distribution and version it came from."""

    name: str
    package: str
    version: str
    module: str
    api: str = ""
    """The ``NEWSROOM_API`` range the plugin declares ("" when it declares none)."""


@dataclass(frozen=True)
class LoadFailure:
    """A plugin, or one registration of it, that did not load; the rest keep working."""

    name: str
    package: str
    version: str
    error: str
    stage: str = "import"
    """``import`` (it raised), ``api`` (incompatible ``NEWSROOM_API``) or ``register``."""
    component: str = ""
    """For a refused registration: the component name it tried to register."""

    @property
    def origin(self) -> str:
        return f"{self.package} {self.version}".strip()

    def message(self) -> str:
        if self.stage == "register":
            return f'plugin "{self.name}" from {self.origin}: {self.error}'
        return f'plugin "{self.name}" from {self.origin} failed to load: {self.error}'


@dataclass(frozen=True)
class Skipped:
    """An installed plugin that was deliberately not loaded, and why."""

    name: str
    package: str
    version: str
    reason: str


@dataclass(frozen=True)
class Deprecation:
    """A plugin that implements a deprecated hook or hook argument (it still works)."""

    name: str
    package: str
    version: str
    warning: str

    def message(self) -> str:
        origin = f"{self.package} {self.version}".strip()
        return f'plugin "{self.name}" from {origin} uses a deprecated hook API: {self.warning}'


def _dist(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return ("?", "?")
    return (dist.metadata["Name"] or "?", dist.version or "?")


def _allowlist() -> set[str] | None:
    raw = os.environ.get("NEWSROOM_LOAD_PLUGINS")
    if raw is None:
        return None
    return {canonicalize_name(p.strip()) for p in raw.split(",") if p.strip()}


def api_problem(module: Any, package: str) -> str | None:
    """Why ``module`` cannot be used with this hook API, or None when it can.

    A plugin without ``NEWSROOM_API`` is assumed to support the current API.
    """
    declared = getattr(module, API_ATTRIBUTE, None)
    if declared is None:
        return None
    if not isinstance(declared, str):
        return f"{API_ATTRIBUTE} must be a version range string like '>=1.0,<2', got {declared!r}"
    try:
        supported = SpecifierSet(declared)
    except InvalidSpecifier:
        return f"{API_ATTRIBUTE} = {declared!r} is not a version range (write e.g. '>=1.0,<2')"
    if supported.contains(Version(hookspecs.API_VERSION), prereleases=True):
        return None
    return (
        f"it supports newsroom plugin API {declared}, but newsroom {__version__} provides "
        f"API {hookspecs.API_VERSION}; install a version of {package} made for "
        f"API {hookspecs.API_VERSION}, or a newsroom that provides {declared}"
    )


@dataclass
class Plugins:
    """A plugin manager with its loaded plugins and component registries."""

    pm: pluggy.PluginManager
    info: dict[str, PluginInfo] = field(default_factory=dict)
    load_failures: list[LoadFailure] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    deprecations: list[Deprecation] = field(default_factory=list)
    """Deprecated hooks or hook arguments the loaded plugins use."""
    _registries: dict[str, Registry[Any]] = field(default_factory=dict)
    _refusals: dict[str, list[LoadFailure]] = field(default_factory=dict)

    # -- loading --------------------------------------------------------------------------

    def load_entrypoints(self, blocked: set[str] | frozenset[str] = frozenset()) -> None:
        """Import every ``newsroom.plugins`` entry point, recording failures, not raising."""
        allow = _allowlist()
        # First-party plugins first, so a package can never take one of their names.
        found = sorted(
            entry_points(group=PLUGIN_GROUP),
            key=lambda e: (canonicalize_name(_dist(e)[0]) != OWN_DISTRIBUTION, e.name),
        )
        for ep in found:
            package, version = _dist(ep)
            if ep.name in blocked or self.pm.is_blocked(ep.name):
                self.skipped.append(
                    Skipped(ep.name, package, version, "disabled in [plugins] disabled")
                )
                continue
            normalized = canonicalize_name(package)
            if allow is not None and normalized != OWN_DISTRIBUTION and normalized not in allow:
                self.skipped.append(
                    Skipped(ep.name, package, version, "not in NEWSROOM_LOAD_PLUGINS")
                )
                continue
            if ep.name in self.info:
                owner = self.info[ep.name]
                if (owner.package, owner.version) != (package, version):
                    self.load_failures.append(
                        LoadFailure(
                            ep.name,
                            package,
                            version,
                            f"the plugin name is taken by {owner.package} {owner.version}",
                        )
                    )
                continue
            try:
                module = import_with_deadline(ep.load, f"{ep.name} ({package} {version})")
            except Exception as exc:  # a broken plugin must not take the others down
                self.load_failures.append(
                    LoadFailure(ep.name, package, version, _import_error(exc))
                )
                continue
            self._add_checked(module, ep.name, package, version)

    def load_directory(
        self, folder: Path, blocked: set[str] | frozenset[str] = frozenset()
    ) -> None:
        """Load every ``*.py`` file in ``folder`` as a plugin named after the file."""
        for path in sorted(folder.glob("*.py")):
            name = path.stem
            if name.startswith("_"):
                continue
            if name in blocked:
                self.skipped.append(Skipped(name, str(path), "", "disabled in [plugins] disabled"))
                continue
            if name in self.info:
                owner = self.info[name]
                self.load_failures.append(
                    LoadFailure(
                        name,
                        str(path),
                        "",
                        f"a plugin called {name!r} is already installed "
                        f"({owner.package} {owner.version}); rename the file",
                    )
                )
                continue
            try:
                module = import_with_deadline(partial(_import_file, path), f"{name} ({path})")
            except Exception as exc:
                self.load_failures.append(LoadFailure(name, str(path), "", _import_error(exc)))
                continue
            self._add_checked(module, name, str(path), "")

    def _add_checked(self, module: ModuleType, name: str, package: str, version: str) -> None:
        problem = api_problem(module, package)
        if problem:
            self.load_failures.append(LoadFailure(name, package, version, problem, stage="api"))
            return
        try:
            self.add(module, name, package=package, version=version)
        except Exception as exc:  # pluggy refuses hookimpls that match no hook's arguments
            self.load_failures.append(
                LoadFailure(name, package, version, f"{type(exc).__name__}: {exc}")
            )

    def add(self, plugin: Any, name: str, *, package: str = "?", version: str = "?") -> None:
        """Register a plugin object (module or instance) under ``name``."""
        with warnings.catch_warnings(record=True) as caught:
            # pluggy warns when a plugin implements a deprecated hook or argument.
            warnings.simplefilter("always", DeprecationWarning)
            self.pm.register(plugin, name=name)
        self.deprecations.extend(
            Deprecation(name, package, version, str(w.message))
            for w in caught
            if issubclass(w.category, DeprecationWarning)
        )
        self.load_failures.extend(
            LoadFailure(name, package, version, message, stage="register")
            for message in self._unknown_hooks(plugin)
        )
        api = getattr(plugin, API_ATTRIBUTE, "")
        self.info[name] = PluginInfo(
            name,
            package,
            version,
            getattr(plugin, "__name__", type(plugin).__name__),
            api if isinstance(api, str) else "",
        )
        self._registries.clear()
        self._refusals.clear()

    def _unknown_hooks(self, plugin: Any) -> list[str]:
        """Implementations named like no hook: a typo that would otherwise do nothing."""
        known = [
            name for name in vars(hookspecs) if hasattr(getattr(hookspecs, name), "newsroom_spec")
        ]
        messages = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.has_spec() or all(i.optionalhook for i in caller.get_hookimpls()):
                continue
            close = difflib.get_close_matches(caller.name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            messages.append(f"{caller.name} is not a newsroom hook{hint}; it is never called")
        return messages

    def copy(self, exclude: set[str] | frozenset[str] = frozenset()) -> Plugins:
        """A new manager with the same plugins, less those named in ``exclude``."""
        new = Plugins(new_plugin_manager())
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None or name in exclude:
                continue
            new.pm.register(plugin, name=name)
            if name in self.info:
                new.info[name] = self.info[name]
        new.load_failures = [f for f in self.load_failures if f.name not in exclude]
        new.deprecations = [d for d in self.deprecations if d.name not in exclude]
        new.skipped = list(self.skipped) + [
            Skipped(name, info.package, info.version, "disabled in [plugins] disabled")
            for name, info in self.info.items()
            if name in exclude
        ]
        return new

    # -- registries -----------------------------------------------------------------------

    def _is_own(self, plugin_name: str) -> bool:
        info = self.info.get(plugin_name)
        return info is not None and canonicalize_name(info.package) == OWN_DISTRIBUTION

    def registry(self, kind: str) -> Registry[Any]:
        """The registry for ``kind``: ``source``, ``filter``, ``section``, ``renderer``,
        ``transport`` or ``feedback``."""
        if kind in self._registries:
            return self._registries[kind]
        hook, base = KINDS[kind]
        registry: Registry[Any] = Registry(kind)
        refusals: list[LoadFailure] = []
        impls = [
            impl
            for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls())
            if not (impl.hookwrapper or impl.wrapper)
        ]
        # One plugin at a time, so each registration knows its owner; first-party plugins
        # first, so their names are theirs whatever the load order.
        for impl in sorted(impls, key=lambda i: not self._is_own(i.plugin_name)):
            info = self.info.get(impl.plugin_name)
            package, version = (info.package, info.version) if info else ("?", "?")
            refuse = _recorder(refusals, impl.plugin_name, package, version)
            register: Register[Any] = Register(
                registry, base, impl.plugin_name, package, refused=refuse
            )
            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except Exception as exc:  # what it registered before the crash stays
                refuse(f"{hook} raised {type(exc).__name__}: {exc}", "")
        self._registries[kind] = registry
        self._refusals[kind] = refusals
        return registry

    @property
    def sources(self) -> Registry[type[Source]]:
        return self.registry("source")

    @property
    def filters(self) -> Registry[type[Filter]]:
        return self.registry("filter")

    @property
    def sections(self) -> Registry[type[SectionLayout]]:
        return self.registry("section")

    @property
    def renderers(self) -> Registry[type[Renderer]]:
        return self.registry("renderer")

    @property
    def transports(self) -> Registry[type[Transport]]:
        return self.registry("transport")

    @property
    def feedback(self) -> Registry[type[FeedbackReceiver]]:
        return self.registry("feedback")

    @property
    def failures(self) -> list[LoadFailure]:
        """Every load failure, and every refused registration of the registries built so far
        (:meth:`all_registries` builds them all)."""
        return self.load_failures + [f for kind in KINDS for f in self._refusals.get(kind, [])]

    def all_registries(self) -> dict[str, Registry[Any]]:
        """Every registry, by kind (building them runs every ``register_*`` hook)."""
        return {kind: self.registry(kind) for kind in KINDS}

    def call_each(self, hook: str, errors: list[str] | None = None, **kwargs: Any) -> list[Any]:
        """Call ``hook`` one plugin at a time, so that a failure names its plugin.

        A failure raises :class:`~newsroom.PluginError` with the plugin's name, package and
        version, or, when ``errors`` is given, is appended to it and the other plugins still
        run. Returns the non-None results, in pluggy's calling order.
        """
        caller = getattr(self.pm.hook, hook)
        impls = list(reversed(caller.get_hookimpls()))
        if any(impl.hookwrapper or impl.wrapper for impl in impls):
            return list(caller(**kwargs))  # wrappers need pluggy's own calling
        first = bool(caller.spec and caller.spec.opts.get("firstresult"))
        results: list[Any] = []
        for impl in impls:
            try:
                result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:
                info = self.info.get(impl.plugin_name)
                origin = f" ({info.package} {info.version}".rstrip() + ")" if info else ""
                message = (
                    f'plugin "{impl.plugin_name}"{origin} failed in {hook}: '
                    f"{type(exc).__name__}: {exc}"
                )
                if errors is None:
                    raise PluginError(message) from exc
                errors.append(message)
                continue
            if result is not None:
                results.append(result)
                if first:
                    break
        return results

    def failure_for(self, name: str) -> LoadFailure | None:
        """A load failure that may explain why ``name`` is missing (same plugin or component
        name, or the only failure there is)."""
        failures = self.failures
        for failure in failures:
            if name in (failure.name, failure.component):
                return failure
        return failures[0] if len(failures) == 1 else None


def _recorder(
    into: list[LoadFailure], plugin: str, package: str, version: str
) -> Callable[[str, str], None]:
    """A ``refused`` callback for :class:`Register` that records into ``into``."""

    def refuse(message: str, component: str = "") -> None:
        into.append(LoadFailure(plugin, package, version, message, "register", component))

    return refuse


class ImportTimeout(Exception):
    """A plugin's import did not finish in time; it goes on in a thread nobody waits for."""


def import_timeout() -> float:
    """Seconds one plugin's import may take: ``NEWSROOM_PLUGIN_IMPORT_TIMEOUT``, else 30."""
    raw = os.environ.get("NEWSROOM_PLUGIN_IMPORT_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return IMPORT_TIMEOUT
    return value if value > 0 else IMPORT_TIMEOUT


def import_with_deadline(load: Callable[[], Any], what: str, timeout: float | None = None) -> Any:
    """``load()`` (a plugin's import) in a daemon thread, waiting at most ``timeout`` seconds
    (default :func:`import_timeout`).

    An import that hangs (module code waiting on a network share, a lock or a server) would
    otherwise hang every command, each of which loads the plugins first. Past the deadline
    :class:`ImportTimeout` is raised and the import is left to finish, or not, in its
    daemon thread, which does not keep the process from exiting. Its exception, if it
    raises in time, is raised here.
    """
    timeout = import_timeout() if timeout is None else timeout
    outcome: list[tuple[bool, Any]] = []
    finished = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, load()))
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcome.append((False, exc))
        finally:
            finished.set()

    thread = threading.Thread(target=run, name=f"newsroom-import {what}", daemon=True)
    thread.start()
    if not finished.wait(min(IMPORT_NOTICE, timeout)):
        log.warning("still importing plugin %s after %g s", what, min(IMPORT_NOTICE, timeout))
        if not finished.wait(max(0.0, timeout - IMPORT_NOTICE)):
            raise ImportTimeout(
                f"its import did not finish within {timeout:g} s "
                "(NEWSROOM_PLUGIN_IMPORT_TIMEOUT); it is not loaded"
            )
    # Gone, not just finished: worker processes are forked only while no other thread runs.
    thread.join()
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def _import_error(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ImportTimeout) else f"{type(exc).__name__}: {exc}"


def _import_file(path: Path) -> ModuleType:
    """Import one ``plugins_dir`` file as a module of its own (kept in ``sys.modules``, which
    pydantic and dataclasses need to resolve annotations)."""
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode("utf-8")).hexdigest()[:10]
    module_name = f"_newsroom_local_{digest}_{path.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {resolved}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


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
