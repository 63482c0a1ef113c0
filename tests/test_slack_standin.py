"""vigia.slack_standin: what the tests and `vigia demo` rely on, through the real slack_sdk."""

from __future__ import annotations

import io

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from vigia.slack_standin import SlackStandIn, render_message


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
        with pytest.raises(Exception):
            client.chat_postMessage(channel="#a", text="x")
        slack.down(refuse=True)
        with pytest.raises(Exception):
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
