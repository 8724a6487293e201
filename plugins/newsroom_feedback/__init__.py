"""Email services' bounce and complaint reports, each in its own format and checked its own
way: Amazon SES (through SNS), Mailgun, Postmark and SendGrid."""

from __future__ import annotations

from typing import Any

from newsroom import hookimpl


@hookimpl
def register_feedback(register: Any) -> None:
    from .mailgun import MailgunReceiver
    from .postmark import PostmarkReceiver
    from .sendgrid import SendgridReceiver
    from .ses import SesReceiver

    register(SesReceiver)
    register(MailgunReceiver)
    register(PostmarkReceiver)
    register(SendgridReceiver)
