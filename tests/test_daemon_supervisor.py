"""The worker supervisor: polls answered once each, whatever the worker does.

The worker here is a stand-in script speaking the worker's protocol (JSON lines), not
Scrapy: what is under test is how the daemon treats a worker that misbehaves, which the
real one does only by accident (a native crash, a regex stuck at full CPU).

Time is a ``FakeClock`` the test moves on, so each test says what happens in order (not
killed one second before the deadline, killed after it) instead of waiting real seconds.
The stand-in writes what it did to a marks file (``STAND_IN_MARKS``) for the test to wait on.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vigia.daemon.supervisor import PollOutcome, WorkerCommand, WorkerSupervisor

STAND_IN = """#!{python}
import json, os, signal, sys, threading, time
out = os.fdopen(os.dup(1), "w", buffering=1)
beating = True
def mark(text):
    with open(os.environ["STAND_IN_MARKS"], "a") as marks:
        marks.write(text + "\\n")
def beat():
    while True:
        if beating:
            out.write(json.dumps({{"type": "heartbeat", "polls": 0, "rss": 1}}) + "\\n")
        time.sleep(0.1)
threading.Thread(target=beat, daemon=True).start()
if os.environ.get("STAND_IN_DEAF"):
    signal.signal(signal.SIGTERM, lambda *_: mark("ignored SIGTERM"))
for line in sys.stdin:
    job = json.loads(line)
    name = job["source"]["name"]
    mark("took " + name)
    if name == "crash":
        print("vigia: database error: connection to the database refused", file=sys.stderr, flush=True)
        os._exit(3)
    if name == "hangs":
        beating = False
        time.sleep(0.3)  # a beat already on its way arrives
        mark("stopped beating")
        time.sleep(60)
    if name == "slow":
        time.sleep(60)
    out.write(json.dumps({{"type": "result", "id": job["id"], "source": name,
        "outcome": "failed" if name == "down" else "ok", "error": "HTTP 500" if name == "down" else None,
        "items_listed": 4, "counts": {{"fetched": 4, "new": 2, "matched": 1, "skipped": 0, "alerts_queued": 1}},
        "duration": 0.1}}) + "\\n")
"""


@pytest.fixture(autouse=True)
def marks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAND_IN_MARKS", str(tmp_path / "marks"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def supervisor(tmp_path: Path, clock: Callable[[], float] = time.monotonic, **options: float) -> WorkerSupervisor:
    script = tmp_path / "worker-stand-in"
    script.write_text(STAND_IN.format(python=sys.executable))
    script.chmod(0o755)
    options = {"timeout": 30.0, "grace": 1.0, "hang_after": 30.0, "check_every": 0.02, **options}
    return WorkerSupervisor(WorkerCommand(tmp_path / "vigia.yaml", python=str(script)), clock=clock, **options)


def marks(tmp_path: Path) -> list[str]:
    path = tmp_path / "marks"
    return path.read_text().splitlines() if path.exists() else []


async def until(check: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Wait (in real time, for the stand-in process) until ``check()`` holds."""
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def checks_later(worker: WorkerSupervisor, n: int = 3) -> None:
    """Let the supervisor look at its worker ``n`` more times (at the clock's current time)."""
    target = worker.checks + n
    await until(lambda: worker.checks >= target, f"{n} more checks of the worker")


def poll(tmp_path: Path, *names: str, **options: float) -> tuple[list[PollOutcome], WorkerSupervisor]:
    async def scenario() -> tuple[list[PollOutcome], WorkerSupervisor]:
        worker = supervisor(tmp_path, **options)
        worker.start()
        try:
            outcomes = await asyncio.gather(*(worker.poll({"name": n, "type": "rss", "url": "http://x/"}) for n in names))
            return list(outcomes), worker
        finally:
            await worker.stop(finish_by=0, kill_by=asyncio.get_running_loop().time() + 2)

    return asyncio.run(scenario())


def test_a_poll_report_gives_outcome_and_counts(tmp_path: Path) -> None:
    [outcome], _ = poll(tmp_path, "El Universal")
    assert (outcome.name, outcome.outcome, outcome.items_listed) == ("El Universal", "ok", 4)
    assert outcome.counts == {"fetched": 4, "new": 2, "matched": 1, "skipped": 0, "alerts_queued": 1}


def test_a_failed_source_is_a_failure_with_its_error(tmp_path: Path) -> None:
    [outcome], _ = poll(tmp_path, "down")
    assert (outcome.outcome, outcome.error) == ("failed", "HTTP 500")


def test_a_worker_that_dies_fails_its_polls_with_the_real_cause_and_is_restarted(tmp_path: Path) -> None:
    [crashed, later], worker = poll(tmp_path, "crash", "El Universal")
    assert crashed.outcome == "crashed"
    assert "status 3" in (crashed.error or "") and "connection to the database refused" in (crashed.error or "")
    # The poll sent with it died too, or was answered by the next worker.
    assert later.outcome in ("crashed", "ok")
    assert worker.restarts >= 1


def test_a_worker_that_stops_beating_is_killed_once_hang_after_has_passed(tmp_path: Path) -> None:
    clock = FakeClock()

    async def scenario() -> tuple[bool, PollOutcome]:
        worker = supervisor(tmp_path, clock, hang_after=30.0)
        worker.start()
        try:
            pending = asyncio.ensure_future(worker.poll({"name": "hangs", "type": "rss", "url": "http://x/"}))
            await until(lambda: "stopped beating" in marks(tmp_path), "the stand-in to stop beating")
            clock.advance(29)  # fifteen heartbeats missed: not yet a hang
            await checks_later(worker)
            alive_before = not pending.done() and worker._running()
            clock.advance(2)
            return alive_before, await pending
        finally:
            await worker.stop(finish_by=0, kill_by=clock() + 2)

    alive_before, outcome = asyncio.run(scenario())
    assert alive_before
    assert outcome.outcome == "crashed" and "stopped answering" in (outcome.error or "")
    assert "no heartbeat for 31s" in (outcome.error or "")


def test_a_worker_past_its_max_age_is_recycled_and_the_next_poll_goes_to_the_new_one(tmp_path: Path) -> None:
    clock = FakeClock()

    async def scenario() -> tuple[list[PollOutcome], list[int | None], list[int]]:
        worker = supervisor(tmp_path, clock, max_age=100.0, hang_after=1000.0)
        worker.start()
        pids: list[int | None] = []
        restarts: list[int] = []
        try:
            first = await worker.poll({"name": "El Universal", "type": "rss", "url": "http://x/"})
            pids.append(worker.process.pid if worker.process else None)
            clock.advance(99)  # younger than max_age: kept
            await checks_later(worker)
            restarts.append(worker.restarts)
            clock.advance(2)  # older: replaced once its polls are done
            await until(lambda: worker.restarts == 1 and worker._running(), "a new worker")
            restarts.append(worker.restarts)
            second = await worker.poll({"name": "El Universal", "type": "rss", "url": "http://x/"})
            pids.append(worker.process.pid if worker.process else None)
            return [first, second], pids, restarts
        finally:
            await worker.stop(finish_by=0, kill_by=clock() + 2)

    outcomes, pids, restarts = asyncio.run(scenario())
    assert [o.outcome for o in outcomes] == ["ok", "ok"]
    assert restarts == [0, 1]
    assert pids[0] != pids[1]


def test_a_worker_deaf_to_sigterm_is_killed_at_the_deadline(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STAND_IN_DEAF", "1")

    clock = FakeClock()

    async def scenario() -> tuple[PollOutcome, int | None, int | None]:
        worker = supervisor(tmp_path, clock)
        worker.start()
        pending = asyncio.ensure_future(worker.poll({"name": "slow", "type": "rss", "url": "http://x/"}))
        await until(lambda: "took slow" in marks(tmp_path), "the stand-in to take the poll")
        stopping = asyncio.ensure_future(worker.stop(finish_by=clock() + 2, kill_by=clock() + 5))
        clock.advance(3)  # the poll did not finish in time: SIGTERM
        await until(lambda: "ignored SIGTERM" in marks(tmp_path), "SIGTERM to reach the stand-in")
        await asyncio.sleep(0.1)
        assert worker.process is not None
        before_deadline = worker.process.returncode
        clock.advance(3)  # past kill_by: SIGKILL
        await stopping
        return await pending, before_deadline, worker.process.returncode

    outcome, before_deadline, returncode = asyncio.run(scenario())
    assert outcome.outcome == "stopped"
    assert before_deadline is None  # deaf, and still running until the deadline
    assert returncode == -9
