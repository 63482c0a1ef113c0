"""Bytes of an article page to text, with the right guess for undeclared charsets.

A page's declared encoding wins (BOM, then the Content-Type header, then ``<meta>``).
Without one, a page that is valid UTF-8 is UTF-8; anything else from a Spanish-language
outlet is Windows-1252 (a superset of Latin-1). Generic detectors guess a Central-European
code page for short Spanish texts and turn "Año" into "Ańo".
"""

from __future__ import annotations

from w3lib.encoding import html_to_unicode


def _utf8_or_windows_1252(body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode_page(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(encoding, text) of an HTML page."""
    return html_to_unicode(content_type, body, default_encoding="cp1252", auto_detect_fun=_utf8_or_windows_1252)
