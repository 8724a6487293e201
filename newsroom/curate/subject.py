"""The default subject line of an edition: the newsletter and the lead story.

"AI 브리핑 · DeepGen 1.0 외 27건" says what is inside; the edition's title alone ("AI 브리핑
2026년 2월 14일") says only when, and its only Latin letters are capitals, which spam filters
score as shouting. The lead story is the first item of the first section (after the
editor's pins). A lead whose subject would read as shouting (:func:`newsroom.core.subjects.
shouting`: "GLM-5 공개") gives way to the next item; if none of the first items does, the
subject names the lead without the newsletter's name (the sender's name says it anyway).
The editor's ``subject:`` in the notes file, when there is one, is used instead.
"""

from __future__ import annotations

import re

from newsroom.core.model import Edition
from newsroom.core.sanitize import clean_text
from newsroom.core.subjects import shouting

#: The subject by the newsletter's language; others get the English one.
FORMATS = {
    "ko": ("{title} · {lead} 외 {others}건", "{title} · {lead}"),
    "en": ("{title}: {lead} and {others} more", "{title}: {lead}"),
}
#: Characters of the lead's title kept in the subject.
MAX_LEAD = 40
#: Items considered for the lead, from the top.
LEADS = 3

_HEAD = re.compile(r"^(.{4,}?)\s*(?::|：| — | – | - | \| )")


def short_title(title: str) -> str:
    """The part of ``title`` a subject names: before its colon or dash when that part is
    long enough to name something, cut at a space to :data:`MAX_LEAD` characters."""
    text = clean_text(title)
    head = _HEAD.match(text)
    if head:
        text = head.group(1)
    if len(text) > MAX_LEAD:
        cut = text[:MAX_LEAD].rsplit(" ", 1)[0] if " " in text[:MAX_LEAD] else text[:MAX_LEAD]
        text = cut.rstrip(",.·:;") + "…"
    return text


def default_subject(edition: Edition) -> str:
    """The subject of ``edition`` when the editor gave none."""
    items = edition.items
    if not items:
        return edition.title
    many, one = FORMATS.get(edition.language.split("-")[0].lower(), FORMATS["en"])
    pattern = many if len(items) > 1 else one
    name = edition.newsletter.title
    leads = [short_title(item.title) for item in items[:LEADS]]
    for lead in leads:
        subject = pattern.format(title=name, lead=lead, others=len(items) - 1)
        if not shouting(subject):
            return subject
    without_name = pattern.replace("{title}", "").lstrip(" ·:")
    return without_name.format(lead=leads[0], others=len(items) - 1)
