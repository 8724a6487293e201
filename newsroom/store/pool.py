"""Connections to the state for a long-running process (``newsroom serve``): a pool.

For a PostgreSQL database, psycopg_pool's :class:`~psycopg_pool.ConnectionPool`: a request
borrows an open connection instead of paying for a new one (a TCP connection and the
password exchange, several milliseconds). For an SQLite file, a connection is opened for
each use, as before: it costs a fraction of a millisecond, and a connection that is closed
holds no snapshot that would keep an erased row in the write-ahead log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from newsroom.core.errors import StateError
from newsroom.store.engine import PASSWORD_ENV, PostgresConnection, Target
from newsroom.store.state import State


class StatePool:
    """``with pool.state() as state:`` ... ; :meth:`close` when done."""

    def __init__(self, target: Target, size: int = 10) -> None:
        self.target = target
        self._pool: Any = None
        with State(target):  # created and migrated (a file), or checked (a database)
            pass
        if isinstance(target.location, str):
            from psycopg_pool import ConnectionPool

            password = target.password
            if password is None:
                password = os.environ.get(PASSWORD_ENV)
            kwargs: dict[str, Any] = {"autocommit": True}
            if password:
                kwargs["password"] = password
            self._pool = ConnectionPool(
                target.location, kwargs=kwargs, min_size=1, max_size=size, open=True
            )

    @contextmanager
    def state(self) -> Iterator[State]:
        if self._pool is None:
            with State(self.target) as state:
                yield state
            return
        try:
            with self._pool.connection(timeout=30) as conn:
                yield State(self.target, connection=PostgresConnection(conn, self.target.label))
        except Exception as exc:
            from psycopg_pool import PoolTimeout

            if isinstance(exc, PoolTimeout):
                raise StateError(f"{self.target.label}: no connection free: {exc}") from None
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
