"""alerts.instances: which claims belong to a dispatcher that is certainly gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from alerts.instances import alive, instance_id


def test_a_claim_of_a_finished_process_on_this_host_is_gone_and_others_are_not_judged() -> None:
    ours = instance_id("vigia-run")
    assert ours.startswith(f"vigia-run@{socket.gethostname()}:{os.getpid()}:") and alive(ours)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    assert not alive(ours.replace(f":{os.getpid()}:", f":{dead_pid}:"))
    # This pid under a name it never had: an earlier life of a restarted container.
    assert not alive(ours.replace(ours.split(":")[2].split("/")[0], "00000000"))
    # Another host, another container with the same hostname, or a name we cannot read: wait for the lease.
    assert alive(ours.replace(socket.gethostname(), "otra-maquina", 1).replace(f":{os.getpid()}:", f":{dead_pid}:"))
    assert alive(ours.split("/")[0].replace(f":{os.getpid()}:", f":{dead_pid}:") + "/0123abcd")
    assert alive("crashed-worker")
