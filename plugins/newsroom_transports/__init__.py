"""Built-in delivery transports: ``smtp`` (aiosmtplib), ``file`` (``.eml`` files) and
``ses`` (Amazon SES v2 through botocore, with the ``services`` extra) and ``mailgun``
(Mailgun's sending API)."""

from __future__ import annotations

from typing import Any

from newsroom import hookimpl


@hookimpl
def register_transports(register: Any) -> None:
    from .file import FileTransport
    from .mailgun import MailgunTransport
    from .ses import SesTransport
    from .smtp import SmtpTransport

    register(SmtpTransport)
    register(FileTransport)
    register(SesTransport)
    register(MailgunTransport)
