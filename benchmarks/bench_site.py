"""How long building the web edition's site takes: all of it for 1,000 editions, and the
incremental build after adding one; and how large each theme's compiled email is.

    .venv/bin/python benchmarks/bench_site.py [--editions N] [--items N] [--repeat R]

The site is built in-process by the ``web`` renderer, as ``newsroom build``, ``render`` and
``publish`` call it (``render(..., only={"web"})``). The full build starts with no site state
(the first build of an archive, or one after a theme change); the incremental build adds one
edition.json and renders it, as the next morning's ``newsroom build`` does. Email sizes are
for a 30-item Korean edition: the compiled ``email.html`` and its HTML part as encoded in the
sent message (``EditionMessage.build``), against Gmail's 102 KB clipping size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

from newsroom import Edition, Source, hookimpl
from newsroom.config import load_config
from newsroom.core.plugins import Plugins, load_plugins
from newsroom.deliver.messages import EditionMessage, Recipient, Sender
from newsroom.deliver.tokens import Signer
from newsroom.render.rendering import render

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_themes import long_korean_edition  # noqa: E402  (the tests' 30-item edition)

GMAIL_CLIP = 102 * 1000


class _NoItems(Source):
    name = "bench-site-source"

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        return []


@hookimpl
def _register_sources(register):  # type: ignore[no-untyped-def]
    register(_NoItems)


def setup() -> Plugins:
    plugins = load_plugins()
    module = types.ModuleType("bench_site_plugin")
    module.register_sources = _register_sources  # type: ignore[attr-defined]
    plugins.add(module, "bench-site")
    return plugins


def write_config(root: Path, theme: str, source: str = 'plugin = "bench-site-source"') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "newsroom.toml"
    path.write_text(
        '[newsletter]\ntitle = "AI 브리핑"\nlanguage = "ko"\ntimezone = "Asia/Seoul"\n'
        f'base_url = "https://example.org/briefing/"\ntheme = "{theme}"\n\n'
        f'[[sources]]\nname = "all"\n{source}\n\n'
        '[email]\nfrom = "AI 브리핑 <briefing@example.org>"\n'
        'postal_address = "AI 브리핑 편집부, 서울특별시 종로구 예시로 1"\n',
        "utf-8",
    )
    return path


def archive(config_dir: Path, n: int, items: int, last: dt.date) -> list[Edition]:
    """``n`` daily editions ending the day before ``last``, written as edition.json."""
    template = long_korean_edition(items, last)
    out = []
    for back in range(n, 0, -1):
        day = last - dt.timedelta(days=back)
        edition = template.model_copy(
            update={
                "id": day.isoformat(),
                "date": day,
                "title": f"AI 브리핑 {day.year}년 {day.month}월 {day.day}일",
                "generated_at": dt.datetime.combine(day, dt.time(21, 0), tzinfo=dt.UTC)
                - dt.timedelta(days=1),
            }
        )
        folder = config_dir / "build" / "editions" / edition.id
        folder.mkdir(parents=True, exist_ok=True)
        edition.save(folder / "edition.json")
        out.append(edition)
    return out


def site_files(site: Path) -> dict[str, int]:
    return {str(p.relative_to(site)): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


def bench_site(plugins: Plugins, root: Path, n: int, items: int, repeat: int) -> None:
    last = dt.date(2026, 2, 14)
    fulls, increments, noops, rewritten = [], [], [], []
    for run in range(repeat):
        work = root / f"site-{run}"
        config = load_config(write_config(work, "briefing"), plugins)
        editions = archive(work, n, items, last)
        start = time.perf_counter()
        render(config, plugins, editions[-1], only={"web"})
        fulls.append(time.perf_counter() - start)

        before = site_files(config.output_dir / "site")
        new = long_korean_edition(items, last)
        folder = config.output_dir / "editions" / new.id
        folder.mkdir(parents=True)
        new.save(folder / "edition.json")
        start = time.perf_counter()
        written = render(config, plugins, new, only={"web"})
        increments.append(time.perf_counter() - start)
        after = site_files(config.output_dir / "site")
        changed = sorted(k for k in after if before.get(k) != after[k])
        rewritten.append(changed)

        start = time.perf_counter()
        again = render(config, plugins, new, only={"web"})
        noops.append(time.perf_counter() - start)
        assert not again, again
        assert len(written) == len(changed)
        shutil.rmtree(work)
    pages = n + 3 + 1  # editions, front page, archive, feed, sitemap
    print(f"site: {n:,} editions of {items} items ({pages:,} files), theme briefing, {repeat} runs")
    print(f"  full build:        median {statistics.median(fulls):.2f} s (min {min(fulls):.2f} s)")
    print(
        f"  incremental (+1):  median {statistics.median(increments) * 1000:.0f} ms "
        f"(min {min(increments) * 1000:.0f} ms), files rewritten: {len(rewritten[-1])} "
        f"({', '.join(rewritten[-1])})"
    )
    print(f"  nothing changed:   median {statistics.median(noops) * 1000:.0f} ms, 0 files")


def bench_command(root: Path, n: int, items: int) -> None:
    """The same as whole ``newsroom render`` commands (all renderers, a fresh process each)."""
    work = root / "command"
    # A real source plugin, so the command line can open the config; render never fetches.
    config = write_config(work, "briefing", 'plugin = "news"\nfeeds = ["http://127.0.0.1:9/feed"]')
    last = dt.date(2026, 2, 14)
    editions = archive(work, n, items, last)

    def command(*args: str) -> float:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "newsroom", "-c", str(config), "render", *args],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start

    full = command(editions[-1].id)
    new = long_korean_edition(items, last)
    folder = work / "build" / "editions" / new.id
    folder.mkdir(parents=True)
    new.save(folder / "edition.json")
    incremental = command(new.id)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import newsroom.cli"], check=True)
    startup = time.perf_counter() - start
    print(
        f"  as commands: `newsroom render` of the archive {full:.2f} s; after adding one "
        f"{incremental:.2f} s, email and Jekyll post included (`python -c 'import "
        f"newsroom.cli'` alone: {startup:.2f} s)"
    )


def bench_email(plugins: Plugins, root: Path, items: int) -> None:
    sender = Sender(
        from_header="=?utf-8?b?QUkg67iM66as7ZWR?= <briefing@example.org>",
        address="briefing@example.org",
        domain="example.org",
        list_id="AI 브리핑 <ai-briefing.example.org>",
        subscriptions_url="https://example.org/briefing/subscription/",
        unsubscribe_mailto="briefing@example.org",
    )
    signer = Signer(["bench-signing-key-0123456789abcdef"])
    edition = long_korean_edition(items)
    print(f"email: a {items}-item Korean edition (Gmail clips above {GMAIL_CLIP / 1000:.0f} KB)")
    for theme in ("default", "briefing"):
        config = load_config(write_config(root / f"email-{theme}", theme), plugins)
        render(config, plugins, edition, only={"email"})
        folder = config.output_dir / "editions" / edition.id
        html = (folder / "email.html").read_bytes()
        message = EditionMessage.from_files(folder, edition.id, sender, signer)
        data = message.build(Recipient("jiwoo.kim@example.com", "김지우", "uid-1", {})).data
        boundary = data.split(b'boundary="', 1)[1].split(b'"', 1)[0]
        part = next(p for p in data.split(b"--" + boundary) if b"text/html" in p[:200])
        body = part.split(b"\r\n\r\n", 1)[1]
        encoding = part.split(b"Content-Transfer-Encoding: ", 1)[1].split(b"\r\n", 1)[0]
        print(
            f"  {theme:<9} email.html {len(html) / 1000:.1f} KB; HTML part as sent "
            f"{len(body) / 1000:.1f} KB ({encoding.decode()}), "
            f"{len(body) / GMAIL_CLIP:.0%} of the clipping size; whole message "
            f"{len(data) / 1000:.1f} KB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editions", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plugins = setup()
    with tempfile.TemporaryDirectory() as tmp:
        bench_email(plugins, Path(tmp), args.items)
        bench_site(plugins, Path(tmp), args.editions, args.items, args.repeat)
        bench_command(Path(tmp), args.editions, args.items)


if __name__ == "__main__":
    main()
