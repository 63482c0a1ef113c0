"""The long-lived worker's job feed over a pipe: JSON lines in, JSON lines out.

The daemon writes one line per job on the worker's stdin::

    {"type": "poll", "id": "…", "source": {"name": …, "type": …, "url": …, "outlet": …,
     "link_patterns": …}, "timeout": 600}

and reads from the worker's protocol stream one line per finished poll (``PollReport``)
and a heartbeat every ``HEARTBEAT_EVERY`` seconds::

    {"type": "heartbeat", "polls": 3, "rss": 181403648}

The heartbeat is sent from the reactor's own loop, so a worker stuck in a parser or a
regex stops beating and the daemon can tell a hang from a quiet spell. End of input (the
daemon closed the pipe, or died) closes the feed: the spider finishes what it holds and
stops. The worker decides nothing about time beyond each job's timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import select
import signal
import threading
import time
from typing import Any

from crawler.poll import PollReport
from crawler.spec import SourceSpec

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = 2.0
MAX_LINE = 1 << 20  # a job line is a few hundred bytes; anything near this is not ours


class PipeFeed:
    def __init__(self, jobs_fd: int, out_fd: int, heartbeat: float = HEARTBEAT_EVERY) -> None:
        self.jobs_fd = jobs_fd
        self.out_fd = out_fd
        self.heartbeat = heartbeat
        self.open = True
        self.spider: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> PipeFeed:
        return self  # Scrapy deep-copies settings per crawler; there is one pipe

    def attach(self, spider: Any) -> None:
        self.spider = spider
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._beat())]
        self.send({"type": "ready", "pid": os.getpid()})

    def report(self, report: PollReport) -> None:
        self.send(report.to_dict())

    def close(self) -> None:
        self.open = False
        for task in self._tasks:
            task.cancel()

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        try:
            while data:
                data = data[os.write(self.out_fd, data) :]
        except OSError:  # the daemon is gone: nothing to report to; stop taking jobs
            self.open = False

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE)
        pipe = os.fdopen(self.jobs_fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        try:
            while self.open:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than MAX_LINE
                    logger.error("a job line over %d bytes was refused", MAX_LINE)
                    continue
                if not line:
                    break
                try:
                    self.take(line)
                except Exception:  # one job gone wrong must not stop the feed
                    logger.exception("a job could not be started")
        finally:
            transport.close()
            self.open = False
            logger.info("job feed closed; finishing the polls in flight")

    def take(self, line: bytes) -> None:
        try:
            job = json.loads(line)
            if job.get("type") == "drain":
                self.open = False
                return
            source = SourceSpec(**job["source"])
            poll_id, timeout = str(job["id"]), job.get("timeout")
        except (ValueError, TypeError, KeyError) as exc:
            logger.error("a job the worker cannot read was ignored: %s", exc)
            return
        self.spider.take(poll_id, source, float(timeout) if timeout else None)

    async def _beat(self) -> None:
        while self.open:
            self.send({"type": "heartbeat", "polls": len(self.spider.run.polls), "rss": resident_bytes()})
            await asyncio.sleep(self.heartbeat)


def exit_with_parent(parent_pid: int, grace: float) -> None:
    """Stop this worker when the daemon that started it exits, even killed with SIGKILL.

    The worker runs in its own session (Ctrl-C reaches only the daemon), so nothing else
    ends it: an idle worker would see its job pipe close, but one with polls in flight
    would finish them for nobody, and one stuck would stay for good. A thread waits on a
    pidfd of the daemon (readable the moment it exits); then SIGTERM (Scrapy stores what
    it holds), and SIGKILL to the whole session ``grace`` seconds later. The extraction
    pool follows its owner (``crawler.pool_lifetime``).
    """
    try:
        pidfd = os.pidfd_open(parent_pid)
    except (AttributeError, OSError):  # not Linux ≥ 5.3, or the daemon is already gone
        pidfd = None
    threading.Thread(target=_stop_after, args=(parent_pid, pidfd, grace), name="daemon-watchdog", daemon=True).start()


def _stop_after(parent_pid: int, pidfd: int | None, grace: float) -> None:
    if pidfd is not None:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        while not poller.poll():
            pass
    else:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
    logger.warning("the daemon (pid %d) is gone; stopping", parent_pid)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace)
    if os.getpgrp() == os.getpid():  # a session of its own, as the daemon starts it: the pool too
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def resident_bytes(pid: int | str = "self") -> int:
    """Resident set size of one process, from /proc (0 where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
