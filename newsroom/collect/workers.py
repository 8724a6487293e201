"""Worker processes for the CPU-heavy part of the fetch stage: parsing what was downloaded.

One process runs the event loop, the HTTP client and the filters; parsing 10,000 feed entries
on top of that saturates its core while the machine's others idle. :class:`CpuWorkers` forks
worker processes for it (``[plugins] worker_processes``, by default one per core, at most 4).
Sources reach them through ``FetchContext.run_cpu``.

Processes are forked, so they start in milliseconds with every module already imported, and
only while no other thread runs in this process (a thread holding a lock at the instant of the
fork would leave that lock held forever in the child). Where that cannot be guaranteed, or
fork is not the platform's safe default (macOS, Windows), the same work runs in threads.
A worker ignores Ctrl-C (the parent stops the build), and on Linux dies with its parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("newsroom.collect.workers")

#: More processes than this only add memory: the parent's event loop and JSON loading become
#: the limit first.
MAX_DEFAULT_PROCESSES = 4


def usable_cores() -> int:
    """Cores this process may run on (CPU affinity included, where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_processes() -> int:
    """One worker per core, at most :data:`MAX_DEFAULT_PROCESSES`; none on a single core.

    One per core rather than per spare core: the build's own process waits on the network
    much of the time, and the scheduler gives that time to a worker (200 feeds on two
    cores: the fetch took 0.77 s with two workers, 0.86 s with one).
    """
    cores = usable_cores()
    return 0 if cores < 2 else min(cores, MAX_DEFAULT_PROCESSES)


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so a worker never outlives a
    killed command. A no-op elsewhere."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _init_worker(parent: int) -> None:
    die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    # Ctrl-C reaches the whole process group; the parent cancels the build and shuts the pool
    # down, so a worker printing a KeyboardInterrupt traceback would only be noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[bool, Any]:
    """Run in a worker: ``fn(*args)``, or the exception it raised, as a value. An exception
    that would not survive the trip back (one whose ``__init__`` takes other arguments than
    it keeps) is sent as a RuntimeError with its message: left to the pool, it would break
    the pool and stop every worker."""
    try:
        return True, fn(*args)
    except Exception as exc:  # noqa: BLE001 - the caller re-raises it
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001
            return False, RuntimeError(f"{type(exc).__name__}: {exc}")
        return False, exc


class CpuWorkers:
    """Runs picklable functions in forked worker processes, or in threads when there are none.

    ``processes=None`` means :func:`default_processes`; ``0`` means threads only. Use it as a
    context manager; the processes start at once.
    """

    def __init__(self, processes: int | None = None) -> None:
        wanted = default_processes() if processes is None else processes
        self._pool: ProcessPoolExecutor | None = None
        self._frozen = False
        self._pending: set[Future[Any]] = set()  # handed to the processes, not finished
        if wanted > 0 and self.fork_is_safe():
            # Objects that exist now (modules, classes, the config) are left out of garbage
            # collection while the workers live: a collection in a child would otherwise
            # write to every one of them and copy the parent's whole memory page by page
            # (Python's advice for forking servers). It also spares the build walking them.
            gc.freeze()
            self._frozen = True
            pool: ProcessPoolExecutor | None = None
            try:
                pool = ProcessPoolExecutor(
                    wanted,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_init_worker,
                    initargs=(os.getpid(),),
                )
                # With fork, the first submit starts every process before the pool's own
                # management thread: now, while this is still the only thread.
                pool.submit(int).result()
            except (OSError, NotImplementedError, ImportError, BrokenProcessPool) as exc:
                # No process left to fork, no memory, no semaphores (no /dev/shm) ...
                log.warning("no worker processes (%s); parsing in threads", exc)
                if pool is not None:
                    _stop(pool)
                self.close()
            else:
                self._pool = pool
        self.processes = wanted if self._pool is not None else 0
        """How many worker processes run (0: the work runs in threads)."""

    @staticmethod
    def fork_is_safe() -> bool:
        """True on Linux while this process runs a single thread."""
        return sys.platform.startswith("linux") and threading.active_count() == 1

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker process (arguments and result pickled), else in a thread.

        Every call goes to the processes while there are any, however many are waiting:
        running some here instead, in threads, was measured to slow the build, as they take
        the GIL from the event loop that keeps the downloads going. An exception ``fn``
        raises is raised here (as a RuntimeError with its message if it cannot be pickled).
        If a worker process dies (a crash in a C extension, the OOM killer), the calls it
        had, and every later one, run in threads, so the build goes on.
        """
        pool = self._pool
        if pool is not None:
            try:
                future = pool.submit(_call, fn, args)
            except BrokenProcessPool:
                self._broken(pool)
            else:
                self._pending.add(future)
                future.add_done_callback(self._pending.discard)
                try:
                    ok, value = await asyncio.wrap_future(future)
                except BrokenProcessPool:
                    self._broken(pool)
                else:
                    if ok:
                        return value  # type: ignore[no-any-return]
                    raise value
        return await asyncio.to_thread(fn, *args)

    def _broken(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:  # the first call to notice: the others just retry
            log.warning("a worker process died; parsing the rest in threads")
            self._pool = None
            self.processes = 0
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the worker processes. Work still queued is dropped; work still running (for a
        source cut off by its timeout, or after Ctrl-C) is stopped with its process, where a
        thread could only be waited for."""
        pool, self._pool = self._pool, None
        if pool is not None:
            if any(not f.done() for f in list(self._pending)):
                _stop(pool)
            else:
                pool.shutdown(wait=True, cancel_futures=True)
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def __enter__(self) -> CpuWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes and wait for them (``shutdown`` alone would wait for
    the work they are doing, or, when the pool never fully started, for ever)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        with contextlib.suppress(OSError):
            proc.terminate()
    for proc in processes:
        proc.join(5)
    pool.shutdown(wait=True, cancel_futures=True)
