"""Each source on an event loop of its own, in a thread of its own, so that one can be left.

A source's ``fetch`` is a coroutine, but nothing stops a plugin from calling ``time.sleep``,
a synchronous HTTP client or a long computation in it. On the build's event loop that would
stop every other source, and no timeout could fire: the loop that runs the timeouts is the
one that is blocked. So each source runs on a new event loop in a daemon thread, and the
build's loop waits for it with the source's deadline. A source still running at its deadline
is cancelled (a source that awaits stops there) and left behind: a blocked thread cannot be
stopped from outside, but as a daemon it holds nothing the build needs, and ends with the
process.

Requests still go through the one shared :class:`~newsroom.collect.http.Fetcher` on the build's loop
(:class:`LoopFetcher` carries them across), so the connection limits, the per-host spacing
and the cache stay shared. Work a source hands to ``asyncio.to_thread`` runs in daemon
threads too (:class:`DaemonThreads`), so that a stuck call there cannot keep the process
from exiting either.

What a thread cannot do is interrupt code that holds the GIL without ever releasing it (a
C extension in a long call); such a source stalls the whole process, as it would anywhere.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from newsroom.collect.http import Fetcher, Response, requests_until

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's where it is installed (its wakeups from other threads and
    its transports cost less CPU than asyncio's own), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LoopFetcher(Fetcher):
    """The shared fetcher, as seen from another event loop: each request is sent on the
    fetcher's own loop, ending by the source's deadline (:func:`requests_until`).

    :meth:`cancel` stops the requests still in flight (for a source that was cut off).
    """

    def __init__(
        self,
        owner: Fetcher,
        loop: asyncio.AbstractEventLoop,
        *,
        requests_end: float | None = None,
        seconds: float = 0.0,
    ) -> None:
        # Fetcher.__init__ is not called: this has no connections of its own.
        self.owner = owner
        self.settings = owner.settings
        self.cache_db = owner.cache_db
        self.cache = owner.cache
        self.results = owner.results
        self.mirror = owner.mirror
        self._loop = loop
        self._end = requests_end
        self._seconds = seconds
        self._in_flight: set[concurrent.futures.Future[Response]] = set()
        self._cancelled = False

        # Counted by the owner; these stay 0.
        self.requests = 0
        self.not_modified = 0
        self.unresolved = owner.unresolved

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        min_interval: float = 0.0,
        use_cache: bool = True,
        max_bytes: int | None = None,
    ) -> Response:
        if self._cancelled:
            raise asyncio.CancelledError
        sent = self._owner_request(
            method,
            url,
            {
                "headers": headers,
                "content": content,
                "min_interval": min_interval,
                "use_cache": use_cache,
                "max_bytes": max_bytes,
            },
        )
        try:
            future = asyncio.run_coroutine_threadsafe(sent, self._loop)
        except RuntimeError:  # the build's loop has closed: this source was left behind
            sent.close()
            raise asyncio.CancelledError from None
        self._in_flight.add(future)
        try:
            # Cancelling this (the source was cut off) cancels the request on the other loop.
            return await asyncio.wrap_future(future)
        finally:
            self._in_flight.discard(future)

    async def _owner_request(self, method: str, url: str, options: dict[str, Any]) -> Response:
        """Runs on the owner's loop."""
        with requests_until(self._end, self._seconds):
            return await self.owner.request(method, url, **options)

    def cancel(self) -> None:
        """Stop the requests in flight and refuse new ones. Safe from any thread."""
        self._cancelled = True
        for future in list(self._in_flight):
            future.cancel()

    async def aclose(self) -> None:
        """Nothing to close: the owner's connections are the owner's."""


class DaemonThreads(concurrent.futures.ThreadPoolExecutor):
    """A small thread pool whose threads are daemons, for a source's event loop.

    ``asyncio.to_thread`` runs in the loop's default executor; a ThreadPoolExecutor's own
    threads are waited for when the interpreter exits, so a call stuck there would keep a
    finished build's process alive for ever. (A ThreadPoolExecutor by type, as asyncio
    requires of a default executor, with its own ``submit`` and ``shutdown``.)
    """

    def __init__(self, max_workers: int = 4, name: str = "newsroom-source") -> None:
        super().__init__(max_workers, thread_name_prefix=name)
        self._max = max_workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._started = 0
        self._waiting = 0  # threads waiting for a job
        self._guard = threading.Lock()
        self._closed = False

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._guard:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._jobs.put(_Job(future, fn, args, kwargs))
            # A new thread only when the threads waiting cannot take every queued job.
            if self._jobs.qsize() > self._waiting and self._started < self._max:
                self._started += 1
                name = f"{self._name}-{self._started}"
                threading.Thread(target=self._serve, name=name, daemon=True).start()
        return future

    def _serve(self) -> None:
        while True:
            with self._guard:
                self._waiting += 1
            job = self._jobs.get()
            with self._guard:
                self._waiting -= 1
            if job is None:
                return
            job.run()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking work; idle threads end. Never waits for a call that is running."""
        with self._guard:
            self._closed = True
            started = self._started
        for _ in range(started):
            self._jobs.put(None)


@dataclass
class _Job:
    future: concurrent.futures.Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


class SourceThread:
    """Runs one coroutine (a source's fetch) on a new event loop in a daemon thread.

    ``await runner.result()`` on the caller's loop gives its result or raises its exception;
    :meth:`abandon` cancels it and stops waiting for it.
    """

    def __init__(self, name: str, work: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self.name = name
        self._work = work
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._abandoned = False
        self._done: asyncio.Future[Any] | None = None

    def start(self) -> asyncio.Future[Any]:
        """Start the thread; the returned future (of the calling loop) gets the outcome."""
        caller = asyncio.get_running_loop()
        self._done = caller.create_future()
        thread = threading.Thread(
            target=self._main, args=(caller,), name=f"newsroom-source-{self.name}", daemon=True
        )
        thread.start()
        return self._done

    def _main(self, caller: asyncio.AbstractEventLoop) -> None:
        outcome: tuple[bool, Any]
        loop = new_event_loop()
        executor = DaemonThreads(name=f"newsroom-source-{self.name}")
        try:
            loop.set_default_executor(executor)
            with self._lock:
                if self._abandoned:
                    return
                self._loop = loop
                self._task = loop.create_task(self._work())
            outcome = (True, loop.run_until_complete(self._task))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome = (False, exc)
        finally:
            with self._lock:
                self._loop = None
            with contextlib.suppress(Exception):
                _cancel_remaining(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            executor.shutdown(wait=False)
        with contextlib.suppress(RuntimeError):  # the caller's loop is gone: nobody waits
            caller.call_soon_threadsafe(self._deliver, outcome)

    def _deliver(self, outcome: tuple[bool, Any]) -> None:
        done = self._done
        if done is None or done.done():
            return
        ok, value = outcome
        if ok:
            done.set_result(value)
        else:
            done.set_exception(value)

    def abandon(self) -> None:
        """Cancel the coroutine (a source that awaits stops at once; a blocked one when it
        next awaits, if ever) and stop waiting for it."""
        with self._lock:
            self._abandoned = True
            loop, task = self._loop, self._task
            if loop is not None and task is not None:
                with contextlib.suppress(RuntimeError):  # its loop closed meanwhile
                    loop.call_soon_threadsafe(task.cancel)
        if self._done is not None and not self._done.done():
            self._done.cancel()


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks a finished source left running (as ``asyncio.run`` does)."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
