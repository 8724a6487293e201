"""`newsroom doctor`: each source asked for real (an answer that parses to nothing is drift,
a 401 a refused token), the mail server connected to, the sending setup checked; a table or
JSON, with exit codes for cron."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from newsroom.dev.smtpsink import SmtpSink
from newsroom.testing import LocalServer

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Lab</title><link>https://lab.example/</link>{items}
</channel></rss>"""
ITEM = "<item><title>새 모델</title><link>https://lab.example/1</link></item>"


def doctor(folder: Path, *args: str) -> tuple[int, dict[str, dict[str, str]], str]:
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "doctor", "--json", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.returncode
    return result.returncode, {f["check"]: f for f in report["findings"]}, result.stderr


def newsletter(folder: Path, server: LocalServer, smtp_port: int) -> Path:
    folder.mkdir()
    (folder / "newsroom.toml").write_text(
        f"""[newsletter]
title = "AI 브리핑"
language = "ko"

[[sources]]
name = "good"
plugin = "news"
feeds = [{{ url = "{server.url}/good.xml", name = "Lab" }}]

[[sources]]
name = "changed"
plugin = "news"
feeds = [{{ url = "{server.url}/changed.xml", name = "Lab" }}]

[[sources]]
name = "locked"
plugin = "news"
feeds = [{{ url = "{server.url}/locked.xml", name = "Lab" }}]

[[sections]]
id = "all"
title = "모두"

[email]
from = "AI 브리핑 <briefing@newsroom-digest.org>"
postal_address = "서울특별시 종로구 예시로 1"

[subscriptions]
url = "https://127.0.0.1:8443/subscription/"

[transport]
plugin = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
""",
        "utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "newsroom", "keys", "rotate"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return folder


def test_doctor_asks_each_source_and_the_mail_server(tmp_path: Path) -> None:
    with LocalServer() as server, SmtpSink() as sink:
        server.add("/good.xml", RSS.format(items=ITEM), content_type="application/rss+xml")
        # The page still answers, but no longer holds what the parser looks for.
        server.add("/changed.xml", RSS.format(items=""), content_type="application/rss+xml")
        server.add("/locked.xml", "token required", status=401)
        folder = newsletter(tmp_path / "n", server, sink.port)
        code, found, stderr = doctor(folder)
        assert sink.total == 0  # connected, sent nothing
    assert code == 12, stderr
    assert found["source good"]["level"] == "ok"
    assert found["source good"]["message"] == "1 items"
    assert found["source changed"]["level"] == "warning"
    assert "parsed to no items" in found["source changed"]["message"]
    assert found["source locked"]["level"] == "problem"
    assert "refused" in found["source locked"]["message"]
    assert "token" in found["source locked"]["hint"]
    assert found["mail server"]["level"] == "ok"
    assert found["mail server"]["message"] == f"127.0.0.1:{sink.port} answered"
    assert found["signing keys"]["level"] == "ok"
    assert found["subscription pages"]["level"] == "note"  # on this machine: not asked


def test_doctor_exit_codes_for_cron(tmp_path: Path) -> None:
    with LocalServer() as server, SmtpSink() as sink:
        server.add("/good.xml", RSS.format(items=ITEM), content_type="application/rss+xml")
        server.add("/changed.xml", RSS.format(items=ITEM), content_type="application/rss+xml")
        server.add("/locked.xml", RSS.format(items=""), content_type="application/rss+xml")
        folder = newsletter(tmp_path / "n", server, sink.port)
        assert doctor(folder)[0] == 0  # a warning (no items from one source) alone
        assert doctor(folder, "--strict")[0] == 4
    # The mail server is gone: a problem.
    code, found, _ = doctor(folder, "--skip", "sources")
    assert code == 12
    assert found["mail server"]["level"] == "problem"
    assert f"127.0.0.1:{sink.port}" in found["mail server"]["message"]
    assert not any(check.startswith("source ") for check in found)
