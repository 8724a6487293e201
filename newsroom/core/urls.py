"""URL helpers: canonical form (for identity and dedupe), scheme checks, and where an
edition is on the web edition's site."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit

#: Query parameters that only track the reader and never change the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref",
        "ref_src",
        "ref_url",
        "source",
        "src",
        "cmpid",
        "ncid",
        "sr_share",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "spm",
        "si",
        "app_id",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "oly_", "vero_")

SAFE_SCHEMES = frozenset({"http", "https"})
#: Tracking parameters that can also change what a page shows on some sites (``?ref=main``
#: is a branch on GitHub, ``?source=`` a filter): :func:`canonical_url` drops them for
#: identity, but :func:`without_tracking` keeps them in links readers follow.
AMBIGUOUS_PARAMS = frozenset({"ref", "source", "src"})


def is_tracking_param(name: str) -> bool:
    """True for query parameters that identify the reader, not the resource."""
    lower = name.lower()
    return lower in TRACKING_PARAMS or lower.startswith(TRACKING_PREFIXES)


@lru_cache(maxsize=65536)
def canonical_url(url: str) -> str:
    """Return ``url`` in a canonical form: lower-case scheme and host, no ``www.``, no default
    port, https for http, no fragment, no trailing slash, no tracking parameters, remaining
    parameters sorted.

    Two links to the same page from different feeds compare equal after this.
    """
    url = url.strip()
    fast = _canonical_fast(url)
    return fast if fast is not None else _canonical(url)


def _canonical_fast(url: str) -> str | None:
    """The common case (``http(s)://host/path?query``) without ``urlsplit``; ``None`` for
    anything unusual (ports, user info, IPv6, odd characters), which takes the full path."""
    head, sep, rest = url.partition("://")
    scheme = head.lower()
    if not sep or scheme not in ("http", "https"):
        return None
    rest = rest.partition("#")[0]
    end = len(rest)
    for stop in ("/", "?"):
        found = rest.find(stop)
        if found != -1 and found < end:
            end = found
    host, rest = rest[:end], rest[end:]
    path, _, query = rest.partition("?")
    if not host or any(c in host for c in ":@[]\\%") or "\\" in path or not host.isascii():
        return None
    host = host.lower()
    if host.startswith("www."):
        host = host[4:]
    if not path:
        path = "/"
    elif len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    if query:
        query = _clean_query(query)
    return f"https://{host}{path}?{query}" if query else f"https://{host}{path}"


def _clean_query(query: str) -> str:
    if _only_tracking(query):
        return ""
    pairs = sorted(
        (k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_tracking_param(k)
    )
    return urlencode(pairs)


def _only_tracking(query: str) -> bool:
    """True when every parameter of ``query`` is a tracking one (``?utm_source=rss``), read
    without decoding: a name with ``%`` or ``+`` in it is left to the full parser."""
    for part in query.split("&"):
        if not part:
            continue
        if "%" in part or "+" in part:
            return False
        if not is_tracking_param(part.partition("=")[0]):
            return False
    return True


def _canonical(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad port or IPv6 host: the URL as written is its own identity
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    # http and https of one page are one page.
    if scheme == "http":
        scheme = "https"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, host, path, _clean_query(parts.query), ""))


def without_tracking(url: str) -> str:
    """``url`` as written, without the query parameters that only track the reader
    (``utm_*``, ``fbclid``, ``app_id`` ...): the clean link to show and follow. Parameters
    that can change the page (:data:`AMBIGUOUS_PARAMS`) and everything else stay as they
    were, in their order and encoding."""
    head, sep, query = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = query.partition("#")
    kept = []
    for part in query.split("&"):
        name = unquote_plus(part.partition("=")[0]).strip().lower()
        if part and not (is_tracking_param(name) and name not in AMBIGUOUS_PARAMS):
            kept.append(part)
    clean = head + ("?" + "&".join(kept) if kept else "")
    return clean + (hash_sep + fragment if hash_sep else "")


_ARXIV_VERSION = re.compile(r"^(https://arxiv\.org/(?:abs|pdf)/[^?#]+?)v\d+$")


def same_page(url: str) -> str:
    """A key equal for links to one page: :func:`canonical_url`, and an arXiv paper's
    abstract or PDF without its version (``/pdf/2602.12205v1`` is ``/pdf/2602.12205``), so
    a link row shows each once."""
    canonical = canonical_url(url)
    if "arxiv.org/" in canonical:
        canonical = _ARXIV_VERSION.sub(r"\1", canonical)
    return canonical


def url_id(url: str) -> str:
    """A short stable id for the page at ``url`` (hash of its canonical form)."""
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()[:16]


def is_safe_url(url: str | None) -> bool:
    """True when ``url`` is an absolute http(s) URL (never ``javascript:``, ``data:`` ...)."""
    if not url:
        return False
    url = url.strip()
    fast = _safe_fast(url)
    if fast is not None:
        return fast
    parts = urlsplit(url)
    return parts.scheme.lower() in SAFE_SCHEMES and bool(parts.netloc)


def _safe_fast(url: str) -> bool | None:
    """:func:`is_safe_url` for a plain ASCII ``http(s)://host...`` URL without ``urlsplit``;
    ``None`` for anything else (tabs or newlines, which urlsplit removes, brackets, which it
    checks, non-ASCII hosts ...)."""
    head, sep, rest = url.partition("://")
    if not sep or head.lower() not in SAFE_SCHEMES or not url.isascii():
        return None
    if any(c in url for c in "\t\r\n[]"):
        return None
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop, 0, end)
        if found != -1:
            end = found
    return end > 0


def absolute_url(url: str | None, base: str | None) -> str | None:
    """Resolve ``url`` against ``base``; return it only when the result is a safe http(s) URL."""
    if not url:
        return None
    resolved = urljoin(base, url.strip()) if base else url.strip()
    return resolved if is_safe_url(resolved) else None


def edition_path(edition_id: str) -> str:
    """``editions/<id>/``: an edition's page on the site, relative to the site's root, with
    the id percent-encoded (``editions/2026-02-03-%ED%8A%B9%EC%A7%91/``). Every link to the
    page is made with it, so the email's and the site's agree."""
    return f"editions/{quote(edition_id, safe='')}/"


def edition_url(base_url: str, edition_id: str) -> str:
    """The absolute address of an edition's page under ``base_url``; "" without one."""
    return f"{base_url}{edition_path(edition_id)}" if base_url else ""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this
    machine: ``localhost``, a ``.localhost`` name, 127.0.0.0/8 or ``::1``."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
