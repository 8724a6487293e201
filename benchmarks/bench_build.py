"""Build an edition from 200 local news feeds × 50 items, 50 ms latency per response.

    python benchmarks/bench_build.py [--feeds 200] [--items 50] [--latency 0.05] [--runs 3]
                                     [--keep-alive] [--no-render]

Prints, for the same server in the same run:
  - a plain sequential loop (fetch one feed with httpx, parse it with feedparser, next);
  - `newsroom build` (rendering included) with a cold cache: a fresh folder, so no fetch
    cache, no parse cache and no compiled templates;
  - the same build again with a warm cache (every feed answers 304).
Each measurement runs in its own process: wall time, CPU time, peak RSS. ``--runs`` repeats
the three, each time in a fresh folder.

The server closes the connection after every response, as 200 feeds on 200 hosts would be
served: a client cannot reuse a connection from one feed for the next (``--keep-alive``
lets it, as if every feed were on one host). It runs in this process and shares the
machine's cores with the build under test (whose parsing runs in worker processes); its CPU
time is printed with each figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dedupe import english_vocabulary, korean_vocabulary, make_title, reword  # noqa: E402

from newsroom.testing import LocalServer  # noqa: E402

PACKAGES = ("newsroom", "plugins", "themes")
NOW = dt.datetime(2026, 2, 14, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
# Headlines as varied as real ones: English words with their real frequencies and Korean
# words, as in the dedupe benchmark.
ENGLISH = english_vocabulary()
KOREAN = korean_vocabulary(random.Random(3))


def make_feed(n: int, items: int) -> bytes:
    """A realistic RSS 2.0 feed: titles, links with tracking params, HTML descriptions, dates."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>Feed {n}</title><link>https://site{n}.example/</link><description>d</description>",
    ]
    rng = random.Random(n)
    for i in range(items):
        # One story in twenty is also carried, reworded, by the next feed (wire stories).
        story = random.Random((n - n % 2) * 1000 + i if i % 20 == 0 else n * 1000 + i)
        words = make_title(story, ENGLISH, KOREAN)
        if i % 20 == 0 and n % 2:
            words = reword(words, rng)
        when = NOW - dt.timedelta(minutes=17 * i + n)
        # Most feeds write absolute links in their content; one item in ten here does not.
        href = f"/p/{i}" if i % 10 == 0 else f"https://site{n}.example/p/{i}"
        desc = escape(f'<p>{words} <b>{i}</b> <a href="{href}">more</a></p>' * 3)
        out.append(
            f"<item><title>{escape(words)}</title>"
            f"<link>https://site{n}.example/post/{i}?utm_source=rss</link>"
            f"<guid>https://site{n}.example/post/{i}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate><dc:creator>Writer {i % 5}</dc:creator>"
            f"<description>{desc}</description></item>"
        )
    out.append("</channel></rss>")
    return "\n".join(out).encode("utf-8")


def write_config(folder: Path, urls: list[str]) -> Path:
    groups = [urls[i::4] for i in range(4)]
    sources = "\n".join(
        f'[[sources]]\nname = "news{g}"\nplugin = "news"\nfeeds = {json.dumps(group)}\n'
        for g, group in enumerate(groups)
    )
    sections = "\n".join(
        f'[[sections]]\nid = "s{g}"\ntitle = "Section {g}"\n'
        f'match = {{ source = "news{g}" }}\nlimit = 8\n'
        for g in range(4)
    )
    text = f"""[newsletter]
title = "Bench"
language = "en"
timezone = "Asia/Seoul"

[http]
max_retry_after = 5

{sources}
[[filters]]
plugin = "window"
hours = 72

[[filters]]
plugin = "dedupe"

{sections}
"""
    path = folder / "newsroom.toml"
    path.write_text(text, "utf-8")
    return path


def child_sequential(urls: list[str]) -> None:
    import feedparser
    import httpx

    entries = 0
    with httpx.Client() as client:
        for url in urls:
            entries += len(feedparser.parse(client.get(url).content).entries)
    print(json.dumps({"entries": entries}))


def run_child(args: list[str]) -> dict[str, float | str]:
    """Run ``args`` as a process; its wall and CPU time and its peak RSS (its own worker
    processes included: they are its children)."""
    start = time.perf_counter()
    server_before = resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        # wait4: this child's own usage (getrusage(RUSAGE_CHILDREN) keeps the largest RSS of
        # every child so far, so a small process run after a big one would show the big one's).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    server_after = resource.getrusage(resource.RUSAGE_SELF)
    if proc.returncode not in (0, 4):
        raise SystemExit(f"{args} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        # The server shares the machine: how much CPU it took during this measurement.
        "server_cpu_s": round(
            (server_after.ru_utime - server_before.ru_utime)
            + (server_after.ru_stime - server_before.ru_stime),
            2,
        ),
        "stdout": stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-alive", action="store_true", help="one connection, many feeds")
    parser.add_argument("--no-render", action="store_true", help="build edition.json only")
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child is not None:
        child_sequential(args.child)
        return

    # As a regular install has (pip compiles the modules when it installs them): without
    # this, a PYTHONDONTWRITEBYTECODE environment would compile them again in every build.
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *(str(root / d) for d in PACKAGES)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with LocalServer(latency=args.latency, keep_alive=args.keep_alive) as server:
        urls = [
            server.add(
                f"/feeds/{n}.xml",
                make_feed(n, args.items),
                etag=True,
                content_type="application/rss+xml; charset=utf-8",
            )
            for n in range(args.feeds)
        ]
        print(
            f"{args.feeds} feeds × {args.items} items, {args.latency * 1000:.0f} ms latency, "
            + ("keep-alive" if args.keep_alive else "a new connection for every feed")
            + (", edition.json only" if args.no_render else ", rendering included")
        )
        ratios = []
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), urls)
                build = [
                    sys.executable,
                    "-m",
                    "newsroom",
                    "-c",
                    str(config),
                    "build",
                    "--json",
                    "--now",
                    NOW.isoformat(),
                    *(["--no-render"] if args.no_render else []),
                ]
                seq = run_child([sys.executable, __file__, "--child", *urls])
                cold = run_child(build)
                warm = run_child(build)
            report = json.loads(str(cold["stdout"]))
            kept = sum(report["sections"].values())
            print(f"run {run}:")
            for label, r in (
                ("sequential loop (httpx + feedparser)", seq),
                ("newsroom build, cold cache", cold),
                ("newsroom build, warm (304s)", warm),
            ):
                print(
                    f"  {label:40s} wall {r['wall_s']:6.2f} s  cpu {r['cpu_s']:6.2f} s  "
                    f"peak RSS {r['peak_rss_mb']:6.1f} MB  (server cpu {r['server_cpu_s']:.2f} s)"
                )
            ratio = float(seq["wall_s"]) / float(cold["wall_s"])
            ratios.append((float(cold["wall_s"]), ratio))
            print(f"  speed-up, cold build vs sequential loop: {ratio:.1f}×")
            print(f"  cold build stages (s): {report['timings']}")
            print(
                f"  worker processes parsing beside the build's own: {report['worker_processes']}"
            )
            print(f"  warm build stages (s): {json.loads(str(warm['stdout']))['timings']}")
            print(
                f"  fetched {sum(s['items'] for s in report['sources'])} items, kept {kept} in "
                f"sections, {len(report['warnings'])} warnings, {len(report['outputs'])} files "
                "rendered"
            )
        walls = sorted(w for w, _ in ratios)
        speedups = sorted(r for _, r in ratios)
        print(
            f"cold build over {len(ratios)} runs: wall {walls[0]:.2f}–{walls[-1]:.2f} s "
            f"(median {walls[len(walls) // 2]:.2f}), speed-up {speedups[0]:.1f}–{speedups[-1]:.1f}×"
        )


if __name__ == "__main__":
    main()
