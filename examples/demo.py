"""The offline demo: ``python3 examples/demo.py``.

Builds the example newsletter in ``examples/ai-briefing/`` against sample responses (in the
real formats of arXiv, GitHub trending, Product Hunt and RSS/Atom feeds) served on
127.0.0.1, then sends it to the sample subscribers through an SMTP server it runs on
127.0.0.1, and prints where the email (HTML and text), the web edition and the received
messages are. Needs only Python 3.11+: the first run creates ``.venv`` and installs
newsroom into it (newsroom alone: the test tools come with the first ``tests/run.py``),
saying what it is doing as it goes.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
runpy.run_path(str(ROOT / "tests" / "bootstrap.py"))["reexec_in_venv"](
    Path(__file__), extras="", purpose="the demo"
)

from newsroom.config.starter import EXAMPLE_AS_OF  # noqa: E402  (inside the virtualenv)
from newsroom.dev.httpserver import LocalServer  # noqa: E402
from newsroom.dev.smtpsink import SmtpSink  # noqa: E402

EXAMPLE = HERE / "ai-briefing"
WORK = EXAMPLE / "_demo"
#: The sample data describes the morning of 14 February 2026 in Seoul.
AS_OF = EXAMPLE_AS_OF["ai-briefing"]
STEPS = 4


def newsroom(*args: str) -> None:
    # The sample data has no Product Hunt API responses: use the public feed even when a
    # token is set on this machine; and no SMTP password or signing key from the machine.
    hidden = {"PRODUCTHUNT_TOKEN", "NEWSROOM_SMTP_PASSWORD", "NEWSROOM_SECRET_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(WORK / "newsroom.toml"), *args],
        check=True,
        env=env,
    )


def step(number: int, what: str) -> None:
    print(f"\n[{number}/{STEPS}] {what}", flush=True)


def main() -> None:
    started = time.monotonic()
    # A fresh copy each run, so the demo never depends on what an earlier run recorded.
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    mailbox = WORK / "mailbox"
    with SmtpSink(folder=mailbox) as sink, LocalServer(EXAMPLE / "sample-data") as server:
        # The example sends to 127.0.0.1:2525; the demo's own server listens on a free port.
        config = (EXAMPLE / "newsroom.toml").read_text("utf-8")
        (WORK / "newsroom.toml").write_text(
            config.replace("port = 2525", f"port = {sink.port}"), "utf-8"
        )
        # The editor's notes for the demo edition: its intro, insight, a pin and a drop.
        shutil.copytree(EXAMPLE / "notes", WORK / "notes")
        print(f"Serving the sample responses at {server.url}/ (stand-ins for the live sites)")
        print(f"Receiving mail at smtp://127.0.0.1:{sink.port} (a stand-in for a mail server)")
        step(1, "A key to sign the unsubscribe links")
        newsroom("keys", "rotate")
        step(2, "The sample subscribers")
        newsroom("subscribers", "import", str(EXAMPLE / "subscribers.csv"))
        step(3, f"Building the edition of {AS_OF[:10]} from the sample responses")
        newsroom("build", "--mirror", server.url, "--now", AS_OF)
        step(4, "Sending it to the subscribers")
        newsroom("send", "--yes", AS_OF[:10])
        received = sink.total
    edition = WORK / "build" / "editions" / AS_OF[:10]
    site = WORK / "build" / "site"
    print()
    print(f"The demo edition is ready and was sent ({time.monotonic() - started:.0f} s):")
    print(f"  email (HTML):  {edition / 'email.html'}")
    print(f"  email (text):  {edition / 'email.txt'}")
    print(f"  web edition:   {site / 'index.html'}")
    print(f"  edition.json:  {edition / 'edition.json'}")
    print(f"  received:      {received} messages in {mailbox}/ (open them in any mail program)")
    print(f"Browse it with: {sys.executable} -m newsroom -c {WORK / 'newsroom.toml'} preview")


if __name__ == "__main__":
    main()
