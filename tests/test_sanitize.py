"""Untrusted content is cleaned where it enters the edition, and themes cannot skip that."""

from __future__ import annotations

import datetime as dt

import jinja2

from newsroom.core.model import Edition, Item, Newsletter, Section
from newsroom.core.sanitize import SafeHTML, clean_html, clean_text, html_filter, sanitize_edition

HOSTILE = (
    '<p onclick="steal()">Hi <script>alert(1)</script><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(1)">js</a> <a href="/rel/path">rel</a>'
    '<iframe src="https://evil.example"></iframe><style>body{}</style></p>'
)


def test_clean_html_drops_scripts_handlers_and_bad_urls() -> None:
    out = clean_html(HOSTILE, base_url="https://news.example/a/b")
    assert isinstance(out, SafeHTML)
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<style", "<img"):
        assert bad not in out
    assert 'href="https://news.example/rel/path"' in out
    assert "Hi" in out


def test_clean_text_strips_markup_and_entities() -> None:
    assert clean_text("<b>삼성</b> &amp; HBM4 <script>x</script>\n 출하") == "삼성 & HBM4 출하"


def test_edition_sanitized_and_unsafe_links_dropped() -> None:
    items = [
        Item(
            url="https://ok.example/1",
            title="<i>Title</i>",
            summary=HOSTILE,
            image="javascript:alert(1)",
            links={"pdf": "data:text/html,x", "code": "/code"},
        ),
        Item(url="javascript:alert(1)", title="bad link"),
    ]
    ed = Edition(
        id="e",
        date=dt.date(2026, 2, 14),
        title="<b>t</b>",
        newsletter=Newsletter(title="n", base_url="javascript:x"),
        generated_at=dt.datetime.now(dt.UTC),
        insight="<script>x</script><p>ok</p>",
        sections=[Section(id="s", title="S", items=items)],
    )
    clean = sanitize_edition(ed)
    (item,) = clean.sections[0].items
    assert item.title == "Title"
    assert "<script" not in item.summary and isinstance(item.summary, SafeHTML)
    assert item.image is None
    assert item.links == {"code": "https://ok.example/code"}
    assert clean.title == "t" and clean.newsletter.base_url == ""
    assert clean.insight == "<p>ok</p>"


def test_round_trip_through_json_is_lossless_and_resanitized(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from newsroom.core.sanitize import load_edition

    ed = Edition(
        id="2026-02-14",
        date=dt.date(2026, 2, 14),
        title="AI 브리핑",
        newsletter=Newsletter(title="AI 브리핑", language="ko", timezone="Asia/Seoul"),
        generated_at=dt.datetime(2026, 2, 14, 6, tzinfo=dt.UTC),
        sections=[
            Section(
                id="s",
                title="📄 논문",
                items=[
                    Item(
                        url="https://arxiv.org/abs/2602.12205",
                        title="DeepGen 1.0",
                        kind="paper",
                        published=dt.datetime(2026, 2, 13, 9, tzinfo=dt.UTC),
                        authors=["김", "Lee"],
                        metrics={"stars": 13000},
                        extra={"arxiv_id": "2602.12205"},
                    )
                ],
            )
        ],
    )
    ed = sanitize_edition(ed)
    path = tmp_path / "edition.json"
    ed.save(path)
    assert "AI 브리핑" in path.read_text("utf-8")  # readable Korean, not \\u escapes
    again = load_edition(path)
    assert again == ed
    # A tampered file is cleaned on the way in.
    path.write_text(
        path.read_text("utf-8").replace("DeepGen 1.0", "<script>x</script>DeepGen"), "utf-8"
    )
    assert load_edition(path).items[0].title == "DeepGen"


def test_templates_escape_raw_strings_even_with_safe() -> None:
    env = jinja2.Environment(autoescape=True)
    env.filters["html"] = env.filters["safe"] = html_filter
    tpl = env.from_string("{{ raw|safe }}|{{ raw|html }}|{{ clean|html }}|{{ raw }}")
    out = tpl.render(raw="<script>x</script>", clean=clean_html("<b>ok</b>"))
    assert out.count("&lt;script&gt;") == 3
    assert "<b>ok</b>" in out


def test_merged_sources_fields_and_the_subject_are_cleaned_too() -> None:
    from newsroom.core.model import ItemSource

    item = Item(
        url="https://arxiv.org/abs/2602.12205",
        title="DeepGen",
        original_title="<b>DeepGen</b> 1.0",
        section="<i>papers</i>",
        sources=[
            ItemSource(
                source="papers",
                url="https://arxiv.org/abs/2602.12205",
                kind="paper",
                publisher="arXiv<script>x</script>",
                title="<em>DeepGen</em>",
                metrics={"upvotes": 12},
                links={"pdf": "/pdf/2602.12205", "bad": "javascript:alert(1)"},
            ),
            ItemSource(source="evil", url="javascript:alert(1)", kind="article"),
        ],
        fields={"요약": HOSTILE, "<b>시사점</b>": "<p>쓸모 <script>x</script>있다</p>", "빈": ""},
    )
    ed = Edition(
        id="e",
        date=dt.date(2026, 2, 14),
        title="t",
        subject="<b>AI 브리핑</b>\r\nBcc: all@example.com",
        newsletter=Newsletter(title="n"),
        generated_at=dt.datetime.now(dt.UTC),
        sections=[Section(id="s", title="S", items=[item])],
    )
    clean = sanitize_edition(ed)
    (got,) = clean.sections[0].items
    (source,) = got.sources  # the one without a safe link is dropped
    assert source.publisher == "arXiv" and source.title == "DeepGen"
    assert source.links == {"pdf": "https://arxiv.org/pdf/2602.12205"}
    assert got.original_title == "DeepGen 1.0" and got.section == "papers"
    assert list(got.fields) == ["요약", "시사점"]  # an empty field is left out
    assert all(isinstance(v, SafeHTML) and "<script" not in v for v in got.fields.values())
    assert clean.subject == "AI 브리핑 Bcc: all@example.com"  # one line, no markup
    again = Edition.from_json(clean.to_json())
    assert again.sections[0].items[0].sources == got.sources


def test_links_lose_tracking_parameters_and_source_extras_their_markup() -> None:
    from newsroom.core.model import ItemSource

    item = Item(
        url="https://example.org/story?id=7&utm_source=rss&fbclid=IwAR0",
        title="Story",
        summary='<p>See <a href="https://example.org/paper?utm_medium=feed#fig2">the paper</a>'
        ' and <a href="https://github.com/acme/kit/tree/x?ref=main">the branch</a>.</p>',
        links={"website": "https://www.producthunt.com/r/p/1076021?app_id=339"},
        sources=[
            ItemSource(
                source="trending",
                url="https://github.com/acme/kit?utm_campaign=x",
                kind="repository",
                extra={"since": "daily", "note": "<b>bold</b>"},
            )
        ],
    )
    ed = Edition(
        id="e",
        date=dt.date(2026, 2, 14),
        title="t",
        newsletter=Newsletter(title="n"),
        generated_at=dt.datetime.now(dt.UTC),
        sections=[Section(id="s", title="S", items=[item])],
    )
    (got,) = sanitize_edition(ed).sections[0].items
    assert got.url == "https://example.org/story?id=7"
    assert got.links == {"website": "https://www.producthunt.com/r/p/1076021"}
    assert 'href="https://example.org/paper#fig2"' in got.summary
    # "ref" can choose what a page shows (a branch on GitHub): it stays.
    assert 'href="https://github.com/acme/kit/tree/x?ref=main"' in got.summary
    (source,) = got.sources
    assert source.url == "https://github.com/acme/kit"
    assert source.extra == {"since": "daily", "note": "bold"}
    # The item keeps the id of the link it came with.
    assert got.id == item.id
