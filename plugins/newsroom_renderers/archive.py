"""The archive of editions the web edition lists: ``<output>/editions/*/edition.json``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from newsroom import Edition, RenderContext
from newsroom.sanitize import clean_text, sanitize_edition


@dataclass
class ArchivedEdition:
    """What the archive list shows of an edition: its id, date and title.

    The whole edition is sanitized only when its content is shown (the latest edition, the
    feed's entries): this is :func:`newsroom.model.load_edition` split in two, so a long
    archive does not sanitize hundreds of editions to list their titles.
    """

    id: str
    date: dt.date
    title: str
    """Plain text, cleaned like every title read from disk."""
    generated_at: dt.datetime
    _edition: Edition
    _sanitized: bool = False

    @classmethod
    def of(cls, edition: Edition, *, sanitized: bool) -> ArchivedEdition:
        generated = edition.generated_at
        if generated.tzinfo is None:  # hand-edited files: keep the sort from failing
            generated = generated.replace(tzinfo=dt.UTC)
        title = edition.title if sanitized else clean_text(edition.title)
        return cls(edition.id, edition.date, title, generated, edition, sanitized)

    def edition(self) -> Edition:
        """The full edition, sanitized (files on disk are as untrusted as feeds)."""
        if not self._sanitized:
            self._edition = sanitize_edition(self._edition)
            self._sanitized = True
        return self._edition


def load_archive(folder: Path, current: Edition, ctx: RenderContext) -> list[ArchivedEdition]:
    """Every edition under ``folder/*/edition.json`` plus ``current``, newest first.

    A file that cannot be read is skipped with a warning rather than failing the current
    edition; ``current`` (already sanitized) replaces its own, possibly older, file.
    """
    found = {current.id: ArchivedEdition.of(current, sanitized=True)}
    for path in sorted(folder.glob("*/edition.json")) if folder.is_dir() else []:
        try:
            edition = Edition.from_json(path.read_bytes())
        except (OSError, ValueError, ValidationError) as exc:
            ctx.log.warning("web: skipping %s: %s", path, exc)
            continue
        if edition.id not in found:
            found[edition.id] = ArchivedEdition.of(edition, sanitized=False)
    return sorted(found.values(), key=lambda e: (e.date, e.generated_at, e.id), reverse=True)
