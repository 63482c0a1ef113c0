"""The exceptions the rules package raises; one root so callers can catch them all."""

from __future__ import annotations


class RuleError(Exception):
    """Root of every error raised by :mod:`rules` (the application maps it to one exit code)."""


class RuleSyntaxError(RuleError):
    """A rule file or inline rule is malformed; raised by :func:`rules.load_rules`.

    Carries the file, the rule id and the dotted key so `vigia check` can point the user at the
    exact spot without anyone parsing the message text.
    """

    def __init__(self, file: str, rule_id: str | None, key: str | None, message: str) -> None:
        self.file = file
        self.rule_id = rule_id
        self.key = key
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.file]
        if self.rule_id:
            parts.append(f"rule {self.rule_id!r}")
        if self.key:
            parts.append(f"key {self.key!r}")
        return ": ".join(parts) + f": {self.message}"
