"""One worker of a send: ``concurrency`` connections over its slice of the queue, each taking
a job, marking it in flight, handing it to the transport and committing the outcome;
temporary failures retried after a backoff, connections reopened, a rate limit respected,
and the whole send stopped when every further message would fail the same way (the server
refuses the sender, too many refusals in a row, a transport that breaks).

Apart because this is the connection side of a send: it runs alike in the command's own
process and in a worker process of its own (:mod:`.processes`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from newsroom.core.errors import NewsroomError
from newsroom.core.transport import (
    Channel,
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    TransportContext,
    UncertainDelivery,
)
from newsroom.deliver.messages import EditionMessage
from newsroom.deliver.sending.delivery_log import DeliveryLog, Statement, _now
from newsroom.deliver.sending.jobs import Job, JobQueue
from newsroom.deliver.sending.rate import RateLimiter, _sleep
from newsroom.deliver.sending.report import Counts, SendSettings
from newsroom.store.engine import Target


@dataclass
class _Outcome:
    """What one attempt at a message did, as statements for the log."""

    statements: list[Statement]
    after: Callable[[], None] | None = None


class _Stop(Exception):
    """Stop the whole send: every further message would fail the same way."""


class _Unavailable(Exception):
    """This connection could not be opened (temporarily); the others may carry on."""


class Worker:
    """Sends the queued messages of subscribers ``id % parts == part`` over ``concurrency``
    connections. Runs in the send command's process or in a worker process of its own."""

    def __init__(
        self,
        target: Target,
        edition_id: str,
        message: EditionMessage,
        transport: Transport,
        tctx: TransportContext,
        settings: SendSettings,
        *,
        part: int = 0,
        parts: int = 1,
        budget: int | None = None,
        history: list[float] | None = None,
        claim: str,
        lock_name: str = "",
        lease: float = 120.0,
    ) -> None:
        self.target = target
        self.edition_id = edition_id
        self.message = message
        self.transport = transport
        self.tctx = tctx
        self.settings = settings
        self.counts = Counts()
        self.stopped = ""
        self.stopping = False
        self.limiter = RateLimiter(settings.rate, settings.hourly_limit, history)
        self.rejections = 0
        self._stopped = asyncio.Event()  # set: stop() was called
        self._connected = 0  # channels open right now
        self.deliveries = DeliveryLog(target, edition_id, claim, lock_name=lock_name, lease=lease)
        self.jobs = JobQueue(
            self.deliveries,
            part=part,
            parts=parts,
            budget=budget,
            backoff=settings.backoff,
            on_error=self.stop,
        )

    # -- the log --------------------------------------------------------------------------

    def _mark(
        self,
        job: Job,
        status: str,
        error: str = "",
        subscriber: str = "",
        after: Callable[[], None] | None = None,
    ) -> _Outcome:
        """The outcome of ``job``'s attempt, to commit at once (``after`` runs once it is)."""
        statements = self.deliveries.mark(job.sid, job.attempts, status, error, subscriber)
        return _Outcome(statements, after)

    async def _commit(self, outcome: _Outcome | None) -> None:
        if outcome is not None:
            await self.deliveries.write(outcome.statements)
            if outcome.after is not None:
                outcome.after()

    async def _start(self, job: Job, outcome: _Outcome | None = None) -> str:
        """Mark ``job`` as in flight (``sending``); ``skipped`` (and marked so) when its
        subscriber left, ``taken`` when it is no longer this run's (another sender took it
        over after this one's lease ended).

        ``outcome``, the previous message's on this connection, is committed in the same
        transaction: as soon as its reply came, and before ``job``'s SMTP transaction."""
        now = _now()
        counts = await self.deliveries.write(
            [
                *(outcome.statements if outcome else []),
                self.deliveries.mark_sending(job.sid, now),
            ]
        )
        if outcome is not None and outcome.after is not None:
            outcome.after()
        if counts[-1] == 1:
            return "sending"
        # Rare (the subscriber left during the send, or another sender took the message
        # over): a second statement only then.
        skipped = await self.deliveries.write([self.deliveries.mark_skipped(job.sid, now)])
        return "skipped" if skipped[0] else "taken"

    # -- connections ----------------------------------------------------------------------

    async def _open(self) -> Channel | None:
        attempt = 0
        while not self.stopping:
            try:
                return await self.transport.open(self.tctx)
            except PermanentFailure as exc:
                raise _Stop(f"the server refused the connection: {exc}") from None
            except TemporaryFailure as exc:
                attempt += 1
                if self._connected:
                    # Others are connected (a server that caps connections per client
                    # answers 421 here): this one ends, they carry the load.
                    raise _Unavailable(str(exc)) from None
                if attempt > self.settings.retries:
                    raise _Stop(f"{exc} (after {attempt} attempts)") from None
                delay = self.settings.backoff * (2 ** (attempt - 1))
                if not await _sleep(delay, self._stopped):
                    return None
            except DeliveryFailure as exc:
                raise _Stop(str(exc)) from None
            except NewsroomError as exc:
                raise _Stop(exc.message) from None
            except Exception as exc:
                raise _Stop(
                    f"transport {self.transport.name!r} failed to connect: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
        return None

    async def _connection(self) -> None:
        channel: Channel | None = None
        # The last message's outcome, committed with the next message's 'sending' mark
        # when that message is ready to go at once, else on its own: never later than the
        # next wait of this connection.
        outcome: _Outcome | None = None
        try:
            while True:
                job = self.jobs.next_nowait() if outcome is not None else None
                if job is None or channel is None or self.limiter.active:
                    await self._commit(outcome)
                    outcome = None
                if job is None:
                    job = await self.jobs.next()
                    if job is None:
                        return
                if channel is None:
                    try:
                        channel = await self._open()
                    except _Unavailable:
                        self.jobs.requeue(job)  # for a connection that is open
                        return
                    except _Stop as exc:
                        self.jobs.finish()
                        self.stop(str(exc))
                        return
                    if channel is None:  # stopping
                        self.jobs.finish()
                        return
                    self._connected += 1
                # The rate limit is taken before the message is marked in flight, so a wait
                # (up to an hour with hourly_limit) never leaves it 'sending'; stop() ends it.
                if not await self.limiter.acquire(self._stopped):
                    self.jobs.finish()
                    return
                started = await self._start(job, outcome)
                outcome = None
                if started != "sending":
                    if started == "skipped":
                        self.counts.skipped += 1
                    self.jobs.finish()
                    continue
                lost, outcome = await self._deliver(channel, job)
                if lost:
                    await self._commit(outcome)
                    outcome = None
                    self._connected -= 1
                    await channel.close()
                    channel = None
        finally:
            try:
                await self._commit(outcome)
            finally:
                if channel is not None:
                    self._connected -= 1
                    await channel.close()

    async def _deliver(self, channel: Channel, job: Job) -> tuple[bool, _Outcome]:
        """Send one job (marked in flight); returns whether the connection is gone and the
        outcome, for the caller to commit at once."""
        try:
            message = self.message.build(job.recipient, eight_bit=channel.accepts_8bit)
            await channel.send(message)
        except UncertainDelivery as exc:
            # Maybe delivered: never retried on its own, so nobody gets it twice.
            job.attempts += 1
            outcome = self._mark(job, "uncertain", str(exc))
            self.counts.uncertain += 1
            self.jobs.finish()
            return True, outcome
        except TemporaryFailure as exc:
            job.attempts += 1
            if job.attempts > self.settings.retries:
                outcome = self._mark(job, "failed", str(exc))
                self.counts.failed += 1
                self.jobs.finish()
            else:
                # Back in the queue only once the log says 'queued' again.
                outcome = self._mark(
                    job, "queued", str(exc), after=lambda: self.jobs.retry_later(job)
                )
                self.counts.retried += 1
            return exc.connection_lost, outcome
        except PermanentFailure as exc:
            if exc.stage in ("mail", "auth", "connect"):
                outcome = self._mark(job, "queued", str(exc))
                self.jobs.finish()
                self.stop(f"the server refused the sender: {exc}")
                return True, outcome
            # Only an address refused as such (a 5xx to RCPT saying so) is suppressed; a
            # refused message or a policy refusal bounces this edition's copy alone.
            outcome = self._mark(job, "bounced", str(exc), "bounced" if exc.stage == "rcpt" else "")
            self.counts.bounced += 1
            self.jobs.finish()
            self.rejections += 1
            limit = self.settings.stop_after_rejections
            if limit and self.rejections >= limit:
                self.stop(f"{self.rejections} messages in a row were refused (last: {exc})")
            return exc.connection_lost, outcome
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug in a transport plugin: stop rather than mark everyone failed.
            outcome = self._mark(job, "queued", f"{type(exc).__name__}: {exc}")
            self.jobs.finish()
            self.stop(f"transport {self.transport.name!r} failed: {type(exc).__name__}: {exc}")
            return True, outcome
        self.counts.sent += 1
        self.rejections = 0
        self.jobs.finish()
        return False, self._mark(job, "sent")

    # -- running --------------------------------------------------------------------------

    def stop(self, reason: str = "") -> None:
        """Take no new messages; those in flight finish."""
        if reason and not self.stopped:
            self.stopped = reason
        self.stopping = True
        self._stopped.set()
        self.jobs.stop()

    async def run(self, tick: Callable[[Counts], None] | None = None) -> Counts:
        """Send until the slice is done, the budget is spent or :meth:`stop` is called."""
        self.deliveries.open()
        producer = asyncio.create_task(self.jobs.produce())
        connections = [
            asyncio.create_task(self._connection()) for _ in range(self.settings.concurrency)
        ]
        ticker = asyncio.create_task(self._tick(tick)) if tick else None
        try:
            await asyncio.gather(*connections)
        except asyncio.CancelledError:
            self.stop("interrupted")  # a second Ctrl-C: what was in flight stays 'sending'
        finally:
            self.stop()
            producer.cancel()
            for task in connections:
                task.cancel()
            # Let every connection run its `finally` (committing outcomes) before closing.
            await asyncio.gather(producer, *connections, return_exceptions=True)
            if ticker:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            if tick:
                tick(self.counts)
            self.deliveries.close()
        return self.counts

    async def _tick(self, tick: Callable[[Counts], None]) -> None:
        while True:
            tick(self.counts)
            await asyncio.sleep(0.2)
