"""A theme's own files, read without ever leaving its folder.

A theme may link to its own files (a shared partial, say), never to another file of the
machine: every file a render, a preview or a publish reads from a theme goes through
:func:`inside_theme`. Apart from :mod:`newsroom.render.themes` so that the template loader
(:mod:`newsroom.render.environment`) can use it without importing the theme registry.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from newsroom.core.errors import ConfigError

#: Prefix that names the parent of the theme a template belongs to (``parent:base.html``).
PARENT_PREFIX = "parent"


def inside_theme(root: Path, path: Path) -> Path:
    """``path``, a file of the theme folder ``root``, with its links followed.

    A link that leads outside ``root`` is refused (ConfigError naming it): a theme may link
    only to its own files, so rendering or publishing a theme never reads another file of
    the machine."""
    real = path.resolve()
    top = root.resolve()
    if not real.is_relative_to(top):
        raise ConfigError(
            f"{path}: a symbolic link to {real}, outside the theme's folder {top}; a theme's "
            "files may link only to files of the same theme: copy the file into the theme"
        )
    return real


def theme_files(root: Path, folder: Path) -> Iterator[tuple[str, Path]]:
    """Every file under ``folder`` of the theme folder ``root``: (its POSIX path relative to
    ``folder``, the file it is once links are followed), sorted.

    Links (to files or to folders) are followed when they stay inside the theme and refused
    when they leave it (:func:`inside_theme`); a folder linking to one of its own parents is
    not walked again. Anything but files and folders (a fifo, a dangling link) is skipped."""

    def walk(path: Path, rel: str, ancestors: tuple[Path, ...]) -> Iterator[tuple[str, Path]]:
        real = inside_theme(root, path)
        if real in ancestors:
            return
        with os.scandir(path) as found:
            entries = sorted(found, key=lambda e: e.name)
        for entry in entries:
            child = path / entry.name
            if entry.is_symlink():
                inside_theme(root, child)
            if child.is_dir():
                yield from walk(child, f"{rel}{entry.name}/", (*ancestors, real))
            elif child.is_file():
                yield f"{rel}{entry.name}", inside_theme(root, child)

    if folder.is_dir():
        yield from walk(folder, "", ())
