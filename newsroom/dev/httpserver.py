"""A real HTTP server on 127.0.0.1 that serves files and scripted responses.

:class:`LocalServer` is the ``local_server`` fixture of :mod:`newsroom.testing`, the server of
the offline demo, and what ``newsroom build --mirror FOLDER`` serves a folder of saved
responses with: ``https://host/path?q`` is answered from ``FOLDER/host/path`` (a folder's
``index`` file for a folder), with a content type from the file's first bytes, an ETag and
a Last-Modified date.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that takes a client hanging up for what it is, and keeps any
    other error of a request in ``errors`` instead of printing it from its thread (where it
    would land in no test's output, or after it)."""

    daemon_threads = True
    # Read by listen() in the constructor: with the default backlog of 5, a burst of
    # concurrent clients has connections dropped and retried a second later.
    request_queue_size = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: list[str] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        # A client that hangs up early (a body refused as too large, a timeout) is a test's
        # point, not an error of the server.
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        import traceback

        self.errors.append(f"{client_address}: {traceback.format_exc()}")


class BackgroundServer:
    """A :class:`QuietServer` answering from a thread of its own: ``start``/``stop``, or a
    context manager. Subclasses set ``_httpd`` and ``_thread`` in their constructor."""

    _httpd: QuietServer
    _thread: threading.Thread

    def _serve(self, address: tuple[str, int], handler: type[Any]) -> None:
        self._httpd = QuietServer(address, handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def errors(self) -> list[str]:
        """Tracebacks of the requests that failed in the server (a handler that raised)."""
        return self._httpd.errors

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


class LocalServer(BackgroundServer):
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

        self._serve(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

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
