"""docs/plugins.md is a working guide: its package is written out file by file, installed as
a distribution, listed by `newsroom plugins`, and its own tests pass with newsroom's pytest
plugin; its plugins-folder example builds; and it documents every contract."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from newsroom import Edition, Item
from newsroom.core.components import Context, FetchContext, FilterContext, RenderContext

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"


def files_in_guide() -> dict[str, str]:
    """Code blocks whose first line names a file (``# tests/test_x.py``), by that name."""
    text = GUIDE.read_text("utf-8")
    return {
        name: body
        for name, body in re.findall(r"```(?:python|toml)\n# (\S+)\n(.*?)```", text, re.S)
    }


@pytest.fixture(scope="module")
def guide_package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The guide's package written out, and a site folder where it is installed."""
    files = files_in_guide()
    package = tmp_path_factory.mktemp("guide") / "newsroom-mastodon"
    for name, body in files.items():
        if name.startswith("plugins/"):
            continue
        target = package / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, "utf-8")
    project = tomllib.loads(files["pyproject.toml"])["project"]
    site = package.parent / "site"
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    points = project["entry-points"]["newsroom.plugins"]
    (info / "entry_points.txt").write_text(
        "[newsroom.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
    )
    return package, site


def env_with(package: Path, site: Path) -> dict[str, str]:
    """The metadata from the site folder, the modules from the package (an editable install)."""
    env = {k: v for k, v in os.environ.items() if k != "NEWSROOM_LOAD_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(package)])
    return env


def test_the_guide_has_the_whole_package() -> None:
    assert {"pyproject.toml", "newsroom_mastodon/__init__.py", "tests/test_mastodon.py"} <= set(
        files_in_guide()
    )


def test_the_guides_tests_pass_with_newsrooms_pytest_plugin(
    guide_package: tuple[Path, Path],
) -> None:
    package, site = guide_package
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=package,
        env=env_with(package, site),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_newsroom_plugins_lists_the_guides_package(guide_package: tuple[Path, Path]) -> None:
    package, site = guide_package
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "plugins", "--json"],
        cwd=package,
        env=env_with(package, site),
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    row = rows["mastodon"]
    assert (row["package"], row["version"], row["api"]) == (
        "newsroom-mastodon",
        "0.1.0",
        ">=1.0,<2",
    )
    assert (row["sources"], row["filters"], row["renderers"]) == (
        ["mastodon-tag"],
        ["min-engagement"],
        ["csv"],
    )


def test_the_plugins_folder_example_builds(tmp_path: Path) -> None:
    text = GUIDE.read_text("utf-8")
    code = files_in_guide()["plugins/notes.py"]
    usage = re.search(r'```toml\n(\[\[sources\]\]\nname = "house".*?)```', text, re.S)
    assert usage
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "notes.py").write_text(code, "utf-8")
    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "House"\n[plugins]\nplugins_dir = "plugins"\n'
        + usage.group(1)
        + '[[sections]]\nid = "all"\ntitle = "All"\n[[renderers]]\nplugin = "markdown"\n',
        "utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "build", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    edition = json.loads(Path(json.loads(result.stdout)["edition_json"]).read_text("utf-8"))
    assert edition["sections"][0]["items"][0]["title"] == "Our meetup on Friday"


def test_every_context_attribute_and_item_field_is_documented() -> None:
    text = GUIDE.read_text("utf-8")
    names = {
        f.name
        for c in (Context, FetchContext, FilterContext, RenderContext)
        for f in dataclasses.fields(c)
    }
    names |= {"today"} | set(Item.model_fields) | set(Edition.model_fields)
    missing = sorted(n for n in names if f"`{n}" not in text)
    assert not missing, f"docs/plugins.md does not mention: {missing}"


def test_every_hook_is_in_the_guides_table() -> None:
    from test_docs import hook_specs

    text = GUIDE.read_text("utf-8")
    for name, signature in hook_specs().items():
        row = re.search(rf"^\| `{name}` \| (.*?) \|", text, re.M)
        assert row, f"docs/plugins.md: {name} is not in the hooks table"
        assert [a.strip(" `") for a in row.group(1).split(",")] == list(signature.parameters)


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text("utf-8"), re.S)


def _example_source(path: Path, name: str) -> type:
    """The Source class called ``name`` among the complete examples of ``path``."""
    import types

    from newsroom import Source

    for n, code in enumerate(_python_blocks(path)):
        if f'name = "{name}"' not in code:
            continue
        module = types.ModuleType(f"docs_example_{path.stem}_{n}")
        exec(compile(code, f"{path.name} example {n}", "exec"), module.__dict__)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Source) and value.name == name:
                return value
    raise AssertionError(f"{path.name} has no source called {name!r}")


def test_the_json_feed_example_takes_bad_input_as_the_docs_say(local_server: object) -> None:
    """Before, a JSON list crashed it (`data.get`), which the build reported as a plugin bug."""
    from newsroom import SourceError
    from newsroom.testing import LocalServer, run_source

    assert isinstance(local_server, LocalServer)
    cls = _example_source(ROOT / "docs" / "hooks.md", "jsonfeed")
    feeds = {
        "/good": {"items": [{"url": "https://a.example/1", "title": "하나"}]},
        "/list": [{"url": "https://a.example/1"}],
        "/no-items": {"version": "https://jsonfeed.org/version/1.1", "items": "none"},
        "/mixed": {
            "items": [
                "text",
                {"url": 5},
                {"url": "javascript:alert(1)", "title": "x"},
                {"url": "https://a.example/2", "title": ["not", "text"], "content_html": 3},
            ]
        },
    }
    for path, body in feeds.items():
        local_server.add(path, json.dumps(body), content_type="application/json")
    local_server.add("/html", "<html>not json</html>", content_type="text/html")
    local_server.add("/gone", "gone", status=410)

    def run(path: str) -> object:
        return run_source(cls(cls.Options(url=f"{local_server.url}{path}")))

    good = run("/good")
    assert [i.title for i in good.items] == ["하나"] and good.messages == []
    mixed = run("/mixed")
    assert [(i.url, i.title, i.summary) for i in mixed.items] == [
        ("https://a.example/2", "https://a.example/2", "")
    ]
    assert mixed.messages == ["3 entries without a link were left out"]
    for path, message in (
        ("/list", "not a JSON Feed"),
        ("/no-items", "not a JSON Feed"),
        ("/html", "not JSON"),
        ("/gone", "410"),
    ):
        with pytest.raises(SourceError, match=message):
            run(path)


def test_the_run_cpu_example_takes_bad_input_as_the_docs_say(local_server: object) -> None:
    from newsroom.testing import LocalServer, run_source

    assert isinstance(local_server, LocalServer)
    cls = _example_source(GUIDE, "link-list")
    url = local_server.add("/links.txt", "https://a.example/x\nnot-a-link\nftp://b/c\n")
    run = run_source(cls(cls.Options(url=url)))
    assert [i.url for i in run.items] == ["https://a.example/x"]
    assert run.messages == ["2 words that are not links were left out"]


def test_what_a_theme_shows_of_an_item_is_the_renderers_own_list() -> None:
    from newsroom_renderers.labels import KIND_LABELS, LINK_LABELS, METRIC_LABELS

    text = GUIDE.read_text("utf-8")
    table = text.split("#### What a theme shows of an item", 1)[1].split("\n\n`Edition`", 1)[0]
    rows = dict(re.findall(r"^\| (.+?) \| (.+) \|$", table, re.M))
    kinds = dict(re.findall(r"`(\w+)` → (\w[\w ]*\w)", rows["`kind`"]))
    assert kinds == dict(KIND_LABELS)
    links = dict(re.findall(r"`(\w+)` → (\w[\w ]*\w)", rows["`links`"]))
    assert links == dict(LINK_LABELS)
    shown = {m for key in rows for m in re.findall(r'metrics\["(\w+)"\]', key)}
    assert shown == {"stars", "stars_period", "votes"} | set(METRIC_LABELS)


def test_the_plugins_table_shows_each_plugins_hook_api_range(
    guide_package: tuple[Path, Path],
) -> None:
    package, site = guide_package
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "plugins"],
        cwd=package,
        env={**env_with(package, site), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "registers" in line)
    assert "hook API" in header
    row = next(line for line in result.stdout.splitlines() if "newsroom-mastodon" in line)
    assert ">=1.0,<2" in row


def test_check_says_when_newsroom_load_plugins_leaves_the_plugin_out(
    guide_package: tuple[Path, Path], tmp_path: Path
) -> None:
    """Before, only "unknown source plugin 'mastodon-tag'" though the package is installed."""
    package, site = guide_package
    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "T"\n[[sources]]\nname = "posts"\nplugin = "mastodon-tag"\n'
        'server = "https://mastodon.example"\nhashtag = "ai"\n'
        '[[sections]]\nid = "all"\ntitle = "All"\n',
        "utf-8",
    )

    def check(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newsroom", "check"],
            cwd=tmp_path,
            env={**env_with(package, site), **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert check().returncode == 0
    limited = check(NEWSROOM_LOAD_PLUGINS="")
    assert limited.returncode == 3
    assert "unknown source plugin 'mastodon-tag'" in limited.stderr
    assert "newsroom-mastodon 0.1.0" in limited.stderr
    assert "NEWSROOM_LOAD_PLUGINS" in limited.stderr
