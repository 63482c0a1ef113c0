"""The outbox dispatcher: drain due alerts into Slack, one claimed row at a time, exactly once.

Order of a run: claims left by dispatchers that are gone are handed back (``recover``),
then instant alerts in the order they were queued (a story's top-level message, then
its copies as thread replies, each followed by a ``chat.update`` of the parent's
"También en" list), then due digests, then, in webhook mode, the copies that could not
be threaded.

Every message carries Slack message metadata (``vigia_alert``, the row's key): a row
whose earlier post may have reached Slack unconfirmed (the process died mid-post, the
answer timed out or came without ``ts``) is first looked for in the channel's history
and its ``ts`` adopted if found, so a crash or a slow Slack never doubles a story.
While a post is in flight its claim is renewed, so no other dispatcher takes it over.

What Slack answers decides what happens to a row:

* sent: ``ts`` recorded in the same breath (commit right after the post);
* 429: waited for within the run when Retry-After is short, else the row waits;
  5xx, unreadable answers, timeouts, dropped connections: back to pending with an
  exponential, jittered ``next_attempt_at`` and the run stops (failed after
  MAX_ATTEMPTS);
* a channel error (``channel_not_found``, ``not_in_channel``, ``is_archived``): that
  channel is blocked, its rows fail, other channels continue; a token error — or a
  ``base_url`` that cannot work — blocks every channel;
* an error about the message itself fails that row only; a copy whose story cannot
  take replies (``cannot_reply_to_message``) is posted as a message of its own.

Every error text is redacted of the token and webhook URL before it is stored or reported.
``vigia alerts`` lists what is pending or failed and ``vigia alerts retry`` re-queues it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts import digests, instances, outbox
from alerts.blocks import Message, RuleHit, Story, copies_message, copy_message, digest_message, story_message
from alerts.client import Posted, Sender, WebApiSender, WebhookSender, metadata_for
from alerts.errors import (
    AlertError,
    SlackAuthError,
    SlackChannelUnusable,
    SlackEndpointError,
    SlackError,
    SlackPermanentError,
    SlackRateLimited,
    SlackReplyRefused,
    SlackTemporaryError,
)
from alerts.pacing import ChannelPacer
from alerts.redact import Redactor
from storage.models import Alert, Article, Match, utcnow

log = logging.getLogger(__name__)

# Temporary failures in a row before a row is failed (3 to 5 h of back-off): `vigia alerts retry` re-queues it.
MAX_ATTEMPTS = 12
# A Retry-After up to this is waited for within the run, up to RATE_WAIT_BUDGET per run.
MAX_RATE_WAIT = 30.0
RATE_WAIT_BUDGET = 120.0
# How far before an unconfirmed claim the history search starts (clocks differ a little).
HISTORY_MARGIN = timedelta(minutes=2)

# Set when the daemon shuts down: no new post starts, inline waits end.
SHUTDOWN = threading.Event()
# Slack's pace is per channel whichever run posts: one pacer for the process.
PACER = ChannelPacer()


@dataclass
class SlackSettings:
    token: str | None
    channel: str
    base_url: str = "https://slack.com/api/"
    webhook_url: str | None = None
    locale: str = "es"
    timeout: float = 30.0  # seconds slack_sdk waits for one answer
    lease: timedelta = outbox.STALE_CLAIM

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.token, self.webhook_url) if s]


@dataclass
class DeliveryReport:
    sent: int = 0  # top-level story messages
    threaded: int = 0  # copies (thread replies, or listed in a later message in webhook mode)
    updated: int = 0  # parent messages whose "También en" list was edited
    digests: int = 0  # digest messages
    pending: int = 0  # still pending after this run
    failed: int = 0  # failed, waiting for `vigia alerts retry`
    errors: list[str] = field(default_factory=list)
    adopted: int = 0  # unconfirmed posts found in Slack's history instead of posted again
    recovered: int = 0  # claims of dispatchers that were gone, handed back


def default_worker() -> str:
    return instances.instance_id()


def make_sender(slack: SlackSettings) -> Sender:
    """A bot token wins; a webhook URL alone means webhook mode."""
    if slack.token:
        return WebApiSender(slack.token, slack.base_url or "https://slack.com/api/", timeout=slack.timeout)
    if slack.webhook_url:
        return WebhookSender(slack.webhook_url, timeout=slack.timeout)
    raise AlertError("slack: set a bot token (slack.token) or an incoming webhook (slack.webhook_url)")


class _StopRun(Exception):
    """Slack is unwell (rate limited, 5xx, unreachable, bad token) or we are stopping: end this run here."""


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
    run = _Run(sessionmaker, sender or make_sender(slack), slack, now, worker or default_worker(), stop or SHUTDOWN)
    try:
        run.deliver()
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


class _Run:
    def __init__(self, maker: sessionmaker[Session], sender: Sender, slack: SlackSettings, now: datetime | None,
                 worker: str, stop: threading.Event) -> None:
        self.maker, self.sender, self.slack, self.worker, self.stop = maker, sender, slack, worker, stop
        self.offset = (now - utcnow()) if now is not None else timedelta(0)
        self.locale = slack.locale or "es"
        self.redact = Redactor(slack.secrets)
        self.report = DeliveryReport()
        self.rate_waited = 0.0

    def clock(self) -> datetime:
        """Now (shifted like the ``now`` given): claims and retries are stamped when they happen."""
        return utcnow() + self.offset

    def deliver(self) -> None:
        try:
            self.recover()
            self.instant()
            self.digests()
            if not self.sender.threads:
                self.webhook_copies()
        except _StopRun:
            pass

    # -- claims of dispatchers that are gone ---------------------------------------------

    def recover(self) -> None:
        with self.maker() as session:
            gone = outbox.recover(session, self.clock(), instances.alive, self.slack.lease)
        if gone:
            self.report.recovered += len(gone)
            log.warning("%d alert(s) were claimed by a dispatcher that is gone; checking Slack before posting them",
                        len(gone))

    def _claim(self, session: Session, alert_id: int) -> bool:
        if self.stop.is_set():
            raise _StopRun
        return outbox.claim(session, alert_id, self.clock(), self.worker, self.slack.lease)

    # -- instant alerts ------------------------------------------------------------------

    def instant(self) -> None:
        kinds = ["story", "copy"] if self.sender.threads else ["story"]
        with self.maker() as session:
            ids = outbox.due_ids(session, self.clock(), kinds, self.slack.lease)
        for alert_id in ids:
            with self.maker() as session:
                if not self._claim(session, alert_id):
                    continue  # another dispatcher has it, or its channel was just blocked
                alert = session.get(Alert, alert_id)
                assert alert is not None
                if alert.kind == "copy":
                    self._copy(session, alert)
                else:
                    self._story(session, alert)

    def _story(self, session: Session, alert: Alert) -> None:
        message = self._story_message(session, alert)
        posted = self._post(session, [alert], alert.channel, message)
        if posted is None:
            return
        outbox.mark_sent(session, [alert.id], self.clock(), channel_id=posted.channel_id, ts=posted.ts)
        outbox.remember_channel_id(session, alert.channel, posted.channel_id)
        self.report.sent += 1

    def _copy(self, session: Session, alert: Alert) -> None:
        parent = outbox.story_alert(session, alert.story_id, alert.channel)
        if parent is not None and parent.status == "failed":
            parent = None  # the story's own message was refused: this copy speaks for it
        if parent is None:
            self._story(session, alert)
            return
        if parent.status != "sent" or not parent.slack_ts:
            outbox.release(session, alert.id, not_posted_since=alert.claimed_at)  # waits for its story's message
            return
        article = session.get(Article, alert.article_id)
        assert article is not None
        message = copy_message(_story(article), locale=self.locale)
        channel = parent.slack_channel_id or alert.channel
        try:
            posted = self._post(session, [alert], channel, message, thread_ts=parent.slack_ts)
        except SlackReplyRefused as exc:
            # The story's message cannot take replies: the copy goes out as a message of its own.
            log.warning("alert %s: Slack refused a reply under %s (%s); posting it on its own",
                        alert.id, parent.slack_ts, exc.code)
            self.report.errors.append(f"alert {alert.id}: not a thread reply ({exc.code}); posted on its own")
            self._story(session, alert)
            return
        if posted is None:
            return
        outbox.mark_sent(session, [alert.id], self.clock(), channel_id=posted.channel_id or parent.slack_channel_id,
                         ts=posted.ts, thread_ts=parent.slack_ts)
        self.report.threaded += 1
        self._update_parent(session, parent)

    def _update_parent(self, session: Session, parent: Alert) -> None:
        """Edit the story's message so its "También en" list names every copy so far."""
        copies = outbox.sent_copies(session, parent.article_id, parent.channel)
        also_in = [(a.outlet, a.url) for a in copies]
        message = self._story_message(session, parent, also_in=also_in)
        try:
            self.sender.update(parent.slack_channel_id or parent.channel, parent.slack_ts or "", message.text,
                               message.blocks)
        except SlackError as exc:
            # The reply is in the thread already; a stale outlet list is cosmetic.
            error = self.redact(str(exc))
            self.report.errors.append(f"alert {parent.id}: could not update the story's message: {error}")
            log.warning("could not update Slack message %s in %s: %s", parent.slack_ts, parent.channel, error)
            if isinstance(exc, SlackTemporaryError):
                raise _StopRun from None
            return
        self.report.updated += 1

    # -- digests -------------------------------------------------------------------------

    def digests(self) -> None:
        with self.maker() as session:
            ids = outbox.due_ids(session, self.clock(), ["digest"], self.slack.lease)
            rows = session.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)).all() if ids else []
            groups: dict[tuple[str, str], list[int]] = defaultdict(list)
            for alert in rows:
                # The article's first sight, which is when the crawl queued it (created_at is
                # the insert's wall clock, the same in production but not in a replayed test).
                queued = alert.article.first_seen_at or alert.created_at
                try:
                    due = digests.is_due(queued, alert.digest, self.clock())
                except digests.DigestScheduleError as exc:
                    outbox.mark_failed(session, [alert.id], str(exc))
                    self.report.errors.append(f"alert {alert.id}: {exc}")
                    continue
                if due:
                    groups[(alert.channel, digests.schedule_key(alert.digest))].append(alert.id)
        for (channel, _key), group in groups.items():
            with self.maker() as session:
                claimed = [i for i in group if self._claim(session, i)]
                if not claimed:
                    continue
                alerts = session.scalars(select(Alert).where(Alert.id.in_(claimed)).order_by(Alert.id)).all()
                message = self._digest_message(session, channel, list(alerts))
                posted = self._post(session, list(alerts), channel, message)
                if posted is None:
                    continue
                outbox.mark_sent(session, posted.alert_ids or claimed, self.clock(), channel_id=posted.channel_id,
                                 ts=posted.ts)
                outbox.remember_channel_id(session, channel, posted.channel_id)
                self.report.digests += 1

    def _digest_message(self, session: Session, channel: str, alerts: list[Alert]) -> Message:
        by_rule: dict[str, dict[int, list[Article]]] = defaultdict(dict)
        names: dict[str, str] = {}
        for alert in alerts:
            article = session.get(Article, alert.article_id)
            assert article is not None
            for match in _matches(session, alert):
                names.setdefault(match.rule_id, match.rule_name)
            for rule_id in alert.rule_ids or ["?"]:
                by_rule[rule_id].setdefault(alert.story_id, []).append(article)
        sections = []
        for rule_id, stories in by_rule.items():
            entries = [(_story(arts[0]), [_story(a) for a in arts[1:]]) for arts in stories.values()]
            sections.append((names.get(rule_id, rule_id), entries))
        count = sum(len(s) for _, s in sections)
        title = digests.title(alerts[0].digest, channel, count, self.locale)
        return digest_message(title, sections, locale=self.locale)

    # -- webhook mode: copies cannot be threaded ---------------------------------------

    def webhook_copies(self) -> None:
        with self.maker() as session:
            ids = outbox.due_ids(session, self.clock(), ["copy"], self.slack.lease)
        waiting: dict[str, list[int]] = defaultdict(list)
        for alert_id in ids:
            with self.maker() as session:
                alert = session.get(Alert, alert_id)
                assert alert is not None
                parent = outbox.story_alert(session, alert.story_id, alert.channel)
                if parent is not None and parent.status not in ("sent", "failed"):
                    continue
                waiting[alert.channel].append(alert_id)
        for channel, group in waiting.items():
            with self.maker() as session:
                claimed = [i for i in group if self._claim(session, i)]
                if not claimed:
                    continue
                alerts = session.scalars(select(Alert).where(Alert.id.in_(claimed)).order_by(Alert.id)).all()
                clusters: dict[int, list[Article]] = defaultdict(list)
                for alert in alerts:
                    article = session.get(Article, alert.article_id)
                    assert article is not None
                    clusters[alert.story_id].append(article)
                pairs = []
                for story_article_id, copies in clusters.items():
                    parent = session.get(Article, story_article_id)
                    pairs.append((_story(parent or copies[0]), [_story(a) for a in copies]))
                message = copies_message(pairs, locale=self.locale)
                posted = self._post(session, list(alerts), channel, message)
                if posted is None:
                    continue
                outbox.mark_sent(session, claimed, self.clock(), channel_id=None, ts=posted.ts)
                self.report.threaded += len(claimed)

    # -- one post and what its failure means --------------------------------------------

    def _post(self, session: Session, alerts: Sequence[Alert], channel: str, message: Message,
              thread_ts: str | None = None) -> Posted | None:
        """Post once for these claimed rows (or adopt the post Slack already has); None if not posted.

        Raises SlackReplyRefused for a thread reply whose parent cannot take replies.
        """
        ids = [a.id for a in alerts]
        claimed_at = min(a.claimed_at for a in alerts if a.claimed_at is not None)
        doubtful = [a.unconfirmed_since for a in alerts if a.unconfirmed_since is not None and a.unconfirmed_since < claimed_at]
        key = _key(alerts)
        try:
            with self._heartbeat(ids):
                if doubtful and self.sender.history:
                    # History wants the channel's id: the one Slack gave on an earlier post saves a lookup.
                    where = channel if thread_ts else outbox.known_channel_id(session, alerts[0].channel) or channel
                    found = self._find(alerts, where, key, min(doubtful), thread_ts)
                    if found is not None:
                        return self._adopted(session, alerts, found)
                pace_key = f"{self.slack.base_url if self.slack.token else self.slack.webhook_url}|{alerts[0].channel}"
                return self._post_paced(pace_key, channel, message, thread_ts, metadata_for(key, ids))
        except _StopRun:
            for alert_id in ids:
                outbox.release(session, alert_id, not_posted_since=claimed_at)
            raise
        except SlackReplyRefused:
            if thread_ts:
                raise
            return self._failed(session, ids, "slack_refused", "cannot_reply_to_message")
        except SlackRateLimited as exc:
            wait = max(timedelta(seconds=exc.retry_after), outbox.backoff(1))
            self._retry_later(session, alerts, self.clock() + wait, f"rate limited by Slack ({exc})", exc, claimed_at)
            raise _StopRun from None
        except SlackTemporaryError as exc:
            attempts = max(a.attempts for a in alerts)
            if attempts >= MAX_ATTEMPTS:
                return self._failed(session, ids, "gave_up", f"gave up after {attempts} attempts: {exc}")
            self._retry_later(session, alerts, self.clock() + outbox.backoff(attempts), str(exc), exc, claimed_at)
            raise _StopRun from None
        except SlackAuthError as exc:
            error = self.redact(str(exc)) if isinstance(exc, SlackEndpointError) else exc.code
            failed = outbox.block_channel(session, outbox.ALL_CHANNELS, error, self.clock())
            self._blocked("every channel", error, failed)
            raise _StopRun from None
        except SlackChannelUnusable as exc:
            name = alerts[0].channel
            failed = outbox.block_channel(session, name, exc.code, self.clock())
            self._blocked(name, exc.code, failed)
            return None
        except SlackPermanentError as exc:
            return self._failed(session, ids, "slack_refused", exc.code)

    def _post_paced(self, pace_key: str, channel: str, message: Message, thread_ts: str | None,
                    metadata: dict[str, object]) -> Posted:
        """One message at the channel's pace; a short Retry-After is waited for here, not left for later."""
        while True:
            if not PACER.wait(pace_key, self.stop):
                raise _StopRun
            try:
                return self.sender.post(channel, message.text, message.blocks, thread_ts=thread_ts, metadata=metadata)
            except SlackRateLimited as exc:
                if exc.retry_after > MAX_RATE_WAIT or self.rate_waited + exc.retry_after > RATE_WAIT_BUDGET:
                    raise  # a long wait is the outbox's (next_attempt_at), not a blocked run's
                PACER.hold(pace_key, exc.retry_after)
                self.rate_waited += exc.retry_after
                log.info("Slack asked to slow down; waiting %.0fs", exc.retry_after)

    def _find(self, alerts: Sequence[Alert], channel: str, key: str, since: datetime,
              thread_ts: str | None) -> Posted | None:
        """The earlier post of these rows in Slack, if it is there; None also when history cannot be read."""
        try:
            return self.sender.find(channel, key, (since - HISTORY_MARGIN).timestamp(), thread_ts)
        except SlackTemporaryError:
            raise
        except SlackPermanentError as exc:
            # Without channels:history / groups:history (or the channel's id) the check cannot be
            # made: post anyway, at-least-once, and say so.
            warning = (f"alert {alerts[0].id}: could not look for an earlier copy in Slack ({exc.code}); "
                       "posting again, which may repeat it. Give the app channels:history and groups:history")
            self.report.errors.append(warning)
            log.warning(warning)
            return None

    def _adopted(self, session: Session, alerts: Sequence[Alert], found: Posted) -> Posted:
        """The post was in Slack already: keep its ts; rows of a group it did not cover go back to pending."""
        ids = [a.id for a in alerts]
        covered = [i for i in found.alert_ids if i in ids] if found.alert_ids else ids
        for alert_id in set(ids) - set(covered):
            outbox.release(session, alert_id)
        self.report.adopted += 1
        log.info("alert(s) %s were already in Slack (ts %s); not posting them again", covered, found.ts)
        return Posted(channel_id=found.channel_id, ts=found.ts, alert_ids=covered)

    def _failed(self, session: Session, ids: list[int], what: str, error: str) -> None:
        error = self.redact(error)
        outbox.mark_failed(session, ids, error)
        label = "Slack refused the message" if what == "slack_refused" else "not delivered"
        self.report.errors.append(f"alert {', '.join(map(str, ids))}: {label}: {error}")
        log.error("alert %s: %s: %s", ids, label, error)
        return None

    def _retry_later(self, session: Session, alerts: Sequence[Alert], when: datetime, error: str,
                     exc: SlackTemporaryError, claimed_at: datetime) -> None:
        error = self.redact(error)
        outbox.mark_retry(session, [a.id for a in alerts], when, error,
                          not_posted_since=None if exc.maybe_posted else claimed_at)
        self.report.errors.append(f"Slack unavailable, will retry after {when:%Y-%m-%d %H:%M:%S} UTC: {error}")
        log.warning("Slack unavailable (%s); %d alert(s) retried after %s", error, len(alerts), when.isoformat())

    def _blocked(self, channel: str, code: str, failed: int) -> None:
        line = (f"Slack refused delivery to {channel}: {code}. Delivery there is stopped and {failed} alert(s) "
                f"marked failed; fix the token, URL or channel (invite the bot), then run `vigia alerts retry`.")
        self.report.errors.append(line)
        log.error(line)

    @contextmanager
    def _heartbeat(self, ids: list[int]) -> Iterator[None]:
        """Renew these claims while the post is in flight, so no other dispatcher takes them over."""
        done = threading.Event()
        every = max(0.05, self.slack.lease.total_seconds() / 3)

        def beat() -> None:
            while not done.wait(every):
                try:
                    with self.maker() as session:
                        outbox.renew(session, ids, self.worker, self.clock())
                except SQLAlchemyError as exc:
                    log.warning("could not renew the claim of alert(s) %s: %s", ids, exc)

        thread = threading.Thread(target=beat, name="vigia-claim-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=5)

    # -- rendering -----------------------------------------------------------------------

    def _story_message(self, session: Session, alert: Alert, also_in: Sequence[tuple[str, str]] = ()) -> Message:
        article = session.get(Article, alert.article_id)
        assert article is not None
        hits = [RuleHit.from_match(m.rule_id, m.rule_name, m.score, m.explanation) for m in _matches(session, alert)]
        return story_message(_story(article), hits, locale=self.locale, also_in=also_in)


def _matches(session: Session, alert: Alert) -> list[Match]:
    """The article's matches for this alert's rules, best first."""
    rows = session.scalars(select(Match).where(Match.article_id == alert.article_id)).all()
    wanted = set(alert.rule_ids or [])
    chosen = [m for m in rows if not wanted or m.rule_id in wanted]
    return sorted(chosen, key=lambda m: -(m.score or 0))


def _key(alerts: Sequence[Alert]) -> str:
    """A message's identity in Slack: the first row's id and its article (ids alone repeat across databases)."""
    first = alerts[0]
    digest = hashlib.sha256(first.article.canonical_url.encode("utf-8")).hexdigest()[:12]
    return f"{first.id}-{digest}"


def _story(article: Article) -> Story:
    return Story(url=article.url, outlet=article.outlet, title=article.title, author=article.author,
                 published_at=article.published_at, text=article.text, summary=article.summary)


__all__ = ["SHUTDOWN", "DeliveryReport", "SlackSettings", "deliver_pending", "make_sender"]
