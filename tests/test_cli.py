"""The command line as a user runs it: help everywhere, plugins listing, preview, the demo."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require_tool
from test_themes_email import spam_report

from newsroom.cli import cli
from newsroom.core.language import in_language
from newsroom.core.sanitize import clean_text

ROOT = Path(__file__).resolve().parent.parent


def test_every_command_has_help() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in cli.commands:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Usage:" in result.output and len(result.output.splitlines()) > 3, name


def test_help_lists_each_command_with_its_whole_first_sentence() -> None:
    """Not click's first 45 characters and an ellipsis."""
    runner = CliRunner()
    for args in ([], ["subscribers"], ["theme"], ["keys"]):
        result = runner.invoke(cli, [*args, "--help"], terminal_width=80)
        assert result.exit_code == 0, args
        listing = " ".join(result.output.split("Commands:", 1)[1].split())
        assert "..." not in listing, args
    listing = " ".join(runner.invoke(cli, ["--help"], terminal_width=80).output.split())
    assert (
        "send Send EDITION (default: the latest) to every active subscriber who has not had it."
        in listing
    )
    assert (
        "check Validate newsroom.toml, every plugin's options and the theme, fetching nothing."
        in listing
    )


def test_global_options_work_after_the_command(tmp_path: Path) -> None:
    from newsroom.cli.main import hoist_global_options

    assert _newsroom("init", str(tmp_path / "a")).returncode == 0
    config = str(tmp_path / "a" / "newsroom.toml")
    after = _newsroom("editions", "-c", config)
    assert after.returncode == 0, after.stderr
    debug = _newsroom("render", "--debug", "-c", config)  # nothing built yet: an error
    assert debug.returncode == 5 and "Traceback" in debug.stderr, debug.stderr
    quiet = _newsroom("render", f"--config={config}")
    assert quiet.returncode == 5 and "Traceback" not in quiet.stderr
    # Only the root's options move, and nothing after "--".
    assert hoist_global_options(["send", "--to", "a@b.c", "--debug"]) == [
        "--debug",
        "send",
        "--to",
        "a@b.c",
    ]
    assert hoist_global_options(["-c", "x.toml", "notes", "--", "--debug"]) == [
        "-c",
        "x.toml",
        "notes",
        "--",
        "--debug",
    ]


def test_plugins_json_lists_first_party_plugins_with_what_they_register() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["arxiv"]["sources"] == ["arxiv"]
    assert by_name["arxiv"]["package"] == "newsroom-digest" and by_name["arxiv"]["version"]
    assert set(by_name["filters"]["filters"]) >= {"window", "dedupe", "keywords", "history"}
    assert set(by_name["renderers"]["renderers"]) >= {"email", "web", "markdown"}
    assert by_name["sections"]["sections"] == ["select"]
    assert {t["name"] for t in data["themes"]} >= {"default"}
    assert data["failures"] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_preview_serves_the_built_outputs(tmp_path: Path) -> None:
    output = tmp_path / "build" / "editions" / "2026-02-14"
    output.mkdir(parents=True)
    (output / "email.html").write_text("<p>메일</p>", "utf-8")
    (output / "edition.json").write_text("{}", "utf-8")
    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "T"\n[[sources]]\nname = "n"\nplugin = "news"\n'
        'feeds = ["http://127.0.0.1:9/x"]\n',
        "utf-8",
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsroom",
            "-c",
            str(tmp_path / "newsroom.toml"),
            "preview",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                index = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert b"2026-02-14" in index and b"email.html" in index
        email = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/editions/2026-02-14/email.html", timeout=5
        ).read()
        assert "메일".encode() in email
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_demo_command_builds_sends_and_says_where_the_outputs_are() -> None:
    env = {**os.environ, "NEWSROOM_VENV": sys.prefix}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = {
        line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
        for line in proc.stdout.splitlines()
        if ":  " in line
    }
    for label in ("email (HTML)", "email (text)", "web edition"):
        path = Path(lines[label])
        assert path.is_file() and path.stat().st_size > 1000, label
    assert "AI 브리핑" in Path(lines["email (HTML)"]).read_text("utf-8")
    # The demo also sends the edition to the sample subscribers, and says where it arrived.
    received = re.match(r"(\d+) messages in (\S+)/", lines["received"])
    assert received is not None and received.group(1) == "5"
    mailbox = sorted(Path(received.group(2)).glob("*.eml"))
    assert len(mailbox) == 5
    message = email.message_from_bytes(mailbox[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "AI 브리핑 · RAG-Anything 외 26건"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The llm filter, answered by the demo's stand-in model, wrote the edition in Korean,
    # with an intro and an insight, without a notes file.
    assert "replays the answers written for this demo" in proc.stdout
    edition = json.loads((Path(lines["edition.json"])).read_text("utf-8"))
    items = [item for section in edition["sections"] for item in section["items"]]
    assert items and all(clean_text(item["summary"]) for item in items)
    korean = [in_language(clean_text(item["summary"]), "ko") for item in items]
    assert korean.count(True) >= 0.9 * len(items)
    assert [in_language(item["title"], "ko") for item in items].count(True) >= 0.8 * len(items)
    assert edition["intro"] and edition["insight"]
    assert not (Path(lines["edition.json"]).parents[3] / "notes").exists()
    # One story once: reports of one story (a paper and its code, an English thread and a
    # Korean article) are one item with every source, and every section is filled.
    merged = [item for item in items if len(item["sources"]) > 1]
    assert len(merged) >= 5
    assert {s["source"] for s in merged[0]["sources"]} >= {"hf-papers", "trending"}
    config = Path(lines["edition.json"]).parents[3] / "newsroom.toml"
    review = subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(config), "review", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert review.returncode == 0, review.stdout + review.stderr
    checks = {f["check"] for f in json.loads(review.stdout)["findings"]}
    assert not checks & {"repeated", "language", "summary", "section"}, review.stdout
    # What a reader receives scores under 0.5 with SpamAssassin's local rules.
    require_tool("spamassassin")
    score, rules = spam_report(mailbox[0].read_bytes())
    assert score < 0.5, (score, rules)


@pytest.mark.slow
def test_the_demo_installs_what_it_uses_and_says_what_it_is_doing(tmp_path: Path) -> None:
    """Before: 55 s without a word, and a 285 MB virtualenv with the test tools in it."""
    fresh = tmp_path / "venv"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "NEWSROOM_VENV": str(fresh)},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert f"Creating a virtualenv in {fresh} (once) ..." in out
    # newsroom with the extras the example uses (the llm and articles filters), no test tools.
    assert "Installing newsroom[articles,llm] for the demo into it (once; a minute or two)" in out
    assert re.search(r"installing: \d+ packages so far \(", out)
    assert "unpacking and installing them ..." in out and re.search(r"Ready in \d+ s\.", out)
    assert "[3/4] Building the edition of 2026-02-14 from the sample responses" in out
    assert "5 messages in" in out
    site = next(fresh.glob("lib/python3*/site-packages"))
    for tool in ("pytest", "mypy", "ruff", "psycopg"):
        assert not (site / tool).exists(), f"the demo installed {tool}"
    for used in ("aiosmtpd", "llm", "trafilatura"):
        assert (site / used).is_dir(), f"the demo did not install {used}"


def _newsroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsroom", *args], capture_output=True, text=True, timeout=120
    )


def test_a_korean_init_is_korean_for_its_readers(tmp_path: Path) -> None:
    """Before: English section titles, "My Briefing" as the sender, the time zone UTC."""
    from newsroom.config.newsletter import open_newsletter

    made = _newsroom("init", str(tmp_path / "ai"), "--language", "ko", "--title", "AI 브리핑")
    assert made.returncode == 0, made.stderr
    assert "time zone Asia/Seoul (the time zone of --language ko)" in made.stdout
    config = open_newsletter(tmp_path / "ai" / "newsroom.toml").config
    assert (config.newsletter.language, config.newsletter.timezone) == ("ko", "Asia/Seoul")
    assert config.email.from_ == "AI 브리핑 <newsletter@example.org>"
    assert [cc.title for cc in config.sections] == ["📄 논문", "💻 GitHub 프로젝트", "📰 뉴스"]
    plain = _newsroom("init", str(tmp_path / "plain"), "--language", "ko")
    assert plain.returncode == 0, plain.stderr
    config = open_newsletter(tmp_path / "plain" / "newsroom.toml").config
    assert config.newsletter.title == "나의 브리핑"
    assert config.email.from_ == "나의 브리핑 <newsletter@example.org>"
    english = _newsroom("init", str(tmp_path / "en"), "--title", 'Ops, "daily"')
    config = open_newsletter(tmp_path / "en" / "newsroom.toml").config
    assert [cc.title for cc in config.sections] == ["📄 Papers", "💻 GitHub projects", "📰 News"]
    assert config.email.from_ == '"Ops, \\"daily\\"" <newsletter@example.org>'
    assert english.returncode == 0


def test_init_refuses_an_unknown_language_or_time_zone(tmp_path: Path) -> None:
    zone = _newsroom("init", str(tmp_path / "a"), "--timezone", "Asia/Seul")
    assert zone.returncode == 2 and "not an IANA time zone" in zone.stderr
    language = _newsroom("init", str(tmp_path / "b"), "--language", "klingon")
    assert language.returncode == 2 and "not a language code" in language.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_init_from_the_example_builds_offline_from_its_sample_data(tmp_path: Path) -> None:
    from newsroom.config.starter import EXAMPLE_AS_OF

    made = _newsroom("init", str(tmp_path / "briefing"), "--example", "ai-briefing")
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "briefing"
    example = ROOT / "examples" / "ai-briefing"
    # The example's config, less its llm table (whose model is the demo's stand-in server):
    # that is commented out, after a line saying what to do.
    original = (example / "newsroom.toml").read_text("utf-8")
    start = original.index('[[filters]]\nplugin = "llm"\n')
    end = original.index("\n\n", start) + 1
    table = original[start:end]
    commented = "".join(f"# {line}" for line in table.splitlines(keepends=True))
    copied = (folder / "newsroom.toml").read_text("utf-8")
    note = "# (model 에 `llm models` 가 보여 주는 모델 이름을 적고 이 표의 # 을 지우세요)\n"
    assert copied == original[:start] + note + commented + original[end:]
    assert (folder / "signing-keys").is_file() and not (folder / "_demo").exists()
    # The command it suggests, run where it says.
    command = f"newsroom build --mirror sample-data --now {EXAMPLE_AS_OF['ai-briefing']}"
    assert command in made.stdout
    built = subprocess.run(
        [sys.executable, "-m", "newsroom", *command.split()[1:], "--json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["title"] == "AI 브리핑 2026년 2월 14일" and report["sections"]["papers"] == 5
    unknown = _newsroom("init", str(tmp_path / "x"), "--example", "no-such")
    assert unknown.returncode == 2 and "ai-briefing" in unknown.stderr


def test_init_never_overwrites(tmp_path: Path) -> None:
    assert _newsroom("init", str(tmp_path)).returncode == 0
    again = _newsroom("init", str(tmp_path))
    assert again.returncode == 3
    assert again.stderr.strip().count("\n") == 0 and "already exists" in again.stderr


def test_a_corrupt_edition_json_is_one_line_exit_5(tmp_path: Path) -> None:
    assert _newsroom("init", str(tmp_path)).returncode == 0
    folder = tmp_path / "build" / "editions" / "2026-02-14"
    folder.mkdir(parents=True)
    (folder / "edition.json").write_text('{"id": "2026-02-14", "title": 5}', "utf-8")
    proc = _newsroom("-c", str(tmp_path / "newsroom.toml"), "render")
    assert proc.returncode == 5
    assert "not a valid edition" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_edition_ids_with_a_newline_are_refused(tmp_path: Path) -> None:
    assert _newsroom("init", str(tmp_path)).returncode == 0
    proc = _newsroom("-c", str(tmp_path / "newsroom.toml"), "build", "--edition", "x\n")
    assert proc.returncode == 5 and "edition id" in proc.stderr
    assert not (tmp_path / "build").exists()
