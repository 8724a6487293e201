"""What makes a subject line read badly, or like spam, in an inbox.

Used by the default subject (:mod:`newsroom.curate.subject`), which avoids these, and by
``newsroom review``, which reports them in the editor's own subject. The checks follow what
spam filters and mail programs commonly do with a subject: a line whose Latin letters are
all capitals reads as shouting (SpamAssassin's SUBJ_ALL_CAPS looks at exactly that, and an
acronym beside Korean text, "AI 브리핑 2026년 2월 14일", is enough), runs of "!" or "?",
money signs, and a length mail programs cut off.
"""

from __future__ import annotations

import re

#: Characters most mail programs show of a subject before cutting it.
SHOWN = 70

_LATIN = re.compile(r"[A-Za-z]")
_SHOUTS = re.compile(r"[!?]{2,}|!")
_MONEY = re.compile(r"[$€£₩]\s?\d|\d\s?[$€£₩]|\b(?:free|무료|공짜)\b", re.I)


def shouting(subject: str) -> bool:
    """True when the subject's Latin letters are all capitals (a subject of more than one
    word and ten characters; as SpamAssassin judges it)."""
    subject = subject.strip()
    if " " not in subject or len(subject) < 10:
        return False
    letters = "".join(_LATIN.findall(subject))
    return bool(letters) and letters == letters.upper()


def problems(subject: str) -> list[tuple[str, str]]:
    """``(level, message)`` for each thing wrong with ``subject``; level is ``error`` for
    what spam filters score, ``warning`` for what only reads badly."""
    found: list[tuple[str, str]] = []
    if not subject.strip():
        return [("error", "the subject is empty")]
    if shouting(subject):
        found.append(
            (
                "error",
                "its Latin letters are all capitals (spam filters score this, e.g. "
                "SpamAssassin's SUBJ_ALL_CAPS); name something in lower case, such as the lead "
                "story",
            )
        )
    if _SHOUTS.search(subject):
        found.append(("error", "it has an exclamation mark (spam filters score this)"))
    if _MONEY.search(subject):
        found.append(("error", "it speaks of money or of free things (spam filters score this)"))
    if len(subject) > SHOWN:
        found.append(
            (
                "warning",
                f"{len(subject)} characters: mail programs show about {SHOWN}, the rest is cut",
            )
        )
    return found
