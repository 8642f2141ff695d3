"""Worker processes of the shared rate limit tests: each a real OS process, as a fleet's would be.

``read`` waits at a start gate, then reads one order ``COUNT`` times through a client
whose rate limit is the journal's shared one (``REQUESTS`` per ``PER`` seconds), and
prints how many attempts each read took.

Run as ``python -m tests.limit_workers BASE_URL KIND TARGET GATE ORDER COUNT REQUESTS PER``
with the fake's credentials in ``WIX_API_KEY``, ``WIX_ACCOUNT_ID`` and ``WIX_SITE_ID``.
KIND is ``sqlite`` (TARGET a path) or ``postgres`` (TARGET a DSN).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

from .journal_workers import ROOT, journal_of
from .lock_workers import release_together


def read(base_url: str, kind: str, target: str, gate: str, order_id: str, count: int, limit: tuple[int, float]) -> None:
    """Wait at the gate, then read ``order_id`` ``count`` times under the journal's shared limit."""
    from wix_refunds import RetryPolicy, WixClient, WixCredentials
    from wix_refunds.wix._wire import get_order

    credentials = WixCredentials(
        api_key=os.environ["WIX_API_KEY"], account_id=os.environ["WIX_ACCOUNT_ID"], site_id=os.environ["WIX_SITE_ID"]
    )
    journal = journal_of(kind, target)
    shared = journal.shared_limit(credentials, limit)  # type: ignore[attr-defined]
    (pathlib.Path(gate) / f"ready-{os.getpid()}").touch()
    while not (pathlib.Path(gate) / "go").exists():
        time.sleep(0.002)
    policy = RetryPolicy(backoff=0.05, max_backoff=0.5)
    with WixClient(credentials, base_url=base_url, retry=policy, rate_limit=shared) as client:
        for _ in range(count):
            print(client.send_counted(get_order(order_id)).attempts, flush=True)


def start_readers(
    base_url: str,
    credentials: dict[str, str],
    targets: list[tuple[str, str]],
    gate: pathlib.Path,
    order_id: str,
    count: int,
    limit: tuple[int, float],
) -> list[int]:
    """Return the attempts of every read of one worker per (kind, target), started together at the gate."""
    gate.mkdir()
    env = {**os.environ, **credentials, "PYTHONPATH": str(ROOT)}
    args = [order_id, str(count), str(limit[0]), str(limit[1])]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.limit_workers", base_url, kind, target, str(gate), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind, target in targets
    ]
    return [int(line) for out in release_together(processes, gate) for line in out.split()]


if __name__ == "__main__":
    base, kind, target, gate, order, count, requests, per = sys.argv[1:9]
    read(base, kind, target, gate, order, int(count), (int(requests), float(per)))
