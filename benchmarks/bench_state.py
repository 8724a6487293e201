"""The state on PostgreSQL: a large import, a send shared by two senders, and two
subscription services taking unsubscribes at once.

    .venv/bin/python benchmarks/bench_state.py [--import 1000000] [--small 20000]
                                               [--big 200000] [--unsubscribes 200]

Servers from Debian's packages, started as the tests start them (tests/servers.py):
PostgreSQL 15 and Postfix's smtp-sink (nothing kept of the messages). The edition is the
example newsletter (examples/ai-briefing) built once from its sample data.

1. `newsroom subscribers import` of a generated CSV into a database: time, peak RSS.
2. `newsroom send` to N subscribers, for N = small and big: with the state in an SQLite file
   and one process, then in a database with two `newsroom send --join` processes started
   together (as on two machines). Messages a second over the whole send, and the peak RSS
   of each process (the memory must not grow with N).
3. Two `newsroom serve` processes on one database, and as many one-click unsubscribes at
   once, half to each: latency percentiles, errors, and the unsubscribes the state lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from bench_send import (  # noqa: E402
    EDITION,
    build_template,
    env,
    run_measured,
    subscriber_csv,
)
from servers import (  # noqa: E402  (tests/servers.py)
    PASSWORD_ENV,
    find_pg_ctl,
    find_program,
    free_port,
    server_account,
    server_folder,
    start_postgres,
    start_smtp_sink,
)

MB = 2**20


def cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml"), *args],
        capture_output=True,
        text=True,
        env=env(),
    )
    if result.returncode not in (0,):
        raise SystemExit(f"newsroom {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def copy_newsletter(template: Path, folder: Path, port: int, url: str = "") -> Path:
    shutil.copytree(template, folder)
    config = folder / "newsroom.toml"
    text = config.read_text("utf-8").replace("port = 2525", f"port = {port}")
    if url:
        text += f'\n[state]\nurl = "{url}"\n'
    config.write_text(text, "utf-8")
    if url:
        (folder / "state.db").unlink()
    return folder


def into_database(template: Path, folder: Path, port: int, url: str) -> Path:
    """A copy of the newsletter whose state (the build's editions) is in ``url``."""
    copy = copy_newsletter(template, folder, port)
    cli(copy, "state", "copy", "--to", url)
    config = copy / "newsroom.toml"
    config.write_text(config.read_text("utf-8") + f'\n[state]\nurl = "{url}"\n', "utf-8")
    (copy / "state.db").unlink()
    return copy


def measured_import(folder: Path, csv: Path) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml")]
    wall, peak, _, code, out = run_measured([*cmd, "subscribers", "import", str(csv)])
    if code:
        raise SystemExit(f"import failed: {out}")
    return wall, peak


def send_processes(folder: Path, count: int) -> tuple[float, list[int], list[str]]:
    """``count`` `newsroom send --join` processes at once; wall time, peak RSS of each."""
    cmd = [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml"), "send"]
    cmd += [EDITION, "--json", "--workers", "1"]
    if count > 1:
        cmd.append("--join")
    results: list[Any] = [None] * count

    def one(i: int) -> None:
        results[i] = run_measured(cmd)

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
        time.sleep(0.2)  # the first takes the lock; the others join it
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for r in results:
        if r[3] != 0:
            raise SystemExit(f"a send failed ({r[3]}):\n{r[4]}")
    return wall, [r[1] for r in results], [r[4] for r in results]


@contextlib.contextmanager
def serving(folder: Path, ports: list[int]) -> Iterator[None]:
    procs = []
    try:
        for port in ports:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "newsroom",
                        "-c",
                        str(folder / "newsroom.toml"),
                        "serve",
                        "--port",
                        str(port),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env(),
                )
            )
        import httpx

        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("newsroom serve did not start")
                time.sleep(0.1)
        yield
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def unsubscribes(folder: Path, count: int) -> None:
    import httpx

    from newsroom.config.newsletter import open_newsletter
    from newsroom.deliver.subscribers import Subscribers
    from newsroom.deliver.tokens import Signer, load_keys
    from newsroom.store.state import State

    config = open_newsletter(folder / "newsroom.toml").config
    signer = Signer(load_keys(config.keys_file))
    with State.of(config) as state:
        subs = [s for _, s in zip(range(count), Subscribers(state).iter("active"), strict=False)]
    tokens = [signer.subscriber_token(s.uid) for s in subs]
    ports = [free_port(), free_port()]
    latencies: list[float] = []
    errors: list[str] = []

    async def one(client: httpx.AsyncClient, i: int) -> None:
        url = f"http://127.0.0.1:{ports[i % 2]}/unsubscribe/{tokens[i]}"
        started = time.perf_counter()
        try:
            answer = await client.post(url, data={"List-Unsubscribe": "One-Click"})
            if answer.status_code != 200:
                errors.append(str(answer.status_code))
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
        latencies.append((time.perf_counter() - started) * 1000)

    async def all_at_once() -> float:
        limits = httpx.Limits(max_connections=count)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            started = time.perf_counter()
            await asyncio.gather(*(one(client, i) for i in range(count)))
            return time.perf_counter() - started

    with serving(folder, ports):
        wall = asyncio.run(all_at_once())
    with State.of(config) as state:
        gone = {s.id for s in Subscribers(state).iter("unsubscribed")}
    lost = sum(1 for s in subs if s.id not in gone)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(
        f"  {count} one-click unsubscribes at once over two `newsroom serve` on PostgreSQL: "
        f"{wall:.2f} s; latency p50 {p(0.50):.0f} ms, p99 {p(0.99):.0f} ms, "
        f"max {latencies[-1]:.0f} ms; errors {len(errors)}, lost {lost}"
    )
    if errors:
        print(f"    errors: {statistics.multimode(errors)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--import", dest="imported", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--big", type=int, default=200_000)
    parser.add_argument("--unsubscribes", type=int, default=200)
    args = parser.parse_args()

    pg_ctl = find_pg_ctl()
    sink_program = find_program("smtp-sink", "/usr/sbin")
    if not pg_ctl or not sink_program:
        raise SystemExit(
            "needs PostgreSQL and Postfix's smtp-sink: apt-get install postgresql postfix"
        )
    work = Path(tempfile.mkdtemp(prefix="bench-state-"))
    pg_account = server_account("postgres", "postgresql")
    sink_account = server_account("postfix", "postfix")
    try:
        with (
            server_folder("postgres", pg_account) as pg_folder,
            start_postgres(pg_folder, pg_ctl, pg_account) as server,
            server_folder("smtp-sink", sink_account) as sink_folder,
            start_smtp_sink(sink_folder, sink_program, sink_account, dump=False) as sink,
        ):
            os.environ[PASSWORD_ENV] = server.password
            print(f"{os.cpu_count()} cores; PostgreSQL at {server.url()}, smtp-sink :{sink.port}")
            template = work / "template"
            build_template(template)

            # 1. the import
            if args.imported:
                csv = work / "import.csv"
                subscriber_csv(csv, args.imported)
                with server.database() as db:
                    folder = into_database(template, work / "import", sink.port, db.url)
                    wall, peak = measured_import(folder, csv)
                    print(
                        f"import of {args.imported:,} subscribers from CSV into PostgreSQL: "
                        f"{wall:.1f} s ({args.imported / wall:,.0f} rows/s), "
                        f"peak RSS {peak / MB:.0f} MB"
                    )

            # 2. the sends
            for n in (args.small, args.big):
                if not n:
                    continue
                csv = work / f"subscribers-{n}.csv"
                subscriber_csv(csv, n)
                folder = copy_newsletter(template, work / f"sqlite-{n}", sink.port)
                cli(folder, "subscribers", "import", str(csv))
                wall, peaks, _ = send_processes(folder, 1)
                print(
                    f"send to {n:,}, SQLite, one process: {n / wall:,.0f} msgs/s "
                    f"({wall:.1f} s), peak RSS {peaks[0] / MB:.0f} MB"
                )
                with server.database() as db:
                    folder = into_database(template, work / f"pg-{n}", sink.port, db.url)
                    cli(folder, "subscribers", "import", str(csv))
                    wall, peaks, outputs = send_processes(folder, 2)
                    import json

                    sent = [json.loads(o[o.index("{") :])["counts"]["sent"] for o in outputs]
                    print(
                        f"send to {n:,}, PostgreSQL, two processes: {n / wall:,.0f} msgs/s "
                        f"({wall:.1f} s); sent {sent[0]:,} + {sent[1]:,}; peak RSS "
                        f"{peaks[0] / MB:.0f} MB and {peaks[1] / MB:.0f} MB"
                    )
                    if n == args.small and args.unsubscribes:
                        unsubscribes(folder, args.unsubscribes)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
