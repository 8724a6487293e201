"""Built-in delivery transports: ``smtp`` (aiosmtplib) and ``file`` (``.eml`` files)."""

from __future__ import annotations

from typing import Any

from newsroom import hookimpl


@hookimpl
def register_transports(register: Any) -> None:
    from .file import FileTransport
    from .smtp import SmtpTransport

    register(SmtpTransport)
    register(FileTransport)
