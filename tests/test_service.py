"""newsroom serve: signup with double opt-in, unsubscribe, preferences, webhook, over HTTP."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import uvicorn
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsroom.config.newsletter import Newsletter, open_newsletter
from newsroom.core.errors import NewsroomError
from newsroom.deliver.subscribers import Subscriber, Subscribers
from newsroom.deliver.tokens import Signer, load_keys
from newsroom.dev.smtpsink import SmtpSink
from newsroom.service import MISSING, create_app
from newsroom.store.state import State

with warnings.catch_warnings():
    # Starlette 1.x would rather use httpx2 for its test client; httpx still works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

KEY = "test-signing-key-0123456789abcdefghijklmnop"
WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Env:
    newsletter: Newsletter
    sink: SmtpSink
    port: int
    base: str
    state_table: str = ""
    """The config's [state] table (empty: the SQLite file)."""

    @property
    def signer(self) -> Signer:
        return Signer(load_keys(self.newsletter.config.keys_file))

    def sub(self, address: str) -> Subscriber | None:
        with State.of(self.newsletter.config) as state:
            return Subscribers(state).get(address)

    def add(self, address: str, name: str = "", status: str = "active") -> tuple[Subscriber, str]:
        with State.of(self.newsletter.config) as state:
            sub, outcome = Subscribers(state).add(address, name, status=status)
        assert sub is not None, outcome
        return sub, self.signer.subscriber_token(sub.uid)


def write_newsletter(
    root: Path, sink_port: int, port: int, *, language: str = "ko", extra: str = ""
) -> Newsletter:
    (root / "newsroom.toml").write_text(
        f'[newsletter]\ntitle = "AI 브리핑"\nlanguage = "{language}"\n'
        '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/x"]\n'
        '[email]\nfrom = "AI 브리핑 <briefing@example.org>"\n'
        f'[transport]\nplugin = "smtp"\nhost = "127.0.0.1"\nport = {sink_port}\n'
        'security = "none"\ntimeout = 10\n'
        f'[subscriptions]\nurl = "http://127.0.0.1:{port}/"\n{extra}',
        "utf-8",
    )
    return open_newsletter(root / "newsroom.toml")


def state_table(engine: str, request: pytest.FixtureRequest) -> str:
    """The [state] table for ``engine``: none for the SQLite file; for PostgreSQL, a new
    database with its tables created (as `newsroom state migrate` does)."""
    if engine == "sqlite":
        return ""
    database = request.getfixturevalue("postgres_db")
    State(database.url, migrate=True).close()
    return f'\n[state]\nurl = "{database.url}"\n'


@pytest.fixture
def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, request: pytest.FixtureRequest
) -> Iterator[Env]:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", KEY)
    monkeypatch.setenv("NEWSROOM_TEST_WEBHOOK", WEBHOOK_SECRET)
    port = _free_port()
    state = state_table(engine, request)
    with SmtpSink() as sink:
        newsletter = write_newsletter(
            tmp_path,
            sink.port,
            port,
            extra='webhook_secret = { "$env" = "NEWSROOM_TEST_WEBHOOK" }\n'
            "signup_answer_seconds = 0.2\n" + state,
        )
        yield Env(newsletter, sink, port, f"http://127.0.0.1:{port}/", state)


@pytest.fixture
def client(env: Env) -> Iterator[TestClient]:
    with TestClient(create_app(env.newsletter)) as c:
        yield c


def _confirm_path(message: EmailMessage, base: str) -> str:
    text = message.get_body(("plain",))
    assert text is not None
    links = re.findall(re.escape(base) + r"confirm/\S+", text.get_content())
    assert len(links) == 1, text.get_content()
    return "/" + links[0].removeprefix(base)


def _wait_for_mail(sink: SmtpSink, count: int) -> None:
    deadline = time.monotonic() + 10
    while sink.total < count:
        assert time.monotonic() < deadline, "no mail arrived"
        time.sleep(0.02)


# -- signup ------------------------------------------------------------------------------------


def test_signup_page_is_korean_accessible_and_escaped(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="ko">' in page.text
    assert '<label for="email">이메일 주소</label>' in page.text
    assert 'action="http://127.0.0.1:' in page.text and "<h1>구독하기</h1>" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    bad = client.post("/subscribe", data={"email": '"><script>x</script>', "name": ""})
    assert bad.status_code == 400
    assert "<script>x" not in bad.text and "&lt;script&gt;x" in bad.text
    assert 'role="alert"' in bad.text


def test_signup_confirm_by_email_link(env: Env, client: TestClient) -> None:
    response = client.post("/subscribe", data={"email": "Reader@Example.ORG", "name": "김독자"})
    assert response.status_code == 200 and "메일함을 확인해 주세요" in response.text
    sub = env.sub("reader@example.org")
    assert sub is not None and sub.status == "pending" and sub.name == "김독자"

    _wait_for_mail(env.sink, 1)
    received = env.sink.messages[0]
    assert received.recipients == ["Reader@example.org"]
    assert b"\r\n" in received.data and b"\n" not in received.data.replace(b"\r\n", b"")
    message = received.parsed()
    assert message["Subject"] == "AI 브리핑 구독을 확인해 주세요"
    assert "briefing@example.org" in message["From"] and message["To"].addresses[0].display_name
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    html_part = message.get_body(("html",))
    assert html_part is not None and "구독 확인" in html_part.get_content()
    path = _confirm_path(message, env.base)

    # A link scanner's GET changes nothing.
    page = client.get(path)
    assert page.status_code == 200 and 'method="post"' in page.text
    assert env.sub("reader@example.org").status == "pending"  # type: ignore[union-attr]
    done = client.post(path)
    assert done.status_code == 200 and "구독이 확인되었습니다" in done.text
    sub = env.sub("reader@example.org")
    assert sub is not None and sub.status == "active" and sub.reason == "confirmed"


def test_signup_response_never_tells_whether_the_address_is_known(
    env: Env, client: TestClient
) -> None:
    env.add("known@example.org", "Known")
    new = client.post("/subscribe", data={"email": "new@example.org"})
    known = client.post("/subscribe", data={"email": "known@example.org", "name": "Someone"})
    assert (new.status_code, new.text) == (known.status_code, known.text)
    sub = env.sub("known@example.org")
    assert sub is not None and sub.status == "active" and sub.name == "Known"
    _wait_for_mail(env.sink, 2)  # both got a confirmation, so even the mailbox says the same


def test_a_suppressed_address_is_reactivated_only_by_its_confirmation(
    env: Env, client: TestClient
) -> None:
    sub, _ = env.add("gone@example.org", status="unsubscribed")
    client.post("/subscribe", data={"email": "gone@example.org"})
    assert env.sub("gone@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    _wait_for_mail(env.sink, 1)
    client.post(_confirm_path(env.sink.messages[0].parsed(), env.base))
    assert env.sub("gone@example.org").status == "active"  # type: ignore[union-attr]


def test_single_opt_in_adds_active_without_mail(tmp_path: Path, env: Env) -> None:
    other = tmp_path / "single"
    other.mkdir()
    newsletter = write_newsletter(
        other,
        env.sink.port,
        env.port,
        language="en",
        extra="double_opt_in = false\n" + env.state_table,
    )
    with TestClient(create_app(newsletter)) as c:
        page = c.post("/subscribe", data={"email": "solo@example.org"})
        assert page.status_code == 200 and '<html lang="en">' in page.text
        assert "Thank you" in page.text
    with State.of(newsletter.config) as state:
        sub = Subscribers(state).get("solo@example.org")
    assert sub is not None and sub.status == "active"
    assert env.sink.total == 0


def test_honeypot_field_adds_nothing(env: Env, client: TestClient) -> None:
    page = client.post("/subscribe", data={"email": "bot@example.org", "website": "x"})
    assert page.status_code == 200
    assert env.sub("bot@example.org") is None and env.sink.total == 0


def test_forged_and_expired_confirm_tokens_change_nothing(env: Env, client: TestClient) -> None:
    sub, _ = env.add("wait@example.org", status="pending")
    forged = env.signer.confirm_token(sub.uid)[:-3] + "AAA"
    for method in (client.get, client.post):
        page = method(f"/confirm/{forged}")
        assert page.status_code == 400 and "사용할 수 없는 링크" in page.text

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 73 * 3600  # confirm_hours is 72

    old = URLSafeTimedSerializer(KEY, salt="newsroom.confirm", signer=Past).dumps(sub.uid)
    assert env.signer.read_confirm_token(old, 74 * 3600) == sub.uid  # a real token, only old
    for method in (client.get, client.post):
        page = method(f"/confirm/{old}")
        assert page.status_code == 400 and "유효 기간이 지났습니다" in page.text
    assert env.sub("wait@example.org").status == "pending"  # type: ignore[union-attr]


# -- unsubscribe -------------------------------------------------------------------------------


def test_get_never_unsubscribes_post_does_and_is_idempotent(env: Env, client: TestClient) -> None:
    _, token = env.add("reader@example.org")
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "reader@example.org" in page.text
    assert f'action="{env.base}unsubscribe/{token}"' in page.text
    assert env.sub("reader@example.org").status == "active"  # type: ignore[union-attr]
    for _ in range(2):
        done = client.post(f"/unsubscribe/{token}")
        assert done.status_code == 200 and "구독이 해지되었습니다" in done.text
    sub = env.sub("reader@example.org")
    assert sub is not None and sub.status == "unsubscribed" and sub.reason == "unsubscribe link"


def test_forged_unsubscribe_token_changes_nothing(env: Env, client: TestClient) -> None:
    _, token = env.add("reader@example.org")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other = Signer(["another-key-0123456789abcdef"]).subscriber_token(
        env.sub("reader@example.org").uid  # type: ignore[union-attr]
    )
    for bad in (forged, other, "nonsense"):
        assert client.post(f"/unsubscribe/{bad}").status_code == 400
        assert client.get(f"/preferences/{bad}").status_code == 400
    assert env.sub("reader@example.org").status == "active"  # type: ignore[union-attr]


def test_one_click_unsubscribe_over_real_http(env: Env) -> None:
    _, token = env.add("reader@example.org")
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(env.newsletter), host="127.0.0.1", port=env.port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        url = f"{env.base}unsubscribe/{token}"
        assert httpx.get(url, timeout=10).status_code == 200
        assert env.sub("reader@example.org").status == "active"  # type: ignore[union-attr]
        started = time.monotonic()
        response = httpx.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert response.status_code == 200
        assert time.monotonic() - started < 2
        sub = env.sub("reader@example.org")
        assert sub is not None and sub.status == "unsubscribed" and sub.reason == "one-click"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_unsubscribe_waits_for_a_concurrent_writer(env: Env, client: TestClient) -> None:
    """A `newsroom send` holding a write transaction on the state delays the request; both
    writes land."""
    _, token = env.add("reader@example.org")
    env.add("other@example.org")
    holding, done = threading.Event(), threading.Event()

    def writer() -> None:
        with State.of(env.newsletter.config) as state, state.transaction() as db:
            db.execute("UPDATE subscribers SET name = 'written' WHERE email = 'other@example.org'")
            holding.set()
            time.sleep(0.5)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(5)
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.is_set()  # the request waited for the other transaction
    thread.join()
    assert response.status_code == 200
    assert env.sub("reader@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert env.sub("other@example.org").name == "written"  # type: ignore[union-attr]


# -- preferences -------------------------------------------------------------------------------


def test_preferences_change_name_and_export_data(env: Env, client: TestClient) -> None:
    _, token = env.add("reader@example.org", "Old")
    page = client.get(f"/preferences/{token}")
    assert page.status_code == 200 and "구독 중" in page.text and 'value="Old"' in page.text
    saved = client.post(f"/preferences/{token}", data={"name": "새 이름 <b>"})
    assert saved.status_code == 200 and "새 이름 &lt;b&gt;" in saved.text
    assert env.sub("reader@example.org").name == "새 이름 <b>"  # type: ignore[union-attr]
    data = client.get(f"/preferences/{token}/data")
    assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
    exported = data.json()
    assert exported["email"] == "reader@example.org" and exported["name"] == "새 이름 <b>"
    assert exported["status"] == "active" and exported["deliveries"] == []


def test_resubscribe_from_preferences(env: Env, client: TestClient) -> None:
    _, token = env.add("reader@example.org")
    client.post(f"/unsubscribe/{token}")
    assert "다시 구독하기" in client.get(f"/preferences/{token}").text
    client.post(f"/preferences/{token}/resubscribe")
    assert env.sub("reader@example.org").status == "active"  # type: ignore[union-attr]


@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_a_bounce_or_complaint_is_not_undone_from_a_forwarded_link(
    env: Env, client: TestClient, status: str
) -> None:
    sub, token = env.add("reader@example.org")
    with State.of(env.newsletter.config) as state:
        Subscribers(state).set_status(sub.id, status, "report")
    assert "다시 구독하기" not in client.get(f"/preferences/{token}").text
    client.post(f"/preferences/{token}/resubscribe")
    assert env.sub("reader@example.org").status == status  # type: ignore[union-attr]


def test_erase_forgets_the_subscriber(env: Env, client: TestClient) -> None:
    _, token = env.add("reader@example.org", "김독자")
    erased = client.post(f"/preferences/{token}/erase")
    assert erased.status_code == 200 and "데이터가 삭제되었습니다" in erased.text
    assert env.sub("reader@example.org") is None
    gone = client.get(f"/preferences/{token}")
    assert gone.status_code == 404 and "구독자를 찾을 수 없습니다" in gone.text
    assert client.get(f"/preferences/{token}/data").status_code == 404
    with State.of(env.newsletter.config) as state:
        sub, outcome = Subscribers(state).add("reader@example.org")
    assert (sub, outcome) == (None, "suppressed")

    # A signup of the erased address answers as for any address, and mails it nothing.
    again = client.post("/subscribe", data={"email": "reader@example.org", "name": "다시"})
    new = client.post("/subscribe", data={"email": "new@example.org"})
    assert (again.status_code, again.text) == (new.status_code, new.text)
    _wait_for_mail(env.sink, 1)
    assert env.sink.count("reader@example.org") == 0 and env.sink.count("new@example.org") == 1
    assert env.sub("reader@example.org") is None


# -- webhook -----------------------------------------------------------------------------------


def _webhook_auth() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {WEBHOOK_SECRET}",
        "Newsroom-Timestamp": str(int(time.time())),
    }


def test_webhook_needs_the_secret(env: Env, client: TestClient) -> None:
    env.add("reader@example.org")
    event = {"email": "reader@example.org", "type": "bounce"}
    assert client.post("/webhooks/events", json=event).status_code == 401
    wrong = {"Authorization": "Bearer not-the-secret"}
    assert client.post("/webhooks/events", json=event, headers=wrong).status_code == 401
    assert env.sub("reader@example.org").status == "active"  # type: ignore[union-attr]


def test_webhook_is_off_without_a_secret(tmp_path: Path, env: Env) -> None:
    other = tmp_path / "nosecret"
    other.mkdir()
    newsletter = write_newsletter(other, env.sink.port, env.port, extra=env.state_table)
    with TestClient(create_app(newsletter)) as c:
        response = c.post(
            "/webhooks/events",
            json={"email": "a@example.org", "type": "bounce"},
            headers={"Authorization": "Bearer "},
        )
    assert response.status_code == 503


def test_webhook_events_change_statuses(env: Env, client: TestClient) -> None:
    for address in ("b@example.org", "c@example.org", "u@example.org"):
        env.add(address)
    auth = _webhook_auth()
    events = [
        {"email": "B@example.org", "type": "bounce", "reason": "550 5.1.1 no such user"},
        {"email": "c@example.org", "type": "complaint"},
        {"email": "u@example.org", "type": "unsubscribe"},
        {"email": "nobody@example.org", "type": "bounce"},
    ]
    response = client.post("/webhooks/events", json=events, headers=auth)
    assert response.status_code == 200 and response.json() == {"applied": 3, "unknown": 1}
    b, c, u = (env.sub(a) for a in ("b@example.org", "c@example.org", "u@example.org"))
    assert b is not None and b.status == "bounced" and b.reason == "550 5.1.1 no such user"
    assert c is not None and c.status == "complained"
    assert u is not None and u.status == "unsubscribed"
    # One object works too, and a later bounce does not weaken a complaint.
    one = client.post(
        "/webhooks/events", json={"email": "c@example.org", "type": "bounce"}, headers=auth
    )
    assert one.json() == {"applied": 1, "unknown": 0}
    assert env.sub("c@example.org").status == "complained"  # type: ignore[union-attr]


def test_webhook_bad_json_is_400(env: Env, client: TestClient) -> None:
    auth = _webhook_auth()
    bad = client.post("/webhooks/events", content=b"{nope", headers=auth)
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
    kind = client.post("/webhooks/events", json={"email": "a@b.org", "type": "x"}, headers=auth)
    assert kind.status_code == 400 and "type" in kind.json()["error"]


# -- packaging ---------------------------------------------------------------------------------


def test_missing_service_extra_is_a_clear_error(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "starlette", None)
    with pytest.raises(NewsroomError) as exc:
        create_app(env.newsletter)
    assert exc.value.message == MISSING


def test_help_does_not_import_starlette() -> None:
    code = (
        "import sys\nfrom newsroom.cli import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('starlette' in sys.modules, 'uvicorn' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False False"
