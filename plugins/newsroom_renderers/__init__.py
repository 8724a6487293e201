"""newsroom plugin: the ``email``, ``web`` and ``markdown`` renderers.

Each renders the theme's templates (see themes/newsroom_default) for one kind of output:

``email``     ``email.html`` (MJML compiled once, CSS inlined), ``email.txt``, ``email.json``
``web``       the web edition in ``site/``: pages, archive, Atom feed, static files
``markdown``  a Jekyll post in ``_posts/``
"""

from __future__ import annotations

from typing import Any

import jinja2

from newsroom import hookimpl

from .filters import install_filters
from .render_email import EmailRenderer
from .render_markdown import MarkdownRenderer
from .render_web import WebRenderer

__all__ = ["EmailRenderer", "MarkdownRenderer", "WebRenderer"]


@hookimpl
def register_renderers(register: Any) -> None:
    register(EmailRenderer)
    register(WebRenderer)
    register(MarkdownRenderer)


@hookimpl
def prepare_jinja2_environment(env: jinja2.Environment) -> None:
    # Themes rendered by other renderers (or previews) can use the same filters.
    install_filters(env)
