"""Folding text for matching: casefold and strip accents (keeping ñ), with offsets back to the original.

Matching runs over the folded string; hits must be shown on the original string, so folding
returns a map from folded offsets to original offsets when the two lengths differ.  In the usual
case (Spanish text) every character folds to exactly one character and no map is needed.
"""

from __future__ import annotations

import re
import unicodedata


def _fold_char(ch: str) -> str:
    """Fold one character: casefold, drop combining marks, but keep ñ (a letter of its own in Spanish)."""
    folded = ch.casefold()
    out = []
    for c in folded:
        if c == "ñ":
            out.append(c)
            continue
        decomposed = unicodedata.normalize("NFD", c)
        if decomposed.startswith("n") and "\u0303" in decomposed:
            out.append("ñ")
            continue
        base = "".join(d for d in decomposed if not unicodedata.combining(d))
        out.append(base if base else "")
    return "".join(out)


class _FoldTable(dict[int, str]):
    """:func:`_fold_char` for every character, as a ``str.translate`` table filled on first use."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


_TABLE = _FoldTable()


class _ByteFold:
    """:func:`_fold_char` for the characters of one single-byte codec (latin-1, cp1252), as a
    ``bytes.translate`` table: each byte to the byte of its folded character.  A character that
    does not fold to one character of the codec (ß → ss) keeps its byte and is *pending*: folded
    afterwards through :data:`_TABLE`."""

    def __init__(self, codec: str) -> None:
        self.codec = codec
        table = bytearray(range(256))
        pending = []
        for code in range(256):
            try:
                char = bytes([code]).decode(codec)
            except UnicodeDecodeError:
                continue  # never produced by encoding to this codec
            folded = _fold_char(char)
            try:
                encoded = folded.encode(codec)
            except UnicodeEncodeError:
                encoded = b""
            if len(folded) == 1 and len(encoded) == 1:
                table[code] = encoded[0]
            else:
                pending.append(char)
        self.table = bytes(table)
        # what is not pending, for bytes.translate to delete: what is left is pending
        self.settled = bytes(c for c in range(256) if bytes([c]).decode(codec, "replace") not in pending)
        self.pending = re.compile("[" + re.escape("".join(pending)) + "]") if pending else None

    def fold(self, text: str) -> str | None:
        """``text`` folded, or None when it has a character this codec cannot encode."""
        try:
            narrow = text.encode(self.codec)
        except UnicodeEncodeError:
            return None
        raw = narrow.translate(self.table)
        folded = raw.decode(self.codec)
        if self.pending is None or not raw.translate(None, self.settled):
            return folded
        return self.pending.sub(_fold_match, folded)


_LATIN1 = _ByteFold("latin-1")
_CP1252 = _ByteFold("cp1252")  # latin-1 plus “ ” — … € ™ Š Œ…, usual in news text


def _fold_match(match: re.Match[str]) -> str:
    return _TABLE[ord(match.group())]


def fold(text: str) -> str:
    """Return the folded form of ``text`` (casefolded, accents stripped, ñ kept): :func:`_fold_char`
    of each character, the one definition of folding.

    Fast paths, all derived from it: ASCII is lowercased in C; text that latin-1 or cp1252 can
    encode (nearly all Spanish news) is folded by one ``bytes.translate``; anything else goes
    through the per-character table.
    """
    if text.isascii():
        return text.lower()  # _fold_char of an ASCII character is its lowercase (checked below)
    folded = _LATIN1.fold(text)
    if folded is None:
        folded = _CP1252.fold(text)
    if folded is None:
        folded = text.translate(_TABLE)
    return folded


assert all(_fold_char(chr(code)) == chr(code).lower() for code in range(128))


def fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Fold ``text`` and return ``(folded, offsets)``.

    ``offsets`` is None when folding kept the length (offsets are then identical); otherwise
    ``offsets[i]`` is the original index of folded character ``i`` with one extra entry for the end.
    """
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None
    offsets: list[int] = []
    for index, ch in enumerate(text):
        offsets.extend([index] * len(_TABLE[ord(ch)]))
    offsets.append(len(text))
    return folded, offsets


def to_original(offsets: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """Map a folded ``[start, end)`` span back to the original string."""
    if offsets is None:
        return start, end
    if end <= start:
        return offsets[start], offsets[start]
    return offsets[start], offsets[end - 1] + 1
