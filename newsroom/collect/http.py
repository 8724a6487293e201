"""The one HTTP client every source shares.

:class:`Fetcher` wraps an :class:`httpx.AsyncClient` with what fetching feeds on a schedule
needs: timeouts (per read and per whole request), a cap on the decoded response size (so a
50 MB page or a gzip bomb is refused, not loaded), retries with backoff on 429/5xx and dropped
connections honouring ``Retry-After``, a per-host minimum interval (arXiv asks for 3 s), a
User-Agent naming the project, and an on-disk conditional-GET cache (ETag/Last-Modified).

A source's requests share one deadline (:func:`requests_until`, set by the build from
``[plugins] source_timeout``): every request, its retries and the waits between them end by
then, so a server that drips its answer a byte at a time costs a source its deadline at most,
never the per-request limit times the number of tries. A request that runs out of its own
``total_timeout`` is not tried again: the server answered, slowly, and would again.

Errors are raised as :class:`FetchError` with the URL and a one-line reason.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import select
import socket
import ssl
import sys
import time
import zlib
from asyncio.trsock import TransportSocket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpcore

# httpx imports its command-line client on import whenever rich, pygments and click are
# installed (they are: newsroom uses rich and click), which costs every newsroom command
# about 50 ms of start-up for a tool it never runs. A None entry in sys.modules makes that
# one import fail, and httpx then defines its "install httpx[cli]" stand-in instead.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
import httpx  # noqa: E402

from newsroom.collect.cache import CacheDB, HttpCache, ResultCache  # noqa: E402

# The fetcher's settings come from [http]; importable from here, where they were defined.
from newsroom.config.loading import MB as MB  # noqa: E402
from newsroom.config.loading import USER_AGENT as USER_AGENT  # noqa: E402
from newsroom.config.loading import FetchSettings as FetchSettings  # noqa: E402
from newsroom.core.errors import FetchError  # noqa: E402

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class Response:
    """A fetched response, fully read and decoded."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    from_cache: bool = False
    """True when the server answered 304 and the body came from the cache."""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None

    def text(self) -> str:
        """The body as text, by the declared charset, else UTF-8 with replacement."""
        try:
            return self.content.decode(self.charset or "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(frozen=True)
class _Deadline:
    at: float
    """``time.monotonic()`` by which the requests end."""
    seconds: float
    """The time they were given, for messages."""
    what: str = ""
    """What ran out, for messages: "the step's 15 s (timeout) ran out"."""


_DEADLINE: ContextVar[_Deadline | None] = ContextVar("newsroom_requests_until", default=None)


@contextmanager
def requests_until(at: float | None, seconds: float = 0.0, what: str = "") -> Iterator[None]:
    """Requests made inside (by this task and the tasks it starts) end by ``at``, a
    ``time.monotonic()`` value, retries and their waits included; ``seconds`` is the time
    they were given, named in the error of a request cut off by it (``what`` says what ran
    out, default: a source's time). ``None``: no deadline beyond each request's own limits."""
    token = _DEADLINE.set(None if at is None else _Deadline(at, seconds, what))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@dataclass
class _HostGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = 0.0


class _Decoder:
    """Content-Encoding decoding with a hard cap on output, chunk by chunk."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit = limit
        self.url = url
        self.size = 0
        self.parts: list[bytes] = []
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z: Any = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)
        else:
            raise FetchError(f"unsupported Content-Encoding {encoding!r}", url=url)

    def _append(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise FetchError(
                f"response is larger than {self.limit // MB or self.limit} "
                f"{'MB' if self.limit >= MB else 'bytes'} (after decompression); refused",
                url=self.url,
            )
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._append(chunk)
            return
        data = chunk
        try:
            while data:
                # Bounded output per call: a gzip bomb never expands past the limit in memory.
                out = self._z.decompress(data, 64 * 1024)
                self._append(out)
                data = self._z.unconsumed_tail
        except zlib.error as exc:
            raise FetchError(f"corrupt compressed response: {exc}", url=self.url) from exc

    def finish(self) -> bytes:
        if self._z is not None:
            try:
                self._append(self._z.flush())
            except zlib.error as exc:
                raise FetchError(f"corrupt compressed response: {exc}", url=self.url) from exc
        return b"".join(self.parts)


def _size(n: int) -> str:
    """``n`` bytes for a message: ``10 MB``, ``512 KB``."""
    return f"{n // MB} MB" if n >= MB else f"{n // 1024} KB" if n >= 1024 else f"{n} bytes"


def _jittered(delay: float) -> float:
    """``delay`` give or take a quarter, so clients that failed together retry apart."""
    return delay * (0.75 + random.random() / 2)


def _time_for(delay: float) -> bool:
    """Whether a retry after ``delay`` seconds would start before the requests' deadline."""
    deadline = _DEADLINE.get()
    return deadline is None or time.monotonic() + delay < deadline.at


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# Linux: acknowledge received data at once. A server that writes a response's headers and
# its body separately, with Nagle's algorithm on (Python's http.server does), holds the body
# back until the headers are acknowledged, and a delayed acknowledgement takes 40 ms. The
# option does not stick (the kernel returns to delayed acknowledgements), so it is set again
# before every read.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


_Socket = socket.socket | TransportSocket


#: The start of the message of a request whose host name does not resolve.
NOT_RESOLVED = "host name does not resolve"


def _lookup_failure(exc: BaseException) -> str | None:
    """The resolver's reason when ``exc`` comes from a host name lookup that failed."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return str(seen.strerror or seen).strip() or "no answer"
        seen = seen.__cause__ or seen.__context__
    return None


def _not_resolved(host: str, reason: str, url: str) -> FetchError:
    return FetchError(
        f"{NOT_RESOLVED}: {host} ({reason.lower()}); no network, no DNS, or no such host",
        url=url,
    )


class _Stream(httpcore.AsyncNetworkStream):
    """A connection of the fetcher: httpcore's own, acknowledging promptly (see
    :data:`_QUICKACK`) and answering httpcore's "is it readable" question, asked for every
    pooled connection on every request, without anyio's attribute lookup."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: _Socket | None) -> None:
        self._inner = inner
        self._sock = sock if sock is not None and sock.type == socket.SOCK_STREAM else None
        # The socket to set TCP_QUICKACK on before reads, if the platform has it.
        self._ack = (
            self._sock
            if self._sock is not None and self._sock.family in (socket.AF_INET, socket.AF_INET6)
            else None
        )

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._ack is not None and _QUICKACK is not None:
            try:
                self._ack.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                self._ack = None
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _Stream(inner, self._sock)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._sock is not None:
            return _socket_readable(self._sock)
        if info == "socket" and self._sock is not None:
            return self._sock
        return self._inner.get_extra_info(info)


def _is_socket_like(sock: Any) -> bool:
    return isinstance(sock, (socket.socket, TransportSocket)) or all(
        hasattr(sock, name) for name in ("fileno", "setsockopt", "family", "type")
    )


def _socket_readable(sock: _Socket) -> bool:
    """httpcore's test, without its lookups: a pooled idle connection with something to read
    (an EOF, usually) has been closed by the server."""
    if sock.fileno() == -1:
        return True
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)


class _Backend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, handing out :class:`_Stream` connections."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        sock = stream.get_extra_info("socket")
        # asyncio hands out its TransportSocket and uvloop a PseudoSocket; both have the
        # socket methods used here.
        return _Stream(stream, sock if _is_socket_like(sock) else None)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _use_own_backend(client: httpx.AsyncClient) -> bool:
    """Route the direct (not proxied) connections of ``client`` through :class:`_Backend`.

    httpx has no public way to pass httpcore a network backend, so this reaches into its
    default transport; with another httpx or httpcore layout it changes nothing."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if type(pool) is not httpcore.AsyncConnectionPool or backend is None:
        return False
    if not isinstance(backend, _Backend):
        pool._network_backend = _Backend(backend)
    return True


class Fetcher:
    """Shared HTTP client for sources. Use as ``async with Fetcher(...) as http``."""

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        cache_dir: Path | None = None,
        mirror: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        self.cache_db = CacheDB(cache_dir / "cache.sqlite") if cache_dir else None
        self.cache = HttpCache(self.cache_db) if self.cache_db else None
        self.results = ResultCache(self.cache_db) if self.cache_db else None
        """Results derived from response bodies (parsed feeds); ``None`` without a cache."""
        self.mirror = mirror.rstrip("/") if mirror else None
        self._gates: dict[str, _HostGate] = {}
        # Several small connection pools instead of one large one: httpcore's pool does work
        # proportional to the square of its connections on every request, which dominates
        # with a hundred feeds in flight. Requests are spread by URL; each client still keeps
        # its connections alive between requests.
        shards = max(1, min(8, self.settings.max_connections // 4))
        per_shard = max(1, self.settings.max_connections // shards)
        # One TLS context for all of them: loading the CA bundle costs ~30 ms each time.
        tls = httpx.create_ssl_context()
        self._clients = [
            httpx.AsyncClient(
                timeout=httpx.Timeout(self.settings.timeout),
                headers={
                    "User-Agent": self.settings.user_agent,
                    "Accept-Encoding": "gzip, deflate",
                },
                follow_redirects=True,
                max_redirects=5,
                limits=httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard),
                transport=transport,
                verify=tls,
            )
            for _ in range(shards if transport is None else 1)
        ]
        if transport is None:
            for client in self._clients:
                _use_own_backend(client)
        # Requests beyond the pool size wait here rather than in httpcore's queue, whose
        # bookkeeping grows with the square of the requests waiting in it.
        self._slots = asyncio.Semaphore(self.settings.max_connections)
        self._per_shard = per_shard
        self._busy = [0] * len(self._clients)  # requests in flight per pool
        self.requests = 0
        self.not_modified = 0
        self.unresolved: dict[str, str] = {}
        """Host names that did not resolve in this fetch, with the resolver's reason: a
        further request to one fails at once instead of asking the resolver again."""

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        if self.cache_db is not None:
            # One transaction for the whole fetch's cache writes, off the event loop.
            await asyncio.to_thread(self.cache_db.prune)
            self.cache_db.close()

    def _shard_for(self, url: str) -> int:
        """The pool for ``url``: the one its URL hashes to (so a host's requests tend to
        reuse its connections), unless that one is busy and another is less so (a request
        must not wait for a busy pool while another has idle connections)."""
        busy = self._busy
        n = zlib.crc32(url.encode("utf-8")) % len(busy)
        if busy[n] >= self._per_shard:
            least = min(range(len(busy)), key=busy.__getitem__)
            if busy[least] < busy[n]:
                n = least
        return n

    def _route(self, url: str) -> str:
        """With a mirror, ``https://host/path?q`` is fetched as ``<mirror>/host/path?q``."""
        if not self.mirror:
            return url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return url
        m = urlsplit(self.mirror)
        path = f"{m.path}/{parts.netloc}{parts.path or '/'}"
        return urlunsplit((m.scheme, m.netloc, path, parts.query, ""))

    async def _wait_for_host(self, url: str, min_interval: float) -> _HostGate | None:
        if min_interval <= 0:
            return None
        host = urlsplit(url).netloc
        gate = self._gates.setdefault(host, _HostGate())
        await gate.lock.acquire()
        try:
            wait = gate.last + min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        except BaseException:  # cancelled (a source timeout): let the next request through
            gate.lock.release()
            raise
        return gate

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        min_interval: float = 0.0,
        use_cache: bool = True,
        max_bytes: int | None = None,
    ) -> Response:
        """GET ``url``; on 304 the cached body is returned with ``from_cache=True``.
        ``max_bytes`` lowers the body size limit of ``[http] max_bytes`` for this request."""
        full = str(httpx.URL(url, params=params)) if params else url
        return await self.request(
            "GET",
            full,
            headers=headers,
            min_interval=min_interval,
            use_cache=use_cache,
            max_bytes=max_bytes,
        )

    async def post_json(
        self,
        url: str,
        payload: Any,
        *,
        headers: Mapping[str, str] | None = None,
        min_interval: float = 0.0,
    ) -> Response:
        """POST a JSON body (GraphQL APIs); never cached."""
        body = json.dumps(payload).encode("utf-8")
        merged = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        }
        return await self.request(
            "POST", url, headers=merged, content=body, min_interval=min_interval, use_cache=False
        )

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
        """Send a request with retries, size limit and (for GET) the conditional cache,
        ending by the deadline of :func:`requests_until` if one is set."""
        limit = min(max_bytes, self.settings.max_bytes) if max_bytes else self.settings.max_bytes
        deadline = _DEADLINE.get()
        if deadline is None:
            return await self._request(
                method, url, headers, content, min_interval, use_cache, limit
            )
        left = deadline.at - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            async with asyncio.timeout(left):
                return await self._request(
                    method, url, headers, content, min_interval, use_cache, limit
                )
        except TimeoutError:
            what = deadline.what or (
                f"the source's {deadline.seconds:g} s for its requests ran out ([plugins] "
                "source_timeout)"
            )
            raise FetchError(f"not finished when {what}", url=url) from None

    async def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        min_interval: float,
        use_cache: bool,
        max_bytes: int,
    ) -> Response:
        s = self.settings
        cache = self.cache if (use_cache and method == "GET") else None
        attempt = 0
        while True:
            send_headers = dict(headers or {})
            if cache:
                send_headers.update(cache.validators(url))
            gate = await self._wait_for_host(url, min_interval)
            try:
                response = await self._send_once(method, url, send_headers, content, max_bytes)
            except FetchError as exc:
                delay = _jittered(s.backoff * (2**attempt))
                if not exc.retryable or attempt >= s.retries or not _time_for(delay):
                    raise
            else:
                if response.status == 304 and cache:
                    cached = cache.load(url)
                    if cached is not None:
                        self.not_modified += 1
                        final, kept, body = cached
                        return Response(final, 200, kept, body, from_cache=True)
                    raise FetchError("server answered 304 but the cache entry is gone", url=url)
                retry = response.status in RETRY_STATUSES and attempt < s.retries
                after = _retry_after(response.headers.get("retry-after")) if retry else None
                if after is not None and after > s.max_retry_after:
                    raise FetchError(
                        f"HTTP {response.status}; server asks to retry after {after:.0f} s, "
                        f"longer than the {s.max_retry_after:.0f} s allowed",
                        url=url,
                        status=response.status,
                    )
                delay = after if after is not None else _jittered(s.backoff * (2**attempt))
                if response.status >= 400 and not (retry and _time_for(delay)):
                    raise FetchError(
                        f"HTTP {response.status} {httpx.codes.get_reason_phrase(response.status)}",
                        url=url,
                        status=response.status,
                        body=response.content,
                    )
                if not retry:
                    if cache and response.status == 200:
                        cache.store(url, response.url, dict(response.headers), response.content)
                    return response
            finally:
                if gate is not None:
                    gate.last = time.monotonic()
                    gate.lock.release()
            attempt += 1
            await asyncio.sleep(delay)

    async def _send_once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        max_bytes: int | None = None,
    ) -> Response:
        s = self.settings
        limit = max_bytes or s.max_bytes
        target = self._route(url)
        host = urlsplit(target).hostname or ""
        if host in self.unresolved:
            raise _not_resolved(host, self.unresolved[host], url)
        self.requests += 1
        try:
            async with self._slots, asyncio.timeout(s.total_timeout):
                shard = self._shard_for(target)
                client = self._clients[shard]
                self._busy[shard] += 1
                try:
                    request = client.build_request(method, target, headers=headers, content=content)
                    response = await client.send(request, stream=True)
                except BaseException:
                    self._busy[shard] -= 1
                    raise
                try:
                    declared = response.headers.get("content-length")
                    if (
                        declared
                        and declared.isdigit()
                        and response.headers.get("content-encoding", "") in ("", "identity")
                        and int(declared) > limit
                    ):
                        raise FetchError(
                            f"response is larger than {_size(limit)} "
                            f"(Content-Length {_size(int(declared))}); refused",
                            url=url,
                        )
                    decoder = _Decoder(response.headers.get("content-encoding", ""), limit, url)
                    async for chunk in response.aiter_raw():
                        decoder.feed(chunk)
                    body = decoder.finish()
                finally:
                    self._busy[shard] -= 1
                    await response.aclose()
        except TimeoutError:
            # Not retried: the server is up and answering, too slowly (a body dripping in a
            # byte at a time); another try would take as long.
            raise FetchError(
                f"timed out: the response took longer than {s.total_timeout:g} s "
                "([http] total_timeout)",
                url=url,
            ) from None
        except httpx.TimeoutException:
            raise FetchError(
                f"timed out (no answer within {s.timeout:g} s)", url=url, retryable=True
            ) from None
        except httpx.TooManyRedirects:
            raise FetchError("too many redirects", url=url) from None
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(f"unsupported URL: {exc}", url=url) from None
        except httpx.TransportError as exc:
            lookup = _lookup_failure(exc)
            if lookup is not None:
                # No retry: a name that does not resolve now will not in a second either
                # (offline, a typo, a domain gone); every try cost the resolver's timeout.
                self.unresolved[host] = lookup
                raise _not_resolved(host, lookup, url) from None
            reason = str(exc) or type(exc).__name__
            raise FetchError(f"cannot connect: {reason}", url=url, retryable=True) from None
        return Response(str(response.url), response.status_code, response.headers, body)
