"""How long ``dedupe`` takes on 10,000 items (mixed English/Korean, ~10% near-duplicates).

    /work/venv/bin/python benchmarks/bench_dedupe.py [--items N] [--repeat R] [--verify]

``--verify`` also runs a brute-force all-pairs comparison on the same titles and checks that
the prefix-filtering join finds exactly the same groups (slow: quadratic).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from zoneinfo import ZoneInfo

from newsroom import FilterContext, Item
from newsroom_filters.dedupe import Dedupe
from newsroom_filters.similarity import bigrams, jaccard, normalize_title, numbers, numbers_conflict

ENGLISH = (
    "open source model release benchmark agent robot chip memory startup funding cloud "
    "security browser language vision data center energy battery quantum compiler kernel "
    "database framework python rust inference training dataset leak policy lawsuit court "
    "regulation market phone laptop camera satellite launch update preview beta paper"
).split()
KOREAN = (
    "삼성 반도체 출하 개시 인공지능 모델 공개 스타트업 투자 유치 클라우드 보안 취약점 "
    "데이터 센터 전력 배터리 양자 컴퓨터 규제 법원 판결 시장 점유율 스마트폰 카메라 위성 "
    "발사 업데이트 논문 연구 개발 네이버 카카오 엘지 현대 정부 발표 계획 확대 협력"
).split()
NAMES = ["OpenAI", "Samsung", "Google", "HBM4", "Nvidia", "Meta", "Apple", "LG", "Kakao"]
SOURCES = [f"source-{n}" for n in range(12)]


def make_title(rng: random.Random) -> str:
    words = ENGLISH if rng.random() < 0.5 else KOREAN
    parts = [rng.choice(NAMES)] + rng.sample(words, rng.randint(4, 9))
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


def make_items(count: int, seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    items: list[Item] = []
    originals: list[str] = []
    for n in range(count):
        if originals and rng.random() < 0.1:
            title = reword(rng.choice(originals), rng)
        else:
            title = make_title(rng)
            originals.append(title)
        items.append(
            Item(url=f"https://example.com/{n}?utm_source=feed", title=title,
                 source=rng.choice(SOURCES))
        )
    return items


def context() -> FilterContext:
    return FilterContext(
        newsletter_title="bench", language="en", timezone=ZoneInfo("UTC"),
        now=dt.datetime.now(dt.UTC),
    )


def brute_force(items: list[Item], threshold: float) -> int:
    """Survivor count by comparing each item with every earlier survivor (reference)."""
    survivors: list[tuple[Item, frozenset[str], frozenset[str]]] = []
    for item in items:
        norm = normalize_title(item.title)
        tokens, nums = bigrams(norm), numbers(norm)
        if not any(
            s.source != item.source and not numbers_conflict(nums, n)
            and jaccard(tokens, t) >= threshold
            for s, t, n in survivors
        ):
            survivors.append((item, tokens, nums))
    return len(survivors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()

    items = make_items(args.items)
    flt = Dedupe(Dedupe.Options(title_similarity=args.threshold))
    ctx = context()
    times = []
    result: list[Item] | None = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = flt.apply(items, ctx)
        times.append(time.perf_counter() - start)
    kept = len(result) if result is not None else len(items)
    print(
        f"dedupe: {len(items)} items -> {kept} kept ({len(items) - kept} duplicates); "
        f"best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms "
        f"over {args.repeat} runs"
    )
    if args.verify:
        start = time.perf_counter()
        expected = brute_force(items, args.threshold)
        print(f"all-pairs reference: {expected} kept in {time.perf_counter() - start:.1f} s")
        assert expected == kept, f"prefix-filtering join kept {kept}, all-pairs {expected}"


if __name__ == "__main__":
    main()
