"""The shared HTTP client against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import time
from pathlib import Path

import pytest

from newsroom.collect.http import Fetcher, FetchError, FetchSettings, Response, requests_until
from newsroom.testing import LocalServer

FAST = FetchSettings(timeout=2, total_timeout=5, retries=2, backoff=0.05)


def fetch(url: str, settings: FetchSettings = FAST, cache_dir: Path | None = None, **kw):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(settings, cache_dir=cache_dir) as http:
            return await http.get(url, **kw), http

    return asyncio.run(go())


def test_user_agent_names_the_project(local_server: LocalServer) -> None:
    url = local_server.add("/feed", "<rss/>")
    response, _ = fetch(url)
    assert response.content == b"<rss/>"
    assert local_server.requests[0].headers["User-Agent"].startswith("newsroom/")


def test_retries_5xx_then_succeeds(local_server: LocalServer) -> None:
    url = local_server.add("/flaky", "ok", sequence=[(503, {}), (500, {})])
    response, _ = fetch(url)
    assert response.content == b"ok"
    assert local_server.hits("/flaky") == 3


def test_honours_retry_after(local_server: LocalServer) -> None:
    url = local_server.add("/busy", "ok", sequence=[(429, {"Retry-After": "1"})])
    start = time.monotonic()
    response, _ = fetch(url)
    assert response.content == b"ok"
    assert time.monotonic() - start >= 0.7  # waited about the second the server asked for


def test_refuses_retry_after_beyond_limit(local_server: LocalServer) -> None:
    url = local_server.add("/later", "ok", sequence=[(503, {"Retry-After": "3600"})])
    with pytest.raises(FetchError, match="retry after 3600 s"):
        fetch(url)
    assert local_server.hits("/later") == 1


def test_gives_up_after_retries_with_status(local_server: LocalServer) -> None:
    url = local_server.add("/down", "no", status=500)
    with pytest.raises(FetchError) as info:
        fetch(url)
    assert info.value.status == 500
    assert "HTTP 500" in str(info.value.message)
    assert local_server.hits("/down") == 3  # one try and two retries


def test_404_is_not_retried(local_server: LocalServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(local_server.url + "/missing")
    assert local_server.hits("/missing") == 1


def test_timeout_is_reported(local_server: LocalServer) -> None:
    url = local_server.add("/slow", "late", delay=2)
    settings = FetchSettings(timeout=0.3, total_timeout=0.5, retries=0)
    with pytest.raises(FetchError, match="timed out"):
        fetch(url, settings)


def test_connection_refused_is_reported() -> None:
    with pytest.raises(FetchError, match="cannot connect") as info:
        fetch("http://127.0.0.1:9/feed", FetchSettings(retries=0))
    assert info.value.url == "http://127.0.0.1:9/feed"


def test_a_host_name_that_does_not_resolve_fails_at_once_and_is_asked_once() -> None:
    """Before, each lookup was tried four times (1 + retries) with backoff between: an
    offline build spun for 11 s and ended in "[Errno -2] Name or service not known".
    `.invalid` never resolves (RFC 6761)."""

    async def go() -> tuple[list[str], int]:
        async with Fetcher(FetchSettings(retries=3, backoff=0.2)) as http:
            errors = []
            for path in ("/feed", "/other"):
                with pytest.raises(FetchError) as caught:
                    await http.get(f"https://news.newsroom-test.invalid{path}")
                errors.append(str(caught.value.message))
            return errors, http.requests

    errors, tries = asyncio.run(go())
    assert tries == 1  # no retry, and the second request did not ask the resolver again
    for message in errors:
        assert message.startswith("host name does not resolve: news.newsroom-test.invalid (")
        assert "no network, no DNS, or no such host" in message
        assert "Errno" not in message


def test_an_offline_build_says_what_to_check_and_how_to_work_offline(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "Offline"\n\n[[sources]]\nname = "news"\nplugin = "news"\n'
        'feeds = ["https://a.newsroom-test.invalid/rss", "https://b.newsroom-test.invalid/atom"]\n',
        "utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(tmp_path / "newsroom.toml"), "build"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 5, result.stderr
    assert (
        "no host name resolved (a.newsroom-test.invalid, b.newsroom-test.invalid). Check that "
        "this machine is online and its DNS answers." in result.stderr
    )
    assert "--mirror" in result.stderr and "newsroom init --example ai-briefing" in result.stderr
    assert "Errno" not in result.stderr


def test_response_size_is_capped(local_server: LocalServer) -> None:
    url = local_server.add("/huge", b"x" * (3 * 1024 * 1024))
    with pytest.raises(FetchError, match="larger than"):
        fetch(url, FetchSettings(max_bytes=1024 * 1024, retries=0))


def test_gzip_bomb_is_refused_without_inflating_it(local_server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 300 * 1024
    url = local_server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="after decompression"):
        fetch(url, FetchSettings(max_bytes=5 * 1024 * 1024, retries=0))


def test_gzip_is_decoded(local_server: LocalServer) -> None:
    url = local_server.add("/gz", "안녕하세요 feed".encode(), gzip=True)
    response, _ = fetch(url)
    assert response.content.decode() == "안녕하세요 feed"


def test_conditional_get_cache(local_server: LocalServer, tmp_path: Path) -> None:
    url = local_server.add("/etag", "<feed>v1</feed>", etag=True)
    first, _ = fetch(url, cache_dir=tmp_path)
    second, http = fetch(url, cache_dir=tmp_path)
    assert not first.from_cache
    assert second.from_cache and second.content == b"<feed>v1</feed>"
    assert local_server.requests[-1].headers.get("If-None-Match")
    assert http.not_modified == 1


def test_mirror_routes_by_host(tmp_path: Path) -> None:
    (tmp_path / "example.org" / "feeds").mkdir(parents=True)
    (tmp_path / "example.org" / "feeds" / "ai.xml").write_text("<rss>mirrored</rss>")
    with LocalServer(tmp_path) as server:

        async def go() -> bytes:
            async with Fetcher(FAST, mirror=server.url) as http:
                return (await http.get("https://example.org/feeds/ai.xml?x=1")).content

        assert asyncio.run(go()) == b"<rss>mirrored</rss>"
        assert server.requests[0].path == "/example.org/feeds/ai.xml?x=1"


def test_min_interval_spaces_requests_to_one_host(local_server: LocalServer) -> None:
    url = local_server.add("/api", "ok")

    async def go() -> None:
        async with Fetcher(FAST) as http:
            await asyncio.gather(*(http.get(url, min_interval=0.3) for _ in range(3)))

    start = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - start >= 0.55


def test_result_cache_keeps_what_is_used_and_prunes_the_rest(tmp_path: Path) -> None:
    import sqlite3

    from newsroom.collect.cache import CacheDB, ResultCache

    db = CacheDB(tmp_path / "cache.sqlite")
    cache = ResultCache(db)
    cache.remember(b"<feed>a</feed>", "k", {"items": [1]})
    cache.remember(b"<feed>b</feed>", "k", {"items": [2]})
    assert cache.recall(b"<feed>a</feed>", "k") == {"items": [1]}  # before it is written
    assert cache.recall(b"<feed>a</feed>", "other key") is None
    db.close()
    # A month later, in another process: entry a is used again, b is not.
    with sqlite3.connect(tmp_path / "cache.sqlite") as raw:
        raw.execute("UPDATE results SET used = ?", (time.time() - 30 * 86400,))
    raw.close()
    db = CacheDB(tmp_path / "cache.sqlite")
    cache = ResultCache(db)
    assert cache.recall(b"<feed>a</feed>", "k") == {"items": [1]}
    cache.prune()
    assert cache.recall(b"<feed>a</feed>", "k") == {"items": [1]}
    assert cache.recall(b"<feed>b</feed>", "k") is None
    db.close()


def test_result_cache_keeps_bytes_as_written(tmp_path: Path) -> None:
    from newsroom.collect.cache import CacheDB, ResultCache

    db = CacheDB(tmp_path / "cache.sqlite")
    cache = ResultCache(db)
    assert cache.recall_bytes(b"body", "k") is None
    cache.remember_bytes(b"body", "k", '{"a": "한"}'.encode())
    db.close()
    cache = ResultCache(CacheDB(tmp_path / "cache.sqlite"))
    assert cache.recall_bytes(b"body", "k") == '{"a": "한"}'.encode()
    assert cache.recall(b"body", "k") == {"a": "한"}


def test_a_damaged_cache_file_is_replaced_not_fatal(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """The cache is only a cache: a file that is not SQLite costs one uncached fetch."""
    (tmp_path / "cache.sqlite").write_bytes(b"not a database" * 100)
    url = local_server.add("/etag", "<feed>v1</feed>", etag=True)
    first, _ = fetch(url, cache_dir=tmp_path)
    second, http = fetch(url, cache_dir=tmp_path)
    assert first.content == second.content == b"<feed>v1</feed>"
    assert second.from_cache and http.not_modified == 1


def test_a_cache_damaged_inside_costs_a_fetch_not_the_build(
    local_server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    urls = [local_server.add(f"/f{n}", f"<feed>{n}</feed>" * 2000, etag=True) for n in range(5)]

    async def go() -> list[Response]:
        async with Fetcher(FAST, cache_dir=tmp_path) as http:
            return list(await asyncio.gather(*(http.get(u) for u in urls)))

    asyncio.run(go())
    path = tmp_path / "cache.sqlite"
    data = bytearray(path.read_bytes())
    data[4096:-4096] = b"\xff" * (len(data) - 8192)  # the pages inside, not the header
    path.write_bytes(bytes(data))
    again = asyncio.run(go())
    assert [r.content for r in again] == [f"<feed>{n}</feed>".encode() * 2000 for n in range(5)]
    assert "reading failed (database disk image is malformed)" in caplog.text
    third = asyncio.run(go())  # the cache was rebuilt by the second fetch
    assert all(r.from_cache for r in third)


def test_a_cache_another_build_holds_is_waited_for_once_and_kept(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from newsroom.collect import cache

    urls = [local_server.add(f"/f{n}", f"<feed>{n}</feed>", etag=True) for n in range(5)]
    fetch(urls[0], cache_dir=tmp_path)
    before = (tmp_path / "cache.sqlite").read_bytes()
    holder = sqlite3.connect(tmp_path / "cache.sqlite")
    holder.execute("BEGIN EXCLUSIVE")  # another build, in the middle of its commit
    waits: list[float] = []
    connect = sqlite3.connect

    def timed(*args: object, **kwargs: object) -> sqlite3.Connection:
        waits.append(float(kwargs.get("timeout", 5.0)))  # type: ignore[arg-type]
        kwargs["timeout"] = 0.2
        return connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache.sqlite3, "connect", timed)

    async def go() -> list[Response]:
        async with Fetcher(FAST, cache_dir=tmp_path) as http:
            return list(await asyncio.gather(*(http.get(u) for u in urls)))

    start = time.monotonic()
    responses = asyncio.run(go())
    assert [r.content for r in responses] == [f"<feed>{n}</feed>".encode() for n in range(5)]
    assert len(waits) == 1 and time.monotonic() - start < 3  # one wait, not one per feed
    holder.rollback()
    holder.close()
    assert (tmp_path / "cache.sqlite").read_bytes() == before  # neither deleted nor changed


def test_the_old_one_file_per_entry_cache_is_cleared(
    local_server: LocalServer, tmp_path: Path
) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / f"{'a' * 64}.json").write_text("{}")
    (tmp_path / f"{'b' * 64}.json").write_text("{}")
    (tmp_path / f"{'b' * 64}.body").write_bytes(b"<feed/>")
    (tmp_path / "notes.json").write_text("{}")  # not one of ours: left alone
    fetch(local_server.add("/f", "<feed/>", etag=True), cache_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("cache.")) == [
        "notes.json"
    ]


def test_many_bodies_are_written_in_one_transaction(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Bodies stored during a fetch are readable by the next one, all of them."""
    urls = [local_server.add(f"/f{n}", f"<feed>{n}</feed>", etag=True) for n in range(30)]

    async def go() -> list[Response]:
        async with Fetcher(FAST, cache_dir=tmp_path) as http:
            return list(await asyncio.gather(*(http.get(u) for u in urls)))

    asyncio.run(go())
    again = asyncio.run(go())
    assert [r.content for r in again] == [f"<feed>{n}</feed>".encode() for n in range(30)]
    assert all(r.from_cache for r in again)


def test_connections_go_through_the_fetchers_own_streams(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsroom.collect import http as module

    streams: list[object] = []
    connect = module._Backend.connect_tcp

    async def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        stream = await connect(self, *args, **kwargs)
        streams.append(stream)
        return stream

    monkeypatch.setattr(module._Backend, "connect_tcp", counting)
    url = local_server.add("/feed", "<rss/>" * 10_000)

    async def go() -> list[bytes]:
        async with Fetcher(FetchSettings(max_connections=1)) as http:
            return [(await http.get(url)).content for _ in range(3)]

    assert asyncio.run(go()) == [b"<rss/>" * 10_000] * 3
    # One connection, kept alive for all three requests, with its socket at hand.
    assert len(streams) == 1
    assert isinstance(streams[0], module._Stream)
    assert streams[0].get_extra_info("socket") is not None


def test_an_idle_connection_closed_by_the_server_reads_as_readable() -> None:
    import socket

    from newsroom.collect.http import _socket_readable

    ours, theirs = socket.socketpair()
    try:
        assert not _socket_readable(ours)
        theirs.close()
        assert _socket_readable(ours)  # the EOF is waiting: httpcore drops the connection
    finally:
        ours.close()
    assert _socket_readable(ours)  # closed


def test_a_busy_pool_hands_requests_to_an_idle_one() -> None:
    fetcher = Fetcher(FetchSettings(max_connections=32))
    url = "https://example.com/feed"
    home = fetcher._shard_for(url)
    assert fetcher._shard_for(url) == home  # a URL keeps to its pool while it has room
    fetcher._busy[home] = fetcher._per_shard
    other = fetcher._shard_for(url)
    assert other != home and fetcher._busy[other] == 0
    fetcher._busy = [fetcher._per_shard] * len(fetcher._busy)
    assert fetcher._shard_for(url) == home  # all busy: wait in its own pool
    asyncio.run(fetcher.aclose())


def test_a_response_slower_than_total_timeout_is_not_retried(local_server: LocalServer) -> None:
    # The server answers at once and then sends a byte a second: it is up, and a second try
    # would take as long again.
    url = local_server.add("/drip", "x" * 100, drip=0.2)
    with pytest.raises(FetchError, match=r"took longer than 1 s \(\[http\] total_timeout\)"):
        fetch(url, FetchSettings(total_timeout=1, retries=3, backoff=0))
    assert local_server.hits("/drip") == 1


def test_requests_and_retries_end_by_the_deadline(local_server: LocalServer) -> None:
    url = local_server.add("/down", "no", status=503)

    async def go() -> None:
        async with Fetcher(FetchSettings(retries=10, backoff=0.2)) as http:
            with requests_until(time.monotonic() + 1.0, 1.0):
                await http.get(url)

    with pytest.raises(FetchError, match="HTTP 503"):
        asyncio.run(go())
    # 0.2 + 0.4 s of waits fit in the second; the next (0.8 s) would not, so no more tries.
    assert 2 <= local_server.hits("/down") <= 3
