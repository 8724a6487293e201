"""URLs in feeds, resolved exactly as feedparser resolves them: against ``xml:base`` or the
feed's URL, unknown schemes (``javascript:``) made empty, relative ``href`` and ``src`` in HTML
content made absolute.

Apart because every path resolves links and must give feedparser's answer, including the
shortcuts that skip ``urljoin`` for the URLs it would hand back unchanged.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urljoin

# feedparser's own list (``urls.ACCEPTABLE_URI_SCHEMES``), so "a safe link" means the same on
# both paths; copied, not imported, for the reason given at ``_HTML_ELEMENTS`` in :mod:`.text`.
_SAFE_SCHEMES = frozenset(
    """aim callto cvs facetime feed file ftp git gopher gtalk h323 hdl http https imap irc
    irc6 ircs itms magnet mailto mms msnim news nntp prospero rsync rtsp rtspu sftp shttp sip
    sips skype smb snews ssh svn svn+ssh telnet wais ymsg""".split()
)

_URI_FIXER = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _plainly_absolute(uri: str) -> bool:
    """True for an http(s) URL that ``urljoin`` returns as it is (nothing it would normalise)."""
    if uri.startswith("https://"):
        rest = uri[8:]
    elif uri.startswith("http://"):
        rest = uri[7:]
    else:
        return False
    return (
        rest[:1] not in ("", "/")
        and uri[-1] not in "#?; "
        and "/." not in rest
        and "?#" not in rest
        and ";" not in rest
        and "[" not in rest  # IPv6 hosts: urljoin validates them
        and uri.isprintable()
    )


_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]+\Z")


@functools.lru_cache(maxsize=64)
def _folder(base: str) -> str:
    """What ``urljoin`` puts before a bare name: ``https://h/a/feed?q`` -> ``https://h/a/``."""
    try:
        joined = urljoin(base, "x")
    except ValueError:
        return ""
    return joined[:-1] if joined.endswith("/x") else ""


def _urljoin(base: str, uri: str) -> str:
    """Resolve ``uri`` against ``base`` exactly as feedparser does."""
    if _plainly_absolute(uri):
        return uri  # the common case: urljoin would hand it back unchanged
    scheme, colon, rest = uri.partition(":")
    if colon and rest[:2] != "//" and scheme.isalpha() and not base.startswith(scheme + ":"):
        return uri  # "tag:...", "urn:...", "mailto:...": urljoin leaves other schemes alone
    if not colon and _PATH_SEGMENT.match(uri) and uri not in (".", ".."):
        # A bare name ("t3_1up9x38", Reddit's entry ids): the base's folder plus the name.
        folder = _folder(base)
        if folder:
            return folder + uri
    uri = _URI_FIXER.sub(r"\1\3", uri)
    try:
        return urljoin(base, uri)
    except ValueError:
        return ""


def _safe_urljoin(base: str, uri: str) -> str:
    """feedparser's ``make_safe_absolute_uri``: unknown schemes (``javascript:``) become ``""``."""
    if not base:
        return uri
    if not uri:
        return base
    joined = _urljoin(base, uri)
    return joined if joined.strip().split(":", 1)[0] in _SAFE_SCHEMES else ""


# Relative URLs in HTML content are resolved in links and images (feedparser also does it in
# exotic attributes such as longdesc or codebase, which sanitizing drops anyway).
_SCHEME_AHEAD = r"(?![A-Za-z][A-Za-z0-9+.-]*:)"
_NO_SCHEME = rf"""\s*=\s*(?:["']{_SCHEME_AHEAD}|(?!["'\s>]){_SCHEME_AHEAD})"""
# Literal prefixes let the regex engine skip ahead quickly; other spellings are rare.
_RELATIVE_HREF = re.compile("href" + _NO_SCHEME)
_RELATIVE_SRC = re.compile("src" + _NO_SCHEME)
_RELATIVE_ANY_CASE = re.compile("(?:href|src)" + _NO_SCHEME, re.I)
_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_ATTR = re.compile(r"""(\s(?:href|src)\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)


def _has_relative_url(value: str) -> bool:
    if _RELATIVE_HREF.search(value) or _RELATIVE_SRC.search(value):
        return True
    if "HREF" in value or "SRC" in value:
        return _RELATIVE_ANY_CASE.search(value) is not None
    return False


def _resolve_html(value: str, base: str) -> str:
    """Make relative URLs in HTML attributes absolute (only when there are any)."""
    if not base or not _has_relative_url(value):
        return value

    def attr(match: re.Match[str]) -> str:
        raw = next(g for g in match.groups()[1:] if g is not None)
        if _SCHEME.match(raw.strip()):
            return match.group(0)
        resolved = _safe_urljoin(base, raw.strip())
        return f'{match.group(1)}"{resolved.replace(chr(34), "&quot;")}"'

    return _TAG.sub(lambda tag: _ATTR.sub(attr, tag.group(0)), value)
