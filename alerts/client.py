"""Talking to Slack: a WebClient (or webhook) whose failures become alerts.errors decisions.

What Slack answers is sorted by what it means for delivery (see ``classify``): a
transient trouble (429, 5xx, an HTML or unreadable body, a timeout, a dropped
connection) is retried later; an error about one message fails that message; an error
about the channel blocks the channel; an error about the token — or a ``base_url`` that
cannot work, such as TLS to a plain-HTTP port — blocks everything.

Posting is at-most-once per call: slack_sdk retries only a refused connection (nothing
reached Slack). Anything that may have reached Slack (a timeout, a reset after sending,
an answer without ``ts``) raises a SlackTemporaryError with ``maybe_posted`` set, and the
dispatcher looks for the message by its metadata (``find``) before posting it again.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.webhook import WebhookClient

from alerts.errors import (
    SlackAuthError,
    SlackChannelUnusable,
    SlackEndpointError,
    SlackError,
    SlackMessageRejected,
    SlackPermanentError,
    SlackRateLimited,
    SlackReplyRefused,
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
     "restricted_action_non_threadable_channel", "not_allowed", "posting_to_general_channel_denied"}
)
# The parent message cannot take replies: about that one reply, not the channel.
REPLY_ERRORS = frozenset({"cannot_reply_to_message", "thread_not_found"})
TEMPORARY_ERRORS = frozenset({"ratelimited", "service_unavailable", "internal_error", "fatal_error",
                              "request_timeout", "team_added_to_org"})
# Slack's error codes are snake_case words; anything else is a proxy's page or slack_sdk's
# "Received a response in a non-JSON format" note, i.e. not an answer from Slack at all.
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,80}")

# What every Vigía message carries in its metadata, so it can be found again.
EVENT_TYPE = "vigia_alert"
# conversations.history pages looked through when searching for an unconfirmed post.
HISTORY_PAGE = 200
HISTORY_PAGES = 10
CHANNEL_LIST_PAGES = 20


@dataclass
class Posted:
    channel_id: str | None
    ts: str | None
    # Found in history: the rows that message was posted for (a digest may have grown since).
    alert_ids: list[int] = field(default_factory=list)


class Sender(Protocol):
    """What the dispatcher needs from Slack; threads, edits and history only where the mode has them."""

    threads: bool
    history: bool
    paced: bool  # whether Slack's pace applies (a sender that only prints posts nothing)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None,
             metadata: dict[str, Any] | None = None) -> Posted: ...

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None: ...

    def find(self, channel: str, key: str, oldest: float, thread_ts: str | None = None) -> Posted | None: ...


def metadata_for(key: str, alert_ids: list[int]) -> dict[str, Any]:
    """The message's identity: ``key`` names the outbox rows (and the database) it was posted for."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key, "alert_ids": ",".join(map(str, alert_ids))}}


# Seconds before the in-call retry of a refused connection (doubling, jittered).
RETRY_BACKOFF_FACTOR = 0.5


class RefusedConnectionRetryHandler(ConnectionErrorRetryHandler):
    """Retry only a refused connection: the request never left, so repeating it cannot double a post."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
        return response is None and _refused(error)


def retry_handlers() -> list[RetryHandler]:
    interval = BackoffRetryIntervalCalculator(backoff_factor=RETRY_BACKOFF_FACTOR)
    return [RefusedConnectionRetryHandler(max_retry_count=1, interval_calculator=interval)]


def classify(code: str, status: int | None = None, headers: dict[str, Any] | None = None) -> SlackError:
    """One Slack answer as the exception the dispatcher acts on."""
    if status == 429 or code == "ratelimited":
        return SlackRateLimited(_retry_after(headers), code or "ratelimited")
    if not _ERROR_CODE.fullmatch(code or "x"):
        return SlackTemporaryError(f"unreadable answer from Slack (HTTP {status}): {code[:120]}")
    if code in AUTH_ERRORS:
        return SlackAuthError(code)
    if code in CHANNEL_ERRORS:
        return SlackChannelUnusable(code)
    if code in REPLY_ERRORS:
        return SlackReplyRefused(code)
    if code in TEMPORARY_ERRORS or status is None or status >= 500 or status in (408, 425):
        return SlackTemporaryError(code or f"HTTP {status}")
    if code:
        return SlackMessageRejected(code)
    return SlackTemporaryError(f"HTTP {status}")


def transport_error(exc: BaseException, endpoint: str) -> SlackError:
    """A failure below HTTP: TLS that cannot work is a setup error, the rest is temporary."""
    reason = exc.reason if isinstance(exc, URLError) and isinstance(exc.reason, BaseException) else exc
    # A handshake that cannot succeed (a plain-HTTP port, a certificate that does not verify)
    # fails alike every time; a TLS connection cut short (EOF) may be the network's moment.
    if isinstance(reason, ssl.SSLError) and not isinstance(reason, (ssl.SSLEOFError, ssl.SSLZeroReturnError,
                                                                     ssl.SSLWantReadError, ssl.SSLWantWriteError)):
        return SlackEndpointError(
            "tls_failed",
            f"TLS with {endpoint} failed ({reason}); is it an http:// address, or a proxy without TLS? "
            "Fix it in the config, then run `vigia alerts retry`",
        )
    if _refused(exc):
        return SlackTemporaryError(f"connection refused by {endpoint}", maybe_posted=False)
    return SlackTemporaryError(f"{type(reason).__name__}: {reason}")


def _refused(error: BaseException | None) -> bool:
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, ConnectionRefusedError)


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
    """A bot token: chat.postMessage with metadata, chat.update, and the history to find a post again."""

    threads = True
    history = True
    paced = True

    def __init__(self, token: str, base_url: str = "https://slack.com/api/", timeout: float = 30) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self.client = WebClient(token=token, base_url=base_url, timeout=int(max(1, timeout)),
                                retry_handlers=retry_handlers())
        self._channel_ids: dict[str, str] = {}

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None,
             metadata: dict[str, Any] | None = None) -> Posted:
        arguments: dict[str, Any] = dict(channel=channel, text=text, blocks=blocks, unfurl_links=False,
                                         unfurl_media=False)
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        if metadata:
            arguments["metadata"] = metadata
        response = self._call("chat_postMessage", **arguments)
        if not response.get("ts"):
            # Taken or not, Slack did not say where: the thread replies need the ts, so
            # the next attempt looks for the message by its metadata first.
            raise SlackTemporaryError("Slack answered ok without the message's ts")
        return Posted(channel_id=response.get("channel"), ts=str(response["ts"]))

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat_update", channel=channel_id, ts=ts, text=text, blocks=blocks)

    def find(self, channel: str, key: str, oldest: float, thread_ts: str | None = None) -> Posted | None:
        """The message posted for ``key`` since ``oldest`` (Unix time), or None; bounded in pages."""
        channel_id = self.channel_id(channel)
        if channel_id is None:
            return None
        for message in self._history(channel_id, oldest, thread_ts):
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == EVENT_TYPE and payload.get("key") == key and message.get("ts"):
                ids = [int(i) for i in str(payload.get("alert_ids") or "").split(",") if i.strip().isdigit()]
                return Posted(channel_id=channel_id, ts=str(message["ts"]), alert_ids=ids)
        return None

    def channel_id(self, channel: str) -> str | None:
        """A channel's id (history wants ids, the config may say ``#name``)."""
        if re.fullmatch(r"[CGD][A-Z0-9]{6,}", channel):
            return channel
        name = channel.lstrip("#")
        if name not in self._channel_ids:
            cursor = None
            for _ in range(CHANNEL_LIST_PAGES):
                page = self._call("conversations_list", types="public_channel,private_channel",
                                  exclude_archived=True, limit=1000, cursor=cursor)
                for item in page.get("channels") or []:
                    self._channel_ids[str(item.get("name"))] = str(item.get("id"))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if name in self._channel_ids or not cursor:
                    break
        return self._channel_ids.get(name)

    def _history(self, channel_id: str, oldest: float, thread_ts: str | None) -> Iterator[dict[str, Any]]:
        cursor = None
        for _ in range(HISTORY_PAGES):
            arguments: dict[str, Any] = dict(channel=channel_id, oldest=f"{oldest:.6f}", include_all_metadata=True,
                                             limit=HISTORY_PAGE, cursor=cursor)
            if thread_ts:
                page = self._call("conversations_replies", ts=thread_ts, **arguments)
            else:
                page = self._call("conversations_history", **arguments)
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        try:
            response = getattr(self.client, method)(**arguments)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            raise classify(str(data.get("error") or ""), exc.response.status_code, exc.response.headers) from None
        except SlackRequestError as exc:
            raise SlackEndpointError("bad_request", f"slack.base_url {self.base_url} cannot be used: {exc}") from None
        except SlackClientError as exc:
            raise SlackTemporaryError(f"{type(exc).__name__}: {exc}") from None
        except (OSError, ValueError) as exc:
            # URLError, RemoteDisconnected, timeouts, TLS failures.
            raise transport_error(exc, f"slack.base_url {self.base_url}") from None
        return response.data if isinstance(response.data, dict) else {}


class WebhookSender:
    """An incoming webhook: one fixed channel, no threads, no edits, no ``ts`` back, no history."""

    threads = False
    history = False
    paced = True

    def __init__(self, url: str, timeout: float = 30) -> None:
        self.client = WebhookClient(url, timeout=int(max(1, timeout)), retry_handlers=retry_handlers())

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None,
             metadata: dict[str, Any] | None = None) -> Posted:
        try:
            response = self.client.send(text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
        except SlackRequestError:
            # Its text is the whole URL: name the setting, never its value.
            raise SlackEndpointError("bad_url", "slack.webhook_url is not a usable URL; check it in the config") from None
        except SlackClientError as exc:
            raise SlackTemporaryError(f"{type(exc).__name__}: {exc}") from None
        except (OSError, ValueError) as exc:
            raise transport_error(exc, "slack.webhook_url") from None
        if response.status_code == 200:
            return Posted(channel_id=None, ts=None)
        code = (response.body or "").strip()
        if response.status_code in (403, 404) and not code:
            code = "invalid_token"
        raise classify(code if len(code) < 100 else "", response.status_code, response.headers)

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        raise SlackPermanentError("not_supported", "incoming webhooks cannot edit messages")

    def find(self, channel: str, key: str, oldest: float, thread_ts: str | None = None) -> Posted | None:
        return None
