"""tests.support.slack_standin: what the tests rely on, through the real slack_sdk; and vigia.slack_text."""

from __future__ import annotations

import io
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tests.support.slack_standin import SlackStandIn
from vigia.slack_text import render_message


def test_posts_threads_updates_and_records() -> None:
    printed = io.StringIO()
    with SlackStandIn(printer=printed) as slack:
        assert slack.url.endswith("/api/")
        client = WebClient(token="xoxb-1", base_url=slack.url)
        assert client.auth_test()["ok"]
        first = client.chat_postMessage(channel="#mon", text="uno", blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "*<https://a.example|Título>* &lt;!channel&gt;"}}])
        second = client.chat_postMessage(channel="#mon", text="dos")
        assert first["channel"] == second["channel"] == slack.channel_id("mon")
        assert float(first["ts"]) < float(second["ts"])
        reply = client.chat_postMessage(channel=first["channel"], thread_ts=first["ts"], text="en el hilo")
        client.chat_update(channel=first["channel"], ts=first["ts"], text="uno editado")
        assert [m["text"] for m in slack.messages] == ["uno editado", "dos"]
        assert [m["ts"] for m in slack.replies(first["ts"])] == [reply["ts"]]
        assert slack.calls[1].token == "xoxb-1" and slack.calls[1].payload["channel"] == "#mon"
        assert client.conversations_info(channel=first["channel"])["channel"]["name"] == "mon"
    shown = printed.getvalue()
    assert "Título (https://a.example)" in shown and "<!channel>" in shown  # shown as text, not a ping
    assert "    │ en el hilo" in shown and "(editado)" in shown


def test_faults() -> None:
    with SlackStandIn(token="xoxb-good") as slack:
        client = WebClient(token="xoxb-good", base_url=slack.url, retry_handlers=[])
        slack.fail_next(1, status=429, retry_after=7)
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="#a", text="x")
        assert caught.value.response.status_code == 429 and caught.value.response.headers["Retry-After"] == "7"
        slack.fail_next(1, status=503)
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="#a", text="x")
        assert caught.value.response.status_code == 503
        slack.set_error("channel_not_found", channel="#gone")
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="#gone", text="x")
        assert caught.value.response["error"] == "channel_not_found"
        assert client.chat_postMessage(channel="#a", text="x")["ok"]
        with pytest.raises(SlackApiError) as caught:
            WebClient(token="xoxb-bad", base_url=slack.url).chat_postMessage(channel="#a", text="x")
        assert caught.value.response["error"] == "invalid_auth"
        slack.down()
        with pytest.raises(OSError):  # the connection dropped, then refused
            client.chat_postMessage(channel="#a", text="x")
        slack.down(refuse=True)
        with pytest.raises(OSError):  # the connection dropped, then refused
            client.chat_postMessage(channel="#a", text="x")
        slack.up()
        assert client.chat_postMessage(channel="#a", text="back")["ok"]
        assert [m["text"] for m in slack.messages] == ["x", "back"]


def test_webhook_endpoint() -> None:
    with SlackStandIn() as slack:
        hook = WebhookClient(slack.webhook_url)
        assert hook.send(text="hola").status_code == 200
        slack.set_error("no_service")
        response = hook.send(text="otra")
        assert (response.status_code, response.body) == (404, "no_service")
        assert [m["text"] for m in slack.messages] == ["hola"]


def test_render_message_plain_text() -> None:
    text = render_message({"channel_name": "c", "ts": "1.000001", "text": "fallback", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Título"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "A"}, {"type": "mrkdwn", "text": "B &amp; C"}]},
    ]})
    assert "Título" in text and "A · B & C" in text


# -- issue 10: metadata, history and the faults delivery must survive ----------------------------


def test_metadata_and_history_as_slack_pages_them() -> None:
    with SlackStandIn(token="xoxb-1") as slack:
        client = WebClient(token="xoxb-1", base_url=slack.url)
        posted = [client.chat_postMessage(channel="#mon", text=f"m{i}",
                                          metadata={"event_type": "vigia_alert", "event_payload": {"key": str(i)}})
                  for i in range(5)]
        channel = posted[0]["channel"]
        assert posted[0]["message"]["metadata"]["event_payload"] == {"key": "0"}
        client.chat_postMessage(channel=channel, thread_ts=posted[0]["ts"], text="respuesta",
                                metadata={"event_type": "vigia_alert", "event_payload": {"key": "r"}})

        plain = client.conversations_history(channel=channel)
        assert [m["text"] for m in plain["messages"]] == ["m4", "m3", "m2", "m1", "m0"]  # newest first, no replies
        assert all("metadata" not in m for m in plain["messages"])  # only with include_all_metadata

        seen, cursor = [], None
        while True:
            page = client.conversations_history(channel=channel, include_all_metadata=True, limit=2,
                                                oldest=posted[0]["ts"], cursor=cursor)
            seen += [m["metadata"]["event_payload"]["key"] for m in page["messages"]]
            cursor = page["response_metadata"]["next_cursor"]
            if not cursor:
                break
        assert seen == ["4", "3", "2", "1"]  # oldest is exclusive unless inclusive=true
        assert len(client.conversations_history(channel=channel, oldest=posted[0]["ts"], inclusive=True)["messages"]) == 5
        assert [m["text"] for m in client.conversations_history(channel=channel, latest=posted[2]["ts"])["messages"]] == ["m1", "m0"]

        thread = client.conversations_replies(channel=channel, ts=posted[0]["ts"], include_all_metadata=True)
        assert [m["text"] for m in thread["messages"]] == ["m0", "respuesta"]
        assert thread["messages"][1]["metadata"]["event_payload"] == {"key": "r"}
        with pytest.raises(SlackApiError) as caught:
            client.conversations_history(channel="#mon")  # history takes ids, not names
        assert caught.value.response["error"] == "channel_not_found"
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel=channel, text="x", metadata={"event_payload": {}})
        assert caught.value.response["error"] == "invalid_metadata_format"


def test_delivery_faults() -> None:
    with SlackStandIn(token="xoxb-1") as slack:
        client = WebClient(token="xoxb-1", base_url=slack.url, retry_handlers=[])
        slack.omit_ts_next(1)
        answer = client.chat_postMessage(channel="#a", text="sin ts")
        assert answer["ok"] and "ts" not in answer.data and len(slack.messages) == 1

        slack.fail_next_with_body("<html><h1>502</h1></html>", status=200)
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="#a", text="x")
        assert "non-JSON" in caught.value.response["error"]

        parent = client.chat_postMessage(channel="#a", text="padre")
        slack.refuse_replies(parent["ts"])
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel=parent["channel"], thread_ts=parent["ts"], text="hija")
        assert caught.value.response["error"] == "cannot_reply_to_message"

        slack.slow_down(1.5, accept="after")
        impatient = WebClient(token="xoxb-1", base_url=slack.url, timeout=1, retry_handlers=[])
        before = len(slack.messages)
        with pytest.raises(TimeoutError):
            impatient.chat_postMessage(channel="#a", text="tarde")
        assert len(slack.messages) == before  # not taken yet when the client gave up...
        slack.slow_down(None)
        deadline = time.monotonic() + 5
        while len(slack.messages) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slack.messages[-1]["text"] == "tarde"  # ...but taken after

        slack.enforce_rate(1.0, burst=2, retry_after=3)
        statuses = []
        for _ in range(3):
            try:
                client.chat_postMessage(channel="#ritmo", text="r")
                statuses.append(200)
            except SlackApiError as exc:
                statuses.append(exc.response.status_code)
                assert exc.response.headers["Retry-After"] == "3"
        assert statuses == [200, 200, 429] and slack.rate_limited == 1
