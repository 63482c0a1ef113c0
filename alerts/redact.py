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
    r"|(?:\b[A-Za-z][A-Za-z0-9+.-]*:/*)?hooks\.slack(?:-gov)?\.com/services/[A-Za-z0-9/_-]+"
)
# Shorter values are not worth redacting (and would mangle ordinary words).
MIN_SECRET = 4
# A secret's first this-many characters are enough to redact the rest of it: a message cut
# short (slack_sdk keeps 100 characters of an unreadable body) may end inside the secret.
PREFIX = 8


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
    """``text`` without the given secrets (whole or cut short) nor anything shaped like a Slack token or webhook URL."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET:
            text = text.replace(secret, REDACTED)
            if len(secret) > PREFIX:
                text = _cut_copies(text, secret)
    return SLACK_SECRET.sub(REDACTED, text)


def _cut_copies(text: str, secret: str) -> str:
    """Redact every run of text that starts like ``secret`` for at least PREFIX characters."""
    head = secret[:PREFIX]
    start = text.find(head)
    while start != -1:
        end = start + PREFIX
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        text = text[:start] + REDACTED + text[end:]
        start = text.find(head, start + len(REDACTED))
    return text
