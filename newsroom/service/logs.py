"""Keep the tokens of readers' links out of the service's logs.

Unsubscribe, preferences and confirmation links carry a token in their path, and whoever
holds a token acts for its reader. uvicorn's access log writes every path; this filter
replaces the token with ``[token]`` before any handler sees the line.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_TOKEN_PATH = re.compile(r"/(confirm|unsubscribe|preferences)/[^/?#\s\"]+")


def redact(text: str) -> str:
    """``text`` with the token of every link path replaced."""
    return _TOKEN_PATH.sub(r"/\1/[token]", text)


class RedactTokens(logging.Filter):
    """Removes link tokens from a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_access_log() -> None:
    """Put :class:`RedactTokens` on uvicorn's access logger (once). A filter on the logger
    applies whatever handlers a deployment's logging configuration gives it."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
