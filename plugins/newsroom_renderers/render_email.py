"""The ``email`` renderer: ``email.html`` (MJML), ``email.txt`` and ``email.json``.

The email is rendered once per edition. Per-subscriber values stay as placeholders
(``%%unsubscribe_url.<key>%%``) that the sender substitutes, so MJML is compiled exactly once;
``email.json`` records the render's placeholder key, the only one the sender fills in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import css_inline
import jinja2
import mjml

from newsroom import Edition, RenderContext, Renderer
from newsroom import Options as BaseOptions
from newsroom.core.errors import BuildError

from .common import clean_output, environment, template_variables, write_together

HTML_TEMPLATE = "email/edition.mjml.j2"
TEXT_TEMPLATE = "text/edition.txt.j2"

# mjml-python (MRML) does not inline <mj-style inline="inline">: it leaves the rules in a
# <style> block, which Gmail and others may strip. So those blocks are taken out of the MJML
# before compiling and inlined with css-inline afterwards; every other <style> (resets,
# @media, dark mode) stays in the <head> untouched.
_INLINE_STYLE = re.compile(
    r"<mj-style\b[^>]*\binline\s*=\s*[\"']inline[\"'][^>]*>(.*?)</mj-style>", re.S | re.I
)


class EmailRenderer(Renderer):
    """Render the email: HTML from the theme's MJML, a plain-text part, subject and preheader."""

    name = "email"
    description = "email.html (MJML + inlined CSS), email.txt and email.json"

    class Options(BaseOptions):
        inline_css: bool = True
        """Inline the rules of ``<mj-style inline="inline">`` into ``style`` attributes."""

    options: Options

    def render(self, edition: Edition, ctx: RenderContext) -> list[Path]:
        env = environment(ctx)
        html = self.render_html(edition, ctx, env)
        text = render_text(edition, ctx, env)
        variables = template_variables(edition, "email", ctx)
        meta = {
            "subject": variables["subject"],
            "preheader": variables["preheader"],
            "placeholder_key": ctx.placeholder_key,
        }
        # Each file is written in full under a temporary name first, then the three are
        # renamed in a row: a render stopped halfway never leaves a new email.html beside
        # an old email.txt (a send reads the three together).
        return write_together(
            {
                ctx.output_dir / "email.html": html,
                ctx.output_dir / "email.txt": text,
                ctx.output_dir / "email.json": json.dumps(meta, ensure_ascii=False, indent=2)
                + "\n",
            }
        )

    def render_html(self, edition: Edition, ctx: RenderContext, env: jinja2.Environment) -> str:
        source = env.get_template(HTML_TEMPLATE).render(template_variables(edition, "email", ctx))
        return compile_mjml(clean_output(source), inline=self.options.inline_css)


def compile_mjml(source: str, *, inline: bool = True) -> str:
    """Compile MJML to HTML once, then inline the ``inline="inline"`` styles."""
    css = "\n".join(m.group(1) for m in _INLINE_STYLE.finditer(source))
    if inline:
        source = _INLINE_STYLE.sub("", source)
    try:
        html = mjml.mjml2html(source)
    except Exception as exc:  # mjml-python raises plain exceptions with MRML's message
        raise BuildError(f"the theme's MJML does not compile: {exc}") from exc
    if not (inline and css.strip()):
        return str(html)
    try:
        return str(
            css_inline.inline(
                html,
                inline_style_tags=False,  # leave the head's <style> blocks (and @media) alone
                keep_style_tags=True,
                load_remote_stylesheets=False,  # never fetch anything while rendering
                extra_css=css,
            )
        )
    except Exception as exc:  # css_inline.InlineError, or a CSS syntax error
        raise BuildError(f"the theme's inline CSS cannot be applied: {exc}") from exc


def render_text(edition: Edition, ctx: RenderContext, env: jinja2.Environment) -> str:
    """The plain-text alternative (``text/edition.txt.j2``), rendered without HTML escaping."""
    # Text is not HTML: autoescape would turn "&" in URLs into "&amp;". A separate cache keeps
    # templates compiled with autoescape out of this environment and the other way round.
    text_env = env.overlay(autoescape=False, cache_size=100)
    text = text_env.get_template(TEXT_TEMPLATE).render(template_variables(edition, "text", ctx))
    # Templates may leave runs of blank lines around optional parts; one blank line is enough.
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
