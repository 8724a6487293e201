"""The messages ``newsroom dev-smtp`` received, as ``newsroom preview`` shows them.

Each message is a ``.eml`` file in ``<output>/dev-mail/`` (:func:`newsroom.config.outputs.
dev_mail_dir`), named by its number (``000001.eml``). What is read from one is what a mail
program would show first: the headers that matter, the HTML part and the text part.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

#: A received message's file name: its number.
NAME = re.compile(r"[0-9]{6}")
#: The headers shown above a message, in this order.
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Reply-To", "List-Id", "List-Unsubscribe")
#: Files beyond this size are listed, not parsed (the sink takes up to 64 MB a message).
MAX_PARSED = 8 * 1024 * 1024


@dataclass
class ReceivedMail:
    """One received message, read from its file."""

    number: str
    size: int
    headers: dict[str, str] = field(default_factory=dict)
    html: str = ""
    text: str = ""
    problem: str = ""
    """Why the message could not be read, if it could not."""

    @property
    def subject(self) -> str:
        return self.headers.get("Subject", "")


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def read_received(folder: Path, number: str, *, bodies: bool = True) -> ReceivedMail | None:
    """The message ``number`` of ``folder``, or None when there is none."""
    if not NAME.fullmatch(number):
        return None
    path = folder / f"{number}.eml"
    if not path.is_file() or path.is_symlink():
        return None
    mail = ReceivedMail(number, path.stat().st_size)
    if mail.size > MAX_PARSED:
        mail.problem = f"{mail.size // 1024 // 1024} MB: too large to show here"
        return mail
    try:
        message = _parse(path)
        mail.headers = {
            name: " ".join(str(message[name]).split()) for name in SHOWN_HEADERS if message[name]
        }
        if bodies:
            for kind in ("html", "plain"):
                part = message.get_body(preferencelist=(kind,))
                content = part.get_content() if part is not None else ""
                setattr(mail, "html" if kind == "html" else "text", str(content))
    except Exception as exc:  # a malformed message is shown as such, never a crash
        mail.problem = f"cannot read it: {type(exc).__name__}: {exc}"
    return mail


def list_received(folder: Path, limit: int = 50) -> list[ReceivedMail]:
    """The newest ``limit`` messages of ``folder``, newest first (headers only)."""
    if not folder.is_dir():
        return []
    numbers = sorted((p.stem for p in folder.glob("*.eml") if NAME.fullmatch(p.stem)), reverse=True)
    found = (read_received(folder, number, bodies=False) for number in numbers[:limit])
    return [mail for mail in found if mail is not None]
