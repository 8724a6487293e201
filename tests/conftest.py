"""Shared fixtures. ``local_server`` and ``plugin_manager`` come from ``newsroom.testing``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

# Real PostgreSQL, Dovecot IMAP and Postfix smtp-sink servers (tests/servers.py).
from servers import dovecot, imap_account, postgres_db, postgres_server, smtp_sink  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEWSROOM_SHARED", ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


#: Between the missing thing and the command that provides it, in a skip's reason.
ENABLE = " · to run: "
#: The Debian package of each command the tests use.
PACKAGES = {"node": "nodejs", "runuser": "util-linux"}
SHARED_HOW = f"put the shared folder beside the checkout as {SHARED} (or set NEWSROOM_SHARED)"


def require(condition: bool, what: str, how: str) -> None:
    """Skip when a tool or data set is missing, except in CI where that is a failure.
    ``how`` is the one command (or step) that provides it; the summary at the end groups
    skipped tests by it."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true ({how})")
    pytest.skip(f"{what}{ENABLE}{how}")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(
        path is not None,
        f"the `{name}` command",
        f"sudo apt-get install {PACKAGES.get(name, name)}",
    )
    assert path is not None
    return path


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The captured real responses in ../shared/fixtures (read-only; never copied)."""
    path = SHARED / "fixtures"
    require(path.is_dir(), "the captured responses of ../shared/fixtures", SHARED_HOW)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skipped tests grouped by what would run them, one line per command, instead of a
    line per test."""
    groups: dict[tuple[str, str], int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        what, _, how = reason.partition(ENABLE)
        key = (what.strip(), how.strip() or "-")
        groups[key] = groups.get(key, 0) + 1
    if not groups:
        return
    write = terminalreporter.write_line
    total = sum(groups.values())
    terminalreporter.section(f"{total} skipped: what this machine lacks", sep="-")
    for (what, how), count in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])):
        write(f"{count:4d}  {what}")
        if how != "-":
            write(f"      {how}")
    write("All of them at once: bash .ci/run (installs what the tests use, then runs them).")


#: Test files whose module-scoped fixtures cost seconds (a virtualenv with newsroom installed,
#: a site rendered per theme, a browser's run): their tests run in one worker, so that each
#: fixture is made once (tests/run.py runs the suite in workers, --dist loadgroup).
ONE_WORKER_PER_FILE = {
    "test_check.py",
    "test_install.py",
    "test_plugins_docs.py",
    "test_render.py",
    "test_send_tls.py",
    "test_site.py",
    "test_slow_sources.py",
    "test_themes.py",
    "test_themes_browser.py",
    "test_themes_email.py",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in ONE_WORKER_PER_FILE:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


# -- a built newsletter for the sending tests ---------------------------------------------------

EXAMPLE = ROOT / "examples" / "ai-briefing"
#: The sample data describes the morning of 14 February 2026 in Seoul.
AS_OF = "2026-02-14T06:00:00+09:00"
EDITION = AS_OF[:10]
SECRET = "test-signing-key-0123456789abcdef"
_KEYED_PLACEHOLDER = re.compile(r"(%%[a-z0-9_:-]+)\.[0-9a-f]{32}%%")
_KEY_FIELD = re.compile(r'"placeholder_key": "[0-9a-f]{32}"')


def without_placeholder_key(text: str) -> str:
    """``text`` with every render's random placeholder key taken out
    (``%%unsubscribe_url.<key>%%`` becomes ``%%unsubscribe_url%%``), so two renders of the
    same edition compare equal."""
    text = _KEYED_PLACEHOLDER.sub(r"\1%%", text)
    return _KEY_FIELD.sub('"placeholder_key": "<key>"', text)


def newsroom_cli(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``newsroom`` command on ``config``."""
    import sys

    full_env = {**os.environ, "NEWSROOM_SECRET_KEY": SECRET}
    full_env.pop("NEWSROOM_SMTP_PASSWORD", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(config), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example newsletter, built once from its sample data (do not modify: copy it)."""
    from newsroom.testing import LocalServer

    work = tmp_path_factory.mktemp("example") / "ai-briefing"
    work.mkdir()
    shutil.copy(EXAMPLE / "newsroom.toml", work / "newsroom.toml")
    with LocalServer(EXAMPLE / "sample-data") as server:
        result = newsroom_cli(
            work / "newsroom.toml", "build", "--mirror", server.url, "--now", AS_OF
        )
    assert result.returncode == 0, result.stderr
    return work


@pytest.fixture
def newsletter(built_example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the built example; returns its newsroom.toml. The signing key is
    in the environment, as a deployment would have it."""
    target = tmp_path / "ai-briefing"
    shutil.copytree(built_example, target)
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", SECRET)
    monkeypatch.delenv("NEWSROOM_SMTP_PASSWORD", raising=False)
    return target / "newsroom.toml"


#: The engines the state can live in; the tests of sending and of the service run on both.
ENGINES = ["sqlite", "postgresql"]


def open_state(config: Path) -> Any:
    """The state of the newsletter at ``config``: its ``[state] url`` (the password in
    NEWSROOM_STATE_PASSWORD), else its SQLite file."""
    import tomllib

    from newsroom.store.state import State

    url = tomllib.loads(config.read_text("utf-8")).get("state", {}).get("url")
    return State(url) if url else State(config.parent / "state.db")


def use_postgres(config: Path, database: Any) -> None:
    """Move the newsletter's state (the build's editions) into ``database``, as an operator
    would: `newsroom state copy --to URL`, then `[state] url` in the config. The file is
    removed, so that nothing reads it by mistake."""
    result = newsroom_cli(config, "state", "copy", "--to", database.url)
    assert result.returncode == 0, result.stderr
    text = config.read_text("utf-8")
    config.write_text(text + f'\n[state]\nurl = "{database.url}"\nlease = 5\n', "utf-8")
    for suffix in ("", "-wal", "-shm"):
        (config.parent / f"state.db{suffix}").unlink(missing_ok=True)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine in turn (a PostgreSQL server is started for the second)."""
    return str(request.param)


def point_at(config: Path, port: int, **email: object) -> None:
    """Send through 127.0.0.1:``port``; ``email`` sets keys of the [email] table."""
    import re

    text = config.read_text("utf-8")
    text = re.sub(r"(?m)^port = \d+", f"port = {port}", text)
    for key, value in email.items():
        line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
        pattern = rf"(?m)^{key} = .*$"
        if re.search(pattern, text):
            text = re.sub(pattern, lambda _m, line=line: line, text)
        else:
            text = text.replace("[email]\n", f"[email]\n{line}\n", 1)
    config.write_text(text, "utf-8")


def unbuilt(config: Path, publish_to: Path | None = None) -> None:
    """Remove the copy's build and state, so `newsroom run` builds today's edition afresh;
    ``publish_to`` becomes its `[publish] directory`."""
    if publish_to is not None:
        config.write_text(
            config.read_text("utf-8") + f'\n[publish]\ndirectory = "{publish_to}"\n', "utf-8"
        )
    shutil.rmtree(config.parent / "build")
    if (config.parent / "state.db").exists():
        (config.parent / "state.db").unlink()
    else:  # the state is in a database: empty it
        with open_state(config) as state:
            state.db.execute(
                "TRUNCATE editions, edition_items, subscribers, suppressed, sends, deliveries, "
                "locks, llm_cache, approvals, signups, confirmation_mails"
            )
