"""`newsroom serve` under abuse: mail-bombing, a huge body, timing, a slowloris.

    python benchmarks/bench_service.py [--body-mb 300] [--signups 100]

Runs the real command (`newsroom serve`) in a subprocess against a recording SMTP server on
loopback (newsroom.dev.smtpsink) and a fresh state file, then prints:

  - the confirmation emails one address gets from N signups, each from another client
    (X-Forwarded-For from the loopback proxy, which uvicorn trusts);
  - the emails a bounced, a complained and an erased address get from one signup each;
  - the service's peak RSS (VmHWM) before and after one POST of --body-mb MB to /subscribe,
    streamed with a Content-Length and again chunked without one;
  - the answer time of signups for new addresses, for a bounced address and for an address
    signed up a moment before (median of 9 each; --answer-seconds 0 shows them unpadded);
  - how long a connection that sends one header line per second stays open.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from newsroom.deliver.tokens import Signer
from newsroom.dev.smtpsink import SmtpSink

KEY = "bench-signing-key-0123456789abcdefghijklmnop"
WEBHOOK = "bench-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--body-mb", type=int, default=300)
    parser.add_argument("--signups", type=int, default=100)
    parser.add_argument(
        "--answer-seconds",
        type=float,
        help="[subscriptions] signup_answer_seconds (0: answer when the work is done)",
    )
    args = parser.parse_args()
    env = {**os.environ, "NEWSROOM_SECRET_KEY": KEY, "NEWSROOM_BENCH_WEBHOOK": WEBHOOK}
    with tempfile.TemporaryDirectory() as tmp, SmtpSink() as sink:
        root = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        (root / "newsroom.toml").write_text(
            '[newsletter]\ntitle = "Bench"\nlanguage = "en"\n'
            '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/x"]\n'
            '[email]\nfrom = "Bench <bench@example.org>"\n'
            f'[transport]\nplugin = "smtp"\nhost = "127.0.0.1"\nport = {sink.port}\n'
            'security = "none"\ntimeout = 10\n'
            f'[subscriptions]\nurl = "{base}"\n'
            'webhook_secret = { "$env" = "NEWSROOM_BENCH_WEBHOOK" }\n'
            + (
                f"signup_answer_seconds = {args.answer_seconds}\n"
                if args.answer_seconds is not None
                else ""
            ),
            "utf-8",
        )
        cli = [sys.executable, "-m", "newsroom", "-c", str(root / "newsroom.toml")]
        for address in ("bounced@example.org", "complained@example.org", "erased@example.org"):
            subprocess.run(
                [*cli, "subscribers", "add", address], env=env, check=True, capture_output=True
            )
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(base + "health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "newsroom serve did not start"
                time.sleep(0.1)
            run(args, root, base, sink, server.pid, port)
        finally:
            server.terminate()
            server.wait(10)


def signup(base: str, address: str, client: str = "") -> float:
    headers = {"X-Forwarded-For": client} if client else {}
    started = time.perf_counter()
    httpx.post(base + "subscribe", data={"email": address}, headers=headers, timeout=30)
    return time.perf_counter() - started


def settle(sink: SmtpSink) -> None:
    """Wait until no mail arrived for a second."""
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 1.0:
        if sink.total != last:
            last, quiet_since = sink.total, time.monotonic()
        time.sleep(0.05)


def run(
    args: argparse.Namespace, root: Path, base: str, sink: SmtpSink, pid: int, port: int
) -> None:
    # 1. N signups for one address, from N clients.
    victim = "victim@example.org"
    with ThreadPoolExecutor(10) as pool:
        list(
            pool.map(
                lambda n: signup(base, victim, f"198.51.100.{n % 250 + 1}"), range(args.signups)
            )
        )
    settle(sink)
    print(f"{args.signups} signups for one address: {sink.count(victim)} confirmation emails")

    # 2. A bounced, a complained and an erased address sign up once each.
    auth = {"Authorization": f"Bearer {WEBHOOK}", "Newsroom-Timestamp": str(int(time.time()))}
    events = [
        {"email": "bounced@example.org", "type": "bounce"},
        {"email": "complained@example.org", "type": "complaint"},
    ]
    httpx.post(base + "webhooks/events", json=events, headers=auth, timeout=10)
    db = sqlite3.connect(root / "state.db")
    uid = db.execute("SELECT uid FROM subscribers WHERE email = 'erased@example.org'").fetchone()[0]
    db.close()
    token = Signer([KEY]).subscriber_token(uid)
    httpx.post(f"{base}preferences/{token}/erase", timeout=10)
    for n, address in enumerate(
        ("bounced@example.org", "complained@example.org", "erased@example.org")
    ):
        signup(base, address, f"203.0.113.{n + 1}")
    settle(sink)
    print(
        "one signup each: "
        + ", ".join(
            f"{a.split('@')[0]} {sink.count(a)}"
            for a in ("bounced@example.org", "complained@example.org", "erased@example.org")
        )
    )

    # 3. Answer times: new addresses, a bounced one, one signed up a moment ago; the three
    # kinds in turn, so that a slower moment of the machine does not fall on one kind.
    kinds: dict[str, list[float]] = {"new": [], "bounced": [], "recent": []}
    for n in range(9):
        kinds["new"].append(signup(base, f"new{n}@example.org", f"192.0.2.{n + 1}"))
        kinds["bounced"].append(signup(base, "bounced@example.org", f"192.0.3.{n + 1}"))
        kinds["recent"].append(signup(base, "new0@example.org", f"192.0.4.{n + 1}"))
    new, bounced, recent = (statistics.median(v) * 1000 for v in kinds.values())
    print(
        f"answer time (median of 9): new address {new:.0f} ms, bounced {bounced:.0f} ms, "
        f"signed up a moment ago {recent:.0f} ms"
    )

    # 4. Peak RSS under one huge POST, with a Content-Length and chunked.
    size = args.body_mb * 1024 * 1024
    chunk = b"x" * (1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(args.body_mb):
            yield chunk

    print(f"RSS before the big POSTs: {rss(pid)[0]} MB (peak so far {rss(pid)[1]} MB)")
    for label, headers in (("chunked", {}), ("with Content-Length", {"Content-Length": str(size)})):
        started = time.perf_counter()
        try:
            response = httpx.post(base + "subscribe", content=body(), headers=headers, timeout=120)
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            status = f"connection closed ({type(exc).__name__})"
        took = time.perf_counter() - started
        now, peak = rss(pid)
        print(
            f"{args.body_mb} MB POST {label}: {status} after {took:.1f} s; RSS {now} MB, "
            f"peak {peak} MB"
        )

    # 5. A slowloris: one header line a second.
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(1.0)
        started = time.monotonic()
        closed = ""
        while time.monotonic() - started < 40:
            try:
                s.sendall(b"X-Drip: 1\r\n")
                if s.recv(1024) == b"":
                    closed = f"closed after {time.monotonic() - started:.1f} s"
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = f"closed after {time.monotonic() - started:.1f} s"
                break
        print(f"slowloris (one header line a second): {closed or 'still open after 40 s'}")


if __name__ == "__main__":
    main()
