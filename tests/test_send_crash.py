"""A real ``newsroom send`` process killed partway, several times, then resumed.

Nobody may be missed; only messages whose SMTP transaction was in flight at the instant of
a hard kill (their log rows say ``sending``) may arrive twice. After Ctrl-C, nothing at all
arrives twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ENGINES, SECRET, newsroom_cli, open_state, point_at, use_postgres
from test_send import add_subscribers, statuses

from newsroom.dev.smtpsink import Faults, SmtpSink


@pytest.fixture(params=ENGINES)
def newsletter(request: pytest.FixtureRequest, newsletter: Path) -> Path:
    """The example newsletter, its state in an SQLite file, then in a PostgreSQL database."""
    if request.param == "postgresql":
        use_postgres(newsletter, request.getfixturevalue("postgres_db"))
    return newsletter


def start_send(config: Path, *args: str, output: bool = False) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEWSROOM_SECRET_KEY": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "newsroom", "-c", str(config), "send", *args],
        env=env,
        stdout=subprocess.PIPE if output else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal job would be
    )


def wait_for(sink: SmtpSink, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while sink.total < count:
        assert proc.poll() is None, f"send ended early: {proc.stderr.read() if proc.stderr else ''}"
        assert time.monotonic() < deadline, "the send made no progress"
        time.sleep(0.002)


def in_flight(config: Path) -> set[str]:
    return {a for a, s in statuses(config).items() if s == "sending"}


def no_live_workers(config: Path) -> None:
    """The killed run's worker processes died with it (else they would go on sending)."""
    from newsroom.store.locks import _pids, pid_alive

    with open_state(config) as state:
        row = state.db.execute("SELECT pids FROM locks").fetchone()
    if row is not None:
        deadline = time.monotonic() + 10
        while any(pid_alive(pid, identity) for pid, identity in _pids(row[0])):
            assert time.monotonic() < deadline, "a worker process outlived its parent"
            time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigkill_at_several_points_then_resume(newsletter: Path, workers: str) -> None:
    addresses = add_subscribers(newsletter, 900)
    may_repeat: set[str] = set()
    kills = 0
    with SmtpSink(faults=Faults(delay=0.002)) as sink:
        point_at(newsletter, sink.port, concurrency=4)
        for threshold in (120, 400, 650):
            proc = start_send(newsletter, "--workers", workers)
            wait_for(sink, threshold, proc)
            proc.send_signal(signal.SIGKILL)  # the parent only, as `kill -9 PID` does
            proc.wait(timeout=30)
            kills += 1
            no_live_workers(newsletter)
            # What the log says was in flight at the instant of the kill.
            may_repeat |= in_flight(newsletter)
        final = newsroom_cli(newsletter, "send", "--workers", workers)
        assert final.returncode == 0, final.stderr
        assert "resumed:" in final.stdout
        counts = {a: sink.count(a) for a in addresses}
    assert min(counts.values()) == 1, "a subscriber was missed"
    repeated = {a for a, n in counts.items() if n > 1}
    assert repeated <= may_repeat, "a message that was not in flight arrived twice"
    assert len(may_repeat) <= kills * 4  # at most one per connection per kill
    assert max(counts.values()) <= 2
    assert set(statuses(newsletter).values()) == {"sent"}


@pytest.mark.slow
def test_ctrl_c_finishes_what_is_in_flight_and_resumes_without_duplicates(
    newsletter: Path,
) -> None:
    addresses = add_subscribers(newsletter, 300)
    with SmtpSink(faults=Faults(delay=0.003)) as sink:
        point_at(newsletter, sink.port, concurrency=4)
        proc = start_send(newsletter)
        wait_for(sink, 60, proc)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        proc.wait(timeout=60)
        assert proc.returncode == 130
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        assert "Stopped: interrupted" in stderr and "left to send" in stderr
        assert in_flight(newsletter) == set()  # everything in flight was finished
        assert sink.total < len(addresses)
        result = newsroom_cli(newsletter, "send")
        assert result.returncode == 0, result.stderr
        assert "resumed:" not in result.stdout
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}


@pytest.mark.slow
def test_sigterm_to_a_send_with_worker_processes_is_graceful(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 400)
    with SmtpSink(faults=Faults(delay=0.003)) as sink:
        point_at(newsletter, sink.port, concurrency=4)
        proc = start_send(newsletter, "--workers", "2")
        wait_for(sink, 60, proc)
        proc.send_signal(signal.SIGTERM)  # what `kill PID` and systemd send, to the parent only
        proc.wait(timeout=60)
        assert proc.returncode == 130
        assert in_flight(newsletter) == set()
        result = newsroom_cli(newsletter, "send", "--workers", "2")
        assert result.returncode == 0, result.stderr
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}


@pytest.mark.slow
def test_a_second_ctrl_c_stops_at_once_without_a_traceback(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 300)
    with SmtpSink(faults=Faults(delay=0.05)) as sink:
        point_at(newsletter, sink.port, concurrency=4)
        proc = start_send(newsletter)
        wait_for(sink, 8, proc)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr and "left to send" in stderr
        result = newsroom_cli(newsletter, "send")
        assert result.returncode == 0, result.stderr
    counts = {a: sink.count(a) for a in addresses}
    assert min(counts.values()) == 1 and max(counts.values()) <= 2


def test_ctrl_c_ends_a_wait_for_the_hourly_limit(newsletter: Path) -> None:
    add_subscribers(newsletter, 5)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port, hourly_limit=2)
        proc = start_send(newsletter)
        wait_for(sink, 2, proc)
        time.sleep(0.3)  # the third message now waits for a slot an hour away
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.returncode == 130
        assert sink.total == 2
    log = statuses(newsletter)
    assert sorted(log.values()) == ["queued"] * 3 + ["sent"] * 2  # none left 'sending'


@pytest.mark.slow
def test_two_senders_share_a_send_and_one_is_killed(newsletter: Path) -> None:
    """Two `newsroom send --join` processes on one edition (as on two machines sharing the
    state) divide the list; one is killed with SIGKILL and the other goes on. Nobody is
    missed, and only what the killed one had in flight may arrive twice."""
    addresses = add_subscribers(newsletter, 900)
    with SmtpSink(faults=Faults(delay=0.003)) as sink:
        point_at(newsletter, sink.port, concurrency=4)
        first = start_send(newsletter, "--join")
        wait_for(sink, 60, first)
        second = start_send(newsletter, "--join", "--json", output=True)
        # Both send at once: the second claims its own part of the list.
        deadline = time.monotonic() + 60
        while not claimed_by_two(newsletter):
            assert second.poll() is None and first.poll() is None, "a sender ended early"
            assert time.monotonic() < deadline, "the second sender took no part of the list"
            time.sleep(0.01)
        wait_for(sink, 450, first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        may_repeat = in_flight(newsletter)
        out, err = second.communicate(timeout=240)
        assert second.returncode == 0, err
        counts = {a: sink.count(a) for a in addresses}
        total = sink.total
    assert min(counts.values()) == 1, "a subscriber was missed"
    repeated = {a for a, n in counts.items() if n > 1}
    assert repeated <= may_repeat, "a message that was not in flight arrived twice"
    assert len(may_repeat) <= 8  # at most one per connection of each sender
    assert set(statuses(newsletter).values()) == {"sent"}
    import json

    report = json.loads(out)
    assert report["complete"] is True
    # The second sent its part and what the killed one left; the first, the rest.
    assert 0 < report["counts"]["sent"] < len(addresses) - 60
    assert total == len(addresses) + sum(counts[a] - 1 for a in repeated)


def claimed_by_two(config: Path) -> bool:
    """Whether rows of the log are claimed under two runs' leases right now."""
    with open_state(config) as state:
        rows = state.db.execute(
            "SELECT COUNT(DISTINCT claimed_by) FROM deliveries WHERE claimed_by <> ''"
        ).fetchone()
    return int(rows[0]) >= 2


def test_a_second_send_without_join_is_still_refused(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 200)
    with SmtpSink(faults=Faults(delay=0.01)) as sink:
        point_at(newsletter, sink.port, concurrency=1)
        first = start_send(newsletter)
        try:
            wait_for(sink, 2, first)
            second = newsroom_cli(newsletter, "send")
            assert second.returncode == 8
            assert "is locked by newsroom send" in second.stderr
        finally:
            first.wait(timeout=120)
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}
