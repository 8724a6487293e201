"""newsroom.toml validation: every problem at once, each naming file, table, plugin and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsroom.config.newsletter import open_newsletter
from newsroom.core.errors import ConfigError

GOOD = """
[newsletter]
title = "AI 브리핑"
language = "ko"
timezone = "Asia/Seoul"

[[sources]]
name = "papers"
plugin = "arxiv"
categories = ["cs.AI"]

[[sections]]
id = "papers"
title = "📄 논문"
match = { source = "papers" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsroom.toml"
    path.write_text(text, "utf-8")
    return path


def problems(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        open_newsletter(write(tmp_path, text))
    return info.value


def test_good_config_loads(tmp_path: Path) -> None:
    nl = open_newsletter(write(tmp_path, GOOD))
    assert nl.config.newsletter.title == "AI 브리핑"
    assert [s.name for s in nl.config.sources] == ["papers"]
    assert nl.config.sections[0].plugin == "select"  # the default layout
    assert [r.plugin for r in nl.config.renderers] == ["email", "web", "markdown"]
    assert nl.config.state_path == tmp_path / "state.db"


def test_all_errors_reported_at_once_with_file_table_plugin_key(tmp_path: Path) -> None:
    err = problems(
        tmp_path,
        GOOD.replace('categories = ["cs.AI"]', 'max_results = "fifty"\nbogus = 1')
        + '\n[[filters]]\nplugin = "dedup"\n[[sources]]\nname = "x"\n',
    )
    text = err.format_message()
    assert str(tmp_path / "newsroom.toml") in text
    assert len(err.problems) == 4, err.problems
    assert any("[[sources]] #1 'papers' (plugin 'arxiv'): max_results:" in p for p in err.problems)
    assert any("(plugin 'arxiv'): bogus: unknown option" in p for p in err.problems)
    assert any(
        "[[filters]] #1 (plugin 'dedup'): unknown filter plugin 'dedup'" in p and "dedupe" in p
        for p in err.problems
    )
    assert any("[[sources]] #2" in p and "`plugin` is required" in p for p in err.problems)


def test_newsletter_table_checked(tmp_path: Path) -> None:
    err = problems(
        tmp_path, GOOD.replace('timezone = "Asia/Seoul"', 'timezone = "Mars/Base"\ncolour = 1')
    )
    assert any("[newsletter]: timezone: " in p and "Mars/Base" in p for p in err.problems)
    assert any("[newsletter]: colour: unknown option" in p for p in err.problems)


def test_unknown_top_level_table(tmp_path: Path) -> None:
    err = problems(tmp_path, GOOD + "\n[smtpp]\nhost = 'x'\n")
    assert any("unknown table or key 'smtpp'" in p for p in err.problems)


def test_malformed_toml_is_one_clear_line(tmp_path: Path) -> None:
    err = problems(tmp_path, "[newsletter\ntitle = 'x'")
    assert "not valid TOML" in err.format_message()
    assert err.exit_code == 3


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="newsroom init"):
        open_newsletter(tmp_path)


def test_duplicate_source_names(tmp_path: Path) -> None:
    err = problems(tmp_path, GOOD + '\n[[sources]]\nname = "papers"\nplugin = "arxiv"\n')
    assert any("name 'papers' is used by another source" in p for p in err.problems)


def test_secret_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PH_TOKEN_FOR_TEST", "s3cr3t-value")
    text = (
        GOOD
        + '\n[[sources]]\nname = "launches"\nplugin = "producthunt"\n'
        + 'token = { "$env" = "PH_TOKEN_FOR_TEST" }\n'
    )
    nl = open_newsletter(write(tmp_path, text))
    options = nl.config.sources[1].options
    assert options.token.get_secret_value() == "s3cr3t-value"  # type: ignore[attr-defined]
    assert "s3cr3t-value" not in repr(options)


def test_secret_literal_in_file_is_refused(tmp_path: Path) -> None:
    text = (
        GOOD + '\n[[sources]]\nname = "launches"\nplugin = "producthunt"\ntoken = "literal-token"\n'
    )
    err = problems(tmp_path, text)
    assert any("token: secrets cannot be written in the file" in p for p in err.problems)
    assert "literal-token" not in err.format_message()


def test_missing_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_VAR_NEWSROOM", raising=False)
    text = (
        GOOD
        + '\n[[sources]]\nname = "launches"\nplugin = "producthunt"\n'
        + 'token = { "$env" = "NO_SUCH_VAR_NEWSROOM" }\n'
    )
    err = problems(tmp_path, text)
    assert any("environment variable NO_SUCH_VAR_NEWSROOM is not set" in p for p in err.problems)


def test_disabled_component_is_skipped(tmp_path: Path) -> None:
    nl = open_newsletter(
        write(tmp_path, GOOD + '\n[[filters]]\nplugin = "dedupe"\nenabled = false\n')
    )
    assert nl.config.filters == []


def test_env_reference_must_be_a_name(tmp_path: Path) -> None:
    text = (
        GOOD + '\n[[sources]]\nname = "launches"\nplugin = "producthunt"\ntoken = { "$env" = 5 }\n'
    )
    err = problems(tmp_path, text)
    assert any("$env must name an environment variable" in p for p in err.problems)


def test_values_from_the_environment_are_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVATE_FEED", "/private-token-123/feed")
    text = (
        GOOD + '\n[[sources]]\nname = "n"\nplugin = "news"\nfeeds = [{ "$env" = "PRIVATE_FEED" }]\n'
    )
    err = problems(tmp_path, text)
    assert "private-token-123" not in err.format_message()
    assert any("[[sources]] #2 'n' (plugin 'news')" in p for p in err.problems)


def test_sections_must_match_configured_sources(tmp_path: Path) -> None:
    err = problems(
        tmp_path, GOOD.replace('match = { source = "papers" }', 'match = { source = "paper" }')
    )
    assert any(
        "[[sections]] #1 'papers' (plugin 'select'): match:" in p
        and "'paper' is not a configured source (configured: papers)" in p
        for p in err.problems
    ), err.problems


def test_section_order_typos_are_refused(tmp_path: Path) -> None:
    err = problems(tmp_path, GOOD + 'order = "stars-period"\n')
    assert any("order:" in p and "metric name" in p for p in err.problems), err.problems
