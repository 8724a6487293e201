"""How long the tests' real servers (tests/servers.py) take to start and stop.

    .venv/bin/python benchmarks/bench_servers.py [--repeat R]

Each server is started R times in a fresh temporary folder, exactly as the fixtures start it
(as root, under its Debian account): PostgreSQL (initdb, start, the ``newsroom`` role and the
template database), then one test's database (created from the template, dropped); Dovecot
(its certificate, the start, until both ports answer), then an account's first login; Postfix's
smtp-sink. Medians and ranges in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import (  # noqa: E402  (tests/servers.py)
    find_pg_ctl,
    find_program,
    server_account,
    server_folder,
    start_dovecot,
    start_postgres,
    start_smtp_sink,
)


def timed(times: dict[str, list[float]], name: str) -> Callable[[], None]:
    """Start a clock; calling the result records the time since under ``name``."""
    start = time.perf_counter()
    return lambda: times.setdefault(name, []).append((time.perf_counter() - start) * 1000)


def postgres(pg_ctl: str, times: dict[str, list[float]]) -> None:
    account = server_account("postgres", "postgresql")
    with server_folder("postgres", account) as path:
        done = timed(times, "PostgreSQL: start (initdb, start, role, template)")
        cm = start_postgres(path, pg_ctl, account)
        server = cm.__enter__()
        done()
        done = timed(times, "PostgreSQL: a test's database (create, connect, drop)")
        with server.database() as db, db.connect() as conn:
            conn.execute("SELECT 1")
        done()
        done = timed(times, "PostgreSQL: stop")
        cm.__exit__(None, None, None)
        done()


def dovecot(program: str, openssl: str, times: dict[str, list[float]]) -> None:
    account = server_account("dovecot", "dovecot-core")
    with server_folder("dovecot", account) as path:
        done = timed(times, "Dovecot: start (certificate, start, both ports)")
        cm = start_dovecot(path, program, openssl, account)
        server = cm.__enter__()
        done()
        done = timed(times, "Dovecot: new account, first login")
        with server.add_account().mailbox() as box:
            box.folder.list()
        done()
        done = timed(times, "Dovecot: stop")
        cm.__exit__(None, None, None)
        done()


def smtp_sink(program: str, times: dict[str, list[float]]) -> None:
    account = server_account("postfix", "postfix")
    with server_folder("smtp-sink", account) as path:
        done = timed(times, "smtp-sink: start")
        cm = start_smtp_sink(path, program, account)
        cm.__enter__()
        done()
        done = timed(times, "smtp-sink: stop")
        cm.__exit__(None, None, None)
        done()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    pg_ctl = find_pg_ctl()
    program = find_program("dovecot", "/usr/sbin")
    openssl = find_program("openssl")
    sink = find_program("smtp-sink", "/usr/sbin")
    times: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        if pg_ctl:
            postgres(pg_ctl, times)
        if program and openssl:
            dovecot(program, openssl, times)
        if sink:
            smtp_sink(sink, times)
    for missing, package in [(pg_ctl, "postgresql"), (program, "dovecot-imapd"), (sink, "postfix")]:
        if not missing:
            print(f"(not measured: install the Debian package {package})")
    print(f"{'':55} {'median':>8} {'min':>8} {'max':>8}  (ms, {args.repeat} runs)")
    for name, values in times.items():
        print(f"{name:55} {statistics.median(values):8.1f} {min(values):8.1f} {max(values):8.1f}")


if __name__ == "__main__":
    main()
