"""Signed tokens in the links of every email: unsubscribe, preferences, confirm signup.

Tokens are HMAC-signed with the newsletter's signing keys (:mod:`itsdangerous`). The keys
never live in ``newsroom.toml``: they come from ``NEWSROOM_SECRET_KEY`` or from a key file
outside the config (``[subscriptions] keys_file``), one key per line, **newest first**.

Rotation: put a new key at the top. New tokens are signed with it; tokens signed with any
older key still in the list keep verifying, so links in emails sent years ago keep working
for as long as their key stays listed. Unsubscribe and preferences tokens do not expire
(they identify a subscriber's random ``uid``, nothing else); signup confirmations do.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from newsroom.errors import ConfigError

ENV_KEY = "NEWSROOM_SECRET_KEY"
#: Shortest key accepted: shorter ones are guessable.
MIN_KEY_LENGTH = 16


class InvalidToken(Exception):
    """A token that is forged, damaged, signed with an unknown key, or expired."""


def new_key() -> str:
    """A fresh random signing key."""
    return secrets.token_urlsafe(32)


def _parse(text: str) -> list[str]:
    keys = []
    for line in text.replace(",", "\n").splitlines():
        key = line.split("#", 1)[0].strip()
        if key:
            keys.append(key)
    return keys


def load_keys(keys_file: Path | None = None) -> list[str]:
    """The signing keys, newest first: ``$NEWSROOM_SECRET_KEY`` (whitespace- or
    comma-separated) and then the lines of ``keys_file``."""
    keys = _parse(os.environ.get(ENV_KEY, "").replace(" ", "\n"))
    if keys_file is not None and keys_file.exists():
        try:
            keys += _parse(keys_file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the signing keys in {keys_file}: {exc}") from None
    if not keys:
        where = f" or in {keys_file}" if keys_file else ""
        raise ConfigError(
            f"no signing key: set {ENV_KEY}{where} (create one with `newsroom keys rotate`)"
        )
    short = [k for k in keys if len(k) < MIN_KEY_LENGTH]
    if short:
        raise ConfigError(f"signing keys must have at least {MIN_KEY_LENGTH} characters")
    return keys


def rotate(keys_file: Path) -> str:
    """Put a new key at the top of ``keys_file`` (created with mode 600); return it."""
    old = keys_file.read_text("utf-8") if keys_file.exists() else ""
    key = new_key()
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the file and renamed over it: a crash never leaves it half-written
    # (which would lose every older key, and with them every link sent so far).
    tmp = keys_file.with_name(f".{keys_file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"{key}\n{old}")
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, keys_file)
    return key


class Signer:
    """Makes and checks the tokens of one newsletter."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        # itsdangerous signs with the last key and verifies with all of them.
        ordered = list(reversed(keys))
        self._subscriber = URLSafeSerializer(ordered, salt="newsroom.subscriber")
        self._confirm = URLSafeTimedSerializer(ordered, salt="newsroom.confirm")

    def subscriber_token(self, uid: str) -> str:
        """The token of unsubscribe and preferences links: never expires."""
        return str(self._subscriber.dumps(uid))

    def read_subscriber_token(self, token: str) -> str:
        """The subscriber ``uid`` a token was made for, or :class:`InvalidToken`."""
        try:
            value = self._subscriber.loads(token)
        except BadSignature:
            raise InvalidToken("this link is not valid") from None
        if not isinstance(value, str):
            raise InvalidToken("this link is not valid")
        return value

    def confirm_token(self, uid: str) -> str:
        """The token of a signup confirmation link (checked with a maximum age)."""
        return str(self._confirm.dumps(uid))

    def read_confirm_token(self, token: str, max_age: float) -> str:
        try:
            value = self._confirm.loads(token, max_age=int(max_age))
        except SignatureExpired:
            raise InvalidToken("this confirmation link has expired; sign up again") from None
        except BadSignature:
            raise InvalidToken("this link is not valid") from None
        if not isinstance(value, str):
            raise InvalidToken("this link is not valid")
        return value
