"""Old import paths of modules that moved into the stage folders, kept working.

``import newsroom.feeds`` (as a plugin written for an earlier layout does) still works: a
finder on ``sys.meta_path`` answers for each old name with the module at its new place
(the same module object, not a copy, so ``isinstance`` checks and monkeypatching behave),
and warns once with a :class:`DeprecationWarning` that names the new path. No file is left
at the old place: the folder shows the current layout only.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

#: Old module name → new module name.
MOVED: dict[str, str] = {}


class _Alias(importlib.abc.Loader):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{self.old} moved to {self.new}; import it from there (the old path will be "
            "removed in a future major version)",
            DeprecationWarning,
            stacklevel=_caller_level(),
        )
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        # The module ran at its new place already. The import system stored it under the
        # old name too; its own __name__ and __spec__ stay the new ones.
        pass


def _caller_level() -> int:
    """The stack level of the ``import`` statement, past the import machinery's frames."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_code.co_filename == __file__
    ):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(fullname, new))


def install() -> None:
    """Answer for the old names (once per process)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
