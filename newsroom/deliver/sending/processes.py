"""Running a send: :func:`deliver` runs one :class:`Worker` in this process, or forks N
worker processes that split the list (``subscriber id % N``) and report their counts through
a pipe; signals are handled so that the first Ctrl-C or SIGTERM lets what is in flight
finish, and a worker never outlives a killed send.

Apart because this is the process side of a send (forks, pipes, signals, the event loop);
:mod:`.worker` is the connection side.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from typing import Any, TypeVar

from newsroom.collect.workers import die_with_parent
from newsroom.core.transport import Transport, TransportContext
from newsroom.deliver.messages import EditionMessage
from newsroom.deliver.sending.delivery_log import sent_in_last_hour
from newsroom.deliver.sending.report import Counts, SendSettings
from newsroom.deliver.sending.worker import Worker
from newsroom.store.state import State

_T = TypeVar("_T")


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
    claim: str,
    lock_name: str = "",
    lease: float = 120.0,
    progress: Callable[[Counts], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
    on_workers: Callable[[list[int]], None] | None = None,
) -> tuple[Counts, str, int]:
    """Send the queued messages, claiming them under ``claim`` (the run's lease beside the
    lock ``lock_name``, which ends ``lease`` seconds after its last heartbeat); returns the
    counts, why it stopped (if it did) and how many worker processes ran."""
    workers = choose_workers(settings.workers, queued)
    if settings.hourly_limit:
        workers = min(workers, settings.hourly_limit)  # each needs at least one an hour
    history = sent_in_last_hour(state) if settings.hourly_limit else []
    if workers == 1:
        worker = Worker(
            state.target,
            edition_id,
            message,
            transport,
            tctx,
            settings,
            budget=settings.limit,
            history=history,
            claim=claim,
            lock_name=lock_name,
            lease=lease,
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
            state.target,
            edition_id,
            message,
            transport,
            tctx,
            share,
            part=part,
            parts=workers,
            budget=budget,
            history=history[part::workers],
            claim=claim,
            lock_name=lock_name,
            lease=lease,
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
