"""Feed dates to aware UTC datetimes: :func:`parse_date`.

RFC 822 as nearly every RSS feed writes it without a regular expression, other RFC 822
spellings and the zones feeds from Korea, Japan and Europe use, ISO 8601; anything else is
left to feedparser's date rules (imported only then). Apart because every path reads dates
by the same rules.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ZONES = {
    "ut": 0,
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "est": -5,
    "edt": -4,
    "cst": -6,
    "cdt": -5,
    "mst": -7,
    "mdt": -6,
    "pst": -8,
    "pdt": -7,
    # Zones feeds from Korea, Japan and Europe write that RFC 822 does not list.
    "kst": 9,
    "jst": 9,
    "cet": 1,
    "cest": 2,
    "eet": 2,
    "eest": 3,
    "bst": 1,
    "msk": 3,
}
_RFC822 = re.compile(
    r"(?:[A-Za-z]{2,9},?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[a-z]*\.?[\s-]+(\d{2}|\d{4})\s+"
    r"(\d{1,2}):(\d\d)(?::(\d\d))?\s*(?:([+-])(\d\d):?(\d\d)|([A-Za-z]{1,5}))?\s*$"
)


def parse_date(value: str | None) -> dt.datetime | None:
    """Parse a feed date to an aware UTC datetime (RFC 822, ISO 8601, else feedparser's rules).

    A date without a time zone is taken as UTC; an unparseable one gives ``None``.
    """
    if not value:
        return None
    value = value.strip()
    parsed = None
    if value[:1].isdigit():
        parsed = _iso_date(value)
    if parsed is None:
        parsed = _rfc822_date(value)
    if parsed is None:
        parsed = _fallback_date(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    if parsed.tzinfo is dt.UTC:
        return parsed
    try:
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def _iso_date(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


_OFFSETS: dict[str, dt.tzinfo | None] = {}


def _zone(sign: str | None, hours: str, minutes: str, name: str | None) -> dt.tzinfo | None:
    """The tzinfo for ``+0900`` or ``KST`` (cached: feeds repeat the same few zones)."""
    key = f"{sign}{hours}{minutes}" if sign else (name or "").lower()
    if key in _OFFSETS:
        return _OFFSETS[key]
    offset: dt.timedelta | None
    if sign:
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
    elif name:
        known = _ZONES.get(key)
        offset = None if known is None else dt.timedelta(hours=known)
    else:
        offset = dt.timedelta(0)  # no zone at all: UTC
    zone = None if offset is None else (dt.UTC if not offset else dt.timezone(offset))
    if len(_OFFSETS) < 1000:
        _OFFSETS[key] = zone
    return zone


def _rfc822_date(value: str) -> dt.datetime | None:
    parsed = _canonical_rfc822_date(value)
    if parsed is not None:
        return parsed
    match = _RFC822.match(value)
    if not match:
        return None
    day, month, year, hour, minute, second, sign, tzh, tzm, name = match.groups()
    month_no = _MONTHS.get(month.lower())
    zone = _zone(sign, tzh, tzm, name)
    if month_no is None or zone is None:
        return None  # a month or zone name we do not know: leave it to feedparser
    year_no = int(year)
    if len(year) == 2:  # RFC 2822's rule for two-digit years
        year_no += 2000 if year_no < 50 else 1900
    try:
        return dt.datetime(
            year_no, month_no, int(day), int(hour), int(minute), int(second or 0), tzinfo=zone
        )
    except ValueError:
        return None


def _canonical_rfc822_date(value: str) -> dt.datetime | None:
    """``Tue, 20 Apr 2021 02:43:26 +0000`` (or ``GMT``), as nearly every RSS feed writes it,
    without the cost of a regular expression."""
    parts = value.split()
    if len(parts) != 6:
        return None
    _, day, month, year, clock, zone_text = parts
    month_no = _MONTHS.get(month[:3].lower())
    hms = clock.split(":")
    if month_no is None or len(hms) != 3 or len(year) != 4:
        return None
    try:
        if len(zone_text) == 5 and zone_text[0] in "+-":
            zone = _zone(zone_text[0], zone_text[1:3], zone_text[3:], None)
        elif zone_text.isalpha():
            zone = _zone(None, "", "", zone_text)
        else:
            return None
        if zone is None:
            return None
        return dt.datetime(
            int(year), month_no, int(day), int(hms[0]), int(hms[1]), int(hms[2]), tzinfo=zone
        )
    except ValueError:  # not numbers, or no such day
        return None


def _fallback_date(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return parsed
    from feedparser.datetimes import _parse_date  # type: ignore[import-untyped]

    struct = _parse_date(value)
    if struct is None:
        return None
    year, month, day, hour, minute, second = struct[:6]
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None
