"""Themes: found three ways, inherited block by block, configured by settings, translated,
documented, and scaffolded by ``newsroom theme new``.

The helpers at the top (a 30-item Korean edition, an edition made from the sample
newsletters in ../shared/seeds, rendering one theme) are shared by the other test_themes_*
and test_site files.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, SHARED, require, without_placeholder_key
from lxml import html as lxml_html
from test_render import korean_edition, run, write_config
from test_render import plugins as _render_plugins

from newsroom import Edition, Item, Section
from newsroom.cli import cli
from newsroom.config import Config
from newsroom.core.errors import ConfigError
from newsroom.core.plugins import Plugins
from newsroom.core.sanitize import sanitize_edition
from newsroom.render.environment import catalog_path, load_translations
from newsroom.render.themes import available_themes, load_theme

FIRST_PARTY = ["default", "briefing"]
THEMES_DIR = ROOT / "themes"


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    return _render_plugins.__wrapped__()  # type: ignore[attr-defined, no-any-return]


# -- shared helpers -------------------------------------------------------------------------

SECTIONS = [
    ("papers", "📄 논문 동향", "paper", "arXiv"),
    ("models", "🤖 모델 & 도구", "model", "Hugging Face"),
    ("github", "💻 GitHub 프로젝트", "repository", "GitHub"),
    ("community", "🗣️ 커뮤니티 소식", "discussion", "r/MachineLearning"),
    ("products", "🚀 제품 출시", "product", "Product Hunt"),
    ("news", "📰 뉴스", "article", "AI타임스"),
]
#: About the length of a summary in the sample newsletters (300-400 characters).
SUMMARY = (
    "<p>기존 10B 이상 통합 멀티모달 모델의 학습 비용 문제를 해결하는 <strong>5B 파라미터 "
    "경량 모델</strong>입니다. 계층적 특징을 추출해 학습 가능한 토큰과 융합하고, 3단계 점진적 "
    "학습으로 훨씬 큰 모델보다 벤치마크에서 28% 높은 점수를 얻었습니다. 학습 코드와 가중치, "
    "데이터셋이 모두 공개되어 누구나 재현해 볼 수 있으며, 작은 연구실과 개인 개발자도 실험할 수 "
    "있는 규모라는 점에서 주목받고 있습니다.</p>"
)


def long_korean_edition(n_items: int = 30, day: dt.date = dt.date(2026, 2, 14)) -> Edition:
    """A Korean edition with ``n_items`` items spread over the six sections of the samples,
    with an intro and an insight box, like the sample newsletters."""
    generated = dt.datetime.combine(day, dt.time(21, 0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    sections = []
    for s, (sid, title, kind, publisher) in enumerate(SECTIONS):
        count = n_items // len(SECTIONS) + (1 if s < n_items % len(SECTIONS) else 0)
        items = [
            Item(
                url=f"https://example.org/{sid}/{day.isoformat()}/{i}?ref=newsletter&id={i}",
                title=f"{title[2:].strip()} {i + 1}: 경량 5B 통합 멀티모달 모델과 에이전트 도구",
                summary=SUMMARY,
                kind=kind,
                publisher=publisher,
                published=generated - dt.timedelta(hours=i),
                authors=["김하늘", "이바다", "박산"][: 1 + i % 3],
                metrics={"stars": 1234.0 * (i + 1), "stars_period": 56.0}
                if kind == "repository"
                else {},
                links={
                    "pdf": f"https://example.org/{sid}/{i}.pdf",
                    "code": "https://github.com/x/y",
                }
                if kind == "paper"
                else {},
            )
            for i in range(count)
        ]
        sections.append(Section(id=sid, title=title, items=items))
    edition = Edition(
        id=day.isoformat(),
        date=day,
        title=f"AI 브리핑 {day.year}년 {day.month}월 {day.day}일",
        newsletter={"title": "AI 브리핑", "language": "ko", "timezone": "Asia/Seoul"},
        generated_at=generated,
        intro="<p>이번 호에서는 <strong>경량 멀티모달 모델</strong>과 에이전트 도구 경쟁, "
        "AI 반도체 소식을 모았습니다.</p>",
        sections=sections,
        insight="<h3>오늘의 핵심 트렌드</h3><ol><li><strong>에이전트 전쟁 본격화</strong> — "
        "데스크톱과 API에서 동시에.</li><li><strong>경량 모델의 부상</strong> — 효율이 곧 "
        "실력.</li></ol><p>다음 주에는 에이전트 SDK 경쟁이 더 치열해질 전망입니다.</p>",
        categories=["briefing", "ai"],
        tags=["ai", "research"],
    )
    return sanitize_edition(edition)


def seed_edition(path: Path) -> Edition:
    """A sample newsletter in the briefing format (``## 📄 section``, ``### 1. item``,
    ``- **출처:** ...``, ``- 🔗 [label](url)``, an insight section) as an Edition."""
    import markdown_it
    import yaml

    md = markdown_it.MarkdownIt()
    text = path.read_text("utf-8")
    _, head, body = text.split("---\n", 2)
    meta = yaml.safe_load(head)
    when = dt.datetime.strptime(str(meta["date"]), "%Y-%m-%d %H:%M:%S %z")
    intro: list[str] = []
    insight: list[str] = []
    sections: list[dict[str, object]] = []
    target: list[str] | None = None
    item: dict[str, object] | None = None
    for line in body.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            item = None
            if heading == "서론":
                target = intro
            elif "인사이트" in heading:
                target = insight
            else:
                target = None
                sections.append({"id": f"s{len(sections) + 1}", "title": heading, "items": []})
        elif target is not None:
            if line.strip() != "---":
                target.append(line)
        elif line.startswith("### ") and sections:
            item = {"title": re.sub(r"^\d+\.\s*", "", line[4:]), "summary": "", "links": {}}
            sections[-1]["items"].append(item)  # type: ignore[attr-defined]
        elif item is not None and line.startswith("- **출처:**"):
            item["publisher"] = line.split("**출처:**", 1)[1].strip()
        elif item is not None and line.startswith("- 🔗"):
            links = re.findall(r"\[([^\]]+)\]\(([^)]+)\)", line)
            item["url"] = links[0][1]
            item["links"] = {label: url for label, url in links[1:]}
        elif item is not None and line.startswith("- "):
            item["summary"] = md.render(line[2:])
    for section in sections:
        for n, entry in enumerate(section["items"], 1):  # type: ignore[attr-defined]
            # Items the sample gives no link (news with "(출처: ...)" in the text) get one.
            entry.setdefault("url", f"https://example.org/{section['id']}/{n}")
    edition = Edition.model_validate(
        {
            "id": when.date().isoformat(),
            "date": when.date().isoformat(),
            "title": meta["title"],
            "newsletter": {"title": "AI 브리핑", "language": "ko", "timezone": "Asia/Seoul"},
            "generated_at": when.isoformat(),
            "intro": md.render("\n".join(intro)),
            "insight": md.render("\n".join(insight)),
            "sections": sections,
        }
    )
    return sanitize_edition(edition)


def seed_path() -> Path:
    path = SHARED / "seeds" / "000_42f4f9bdbf37d727.txt"
    from conftest import SHARED_HOW

    require(path.is_file(), "a sample newsletter of ../shared/seeds", SHARED_HOW)
    return path


def render_theme(
    root: Path,
    plugins: Plugins,
    theme: str,
    edition: Edition,
    *,
    language: str = "ko",
    base_url: str = "https://example.org/briefing/",
    extra: str = "",
) -> tuple[Config, dict[str, Path]]:
    """Render ``edition`` with ``theme`` into ``root``; the config and the files by name."""
    config = write_config(
        root, plugins, language=language, base_url=base_url, theme=theme, extra=extra
    )
    return config, run(config, plugins, edition)


def write_theme(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, "utf-8")
    return folder


# -- discovery ------------------------------------------------------------------------------


def test_first_party_themes_come_through_entry_points() -> None:
    found = available_themes()
    for name in FIRST_PARTY:
        assert found[name].origin == "first-party" and found[name].package == "newsroom-digest"
        assert (found[name].path / "theme.toml").is_file()
    assert [t.name for t in load_theme("briefing").chain] == ["briefing", "default"]
    assert load_theme("default").parent is None


@pytest.fixture
def installed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A theme distribution on sys.path, as pip would leave it: a package and its dist-info
    with a ``newsroom.themes`` entry point (``fancy``), and one that claims ``default``."""
    site = tmp_path / "site-packages"
    write_theme(
        site / "fancy_theme",
        {
            "__init__.py": "",
            "theme.toml": 'name = "fancy"\nextends = "briefing"\ndescription = "Fancy."\n'
            '[settings]\naccent_color = "#7c3aed"\n',
            "templates/email/_footer.mjml.j2": "<mj-section><mj-column><mj-text>팬시 푸터 "
            "<a href=\"{{ urls.unsubscribe }}\">{{ _('Unsubscribe') }}</a></mj-text></mj-column>"
            "</mj-section>",
        },
    )
    write_theme(site / "squatter", {"__init__.py": "", "theme.toml": 'name = "default"\n'})
    write_theme(site / "broken_theme", {"__init__.py": "", "theme.toml": "name = [\n"})
    write_theme(
        site / "fancy_theme-1.0.dist-info",
        {
            "METADATA": "Metadata-Version: 2.1\nName: fancy-theme\nVersion: 1.0\n",
            "entry_points.txt": (
                "[newsroom.themes]\nfancy = fancy_theme\ndefault = squatter\n"
                "broken = broken_theme\n"
            ),
        },
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


def test_an_installed_package_theme_is_found_but_cannot_take_a_first_party_name(
    installed_package: Path, plugins: Plugins, tmp_path: Path
) -> None:
    found = available_themes()
    assert found["fancy"].origin == "package" and found["fancy"].package == "fancy-theme"
    assert found["fancy"].version == "1.0"
    assert found["default"].origin == "first-party"  # the squatter is ignored
    theme = load_theme("fancy")
    assert [t.name for t in theme.chain] == ["fancy", "briefing", "default"]
    _, files = render_theme(tmp_path / "n", plugins, "fancy", korean_edition(hostile=False))
    email = files["email.html"].read_text("utf-8")
    assert "팬시 푸터" in email and "#7c3aed" in email
    assert "bf-masthead" in email  # the rest comes from briefing


def test_newsroom_themes_lists_first_party_package_and_local_themes(
    installed_package: Path, plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_theme(tmp_path / "looks" / "mine", {"theme.toml": 'extends = "fancy"\n'})
    write_config(tmp_path, plugins, theme="./looks/mine")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["themes", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["default"]["origin"] == rows["briefing"]["origin"] == "first-party"
    assert rows["fancy"]["origin"] == "package" and rows["fancy"]["version"] == "1.0"
    assert rows["mine"]["origin"] == "local" and rows["mine"]["in_use"]
    assert rows["mine"]["chain"] == ["mine", "fancy", "briefing", "default"]
    assert not rows["default"]["in_use"]
    assert "not valid TOML" in rows["broken"]["error"]  # listed, without hiding the others
    table = CliRunner().invoke(cli, ["themes"])
    assert (
        table.exit_code == 0 and "mine (in use)" in table.output and "fancy-theme" in table.output
    )


def test_an_unknown_theme_fails_naming_the_installed_ones(plugins: Plugins, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown theme 'fancy'.*briefing \(first-party\)"):
        load_theme("fancy")
    write_theme(tmp_path / "child", {"theme.toml": 'extends = "nonesuch"\n'})
    with pytest.raises(ConfigError, match=r"'nonesuch' \(extended by 'child'\).*default"):
        load_theme("./child", root=tmp_path)
    with pytest.raises(ConfigError, match="no theme folder"):
        load_theme("./missing", root=tmp_path)
    config = write_config(tmp_path / "n", plugins, theme="nope")
    with pytest.raises(ConfigError, match="installed themes: briefing"):
        run(config, plugins, korean_edition(hostile=False))


# -- inheritance ----------------------------------------------------------------------------


def test_a_theme_of_one_partial_inherits_everything_else(plugins: Plugins, tmp_path: Path) -> None:
    # No theme.toml at all: a folder with one file falls back to default.
    write_theme(
        tmp_path / "tiny",
        {
            "templates/email/_header.mjml.j2": "<mj-section><mj-column><mj-text><h1>작은 머리말"
            "</h1></mj-text></mj-column></mj-section>"
        },
    )
    edition = korean_edition(hostile=False)
    _, files = render_theme(tmp_path / "n", plugins, "../tiny", edition)
    email = files["email.html"].read_text("utf-8")
    assert "작은 머리말" in email
    assert all(item.url in email for item in edition.items)
    assert "%%unsubscribe_url." in email  # default's footer
    assert files["edition_page"].is_file()


def test_parent_prefix_extends_the_parents_version_at_every_depth(
    plugins: Plugins, tmp_path: Path
) -> None:
    def footer(label: str) -> str:
        return (
            '{% extends "parent:email/edition.mjml.j2" %}\n{% block footer %}'
            f"<mj-section><mj-column><mj-text>{label}</mj-text></mj-column></mj-section>"
            "{{ super() }}{% endblock %}\n"
        )

    write_theme(
        tmp_path / "grand",
        {
            "theme.toml": 'name = "grand"\nextends = "briefing"\n',
            "templates/email/edition.mjml.j2": footer("할머니 테마"),
        },
    )
    write_theme(
        tmp_path / "child",
        {
            "theme.toml": 'name = "child"\nextends = "../grand"\n',
            "templates/email/edition.mjml.j2": footer("손주 테마"),
            "templates/web/_edition_body.html.j2": (
                '{% extends "parent:web/_edition_body.html.j2" %}{% block insight %}'
                '<p class="mine">손주 인사이트</p>{{ super() }}{% endblock %}'
            ),
        },
    )
    theme = load_theme("./child", root=tmp_path)
    assert [t.name for t in theme.chain] == ["child", "grand", "briefing", "default"]
    edition = korean_edition(hostile=False)
    _, files = render_theme(tmp_path / "n", plugins, "../child", edition)
    email = files["email.html"].read_text("utf-8")
    # Child, then grandparent, then briefing's own footer: every level's super() reached.
    child, grand = email.index("손주 테마"), email.index("할머니 테마")
    assert child < grand < email.index("%%unsubscribe_url.")
    assert "bf-masthead" in email
    page = files["edition_page"].read_text("utf-8")
    assert "손주 인사이트" in page and "에디터 인사이트" in page


def test_a_named_theme_prefix_and_a_cycle(plugins: Plugins, tmp_path: Path) -> None:
    # "default:" skips briefing's own edition template; partials still come from the chain.
    write_theme(
        tmp_path / "mixed",
        {
            "theme.toml": 'extends = "briefing"\n',
            "templates/web/base.html.j2": '{% extends "default:web/base.html.j2" %}',
        },
    )
    _, files = render_theme(tmp_path / "n", plugins, "../mixed", korean_edition(hostile=False))
    page = files["edition_page"].read_text("utf-8")
    assert "briefing.css" not in page and "bf-edition-header" in page
    write_theme(tmp_path / "a", {"theme.toml": 'name = "a"\nextends = "../b"\n'})
    write_theme(tmp_path / "b", {"theme.toml": 'name = "b"\nextends = "../a"\n'})
    with pytest.raises(ConfigError, match="extends itself through a → b → a"):
        load_theme("./a", root=tmp_path)


# -- settings -------------------------------------------------------------------------------


def test_settings_have_defaults_in_theme_toml_and_the_newsletter_overrides_them(
    plugins: Plugins, tmp_path: Path
) -> None:
    write_theme(
        tmp_path / "brand",
        {"theme.toml": 'extends = "briefing"\n[settings]\naccent_color = "#0f766e"\n'},
    )
    extra = (
        '[theme]\nwidth = 640\nlogo_url = "https://example.org/logo.png"\n'
        'masthead_color = "#222222"\n'
    )
    _, files = render_theme(
        tmp_path / "n", plugins, "../brand", korean_edition(hostile=False), extra=extra
    )
    email = files["email.html"].read_text("utf-8")
    assert "#0f766e" in email and "#222222" in email and "max-width:640px" in email
    doc = lxml_html.document_fromstring(email)
    logos = [img for img in doc.iter("img") if img.get("src") == "https://example.org/logo.png"]
    assert logos and logos[0].get("alt") == "AI 브리핑"
    page = files["edition_page"].read_text("utf-8")
    assert "--nr-accent: #0f766e" in page and "--nr-width: 640px" in page
    assert load_theme("briefing").settings["accent_color"] == "#c2410c"  # untouched


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'accent_colour = "#000"',
            r"accent_colour: .*no such setting \(did you mean accent_color\?\)",
        ),
        ('width = "wide"', r"width: expected int like the default 600, got 'wide'"),
        ("logo_url = 3", r"logo_url: expected str"),
    ],
)
def test_an_unknown_or_mistyped_setting_is_refused(
    plugins: Plugins, tmp_path: Path, table: str, message: str
) -> None:
    config = write_config(tmp_path, plugins, extra=f"[theme]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        run(config, plugins, korean_edition(hostile=False))


# -- languages ------------------------------------------------------------------------------


def _messages(theme_dir: Path) -> set[str]:
    from babel.messages.extract import extract_from_dir

    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(theme_dir / "templates"),
        method_map=[("**.j2", "jinja2")],
        options_map={"**.j2": options},
    ):
        found.add(message)
    return found


def _python_messages() -> set[str]:
    from babel.messages.extract import extract_from_file

    keywords = {"N_": None, "Nn_": (1, 2), "gettext": None, "ngettext": (1, 2)}
    found = set()
    for name in ("labels.py", "common.py"):
        path = ROOT / "plugins" / "newsroom_renderers" / name
        for _, message, _, _ in extract_from_file("python", str(path), keywords=keywords):
            found.add(message)
    return found


def test_every_ui_string_of_every_first_party_theme_has_a_korean_translation() -> None:
    from babel.messages.pofile import read_po

    with catalog_path(THEMES_DIR / "newsroom_default", "ko").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id}
    messages = _python_messages()
    for theme in FIRST_PARTY:
        messages |= _messages(available_themes()[theme].path)
    assert len(messages) > 30
    missing = sorted(str(m) for m in messages if m not in translated)
    assert not missing, f"no Korean for {missing} in the default theme's catalog"
    empty = sorted(
        str(k) for k, v in translated.items() if not (v if isinstance(v, str) else all(v))
    )
    assert not empty, empty
    unused = sorted(str(k) for k in translated if k not in messages)
    assert not unused, f"catalog entries nothing uses: {unused}"


def test_a_child_catalog_overrides_single_entries_for_one_language(tmp_path: Path) -> None:
    write_theme(
        tmp_path / "mine",
        {"locale/ko_KR/LC_MESSAGES/messages.po": 'msgid "Archive"\nmsgstr "예전 호"\n'},
    )
    theme = load_theme("./mine", root=tmp_path)
    assert load_translations(theme, "ko-KR").gettext("Archive") == "예전 호"
    assert load_translations(theme, "ko-KR").gettext("Unsubscribe") == "수신 거부"
    assert load_translations(theme, "ko").gettext("Archive") == "지난 호"
    assert load_translations(theme, "en").gettext("Archive") == "Archive"


@pytest.mark.parametrize("theme", FIRST_PARTY)
@pytest.mark.parametrize(
    ("language", "words", "date", "absent"),
    [
        (
            "ko",
            ["수신 거부", "출처", "구독 설정"],
            "2026년 2월 14일 토요일",
            ["Unsubscribe", "Source"],
        ),
        (
            "en",
            ["Unsubscribe", "Source", "Preferences"],
            "Saturday, February 14, 2026",
            ["수신 거부", "출처"],
        ),
    ],
)
def test_the_language_switches_words_dates_and_lang_attributes(
    plugins: Plugins,
    tmp_path: Path,
    theme: str,
    language: str,
    words: list[str],
    date: str,
    absent: list[str],
) -> None:
    edition = korean_edition(
        hostile=False,
        newsletter={"title": "AI 브리핑", "language": language, "timezone": "Asia/Seoul"},
    )
    _, files = render_theme(tmp_path, plugins, theme, edition, language=language)
    email = files["email.html"].read_text("utf-8")
    text = files["email.txt"].read_text("utf-8")
    page = files["edition_page"].read_text("utf-8")
    # The masthead's date is kept on one line with no-break spaces.
    for output in (email.replace("&nbsp;", " "), text, page):
        assert date in output
    for word in words:
        assert word in email and word in text
    for word in absent:
        assert word not in text
    assert lxml_html.document_fromstring(email).get("lang") == language
    assert lxml_html.document_fromstring(page).get("lang") == language
    assert f'xml:lang="{language}"' in files["feed.xml"].read_text("utf-8")
    assert "논문 동향" in email and "논문 동향" in page  # content stays as written


# -- documentation --------------------------------------------------------------------------

DOCS = ROOT / "docs" / "themes.md"
BLOCK = re.compile(r"{%-?\s*block\s+(\w+)")
COMMENT = re.compile(r"{#.*?#}", re.S)


def documented_blocks() -> dict[str, set[str]]:
    """The "Blocks" table of docs/themes.md: template file → block names."""
    text = DOCS.read_text("utf-8")
    table = text.split("## Blocks", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for row in re.findall(r"^\| `([^`]+)` \| (.*) \|$", table, re.M):
        out[row[0]] = set(re.findall(r"`(\w+)`", row[1]))
    return out


def test_every_block_of_every_first_party_theme_is_documented() -> None:
    documented = documented_blocks()
    assert documented
    for theme in FIRST_PARTY:
        templates = available_themes()[theme].path / "templates"
        for path in sorted(templates.rglob("*.j2")):
            blocks = set(BLOCK.findall(COMMENT.sub("", path.read_text("utf-8"))))
            if not blocks:
                continue
            name = path.relative_to(templates).as_posix()
            assert name in documented, f"docs/themes.md: no row for {name} ({theme})"
            missing = blocks - documented[name]
            assert not missing, f"docs/themes.md: blocks of {name} ({theme}) missing: {missing}"


#: What the renderers add for single pages and loops (see plugins/newsroom_renderers).
PAGE_VARIABLES = {
    "root",
    "page_url",
    "body",
    "archive",
    "previous",
    "next",
    "recent",
    "months",
    "canonical",
    "link_title",
    "entries",
    "bodies",
    "feed_id",
    "entry_id",
    "entry_link",
    "absolute_url",
    "layout",
    "post_date",
    "section",
    "item",
    "number",
}


def test_the_template_context_is_documented(plugins: Plugins, tmp_path: Path) -> None:
    from newsroom_renderers.common import template_variables

    from newsroom.core.components import RenderContext
    from newsroom.render.rendering import template_vars

    text = DOCS.read_text("utf-8").split("## Template variables", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| ([^|]+) \|", text, re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}
    config = write_config(tmp_path, plugins)
    theme = load_theme("default")
    ctx = RenderContext(
        newsletter_title="t",
        language="ko",
        timezone=config.timezone,
        now=dt.datetime.now(dt.UTC),
        state=None,
        root=tmp_path,
        edition_id="x",
        theme=theme,
        theme_settings=theme.settings,
        jinja=theme.environment(),
    )
    edition = korean_edition(hostile=False)
    ctx.variables = lambda ed, fmt: template_vars(ed, fmt, ctx)
    names = set(template_variables(edition, "web", ctx)) | PAGE_VARIABLES
    assert not names - documented, f"undocumented template variables: {names - documented}"
    urls = re.search(r"^\| `urls` \| (.*) \|$", text, re.M)
    assert urls is not None
    for key in template_vars(edition, "web", ctx)["urls"]:
        assert f"`{key}`" in urls.group(1), f"urls.{key} is not documented"


# -- newsroom theme new ---------------------------------------------------------------------


@pytest.mark.parametrize("parent", FIRST_PARTY)
def test_theme_new_builds_at_once_and_points_to_the_blocks(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["theme", "new", "my-look", "--extends", parent])
    assert result.exit_code == 0, result.output
    assert 'theme = "./my-look"' in result.output
    folder = tmp_path / "my-look"
    email_template = (folder / "templates" / "email" / "edition.mjml.j2").read_text("utf-8")
    for block in ("header", "item", "insight", "footer"):
        assert block in email_template
    assert "email/_item.mjml.j2" in email_template
    toml = (folder / "theme.toml").read_text("utf-8")
    assert f'extends = "{parent}"' in toml and "# accent_color = " in toml
    edition = korean_edition(hostile=False)
    _, files = render_theme(tmp_path / "n", plugins, "../my-look", edition)
    _, parents = render_theme(tmp_path / "p", plugins, parent, edition)
    # Unchanged, the new theme renders exactly what its parent does.
    assert without_placeholder_key(files["email.html"].read_text("utf-8")) == (
        without_placeholder_key(parents["email.html"].read_text("utf-8"))
    )
    page = files["edition_page"].read_text("utf-8")
    assert "static/my-look.css" in page
    assert (tmp_path / "n" / "build" / "site" / "static" / "my-look.css").is_file()
    # Uncommenting a setting and overriding a block take effect.
    (folder / "theme.toml").write_text(
        toml.replace("# accent_color = ", 'accent_color = "#123456" #'), "utf-8"
    )
    (folder / "templates" / "email" / "edition.mjml.j2").write_text(
        email_template + "{% block footer %}<mj-section><mj-column><mj-text>새 꼬리말</mj-text>"
        "</mj-column></mj-section>{{ super() }}{% endblock %}\n",
        "utf-8",
    )
    _, files = render_theme(tmp_path / "n", plugins, "../my-look", edition)
    email = files["email.html"].read_text("utf-8")
    assert "#123456" in email and "새 꼬리말" in email and "%%unsubscribe_url." in email


def test_theme_new_refuses_bad_names_and_existing_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    for args, message in (
        (["Bad Name"], "lowercase letters"),
        (["taken"], "already exists"),
        (["ok", "--extends", "nonesuch"], "unknown theme 'nonesuch'"),
        (["parent"], "theme name 'parent' is reserved"),
        (["default"], "taken by the installed theme 'default'"),
        (["briefing", "--extends", "briefing"], "taken by the installed theme 'briefing'"),
    ):
        result = CliRunner().invoke(cli, ["theme", "new", *args])
        assert result.exit_code != 0 and message in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # nothing was written

    # A theme named like the folder it extends would extend itself.
    assert CliRunner().invoke(cli, ["theme", "new", "look"]).exit_code == 0
    args = ["theme", "new", "look", "--extends", "./look", "--directory", "again"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "would extend itself" in result.output, result.output
    assert not (tmp_path / "again").exists()


@pytest.mark.slow
def test_a_packaged_theme_installs_and_is_found_by_name(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsroom",
            "theme",
            "new",
            "harbor",
            "--extends",
            "briefing",
            "--package",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "harbor" / "pyproject.toml").is_file()
    target = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(tmp_path / "harbor"),
        ],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    listing = subprocess.run(
        [sys.executable, "-m", "newsroom", "themes", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert listing.returncode == 0, listing.stderr
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    assert rows["harbor"]["origin"] == "package"
    assert rows["harbor"]["package"] == "newsroom-theme-harbor"
    assert rows["harbor"]["chain"] == ["harbor", "briefing", "default"]
