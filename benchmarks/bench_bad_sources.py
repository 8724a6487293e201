"""How long a build takes beside six bad sources, with the default limits.

    python benchmarks/bench_bad_sources.py [--drip 1.0]

One local server serves seven feeds, each its own ``news`` source: a good one, one that
sends its body a byte every ``--drip`` seconds, 60 MB, a gzip bomb (50 MB of zeros), an HTML
page, a 404 and a 500. Runs ``newsroom build --json`` on them (nothing in ``[http]`` or
``[plugins]``: the defaults) and prints its wall time, the warnings and whether the good
items made it into the edition.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from newsroom.collect.http import MB
from newsroom.testing import LocalServer

GOOD = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title>'
    "<item><title>A good story</title><link>https://good.example/1</link>"
    "<pubDate>Sat, 14 Feb 2026 05:00:00 GMT</pubDate></item></channel></rss>"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drip", type=float, default=1.0, help="seconds between bytes")
    args = parser.parse_args()
    with LocalServer() as server, tempfile.TemporaryDirectory() as tmp:
        feeds = {
            "good": server.add("/good.xml", GOOD),
            "drip": server.add("/drip.xml", GOOD, drip=args.drip),
            "big": server.add("/big.xml", b"<rss>" + b" " * (60 * MB) + b"</rss>"),
            "bomb": server.add(
                "/bomb.xml",
                gzip.compress(b"\0" * (50 * MB), compresslevel=9),
                headers={"Content-Encoding": "gzip"},
            ),
            "page": server.add(
                "/page.html", "<!doctype html><html></html>", content_type="text/html"
            ),
            "gone": server.url + "/gone.xml",
            "broken": server.add("/broken.xml", "internal error", status=500),
        }
        config = Path(tmp) / "newsroom.toml"
        config.write_text(
            '[newsletter]\ntitle = "Bad sources"\n'
            + "".join(
                f'[[sources]]\nname = "{name}"\nplugin = "news"\nfeeds = ["{url}"]\n'
                for name, url in feeds.items()
            )
            + '[[sections]]\nid = "all"\ntitle = "All"\n',
            "utf-8",
        )
        start = time.perf_counter()
        built = subprocess.run(
            [sys.executable, "-m", "newsroom", "-c", str(config), "build", "--json"]
            + ["--now", "2026-02-14T06:00:00Z", "--no-render"],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if built.returncode != 0:
            raise SystemExit(built.stderr)
        report = json.loads(built.stdout)
        print(f"build beside six bad sources: {wall:.1f} s wall")
        for source in report["sources"]:
            print(f"  {source['name']:7s} {source['seconds']:6.1f} s  {source['items']} items")
        for warning in report["warnings"]:
            print(f"  warning {warning['source']}: {warning['message']}")
        edition = json.loads(Path(report["edition_json"]).read_text("utf-8"))
        titles = [i["title"] for s in edition["sections"] for i in s["items"]]
        print(f"  edition: {titles}; drip requests: {server.hits('/drip.xml')}")


if __name__ == "__main__":
    main()
