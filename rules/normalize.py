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


class _FoldTable(dict):
    """A lazily filled translate table: str.translate calls __getitem__, so __missing__ memoises."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


_TABLE = _FoldTable()
for _code in range(0x250):
    _TABLE[_code]  # noqa: B018 - prefill Latin ranges


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Spanish vowels with accents are replaced by str.replace (one C pass each); what is left for the
# per-character table is any other non-ASCII character except ñ and the punctuation of news text
# that folds to itself (quotes, dashes, ellipsis…).
_VOWELS = (("á", "a"), ("é", "e"), ("í", "i"), ("ó", "o"), ("ú", "u"), ("ü", "u"))
_KEEP = "".join(c for c in "ñ¿¡«»“”‘’„—–…•·°ºª€£$¢§¶©®™×÷±" if _fold_char(c) == c)
_OTHER_NON_ASCII = re.compile("[^\\x00-\\x7f" + re.escape(_KEEP) + "]")
_ASCII_AND_KEPT = bytes(range(128)) + bytes(ord(c) for c in _KEEP if ord(c) < 256)


def _latin1_lower() -> bytes:
    """For each latin-1 byte: its character lowercased, then an accented vowel made plain (what
    fold() does with str.lower and str.replace); every latin-1 letter lowercases to one latin-1 letter."""
    table = bytearray()
    plain = dict(_VOWELS)
    for code in range(256):
        lowered = chr(code).lower()
        assert len(lowered) == 1 and ord(lowered) < 256
        table.append(ord(plain.get(lowered, lowered)))
    return bytes(table)


_LATIN1_LOWER = _latin1_lower()


def _cp1252_tables() -> tuple[bytes, bytes]:
    """The same as _LATIN1_LOWER for cp1252 bytes (whose 0x80-0x9F are “ ” — … € ™ Š Œ…), and the
    bytes of ASCII and kept characters (what _OTHER_NON_ASCII does not find)."""
    table = bytearray()
    kept = bytearray()
    plain = dict(_VOWELS)
    for code in range(256):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            table.append(code)  # never produced by encoding to cp1252
            continue
        lowered = char.lower()
        lowered = plain.get(lowered, lowered)
        encoded = lowered.encode("cp1252")
        assert len(lowered) == 1 and len(encoded) == 1
        table.append(encoded[0])
        if _OTHER_NON_ASCII.search(char) is None:
            kept.append(code)
    return bytes(table), bytes(kept)


_CP1252_LOWER, _CP1252_KEPT = _cp1252_tables()


def _fold_match(match: re.Match) -> str:
    return _TABLE[ord(match.group())]


def fold(text: str) -> str:
    """Return the folded form of ``text`` (casefolded, accents stripped, ñ kept).

    Fast path: lower() in C, accented vowels by str.replace, and only the remaining non-ASCII
    characters (rare in Spanish text) go through the fold table.
    """
    if text.isascii():
        return text.lower()
    try:
        narrow = text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:  # latin-1 text: lowercase and plain vowels in one bytes.translate (see _LATIN1_LOWER)
        raw = narrow.translate(_LATIN1_LOWER)
        if not raw.translate(None, _ASCII_AND_KEPT):
            return raw.decode("latin-1")
        return _OTHER_NON_ASCII.sub(_fold_match, raw.decode("latin-1"))
    try:  # curly quotes, dashes, ellipsis…: the same with the cp1252 bytes, when it has them all
        narrow = text.encode("cp1252")
    except UnicodeEncodeError:
        pass
    else:
        raw = narrow.translate(_CP1252_LOWER)
        if not raw.translate(None, _CP1252_KEPT):
            return raw.decode("cp1252")
        return _OTHER_NON_ASCII.sub(_fold_match, raw.decode("cp1252"))
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    if len(lowered) != len(text):  # a character whose lowercase is longer (İ): fold char by char
        return text.translate(_TABLE)
    for accented, plain in _VOWELS:
        if accented in lowered:
            lowered = lowered.replace(accented, plain)
    raw = lowered.encode("latin-1", "replace")
    if b"?" not in raw or raw.count(b"?") == lowered.count("?"):  # all latin-1: delete the bytes that stay as they are
        if not raw.translate(None, _ASCII_AND_KEPT):
            return lowered
    elif _OTHER_NON_ASCII.search(lowered) is None:
        return lowered
    return _OTHER_NON_ASCII.sub(_fold_match, lowered)


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
