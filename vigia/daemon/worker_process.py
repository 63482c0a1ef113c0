"""The crawl worker as an operating-system process: start it, signal it, stop it, say why it died.

The worker runs in a session (and process group) of its own, so that a Ctrl-C in a
terminal reaches only the daemon, which decides, and so that one SIGKILL to the group
takes the worker's extraction pool with it.

Stopping is in two steps: SIGTERM to the worker alone, on which Scrapy closes gracefully
(items in the pipelines are stored, its pool closed in order), then SIGKILL to the whole
process group at the deadline, so extraction workers do not outlive it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("vigia.daemon.worker")

# The worker's last log lines kept to explain its death.
STDERR_TAIL = 20
# Longest line read from the worker's pipes (its reports are far shorter).
LINE_LIMIT = 1 << 20


@dataclass(frozen=True)
class WorkerCommand:
    """How to start the worker: which config, and how it should log."""

    config_path: Path
    log_format: str = "text"
    log_level: str = "WARNING"
    python: str = sys.executable

    def argv(self, config_path: Path | None = None) -> list[str]:
        return [
            self.python, "-m", "vigia", "worker", "--stdio",
            "--config", str(config_path or self.config_path),
            "--log-format", self.log_format, "--log-level", self.log_level,
        ]  # fmt: skip


async def start_worker(command: WorkerCommand, config_path: Path | None) -> asyncio.subprocess.Process:
    """Start ``vigia worker --stdio`` with pipes on its three streams; OSError if it cannot start."""
    return await asyncio.create_subprocess_exec(
        *command.argv(config_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # Ctrl-C in a terminal reaches the daemon, which decides
        limit=LINE_LIMIT,
    )


def send_signal(process: asyncio.subprocess.Process, signum: int, *, group: bool) -> None:
    """Signal the worker, or (``group``) its whole process group; a process already gone is no error."""
    # SIGKILL goes to the whole group so that extraction pool workers do not outlive their parent.
    try:
        if group:
            os.killpg(process.pid, signum)
        elif process.returncode is None:
            process.send_signal(signum)
    except (ProcessLookupError, PermissionError):
        pass


def kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the worker and whatever it left behind (its extraction pool)."""
    send_signal(process, signal.SIGKILL, group=True)


async def terminate(process: asyncio.subprocess.Process, kill_by: float, clock: Callable[[], float]) -> None:
    """SIGTERM the worker; SIGKILL its group once it has exited or at ``kill_by`` (on ``clock``)."""
    send_signal(process, signal.SIGTERM, group=False)  # Scrapy then closes its own pool in order
    while process.returncode is None and clock() < kill_by:
        await asyncio.sleep(0.05)
    if process.returncode is None:
        log.warning("the crawl worker did not stop after SIGTERM; killing it", extra={"pid": process.pid})
    # Its extraction workers go with it, whatever it managed to close.
    kill_group(process)
    while process.returncode is None:
        await asyncio.sleep(0.05)


async def wait_for_pipes(process: asyncio.subprocess.Process) -> None:
    """After the worker's death: wait (a little) for its pipes to close, so its streams are read to the end."""
    try:
        await asyncio.wait_for(asyncio.shield(process.wait()), 5)
    except TimeoutError:
        log.warning("the crawl worker's pipes stayed open after it exited", extra={"pid": process.pid})


class StderrTail:
    """The worker's log lines go out as the daemon's own; the last few explain a death."""

    def __init__(self, keep: int = STDERR_TAIL) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)

    def clear(self) -> None:
        self.lines.clear()

    async def forward(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            text = line.decode("utf-8", "replace")
            self.lines.append(text.rstrip("\n"))
            sys.stderr.write(text)
        sys.stderr.flush()

    def exit_reason(self, returncode: int | None) -> str:
        """Why the worker died, in words: the signal that killed it, or its status and last log line."""
        if returncode is not None and returncode < 0:
            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = f"signal {-returncode}"
            return f"the crawl worker was killed by {name}"
        last = next((line for line in reversed(self.lines) if line.strip()), "")
        cause = _message_of(last)
        return f"the crawl worker exited with status {returncode}" + (f": {cause}" if cause else "")


def _message_of(line: str) -> str:
    """A log line's message (JSON lines carry it under "message"), cut to a readable length."""
    try:
        entry = json.loads(line)
        if isinstance(entry, dict) and entry.get("message"):
            line = str(entry["message"])
    except ValueError:
        pass
    return line.strip()[:500]
