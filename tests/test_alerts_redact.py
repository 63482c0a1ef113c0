"""alerts.redact: the one redaction for logs, stored errors and printed output (issue 10, item 14)."""

from __future__ import annotations

import io
import logging

from alerts.redact import REDACTED, Redactor, redact
from vigia.logs import setup_logging

SECRET = "plain-secret-value-0123456789"


def test_configured_secrets_and_slack_shaped_ones_are_removed_whole_or_cut_short() -> None:
    text = (f"a {SECRET} b {SECRET[:14]}... c xoxb-1111-2222-abcdefgh d https://hooks.slack.com/services/T1/B2/xyz "
            "e htps://hooks.slack.com/services/T1/B2/xyz f")
    cleaned = redact(text, [SECRET])
    assert SECRET[:8] not in cleaned and "xoxb-" not in cleaned and "hooks.slack.com" not in cleaned
    assert cleaned.count(REDACTED) == 5 and cleaned.startswith("a ") and cleaned.endswith(" f")
    assert redact("nothing secret here", [SECRET, "", None]) == "nothing secret here"  # type: ignore[list-item]


def test_the_log_handler_uses_the_same_redaction() -> None:
    stream = io.StringIO()
    setup_logging("json", "INFO", [SECRET], stream=stream)
    try:
        logging.getLogger("slack_sdk.web.base_client").error("Failed to decode: Bearer %s...", SECRET[:20])
    finally:
        setup_logging("text", "WARNING", [])
    assert SECRET[:8] not in stream.getvalue() and REDACTED in stream.getvalue()
    assert Redactor([SECRET])(f"x{SECRET}y") == f"x{REDACTED}y"
