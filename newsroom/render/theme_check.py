"""``newsroom theme check``: what can be checked of a theme with newsroom alone.

The email is rendered from a built edition into a scratch folder (the edition's own files
are left as they are) and checked: it compiles, no MJML is left in its HTML, and its size
stays under Gmail's clipping. The theme's settings are checked for contrast (WCAG 2.x) in
light and dark mode, and its templates for strings without a translation in the
newsletter's language. Browser checks (screenshots, axe, doiuse) need a checkout's tools.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from newsroom.config import Config
from newsroom.core.errors import NewsroomError
from newsroom.core.findings import Finding, Level
from newsroom.core.model import Edition
from newsroom.core.plugins import Plugins
from newsroom.render.environment import catalog_path
from newsroom.render.themes import Theme, load_theme

#: Gmail shows "[Message clipped]" and hides the rest, the footer with the unsubscribe
#: link included, when a message's HTML is larger than this ("102 KB").
GMAIL_CLIP = 102 * 1000
#: Above this, a few more items or a longer summary would reach the clipping.
GMAIL_MARGIN = 90 * 1000

#: (foreground, background, what it is, the ratio it needs): WCAG 2.x asks 4.5:1 of body
#: text; the section titles and the masthead are large text (3:1).
CONTRAST_PAIRS = [
    ("text_color", "card_color", "body text on a card", 4.5),
    ("muted_color", "card_color", "dates and source lines on a card", 4.5),
    ("accent_color", "card_color", "links on a card", 4.5),
    ("text_color", "insight_color", "text in the insight box", 4.5),
]


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float | None:
    """The relative luminance of ``#rgb`` or ``#rrggbb``; None for anything else."""
    value = color.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6:
        return None
    try:
        r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return None
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float | None:
    la, lb = luminance(a), luminance(b)
    if la is None or lb is None:
        return None
    high, low = max(la, lb), min(la, lb)
    return (high + 0.05) / (low + 0.05)


def contrast_findings(settings: dict[str, Any]) -> list[Finding]:
    found = []
    for prefix, mode in (("", "light"), ("dark_", "dark")):
        for fg, bg, what, needed in CONTRAST_PAIRS:
            a, b = settings.get(prefix + fg), settings.get(prefix + bg)
            if not isinstance(a, str) or not isinstance(b, str):
                continue
            ratio = contrast(a, b)
            if ratio is None or ratio >= needed:
                continue
            found.append(
                Finding(
                    "contrast",
                    Level.WARNING,
                    f"{what} in {mode} mode: {prefix}{fg} {a} on {prefix}{bg} {b} is "
                    f"{ratio:.2f}:1, under the {needed}:1 readers need",
                    f"darken or lighten {prefix}{fg} in [theme]",
                )
            )
    if not found:
        found.append(
            Finding(
                "contrast",
                Level.OK,
                "text, dates and links stand out from their background in light and dark mode",
            )
        )
    return found


def _template_messages(theme: Theme) -> set[str]:
    from babel.messages.extract import extract_from_dir

    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    found: set[str] = set()
    for t in theme.chain:
        templates = t.path / "templates"
        if not templates.is_dir():
            continue
        for _, _, message, _, _ in extract_from_dir(
            str(templates), method_map=[("**.j2", "jinja2")], options_map={"**.j2": options}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def translation_findings(theme: Theme, language: str) -> list[Finding]:
    """Strings of the theme's templates that no catalog of its chain translates."""
    from babel.messages.pofile import read_po

    code = language.replace("-", "_").split("_")[0]
    if code == "en":
        return []  # the templates are written in English
    translated: set[str] = set()
    for t in theme.chain:
        path = catalog_path(t.path, code)
        if path.is_file():
            with path.open("rb") as fh:
                translated |= {
                    m.id if isinstance(m.id, str) else m.id[0]
                    for m in read_po(fh)
                    if m.id and m.string and not m.fuzzy
                }
    missing = sorted(_template_messages(theme) - translated)
    if not missing:
        return [Finding("translations", Level.OK, f"every template string has {code}")]
    shown = ", ".join(repr(m) for m in missing[:8]) + (" ..." if len(missing) > 8 else "")
    return [
        Finding(
            "translations",
            Level.WARNING,
            f"{len(missing)} template strings have no {code} translation: {shown}",
            f"add them to locale/{code}/LC_MESSAGES/messages.po of theme {theme.name!r}",
        )
    ]


def email_findings(
    config: Config, plugins: Plugins, theme: Theme, edition: Edition
) -> list[Finding]:
    """Render ``edition``'s email with ``theme`` into a scratch folder and check it."""
    from newsroom.render.rendering import render

    with tempfile.TemporaryDirectory(prefix="newsroom-theme-check-") as scratch:
        newsletter = config.newsletter.model_copy(update={"output": scratch})
        scratch_config = dataclasses.replace(config, newsletter=newsletter)
        try:
            render(scratch_config, plugins, edition, theme=theme, only={"email"})
        except NewsroomError as exc:
            return [Finding("email", Level.PROBLEM, exc.message)]
        html = Path(scratch, "editions", edition.id, "email.html")
        if not html.is_file():
            return [
                Finding(
                    "email",
                    Level.PROBLEM,
                    "no email was rendered",
                    'add [[renderers]] plugin = "email" to newsroom.toml',
                )
            ]
        size = len(html.read_bytes())
    found = [Finding("email", Level.OK, f"edition {edition.id} compiles to HTML email")]
    kb = f"{size / 1000:,.1f} KB"
    if size >= GMAIL_CLIP:
        found.append(
            Finding(
                "size",
                Level.PROBLEM,
                f"the email's HTML is {kb}: Gmail clips it at 102 KB, hiding the footer "
                "and its unsubscribe link",
                "fewer items per edition, shorter summaries, or less markup per item",
            )
        )
    elif size >= GMAIL_MARGIN:
        found.append(
            Finding("size", Level.WARNING, f"the email's HTML is {kb}, near Gmail's 102 KB")
        )
    else:
        found.append(Finding("size", Level.OK, f"the email's HTML is {kb} (Gmail clips at 102 KB)"))
    return found


def theme_findings(
    config: Config, plugins: Plugins, edition: Edition | None, theme_name: str | None = None
) -> list[Finding]:
    """Every check of the newsletter's theme (or ``theme_name``) that needs no browser."""
    try:
        theme = load_theme(theme_name or config.newsletter.theme, root=config.root)
        settings = theme.resolve_settings(config.theme)
    except NewsroomError as exc:
        return [Finding("theme", Level.PROBLEM, exc.message)]
    found = [
        Finding("theme", Level.OK, f"{theme.name} ({' → '.join(t.name for t in theme.chain)})")
    ]
    if edition is None:
        found.append(
            Finding(
                "email",
                Level.NOTE,
                "no edition is built, so the email was not checked",
                "run newsroom build (or build --mirror sample-data), then check again",
            )
        )
    else:
        found += email_findings(config, plugins, theme, edition)
    found += contrast_findings(settings)
    found += translation_findings(theme, config.newsletter.language)
    return found
