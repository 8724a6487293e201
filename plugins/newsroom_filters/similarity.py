"""Near-duplicate titles: normalisation, character bigrams, and a prefix-filtering join.

Titles are compared by Jaccard similarity of their character bigrams after normalisation
(NFKC, casefold, punctuation/symbols/emoji removed, spaces removed). Bigrams need no word
boundaries, so Korean ("삼성, HBM4 샘플 출하 개시") works the same as English.

:class:`TitleIndex` finds, for a new title, an already indexed title with similarity ≥ ``t``
without comparing against all of them (prefix filtering, Chaudhuri et al. 2006 / AllPairs):
every title's bigrams are ordered by global rarity, and only the first
``len - ceil(t·len) + 1`` of them are indexed. Two sets with Jaccard ≥ t overlap in at least
``ceil(t·len)`` tokens, so they must share a token within those prefixes; rare tokens make
the posting lists short. Candidates are then verified exactly, so the result is identical to
an all-pairs comparison.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# Emoji sequences are glued by a zero-width joiner and variation selectors (categories Cf
# and Mn); they carry no meaning for comparison. Other combining marks (Mn) are kept: they
# are letters' parts in many scripts.
_INVISIBLE = {0x200D, *range(0xFE00, 0xFE10)}
_DIGITS = re.compile(r"\d+")
# Guards the ceil() of t·len against float error (0.7 * 10 == 7.000000000000001).
_EPSILON = 1e-9


def normalize_title(title: str) -> str:
    """NFKC, casefold, punctuation/symbols/emoji/controls dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", title).casefold()
    # Deleted rather than replaced by a space, so "1,000" and "1000" read the same number.
    kept = [
        ch for ch in text
        if unicodedata.category(ch)[0] not in "PSC" or ch.isspace()
        if ord(ch) not in _INVISIBLE
    ]
    return " ".join("".join(kept).split())


def bigrams(normalized: str) -> frozenset[str]:
    """Character bigrams of ``normalized`` with its spaces removed (the character itself
    for one-character titles, nothing for empty ones)."""
    compact = normalized.replace(" ", "")
    if len(compact) < 2:
        return frozenset(compact)
    return frozenset(compact[i : i + 2] for i in range(len(compact) - 1))


def numbers(normalized: str) -> frozenset[str]:
    """The digit runs of a normalised title ("gpt 5 released" → {"5"})."""
    return frozenset(m.lstrip("0") or "0" for m in _DIGITS.findall(normalized))


def numbers_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when each title has a number the other lacks ("GPT-5" vs "GPT-4").

    One title adding a number ("… in 2025") is no conflict: reports of one story often
    differ by such details.
    """
    return bool(a - b) and bool(b - a)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    overlap = len(a & b)
    return overlap / (len(a) + len(b) - overlap)


def prefix_length(size: int, threshold: float) -> int:
    """How many of a set's rarest tokens must be indexed for a Jaccard ``threshold``."""
    return size - math.ceil(threshold * size - _EPSILON) + 1


@dataclass
class TitleIndex:
    """An incremental similarity join: :meth:`find` then :meth:`add`, title by title.

    ``frequencies`` holds how often each token occurs over all titles that will be seen;
    it fixes the global token order (rarest first) that prefix filtering relies on.
    """

    threshold: float
    frequencies: Counter[str]
    _postings: dict[str, list[int]] = field(default_factory=dict)
    _sets: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def for_titles(cls, token_sets: Iterable[frozenset[str]], threshold: float) -> TitleIndex:
        frequencies: Counter[str] = Counter()
        for tokens in token_sets:
            frequencies.update(tokens)
        return cls(threshold, frequencies)

    def _prefix(self, tokens: frozenset[str]) -> list[str]:
        # Ties broken by the token itself, so the order is total and runs are reproducible.
        ordered = sorted(tokens, key=lambda tok: (self.frequencies[tok], tok))
        return ordered[: prefix_length(len(tokens), self.threshold)]

    def candidates(self, tokens: frozenset[str]) -> list[tuple[int, float]]:
        """Indexed keys whose sets have Jaccard ≥ threshold with ``tokens``, by key order,
        each with its similarity."""
        if not tokens:
            return []
        size = len(tokens)
        # Size filter: J ≥ t implies t·|a| ≤ |b| ≤ |a| / t.
        low, high = self.threshold * size - _EPSILON, size / self.threshold + _EPSILON
        seen: set[int] = set()
        found: list[tuple[int, float]] = []
        for token in self._prefix(tokens):
            for key in self._postings.get(token, ()):
                if key in seen:
                    continue
                seen.add(key)
                other = self._sets[key]
                if not low <= len(other) <= high:
                    continue
                score = jaccard(tokens, other)
                if score >= self.threshold - _EPSILON:
                    found.append((key, score))
        found.sort()
        return found

    def add(self, key: int, tokens: frozenset[str]) -> None:
        """Index ``tokens`` under ``key`` (an int; smaller keys are preferred by callers)."""
        if not tokens:
            return
        self._sets[key] = tokens
        for token in self._prefix(tokens):
            self._postings.setdefault(token, []).append(key)
