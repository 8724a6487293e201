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

import logging
import os
import re
import secrets
import threading
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from newsroom.core.errors import ConfigError

log = logging.getLogger("newsroom.service")

ENV_KEY = "NEWSROOM_SECRET_KEY"
#: Shortest key accepted: shorter ones are guessable.
MIN_KEY_LENGTH = 16


class InvalidToken(Exception):
    """A token that is forged, damaged, signed with an unknown key, or expired."""


def new_key() -> str:
    """A fresh random signing key."""
    return secrets.token_urlsafe(32)


def _split(text: str) -> list[str]:
    return [key for key in re.split(r"[\s,]+", text) if key]


def _parse_file(text: str) -> list[str]:
    """The keys of a key file: one per line (or comma-separated); ``#`` starts a comment at
    the start of a line or after a space, never inside a key."""
    keys = []
    for line in text.splitlines():
        keys += _split(re.sub(r"(?:^|\s)#.*", "", line))
    return keys


def _cut_at_hash(keys: list[str]) -> list[str]:
    """Keys with a ``#`` were cut there by earlier versions, which signed links with the
    part before it: those links keep verifying (the cut key is never used to sign)."""
    cut = [k.split("#", 1)[0] for k in keys if "#" in k]
    return [k for k in cut if len(k) >= MIN_KEY_LENGTH and k not in keys]


def load_keys(keys_file: Path | None = None) -> list[str]:
    """The signing keys, newest first: ``$NEWSROOM_SECRET_KEY`` (whitespace- or
    comma-separated; every other character, ``#`` included, is part of a key) and then the
    lines of ``keys_file``."""
    keys = _split(os.environ.get(ENV_KEY, ""))
    if keys_file is not None and keys_file.exists():
        try:
            keys += _parse_file(keys_file.read_text("utf-8"))
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
    return keys + _cut_at_hash(keys)


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
        self._signup = URLSafeTimedSerializer(ordered, salt="newsroom.signup")

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

    def signup_token(self, nonce: str) -> str:
        """The token of a signup confirmation link: the signup's random nonce (see
        :mod:`newsroom.service.signups`), checked with a maximum age."""
        return str(self._signup.dumps(nonce))

    def read_signup_token(self, token: str, max_age: float) -> str:
        """The nonce of a confirmation link, or :class:`InvalidToken`."""
        return self._read_timed(self._signup, token, max_age)

    def confirm_token(self, uid: str) -> str:
        """A confirmation token of earlier versions (a subscriber's uid); still read for the
        links sent before an upgrade, which confirm a subscriber that is still pending."""
        return str(self._confirm.dumps(uid))

    def read_confirm_token(self, token: str, max_age: float) -> str:
        return self._read_timed(self._confirm, token, max_age)

    @staticmethod
    def _read_timed(serializer: URLSafeTimedSerializer, token: str, max_age: float) -> str:
        try:
            value = serializer.loads(token, max_age=max(1, int(max_age)))
        except SignatureExpired:
            raise InvalidToken("this confirmation link has expired; sign up again") from None
        except BadSignature:
            raise InvalidToken("this link is not valid") from None
        if not isinstance(value, str):
            raise InvalidToken("this link is not valid")
        return value


class KeyRing:
    """The signer of a long-running process (``newsroom serve``), kept in step with the key
    file: :meth:`signer` reloads the keys when the file changed (one ``stat`` per call), and
    :meth:`reload` does at once (on SIGHUP). A key file that cannot be read or holds no
    usable key is reported in the log and the keys in use stay."""

    def __init__(self, keys_file: Path | None) -> None:
        self.keys_file = keys_file
        self._lock = threading.RLock()  # SIGHUP may come in the middle of a reload
        self._seen = self._stat()
        self._signer = Signer(load_keys(keys_file))

    def _stat(self) -> tuple[int, int, int, int] | None:
        if self.keys_file is None:
            return None
        try:
            st = self.keys_file.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def signer(self) -> Signer:
        """The signer for the keys as the key file holds them now."""
        if self._stat() != self._seen:
            self.reload()
        return self._signer

    def reload(self) -> bool:
        """Read the keys again; False (and a log line) when they could not be read."""
        with self._lock:
            seen = self._stat()
            try:
                keys = load_keys(self.keys_file)
            except ConfigError as exc:
                self._seen = seen  # reported once per change of the file, not per request
                log.error("signing keys not reloaded, the old ones stay in use: %s", exc)
                return False
            self._signer, self._seen = Signer(keys), seen
        log.info("signing keys reloaded from %s (%d keys)", self.keys_file, len(keys))
        return True
