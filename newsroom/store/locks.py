"""A lock in the state file: one delivery run per newsletter at a time.

``newsroom send`` and ``newsroom run`` take it; a second one is refused with who holds it.
On the machine that holds it, the lock is free as soon as none of its processes lives (a
crash, ``kill -9``): each is recorded with its start time, so a pid reused by another
process after a reboot does not keep it. A holder on another machine sharing the file is
trusted while its heartbeat (written as it sends) is recent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from newsroom.core import exitcodes
from newsroom.core.errors import NewsroomError
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


class Lock:
    """``with Lock(state, "delivery", "newsroom send 2026-02-14"):`` ..."""

    def __init__(self, state: State, name: str, holder: str) -> None:
        self.state = state
        self.name = name
        self.holder = holder
        self.host = socket.gethostname()
        self.pids = [(os.getpid(), process_identity(os.getpid()))]
        self.held = False
        self.acquired_at = ""

    def current(self) -> LockInfo | None:
        row = self.state.db.execute(
            "SELECT name, holder, pids, host, acquired_at, heartbeat FROM locks WHERE name = ?",
            (self.name,),
        ).fetchone()
        if row is None:
            return None
        return LockInfo(row[0], row[1], _pids(row[2]), row[3], row[4], row[5])

    def _is_stale(self, info: LockInfo) -> bool:
        if info.host == self.host:
            # Here the processes themselves say it, however long the holder has been busy
            # (a build can take minutes without a heartbeat).
            return not any(pid_alive(pid, identity) for pid, identity in info.pids)
        return time.time() - info.heartbeat > STALE_AFTER

    def acquire(self) -> None:
        with self.state.transaction() as db:
            info = self.current()
            if info is not None and not self._is_stale(info):
                raise LockHeld(
                    f"{self.state.path} is locked by {info.describe()}; wait for it to finish "
                    "(a lock whose processes are gone is taken over at once)"
                )
            self.acquired_at = dt.datetime.now().astimezone().isoformat(timespec="microseconds")
            db.execute(
                "INSERT OR REPLACE INTO locks (name, holder, pids, host, acquired_at, heartbeat) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self.name,
                    self.holder,
                    json.dumps(self.pids),
                    self.host,
                    self.acquired_at,
                    time.time(),
                ),
            )
        self.held = True

    def add_pids(self, pids: list[int]) -> None:
        """Record worker processes: the lock stays held while any of them lives."""
        self.pids += [(pid, process_identity(pid)) for pid in pids]
        self._update(pids=json.dumps(self.pids))

    def heartbeat(self) -> None:
        self._update()

    def _update(self, pids: str | None = None) -> None:
        with self.state.transaction() as db:
            db.execute(
                "UPDATE locks SET heartbeat = ?, pids = COALESCE(?, pids) "
                "WHERE name = ? AND host = ? AND acquired_at = ?",
                (time.time(), pids, self.name, self.host, self.acquired_at),
            )

    def release(self) -> None:
        if not self.held:
            return
        with self.state.transaction() as db:
            db.execute(
                "DELETE FROM locks WHERE name = ? AND host = ? AND acquired_at = ?",
                (self.name, self.host, self.acquired_at),
            )
        self.held = False

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
