"""The config the daemon accepted, kept for its crawl worker while the file on disk changes.

The crawl worker is a separate process that reads its config from a file when it starts
(again after a crash or a recycle). When someone edits the config, the daemon keeps
running the version it accepted until SIGHUP, and refuses an invalid one; a worker
started meanwhile must do the same, or a half-edited file would break every poll. So,
when the file on disk no longer matches the accepted text, the worker gets a private
copy of the accepted text instead. The copy keeps ``${VAR}`` references as
written (crawls inherit the environment) and has relative rule files made absolute,
since the copy lives elsewhere.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("vigia.daemon")


class AcceptedConfig:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.text: str | None = None
        self._scratch: Path | None = None
        self._snapshot: Path | None = None

    def accept(self, text: str | None) -> None:
        """``text`` is what load_config validated; crawls use it from now on (None: the file as it is)."""
        self.text = text
        self._snapshot = None

    def for_crawl(self) -> Path:
        """The file a crawl should read: the config itself while it is unchanged, else the accepted copy."""
        if self.text is None or _read(self.path) == self.text:
            return self.path
        if self._snapshot is None:
            self._snapshot = self._write_snapshot(self.text)
            log.warning(
                "the config file changed on disk; crawls keep the accepted version until SIGHUP", extra={"config": str(self.path)}
            )
        return self._snapshot

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _write_snapshot(self, text: str) -> Path:
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="vigia-config-"))  # 0700: the copy may hold a token
        snapshot = self._scratch / f"accepted-{id(text):x}.yaml"
        snapshot.write_text(yaml.safe_dump(_absolute_rule_files(yaml.safe_load(text), self.path.resolve().parent), allow_unicode=True), encoding="utf-8")
        snapshot.chmod(0o600)
        return snapshot


def read_config_text(path: Path) -> str | None:
    return _read(path)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _absolute_rule_files(raw: Any, base_dir: Path) -> Any:
    if isinstance(raw, dict) and isinstance(raw.get("rules"), list):
        for entry in raw["rules"]:
            if isinstance(entry, dict) and isinstance(entry.get("file"), str) and not Path(entry["file"]).is_absolute():
                entry["file"] = str(base_dir / entry["file"])
    return raw
