"""Helpers of the lock tests: ``Overlap``, and worker processes that count under a lock.

Each worker waits at a start gate, takes the lock, then reads a counter file,
sleeps and writes the count plus one: a read-increment-write that loses updates
whenever two workers overlap. ``count_in_processes`` starts the workers, opens
the gate once all are ready and returns the final count.

Run as ``python -m tests.lock_workers KIND TARGET KEY COUNTER GATE`` where KIND is
``file`` (TARGET a folder), ``postgres`` (TARGET a DSN) or ``none`` (no lock, to
show that the count does catch overlaps).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
import threading
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
SLEEP_INSIDE = 0.05


class Overlap:
    """Counts holders inside a critical section at once; ``most`` must stay 1."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self.inside = 0
        self.most = 0
        self.entries = 0

    def enter(self) -> None:
        with self._guard:
            self.inside += 1
            self.entries += 1
            self.most = max(self.most, self.inside)

    def leave(self) -> None:
        with self._guard:
            self.inside -= 1


def _locker(kind: str, target: str) -> Any:
    if kind == "file":
        from wix_refunds.journal import FileLocks

        return FileLocks(target, wait=60).hold
    if kind == "postgres":
        from wix_refunds.journal.postgres import PostgresLocks

        return PostgresLocks(target, wait=60).hold
    assert kind == "none", kind
    return lambda key: contextlib.nullcontext()


def work(kind: str, target: str, key: str, counter: pathlib.Path, gate: pathlib.Path) -> None:
    """Wait at the gate, then add one to the counter under the lock."""
    hold = _locker(kind, target)
    (gate / f"ready-{os.getpid()}").touch()
    while not (gate / "go").exists():
        time.sleep(0.002)
    with hold(key):
        count = int(counter.read_text())
        time.sleep(SLEEP_INSIDE)
        counter.write_text(str(count + 1))


def release_together(processes: list[subprocess.Popen[str]], gate: pathlib.Path) -> list[str]:
    """Return each worker's output once all of them, started and waiting at ``gate``, ran together.

    Each worker touches ``gate/ready-<pid>`` and waits for ``gate/go``; a worker that fails
    fails the test with its error, and none outlives the call.
    """
    outputs = []
    try:
        deadline = time.monotonic() + 60
        while len(list(gate.glob("ready-*"))) < len(processes):
            assert time.monotonic() < deadline, "workers did not start"
            assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
            time.sleep(0.005)
        (gate / "go").touch()
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            outputs.append(out)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outputs


def count_in_processes(kind: str, target: str, key: str, workers: int, folder: pathlib.Path) -> int:
    """Return the count after ``workers`` processes each added one to it under the lock."""
    counter = folder / "counter"
    counter.write_text("0")
    gate = folder / "gate"
    gate.mkdir()
    command = [sys.executable, "-m", "tests.lock_workers", kind, target, key, str(counter), str(gate)]
    processes = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    release_together(processes, gate)
    return int(counter.read_text())


if __name__ == "__main__":
    kind, target, key, counter, gate = sys.argv[1:]
    work(kind, target, key, pathlib.Path(counter), pathlib.Path(gate))
