"""The JSON lines between the daemon and its crawl worker (``crawler.worker`` is the other end).

Down the worker's stdin goes one line per poll::

    {"type": "poll", "id": "j17", "source": {"name": …, "type": …, "url": …}, "timeout": 600}

Up its stdout come ``ready`` once, a ``heartbeat`` every 2 s, and one ``result`` per poll
with its outcome and counts. Any line that is a message at all tells the daemon the worker
is alive; only results answer polls.
"""

from __future__ import annotations

import json
from typing import Any

from vigia.daemon.poll_outcome import PollOutcome


def poll_line(job_id: str, source: dict[str, Any], timeout: float) -> str:
    """The line that hands one poll to the worker."""
    return json.dumps({"type": "poll", "id": job_id, "source": source, "timeout": timeout}) + "\n"


def read_message(line: bytes) -> dict[str, Any] | None:
    """One line from the worker as a message, or None if it is not one (not a JSON object)."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def outcome_of(name: str, result: dict[str, Any]) -> PollOutcome:
    """A ``result`` message as the outcome of the poll of source ``name``."""
    counts = result.get("counts") or {}
    return PollOutcome(
        name=name,
        outcome=str(result.get("outcome") or "failed"),
        error=result.get("error"),
        items_listed=int(result.get("items_listed") or 0),
        counts={k: int(v or 0) for k, v in counts.items()},
        duration=float(result.get("duration") or 0.0),
    )
