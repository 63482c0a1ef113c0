"""Can the bot post? ``auth.test`` for the token, then ``conversations.info`` per channel.

``vigia check --slack`` asks Slack these questions before a first real run, so that a
wrong token or a bot nobody invited shows up as one line per channel instead of as
failed alerts later. Channel names (``#monitoreo-seguridad``) are looked up with
``conversations.list`` first, because ``conversations.info`` takes channel IDs only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from alerts.client import AUTH_ERRORS

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
LIST_PAGES = 20  # at 1000 channels a page: bounded even in a huge workspace
TIMEOUT = 15  # seconds per call


@dataclass(frozen=True)
class ChannelAccess:
    channel: str
    can_post: bool
    verdict: str  # one line: "can post", "bot not in channel: …", "channel not found", …


class BadToken(Exception):
    """``auth.test`` refused the token; no channel question can be answered."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_token(client: WebClient) -> str:
    """The bot's identity as ``user@team``; raises BadToken when Slack refuses the token."""
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        raise BadToken(str(exc.response.get("error") or "refused")) from None
    return f"{answer.get('user') or answer.get('user_id')}@{answer.get('team') or answer.get('team_id')}"


def check_channels(client: WebClient, channels: list[str]) -> list[ChannelAccess]:
    """One verdict per channel, in the order given."""
    directory: dict[str, str] | None = None
    found: list[ChannelAccess] = []
    for channel in channels:
        channel_id = channel if CHANNEL_ID.match(channel) else None
        if channel_id is None:
            if directory is None:
                try:
                    directory = _channel_directory(client)
                except SlackApiError as exc:
                    code = str(exc.response.get("error") or "refused")
                    found.append(ChannelAccess(channel, False, f"cannot look channel names up ({code}): give the "
                                                               "channel ID (C0…) in the config or add channels:read"))
                    directory = {}
                    continue
            channel_id = directory.get(channel.lstrip("#").lower())
            if channel_id is None:
                found.append(ChannelAccess(channel, False, "channel not found (or private and the bot is not in it)"))
                continue
        found.append(_channel_access(client, channel, channel_id))
    return found


def _channel_access(client: WebClient, channel: str, channel_id: str) -> ChannelAccess:
    try:
        info = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "refused")
        if code == "channel_not_found":
            return ChannelAccess(channel, False, "channel not found")
        if code in AUTH_ERRORS:
            return ChannelAccess(channel, False, f"bad token ({code})")
        return ChannelAccess(channel, False, f"Slack refused to say ({code})")
    if info.get("is_archived"):
        return ChannelAccess(channel, False, "channel is archived")
    if not info.get("is_member"):
        return ChannelAccess(channel, False, f"bot not in channel: invite it there (/invite @bot in {channel})")
    return ChannelAccess(channel, True, "can post")


def _channel_directory(client: WebClient) -> dict[str, str]:
    """Channel name (lower case, no ``#``) -> ID, over the pages ``conversations.list`` gives."""
    directory: dict[str, str] = {}
    cursor = None
    for _ in range(LIST_PAGES):
        page = client.conversations_list(types="public_channel,private_channel", exclude_archived=False,
                                         limit=1000, cursor=cursor)
        for item in page.get("channels") or []:
            if item.get("name") and item.get("id"):
                directory[str(item["name"]).lower()] = str(item["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return directory


def web_client(token: str, base_url: str) -> WebClient:
    return WebClient(token=token, base_url=base_url, timeout=TIMEOUT)


__all__ = ["BadToken", "ChannelAccess", "SlackClientError", "check_channels", "check_token", "web_client"]
