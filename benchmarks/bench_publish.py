"""How long ``newsroom publish --to DIR`` takes to copy the web edition of a large archive.

    .venv/bin/python benchmarks/bench_publish.py [--editions N] [--items N] [--repeat R]

The site (1,000 editions by default) is rendered once by the ``web`` renderer; then, in
process, ``publish_to_folder`` runs as ``newsroom publish`` calls it: into an empty folder
(every file copied), again with nothing changed, and after one more edition (the six files
an incremental build rewrites). Every path under the folder is opened one component at a
time without following links (:mod:`newsroom.render.safe_folder`), so these figures show what that
costs against a plain copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_site import archive, setup, write_config

from newsroom.config import load_config
from newsroom.render.publishing import publish_to_folder
from newsroom.render.rendering import render

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_themes import long_korean_edition  # noqa: E402  (the tests' 30-item edition)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editions", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plugins = setup()
    root = Path(tempfile.mkdtemp(prefix="newsroom-bench-publish-"))
    try:
        last = dt.date(2026, 2, 14)
        config = load_config(write_config(root / "n", "briefing"), plugins)
        editions = archive(root / "n", args.editions, args.items, last)
        render(config, plugins, editions[-1], only={"web"})
        site = config.output_dir / "site"
        files = sum(1 for p in site.rglob("*") if p.is_file())
        first, again = [], []
        for run in range(args.repeat):
            target, output = root / f"www-{run}", root / f"state-{run}"
            output.mkdir()
            start = time.perf_counter()
            done = publish_to_folder(site, target, output=output)
            first.append(time.perf_counter() - start)
            assert len(done.copied) == files, done
            start = time.perf_counter()
            done = publish_to_folder(site, target, output=output)
            again.append(time.perf_counter() - start)
            assert not done.copied and done.unchanged == files, done
        new = long_korean_edition(args.items, last)
        folder = config.output_dir / "editions" / new.id
        folder.mkdir(parents=True)
        new.save(folder / "edition.json")
        render(config, plugins, new, only={"web"})
        start = time.perf_counter()
        done = publish_to_folder(site, root / "www-0", output=root / "state-0")
        one_more = time.perf_counter() - start
    finally:
        shutil.rmtree(root)
    print(f"publish --to DIR: {files:,} files ({args.editions:,} editions), {args.repeat} runs")
    print(f"  into an empty folder: median {statistics.median(first) * 1000:.0f} ms")
    print(f"  nothing changed:      median {statistics.median(again) * 1000:.0f} ms")
    print(f"  one edition more:     {one_more * 1000:.0f} ms ({len(done.copied)} files copied)")


if __name__ == "__main__":
    main()
