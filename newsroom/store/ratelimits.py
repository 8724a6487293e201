"""Rate limits kept in the state, so that several subscription services share them.

A storage for the ``limits`` library's moving-window strategy: each event is a row of
``rate_events`` (its key and when), counted over the window. An event is taken in a write
transaction (:meth:`State.transaction`), so two services that count at once take turns and
the limit holds across them, as it does across the threads of one.
"""

from __future__ import annotations

import time

from limits.storage import MovingWindowSupport, Storage

from newsroom.store.pool import StatePool


class StateStorage(Storage, MovingWindowSupport):
    """The state's ``rate_events`` table as a ``limits`` storage (moving windows only)."""

    STORAGE_SCHEME = ["newsroom-state"]

    def __init__(self, pool: StatePool) -> None:
        super().__init__(None)
        self.pool = pool

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ()

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self.pool.state() as state, state.transaction() as db:
            db.execute("DELETE FROM rate_events WHERE key = ? AND at <= ?", (key, now - expiry))
            count = db.execute(
                "SELECT COUNT(*) FROM rate_events WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()[0]
            if count + amount > limit:
                return False
            db.executemany("INSERT INTO rate_events (key, at) VALUES (?, ?)", [(key, now)] * amount)
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with self.pool.state() as state:
            oldest, count = state.db.execute(
                "SELECT MIN(at), COUNT(*) FROM rate_events WHERE key = ? AND at > ?",
                (key, now - expiry),
            ).fetchone()
        return (float(oldest) if oldest is not None else now), int(count)

    # The fixed-window interface, which the moving window does not use.

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("only moving windows are kept in the state")

    def get(self, key: str) -> int:
        return self.get_moving_window(key, 0, 86_400)[1]

    def get_expiry(self, key: str) -> float:
        return time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self.pool.state() as state, state.transaction() as db:
            return int(db.execute("DELETE FROM rate_events").rowcount)

    def clear(self, key: str) -> None:
        with self.pool.state() as state, state.transaction() as db:
            db.execute("DELETE FROM rate_events WHERE key = ?", (key,))

    def __repr__(self) -> str:  # limits logs a storage by its repr
        return f"StateStorage({self.pool.target.label})"


__all__ = ["StateStorage"]
