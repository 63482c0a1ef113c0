"""Exceptions raised by storage/."""


class StorageError(Exception):
    """Root of every storage failure."""


class DatabaseUnreachable(StorageError):
    """Raised when the database named by the config cannot be opened or reached."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach database {url}: {reason}")
        self.url = url
        self.reason = reason
