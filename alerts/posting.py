"""One post for a set of claimed rows, and what Slack's answer means for them.

* sent: ``ts`` recorded in the same breath (the caller commits right after the post);
* 429: waited for within the run when Retry-After is short, else the row waits;
  5xx, unreadable answers, timeouts, dropped connections: back to pending with an
  exponential, jittered ``next_attempt_at`` and the run stops (failed after
  MAX_ATTEMPTS);
* a channel error (``channel_not_found``, ``not_in_channel``, ``is_archived``): that
  channel is blocked, its rows fail, other channels continue; a token error — or a
  ``base_url`` that cannot work — blocks every channel;
* an error about the message itself fails that row only; a copy whose story cannot
  take replies (``cannot_reply_to_message``) is left to the caller to post on its own.

Every error text is redacted of the token and webhook URL before it is stored or reported.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from alerts import outbox
from alerts.blocks import Message
from alerts.claims import heartbeat
from alerts.client import Posted, metadata_for
from alerts.delivery import Run, StopRun
from alerts.errors import (
    SlackAuthError,
    SlackChannelUnusable,
    SlackEndpointError,
    SlackPermanentError,
    SlackRateLimited,
    SlackReplyRefused,
    SlackTemporaryError,
)
from alerts.reconcile import earlier_post, message_key
from storage.models import Alert

log = logging.getLogger(__name__)

# Temporary failures in a row before a row is failed (3 to 5 h of back-off): `vigia alerts retry` re-queues it.
MAX_ATTEMPTS = 12
# A Retry-After up to this is waited for within the run, up to RATE_WAIT_BUDGET per run.
MAX_RATE_WAIT = 30.0
RATE_WAIT_BUDGET = 120.0


def post(run: Run, session: Session, alerts: Sequence[Alert], channel: str, message: Message,
         thread_ts: str | None = None) -> Posted | None:
    """Post once for these claimed rows (or adopt the post Slack already has); None if not posted.

    Raises SlackReplyRefused for a thread reply whose parent cannot take replies, and
    StopRun when the run must end here (the rows are then back in the outbox).
    """
    ids = [a.id for a in alerts]
    claimed_at = min(a.claimed_at for a in alerts if a.claimed_at is not None)
    key = message_key(alerts)
    try:
        with heartbeat(run, ids):
            found = earlier_post(run, session, alerts, channel, key, claimed_at, thread_ts)
            if found is not None:
                return found
            pace_key = f"{run.slack.base_url if run.slack.token else run.slack.webhook_url}|{alerts[0].channel}"
            return _post_paced(run, pace_key, channel, message, thread_ts, metadata_for(key, ids))
    except StopRun:
        for alert_id in ids:
            outbox.release(session, alert_id, not_posted_since=claimed_at)
        raise
    except SlackReplyRefused:
        if thread_ts:
            raise
        _failed(run, session, ids, "slack_refused", "cannot_reply_to_message")
        return None
    except (SlackTemporaryError, SlackPermanentError) as exc:
        _settle_refusal(run, session, alerts, exc, claimed_at)
        return None


def _post_paced(run: Run, pace_key: str, channel: str, message: Message, thread_ts: str | None,
                metadata: dict[str, object]) -> Posted:
    """One message at the channel's pace; a short Retry-After is waited for here, not left for later."""
    while True:
        if not run.pacer.wait(pace_key, run.stop):
            raise StopRun
        try:
            return run.sender.post(channel, message.text, message.blocks, thread_ts=thread_ts, metadata=metadata)
        except SlackRateLimited as exc:
            if exc.retry_after > MAX_RATE_WAIT or run.rate_waited + exc.retry_after > RATE_WAIT_BUDGET:
                raise  # a long wait is the outbox's (next_attempt_at), not a blocked run's
            run.pacer.hold(pace_key, exc.retry_after)
            run.rate_waited += exc.retry_after
            log.info("Slack asked to slow down; waiting %.0fs", exc.retry_after)


def _settle_refusal(run: Run, session: Session, alerts: Sequence[Alert],
                    exc: SlackTemporaryError | SlackPermanentError, claimed_at: datetime) -> None:
    """Slack did not take the message: retry the rows later, block a channel or fail them.

    Raises StopRun when nothing more can go out in this run (Slack is unwell, or the token is bad).
    """
    ids = [a.id for a in alerts]
    if isinstance(exc, SlackRateLimited):
        wait = max(timedelta(seconds=exc.retry_after), outbox.backoff(1))
        _retry_later(run, session, alerts, run.clock() + wait, f"rate limited by Slack ({exc})", exc, claimed_at)
        raise StopRun from None
    if isinstance(exc, SlackTemporaryError):
        attempts = max(a.attempts for a in alerts)
        if attempts >= MAX_ATTEMPTS:
            _failed(run, session, ids, "gave_up", f"gave up after {attempts} attempts: {exc}")
            return
        _retry_later(run, session, alerts, run.clock() + outbox.backoff(attempts), str(exc), exc, claimed_at)
        raise StopRun from None
    if isinstance(exc, SlackAuthError):
        error = run.redact(str(exc)) if isinstance(exc, SlackEndpointError) else exc.code
        failed = outbox.block_channel(session, outbox.ALL_CHANNELS, error, run.clock())
        _blocked(run, "every channel", error, failed)
        raise StopRun from None
    if isinstance(exc, SlackChannelUnusable):
        name = alerts[0].channel
        failed = outbox.block_channel(session, name, exc.code, run.clock())
        _blocked(run, name, exc.code, failed)
        return
    _failed(run, session, ids, "slack_refused", exc.code)


def _failed(run: Run, session: Session, ids: list[int], what: str, error: str) -> None:
    error = run.redact(error)
    outbox.mark_failed(session, ids, error)
    label = "Slack refused the message" if what == "slack_refused" else "not delivered"
    run.report.errors.append(f"alert {', '.join(map(str, ids))}: {label}: {error}")
    log.error("alert %s: %s: %s", ids, label, error)


def _retry_later(run: Run, session: Session, alerts: Sequence[Alert], when: datetime, error: str,
                 exc: SlackTemporaryError, claimed_at: datetime) -> None:
    error = run.redact(error)
    outbox.mark_retry(session, [a.id for a in alerts], when, error,
                      not_posted_since=None if exc.maybe_posted else claimed_at)
    run.report.errors.append(f"Slack unavailable, will retry after {when:%Y-%m-%d %H:%M:%S} UTC: {error}")
    log.warning("Slack unavailable (%s); %d alert(s) retried after %s", error, len(alerts), when.isoformat())


def _blocked(run: Run, channel: str, code: str, failed: int) -> None:
    line = (f"Slack refused delivery to {channel}: {code}. Delivery there is stopped and {failed} alert(s) "
            f"marked failed; fix the token, URL or channel (invite the bot), then run `vigia alerts retry`.")
    run.report.errors.append(line)
    log.error(line)
