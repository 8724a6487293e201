"""``newsroom send``: deliver an edition to every active subscriber, exactly once.

The delivery log is the ``deliveries`` table of the state file: one row per (edition,
subscriber), moving ``queued → sending → sent | failed | bounced | skipped | uncertain``.
Each move is committed on its own, ``sending`` before the SMTP transaction starts and the
outcome as soon as the server answers, so a run that stops for any reason (Ctrl-C, a crash,
``kill -9``, a dead server) can be started again and resumes:

- ``queued`` and ``failed`` rows are sent (``failed``: temporary failures that ran out of
  retries in an earlier run);
- ``sending`` rows were in flight when the run died. The server may or may not have taken
  them, so they are sent again: these, and only these, can arrive twice (with the same
  Message-ID, which lets receiving systems drop the copy);
- ``sent``, ``bounced`` and ``skipped`` rows are never touched again;
- ``uncertain`` rows were handed over whole, but the server never answered the end of the
  message: they may have been delivered, so they are sent again only when the user asks
  (``newsroom send --resend-uncertain``).

The recipients are fixed when an edition's send first starts; subscribers who left since
are skipped. Work is spread over ``concurrency`` persistent connections, and with
``workers = N`` over N processes; a rate limit holds across all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from newsroom.collect.workers import die_with_parent
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
from newsroom.deliver.messages import EditionMessage, Recipient
from newsroom.deliver.sending.delivery_log import (
    DeliveryLog,
    Statement,
    _now,
    sent_in_last_hour,
)
from newsroom.deliver.sending.rate import RateLimiter, _sleep
from newsroom.deliver.sending.report import Counts, SendSettings
from newsroom.store.state import State

_BATCH = 500
_T = TypeVar("_T")


# -- one worker: connections over a slice of the queue -----------------------------------------


@dataclass
class _Job:
    sid: int
    recipient: Recipient
    attempts: int = 0


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
        state_path: Path,
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
    ) -> None:
        self.state_path = state_path
        self.edition_id = edition_id
        self.message = message
        self.transport = transport
        self.tctx = tctx
        self.settings = settings
        self.part, self.parts = part, parts
        self.budget = budget
        self.counts = Counts()
        self.stopped = ""
        self.stopping = False
        self.limiter = RateLimiter(settings.rate, settings.hourly_limit, history)
        self.rejections = 0
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._outstanding = 0
        self._exhausted = False
        self._jobs = asyncio.Event()  # set: jobs were queued or the state changed
        self._room = asyncio.Event()  # set: the queue has room for another batch
        self._stopped = asyncio.Event()  # set: stop() was called
        self._connected = 0  # channels open right now
        self.deliveries = DeliveryLog(state_path, edition_id)

    # -- the log --------------------------------------------------------------------------

    def _mark(
        self,
        job: _Job,
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

    async def _start(self, job: _Job, outcome: _Outcome | None = None) -> bool:
        """Mark ``job`` as in flight; False (and marked skipped) when its subscriber left.

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
            return True
        # Rare (the subscriber left during the send): a second statement only then.
        await self.deliveries.write([self.deliveries.mark_skipped(job.sid, now)])
        return False

    # -- the queue ------------------------------------------------------------------------

    async def _produce(self) -> None:
        """Feed the queue from the log in batches, keeping a few hundred jobs ahead."""
        try:
            await self._produce_batches()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. the state file is unreadable: stop, never hang
            self.stop(f"cannot read the delivery log: {type(exc).__name__}: {exc}")
        finally:
            self._exhausted = True
            self._jobs.set()

    async def _produce_batches(self) -> None:
        after = -1
        budget = self.budget
        while not self.stopping:
            if budget is not None and budget <= 0:
                break
            while self._queue.qsize() > _BATCH and not self.stopping:
                self._room.clear()
                await self._room.wait()
            size = _BATCH if budget is None else min(_BATCH, budget)
            rows = self.deliveries.queued(after, self.parts, self.part, size)
            if not rows:
                break
            for sid, email, name, uid, attributes, _attempts in rows:
                self._outstanding += 1
                recipient = Recipient(email, name, uid, json.loads(attributes))
                self._queue.put_nowait(_Job(sid, recipient, 0))
            after = rows[-1][0]
            if budget is not None:
                budget -= len(rows)
            self._jobs.set()
            await asyncio.sleep(0)

    async def _next(self) -> _Job | None:
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

    def _next_nowait(self) -> _Job | None:
        """The next job if one is waiting now (never waits)."""
        if self.stopping or self._queue.empty():
            return None
        job = self._queue.get_nowait()
        if self._queue.qsize() <= _BATCH:
            self._room.set()
        return job

    def _finish(self) -> None:
        self._outstanding -= 1
        self._jobs.set()

    def _retry_later(self, job: _Job) -> None:
        delay = self.settings.backoff * (2 ** (job.attempts - 1)) * random.uniform(0.8, 1.2)

        def again() -> None:
            self._queue.put_nowait(job)
            self._jobs.set()

        asyncio.get_running_loop().call_later(delay, again)

    def stop(self, reason: str = "") -> None:
        """Take no new messages; those in flight finish."""
        if reason and not self.stopped:
            self.stopped = reason
        self.stopping = True
        self._stopped.set()
        self._jobs.set()
        self._room.set()

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
                job = self._next_nowait() if outcome is not None else None
                if job is None or channel is None or self.limiter.active:
                    await self._commit(outcome)
                    outcome = None
                if job is None:
                    job = await self._next()
                    if job is None:
                        return
                if channel is None:
                    try:
                        channel = await self._open()
                    except _Unavailable:
                        self._requeue(job)  # for a connection that is open
                        return
                    except _Stop as exc:
                        self._finish()
                        self.stop(str(exc))
                        return
                    if channel is None:  # stopping
                        self._finish()
                        return
                    self._connected += 1
                # The rate limit is taken before the message is marked in flight, so a wait
                # (up to an hour with hourly_limit) never leaves it 'sending'; stop() ends it.
                if not await self.limiter.acquire(self._stopped):
                    self._finish()
                    return
                started = await self._start(job, outcome)
                outcome = None
                if not started:
                    self.counts.skipped += 1
                    self._finish()
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

    def _requeue(self, job: _Job) -> None:
        """Put a job that was taken but not started back in the queue."""
        self._queue.put_nowait(job)
        self._jobs.set()

    async def _deliver(self, channel: Channel, job: _Job) -> tuple[bool, _Outcome]:
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
            self._finish()
            return True, outcome
        except TemporaryFailure as exc:
            job.attempts += 1
            if job.attempts > self.settings.retries:
                outcome = self._mark(job, "failed", str(exc))
                self.counts.failed += 1
                self._finish()
            else:
                # Back in the queue only once the log says 'queued' again.
                outcome = self._mark(job, "queued", str(exc), after=lambda: self._retry_later(job))
                self.counts.retried += 1
            return exc.connection_lost, outcome
        except PermanentFailure as exc:
            if exc.stage in ("mail", "auth", "connect"):
                outcome = self._mark(job, "queued", str(exc))
                self._finish()
                self.stop(f"the server refused the sender: {exc}")
                return True, outcome
            # Only an address refused as such (a 5xx to RCPT saying so) is suppressed; a
            # refused message or a policy refusal bounces this edition's copy alone.
            outcome = self._mark(job, "bounced", str(exc), "bounced" if exc.stage == "rcpt" else "")
            self.counts.bounced += 1
            self._finish()
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
            self._finish()
            self.stop(f"transport {self.transport.name!r} failed: {type(exc).__name__}: {exc}")
            return True, outcome
        self.counts.sent += 1
        self.rejections = 0
        self._finish()
        return False, self._mark(job, "sent")

    # -- running --------------------------------------------------------------------------

    async def run(self, tick: Callable[[Counts], None] | None = None) -> Counts:
        """Send until the slice is done, the budget is spent or :meth:`stop` is called."""
        self.deliveries.open()
        producer = asyncio.create_task(self._produce())
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


def _install_signals(worker: Worker, loop: asyncio.AbstractEventLoop) -> None:
    """First Ctrl-C (or SIGTERM): finish what is in flight, then stop. Second: now."""

    def graceful() -> None:
        if worker.stopping:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            return
        worker.stop("interrupted")

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, graceful)


async def _run_worker(worker: Worker, tick: Callable[[Counts], None] | None) -> Counts:
    _install_signals(worker, asyncio.get_running_loop())
    return await worker.run(tick)


def run_loop(coro: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(coro)``, on uvloop's faster event loop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


# -- worker processes --------------------------------------------------------------------------


def _worker_process(worker: Worker, conn: Any, parent: int) -> None:
    die_with_parent()  # a worker must never outlive a killed send: a rerun would resend
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    last = [0.0]

    def tick(counts: Counts) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            conn.send(("progress", asdict(counts)))
        if os.getppid() != parent:
            os._exit(1)

    try:
        counts = run_loop(_run_worker(worker, tick))
        conn.send(("done", asdict(counts), worker.stopped))
    except BaseException as exc:  # report, never leave the parent waiting
        conn.send(("done", asdict(worker.counts), f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def choose_workers(requested: int, queued: int) -> int:
    """``requested`` processes, or one (``workers = 0``): one process with ``concurrency``
    connections sends faster than aiosmtplib's own loop does (about 1,500 messages a
    second on a small machine), and each further process would cost another 50-60 MB,
    the memory of the whole command. ``--workers N`` splits a list over N processes."""
    return requested or 1


def deliver(
    state: State,
    edition_id: str,
    message: EditionMessage,
    transport: Transport,
    tctx: TransportContext,
    settings: SendSettings,
    *,
    queued: int,
    progress: Callable[[Counts], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
    on_workers: Callable[[list[int]], None] | None = None,
) -> tuple[Counts, str, int]:
    """Send the queued messages; returns the counts, why it stopped (if it did) and how
    many worker processes ran."""
    workers = choose_workers(settings.workers, queued)
    if settings.hourly_limit:
        workers = min(workers, settings.hourly_limit)  # each needs at least one an hour
    history = sent_in_last_hour(state) if settings.hourly_limit else []
    if workers == 1:
        worker = Worker(
            state.path,
            edition_id,
            message,
            transport,
            tctx,
            settings,
            budget=settings.limit,
            history=history,
        )
        beat = [time.monotonic()]

        def tick(counts: Counts) -> None:
            if progress:
                progress(counts)
            if heartbeat and time.monotonic() - beat[0] > 5:
                beat[0] = time.monotonic()
                heartbeat()

        counts = run_loop(_run_worker(worker, tick))
        return counts, worker.stopped, 1

    ctx = multiprocessing.get_context("fork")
    share = dataclasses.replace(settings)
    share.concurrency = max(1, settings.concurrency // workers)
    share.rate = settings.rate / workers
    share.hourly_limit = max(1, settings.hourly_limit // workers) if settings.hourly_limit else 0
    procs, pipes = [], []
    parent = os.getpid()
    for part in range(workers):
        budget = None
        if settings.limit is not None:
            budget = settings.limit // workers + (1 if part < settings.limit % workers else 0)
        worker = Worker(
            state.path,
            edition_id,
            message,
            transport,
            tctx,
            share,
            part=part,
            parts=workers,
            budget=budget,
            history=history[part::workers],
        )
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker_process, args=(worker, sender, parent), daemon=True)
        proc.start()  # forked while no other thread runs in this process
        sender.close()
        procs.append(proc)
        pipes.append(receiver)
    if on_workers:
        on_workers([p.pid for p in procs if p.pid])
    latest = [Counts() for _ in procs]
    finished: dict[int, str] = {}

    # Ctrl-C reaches the workers from the terminal; a SIGTERM (kill, systemd) reaches only
    # this process, so it is passed on: each worker finishes what is in flight and stops.
    def forward(signum: int, frame: object) -> None:
        for proc in procs:
            if proc.pid and proc.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, forward)
    try:
        last_beat = time.monotonic()
        while len(finished) < len(procs):
            for i, pipe in enumerate(pipes):
                if i in finished:
                    continue
                try:
                    while pipe.poll(0.05):
                        msg = pipe.recv()
                        latest[i] = Counts(**msg[1])
                        if msg[0] == "done":
                            finished[i] = msg[2]
                            break
                except (EOFError, OSError):
                    finished[i] = finished.get(i) or "a worker process died"
            for i, proc in enumerate(procs):
                if i not in finished and not proc.is_alive() and not pipes[i].poll():
                    finished[i] = f"worker {proc.pid} exited with code {proc.exitcode}"
            total = Counts()
            for c in latest:
                total.add(c)
            if progress:
                progress(total)
            if heartbeat and time.monotonic() - last_beat > 5:
                last_beat = time.monotonic()
                heartbeat()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        for proc in procs:
            proc.join(timeout=30)
    reasons = [r for r in finished.values() if r]
    total = Counts()
    for c in latest:
        total.add(c)
    stopped = "interrupted" if "interrupted" in reasons else (reasons[0] if reasons else "")
    return total, stopped, workers
