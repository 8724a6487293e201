"""Exceptions raised by newsroom and its plugins.

The tree::

    NewsroomError (click.ClickException)   exit code in ``exit_code``
    ├── ConfigError                        newsroom.toml is wrong; ``problems`` lists every one
    ├── PluginError                        a plugin failed; the message names the plugin
    │   └── SourceError                    a source could not fetch (isolated to that source)
    │       └── FetchError                 an HTTP request failed for good (URL, status)
    ├── StateError                         the SQLite state file is unusable
    ├── BuildError                         the edition could not be built or rendered
    └── UsageError                         a value given on the command line cannot be used

Plugins raise :class:`PluginError` (or :class:`SourceError` inside ``fetch``) to show a
one-line message to the user; anything else is treated as a bug in the plugin and reported
with its name, with the traceback shown only under ``--debug``.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from newsroom.core import exitcodes


class NewsroomError(click.ClickException):
    """Base class: a message for the user, and an exit code for cron."""

    exit_code = exitcodes.FAILURE


class ConfigError(NewsroomError):
    """The configuration is invalid. ``problems`` holds every problem found, not just the first."""

    exit_code = exitcodes.CONFIG

    def __init__(self, problems: Sequence[str] | str, *, path: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.path = path
        head = f"{path}: " if path else ""
        if len(self.problems) == 1:
            message = head + self.problems[0]
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{head}{len(self.problems)} problems:\n{lines}"
        super().__init__(message)


class PluginError(NewsroomError):
    """Raise this from a plugin to show a clear message to the user."""

    exit_code = exitcodes.BUILD


class SourceError(PluginError):
    """A source could not fetch its items. The build goes on with the other sources."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(message)


class StateError(NewsroomError):
    """The state file cannot be opened, migrated or written."""

    exit_code = exitcodes.FAILURE


class BuildError(NewsroomError):
    """The edition could not be built or rendered."""

    exit_code = exitcodes.BUILD


class UsageError(NewsroomError):
    """A value given on the command line cannot be used: a file that cannot be read or is
    not what the command takes, an invalid or suppressed address, an unknown name. Exit code
    2, as for click's own usage errors."""

    exit_code = exitcodes.USAGE


class FetchError(SourceError):
    """A request failed for good (after retries). ``url`` and ``status`` say which and how."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retryable: bool = False,
        body: bytes = b"",
    ) -> None:
        self.status = status
        self.retryable = retryable
        """True for failures worth another try: timeouts and dropped connections."""
        self.body = body
        """The error response's body, if any: APIs explain their 4xx there (arXiv, GraphQL)."""
        super().__init__(message, url=url)
