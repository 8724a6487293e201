"""Registries of named components, filled through the ``register_*`` hooks."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from newsroom.core.components import Component
from newsroom.core.errors import PluginError

C = TypeVar("C", bound=type[Component])


@dataclass(frozen=True)
class Registration(Generic[C]):
    """A component class and the plugin distribution that registered it."""

    name: str
    cls: C
    plugin: str
    """The plugin's name as the manager knows it (its entry-point name)."""
    package: str
    """The distribution it came from, e.g. ``newsroom`` or ``newsroom-jsonfeed``."""


class Register(Generic[C]):
    """The ``register`` callback handed to a ``register_*`` hook.

    ``register(MySource)`` adds ``MySource`` under ``MySource.name``. A class that is not a
    complete component of the right kind, or a name another plugin already owns, is refused
    with a message naming the plugin (and, for a name, both packages). The plugin manager
    records a refusal and lets the hook go on with its other registrations; without a
    ``refused`` callback a refusal raises :class:`~newsroom.PluginError`.
    """

    def __init__(
        self,
        registry: Registry[C],
        kind: type[Component],
        plugin: str,
        package: str,
        refused: Callable[[str, str], None] | None = None,
    ):
        self._registry = registry
        self._kind = kind
        self._plugin = plugin
        self._package = package
        self._refused = refused

    def _refuse(self, message: str, component: str = "") -> None:
        if self._refused is None:
            raise PluginError(f"plugin {self._plugin!r} ({self._package}): {message}")
        self._refused(message, component)

    def __call__(self, cls: C) -> C:
        kind = self._kind.__name__
        if not (isinstance(cls, type) and issubclass(cls, self._kind)):
            self._refuse(f"registered {cls!r}, which is not a {kind} subclass")
            return cls
        name = getattr(cls, "name", "")
        if not name or not isinstance(name, str):
            self._refuse(f"registered {cls.__name__} without a `name`")
            return cls
        options = getattr(cls, "Options", None)
        if not (isinstance(options, type) and issubclass(options, BaseModel)):
            self._refuse(
                f"{self._registry.kind} {name!r}: {cls.__name__}.Options must be a subclass "
                "of newsroom.Options",
                name,
            )
            return cls
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            self._refuse(
                f"{self._registry.kind} {name!r}: {cls.__name__} does not implement {missing}",
                name,
            )
            return cls
        existing = self._registry.get(name)
        if existing is not None:
            self._refuse(
                f"{self._registry.kind} {name!r} refused: the name belongs to plugin "
                f"{existing.plugin!r} ({existing.package})",
                name,
            )
            return cls
        self._registry.add(Registration(name, cls, self._plugin, self._package))
        return cls


class Registry(Generic[C]):
    """Named component classes of one kind (sources, filters, sections, renderers)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Registration[C]] = {}

    def add(self, entry: Registration[C]) -> None:
        existing = self._entries.get(entry.name)
        if existing is not None:
            raise PluginError(
                f"{self.kind} {entry.name!r} from plugin {entry.plugin!r} ({entry.package}) "
                f"is already registered by plugin {existing.plugin!r} ({existing.package})"
            )
        self._entries[entry.name] = entry

    def get(self, name: str) -> Registration[C] | None:
        return self._entries.get(name)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[Registration[C]]:
        return iter(sorted(self._entries.values(), key=lambda r: r.name))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
