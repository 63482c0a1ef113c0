"""Logs: readable or JSON lines with stable keys, and never a Slack token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from vigia.logs import announce, setup_logging

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
CONFIGURED = "s3cr3t-webhook-value"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_stable_keys(stream: io.StringIO) -> None:
    setup_logging("json", "INFO", [], stream=stream)
    logging.getLogger("vigia.daemon.crawl").info(
        "crawl finished",
        extra={"source": "El Universal", "url": "https://example.com/rss", "counts": {"new": 3}, "duration": 1.5},
    )
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["message"] == "crawl finished"
    assert entry["level"] == "info"
    assert entry["logger"] == "vigia.daemon.crawl"
    assert (entry["source"], entry["url"], entry["counts"], entry["duration"]) == (
        "El Universal",
        "https://example.com/rss",
        {"new": 3},
        1.5,
    )
    assert "ts" in entry


def test_text_lines_are_readable_with_the_same_keys(stream: io.StringIO) -> None:
    setup_logging("text", "INFO", [], stream=stream)
    logging.getLogger("vigia.daemon.crawl").info(
        "crawl finished", extra={"source": "El Universal", "counts": {"new": 3, "matched": 1}, "duration": 1.5}
    )
    line = stream.getvalue().splitlines()[-1]
    assert "INFO vigia.daemon.crawl: crawl finished" in line
    assert 'source="El Universal"' in line
    assert "new=3 matched=1 duration=1.50s" in line


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_slack_tokens_never_reach_the_log(stream: io.StringIO, fmt: str) -> None:
    setup_logging(fmt, "DEBUG", [CONFIGURED], stream=stream)
    log = logging.getLogger("slack_sdk.web.base_client")
    log.debug("Sending a request - url: https://slack.com/api/chat.postMessage, headers: Bearer %s", TOKEN)
    log.warning("user token %s leaked", "xoxp-11111111-22222222-abcdef")
    log.error("webhook https://hooks.slack.com/services/T000/B000/XXXXXXXX failed", extra={"url": f"https://x/?t={CONFIGURED}"})
    try:
        raise RuntimeError(f"invalid_auth for {TOKEN}")
    except RuntimeError:
        logging.getLogger("vigia").exception("delivery failed")
    output = stream.getvalue()
    for secret in (TOKEN, "xoxp-11111111", "XXXXXXXX", CONFIGURED):
        assert secret not in output
    assert output.count("[redacted]") >= 5


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        setup_logging("yaml", "INFO", [])


def test_setting_up_twice_does_not_duplicate_lines(stream: io.StringIO) -> None:
    setup_logging("text", "INFO", [], stream=stream)
    setup_logging("text", "INFO", [], stream=stream)
    logging.getLogger("vigia").warning("once")
    assert stream.getvalue().count("once") == 1


def test_the_daemon_announces_its_own_info_lines_at_the_default_level(stream: io.StringIO) -> None:
    setup_logging("text", "WARNING", [], stream=stream)
    announce("vigia")
    logging.getLogger("vigia.daemon").info("crawl finished")
    logging.getLogger("scrapy.core.engine").info("Spider opened")
    try:
        assert "crawl finished" in stream.getvalue()
        assert "Spider opened" not in stream.getvalue()
    finally:
        logging.getLogger("vigia").setLevel(logging.NOTSET)
