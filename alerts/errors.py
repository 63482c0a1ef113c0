"""Exceptions raised by alerts/: each names the decision the dispatcher takes on it."""

from __future__ import annotations


class AlertError(Exception):
    """Root of every alerts failure."""


class SlackError(AlertError):
    """Slack did not take a message (or did not say so)."""


class SlackTemporaryError(SlackError):
    """5xx, an unreadable answer, a dropped connection or a timeout: back off and try again.

    ``maybe_posted``: the request may have reached Slack and been taken (a timeout, a reset
    after sending, an answer without ``ts``), so the next attempt first looks for the
    message in the channel's history instead of posting blindly.
    """

    def __init__(self, message: str, *, maybe_posted: bool = True) -> None:
        super().__init__(message)
        self.maybe_posted = maybe_posted


class SlackRateLimited(SlackTemporaryError):
    """Still 429 after the client's own retries; ``retry_after`` is Slack's wait in seconds."""

    def __init__(self, retry_after: float, message: str = "ratelimited") -> None:
        super().__init__(message, maybe_posted=False)
        self.retry_after = retry_after


class SlackPermanentError(SlackError):
    """Slack refused for a reason a retry cannot fix (``code`` is Slack's ``error``)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class SlackMessageRejected(SlackPermanentError):
    """This one message is wrong (too long, bad blocks); others can still go."""


class SlackReplyRefused(SlackMessageRejected):
    """The parent cannot take thread replies (``cannot_reply_to_message``): post the copy on its own."""


class SlackChannelUnusable(SlackPermanentError):
    """The channel is gone, archived or the bot is not in it: block that channel only."""


class SlackAuthError(SlackPermanentError):
    """The token (or webhook) is invalid or revoked: nothing can be delivered."""


class SlackEndpointError(SlackAuthError):
    """``slack.base_url`` or ``slack.webhook_url`` cannot work (TLS to a plain-HTTP port, a bad URL)."""
