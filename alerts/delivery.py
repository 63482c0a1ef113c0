"""What one delivery run works with: the Slack settings, its sender and clock, and the report it fills.

Every step of a run (alerts.claims, alerts.posting, alerts.reconcile, alerts.dispatcher)
takes the same ``Run``, so a claim, a retry and a report line are stamped with one clock
and redacted with one set of secrets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from alerts import outbox
from alerts.client import Sender
from alerts.pacing import INTERVAL, ChannelPacer
from alerts.redact import Redactor
from storage.models import utcnow


@dataclass
class SlackSettings:
    token: str | None
    channel: str
    base_url: str = "https://slack.com/api/"
    webhook_url: str | None = None
    locale: str = "es"
    timeout: float = 30.0  # seconds slack_sdk waits for one answer
    lease: timedelta = outbox.STALE_CLAIM
    pace: float = INTERVAL  # seconds between messages to one channel

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


class StopRun(Exception):
    """Slack is unwell (rate limited, 5xx, unreachable, bad token) or we are stopping: end this run here."""


class Run:
    """One delivery run: who posts (``worker``), through what, at what pace, and what it has done so far."""

    def __init__(self, maker: sessionmaker[Session], sender: Sender, slack: SlackSettings, *, now: datetime | None,
                 worker: str, stop: threading.Event, pacer: ChannelPacer) -> None:
        self.maker, self.sender, self.slack, self.worker, self.stop, self.pacer = maker, sender, slack, worker, stop, pacer
        self.offset = (now - utcnow()) if now is not None else timedelta(0)
        self.locale = slack.locale or "es"
        self.redact = Redactor(slack.secrets)
        self.report = DeliveryReport()
        self.rate_waited = 0.0  # seconds of Retry-After waited for within this run

    def clock(self) -> datetime:
        """Now (shifted like the ``now`` given): claims and retries are stamped when they happen."""
        return utcnow() + self.offset

