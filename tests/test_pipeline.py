"""The build pipeline's contract with plugins: isolation, attribution, warnings, progress."""

from __future__ import annotations

import asyncio
import datetime as dt
import types
from pathlib import Path

import pytest
from rich.console import Console

from newsroom import BuildError, Filter, Item, Options, SectionLayout, Source, hookimpl
from newsroom.cli.build_report import LiveProgress
from newsroom.config import parse_config
from newsroom.core.plugins import load_plugins
from newsroom.curate.pipeline import build

NOW = dt.datetime(2026, 2, 14, 6, tzinfo=dt.UTC)


class Fixed(Source):
    """Items given in the config, no network: the pipeline is what is under test."""

    name = "fixed"

    class Options(Options):
        titles: list[str] = []
        crash: bool = False
        wrong_type: bool = False

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        if self.options.crash:
            raise RuntimeError("bug in the plugin")
        if self.options.wrong_type:
            return {"not": "a list"}
        return [
            Item(url=f"https://example.org/{self.instance}/{n}", title=t, published=NOW)
            for n, t in enumerate(self.options.titles)
        ]


class Exploding(Filter):
    name = "exploding"

    def apply(self, items, ctx):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("division by zero")


class AsyncUpper(Filter):
    name = "async-upper"

    async def apply(self, items, ctx):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        return [i.model_copy(update={"title": i.title.upper()}) for i in items]


class Assign(Filter):
    """Assigns items to sections by title, as a model asked "which section?" would."""

    name = "assign"

    class Options(Options):
        to: dict[str, str] = {}

    def apply(self, items, ctx):  # type: ignore[no-untyped-def]
        return [i.model_copy(update={"section": self.options.to.get(i.title)}) for i in items]


class BadLayout(SectionLayout):
    name = "bad-layout"

    def arrange(self, items, ctx):  # type: ignore[no-untyped-def]
        return "not sections"


def _plugin() -> types.ModuleType:
    module = types.ModuleType("pipeline_test_plugin")

    @hookimpl
    def register_sources(register):  # type: ignore[no-untyped-def]
        register(Fixed)

    @hookimpl
    def register_filters(register):  # type: ignore[no-untyped-def]
        register(Exploding)
        register(AsyncUpper)
        register(Assign)

    @hookimpl
    def register_sections(register):  # type: ignore[no-untyped-def]
        register(BadLayout)

    module.register_sources = register_sources  # type: ignore[attr-defined]
    module.register_filters = register_filters  # type: ignore[attr-defined]
    module.register_sections = register_sections  # type: ignore[attr-defined]
    return module


def run(tmp_path: Path, toml: str):  # type: ignore[no-untyped-def]
    import tomllib

    plugins = load_plugins()
    plugins.add(_plugin(), "pipeline-test")
    text = '[newsletter]\ntitle = "T"\n[[renderers]]\nplugin = "web"\nenabled = false\n' + toml
    config = parse_config(tomllib.loads(text), tmp_path / "newsroom.toml", plugins)
    return asyncio.run(build(config, plugins, now=NOW))


SECTION = '[[sections]]\nid = "all"\ntitle = "All"\nlimit = 50\n'


def test_a_crashing_source_is_isolated_and_named(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        '[[sources]]\nname = "good"\nplugin = "fixed"\ntitles = ["a", "b"]\n'
        '[[sources]]\nname = "broken"\nplugin = "fixed"\ncrash = true\n' + SECTION,
    )
    assert [i.title for i in result.edition.items] == ["a", "b"]
    (warning,) = result.warnings
    assert warning.source == "broken"
    assert "plugin 'fixed' crashed: RuntimeError: bug in the plugin" in warning.message
    assert {s.name: s.ok for s in result.edition.sources} == {"good": True, "broken": False}


def test_a_source_returning_the_wrong_type_or_nothing_is_a_warning(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        '[[sources]]\nname = "good"\nplugin = "fixed"\ntitles = ["a"]\n'
        '[[sources]]\nname = "odd"\nplugin = "fixed"\nwrong_type = true\n'
        '[[sources]]\nname = "empty"\nplugin = "fixed"\n' + SECTION,
    )
    messages = {w.source: w.message for w in result.warnings}
    assert "returned dict, not a list of Item" in messages["odd"]
    assert messages["empty"] == "returned no items"


def test_no_items_at_all_fails_the_build_with_the_reasons(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"no source returned any items \(broken: .*crashed"):
        run(tmp_path, '[[sources]]\nname = "broken"\nplugin = "fixed"\ncrash = true\n' + SECTION)


def test_a_failing_filter_stops_the_build_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as info:
        run(
            tmp_path,
            '[[sources]]\nname = "s"\nplugin = "fixed"\ntitles = ["a"]\n'
            '[[filters]]\nplugin = "exploding"\n' + SECTION,
        )
    assert "filter [[filters]] #1 (plugin 'exploding') failed: ZeroDivisionError" in str(
        info.value.message
    )


def test_async_filters_are_awaited(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        '[[sources]]\nname = "s"\nplugin = "fixed"\ntitles = ["a"]\n'
        '[[filters]]\nplugin = "async-upper"\n' + SECTION,
    )
    assert [i.title for i in result.edition.items] == ["A"]


def test_a_section_layout_returning_garbage_is_named(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="'bad-layout'.* returned something other than"):
        run(
            tmp_path,
            '[[sources]]\nname = "s"\nplugin = "fixed"\ntitles = ["a"]\n'
            '[[sections]]\nid = "x"\ntitle = "X"\nplugin = "bad-layout"\n',
        )


def test_sections_take_items_in_order_without_repeating_them(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        '[[sources]]\nname = "p"\nplugin = "fixed"\ntitles = ["p1", "p2", "p3"]\n'
        '[[sources]]\nname = "n"\nplugin = "fixed"\ntitles = ["n1"]\n'
        '[[sections]]\nid = "papers"\ntitle = "Papers"\nmatch = { source = "p" }\nlimit = 2\n'
        '[[sections]]\nid = "rest"\ntitle = "Rest"\nlimit = 10\n',
    )
    by_id = {s.id: [i.title for i in s.items] for s in result.edition.sections}
    assert len(by_id["papers"]) == 2
    assert sorted(by_id["papers"] + by_id["rest"]) == ["n1", "p1", "p2", "p3"]


def test_an_item_assigned_to_a_section_goes_there_before_the_rules(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        '[[sources]]\nname = "p"\nplugin = "fixed"\ntitles = ["p1", "p2", "p3"]\n'
        '[[sources]]\nname = "n"\nplugin = "fixed"\ntitles = ["n1", "n2"]\n'
        '[[filters]]\nplugin = "assign"\n'
        'to = { p1 = "news", n1 = "papers", n2 = "news", p3 = "nowhere" }\n'
        '[[sections]]\nid = "papers"\ntitle = "Papers"\nmatch = { source = "p" }\nlimit = 2\n'
        '[[sections]]\nid = "news"\ntitle = "News"\nmatch = { source = "n" }\nlimit = 1\n'
        '[[sections]]\nid = "rest"\ntitle = "Rest"\nlimit = 10\n',
    )
    by_id = {s.id: sorted(i.title for i in s.items) for s in result.edition.sections}
    # p1 belongs to "news" and is kept from "papers", whose rules would take it; n1 belongs
    # to "papers", whose rules would not; an unknown section id counts for nothing.
    assert by_id["papers"] == ["n1", "p2"]
    # "news" has room for one: its assigned items come first. The one it leaves out is
    # offered to the sections after it.
    assert len(by_id["news"]) == 1 and by_id["news"][0] in ("p1", "n2")
    assert sorted(by_id["rest"]) == sorted({"p1", "n2", "p3"} - set(by_id["news"]))


def test_sections_select_by_words_in_korean_and_english(tmp_path: Path) -> None:
    titles = [
        "오픈AI, 새 추론 모델을 공개",  # 모델 with a particle
        "Mistral releases a small open-weight model",
        "Claude Cowork launches on Windows",
        "삼성전자 주가 하락, AI 모델 투자 우려",  # excluded: 주가
        "A remodeled kitchen for the office",  # "model" inside a word
        "HBM4 샘플 출하",
    ]
    result = run(
        tmp_path,
        f'[[sources]]\nname = "any"\nplugin = "fixed"\ntitles = {titles!r}\n'.replace("'", '"')
        + '[[sections]]\nid = "models"\ntitle = "모델 & 도구"\nlimit = 10\n'
        'match = [{ words = ["모델", "model"], exclude = ["주가", "stock"] },'
        ' { words = ["launch", "출시"] }]\n'
        '[[sections]]\nid = "rest"\ntitle = "Rest"\nlimit = 10\n',
    )
    by_id = {s.id: sorted(i.title for i in s.items) for s in result.edition.sections}
    assert by_id["models"] == sorted(titles[:3])
    assert by_id["rest"] == sorted(titles[3:])


def test_live_progress_shows_each_source_and_its_outcome() -> None:
    console = Console(record=True, width=100, force_terminal=True)
    with LiveProgress(console) as progress:
        progress.source_started("papers", "arxiv")
        progress.source_started("news", "news")
        progress.source_update("papers", "querying the arXiv API")
        progress.source_finished("papers", 5, 1.2, None)
        progress.source_finished("news", 0, 0.4, "HTTP 500 Internal Server Error")
        final = progress._render()
    console.print(final)
    text = console.export_text()
    assert "papers" in text and "5 items in 1.2 s" in text
    assert "news" in text and "HTTP 500" in text


def test_feed_text_is_never_read_as_terminal_markup() -> None:
    from newsroom.cli.build_report import summary_tables
    from newsroom.core.model import BuildWarning, Edition, Newsletter

    edition = Edition(
        id="e",
        date=NOW.date(),
        title="t",
        newsletter=Newsletter(title="n"),
        generated_at=NOW,
        warnings=[
            BuildWarning(source="[bold]s", message="bad [/x] markup [/]", url="http://h/[/x]")
        ],
    )
    console = Console(record=True, width=200)
    for table in summary_tables(edition, {}):
        console.print(table)
    assert "bad [/x] markup [/]" in console.export_text()


def test_items_with_unsafe_links_are_dropped_before_sections_with_a_warning(
    tmp_path: Path,
) -> None:
    class Sneaky(Filter):
        name = "sneaky"

        def apply(self, items, ctx):  # type: ignore[no-untyped-def]
            return [items[0].model_copy(update={"url": "javascript:alert(1)"}), *items[1:]]

    module = types.ModuleType("sneaky_plugin")

    @hookimpl
    def register_filters(register):  # type: ignore[no-untyped-def]
        register(Sneaky)

    module.register_filters = register_filters  # type: ignore[attr-defined]
    import tomllib

    plugins = load_plugins()
    plugins.add(_plugin(), "pipeline-test")
    plugins.add(module, "sneaky")
    text = (
        '[newsletter]\ntitle = "T"\n[[sources]]\nname = "s"\nplugin = "fixed"\n'
        'titles = ["a", "b", "c"]\n[[filters]]\nplugin = "sneaky"\n'
        '[[sections]]\nid = "top"\ntitle = "Top"\nlimit = 2\n'
    )
    config = parse_config(tomllib.loads(text), tmp_path / "newsroom.toml", plugins)
    result = asyncio.run(build(config, plugins, now=NOW))
    assert [i.title for i in result.edition.items] == ["b", "c"]  # the limit is still filled
    assert any("not an http(s) URL" in w.message for w in result.warnings)


def test_an_empty_section_is_left_out_with_a_warning(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        '[[sources]]\nname = "p"\nplugin = "fixed"\ntitles = ["p1"]\n'
        '[[sources]]\nname = "q"\nplugin = "fixed"\ntitles = []\n'
        '[[sections]]\nid = "ps"\ntitle = "P"\nmatch = { source = "p" }\n'
        '[[sections]]\nid = "qs"\ntitle = "Q"\nmatch = { source = "q" }\n',
    )
    assert [s.id for s in result.edition.sections] == ["ps"]
    assert any(w.source == "sections" and "'qs' has no items" in w.message for w in result.warnings)
