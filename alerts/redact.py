"""Keeping Slack secrets out of every text that leaves the process or enters the database.

One function for logs (vigia.logs), stored errors (``alerts.last_error``), the ``vigia
crawl`` summary and ``vigia alerts``: the configured secrets (the token, the webhook URL)
are replaced wherever they appear, and so is anything shaped like a Slack token or an
incoming-webhook URL, whoever configured it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# Slack tokens (bot, user, app, config) and incoming-webhook URLs.
SLACK_SECRET = re.compile(
    r"\bxox[abposre]-[A-Za-z0-9-]{6,}|\bxapp-[A-Za-z0-9-]{6,}"
    r"|https?://hooks\.slack(?:-gov)?\.com/services/[A-Za-z0-9/_-]+"
)
# Shorter values are not worth redacting (and would mangle ordinary words).
MIN_SECRET = 4


class Redactor:
    """``redact(text)`` with these secrets removed, longest first so a secret containing another goes whole."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str | None]) -> None:
        known = set(self.secrets) | {s for s in secrets if s and len(s) >= MIN_SECRET}
        self.secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        return redact(text, self.secrets)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secrets nor anything shaped like a Slack token or webhook URL."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET:
            text = text.replace(secret, REDACTED)
    return SLACK_SECRET.sub(REDACTED, text)
