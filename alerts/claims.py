"""Claims on outbox rows: taking one, keeping it while its post is in flight, handing back those of the gone.

A claim carries a lease (``slack.lease``): a dispatcher renews its claims while a post is
in flight, so a claim that is not renewed belongs to a dispatcher that is gone and may be
taken over. Claims of dispatchers known to be gone (alerts.instances) are handed back at
the start of a run without waiting for the lease.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from alerts import instances, outbox
from alerts.delivery import Run, StopRun

log = logging.getLogger(__name__)


def recover(run: Run) -> None:
    """Hand back the claims of dispatchers that are gone; their posts are checked against Slack first."""
    with run.maker() as session:
        gone = outbox.recover(session, run.clock(), instances.alive, run.slack.lease)
    if gone:
        run.report.recovered += len(gone)
        log.warning("%d alert(s) were claimed by a dispatcher that is gone; checking Slack before posting them",
                    len(gone))


def claim(run: Run, session: Session, alert_id: int) -> bool:
    """Take this row for the run; False if another dispatcher has it. Stops the run once it is asked to stop."""
    if run.stop.is_set():
        raise StopRun
    return outbox.claim(session, alert_id, run.clock(), run.worker, run.slack.lease)


@contextmanager
def heartbeat(run: Run, ids: list[int]) -> Iterator[None]:
    """Renew these claims while the post is in flight, so no other dispatcher takes them over."""
    done = threading.Event()
    every = max(0.05, run.slack.lease.total_seconds() / 3)

    def beat() -> None:
        while not done.wait(every):
            try:
                with run.maker() as session:
                    outbox.renew(session, ids, run.worker, run.clock())
            except SQLAlchemyError as exc:
                log.warning("could not renew the claim of alert(s) %s: %s", ids, exc)

    thread = threading.Thread(target=beat, name="vigia-claim-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)
