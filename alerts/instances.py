"""Which dispatcher holds a claim, and whether it can still be posting.

Every dispatcher names itself ``[label@]host:pid:nonce/space``, where ``space`` stands for
this kernel boot and pid namespace (two containers given the same hostname do not share
it). A claim made in this host's pid space can be judged at once: its process is gone, or the pid is this very process
under a name it never had (a restarted container reuses pids). Anything else — another
host, a pid taken by some other process — waits for the claim's lease to run out.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket

_NAME = re.compile(r"(?:.*@)?(?P<host>[^:@/]+):(?P<pid>\d+)(?::(?P<nonce>[0-9a-f]+))?(?:/(?P<space>[0-9a-f]+))?$")
_OWN: set[str] = set()


def instance_id(label: str = "") -> str:
    """A new name for a dispatcher of this process (remembered as one of ours)."""
    space = _pid_space()
    name = (f"{label + '@' if label else ''}{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
            f"{'/' + space if space else ''}")
    _OWN.add(name)
    return name


def alive(worker: str) -> bool:
    """False only when ``worker`` certainly cannot be posting any more; True when unsure."""
    found = _NAME.fullmatch(worker or "")
    if found is None or found["host"] != socket.gethostname():
        return True
    if (found["space"] or "") != _pid_space():
        return True  # another container or boot: its pids are not ours to look at
    pid = int(found["pid"])
    if pid == os.getpid():
        return worker in _OWN or found["nonce"] is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's live process
    return True


def _pid_space() -> str:
    """This kernel boot and pid namespace, hashed ("" where /proc cannot tell)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as boot:
            boot_id = boot.read().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return hashlib.sha256(f"{boot_id}:{namespace}".encode()).hexdigest()[:8]
