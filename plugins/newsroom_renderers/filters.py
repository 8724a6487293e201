"""Jinja filters for the non-HTML formats and for CSS values.

==============  ===========================================================================
``wrap``        ``text|wrap(72, "   ")``: plain text wrapped by display columns (text email)
``rule``        ``title|rule("=")``: an underline as wide as ``title``
``md``          literal Markdown text; HTML fields become Markdown
``md_url``      a URL for ``[label](url)``
``markdown``    a sanitized HTML field as Markdown
``yaml``        a YAML front-matter value (double-quoted string, ``[...]`` list)
``css``         a theme setting placed inside ``<style>`` (cannot close the element)
==============  ===========================================================================
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
from markupsafe import Markup

from .mdtext import escape_markdown, html_to_markdown, markdown_url, yaml_value
from .plaintext import rule, wrap

_CSS_UNSAFE = re.compile(r"[<>{};\\\n\r]")


def css_value(value: Any) -> Markup:
    """A setting (colour, font stack, width) for a CSS declaration; it cannot end the rule
    or the ``<style>`` element, and quotes stay unescaped (entities mean nothing in CSS)."""
    return Markup(_CSS_UNSAFE.sub("", str(value)))


FILTERS = {
    "wrap": wrap,
    "rule": rule,
    "md": escape_markdown,
    "md_url": markdown_url,
    "markdown": html_to_markdown,
    "yaml": yaml_value,
    "css": css_value,
}


def install_filters(env: jinja2.Environment) -> None:
    """Add the filters; ones a plugin or theme already defined are left alone."""
    for name, fn in FILTERS.items():
        env.filters.setdefault(name, fn)
