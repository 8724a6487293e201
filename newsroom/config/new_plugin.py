"""``newsroom plugin new``: a plugin package that installs, registers and passes its tests.

The package holds one component (a source by default, or a filter or a renderer) written
the way docs/plugins.md asks: options as a pydantic model, what a server sends checked
before use, a test over real HTTP on 127.0.0.1 with the fixtures of ``newsroom.testing``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from newsroom.__about__ import DISTRIBUTION, __version__
from newsroom.core.errors import ConfigError

NAME = re.compile(r"[a-z][a-z0-9-]{0,40}")
KINDS = ("source", "filter", "renderer")


@dataclass
class PluginScaffold:
    folder: Path
    distribution: str
    module: str
    files: list[Path]


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "{distribution}"
version = "0.1.0"
description = "A newsroom {kind}: {name}."
readme = "README.md"
requires-python = ">=3.11"
keywords = ["newsroom", "newsroom-plugin"]
dependencies = ["{core}>={core_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# What makes it a plugin: newsroom imports this module and registers its hooks.
[project.entry-points."newsroom.plugins"]
{plugin} = "{module}"

[tool.hatch.build.targets.wheel]
packages = ["{module}"]
"""

_HEADER = '''\
"""newsroom plugin {distribution}: the {kind} {name!r}."""

from __future__ import annotations

'''

_SOURCE = '''\
from pydantic import Field

from newsroom import FetchContext, Item, Options, Source, SourceError, hookimpl

#: The newsroom hook API versions this package works with.
NEWSROOM_API = ">=1.0,<2"


def text(value: object) -> str:
    """A JSON value as text: what a server sends is not always what its format says."""
    return value if isinstance(value, str) else ""


class {cls}Source(Source):
    """Items from a JSON list of links, ``[{{"url": ..., "title": ...}}, ...]``.

    Change ``fetch`` to read what your site serves; keep checking its shape.
    """

    name = "{name}"
    kind = "article"

    class Options(Options):
        url: str
        """Where the list of links is."""
        max_items: int = Field(20, ge=1, le=200)
        """At most this many items."""

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        url = self.options.url
        response = await ctx.http.get(url)  # a 4xx or 5xx raises FetchError before this
        try:
            entries = response.json()
        except ValueError:
            raise SourceError("the answer is not JSON", url=url) from None
        if not isinstance(entries, list):
            raise SourceError("the answer is not a list of links", url=url)
        items, skipped = [], 0
        for entry in entries[: self.options.max_items]:
            link = text(entry.get("url")) if isinstance(entry, dict) else ""
            if not link.startswith(("https://", "http://")):
                skipped += 1
                continue
            title = text(entry.get("title")) or link
            items.append(Item(url=link, title=title, kind=self.kind))
        if skipped:
            ctx.warn(f"{{skipped}} entries without a link were left out", url=url)
        return items


@hookimpl
def register_sources(register):
    register({cls}Source)
'''

_FILTER = '''\
from newsroom import Filter, FilterContext, Item, Options, hookimpl

#: The newsroom hook API versions this package works with.
NEWSROOM_API = ">=1.0,<2"


class {cls}Filter(Filter):
    """Drops items whose title contains one of ``words`` (any case); the rest pass."""

    name = "{name}"

    class Options(Options):
        words: list[str] = []
        """Words that leave an item out."""

    def apply(self, items: list[Item], ctx: FilterContext) -> list[Item]:
        words = [w.casefold() for w in self.options.words if w.strip()]
        return [i for i in items if not any(w in i.title.casefold() for w in words)]


@hookimpl
def register_filters(register):
    register({cls}Filter)
'''

_RENDERER = '''\
import json
from pathlib import Path

from pydantic import field_validator

from newsroom import Edition, Options, RenderContext, Renderer, hookimpl

#: The newsroom hook API versions this package works with.
NEWSROOM_API = ">=1.0,<2"


class {cls}Renderer(Renderer):
    """The edition's links as JSON, one object per item, next to the email."""

    name = "{name}"

    class Options(Options):
        filename: str = "links.json"
        """The file's name inside the edition's folder."""

        @field_validator("filename")
        @classmethod
        def _a_file_name(cls, value: str) -> str:
            if Path(value).name != value or value in ("", ".", ".."):
                raise ValueError("give a file name, not a path")
            return value

    def render(self, edition: Edition, ctx: RenderContext) -> list[Path]:
        path = ctx.output_dir / self.options.filename  # write only under ctx.output_dir
        links = [
            {{"section": section.title, "title": item.title, "url": item.url}}
            for section in edition.sections
            for item in section.items
        ]
        path.write_text(json.dumps(links, ensure_ascii=False, indent=2), "utf-8")
        return [path]


@hookimpl
def register_renderers(register):
    register({cls}Renderer)
'''

_FEED = '''\
NOW = dt.datetime(2026, 2, 14, 6, tzinfo=dt.UTC)
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Lab</title><link>https://lab.example/</link>
<item><title>새 한국어 모델 공개</title><link>https://lab.example/1</link>
<pubDate>Sat, 14 Feb 2026 01:00:00 GMT</pubDate></item>
<item><title>Hiring: a sponsored post</title><link>https://lab.example/2</link>
<pubDate>Sat, 14 Feb 2026 02:00:00 GMT</pubDate></item>
</channel></rss>"""


def newsletter(local_server, *more):
    """An edition's newsroom.toml: one feed served on 127.0.0.1, one section, and ``more``."""
    url = local_server.add("/feed.xml", FEED, content_type="application/rss+xml")
    return "\\n".join(
        [
            '[[sources]]\\nname = "lab"\\nplugin = "news"',
            f'feeds = [{{{{ url = "{{url}}", name = "Lab" }}}}]',
            '[[sections]]\\nid = "all"\\ntitle = "모두"',
            *more,
        ]
    )
'''

_SOURCE_TEST = """\
import json

import pytest

from newsroom import SourceError
from newsroom.testing import run_source
from {module} import {cls}Source

LINKS = [
    {{"url": "https://lab.example/1", "title": "새 한국어 모델 공개"}},
    {{"url": "https://lab.example/2"}},
]


def source(url):
    return {cls}Source({cls}Source.Options(url=url))


def test_links_become_items(local_server):
    url = local_server.add("/links.json", json.dumps(LINKS), content_type="application/json")
    run = run_source(source(url))
    assert [(i.url, i.title) for i in run.items] == [
        ("https://lab.example/1", "새 한국어 모델 공개"),
        ("https://lab.example/2", "https://lab.example/2"),
    ]
    assert run.messages == []


def test_what_is_not_a_link_is_left_out_with_a_warning(local_server):
    broken = ["text", {{"url": 5}}, {{"url": "javascript:alert(1)"}}]
    url = local_server.add("/links.json", json.dumps(LINKS + broken))
    run = run_source(source(url))
    assert len(run.items) == 2
    assert run.messages == ["3 entries without a link were left out"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [("<html>", 200, "not JSON"), ('{{"a": 1}}', 200, "not a list"), ("busy", 503, "503")],
)
def test_an_answer_it_cannot_use_is_a_source_error(local_server, body, status, error):
    url = local_server.add("/links.json", body, status=status)
    with pytest.raises(SourceError, match=error):
        run_source(source(url))


def test_the_plugin_is_installed(plugin_manager):
    assert plugin_manager.sources.get("{name}").package == "{distribution}"
    assert plugin_manager.failures == []
"""

_FILTER_TEST = """\
import datetime as dt


{feed}

def test_an_edition_without_the_words(local_server, build_edition):
    toml = newsletter(local_server, '[[filters]]\\nplugin = "{name}"\\nwords = ["SPONSORED"]')
    result = build_edition(toml, now=NOW)
    assert [i.title for i in result.edition.items] == ["새 한국어 모델 공개"]


def test_no_words_keeps_every_item(local_server, build_edition):
    result = build_edition(newsletter(local_server, '[[filters]]\\nplugin = "{name}"'), now=NOW)
    assert len(result.edition.items) == 2


def test_the_plugin_is_installed(plugin_manager):
    assert plugin_manager.filters.get("{name}").package == "{distribution}"
    assert plugin_manager.failures == []
"""

_RENDERER_TEST = """\
import datetime as dt
import json

import pytest

from newsroom import ConfigError


{feed}

def test_the_edition_s_links_as_json(local_server, build_edition):
    toml = newsletter(local_server, '[[renderers]]\\nplugin = "{name}"')
    result = build_edition(toml, now=NOW, render=True)
    links = json.loads((result.path.parent / "links.json").read_text("utf-8"))
    assert len(links) == 2
    first = {{"section": "모두", "title": "새 한국어 모델 공개", "url": "https://lab.example/1"}}
    assert first in links


def test_a_path_for_a_file_name_is_refused(local_server, build_edition):
    toml = newsletter(local_server, '[[renderers]]\\nplugin = "{name}"\\nfilename = "../x.json"')
    with pytest.raises(ConfigError, match="file name"):
        build_edition(toml, now=NOW)


def test_the_plugin_is_installed(plugin_manager):
    assert plugin_manager.renderers.get("{name}").package == "{distribution}"
    assert plugin_manager.failures == []
"""

_README = """\
# {distribution}

A [newsroom](https://pypi.org/project/{core}/) {kind}, `{name}`.

```
pip install -e '.[test]'    # in the virtualenv newsroom is installed in
pytest                      # the tests run against real HTTP on 127.0.0.1
newsroom plugins            # lists {plugin}, with its {kind} {name}
```

In a newsletter's `newsroom.toml`:

```toml
{usage}
```

`newsroom schema --markdown` describes its options. Writing plugins, the contracts and the
test fixtures: https://pypi.org/project/{core}/ (docs/plugins.md in newsroom's repository).
"""

_USAGE = {
    "source": '[[sources]]\nname = "{name}"\nplugin = "{name}"\nurl = "https://example.org/links.json"',
    "filter": '[[filters]]\nplugin = "{name}"\nwords = ["sponsored"]',
    "renderer": '[[renderers]]\nplugin = "{name}"\nfilename = "links.json"',
}
_MODULES = {"source": _SOURCE, "filter": _FILTER, "renderer": _RENDERER}
_TESTS = {"source": _SOURCE_TEST, "filter": _FILTER_TEST, "renderer": _RENDERER_TEST}


def scaffold_plugin(
    name: str, target: Path | None = None, *, kind: str = "source"
) -> PluginScaffold:
    """Write the package ``newsroom-NAME`` (a ``kind`` called ``name``) into ``target``."""
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"plugin name {name!r}: use lowercase letters, digits and '-', starting with a letter"
        )
    if kind not in KINDS:
        raise ConfigError(f"plugin kind {kind!r}: one of {', '.join(KINDS)}")
    distribution = f"newsroom-{name}"
    module = f"newsroom_{name.replace('-', '_')}"
    folder = target or Path(distribution)
    if folder.exists():
        raise ConfigError(f"{folder} already exists; choose another name or --directory")
    values = {
        "name": name,
        "kind": kind,
        "cls": _class_name(name),
        "module": module,
        "distribution": distribution,
        "plugin": name.replace("-", "_"),
        "core": DISTRIBUTION,
        "core_version": __version__,
    }
    feed = _FEED.format(**values)
    files = {
        folder / "pyproject.toml": _PYPROJECT.format(**values),
        folder / "README.md": _README.format(**values, usage=_USAGE[kind].format(**values)),
        folder / module / "__init__.py": _HEADER.format(**values) + _MODULES[kind].format(**values),
        folder / "tests" / f"test_{values['plugin']}.py": _TESTS[kind].format(**values, feed=feed),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return PluginScaffold(folder, distribution, module, list(files))
