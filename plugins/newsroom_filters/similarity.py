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
from dataclasses import dataclass
from itertools import combinations

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


def prefix_length(size: int, threshold: float, shared: int = 1) -> int:
    """How many of a set's rarest tokens to index so that any set with Jaccard ≥
    ``threshold`` shares at least ``shared`` of them (when the overlap allows that many)."""
    return min(size, size - math.ceil(threshold * size - _EPSILON) + shared)


@dataclass(frozen=True)
class Record:
    """A token set prepared for :class:`TitleIndex`: token ranks, rarest first."""

    ranks: list[int]
    tokens: frozenset[int]


class TitleIndex:
    """An incremental similarity join: :meth:`candidates` then :meth:`add`, title by title.

    Built from every token set that will be seen, which fixes the global token order
    (rarest first) that prefix filtering relies on.

    Character bigrams come from a small alphabet (English has a few hundred common ones), so
    even a title's rarest bigrams are shared by many titles and single-token posting lists
    stay long. The prefixes are therefore ``k - 1`` tokens longer, which guarantees that two
    sets with overlap ≥ k share at least *k* prefix tokens (the k-th common token of x and y
    sits at most at position ``|x| - overlap + k - 1``; Wang, Li and Feng, 2012), and the
    index is keyed by k-subsets of prefix tokens, whose posting lists are nearly empty. Pairs
    that may need an overlap below k are both small and go through a plain token index of
    small sets.
    """

    def __init__(
        self, token_sets: Iterable[frozenset[str]], threshold: float, shared: int = 2
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.shared = shared
        frequencies: Counter[str] = Counter()
        for tokens in token_sets:
            frequencies.update(tokens)
        # Ties broken by the token itself, so the order is total and runs are reproducible.
        order = sorted(frequencies, key=lambda tok: (frequencies[tok], tok))
        self._rank = {tok: n for n, tok in enumerate(order)}
        self._coef = threshold / (1 + threshold)
        # Overlap below k is possible only when |x| + |y| ≤ (k - 1)(1 + t) / t.
        self._small = (shared - 1) * (1 + threshold) / threshold - 1 + _EPSILON
        self._subsets: dict[tuple[int, ...], list[int]] = {}  # k prefix tokens -> keys
        self._by_token: dict[int, list[int]] = {}  # token -> keys, small sets only
        self._records: dict[int, Record] = {}

    def prepare(self, tokens: frozenset[str]) -> Record:
        rank = self._rank
        for tok in tokens:
            # A token not seen at construction sorts last, as if very frequent: correct, as
            # the order only has to be the same for every set.
            if tok not in rank:
                rank[tok] = len(rank)
        ranks = sorted([rank[tok] for tok in tokens])
        return Record(ranks, frozenset(ranks))

    def _prefix(self, ranks: list[int]) -> list[int]:
        return ranks[: prefix_length(len(ranks), self.threshold, self.shared)]

    def candidates(self, record: Record) -> list[tuple[int, float]]:
        """Indexed keys whose sets have Jaccard ≥ threshold with ``record``, by key order,
        each with its similarity."""
        size = len(record.ranks)
        if not size:
            return []
        keys: set[int] = set()
        subsets = self._subsets
        for subset in combinations(self._prefix(record.ranks), self.shared):
            found_keys = subsets.get(subset)
            if found_keys:
                keys.update(found_keys)
        if size <= self._small:
            for token in record.ranks:
                keys.update(self._by_token.get(token, ()))
        # Size filter: J ≥ t implies t·|x| ≤ |y| ≤ |x| / t.
        smallest = self.threshold * size - _EPSILON
        largest = size / self.threshold + _EPSILON
        mine, records, coef = record.tokens, self._records, self._coef
        found = []
        for key in keys:
            other = records[key].tokens
            other_size = len(other)
            if other_size < smallest or other_size > largest:
                continue
            overlap = len(mine & other)
            if overlap >= coef * (size + other_size) - _EPSILON:
                found.append((key, overlap / (size + other_size - overlap)))
        found.sort()
        return found

    def add(self, key: int, record: Record) -> None:
        """Index ``record`` under ``key`` (an int; callers prefer smaller keys)."""
        if not record.ranks:
            return
        self._records[key] = record
        subsets = self._subsets
        for subset in combinations(self._prefix(record.ranks), self.shared):
            subsets.setdefault(subset, []).append(key)
        if len(record.ranks) <= self._small:
            for token in record.ranks:
                self._by_token.setdefault(token, []).append(key)
