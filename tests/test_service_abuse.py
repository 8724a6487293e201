"""newsroom serve against an attacker: mail-bombing, replays, huge bodies, slow clients,
tokens in logs, key rotation, erasure that leaves nothing behind.

Every test runs the real thing: uvicorn on 127.0.0.1 (in a thread, or the `newsroom serve`
command in a subprocess), the recording SMTP server of newsroom.dev.smtpsink, a state file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from conftest import open_state

from newsroom.config.newsletter import Newsletter, open_newsletter
from newsroom.deliver.subscribers import Subscriber, Subscribers, address_hash
from newsroom.deliver.tokens import Signer, load_keys
from newsroom.dev.smtpsink import Faults, SmtpSink
from newsroom.service import create_app
from newsroom.store.state import State

KEY = "abuse-signing-key-0123456789abcdefghijklmnop"
WEBHOOK_SECRET = "abuse-webhook-secret-0123456789"
#: Options every test here uses: a short answer time keeps the suite fast.
FAST = "signup_answer_seconds = 0.3\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(
    root: Path, smtp_port: int, port: int, extra: str = "", email: str = "", state: str = ""
) -> Path:
    """The config of a site; ``state`` is its [state] table, or `state = PATH` for the
    [newsletter] table (another site's file), or empty: its own file."""
    config = root / "newsroom.toml"
    where = state if state.startswith("state =") else ""
    config.write_text(
        f'[newsletter]\ntitle = "Briefing"\nlanguage = "en"\n{where}\n'
        '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/x"]\n'
        '[email]\nfrom = "Briefing <briefing@example.org>"\n' + email + "\n"
        f'[transport]\nplugin = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\n'
        'security = "none"\ntimeout = 5\n'
        f'[subscriptions]\nurl = "http://127.0.0.1:{port}/"\n'
        'webhook_secret = { "$env" = "NEWSROOM_TEST_WEBHOOK" }\n'
        + FAST
        + extra
        + ("" if where else state),
        "utf-8",
    )
    return config


@dataclass
class Site:
    """A newsletter and its subscription service on a real uvicorn."""

    newsletter: Newsletter
    sink: SmtpSink
    base: str

    @property
    def signer(self) -> Signer:
        return Signer(load_keys(self.newsletter.config.keys_file))

    @property
    def state_path(self) -> Path:
        return self.newsletter.config.state_path

    def sub(self, address: str) -> Subscriber | None:
        with State.of(self.newsletter.config) as state:
            return Subscribers(state).get(address)

    def add(self, address: str, name: str = "", status: str = "active") -> tuple[Subscriber, str]:
        with State.of(self.newsletter.config) as state:
            subs = Subscribers(state)
            sub, outcome = subs.add(address, name)
            assert sub is not None, outcome
            if status != "active":
                subs.set_status(sub.id, status, "test")
        return sub, self.signer.subscriber_token(sub.uid)

    def signup(self, address: str, name: str = "", client: str = "") -> httpx.Response:
        headers = {"X-Forwarded-For": client} if client else {}
        return httpx.post(
            self.base + "subscribe",
            data={"email": address, "name": name},
            headers=headers,
            timeout=30,
        )

    def confirm_links(self, address: str) -> list[str]:
        links = []
        for received in self.sink.messages:
            if address.lower() in (r.lower() for r in received.recipients):
                text = received.parsed().get_body(("plain",))
                assert text is not None
                links += re.findall(re.escape(self.base) + r"confirm/\S+", text.get_content())
        return links

    def webhook(self, events: object, timestamp: float | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {WEBHOOK_SECRET}"}
        headers["Newsroom-Timestamp"] = str(int(time.time() if timestamp is None else timestamp))
        return httpx.post(self.base + "webhooks/events", json=events, headers=headers, timeout=10)


@contextmanager
def serving(newsletter: Newsletter, port: int) -> Iterator[None]:
    """The app on a real uvicorn in a thread, configured as `newsroom serve` configures it
    (behind a proxy on loopback: X-Forwarded-For from 127.0.0.1 is trusted)."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(newsletter),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


MakeSite = Callable[..., Site]


def state_table(engine: str, request: pytest.FixtureRequest) -> str:
    """The [state] table for ``engine``: none for the SQLite file; for PostgreSQL, a new
    database with its tables created (as `newsroom state migrate` does)."""
    if engine == "sqlite":
        return ""
    database = request.getfixturevalue("postgres_db")
    State(database.url, migrate=True).close()
    return f'\n[state]\nurl = "{database.url}"\n'


def _make_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: str) -> Iterator[MakeSite]:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", KEY)
    monkeypatch.setenv("NEWSROOM_TEST_WEBHOOK", WEBHOOK_SECRET)
    with ExitStack() as stack:

        def make(
            extra: str = "",
            faults: Faults | None = None,
            email: str = "",
            share: Site | None = None,
        ) -> Site:
            """A site; ``share``: another service of that site, on its state (its file,
            or the same database)."""
            sink = share.sink if share else stack.enter_context(SmtpSink(faults=faults or Faults()))
            port = _free_port()
            root = tmp_path / f"site{port}"
            root.mkdir()
            where = state
            if share and not state:
                where = f'state = "{share.newsletter.config.state_path}"'
            config = write_config(root, sink.port, port, extra, email, where)
            keys = share.newsletter.config.keys_file if share else None
            if keys and keys.exists():  # the same keys, as a second instance of a service has
                (root / "signing-keys").write_bytes(keys.read_bytes())
            newsletter = open_newsletter(config)
            stack.enter_context(serving(newsletter, port))
            return Site(newsletter, sink, f"http://127.0.0.1:{port}/")

        yield make


@pytest.fixture
def make_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, request: pytest.FixtureRequest
) -> Iterator[MakeSite]:
    """Sites on the engine under test."""
    yield from _make_site(tmp_path, monkeypatch, state_table(engine, request))


@pytest.fixture
def site(make_site: MakeSite) -> Site:
    return make_site()


@pytest.fixture
def sqlite_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """A site whose state is an SQLite file (for what is true of the file itself)."""
    for make in _make_site(tmp_path, monkeypatch, ""):
        yield make()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


# -- mail-bombing through the signup form -------------------------------------------------------


def test_many_signups_for_one_address_send_one_confirmation(site: Site) -> None:
    """20 signups for one address, each from another client, at the same time: one email
    (before: 20)."""
    threads = [
        threading.Thread(target=site.signup, args=("victim@example.org", "", f"198.51.100.{n}"))
        for n in range(1, 21)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: site.sink.count("victim@example.org") >= 1, "no confirmation at all")
    site.signup("control@example.org", client="198.51.100.99")
    wait_for(lambda: site.sink.count("control@example.org") == 1, "no control mail")
    assert site.sink.count("victim@example.org") == 1


def test_an_address_gets_at_most_the_daily_number_of_confirmations(make_site: MakeSite) -> None:
    site = make_site("confirm_cooldown = 0\nconfirm_daily_limit = 3\n")
    for n in range(6):
        assert site.signup("victim@example.org", client=f"198.51.100.{n + 1}").status_code == 200
    site.signup("control@example.org", client="198.51.100.99")
    wait_for(lambda: site.sink.count("control@example.org") == 1, "no control mail")
    assert site.sink.count("victim@example.org") == 3


def test_suppressed_addresses_get_no_mail_and_the_same_page(site: Site) -> None:
    site.add("bounced@example.org", status="bounced")
    site.add("complained@example.org", status="complained")
    _, token = site.add("erased@example.org")
    assert httpx.post(f"{site.base}preferences/{token}/erase", timeout=10).status_code == 200
    pages = {
        address: site.signup(address, client=f"203.0.113.{n + 1}")
        for n, address in enumerate(
            (
                "bounced@example.org",
                "complained@example.org",
                "erased@example.org",
                "new@example.org",
            )
        )
    }
    wait_for(lambda: site.sink.count("new@example.org") == 1, "the new address got no mail")
    assert {(r.status_code, r.text) for r in pages.values()} == {
        (200, pages["new@example.org"].text)
    }
    assert "Check your inbox" in pages["new@example.org"].text
    assert site.sink.total == 1
    assert site.sub("erased@example.org") is None
    assert site.sub("bounced@example.org").status == "bounced"  # type: ignore[union-attr]


def test_signups_are_limited_per_client(site: Site) -> None:
    """The default limit is 5 a minute per client; another client is not affected."""
    answers = [
        site.signup(f"a{n}@example.org", client="198.51.100.7").status_code for n in range(7)
    ]
    assert answers[:5] == [200] * 5 and answers[5:] == [429, 429]
    limited = site.signup("late@example.org", client="198.51.100.7")
    assert "retry-after" in limited.headers and "Too many" in limited.text
    assert site.sub("late@example.org") is None
    assert site.signup("other@example.org", client="198.51.100.8").status_code == 200


def test_a_name_with_links_does_not_reach_the_headers(site: Site) -> None:
    name = "Claim your prize at https://evil.example/win and www.spam.example now " * 4
    site.signup("reader@example.org", name=name, client="198.51.100.1")
    wait_for(lambda: site.sink.count("reader@example.org") == 1, "no confirmation")
    message = site.sink.messages[0].parsed()
    shown = message["To"].addresses[0].display_name
    assert "http" not in str(message["To"]) and "example" not in shown and len(shown) <= 64
    assert "Claim your prize" in shown
    stored = site.sub("reader@example.org")
    assert stored is not None and "evil.example" not in stored.name and len(stored.name) <= 64


def test_the_answer_does_not_wait_for_the_mail_server(make_site: MakeSite) -> None:
    """The page comes at the same time for every address: a slow mail server does not make
    the answer for a new address later than for a suppressed one; the mail follows."""
    site = make_site(faults=Faults(delay=3.0))
    answer = site.signup("new@example.org", client="198.51.100.1")
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert site.sink.total == 0  # the answer came before the server took the message
    wait_for(lambda: site.sink.count("new@example.org") == 1, "the mail never came")


def test_a_confirmation_that_cannot_be_sent_is_not_check_your_inbox(make_site: MakeSite) -> None:
    site = make_site()
    site.add("bounced@example.org", status="bounced")
    site.sink.stop()  # the mail server is down
    failed = site.signup("new@example.org", client="198.51.100.1")
    assert failed.status_code == 503 and "Check your inbox" not in failed.text
    assert "could not send" in failed.text
    # A suppressed address gets no mail, and the same page: nothing tells them apart.
    suppressed = site.signup("bounced@example.org", client="198.51.100.2")
    assert (suppressed.status_code, suppressed.text) == (failed.status_code, failed.text)


# -- request bodies -----------------------------------------------------------------------------


def _raw_request(port: int, head: bytes, body: bytes = b"", drip: bytes = b"") -> bytes:
    """Send a request; return what the server answered (b"" if it answered nothing in 10 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + body)
        s.settimeout(10)
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def test_a_body_over_the_limit_is_refused_by_its_content_length(site: Site) -> None:
    """Headers that announce 300 MB get 413 at once, before a byte of the body is sent
    (before: the service waited to read all of it)."""
    port = int(site.base.rsplit(":", 1)[1].strip("/"))
    head = (
        b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 314572800\r\n\r\n"
    )
    answer = _raw_request(port, head)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_chunked_body_over_the_limit_is_refused_while_streaming(site: Site) -> None:
    port = int(site.base.rsplit(":", 1)[1].strip("/"))
    head = (
        b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 4  # 256 KB, and no last chunk
    answer = _raw_request(port, head, body)
    assert answer.startswith(b"HTTP/1.1 413 ")


# -- confirmation links --------------------------------------------------------------------------


@pytest.mark.parametrize("then", ["one-click unsubscribe", "complaint", "bounce"])
def test_a_used_confirmation_link_cannot_make_a_reader_active_again(site: Site, then: str) -> None:
    site.signup("reader@example.org", client="198.51.100.1")
    wait_for(lambda: len(site.confirm_links("reader@example.org")) == 1, "no confirmation")
    (link,) = site.confirm_links("reader@example.org")
    assert httpx.post(link, timeout=10).status_code == 200
    sub = site.sub("reader@example.org")
    assert sub is not None and sub.status == "active"
    if then == "one-click unsubscribe":
        token = site.signer.subscriber_token(sub.uid)
        httpx.post(
            f"{site.base}unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=10
        )
    else:
        site.webhook({"email": "reader@example.org", "type": then})
    before = site.sub("reader@example.org")
    assert before is not None and before.status != "active"

    replay = httpx.post(link, timeout=10)
    assert replay.status_code == 400
    assert site.sub("reader@example.org").status == before.status  # type: ignore[union-attr]


def test_an_unused_link_dies_with_an_unsubscribe_before_it_is_used(site: Site) -> None:
    """A reader who unsubscribed after asking to come back (a link still in their mailbox)
    is not made active by that older link."""
    _, token = site.add("reader@example.org", status="unsubscribed")
    site.signup("reader@example.org", client="198.51.100.1")
    wait_for(lambda: len(site.confirm_links("reader@example.org")) == 1, "no confirmation")
    (link,) = site.confirm_links("reader@example.org")
    site.webhook({"email": "reader@example.org", "type": "complaint"})
    assert httpx.post(link, timeout=10).status_code == 400
    assert site.sub("reader@example.org").status == "complained"  # type: ignore[union-attr]


def test_pending_signups_expire(make_site: MakeSite) -> None:
    site = make_site("confirm_hours = 0.0005\n")  # 1.8 seconds
    site.signup("late@example.org", client="198.51.100.1")
    wait_for(lambda: len(site.confirm_links("late@example.org")) == 1, "no confirmation")
    assert site.sub("late@example.org").status == "pending"  # type: ignore[union-attr]
    time.sleep(2.5)
    site.signup("other@example.org", client="198.51.100.2")  # any signup sweeps old ones
    assert site.sub("late@example.org") is None
    (link,) = site.confirm_links("late@example.org")
    assert httpx.post(link, timeout=10).status_code == 400
    assert site.sub("late@example.org") is None


# -- logs, keys, the webhook, redirects -----------------------------------------------------------


@contextmanager
def newsroom_serve(root: Path, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """The `newsroom serve` command, its output in root/serve.log."""
    log = (root / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsroom",
            "-c",
            str(root / "newsroom.toml"),
            "serve",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (root / "serve.log").read_text()
            assert time.monotonic() < deadline, "newsroom serve did not start"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        log.close()


Served = tuple[Path, int, SmtpSink, dict[str, str]]


@pytest.fixture
def served(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Iterator[Served]:
    state = state_table(engine, request)
    with SmtpSink() as sink:
        port = _free_port()
        write_config(tmp_path, sink.port, port, "request_timeout = 2\n", state=state)
        env = {**os.environ, "NEWSROOM_TEST_WEBHOOK": WEBHOOK_SECRET}
        env.pop("NEWSROOM_SECRET_KEY", None)
        yield tmp_path, port, sink, env


def _cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(root / "newsroom.toml"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_no_token_reaches_the_access_log(served: Served) -> None:
    root, port, sink, env = served
    env = {**env, "NEWSROOM_SECRET_KEY": KEY}
    base = f"http://127.0.0.1:{port}/"
    assert _cli(root, env, "subscribers", "add", "reader@example.org").returncode == 0
    with open_state(root / "newsroom.toml") as state:
        sub = Subscribers(state).get("reader@example.org")
    assert sub is not None
    token = Signer([KEY]).subscriber_token(sub.uid)
    with newsroom_serve(root, port, env):
        httpx.post(base + "subscribe", data={"email": "new@example.org"}, timeout=10)
        wait_for(lambda: sink.count("new@example.org") == 1, "no confirmation")
        text = sink.messages[0].parsed().get_body(("plain",)).get_content()  # type: ignore[union-attr]
        confirm = re.findall(re.escape(base) + r"confirm/\S+", text)[0]
        httpx.get(confirm, timeout=10)
        httpx.post(confirm, timeout=10)
        httpx.get(f"{base}preferences/{token}", timeout=10)
        httpx.get(f"{base}preferences/{token}/data", timeout=10)
        httpx.get(f"{base}unsubscribe/{token}", timeout=10)
        httpx.post(f"{base}unsubscribe/{token}", timeout=10)
        httpx.post(f"{base}preferences/{token}/erase", timeout=10)
    log = (root / "serve.log").read_text("utf-8")
    assert '"POST /unsubscribe/' in log  # the requests were logged ...
    confirm_token = confirm.rsplit("/", 1)[1]
    for secret in (token, confirm_token, confirm_token.split(".")[0]):
        assert secret not in log  # ... without their tokens
    assert "reader@example.org" not in log and "new@example.org" not in log


def test_a_running_service_takes_a_rotated_key_without_a_restart(served: Served) -> None:
    root, port, sink, env = served
    base = f"http://127.0.0.1:{port}/"
    assert _cli(root, env, "keys", "rotate").returncode == 0
    assert _cli(root, env, "subscribers", "add", "reader@example.org").returncode == 0
    with newsroom_serve(root, port, env):
        rotated = _cli(root, env, "keys", "rotate")
        assert rotated.returncode == 0
        keys = load_keys(root / "signing-keys")
        assert len(keys) == 2
        with open_state(root / "newsroom.toml") as state:
            sub = Subscribers(state).get("reader@example.org")
        assert sub is not None
        token = Signer(keys).subscriber_token(sub.uid)  # a link of the next edition
        one_click = httpx.post(
            f"{base}unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=10
        )
        assert one_click.status_code == 200
    with open_state(root / "newsroom.toml") as state:
        assert Subscribers(state).get("reader@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert "newsroom serve" in rotated.stdout  # and the command says so


def test_sighup_reloads_the_keys(served: Served) -> None:
    root, port, sink, env = served
    keys_file = root / "signing-keys"
    keys_file.write_text("first-key-0123456789abcdef\n", "utf-8")
    assert _cli(root, env, "subscribers", "add", "reader@example.org").returncode == 0
    with open_state(root / "newsroom.toml") as state:
        sub = Subscribers(state).get("reader@example.org")
    assert sub is not None
    with newsroom_serve(root, port, env) as proc:
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "signing keys reloaded" in (root / "serve.log").read_text(), "no reload")
        assert proc.poll() is None
        token = Signer(["first-key-0123456789abcdef"]).subscriber_token(sub.uid)
        page = httpx.get(f"http://127.0.0.1:{port}/preferences/{token}", timeout=10)
        assert page.status_code == 200
    assert "first-key" not in (root / "serve.log").read_text()


def test_the_webhook_refuses_replays(site: Site) -> None:
    site.add("reader@example.org")
    event = {"email": "reader@example.org", "type": "complaint"}
    auth = {"Authorization": f"Bearer {WEBHOOK_SECRET}"}
    missing = httpx.post(site.base + "webhooks/events", json=event, headers=auth, timeout=10)
    assert missing.status_code == 400 and "Newsroom-Timestamp" in missing.json()["error"]
    old = site.webhook(event, timestamp=time.time() - 3600)
    assert old.status_code == 400 and "too old" in old.json()["error"]
    future = site.webhook(event, timestamp=time.time() + 3600)
    assert future.status_code == 400
    assert site.sub("reader@example.org").status == "active"  # type: ignore[union-attr]
    fresh = site.webhook(event)
    assert fresh.status_code == 200 and fresh.json() == {"applied": 1, "unknown": 0}
    assert site.sub("reader@example.org").status == "complained"  # type: ignore[union-attr]


def test_a_trailing_slash_never_redirects_to_the_host_header(site: Site) -> None:
    _, token = site.add("reader@example.org")
    for path in (f"unsubscribe/{token}/", f"preferences/{token}/", "health/"):
        answer = httpx.get(
            site.base + path, headers={"Host": "evil.example"}, timeout=10, follow_redirects=False
        )
        assert "evil.example" not in answer.headers.get("location", "")
        assert answer.status_code == 404


def test_a_slowloris_is_disconnected(served: Served) -> None:
    """A client that sends one header line every half second is cut after request_timeout
    (2 s here); before, it held its connection for as long as it liked."""
    root, port, sink, env = served
    with newsroom_serve(root, port, {**env, "NEWSROOM_SECRET_KEY": KEY}):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            s.settimeout(0.5)
            started, closed = time.monotonic(), False
            while time.monotonic() - started < 15 and not closed:
                try:
                    s.sendall(b"X-Drip: 1\r\n")
                    closed = s.recv(1024) == b""
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
            assert closed, "the server kept the connection for 15 s"
        # An honest request on a new connection is served as usual.
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).text == "ok"


# -- keys ------------------------------------------------------------------------------------------


def test_a_hash_sign_in_the_secret_key_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "0123456789abcdef#and-the-rest-of-it")
    keys = load_keys(None)
    assert keys[0] == "0123456789abcdef#and-the-rest-of-it"
    cut = Signer(["0123456789abcdef#and-the-rest-of-it"]).subscriber_token("uid")
    assert Signer(["0123456789abcdef"]).subscriber_token("uid") != cut
    # Links signed before with the cut key still verify (they are in readers' mailboxes).
    old = Signer(["0123456789abcdef"]).subscriber_token("uid")
    assert Signer(keys).read_subscriber_token(old) == "uid"


# -- erasure ---------------------------------------------------------------------------------------


def test_erasure_leaves_the_address_in_no_file(sqlite_site: Site) -> None:
    site = sqlite_site
    address = "erase.me.zq7@example.org"
    _, token = site.add(address, "Zqx Erasable")
    httpx.post(f"{site.base}preferences/{token}", data={"name": "Zqx Erasable Two"}, timeout=10)
    # Another process (a send, a backup) has the file open, so the WAL stays.
    other = sqlite3.connect(site.state_path)
    other.execute("SELECT COUNT(*) FROM subscribers").fetchone()
    try:
        assert httpx.post(f"{site.base}preferences/{token}/erase", timeout=10).status_code == 200
        files = [p for p in site.state_path.parent.iterdir() if p.name.startswith("state.db")]
        assert files
        for path in files:
            data = path.read_bytes()
            for secret in (address, "erase.me.zq7", "Zqx Erasable"):
                assert secret.encode() not in data, f"{secret} is still in {path.name}"
    finally:
        other.close()
    with State.of(site.newsletter.config) as state:
        assert Subscribers(state).is_suppressed(address)


def test_an_erasure_racing_a_resubscribe_stays_erased(site: Site) -> None:
    """The resubscribe button read the subscriber just before the erasure committed; its
    write comes after. The erasure wins."""
    _, token = site.add("reader@example.org", status="unsubscribed")
    with State.of(site.newsletter.config) as state:
        stale = Subscribers(state).get("reader@example.org")
    assert stale is not None
    httpx.post(f"{site.base}preferences/{token}/erase", timeout=10)
    with State.of(site.newsletter.config) as state:
        subs = Subscribers(state)
        assert not subs.resubscribe(stale)  # the late write of the resubscribe button
        subs.confirm(stale, reason="preferences page")  # or of a confirmation
        assert subs.get("reader@example.org") is None
        assert subs.is_suppressed("reader@example.org")
        row = state.db.execute(
            "SELECT status FROM suppressed WHERE email_hash = ?",
            (address_hash("reader@example.org"),),
        ).fetchone()
    assert row == ("erased",)
    # And the address cannot be added back by an import or `subscribers add`.
    with State.of(site.newsletter.config) as state:
        assert Subscribers(state).add("reader@example.org") == (None, "suppressed")


def test_json_of_a_webhook_answer_is_unchanged_by_the_timestamp(site: Site) -> None:
    """The event format stays newsroom's own: {"email", "type", "reason"}."""
    site.add("b@example.org")
    answer = site.webhook([{"email": "b@example.org", "type": "bounce", "reason": "550 gone"}])
    assert answer.status_code == 200 and json.loads(answer.text) == {"applied": 1, "unknown": 0}
    assert site.sub("b@example.org").reason == "550 gone"  # type: ignore[union-attr]


def test_confirmation_emails_keep_to_the_email_hourly_limit(make_site: MakeSite) -> None:
    """[email] hourly_limit counts the service's confirmation emails too; one over it gets
    the could-not-send page, not "check your inbox"."""
    site = make_site(email="hourly_limit = 2\n")
    answers = [site.signup(f"r{n}@example.org", client=f"198.51.100.{n + 1}") for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 503]
    assert "could not send" in answers[2].text
    wait_for(lambda: site.sink.total == 2, "the first two got no mail")
    assert site.sink.count("r2@example.org") == 0
    assert site.sub("r2@example.org") is None  # undone: nothing waits for a link never sent


def test_a_reader_coming_back_may_change_their_name_before_confirming(site: Site) -> None:
    _, token = site.add("reader@example.org", "Old", status="unsubscribed")
    site.signup("reader@example.org", client="198.51.100.1")
    wait_for(lambda: len(site.confirm_links("reader@example.org")) == 1, "no confirmation")
    httpx.post(f"{site.base}preferences/{token}", data={"name": "New"}, timeout=10)
    (link,) = site.confirm_links("reader@example.org")
    assert httpx.post(link, timeout=10).status_code == 200
    sub = site.sub("reader@example.org")
    assert sub is not None and sub.status == "active" and sub.name == "New"


def test_an_erasure_under_an_open_snapshot_is_wiped_at_the_next_start(sqlite_site: Site) -> None:
    site = sqlite_site
    """A reader in the middle of a transaction keeps the log from being emptied: the
    erasure still answers (after a short wait), and the next service start empties it."""
    address = "snap.shot.zq9@example.org"
    _, token = site.add(address, "Zqx Snapshot")
    keeper = sqlite3.connect(site.state_path)  # another process keeps the file open
    keeper.execute("SELECT 1").fetchone()
    reader = sqlite3.connect(site.state_path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM subscribers").fetchone()  # holds a snapshot
    try:
        assert httpx.post(f"{site.base}preferences/{token}/erase", timeout=30).status_code == 200
        reader.execute("COMMIT")
        files = [p for p in site.state_path.parent.iterdir() if p.name.startswith("state.db")]
        # The old page stays in the file until the log is copied into it.
        assert any(address.encode() in path.read_bytes() for path in files)
        create_app(site.newsletter)  # a service start
        for path in files:
            assert address.encode() not in path.read_bytes(), path.name
    finally:
        reader.close()
        keeper.close()


# -- several services on one state ---------------------------------------------------------------


def test_two_services_on_one_state_send_one_confirmation_and_share_the_limits(
    make_site: MakeSite,
) -> None:
    """Two instances of the service (behind one load balancer) on one state: 20 signups
    for an address, half to each, at once: one email; the per-client limit (5 a minute)
    holds across both."""
    first = make_site()
    second = make_site(share=first)
    sites = [first, second]
    threads = [
        threading.Thread(
            target=sites[n % 2].signup, args=("victim@example.org", "", f"198.51.100.{n}")
        )
        for n in range(1, 21)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: first.sink.count("victim@example.org") >= 1, "no confirmation at all")
    answers = [
        sites[n % 2].signup(f"a{n}@example.org", client="203.0.113.7").status_code for n in range(8)
    ]
    assert answers == [200] * 5 + [429] * 3
    first.signup("control@example.org", client="198.51.100.99")
    wait_for(lambda: first.sink.count("control@example.org") == 1, "no control mail")
    assert first.sink.count("victim@example.org") == 1


def test_two_services_on_one_state_lose_no_unsubscribe(make_site: MakeSite) -> None:
    """100 one-click unsubscribes and 100 webhook bounces at once, spread over two services:
    every one lands, each confirmed link works once."""
    first = make_site()
    second = make_site(share=first)
    sites = [first, second]
    tokens = [first.add(f"r{n}@example.org")[1] for n in range(100)]
    for n in range(100):
        first.add(f"b{n}@example.org")
    errors: list[str] = []

    def unsubscribe(n: int) -> None:
        answer = httpx.post(
            f"{sites[n % 2].base}unsubscribe/{tokens[n]}",
            data={"List-Unsubscribe": "One-Click"},
            timeout=60,
        )
        if answer.status_code != 200:
            errors.append(f"unsubscribe {n}: {answer.status_code}")

    def bounce(n: int) -> None:
        answer = sites[n % 2].webhook([{"email": f"b{n}@example.org", "type": "bounce"}])
        if answer.status_code != 200:
            errors.append(f"bounce {n}: {answer.status_code} {answer.text}")

    threads = [threading.Thread(target=unsubscribe, args=(n,)) for n in range(100)]
    threads += [threading.Thread(target=bounce, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with State.of(first.newsletter.config) as state:
        counts = Subscribers(state).counts()
    assert counts["unsubscribed"] == 100 and counts["bounced"] == 100
    assert counts["active"] == 0
