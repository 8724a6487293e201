"""The command line as a user runs it: help everywhere, plugins listing, preview, the demo."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require
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


def test_plugins_json_lists_first_party_plugins_with_what_they_register() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["arxiv"]["sources"] == ["arxiv"]
    assert by_name["arxiv"]["package"] == "newsroom" and by_name["arxiv"]["version"]
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
    require(shutil.which("spamassassin") is not None, "the `spamassassin` command")
    score, rules = spam_report(mailbox[0].read_bytes())
    assert score < 0.5, (score, rules)


def _newsroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsroom", *args], capture_output=True, text=True, timeout=120
    )


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
