"""Where sentences end, in Korean, English, and Chinese or Japanese text.

- ``.``, ``!``, ``?`` and ``…`` end a sentence when a space (or the end) follows, after any
  closing quotes or brackets: "출시했다. 다음은" and "It works. Then" are two sentences.
- ``。``, ``！`` and ``？`` end one even with no space after them, as Chinese and Japanese
  write no spaces between sentences.
- A period is not an end after an abbreviation ("e.g.", "Dr.", "et al."), an initial
  ("J. Smith", "U.S."), inside a Korean date ("2026. 2. 14."), or before a lower-case Latin
  letter ("approx. three").
- A line break (``\\n``) always ends a sentence: callers turn paragraph and list boundaries
  into one, so a headline without a final period stays apart from the next line.
"""

from __future__ import annotations

import re

#: Words whose period does not end an English sentence (compared in lower case).
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st vs etc e.g i.e cf al approx fig figs eq eqs no nos vol
    pp inc ltd corp co dept est jan feb mar apr jun jul aug sep sept oct nov dec
    """.split()
)

_CLOSERS = "\"'”’)]}»」』〉》"
_END = re.compile(
    rf"(?P<mark>[.!?…‼⁇⁈⁉]+|[。！？．]+)(?P<close>[{re.escape(_CLOSERS)}]*)(?P<after>\s|$)?"
)
_CJK_MARKS = frozenset("。！？．")
_WORD_BEFORE = re.compile(r"(\S+)$")
_FULL_DATE = re.compile(r"\d{4}\.\s?\d{1,2}\.\s?\d{1,2}$")
_INITIALS = re.compile(r"(?:[A-Za-z]\.)*[A-Za-z]")


def _is_abbreviation(text: str, mark_start: int) -> bool:
    """True when the period at ``mark_start`` belongs to the word before it."""
    match = _WORD_BEFORE.search(text, 0, mark_start)
    if match is None:
        return False
    word = match.group(1).lstrip("(\"'“‘[").lower()
    return word in ABBREVIATIONS or bool(_INITIALS.fullmatch(word))


def _next_char(text: str, position: int) -> str:
    rest = text[position:].lstrip(" \t")
    return rest[:1]


def _ends_here(text: str, match: re.Match[str]) -> bool:
    mark = match.group("mark")
    if match.group("after") is None:
        # "3.5", "v1.2", "example.org": no space after the mark. Chinese and Japanese
        # marks end a sentence all the same.
        return bool(set(mark) & _CJK_MARKS)
    if mark[0] not in ".…":
        return True
    following = _next_char(text, match.end("close"))
    before = text[: match.start("mark")]
    if (
        before[-1:].isascii()
        and before[-1:].isalnum()
        and following.isascii()
        and following.islower()
    ):
        return False  # "approx. three", "wait... what": the sentence goes on
    if mark != ".":
        return True
    start = match.start("mark")
    if _is_abbreviation(text, start):
        return False
    # Dates written the Korean way: "2026. 2. 14. 발표".
    if before[-1:].isdigit() and following.isdigit():
        return False
    return not _FULL_DATE.search(before)


def sentence_ends(text: str) -> list[int]:
    """Offsets just past the end of each sentence of ``text`` (its last one included)."""
    ends = [m.end("close") for m in _END.finditer(text) if _ends_here(text, m)]
    ends.extend(m.start() for m in re.finditer("\n", text))
    if text.strip():
        ends.append(len(text.rstrip()))
    return sorted({e for e in ends if text[:e].strip()})


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, in order."""
    out = []
    start = 0
    for end in sentence_ends(text):
        sentence = text[start:end].strip()
        if sentence:
            out.append(sentence)
        start = end
    return out
