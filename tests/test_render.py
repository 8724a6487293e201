"""The email, web and markdown renderers with the default theme, in Korean and English."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown_it  # comes with rich
import pytest
import yaml
from lxml import etree
from lxml import html as lxml_html
from newsroom_renderers.common import clean_output
from newsroom_renderers.mdtext import escape_markdown, html_to_markdown, slugify
from newsroom_renderers.plaintext import display_width, wrap
from newsroom_renderers.render_email import compile_mjml

from newsroom import BuildError, Edition, Item, Source, hookimpl
from newsroom.config import Config, load_config
from newsroom.core.plugins import Plugins, load_plugins
from newsroom.core.sanitize import clean_html, html_to_text, load_edition, sanitize_edition
from newsroom.render.environment import load_translations
from newsroom.render.rendering import placeholders, render
from newsroom.render.themes import load_theme

DATA = Path(__file__).parent / "data" / "editions"
ATOM = "{http://www.w3.org/2005/Atom}"
TEST_SOURCE = "render-test-source"


# -- fixtures ----------------------------------------------------------------------------------


class _NoItems(Source):
    """A source for the config only: renderers never fetch."""

    name = TEST_SOURCE

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        return []


@hookimpl
def _register_sources(register):  # type: ignore[no-untyped-def]
    register(_NoItems)


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    loaded = load_plugins()
    # A local source plugin under its own name: the config needs one [[sources]] table.
    module = types.ModuleType("render_test_plugin")
    module.register_sources = _register_sources  # type: ignore[attr-defined]
    loaded.add(module, "render-test")
    return loaded


def write_config(
    root: Path,
    plugins: Plugins,
    *,
    language: str = "ko",
    base_url: str = "",
    theme: str = "default",
    extra: str = "",
) -> Config:
    root.mkdir(parents=True, exist_ok=True)
    title = "AI 브리핑" if language == "ko" else "AI Briefing"
    (root / "newsroom.toml").write_text(
        f"""
[newsletter]
title = "{title}"
language = "{language}"
timezone = "Asia/Seoul"
base_url = "{base_url}"
theme = "{theme}"

[[sources]]
name = "feeds"
plugin = "{TEST_SOURCE}"
{extra}
""",
        "utf-8",
    )
    return load_config(root / "newsroom.toml", plugins)


HOSTILE_SUMMARY = (
    '<p onclick="alert(1)">요약 <script>alert(1)</script>'
    '<a href="javascript:alert(2)">클릭</a> <img src="x" onerror="alert(3)">'
    '<a href="https://ok.example/">정상 링크</a></p>'
)


def hostile_item() -> Item:
    return Item(
        url="https://example.com/q-and-a?a=1&b=2",
        title="Q&A *별표* [괄호](x) # {{ site.title }} <b>태그</b>\x07",
        summary=HOSTILE_SUMMARY + "<p>제어 문자\x1b[31m 끝</p>",
        # A lone surrogate (from a broken "\\ud800" escape in JSON) cannot be encoded.
        authors=["김\ud800하늘"],
        publisher="Evil & Co",
        kind="article",
    )


def korean_edition(*, hostile: bool = True, **changes: object) -> Edition:
    """The sample edition, plus an item whose fields try to break every format."""
    data = json.loads((DATA / "ko-2026-02-14.json").read_text("utf-8"))
    if hostile:
        data["sections"][-1]["items"].append(hostile_item().model_dump(mode="json"))
    return sanitize_edition(Edition.model_validate({**data, **changes}))


def shown(text: str) -> str:
    """``text`` as the outputs carry it: without control characters and lone surrogates."""
    return clean_output(text)


def english_edition() -> Edition:
    return sanitize_edition(Edition.from_json((DATA / "en-2026-02-14.json").read_bytes()))


def run(config: Config, plugins: Plugins, edition: Edition) -> dict[str, Path]:
    """Render ``edition`` with the configured renderers; the files written, by short names."""
    written = set(render(config, plugins, edition))
    folder = config.output_dir / "editions" / edition.id
    site = config.output_dir / "site"
    names = {
        "email.html": folder / "email.html",
        "email.txt": folder / "email.txt",
        "email.json": folder / "email.json",
        "edition_page": site / "editions" / edition.id / "index.html",
        "index.html": site / "index.html",
        "feed.xml": site / "feed.xml",
    }
    return {name: path for name, path in names.items() if path in written}


@pytest.fixture(scope="module")
def korean(
    plugins: Plugins, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, Edition, dict[str, Path]]:
    config = write_config(tmp_path_factory.mktemp("ko"), plugins)
    edition = korean_edition()
    return config, edition, run(config, plugins, edition)


# -- email -------------------------------------------------------------------------------------


def test_email_html_is_a_complete_document_with_every_section_and_link(korean) -> None:
    _, edition, files = korean
    raw = files["email.html"].read_bytes()
    text = raw.decode("utf-8")  # strict: the file is valid UTF-8
    assert text.lower().startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    doc = lxml_html.document_fromstring(text)
    assert doc.get("lang") == "ko"
    charset = [m.get("content", "") + m.get("charset", "") for m in doc.iter("meta")]
    assert any("utf-8" in c.lower() for c in charset)
    assert doc.findtext(".//title") == edition.title
    hrefs = {a.get("href") for a in doc.iter("a")}
    body_text = doc.text_content()
    for section in edition.sections:
        assert section.title in body_text
        for item in section.items:
            assert item.url in hrefs
            assert shown(item.title) in body_text
    # Korean arrives as Korean: no mojibake (UTF-8 read as Latin-1 looks like "ë…¼ë¬¸").
    assert "논문 동향" in body_text and "에디터 인사이트" in body_text
    assert not re.search("[ÃÂìëê][\u0080-\u00ff]", body_text)
    assert "출처: arXiv" in body_text
    assert "★ 스타 13,000개" in body_text


def test_email_has_no_active_content_even_from_hostile_summaries(korean) -> None:
    _, _, files = korean
    text = files["email.html"].read_text("utf-8")
    assert "<script" not in text.lower()
    assert "javascript:" not in text.lower()
    doc = lxml_html.document_fromstring(text)
    for element in doc.iter():
        if isinstance(element.tag, str):
            assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag
    # The hostile title is shown as text, its markup gone.
    assert "Q&A *별표* [괄호](x) # {{ site.title }} 태그" in doc.text_content()
    assert "https://ok.example/" in {a.get("href") for a in doc.iter("a")}


def rendered_placeholders(files: dict[str, Path]) -> dict[str, str]:
    """The placeholders of the render that wrote ``files`` (its key is in email.json)."""
    return placeholders(json.loads(files["email.json"].read_text("utf-8"))["placeholder_key"])


def test_email_keeps_placeholders_for_the_sender(korean) -> None:
    _, _, files = korean
    text = files["email.html"].read_text("utf-8")
    doc = lxml_html.document_fromstring(text)
    unsubscribe = rendered_placeholders(files)["unsubscribe_url"]
    assert unsubscribe in {a.get("href") for a in doc.iter("a")}
    assert f'href="{unsubscribe}"' in text  # literally, not %-encoded


def test_each_render_draws_a_new_placeholder_key(plugins: Plugins, tmp_path: Path) -> None:
    config = write_config(tmp_path, plugins, base_url="https://example.org/briefing/")
    edition = korean_edition()
    files = run(config, plugins, edition)
    first = rendered_placeholders(files)["unsubscribe_url"]
    run(config, plugins, edition)
    second = rendered_placeholders(files)["unsubscribe_url"]
    assert first != second and second in files["email.html"].read_text("utf-8")
    # The web edition carries no placeholder (and so no key) at all.
    site = config.output_dir / "site"
    assert not any("%%" in p.read_text("utf-8") for p in site.rglob("*.html"))


def test_mjml_and_css_inlining_leave_every_placeholder_alone() -> None:
    every = placeholders("0123456789abcdef" * 2).values()
    links = "".join(f'<a href="{p}">{p}</a> ' for p in every)
    html = compile_mjml(
        '<mjml><mj-head><mj-style inline="inline">a { color: red; }</mj-style></mj-head>'
        f"<mj-body><mj-section><mj-column><mj-text>{links}</mj-text></mj-column></mj-section>"
        "</mj-body></mjml>"
    )
    for placeholder in every:
        assert f'href="{placeholder}"' in html
        assert f">{placeholder}</a>" in html
    assert 'style="color: red;"' in html


def test_email_inlines_layout_css_and_keeps_dark_mode_in_the_head(korean) -> None:
    _, edition, files = korean
    doc = lxml_html.document_fromstring(files["email.html"].read_text("utf-8"))
    title_link = doc.xpath(f'//a[@href="{edition.sections[0].items[0].url}"]')[0]
    assert "color" in (title_link.get("style") or "")
    heads = [s.text or "" for s in doc.iter("style")]
    assert any("prefers-color-scheme: dark" in s for s in heads)
    # The inline rules were moved into attributes, not left in the head as well.
    assert not any(".nr-item-title a" in s and "@media" not in s for s in heads)
    schemes = [m.get("content") for m in doc.iter("meta") if m.get("name") == "color-scheme"]
    assert schemes == ["light dark"]


def test_email_json_has_subject_and_preheader(korean) -> None:
    _, edition, files = korean
    meta = json.loads(files["email.json"].read_text("utf-8"))
    assert meta["subject"] == edition.title
    assert meta["preheader"].startswith("이번 호에서는")


def test_text_part_lists_every_item_and_wraps_korean_between_words(korean) -> None:

    _, edition, files = korean
    text = files["email.txt"].read_text("utf-8")
    flat = " ".join(text.split())
    for section in edition.sections:
        assert section.title in text
        for item in section.items:
            # The item's own link, labelled by what it is ("   논문: https://...").
            assert any(line.endswith(f": {item.url}") for line in text.splitlines())
            assert shown(item.title) in flat
            # Every word of the summary survives whole: wrapping happens between words only.
            words = set(text.split())
            assert set(shown(html_to_text(item.summary)).split()) <= words
    assert "1. DeepGen 1.0: 경량 5B 통합 멀티모달 모델" in text
    assert "출처: arXiv" in text
    assert "https://example.com/q-and-a?a=1&b=2" in text  # not "&amp;": text is not HTML
    assert "<p>" not in text and "<strong>" not in text and "&amp;" not in text
    assert f"수신 거부: {rendered_placeholders(files)['unsubscribe_url']}" in text
    for line in text.splitlines():
        if "://" not in line:
            assert display_width(line) <= 72, line


# -- web ---------------------------------------------------------------------------------------


def _local_links(page: Path) -> list[tuple[str, str]]:
    doc = lxml_html.document_fromstring(page.read_text("utf-8"))
    out = []
    for element in doc.iter():
        for attr in ("href", "src"):
            value = element.get(attr) if isinstance(element.tag, str) else None
            if value and not urlsplit(value).scheme and not value.startswith("//"):
                out.append((attr, value))
    return out


def _check_links_resolve(page: Path) -> int:
    """Every relative link of ``page`` reaches a file, and its #fragment an element there."""
    checked = 0
    for _, value in _local_links(page):
        parts = urlsplit(value)
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        assert target.is_file(), f"{page}: {value} -> {target}"
        if parts.fragment:
            doc = lxml_html.document_fromstring(target.read_text("utf-8"))
            assert doc.get_element_by_id(parts.fragment, None) is not None, value
        checked += 1
    return checked


def _headings_in_order(doc: lxml_html.HtmlElement) -> None:
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels and levels[0] == 1 and levels.count(1) == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


def test_edition_page_has_lang_landmarks_anchors_and_working_links(korean) -> None:
    _, edition, files = korean
    page = files["edition_page"]
    doc = lxml_html.document_fromstring(page.read_text("utf-8"))
    assert doc.get("lang") == "ko"
    assert doc.xpath("//meta[@name='viewport']")
    for landmark in ("main", "header", "footer", "nav"):
        assert doc.findall(f".//{landmark}"), landmark
    for section in edition.sections:
        element = doc.get_element_by_id(section.id)
        assert element.tag == "section"
        assert section.title in element.text_content()
    _headings_in_order(doc)
    assert doc.findtext(".//h1").strip() == edition.title
    assert _check_links_resolve(page) >= 5  # css, feed, home, archive, section anchors


def test_index_shows_the_latest_edition_and_the_archive(korean) -> None:
    config, edition, files = korean
    page = files["index.html"]
    doc = lxml_html.document_fromstring(page.read_text("utf-8"))
    assert doc.get("lang") == "ko"
    _headings_in_order(doc)
    archive = doc.get_element_by_id("archive")
    assert [a.get("href") for a in archive.iter("a")] == [
        f"editions/{edition.id}/index.html",
        "archive/index.html",
    ]
    assert _check_links_resolve(page) >= 3
    assert (config.output_dir / "site" / "static" / "newsroom.css").is_file()


def test_feed_is_well_formed_atom_with_relative_links_without_base_url(korean) -> None:
    _, edition, files = korean
    feed = etree.parse(str(files["feed.xml"])).getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "ko"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.findtext(f"{ATOM}title") == edition.title
    link = entry.find(f"{ATOM}link").get("href")
    assert link == f"editions/{edition.id}/index.html"
    assert (files["feed.xml"].parent / link).is_file()
    content = entry.findtext(f"{ATOM}content")
    fragment = lxml_html.fragment_fromstring(content, create_parent="div")
    assert edition.sections[0].items[0].url in {a.get("href") for a in fragment.iter("a")}
    assert "<script" not in content.lower() and "javascript:" not in content.lower()


def test_feed_and_canonical_links_are_absolute_under_a_base_url_with_a_path(
    plugins: Plugins, tmp_path: Path
) -> None:
    base = "https://example.org/news/"
    config = write_config(tmp_path, plugins, base_url=base)
    edition = korean_edition()
    files = run(config, plugins, edition)
    feed = etree.parse(str(files["feed.xml"])).getroot()
    self_link = [lk.get("href") for lk in feed.findall(f"{ATOM}link") if lk.get("rel") == "self"]
    assert self_link == [f"{base}feed.xml"]
    entry_link = feed.find(f"{ATOM}entry/{ATOM}link").get("href")
    assert entry_link == f"{base}editions/{edition.id}/"
    page = lxml_html.document_fromstring(files["edition_page"].read_text("utf-8"))
    assert page.xpath("//link[@rel='canonical']/@href") == [entry_link]
    # Pages still link relatively, so the site also works from disk.
    assert _check_links_resolve(files["edition_page"]) >= 5
    email = lxml_html.document_fromstring(files["email.html"].read_text("utf-8"))
    assert entry_link in {a.get("href") for a in email.iter("a")}  # "View in browser"


def test_archive_collects_earlier_editions_newest_first(plugins: Plugins, tmp_path: Path) -> None:
    config = write_config(tmp_path, plugins)
    # (Without the hostile item: Edition.save cannot write its lone surrogate.)
    older = korean_edition(
        id="2026-02-13",
        date="2026-02-13",
        title="AI 브리핑 · 2월 13일",
        generated_at="2026-02-12T21:00:00+00:00",
        hostile=False,
    )
    folder = config.output_dir / "editions" / older.id
    folder.mkdir(parents=True)
    older.save(folder / "edition.json")
    broken = config.output_dir / "editions" / "broken"
    broken.mkdir()
    (broken / "edition.json").write_text("{not json", "utf-8")

    current = korean_edition(hostile=False)
    # `newsroom build` writes edition.json before rendering; do the same.
    (config.output_dir / "editions" / current.id).mkdir()
    current.save(config.output_dir / "editions" / current.id / "edition.json")
    files = run(config, plugins, current)
    doc = lxml_html.document_fromstring(files["index.html"].read_text("utf-8"))
    links = [a.get("href") for a in doc.get_element_by_id("archive").iter("a")]
    assert links == [
        f"editions/{current.id}/index.html",
        f"editions/{older.id}/index.html",
        "archive/index.html",
    ]
    feed = etree.parse(str(files["feed.xml"])).getroot()
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == [
        current.title,
        older.title,
    ]
    # Re-rendering the older edition does not make it the front page.
    run(config, plugins, older)
    index_html = (config.output_dir / "site" / "index.html").read_text("utf-8")
    index = lxml_html.document_fromstring(index_html)
    assert index.xpath("//h1")[0].text_content().strip() == current.title


def test_an_edition_id_with_a_path_in_it_is_refused(tmp_path: Path) -> None:
    # A hand-edited edition.json cannot steer output outside editions/: the model refuses it
    # before any renderer creates a folder.
    data = json.loads((DATA / "ko-2026-02-14.json").read_text("utf-8"))
    path = tmp_path / "edition.json"
    path.write_text(json.dumps({**data, "id": "../escape"}), "utf-8")
    with pytest.raises(BuildError, match="not a valid edition.*id"):
        load_edition(path)
    assert not (tmp_path.parent / "escape").exists()


# -- markdown ----------------------------------------------------------------------------------


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def test_markdown_post_has_front_matter_and_the_seeds_layout(korean) -> None:
    config, edition, _ = korean
    post = config.output_dir / "_posts" / "2026-02-14-ai-브리핑.md"
    assert post.is_file()
    meta, body = _front_matter(post.read_text("utf-8"))
    assert meta == {
        "layout": "post",
        "title": edition.title,
        "date": "2026-02-14 06:00:00 +0900",  # generated 21:00 UTC the day before
        "categories": ["briefing", "ai"],
        "tags": ["ai", "machine-learning", "research"],
    }
    assert "\n## 📄 논문 동향\n" in body
    assert "\n### 1. DeepGen 1.0: 경량 5B 통합 멀티모달 모델\n" in body
    # The date's spaces are no-break spaces: it never wraps mid-date.
    assert "\n- **출처:** arXiv · DeepGen Team · 2026.\u00a02.\u00a013.\n" in body
    assert (
        "- 🔗 [논문](https://arxiv.org/abs/2602.12205) · [PDF](https://arxiv.org/pdf/2602.12205)"
    ) in body
    assert "**5B 파라미터**" in body
    assert "\n## 💡 에디터 인사이트\n" in body
    assert "{{" not in body and "{%" not in body  # Liquid never sees template syntax
    assert "<script" not in body and "javascript:" not in body


def test_markdown_escapes_titles_so_they_render_as_written(korean) -> None:
    config, _, _ = korean
    post = config.output_dir / "_posts" / "2026-02-14-ai-브리핑.md"
    _, body = _front_matter(post.read_text("utf-8"))
    doc = lxml_html.fragment_fromstring(markdown_it.MarkdownIt().render(body), create_parent="div")
    headings = [h.text_content() for h in doc.iter("h3")]
    assert "2. Q&A *별표* [괄호](x) # {{ site.title }} 태그" in headings
    assert "https://example.com/q-and-a?a=1&b=2" in {a.get("href") for a in doc.iter("a")}


def test_front_matter_values_are_quoted_safely(plugins: Plugins, tmp_path: Path) -> None:
    config = write_config(tmp_path, plugins, extra='[[renderers]]\nplugin = "markdown"\n')
    title = 'AI 브리핑: "특집" #1 - [예고] {{ x }}\u2028끝'
    edition = korean_edition(title=title, id="2026-02-14-evening", tags=["a: b", "- c"])
    (post,) = render(config, plugins, edition)
    assert post.name == "2026-02-14-ai-브리핑-evening.md"
    meta, _ = _front_matter(post.read_text("utf-8"))
    assert meta["title"] == edition.title
    assert meta["tags"] == ["a: b", "- c"]


def test_an_edition_without_sections_intro_or_insight_still_renders(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = write_config(tmp_path, plugins)
    edition = korean_edition(hostile=False, sections=[], intro="", insight="", categories=[])
    files = run(config, plugins, edition)
    assert len(files) == 6
    assert (config.output_dir / "site" / "archive" / "index.html").is_file()
    etree.parse(str(files["feed.xml"]))
    meta, _ = _front_matter(next((config.output_dir / "_posts").glob("*.md")).read_text("utf-8"))
    assert meta["categories"] == []
    assert "0개 항목" in files["email.txt"].read_text("utf-8")


# -- languages and themes ----------------------------------------------------------------------


def test_english_edition_gets_english_ui_strings(plugins: Plugins, tmp_path: Path) -> None:
    config = write_config(tmp_path, plugins, language="en")
    edition = english_edition()
    files = run(config, plugins, edition)
    email = files["email.html"].read_text("utf-8")
    text = files["email.txt"].read_text("utf-8")
    web = files["edition_page"].read_text("utf-8")
    post = (config.output_dir / "_posts" / "2026-02-14-ai-briefing.md").read_text("utf-8")
    assert lxml_html.document_fromstring(email).get("lang") == "en"
    assert "Unsubscribe" in email and "Source: arXiv" in email
    assert "Editor&#39;s insight" in email or "Editor's insight" in email
    assert "Unsubscribe: %%unsubscribe_url." in text and "Source: arXiv" in text
    assert 'lang="en"' in web and "Archive" in web
    assert "- **Source:** arXiv" in post and "## 💡 Editor's insight" in post
    assert "Saturday,&nbsp;February&nbsp;14,&nbsp;2026" in email  # kept on one line
    for korean_word in ("수신 거부", "출처", "지난 호", "인사이트"):
        for output in (email, text, web, post):
            assert korean_word not in output


def test_a_child_theme_overrides_one_block_and_one_string(plugins: Plugins, tmp_path: Path) -> None:
    theme = tmp_path / "mytheme"
    (theme / "templates" / "email").mkdir(parents=True)
    (theme / "locale" / "ko" / "LC_MESSAGES").mkdir(parents=True)
    (theme / "theme.toml").write_text('name = "mytheme"\nextends = "default"\n', "utf-8")
    (theme / "locale" / "ko" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid "Unsubscribe"\nmsgstr "그만 받기"\n', "utf-8"
    )
    (theme / "templates" / "email" / "edition.mjml.j2").write_text(
        '{% extends "parent:email/edition.mjml.j2" %}\n'
        "{% block insight %}<mj-section><mj-column><mj-text>맞춤 인사이트</mj-text>"
        "</mj-column></mj-section>{% endblock %}\n",
        "utf-8",
    )
    config = write_config(tmp_path, plugins, theme="./mytheme")
    edition = korean_edition()
    files = run(config, plugins, edition)
    email = files["email.html"].read_text("utf-8")
    assert "맞춤 인사이트" in email and "에디터 인사이트" not in email
    assert "그만 받기" in email and "수신 거부" not in email
    assert edition.sections[0].items[0].url in email  # everything else inherited


# -- helpers -----------------------------------------------------------------------------------


def test_ui_strings_fall_back_to_the_base_language_then_english() -> None:
    theme = load_theme("default")
    assert load_translations(theme, "ko-KR").gettext("Unsubscribe") == "수신 거부"
    assert load_translations(theme, "ja").gettext("Unsubscribe") == "Unsubscribe"
    items = load_translations(theme, "ko").ngettext("%(num)d item", "%(num)d items", 3)
    assert items % {"num": 3} == "3개 항목"
    one = load_translations(theme, "en").ngettext("%(num)d item", "%(num)d items", 1)
    assert one % {"num": 1} == "1 item"
    assert load_translations(theme, "ko").gettext("No such message") == "No such message"


def test_wrap_counts_korean_as_two_columns_and_never_splits_a_word() -> None:

    text = "확산 언어 모델이 토큰을 병렬로 만든다는 점을 이용해 불확실한 토큰만 다시 생성 " * 3
    wrapped = wrap(text, 40, "  ")
    assert all(display_width(line) <= 40 for line in wrapped.splitlines())
    assert wrapped.split() == text.split()
    assert wrap("https://example.com/" + "a" * 100, 20) == "https://example.com/" + "a" * 100
    assert display_width("🗣️ 커뮤니티") == 11


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*bold* _it_ [x](y)", r"\*bold\* \_it\_ \[x\](y)"),
        ("{{ site.title }} {% raw %}", "&#123;&#123; site.title &#125;&#125; &#123;% raw %&#125;"),
        ("<script>", "&lt;script&gt;"),
        ("모델 & 도구", "모델 & 도구"),
        ("a | b # c $x$", r"a \| b \# c \$x\$"),
        ("2026. 2. 13.", "2026. 2. 13."),
    ],
)
def test_markdown_escaping(text: str, expected: str) -> None:

    assert escape_markdown(text) == expected


def test_markdown_escaping_at_the_start_of_a_line() -> None:

    assert escape_markdown("- a\n1. b\n+ c", line_start=True) == "\\- a\n1\\. b\n\\+ c"


def test_sanitized_html_becomes_markdown() -> None:

    html = clean_html(
        '<p>첫 <strong>굵게</strong> <em>기울임</em> <a href="https://e.com/a b">링크</a></p>'
        "<ul><li>하나</li><li>둘</li></ul><ol><li>첫째</li></ol><p>- 목록 아님</p>"
    )
    assert html_to_markdown(html) == (
        "첫 **굵게** *기울임* [링크](https://e.com/a%20b)\n\n"
        "- 하나\n- 둘\n\n1. 첫째\n\n\\- 목록 아님"
    )


def test_slugs_keep_korean() -> None:

    assert slugify("AI 브리핑") == "ai-브리핑"
    assert slugify("  Ｈｅｌｌｏ__World -- 2026! ") == "hello-world-2026"
    assert slugify("!!!") == ""
