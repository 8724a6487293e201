"""The offline demo: ``python3 examples/demo.py``.

Builds the example newsletter in ``examples/ai-briefing/`` against sample responses (in the
real formats of arXiv, GitHub trending, Product Hunt and RSS/Atom feeds) served on
127.0.0.1, then sends it to the sample subscribers through an SMTP server it runs on
127.0.0.1, and prints where the email (HTML and text), the web edition and the received
messages are. The example's ``llm`` filter is answered by a stand-in model server on
127.0.0.1 that replays answers written for the demo. Needs only Python 3.11+: the first run
creates ``.venv`` and installs newsroom into it (with the llm and articles extras the example
uses; the test tools come with the first ``tests/run.py``), saying what it is doing as it goes.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
runpy.run_path(str(ROOT / "tests" / "bootstrap.py"))["reexec_in_venv"](
    Path(__file__), extras="llm,articles", purpose="the demo"
)

import json  # noqa: E402
import re  # noqa: E402

from newsroom.config.starter import EXAMPLE_AS_OF  # noqa: E402  (inside the virtualenv)
from newsroom.dev.httpserver import LocalServer  # noqa: E402
from newsroom.dev.modelserver import ChatRequest, ModelServer, register_models  # noqa: E402
from newsroom.dev.smtpsink import SmtpSink  # noqa: E402

EXAMPLE = HERE / "ai-briefing"
WORK = EXAMPLE / "_demo"
#: The sample data describes the morning of 14 February 2026 in Seoul.
AS_OF = EXAMPLE_AS_OF["ai-briefing"]
STEPS = 4
#: Answers written for the demo edition, replayed by a stand-in model server (not a model).
ANSWERS = EXAMPLE / "model-answers.json"
#: The model name the example config uses, which the stand-in answers to.
DEMO_MODEL = "briefing-demo"
#: Environment for the newsroom commands (set by start_model: where llm finds the stand-in).
DEMO_ENV: dict[str, str] = {}


def newsroom(*args: str) -> None:
    # The sample data has no Product Hunt API responses: use the public feed even when a
    # token is set on this machine; and no SMTP password or signing key from the machine.
    hidden = {"PRODUCTHUNT_TOKEN", "NEWSROOM_SMTP_PASSWORD", "NEWSROOM_SECRET_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in hidden} | DEMO_ENV
    subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(WORK / "newsroom.toml"), *args],
        check=True,
        env=env,
    )


def replay(answers: dict[str, Any]) -> Callable[[ChatRequest], str]:
    """The stand-in model: the answer written for each request of the llm filter, found by
    the kind of prompt and the item's link (``Link: ...`` in the prompt)."""
    kinds = {
        "Summarize": "summaries",
        "Write the title": "titles",
        "Which section": "sections",
        "Which of these items report the same story": "stories",
        "Write the introduction": "intro",
        "Write the editor's insight": "insight",
    }

    def answer(request: ChatRequest) -> str:
        prompt = request.prompt
        kind = next((k for start, k in kinds.items() if prompt.startswith(start)), "")
        if kind == "intro":
            return str(answers["intro"])
        if kind == "insight":
            return json.dumps(numbered(answers["insight"], prompt), ensure_ascii=False)
        if kind == "stories":
            return json.dumps({"stories": story_numbers(answers["stories"], prompt)})
        link = re.search(r"^Link: (\S+)$", prompt, re.M)
        written = answers.get(kind, {}).get(link.group(1) if link else "")
        # "none" for a section: the sections' rules place the item.
        return str(written) if written else "none"

    return answer


def story_numbers(stories: list[list[str]], prompt: str) -> list[list[int]]:
    """The written stories (lists of links) as the prompt's item numbers."""
    from newsroom.core.urls import without_tracking

    listed = re.findall(r"^\[(\d+)\] .* <(\S+)>$", prompt, re.M)
    # Links as the sources gave them, which may carry tracking parameters the written
    # answers leave out.
    number = {without_tracking(url): int(n) for n, url in listed}
    groups = [[number[url] for url in story if url in number] for story in stories]
    return [g for g in groups if len(g) > 1]


def numbered(insight: dict[str, Any], prompt: str) -> dict[str, Any]:
    """The written insight with its items (words of their titles) as the prompt's numbers."""
    listing = re.findall(r"^\[(\d+)\] \([^)]*\) (.*)$", prompt, re.M)

    def number(words: str) -> int:
        return next((int(n) for n, line in listing if words in line), 0)

    def entry(e: dict[str, Any]) -> dict[str, Any]:
        return {**e, "items": [n for n in map(number, e["items"]) if n]}

    return {
        "trends": [entry(e) for e in insight["trends"]],
        "recommendations": [entry(e) for e in insight["recommendations"]],
        "outlook": entry(insight["outlook"]),
    }


def start_model(stack: ExitStack) -> ModelServer:
    """Serve the written answers as an OpenAI-compatible API on 127.0.0.1, and point llm's
    model ``briefing-demo`` at it (in a settings folder of the demo's own)."""
    answers = json.loads(ANSWERS.read_text("utf-8"))
    server = stack.enter_context(ModelServer(replay(answers)))
    home = WORK / "llm"
    register_models(home, server.url, [DEMO_MODEL])
    DEMO_ENV["LLM_USER_PATH"] = str(home)
    return server


def step(number: int, what: str) -> None:
    print(f"\n[{number}/{STEPS}] {what}", flush=True)


def main() -> None:
    started = time.monotonic()
    # A fresh copy each run, so the demo never depends on what an earlier run recorded.
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    mailbox = WORK / "mailbox"
    with (
        ExitStack() as stack,
        SmtpSink(folder=mailbox) as sink,
        LocalServer(EXAMPLE / "sample-data") as server,
    ):
        model = start_model(stack)
        # The example sends to 127.0.0.1:2525; the demo's own server listens on a free port.
        config = (EXAMPLE / "newsroom.toml").read_text("utf-8")
        (WORK / "newsroom.toml").write_text(
            config.replace("port = 2525", f"port = {sink.port}"), "utf-8"
        )
        # No notes file: the model writes the titles, summaries, intro and insight. (The
        # editor's notes for this edition are in examples/ai-briefing/notes/, to try.)
        print(f"Serving the sample responses at {server.url}/ (stand-ins for the live sites)")
        print(
            f"Answering as the model {DEMO_MODEL!r} at {model.url}: a stand-in that replays "
            f"the answers written for this demo in {ANSWERS.relative_to(ROOT)}, not a model "
            '(for a real one, set model = "gpt-4o-mini" or any `llm models` name in '
            "newsroom.toml)"
        )
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
    print(f"  model calls:   {len(model.requests)}, answered by the stand-in from {ANSWERS.name}")
    print(f"Browse it with: {sys.executable} -m newsroom -c {WORK / 'newsroom.toml'} preview")


if __name__ == "__main__":
    main()
