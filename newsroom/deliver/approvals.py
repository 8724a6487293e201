"""Approving an edition before it goes out: ``newsroom approve`` and ``[email]
require_approval``.

An approval is of the edition's email *as rendered*: it records a hash of the files a send
reads (``email.html``, ``email.txt``, ``email.json``). Building or rendering the edition again
so that anything in its email changes (an item, a summary, the notes, the theme) makes the
approval stale: ``newsroom send`` then refuses until the edition is approved again.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsroom.core import exitcodes
from newsroom.core.errors import BuildError, NewsroomError
from newsroom.deliver.messages import RENDERED_FILES as RENDERED
from newsroom.deliver.messages import files_hash

if TYPE_CHECKING:
    from newsroom.config import Config
    from newsroom.store.state import State


class NotApproved(NewsroomError):
    """``[email] require_approval`` is on and the edition, as rendered now, is not approved."""

    exit_code = exitcodes.NOT_APPROVED


@dataclass(frozen=True)
class Approval:
    edition_id: str
    content_hash: str
    approved_by: str
    approved_at: dt.datetime


def rendered_hash(folder: Path, edition_id: str) -> str:
    """The hash of the edition's rendered email in ``folder``."""
    contents = []
    for name in RENDERED:
        try:
            contents.append((folder / name).read_bytes())
        except FileNotFoundError:
            raise BuildError(
                f"edition {edition_id!r} has no rendered email ({folder / name}); run "
                f"`newsroom render {edition_id}` first"
            ) from None
    return files_hash(contents)


def approval(state: State, edition_id: str) -> Approval | None:
    row = state.db.execute(
        "SELECT edition_id, content_hash, approved_by, approved_at FROM approvals "
        "WHERE edition_id = ?",
        (edition_id,),
    ).fetchone()
    if row is None:
        return None
    return Approval(row[0], row[1], row[2], dt.datetime.fromisoformat(row[3]))


def approve(state: State, edition_id: str, content_hash: str, by: str | None = None) -> Approval:
    """Record ``edition_id`` as approved in the rendering whose hash is ``content_hash``."""
    record = Approval(
        edition_id,
        content_hash,
        by if by is not None else _login(),
        dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    with state.transaction() as db:
        db.execute(
            "INSERT INTO approvals (edition_id, content_hash, approved_by, approved_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (edition_id) DO UPDATE SET"
            " content_hash = excluded.content_hash, approved_by = excluded.approved_by,"
            " approved_at = excluded.approved_at",
            (edition_id, content_hash, record.approved_by, record.approved_at.isoformat()),
        )
    return record


def revoke(state: State, edition_id: str) -> bool:
    """Withdraw the approval of ``edition_id``; False when it had none."""
    with state.transaction() as db:
        return db.execute("DELETE FROM approvals WHERE edition_id = ?", (edition_id,)).rowcount > 0


def require_approval(config: Config, edition_id: str, current: str = "") -> Approval:
    """The approval of ``edition_id`` as rendered now (or as hashed in ``current``, the
    files a send has read); :class:`NotApproved` otherwise."""
    from newsroom.config.outputs import edition_dir
    from newsroom.store.state import State

    current = current or rendered_hash(edition_dir(config, edition_id), edition_id)
    with State.of(config) as state:
        found = approval(state, edition_id)
    review = (
        f"review it (newsroom preview, or a test copy: newsroom send {edition_id} --to "
        f"ADDRESS), then run `newsroom approve {edition_id}`"
    )
    if found is None:
        raise NotApproved(
            f"edition {edition_id} is not approved, and [email] require_approval is on: {review}"
        )
    if found.content_hash != current:
        who = f" by {found.approved_by}" if found.approved_by else ""
        raise NotApproved(
            f"edition {edition_id} changed after it was approved{who} at "
            f"{found.approved_at:%Y-%m-%d %H:%M} UTC (it was built or rendered again): {review} "
            "again"
        )
    return found


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return ""
