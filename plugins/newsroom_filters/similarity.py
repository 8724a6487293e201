"""Near-duplicate titles: normalisation, character bigrams, and an exact similarity join.

Titles are compared by Jaccard similarity of their character bigrams after normalisation
(NFKC, casefold, punctuation/symbols/emoji removed, spaces removed). Bigrams need no word
boundaries, so Korean ("삼성, HBM4 샘플 출하 개시") works the same as English.

:func:`similar_pairs` finds every pair of titles with similarity ≥ t without comparing all
pairs (prefix filtering with positional and size filters, see :class:`_Join`); its result is
identical to an all-pairs comparison.
"""

from __future__ import annotations

import gc
import math
import operator
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain

_DIGITS = re.compile(r"\d+")
# Guards comparisons of integer overlaps with t·len against float error
# (0.7 * 10 == 7.000000000000001).
_EPSILON = 1e-9


class _Stripped(dict[int, int | None]):
    """A ``str.translate`` table, filled on demand: drops punctuation, symbols (emoji
    included) and invisible format characters, keeps letters, digits, marks and spaces."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        # Zero-width joiners and variation selectors (Cf, Mn) glue emoji sequences; other
        # combining marks are parts of letters in many scripts and are kept.
        drop = (
            unicodedata.category(char)[0] in "PSC" and not char.isspace()
        ) or 0xFE00 <= code <= 0xFE0F
        self[code] = None if drop else code
        return self[code]


_STRIP = _Stripped()


def normalize_title(title: str) -> str:
    """NFKC, casefold, punctuation/symbols/emoji/controls dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", title).casefold()
    # Deleted rather than replaced by a space, so "1,000" and "1000" read the same number.
    return " ".join(text.translate(_STRIP).split())


def bigrams(normalized: str) -> frozenset[str]:
    """Character bigrams of ``normalized`` with its spaces removed (the character itself
    for one-character titles, nothing for empty ones)."""
    compact = normalized.replace(" ", "")
    if len(compact) < 2:
        return frozenset(compact)
    return frozenset(map(operator.add, compact, compact[1:]))


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


def similar_pairs(token_sets: Sequence[frozenset[str]], threshold: float) -> dict[int, list[int]]:
    """For each set that has any, the indices of the other sets with Jaccard similarity ≥
    ``threshold`` (ascending). Exact, and far from quadratic: see :class:`_Join`."""
    with collector_paused():
        return _Join(token_sets, threshold).run()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector.

    Deduplicating 10,000 titles allocates some 10^6 small objects (bigram strings, sets,
    index lists) that create no reference cycles, and most survive until the end: the
    collector would walk every object of the process repeatedly for nothing (a sixth of the
    join's time, and a tenth of the whole filter's).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Join:
    """A prefix-filtering self-join (PPJoin, Xiao et al. 2008), adapted to bigrams.

    Tokens are ranked by global frequency, rarest first, and each set is a sorted list of
    ranks. Sets are processed by increasing size; each probes the index for earlier (so not
    larger) similar sets, then is indexed itself.

    Character bigrams come from a small alphabet (English has a few hundred common ones), so
    even a title's rarest bigrams are shared by many titles and single-token posting lists
    would be long. So the index is keyed by *pairs* of prefix tokens (Wang, Li and Feng,
    "Can we beat the prefix filtering?", SIGMOD 2012):

    - Let C be the common tokens of x and y (|y| ≤ |x|). Its first two sit in x at positions
      i1 < i2 ≤ ``|x| - |C| + 1``; as |C| ≥ t·|x|, they are within x's *probe prefix* of
      ``|x| - ceil(t·|x|) + 2`` tokens. In y, as |C| ≥ 2t/(1+t)·|y| when |y| ≤ |x|, they are
      within its shorter *index prefix* of ``|y| - ceil(2t/(1+t)·|y|) + 2`` tokens.
    - Positional filter: if a pair is C's first, the ``i2 - 1`` other tokens before it in x
      are not in y, so ``|C| ≤ |x| - i2 + 1`` (and the same for y). Pairs whose positions
      leave too little room for the overlap the sizes require are skipped.
    - Size filter: Jaccard ≥ t needs ``|y| ≥ t·|x|``.

    Sets that can be similar with a single common token are tiny (≤ 1/t tokens) and are
    matched through a plain token index of tiny sets. Every candidate is verified exactly.
    """

    def __init__(self, token_sets: Sequence[frozenset[str]], threshold: float) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        # Overlap o of sizes x, y reaches Jaccard t when o ≥ t / (1 + t) · (x + y).
        self.coef = threshold / (1 + threshold)
        frequencies = Counter(chain.from_iterable(token_sets))
        # Ties broken by the token itself, so the order is total and runs are reproducible.
        order = sorted(frequencies, key=lambda tok: (frequencies[tok], tok))
        rank = {tok: n for n, tok in enumerate(order)}
        self.base = len(rank) + 1  # pair (a, b) is keyed a * base + b
        # Tokens found in one set only (ranks below this) can be in no shared pair; they
        # still count for positions, but no pair with them is indexed or looked up.
        self.unique = sum(1 for count in frequencies.values() if count == 1)
        self.ranks = [sorted(map(rank.__getitem__, tokens)) for tokens in token_sets]
        self.sets = token_sets  # for verification: overlaps are the same as of the ranks
        self._needed_by_size: dict[int, list[int]] = {}
        # pair key -> [(set, its size, most overlap the pair's position in it allows)]
        self._pairs: dict[int, list[tuple[int, int, int]]] = {}
        # Sets of at most 1/t tokens can be similar with one common token: indexed by token.
        self._tiny = 1 / threshold + _EPSILON
        self._by_token: dict[int, list[int]] = {}

    def _needed(self, size: int) -> list[int]:
        """``needed[s]``: the overlap a set of ``size`` tokens needs with one of s ≤ size
        tokens; more than ``size`` (unreachable) when s is too small (size filter)."""
        needed = self._needed_by_size.get(size)
        if needed is None:
            t, coef = self.threshold, self.coef
            needed = [
                math.ceil(coef * (size + s) - _EPSILON) if s >= t * size - _EPSILON else size + 1
                for s in range(size + 1)
            ]
            self._needed_by_size[size] = needed
        return needed

    def run(self) -> dict[int, list[int]]:
        similar: defaultdict[int, list[int]] = defaultdict(list)
        for x in sorted(range(len(self.ranks)), key=lambda n: len(self.ranks[n])):
            if not self.ranks[x]:
                continue
            for y in self._verified(x, self._candidates(x)):
                similar[x].append(y)
                similar[y].append(x)
            self._index(x)
        for partners in similar.values():
            partners.sort()
        return dict(similar)

    def _candidates(self, x: int) -> set[int]:
        """Indexed sets that share a pair of prefix tokens with set ``x`` at positions that
        leave room for enough overlap, and that are not too small."""
        ranks, pairs, base = self.ranks[x], self._pairs, self.base
        size = len(ranks)
        needed = self._needed(size)
        found: set[int] = set()
        prefix = ranks[: min(size, size - math.ceil(self.threshold * size - _EPSILON) + 2)]
        start = bisect_left(prefix, self.unique)
        # The hot loop of the join: kept flat on purpose. Most pairs were never indexed, so
        # the lookups run in map() and only the hits reach Python code.
        get = pairs.get
        for i2 in range(start + 1, len(prefix)):
            room = size - i2 + 1
            second = prefix[i2]
            keys = [first * base + second for first in prefix[start:i2]]
            for entries in filter(None, map(get, keys)):
                for y, other_size, other_room in entries:
                    need = needed[other_size]
                    if need <= room and need <= other_room:
                        found.add(y)
        if size <= self._tiny:
            for token in ranks:
                found.update(self._by_token.get(token, ()))
        return found

    def _verified(self, x: int, candidates: set[int]) -> list[int]:
        """The candidates whose overlap with set ``x`` really reaches the threshold."""
        mine, sets = self.sets[x], self.sets
        needed = self._needed(len(mine))
        return [y for y in candidates if len(mine & sets[y]) >= needed[len(sets[y])]]

    def _index(self, x: int) -> None:
        """Make set ``x`` findable by later (not smaller) sets."""
        ranks, pairs, base = self.ranks[x], self._pairs, self.base
        size = len(ranks)
        prefix = ranks[: min(size, size - math.ceil(2 * self.coef * size - _EPSILON) + 2)]
        start = bisect_left(prefix, self.unique)
        setdefault = pairs.setdefault
        for j2 in range(start + 1, len(prefix)):
            entry = (x, size, size - j2 + 1)
            second = prefix[j2]
            for first in prefix[start:j2]:
                setdefault(first * base + second, []).append(entry)
        if size <= self._tiny:
            for token in ranks:
                self._by_token.setdefault(token, []).append(x)
