"""Loading third-party plugins: attributed failures, API ranges, names the built-ins own,
refused registrations, the allowlist, disabling, and a plugins folder.

Third-party packages here are real installed distributions: modules plus a
``NAME-VERSION.dist-info`` with ``entry_points.txt``, laid out as pip lays them out, in a
folder put on ``sys.path`` (or ``PYTHONPATH`` for the command line).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from newsroom import ConfigError, hookimpl
from newsroom.config.newsletter import open_newsletter
from newsroom.core.plugins import load_plugins

SOURCE_PLUGIN = """
from newsroom import Item, Options, Source, hookimpl

class {cls}(Source):
    name = {name!r}

    async def fetch(self, ctx):
        return [Item(url="https://example.org/{name}", title={name!r})]

@hookimpl
def register_sources(register):
    register({cls})
"""


def distribution(
    site: Path, name: str, version: str, entry_points: dict[str, str], **modules: str
) -> None:
    """Install ``modules`` as the distribution ``name`` ``version`` into ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    for module, code in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(code), "utf-8")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", "utf-8"
    )
    lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[newsroom.plugins]\n{lines}", "utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of installed distributions, on sys.path for this test only."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("NEWSROOM_LOAD_PLUGINS", raising=False)
    return folder


def config_file(folder: Path, body: str) -> Path:
    path = folder / "newsroom.toml"
    path.write_text('[newsletter]\ntitle = "T"\n' + textwrap.dedent(body), "utf-8")
    return path


def test_a_plugin_that_raises_on_import_is_named_and_the_rest_keep_working(
    site: Path, tmp_path: Path
) -> None:
    distribution(
        site,
        "newsroom-gpu",
        "2.3",
        {"gpu": "nr_gpu_plugin"},
        nr_gpu_plugin="raise RuntimeError('needs a GPU')",
    )
    plugins = load_plugins()
    (failure,) = plugins.failures
    assert failure.message() == (
        'plugin "gpu" from newsroom-gpu 2.3 failed to load: RuntimeError: needs a GPU'
    )
    assert {"arxiv", "news"} <= set(plugins.sources.names())
    # A newsletter that does not use it builds as usual ...
    fine = config_file(
        tmp_path, '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["https://e.org/f"]\n'
    )
    assert open_newsletter(fine, plugins).config.sources[0].plugin == "news"
    # ... one that does fails, and says why.
    used = config_file(tmp_path, '[[sources]]\nname = "g"\nplugin = "gpu"\n')
    with pytest.raises(ConfigError) as caught:
        open_newsletter(used, plugins)
    message = str(caught.value)
    assert "unknown source plugin 'gpu'" in message
    assert 'plugin "gpu" from newsroom-gpu 2.3 failed to load: RuntimeError: needs a GPU' in message


def test_the_api_range_a_plugin_states_is_checked(site: Path) -> None:
    for name, version, api in (
        ("future", "5.0", ">=2.0,<3"),
        ("current", "1.4", ">=1.0,<2"),
        ("garbled", "0.1", "version one"),
    ):
        code = f"NEWSROOM_API = {api!r}\n" + SOURCE_PLUGIN.format(cls="S", name=name)
        distribution(
            site, f"newsroom-{name}", version, {name: f"nr_{name}_api"}, **{f"nr_{name}_api": code}
        )
    plugins = load_plugins()
    assert "current" in plugins.sources and plugins.info["current"].api == ">=1.0,<2"
    assert "future" not in plugins.sources and "garbled" not in plugins.sources
    messages = {f.name: f.message() for f in plugins.failures}
    assert messages["future"].startswith('plugin "future" from newsroom-future 5.0 failed to load:')
    assert "supports newsroom plugin API >=2.0,<3" in messages["future"]
    assert "provides API 1.0" in messages["future"]
    assert "NEWSROOM_API = 'version one' is not a version range" in messages["garbled"]


def test_a_name_a_built_in_owns_is_refused_naming_both_packages(site: Path) -> None:
    # "aaa" sorts before every first-party plugin: the built-in still keeps its name.
    code = """
    from newsroom import Item, Source, hookimpl

    class Impostor(Source):
        name = "news"
        async def fetch(self, ctx):
            return []

    class Extra(Source):
        name = "aaa-extra"
        async def fetch(self, ctx):
            return []

    @hookimpl
    def register_sources(register):
        register(Impostor)
        register(Extra)
    """
    distribution(site, "aaa-news", "1.0", {"aaa": "nr_aaa_news"}, nr_aaa_news=code)
    plugins = load_plugins()
    news = plugins.sources.get("news")
    assert news is not None and news.package == "newsroom-digest"
    assert "aaa-extra" in plugins.sources  # its other registration went through
    (failure,) = plugins.failures
    assert failure.message() == (
        "plugin \"aaa\" from aaa-news 1.0: source 'news' refused: the name belongs to "
        "plugin 'news' (newsroom-digest)"
    )


def test_registrations_of_the_wrong_kind_are_refused_and_named(site: Path) -> None:
    code = """
    from newsroom import Filter, Item, Options, Source, hookimpl

    class Nameless(Source):
        async def fetch(self, ctx):
            return []

    class Unfinished(Source):
        name = "unfinished"

    class BadOptions(Source):
        name = "bad-options"
        Options = dict
        async def fetch(self, ctx):
            return []

    class Good(Source):
        name = "good"
        async def fetch(self, ctx):
            return []

    class AFilter(Filter):
        name = "a-filter"
        def apply(self, items, ctx):
            return None

    @hookimpl
    def register_sources(register):
        register(42)
        register(Nameless)
        register(Unfinished)
        register(BadOptions)
        register(AFilter)
        register(Good)
    """
    distribution(site, "newsroom-sloppy", "0.2", {"sloppy": "nr_sloppy"}, nr_sloppy=code)
    plugins = load_plugins()
    assert "good" in plugins.sources
    assert not {"unfinished", "bad-options", "a-filter"} & set(plugins.sources.names())
    errors = [f.error for f in plugins.failures]
    assert all(
        f.message().startswith('plugin "sloppy" from newsroom-sloppy 0.2: ')
        for f in plugins.failures
    )
    assert errors == [
        "registered 42, which is not a Source subclass",
        "registered Nameless without a `name`",
        "source 'unfinished': Unfinished does not implement fetch",
        "source 'bad-options': BadOptions.Options must be a subclass of newsroom.Options",
        "registered <class 'nr_sloppy.AFilter'>, which is not a Source subclass",
    ]


def test_a_register_hook_that_crashes_is_named_and_the_others_still_register(site: Path) -> None:
    code = """
    from newsroom import hookimpl

    @hookimpl
    def register_sources(register):
        raise KeyError("config.yaml")
    """
    distribution(site, "newsroom-crashy", "3.1", {"crashy": "nr_crashy"}, nr_crashy=code)
    plugins = load_plugins()
    assert "arxiv" in plugins.sources
    (failure,) = plugins.failures
    assert failure.message() == (
        'plugin "crashy" from newsroom-crashy 3.1: '
        "register_sources raised KeyError: 'config.yaml'"
    )


def test_two_packages_with_one_plugin_name_the_second_is_refused(site: Path) -> None:
    distribution(site, "newsroom-a", "1.0", {"twin": "nr_twin_a"}, nr_twin_a="")
    distribution(site, "newsroom-b", "1.0", {"twin": "nr_twin_b"}, nr_twin_b="")
    plugins = load_plugins()
    (failure,) = plugins.failures
    owner = plugins.info["twin"].package
    assert {owner, failure.package} == {"newsroom-a", "newsroom-b"}
    assert failure.message() == (
        f'plugin "twin" from {failure.package} 1.0 failed to load: '
        f"the plugin name is taken by {owner} 1.0"
    )


def _cli(*args: str, site: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "NEWSROOM_LOAD_PLUGINS"}
    full["PYTHONPATH"] = str(site)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "newsroom", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full,
        timeout=120,
    )


def test_empty_load_plugins_means_only_newsrooms_own_plugins(site: Path, tmp_path: Path) -> None:
    code = SOURCE_PLUGIN.format(cls="Extra", name="extra")
    distribution(site, "Newsroom_Extra", "1.0", {"extra": "nr_extra"}, nr_extra=code)

    def listing(**env: str) -> dict[str, str]:
        result = _cli("plugins", "--json", site=site, cwd=tmp_path, **env)
        assert result.returncode == 0, result.stderr
        return {p["name"]: p["package"] for p in json.loads(result.stdout)["plugins"]}

    everything = listing()
    assert everything["extra"] == "Newsroom_Extra"
    own = listing(NEWSROOM_LOAD_PLUGINS="")
    assert set(own) == set(everything) - {"extra"}
    assert set(own.values()) == {"newsroom-digest"}
    # Distribution names match as pip compares them: case, "-", "_" and "." alike.
    assert "extra" in listing(NEWSROOM_LOAD_PLUGINS="newsroom-extra")
    skipped = json.loads(
        _cli("plugins", "--json", site=site, cwd=tmp_path, NEWSROOM_LOAD_PLUGINS="").stdout
    )["skipped"]
    assert skipped == [
        {
            "name": "extra",
            "package": "Newsroom_Extra",
            "version": "1.0",
            "reason": "not in NEWSROOM_LOAD_PLUGINS",
        }
    ]


def test_a_plugin_disabled_in_the_config_is_not_loaded(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        """
        [plugins]
        disabled = ["producthunt"]

        [[sources]]
        name = "launches"
        plugin = "producthunt"
        """,
    )
    with pytest.raises(ConfigError, match="unknown source plugin 'producthunt'"):
        open_newsletter(config)
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(config), "plugins", "--json"],
        capture_output=True,
        text=True,
    )
    listing = json.loads(result.stdout)
    assert "producthunt" not in {p["name"] for p in listing["plugins"]}
    (skip,) = [s for s in listing["skipped"] if s["name"] == "producthunt"]
    assert skip["package"] == "newsroom-digest"
    assert skip["reason"] == "disabled in [plugins] disabled"


def test_plugins_json_shows_transports_themes_and_the_api_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "plugins", "--json"], capture_output=True, text=True
    )
    data = json.loads(result.stdout)
    assert data["api_version"] == "1.0"
    rows = {p["name"]: p for p in data["plugins"]}
    assert rows["transports"]["transports"] == ["file", "mailgun", "ses", "smtp"]
    assert rows["arxiv"]["sources"] == ["arxiv"] and rows["arxiv"]["transports"] == []
    (default,) = [t for t in data["themes"] if t["name"] == "default"]
    assert default["package"] == "newsroom-digest" and default["version"]


def test_a_plugin_using_a_deprecated_hook_still_works_and_is_told() -> None:
    from newsroom.core.hookspecs import hookspec
    from newsroom.core.plugins import Plugins, new_plugin_manager

    # How a hook is retired (docs/hooks.md): its spec warns every plugin that implements it.
    specs = types.ModuleType("retired_specs")

    @hookspec(warn_on_impl=DeprecationWarning("use edition_built; removed in hook API 2.0"))
    def edition_ready(edition):  # type: ignore[no-untyped-def]
        """An old name of edition_built."""

    specs.edition_ready = edition_ready  # type: ignore[attr-defined]
    plugin = types.ModuleType("old_plugin")

    @hookimpl
    def edition_ready(edition):  # type: ignore[no-untyped-def]  # noqa: F811
        return edition

    plugin.edition_ready = edition_ready  # type: ignore[attr-defined]
    plugins = Plugins(new_plugin_manager())
    plugins.pm.add_hookspecs(specs)
    plugins.add(plugin, "old", package="newsroom-old", version="0.9")
    assert plugins.pm.hook.edition_ready(edition="e") == ["e"]  # it still works
    (deprecation,) = plugins.deprecations
    assert deprecation.message() == (
        'plugin "old" from newsroom-old 0.9 uses a deprecated hook API: '
        "use edition_built; removed in hook API 2.0"
    )


def test_the_pytest_plugin_is_inert_until_a_fixture_is_asked_for(tmp_path: Path) -> None:
    (tmp_path / "test_inert.py").write_text(
        textwrap.dedent(
            """
            import sys

            def test_nothing_loaded(request):
                assert set(request.fixturenames) == {"request"}  # no autouse fixtures
                heavy = (
                    "newsroom.core.plugins", "newsroom.curate.pipeline", "newsroom.config", "httpx"
                )
                assert [m for m in sys.modules if m.startswith(heavy + ("newsroom_",))] == []
                assert "newsroom.testing" in sys.modules  # loaded, as a pytest11 plugin

            def test_fixtures_on_demand(local_server, plugin_manager, build_edition):
                assert local_server.url.startswith("http://127.0.0.1:")
                assert "news" in plugin_manager.sources
            """
        ),
        "utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inert.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_a_plugin_failing_to_add_its_command_is_named_and_the_others_work(
    site: Path, tmp_path: Path
) -> None:
    distribution(
        site,
        "newsroom-hello",
        "1.0",
        {"hello": "nr_hello"},
        nr_hello="""
        import click
        from newsroom import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            def hello():
                '''Say hello.'''
                click.echo("hello from a plugin")
        """,
    )
    distribution(
        site,
        "newsroom-grumpy",
        "0.3",
        {"grumpy": "nr_grumpy"},
        nr_grumpy="""
        from newsroom import hookimpl

        @hookimpl
        def register_commands(cli):
            raise RuntimeError("no commands today")
        """,
    )
    result = _cli("hello", site=site, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from a plugin\n"
    assert result.stderr == (
        'Warning: plugin "grumpy" (newsroom-grumpy 0.3) failed in register_commands: '
        "RuntimeError: no commands today\n"
    )


def test_plugins_lists_what_is_installed_even_beside_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "newsroom.toml").write_text("[newsletter\n")
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "plugins", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert "arxiv" in {p["name"] for p in listing["plugins"]}
    (problem,) = listing["problems"]
    assert problem.startswith(f"{tmp_path / 'newsroom.toml'}: not valid TOML")


def test_a_misspelt_hook_is_reported_instead_of_silently_never_called() -> None:
    plugin = types.ModuleType("typo_plugin")

    @hookimpl
    def register_source(register):  # type: ignore[no-untyped-def]
        raise AssertionError("never called")

    plugin.register_source = register_source  # type: ignore[attr-defined]
    plugins = load_plugins()
    plugins.add(plugin, "typo", package="newsroom-typo", version="1.0")
    assert [f.message() for f in plugins.failures] == [
        'plugin "typo" from newsroom-typo 1.0: register_source is not a newsroom hook '
        "(did you mean register_sources?); it is never called"
    ]
