"""The archive of editions the web edition lists: ``<output>/editions/*/edition.json``.

Listing an archive must not parse every edition: an edition is read once, and what the
lists show of it (id, date, title, when it was generated, a hash of the file) is kept in
the site's state file by the file's size and modification time. A later build parses only
the files that changed, and the full editions only of the pages it renders again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from newsroom import Edition, RenderContext
from newsroom.core.sanitize import clean_text, sanitize_edition


@dataclass
class ArchivedEdition:
    """What the archive lists of an edition; the whole edition is read when it is shown.

    The edition is sanitized only when its content is shown (its page, the front page, the
    feed): :func:`newsroom.core.model.load_edition` split in two.
    """

    id: str
    date: dt.date
    title: str
    """Plain text, cleaned like every title read from disk."""
    generated_at: dt.datetime
    source_key: str
    """A hash of the edition's content: its page is rendered again when it changes."""
    path: Path | None = None
    _edition: Edition | None = field(default=None, repr=False)
    _sanitized: bool = False

    @classmethod
    def of(
        cls, edition: Edition, *, sanitized: bool, source_key: str, path: Path | None = None
    ) -> ArchivedEdition:
        title = edition.title if sanitized else clean_text(edition.title)
        return cls(
            edition.id,
            edition.date,
            title,
            _aware(edition.generated_at),
            source_key,
            path,
            edition,
            sanitized,
        )

    def edition(self) -> Edition:
        """The full edition, sanitized (files on disk are as untrusted as feeds)."""
        if self._edition is None:
            assert self.path is not None
            self._edition = Edition.from_json(self.path.read_bytes())
        if not self._sanitized:
            self._edition = sanitize_edition(self._edition)
            self._sanitized = True
        return self._edition

    def state(self, stat: tuple[int, int]) -> dict[str, Any]:
        """This entry as the state file keeps it."""
        return {
            "stat": list(stat),
            "id": self.id,
            "date": self.date.isoformat(),
            "title": self.title,
            "generated_at": self.generated_at.isoformat(),
            "source_key": self.source_key,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any], path: Path) -> ArchivedEdition:
        return cls(
            str(data["id"]),
            dt.date.fromisoformat(data["date"]),
            str(data["title"]),
            dt.datetime.fromisoformat(data["generated_at"]),
            str(data["source_key"]),
            path,
        )


def _aware(when: dt.datetime) -> dt.datetime:
    # Hand-edited files: keep the sort from failing.
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def load_archive(
    folder: Path,
    current: Edition | None,
    ctx: RenderContext,
    known: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[ArchivedEdition], dict[str, dict[str, Any]]]:
    """Every edition under ``folder/*/edition.json`` plus ``current``, newest first, and
    the state to keep for the next call (``known`` is the last call's).

    A file that cannot be read is skipped with a warning rather than failing the current
    edition; ``current`` (already sanitized) replaces its own, possibly older, file.
    """
    known = known or {}
    found: dict[str, ArchivedEdition] = {}
    if current is not None:
        key = content_key(current.to_json().encode("utf-8"))
        found[current.id] = ArchivedEdition.of(current, sanitized=True, source_key=key)
    state: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*/edition.json")) if folder.is_dir() else []:
        folder_name = path.parent.name
        try:
            st = path.stat()
        except OSError:
            continue
        stat = (st.st_mtime_ns, st.st_size)
        cached = known.get(folder_name)
        entry: ArchivedEdition | None = None
        if cached is not None and tuple(cached.get("stat", ())) == stat:
            try:
                entry = ArchivedEdition.from_state(cached, path)
            except (KeyError, ValueError, TypeError):
                entry = None  # a state file from another version: read the edition again
        if entry is None:
            try:
                data = path.read_bytes()
                edition = Edition.from_json(data)
            except (OSError, ValueError, ValidationError) as exc:
                ctx.log.warning("web: skipping %s: %s", path, exc)
                continue
            entry = ArchivedEdition.of(
                edition, sanitized=False, source_key=content_key(data), path=path
            )
        state[folder_name] = entry.state(stat)
        if entry.id not in found:
            found[entry.id] = entry
    ordered = sorted(found.values(), key=lambda e: (e.date, e.generated_at, e.id), reverse=True)
    return ordered, state
