"""Email services: the ses transport, SES's reports through SNS, the reply mailbox.

    python benchmarks/bench_services.py [--subscribers 2000] [--notifications 10000] [--dsns 1000]

1. Send: the example edition to N subscribers through the ``ses`` transport against moto's
   server mode (a local stand-in for the SES v2 API, in this process, on 127.0.0.1) and
   through the ``smtp`` transport to Postfix's smtp-sink, in the same run. The stand-in's
   own cost (it parses every message in Python) dominates the first: a sanity ratio, not a
   target.
2. Feedback: ``newsroom serve`` (uvicorn, its own process) takes N signed SNS notifications
   of SES bounces, 16 at a time in batches of 1,000; the wall time, and the server's RSS
   after each batch (flat: nothing grows with the count).
3. Mailbox: N delivery status notifications in Dovecot (tests/servers.py, the tests' own
   server), then ``newsroom mailbox``, timed as a whole command.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
import bench_send  # noqa: E402
import dsn_samples  # noqa: E402
from servers import find_program, server_account, server_folder, start_dovecot  # noqa: E402

from newsroom.testing import LocalServer  # noqa: E402

REGION = "eu-west-1"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:newsletter-feedback"
AWS = {"AWS_ACCESS_KEY_ID": "bench-access-key", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
LOCAL_SNS_PLUGIN = '''
import os
from urllib.parse import urlsplit

from newsroom import hookimpl
from newsroom_feedback.ses import SesReceiver


class LocalSnsReceiver(SesReceiver):
    """The ses receiver with SNS's host answered by the benchmark's server."""

    name = "ses-local"

    async def download(self, url):
        return await super().download(os.environ["NEWSROOM_TEST_SNS"] + urlsplit(url).path)


@hookimpl
def register_feedback(register):
    register(LocalSnsReceiver)
'''


def cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# -- 1. send -------------------------------------------------------------------------------------


def bench_send_transports(template: Path, work: Path, count: int) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    print(f"\n1. send {count:,} messages")
    with bench_send.Sink() as sink:
        smtp = work / "smtp"
        bench_send.newsletter(template, smtp, sink.port, count)
        smtp_figures = bench_send.time_send(smtp, f"smtp to {sink.label}")
    port = bench_send.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(AWS)
    try:
        import botocore.session

        url = f"http://127.0.0.1:{port}"
        botocore.session.get_session().create_client(
            "sesv2", region_name=REGION, endpoint_url=url
        ).create_email_identity(EmailIdentity="example.org")
        ses = work / "ses"
        bench_send.newsletter(template, ses, 9, count)
        text = (ses / "newsroom.toml").read_text("utf-8")
        head, _, _ = text.partition("[transport]")
        (ses / "newsroom.toml").write_text(
            head + f'[transport]\nplugin = "ses"\nregion = "{REGION}"\nendpoint_url = "{url}"\n'
            "use_quota = false\n",
            "utf-8",
        )
        ses_figures = bench_send.time_send(ses, f"ses to moto's server mode on {url}")
    finally:
        server.stop()
    print(
        f"  ratio ses/smtp: {ses_figures['rate'] / smtp_figures['rate']:.2f} "
        "(the stand-in parses every message in Python: its cost dominates)"
    )


# -- 2. feedback --------------------------------------------------------------------------------


def certificate(key: rsa.RSAPrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def notification(key: rsa.RSAPrivateKey, address: str) -> bytes:
    message = json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": address, "diagnosticCode": "550 5.1.1"}],
                "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                "feedbackId": str(uuid.uuid4()),
            },
            "mail": {"messageId": str(uuid.uuid4())},
        }
    )
    data = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Message": message,
        "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SignatureVersion": "2",
        "SigningCertURL": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-b.pem",
    }
    fields = ["Message", "MessageId", "Timestamp", "TopicArn", "Type"]
    signed = "".join(f"{f}\n{data[f]}\n" for f in fields).encode()
    data["Signature"] = base64.b64encode(
        key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    return json.dumps(data).encode()


async def post_all(url: str, bodies: list[bytes], pid: int, batch: int) -> list[int]:
    sizes = []
    async with httpx.AsyncClient(timeout=60) as client:
        for start in range(0, len(bodies), batch):
            queue = list(bodies[start : start + batch])

            async def worker(queue: list[bytes] = queue) -> None:
                while queue:
                    body = queue.pop()
                    response = await client.post(url, content=body)
                    if response.status_code != 200:
                        raise SystemExit(f"{response.status_code}: {response.text}")

            await asyncio.gather(*(worker() for _ in range(16)))
            sizes.append(rss(pid))
    return sizes


def bench_feedback(template: Path, work: Path, count: int) -> None:
    print(f"\n2. feedback: {count:,} signed SNS notifications of SES bounces")
    folder = work / "feedback"
    bench_send.newsletter(template, folder, 9, count)
    (folder / "plugins").mkdir()
    (folder / "plugins" / "localsns.py").write_text(LOCAL_SNS_PLUGIN, "utf-8")
    port = bench_send.free_port()
    config = (folder / "newsroom.toml").read_text("utf-8")
    config = config.replace("[subscriptions]\n", f"[subscriptions]\nport = {port}\n", 1)
    if f"port = {port}" not in config:
        config += f"\n[subscriptions]\nport = {port}\n"
    config += (
        f'\n[plugins]\nplugins_dir = "plugins"\n'
        f'[[feedback]]\nplugin = "ses-local"\nname = "ses"\ntopic_arns = ["{TOPIC}"]\n'
    )
    (folder / "newsroom.toml").write_text(config, "utf-8")
    addresses = [f"reader{i:06d}@example{i % 50}.org" for i in range(count)]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    started = time.perf_counter()
    bodies = [notification(key, a) for a in addresses]
    print(f"  signed {count:,} notifications in {time.perf_counter() - started:.1f} s (not timed)")
    with LocalServer() as sns:
        sns.add("/SimpleNotificationService-b.pem", certificate(key))
        env = {**bench_send.env(), "NEWSROOM_TEST_SNS": sns.url}
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml"), "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while not bench_send.port_in_use(port):
                if time.monotonic() > deadline or proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise SystemExit(f"newsroom serve did not start: {err}")
                time.sleep(0.05)
            before = rss(proc.pid)
            cpu_before = cpu(proc.pid)
            started = time.perf_counter()
            sizes = asyncio.run(
                post_all(f"http://127.0.0.1:{port}/webhooks/ses", bodies, proc.pid, 1000)
            )
            took = time.perf_counter() - started
            server_cpu = cpu(proc.pid) - cpu_before
        finally:
            proc.terminate()
            proc.wait(10)
    bounced = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsroom",
            "-c",
            str(folder / "newsroom.toml"),
            "subscribers",
            "list",
            "--status",
            "bounced",
        ],
        capture_output=True,
        text=True,
        env=bench_send.env(),
    ).stdout.count("@")
    print(
        f"  applied {count:,} in {took:.2f} s = {count / took:,.0f}/s (the server's own CPU: "
        f"{server_cpu:.1f} s, {server_cpu / count * 1000:.2f} ms a notification; the client "
        f"shares the two cores); {bounced:,} bounced; "
        f"server RSS {before / 2**20:.1f} MB before, after each 1,000: "
        + ", ".join(f"{s / 2**20:.1f}" for s in sizes)
        + " MB"
    )


# -- 3. mailbox ---------------------------------------------------------------------------------


def bench_mailbox(template: Path, work: Path, count: int) -> None:
    print(f"\n3. mailbox: {count:,} delivery status notifications in Dovecot")
    program = find_program("dovecot", "/usr/sbin")
    openssl = find_program("openssl")
    if program is None or openssl is None:
        print("  Dovecot or openssl is missing (apt-get install dovecot-imapd openssl): skipped")
        return
    folder = work / "mailbox"
    with bench_send.Sink() as sink:
        bench_send.newsletter(template, folder, sink.port, count)
        bench_send.time_send(folder, "the send the bounces answer")
    from newsroom.deliver.messages import message_id_for
    from newsroom.store.state import State

    with State(folder / "state.db") as state:
        rows = state.db.execute("SELECT email, uid FROM subscribers").fetchall()
    account_user = server_account("dovecot", "dovecot-core")
    with (
        server_folder("dovecot", account_user) as path,
        start_dovecot(path, program, openssl, account_user) as server,
    ):
        account = server.add_account()
        makers = [dsn_samples.postfix, dsn_samples.exim, dsn_samples.gmail, dsn_samples.exchange]
        started = time.perf_counter()
        with account.mailbox() as box:
            for n, (address, uid) in enumerate(rows):
                raw = makers[n % 4](address, message_id_for(bench_send.EDITION, uid, "example.org"))
                box.append(raw, "INBOX")
        print(f"  appended {len(rows):,} in {time.perf_counter() - started:.1f} s (not timed)")
        config = (folder / "newsroom.toml").read_text("utf-8")
        (folder / "newsroom.toml").write_text(
            config + f'\n[mailbox]\nhost = "127.0.0.1"\nport = {account.port}\n'
            f'security = "none"\nuser = "{account.user}"\n'
            'password = { "$env" = "NEWSROOM_IMAP_PASSWORD" }\n',
            "utf-8",
        )
        env = {**bench_send.env(), "NEWSROOM_IMAP_PASSWORD": account.password}
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml"), "mailbox"],
            capture_output=True,
            text=True,
            env=env,
        )
        took = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    print(f"  newsroom mailbox: {took:.2f} s (whole command) = {len(rows) / took:,.0f}/s")
    print(f"  {result.stdout.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--dsns", type=int, default=1000)
    parser.add_argument("--only", choices=["send", "feedback", "mailbox"])
    args = parser.parse_args()
    os.environ.setdefault("NEWSROOM_SECRET_KEY", "bench-signing-key-0123456789abcdef")
    work = Path(tempfile.mkdtemp(prefix="bench-services-"))
    try:
        template = work / "template"
        bench_send.build_template(template)
        if args.only in (None, "send"):
            bench_send_transports(template, work, args.subscribers)
        if args.only in (None, "feedback"):
            bench_feedback(template, work, args.notifications)
        if args.only in (None, "mailbox"):
            bench_mailbox(template, work, args.dsns)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
