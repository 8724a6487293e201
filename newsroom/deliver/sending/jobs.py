"""The jobs of one worker: its slice of the queued messages, claimed from the delivery log
in batches a hundred or two ahead of the connections, handed to them one at a time, and put back
after a backoff when a temporary failure is to be retried.

Apart because the connections only take a job, finish it or give it back; when the log has
no more and none is outstanding, the worker is done.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from newsroom.deliver.messages import Recipient
from newsroom.deliver.sending.delivery_log import DeliveryLog

#: Claimed at a time, and kept ahead of the connections at most twice over: a sender that
#: shares a send holds only what it will send within a second or so, and the others take
#: the rest.
_BATCH = 100


@dataclass
class Job:
    """One message to send: the subscriber's id and address, and the attempts so far."""

    sid: int
    recipient: Recipient
    attempts: int = 0


class JobQueue:
    """The jobs of subscribers ``id % parts == part``, at most ``budget`` of them (None: all).

    ``on_error`` is told why when the log cannot be read; :meth:`stop` ends the handing out
    (the producer stops too).
    """

    def __init__(
        self,
        deliveries: DeliveryLog,
        *,
        part: int,
        parts: int,
        budget: int | None,
        backoff: float,
        on_error: Callable[[str], None],
    ) -> None:
        self.deliveries = deliveries
        self.part, self.parts = part, parts
        self.budget = budget
        self.backoff = backoff
        self.on_error = on_error
        self.stopping = False
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._outstanding = 0
        self._exhausted = False
        self._jobs = asyncio.Event()  # set: jobs were queued or the state changed
        self._room = asyncio.Event()  # set: the queue has room for another batch

    async def produce(self) -> None:
        """Feed the queue from the log in batches, keeping one or two batches ahead."""
        try:
            await self._produce_batches()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. the state file is unreadable: stop, never hang
            self.on_error(f"cannot read the delivery log: {type(exc).__name__}: {exc}")
        finally:
            self._exhausted = True
            self._jobs.set()

    async def _produce_batches(self) -> None:
        budget = self.budget
        while not self.stopping:
            if budget is not None and budget <= 0:
                break
            while self._queue.qsize() > _BATCH and not self.stopping:
                self._room.clear()
                await self._room.wait()
            size = _BATCH if budget is None else min(_BATCH, budget)
            rows = await self.deliveries.claim_batch(self.parts, self.part, size)
            if not rows:
                break
            for sid, email, name, uid, attributes, _attempts in rows:
                self._outstanding += 1
                recipient = Recipient(email, name, uid, json.loads(attributes))
                self._queue.put_nowait(Job(sid, recipient, 0))
            if budget is not None:
                budget -= len(rows)
            self._jobs.set()
            await asyncio.sleep(0)

    async def next(self) -> Job | None:
        while True:
            if self.stopping:
                return None
            if not self._queue.empty():
                job = self._queue.get_nowait()
                if self._queue.qsize() <= _BATCH:
                    self._room.set()
                return job
            if self._exhausted and self._outstanding == 0:
                return None
            self._jobs.clear()
            await self._jobs.wait()

    def next_nowait(self) -> Job | None:
        """The next job if one is waiting now (never waits)."""
        if self.stopping or self._queue.empty():
            return None
        job = self._queue.get_nowait()
        if self._queue.qsize() <= _BATCH:
            self._room.set()
        return job

    def finish(self) -> None:
        self._outstanding -= 1
        self._jobs.set()

    def retry_later(self, job: Job) -> None:
        delay = self.backoff * (2 ** (job.attempts - 1)) * random.uniform(0.8, 1.2)

        def again() -> None:
            self._queue.put_nowait(job)
            self._jobs.set()

        asyncio.get_running_loop().call_later(delay, again)

    def requeue(self, job: Job) -> None:
        """Put a job that was taken but not started back in the queue."""
        self._queue.put_nowait(job)
        self._jobs.set()

    def stop(self) -> None:
        """Hand out no more jobs, and wake whoever waits for one."""
        self.stopping = True
        self._jobs.set()
        self._room.set()
