"""How long rendering one 30-item Korean edition takes (email + text + web + markdown).

    /work/venv/bin/python benchmarks/bench_render.py [--items N] [--repeat R] [--archive A]

Runs ``newsroom.render.rendering.render`` in-process, the way ``newsroom build``/``render`` call it:
each run creates the theme's Jinja environment afresh (so templates are compiled each time),
compiles the MJML once, inlines the CSS, and writes every file. The first run also pays for
imports and the entry-point scan; it is reported apart. ``--archive`` adds that many earlier
editions under ``editions/*/edition.json`` for the web renderer's index and feed to read.
The web renderer runs with ``incremental = false``, so each run renders the edition's page
again (a build keeps unchanged pages; benchmarks/bench_site.py measures that).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path

from newsroom import Edition, Item, Newsletter, Section, Source, hookimpl
from newsroom.config import load_config
from newsroom.core.plugins import Plugins, load_plugins
from newsroom.core.sanitize import sanitize_edition
from newsroom.render.rendering import render
from newsroom.render.themes import load_theme

SECTIONS = [
    ("papers", "📄 논문 동향", "paper", "arXiv"),
    ("models", "🤖 모델 & 도구", "model", "Hugging Face"),
    ("github", "💻 GitHub 프로젝트", "repository", "GitHub"),
    ("community", "🗣️ 커뮤니티 소식", "discussion", "r/MachineLearning"),
    ("products", "🚀 제품 출시", "product", "Product Hunt"),
    ("news", "📰 뉴스", "article", "Reuters"),
]
SUMMARY = (
    "<p>경량 멀티모달 모델이 훨씬 큰 모델과 비슷한 품질을 보였다는 보고입니다. "
    "<strong>학습 코드와 가중치</strong>가 공개되어 직접 재현해 볼 수 있으며, "
    '자세한 내용은 <a href="https://example.org/details">원문</a>에 있습니다.</p>'
    "<ul><li>파라미터 5B</li><li>3단계 학습</li></ul>"
)


#: Render every page each time, not only what changed.
FULL = {"web": {"incremental": False}}


def edition(n_items: int, day: dt.date, generated: dt.datetime) -> Edition:
    """A Korean edition with ``n_items`` spread over the six sections of the seeds."""
    sections = []
    for s, (sid, title, kind, publisher) in enumerate(SECTIONS):
        items = [
            Item(
                url=f"https://example.org/{sid}/{day.isoformat()}/{i}?ref=a&b=c",
                title=f"{title[2:]} 항목 {i + 1}: 경량 5B 통합 멀티모달 모델과 에이전트 도구",
                summary=SUMMARY,
                kind=kind,
                publisher=publisher,
                published=generated - dt.timedelta(hours=i),
                authors=["김하늘", "이바다", "박산"],
                metrics={"stars": 1234.0 * (i + 1), "stars_period": 56.0}
                if kind == "repository"
                else {},
                links={"pdf": f"https://example.org/{sid}/{i}.pdf"} if kind == "paper" else {},
            )
            for i in range(s, n_items, len(SECTIONS))
        ]
        sections.append(Section(id=sid, title=title, items=items))
    return sanitize_edition(
        Edition(
            id=day.isoformat(),
            date=day,
            title=f"AI 브리핑 · {day.isoformat()}",
            newsletter=Newsletter(title="AI 브리핑", language="ko", timezone="Asia/Seoul"),
            generated_at=generated,
            intro="<p>오늘의 AI 소식을 모았습니다.</p>",
            sections=sections,
            insight="<p><strong>에이전트 경쟁</strong>이 본격화되고 있습니다.</p>",
            categories=["briefing", "ai"],
            tags=["ai", "research"],
        )
    )


class _NoItems(Source):
    name = "bench-render-source"

    async def fetch(self, ctx):  # type: ignore[no-untyped-def]
        return []


@hookimpl
def _register_sources(register):  # type: ignore[no-untyped-def]
    register(_NoItems)


def setup(root: Path) -> Plugins:
    plugins = load_plugins()
    module = types.ModuleType("bench_render_plugin")
    module.register_sources = _register_sources  # type: ignore[attr-defined]
    plugins.add(module, "bench-render")
    return plugins


def write_config(root: Path, renderers: tuple[str, ...] = ()) -> Path:
    """newsroom.toml with the given renderers (none listed: the default three)."""
    path = root / "newsroom.toml"
    tables = "".join(f'\n[[renderers]]\nplugin = "{name}"\n' for name in renderers)
    path.write_text(
        '[newsletter]\ntitle = "AI 브리핑"\nlanguage = "ko"\ntimezone = "Asia/Seoul"\n'
        'base_url = "https://example.org/briefing/"\n\n'
        '[[sources]]\nname = "all"\nplugin = "bench-render-source"\n' + tables,
        "utf-8",
    )
    return path


def timed(repeat: int, fn: Callable[[], object]) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return runs


def ms(runs: list[float]) -> str:
    return (
        f"median {statistics.median(runs) * 1000:.1f} ms, "
        f"min {min(runs) * 1000:.1f} ms, max {max(runs) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--archive", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plugins = setup(root)
        config = load_config(write_config(root), plugins)
        generated = dt.datetime(2026, 2, 13, 21, 0, tzinfo=dt.UTC)
        current = edition(args.items, dt.date(2026, 2, 14), generated)
        for back in range(1, args.archive + 1):
            day = current.date - dt.timedelta(days=back)
            old = edition(args.items, day, generated - dt.timedelta(days=back))
            folder = config.output_dir / "editions" / old.id
            folder.mkdir(parents=True)
            old.save(folder / "edition.json")

        start = time.perf_counter()
        files = render(config, plugins, current, options=FULL)
        first = time.perf_counter() - start
        runs = timed(args.repeat, lambda: render(config, plugins, current, options=FULL))
        # The same with the theme looked up once (render() scans the entry points each call).
        theme = load_theme(config.newsletter.theme, root=config.root)
        preloaded = timed(
            args.repeat, lambda: render(config, plugins, current, theme=theme, options=FULL)
        )

        out = config.output_dir
        sizes = {
            str(p.relative_to(out)): p.stat().st_size for p in files if p.parent.name != "static"
        }
        print(f"{args.items} items, {args.archive} archived editions, {len(files)} files written")
        print(f"first render (cold, compiles the templates): {first * 1000:.1f} ms")
        print(f"render(), email + text + web + markdown, {args.repeat} runs: {ms(runs)}")
        print(f"  the same, theme preloaded: {ms(preloaded)}")
        for name in ("email", "web", "markdown"):
            one = load_config(write_config(root, (name,)), plugins)
            alone = timed(
                args.repeat, partial(render, one, plugins, current, theme=theme, options=FULL)
            )
            print(f"  {name} alone: {ms(alone)}")
        print("sizes: " + ", ".join(f"{n} {size / 1024:.1f} KiB" for n, size in sizes.items()))


if __name__ == "__main__":
    main()
