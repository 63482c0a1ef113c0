"""The worker supervisor: polls answered once each, whatever the worker does.

The worker here is a stand-in script speaking the worker's protocol (JSON lines), not
Scrapy: what is under test is how the daemon treats a worker that misbehaves, which the
real one does only by accident (a native crash, a regex stuck at full CPU).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from vigia.daemon.supervisor import PollOutcome, WorkerCommand, WorkerSupervisor

STAND_IN = """#!{python}
import json, os, signal, sys, threading, time
out = os.fdopen(os.dup(1), "w", buffering=1)
beating = True
def beat():
    while True:
        if beating:
            out.write(json.dumps({{"type": "heartbeat", "polls": 0, "rss": 1}}) + "\\n")
        time.sleep(0.1)
threading.Thread(target=beat, daemon=True).start()
if os.environ.get("STAND_IN_DEAF"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
for line in sys.stdin:
    job = json.loads(line)
    name = job["source"]["name"]
    if name == "crash":
        print("vigia: database error: connection to the database refused", file=sys.stderr, flush=True)
        os._exit(3)
    if name == "hangs":
        beating = False
        time.sleep(60)
    if name == "slow":
        time.sleep(60)
    out.write(json.dumps({{"type": "result", "id": job["id"], "source": name,
        "outcome": "failed" if name == "down" else "ok", "error": "HTTP 500" if name == "down" else None,
        "items_listed": 4, "counts": {{"fetched": 4, "new": 2, "matched": 1, "skipped": 0, "alerts_queued": 1}},
        "duration": 0.1}}) + "\\n")
"""


def supervisor(tmp_path: Path, **options: float) -> WorkerSupervisor:
    script = tmp_path / "worker-stand-in"
    script.write_text(STAND_IN.format(python=sys.executable))
    script.chmod(0o755)
    defaults = {"timeout": 30.0, "grace": 1.0, "hang_after": 30.0}
    return WorkerSupervisor(WorkerCommand(tmp_path / "vigia.yaml", python=str(script)), **{**defaults, **options})


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


def test_a_worker_that_stops_beating_is_killed(tmp_path: Path) -> None:
    [outcome], _ = poll(tmp_path, "hangs", hang_after=1.0)
    assert outcome.outcome == "crashed" and "stopped answering" in (outcome.error or "")


def test_a_worker_deaf_to_sigterm_is_killed_at_the_deadline(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STAND_IN_DEAF", "1")

    async def scenario() -> tuple[PollOutcome, int | None]:
        worker = supervisor(tmp_path)
        worker.start()
        pending = asyncio.ensure_future(worker.poll({"name": "slow", "type": "rss", "url": "http://x/"}))
        await asyncio.sleep(1.0)
        now = asyncio.get_running_loop().time()
        await worker.stop(finish_by=now + 0.2, kill_by=now + 0.5)
        assert worker.process is not None
        return await pending, worker.process.returncode

    outcome, returncode = asyncio.run(scenario())
    assert outcome.outcome == "stopped"
    assert returncode == -9
