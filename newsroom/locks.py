"""A lock in the state file: one delivery run per newsletter at a time.

``newsroom send`` and ``newsroom run`` take it; a second one is refused with who holds it.
On the same machine, a lock is free once none of its processes is alive (a crash,
``kill -9``); for a holder on another machine sharing the file, once its heartbeat, kept by
a thread for as long as the lock is held (a long build included), stopped long ago.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from newsroom import exitcodes
from newsroom.errors import NewsroomError
from newsroom.state import State

#: A lock held from another machine is free when its heartbeat is older than this.
STALE_AFTER = 120.0
#: Seconds between heartbeats.
HEARTBEAT_EVERY = 10.0


class LockHeld(NewsroomError):
    """Another run holds the lock."""

    exit_code = exitcodes.LOCKED


@dataclass(frozen=True)
class LockInfo:
    name: str
    holder: str
    pids: list[int]
    host: str
    acquired_at: str
    heartbeat: float

    def describe(self) -> str:
        return (
            f"{self.holder} (pid {', '.join(map(str, self.pids))} on {self.host}, "
            f"since {self.acquired_at[:19]})"
        )


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        # The state is the field after the parenthesised command name: Z is a zombie.
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Lock:
    """``with Lock(state, "delivery", "newsroom send 2026-02-14"):`` ..."""

    def __init__(self, state: State, name: str, holder: str) -> None:
        self.state = state
        self.name = name
        self.holder = holder
        self.host = socket.gethostname()
        self.pids = [os.getpid()]
        self.held = False
        self.acquired_at = ""
        self._quiet = threading.Lock()

    def quiet(self) -> threading.Lock:
        """Held while the heartbeat thread touches SQLite: hold it to fork safely (a child
        must not inherit a lock some other thread held at that instant)."""
        return self._quiet

    def current(self) -> LockInfo | None:
        row = self.state.db.execute(
            "SELECT name, holder, pids, host, acquired_at, heartbeat FROM locks WHERE name = ?",
            (self.name,),
        ).fetchone()
        if row is None:
            return None
        return LockInfo(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5])

    def _is_stale(self, info: LockInfo) -> bool:
        silent = time.time() - info.heartbeat
        if info.host == self.host:
            # Here the processes themselves say it. The heartbeat thread beats even while
            # the holder is busy for minutes; a heartbeat silent for very long with a "live"
            # pid is a pid reused after a reboot.
            return not any(pid_alive(p) for p in info.pids) or silent > 10 * STALE_AFTER
        return silent > STALE_AFTER

    def acquire(self) -> None:
        with self.state.transaction() as db:
            info = self.current()
            if info is not None and not self._is_stale(info):
                raise LockHeld(
                    f"{self.state.path} is locked by {info.describe()}; wait for it to finish "
                    "(or, if that process is gone for good, run again after "
                    f"{int(STALE_AFTER)} s)"
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
        self._start_heartbeat()

    def _start_heartbeat(self) -> None:
        """Refresh the heartbeat every few seconds from a thread with its own connection,
        whatever the holder is doing (building for minutes, waiting on a server)."""
        self._stop_beat = threading.Event()

        def beat() -> None:
            db = sqlite3.connect(self.state.path, timeout=30, isolation_level=None)
            try:
                while not self._stop_beat.wait(HEARTBEAT_EVERY):
                    try:
                        with self.quiet():
                            db.execute(
                                "UPDATE locks SET heartbeat = ? "
                                "WHERE name = ? AND host = ? AND acquired_at = ?",
                                (time.time(), self.name, self.host, self.acquired_at),
                            )
                    except sqlite3.Error:
                        pass  # the next beat tries again; the holder's own writes go on
            finally:
                db.close()

        self._beat = threading.Thread(target=beat, name="newsroom-lock-heartbeat", daemon=True)
        self._beat.start()

    def add_pids(self, pids: list[int]) -> None:
        """Record worker processes: the lock stays held while any of them lives."""
        self.pids += pids
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
        self._stop_beat.set()
        self._beat.join(timeout=5)
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
