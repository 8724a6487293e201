"""What a theme author meets: the docs' block example, MJML written where the email takes
HTML, and template errors that say which file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_render import korean_edition
from test_themes import plugins, render_theme, write_theme  # noqa: F401 (fixture)

from newsroom import BuildError
from newsroom.core.plugins import Plugins

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "themes.md"


def docs_block_example() -> str:
    section = DOCS.read_text("utf-8").split("### Overriding one block", 1)[1]
    found = re.search(r"```jinja\n(.*?)```", section, re.S)
    assert found
    return found.group(1)


def starred_edition() -> object:
    edition = korean_edition(hostile=False)
    edition.sections[0].items[0].metrics["stars"] = 1234
    return edition


def test_the_docs_block_example_adds_its_line_to_the_email(
    plugins: Plugins,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Before, the example wrote <mj-text> in `item`: raw MJML tags reached email.html."""
    write_theme(tmp_path / "mine", {"templates/email/edition.mjml.j2": docs_block_example()})
    _, files = render_theme(tmp_path / "n", plugins, "../mine", starred_edition())  # type: ignore[arg-type]
    email = files["email.html"].read_text("utf-8")
    assert "★ 1,234 stars" in email
    assert "<mj-" not in email


@pytest.mark.parametrize(
    ("files", "named"),
    [
        (
            {
                "templates/email/edition.mjml.j2": '{% extends "parent:email/edition.mjml.j2" %}'
                "\n{% block item %}{{ super() }}<mj-text>★</mj-text>{% endblock %}"
            },
            "the block 'item' of theme 'mine' (templates/email/edition.mjml.j2) renders "
            "inside <mj-text>",
        ),
        (
            {"templates/email/_section_title.mjml.j2": "<mj-text>{{ section.title }}</mj-text>"},
            "the partial of theme 'mine' (templates/email/_section_title.mjml.j2) renders "
            "inside <mj-text>",
        ),
    ],
)
def test_mjml_where_the_email_takes_html_fails_the_render_naming_the_block(
    plugins: Plugins,  # noqa: F811
    tmp_path: Path,
    files: dict[str, str],
    named: str,
) -> None:
    write_theme(tmp_path / "mine", files)
    with pytest.raises(BuildError) as failed:
        render_theme(tmp_path / "n", plugins, "../mine", korean_edition(hostile=False))
    assert "email.html: MJML tag <mj-text> left in the HTML" in str(failed.value)
    assert named in str(failed.value)


def test_mjml_in_an_mjml_block_renders(plugins: Plugins, tmp_path: Path) -> None:  # noqa: F811
    write_theme(
        tmp_path / "mine",
        {
            "templates/email/edition.mjml.j2": '{% extends "parent:email/edition.mjml.j2" %}\n'
            "{% block footer %}{{ super() }}<mj-section><mj-column><mj-text>끝인사</mj-text>"
            "</mj-column></mj-section>{% endblock %}"
        },
    )
    _, files = render_theme(tmp_path / "n", plugins, "../mine", korean_edition(hostile=False))
    email = files["email.html"].read_text("utf-8")
    assert "끝인사" in email and "<mj-" not in email


def test_a_template_error_names_the_file_and_the_line(
    plugins: Plugins,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Before: "'nosuchvar' is undefined" with no file at all."""
    theme = write_theme(
        tmp_path / "mine",
        {
            "templates/email/edition.mjml.j2": '{% extends "parent:email/edition.mjml.j2" %}\n'
            "{% block footer %}\n{{ super() }}\n<mj-text>{{ nosuchvar.x }}</mj-text>\n"
            "{% endblock %}\n"
        },
    )
    with pytest.raises(BuildError) as failed:
        render_theme(tmp_path / "n", plugins, "../mine", korean_edition(hostile=False))
    where = f"{theme / 'templates' / 'email' / 'edition.mjml.j2'}:4"
    assert f"theme 'mine' ({where}): 'nosuchvar' is undefined" in str(failed.value)


def test_theme_new_names_a_folder_for_pip_and_its_readme_command_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: `pip install harbor` (a package index's name), and the README of a theme
    folder told to run `theme new NAME --package`, which refused the existing folder."""
    import shlex

    from click.testing import CliRunner

    from newsroom.cli import cli

    monkeypatch.chdir(tmp_path)
    made = CliRunner().invoke(cli, ["theme", "new", "harbor", "--package"])
    assert made.exit_code == 0, made.output
    assert "pip install ./harbor`" in made.output

    assert CliRunner().invoke(cli, ["theme", "new", "look"]).exit_code == 0
    readme = (tmp_path / "look" / "README.md").read_text("utf-8")
    (line,) = [s.strip() for s in readme.splitlines() if s.strip().startswith("newsroom theme")]
    packaged = CliRunner().invoke(cli, shlex.split(line)[1:])
    assert packaged.exit_code == 0, packaged.output
    assert "pip install ./newsroom-theme-look`" in packaged.output
    assert (tmp_path / "newsroom-theme-look" / "newsroom_look" / "theme.toml").is_file()


def test_theme_check_runs_with_newsroom_alone_and_names_what_to_fix(newsletter: Path) -> None:
    """`newsroom theme check`: before, these checks existed only as the checkout's tests."""
    import json

    from conftest import newsroom_cli

    email = next((newsletter.parent / "build" / "editions").glob("*/email.html"))
    before = email.read_bytes()
    fine = newsroom_cli(newsletter, "theme", "check", "--json")
    assert fine.returncode == 0, fine.stdout + fine.stderr
    levels = {f["check"]: f["level"] for f in json.loads(fine.stdout)["findings"]}
    assert levels == {
        "theme": "ok",
        "email": "ok",
        "size": "ok",
        "contrast": "ok",
        "translations": "ok",
    }

    write_theme(
        newsletter.parent / "pale",
        {
            "theme.toml": 'name = "pale"\nextends = "default"\n[settings]\n'
            'muted_color = "#cccccc"\n',
            "templates/email/edition.mjml.j2": '{% extends "parent:email/edition.mjml.j2" %}\n'
            "{% block section_title %}{{ super() }}<p>{{ _('Fresh words') }}</p>"
            "<p>{{ '가' * 12000 }}</p>{% endblock %}\n",
        },
    )
    found = newsroom_cli(newsletter, "theme", "check", "./pale", "--json")
    report = json.loads(found.stdout)
    assert found.returncode == 12 and report["level"] == "problem", found.stdout
    by_check = {f["check"]: f for f in report["findings"]}
    assert by_check["size"]["level"] == "problem" and "Gmail clips" in by_check["size"]["message"]
    assert "muted_color #cccccc on card_color #ffffff" in by_check["contrast"]["message"]
    assert "'Fresh words'" in by_check["translations"]["message"]

    write_theme(
        newsletter.parent / "pale",
        {
            "templates/email/edition.mjml.j2": '{% extends "parent:email/edition.mjml.j2" %}\n'
            "{% block item %}<mj-text>{{ item.title }}</mj-text>{% endblock %}\n"
        },
    )
    broken = newsroom_cli(newsletter, "theme", "check", "./pale")
    assert broken.returncode == 12
    assert "block 'item'" in " ".join(broken.stdout.split())
    assert email.read_bytes() == before  # the edition's own email is left as it was


def test_the_classes_properties_anchors_and_message_ids_a_child_relies_on_are_documented() -> None:
    from babel.messages.pofile import read_po

    from newsroom.render.themes import available_themes

    default = available_themes()["default"].path
    text = DOCS.read_text("utf-8").split("## What a child theme can rely on", 1)[1]
    text = text.split("\n## ", 1)[0]
    documented = set(re.findall(r"`([^`]+)`", " ".join(text.split())))
    templates = "\n".join(p.read_text("utf-8") for p in (default / "templates").rglob("*.j2"))
    classes = set()
    for value in re.findall(r'(?:css-)?class="([^"{]+)"', templates):
        classes |= {c for c in value.split() if c.startswith("nr-")}
    assert len(classes) > 30
    assert not classes - documented, sorted(classes - documented)
    properties = set(re.findall(r"(--nr-[a-z-]+):", templates))
    assert properties and not properties - documented, sorted(properties - documented)
    anchors = set(re.findall(r'id="([a-z][a-z-]*)"', templates))
    assert anchors and not anchors - documented, sorted(anchors - documented)
    with (default / "locale" / "ko" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert len(ids) > 30
    assert not ids - documented, sorted(ids - documented)


def _email_with(loaded: Plugins, root: Path, theme: str, extra: str = "") -> str:
    edition = korean_edition(hostile=False)
    edition.sections[0].items[0].title = "DeepGen 1.0: a lightweight multimodal model"
    edition.sections[0].items[1].extra["language"] = "ja"
    _, files = render_theme(root, loaded, theme, edition, extra=extra)
    return files["email.html"].read_text("utf-8")


LOGOS = (
    '[theme]\nlogo_url = "https://example.org/logo-dark-ink.png"\n'
    'logo_dark_url = "https://example.org/logo-light-ink.png"\n'
)


def test_a_logo_for_dark_backgrounds_is_shown_where_the_background_is_dark(
    plugins: Plugins,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Before, one logo everywhere: a dark one vanished in dark mode and on briefing's
    navy masthead, in light mode too."""
    from lxml import html as lxml_html

    doc = lxml_html.document_fromstring(_email_with(plugins, tmp_path / "d", "default", LOGOS))
    logos = {img.get("class"): img for img in doc.iter("img")}
    assert logos["nr-logo nr-logo-light"].get("src").endswith("logo-dark-ink.png")
    dark = logos["nr-logo nr-logo-dark"]
    assert dark.get("src").endswith("logo-light-ink.png")
    assert "display: none" in dark.get("style")  # until the dark-mode rules show it
    head = " ".join(s.text or "" for s in doc.iter("style"))
    media = head.split("prefers-color-scheme: dark", 1)[1]
    assert ".nr-logo-light { display: none !important; }" in media
    assert ".nr-logo-dark { display: block !important; }" in media

    briefing = _email_with(plugins, tmp_path / "b", "briefing", LOGOS)
    masthead = lxml_html.document_fromstring(briefing).find_class("bf-masthead")[0]
    assert [i.get("src") for i in masthead.iter("img")] == [
        "https://example.org/logo-light-ink.png"
    ]


@pytest.mark.parametrize("theme", ["default", "briefing"])
def test_titles_in_another_language_say_so_and_the_date_does_not_wrap(
    plugins: Plugins,  # noqa: F811
    tmp_path: Path,
    theme: str,
) -> None:
    from lxml import html as lxml_html

    doc = lxml_html.document_fromstring(_email_with(plugins, tmp_path, theme))
    titles = [h for h in doc.iter("h3")]
    assert titles[0].get("lang") == "en"  # Latin letters in a Korean edition
    assert titles[1].get("lang") == "ja"  # as the source declared
    korean = [h for h in titles[2:] if any("가" <= c <= "힣" for c in h.text_content())]
    assert korean and all(h.get("lang") is None for h in korean)
    date = doc.find_class("nr-date" if theme == "default" else "bf-date")[0].text_content()
    assert "2026년\u00a02월\u00a014일" in date and " 2월" not in date
