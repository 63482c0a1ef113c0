"""`vigia check`: placeholders copied from the example, and `--slack` against the Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.slack_standin import SlackStandIn
from tests.test_cli import run_cli

TOKEN = "xoxb-standin-good-token"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as standin:
        yield standin


def write_config(tmp_path: Path, slack_url: str, token: str = "${SLACK_BOT_TOKEN}", extra: str = "") -> Path:
    path = tmp_path / "vigia.yaml"
    path.write_text(
        f"""database:
  url: sqlite:///{tmp_path / 'v.db'}
slack:
  token: {token}
  channel: "#monitoreo"
  base_url: {slack_url}
rules:
  - builtin: mx-us-security
  - {{id: agua, channel: "#agua", terms: [Tratado de Aguas]}}
  - {{id: presas, channel: "#presas", terms: [presa La Amistad]}}
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("token", ["xoxb-replace-me", "xoxb-…", "changeme", "xoxb-your-token-here"])
def test_check_warns_on_a_placeholder_token(tmp_path: Path, token: str) -> None:
    code, out, err = run_cli("check", "--config", str(write_config(tmp_path, "http://127.0.0.1:9/api/", token)))
    assert code == 0, err
    assert "warning: slack.token:" in out and "placeholder" in out


def test_check_warns_on_a_reference_left_unexpanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An env file written with the reference itself: `SLACK_BOT_TOKEN=${SLACK_BOT_TOKEN}`.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "${SLACK_BOT_TOKEN}")
    code, out, _ = run_cli("check", "--config", str(write_config(tmp_path, "http://127.0.0.1:9/api/")))
    assert code == 0
    assert "warning: slack.token:" in out and "placeholder" in out


def test_check_warns_on_the_default_of_an_unset_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    path = write_config(tmp_path, "http://127.0.0.1:9/api/", "${SLACK_BOT_TOKEN:-xoxb-replace-me}",
                        "sources:\n  - {name: Diario Ejemplo, type: rss, url: 'https://www.example.com/rss.xml'}\n")
    code, out, _ = run_cli("check", "--config", str(path))
    assert code == 0
    assert "warning: slack.token:" in out
    assert "warning: sources[Diario Ejemplo].url" in out


def test_check_is_quiet_about_a_real_looking_token(tmp_path: Path) -> None:
    code, out, _ = run_cli("check", "--config", str(write_config(tmp_path, "http://127.0.0.1:9/api/", "xoxb-1234-5678-abcdEFGH")))
    assert code == 0
    assert "placeholder" not in out


def test_check_slack_says_per_channel_whether_the_bot_can_post(
    tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    slack.channel_id("#monitoreo")
    slack.channel_id("#agua")
    slack.remove_bot("#agua")  # the channel exists; nobody invited the bot
    code, out, err = run_cli("check", "--slack", "--config", str(write_config(tmp_path, slack.url)))
    assert code == 1, err  # not every channel can be posted to
    assert "slack: token OK" in out
    assert "#monitoreo: can post" in out
    assert "#agua: bot not in channel" in out
    assert "#presas: channel not found" in out
    assert [call.method for call in slack.calls].count("auth.test") == 1
    assert slack.calls_to("conversations.info")
    assert not slack.calls_to("chat.postMessage")  # checking never posts


def test_check_slack_with_every_channel_usable_exits_0(
    tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    for name in ("#monitoreo", "#agua", "#presas"):
        slack.channel_id(name)
    code, out, _ = run_cli("check", "--slack", "--config", str(write_config(tmp_path, slack.url)))
    assert code == 0, out
    assert out.count(": can post") == 3


def test_check_slack_with_a_bad_token_says_so_in_one_line(
    tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-0000")
    code, out, _ = run_cli("check", "--slack", "--config", str(write_config(tmp_path, slack.url)))
    assert code == 1
    assert "slack: bad token (invalid_auth)" in out
    assert "xoxb-revoked-0000" not in out
    assert not slack.calls_to("conversations.info")
