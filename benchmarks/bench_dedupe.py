"""How long ``dedupe`` takes on 10,000 items (mixed English/Korean, ~10% near-duplicates).

    /work/venv/bin/python benchmarks/bench_dedupe.py [--items N] [--repeat R]
        [--vocabulary realistic|small] [--threshold T] [--verify]

The realistic vocabulary draws English words with their real frequencies (from Python's
documentation) and Korean words from common syllables, Zipf-distributed; ``small`` is a
stress test where every title reuses the same ~45 words.

``--verify`` also runs a brute-force comparison of every item with every earlier survivor
and checks that ``dedupe`` keeps exactly the same items (slow: quadratic).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import itertools
import random
import re
import statistics
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from newsroom_filters.dedupe import Dedupe
from newsroom_filters.similarity import (
    bigrams,
    jaccard,
    normalize_title,
    numbers,
    numbers_conflict,
    similar_pairs,
)

from newsroom import FilterContext, Item
from newsroom.core.urls import canonical_url

# The small vocabularies make a stress test ("--vocabulary small"): every title is 4-9 of ~45
# words, so unrelated titles share most of their bigrams and few candidates can be pruned.
SMALL_ENGLISH = (
    "open source model release benchmark agent robot chip memory startup funding cloud "
    "security browser language vision data center energy battery quantum compiler kernel "
    "database framework python rust inference training dataset leak policy lawsuit court "
    "regulation market phone laptop camera satellite launch update preview beta paper"
).split()
SMALL_KOREAN = (
    "삼성 반도체 출하 개시 인공지능 모델 공개 스타트업 투자 유치 클라우드 보안 취약점 "
    "데이터 센터 전력 배터리 양자 컴퓨터 규제 법원 판결 시장 점유율 스마트폰 카메라 위성 "
    "발사 업데이트 논문 연구 개발 네이버 카카오 엘지 현대 정부 발표 계획 확대 협력"
).split()
# Common Hangul syllables, combined into 2-3 syllable words for the realistic vocabulary.
SYLLABLES = (
    "가각간감강개거건검게격결경계고공과관광교구국군권규그근금기김나난남내네노논뉴능다단달담"
    "당대더데도동두드등디라란람래량러레력련령로록론료루류르리마만말망매메면명모목무문물미민"
    "바박반발방배백번범법변보복본부북분불비사산상새생서석선설성세소속손송수순스시식신실심아"
    "안알애야약양어언업에여역연영예오온와완외요용우운원위유육은을음의이인일임입자작장재저전"
    "점정제조종주준중지직진질차착참창채책처천체초총최추출충취치카커코크키타탄태터테토통투트"
    "파판패페편평포표품프피하학한할함합항해행향허현협형호화확환활황회효후휴흥"
)
NAMES = ["OpenAI", "Samsung", "Google", "HBM4", "Nvidia", "Meta", "Apple", "LG", "Kakao"]
SOURCES = [f"source-{n}" for n in range(12)]


class Vocabulary:
    """Words with Zipf-like frequencies, as in real headlines."""

    def __init__(self, words: list[str], weights: list[float]) -> None:
        self.words = words
        self.cumulative = list(itertools.accumulate(weights))

    def sample(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)

    @classmethod
    def zipf(cls, words: list[str]) -> Vocabulary:
        return cls(words, [1 / (rank + 1) for rank in range(len(words))])


def english_vocabulary() -> Vocabulary:
    """~3,000 English words with their real frequencies, from Python's own documentation."""
    try:
        from pydoc_data.topics import topics
    except ImportError:  # a Python built without its docs
        return Vocabulary.zipf(SMALL_ENGLISH)
    counts = collections.Counter(
        w.lower() for text in topics.values() for w in re.findall(r"[A-Za-z]{3,}", text)
    )
    words, weights = zip(*counts.most_common(), strict=True)
    return Vocabulary(list(words), list(weights))


def korean_vocabulary(rng: random.Random, size: int = 3000) -> Vocabulary:
    words = {"".join(rng.choices(SYLLABLES, k=rng.choice((2, 2, 3)))) for _ in range(size)}
    return Vocabulary.zipf(sorted(words))


def make_title(rng: random.Random, english: Vocabulary, korean: Vocabulary) -> str:
    vocabulary = english if rng.random() < 0.5 else korean
    parts = [rng.choice(NAMES), *vocabulary.sample(rng, rng.randint(4, 9))]
    if rng.random() < 0.3:
        parts.insert(rng.randint(1, len(parts)), str(rng.randint(2, 2030)))
    return " ".join(parts)


def reword(title: str, rng: random.Random) -> str:
    """A near-duplicate as another outlet would write it."""
    change = rng.choice(["punct", "case", "emoji", "drop", "comma"])
    if change == "punct":
        return title + rng.choice(["!", "?", " …", " - report"])
    if change == "case":
        return title.upper() if rng.random() < 0.5 else title.title()
    if change == "emoji":
        return rng.choice(["🚀 ", "🔥 ", "[속보] "]) + title
    if change == "comma":
        first, _, rest = title.partition(" ")
        return f"{first}, {rest}"
    words = title.split()
    if len(words) > 6:
        del words[rng.randrange(1, len(words))]
    return " ".join(words)


def make_items(count: int, *, small: bool = False, seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    if small:
        english, korean = Vocabulary.zipf(SMALL_ENGLISH), Vocabulary.zipf(SMALL_KOREAN)
    else:
        english, korean = english_vocabulary(), korean_vocabulary(rng)
    items: list[Item] = []
    originals: list[str] = []
    for n in range(count):
        if originals and rng.random() < 0.1:
            title = reword(rng.choice(originals), rng)
        else:
            title = make_title(rng, english, korean)
            originals.append(title)
        items.append(
            Item(
                url=f"https://example.com/{n}?utm_source=feed",
                title=title,
                source=rng.choice(SOURCES),
            )
        )
    return items


def context() -> FilterContext:
    return FilterContext(
        newsletter_title="bench",
        language="en",
        timezone=ZoneInfo("UTC"),
        now=dt.datetime.now(dt.UTC),
    )


def brute_force(items: list[Item], threshold: float) -> list[Item]:
    """The survivors found by comparing each item with every earlier survivor (reference;
    the items here have distinct links, so titles decide)."""
    survivors: list[tuple[Item, frozenset[str], frozenset[str]]] = []
    for item in items:
        norm = normalize_title(item.title)
        tokens, nums = bigrams(norm), numbers(norm)
        if not any(
            s.source != item.source
            and not numbers_conflict(nums, n)
            and jaccard(tokens, t) >= threshold - 1e-9
            for s, t, n in survivors
        ):
            survivors.append((item, tokens, nums))
    return [s for s, _, _ in survivors]


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """Best and median wall time of ``repeat`` runs, in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--vocabulary", choices=["realistic", "small"], default="realistic")
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()

    items = make_items(args.items, small=args.vocabulary == "small")
    flt = Dedupe(Dedupe.Options(title_similarity=args.threshold))
    ctx = context()
    result = flt.apply(items, ctx)
    kept = items if result is None else result
    best, median = best_of(args.repeat, lambda: flt.apply(items, ctx))
    print(
        f"dedupe, {args.vocabulary} vocabulary: {len(items)} items -> {len(kept)} kept "
        f"({len(items) - len(kept)} duplicates) in {best:.0f} ms "
        f"(median {median:.0f} ms of {args.repeat} runs)"
    )
    # Where the time goes: the links' canonical form (newsroom.core.urls) and the title join.
    urls, _ = best_of(args.repeat, lambda: [canonical_url(i.url) for i in items])
    token_sets = [bigrams(normalize_title(i.title)) for i in items]
    join, _ = best_of(args.repeat, lambda: similar_pairs(token_sets, args.threshold))
    print(f"  of which canonical URLs {urls:.0f} ms; title similarity join {join:.0f} ms")
    if args.verify:
        start = time.perf_counter()
        expected = brute_force(items, args.threshold)
        print(f"all-pairs reference: {len(expected)} kept in {time.perf_counter() - start:.1f} s")
        assert [i.url for i in expected] == [i.url for i in kept], "results differ"
        print("identical results")


if __name__ == "__main__":
    main()
