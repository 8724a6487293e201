"""Real servers for the tests, from Debian's packages: PostgreSQL, Dovecot IMAP and Postfix's
smtp-sink.

Each one listens on 127.0.0.1 only, on a free port, keeps its data in a temporary folder and
is stopped by the fixture that started it. None of them runs as root: PostgreSQL refuses to,
and a test server has no use for it. As an ordinary user, a server runs as that user, in a
pytest temporary folder. When the tests run as root (as in CI), each server runs as the
unprivileged account its Debian package creates (``postgres``, ``dovecot``, ``postfix``), in
a folder of its own under /tmp (see ``server_folder``).

A missing program skips the test with the Debian package to install, or fails it when
``CI=true`` (``conftest.require``).

The fixtures (registered in ``tests/conftest.py``):

- ``postgres_server`` (session): a PostgreSQL cluster; ``postgres_db``: a fresh empty database
  for one test, owned by the ``newsroom`` role, whose password is in the environment as
  ``NEWSROOM_STATE_PASSWORD`` and never in the URL.
- ``dovecot`` (session): a Dovecot IMAP server (plain IMAP, STARTTLS and IMAPS with a
  self-signed certificate); ``imap_account``: a fresh mail account for one test.
- ``smtp_sink``: Postfix's smtp-sink for one test, keeping a copy of each message it takes.

The ``start_*`` context managers work outside pytest as well (``benchmarks/bench_servers.py``).
"""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
START_TIMEOUT = 30.0

# -- shared helpers -------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a plain bind (without SO_REUSEPORT) to 127.0.0.1:``port`` succeeds."""
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def find_program(name: str, *folders: str) -> str | None:
    """``name`` on PATH or in one of ``folders``. An ordinary user's PATH on Debian has no
    /usr/sbin, where dovecot and smtp-sink are."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(folders))


def require_program(path: str | None, what: str, package: str) -> str:
    """``path``, or skip (fail when CI=true) naming the Debian package that provides it."""
    # Imported here: conftest imports this module for its fixtures.
    from conftest import require

    require(path is not None, what, f"sudo apt-get install {package}")
    assert path is not None
    return path


def server_account(name: str, package: str) -> pwd.struct_passwd | None:
    """The unprivileged account a server runs as when the tests run as root; None (the
    current user) otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        require_program(None, f"the `{name}` account", package)
        raise


@contextlib.contextmanager
def server_folder(
    name: str,
    account: pwd.struct_passwd | None,
    tmp_path_factory: pytest.TempPathFactory | None = None,
) -> Iterator[Path]:
    """A folder for one server's files.

    As an ordinary user: a pytest temporary folder (kept, as pytest keeps them, to look at
    after a failure). As root, the server runs as ``account``, which cannot get through
    pytest's folders: /tmp/pytest-of-root is 0700, and every pytest session started as root
    makes it 0700 again, also one started while this one runs. So the folder is a new one in
    the system's temporary folder, which ``account`` can pass through (0711) but not list, and
    it is removed afterwards.
    """
    if account is None and tmp_path_factory is not None:
        yield tmp_path_factory.mktemp(name)
        return
    folder = Path(tempfile.mkdtemp(prefix=f"newsroom-test-{name}-"))
    try:
        folder.chmod(0o711)
        closed = [p for p in folder.parents if not p.stat().st_mode & 0o001]
        if account is not None and closed:
            raise RuntimeError(
                f"the {account.pw_name} account cannot reach {folder} through {closed[0]}: "
                "set TMPDIR to a folder every account can pass through, such as /tmp"
            )
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def hand_over(path: Path, account: pwd.struct_passwd | None) -> None:
    """Make ``path`` ``account``'s, when the tests run as root."""
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def wait_until_listening(
    port: int, process: subprocess.Popen[Any] | None, log: Path, what: str
) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections; fail with the server's log if
    ``process`` ends first or it takes longer than START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{read_log(log)}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} is not listening on {HOST}:{port}:\n{read_log(log)}")
        time.sleep(0.01)


def read_log(log: Path) -> str:
    try:
        return log.read_text("utf-8", "replace")[-4000:]
    except OSError as e:
        return f"({log}: {e})"


def stop_process(process: subprocess.Popen[Any]) -> None:
    """SIGTERM ``process`` and wait for it; SIGKILL after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- PostgreSQL -----------------------------------------------------------------------------

#: Debian's PostgreSQL 15 first (Debian 12's version), then any other Debian version. A
#: pg_ctl elsewhere on PATH (e.g. /usr/local/bin) is used only when there is none.
PG_BINDIRS = ["/usr/lib/postgresql/15/bin"] + sorted(
    (str(p.parent) for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")), reverse=True
)
PASSWORD_ENV = "NEWSROOM_STATE_PASSWORD"
APP_ROLE = "newsroom"
TEMPLATE_DB = "newsroom_template"

#: The harness's own connections use the Unix socket as the superuser, without a password
#: (the socket is in the cluster's folder, which only the server's account and root can
#: open). Over TCP every role needs its password, as on a real server, and the superuser has
#: none, so it cannot log in that way.
PG_HBA = """\
local all postgres trust
host all all 127.0.0.1/32 scram-sha-256
"""
#: No durability for a throw-away cluster: it starts and creates databases faster.
PG_OPTIONS = (
    f"-c listen_addresses={HOST} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)


def find_pg_ctl() -> str | None:
    """Debian's pg_ctl (see PG_BINDIRS), else the one on PATH."""
    for folder in PG_BINDIRS:
        path = Path(folder, "pg_ctl")
        if os.access(path, os.X_OK):
            return str(path)
    return shutil.which("pg_ctl")


@dataclass
class PostgresDatabase:
    """One database, owned by the ``newsroom`` role. ``url`` has no password in it: the
    password is ``password`` (and ``NEWSROOM_STATE_PASSWORD`` in the test's environment)."""

    server: PostgresServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    @property
    def password(self) -> str:
        return self.server.password

    def connect(self, **kwargs: Any) -> Any:
        """A psycopg connection as the ``newsroom`` role, over TCP with the password."""
        import psycopg

        return psycopg.connect(self.url, password=self.password, **kwargs)


@dataclass
class PostgresServer:
    """A running PostgreSQL cluster. ``user``/``password`` is the ``newsroom`` role, which
    owns the databases; ``admin()`` is the superuser, for the harness."""

    port: int
    password: str
    socket_dir: Path
    log: Path
    host: str = HOST
    user: str = APP_ROLE
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def pid(self) -> int:
        """The postmaster's process id."""
        return int((self.socket_dir / "data" / "postmaster.pid").read_text().split()[0])

    def url(self, dbname: str = TEMPLATE_DB) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres") -> Any:
        """A psycopg connection as the superuser, through the Unix socket (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
        )

    def janitor(self, dbname: str, **kwargs: Any) -> Any:
        """pytest-postgresql's DatabaseJanitor for ``dbname``, as the superuser."""
        from pytest_postgresql.janitor import DatabaseJanitor

        return DatabaseJanitor(
            user="postgres", host=str(self.socket_dir), port=self.port, dbname=dbname, **kwargs
        )

    @contextlib.contextmanager
    def database(self) -> Iterator[PostgresDatabase]:
        """A new empty database, copied from the template (fast), dropped afterwards."""
        from psycopg import sql

        name = f"test_{next(self._names)}"
        with self.janitor(name, template_dbname=TEMPLATE_DB):
            with self.admin() as conn:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(name), sql.Identifier(APP_ROLE)
                    )
                )
            yield PostgresDatabase(self, name)


@contextlib.contextmanager
def start_postgres(
    folder: Path, pg_ctl: str, account: pwd.struct_passwd | None
) -> Iterator[PostgresServer]:
    """Start a PostgreSQL cluster in ``folder`` with pytest-postgresql's executor.

    pytest-postgresql's own process fixture cannot run as root: pg_ctl refuses to, the
    fixture puts the cluster in a pytest folder that only root can open, and it hands initdb
    a password file that only root can read. So this uses the executor the fixture uses
    (initdb, start, wait, stop) with ``executable`` a two-line script that runs pg_ctl as
    ``account``, on a folder handed to that account. initdb gives the superuser no password
    (trust); pg_hba.conf is rewritten before the start (see PG_HBA).
    """
    from psycopg import sql
    from pytest_postgresql.executors import PostgreSQLExecutor

    cluster = folder / "cluster"
    cluster.mkdir()
    executable = pg_ctl
    if account is not None:
        runuser = require_program(
            find_program("runuser", "/usr/sbin", "/sbin"), "runuser", "util-linux"
        )
        wrapper = folder / "pg_ctl"
        # cd /: pg_ctl and initdb must not start in a folder the account cannot read.
        wrapper.write_text(
            f'#!/bin/sh\ncd / && exec {runuser} -u {account.pw_name} -- {pg_ctl} "$@"\n'
        )
        wrapper.chmod(0o700)
        executable = str(wrapper)
        hand_over(cluster, account)
    port = free_port()
    executor = PostgreSQLExecutor(
        executable=executable,
        host=HOST,
        port=port,
        datadir=str(cluster / "data"),
        unixsocketdir=str(cluster),
        logfile=str(cluster / "postgresql.log"),
        startparams="-w",
        dbname=TEMPLATE_DB,
        user="postgres",
        postgres_options=PG_OPTIONS,
    )
    executor.init_directory()
    (cluster / "data" / "pg_hba.conf").write_text(PG_HBA)  # keeps the file's owner
    executor.start()
    try:
        # mirakuru returns as soon as the port accepts connections, while the server may still
        # answer "the database system is starting up"; `pg_ctl start -w` exits once it is ready.
        if executor.process is not None:
            executor.process.wait(START_TIMEOUT)
        server = PostgresServer(
            port=port,
            password=secrets.token_urlsafe(16),
            socket_dir=cluster,
            log=cluster / "postgresql.log",
        )
        with server.admin() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(APP_ROLE), sql.Literal(server.password)
                )
            )
        server.janitor(TEMPLATE_DB, as_template=True).init()
        yield server
    finally:
        executor.stop()


# -- Dovecot IMAP ---------------------------------------------------------------------------

DOVECOT_CONF = """\
# Nothing from /etc/dovecot: the runtime, state and log files are all in this folder.
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = newsroom-test-{port}
log_path = {folder}/dovecot.log
protocols = imap
listen = {host}

# Dovecot runs as one unprivileged account ({user}): its internal and login processes
# would otherwise switch to the `dovecot` and `dovenull` accounts, which only root can do,
# and the login processes would chroot, which also needs root.
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
# The mail processes run as that account too; Debian's system accounts have uids below the
# default first_valid_uid (500).
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
# No fsync: the mail is thrown away with the folder.
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = /
}}

# Plain IMAP with passwords is allowed (on 127.0.0.1 only); STARTTLS and IMAPS use a
# self-signed certificate made for 127.0.0.1.
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# A real server waits 2 s before it answers a wrong password; the tests need not.
auth_failure_delay = 0
# One passwd-file per user: Dovecot rereads a changed passwd-file at most once a second, but
# reads a new one at once, so a test can use the account it has just added.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/users/%u
}}
userdb {{
  driver = passwd-file
  args = {folder}/users/%u
  default_fields = home={folder}/home/%u
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {ssl_port}
  }}
}}
service anvil {{
  chroot =
  # No growing wait after failed logins from 127.0.0.1, which every test connects from.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass
class ImapAccount:
    """A mail account on the test Dovecot: ``host``, ``port`` (plain IMAP and STARTTLS),
    ``ssl_port`` (IMAPS), ``user``, ``password``; ``cafile`` is the server's certificate."""

    host: str
    port: int
    ssl_port: int
    user: str
    password: str
    cafile: Path

    def ssl_context(self) -> ssl.SSLContext:
        """A context that trusts the server's self-signed certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def mailbox(self, folder: str = "INBOX", *, tls: bool = False) -> Any:
        """An imap-tools MailBox logged in to this account (plain IMAP, or IMAPS)."""
        from imap_tools import MailBox, MailBoxUnencrypted

        box: Any
        if tls:
            box = MailBox(self.host, self.ssl_port, ssl_context=self.ssl_context(), timeout=10)
        else:
            box = MailBoxUnencrypted(self.host, self.port, timeout=10)
        try:
            return box.login(self.user, self.password, initial_folder=folder)
        except BaseException:
            box.client.shutdown()  # a refused login leaves the connection open
            raise

    def append(self, message: bytes, folder: str = "INBOX", *, seen: bool = False) -> None:
        """Put a raw RFC 822 ``message`` into ``folder`` (created if missing) over IMAP, as
        a mail server's delivery would (e.g. a bounce)."""
        from imap_tools import MailMessageFlags

        with self.mailbox() as box:
            if not box.folder.exists(folder):
                box.folder.create(folder)
            flags = [MailMessageFlags.SEEN] if seen else []
            result = box.append(message, folder, flag_set=flags)
            if result[0] != "OK":
                raise RuntimeError(f"APPEND to {folder} failed: {result}")


@dataclass
class DovecotServer:
    """A running Dovecot. ``add_account()`` makes a new account with an empty mailbox."""

    folder: Path
    port: int
    ssl_port: int
    cafile: Path
    pid: int
    host: str = HOST
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def add_account(self) -> ImapAccount:
        """A new user (``userN``, a random password), without restarting Dovecot."""
        account = ImapAccount(
            host=self.host,
            port=self.port,
            ssl_port=self.ssl_port,
            user=f"user{next(self._names)}",
            password=secrets.token_urlsafe(16),
            cafile=self.cafile,
        )
        line = f"{account.user}:{{PLAIN}}{account.password}::::::\n"
        (self.folder / "users" / account.user).write_text(line)
        return account


def make_certificate(openssl: str, folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem) in ``folder``."""
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=IP:{HOST}",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def start_dovecot(
    folder: Path, dovecot: str, openssl: str, account: pwd.struct_passwd | None
) -> Iterator[DovecotServer]:
    """Start Dovecot in the foreground with its own configuration in ``folder``."""
    user = account or pwd.getpwuid(os.geteuid())
    make_certificate(openssl, folder)
    (folder / "users").mkdir()
    port, ssl_port = free_port(), free_port()
    while ssl_port == port:
        ssl_port = free_port()
    conf = folder / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(
            folder=folder,
            host=HOST,
            port=port,
            ssl_port=ssl_port,
            user=user.pw_name,
            group=grp.getgrgid(user.pw_gid).gr_name,
            uid=user.pw_uid,
            gid=user.pw_gid,
        )
    )
    log = folder / "dovecot.log"
    log.touch()
    for path in [folder, *folder.iterdir()]:
        hand_over(path, account)
    # Errors before the log is open (in the configuration, say) go to stderr: the same file.
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [dovecot, "-F", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            # As root, start it directly as the account (no runuser in between to outlive).
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
            cwd=folder,
        )
    try:
        wait_until_listening(port, process, log, "dovecot")
        wait_until_listening(ssl_port, process, log, "dovecot")
        yield DovecotServer(folder, port, ssl_port, folder / "cert.pem", process.pid)
    finally:
        stop_process(process)


# -- Postfix smtp-sink ----------------------------------------------------------------------

_COUNTERS = re.compile(rb"mesg=(\d+)")


@dataclass
class SmtpSink:
    """A running smtp-sink on ``host``:``port``."""

    host: str
    port: int
    counters: Path
    dump: Path | None
    process: subprocess.Popen[bytes]

    @property
    def received(self) -> int:
        """How many messages it has taken. With ``-c``, smtp-sink writes
        ``sess=N quit=N mesg=N`` (ending in a carriage return, not a new line) when a session
        ends, on QUIT and when a message's final "." arrives: this is the last ``mesg=``."""
        found = _COUNTERS.findall(self.counters.read_bytes())
        return int(found[-1]) if found else 0

    def messages(self) -> list[bytes]:
        """The messages it kept (with ``dump``), oldest first, each starting with the
        X-Client-Addr, X-Mail-Args, X-Rcpt-Args and Received lines smtp-sink adds."""
        if self.dump is None:
            raise RuntimeError("this smtp-sink was started without dump=True")
        files = sorted(self.dump.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [p.read_bytes() for p in files]


@contextlib.contextmanager
def start_smtp_sink(
    folder: Path,
    smtp_sink: str,
    account: pwd.struct_passwd | None,
    *,
    dump: bool = True,
    options: tuple[str, ...] = (),
) -> Iterator[SmtpSink]:
    """Start smtp-sink on a free port. ``dump`` keeps each message as a file (slower: use
    ``dump=False`` to measure senders); ``options`` are more smtp-sink options (e.g.
    ``("-f", "RCPT")`` to refuse every recipient)."""
    counters = folder / "counters"
    command = [smtp_sink, "-c"]
    dump_dir = None
    if dump:
        dump_dir = folder / "messages"
        dump_dir.mkdir()
        hand_over(dump_dir, account)
        # The template goes through strftime; smtp-sink appends a random hex suffix.
        command += ["-d", str(dump_dir).replace("%", "%%") + "/message."]
    if account is not None:
        # smtp-sink refuses to run as root without -u: it opens the socket, then switches.
        command += ["-u", account.pw_name]
    port = free_port()
    # smtp-sink sets SO_REUSEPORT: on a port already in use it would start without an
    # error and share the port with the other server.
    if not port_is_free(port):
        raise RuntimeError(f"{HOST}:{port} is already in use")
    command += [*options, f"{HOST}:{port}", "256"]
    with counters.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_listening(port, process, counters, "smtp-sink")
        yield SmtpSink(HOST, port, counters, dump_dir, process)
    finally:
        stop_process(process)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL cluster for the session (see PostgresServer)."""
    pg_ctl = require_program(find_pg_ctl(), "PostgreSQL's pg_ctl", "postgresql")
    account = server_account("postgres", "postgresql")
    with (
        server_folder("postgres", account, tmp_path_factory) as folder,
        start_postgres(folder, pg_ctl, account) as server,
    ):
        yield server


@pytest.fixture
def postgres_db(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostgresDatabase]:
    """A fresh empty database for this test; its password is in NEWSROOM_STATE_PASSWORD."""
    with postgres_server.database() as db:
        monkeypatch.setenv(PASSWORD_ENV, db.password)
        yield db


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """A Dovecot IMAP server for the session (see DovecotServer)."""
    program = require_program(find_program("dovecot", "/usr/sbin"), "dovecot", "dovecot-imapd")
    require_program(
        "/usr/lib/dovecot/imap" if os.path.exists("/usr/lib/dovecot/imap") else None,
        "Dovecot's IMAP server",
        "dovecot-imapd",
    )
    openssl = require_program(find_program("openssl"), "openssl", "openssl")
    account = server_account("dovecot", "dovecot-core")
    with (
        server_folder("dovecot", account, tmp_path_factory) as folder,
        start_dovecot(folder, program, openssl, account) as server,
    ):
        yield server


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> ImapAccount:
    """A new account with an empty mailbox on the session's Dovecot."""
    return dovecot.add_account()


@pytest.fixture
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """Postfix's smtp-sink for this test, keeping every message (see SmtpSink)."""
    program = require_program(find_program("smtp-sink", "/usr/sbin"), "smtp-sink", "postfix")
    account = server_account("postfix", "postfix")
    with (
        server_folder("smtp-sink", account, tmp_path_factory) as folder,
        start_smtp_sink(folder, program, account) as sink,
    ):
        yield sink
