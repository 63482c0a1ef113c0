"""Finding a post that may already be in Slack, so a crash or a slow answer never doubles a story.

Every message carries Slack message metadata (``vigia_alert``, the row's key). A row whose
earlier post may have reached Slack unconfirmed (the process died mid-post, the answer
timed out or came without ``ts``) is first looked for in the channel's history
(``conversations.history``, or the thread's replies) and its ``ts`` adopted if found.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from alerts import outbox
from alerts.client import Posted
from alerts.delivery import Run
from alerts.errors import SlackPermanentError, SlackTemporaryError
from storage.models import Alert

log = logging.getLogger(__name__)

# How far before an unconfirmed claim the history search starts (clocks differ a little).
HISTORY_MARGIN = timedelta(minutes=2)


def message_key(alerts: Sequence[Alert]) -> str:
    """A message's identity in Slack: the first row's id and its article (ids alone repeat across databases)."""
    first = alerts[0]
    digest = hashlib.sha256(first.article.canonical_url.encode("utf-8")).hexdigest()[:12]
    return f"{first.id}-{digest}"


def earlier_post(run: Run, session: Session, alerts: Sequence[Alert], channel: str, key: str,
                 claimed_at: datetime, thread_ts: str | None) -> Posted | None:
    """The post these rows already have in Slack, adopted; None when they must be posted.

    Only rows left unconfirmed before this claim are looked for, and only where the sender
    can read history (not in webhook mode).
    """
    doubtful = [a.unconfirmed_since for a in alerts if a.unconfirmed_since is not None and a.unconfirmed_since < claimed_at]
    if not doubtful or not run.sender.history:
        return None
    # History wants the channel's id: the one Slack gave on an earlier post saves a lookup.
    where = channel if thread_ts else outbox.known_channel_id(session, alerts[0].channel) or channel
    found = _find(run, alerts, where, key, min(doubtful), thread_ts)
    if found is None:
        return None
    return _adopt(run, session, alerts, found)


def _find(run: Run, alerts: Sequence[Alert], channel: str, key: str, since: datetime,
          thread_ts: str | None) -> Posted | None:
    """The earlier post of these rows in Slack, if it is there; None also when history cannot be read."""
    try:
        return run.sender.find(channel, key, (since - HISTORY_MARGIN).timestamp(), thread_ts)
    except SlackTemporaryError:
        raise
    except SlackPermanentError as exc:
        # Without channels:history / groups:history (or the channel's id) the check cannot be
        # made: post anyway, at-least-once, and say so.
        warning = (f"alert {alerts[0].id}: could not look for an earlier copy in Slack ({exc.code}); "
                   "posting again, which may repeat it. Give the app channels:history and groups:history")
        run.report.errors.append(warning)
        log.warning(warning)
        return None


def _adopt(run: Run, session: Session, alerts: Sequence[Alert], found: Posted) -> Posted:
    """The post was in Slack already: keep its ts; rows of a group it did not cover go back to pending."""
    ids = [a.id for a in alerts]
    covered = [i for i in found.alert_ids if i in ids] if found.alert_ids else ids
    for alert_id in set(ids) - set(covered):
        outbox.release(session, alert_id)
    run.report.adopted += 1
    log.info("alert(s) %s were already in Slack (ts %s); not posting them again", covered, found.ts)
    return Posted(channel_id=found.channel_id, ts=found.ts, alert_ids=covered)
