"""Which dispatcher holds a claim, and whether it can still be posting.

Every dispatcher names itself ``[label@]host:pid:nonce``. A claim whose host is this
machine can be judged at once: its process is gone, or the pid is this very process
under a name it never had (a restarted container reuses pids). Anything else — another
host, a pid taken by some other process — waits for the claim's lease to run out.
"""

from __future__ import annotations

import os
import re
import secrets
import socket

_NAME = re.compile(r"(?:.*@)?(?P<host>[^:@]+):(?P<pid>\d+)(?::(?P<nonce>[0-9a-f]+))?$")
_OWN: set[str] = set()


def instance_id(label: str = "") -> str:
    """A new name for a dispatcher of this process (remembered as one of ours)."""
    name = f"{label + '@' if label else ''}{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    _OWN.add(name)
    return name


def alive(worker: str) -> bool:
    """False only when ``worker`` certainly cannot be posting any more; True when unsure."""
    found = _NAME.fullmatch(worker or "")
    if found is None or found["host"] != socket.gethostname():
        return True
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
