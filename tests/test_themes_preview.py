"""``newsroom preview``: the email at two widths in two modes next to the web edition, and a
reload of every open page when a template, the config or an edition.json changes."""

from __future__ import annotations

import http.client
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest
from test_render import korean_edition, write_config
from test_themes import plugins as plugins  # noqa: F401 (the module's fixture)
from test_themes import write_theme

from newsroom.core.plugins import Plugins
from newsroom.render.preview import RELOAD_SCRIPT, PreviewServer
from newsroom.render.rendering import render


class Events:
    """Reads the preview's server-sent events in a thread."""

    def __init__(self, server: PreviewServer) -> None:
        host, port = server.httpd.server_address[:2]
        self.conn = http.client.HTTPConnection(str(host), int(port), timeout=30)
        self.conn.request("GET", "/_preview/events")
        self.response = self.conn.getresponse()
        assert self.response.getheader("Content-Type") == "text/event-stream"
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event = ""
        try:
            for raw in self.response:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    self.events.put((event, line[6:]))
        except (OSError, ValueError):
            pass

    def next(self, timeout: float = 20) -> tuple[str, str]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def preview(plugins: Plugins, tmp_path: Path) -> Iterator[tuple[PreviewServer, Path]]:
    write_theme(
        tmp_path / "look",
        {
            "theme.toml": 'extends = "briefing"\n',
            "templates/email/_footer.mjml.j2": "<mj-section><mj-column><mj-text>첫 꼬리말 "
            '<a href="{{ urls.unsubscribe }}">{{ _("Unsubscribe") }}</a></mj-text>'
            "</mj-column></mj-section>",
        },
    )
    config = write_config(tmp_path, plugins, theme="./look", base_url="https://example.org/b/")
    edition = korean_edition(hostile=False)
    folder = config.output_dir / "editions" / edition.id
    folder.mkdir(parents=True)
    edition.save(folder / "edition.json")
    render(config, plugins, edition)
    server = PreviewServer(config, port=0, plugins=plugins, interval=0.1)
    server.start()
    try:
        yield server, tmp_path
    finally:
        server.stop()


def get(server: PreviewServer, path: str) -> str:
    with urlopen(server.url.rstrip("/") + path, timeout=10) as response:
        assert response.status == 200
        return str(response.read().decode("utf-8"))


def wait_for(server: PreviewServer, path: str, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        body = get(server, path)
        if text in body or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_the_preview_shows_the_email_in_both_widths_and_modes_and_the_web_edition(
    preview: tuple[PreviewServer, Path],
) -> None:
    server, _ = preview
    page = get(server, "/")
    for frame in (
        'src="/_preview/email/2026-02-14?scheme=light" width="680"',
        'src="/_preview/email/2026-02-14?scheme=dark" width="680"',
        'src="/_preview/email/2026-02-14?scheme=light" width="375"',
        'src="/_preview/email/2026-02-14?scheme=dark" width="375"',
        'src="/site/editions/2026-02-14/index.html?scheme=light"',
        'src="/site/editions/2026-02-14/index.html?scheme=dark" width="375"',
    ):
        assert frame in page
    dark = get(server, "/_preview/email/2026-02-14?scheme=dark")
    light = get(server, "/_preview/email/2026-02-14?scheme=light")
    assert "@media all" in dark and "prefers-color-scheme: dark" not in dark
    assert "@media not all" in light and "prefers-color-scheme: dark" not in light
    assert "첫 꼬리말" in dark and RELOAD_SCRIPT in dark
    web = get(server, "/site/editions/2026-02-14/index.html?scheme=dark")
    assert "논문 동향" in web and "@media all" in web
    # The built files themselves carry no preview script.
    site = server.output / "site" / "editions" / "2026-02-14" / "index.html"
    assert "EventSource" not in site.read_text("utf-8")


def test_a_template_change_renders_again_and_reloads_the_pages(
    preview: tuple[PreviewServer, Path],
) -> None:
    server, root = preview
    events = Events(server)
    try:
        footer = root / "look" / "templates" / "email" / "_footer.mjml.j2"
        footer.write_text(footer.read_text("utf-8").replace("첫 꼬리말", "새 꼬리말"), "utf-8")
        assert events.next() == ("reload", '"changed"')
        assert "새 꼬리말" in get(server, "/_preview/email/2026-02-14?scheme=light")

        # A broken template: the error is shown, the last good email stays served.
        footer.write_text("<mj-section>{% if %}</mj-section>", "utf-8")
        event, data = events.next()
        assert event == "failed" and "template" in data
        assert "새 꼬리말" in get(server, "/_preview/email/2026-02-14?scheme=light")
        assert "nr-preview-error" in get(server, "/")
        footer.write_text(
            "<mj-section><mj-column><mj-text>고친 꼬리말</mj-text></mj-column></mj-section>",
            "utf-8",
        )
        assert events.next()[0] == "reload"
        assert "고친 꼬리말" in get(server, "/_preview/email/2026-02-14")
    finally:
        events.close()


def test_a_config_change_and_an_edition_change_reload_the_pages(
    preview: tuple[PreviewServer, Path],
) -> None:
    server, root = preview
    events = Events(server)
    try:
        config = root / "newsroom.toml"
        config.write_text(
            config.read_text("utf-8") + '\n[theme]\naccent_color = "#0f766e"\n', "utf-8"
        )
        assert events.next()[0] == "reload"
        assert "#0f766e" in get(server, "/_preview/email/2026-02-14")
        assert "--nr-accent: #0f766e" in get(server, "/site/editions/2026-02-14/index.html")

        path = server.output / "editions" / "2026-02-14" / "edition.json"
        path.write_text(
            path.read_text("utf-8").replace('"AI 브리핑 · 2026년 2월 14일"', '"고친 제목"'), "utf-8"
        )
        assert events.next()[0] == "reload"
        assert "고친 제목" in wait_for(server, "/site/index.html", "고친 제목")
        assert "고친 제목" in get(server, "/_preview/email/2026-02-14")
    finally:
        events.close()


@pytest.mark.parametrize("given", [True, False], ids=["base-manager", "installed-plugins"])
def test_reopening_after_a_config_change_loads_the_plugins_dir_once(
    tmp_path: Path, given: bool
) -> None:
    import os

    from newsroom.core.plugins import load_plugins
    from newsroom.render.preview import Watcher

    (tmp_path / "my-plugins").mkdir()
    (tmp_path / "my-plugins" / "local_sources.py").write_text(
        "from newsroom import Item, Source, hookimpl\n\n"
        "class Notes(Source):\n"
        '    name = "notes"\n\n'
        "    async def fetch(self, ctx):\n"
        "        return []\n\n"
        "@hookimpl\n"
        "def register_sources(register):\n"
        "    register(Notes)\n",
        "utf-8",
    )
    config = tmp_path / "newsroom.toml"
    config.write_text(
        '[newsletter]\ntitle = "Local"\n[plugins]\nplugins_dir = "my-plugins"\n'
        '[[sources]]\nname = "notes"\nplugin = "notes"\n',
        "utf-8",
    )
    base = load_plugins() if given else None  # newsroom preview gives none: all installed
    changes: list[str] = []
    watcher = Watcher(config, base, changes.append)
    watcher.start()
    assert watcher.error == "" and watcher.plugins is not None
    assert watcher.plugins.pm.has_plugin("local_sources")
    for edit in range(2):  # the config edited twice
        config.write_text(config.read_text("utf-8") + f"# edit {edit}\n", "utf-8")
        stat = config.stat()
        os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9 * (edit + 1)))
        assert watcher.poll()
        assert changes[-1] == ""
        failures = [f.message() for f in watcher.plugins.load_failures]
        assert not [m for m in failures if "already installed" in m], failures
        assert watcher.plugins.pm.has_plugin("local_sources")
    assert base is None or not base.pm.has_plugin("local_sources")  # the base is unchanged


# -- what the preview answers -------------------------------------------------------------------


def raw_get(server: PreviewServer, target: bytes, host: bytes | None) -> tuple[int, bytes]:
    """One request written byte for byte (no client library to clean it up): the status, and
    the whole response."""
    import socket

    address, port = server.httpd.server_address[:2]
    lines = [b"GET " + target + b" HTTP/1.1"]
    if host is not None:
        lines.append(b"Host: " + host)
    lines.append(b"Connection: close")
    with socket.create_connection((str(address), int(port)), timeout=10) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1."), f"no answer to {target!r}: {data!r}"
    return int(data.split(b" ", 2)[1]), data


TOKEN = b"https://example.org/b/unsubscribe?t=SECRET-TOKEN-1234"


@pytest.fixture
def dry_run(preview: tuple[PreviewServer, Path]) -> tuple[PreviewServer, bytes]:
    """The preview, with what `newsroom send --dry-run` leaves in the edition's folder."""
    server, _ = preview
    folder = server.output / "editions" / "2026-02-14" / "dry-run"
    folder.mkdir()
    (folder / "000001.eml").write_bytes(b"Subject: hi\r\n\r\n" + TOKEN + b"\r\n")
    return server, b"/editions/2026-02-14/dry-run/000001.eml"


def test_the_preview_answers_only_requests_for_its_own_address(
    dry_run: tuple[PreviewServer, bytes],
) -> None:
    server, _ = dry_run
    port = str(server.httpd.server_address[1]).encode()
    for host in (b"127.0.0.1:" + port, b"localhost:" + port, b"[::1]:" + port):
        status, body = raw_get(server, b"/", host)
        assert status == 200 and b"newsroom preview" in body, host
    # A name that resolves to 127.0.0.1 (a DNS rebinding), another port, no Host at all.
    for host in (
        b"attacker.example:" + port,
        b"attacker.example",
        b"127.0.0.1.attacker.example:" + port,
        b"localhost.attacker.example:" + port,
        b"localhost:1",
        b"127.0.0.1",
        None,
    ):
        for target in (b"/", b"/site/index.html", b"/_preview/email/2026-02-14"):
            status, body = raw_get(server, target, host)
            assert status == 400, (host, target, status)
            assert b"newsroom preview" not in body and b"</html>" not in body


def test_the_preview_serves_the_pages_and_nothing_else_of_the_output_folder(
    dry_run: tuple[PreviewServer, bytes],
) -> None:
    server, eml = dry_run
    port = str(server.httpd.server_address[1]).encode()
    host = b"127.0.0.1:" + port
    (server.output.parent / "secret.txt").write_text("SECRET-TOKEN-1234", "utf-8")
    assert raw_get(server, b"/editions/2026-02-14/email.html", host)[0] == 200
    assert raw_get(server, b"/site/index.html", host)[0] == 200
    for target in (
        eml,  # the dry run's messages carry each subscriber's links
        b"/editions/2026-02-14/dry-run/",
        b"/../secret.txt",
        b"/%2e%2e/secret.txt",
        b"/site/%2e%2e/%2e%2e/secret.txt",
        b"/site/..%2f..%2fsecret.txt",
        b"/site/..\\..\\secret.txt",
        b"/site/%5c..%5c..%5csecret.txt",
        b"/_preview/email/..%2f..%2f..%2fsecret.txt",
        b"//etc/passwd",
    ):
        status, body = raw_get(server, target, host)
        assert status in (400, 404), (target, status)
        assert b"SECRET-TOKEN-1234" not in body and b"root:" not in body


def test_a_nul_byte_or_a_broken_path_gets_400_and_the_preview_keeps_serving(
    preview: tuple[PreviewServer, Path],
) -> None:
    server, _ = preview
    host = b"127.0.0.1:" + str(server.httpd.server_address[1]).encode()
    for target in (
        b"/%00",
        b"/\x00",
        b"/site/index.html\x00",
        b"/site/index.html%00.png",
        b"/editions/2026-02-14%00/email.html",
        b"/_preview/email/2026-02-14%00",
        b"/site/%ff%fe.html",
    ):
        status, _ = raw_get(server, target, host)
        assert status == 400, (target, status)
        status, body = raw_get(server, b"/", host)
        assert status == 200 and b"newsroom preview" in body


@pytest.mark.parametrize(
    ("host", "bound", "allowed"),
    [
        ("127.0.0.1:8000", "127.0.0.1", True),
        ("localhost:8000", "127.0.0.1", True),
        ("[::1]:8000", "127.0.0.1", True),
        ("preview.lan:8000", "preview.lan", True),  # the host it was started on
        ("192.168.0.7:8000", "0.0.0.0", True),  # every address: any IP, never a name
        ("attacker.example:8000", "0.0.0.0", False),
        ("192.168.0.7:8000", "127.0.0.1", False),
        ("localhost:8001", "127.0.0.1", False),
        ("localhost", "127.0.0.1", False),  # port 80
        ("::1:8000", "127.0.0.1", False),  # an IPv6 address needs its brackets
        ("user@localhost:8000", "127.0.0.1", False),
    ],
)
def test_which_host_headers_name_the_preview(host: str, bound: str, allowed: bool) -> None:
    from newsroom.render.preview import host_allowed

    assert host_allowed(host, bound, 8000) is allowed


def hang_up_during(address: tuple[str, int], request: bytes) -> None:
    """Send ``request``, read a little of the answer and hang up with the rest on its way
    (a reset, as when a browser tab closes)."""
    import socket
    import struct

    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request)
        sock.recv(100)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_browser_hanging_up_mid_answer_leaves_no_traceback(
    preview: tuple[PreviewServer, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    """socketserver printed "Exception occurred during processing of request" and a
    traceback from the preview's thread, in the middle of whatever the terminal showed."""
    server, _ = preview
    (server.output / "site" / "big.txt").write_bytes(b"x" * 20_000_000)
    address = (str(server.httpd.server_address[0]), int(server.httpd.server_address[1]))
    host = f"127.0.0.1:{address[1]}".encode()
    for _ in range(3):
        hang_up_during(address, b"GET /site/big.txt HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    time.sleep(1)  # for the server's threads to meet the closed connections
    status, _ = raw_get(server, b"/", host)
    assert status == 200
    err = capfd.readouterr().err
    assert "Exception occurred" not in err and "Traceback" not in err, err


def test_a_request_that_fails_inside_the_local_server_fails_its_test(tmp_path: Path) -> None:
    """A scripted handler that raises was printed by socketserver from the server's thread,
    outside any test's output; now the local_server fixture fails the test that owns it."""
    import subprocess
    import sys

    (tmp_path / "test_broken_handler.py").write_text(
        "import urllib.error, urllib.request\n"
        "def test_it(local_server):\n"
        "    def broken(request, body):\n"
        "        raise KeyError('oops')\n"
        "    url = local_server.add('/x', handler=broken)\n"
        "    try:\n"
        "        urllib.request.urlopen(url, timeout=5)\n"
        "    except (urllib.error.URLError, OSError):\n"
        "        pass\n",
        "utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
        + [str(tmp_path / "test_broken_handler.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "the local server failed a request" in result.stdout
    assert "KeyError: 'oops'" in result.stdout
    assert "Exception occurred during processing" not in result.stdout + result.stderr
