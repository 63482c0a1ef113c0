"""Rule regexes in linear time: RE2 (google-re2), never Python's backtracking ``re``.

A rule's ``regex:`` runs over every article, and articles come from the web: with a
backtracking engine, ``(a+)+$`` against a page of "aaaa…b" takes longer than the universe,
and the crawl hangs at full CPU. RE2 guarantees time linear in the text, at the price of
the syntax that needs backtracking: backreferences (``\\1``, ``(?P=name)``), lookahead and
lookbehind (``(?=``, ``(?!``, ``(?<=``, ``(?<!``), possessive and atomic groups. Those are
refused when the rule is loaded, so `vigia check` names the rule and the key.

One difference is smoothed over: RE2's ``\\w`` and ``\\W`` are ASCII, Python's are Unicode,
and the folded text keeps ``ñ``. Outside a character class ``\\w`` becomes
``[\\p{L}\\p{N}_]`` (and ``\\W`` its complement), inside one ``\\p{L}\\p{N}_``, so ``\\w+``
still matches "año". ``\\b`` stays RE2's ASCII boundary (ñ is not a word character for it).
"""

from __future__ import annotations

from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no types

_WORD = r"\p{L}\p{N}_"
_UNSUPPORTED = "rules use RE2, which runs in linear time and has no backreferences, lookahead or lookbehind"


class RegexSyntaxError(ValueError):
    """Raised by :func:`compile_linear` for a pattern RE2 cannot compile (bad or unsupported syntax)."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    return options


_OPTIONS = _options()


def compile_linear(source: str) -> Any:
    """Compile ``source`` with RE2; raise RegexSyntaxError with RE2's reason."""
    try:
        return re2.compile(unicode_word_classes(source), options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexSyntaxError(f"{reason} ({_UNSUPPORTED})") from None


def unicode_word_classes(source: str) -> str:
    r"""Rewrite ``\w`` / ``\W`` as Unicode classes, leaving every other escape as written."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            out.append(_escape(source[i + 1], in_class))
            i += 2
        elif in_class and source.startswith("[:", i) and ":]" in source[i + 2 :]:  # [[:alpha:]]
            end = source.index(":]", i + 2) + 2
            out.append(source[i:end])
            i = end
        elif not in_class and char == "[":
            opening = _class_opening(source, i)
            out.append(opening)
            i += len(opening)
            in_class = True
        else:
            if in_class and char == "]":
                in_class = False
            out.append(char)
            i += 1
    return "".join(out)


def _escape(escape: str, in_class: bool) -> str:
    r"""``\`` + ``escape`` as RE2 should read it: ``\w`` and ``\W`` as Unicode word classes."""
    if escape == "w":
        return _WORD if in_class else f"[{_WORD}]"
    if escape == "W" and not in_class:
        return f"[^{_WORD}]"
    return "\\" + escape


def _class_opening(source: str, start: int) -> str:
    """``[`` at ``start`` with a ``^`` after it and a ``]`` right after those (a literal member,
    not the end of the class)."""
    end = start + 1
    if source.startswith("^", end):
        end += 1
    if source.startswith("]", end):
        end += 1
    return source[start:end]
