"""Reading and writing inside a folder without following symbolic links.

Every path under the folder is opened one component at a time from the descriptor of the
folder above it, with ``O_NOFOLLOW``: a link planted anywhere under the folder (in place of
a sub-folder, a file, or a temporary name) can redirect neither a write nor a removal, even
if it appears while the work runs. A new file is written to a fresh temporary name created
exclusively (``O_CREAT | O_EXCL``) and renamed onto its final name, which replaces a link
there instead of writing through it.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

Kind = Literal["missing", "file", "link", "other"]


class UnsafePath(Exception):
    """A path under the folder that is not gone through: a symbolic link, or a file where a
    folder should be. ``path`` is the offending path, ``reason`` says what it is."""

    def __init__(self, path: Path, reason: str, *, link: bool = False) -> None:
        self.path = path
        self.reason = reason
        self.link = link
        """Whether the path is a symbolic link."""
        super().__init__(f"{path}: {reason}")


def parts_of(rel: str) -> list[str]:
    """The components of the relative POSIX path ``rel``; ValueError for anything that could
    name a place outside the folder (absolute, ``..``, ``.``, empty parts, NUL)."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\0" in rel:
        raise ValueError(f"not a relative path: {rel!r}")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a plain relative path: {rel!r}")
    return parts


class SafeFolder:
    """A folder opened once (the path given may itself be a link: it is the caller's choice);
    everything below it is reached without following links. Use as a context manager."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))

    def __enter__(self) -> SafeFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # -- walking ----------------------------------------------------------------------------

    @contextmanager
    def _folder(self, parts: list[str], *, create: bool) -> Iterator[int | None]:
        """The descriptor of the folder ``parts`` (None when missing and not ``create``)."""
        fd = os.dup(self._fd)
        try:
            for i, name in enumerate(parts):
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        yield None
                        return
                    try:
                        os.mkdir(name, dir_fd=fd)
                    except FileExistsError:
                        pass  # made meanwhile: opened (and checked) below
                    child = self._open_dir(fd, parts[: i + 1])
                except OSError as exc:
                    raise self._refusal(fd, parts[: i + 1], exc) from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _open_dir(self, parent: int, parts: list[str]) -> int:
        try:
            return os.open(parts[-1], _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            raise self._refusal(parent, parts, exc) from None

    def _refusal(self, parent: int, parts: list[str], exc: OSError) -> OSError | UnsafePath:
        path = self.root.joinpath(*parts)
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            return exc
        try:
            info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except OSError:
            return exc
        if stat.S_ISLNK(info.st_mode):
            return UnsafePath(path, "a symbolic link, where a folder is expected", link=True)
        return UnsafePath(path, "not a folder, where a folder is expected")

    def kind(self, rel: str) -> Kind:
        """What is at ``rel``, without following a link; UnsafePath when a folder on the way
        is a link or a file."""
        parts = parts_of(rel)
        with self._folder(parts[:-1], create=False) as fd:
            if fd is None:
                return "missing"
            try:
                info = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):
                return "missing"
        if stat.S_ISLNK(info.st_mode):
            return "link"
        return "file" if stat.S_ISREG(info.st_mode) else "other"

    # -- reading and writing ----------------------------------------------------------------

    def read(self, rel: str) -> bytes | None:
        """The content of the regular file at ``rel``; None when there is none (or a link)."""
        with self._open_file(rel) as fh:
            return None if fh is None else fh.read()

    def same(self, rel: str, source: Path) -> bool:
        """Whether ``rel`` is a regular file with the content of the file ``source``."""
        with self._open_file(rel) as fh:
            if fh is None:
                return False
            try:
                with open_regular(source) as src:
                    if os.fstat(src.fileno()).st_size != os.fstat(fh.fileno()).st_size:
                        return False
                    return src.read() == fh.read()
            except OSError:
                return False

    @contextmanager
    def _open_file(self, rel: str) -> Iterator[BinaryIO | None]:
        parts = parts_of(rel)
        with self._folder(parts[:-1], create=False) as fd:
            if fd is None:
                file = -1
            else:
                try:
                    file = os.open(parts[-1], _READ_FLAGS, dir_fd=fd)
                except OSError:
                    file = -1
        if file < 0:
            yield None
            return
        with os.fdopen(file, "rb") as fh:
            # a fifo or a device is never read (it could block, or never end)
            yield fh if stat.S_ISREG(os.fstat(file).st_mode) else None

    def write(self, rel: str, data: bytes | Path) -> None:
        """Make ``rel`` a regular file holding ``data`` (bytes, or the content of a file),
        creating the folders on the way."""
        parts = parts_of(rel)
        with self._folder(parts[:-1], create=True) as fd:
            assert fd is not None
            tmp, out = self._new_file(fd, parts[-1])
            try:
                with os.fdopen(out, "wb") as fh:
                    if isinstance(data, Path):
                        with open_regular(data) as source:
                            shutil.copyfileobj(source, fh)
                    else:
                        fh.write(data)
                # A rename replaces whatever is at the name, a link included, never its target.
                os.replace(tmp, parts[-1], src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                try:
                    os.unlink(tmp, dir_fd=fd)
                except OSError:
                    pass
                raise

    @staticmethod
    def _new_file(fd: int, name: str) -> tuple[str, int]:
        """A temporary name next to ``name``, created exclusively, and its descriptor."""
        for _ in range(100):
            tmp = f".{name[:200]}.{secrets.token_hex(4)}.publishing"
            try:
                return tmp, os.open(tmp, _NEW_FLAGS, 0o666, dir_fd=fd)
            except FileExistsError:
                continue  # taken (or planted): another name
        raise FileExistsError(errno.EEXIST, "no free temporary name", name)

    def remove(self, rel: str) -> bool:
        """Remove the regular file at ``rel``, then the folders it leaves empty; whether there
        was one. A link there is left alone."""
        parts = parts_of(rel)
        with self._folder(parts[:-1], create=False) as fd:
            if fd is None:
                return False
            try:
                info = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):
                return False
            if not stat.S_ISREG(info.st_mode):
                return False
            os.unlink(parts[-1], dir_fd=fd)
        for depth in range(len(parts) - 1, 0, -1):
            with self._folder(parts[: depth - 1], create=False) as fd:
                if fd is None:
                    return True
                try:
                    os.rmdir(parts[depth - 1], dir_fd=fd)
                except OSError:
                    return True  # something else lives there
        return True


@contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """``path`` opened for reading when it is a regular file that is not a link."""
    fd = os.open(path, _READ_FLAGS)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePath(path, "not a regular file")
        yield fh
