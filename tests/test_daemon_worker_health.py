"""When the supervisor kills, replaces or waits to restart its crawl worker, and how it reads the worker's lines.

The supervisor's tests (tests/test_daemon_supervisor.py) show these decisions on a real
process; here each rule is shown at its edges, with the times the supervisor would pass.
"""

from __future__ import annotations

from vigia.daemon.worker_health import MAX_RESTART_PAUSE, hang, restart_pause, worn
from vigia.daemon.worker_protocol import outcome_of, poll_line, read_message


def test_a_worker_silent_for_longer_than_hang_after_is_hung() -> None:
    assert hang(now=1029.0, last_message=1000.0, hang_after=30.0) is None
    assert hang(now=1030.0, last_message=1000.0, hang_after=30.0) is None  # exactly at the limit: not yet
    reason = hang(now=1031.0, last_message=1000.0, hang_after=30.0)
    assert reason is not None and "no heartbeat for 31s" in reason


def test_a_worker_ages_from_its_first_message_not_its_start() -> None:
    assert worn(5000.0, ready_at=None, rss=0, max_age=100.0, max_rss=None) is None  # still starting up
    assert worn(1100.0, ready_at=1000.0, rss=0, max_age=100.0, max_rss=None) is None
    reason = worn(1101.0, ready_at=1000.0, rss=0, max_age=100.0, max_rss=None)
    assert reason == "older than daemon.worker_max_age (100s)"


def test_a_worker_over_max_rss_is_worn_and_no_limit_means_never() -> None:
    assert worn(0.0, ready_at=0.0, rss=900_000_000, max_age=None, max_rss=1_000_000_000) is None
    reason = worn(0.0, ready_at=0.0, rss=1_200_000_000, max_age=None, max_rss=1_000_000_000)
    assert reason == "resident size 1200 MB over daemon.worker_max_rss (1000 MB)"
    assert worn(1e9, ready_at=0.0, rss=10**12, max_age=None, max_rss=None) is None


def test_a_worker_that_keeps_dying_at_start_up_waits_longer_each_time() -> None:
    pauses, pause = [], 0.0
    for _ in range(7):
        pause = restart_pause(pause, lived=2.0, planned=False)
        pauses.append(pause)
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, MAX_RESTART_PAUSE, MAX_RESTART_PAUSE]
    assert restart_pause(16.0, lived=3600.0, planned=False) == 0.0  # it lived: restarted at once
    assert restart_pause(16.0, lived=2.0, planned=True) == 0.0  # replaced on purpose


def test_a_poll_goes_down_as_one_json_line_and_its_result_comes_back_as_an_outcome() -> None:
    line = poll_line("j7", {"name": "El Universal", "type": "rss", "url": "http://x/"}, 600.0)
    assert line.endswith("\n") and line.count("\n") == 1
    assert read_message(line.encode()) == {
        "type": "poll", "id": "j7", "source": {"name": "El Universal", "type": "rss", "url": "http://x/"}, "timeout": 600.0,
    }  # fmt: skip
    result = {"type": "result", "id": "j7", "outcome": "ok", "items_listed": "4", "counts": {"new": 2, "matched": None}}
    outcome = outcome_of("El Universal", result)
    assert (outcome.name, outcome.outcome, outcome.items_listed, outcome.counts) == ("El Universal", "ok", 4, {"new": 2, "matched": 0})
    assert outcome_of("El Universal", {"type": "result"}).outcome == "failed"  # a report without an outcome is no success


def test_lines_that_are_not_messages_are_ignored() -> None:
    assert read_message(b"Traceback (most recent call last):\n") is None
    assert read_message(b"[1, 2]\n") is None
    assert read_message(b"") is None
