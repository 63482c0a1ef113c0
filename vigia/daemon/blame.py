"""Which source, if any, a crawl worker's death is charged to.

A worker dies with up to ``MAX_IN_FLIGHT`` polls in flight; most of them are innocent.
Charging every one (as a first version did) quarantined a healthy feed that happened to
be polled alongside a poison one three times. The rule now:

- a poll alone in the worker when it died is charged: nothing else was running;
- after a death every source that was in flight becomes a *suspect*, and suspects are
  re-polled one at a time as *probes* (``CrawlJob`` holds one lock for them), alongside
  only sources with a clean record: a death with exactly one probe in flight is charged
  to that probe;
- any other death is charged to nobody: its sources become suspects, are recorded as
  failed with the reason, and are polled again.

A source is quarantined after ``QUARANTINE_AFTER`` charged deaths in a row (a clean poll
clears the count), so a healthy feed is quarantined only if it was, three times running,
the one suspect in the worker when something new killed it: the newcomer then becomes a
suspect itself and is probed next, so the coincidence does not repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class InFlight(Protocol):
    @property
    def probe(self) -> bool: ...


P = TypeVar("P", bound=InFlight)


def charged(in_flight: Sequence[P]) -> P | None:
    """The poll a worker death is charged to, among those in flight when it died (or None)."""
    if len(in_flight) == 1:
        return in_flight[0]
    probes = [poll for poll in in_flight if poll.probe]
    return probes[0] if len(probes) == 1 else None
