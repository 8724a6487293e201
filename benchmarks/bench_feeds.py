"""How fast ``newsroom.collect.feeds.parse_feed`` reads feeds: the lxml fast path against
feedparser.

    /work/venv/bin/python benchmarks/bench_feeds.py [--feeds 200] [--repeat 5] [--fixtures DIR]

The workload is the captured real feeds of the shared fixtures (Reddit, Hacker News, Product
Hunt, arXiv, news/) with at least 10 entries, cycled until there are ``--feeds`` documents.
Each distinct document is timed best-of-``--repeat`` on both paths, alternating, so a busy
machine skews both alike; the workload total weights each by how often it occurs. Prints
milliseconds per entry for both paths, the speed-up, and which captured feeds take the fast
path.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from pathlib import Path

from newsroom.collect.feeds import FeedError, ParserChoice, parse_feed

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = Path(os.environ.get("NEWSROOM_SHARED", ROOT.parent / "shared")) / "fixtures"
FEED_DIRS = ("news", "reddit", "hackernews", "producthunt", "arxiv")


def captured_feeds(fixtures: Path) -> list[Path]:
    """Every XML feed among the captured fixtures (JSON API responses left out)."""
    return [
        path
        for name in FEED_DIRS
        for path in sorted((fixtures / name).rglob("*"))
        if path.is_file() and path.suffix in (".xml", ".atom", ".rss")
    ]


def seconds(content: bytes, parser: ParserChoice) -> float:
    start = time.perf_counter()
    parse_feed(content, url="https://example.com/feed", parser=parser)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = ap.parse_args()

    paths = captured_feeds(args.fixtures)
    taken: dict[str, list[str]] = {"fast": [], "feedparser": [], "error": []}
    usable: list[tuple[bytes, int]] = []
    for path in paths:
        content = path.read_bytes()
        try:
            result = parse_feed(content, url="https://example.com/feed")
        except FeedError:
            taken["error"].append(path.name)
            continue
        taken[result.parser].append(path.name)
        if result.parser == "fast" and len(result.entries) >= 10:
            usable.append((content, len(result.entries)))

    # The workload: documents cycled to --feeds; each distinct one is timed once.
    counts = Counter(i % len(usable) for i in range(args.feeds))
    entries = fast_total = slow_total = 0.0
    for index, times in counts.items():
        content, n = usable[index]
        fast = slow = float("inf")
        for _ in range(args.repeat):
            fast = min(fast, seconds(content, "fast"))
            slow = min(slow, seconds(content, "feedparser"))
        entries += n * times
        fast_total += fast * times
        slow_total += slow * times

    fast_ms, slow_ms = fast_total * 1000 / entries, slow_total * 1000 / entries
    print(f"workload: {args.feeds} feeds, {entries:.0f} entries ({entries / args.feeds:.1f}/feed)")
    print(f"fast path : {fast_ms:.4f} ms/entry  ({fast_total * 1000:.0f} ms for the workload)")
    print(f"feedparser: {slow_ms:.4f} ms/entry  ({slow_total * 1000:.0f} ms for the workload)")
    print(f"speed-up  : {slow_ms / fast_ms:.1f}x")
    total = len(paths)
    print(
        f"captured feeds: {total}; fast path {len(taken['fast'])} "
        f"({len(taken['fast']) / total:.0%}), feedparser {len(taken['feedparser'])}, "
        f"not a feed {len(taken['error'])}"
    )
    for name in taken["feedparser"]:
        print(f"  feedparser: {name}")


if __name__ == "__main__":
    main()
