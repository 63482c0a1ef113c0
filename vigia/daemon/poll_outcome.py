"""What came of one poll of one source, as the daemon's pollers answer it.

Both pollers give this answer: the supervisor of the daemon's own crawl worker
(``vigia.daemon.supervisor``) and, with Redis, the job queue shared by `vigia worker`
processes (``vigia.daemon.redis_jobs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Past the poll's own timeout (which the worker enforces), how long before the daemon stops waiting.
REPORT_SLACK = 30.0


@dataclass
class PollOutcome:
    """What came of one poll of one source."""

    name: str
    outcome: str  # ok | not_modified | failed | timeout | crashed | stopped | unavailable
    error: str | None = None
    items_listed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    blamed: bool = False  # a crash charged to this source (see vigia.daemon.blame)

    @property
    def recorded(self) -> bool:
        """Whether the worker wrote the poll's outcome on the source row itself."""
        return self.outcome in ("ok", "not_modified", "failed")
