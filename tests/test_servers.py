"""The test servers of tests/servers.py work: PostgreSQL, Dovecot IMAP, Postfix's smtp-sink."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import psycopg
import pytest
from imap_tools import AND, MailboxLoginError
from psycopg_pool import ConnectionPool
from servers import (
    PASSWORD_ENV,
    DovecotServer,
    ImapAccount,
    PostgresDatabase,
    PostgresServer,
    SmtpSink,
    find_pg_ctl,
    find_program,
    require_program,
    server_account,
    server_folder,
    start_dovecot,
    start_postgres,
    start_smtp_sink,
)

# A delivery status notification as a mail server sends it back (RFC 3464).
BOUNCE = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounces+ed-2026-02-14@news.example.org
Subject: Undelivered Mail Returned to Sender
Date: Sat, 14 Feb 2026 06:10:00 +0900
Message-ID: <bounce-1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected

--b1--
""".replace(b"\n", b"\r\n")


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Wait (up to 5 s) for ``condition``: a server writes its files after it replies."""
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


# -- PostgreSQL ---------------------------------------------------------------------------


def test_postgres_database_is_empty_and_needs_the_password(postgres_db: PostgresDatabase) -> None:
    assert postgres_db.url.startswith("postgresql://newsroom@127.0.0.1:")
    assert postgres_db.password not in postgres_db.url
    assert os.environ[PASSWORD_ENV] == postgres_db.password
    with postgres_db.connect() as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
        conn.execute("CREATE TABLE subscriber (id serial PRIMARY KEY, email text UNIQUE)")
        conn.execute("INSERT INTO subscriber (email) VALUES ('a@example.org')")
        assert conn.execute("SELECT current_user").fetchone() == ("newsroom",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_db.url, password="wrong")
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(postgres_db.url, password="", connect_timeout=5)


def test_postgres_skip_locked_shares_work_between_two_connections(
    postgres_db: PostgresDatabase,
) -> None:
    """Two workers claim rows with FOR UPDATE SKIP LOCKED: neither waits for the other, and
    no row is claimed twice."""
    with postgres_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE job (id int PRIMARY KEY, done bool NOT NULL DEFAULT false)")
        conn.execute("INSERT INTO job (id) SELECT generate_series(1, 5)")
    claim = "SELECT id FROM job WHERE NOT done ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED"
    with ConnectionPool(
        postgres_db.url, kwargs={"password": postgres_db.password}, min_size=2, max_size=2
    ) as pool:
        with pool.connection() as first, pool.connection() as second:
            second.execute("SET lock_timeout = '2s'")
            assert [r[0] for r in first.execute(claim)] == [1, 2]
            assert [r[0] for r in second.execute(claim)] == [3, 4]
            # Without SKIP LOCKED, the second connection would have to wait for the first.
            with pytest.raises(psycopg.errors.LockNotAvailable):
                second.execute("SELECT id FROM job WHERE id = 1 FOR UPDATE NOWAIT")
            second.rollback()
            first.execute("UPDATE job SET done = true WHERE id IN (1, 2)")
            first.commit()
            assert [r[0] for r in second.execute(claim)] == [3, 4]
            second.commit()


def test_postgres_databases_are_separate_and_dropped(postgres_server: PostgresServer) -> None:
    with postgres_server.database() as one, postgres_server.database() as two:
        assert one.name != two.name
        with one.connect() as conn:
            conn.execute("CREATE TABLE only_here (x int)")
        with two.connect() as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
    with postgres_server.admin() as admin:
        left = admin.execute(
            "SELECT datname FROM pg_database WHERE datname IN (%s, %s)", (one.name, two.name)
        )
        assert left.fetchall() == []


# -- Dovecot IMAP -------------------------------------------------------------------------


def test_imap_append_fetch_and_move(imap_account: ImapAccount) -> None:
    imap_account.append(BOUNCE)
    with imap_account.mailbox() as box:
        [message] = list(box.fetch(AND(all=True), mark_seen=False))
        assert message.subject == "Undelivered Mail Returned to Sender"
        assert message.from_ == "MAILER-DAEMON@mx.example.net"
        assert message.obj.get_content_type() == "multipart/report"
        assert "Status: 5.1.1" in message.obj.as_string()
        box.folder.create("Processed")
        box.move([message.uid], "Processed")
        assert list(box.fetch(AND(all=True))) == []
        box.folder.set("Processed")
        [moved] = list(box.fetch(AND(all=True)))
        assert moved.headers["message-id"] == ("<bounce-1@mx.example.net>",)


def test_imap_over_tls_into_another_folder(imap_account: ImapAccount) -> None:
    imap_account.append(BOUNCE, "Bounces/2026", seen=True)
    with imap_account.mailbox("Bounces/2026", tls=True) as box:
        [message] = list(box.fetch(AND(seen=True)))
        assert message.subject == "Undelivered Mail Returned to Sender"
        assert "INBOX" in [f.name for f in box.folder.list()]


def test_imap_accounts_are_separate_and_need_their_password(dovecot: DovecotServer) -> None:
    one, two = dovecot.add_account(), dovecot.add_account()
    one.append(BOUNCE)
    with two.mailbox() as box:
        assert list(box.fetch(AND(all=True))) == []
    wrong = dataclasses.replace(one, password=two.password)
    with pytest.raises(MailboxLoginError):
        wrong.mailbox()


# -- Postfix smtp-sink --------------------------------------------------------------------


def test_smtp_sink_takes_a_message(smtp_sink: SmtpSink) -> None:
    message = EmailMessage()
    message["From"] = "news@example.org"
    message["To"] = "reader@example.net"
    message["Subject"] = "Morning briefing"
    message.set_content("Today's stories.")
    errors, reply = asyncio.run(
        aiosmtplib.send(message, hostname=smtp_sink.host, port=smtp_sink.port)
    )
    assert errors == {}
    assert reply.startswith("2.0.0 Ok")
    wait_for(lambda: smtp_sink.received == 1, "the counter")
    [kept] = smtp_sink.messages()
    assert b"X-Rcpt-Args: <reader@example.net>" in kept
    assert b"Subject: Morning briefing" in kept


# -- nothing is left running ---------------------------------------------------------------


def _family(pid: int) -> set[int]:
    """``pid`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family = {pid}
    grew = True
    while grew:
        more = {child for child, parent in parents.items() if parent in family}
        grew = not more <= family
        family |= more
    return family


def _running(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (a zombie waiting for its parent does not)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def test_servers_leave_no_process_behind(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each start_* stops every process of its server, and a folder made under /tmp for a
    server's account (as root) is removed: tests/servers.py's fixtures use them."""
    pg_ctl = require_program(find_pg_ctl(), "PostgreSQL's pg_ctl", "postgresql")
    dovecot = require_program(find_program("dovecot", "/usr/sbin"), "dovecot", "dovecot-imapd")
    sink = require_program(find_program("smtp-sink", "/usr/sbin"), "smtp-sink", "postfix")
    openssl = require_program(find_program("openssl"), "openssl", "openssl")
    started: dict[str, set[int]] = {}
    folders: list[Path] = []

    account = server_account("postgres", "postgresql")
    with (
        server_folder("postgres", account, tmp_path_factory) as folder,
        start_postgres(folder, pg_ctl, account) as server,
    ):
        with server.database() as db, db.connect() as conn:
            conn.execute("SELECT 1")
            started["postgres"] = _family(server.pid)
            folders.append(folder)

    account = server_account("dovecot", "dovecot-core")
    with (
        server_folder("dovecot", account, tmp_path_factory) as folder,
        start_dovecot(folder, dovecot, openssl, account) as imap,
    ):
        with imap.add_account().mailbox() as box:
            box.folder.list()
            started["dovecot"] = _family(imap.pid)
            folders.append(folder)

    account = server_account("postfix", "postfix")
    with (
        server_folder("smtp-sink", account, tmp_path_factory) as folder,
        start_smtp_sink(folder, sink, account) as smtp,
    ):
        started["smtp-sink"] = _family(smtp.process.pid)
        folders.append(folder)

    for name, pids in started.items():
        assert len(_running(pids)) == 0, f"{name} left {_running(pids)} running"
    assert len(started["postgres"]) > 3  # the postmaster and its workers were seen
    assert len(started["dovecot"]) > 2
    if os.geteuid() == 0:
        assert [f for f in folders if f.exists()] == []
