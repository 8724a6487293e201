"""Registries of named components, filled through the ``register_*`` hooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from newsroom.components import Component
from newsroom.errors import PluginError

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

    ``register(MySource)`` adds ``MySource`` under ``MySource.name``. A second registration of
    a name is refused with a message naming both packages.
    """

    def __init__(self, registry: Registry[C], kind: type[Component], plugin: str, package: str):
        self._registry = registry
        self._kind = kind
        self._plugin = plugin
        self._package = package

    def __call__(self, cls: C) -> C:
        if not (isinstance(cls, type) and issubclass(cls, self._kind)):
            raise PluginError(
                f"plugin {self._plugin!r} ({self._package}) registered {cls!r}, "
                f"which is not a {self._kind.__name__} subclass"
            )
        name = getattr(cls, "name", "")
        if not name or not isinstance(name, str):
            raise PluginError(
                f"plugin {self._plugin!r} ({self._package}) registered {cls.__name__} "
                "without a `name`"
            )
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
