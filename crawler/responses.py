"""What a downloaded response says about itself, read the same way by every spider callback.

Whether it can be an article page at all, the URL it was listed under (before any
redirect), its headers as text for the feed parser, and the validators a listing
answered with for the next conditional GET.
"""

from __future__ import annotations

import scrapy
from scrapy.http import Response, TextResponse

HTML_TYPES = (b"text/html", b"application/xhtml", b"text/plain", b"application/xml", b"text/xml")


def not_an_article(response: Response) -> str | None:
    """Why this response cannot be an article page, or None."""
    content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    if not response.body.strip():
        return "empty body"
    if content_type and not content_type.startswith(HTML_TYPES):
        return f"not an HTML page ({content_type.decode('latin-1')})"
    if not isinstance(response, TextResponse) or b"\x00" in response.body[:4096]:
        return "binary content"
    return None


def first_url(request: scrapy.Request) -> str:
    """The URL as listed, before any redirects: what the report and the source row name."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def text_headers(response: Response) -> dict[str, str]:
    """Each header's last value, decoded (header bytes are Latin-1 by HTTP's rules)."""
    return {
        key.decode("latin-1"): values[-1].decode("latin-1")
        for key, values in response.headers.items()
        if values
    }


def validators(response: Response) -> tuple[str | None, str | None]:
    """The listing's ``ETag`` and ``Last-Modified``, for the next poll's conditional GET."""
    etag, modified = response.headers.get(b"ETag"), response.headers.get(b"Last-Modified")
    return (etag.decode("latin-1") if etag else None, modified.decode("latin-1") if modified else None)


def content_type(response: Response) -> str | None:
    """The ``Content-Type`` header as text, if any (its charset helps decode the page)."""
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None
