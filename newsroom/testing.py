"""Test helpers for newsroom and its plugins, also a pytest plugin (``pytest11``).

The fixtures stay inert unless a test asks for them:

``local_server``
    A real HTTP server on 127.0.0.1 (:class:`LocalServer`) that serves files and scripted
    responses (status codes, headers, delays, gzip, ETag/304), and records every request.
``plugin_manager``
    A fresh :class:`newsroom.core.plugins.Plugins` with every installed plugin loaded; add one
    under test with ``plugin_manager.add(module, "name")``.
``build_edition``
    ``build_edition(toml)`` builds an edition from ``newsroom.toml`` text with the real
    pipeline (config validation, sources, filters, sections, sanitizing) in a temporary
    folder, and returns the :class:`newsroom.curate.pipeline.BuildResult`.

:func:`run_source` runs one source the way a build does, for a test; :func:`build_from_toml`
is what ``build_edition`` calls.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from newsroom.core.components import Source
    from newsroom.core.model import Item
    from newsroom.core.plugins import Plugins
    from newsroom.curate.pipeline import BuildResult


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Read by listen() in the constructor: with the default backlog of 5, a burst of
    # concurrent clients has connections dropped and retried a second later.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up early (a body refused as too large, a timeout) is a test's
        # point, not an error of the server.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


@dataclass
class Route:
    """A scripted response for one path on a :class:`LocalServer`."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/xml; charset=utf-8"
    delay: float = 0.0
    """Seconds to wait before answering (to test timeouts and measure latency)."""
    drip: float = 0.0
    """Seconds between the bytes of the body: a server that sends its answer one byte at a
    time (the headers come at once), until the client hangs up."""
    gzip: bool = False
    etag: bool = False
    """Send an ETag and answer 304 to a matching If-None-Match."""
    sequence: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """Statuses (with headers) to answer first, one per request, before the normal answer."""
    handler: (
        Callable[[http.server.BaseHTTPRequestHandler, bytes], tuple[int, dict[str, str], bytes]]
        | None
    ) = None
    """Full control: ``handler(request, body) -> (status, headers, body)``."""


@dataclass
class Request:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 for tests and the offline demo."""

    def __init__(
        self, root: Path | None = None, *, latency: float = 0.0, keep_alive: bool = True
    ) -> None:
        self.root = root
        self.latency = latency
        self.keep_alive = keep_alive
        """``False``: every response closes its connection, as when each feed is on a host
        of its own and a client cannot reuse one connection for several."""
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

            def do_HEAD(self) -> None:
                server._handle(self)

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, path: str, body: bytes | str = b"", **kwargs: Any) -> str:
        """Script the response for ``path``; returns its full URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **kwargs)
        return self.url + path

    def add_file(self, path: str, file: Path, **kwargs: Any) -> str:
        return self.add(path, file.read_bytes(), **kwargs)

    def serve_directory(self, folder: Path) -> str:
        """Serve the files under ``folder`` (with ETag and Last-Modified) at paths the
        scripted routes do not take; returns the base URL."""
        self.root = folder
        return self.url

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if urlsplit(r.path).path == path)

    # -- serving ----------------------------------------------------------------------------

    def _handle(self, req: http.server.BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append(Request(req.command, req.path, dict(req.headers.items()), body))
        if self.latency:
            time.sleep(self.latency)
        path = urlsplit(req.path).path
        route = self.routes.get(path) or self.routes.get(req.path)
        if route is None and self.root is not None:
            route = self._file_route(path)
        if route is None:
            self._send(req, 404, {"Content-Type": "text/plain"}, b"not found")
            return
        if route.delay:
            time.sleep(route.delay)
        if route.handler is not None:
            status, headers, data = route.handler(req, body)
            self._send(req, status, headers, data)
            return
        if route.sequence:
            status, headers = route.sequence.pop(0)
            self._send(req, status, {"Content-Type": "text/plain", **headers}, b"scripted")
            return
        headers = {"Content-Type": route.content_type, **route.headers}
        data = route.body
        if route.etag:
            tag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
            headers["ETag"] = tag
            if req.headers.get("If-None-Match") == tag:
                self._send(req, 304, {"ETag": tag}, b"")
                return
        if route.gzip:
            data = gzip.compress(data) if not route.headers.get("Content-Encoding") else data
            headers["Content-Encoding"] = "gzip"
        self._send(req, route.status, headers, data, drip=route.drip)

    def _file_route(self, path: str) -> Route | None:
        assert self.root is not None
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.root.resolve()):
            return None
        if target.is_dir():
            target = target / "index"
        if not target.is_file():
            return None
        data = target.read_bytes()
        head = data[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")):
            ctype = "text/html; charset=utf-8"
        elif head.startswith((b"{", b"[")):
            ctype = "application/json"
        else:
            ctype = "application/xml; charset=utf-8"
        mtime = formatdate(target.stat().st_mtime, usegmt=True)
        return Route(body=data, content_type=ctype, etag=True, headers={"Last-Modified": mtime})

    def _send(
        self,
        req: http.server.BaseHTTPRequestHandler,
        status: int,
        headers: dict[str, str],
        data: bytes,
        drip: float = 0.0,
    ) -> None:
        try:
            req.send_response(status)
            for k, v in headers.items():
                req.send_header(k, v)
            if not self.keep_alive:
                req.send_header("Connection", "close")
            if "Content-Length" not in headers:
                req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            if req.command == "HEAD" or status == 304:
                return
            if not drip:
                req.wfile.write(data)
                return
            for n in range(len(data)):
                req.wfile.write(data[n : n + 1])
                req.wfile.flush()
                time.sleep(drip)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            pass


@dataclass
class SourceRun:
    """What :func:`run_source` saw: the items of the last fetch and every warning."""

    items: list[Item]
    warnings: list[tuple[str, str | None]]
    """``(message, url)`` pairs, as the source reported them with ``ctx.warn``."""

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.warnings]


def run_source(
    source: Source,
    *,
    times: int = 1,
    language: str = "en",
    timezone: str = "UTC",
    now: Any = None,
    cache_dir: Path | None = None,
    **settings: Any,
) -> SourceRun:
    """Fetch with ``source`` ``times`` times over one real shared client, as a build does.

    ``settings`` override :class:`newsroom.collect.http.FetchSettings` (default: no retries, no
    backoff, so a failing test fails fast). Exceptions from ``fetch`` propagate.
    """
    import asyncio
    import datetime as dt
    from zoneinfo import ZoneInfo

    from newsroom.collect.http import Fetcher, FetchSettings
    from newsroom.core.components import FetchContext

    warnings: list[tuple[str, str | None]] = []
    options = {"retries": 0, "backoff": 0.0, **settings}

    def warn(message: str, url: str | None = None) -> None:
        warnings.append((message, url))

    async def run() -> list[Item]:
        async with Fetcher(FetchSettings(**options), cache_dir=cache_dir) as http:
            ctx = FetchContext(
                newsletter_title="Test",
                language=language,
                timezone=ZoneInfo(timezone),
                now=now or dt.datetime.now(dt.UTC),
                http=http,
                warn=warn,
            )
            items: list[Item] = []
            for _ in range(times):
                items = await source.fetch(ctx)
            return items

    return SourceRun(asyncio.run(run()), warnings)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1; script it with ``local_server.add(path, body)``."""
    with LocalServer() as server:
        yield server


def build_from_toml(
    toml: str,
    folder: Path,
    *,
    plugins: Plugins | None = None,
    now: Any = None,
    render: bool = False,
) -> BuildResult:
    """Write ``toml`` as ``folder/newsroom.toml`` and build it as ``newsroom build`` does.

    A missing ``[newsletter]`` table is filled in (title "Test"). ``plugins`` defaults to
    every installed plugin; ``render=True`` also runs the renderers (their files are in
    ``folder/build/``). Configuration problems raise :class:`newsroom.ConfigError`.
    """
    import asyncio

    from newsroom.config.newsletter import open_newsletter
    from newsroom.curate.pipeline import build

    if not any(line.strip() == "[newsletter]" for line in toml.splitlines()):
        toml = '[newsletter]\ntitle = "Test"\n' + toml
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "newsroom.toml"
    path.write_text(toml, "utf-8")
    newsletter = open_newsletter(path, plugins)
    from newsroom.render.themes import check_theme

    check_theme(newsletter.config)
    result = asyncio.run(build(newsletter.config, newsletter.plugins, now=now))
    if render:
        from newsroom.render.rendering import render as run_render

        run_render(newsletter.config, newsletter.plugins, result.edition)
    return result


@pytest.fixture
def plugin_manager() -> Plugins:
    """A fresh plugin manager with every installed plugin loaded."""
    from newsroom.core.plugins import load_plugins

    return load_plugins()


@pytest.fixture
def build_edition(tmp_path: Path) -> Callable[..., BuildResult]:
    """``build_edition(toml, plugins=None, now=None, render=False)``: an edition built from
    newsroom.toml text in a fresh folder; see :func:`build_from_toml`."""
    count = 0

    def build(toml: str, **options: Any) -> BuildResult:
        nonlocal count
        count += 1
        return build_from_toml(toml, tmp_path / f"newsletter-{count}", **options)

    return build
