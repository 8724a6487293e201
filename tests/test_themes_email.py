"""Every first-party theme's email renders everywhere: no client feature beyond what MJML's
own baseline uses (caniemail's data through doiuse-email), under Gmail's clipping size as
sent, with alt text, link text, dark mode, a hidden preheader, and a SpamAssassin score
under 1.0 for a real edition."""

from __future__ import annotations

import email
import email.policy
import json
import os
import pwd
import re
import subprocess
from email.message import EmailMessage
from pathlib import Path

import mjml
import pytest
from conftest import EDITION, ROOT, require, require_tool
from lxml import html as lxml_html
from test_render import korean_edition
from test_themes import FIRST_PARTY, long_korean_edition, render_theme, seed_edition, seed_path
from test_themes import plugins as plugins  # noqa: F401 (the module's fixture)

from newsroom.config.newsletter import open_newsletter
from newsroom.core.plugins import Plugins
from newsroom.deliver.delivery import edition_message
from newsroom.deliver.messages import Recipient
from newsroom.render.rendering import render

NODE_DIR = ROOT / "tests" / "node"
#: Gmail clips messages whose HTML is larger than this ("102 KB"), hiding the rest.
GMAIL_CLIP = 102 * 1000
#: What a theme may use beyond MJML's baseline.
#: Attribute selectors: `a[x-apple-data-detectors]` only, a rule in <head> for Apple Mail's
#: own links, ignored where unsupported.
ALLOWED = {"`@media (prefers-color-scheme)`", "`Attribute selector`"}
BASELINE_MJML = """<mjml>
  <mj-head><mj-title>Baseline</mj-title><mj-preview>Preview text</mj-preview></mj-head>
  <mj-body>
    <mj-section><mj-column>
      <mj-text>Hello</mj-text>
      <mj-button href="https://example.org/">Open</mj-button>
    </mj-column></mj-section>
  </mj-body>
</mjml>"""
SENDER = (
    '[email]\nfrom = "AI 브리핑 <briefing@example.org>"\n'
    'postal_address = "AI 브리핑 편집부, 서울특별시 종로구 예시로 1"\n'
)


def client_support(files: list[Path]) -> dict[str, dict[str, set[tuple[str, str]]]]:
    """doiuse-email's unsupported ("errors") and partly supported ("warnings") features of
    each file, as (feature, client) pairs."""
    node = require_tool("node")
    require(
        (NODE_DIR / "node_modules" / "doiuse-email").is_dir(),
        "npm packages in tests/node",
        "cd tests/node && npm ci --ignore-scripts",
    )
    out = subprocess.run(
        [node, str(NODE_DIR / "email-support.cjs"), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        cwd=NODE_DIR,
    )
    data = json.loads(out.stdout)
    return {
        name: {kind: {tuple(pair) for pair in report[kind]} for kind in ("errors", "warnings")}
        for name, report in data.items()
    }


def beyond_baseline(html: Path, baseline: Path) -> dict[str, list[tuple[str, str]]]:
    report = client_support([baseline, html])
    base, theme = report[str(baseline)], report[str(html)]
    return {
        kind: sorted(p for p in theme[kind] - base[kind] if p[0] not in ALLOWED)
        for kind in ("errors", "warnings")
    }


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("baseline") / "baseline.html"
    path.write_text(str(mjml.mjml2html(BASELINE_MJML)), "utf-8")
    return path


@pytest.fixture(scope="module", params=FIRST_PARTY)
def emails(
    request: pytest.FixtureRequest, plugins: Plugins, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Path]:
    """A theme's email for the sample edition (with a hostile item and a logo) and for a
    30-item Korean edition."""
    theme = request.param
    extra = SENDER + '[theme]\nlogo_url = "https://example.org/logo.png"\n'
    root = tmp_path_factory.mktemp(f"email-{theme}")
    _, sample = render_theme(root / "sample", plugins, theme, korean_edition(), extra=extra)
    _, full = render_theme(root / "full", plugins, theme, long_korean_edition(30), extra=extra)
    return theme, sample["email.html"], full["email.html"]


def test_the_email_uses_nothing_beyond_what_mjmls_baseline_uses(
    emails: tuple[str, Path, Path], baseline: Path
) -> None:
    theme, sample, full = emails
    for html in (sample, full):
        extra = beyond_baseline(html, baseline)
        assert extra == {"errors": [], "warnings": []}, f"{theme}: {extra}"


def test_the_check_finds_features_beyond_the_baseline(baseline: Path, tmp_path: Path) -> None:
    mjml_source = BASELINE_MJML.replace(
        "<mj-text>Hello</mj-text>",
        '<mj-text><p style="letter-spacing:2px;position:relative">Hello</p></mj-text>',
    )
    html = tmp_path / "fancy.html"
    html.write_text(str(mjml.mjml2html(mjml_source)), "utf-8")
    extra = beyond_baseline(html, baseline)
    features = {feature for feature, _ in extra["errors"] + extra["warnings"]}
    assert {"`letter-spacing`", "`position`"} <= features
    assert client_support([baseline])[str(baseline)]["errors"]  # MJML's own: progressive


def _html_part(data: bytes) -> bytes:
    """The text/html part of a message, as encoded on the wire."""
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    boundary = parsed.get_boundary()
    assert boundary
    for part in data.split(b"--" + boundary.encode("ascii")):
        head, _, body = part.partition(b"\r\n\r\n")
        if b"text/html" in head:
            return body
    raise AssertionError("no text/html part")


def _message(config_path: Path) -> bytes:
    config = open_newsletter(config_path).config
    recipient = Recipient("jiwoo.kim@example.com", "김지우", "uid-jiwoo", {"company": "뉴스룸"})
    return edition_message(config, EDITION).build(recipient).data


def _use_theme(config_path: Path, theme: str, edition: object | None = None) -> None:
    """Switch the built example to ``theme`` and render its edition again."""
    text = config_path.read_text("utf-8")
    config_path.write_text(re.sub(r'(?m)^theme = ".*"', f'theme = "{theme}"', text), "utf-8")
    newsletter = open_newsletter(config_path)
    from newsroom.core.sanitize import load_edition

    ed = edition or load_edition(
        newsletter.config.output_dir / "editions" / EDITION / "edition.json"
    )
    if edition is not None:
        path = newsletter.config.output_dir / "editions" / EDITION / "edition.json"
        path.write_text(edition.to_json(), "utf-8")  # type: ignore[attr-defined]
    render(newsletter.config, newsletter.plugins, ed)  # type: ignore[arg-type]


@pytest.mark.parametrize("theme", FIRST_PARTY)
def test_a_30_item_korean_edition_stays_under_gmails_clipping_size(
    newsletter: Path, theme: str
) -> None:
    edition = long_korean_edition(30).model_copy(update={"id": EDITION})
    _use_theme(newsletter, theme, edition)
    data = _message(newsletter)
    part = _html_part(data)
    assert b"Content-Transfer-Encoding: 8bit" in data  # the size as sent is the raw size
    assert len(part) < GMAIL_CLIP, f"{theme}: {len(part):,} bytes"
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None
    # Long lines are folded for SMTP at spaces, so compare words, not whitespace.
    shown = " ".join(lxml_html.document_fromstring(str(html.get_content())).text_content().split())
    missing = [item.title for item in edition.items if item.title not in shown]
    assert not missing, missing


@pytest.mark.parametrize("theme", FIRST_PARTY)
def test_a_sample_newsletter_renders_whole_and_under_the_clipping_size(
    plugins: Plugins, tmp_path: Path, theme: str
) -> None:
    edition = seed_edition(seed_path())
    assert len(edition.items) >= 25
    _, files = render_theme(tmp_path, plugins, theme, edition, extra=SENDER)
    html = files["email.html"].read_bytes()
    assert len(html) < GMAIL_CLIP, f"{theme}: {len(html):,} bytes"
    doc = lxml_html.document_fromstring(html.decode("utf-8"))
    text = " ".join(doc.text_content().split())
    for section in edition.sections:
        assert section.title in text
    assert "DeepGen 1.0: 경량 5B 통합 멀티모달 모델" in text and "arXiv (2602.12205)" in text
    assert "오늘의 핵심 트렌드 3가지" in text  # the insight box


def test_images_have_alt_text_and_links_have_text(emails: tuple[str, Path, Path]) -> None:
    theme, sample, full = emails
    for path in (sample, full):
        doc = lxml_html.document_fromstring(path.read_text("utf-8"))
        images = list(doc.iter("img"))
        assert images, "the logo should be there"
        for img in images:
            assert (img.get("alt") or "").strip(), f"{theme}: {lxml_html.tostring(img)!r}"
        for a in doc.iter("a"):
            label = a.text_content().strip() or " ".join(i.get("alt", "") for i in a.iter("img"))
            assert label.strip(), f"{theme}: a link without text: {a.get('href')}"


def test_the_preheader_is_hidden_without_tiny_white_text(emails: tuple[str, Path, Path]) -> None:
    theme, sample, _ = emails
    text = sample.read_text("utf-8")
    meta = json.loads((sample.parent / "email.json").read_text("utf-8"))
    doc = lxml_html.document_fromstring(text)
    (pre,) = doc.find_class("nr-preheader")
    style = (pre.get("style") or "").replace(" ", "").lower()
    assert "display:none" in style and "opacity:0" in style
    assert "font-size:1px" not in style and "color:#fff" not in style
    assert pre.text_content().strip().startswith(meta["preheader"])
    body = " ".join(doc.body.text_content().split())
    assert body.startswith(meta["preheader"])  # the first words an inbox sees
    assert "mj-preview" not in text and "font-size:1px;color:#ffffff" not in text.replace(" ", "")


def test_layout_css_is_inlined_and_dark_mode_stays_in_the_head(
    emails: tuple[str, Path, Path],
) -> None:
    theme, sample, _ = emails
    doc = lxml_html.document_fromstring(sample.read_text("utf-8"))
    title = doc.find(".//h1")
    assert title is not None and "font-size" in (title.get("style") or "")
    for heading in doc.iter("h2", "h3"):
        assert "margin" in (heading.get("style") or ""), lxml_html.tostring(heading)
    styles = [s.text or "" for s in doc.iter("style")]
    assert any("@media (prefers-color-scheme: dark)" in s for s in styles)
    # The inlined rules are not left in <style> as well (that would only add weight).
    assert not any(re.search(r"^\s*\.(nr|bf)-item-title\s*\{", s, re.M) for s in styles)
    metas = {m.get("name"): m.get("content") for m in doc.iter("meta") if m.get("name")}
    assert metas.get("color-scheme") == "light dark"
    assert set(metas) == {
        "viewport",
        "color-scheme",
        "supported-color-schemes",
        "format-detection",
        "x-apple-disable-message-reformatting",
    }, metas
    assert "date=no" in metas["format-detection"] and "telephone=no" in metas["format-detection"]


def test_header_and_footer_name_the_newsletter_the_date_and_the_unsubscribe_link(
    emails: tuple[str, Path, Path],
) -> None:
    theme, sample, _ = emails
    doc = lxml_html.document_fromstring(sample.read_text("utf-8"))
    for hidden in doc.find_class("nr-preheader"):
        hidden.drop_tree()
    text = " ".join(doc.body.text_content().split())
    head = text[: text.index("이번 호에서는")]  # before the intro
    assert "AI 브리핑" in head and "2026년 2월 14일 토요일" in head
    # Placeholders carry the render's key: %%unsubscribe_url.<key>%%.
    links = {
        re.sub(r"\.[0-9a-f]{32}%%$", "%%", a.get("href") or ""): a.text_content().strip()
        for a in doc.iter("a")
    }
    assert links["%%unsubscribe_url%%"] == "수신 거부"
    assert links["%%preferences_url%%"] == "구독 설정"
    assert links["https://example.org/briefing/editions/2026-02-14/"] == "웹에서 보기"
    footer = text[text.rindex("수신 거부") - 200 :]
    assert "AI 브리핑 편집부, 서울특별시 종로구 예시로 1" in footer
    plain = (sample.parent / "email.txt").read_text("utf-8")
    assert "수신 거부: %%unsubscribe_url." in plain and "서울특별시 종로구" in plain


# -- SpamAssassin -------------------------------------------------------------------------


def spam_report(message: bytes) -> tuple[float, list[str]]:
    """SpamAssassin's score and rules for ``message``, local tests only (no network)."""
    command = [
        require_tool("spamassassin"),
        "-L",
        "-t",
        "-x",
        "-p",
        os.devnull,
        "--cf=use_bayes 0",
        "--cf=bayes_auto_learn 0",
    ]
    env = dict(os.environ)
    if os.geteuid() == 0:
        # As root it would make a .spamassassin folder in root's home: run as its own user.
        try:
            home = pwd.getpwnam("debian-spamd").pw_dir
            command = [require_tool("runuser"), "-u", "debian-spamd", "--", *command]
            env["HOME"] = home
        except KeyError:
            pass
    done = subprocess.run(command, input=message, capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    scored = email.message_from_bytes(done.stdout, policy=email.policy.default)
    status = " ".join(str(scored["X-Spam-Status"]).split())
    found = re.search(r"score=(-?[\d.]+) .*tests=(\S*)", status)
    assert found, status
    return float(found.group(1)), [r for r in found.group(2).split(",") if r]


@pytest.mark.parametrize("theme", FIRST_PARTY)
def test_a_real_edition_scores_under_one_in_spamassassin(newsletter: Path, theme: str) -> None:
    require_tool("spamassassin")
    _use_theme(newsletter, theme)
    data = _message(newsletter)
    score, rules = spam_report(data)
    assert score < 1.0, (theme, score, rules)
    assert "HTML_FONT_LOW_CONTRAST" not in rules
    assert "HTML_MESSAGE" in rules  # it did look at the HTML part


@pytest.mark.parametrize("theme", FIRST_PARTY)
def test_korean_arrives_intact_in_the_subject_and_the_body(newsletter: Path, theme: str) -> None:
    _use_theme(newsletter, theme)
    parsed = email.message_from_bytes(_message(newsletter), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "AI 브리핑 · Skills as Programs 외 27건"
    html = parsed.get_body(preferencelist=("html",))
    text = parsed.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    for body in (str(html.get_content()), str(text.get_content())):
        assert "논문 동향" in body and "수신 거부" in body
        assert "%%" not in body
        assert not re.search("[ÃÂìëê][\u0080-\u00ff]", body)  # UTF-8 read as Latin-1
