"""The outbox dispatcher: drain due alerts into Slack, one claimed row at a time.

Order of a run: instant alerts in the order they were queued (a story's top-level
message, then its copies as thread replies, each followed by a ``chat.update`` of the
parent's "También en" list), then due digests, then, in webhook mode, the copies that
could not be threaded. What Slack answers decides what happens to a row:

* sent: ``ts`` recorded in the same breath (commit right after the post);
* 429 beyond the client's own waits, 5xx, dropped connections: the row goes back to
  pending with an exponential, jittered ``next_attempt_at`` and the run stops — Slack is
  unwell, later runs try again;
* a channel error (``channel_not_found``, ``not_in_channel``…): that channel is blocked,
  its rows fail, other channels continue; an auth error blocks every channel;
* a message Slack rejects on its own: that row fails, the others go on.

``vigia alerts`` lists what is pending or failed and ``vigia alerts retry`` re-queues it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts import digests, outbox
from alerts.blocks import Message, RuleHit, Story, copies_message, copy_message, digest_message, story_message
from alerts.client import Posted, Sender, WebApiSender, WebhookSender
from alerts.errors import (
    AlertError,
    SlackAuthError,
    SlackChannelUnusable,
    SlackError,
    SlackPermanentError,
    SlackRateLimited,
    SlackTemporaryError,
)
from storage.models import Alert, Article, Match, utcnow

log = logging.getLogger(__name__)


@dataclass
class SlackSettings:
    token: str | None
    channel: str
    base_url: str = "https://slack.com/api/"
    webhook_url: str | None = None
    locale: str = "es"


@dataclass
class DeliveryReport:
    sent: int = 0  # top-level story messages
    threaded: int = 0  # copies (thread replies, or listed in a later message in webhook mode)
    updated: int = 0  # parent messages whose "También en" list was edited
    digests: int = 0  # digest messages
    pending: int = 0  # still pending after this run
    failed: int = 0  # failed, waiting for `vigia alerts retry`
    errors: list[str] = field(default_factory=list)


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def make_sender(slack: SlackSettings) -> Sender:
    """A bot token wins; a webhook URL alone means webhook mode."""
    if slack.token:
        return WebApiSender(slack.token, slack.base_url or "https://slack.com/api/")
    if slack.webhook_url:
        return WebhookSender(slack.webhook_url)
    raise AlertError("slack: set a bot token (slack.token) or an incoming webhook (slack.webhook_url)")


class _StopRun(Exception):
    """Slack is unwell (rate limited, 5xx, unreachable, bad token): stop this run here."""


def deliver_pending(
    sessionmaker: sessionmaker[Session],
    slack: SlackSettings,
    *,
    now: datetime | None = None,
    worker: str | None = None,
    sender: Sender | None = None,
) -> DeliveryReport:
    """Deliver every due alert; safe to run in several processes at once."""
    run = _Run(sessionmaker, sender or make_sender(slack), slack, now or utcnow(), worker or default_worker())
    try:
        run.instant()
        run.digests()
        if not run.sender.threads:
            run.webhook_copies()
    except _StopRun:
        pass
    with sessionmaker() as session:
        run.report.pending = outbox.count_by_status(session, "pending") + outbox.count_by_status(session, "sending")
        run.report.failed = outbox.count_by_status(session, "failed")
    return run.report


class _Run:
    def __init__(self, maker: sessionmaker[Session], sender: Sender, slack: SlackSettings, now: datetime,
                 worker: str) -> None:
        self.maker, self.sender, self.slack, self.now, self.worker = maker, sender, slack, now, worker
        self.locale = slack.locale or "es"
        self.report = DeliveryReport()

    # -- instant alerts ------------------------------------------------------------------

    def instant(self) -> None:
        kinds = ["story", "copy"] if self.sender.threads else ["story"]
        with self.maker() as session:
            ids = outbox.due_ids(session, self.now, kinds)
        for alert_id in ids:
            with self.maker() as session:
                if not outbox.claim(session, alert_id, self.now, self.worker):
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
        outbox.mark_sent(session, [alert.id], self.now, channel_id=posted.channel_id, ts=posted.ts)
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
            outbox.release(session, alert.id)  # waits for its story's message
            return
        article = session.get(Article, alert.article_id)
        assert article is not None
        message = copy_message(_story(article), locale=self.locale)
        channel = parent.slack_channel_id or alert.channel
        posted = self._post(session, [alert], channel, message, thread_ts=parent.slack_ts)
        if posted is None:
            return
        outbox.mark_sent(session, [alert.id], self.now, channel_id=posted.channel_id or parent.slack_channel_id,
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
            self.report.errors.append(f"alert {parent.id}: could not update the story's message: {exc}")
            log.warning("could not update Slack message %s in %s: %s", parent.slack_ts, parent.channel, exc)
            if isinstance(exc, SlackTemporaryError):
                raise _StopRun from exc
            return
        self.report.updated += 1

    # -- digests -------------------------------------------------------------------------

    def digests(self) -> None:
        with self.maker() as session:
            ids = outbox.due_ids(session, self.now, ["digest"])
            rows = session.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)).all() if ids else []
            groups: dict[tuple[str, str], list[int]] = defaultdict(list)
            for alert in rows:
                # The article's first sight, which is when the crawl queued it (created_at is
                # the insert's wall clock, the same in production but not in a replayed test).
                queued = alert.article.first_seen_at or alert.created_at
                try:
                    due = digests.is_due(queued, alert.digest, self.now)
                except digests.DigestScheduleError as exc:
                    outbox.mark_failed(session, [alert.id], str(exc))
                    self.report.errors.append(f"alert {alert.id}: {exc}")
                    continue
                if due:
                    groups[(alert.channel, digests.schedule_key(alert.digest))].append(alert.id)
        for (channel, _key), group in groups.items():
            with self.maker() as session:
                claimed = [i for i in group if outbox.claim(session, i, self.now, self.worker)]
                if not claimed:
                    continue
                alerts = session.scalars(select(Alert).where(Alert.id.in_(claimed)).order_by(Alert.id)).all()
                message = self._digest_message(session, channel, list(alerts))
                posted = self._post(session, list(alerts), channel, message)
                if posted is None:
                    continue
                outbox.mark_sent(session, claimed, self.now, channel_id=posted.channel_id, ts=posted.ts)
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
            ids = outbox.due_ids(session, self.now, ["copy"])
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
                claimed = [i for i in group if outbox.claim(session, i, self.now, self.worker)]
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
                outbox.mark_sent(session, claimed, self.now, channel_id=None, ts=posted.ts)
                self.report.threaded += len(claimed)

    # -- one post and what its failure means --------------------------------------------

    def _post(self, session: Session, alerts: Sequence[Alert], channel: str, message: Message,
              thread_ts: str | None = None) -> Posted | None:
        ids = [a.id for a in alerts]
        try:
            return self.sender.post(channel, message.text, message.blocks, thread_ts=thread_ts)
        except SlackRateLimited as exc:
            wait = max(timedelta(seconds=exc.retry_after), outbox.backoff(1))
            self._retry_later(session, alerts, self.now + wait, f"rate limited by Slack ({exc})")
            raise _StopRun from exc
        except SlackTemporaryError as exc:
            attempts = max(a.attempts for a in alerts)
            self._retry_later(session, alerts, self.now + outbox.backoff(attempts), str(exc))
            raise _StopRun from exc
        except SlackAuthError as exc:
            failed = outbox.block_channel(session, outbox.ALL_CHANNELS, exc.code, self.now)
            self._blocked("every channel", exc.code, failed)
            raise _StopRun from exc
        except SlackChannelUnusable as exc:
            name = alerts[0].channel
            failed = outbox.block_channel(session, name, exc.code, self.now)
            self._blocked(name, exc.code, failed)
            return None
        except SlackPermanentError as exc:
            outbox.mark_failed(session, ids, exc.code)
            self.report.errors.append(f"alert {', '.join(map(str, ids))}: Slack refused the message: {exc.code}")
            log.error("Slack refused alert %s: %s", ids, exc.code)
            return None

    def _retry_later(self, session: Session, alerts: Sequence[Alert], when: datetime, error: str) -> None:
        outbox.mark_retry(session, [a.id for a in alerts], when, error)
        self.report.errors.append(f"Slack unavailable, will retry after {when:%Y-%m-%d %H:%M:%S} UTC: {error}")
        log.warning("Slack unavailable (%s); %d alert(s) retried after %s", error, len(alerts), when.isoformat())

    def _blocked(self, channel: str, code: str, failed: int) -> None:
        line = (f"Slack refused delivery to {channel}: {code}. Delivery there is stopped and {failed} alert(s) "
                f"marked failed; fix the token or channel (invite the bot), then run `vigia alerts retry`.")
        self.report.errors.append(line)
        log.error(line)

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


def _story(article: Article) -> Story:
    return Story(url=article.url, outlet=article.outlet, title=article.title, author=article.author,
                 published_at=article.published_at, text=article.text, summary=article.summary)


__all__ = ["DeliveryReport", "SlackSettings", "deliver_pending", "make_sender"]
