"""Worker processes for parsing (newsroom.collect.workers): a build parsed in them is the
same build.

The processes are forked only while no other thread runs, so the builds here run as
subprocesses (this test process has the local server's threads).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_feed_corpus import serve_corpus

from newsroom.collect.workers import CpuWorkers
from newsroom.testing import LocalServer

DATA = Path(__file__).parent / "data" / "feeds"
NOW = "2026-02-14T06:00:00+09:00"


# Functions a worker runs must be importable there: a module written next to the script.
HELPERS = """
import os


def pid_and_square(n):
    return os.getpid(), n * n


def die_in_a_worker(parent):
    if os.getpid() != parent:
        os._exit(3)  # as a segfault in a C extension would end it
    return 42


class Particular(Exception):
    def __init__(self, message, *, url):  # pickles, but does not unpickle
        super().__init__(message)
        self.url = url


def fail(kind):
    if kind == "plain":
        raise ValueError("not a feed")
    raise Particular("odd", url="https://example.org/")


def sleep(seconds):
    import time
    time.sleep(seconds)
    return os.getpid()
"""


def _python(folder: Path, code: str) -> str:
    (folder / "helpers.py").write_text(HELPERS, "utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=folder, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_workers_run_in_other_processes_only_when_no_thread_runs(tmp_path: Path) -> None:
    out = _python(
        tmp_path,
        "import asyncio, json, os\n"
        "from helpers import pid_and_square\n"
        "from newsroom.collect.workers import CpuWorkers\n"
        "async def go(w):\n"
        "    return await asyncio.gather(*(w.run(pid_and_square, n) for n in range(8)))\n"
        "with CpuWorkers(2) as w:\n"
        "    results = asyncio.run(asyncio.wait_for(go(w), 30))\n"
        "    print(json.dumps([w.processes, os.getpid(), results]))\n",
    )
    processes, parent, results = json.loads(out)
    assert processes == 2
    assert parent not in {pid for pid, _ in results}  # nothing ran in the parent
    assert [square for _, square in results] == [n * n for n in range(8)]
    # In this process a thread is made sure of: then no process may be forked.
    sys.path.insert(0, str(tmp_path))
    try:
        from helpers import pid_and_square  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        with CpuWorkers(2) as workers:
            assert workers.processes == 0
            assert asyncio.run(workers.run(pid_and_square, 7)) == (os.getpid(), 49)
    finally:
        stop.set()
        helper.join()


def test_a_dead_worker_process_leaves_the_work_to_threads(tmp_path: Path) -> None:
    out = _python(
        tmp_path,
        "import asyncio, os\n"
        "from helpers import die_in_a_worker\n"
        "from newsroom.collect.workers import CpuWorkers\n"
        "with CpuWorkers(1) as w:\n"
        "    before = w.processes\n"
        "    first = asyncio.run(w.run(die_in_a_worker, os.getpid()))\n"
        "    second = asyncio.run(w.run(die_in_a_worker, os.getpid()))\n"
        "    print(before, first, second, w.processes)\n",
    )
    assert out.split() == ["1", "42", "42", "0"]


def test_a_fork_that_fails_halfway_leaves_threads_and_nothing_running(tmp_path: Path) -> None:
    """The second fork fails (no memory, no process slot): the first worker is stopped, the
    collector is unfrozen, the work runs in threads and the command exits."""
    out = _python(
        tmp_path,
        "import asyncio, gc, multiprocessing, os\n"
        "from multiprocessing.popen_fork import Popen\n"
        "from helpers import pid_and_square\n"
        "from newsroom.collect.workers import CpuWorkers\n"
        "launch, started = Popen._launch, []\n"
        "def failing(self, process_obj):\n"
        "    if started:\n"
        "        raise OSError(11, 'Resource temporarily unavailable')\n"
        "    started.append(1)\n"
        "    return launch(self, process_obj)\n"
        "Popen._launch = failing\n"
        "with CpuWorkers(2) as w:\n"
        "    print(w.processes, gc.get_freeze_count(), len(multiprocessing.active_children()))\n"
        "    pid, square = asyncio.run(w.run(pid_and_square, 3))\n"
        "    print(pid == os.getpid(), square)\n",
    )
    assert out.splitlines() == ["0 0 0", "True 9"]


def test_exceptions_come_back_and_the_workers_stay(tmp_path: Path) -> None:
    out = _python(
        tmp_path,
        "import asyncio\n"
        "from helpers import fail\n"
        "from newsroom.collect.workers import CpuWorkers\n"
        "async def attempt(w, kind):\n"
        "    try:\n"
        "        await w.run(fail, kind)\n"
        "    except Exception as exc:\n"
        "        return f'{type(exc).__name__}: {exc}'\n"
        "with CpuWorkers(1) as w:\n"
        "    print(asyncio.run(attempt(w, 'plain')))\n"
        "    print(asyncio.run(attempt(w, 'particular')))\n"
        "    print(w.processes)\n",
    )
    assert out.splitlines() == ["ValueError: not a feed", "RuntimeError: Particular: odd", "1"]


def test_closing_stops_work_that_outlived_its_caller(tmp_path: Path) -> None:
    """A source cut off by its timeout leaves its parse running: closing does not wait."""
    out = _python(
        tmp_path,
        "import asyncio, multiprocessing, time\n"
        "from helpers import sleep\n"
        "from newsroom.collect.workers import CpuWorkers\n"
        "async def cut_off(w):\n"
        "    try:\n"
        "        async with asyncio.timeout(0.5):\n"
        "            await w.run(sleep, 30)\n"
        "    except TimeoutError:\n"
        "        return 'timed out'\n"
        "w = CpuWorkers(1)\n"
        "print(asyncio.run(cut_off(w)))\n"
        "start = time.monotonic()\n"
        "w.close()\n"
        "print(time.monotonic() - start < 5, len(multiprocessing.active_children()))\n",
    )
    assert out.splitlines() == ["timed out", "True 0"]


def _build(
    folder: Path, processes: int, *, fresh: bool = True
) -> tuple[dict[str, object], dict[str, object]]:
    (folder / "newsroom.toml").write_text(
        (folder / "template.toml").read_text("utf-8").replace("PROCESSES", str(processes)),
        "utf-8",
    )
    for stale in ("build", ".cache", "state.db") if fresh else ():
        path = folder / stale
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml"), "build"]
        + ["--no-render", "--json", "--now", NOW],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    edition = json.loads(Path(report["edition_json"]).read_text("utf-8"))
    return report, edition


def _same_build_either_way(tmp_path: Path, urls: list[str]) -> tuple[int, int]:
    """Build from ``urls`` parsed by one worker process, then in threads: the same edition,
    item for item (each source's items fill its own section), and the same warnings."""
    groups = [urls[n : n + 25] for n in range(0, len(urls), 25)]
    tables = "".join(
        f"""
[[sources]]
name = "feeds{n}"
plugin = "news"
feeds = {json.dumps(group)}

[[sections]]
id = "s{n}"
title = "Feeds {n}"
match = {{ source = "feeds{n}" }}
limit = 500
order = "source"
"""
        for n, group in enumerate(groups)
    )
    (tmp_path / "template.toml").write_text(
        '[newsletter]\ntitle = "Workers"\ntimezone = "Asia/Seoul"\n\n'
        "[plugins]\nworker_processes = PROCESSES\n\n[http]\nretries = 0\n" + tables,
        "utf-8",
    )
    in_threads, by_worker = _build(tmp_path, 0), _build(tmp_path, 1)
    assert (in_threads[0]["worker_processes"], by_worker[0]["worker_processes"]) == (0, 1)
    # (in the order the feeds finished, which differs from run to run)
    assert sorted(map(str, in_threads[0]["warnings"])) == sorted(  # type: ignore[call-overload]
        map(str, by_worker[0]["warnings"])  # type: ignore[call-overload]
    )
    assert in_threads[1]["sections"] == by_worker[1]["sections"]
    items = sum(len(s["items"]) for s in by_worker[1]["sections"])  # type: ignore[attr-defined]
    return items, len(by_worker[0]["warnings"])  # type: ignore[arg-type]


def test_a_build_parsed_in_a_worker_process_is_the_same_build(tmp_path: Path) -> None:
    with LocalServer() as server:
        urls = [
            server.add(f"/{path.name}", path.read_bytes(), etag=True)
            for path in sorted(DATA.iterdir())
        ]
        items, warnings = _same_build_either_way(tmp_path, urls)
    assert items > 10 and warnings == 3  # not_a_feed.html, and entries lacking a link or title


def test_the_parse_cache_when_workers_parse(tmp_path: Path) -> None:
    """With workers, the build's own process keeps the parse cache: a second build reads
    every feed's items from it, and a damaged entry is parsed again and replaced."""
    import sqlite3

    with LocalServer() as server:
        urls = [
            server.add(f"/{path.name}", path.read_bytes(), etag=True)
            for path in sorted(DATA.iterdir())
        ]
        _same_build_either_way(tmp_path, urls)  # writes template.toml
        first = _build(tmp_path, 1)
        cache = tmp_path / ".cache" / "http" / "cache.sqlite"

        def results() -> list[bytes]:
            with sqlite3.connect(cache) as db:
                rows = [bytes(r[0]) for r in db.execute("SELECT data FROM results")]
            db.close()
            return rows

        stored = results()
        assert len(stored) == len(urls) - 1  # every feed but the HTML page
        again = _build(tmp_path, 1, fresh=False)
        assert again[1]["sections"] == first[1]["sections"]
        assert sorted(results()) == sorted(stored)
        with sqlite3.connect(cache) as db:
            db.execute("UPDATE results SET data = ?", (b'{"items": [{"url": 1}]',))
        db.close()
        repaired = _build(tmp_path, 1, fresh=False)
        assert repaired[0]["worker_processes"] == 1
        assert repaired[1]["sections"] == first[1]["sections"]
        assert sorted(results()) == sorted(stored)


def test_the_feed_corpus_parsed_in_a_worker_process(tmp_path: Path, shared_fixtures: Path) -> None:
    with LocalServer() as server:
        urls = serve_corpus(server, shared_fixtures)
        items, warnings = _same_build_either_way(tmp_path, urls)
    # Most corpus files are odd or broken on purpose: few entries have a title and a link.
    assert items > 0 and warnings > len(urls) // 2


def test_the_run_cpu_example_in_the_guide(tmp_path: Path) -> None:
    """The ``run_cpu`` example in docs/plugins.md works as a plugin module, in a worker."""
    guide = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text("utf-8")
    block = guide.split("`run_cpu` pays off", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "link_list.py").write_text(block, "utf-8")
    with LocalServer() as server:
        server.add("/example.org/links.txt", "https://a.example/one https://b.example/two")
        code = f"""
import asyncio, datetime as dt, os
from zoneinfo import ZoneInfo
from link_list import LinkList
from newsroom.core.components import FetchContext
from newsroom.collect.http import Fetcher
from newsroom.collect.workers import CpuWorkers

async def go():
    with CpuWorkers(1) as workers:
        async with Fetcher(mirror={server.url!r}) as http:
            ctx = FetchContext(
                newsletter_title="T", language="en", timezone=ZoneInfo("UTC"),
                now=dt.datetime.now(dt.UTC), http=http, run_cpu=workers.run,
                cpu_processes=workers.processes,
            )
            items = await LinkList().fetch(ctx)
        print(workers.processes, *(i.title for i in items))

asyncio.run(go())
"""
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "one", "two"]


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _slow_build(tmp_path: Path, server: LocalServer) -> subprocess.Popen[str]:
    urls = [server.add(f"/slow{n}.xml", (DATA / "korean_rss.xml").read_bytes()) for n in range(4)]
    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "Slow"\n\n[plugins]\nworker_processes = 2\n\n'
        f'[[sources]]\nname = "slow"\nplugin = "news"\nfeeds = {json.dumps(urls)}\n\n'
        '[[sections]]\nid = "all"\ntitle = "All"\nmatch = { source = "slow" }\n',
        "utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsroom", "-c", str(tmp_path / "newsroom.toml"), "build"]
        + ["--no-render", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(_children(proc.pid)) < 2:  # the workers are up; the downloads are waiting
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    return proc


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_ctrl_c_stops_the_build_and_its_workers(tmp_path: Path) -> None:
    with LocalServer(latency=5) as server:
        proc = _slow_build(tmp_path, server)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_workers_die_with_a_killed_build(tmp_path: Path) -> None:
    with LocalServer(latency=5) as server:
        proc = _slow_build(tmp_path, server)
        workers = _children(proc.pid)
        proc.kill()
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while [pid for pid in workers if _alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
