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
