"""Page text made safe for Slack's mrkdwn: escaped, neutralised, cut without breaking anything.

Everything taken from a page (title, outlet, author, snippet, URL) goes through here, so
that an article titled ``<!channel> <https://evil|click>`` shows as text and pings no one.

Slack's mrkdwn has no escape for its emphasis markers, so page text cannot say
``*bold*``, ``_italic_``, ``~strike~`` or `` `code` ``: each marker is replaced by a
look-alike that mrkdwn ignores (U+2217 ASTERISK OPERATOR, U+FF3F FULLWIDTH LOW LINE,
U+223C TILDE OPERATOR, U+02CB MODIFIER LETTER GRAVE ACCENT). A reader sees nearly the
same characters; only our own markup formats. Bidi overrides and zero-width characters,
which can disguise text, are dropped. Titles are cut before they are put into a
``<url|label>`` link, so a cut can never break the link.
"""

from __future__ import annotations

import re

TITLE_CHARS = 300  # a linked title: longer is not a headline, and the link must fit a section

# mrkdwn's emphasis markers and look-alikes that do not format.
_MARKERS = str.maketrans({"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"})
# Bidi embeddings/overrides/isolates, zero-width space/joiners, word joiner, BOM.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]")


def escape(value: str | None) -> str:
    """Slack's three control characters and its emphasis markers; nothing from a page reaches Slack without this."""
    if not value:
        return ""
    value = _INVISIBLE.sub("", value).translate(_MARKERS)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clean(value: str | None) -> str:
    """One line of page text: invisible characters dropped, whitespace collapsed."""
    if not value:
        return ""
    return re.sub(r"\s+", " ", _INVISIBLE.sub("", value)).strip()


def escape_url(url: str) -> str:
    """A URL safe inside ``<url|label>``: no ``|`` or angle brackets, ``&`` escaped."""
    url = url.strip().replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    if not re.match(r"https?://", url, re.IGNORECASE):
        return ""
    return url.replace("&", "&amp;")


def link(url: str, label: str, limit: int = TITLE_CHARS) -> str:
    """A mrkdwn link with an escaped label cut to ``limit`` (or just the label when the URL is unusable)."""
    target = escape_url(url)
    if len(target) > 2000:
        target = ""  # no real article URL is this long; the label still shows
    label = truncate(escape(clean(label)).replace("|", "¦"), limit)
    return f"<{target}|{label}>" if target else label


def truncate(text: str, limit: int) -> str:
    """Cut at ``limit`` characters with an ellipsis, never inside an ``&amp;`` entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"
