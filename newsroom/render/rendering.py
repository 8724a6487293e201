"""Rendering an edition with the configured renderers and theme."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import jinja2

from newsroom.config import Config
from newsroom.config.outputs import edition_dir
from newsroom.core.components import RenderContext, Renderer
from newsroom.core.errors import BuildError, NewsroomError
from newsroom.core.model import Edition
from newsroom.core.plugins import Plugins
from newsroom.core.urls import edition_url
from newsroom.render.email_blocks import mjml_left_in
from newsroom.render.themes import Theme, load_theme

#: Per-subscriber values are left as placeholders when the email is rendered once per
#: edition, and substituted for each subscriber when it is sent. Each render draws a new
#: random key that every placeholder carries (``%%unsubscribe_url.<key>%%``) and records it
#: in ``email.json``; the sender fills in only placeholders with that key. Feed text and
#: model answers are written before the key exists, so they cannot spell one: an item whose
#: link is ``%%unsubscribe_url%%`` stays that literal text for every reader.
PLACEHOLDER_NAMES = ("subscriber_name", "subscriber_email", "unsubscribe_url", "preferences_url")


def placeholder(name: str, key: str) -> str:
    """The placeholder for ``name`` (one of :data:`PLACEHOLDER_NAMES`, or
    ``subscriber_attr:<column>``) in a render whose key is ``key``."""
    return f"%%{name}.{key}%%"


def placeholders(key: str) -> dict[str, str]:
    """Every fixed placeholder of a render, by name."""
    return {name: placeholder(name, key) for name in PLACEHOLDER_NAMES}


class Placeholders(dict[str, str]):
    """``subscriber`` in templates: ``subscriber.name``, ``subscriber.email``, and
    ``subscriber.attributes.company`` (any CSV column), each a placeholder the sender fills
    in for every recipient. Empty outside the email (the web edition has no reader)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            name=placeholder("subscriber_name", key) if key else "",
            email=placeholder("subscriber_email", key) if key else "",
        )
        self.attributes = _Attributes(key)

    def __getattr__(self, key: str) -> str:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class _Attributes:
    def __init__(self, key: str) -> None:
        self._key = key

    def __getattr__(self, key: str) -> str:
        return self[key]

    def __getitem__(self, key: str) -> str:
        if not self._key:
            return ""
        name = str(key).strip().lower().replace(" ", "_")
        return placeholder(f"subscriber_attr:{name}", self._key)


#: The formats that are part of the email, whose placeholders the sender fills in.
EMAIL_FORMATS = frozenset({"email", "text"})


def theme_environment(
    theme: Theme, plugins: Plugins, language: str, cache_dir: Path | None = None
) -> jinja2.Environment:
    """The theme's Jinja environment with plugins' ``prepare_jinja2_environment`` applied;
    compiled templates are kept in ``cache_dir``. A plugin that fails in the hook raises
    :class:`~newsroom.PluginError` naming it."""

    def configure(env: jinja2.Environment) -> None:
        # One plugin at a time, so that a failure names its plugin.
        plugins.call_each("prepare_jinja2_environment", env=env, theme=theme)

    return theme.environment(language=language, configure=configure, cache_dir=cache_dir)


def compile_templates(config_path: Path) -> int:
    """Compile the newsletter's theme into its template cache, as its render would; how many
    templates compiled.

    Run in a worker process while a build fetches (``newsroom build``), so that the render
    after it finds the templates compiled: compiling them is most of a first render. The
    environment is the render's own (the newsletter's theme, language and plugins, with their
    ``prepare_jinja2_environment``), and compiled code is keyed by the settings it depends on
    (:mod:`newsroom.render.jinja_cache`), so the render uses only what it would have compiled
    itself. A template that does not compile is left to the render, which reports it.
    """
    from newsroom.config.newsletter import open_newsletter

    newsletter = open_newsletter(config_path)
    config = newsletter.config
    env = theme_environment(
        load_theme(config.newsletter.theme, root=config.root),
        newsletter.plugins,
        config.newsletter.language,
        cache_dir=config.cache_dir / "templates",
    )
    compiled = 0
    for name in env.list_templates(filter_func=lambda name: name.endswith(".j2")):
        try:
            env.get_template(name)
        except Exception:  # noqa: BLE001 - the render reports it
            continue
        compiled += 1
    return compiled


def template_vars(
    edition: Edition,
    fmt: str,
    ctx: RenderContext,
    plugins: Plugins | None = None,
    sender: dict[str, str] | None = None,
    subscriptions: str = "",
    subscribe: str = "",
) -> dict[str, Any]:
    """The variables every theme template gets (documented in docs/themes.md);
    ``subscriptions`` is the subscription service's address, if there is one, and
    ``subscribe`` where its signup form posts, when ``[subscriptions]`` is configured."""
    base = ctx.base_url
    # Placeholders only where a reader's copy is made from the output: a web page keeps
    # no key (and links to the subscription page instead, when there is one).
    key = ctx.placeholder_key if fmt in EMAIL_FORMATS else ""
    values: dict[str, Any] = {
        "edition": edition,
        "sections": edition.sections,
        "newsletter": edition.newsletter,
        "settings": ctx.theme_settings,
        "language": edition.language,
        "format": fmt,
        "subscriber": Placeholders(key),
        "sender": sender or {"name": "", "address": "", "postal_address": ""},
        "urls": {
            "base": base,
            "edition": edition_url(base, edition.id),
            "archive": f"{base}archive/" if base else "",
            "feed": f"{base}feed.xml" if base else "",
            "unsubscribe": placeholder("unsubscribe_url", key) if key else subscriptions,
            "preferences": placeholder("preferences_url", key) if key else subscriptions,
            "subscribe": subscribe,
        },
    }
    values["item_lang"] = lambda item, original=False: item_language(
        item, edition.language, original=original
    )
    if plugins is not None:
        for extra in plugins.pm.hook.extra_template_vars(edition=edition, format=fmt):
            if extra:
                values.update(extra)
    return values


#: Scripts of the languages whose text shows at a glance that a title is in another one.
_SCRIPTS = {
    "ko": re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "zh": re.compile(r"[\u4e00-\u9fff]"),
}
_LATIN = re.compile(r"[A-Za-z]{2,}")


def item_language(item: Any, language: str, *, original: bool = False) -> str:
    """The language of ``item``'s title (``original``: of its ``original_title``) when it
    differs from the edition's, else "".

    A source that knows it sets ``extra["language"]`` (``"en"``), the language of the title
    it gave; a title a filter wrote in the edition's language (the source's kept as
    ``original_title``) is the edition's. Otherwise, in a Korean, Japanese or Chinese
    edition, a title in Latin letters without a character of the edition's script is taken
    for English (an arXiv paper in a Korean briefing). The themes put it in the title's
    ``lang`` attribute (a summary may be in the edition's language), so that screen readers
    and hyphenation use the right one.
    """
    rewritten = bool(item.original_title) and item.original_title != item.title
    if original and not rewritten:
        return ""
    if rewritten and not original:
        title = str(item.title)
        declared = None  # the source's language is the original title's
    else:
        title = str(item.original_title if original else item.title)
        declared = item.extra.get("language") if isinstance(item.extra, dict) else None
    base = language.split("-")[0].lower()
    if isinstance(declared, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", declared):
        return "" if declared.split("-")[0].lower() == base else declared
    script = _SCRIPTS.get(base)
    if script and not script.search(title) and _LATIN.search(title):
        return "en"
    return ""


def render(
    config: Config,
    plugins: Plugins,
    edition: Edition,
    *,
    theme: Theme | None = None,
    now: dt.datetime | None = None,
    only: Collection[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Run every configured renderer over ``edition``; return the files written.

    ``only`` names the renderers to run (``{"web"}`` to bring the site up to date without
    touching an email that may have gone out); ``options`` overrides renderers' options
    by renderer name (``{"web": {"incremental": False}}``).
    """
    theme = theme or load_theme(config.newsletter.theme, root=config.root)
    settings = theme.resolve_settings(config.theme)
    out = edition_dir(config, edition.id)
    out.mkdir(parents=True, exist_ok=True)
    site = config.output_dir / "site"
    ctx = RenderContext(
        **config.context_args(
            now=now or dt.datetime.now(dt.UTC), state=None, edition_id=edition.id
        ),
        theme=theme,
        output_dir=out,
        site_dir=site,
        base_url=config.newsletter.base_url,
        theme_settings=settings,
        jinja=theme_environment(
            theme,
            plugins,
            edition.language,
            cache_dir=config.cache_dir / "templates",
        ),
    )
    from email.utils import parseaddr

    sender_name, sender_address = parseaddr(config.email.from_)
    sender = {
        "name": sender_name,
        "address": sender_address,
        "postal_address": config.email.postal_address,
    }
    subscriptions = config.subscriptions_url
    # A signup form only where `newsroom serve` is configured to answer it.
    configured = bool(config.subscriptions.model_fields_set) and bool(subscriptions)
    subscribe = f"{subscriptions}subscribe" if configured else ""
    ctx.variables = lambda ed, fmt: template_vars(
        ed, fmt, ctx, plugins, sender, subscriptions, subscribe
    )
    written: list[Path] = []
    for cc in config.renderers:
        if only is not None and cc.plugin not in only:
            continue
        renderer: Renderer = cc.create()  # type: ignore[assignment]
        if options and cc.plugin in options:
            renderer.options = renderer.options.model_copy(update=dict(options[cc.plugin]))
        try:
            files = renderer.render(edition, ctx)
        except NewsroomError as exc:
            raise BuildError(f"renderer {cc.label}: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            where = template_location(exc)
            raise BuildError(
                f"renderer {cc.label}: template error in theme {theme.name!r}"
                f"{f' ({where})' if where else ''}: {exc}"
            ) from exc
        except Exception as exc:
            raise BuildError(f"renderer {cc.label} failed: {type(exc).__name__}: {exc}") from exc
        for path in files:
            if path.suffix == ".html" and path.parent == out:  # the email, not the site
                problem = mjml_left_in(path.read_text("utf-8", "replace"), theme, path)
                if problem:
                    raise BuildError(f"renderer {cc.label}: {problem}")
        written.extend(files)
    return written


def template_location(exc: BaseException) -> str:
    """``file:line`` of the template line that raised ``exc``, or "" when none did.

    A syntax error carries it; an error while rendering (an undefined variable, a filter
    that raised) is found in the traceback, whose frames Jinja maps to template lines.
    """
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{tb.tb_lineno}"  # the innermost template frame wins
        tb = tb.tb_next
    if not where and isinstance(exc, jinja2.TemplateSyntaxError) and exc.name:
        where = f"{exc.name}:{exc.lineno}"
    return where
