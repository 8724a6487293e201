"""A process-wide cache of compiled templates, so each render does not recompile the theme.

``newsroom.rendering.render`` builds a fresh Jinja environment for every edition (plugins may
configure it differently each time), and compiling the default theme's templates costs far
more than rendering them. Jinja's bytecode-cache hook lets an environment reuse the code
compiled by an earlier one. Entries are keyed by everything that changes the generated code
(autoescape, delimiters, whitespace options, extensions) plus the template's name, file and
source checksum, so an edited template or a differently configured environment compiles anew.
"""

from __future__ import annotations

import threading
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
            env.autoescape, env.finalize, env.block_start_string, env.block_end_string,
            env.variable_start_string, env.variable_end_string, env.comment_start_string,
            env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
            env.keep_trailing_newline, env.optimized, env.is_async,
            sorted(env.extensions),
        )
    )


class CompiledTemplates(jinja2.BytecodeCache):
    """Keeps compiled code objects in memory (no marshalling: they never leave the process)."""

    def __init__(self) -> None:
        self._codes: dict[str, CodeType] = {}
        self._lock = threading.Lock()

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        key = self.get_cache_key(f"{fingerprint(environment)}\0{name}", filename)
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        bucket.code = self._codes.get(key + bucket.checksum)
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        with self._lock:
            if len(self._codes) >= MAX_ENTRIES:
                self._codes.clear()  # themes being edited in a long-lived process
            self._codes[bucket.key + bucket.checksum] = bucket.code

    def load_bytecode(self, bucket: Bucket) -> None:  # unused: get_bucket reads the dict
        pass

    def dump_bytecode(self, bucket: Bucket) -> None:  # unused: set_bucket writes the dict
        pass

    def clear(self) -> None:
        with self._lock:
            self._codes.clear()


SHARED = CompiledTemplates()


def use_shared_cache(env: jinja2.Environment) -> None:
    """Let ``env`` reuse templates compiled earlier in this process (unless it has a cache)."""
    if env.bytecode_cache is None:
        env.bytecode_cache = SHARED
