"""Talking to Slack: a WebClient (or webhook) whose failures become alerts.errors decisions.

slack_sdk retries inside one call (429 honouring Retry-After, a dropped connection, one
5xx); what is still failing after that is turned into SlackTemporaryError (try again on a
later run), SlackRateLimited, or a SlackPermanentError subclass, so the dispatcher never
inspects HTTP statuses or error strings itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from alerts.errors import (
    SlackAuthError,
    SlackChannelUnusable,
    SlackMessageRejected,
    SlackPermanentError,
    SlackRateLimited,
    SlackTemporaryError,
)

log = logging.getLogger(__name__)

# Slack error codes by what they mean for delivery.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
     "missing_scope", "not_allowed_token_type", "ekm_access_denied", "team_access_not_granted",
     "invalid_token", "no_team", "no_service", "action_prohibited", "team_disabled"}
)
CHANNEL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "restricted_action",
     "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
     "restricted_action_non_threadable_channel", "cannot_reply_to_message", "not_allowed",
     "posting_to_general_channel_denied"}
)
TEMPORARY_ERRORS = frozenset({"ratelimited", "service_unavailable", "internal_error", "fatal_error",
                              "request_timeout", "team_added_to_org"})


@dataclass
class Posted:
    channel_id: str | None
    ts: str | None


class Sender(Protocol):
    """What the dispatcher needs from Slack; threads and edits only where the mode has them."""

    threads: bool

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None) -> Posted: ...

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None: ...


# Seconds before the in-call retry of a dropped connection or a 5xx (doubling, jittered).
# Longer outages are the outbox's business (next_attempt_at), not a blocked call's.
RETRY_BACKOFF_FACTOR = 0.5


def retry_handlers(max_rate_limit_retries: int = 2) -> list[RetryHandler]:
    """The default handler (a dropped connection) plus 429 with Retry-After and one 5xx retry."""
    interval = BackoffRetryIntervalCalculator(backoff_factor=RETRY_BACKOFF_FACTOR)
    return [
        ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=interval),
        RateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries),
        ServerErrorRetryHandler(max_retry_count=1, interval_calculator=interval),
    ]


def classify(code: str, status: int | None = None, headers: dict[str, Any] | None = None) -> Exception:
    """One Slack answer as the exception the dispatcher acts on."""
    if status == 429 or code == "ratelimited":
        return SlackRateLimited(_retry_after(headers), code or "ratelimited")
    if code in AUTH_ERRORS:
        return SlackAuthError(code)
    if code in CHANNEL_ERRORS:
        return SlackChannelUnusable(code)
    if code in TEMPORARY_ERRORS or status is None or status >= 500 or status in (408, 425):
        return SlackTemporaryError(code or f"HTTP {status}")
    if code:
        return SlackMessageRejected(code)
    return SlackTemporaryError(f"HTTP {status}")


def _retry_after(headers: dict[str, Any] | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return 30.0


class WebApiSender:
    """A bot token and chat.postMessage / chat.update; ``base_url`` keeps its trailing slash."""

    threads = True

    def __init__(self, token: str, base_url: str = "https://slack.com/api/", timeout: int = 30) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=retry_handlers())

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None) -> Posted:
        arguments: dict[str, Any] = dict(channel=channel, text=text, blocks=blocks, unfurl_links=False,
                                         unfurl_media=False)
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        response = self._call("chat_postMessage", **arguments)
        return Posted(channel_id=response.get("channel"), ts=response.get("ts"))

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat_update", channel=channel_id, ts=ts, text=text, blocks=blocks)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        try:
            response = getattr(self.client, method)(**arguments)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            raise classify(str(data.get("error") or ""), exc.response.status_code, exc.response.headers) from exc
        except SlackClientError as exc:
            raise SlackTemporaryError(f"{type(exc).__name__}: {exc}") from exc
        except (OSError, ValueError) as exc:
            # URLError, RemoteDisconnected, timeouts, a non-JSON error page from a proxy.
            raise SlackTemporaryError(f"{type(exc).__name__}: {exc}") from exc
        return response.data if isinstance(response.data, dict) else {}


class WebhookSender:
    """An incoming webhook: one fixed channel, no threads, no edits, no ``ts`` back."""

    threads = False

    def __init__(self, url: str, timeout: int = 30) -> None:
        self.client = WebhookClient(url, timeout=timeout, retry_handlers=retry_handlers())

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None) -> Posted:
        try:
            response = self.client.send(text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
        except (OSError, ValueError) as exc:
            raise SlackTemporaryError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 200:
            return Posted(channel_id=None, ts=None)
        code = (response.body or "").strip()
        if response.status_code in (403, 404) and not code:
            code = "invalid_token"
        raise classify(code if len(code) < 100 else "", response.status_code, response.headers)

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        raise SlackPermanentError("not_supported", "incoming webhooks cannot edit messages")
