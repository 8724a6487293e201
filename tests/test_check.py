"""`newsroom check` validates without fetching; `newsroom schema` gives editors a JSON Schema
that accepts the configs newsroom accepts and flags what it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

from newsroom.config.schema import config_schema
from newsroom.core.plugins import load_plugins
from newsroom.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent


def newsroom(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSROOM_LOAD_PLUGINS",)}
    return subprocess.run(
        [sys.executable, "-m", "newsroom", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def sources_at(url: str) -> str:
    """Sources of three plugins, every one pointed at ``url``."""
    return f"""
[[sources]]
name = "papers"
plugin = "arxiv"
base_url = "{url}"
categories = ["cs.CL"]

[[sources]]
name = "trending"
plugin = "github-trending"
base_url = "{url}"

[[sources]]
name = "blog"
plugin = "news"
feeds = ["{url}/feed.xml"]
"""


def test_a_valid_config_checks_ok_without_a_single_request(tmp_path: Path) -> None:
    with LocalServer() as server:
        server.add("/feed.xml", "<rss/>")
        config = tmp_path / "newsroom.toml"
        config.write_text(
            '[newsletter]\ntitle = "Check"\n'
            + sources_at(server.url)
            + '[[filters]]\nplugin = "window"\nhours = 36\n'
            '[[sections]]\nid = "papers"\ntitle = "Papers"\nmatch = { source = "papers" }\n',
            "utf-8",
        )
        result = newsroom("check", cwd=tmp_path)
        assert server.requests == []
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"{config}: OK (3 sources, 1 filters, 1 sections, 3 renderers, transport smtp; "
        "theme default)"
    )


def test_every_problem_is_reported_at_once_exit_3_and_nothing_fetched(tmp_path: Path) -> None:
    with LocalServer() as server:
        config = tmp_path / "newsroom.toml"
        config.write_text(
            '[newsletter]\ntitle = "Check"\ntheme = "no-such-theme"\n'
            + sources_at(server.url).replace('categories = ["cs.CL"]', "max_results = 'many'")
            + '[[filters]]\nplugin = "dedup"\n'
            '[[sections]]\nid = "papers"\ntitle = "Papers"\nmatch = { source = "paper" }\n'
            '[plugins]\nplugins_dir = "missing"\n',
            "utf-8",
        )
        result = newsroom("-c", str(config), "check", "--json")
        assert server.requests == []
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["ok"] is False
    problems = "\n".join(report["problems"])
    assert len(report["problems"]) == 5, problems
    for expected in (
        f"[plugins] plugins_dir: no folder at {tmp_path / 'missing'}",
        "[[sources]] #1 'papers' (plugin 'arxiv'): max_results: Input should be a valid integer",
        "[[filters]] #1 (plugin 'dedup'): unknown filter plugin 'dedup'; installed filters:",
        "[[sections]] #1 'papers' (plugin 'select'): match: Value error, source 'paper' is not",
        "[newsletter] theme: unknown theme 'no-such-theme'",
    ):
        assert expected in problems


def test_check_prints_problems_one_per_line(tmp_path: Path) -> None:
    config = tmp_path / "newsroom.toml"
    config.write_text('[newsletter]\ntitle = 3\n[[sources]]\nname = "x"\nplugin = "nope"\n')
    result = newsroom("-c", str(config), "check")
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {config}: 2 problems:"
    assert lines[1] == "  - [newsletter]: title: Input should be a valid string, got 3"
    assert lines[2].startswith("  - [[sources]] #1 'x' (plugin 'nope'): unknown source plugin")


def test_a_missing_or_broken_file_is_exit_3(tmp_path: Path) -> None:
    assert newsroom("check", cwd=tmp_path).returncode == 3
    (tmp_path / "newsroom.toml").write_text("[newsletter\n")
    broken = newsroom("check", cwd=tmp_path)
    assert broken.returncode == 3 and "not valid TOML" in broken.stderr


# -- schema ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    result = newsroom("schema")
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    jsonschema.Draft4Validator.check_schema(data)
    return data


def errors(schema: dict[str, object], toml: str) -> list[str]:
    validator = jsonschema.Draft4Validator(schema)
    return [e.message for e in validator.iter_errors(tomllib.loads(toml))]


def test_the_schema_is_draft_4_and_covers_every_installed_plugin(
    schema: dict[str, object],
) -> None:
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema == config_schema(load_plugins())  # the command writes what the code builds
    properties = schema["properties"]
    assert isinstance(properties, dict)
    plugins = load_plugins()
    for table, kind in (("sources", "source"), ("filters", "filter"), ("renderers", "renderer")):
        branches = properties[table]["items"]["oneOf"]
        named = {b["properties"]["plugin"]["enum"][0] for b in branches}
        assert named == set(plugins.registry(kind).names()), table
    transports = {b["properties"]["plugin"]["enum"][0] for b in properties["transport"]["oneOf"]}
    assert transports == {"smtp", "file", "ses", "mailgun"}


def test_the_example_newsletter_is_valid_against_the_schema(schema: dict[str, object]) -> None:
    toml = (ROOT / "examples" / "ai-briefing" / "newsroom.toml").read_text("utf-8")
    assert errors(schema, toml) == []


def test_the_schema_flags_what_newsroom_refuses(schema: dict[str, object]) -> None:
    head = '[newsletter]\ntitle = "T"\n'
    ok = head + '[[sources]]\nname = "a"\nplugin = "arxiv"\nmax_results = 20\n'
    assert errors(schema, ok) == []
    assert errors(schema, ok.replace("max_results = 20", "max_results = 'twenty'"))
    assert errors(schema, ok.replace("max_results", "max_resluts"))
    assert errors(schema, ok.replace('"arxiv"', '"arxive"'))
    assert errors(schema, head + '[[sources]]\nplugin = "arxiv"\n')  # no name
    assert errors(schema, ok + "[extra]\n")
    # Any option may come from the environment; a secret may only.
    env = ok.replace("max_results = 20", 'max_results = { "$env" = "MAX" }')
    assert errors(schema, env) == []
    launches = head + '[[sources]]\nname = "l"\nplugin = "producthunt"\n'
    assert errors(schema, launches + 'token = { "$env" = "PRODUCTHUNT_TOKEN" }\n') == []
    assert errors(schema, launches + 'token = "abc123"\n')


def test_schema_writes_a_file_and_markdown_is_the_reference(tmp_path: Path) -> None:
    target = tmp_path / "newsroom.config.schema.json"
    assert newsroom("schema", "-o", str(target)).returncode == 0
    assert json.loads(target.read_text("utf-8"))["title"] == "newsroom.toml"
    from newsroom.config.reference import options_reference

    markdown = newsroom("schema", "--markdown")
    assert markdown.stdout == options_reference()


def test_a_broken_plugin_the_config_does_not_use_is_a_warning(tmp_path: Path) -> None:
    from test_plugins import distribution

    site = tmp_path / "site"
    distribution(site, "newsroom-gpu", "2.3", {"gpu": "nr_gpu_check"}, nr_gpu_check="1 / 0")
    config = tmp_path / "newsroom.toml"
    config.write_text(
        '[newsletter]\ntitle = "T"\n[[sources]]\nname = "n"\nplugin = "news"\n'
        'feeds = ["https://example.org/feed"]\n',
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "NEWSROOM_LOAD_PLUGINS"}
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(site)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        'Warning: plugin "gpu" from newsroom-gpu 2.3 failed to load: '
        "ZeroDivisionError: division by zero\n"
    )


def test_theme_settings_are_checked_by_check_and_before_build_or_run_fetch(
    tmp_path: Path,
) -> None:
    with LocalServer() as server:
        server.add("/feed.xml", "<rss/>")
        config = tmp_path / "newsroom.toml"
        config.write_text(
            '[newsletter]\ntitle = "Check"\ntheme = "briefing"\n'
            + sources_at(server.url)
            + '[theme]\nacent_color = "#c2410c"\nwidth = "wide"\n',
            "utf-8",
        )
        checked = newsroom("-c", str(config), "check", "--json")
        assert checked.returncode == 3, checked.stdout + checked.stderr
        problems = "\n".join(json.loads(checked.stdout)["problems"])
        assert "acent_color: theme 'briefing' has no such setting (did you mean accent_color?)" in (
            problems
        )
        assert "width: expected int like the default 600, got 'wide'" in problems
        for command in ("build", "run"):
            result = newsroom("-c", str(config), command, "--now", "2026-02-03T07:00:00+09:00")
            assert result.returncode != 0, result.stdout
            error = result.stderr.strip()
            assert "(did you mean accent_color?)" in error, error
            assert len(error.splitlines()) == 1, error
        assert server.requests == []
    assert not (tmp_path / "build").exists()


def test_check_lists_everything_sending_still_needs_at_once(tmp_path: Path) -> None:
    """Before, check said OK for a newsletter `send` would refuse, or named one thing."""
    config = tmp_path / "newsroom.toml"
    config.write_text(
        '[newsletter]\ntitle = "Check"\n'
        '[[sources]]\nname = "blog"\nplugin = "news"\nfeeds = ["https://example.org/feed"]\n'
        '[email]\ndkim_key_file = "missing.pem"\ndkim_selector = "nr1"\n'
        '[transport]\nplugin = "smtp"\nhost = "127.0.0.1"\nport = 2525\nsecurity = "none"\n',
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "NEWSROOM_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(config), "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 3
    assert result.stdout.startswith(f"{config}: builds (1 sources")
    needs = result.stderr.split("still needs", 1)[1].split("Before it goes to readers:")[0]
    for expected in (
        "- sender: [email] from is not set",
        "- links: sending needs [subscriptions] url (or [newsletter] base_url)",
        "- signing keys: no signing key: set NEWSROOM_SECRET_KEY or in",
        "- DKIM: [email] cannot read the DKIM key",
    ):
        assert expected in needs, result.stderr
    assert "- postal address: [email] postal_address is empty" in result.stderr
    report = json.loads(
        subprocess.run(
            [sys.executable, "-m", "newsroom", "-c", str(config), "check", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        ).stdout
    )
    assert report["builds"] is True and report["ok"] is False
    levels = {f["check"]: f["level"] for f in report["sending"]}
    assert levels == {
        "sender": "problem",
        "links": "problem",
        "signing keys": "problem",
        "transport": "note",
        "postal address": "warning",
        "DKIM": "problem",
    }


def test_a_newsletter_that_does_not_send_is_checked_for_the_build_only(tmp_path: Path) -> None:
    config = tmp_path / "newsroom.toml"
    config.write_text(
        '[newsletter]\ntitle = "Web only"\n'
        '[[sources]]\nname = "blog"\nplugin = "news"\nfeeds = ["https://example.org/feed"]\n',
        "utf-8",
    )
    result = newsroom("-c", str(config), "check")
    assert result.returncode == 0, result.stderr
    assert "still needs" not in result.stderr
