"""Reading and validating ``newsroom.toml``.

Every problem is collected and reported at once, each naming the file, the table, the plugin
and the key::

    newsroom.toml: 2 problems:
      - [[sources]] #2 "papers" (plugin "arxiv"): max_results: Input should be a valid integer
      - [[filters]] #1: unknown plugin "dedup"; installed filters: dedupe, history, keywords, window

Secrets never live in the file: any option value may be ``{ "$env" = "NAME" }`` (an
environment variable) or ``{ "$file" = "path" }`` (a file's contents, relative to the config),
and options declared as secrets refuse literal values.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from newsroom.__about__ import __version__
from newsroom.config.mail import EmailConfig, MailboxConfig, SubscriptionsConfig
from newsroom.core.components import Component, Options
from newsroom.core.errors import ConfigError
from newsroom.core.plugins import Plugins
from newsroom.core.registry import Registration

CONFIG_NAME = "newsroom.toml"


class NewsletterConfig(BaseModel):
    """The ``[newsletter]`` table."""

    model_config = ConfigDict(extra="forbid")

    title: str
    language: str = "en"
    timezone: str = "UTC"
    base_url: str = ""
    """Where the web edition is published (links in emails and feeds point there)."""
    theme: str = "default"
    description: str = ""
    author: str = ""
    edition_title: str = "{title} · {date}"
    """Title of each edition: ``{title}`` and ``{date}`` (long date in the language) are
    filled in."""
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    output: str = "build"
    """Folder (relative to the config) for editions and the web edition."""
    state: str = "state.db"
    """SQLite state file (relative to the config)."""
    cache: str = ".cache"
    """Folder for the HTTP cache (relative to the config)."""

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Asia/Seoul)"
            ) from None
        return value

    @field_validator("language")
    @classmethod
    def _lang(cls, value: str) -> str:
        try:
            Locale.parse(value.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"unknown language {value!r} (use a code like ko or en)") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        if value and not value.endswith("/"):
            value += "/"
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value


USER_AGENT = f"newsroom/{__version__} (+https://github.com/newsroom-dev/newsroom)"
MB = 1024 * 1024


@dataclass
class FetchSettings:
    """Limits for every request. Configurable in ``[http]`` of newsroom.toml."""

    timeout: float = 20.0
    """Seconds to wait for a connection or for the next bytes."""
    total_timeout: float = 30.0
    """Seconds a whole request (with its body) may take; one that runs out is not retried."""
    max_bytes: int = 10 * MB
    """Largest response body accepted, after decompression."""
    retries: int = 3
    backoff: float = 1.0
    """First retry waits this many seconds, then doubles (with jitter)."""
    max_retry_after: float = 120.0
    """A Retry-After longer than this gives up instead of waiting."""
    max_connections: int = 32
    user_agent: str = USER_AGENT


class StateConfig(BaseModel):
    """The ``[state]`` table: where subscribers, the delivery log, editions, locks, approvals
    and model answers are kept. By default the SQLite file ``[newsletter] state`` names;
    with ``url``, a PostgreSQL database that several senders and subscription services
    share (create its tables once with ``newsroom state migrate``)."""

    model_config = ConfigDict(extra="forbid")

    url: str = ""
    """``postgresql://user@host:5432/dbname`` (no password in it); empty: the SQLite file."""
    password: SecretStr | None = None
    """The database password; default: the environment's ``NEWSROOM_STATE_PASSWORD`` (or
    libpq's own ``PGPASSWORD`` and ``~/.pgpass``)."""
    lease: float = Field(60.0, ge=5, le=3600)
    """Seconds a sender's lease on its share of a send lasts without renewal: after that,
    a sender that died (another machine, a SIGKILL) leaves its messages to the others."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL, or empty for the SQLite file")
        if "@" in value and ":" in value.split("://", 1)[1].split("@", 1)[0]:
            raise ValueError(
                'must not carry a password: use password = { "$env" = "NAME" } or '
                "NEWSROOM_STATE_PASSWORD"
            )
        return value


class HttpConfig(BaseModel):
    """The ``[http]`` table: limits for every request sources make."""

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(20.0, gt=0)
    total_timeout: float = Field(30.0, gt=0)
    max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    retries: int = Field(3, ge=0, le=10)
    backoff: float = Field(1.0, ge=0)
    max_retry_after: float = Field(120.0, ge=0)
    cache: bool = True

    def settings(self) -> FetchSettings:
        """The fetcher's limits (:class:`FetchSettings`) from this table."""
        return FetchSettings(
            timeout=self.timeout,
            total_timeout=self.total_timeout,
            max_bytes=self.max_bytes,
            retries=self.retries,
            backoff=self.backoff,
            max_retry_after=self.max_retry_after,
        )


class PublishConfig(BaseModel):
    """The ``[publish]`` table: where ``newsroom run`` copies the web edition."""

    model_config = ConfigDict(extra="forbid")

    directory: str = ""
    """A folder a web server serves (relative to the config); empty: do not copy."""
    git_branch: str = ""
    """``newsroom publish`` commits the web edition to this branch (``gh-pages``) of the git
    repository holding the config, leaving the working tree alone; empty: no commit."""
    git_remote: str = ""
    """Remote to push ``git_branch`` to after committing (``origin``); empty: do not push."""


class PluginsConfig(BaseModel):
    """The ``[plugins]`` table: which plugins load, and the limits every source runs under."""

    model_config = ConfigDict(extra="forbid")

    disabled: list[str] = Field(default_factory=list)
    """Plugin (entry-point) names not to load."""
    plugins_dir: str = ""
    """A folder (relative to the config) whose ``*.py`` files are loaded as plugins, each
    named after its file; no packaging needed."""
    source_timeout: float = Field(default=45.0, gt=0)
    """Seconds one source may take in all, every request and retry included. Its requests
    end when nine tenths of it have passed (a feed that drips its answer a byte at a time
    then costs that, not minutes), leaving the source the rest to return what it has; a
    source still running at the end, even one stuck in a blocking call, is cut off with a
    warning and the build goes on without it."""
    max_items_per_source: int = Field(default=10_000, ge=1)
    """Items kept from one source; a source returning more is cut to this, with a warning."""
    worker_processes: int | None = Field(default=None, ge=0)
    """Processes that parse downloads beside the one running the build (Linux), so a build
    of many feeds uses more than one core: by default one per core (none on a single core),
    at most 4; ``0`` parses in threads of the build's own process."""


@dataclass
class ComponentConfig:
    """One configured component: a ``[[sources]]``, ``[[filters]]``, ``[[sections]]`` or
    ``[[renderers]]`` table, with its options validated by the plugin's model."""

    kind: str
    index: int
    """1-based position among the tables of its kind."""
    name: str
    """Source name, section id, or the plugin name for filters and renderers."""
    plugin: str
    options: Options
    registration: Registration[Any]
    title: str = ""
    """Section title (sections only)."""
    intro: str = ""

    def create(self) -> Component:
        """A new component instance configured by this table."""
        component: Component = self.registration.cls(self.options, instance=self.name)
        return component

    @property
    def label(self) -> str:
        return _label(self.kind, self.index, self.name, self.plugin)


@dataclass
class Config:
    """A validated ``newsroom.toml``."""

    path: Path
    newsletter: NewsletterConfig
    http: HttpConfig
    sources: list[ComponentConfig] = field(default_factory=list)
    filters: list[ComponentConfig] = field(default_factory=list)
    sections: list[ComponentConfig] = field(default_factory=list)
    renderers: list[ComponentConfig] = field(default_factory=list)
    theme: dict[str, Any] = field(default_factory=dict)
    """``[theme]`` settings overriding the theme's defaults."""
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    email: EmailConfig = field(default_factory=lambda: EmailConfig.model_validate({}))
    transport: ComponentConfig | None = None
    """The ``[transport]`` table (default: ``plugin = "smtp"`` on localhost)."""
    mailbox: MailboxConfig | None = None
    """The ``[mailbox]`` table: where bounces and mailed unsubscribe requests arrive."""
    feedback: list[ComponentConfig] = field(default_factory=list)
    """The ``[[feedback]]`` tables: email services' reports ``newsroom serve`` reads."""
    subscriptions: SubscriptionsConfig = field(
        default_factory=lambda: SubscriptionsConfig.model_validate({})
    )
    publish: PublishConfig = field(default_factory=PublishConfig)
    state: StateConfig = field(default_factory=lambda: StateConfig.model_validate({}))

    @property
    def publish_dir(self) -> Path | None:
        if not self.publish.directory:
            return None
        return (self.root / self.publish.directory).resolve()

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def subscriptions_url(self) -> str:
        """Where unsubscribe and preferences links point (``newsroom serve``)."""
        url = self.subscriptions.url
        if not url and self.newsletter.base_url:
            url = f"{self.newsletter.base_url}subscription/"
        return url

    @property
    def keys_file(self) -> Path:
        return (self.root / self.subscriptions.keys_file).resolve()

    @property
    def output_dir(self) -> Path:
        return (self.root / self.newsletter.output).resolve()

    @property
    def state_path(self) -> Path:
        return (self.root / self.newsletter.state).resolve()

    @property
    def state_location(self) -> Path | str:
        """Where the state is: ``[state] url``, else the SQLite file."""
        return self.state.url or self.state_path

    @property
    def state_password(self) -> str | None:
        return self.state.password.get_secret_value() if self.state.password else None

    @property
    def cache_dir(self) -> Path:
        return (self.root / self.newsletter.cache).resolve()

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.newsletter.timezone)

    def context_args(self, *, now: dt.datetime, state: Any, edition_id: str) -> dict[str, Any]:
        """The fields every component context shares (:class:`newsroom.Context`), for one
        edition built or rendered as of ``now``; ``state`` is the open state file, or None."""
        return {
            "newsletter_title": self.newsletter.title,
            "language": self.newsletter.language,
            "timezone": self.timezone,
            "now": now,
            "state": state,
            "root": self.root,
            "edition_id": edition_id,
        }


# -- loading ------------------------------------------------------------------------------

_KINDS = {
    # table name: (registry kind, name key, core keys, default plugin)
    "sources": ("source", "name", {"name", "plugin", "enabled"}, None),
    "filters": ("filter", "name", {"name", "plugin", "enabled"}, None),
    "sections": ("section", "id", {"id", "title", "plugin", "enabled", "intro"}, "select"),
    "renderers": ("renderer", "name", {"name", "plugin", "enabled"}, None),
    # A single table, not a list: `[transport]`.
    "transport": ("transport", "name", {"name", "plugin"}, "smtp"),
    # Email services' reports, answered by `newsroom serve` at /webhooks/<name>.
    "feedback": ("feedback", "name", {"name", "plugin", "enabled"}, None),
}
_LISTS = ("sources", "filters", "sections", "renderers", "feedback")
#: A feedback receiver's name is the last part of its webhook's path.
_WEBHOOK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_TOP = {
    "newsletter",
    "http",
    "theme",
    "plugins",
    "email",
    "subscriptions",
    "mailbox",
    "publish",
    "state",
    *_KINDS,
}
#: Used when the file has no [[renderers]] tables.
DEFAULT_RENDERERS = ("email", "web", "markdown")


def _left_out(plugins: Plugins, name: str) -> str:
    """What was installed but deliberately not loaded, when ``name`` may be among it.

    A skipped plugin is not imported, so which components it would register is unknown:
    the plugin of the same name, or else every one left out, is named.
    """
    skipped = [s for s in plugins.skipped if s.name == name] or plugins.skipped
    if not skipped:
        return ""
    names = ", ".join(f"{s.name} ({s.package} {s.version}, {s.reason})" for s in skipped)
    if any("NEWSROOM_LOAD_PLUGINS" in s.reason for s in skipped):
        return (
            f"installed but not loaded: {names}; add its package to NEWSROOM_LOAD_PLUGINS "
            "(or unset it) to use it"
        )
    return f"installed but not loaded: {names}"


def _label(table: str, index: int, name: str | None, plugin: str | None) -> str:
    if table == "transport":
        return f"[transport] (plugin {plugin!r})"
    plural = table.endswith("s") or table == "feedback"
    head = f"[[{table}]] #{index}" if plural else f"[[{table}s]] #{index}"
    if name and name != plugin:
        head += f" {name!r}"
    if plugin:
        head += f" (plugin {plugin!r})"
    return head


def _resolve_secrets(value: Any, root: Path, where: str, problems: list[str]) -> Any:
    """Replace ``{"$env": NAME}`` and ``{"$file": PATH}`` with their values."""
    if isinstance(value, dict):
        if set(value) == {"$env"}:
            name = value["$env"]
            if not isinstance(name, str) or not name:
                problems.append(f"{where}: $env must name an environment variable, as a string")
                return None
            if name not in os.environ:
                problems.append(f"{where}: environment variable {name} is not set")
                return None
            return _Secret(os.environ[name])
        if set(value) == {"$file"}:
            if not isinstance(value["$file"], str):
                problems.append(f"{where}: $file must be a path, as a string")
                return None
            path = root / value["$file"]
            try:
                return _Secret(path.read_text("utf-8").strip())
            except OSError as exc:
                problems.append(f"{where}: cannot read {path}: {exc.strerror}")
                return None
        return {k: _resolve_secrets(v, root, f"{where}.{k}", problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(v, root, where, problems) for v in value]
    return value


class _Secret(str):
    """A string that came from the environment or a file, not from the TOML."""


def _secrets_in(value: Any) -> list[str]:
    """Every value that came from the environment or a file, anywhere in ``value``."""
    if isinstance(value, _Secret):
        return [str(value)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _secrets_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in _secrets_in(v)]
    return []


def _pydantic_problems(prefix: str, exc: ValidationError, values: Any = None) -> list[str]:
    secrets = [s for s in _secrets_in(values) if s]
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(table)"
        msg = err["msg"]
        for secret in secrets:  # validators may quote the value: never show a secret
            msg = msg.replace(secret, "***")
        if err["type"] == "extra_forbidden":
            msg = "unknown option"
        elif err["type"] == "missing":
            msg = "required option is missing"
        elif (
            "input" in err
            and err["type"] not in ("value_error",)
            and not isinstance(err["input"], (dict, _Secret))
        ):
            msg += f", got {err['input']!r}"
        out.append(f"{prefix}: {loc}: {msg}")
    return out


def _secret_literals(model: type[BaseModel], values: dict[str, Any]) -> list[str]:
    """Option names declared as secrets but given literally in the file."""
    bad = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in values and values[key] is not None and not isinstance(values[key], _Secret):
            annotation = str(info.annotation)
            if "SecretStr" in annotation:
                bad.append(key)
    return bad


def _component(
    validation_context: dict[str, Any],
    table: str,
    index: int,
    raw: Any,
    root: Path,
    plugins: Plugins,
    problems: list[str],
    seen: set[str],
) -> ComponentConfig | None:
    kind, name_key, core, default_plugin = _KINDS[table]
    where = "[transport]" if table == "transport" else f"[[{table}]] #{index}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    plugin = raw.get("plugin", default_plugin)
    name = raw.get(name_key)
    label = _label(
        table,
        index,
        name if isinstance(name, str) else None,
        plugin if isinstance(plugin, str) else None,
    )
    if not isinstance(plugin, str) or not plugin:
        problems.append(f"{where}: `plugin` is required (which {kind} plugin to use)")
        return None
    if raw.get("enabled", True) is False:
        return None
    if table in ("sources", "sections"):
        if not isinstance(name, str) or not name:
            problems.append(f"{label}: `{name_key}` is required and must be a string")
            return None
        if name in seen:
            problems.append(f"{label}: {name_key} {name!r} is used by another {kind}")
        seen.add(name)
    if table == "feedback":
        webhook = name if name is not None else plugin
        if not isinstance(webhook, str) or not _WEBHOOK_NAME.fullmatch(webhook):
            problems.append(
                f"{label}: the name {webhook!r} must be lower-case letters, digits, - and _ "
                "(it is the last part of the webhook's path, /webhooks/<name>)"
            )
        elif webhook == "events" or webhook in seen:
            problems.append(
                f"{label}: /webhooks/{webhook} is taken"
                + (" by newsroom's own format" if webhook == "events" else "")
                + "; give this table another `name`"
            )
        seen.add(str(webhook))
    if table == "sections" and not isinstance(raw.get("title"), str):
        problems.append(f"{label}: `title` is required and must be a string")
    registry = plugins.registry(kind)
    registration = registry.get(plugin)
    if registration is None:
        hint = f"installed {kind}s: {', '.join(registry.names()) or 'none'}"
        failure = plugins.failure_for(plugin)
        if failure:
            hint += f"; note: {failure.message()}"
        elif left_out := _left_out(plugins, plugin):
            hint += f"; {left_out}"
        problems.append(f"{label}: unknown {kind} plugin {plugin!r}; {hint}")
        return None
    values = {k: v for k, v in raw.items() if k not in core}
    values = _resolve_secrets(values, root, label, problems)
    options_model = registration.cls.Options
    for key in _secret_literals(options_model, values):
        problems.append(
            f"{label}: {key}: secrets cannot be written in the file; use "
            f'{key} = {{ "$env" = "VARIABLE" }} or {{ "$file" = "path" }}'
        )
    try:
        # Validators may look at the rest of the file through the context, e.g. to check
        # that a section matches a source that exists.
        options = options_model.model_validate(values, context=validation_context)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(label, exc, values))
        return None
    display = name if isinstance(name, str) and name else plugin
    return ComponentConfig(
        kind=table,
        index=index,
        name=display,
        plugin=plugin,
        options=options,
        registration=registration,
        title=str(raw.get("title", "")),
        intro=str(raw.get("intro", "")),
    )


def parse_config(data: dict[str, Any], path: Path, plugins: Plugins) -> Config:
    """Validate already-parsed TOML ``data`` as if read from ``path``."""
    problems: list[str] = []
    for key in data:
        if key not in _TOP:
            problems.append(f"unknown table or key {key!r} (known: {', '.join(sorted(_TOP))})")

    def model(name: str, cls: type[BaseModel], required: bool = False) -> Any:
        raw = data.get(name)
        if raw is None:
            if required:
                problems.append(f"[{name}] table is missing")
                return None
            return cls()
        if not isinstance(raw, dict):
            problems.append(f"[{name}] must be a table")
            return None
        raw = _resolve_secrets(raw, path.parent, f"[{name}]", problems)
        for key in _secret_literals(cls, raw):
            problems.append(
                f"[{name}]: {key}: secrets cannot be written in the file; use "
                f'{key} = {{ "$env" = "VARIABLE" }} or {{ "$file" = "path" }}'
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(f"[{name}]", exc, raw))
            return None

    newsletter = model("newsletter", NewsletterConfig, required=True)
    http = model("http", HttpConfig)
    plugin_cfg = model("plugins", PluginsConfig)
    email = model("email", EmailConfig)
    subscriptions = model("subscriptions", SubscriptionsConfig)
    mailbox = model("mailbox", MailboxConfig) if "mailbox" in data else None
    publish = model("publish", PublishConfig)
    state = model("state", StateConfig)
    theme = data.get("theme", {})
    if not isinstance(theme, dict):
        problems.append("[theme] must be a table")
        theme = {}

    lists: dict[str, list[ComponentConfig]] = {}
    raw_sources = data.get("sources", [])
    context: dict[str, Any] = {
        "sources": [
            s["name"] for s in raw_sources if isinstance(s, dict) and isinstance(s.get("name"), str)
        ]
        if isinstance(raw_sources, list)
        else []
    }
    for table in _LISTS:
        raw_list = data.get(table, [])
        if table == "renderers" and table not in data:
            raw_list = [{"plugin": p} for p in DEFAULT_RENDERERS]
        if not isinstance(raw_list, list):
            problems.append(f"{table} must be written as [[{table}]] tables")
            raw_list = []
        seen: set[str] = set()
        lists[table] = [
            c
            for i, raw in enumerate(raw_list, 1)
            if (c := _component(context, table, i, raw, path.parent, plugins, problems, seen))
            is not None
        ]
    if not data.get("sources"):
        problems.append("no [[sources]] configured: an edition needs at least one source")
    transport = None
    if "transport" in data or "smtp" in plugins.registry("transport"):
        transport = _component(
            context,
            "transport",
            1,
            data.get("transport", {}),
            path.parent,
            plugins,
            problems,
            set(),
        )

    if problems:
        raise ConfigError(problems, path=str(path))
    return Config(
        path=path,
        newsletter=newsletter,
        http=http,
        theme=theme,
        plugins=plugin_cfg,
        sources=lists["sources"],
        filters=lists["filters"],
        sections=lists["sections"],
        renderers=lists["renderers"],
        feedback=lists["feedback"],
        email=email,
        transport=transport,
        subscriptions=subscriptions,
        mailbox=mailbox,
        publish=publish,
        state=state,
    )


def read_toml(path: Path) -> dict[str, Any]:
    """Parse the TOML file at ``path``, with a clear error when it is missing or malformed."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no {path.name} here; create one with `newsroom init`", path=str(path)
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None


def load_config(path: Path, plugins: Plugins) -> Config:
    """Read and validate ``path`` against the installed plugins' option models."""
    return parse_config(read_toml(path), path.resolve(), plugins)


def find_config(start: Path | None = None) -> Path:
    """``start`` if it is a file, else ``newsroom.toml`` in ``start`` (default: cwd)."""
    start = start or Path.cwd()
    return start if start.is_file() or start.suffix == ".toml" else start / CONFIG_NAME


__all__ = ["Config", "ComponentConfig", "ConfigError", "SecretStr", "load_config", "parse_config"]
