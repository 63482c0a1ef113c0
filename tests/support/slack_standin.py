"""A loopback stand-in for the Slack Web API and incoming webhooks, for tests and benches.

Tests point ``slack_sdk.WebClient(base_url=standin.url)`` (or a
``WebhookClient`` at ``standin.webhook_url``) at it. It records every call, keeps the
messages as Slack would (top-level posts, thread replies, edits), and can misbehave on
demand the ways the real service does: 429 with Retry-After (on cue, or by enforcing a
per-channel rate), 5xx, a 200 with an HTML page, API errors such as ``invalid_auth`` or a
per-channel ``channel_not_found``, ``cannot_reply_to_message`` under a given message,
slow answers (the message taken before or after the wait), an ``ok`` without ``ts``, and
dropped or refused connections. Messages keep their ``metadata``, and
``conversations.history`` / ``conversations.replies`` page through them as Slack does
(newest first, ``oldest``/``latest`` exclusive unless ``inclusive``, cursors, metadata only
with ``include_all_metadata``). With a ``printer`` it renders each message as plain text,
thread replies indented.

Only the standard library is used, so nothing here needs a network or a Slack workspace.
The server is :class:`vigia.demo.loopback.LoopbackServer`, the one the demo and the tests'
news site use.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from vigia.demo.loopback import LoopbackServer
from vigia.slack_text import render_message

Printer = Callable[[str], None]

# ``slack.pace`` for tests whose subject is not Slack's pace: the stand-in enforces no rate
# unless told to (enforce_rate), so Vigía's real 1.1 s between messages only makes them wait.
# The tests of pacing itself keep the default.
QUICK_PACE = "0.01s"

# What an incoming webhook answers for each error (status, body), as Slack documents them.
WEBHOOK_ERRORS = {
    "invalid_payload": 400,
    "invalid_token": 403,
    "action_prohibited": 403,
    "no_service": 404,
    "no_team": 404,
    "channel_is_archived": 410,
}


@dataclass
class Call:
    """One request the stand-in received, as the test wants to inspect it."""

    method: str  # "chat.postMessage", or "webhook" for POST /services/...
    payload: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    status: int = 200
    response: dict[str, Any] | str | None = None


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    error: str | None = None
    body: str | None = None  # a raw body instead of Slack's JSON (a proxy's HTML page)


@dataclass
class Slowness:
    seconds: float
    accept: str  # "before": the message is taken, then the answer waits; "after": wait, then take it
    methods: tuple[str, ...]


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # every message, replies too
    updates: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    error: str | None = None
    channel_errors: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)  # name -> id
    down: bool = False
    counter: int = 0
    slow: Slowness | None = None
    omit_ts: int = 0  # the next n posts are taken but answered without ts
    no_replies: set[str] = field(default_factory=set)  # ts of messages that cannot take replies
    rate: tuple[float, int, int] | None = None  # (messages per second, burst, Retry-After) per channel
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    rate_limited: int = 0  # 429s answered by the enforced rate


class SlackStandIn(LoopbackServer):
    """A threaded HTTP server on 127.0.0.1 that speaks enough of Slack for Vigía.

    ``token``: when given, any other bearer token is ``invalid_auth``; when None any
    token is accepted but a missing one is ``not_authed``.
    """

    methods = ("GET", "POST")
    thread_name = "slack-standin"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        printer: Printer | TextIO | None = None,
    ) -> None:
        super().__init__(host, port)
        self.token = token
        self._printer = _as_printer(printer)
        self._lock = threading.RLock()
        self._state = _State()
        self._epoch = int(time.time())
        self._outside: set[str] = set()  # channel ids the bot is not a member of

    @property
    def url(self) -> str:
        """The Web API base URL, trailing slash included, for ``WebClient(base_url=...)``."""
        return f"http://{self.host}:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://{self.host}:{self.port}/services/T00000000/B00000000/standin"

    # -- what happened ---------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Top-level messages in the order they were posted (current text, after edits)."""
        with self._lock:
            return [_public(m) for m in self._state.messages if not m.get("thread_ts")]

    @property
    def all_messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [_public(m) for m in self._state.messages]

    def replies(self, ts: str) -> list[dict[str, Any]]:
        """The thread replies under the message with this ``ts``, oldest first."""
        with self._lock:
            return [_public(m) for m in self._state.messages if m.get("thread_ts") == ts]

    @property
    def updates(self) -> list[dict[str, Any]]:
        """Every successful ``chat.update`` payload."""
        with self._lock:
            return list(self._state.updates)

    def channel_id(self, name: str) -> str:
        """The id the stand-in gives a channel name (``#`` optional), created on first use."""
        with self._lock:
            return self._channel_id(name)

    def reset(self) -> None:
        """Forget calls, messages and faults (channel ids are kept)."""
        with self._lock:
            channels = self._state.channels
            self._state = _State(channels=channels, counter=self._state.counter)

    @property
    def rate_limited(self) -> int:
        """How many posts the enforced rate (``enforce_rate``) answered with 429."""
        with self._lock:
            return self._state.rate_limited

    # -- misbehaviour ----------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 429, retry_after: int | None = 1, error: str | None = None) -> None:
        """The next ``n`` requests answer ``status`` (429 carries ``Retry-After``)."""
        with self._lock:
            for _ in range(n):
                self._state.faults.append(Fault(status, retry_after if status == 429 else None, error))

    def fail_next_with_body(self, body: str, status: int = 200, n: int = 1) -> None:
        """The next ``n`` requests get this raw body (e.g. a proxy's HTML page with a 200)."""
        with self._lock:
            for _ in range(n):
                self._state.faults.append(Fault(status, body=body))

    def slow_down(self, seconds: float | None, *, accept: str = "before",
                  methods: tuple[str, ...] = ("chat.postMessage",)) -> None:
        """Answer ``methods`` after ``seconds``; ``accept="after"`` takes the message only then.

        ``accept="before"`` is a slow answer (the post is in the channel at once); with a
        wait past the client's timeout and ``"after"``, the client gives up and Slack then
        takes the message anyway. ``None`` ends it.
        """
        if accept not in ("before", "after"):
            raise ValueError("accept is 'before' or 'after'")
        with self._lock:
            self._state.slow = Slowness(seconds, accept, methods) if seconds else None

    def omit_ts_next(self, n: int = 1) -> None:
        """The next ``n`` posts are taken, but the answer carries no ``ts``."""
        with self._lock:
            self._state.omit_ts += n

    def refuse_replies(self, ts: str) -> None:
        """Replies under the message ``ts`` get ``cannot_reply_to_message``."""
        with self._lock:
            self._state.no_replies.add(ts)

    def enforce_rate(self, per_second: float | None = 1.0, burst: int = 1, retry_after: int = 1) -> None:
        """429 (with Retry-After) for posts beyond ``per_second`` per channel, as Slack limits them."""
        with self._lock:
            self._state.rate = (per_second, burst, retry_after) if per_second else None
            self._state.buckets.clear()

    def set_error(self, error: str | None, channel: str | None = None) -> None:
        """Answer every API call (or every call naming ``channel``) with ``{"ok": false, "error": ...}``.

        ``set_error(None)`` clears the global error; ``set_error(None, channel=...)`` that channel's.
        """
        with self._lock:
            if channel is None:
                self._state.error = error
            else:
                key = self._channel_id(channel)
                if error is None:
                    self._state.channel_errors.pop(key, None)
                else:
                    self._state.channel_errors[key] = error

    def clear_faults(self) -> None:
        with self._lock:
            self._state.faults.clear()
            self._state.error = None
            self._state.channel_errors.clear()
            self._state.down = False

    def down(self, refuse: bool = False) -> None:
        """Stop answering: drop every connection unanswered, or with ``refuse`` close the port."""
        with self._lock:
            self._state.down = True
        if refuse:
            self.stop()

    def up(self) -> None:
        """Answer again (on the same port if it was closed)."""
        with self._lock:
            self._state.down = False
        if not self.running:
            self.start()

    # -- the API ---------------------------------------------------------------------

    def _channel_id(self, name: str) -> str:
        if re.fullmatch(r"[CGD][A-Z0-9]{6,}", name):
            return name
        name = name.lstrip("#")
        channels = self._state.channels
        if name not in channels:
            channels[name] = f"C{len(channels) + 1:08d}"
        return channels[name]

    def _channel_name(self, channel_id: str) -> str:
        for name, known in self._state.channels.items():
            if known == channel_id:
                return name
        return channel_id

    def _next_ts(self) -> str:
        self._state.counter += 1
        return f"{self._epoch}.{self._state.counter:06d}"

    def _handle(self, path: str, payload: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """Answer one request: (status, extra headers, JSON-able or text body)."""
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else payload.get("token")
        webhook = path.startswith("/services/")
        method = "webhook" if webhook else path.rsplit("/", 1)[-1]
        with self._lock:
            slow = self._state.slow
            call = Call(method=method, payload=payload, headers=headers, token=token)
            self._state.calls.append(call)
        wait = slow.seconds if slow is not None and method in slow.methods else 0.0
        if wait and slow is not None and slow.accept == "after":
            time.sleep(wait)
            wait = 0.0
        with self._lock:
            status, extra, body = self._answer(call, webhook)
            call.status, call.response = status, body
        if wait:
            time.sleep(wait)
        return status, extra, body

    def _answer(self, call: Call, webhook: bool) -> tuple[int, dict[str, str], Any]:
        state = self._state
        if state.faults:
            fault = state.faults.pop(0)
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.body is not None:
                return fault.status, {"Content-Type": "text/html; charset=utf-8"}, fault.body
            error = fault.error or ("ratelimited" if fault.status == 429 else "service_unavailable")
            return fault.status, extra, (error if webhook else {"ok": False, "error": error})
        if webhook:
            return self._webhook(call)
        if state.error:
            return 200, {}, {"ok": False, "error": state.error}
        if self.token is not None and call.token != self.token:
            return 200, {}, {"ok": False, "error": "invalid_auth" if call.token else "not_authed"}
        if self.token is None and not call.token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        channel = call.payload.get("channel")
        if channel:
            channel_error = state.channel_errors.get(self._channel_id(str(channel)))
            if channel_error:
                return 200, {}, {"ok": False, "error": channel_error}
        handler = getattr(self, "_api_" + call.method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        if call.method == "chat.postMessage" and channel and state.rate and not self._within_rate(self._channel_id(str(channel))):
            state.rate_limited += 1
            return 429, {"Retry-After": str(state.rate[2])}, {"ok": False, "error": "ratelimited"}
        return 200, {}, handler(call.payload)

    def _within_rate(self, channel_id: str) -> bool:
        if self._state.rate is None:
            return True
        per_second, burst, _ = self._state.rate
        now = time.monotonic()
        tokens, then = self._state.buckets.get(channel_id, (float(burst), now))
        tokens = min(float(burst), tokens + (now - then) * per_second)
        if tokens < 1:
            self._state.buckets[channel_id] = (tokens, now)
            return False
        self._state.buckets[channel_id] = (tokens - 1, now)
        return True

    def _api_auth_test(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://standin.slack.invalid/", "team": "Vigía", "user": "vigia",
                "team_id": "T00000000", "user_id": "U00000000", "bot_id": "B00000000"}

    def _api_chat_postMessage(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = payload.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not payload.get("text") and not payload.get("blocks"):
            return {"ok": False, "error": "no_text"}
        blocks = _blocks(payload.get("blocks"))
        if blocks is None or len(blocks) > 50:
            return {"ok": False, "error": "invalid_blocks"}
        metadata = _metadata(payload.get("metadata"))
        if metadata is False:
            return {"ok": False, "error": "invalid_metadata_format"}
        channel_id = self._channel_id(str(channel))
        thread_ts = payload.get("thread_ts")
        if thread_ts:
            parent = self._find(channel_id, str(thread_ts))
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            if str(thread_ts) in self._state.no_replies:
                return {"ok": False, "error": "cannot_reply_to_message"}
        ts = self._next_ts()
        message = {
            "channel": channel_id,
            "channel_name": self._channel_name(channel_id),
            "ts": ts,
            "text": payload.get("text") or "",
            "blocks": blocks,
            "thread_ts": str(thread_ts) if thread_ts else None,
            "unfurl_links": payload.get("unfurl_links"),
            "edited": False,
            "metadata": metadata,
        }
        self._state.messages.append(message)
        self._print(message)
        if self._state.omit_ts:
            self._state.omit_ts -= 1
            return {"ok": True, "channel": channel_id}
        return {"ok": True, "channel": channel_id, "ts": ts,
                "message": {"type": "message", "text": message["text"], "ts": ts, "blocks": blocks,
                            **({"metadata": metadata} if metadata else {})}}

    def _api_conversations_history(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(payload.get("channel") or "")
        if channel_id not in self._state.channels.values():
            return {"ok": False, "error": "channel_not_found"}  # ids only, as Slack wants
        found = [m for m in self._state.messages if m["channel"] == channel_id and not m.get("thread_ts")]
        return self._page(list(reversed(found)), payload)

    def _api_conversations_replies(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(payload.get("channel") or "")
        if channel_id not in self._state.channels.values():
            return {"ok": False, "error": "channel_not_found"}
        parent = self._find(channel_id, str(payload.get("ts") or ""))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        replies = [m for m in self._state.messages if m["channel"] == channel_id and m.get("thread_ts") == parent["ts"]]
        return self._page([parent, *replies], payload)

    def _page(self, messages: list[dict[str, Any]], payload: dict[str, Any]) -> dict[str, Any]:
        """One page of a message list, Slack's way: oldest/latest bounds, limit, an opaque cursor."""
        inclusive = _truthy(payload.get("inclusive"))
        try:
            oldest = float(payload.get("oldest") or 0)
            latest = float(payload["latest"]) if payload.get("latest") else float("inf")
            limit = min(max(int(payload.get("limit") or 100), 1), 999)
            start = int(base64.b64decode(str(payload["cursor"])).decode().split(":")[1]) if payload.get("cursor") else 0
        except (ValueError, IndexError, TypeError, binascii.Error):
            return {"ok": False, "error": "invalid_arguments"}
        if inclusive:
            within = [m for m in messages if oldest <= float(m["ts"]) <= latest]
        else:
            within = [m for m in messages if oldest < float(m["ts"]) < latest]
        page = within[start : start + limit]
        more = start + limit < len(within)
        metadata = _truthy(payload.get("include_all_metadata"))
        shown = []
        for message in page:
            item = {"type": "message", "user": "U00000000", "bot_id": "B00000000", "text": message["text"],
                    "ts": message["ts"], "blocks": message["blocks"]}
            if message.get("thread_ts"):
                item["thread_ts"] = message["thread_ts"]
            if metadata and message.get("metadata"):
                item["metadata"] = message["metadata"]
            shown.append(item)
        cursor = base64.b64encode(f"next_ts:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "messages": shown, "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": cursor}}

    def _api_chat_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(str(payload.get("channel") or ""))
        message = self._find(channel_id, str(payload.get("ts") or ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = _blocks(payload.get("blocks"))
        if blocks is None or len(blocks) > 50:
            return {"ok": False, "error": "invalid_blocks"}
        if "text" in payload:
            message["text"] = payload["text"] or ""
        if payload.get("blocks") is not None:
            message["blocks"] = blocks
        message["edited"] = True
        self._state.updates.append(dict(payload))
        self._print(message, edited=True)
        return {"ok": True, "channel": channel_id, "ts": message["ts"], "text": message["text"]}

    def _api_conversations_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        channels = [{"id": cid, "name": name, "is_member": self._is_member(cid)} for name, cid in self._state.channels.items()]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _api_conversations_info(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(str(payload.get("channel") or ""))
        return {"ok": True, "channel": {"id": channel_id, "name": self._channel_name(channel_id),
                                        "is_member": self._is_member(channel_id)}}

    # -- membership (for `vigia check --slack`) ----------------------------------------

    def remove_bot(self, channel: str) -> None:
        """The bot is not a member of ``channel``: conversations.info/list say ``is_member: false``."""
        with self._lock:
            self._outside.add(self._channel_id(channel))

    def _is_member(self, channel_id: str) -> bool:
        return channel_id not in self._outside

    def _webhook(self, call: Call) -> tuple[int, dict[str, str], str]:
        if self._state.error:
            return WEBHOOK_ERRORS.get(self._state.error, 400), {}, self._state.error
        if not call.payload.get("text") and not call.payload.get("blocks"):
            return 400, {}, "no_text"
        blocks = _blocks(call.payload.get("blocks"))
        if blocks is None or len(blocks) > 50:
            return 400, {}, "invalid_blocks"
        message = {"channel": "webhook", "channel_name": "webhook", "ts": self._next_ts(),
                   "text": call.payload.get("text") or "", "blocks": blocks, "thread_ts": None, "edited": False}
        self._state.messages.append(message)
        self._print(message)
        return 200, {}, "ok"

    def _find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        for message in self._state.messages:
            if message["channel"] == channel_id and message["ts"] == ts:
                return message
        return None

    def _print(self, message: dict[str, Any], edited: bool = False) -> None:
        if self._printer is None:
            return
        shown = render_message(message, edited=edited)
        if edited and message.get("_shown"):
            # An edit prints only what changed, as a reader notices it ("También en" grew).
            before = set(message["_shown"].splitlines())
            changed = [line for line in shown.splitlines()[1:] if line and line not in before]
            self._printer(shown.splitlines()[0] + "\n" + "\n".join(changed or ["  (sin cambios visibles)"]) + "\n")
        else:
            self._printer(shown)
        message["_shown"] = shown

    # -- HTTP ------------------------------------------------------------------------

    def serve(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        if self._state.down:
            # Close without a word: the client sees RemoteDisconnected / connection reset.
            http.close_connection = True
            http.connection.close()
            return
        parts = urlsplit(http.path)
        payload: dict[str, Any] = dict(parse_qsl(parts.query))
        content_type = (http.headers.get("Content-Type") or "").lower()
        if raw:
            if "json" in content_type or raw.lstrip().startswith(b"{"):
                try:
                    payload.update(json.loads(raw.decode("utf-8")))
                except ValueError:
                    pass
            else:
                payload.update(parse_qsl(raw.decode("utf-8")))
        headers = {k.lower(): v for k, v in http.headers.items()}
        status, extra, body = self._handle(parts.path, payload, headers)
        if isinstance(body, str):
            data, kind = body.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            data, kind = json.dumps(body).encode("utf-8"), "application/json; charset=utf-8"
        kind = extra.pop("Content-Type", kind)
        self.send(http, status, data, {"Content-Type": kind, **extra})


def _metadata(value: Any) -> dict[str, Any] | bool | None:
    """Message metadata as Slack takes it (object or JSON string); False when malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
        return False
    if not isinstance(value.get("event_payload"), dict):
        return False
    return {"event_type": value["event_type"], "event_payload": value["event_payload"]}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _blocks(value: Any) -> list[dict[str, Any]] | None:
    """Blocks arrive as a list (JSON body) or a JSON string (form body); None if malformed."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, list) else None


def _as_printer(printer: Printer | TextIO | None) -> Printer | None:
    if printer is None:
        return None
    if hasattr(printer, "write"):
        stream = printer

        def write(text: str) -> None:
            stream.write(text + "\n")  # type: ignore[union-attr]
            stream.flush()  # type: ignore[union-attr]

        return write
    return printer  # type: ignore[return-value]
