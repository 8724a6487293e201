"""What the receivers share: reading a JSON body, HTTP basic authentication."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from typing import Any

from newsroom.core.feedback import MAX_EVENTS, BadEvents, Refused


def json_body(body: bytes) -> Any:
    """The body as JSON; :class:`BadEvents` when it is not."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEvents(f"the body is not JSON: {exc}") from None


def as_list(data: Any, what: str) -> list[Any]:
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_EVENTS:
        raise BadEvents(f"at most {MAX_EVENTS} {what} per request")
    return items


def check_basic_auth(headers: Mapping[str, str], username: str, password: str) -> None:
    """Refuse (401) a request without HTTP basic authentication as ``username:password``;
    both are compared in constant time."""
    given = headers.get("authorization", "")
    scheme, _, encoded = given.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    user, _, secret = decoded.partition(b":")
    ok_user = hmac.compare_digest(user, username.encode("utf-8"))
    ok_secret = hmac.compare_digest(secret, password.encode("utf-8"))
    if scheme.lower() != "basic" or not (ok_user and ok_secret):
        raise Refused(401, "wrong or missing credentials (HTTP basic authentication)")


def text(value: Any, limit: int = 500) -> str:
    """A reason as one short line of text."""
    if value is None:
        return ""
    return " ".join(str(value).split())[:limit]
