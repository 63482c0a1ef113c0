"""When the running crawl worker is to be killed or replaced, and how soon a dead one is restarted.

Pure decisions on times and sizes the supervisor passes in (all on its clock), so that
each can be read, and tested, without a process:

- hung: no message (a heartbeat comes every 2 s) for ``hang_after`` seconds: a parser or
  a regex stuck in the reactor's thread. It is killed.
- worn: older than ``daemon.worker_max_age``, or its process tree larger than
  ``daemon.worker_max_rss``. It is replaced once its polls are done.
- dying at start-up (the database is down, say): restarted after a growing pause, not in
  a tight loop.
"""

from __future__ import annotations

# No heartbeat (sent every 2 s) for this long: the worker is stuck.
HANG_AFTER = 30.0
# A worker that dies sooner than this after starting is restarted after a growing pause.
QUICK_DEATH = 20.0
MAX_RESTART_PAUSE = 30.0


def hang(now: float, last_message: float, hang_after: float) -> str | None:
    """Why the worker is to be killed as stuck, or None while it answers."""
    silent = now - last_message
    if silent > hang_after:
        return f"the crawl worker stopped answering (no heartbeat for {silent:.0f}s); killed it"
    return None


def worn(now: float, ready_at: float | None, rss: int, *, max_age: float | None, max_rss: int | None) -> str | None:
    """Why the worker is to be replaced (after its polls), or None while it may go on."""
    # Aged from its first message, not its start: a worker that takes longer than
    # max_age to start up (a loaded machine) must still get polls before it is replaced.
    if max_age and ready_at is not None and now - ready_at > max_age:
        return f"older than daemon.worker_max_age ({max_age:g}s)"
    if max_rss and rss > max_rss:
        return f"resident size {rss / 1e6:.0f} MB over daemon.worker_max_rss ({max_rss / 1e6:.0f} MB)"
    return None


def restart_pause(previous: float, lived: float, *, planned: bool) -> float:
    """Seconds to wait before starting the next worker: none after a planned stop or a long
    life; 1, 2, 4 … up to ``MAX_RESTART_PAUSE`` while it keeps dying at start-up."""
    if lived > QUICK_DEATH or planned:
        return 0.0
    return min(MAX_RESTART_PAUSE, 2 * previous if previous else 1.0)
