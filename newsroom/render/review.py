"""The editor's check of an edition before it goes out (``newsroom review``).

It reads what readers will get, ``edition.json`` and the rendered email next to it, and
reports, each finding an ``error`` or a ``warning``:

======================  =======  ===============================================================
check                   level    what
======================  =======  ===============================================================
``repeated``            error    one story in two places: items that share a link (canonical
                                 URL), an arXiv id or a GitHub repository, their own or in
                                 their further links and sources
``subject``             error /  the subject's Latin letters all capitals, "!", money words
                        warning  (scored by spam filters: errors); longer than mail programs show
``clipping``            error    the email's HTML is over Gmail's 102 KB, past which it is cut
``image-alt``           error    an image in the email without alt text
``summary``             warning  an item without a summary
``language``            warning  a title or summary not in the newsletter's language
``section``             warning  a configured section that is empty, or thin (one item)
``tracking``            warning  a link that still carries tracking parameters (``utm_*`` ...)
======================  =======  ===============================================================

With ``[email] require_review = true``, ``newsroom send`` and ``newsroom run`` hold an edition
whose review has errors (exit code 12).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from newsroom.core import subjects
from newsroom.core.language import in_language, language_name
from newsroom.core.model import Edition, Item
from newsroom.core.sanitize import clean_text
from newsroom.core.urls import canonical_url, is_tracking_param

if TYPE_CHECKING:
    from newsroom.config import Config

#: Gmail shows "[Message clipped]" for an HTML part larger than this.
GMAIL_CLIP = 102 * 1000
#: A section with fewer items than this is thin.
THIN = 2

_ARXIV = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_HOSTS = ("arxiv.org", "huggingface.co", "alphaxiv.org", "paperswithcode.com")
_REPO = re.compile(r"^/([\w.-]+)/([\w.-]+)")
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r"\salt\s*=", re.I)
_HREF = re.compile(r'href="(https?://[^"]+)"')


@dataclass
class Finding:
    """One thing the review found."""

    level: str
    """``error`` (holds the edition with ``require_review``) or ``warning``."""
    check: str
    message: str
    section: str | None = None
    item: str | None = None
    """The item's title, when the finding is about one."""
    url: str | None = None


@dataclass
class Review:
    """What ``newsroom review`` reports about one edition."""

    edition: str
    subject: str
    findings: list[Finding] = field(default_factory=list)
    rendered: bool = True
    """False when the email was not rendered yet: its size and images were not checked."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "edition": self.edition,
            "subject": self.subject,
            "rendered": self.rendered,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [asdict(f) for f in self.findings],
        }

    def add(self, level: str, check: str, message: str, **where: Any) -> None:
        self.findings.append(Finding(level, check, message, **where))


def story_keys(item: Item) -> set[str]:
    """What identifies the story of ``item``: canonical links, arXiv ids, repositories."""
    urls = [item.url, *item.links.values()]
    for source in item.sources:
        urls.append(source.url)
        urls.extend(source.links.values())
    keys: set[str] = set()
    for url in urls:
        if not url:
            continue
        keys.add("url:" + canonical_url(url))
        parts = urlsplit(url)
        host = parts.netloc.lower().removeprefix("www.")
        if host.endswith(_ARXIV_HOSTS):
            keys.update("arxiv:" + m for m in _ARXIV.findall(parts.path))
        if host == "github.com":
            repo = _REPO.match(parts.path)
            if repo:
                keys.add(
                    f"repo:{repo.group(1).lower()}/{repo.group(2).lower().removesuffix('.git')}"
                )
    # An arXiv id named in the text ("arXiv:2602.12205") is the paper's too.
    for match in re.finditer(r"arxiv[:\s/]*(\d{4}\.\d{4,5})", clean_text(item.summary), re.I):
        keys.add("arxiv:" + match.group(1))
    return keys


def repeated_stories(edition: Edition) -> list[tuple[Item, Item, str]]:
    """Pairs of items of ``edition`` that are one story, with what they share."""
    first: dict[str, Item] = {}
    pairs: list[tuple[Item, Item, str]] = []
    seen: set[tuple[str, str]] = set()
    for item in edition.items:
        for key in sorted(story_keys(item)):
            other = first.setdefault(key, item)
            if other is item or (other.id, item.id) in seen:
                continue
            seen.add((other.id, item.id))
            pairs.append((other, item, key))
    return pairs


def _displayed_links(item: Item) -> list[str]:
    links = [item.url, *item.links.values()]
    for source in item.sources:
        links.append(source.url)
        links.extend(source.links.values())
    return [u for u in links if u]


def review_edition(config: Config | None, edition: Edition, folder: Path | None) -> Review:
    """Review ``edition``; ``folder`` holds its rendered email (``email.html``,
    ``email.json``), ``config`` its configured sections (either may be ``None``)."""
    subject = edition.subject or edition.title
    email_json = folder / "email.json" if folder else None
    if email_json is not None and email_json.is_file():
        try:
            subject = str(json.loads(email_json.read_text("utf-8")).get("subject") or subject)
        except ValueError:
            pass
    review = Review(edition=edition.id, subject=subject)
    language = edition.language
    named = language_name(language)
    section_of = {item.id: section for section in edition.sections for item in section.items}

    for item in edition.items:
        where = {"section": section_of[item.id].id, "item": item.title, "url": item.url}
        if not clean_text(item.summary):
            review.add("warning", "summary", "no summary", **where)
        elif in_language(clean_text(item.summary), language) is False:
            review.add("warning", "language", f"the summary is not in {named}", **where)
        if in_language(item.title, language) is False:
            review.add("warning", "language", f"the title is not in {named}", **where)
        for link in _displayed_links(item):
            tracking = sorted(
                {k for k, _ in parse_qsl(urlsplit(link).query) if is_tracking_param(k)}
            )
            if tracking:
                review.add(
                    "warning",
                    "tracking",
                    f"a link carries tracking parameters ({', '.join(tracking)}): {link}",
                    **where,
                )

    for one, two, key in repeated_stories(edition):
        kind, _, value = key.partition(":")
        what = {"url": "link", "arxiv": "arXiv id", "repo": "repository"}[kind]
        review.add(
            "error",
            "repeated",
            f"the same story as {one.title!r} ({section_of[one.id].id}): same {what} {value}",
            section=section_of[two.id].id,
            item=two.title,
            url=two.url,
        )

    configured = [cc.name for cc in config.sections] if config is not None else []
    present = {section.id: section for section in edition.sections}
    for sid in configured:
        if sid not in present or not present[sid].items:
            review.add("warning", "section", "the section is empty", section=sid)
    for section in edition.sections:
        if 0 < len(section.items) < THIN:
            review.add(
                "warning",
                "section",
                f"a thin section: {len(section.items)} item",
                section=section.id,
            )

    for level, message in subjects.problems(subject):
        review.add(level, "subject", f"subject {subject!r}: {message}")

    html_path = folder / "email.html" if folder else None
    if html_path is None or not html_path.is_file():
        review.rendered = False
        return review
    html = html_path.read_bytes()
    if len(html) > GMAIL_CLIP:
        review.add(
            "error",
            "clipping",
            f"the email's HTML is {len(html):,} bytes; Gmail clips messages over "
            f"{GMAIL_CLIP:,} and hides the rest (and the unsubscribe link)",
        )
    text = html.decode("utf-8", "replace")
    for tag in _IMG.findall(text):
        if not _ALT.search(tag):
            src = re.search(r'src="([^"]*)"', tag)
            review.add(
                "error",
                "image-alt",
                f"an image without alt text: {src.group(1) if src else tag[:80]}",
            )
    reported = {f.message.rsplit(": ", 1)[-1] for f in review.findings if f.check == "tracking"}
    for link in sorted({unescape(h) for h in _HREF.findall(text)}):
        tracking = sorted({k for k, _ in parse_qsl(urlsplit(link).query) if is_tracking_param(k)})
        if tracking and link not in reported:
            review.add(
                "warning",
                "tracking",
                f"a link in the email carries tracking parameters ({', '.join(tracking)}): {link}",
            )
    return review
