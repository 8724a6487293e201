"""The ``articles`` step: a build whose 30 items have no text of their own, each linking to a
page on 127.0.0.1 (the sample news, blog and README pages of tests/data/articles).

Prints the build time cold (pages downloaded and extracted) and warm (the pages answer 304,
their text comes from the fetch cache), and the step with one page that never answers in
time: the build still ends by the step's deadline.

    python3 benchmarks/bench_articles.py
"""

from __future__ import annotations

import asyncio
import runpy
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
runpy.run_path(str(ROOT / "tests" / "bootstrap.py"))["reexec_in_venv"](Path(__file__))
sys.path.insert(0, str(ROOT / "tests"))

from canned import configure, items_toml  # noqa: E402

from newsroom.curate.pipeline import build  # noqa: E402
from newsroom.testing import LocalServer  # noqa: E402

PAGES = ROOT / "tests" / "data" / "articles"
ITEMS = 30


def newsletter(server: LocalServer, timeout: float, slow: bool = False) -> str:
    names = sorted(p.name for p in PAGES.glob("*.html"))
    items = []
    for n in range(ITEMS):
        path = f"/page/{n}"
        delay = 60.0 if slow and n == 0 else 0.0
        server.add(
            path,
            (PAGES / names[n % len(names)]).read_bytes(),
            content_type="text/html; charset=utf-8",
            etag=True,
            delay=delay,
        )
        items.append({"title": f"항목 {n}", "url": server.url + path})
    sections = (
        '[[sections]]\nid = "news"\ntitle = "뉴스"\nmatch = { source = "links" }\nlimit = 50\n'
    )
    return (
        items_toml("links", items)
        + f'[[filters]]\nplugin = "articles"\ntimeout = {timeout}\n'
        + sections
    )


def timed(folder: Path, toml: str) -> tuple[float, int, list[str]]:
    config, plugins = configure(folder, toml)
    start = time.perf_counter()
    result = asyncio.run(build(config, plugins))
    seconds = time.perf_counter() - start
    filled = sum(1 for i in result.edition.items if i.extra.get("text_from") == "article")
    return seconds, filled, [w.message for w in result.warnings]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        folder = Path(tmp)
        toml = newsletter(server, timeout=15)
        cold, filled, _ = timed(folder, toml)
        warm, filled_warm, _ = timed(folder, toml)
        print(f"{ITEMS} items to fetch, cold cache: build {cold:.2f} s, {filled} filled")
        print(f"{ITEMS} items to fetch, warm cache: build {warm:.2f} s, {filled_warm} filled")
    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        toml = newsletter(server, timeout=2, slow=True)
        seconds, filled, warnings = timed(Path(tmp), toml)
        print(
            f"one page never answers, timeout = 2: build {seconds:.2f} s, {filled} filled; "
            f"{warnings[-1] if warnings else 'no warning'}"
        )


if __name__ == "__main__":
    main()
