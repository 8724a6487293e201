"""How fast ``newsroom.feeds.parse_feed`` reads feeds: the lxml fast path against feedparser.

    /work/venv/bin/python benchmarks/bench_feeds.py [--feeds 200] [--repeat 3] [--fixtures DIR]

The workload is the captured real feeds in the shared fixtures (Reddit, Hacker News, Product
Hunt, arXiv, news/), cycled until there are ``--feeds`` documents. Prints milliseconds per
entry for both paths, the speed-up, and which captured feeds take the fast path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from newsroom.feeds import FeedError, parse_feed

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


def time_parse(docs: list[tuple[str, bytes]], parser: str, repeat: int) -> tuple[float, int]:
    """Best-of-``repeat`` seconds to parse every document, and the entries parsed."""
    best, entries = float("inf"), 0
    for _ in range(repeat):
        entries = 0
        start = time.perf_counter()
        for url, content in docs:
            entries += len(parse_feed(content, url=url, parser=parser).entries)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - start)
    return best, entries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = ap.parse_args()

    paths = captured_feeds(args.fixtures)
    taken: dict[str, list[str]] = {"fast": [], "feedparser": [], "error": []}
    usable: list[tuple[str, bytes]] = []
    for path in paths:
        url = f"https://example.com/{path.name}"
        content = path.read_bytes()
        try:
            result = parse_feed(content, url=url)
        except FeedError:
            taken["error"].append(path.name)
            continue
        taken[result.parser].append(path.name)
        if result.parser == "fast" and len(result.entries) >= 10:
            usable.append((url, content))  # the benchmark compares well-formed feeds only

    docs = [usable[i % len(usable)] for i in range(args.feeds)]
    fast_s, entries = time_parse(docs, "fast", args.repeat)
    slow_s, slow_entries = time_parse(docs, "feedparser", max(1, args.repeat // 2))
    assert entries == slow_entries, (entries, slow_entries)
    sizes = [len(c) for _, c in docs]

    fast_ms = fast_s * 1000 / entries
    slow_ms = slow_s * 1000 / entries
    print(f"workload: {len(docs)} feeds, {entries} entries "
          f"({entries / len(docs):.1f}/feed, median {statistics.median(sizes) / 1024:.0f} KB)")
    print(f"fast path : {fast_ms:.4f} ms/entry  ({fast_s * 1000:.0f} ms total)")
    print(f"feedparser: {slow_ms:.4f} ms/entry  ({slow_s * 1000:.0f} ms total)")
    print(f"speed-up  : {slow_ms / fast_ms:.1f}x")
    total = len(paths)
    print(f"captured feeds: {total}; fast path {len(taken['fast'])} "
          f"({len(taken['fast']) / total:.0%}), feedparser {len(taken['feedparser'])}, "
          f"not a feed {len(taken['error'])}")
    for name in taken["feedparser"]:
        print(f"  feedparser: {name}")


if __name__ == "__main__":
    main()
