"""The outbox dispatcher: drain due alerts into Slack, one claimed row at a time, exactly once.

Order of a run: claims left by dispatchers that are gone are handed back
(alerts.claims), then instant alerts in the order they were queued (a story's top-level
message, then its copies as thread replies, each followed by a ``chat.update`` of the
parent's "También en" list), then due digests, then, in webhook mode, the copies that
could not be threaded.

Each post goes through alerts.posting, which first looks for a post that may already be
in Slack (alerts.reconcile), so a crash or a slow Slack never doubles a story, renews the
row's claim while the post is in flight, and decides from Slack's answer whether a row is
sent, retried later, failed, or its channel blocked.

``vigia alerts`` lists what is pending or failed and ``vigia alerts retry`` re-queues it.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts import claims, digests, instances, outbox
from alerts.client import Sender, WebApiSender, WebhookSender
from alerts.delivery import DeliveryReport, Run, SlackSettings, StopRun
from alerts.errors import AlertError, SlackError, SlackReplyRefused, SlackTemporaryError
from alerts.pacing import INTERVAL, ChannelPacer
from alerts.posting import post
from alerts.rendering import (
    copies_message_for,
    copy_message_for,
    digest_message_for,
    story_message_for,
)
from storage.models import Alert

log = logging.getLogger(__name__)

# Set when the daemon shuts down: no new post starts, inline waits end.
SHUTDOWN = threading.Event()
# Slack's pace is per channel whichever run posts: one pacer for the process (one per
# configured pace, should a process deliver with settings of another pace).
PACER = ChannelPacer()
_OTHER_PACERS: dict[float, ChannelPacer] = {}
UNPACED = ChannelPacer(per_second=0)


def _pacer_for(pace: float) -> ChannelPacer:
    if pace == INTERVAL:
        return PACER
    return _OTHER_PACERS.setdefault(pace, ChannelPacer(per_second=1 / pace))


def default_worker() -> str:
    return instances.instance_id()


def make_sender(slack: SlackSettings) -> Sender:
    """A bot token wins; a webhook URL alone means webhook mode."""
    if slack.token:
        return WebApiSender(slack.token, slack.base_url or "https://slack.com/api/", timeout=slack.timeout)
    if slack.webhook_url:
        return WebhookSender(slack.webhook_url, timeout=slack.timeout)
    raise AlertError("slack: set a bot token (slack.token) or an incoming webhook (slack.webhook_url)")


def deliver_pending(
    sessionmaker: sessionmaker[Session],
    slack: SlackSettings,
    *,
    now: datetime | None = None,
    worker: str | None = None,
    sender: Sender | None = None,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Deliver every due alert; safe to run in several processes at once.

    ``now`` shifts the clock (tests replay a date); every claim and retry is still
    stamped with the time it is made. ``stop`` (default: SHUTDOWN) ends the run before
    its next post.
    """
    sender = sender or make_sender(slack)
    run = Run(sessionmaker, sender, slack, now=now, worker=worker or default_worker(),
              stop=stop or SHUTDOWN, pacer=_pacer_for(slack.pace) if sender.paced else UNPACED)
    try:
        _deliver(run)
        with sessionmaker() as session:
            run.report.pending = outbox.count_by_status(session, "pending") + outbox.count_by_status(session, "sending")
            run.report.failed = outbox.count_by_status(session, "failed")
    except SQLAlchemyError as exc:
        # A full disk or a lost database after a post: the row stays claimed, and the next run
        # (or another dispatcher once the claim's lease runs out) finds the post in Slack.
        error = run.redact(f"database error during delivery ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                           "alerts in flight are checked against Slack's history on the next run")
        run.report.errors.append(error)
        log.error(error)
    return run.report


def _deliver(run: Run) -> None:
    try:
        claims.recover(run)
        _instant(run)
        _digests(run)
        if not run.sender.threads:
            _webhook_copies(run)
    except StopRun:
        pass


# -- instant alerts ----------------------------------------------------------------------


def _instant(run: Run) -> None:
    kinds = ["story", "copy"] if run.sender.threads else ["story"]
    with run.maker() as session:
        ids = outbox.due_ids(session, run.clock(), kinds, run.slack.lease)
    for alert_id in ids:
        with run.maker() as session:
            if not claims.claim(run, session, alert_id):
                continue  # another dispatcher has it, or its channel was just blocked
            alert = session.get(Alert, alert_id)
            assert alert is not None
            if alert.kind == "copy":
                _copy(run, session, alert)
            else:
                _story(run, session, alert)


def _story(run: Run, session: Session, alert: Alert) -> None:
    message = story_message_for(session, alert, run.locale)
    posted = post(run, session, [alert], alert.channel, message)
    if posted is None:
        return
    outbox.mark_sent(session, [alert.id], run.clock(), channel_id=posted.channel_id, ts=posted.ts)
    outbox.remember_channel_id(session, alert.channel, posted.channel_id)
    run.report.sent += 1


def _copy(run: Run, session: Session, alert: Alert) -> None:
    parent = outbox.story_alert(session, alert.story_id, alert.channel)
    if parent is not None and parent.status == "failed":
        parent = None  # the story's own message was refused: this copy speaks for it
    if parent is None:
        _story(run, session, alert)
        return
    if parent.status != "sent" or not parent.slack_ts:
        outbox.release(session, alert.id, not_posted_since=alert.claimed_at)  # waits for its story's message
        return
    message = copy_message_for(session, alert, run.locale)
    channel = parent.slack_channel_id or alert.channel
    try:
        posted = post(run, session, [alert], channel, message, thread_ts=parent.slack_ts)
    except SlackReplyRefused as exc:
        # The story's message cannot take replies: the copy goes out as a message of its own.
        log.warning("alert %s: Slack refused a reply under %s (%s); posting it on its own",
                    alert.id, parent.slack_ts, exc.code)
        run.report.errors.append(f"alert {alert.id}: not a thread reply ({exc.code}); posted on its own")
        _story(run, session, alert)
        return
    if posted is None:
        return
    outbox.mark_sent(session, [alert.id], run.clock(), channel_id=posted.channel_id or parent.slack_channel_id,
                     ts=posted.ts, thread_ts=parent.slack_ts)
    run.report.threaded += 1
    _update_parent(run, session, parent)


def _update_parent(run: Run, session: Session, parent: Alert) -> None:
    """Edit the story's message so its "También en" list names every copy so far."""
    copies = outbox.sent_copies(session, parent.article_id, parent.channel)
    also_in = [(a.outlet, a.url) for a in copies]
    message = story_message_for(session, parent, run.locale, also_in=also_in)
    try:
        run.sender.update(parent.slack_channel_id or parent.channel, parent.slack_ts or "", message.text,
                          message.blocks)
    except SlackError as exc:
        # The reply is in the thread already; a stale outlet list is cosmetic.
        error = run.redact(str(exc))
        run.report.errors.append(f"alert {parent.id}: could not update the story's message: {error}")
        log.warning("could not update Slack message %s in %s: %s", parent.slack_ts, parent.channel, error)
        if isinstance(exc, SlackTemporaryError):
            raise StopRun from None
        return
    run.report.updated += 1


# -- digests -----------------------------------------------------------------------------


def _digests(run: Run) -> None:
    for (channel, _schedule), group in _due_digests(run).items():
        with run.maker() as session:
            claimed = [i for i in group if claims.claim(run, session, i)]
            if not claimed:
                continue
            alerts = list(session.scalars(select(Alert).where(Alert.id.in_(claimed)).order_by(Alert.id)).all())
            message = digest_message_for(session, channel, alerts, run.locale)
            posted = post(run, session, alerts, channel, message)
            if posted is None:
                continue
            outbox.mark_sent(session, posted.alert_ids or claimed, run.clock(), channel_id=posted.channel_id,
                             ts=posted.ts)
            outbox.remember_channel_id(session, channel, posted.channel_id)
            run.report.digests += 1


def _due_digests(run: Run) -> dict[tuple[str, str], list[int]]:
    """Due digest rows, one group per channel and schedule; a row whose schedule cannot be read fails."""
    with run.maker() as session:
        ids = outbox.due_ids(session, run.clock(), ["digest"], run.slack.lease)
        rows = session.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)).all() if ids else []
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for alert in rows:
            # The article's first sight, which is when the crawl queued it (created_at is
            # the insert's wall clock, the same in production but not in a replayed test).
            queued = alert.article.first_seen_at or alert.created_at
            try:
                due = digests.is_due(queued, alert.digest, run.clock())
            except digests.DigestScheduleError as exc:
                outbox.mark_failed(session, [alert.id], str(exc))
                run.report.errors.append(f"alert {alert.id}: {exc}")
                continue
            if due:
                groups[(alert.channel, digests.schedule_key(alert.digest))].append(alert.id)
    return groups


# -- webhook mode: copies cannot be threaded ---------------------------------------------


def _webhook_copies(run: Run) -> None:
    for channel, group in _waiting_copies(run).items():
        with run.maker() as session:
            claimed = [i for i in group if claims.claim(run, session, i)]
            if not claimed:
                continue
            alerts = list(session.scalars(select(Alert).where(Alert.id.in_(claimed)).order_by(Alert.id)).all())
            message = copies_message_for(session, alerts, run.locale)
            posted = post(run, session, alerts, channel, message)
            if posted is None:
                continue
            outbox.mark_sent(session, claimed, run.clock(), channel_id=None, ts=posted.ts)
            run.report.threaded += len(claimed)


def _waiting_copies(run: Run) -> dict[str, list[int]]:
    """Due copy rows by channel, once their story's own message has gone out (or failed)."""
    with run.maker() as session:
        ids = outbox.due_ids(session, run.clock(), ["copy"], run.slack.lease)
    waiting: dict[str, list[int]] = defaultdict(list)
    for alert_id in ids:
        with run.maker() as session:
            alert = session.get(Alert, alert_id)
            assert alert is not None
            parent = outbox.story_alert(session, alert.story_id, alert.channel)
            if parent is not None and parent.status not in ("sent", "failed"):
                continue
            waiting[alert.channel].append(alert_id)
    return waiting


__all__ = ["PACER", "SHUTDOWN", "DeliveryReport", "SlackSettings", "deliver_pending", "make_sender"]
