"""The rate limit of a send: at most ``rate`` messages a second and ``hourly_limit`` an hour,
shared by all the connections of one process (each worker process gets its share).

Apart because it knows nothing of messages or connections: it hands out slots in time, and
a wait for one ends as soon as the send is stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class RateLimiter:
    """At most ``rate`` messages a second and ``hourly`` an hour (0: no limit)."""

    def __init__(self, rate: float, hourly: int = 0, history: list[float] | None = None) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.hourly = hourly
        self.active = bool(self.interval or hourly)
        self.window: deque[float] = deque(history or [], maxlen=hourly or None)
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    def would_wait(self) -> bool:
        """True when :meth:`acquire` would sleep now."""
        now = time.time()
        if self.interval and self.next_at > now:
            return True
        return bool(self.hourly and len(self.window) >= self.hourly and self.window[0] + 3600 > now)

    async def acquire(self, stopped: asyncio.Event | None = None) -> bool:
        """Wait for a slot; False when ``stopped`` was set first (no slot is used)."""
        if not self.interval and not self.hourly:
            return True
        async with self.lock:
            now = time.time()
            wait = 0.0
            if self.interval and self.next_at > now:
                wait = self.next_at - now
            if self.hourly and len(self.window) >= self.hourly:
                wait = max(wait, self.window[0] + 3600 - now)
            if wait > 0 and not await _sleep(wait, stopped):
                return False
            now = time.time()
            if self.interval:
                self.next_at = max(self.next_at, now) + self.interval
            if self.hourly:
                self.window.append(now)
            return True


async def _sleep(seconds: float, stopped: asyncio.Event | None) -> bool:
    """Sleep ``seconds``; False when ``stopped`` is set first."""
    if stopped is None:
        await asyncio.sleep(seconds)
        return True
    try:
        await asyncio.wait_for(stopped.wait(), timeout=seconds)
    except TimeoutError:
        return True
    return False
