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
MOVED: dict[str, str] = {
    "newsroom.errors": "newsroom.core.errors",
    "newsroom.exitcodes": "newsroom.core.exitcodes",
    "newsroom.urls": "newsroom.core.urls",
    "newsroom.model": "newsroom.core.model",
    "newsroom.sanitize": "newsroom.core.sanitize",
    "newsroom.components": "newsroom.core.components",
    "newsroom.transport": "newsroom.core.transport",
    "newsroom.hookspecs": "newsroom.core.hookspecs",
    "newsroom.registry": "newsroom.core.registry",
    "newsroom.manager": "newsroom.core.plugins",
    "newsroom.mailconfig": "newsroom.config.mail",
    "newsroom.fielddocs": "newsroom.config.fielddocs",
    "newsroom.schema": "newsroom.config.schema",
    "newsroom.reference": "newsroom.config.reference",
    "newsroom.app": "newsroom.config.newsletter",
    "newsroom.state": "newsroom.store.state",
    "newsroom.locks": "newsroom.store.locks",
    "newsroom.pipeline": "newsroom.curate.pipeline",
    "newsroom.http": "newsroom.collect.http",
    "newsroom.cache": "newsroom.collect.cache",
    "newsroom.workers": "newsroom.collect.workers",
    "newsroom.source_threads": "newsroom.collect.source_threads",
    "newsroom.feeds": "newsroom.collect.feeds",
    "newsroom.editing": "newsroom.curate.editing",
    "newsroom.notes": "newsroom.curate.notes",
    "newsroom.themes": "newsroom.render.themes",
    "newsroom.theme_environment": "newsroom.render.environment",
    "newsroom.jinja_cache": "newsroom.render.jinja_cache",
    "newsroom.rendering": "newsroom.render.rendering",
    "newsroom.theme_scaffold": "newsroom.render.new_theme",
    "newsroom.preview": "newsroom.render.preview",
    "newsroom.publishing": "newsroom.render.publishing",
    "newsroom.safe_folder": "newsroom.render.safe_folder",
    "newsroom.messages": "newsroom.deliver.messages",
    "newsroom.sending": "newsroom.deliver.sending",
    "newsroom.delivery": "newsroom.deliver.delivery",
    "newsroom.subscribers": "newsroom.deliver.subscribers",
    "newsroom.tokens": "newsroom.deliver.tokens",
    "newsroom.approvals": "newsroom.deliver.approvals",
    "newsroom.signups": "newsroom.service.signups",
    "newsroom.cli_editorial": "newsroom.cli.editorial",
    "newsroom.cli_mail": "newsroom.cli.send",
    "newsroom.cli_plugins": "newsroom.cli.setup",
    "newsroom.cli_themes": "newsroom.cli.themes",
    "newsroom.report": "newsroom.cli.build_report",
    "newsroom.smtpsink": "newsroom.dev.smtpsink",
    "newsroom.modelserver": "newsroom.dev.modelserver",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{self.old} moved to {self.new}; import it from there (the old path will be "
            "removed in a future major version)",
            DeprecationWarning,
            # 2: the import statement. warnings skips the import system's own frames.
            stacklevel=2,
        )
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        # The module ran at its new place already. The import system stored it under the
        # old name too; its own __name__ and __spec__ stay the new ones.
        pass


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
