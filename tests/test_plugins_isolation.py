"""What a misbehaving plugin can do to a build: a source that hangs, floods or returns the
wrong thing is cut off and named; a filter, section or renderer that fails stops the build
with its name (the traceback only with --debug). Also: plugins from a plugins_dir."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from newsroom import Item, Options, Source, hookimpl
from newsroom.core.plugins import Plugins
from newsroom.curate.pipeline import BuildResult

NOW = dt.datetime(2026, 2, 14, 6, tzinfo=dt.UTC)


class Hanging(Source):
    """Waits forever, as a source stuck on a lock or an endless stream would."""

    name = "hanging"

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        await asyncio.Event().wait()
        return []


class Flood(Source):
    name = "flood"

    class Options(Options):
        count: int = 100_000

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        return [
            Item(url=f"https://flood.example/{n}", title=f"item {n}", published=NOW)
            for n in range(self.options.count)
        ]


class Steady(Source):
    name = "steady"

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        return [Item(url="https://steady.example/1", title="steady", published=NOW)]


class WrongItems(Source):
    name = "wrong-items"

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        return [{"url": "https://x.example", "title": "a dict, not an Item"}]


@pytest.fixture
def plugins(plugin_manager: Plugins) -> Plugins:
    module = types.ModuleType("misbehaving_sources")

    @hookimpl
    def register_sources(register):  # type: ignore[no-untyped-def]
        for cls in (Hanging, Flood, Steady, WrongItems):
            register(cls)

    module.register_sources = register_sources  # type: ignore[attr-defined]
    plugin_manager.add(module, "misbehaving", package="newsroom-misbehaving", version="0.1")
    return plugin_manager


SECTION = '[[sections]]\nid = "all"\ntitle = "All"\nlimit = 20\n'


def test_a_source_hanging_past_the_source_timeout_is_cut_off_and_named(
    plugins: Plugins, build_edition: Callable[..., BuildResult]
) -> None:
    result = build_edition(
        "[plugins]\nsource_timeout = 0.5\n"
        '[[sources]]\nname = "stuck"\nplugin = "hanging"\n'
        '[[sources]]\nname = "fine"\nplugin = "steady"\n' + SECTION,
        plugins=plugins,
        now=NOW,
    )
    assert [i.title for i in result.edition.items] == ["steady"]
    (warning,) = result.warnings
    assert warning.source == "stuck"
    assert warning.message == "plugin 'hanging' gave no result within 0.5 s; cut off"
    assert {s.name: s.ok for s in result.edition.sources} == {"stuck": False, "fine": True}


def test_a_hundred_thousand_items_are_bounded_with_a_warning_naming_the_plugin(
    plugins: Plugins, build_edition: Callable[..., BuildResult]
) -> None:
    result = build_edition(
        '[[sources]]\nname = "firehose"\nplugin = "flood"\n' + SECTION, plugins=plugins, now=NOW
    )
    assert result.fetched == {"firehose": 10_000}
    (warning,) = result.warnings
    assert warning.source == "firehose"
    assert warning.message == (
        "plugin 'flood' returned 100,000 items; kept the first 10,000 "
        "([plugins] max_items_per_source)"
    )
    assert len(result.edition.items) == 20


def test_the_item_cap_is_configurable(
    plugins: Plugins, build_edition: Callable[..., BuildResult]
) -> None:
    result = build_edition(
        "[plugins]\nmax_items_per_source = 50\n"
        '[[sources]]\nname = "firehose"\nplugin = "flood"\ncount = 60\n' + SECTION,
        plugins=plugins,
        now=NOW,
    )
    assert result.fetched == {"firehose": 50}
    assert "kept the first 50" in result.warnings[0].message


def test_a_source_returning_the_wrong_type_is_named(
    plugins: Plugins, build_edition: Callable[..., BuildResult]
) -> None:
    result = build_edition(
        '[[sources]]\nname = "odd"\nplugin = "wrong-items"\n'
        '[[sources]]\nname = "fine"\nplugin = "steady"\n' + SECTION,
        plugins=plugins,
        now=NOW,
    )
    (warning,) = result.warnings
    assert warning.source == "odd"
    assert warning.message == "plugin 'wrong-items' returned a dict where an Item was expected"


# -- the command line, with plugins from a plugins_dir ----------------------------------------

LOCAL_PLUGINS = {
    "local_sources.py": """
        from newsroom import Item, Options, Source, hookimpl

        class Notes(Source):
            '''Items written in the config: a plugin file, no packaging.'''
            name = "notes"

            class Options(Options):
                titles: list[str]

            async def fetch(self, ctx):
                return [
                    Item(url=f"https://notes.example/{n}", title=t, published=ctx.now)
                    for n, t in enumerate(self.options.titles)
                ]

        @hookimpl
        def register_sources(register):
            register(Notes)
        """,
    "exploding.py": """
        from newsroom import Filter, Renderer, hookimpl

        class Exploding(Filter):
            name = "exploding"
            def apply(self, items, ctx):
                return 1 / 0

        class NotAList(Filter):
            name = "not-a-list"
            def apply(self, items, ctx):
                return "everything"

        class BrokenRenderer(Renderer):
            name = "broken"
            def render(self, edition, ctx):
                raise OSError("disk full")

        @hookimpl
        def register_filters(register):
            register(Exploding)
            register(NotAList)

        @hookimpl
        def register_renderers(register):
            register(BrokenRenderer)
        """,
    "syntax_error.py": "def broken(:\n",
    "news.py": "# takes the name of an installed plugin\n",
    "_helpers.py": "raise RuntimeError('files starting with _ are not plugins')\n",
}


def newsletter(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "letter"
    plugins_dir = folder / "my-plugins"
    plugins_dir.mkdir(parents=True)
    for name, code in LOCAL_PLUGINS.items():
        (plugins_dir / name).write_text(textwrap.dedent(code), "utf-8")
    config = folder / "newsroom.toml"
    config.write_text(
        '[newsletter]\ntitle = "Local"\n'
        '[plugins]\nplugins_dir = "my-plugins"\n'
        '[[sources]]\nname = "notes"\nplugin = "notes"\ntitles = ["첫 소식", "second"]\n'
        '[[sections]]\nid = "all"\ntitle = "All"\n'
        '[[renderers]]\nplugin = "markdown"\n' + extra,
        "utf-8",
    )
    return config


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSROOM_RAISE_ERRORS"}
    return subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_plugins_dir_needs_no_packaging(tmp_path: Path) -> None:
    config = newsletter(tmp_path)
    built = cli(config, "build", "--json")
    assert built.returncode == 0, built.stderr
    (source,) = json.loads(built.stdout)["sources"]
    assert (source["plugin"], source["items"], source["ok"]) == ("notes", 2, True)
    listing = json.loads(cli(config, "plugins", "--json").stdout)
    rows = {p["name"]: p for p in listing["plugins"]}
    assert rows["local_sources"]["sources"] == ["notes"]
    assert rows["local_sources"]["package"] == str(
        config.parent / "my-plugins" / "local_sources.py"
    )
    failures = {f["name"]: f["message"] for f in listing["failures"]}
    assert set(failures) == {"syntax_error", "news"}
    assert "syntax_error.py failed to load: SyntaxError:" in failures["syntax_error"]
    assert "a plugin called 'news' is already installed (newsroom-digest " in failures["news"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[[filters]]\nplugin = "exploding"\n',
            "Error: filter [[filters]] #1 (plugin 'exploding') failed: "
            "ZeroDivisionError: division by zero",
        ),
        (
            '[[filters]]\nplugin = "not-a-list"\n',
            "Error: filter [[filters]] #1 (plugin 'not-a-list') returned something other than "
            "a list of Item",
        ),
        (
            '[[renderers]]\nplugin = "broken"\n',
            "Error: renderer [[renderers]] #2 (plugin 'broken') failed: OSError: disk full",
        ),
    ],
    ids=["filter-raises", "filter-wrong-type", "renderer-raises"],
)
def test_a_failing_filter_or_renderer_stops_the_build_naming_it(
    tmp_path: Path, table: str, message: str
) -> None:
    config = newsletter(tmp_path, table)
    plain = cli(config, "build")
    assert plain.returncode == 5
    assert plain.stderr.strip().splitlines()[-1] == message
    assert "Traceback" not in plain.stderr
    debug = cli(config, "--debug", "build")
    assert debug.returncode == 5
    assert "Traceback (most recent call last)" in debug.stderr
    assert message in debug.stderr


def test_a_missing_plugins_dir_is_a_config_problem(tmp_path: Path) -> None:
    config = tmp_path / "newsroom.toml"
    config.write_text(
        '[newsletter]\ntitle = "T"\n[plugins]\nplugins_dir = "nowhere"\n'
        '[[sources]]\nname = "n"\nplugin = "notes"\n',
        "utf-8",
    )
    result = cli(config, "build")
    assert result.returncode == 3
    assert f"[plugins] plugins_dir: no folder at {tmp_path / 'nowhere'}" in result.stderr
    assert "unknown source plugin 'notes'" in result.stderr  # every problem at once


def test_an_edition_built_hook_that_fails_is_named(
    plugins: Plugins, build_edition: Callable[..., BuildResult]
) -> None:
    from newsroom import BuildError

    module = types.ModuleType("metrics_plugin")

    @hookimpl
    def edition_built(edition):  # type: ignore[no-untyped-def]
        raise ValueError("statsd is down")

    module.edition_built = edition_built  # type: ignore[attr-defined]
    plugins.add(module, "metrics", package="newsroom-metrics", version="0.1")
    with pytest.raises(BuildError) as caught:
        build_edition('[[sources]]\nname = "s"\nplugin = "steady"\n' + SECTION, plugins=plugins)
    assert caught.value.message == (
        'plugin "metrics" (newsroom-metrics 0.1) failed in edition_built: '
        "ValueError: statsd is down"
    )


# -- sources that block, and plugins whose import hangs ----------------------------------------

BLOCKING_PLUGINS = {
    "blocking_sources.py": """
        import time

        from newsroom import Item, Source, hookimpl

        class Sleeper(Source):
            '''Calls time.sleep in fetch: it blocks whatever event loop runs it.'''
            name = "sleeper"

            async def fetch(self, ctx):
                time.sleep(3600)
                return []

        class Spinner(Source):
            '''Computes for ever without awaiting.'''
            name = "spinner"

            async def fetch(self, ctx):
                n = 0
                while True:
                    n += 1

        class Fine(Source):
            name = "fine"

            async def fetch(self, ctx):
                return [Item(url="https://fine.example/1", title="fine", published=ctx.now)]

        @hookimpl
        def register_sources(register):
            register(Sleeper)
            register(Spinner)
            register(Fine)
        """,
}


def newsletter_with(tmp_path: Path, files: dict[str, str], sources: str) -> Path:
    folder = tmp_path / "letter"
    (folder / "plugins").mkdir(parents=True)
    for name, code in files.items():
        (folder / "plugins" / name).write_text(textwrap.dedent(code), "utf-8")
    config = folder / "newsroom.toml"
    config.write_text(
        '[newsletter]\ntitle = "Blocking"\n'
        '[plugins]\nplugins_dir = "plugins"\nsource_timeout = 1\n'
        + sources
        + '[[sections]]\nid = "all"\ntitle = "All"\n[[renderers]]\nplugin = "markdown"\n',
        "utf-8",
    )
    return config


BLOCKING_SOURCES = (
    '[[sources]]\nname = "stuck"\nplugin = "sleeper"\n'
    '[[sources]]\nname = "busy"\nplugin = "spinner"\n'
    '[[sources]]\nname = "ok"\nplugin = "fine"\n'
)


def test_sources_that_block_are_cut_off_and_named_and_the_build_goes_on(tmp_path: Path) -> None:
    config = newsletter_with(tmp_path, BLOCKING_PLUGINS, BLOCKING_SOURCES)
    built = cli(config, "build", "--json")  # hung for ever before (the timeout fails the test)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert {(w["source"], w["message"]) for w in report["warnings"]} == {
        ("stuck", "plugin 'sleeper' gave no result within 1 s; cut off"),
        ("busy", "plugin 'spinner' gave no result within 1 s; cut off"),
    }
    assert {s["name"]: (s["items"], s["ok"]) for s in report["sources"]} == {
        "stuck": (0, False),
        "busy": (0, False),
        "ok": (1, True),
    }
    edition = json.loads(Path(report["edition_json"]).read_text("utf-8"))
    assert [i["title"] for s in edition["sections"] for i in s["items"]] == ["fine"]


def test_a_run_with_a_blocking_source_finishes_and_frees_the_delivery_lock(
    tmp_path: Path,
) -> None:
    config = newsletter_with(tmp_path, BLOCKING_PLUGINS, BLOCKING_SOURCES)
    run = cli(config, "run", "--no-send", "--now", "2026-02-14T06:00:00+09:00")
    assert run.returncode == 0, run.stderr
    assert "Warning: stuck: plugin 'sleeper' gave no result within 1 s; cut off" in run.stderr
    # The lock went with the run: another one can take it at once.
    again = cli(config, "run", "--no-send", "--now", "2026-02-14T06:00:00+09:00")
    assert again.returncode == 0, again.stderr


HANGS_ON_IMPORT = "import time\ntime.sleep(3600)  # a network share that never answers\n"


def installed_plugin(folder: Path, module: str, code: str) -> dict[str, str]:
    """A distribution with a ``newsroom.plugins`` entry point, importable from ``folder``:
    the environment to run newsroom with."""
    (folder / f"{module}.py").write_text(code, "utf-8")
    info = folder / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[newsroom.plugins]\n{module} = {module}\n")
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


@pytest.mark.parametrize("where", ["entry point", "plugins_dir"])
def test_a_plugin_whose_import_hangs_is_named_and_the_others_load(
    tmp_path: Path, where: str
) -> None:
    files = dict(BLOCKING_PLUGINS)
    env = {**os.environ, "NEWSROOM_PLUGIN_IMPORT_TIMEOUT": "1"}
    env.pop("NEWSROOM_RAISE_ERRORS", None)
    if where == "entry point":
        site = tmp_path / "site"
        site.mkdir()
        env.update(installed_plugin(site, "mounts_a_share", HANGS_ON_IMPORT))
        origin = "mounts_a_share 0.1"
    else:
        files["mounts_a_share.py"] = HANGS_ON_IMPORT
    config = newsletter_with(tmp_path, files, '[[sources]]\nname = "ok"\nplugin = "fine"\n')
    if where == "plugins_dir":
        origin = str(config.parent / "plugins" / "mounts_a_share.py")

    def newsroom(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newsroom", "-c", str(config), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,  # every command hung before
        )

    listing = newsroom("plugins", "--json")
    assert listing.returncode == 0, listing.stderr
    failures = {f["name"]: f["message"] for f in json.loads(listing.stdout)["failures"]}
    assert failures == {
        "mounts_a_share": f'plugin "mounts_a_share" from {origin} failed to load: its import '
        "did not finish within 1 s (NEWSROOM_PLUGIN_IMPORT_TIMEOUT); it is not loaded"
    }
    assert "still importing plugin mounts_a_share" in listing.stderr
    built = newsroom("build", "--json")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["sources"][0]["items"] == 1


def test_a_plugin_failing_in_prepare_jinja2_environment_is_named(tmp_path: Path) -> None:
    files = {
        **BLOCKING_PLUGINS,
        "jinja_extras.py": """
            from newsroom import hookimpl

            @hookimpl
            def prepare_jinja2_environment(env):
                raise RuntimeError("no such filter module")
            """,
    }
    config = newsletter_with(tmp_path, files, '[[sources]]\nname = "ok"\nplugin = "fine"\n')
    built = cli(config, "build")
    assert built.returncode != 0
    assert built.stderr.strip().splitlines()[-1] == (
        f'Error: plugin "jinja_extras" ({config.parent / "plugins" / "jinja_extras.py"}) '
        "failed in prepare_jinja2_environment: RuntimeError: no such filter module"
    )
