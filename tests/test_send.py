"""``newsroom send`` against real SMTP servers on loopback, with a real SQLite log.

The server is :class:`newsroom.dev.smtpsink.SmtpSink` (aiosmtpd); :class:`Faults` makes it
answer like real servers on bad days.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import time
from pathlib import Path

import pytest
from conftest import EDITION, ENGINES, newsroom_cli, open_state, point_at, use_postgres

from newsroom.config.newsletter import open_newsletter
from newsroom.deliver.delivery import send_edition, settings_from
from newsroom.deliver.sending import SendSettings
from newsroom.deliver.subscribers import Subscribers
from newsroom.dev.smtpsink import Faults, SmtpSink
from newsroom.store.state import State


@pytest.fixture(params=ENGINES)
def newsletter(request: pytest.FixtureRequest, newsletter: Path) -> Path:
    """The example newsletter, its state in an SQLite file, then in a PostgreSQL database."""
    if request.param == "postgresql":
        use_postgres(newsletter, request.getfixturevalue("postgres_db"))
    return newsletter


NAMES = ["김지우", "박민준", "이서연", "Alex Morgan", "Priya Shah", "최유나", "정하늘"]


def add_subscribers(config: Path, count: int, *, domain: str = "example.com") -> list[str]:
    """``count`` active subscribers; returns their addresses."""
    addresses = [f"reader{i:05d}@{domain}" for i in range(count)]
    with open_state(config) as state:
        report = Subscribers(state).import_rows(
            (i + 2, {"email": a, "name": NAMES[i % len(NAMES)], "city": "서울"})
            for i, a in enumerate(addresses)
        )
    assert report.added == count
    return addresses


def statuses(config: Path) -> dict[str, str]:
    with open_state(config) as state:
        rows = state.db.execute(
            "SELECT s.email, d.status FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber_id"
        ).fetchall()
    return dict(rows)


def fast(**overrides: object) -> SendSettings:
    values: dict[str, object] = {"backoff": 0.01, "concurrency": 8, "workers": 1, **overrides}
    return SendSettings(**values)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_send_delivers_one_copy_to_each_active_subscriber(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 12)
    with open_state(newsletter) as state:
        subs = Subscribers(state)
        subs.add("pending@example.com", status="pending")
        gone, _ = subs.add("gone@example.com")
        assert gone is not None
        subs.set_status(gone.id, "unsubscribed")
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "send", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["counts"]["sent"] == 12 == sink.total
        assert report["complete"] and report["exit_code"] == 0
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}
        assert sink.count("pending@example.com") == sink.count("gone@example.com") == 0
        first = sink.messages[0].parsed()
        assert first["Subject"] == "AI 브리핑 · Skills as Programs 외 27건"
        assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # The envelope sender is [email] from; each message has exactly one recipient.
        assert {m.sender for m in sink.messages} == {"briefing@example.org"}
        assert all(len(m.recipients) == 1 for m in sink.messages)

        # Sending again sends nothing, and says so.
        again = newsroom_cli(newsletter, "send")
        assert again.returncode == 0, again.stderr
        assert "already sent to 12 subscriber(s); nothing to send" in again.stdout
        assert sink.total == 12
    # What went out is history for the next build's `history` filter.
    listing = newsroom_cli(newsletter, "editions", "--json")
    assert json.loads(listing.stdout)[0]["published_at"]
    log = newsroom_cli(newsletter, "deliveries")
    assert f"{EDITION}\tcomplete\t12 sent" in log.stdout


def test_a_thousand_subscribers_through_a_faulty_server(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 1000)
    hard = {a for i, a in enumerate(addresses) if i % 50 == 7}  # 550: no such user
    soft = {a for i, a in enumerate(addresses) if i % 9 == 4}  # 451 twice, then accepted
    dropped = {a for i, a in enumerate(addresses) if i % 13 == 5}  # connection lost in DATA

    def rcpt(address: str, attempt: int) -> str | None:
        if address in hard:
            return "550 5.1.1 no such user"
        if address in soft and attempt < 2:
            return "451 4.3.0 try again later"
        return None

    faults = Faults(
        greeting_421=3,
        rcpt=rcpt,
        drop_in_data=lambda address, attempt: address in dropped and attempt == 0,
        delay=0.0005,
    )
    with SmtpSink(faults=faults) as sink:
        point_at(newsletter, sink.port)
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, fast(concurrency=10))
    deliverable = [a for a in addresses if a not in hard]
    assert {a: sink.count(a) for a in deliverable} == {a: 1 for a in deliverable}
    assert all(sink.count(a) == 0 for a in hard)
    assert report.counts.sent == sink.total == len(deliverable)
    assert report.counts.bounced == len(hard)
    assert report.counts.failed == 0 and report.remaining == 0 and report.complete
    assert report.counts.retried >= 2 * len(soft - hard) + len(dropped - hard)
    assert sink.dropped == len(dropped - hard)
    assert sink.connections > 3  # the first three were refused at the greeting
    log = statuses(newsletter)
    assert {a for a, s in log.items() if s == "bounced"} == hard
    with open_state(newsletter) as state:
        bounced = {s.email for s in Subscribers(state).iter("bounced")}
    assert bounced == hard  # a 550 suppresses the address for every later edition
    assert report.exit_code == 9  # delivered, but with bounces


def test_temporary_failures_that_never_clear_are_left_for_the_next_run(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 20)
    stuck = set(addresses[:3])
    faults = Faults(rcpt=lambda a, n: "452 4.2.2 mailbox full" if a in stuck else None)
    with SmtpSink(faults=faults) as sink:
        point_at(newsletter, sink.port)
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, fast(retries=2))
        assert report.counts.failed == 3 and report.counts.sent == 17
        assert report.remaining == 3 and not report.complete and report.exit_code == 7
        assert {a: s for a, s in statuses(newsletter).items() if a in stuck} == {
            a: "failed" for a in stuck
        }
        # The mailboxes have room again: the next run sends exactly those three.
        sink.faults.rcpt = lambda a, n: None
        again = send_edition(config, EDITION, fast())
        assert again.counts.sent == 3 and again.complete
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}


def test_a_dead_server_loses_nothing(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 30)
    port = free_port()  # nothing listens here yet
    point_at(newsletter, port, backoff=0.05)  # each connection is retried, just faster
    result = newsroom_cli(newsletter, "send")
    assert result.returncode == 6, result.stderr
    assert f"cannot connect to 127.0.0.1:{port}" in result.stderr
    assert "30 message(s) left to send" in result.stderr
    assert "Traceback" not in result.stderr
    assert set(statuses(newsletter).values()) == {"queued"}
    with SmtpSink(port=port) as sink:
        result = newsroom_cli(newsletter, "send")
        assert result.returncode == 0, result.stderr
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}


def test_a_refused_sender_stops_the_send_without_bouncing_anyone(newsletter: Path) -> None:
    add_subscribers(newsletter, 25)
    faults = Faults(mail=lambda sender: "550 5.7.1 sender not allowed")
    with SmtpSink(faults=faults) as sink:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "send")
    assert result.returncode == 6
    assert "the server refused the sender: 550 5.7.1 sender not allowed" in result.stderr
    assert set(statuses(newsletter).values()) == {"queued"}
    with open_state(newsletter) as state:
        assert Subscribers(state).counts()["active"] == 25


def test_a_server_that_refuses_everything_trips_the_breaker(newsletter: Path) -> None:
    add_subscribers(newsletter, 200)
    faults = Faults(rcpt=lambda a, n: "554 5.7.1 rejected: policy")
    with SmtpSink(faults=faults) as sink:
        point_at(newsletter, sink.port)
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, fast(stop_after_rejections=20, concurrency=2))
    assert "in a row were refused" in report.stopped
    # Only the first few are marked; the rest wait for someone to look at the server.
    assert report.counts.bounced < 30
    assert list(statuses(newsletter).values()).count("queued") > 150
    # A policy refusal says nothing about the address: nobody is suppressed for it.
    with open_state(newsletter) as state:
        assert Subscribers(state).counts()["bounced"] == 0


def test_rate_limit_is_honoured(newsletter: Path) -> None:
    add_subscribers(newsletter, 20)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        config = open_newsletter(newsletter).config
        started = time.monotonic()
        report = send_edition(config, EDITION, fast(rate=40.0, concurrency=10))
        took = time.monotonic() - started
    assert report.counts.sent == 20
    # 20 messages at 40 a second cannot take less than 19 intervals of 25 ms.
    assert took >= 19 / 40


def test_a_second_send_while_one_runs_is_refused_and_says_who(newsletter: Path) -> None:
    add_subscribers(newsletter, 60)
    import subprocess
    import sys

    # 0.1 s a message, one at a time: the first send takes 6 s, time enough for a second
    # command to start on a busy machine.
    with SmtpSink(faults=Faults(delay=0.1)) as sink:
        point_at(newsletter, sink.port, concurrency=1)
        env = {"NEWSROOM_SECRET_KEY": "test-signing-key-0123456789abcdef"}
        first = subprocess.Popen(
            [sys.executable, "-m", "newsroom", "-c", str(newsletter), "send"],
            env={**__import__("os").environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while sink.total < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            second = newsroom_cli(newsletter, "send")
            assert second.returncode == 8
            assert "is locked by newsroom send 2026-02-14" in second.stderr
            assert f"pid {first.pid}" in second.stderr
        finally:
            first.wait(timeout=120)
        assert first.returncode == 0
        assert sink.total == 60


def test_a_rerendered_edition_is_not_mixed_with_the_old_one(newsletter: Path) -> None:
    add_subscribers(newsletter, 10)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send", "--limit", "4").returncode == 7
        assert sink.total == 4
        html = newsletter.parent / "build" / "editions" / EDITION / "email.html"
        html.write_text(html.read_text("utf-8").replace("논문 동향", "논문 소식"), "utf-8")
        refused = newsroom_cli(newsletter, "send")
        assert refused.returncode == 6
        assert "rendered again after its send began: 4 subscriber(s)" in refused.stderr
        assert sink.total == 4
        accepted = newsroom_cli(newsletter, "send", "--accept-new-version")
        assert accepted.returncode == 0, accepted.stderr
        assert sink.total == 10
        assert "논문 소식" in sink.messages[-1].data.decode("utf-8")


def test_subscribers_who_leave_during_a_send_are_skipped(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 10)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send", "--limit", "5").returncode == 7
        with open_state(newsletter) as state:
            subs = Subscribers(state)
            late = subs.get(addresses[9])
            assert late is not None
            subs.set_status(late.id, "unsubscribed", "unsubscribe link")
        result = newsroom_cli(newsletter, "send", "--json")
        report = json.loads(result.stdout)
        assert report["counts"]["sent"] == 4 and report["counts"]["skipped"] == 1
        assert sink.count(addresses[9]) == 0


def test_dry_run_writes_every_message_and_sends_nothing(newsletter: Path, tmp_path: Path) -> None:
    add_subscribers(newsletter, 7)
    out = tmp_path / "dry"
    point_at(newsletter, free_port())  # nothing listens: a dry run must not connect
    result = newsroom_cli(newsletter, "send", "--dry-run", "--output", str(out))
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.eml"))
    assert len(files) == 7
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "reader00000@example.com"
    assert statuses(newsletter) == {}


def test_a_test_copy_goes_to_one_address_outside_the_log(newsletter: Path) -> None:
    add_subscribers(newsletter, 3)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "send", "--to", "editor@example.org")
        assert result.returncode == 0, result.stderr
        assert sink.total == 1 and sink.count("editor@example.org") == 1
        assert statuses(newsletter) == {}
        # The real send is unaffected by the test copy.
        assert newsroom_cli(newsletter, "send").returncode == 0
        assert sink.total == 4


def test_a_server_without_8bitmime_gets_7bit_messages(newsletter: Path) -> None:
    add_subscribers(newsletter, 3)
    with SmtpSink(eight_bit=False) as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send").returncode == 0
    assert sink.total == 3
    assert all(m.data.isascii() for m in sink.messages)
    html = sink.messages[0].parsed().get_body(preferencelist=("html",))
    assert html is not None and "논문 동향" in str(html.get_content())


def test_many_subscribers_over_worker_processes(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 600)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "send", "--workers", "2", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
    assert report["workers"] == 2 and report["counts"]["sent"] == 600
    assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}


def test_send_settings_come_from_the_file_and_the_command_line(newsletter: Path) -> None:
    point_at(newsletter, 2525, rate=5, concurrency=3)
    config = open_newsletter(newsletter).config
    settings = settings_from(config, rate=None, concurrency=7)
    assert (settings.rate, settings.concurrency) == (5, 7)


def test_smtp_password_never_comes_from_the_file(newsletter: Path) -> None:
    text = newsletter.read_text("utf-8").replace(
        'security = "none"', 'security = "none"\nusername = "u"\npassword = "hunter2"'
    )
    newsletter.write_text(text, "utf-8")
    result = newsroom_cli(newsletter, "send")
    assert result.returncode == 3
    assert "password: secrets cannot be written in the file" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert re.search(r"\[transport\] \(plugin 'smtp'\)", result.stderr)


def test_subscribers_commands(newsletter: Path, tmp_path: Path) -> None:
    csv = tmp_path / "readers.csv"
    csv.write_text("email,name,company\njiwoo.kim@example.com,김지우,뉴스룸\nbroken@,X,\n", "utf-8")
    imported = newsroom_cli(newsletter, "subscribers", "import", str(csv))
    assert imported.returncode == 4  # the invalid row must not go unnoticed
    assert f"{csv}:3: skipped: 'broken@' is not a valid address" in imported.stderr
    assert "1 added" in imported.stdout
    added = newsroom_cli(newsletter, "subscribers", "add", "Alex@Example.org", "--name", "Alex")
    assert added.returncode == 0 and "Added alex@example.org" in added.stdout.replace(
        "Alex@", "alex@"
    )
    listed = json.loads(newsroom_cli(newsletter, "subscribers", "list", "--json").stdout)
    assert {s["email"]: s["attributes"] for s in listed}["jiwoo.kim@example.com"] == {
        "company": "뉴스룸"
    }
    exported = newsroom_cli(newsletter, "subscribers", "export")
    assert exported.stdout.splitlines()[0] == "email,name,status,company,created_at"
    assert (
        newsroom_cli(newsletter, "subscribers", "remove", "jiwoo.kim@example.com").returncode == 0
    )
    missing = newsroom_cli(newsletter, "subscribers", "remove", "jiwoo.kim@example.com")
    assert missing.returncode == 2 and "no such subscriber" in missing.stderr


def test_deliveries_shows_the_log_of_an_edition(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 4)
    faults = Faults(rcpt=lambda a, n: "550 5.1.1 no such user" if a == addresses[2] else None)
    with SmtpSink(faults=faults) as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send").returncode == 9
    rows = json.loads(newsroom_cli(newsletter, "deliveries", EDITION, "--json").stdout)
    assert {r["email"]: r["status"] for r in rows} == {
        a: ("bounced" if a == addresses[2] else "sent") for a in addresses
    }
    bounced = newsroom_cli(newsletter, "deliveries", EDITION, "--status", "bounced")
    assert "550 5.1.1 no such user" in bounced.stdout and addresses[0] not in bounced.stdout


def test_run_builds_publishes_and_sends_and_a_second_run_sends_nothing(
    newsletter: Path, tmp_path: Path
) -> None:
    from conftest import AS_OF, EXAMPLE, unbuilt

    from newsroom.testing import LocalServer

    www = tmp_path / "www"
    unbuilt(newsletter, publish_to=www)
    addresses = add_subscribers(newsletter, 5)
    with SmtpSink() as sink, LocalServer(EXAMPLE / "sample-data") as server:
        point_at(newsletter, sink.port)
        first = newsroom_cli(newsletter, "run", "--now", AS_OF, "--mirror", server.url, "--json")
        assert first.returncode == 0, first.stderr
        result = json.loads(first.stdout)
        assert result["edition"] == EDITION and result["send"]["counts"]["sent"] == 5
        assert (www / "index.html").is_file()
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}
        second = newsroom_cli(newsletter, "run", "--now", AS_OF, "--mirror", server.url)
        assert second.returncode == 0, second.stderr
        assert "has started going out already: not rebuilding it" in second.stderr
        assert "nothing to send" in second.stdout
        assert sink.total == 5


def test_run_publishes_to_a_git_branch_too(newsletter: Path) -> None:
    import subprocess

    from conftest import AS_OF, EXAMPLE, require_tool

    from newsroom.testing import LocalServer

    git = require_tool("git")
    root = newsletter.parent
    subprocess.run([git, "init", "-q", str(root)], check=True)
    newsletter.write_text(
        newsletter.read_text("utf-8") + '\n[publish]\ngit_branch = "gh-pages"\n', "utf-8"
    )
    add_subscribers(newsletter, 2)
    with SmtpSink() as sink, LocalServer(EXAMPLE / "sample-data") as server:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "run", "--now", AS_OF, "--mirror", server.url)
        assert result.returncode == 0, result.stderr
        assert "Published the web edition to branch gh-pages" in result.stdout
    shown = subprocess.run(
        [git, "-C", str(root), "show", "gh-pages:index.html"], capture_output=True, text=True
    )
    assert shown.returncode == 0 and "AI 브리핑" in shown.stdout
    assert sink.total == 2


def test_a_server_that_caps_connections_gets_everything_over_fewer(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 300)
    with SmtpSink(faults=Faults(max_connections=3, delay=0.001)) as sink:
        point_at(newsletter, sink.port)
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, fast(concurrency=8))
    assert report.complete and not report.stopped
    assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}


def test_a_dry_run_never_deletes_a_folder_it_did_not_make(newsletter: Path, tmp_path: Path) -> None:
    add_subscribers(newsletter, 2)
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    result = newsroom_cli(newsletter, "send", "--dry-run", "--output", str(precious))
    assert result.returncode == 2 and "holds other files" in result.stderr
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_a_test_copy_has_its_own_message_id(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 1)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send", "--to", addresses[0]).returncode == 0
        assert newsroom_cli(newsletter, "send").returncode == 0
        test_copy, real = (m.parsed()["Message-ID"] for m in sink.messages)
    # Receivers drop a message whose Message-ID they have seen: the real one must differ.
    assert test_copy != real


def test_a_completed_edition_rendered_again_has_nothing_to_send(newsletter: Path) -> None:
    add_subscribers(newsletter, 2)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send").returncode == 0
        html = newsletter.parent / "build" / "editions" / EDITION / "email.html"
        html.write_text(html.read_text("utf-8") + "<!-- again -->", "utf-8")
        again = newsroom_cli(newsletter, "send")
        assert again.returncode == 0, again.stderr
        assert "nothing to send" in again.stdout and sink.total == 2


def test_the_lock_stays_held_through_a_long_build_and_frees_when_its_holder_dies(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    from newsroom.store.locks import Lock, LockHeld

    path = tmp_path / "state.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from newsroom.store.state import State; "
            "from newsroom.store.locks import Lock; state = State(Path(sys.argv[1])); "
            "lock = Lock(state, 'delivery', 'newsroom run 2026-02-14'); lock.acquire(); "
            "print('held', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with State(path) as state:
            # The holder is busy (a long build) and writes no heartbeat: still held.
            state.db.execute("UPDATE locks SET heartbeat = heartbeat - 3600")
            with pytest.raises(LockHeld, match="locked by newsroom run 2026-02-14"):
                Lock(state, "delivery", "newsroom send 2026-02-14").acquire()
            # A lock recorded for another process with that pid (before a reboot) is free.
            state.db.execute("UPDATE locks SET pids = ?", (f'[[{holder.pid}, "other-boot:1"]]',))
            taken = Lock(state, "delivery", "newsroom send 2026-02-14")
            taken.acquire()
            taken.release()
            # The holder dies: its lock is taken over at once.
            lock = Lock(state, "delivery", "newsroom run 2026-02-14")
            lock.pids = [(holder.pid, "")]
            lock.acquire()
            holder.kill()
            holder.wait()
            second = Lock(state, "delivery", "newsroom send 2026-02-14")
            second.acquire()
            second.release()
            assert second.current() is None
    finally:
        holder.kill()


@pytest.mark.parametrize(
    ("reply", "suppressed"),
    [
        ("550 5.1.1 no such user", True),
        ("553 mailbox name not allowed", True),
        ("550 5.7.1 relaying denied", False),
        ("552 5.2.2 mailbox full", False),
        ("554 transaction failed", False),
    ],
)
def test_only_a_refused_address_is_suppressed(
    newsletter: Path, reply: str, suppressed: bool
) -> None:
    addresses = add_subscribers(newsletter, 3)
    faults = Faults(rcpt=lambda a, n: reply if a == addresses[1] else None)
    with SmtpSink(faults=faults) as sink:
        point_at(newsletter, sink.port)
        report = send_edition(open_newsletter(newsletter).config, EDITION, fast())
    assert report.counts.bounced == 1 and report.counts.sent == 2
    with open_state(newsletter) as state:
        sub = Subscribers(state).get(addresses[1])
    assert sub is not None and (sub.status == "bounced") is suppressed


def test_the_progress_bar_shows_done_rate_and_problems() -> None:
    from newsroom.cli.send_report import SendProgress
    from newsroom.deliver.sending import Counts

    with SendProgress(enabled=True) as bar:
        bar.update(Counts(sent=40, retried=3, bounced=2), 100)
        task = bar.bar.tasks[0]
        assert (task.completed, task.total) == (42, 100)  # sent and bounced are done
        assert task.fields["detail"] == "3 retried, 2 bounced"
        assert task.fields["rate"] >= 0


def set_transport(config: Path, **values: object) -> None:
    """Set keys of the [transport] table."""
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    config.write_text(config.read_text("utf-8").replace("[transport]\n", f"[transport]\n{lines}"))


def test_a_slow_answer_to_the_end_of_a_message_is_waited_for(newsletter: Path) -> None:
    # A server that scans every message for two seconds before it answers: longer than the
    # reply timeout of every other command, well inside the ten minutes RFC 5321 allows.
    addresses = add_subscribers(newsletter, 20)
    set_transport(newsletter, timeout=1)
    with SmtpSink(faults=Faults(data_delay=lambda address, attempt: 2.0)) as sink:
        point_at(newsletter, sink.port)
        report = send_edition(open_newsletter(newsletter).config, EDITION, fast(concurrency=10))
    assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}
    assert report.counts.sent == 20 and report.counts.retried == 0 and report.complete


def test_an_end_of_message_that_is_never_answered_is_uncertain_not_resent(
    newsletter: Path,
) -> None:
    addresses = add_subscribers(newsletter, 20)
    silent = set(addresses[3:5])  # the server keeps these, but its answer comes too late
    set_transport(newsletter, data_timeout=1)
    faults = Faults(data_delay=lambda address, attempt: 3.0 if address in silent else 0.0)
    with SmtpSink(faults=faults) as sink:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "send", "--json")
        report = json.loads(result.stdout)
        assert result.returncode == 11, result.stderr
        assert report["counts"]["uncertain"] == 2 and report["counts"]["sent"] == 18
        time.sleep(2.5)  # the server's late answers arrive; the copies are already there
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}
        assert {a for a, s in statuses(newsletter).items() if s == "uncertain"} == silent

        # The log shows them, with why.
        log = newsroom_cli(newsletter, "deliveries", EDITION, "--status", "uncertain")
        assert sorted(line.split("\t")[0] for line in log.stdout.splitlines()) == sorted(silent)
        assert "may have been delivered" in log.stdout
        summary = newsroom_cli(newsletter, "deliveries").stdout
        assert "18 sent, 2 uncertain" in summary

        # Running send again sends nothing, and says why.
        again = newsroom_cli(newsletter, "send")
        assert again.returncode == 0 and sink.total == 20
        assert "--resend-uncertain" in again.stderr

        # Sending them again is the user's explicit choice.
        sink.faults.data_delay = lambda address, attempt: 0.0
        resend = newsroom_cli(newsletter, "send", "--resend-uncertain", "--json")
        assert resend.returncode == 0, resend.stderr
        assert json.loads(resend.stdout)["counts"]["sent"] == 2
        assert {a: sink.count(a) for a in silent} == {a: 2 for a in silent}
    assert set(statuses(newsletter).values()) == {"sent"}


def test_a_test_copy_says_so_in_its_subject(newsletter: Path) -> None:
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "send", "--to", "editor@example.org")
        assert result.returncode == 0, result.stderr
    edition = newsletter.parent / "build" / "editions" / EDITION / "edition.json"
    subject = json.loads(edition.read_text("utf-8"))["subject"]
    assert sink.messages[0].parsed()["Subject"] == f"[TEST] {subject}"


def test_values_given_on_the_command_line_that_cannot_be_used_exit_2(
    newsletter: Path, tmp_path: Path
) -> None:
    """docs/cli.md: 2 is wrong usage; 1 is a bug. A typo is not a bug."""
    bad_to = newsroom_cli(newsletter, "send", "--to", "editor@")
    assert bad_to.returncode == 2, bad_to.stderr
    assert "'editor@' is not a valid address" in bad_to.stderr
    missing = newsroom_cli(newsletter, "subscribers", "import", str(tmp_path / "readers.csv"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "names.csv").write_text("name\n김지우\n", "utf-8")
    no_column = newsroom_cli(newsletter, "subscribers", "import", str(tmp_path / "names.csv"))
    assert no_column.returncode == 2 and "needs an `email` column" in no_column.stderr
    bad_add = newsroom_cli(newsletter, "subscribers", "add", "editor@")
    assert bad_add.returncode == 2 and "not a valid address" in bad_add.stderr
    bad_status = newsroom_cli(newsletter, "subscribers", "list", "--status", "gone")
    assert bad_status.returncode == 2 and "unknown status 'gone'" in bad_status.stderr


def on_a_terminal(config: Path, *args: str, answer: bytes) -> tuple[int, str]:
    """Run ``newsroom`` with a pseudo-terminal as its standard streams, answer its
    question with ``answer``; the exit code and everything it wrote."""
    import os
    import pty
    import select
    import subprocess
    import sys

    from conftest import SECRET

    master, slave = pty.openpty()
    env = {**os.environ, "NEWSROOM_SECRET_KEY": SECRET, "TERM": "dumb"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsroom", "-c", str(config), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    output, answered, deadline = b"", False, time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other side closed: the command ended
                break
            if not chunk:
                break
            output += chunk
        if not answered and b"[y/N]" in output:
            os.write(master, answer)
            answered = True
    os.close(master)
    return proc.wait(timeout=60), output.decode("utf-8", "replace")


def test_send_to_the_list_asks_first_on_a_terminal_only(newsletter: Path) -> None:
    add_subscribers(newsletter, 3)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        code, output = on_a_terminal(newsletter, "send", answer=b"n\n")
        assert code == 0, output
        assert f"Send {EDITION} to 3 subscriber(s) who have not had it? [y/N]" in output
        assert "Nothing was sent." in output and sink.total == 0
        code, output = on_a_terminal(newsletter, "send", "--limit", "1", answer=b"y\n")
        assert code == 7, output  # --limit left some
        assert sink.total == 1
        code, output = on_a_terminal(newsletter, "send", "--yes", "--limit", "1", answer=b"n\n")
        assert code == 7 and "[y/N]" not in output
        assert sink.total == 2
        # From a script (no terminal), it never asks.
        assert newsroom_cli(newsletter, "send").returncode == 0
        assert sink.total == 3
