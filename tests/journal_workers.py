"""Worker processes of the journal tests: each a real OS process of its own, as a fleet's would be.

``intend`` records one intent in a journal and kills itself (SIGKILL) at once: what
it wrote must outlive it. ``refund`` waits at a start gate, then refunds each order
it is given (10.00, reference ``mp-<order>``) through one journal against a FakeWix
served on loopback, printing ``<order> <status>`` per order.

Run as ``python -m tests.journal_workers intend KIND TARGET SITE ORDER REFERENCE`` or
``python -m tests.journal_workers refund BASE_URL PATH GATE ORDER...`` with the
fake's credentials in ``WIX_API_KEY``, ``WIX_ACCOUNT_ID`` and ``WIX_SITE_ID``.
KIND is ``sqlite`` (TARGET a path) or ``postgres`` (TARGET a DSN).
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
from decimal import Decimal

from wix_refunds import Journal, RefundRequest
from wix_refunds.journal import EntryState, JournalEntry, lock_key
from wix_refunds.journal._journal import asked_of

from .lock_workers import release_together

ROOT = pathlib.Path(__file__).resolve().parent.parent
AMOUNT = Decimal("10")


def reference_of(order_id: str) -> str:
    """Return the reference every refund worker uses for ``order_id``: the same refund, asked again."""
    return f"mp-{order_id[:8]}"


def journal_of(kind: str, target: str) -> Journal:
    """Return the journal ``kind`` names, at ``target``."""
    if kind == "sqlite":
        from wix_refunds import SqliteJournal

        return SqliteJournal(target)
    assert kind == "postgres", kind
    from wix_refunds.journal.postgres import PostgresJournal

    return PostgresJournal(target)


def intend_and_die(kind: str, target: str, site_id: str, order_id: str, reference: str) -> None:
    """Record an intent of 10.00 under ``reference``, then die by SIGKILL without closing anything."""
    journal = journal_of(kind, target)
    entry = JournalEntry(
        site_id=site_id,
        order_id=order_id,
        reference=reference,
        asked=asked_of(RefundRequest(amount=AMOUNT)),
        state=EntryState.SENT,
        holder=f"host worker, pid {os.getpid()}",
        sent_at=time.time(),
        settle=120.0,
    )
    with journal.hold(lock_key(site_id, order_id)) as held:
        journal.intend(entry, held, frozenset())
        os.kill(os.getpid(), signal.SIGKILL)


def refund(base_url: str, path: str, gate: pathlib.Path, order_ids: list[str]) -> None:
    """Wait at the gate, then refund each order once through the SQLite journal at ``path``."""
    from wix_refunds import RetryPolicy, SqliteJournal, WixClient, WixCredentials, refund_order

    credentials = WixCredentials(
        api_key=os.environ["WIX_API_KEY"], account_id=os.environ["WIX_ACCOUNT_ID"], site_id=os.environ["WIX_SITE_ID"]
    )
    journal = SqliteJournal(path, wait=60)
    policy = RetryPolicy(backoff=0.01, max_backoff=0.05, settle=10.0)
    (gate / f"ready-{os.getpid()}").touch()
    while not (gate / "go").exists():
        time.sleep(0.002)
    with WixClient(credentials, base_url=base_url, retry=policy, rate_limit=None) as client:
        for order_id in order_ids:
            request = RefundRequest(amount=AMOUNT, reference=reference_of(order_id))
            outcome = refund_order(client, order_id, request, journal=journal)
            print(order_id, outcome.status.value, flush=True)


def start_refunds(
    base_url: str, credentials: dict[str, str], path: pathlib.Path, gate: pathlib.Path, orders: list[list[str]]
) -> list[str]:
    """Return the output lines of one refund worker per list of ``orders``, started together at the gate."""
    gate.mkdir()
    env = {**os.environ, **credentials, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.journal_workers", "refund", base_url, str(path), str(gate), *ids],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ids in orders
    ]
    return [line for out in release_together(processes, gate) for line in out.splitlines()]


def run_intend_and_die(kind: str, target: str, site_id: str, order_id: str, reference: str) -> int:
    """Return the exit status of an ``intend`` worker (``-SIGKILL`` when it died as meant)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.journal_workers", "intend", kind, target, site_id, order_id, reference],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done.returncode


if __name__ == "__main__":
    if sys.argv[1] == "intend":
        intend_and_die(*sys.argv[2:7])
    else:
        base_url, path, gate = sys.argv[2:5]
        refund(base_url, path, pathlib.Path(gate), sys.argv[5:])
