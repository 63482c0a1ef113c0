"""Outbox queries: which alerts are due, claiming one so no other dispatcher sends it, and
recording what Slack answered.

A claim is a committed UPDATE from 'pending' to 'sending' that only one worker can win:
on PostgreSQL the row is first locked with ``FOR UPDATE SKIP LOCKED`` so a second
dispatcher skips it instead of waiting; on SQLite the conditional UPDATE's row count
decides. A claim is a lease: the worker renews ``claimed_at`` while its post is in
flight (``renew``), so a claim not renewed for STALE_CLAIM belongs to a worker that is
gone, and ``recover`` hands it back at once when that worker is known to be dead.

``unconfirmed_since`` is when a post of the row may first have reached Slack without
Slack's ``ts`` being recorded (set by the claim, cleared when the ``ts`` is recorded or
when Slack is known not to have taken it). A row that has it is looked for in the
channel's history before it is posted again: that is what makes delivery exactly-once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from storage.models import Alert, Article, SlackChannel
from storage.tables import slack_channels
from storage.upsert import dialect_insert, session_dialect

# A claim not renewed for this long is abandoned (renewed every third of it while posting).
STALE_CLAIM = timedelta(seconds=30)
# Back-off for temporary failures: 30 s, 1 min, 2 min … capped at 1 h, with jitter.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# A workspace-wide block (invalid token) is stored as this channel name.
ALL_CHANNELS = "*"


def claimable(now: datetime, stale_after: timedelta = STALE_CLAIM) -> ColumnElement[bool]:
    """Pending and due, or 'sending' by a worker that has not come back."""
    return or_(
        and_(Alert.status == "pending", or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now)),
        and_(Alert.status == "sending", Alert.claimed_at < now - stale_after),
    )


def blocked_channels(session: Session) -> dict[str, str]:
    """Channel name → the Slack error that blocked it (``*`` means every channel)."""
    rows = session.execute(select(SlackChannel.name, SlackChannel.blocked_error).where(SlackChannel.blocked_error.is_not(None)))
    return {name: error for name, error in rows if error is not None}


def due_ids(session: Session, now: datetime, kinds: Sequence[str], stale_after: timedelta = STALE_CLAIM) -> list[int]:
    """Candidate alert ids in creation order (not yet claimed: see claim())."""
    blocked = blocked_channels(session)
    if ALL_CHANNELS in blocked:
        return []
    statement = select(Alert.id).where(claimable(now, stale_after), Alert.kind.in_(kinds)).order_by(Alert.id)
    if blocked:
        statement = statement.where(Alert.channel.not_in(list(blocked)))
    return list(session.scalars(statement))


def claim(session: Session, alert_id: int, now: datetime, worker: str, stale_after: timedelta = STALE_CLAIM) -> bool:
    """Try to take one alert for this worker; True if it is ours. Commits."""
    condition = and_(Alert.id == alert_id, claimable(now, stale_after))
    if session.get_bind().dialect.name == "postgresql":
        locked = session.scalar(select(Alert.id).where(condition).with_for_update(skip_locked=True))
        if locked is None:
            session.rollback()
            return False
    claimed = _rowcount(
        session,
        update(Alert)
        .where(condition)
        .values(status="sending", claimed_at=now, claimed_by=worker, attempts=Alert.attempts + 1,
                unconfirmed_since=func.coalesce(Alert.unconfirmed_since, now))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return claimed == 1


def renew(session: Session, alert_ids: Sequence[int], worker: str, now: datetime) -> int:
    """Extend this worker's claims (a post still in flight). Commits."""
    renewed = _rowcount(
        session,
        update(Alert)
        .where(Alert.id.in_(list(alert_ids)), Alert.status == "sending", Alert.claimed_by == worker)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return renewed


def recover(session: Session, now: datetime, alive: Callable[[str], bool],
            stale_after: timedelta = STALE_CLAIM) -> list[int]:
    """Hand back claims of workers that are gone (dead process, or lease not renewed). Commits.

    The rows go back to pending, due now, still ``unconfirmed_since``: their next claim
    looks for them in Slack before posting.
    """
    rows = session.execute(select(Alert.id, Alert.claimed_by, Alert.claimed_at).where(Alert.status == "sending")).all()
    gone = [i for i, worker, at in rows
            if at is None or at < now - stale_after or not alive(worker or "")]
    if gone:
        session.execute(
            update(Alert)
            .where(Alert.id.in_(gone), Alert.status == "sending")
            .values(status="pending", claimed_at=None, claimed_by=None, next_attempt_at=None,
                    unconfirmed_since=func.coalesce(Alert.unconfirmed_since, now),
                    last_error="its dispatcher stopped before Slack confirmed the post; "
                               "Slack's history is checked before posting again")
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return gone

def release(session: Session, alert_id: int, *, not_posted_since: datetime | None = None) -> None:
    """Give a claim back untouched (a copy whose story is not posted yet, a run stopping). Commits.

    ``not_posted_since``: the claim's time, when nothing was posted under it.
    """
    statement = update(Alert).where(Alert.id == alert_id, Alert.status == "sending")
    if not_posted_since is not None:
        session.execute(statement.where(Alert.unconfirmed_since >= not_posted_since).values(unconfirmed_since=None))
    session.execute(statement.values(status="pending", claimed_at=None, claimed_by=None, attempts=Alert.attempts - 1))
    session.commit()


def mark_sent(
    session: Session,
    alert_ids: Sequence[int],
    now: datetime,
    *,
    channel_id: str | None,
    ts: str | None,
    thread_ts: str | None = None,
) -> None:
    """Record Slack's answer at once: the window for a repeat is this commit. Commits."""
    session.execute(
        update(Alert)
        .where(Alert.id.in_(list(alert_ids)))
        .values(status="sent", sent_at=now, slack_channel_id=channel_id, slack_ts=ts, thread_ts=thread_ts,
                last_error=None, next_attempt_at=None, claimed_at=None, claimed_by=None, unconfirmed_since=None)
    )
    session.commit()


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential delay for the ``attempts``-th failure, with jitter in [50 %, 100 %]."""
    exponent = min(max(attempts - 1, 0), 20)
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2**exponent))
    return ceiling * (0.5 + 0.5 * (rng or random).random())


def mark_retry(session: Session, alert_ids: Sequence[int], next_attempt_at: datetime, error: str,
               *, not_posted_since: datetime | None = None) -> None:
    """Back to pending, not before ``next_attempt_at``. Commits.

    ``not_posted_since``: Slack certainly did not take the post made by the claim of that
    time (a 429, a refused connection); if no earlier attempt is in doubt, the row needs
    no history search next time.
    """
    values: dict[str, object] = dict(status="pending", next_attempt_at=next_attempt_at, claimed_at=None,
                                     claimed_by=None, last_error=error[:2000])
    statement = update(Alert).where(Alert.id.in_(list(alert_ids)))
    session.execute(statement.values(**values))
    if not_posted_since is not None:
        session.execute(statement.where(Alert.unconfirmed_since >= not_posted_since).values(unconfirmed_since=None))
    session.commit()


def mark_failed(session: Session, alert_ids: Sequence[int], error: str) -> None:
    session.execute(
        update(Alert)
        .where(Alert.id.in_(list(alert_ids)))
        .values(status="failed", claimed_at=None, claimed_by=None, last_error=error[:2000])
    )
    session.commit()


def block_channel(session: Session, channel: str, error: str, now: datetime) -> int:
    """Block a channel (or ``*``: all) and fail its pending alerts; returns how many. Commits."""
    blocked = {"blocked_error": error[:200], "blocked_at": now}
    session.execute(_upsert_channel(session, channel, blocked))
    statement = update(Alert).where(Alert.status.in_(["pending", "sending"]))
    if channel != ALL_CHANNELS:
        statement = statement.where(Alert.channel == channel)
    failed = _rowcount(
        session,
        statement.values(status="failed", claimed_at=None, claimed_by=None, last_error=error[:2000])
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return failed


def remember_channel_id(session: Session, channel: str, channel_id: str | None) -> None:
    if not channel_id or known_channel_id(session, channel) == channel_id:
        return
    session.execute(_upsert_channel(session, channel, {"channel_id": channel_id}))
    session.commit()


def _upsert_channel(session: Session, channel: str, values: dict[str, Any]) -> Any:
    """One row per channel name, whichever dispatcher writes it first: two dispatchers that
    both found no row would otherwise both INSERT, and the second would fail on the key."""
    statement = dialect_insert(session_dialect(session), slack_channels).values(name=channel, **values)
    return statement.on_conflict_do_update(index_elements=["name"], set_=values)


def known_channel_id(session: Session, channel: str) -> str | None:
    """The id Slack gave this configured channel name on an earlier post, if any."""
    return session.scalar(select(SlackChannel.channel_id).where(SlackChannel.name == channel))


def story_alert(session: Session, article_id: int, channel: str) -> Alert | None:
    """The top-level alert a copy threads under (its story_id names that article)."""
    return session.scalar(
        select(Alert).where(Alert.article_id == article_id, Alert.channel == channel, Alert.kind == "story")
    )


def sent_copies(session: Session, parent_article_id: int, channel: str) -> list[Article]:
    """Articles whose copy alerts are already in the parent's thread, oldest first."""
    return list(
        session.scalars(
            select(Article)
            .join(Alert, Alert.article_id == Article.id)
            .where(Alert.story_id == parent_article_id, Alert.channel == channel, Alert.kind == "copy",
                   Alert.status == "sent")
            .order_by(Alert.sent_at, Alert.id)
        )
    )


def listing(session: Session) -> list[tuple[Alert, Article]]:
    """Pending, sending and failed alerts with their articles, for ``vigia alerts``."""
    rows = session.execute(
        select(Alert, Article)
        .join(Article, Alert.article_id == Article.id)
        .where(Alert.status.in_(["pending", "sending", "failed"]))
        .order_by(Alert.id)
    )
    return [(alert, article) for alert, article in rows]


def requeue_failed(session: Session) -> tuple[int, int]:
    """Failed alerts back to pending now and every channel unblocked. Commits."""
    requeued = _rowcount(
        session,
        update(Alert)
        .where(Alert.status == "failed")
        .values(status="pending", next_attempt_at=None, attempts=0, claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False),
    )
    unblocked = _rowcount(
        session,
        update(SlackChannel)
        .where(SlackChannel.blocked_error.is_not(None))
        .values(blocked_error=None, blocked_at=None)
        .execution_options(synchronize_session=False),
    )
    session.execute(delete(SlackChannel).where(SlackChannel.name == ALL_CHANNELS))
    session.commit()
    return requeued, unblocked


def count_by_status(session: Session, status: str) -> int:
    return session.scalar(select(func.count()).select_from(Alert).where(Alert.status == status)) or 0


def _rowcount(session: Session, statement: Executable) -> int:
    """Run an UPDATE and say how many rows it changed.

    ``Session.execute`` is typed as returning ``Result``; for an UPDATE it is a
    ``CursorResult``, which has the row count.
    """
    return cast(CursorResult[Any], session.execute(statement)).rowcount
