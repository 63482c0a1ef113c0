"""What /proc says about a process tree: its members, resident size and CPU time (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    members, todo = [], [pid]
    while todo:
        current = todo.pop()
        members.append(current)
        todo += children(current)
    return members


def resident_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def proportional_bytes(pid: int) -> int:
    """The process's share of its resident pages (PSS): a page shared by n processes counts 1/n.
    Summed over a tree it is what the tree uses; summed RSS counts forked, shared pages n times."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_resident_bytes(pid: int) -> int:
    return sum(resident_bytes(member) for member in tree(pid))


def cpu_seconds(pid: int, *, reaped_children: bool = True) -> float:
    """User + system CPU of the process, plus (by default) that of its children already waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After the ")" the fields start at "state" (field 3): utime is 14, stime 15, cutime 16, cstime 17.
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS
