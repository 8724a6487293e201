"""Compiled templates kept in memory and on disk, so a render does not recompile the theme.

Compiling the default theme's templates costs several times more than rendering them, and
``newsroom render`` is a fresh process each time. Entries are keyed by everything that changes
the generated code (autoescape, delimiters, whitespace options, extensions) plus the template's
name, file and source checksum, so an edited template or a differently configured environment
compiles anew.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2.bccache import Bucket

MAX_ENTRIES = 1024


def _name(value: Any) -> str:
    """A stable description of a setting that may be a function (autoescape, finalize)."""
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def fingerprint(env: jinja2.Environment) -> str:
    """The environment settings the compiler's output depends on."""
    return "|".join(
        _name(v)
        for v in (
            env.autoescape,
            env.finalize,
            env.block_start_string,
            env.block_end_string,
            env.variable_start_string,
            env.variable_end_string,
            env.comment_start_string,
            env.comment_end_string,
            env.line_statement_prefix,
            env.line_comment_prefix,
            env.trim_blocks,
            env.lstrip_blocks,
            env.newline_sequence,
            env.keep_trailing_newline,
            env.optimized,
            env.is_async,
            sorted(env.extensions),
        )
    )


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled code objects in memory, backed by marshalled files in ``directory``."""

    def __init__(self, directory: Path | None = None) -> None:
        self._disk = directory is not None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        super().__init__(str(directory) if directory is not None else None)
        self._codes: dict[str, CodeType] = {}
        self._lock = threading.Lock()

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        key = self.get_cache_key(f"{fingerprint(environment)}\0{name}", filename)
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        bucket.code = self._codes.get(key + bucket.checksum)
        if bucket.code is None and self._disk:
            self.load_bytecode(bucket)
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        with self._lock:
            if len(self._codes) >= MAX_ENTRIES:
                self._codes.clear()  # themes being edited in a long-lived process
            self._codes[bucket.key + bucket.checksum] = bucket.code
        if self._disk:
            try:
                self.dump_bytecode(bucket)
            except OSError:
                pass  # a read-only cache folder only costs speed

    def clear(self) -> None:
        with self._lock:
            self._codes.clear()


#: Shared by every environment of the process; the disk layer is added per newsletter.
MEMORY = CompiledTemplates()
_on_disk: dict[Path, CompiledTemplates] = {}


def compiled_templates(directory: Path | None) -> CompiledTemplates:
    """The cache for ``directory`` (one per folder and process), or the memory-only one."""
    if directory is None:
        return MEMORY
    if directory not in _on_disk:
        _on_disk[directory] = CompiledTemplates(directory)
    return _on_disk[directory]
