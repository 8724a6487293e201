"""Send one edition to 20,000 subscribers on a local SMTP sink, as a whole command.

    python benchmarks/bench_send.py [--subscribers 20000] [--small 2000] [--dkim-subscribers 2000]

The edition is the example newsletter (examples/ai-briefing) built once against its sample
data (about 30 items, Korean text). Each run gets a fresh copy of it with N generated
subscribers (imported from a CSV with `newsroom subscribers import`), then `newsroom send`
runs as a subprocess, timed as a whole, with the delivery log on as always. Its peak RSS is
measured by polling /proc every 20 ms: the sum over the send process and its children, and
the largest single process.

In the same run, on the same sink:
  - a bare aiosmtplib loop: 20 persistent connections, one prebuilt message (the edition's
    message for one subscriber), no personalisation, no log: the library's own ceiling;
  - `smtp-source -d -s 20`: the machine's ceiling (with 5,000-byte messages, and with
    messages the size of the edition's).

The sink is Postfix's `smtp-sink` (Debian package `postfix`). Without it, the script says
how to install it and falls back to newsroom.dev.smtpsink.SmtpSink (aiosmtpd, much slower; its
figures are labelled as such and are not comparable).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from newsroom.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ai-briefing"
AS_OF = "2026-02-14T06:00:00+09:00"
EDITION = AS_OF[:10]
SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
HIDDEN_ENV = {"PRODUCTHUNT_TOKEN", "NEWSROOM_SMTP_PASSWORD", "NEWSROOM_SECRET_KEY"}

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["지우", "민준", "서연", "하준", "서윤", "도윤", "지호", "예은", "수아", "현우", "유진"]
LATIN = ["Alex Morgan", "Sam Lee", "Maria García", "Chris O'Neil", "Jordan Smith", "Aiko Tanaka"]


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in HIDDEN_ENV}


def newsroom(folder: Path, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml"), *args],
        check=True,
        env=env(),
        capture_output=capture,
        text=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# -- the sink --------------------------------------------------------------------------------

_AIOSMTPD_SINK = textwrap.dedent(
    """
    import sys, threading, time
    from newsroom.dev.smtpsink import SmtpSink
    sink = SmtpSink(port=int(sys.argv[1])).start()
    print("ready", flush=True)
    while True:  # keep no message: only the count matters here
        time.sleep(0.5)
        with sink.lock:
            sink.messages.clear()
            sink.counts.clear()
    """
)


class Sink:
    """smtp-sink in a process of its own, or the aiosmtpd fallback (also its own process)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.postfix = os.path.exists(SMTP_SINK)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def label(self) -> str:
        if self.postfix:
            return f"Postfix smtp-sink on 127.0.0.1:{self.port}"
        return f"FALLBACK aiosmtpd sink (newsroom.dev.smtpsink) on 127.0.0.1:{self.port}"

    def __enter__(self) -> Sink:
        if port_in_use(self.port):  # smtp-sink sets SO_REUSEPORT: never share a port
            raise SystemExit(f"port {self.port} is already in use")
        if self.postfix:
            cmd = [SMTP_SINK]
            if os.geteuid() == 0:
                cmd += ["-u", "postfix"]
            cmd += ["-m", "512", f"127.0.0.1:{self.port}", "1024"]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _AIOSMTPD_SINK, str(self.port)],
                stdout=subprocess.PIPE,
                env=env(),
            )
            assert self.proc.stdout is not None
            self.proc.stdout.readline()
        for _ in range(200):
            if port_in_use(self.port):
                break
            time.sleep(0.02)
        else:
            raise SystemExit("the sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- the edition and its subscribers ---------------------------------------------------------


def build_template(folder: Path) -> None:
    """The example newsletter in ``folder``, keys made and the edition built."""
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLE / "newsroom.toml", folder / "newsroom.toml")
    newsroom(folder, "keys", "rotate")
    with LocalServer(EXAMPLE / "sample-data") as server:
        newsroom(folder, "build", "--mirror", server.url, "--now", AS_OF)
    meta = json.loads((folder / "build" / "editions" / EDITION / "edition.json").read_text())
    items = sum(len(s.get("items", [])) for s in meta.get("sections", []))
    print(f"edition {EDITION}: {items} items", end="")
    edition = folder / "build" / "editions" / EDITION
    sizes = {name: (edition / name).stat().st_size for name in ("email.html", "email.txt")}
    print(f", email.html {sizes['email.html']:,} B, email.txt {sizes['email.txt']:,} B")


def subscriber_csv(path: Path, count: int) -> None:
    rng = random.Random(count)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["email", "name", "company"])
        for i in range(count):
            if i % 3 == 0:
                name = ""
            elif i % 3 == 1:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            else:
                name = rng.choice(LATIN)
            company = rng.choice(["", "예시전자", "Example Corp", "샘플랩"])
            out.writerow([f"reader{i:06d}@example{i % 50}.org", name, company])


def newsletter(
    template: Path, folder: Path, port: int, subscribers: int, dkim: bool = False
) -> None:
    shutil.copytree(template, folder)
    config = (folder / "newsroom.toml").read_text("utf-8")
    assert "port = 2525" in config and "\n[email]\n" in config
    config = config.replace("port = 2525", f"port = {port}")
    if dkim:
        key = folder / "dkim.pem"
        make_dkim_key(key)
        config = config.replace(
            "\n[email]\n", '\n[email]\ndkim_key_file = "dkim.pem"\ndkim_selector = "bench"\n'
        )
    (folder / "newsroom.toml").write_text(config, "utf-8")
    subscriber_csv(folder / "subscribers.csv", subscribers)
    started = time.perf_counter()
    newsroom(folder, "subscribers", "import", str(folder / "subscribers.csv"))
    took = time.perf_counter() - started
    print(f"  imported {subscribers:,} subscribers in {took:.2f} s")


def make_dkim_key(path: Path) -> None:
    """An RSA 2048 key in PEM: the openssl command when there is one, else cryptography."""
    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "genrsa", "-traditional", "-out", str(path), "2048"],
            check=True,
            capture_output=True,
        )
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )


# -- measuring a process tree ----------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def run_measured(cmd: list[str]) -> tuple[float, int, int, int, str]:
    """Wall time, peak tree-sum RSS, peak single-process RSS, exit code, stdout."""
    out = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env())
    peak_sum = peak_one = 0
    while proc.poll() is None:
        tree = _children()
        pids, todo = [], [proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(tree.get(pid, []))
        sizes = [_rss(p) for p in pids]
        peak_sum = max(peak_sum, sum(sizes))
        peak_one = max(peak_one, max(sizes, default=0))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    out.seek(0)
    return wall, peak_sum, peak_one, proc.returncode, out.read().decode("utf-8", "replace")


def time_send(folder: Path, label: str) -> dict[str, float]:
    cmd = [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml")]
    wall, peak_sum, peak_one, code, output = run_measured([*cmd, "send", EDITION, "--json"])
    try:
        report = json.loads(output[output.index("{") :])
    except ValueError:
        raise SystemExit(f"newsroom send failed ({code}):\n{output}") from None
    sent = report["counts"]["sent"]
    if code != 0 or sent != report["queued"]:
        raise SystemExit(f"newsroom send did not send everything ({code}):\n{output}")
    rate = sent / wall
    print(
        f"  {label}: {sent:,} sent in {wall:.2f} s (whole command) = {rate:,.0f} msgs/s; "
        f"inside the engine {report['rate']:,.0f}/s over {report['workers']} process(es); "
        f"peak RSS tree-sum {peak_sum / 2**20:.1f} MB, largest single "
        f"{peak_one / 2**20:.1f} MB"
    )
    return {"rate": rate, "peak_sum": peak_sum, "peak_one": peak_one, "wall": wall}


# -- the references ----------------------------------------------------------------------------

_BARE_LOOP = textwrap.dedent(
    """
    import asyncio, sys, time
    import aiosmtplib

    port, count, conns, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    data = open(path, "rb").read()
    left = [count]

    async def one():
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        while left[0] > 0:
            left[0] -= 1
            await client.sendmail("sender@example.com", ["rcpt@example.com"], data)
        await client.quit()

    async def main():
        await asyncio.gather(*(one() for _ in range(conns)))

    started = time.perf_counter()
    asyncio.run(main())
    print(count / (time.perf_counter() - started))
    """
)


def sample_message(folder: Path) -> Path:
    """One subscriber's message for the edition (as newsroom builds it), as bytes."""
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from newsroom.config.newsletter import open_newsletter
        from newsroom.deliver.delivery import edition_message
        from newsroom.deliver.messages import Recipient
        config = open_newsletter(Path({str(folder / "newsroom.toml")!r})).config
        message = edition_message(config, {EDITION!r})
        out = message.build(Recipient("reader@example.org", "김지우", "u1", {{}}))
        open(sys.argv[1], "wb").write(out.data)
        """
    )
    path = folder / "sample.eml"
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env())
    return path


def bare_loop(port: int, count: int, message: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _BARE_LOOP, str(port), str(count), "20", str(message)],
        check=True,
        capture_output=True,
        text=True,
        env=env(),
    )
    return float(out.stdout.strip())


def smtp_source(port: int, count: int, size: int) -> float | None:
    if not os.path.exists(SMTP_SOURCE):
        return None
    cmd = [SMTP_SOURCE, "-d", "-s", "20", "-m", str(count), "-l", str(size)]
    cmd += ["-f", "sender@example.com", "-t", "rcpt@example.com", f"127.0.0.1:{port}"]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return count / (time.perf_counter() - started)


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=20000)
    parser.add_argument("--small", type=int, default=2000, help="the memory comparison's")
    parser.add_argument("--dkim-subscribers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each send")
    args = parser.parse_args()
    big, small = args.subscribers, args.small

    if not os.path.exists(SMTP_SINK):
        print(
            "smtp-sink not found. Install Postfix's tools (no mail system is configured):\n"
            "  echo 'postfix postfix/main_mailer_type select No configuration' "
            "| debconf-set-selections\n"
            "  DEBIAN_FRONTEND=noninteractive apt-get install -y postfix\n"
            "Falling back to the aiosmtpd sink: figures are NOT comparable with smtp-sink's.\n"
        )
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp, Sink() as sink:
        work = Path(tmp)
        print(f"sink: {sink.label}")
        template = work / "template"
        build_template(template)

        print(f"newsroom send, {big:,} subscribers:")
        runs = []
        for i in range(args.repeat):
            folder = work / f"big{i}"
            newsletter(template, folder, sink.port, big)
            runs.append(time_send(folder, f"run {i + 1}"))
        message = sample_message(work / "big0")
        size = message.stat().st_size

        print(f"references ({big:,} messages each, same sink):")
        bare = bare_loop(sink.port, big, message)
        print(
            f"  bare aiosmtplib loop, 20 connections, one prebuilt {size:,}-byte message: "
            f"{bare:,.0f} msgs/s"
        )
        source = smtp_source(sink.port, big, 5000)
        source_same = smtp_source(sink.port, big, size)
        if source is not None and source_same is not None:
            print(f"  smtp-source -d -s 20, 5,000-byte messages: {source:,.0f} msgs/s")
            print(f"  smtp-source -d -s 20, {size:,}-byte messages: {source_same:,.0f} msgs/s")
        else:
            print("  smtp-source: not installed (see above)")

        print(f"newsroom send, {small:,} subscribers (memory comparison):")
        folder = work / "small"
        newsletter(template, folder, sink.port, small)
        small_run = time_send(folder, "run")

        print(f"newsroom send with DKIM (RSA 2048), {args.dkim_subscribers:,} subscribers:")
        folder = work / "dkim"
        newsletter(template, folder, sink.port, args.dkim_subscribers, dkim=True)
        dkim_run = time_send(folder, "run")

    best = max(runs, key=lambda r: r["rate"])
    peak_sum = max(r["peak_sum"] for r in runs)
    peak_one = max(r["peak_one"] for r in runs)
    print()
    print(f"summary ({'smtp-sink' if sink.postfix else 'FALLBACK aiosmtpd sink'}):")
    print(f"  newsroom send:          {best['rate']:,.0f} msgs/s (best of {len(runs)})")
    print(
        f"  bare aiosmtplib loop:   {bare:,.0f} msgs/s  "
        f"(newsroom send / bare = {best['rate'] / bare:.2f})"
    )
    if source is not None and source_same is not None:
        print(
            f"  smtp-source -d -s 20:   {source:,.0f} msgs/s (5 KB), {source_same:,.0f} "
            f"msgs/s ({size // 1000} KB)"
        )
        print(
            f"  newsroom send / smtp-source: {best['rate'] / source:.3f} (5 KB), "
            f"{best['rate'] / source_same:.3f} (same size)"
        )
    print(f"  with DKIM:              {dkim_run['rate']:,.0f} msgs/s")
    mb = 2**20
    growth = peak_sum / small_run["peak_sum"] - 1
    print(
        f"  peak RSS, {small:,}: tree-sum {small_run['peak_sum'] / mb:.1f} MB, largest single "
        f"{small_run['peak_one'] / mb:.1f} MB"
    )
    print(
        f"  peak RSS, {big:,}: tree-sum {peak_sum / mb:.1f} MB, largest single "
        f"{peak_one / mb:.1f} MB ({growth:+.1%} tree-sum vs {small:,})"
    )
    ok_speed = best["rate"] >= bare and best["rate"] >= 1200
    ok_mem = peak_sum < 100 * mb and abs(growth) <= 0.10
    print(
        f"  targets: speed {'met' if ok_speed else 'NOT met'} (>= bare loop and >= 1,200/s), "
        f"memory {'met' if ok_mem else 'NOT met'} (< 100 MB, within 10 %)"
    )


if __name__ == "__main__":
    main()
