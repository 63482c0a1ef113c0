"""Extraction workers that die with the process that owns their pool, however it dies.

A ``forkserver`` pool has three kinds of processes: the owner (the crawl), the fork server
it started, and the workers the fork server forks. Killed with SIGKILL, the owner runs no
cleanup, and nothing else ends them: each worker waits forever on its task queue (it holds
that pipe's write end itself, so it never reads EOF), and it also holds the fork server's
"alive" pipe, whose EOF is what would tell the fork server that its clients are gone. So
a worker must notice its owner's death on its own; once the workers are gone, the fork
server sees EOF and exits by itself, and so does multiprocessing's resource tracker.

``watch_owner`` is the workers' initializer: a daemon thread waits on a pidfd of the owner
(Linux ≥ 5.3: readable the moment it exits, no pid-reuse race; elsewhere it polls the pid)
and kills the worker when the owner is gone. On Linux ``PR_SET_PDEATHSIG`` also kills the
worker at once if its fork server dies. Kept tiny and free of Scrapy so the fork server
preloads it cheaply.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 1.0


def watch_owner(owner_pid: int) -> None:
    """Initializer of an extraction worker: die when ``owner_pid`` (the pool's owner) exits."""
    _die_with_parent()
    try:
        pidfd = os.pidfd_open(owner_pid)
    except (AttributeError, OSError):  # not Linux, an old kernel, or the owner is already gone
        pidfd = None
    if pidfd is None and not _running(owner_pid):
        _die()
    thread = threading.Thread(target=_wait_for_exit, args=(owner_pid, pidfd), name="owner-watchdog", daemon=True)
    thread.start()


def _wait_for_exit(owner_pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        while not poller.poll():  # readable once the owner has exited
            pass
    else:
        stop = threading.Event()
        while _running(owner_pid):
            stop.wait(POLL_SECONDS)
    _die()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else: a reused pid, but not gone
        return True
    return True


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent (the fork server) exits."""
    if not sys.platform.startswith("linux"):
        return
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _die() -> None:
    # SIGKILL, not sys.exit: the worker's main thread may be deep in an extraction, and the
    # executor's shutdown machinery would wait on queues whose other end is gone.
    os.kill(os.getpid(), signal.SIGKILL)
