"""Small helpers for the sentences a reader of ``vigia match`` sees: lists cut short, joined with
"and"/"or", nested alternatives as bullets."""

from __future__ import annotations

NEEDS_SHOWN = 6


def limit(items: list[str], most: int = NEEDS_SHOWN) -> str:
    """``items`` joined by commas, the ones past ``most`` counted instead of shown."""
    if len(items) <= most:
        return ", ".join(items)
    return ", ".join(items[:most]) + f", … ({len(items) - most} more)"


def join(parts: list[str], word: str = "and") -> str:
    """``a, b and c`` (or ``nor``, ``or``)."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def bullet(text: str) -> str:
    """``- first line``, later lines indented under it (nested alternatives stay readable)."""
    first, *rest = text.splitlines()
    return "\n".join([f"- {first}", *("  " + line for line in rest)])
