"""Exceptions of the application layer, and the one place they become exit codes."""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1  # the run went through but something could not be done (an alert not delivered, say)
    CONFIG = 2  # the config, the rules or the database named in it are wrong
    INTERRUPTED = 130


class VigiaError(Exception):
    """Root of the application's own errors."""

    exit_status = ExitStatus.ERROR


class ConfigError(VigiaError):
    """The config file is missing, unreadable or invalid; says which file and which key."""

    exit_status = ExitStatus.CONFIG

    def __init__(self, file: str, key: str | None, message: str) -> None:
        self.file, self.key, self.message = file, key, message
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + message)


class ConfigErrors(ConfigError):
    """Several mistakes in one config file: every one is shown, one line each.

    ``file``, ``key`` and ``message`` are the first problem's, so a caller that looks at one
    error still gets the right place.
    """

    def __init__(self, problems: list[ConfigError]) -> None:
        first = problems[0]
        super().__init__(first.file, first.key, first.message)
        self.problems = problems
        self.args = ("\n".join(str(p) for p in problems),)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
