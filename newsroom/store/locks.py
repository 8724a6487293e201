"""A lock in the state: one delivery run per newsletter at a time, as a lease.

``newsroom send`` and ``newsroom run`` take it; a second one is refused with who holds it,
unless it is a send of the same edition that asks to join (``newsroom send --join``, a
sender on another machine): it then holds a lease of its own beside the lock
(``delivery/<id>``), and the senders divide the list between them (each queued message they
take names the lease it was taken under: :mod:`newsroom.deliver.sending.delivery_log`).

A lease records its holder's host and processes. On the machine that holds it, it is free as
soon as none of its processes lives (a crash, ``kill -9``): each is recorded with its start
time, so a pid reused by another process after a reboot does not keep it. A holder on
another machine sharing the state is trusted while its heartbeat (renewed as it works, and
by a thread of its own while it holds the lock) is more recent than the lease's length; a
live holder renews it long before, so it is never taken from one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from newsroom.core import exitcodes
from newsroom.core.errors import NewsroomError
from newsroom.store.engine import Connection
from newsroom.store.state import State

#: A lock held from another machine is free when its heartbeat is older than this.
STALE_AFTER = 120.0


class LockHeld(NewsroomError):
    """Another run holds the lock."""

    exit_code = exitcodes.LOCKED


@dataclass(frozen=True)
class LockInfo:
    name: str
    holder: str
    pids: list[tuple[int, str]]
    """(pid, the process's start identity: "" where the system does not tell)."""
    host: str
    acquired_at: str
    heartbeat: float

    def describe(self) -> str:
        return (
            f"{self.holder} (pid {', '.join(str(p) for p, _ in self.pids)} on {self.host}, "
            f"since {self.acquired_at[:19]})"
        )


def process_identity(pid: int) -> str:
    """What tells process ``pid`` from a later one with the same number: the boot and its
    start time (Linux); "" elsewhere."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return f"{boot}:{fields[19]}"  # field 22 of stat: the start time in clock ticks
    except (OSError, IndexError):
        return ""


def pid_alive(pid: int, identity: str = "") -> bool:
    """True when process ``pid`` exists, is not a zombie, and (when ``identity`` is given)
    is the same process as when it was recorded."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = Path(f"/proc/{pid}/stat")
    try:
        # The state is the field after the parenthesised command name: Z is a zombie.
        if stat.read_text().rpartition(")")[2].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        return True
    return not identity or process_identity(pid) in ("", identity)


def _pids(raw: str) -> list[tuple[int, str]]:
    return [(p, "") if isinstance(p, int) else (int(p[0]), str(p[1])) for p in json.loads(raw)]


_COLUMNS = "name, holder, pids, host, acquired_at, heartbeat"


def _info(row: tuple[str, str, str, str, str, float]) -> LockInfo:
    return LockInfo(row[0], row[1], _pids(row[2]), row[3], row[4], row[5])


def is_stale(info: LockInfo, lease: float = STALE_AFTER, host: str | None = None) -> bool:
    """Whether the holder of ``info`` is gone: on this machine, none of its processes
    lives; on another, its heartbeat is older than ``lease`` seconds."""
    if info.host == (host or socket.gethostname()):
        # Here the processes themselves say it, however long the holder has been busy
        # (a build can take minutes without a heartbeat).
        return not any(pid_alive(pid, identity) for pid, identity in info.pids)
    return time.time() - info.heartbeat > lease


def reap(
    db: Connection, name: str, lease: float = STALE_AFTER, host: str | None = None
) -> list[str]:
    """Delete the lock ``name`` and the leases of its joined holders (``name/...``) whose
    holders are gone (inside the caller's write transaction); the names deleted. What a
    dead holder claimed is then free for the others."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM locks WHERE name = ? OR name LIKE ?", (name, f"{name}/%")
    ).fetchall()
    gone = [info.name for info in map(_info, rows) if is_stale(info, lease, host)]
    for dead in gone:
        db.execute("DELETE FROM locks WHERE name = ?", (dead,))
    return gone


class Lock:
    """``with Lock(state, "delivery", "newsroom send 2026-02-14"):`` ...

    ``join``: when a live holder with the same ``holder`` text has the lock (a send of the
    same edition on another machine), hold a lease beside it instead of failing.
    ``lease``: seconds a holder on another machine is trusted without a heartbeat."""

    def __init__(
        self,
        state: State,
        name: str,
        holder: str,
        *,
        join: bool = False,
        lease: float = STALE_AFTER,
    ) -> None:
        self.state = state
        self.name = name
        self.holder = holder
        self.join = join
        self.lease = lease
        self.host = socket.gethostname()
        self.pids = [(os.getpid(), process_identity(os.getpid()))]
        self.held = False
        self.acquired_at = ""
        self.row = name
        """The row this holder holds: the lock itself, or its lease beside it (joined)."""
        self.claim_name = f"{name}/{uuid.uuid4().hex[:16]}"
        """A name unique to this run, under which the rows it takes are claimed."""
        self._renewing: threading.Event | None = None

    def current(self) -> LockInfo | None:
        row = self.state.db.execute(
            f"SELECT {_COLUMNS} FROM locks WHERE name = ?", (self.name,)
        ).fetchone()
        return None if row is None else _info(row)

    def _is_stale(self, info: LockInfo) -> bool:
        return is_stale(info, self.lease, self.host)

    def holders(self) -> list[LockInfo]:
        """The live holders of the lock and of leases beside it."""
        rows = self.state.db.execute(
            f"SELECT {_COLUMNS} FROM locks WHERE name = ? OR name LIKE ? ORDER BY acquired_at",
            (self.name, f"{self.name}/%"),
        ).fetchall()
        return [info for info in map(_info, rows) if not self._is_stale(info)]

    def acquire(self) -> None:
        with self.state.transaction() as db:
            reap(db, self.name, self.lease, self.host)
            live = self.holders()
            joinable = self.join and all(info.holder == self.holder for info in live)
            if live and not joinable:
                info = live[0]
                raise LockHeld(
                    f"{self.state.label} is locked by {info.describe()}; wait for it to finish "
                    "(a lock whose processes are gone is taken over at once)"
                )
            self.row = self.name if not live else self.claim_name
            self.acquired_at = dt.datetime.now().astimezone().isoformat(timespec="microseconds")
            self._insert(db, self.row)
            if self.row != self.claim_name:
                # The claims of this run are under a name of their own, so that one run's
                # claims are never taken for the next one's.
                self._insert(db, self.claim_name)
        self.held = True

    def _insert(self, db: Connection, name: str) -> None:
        db.execute(
            f"INSERT INTO locks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO "
            "UPDATE SET holder = excluded.holder, pids = excluded.pids, host = excluded.host, "
            "acquired_at = excluded.acquired_at, heartbeat = excluded.heartbeat",
            (name, self.holder, json.dumps(self.pids), self.host, self.acquired_at, time.time()),
        )

    def renew_in_background(self) -> None:
        """Renew the heartbeat from a thread of its own (its own connection) every quarter
        of the lease, so that a holder busy elsewhere (a long build) keeps its lease on
        every machine."""
        if self._renewing is not None or not self.held:
            return
        stop = self._renewing = threading.Event()

        def renew() -> None:
            with self.state.reopen() as state:
                while not stop.wait(self.lease / 4):
                    self._update(state=state)

        threading.Thread(target=renew, name="newsroom-lease", daemon=True).start()

    def add_pids(self, pids: list[int]) -> None:
        """Record worker processes: the lock stays held while any of them lives."""
        self.pids += [(pid, process_identity(pid)) for pid in pids]
        self._update(pids=json.dumps(self.pids))

    def heartbeat(self) -> None:
        self._update()

    def _update(self, pids: str | None = None, state: State | None = None) -> None:
        with (state or self.state).transaction() as db:
            for name in {self.row, self.claim_name}:
                db.execute(
                    "UPDATE locks SET heartbeat = ?, pids = COALESCE(?, pids) "
                    "WHERE name = ? AND host = ? AND acquired_at = ?",
                    (time.time(), pids, name, self.host, self.acquired_at),
                )

    def release(self) -> None:
        if not self.held:
            return
        if self._renewing is not None:
            self._renewing.set()
            self._renewing = None
        with self.state.transaction() as db:
            for name in {self.row, self.claim_name}:
                db.execute(
                    "DELETE FROM locks WHERE name = ? AND host = ? AND acquired_at = ?",
                    (name, self.host, self.acquired_at),
                )
        self.held = False

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
