"""Fault soak: 10,000 random fault schedules against every route, counting violations.

Each in-process schedule takes an order of one kind (tests/test_execute.py CASES and a
few partial and full refunds of our own), a sync or async client, and one to four
refund attempts, each with faults drawn from these families:

    transport   refused connections, 503, 429, lost answers, the process stopping
                before or after Wix applies a request (tests.runner.ScriptedTransport);
                in a quarter of them 3-8 reads fail once the first write is sent
    server      FakeWix's fail_next (503, 500, 429, 428, 404), lose_response_next and
                refuse_connections, on reads and on writes
    hidden      hide_new_refund_next: a refund's 2xx answer and the next 1-5 listings omit it
    foreign     someone else's refund lands before a request, or is added between
                attempts (no reason, another reference's tag, our tag inside other text)
    decline     fake.decline "now" or "later" for an attempt
    reasonless  FakeWix(list_reasons=False) for the whole schedule
    late        apply_late_next on a write, applied 0.05-0.3 s later on a timer

Settle windows pass in fake time (tests.clients.fast_policy), except in late-write
schedules (2%, ``--late-share``), which really wait with a short policy (settle 1 s)
so that the timer can fire. A share of schedules (2%, ``--processes-share``) runs 2-4
worker processes (a reused spawn pool, benchmarks/_soak_worker.py; sync or async,
some with a 0.2 s client timeout) that refund one order served over loopback with the
same request and reference on one SqliteJournal file (one per schedule, in a temporary
folder; it holds the order locks too), some with a lost answer, a late write, a 503 or a
refused connection scripted on the server.

Another share (2%, ``--rerun-share``, drawn apart from the rest so that the other
schedules of a seed are unchanged) are re-runs by another process of a standard refund
(the journal's part), with real settle windows of 1.5 s (``Rerun``): the first worker's
write commits 0.1-0.6 s late and 1-2 other workers run the same request as soon as Wix
has taken it, the first one waiting for its answer, giving up at once, or killed with
SIGKILL first; or listings lag 0.3-2 s behind committed refunds and 1-2 workers run again
0-0.4 s apart after the first is COMPLETED (its answer sometimes lost). Then the listings
catch up and a clean re-run on the same journal ends the schedule.

The caller model: an attempt that raises a typed WixRefundError is re-run at once with
the reference from the error; one that stops the process is re-run later (late writes
applied, listings caught up: no call can know of a crashed process's request still in
flight); one that succeeds may be re-run later, except a partial refund on a site that
lists no reasons (no later call can read its tag). A schedule without a caller reference
never stops the process on a partial refund (the caller would have lost the reference
the call made). Then a clean re-run: faults cleared, declines off, the reference from
the last error or outcome.

A violation is: a call's tagged refunds on Wix differ from what it asked; a COMPLETED
outcome without its tagged refund on Wix; two tagged refunds that did not fail for one
reference; more refunded in total than asked; a second cancel; a fulfilment deleted
twice; a cancel before every fulfilment was deleted; a clean re-run that raises or
does not end done; an exception that is not a WixRefundError. Typed errors are counted,
not violations. Goal: 0 violations.

``--break settle`` makes the library resend at once after an unknown refund outcome,
``--break journal`` gives each worker a journal of its own in memory under shared file
locks (the set-up before the journal: a lock, no record), and ``--break locks`` gives it
no lock either, to show that the soak catches each.

Run: python benchmarks/fault_soak.py [--schedules 10000] [--seed 1] [--processes-share 0.02]
     [--rerun-share 0.02] [--late-share 0.02] [--skip FAMILY] [--break settle|journal|locks]
     [--show 3] [--only INDEX]
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.pool
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

import _soak_worker
from _common import machine

from tests.clients import Sleeps, fast_policy
from tests.runner import Crash, ScriptedTransport, run_refund
from tests.test_execute import CASES, KINDS
from wix_refunds import (
    OutcomeStatus,
    RefundRequest,
    RefundRoute,
    RetryPolicy,
    SqliteJournal,
    WixOutcomeUnknown,
    WixRefundError,
)
from wix_refunds.testing import FakeWix

REFUND = "/ecom/v1/order-billing/refund-payments"
CANCEL = "/ecom/v1/orders/*/cancel"
DELETE = "/ecom/v1/fulfillments/*"
TRANSACTIONS = "/ecom/v1/payments/orders/*"
READS = [
    ("GET", "/ecom/v1/orders/*"),
    ("GET", TRANSACTIONS),
    ("POST", "/ecom/v1/order-billing/get-order-refundability"),
    ("GET", "/ecom/v1/fulfillments/orders/*"),
]
TRANSPORT_FAULTS = ["ok", "refuse", "503", "429", "lose", "crash", "crash_after"]
MAX_HIDDEN_READS = 5
FAMILIES = ["transport", "server", "hidden", "foreign", "decline", "reasonless", "late", "processes", "rerun"]
STANDARD = RefundRoute.STANDARD_REFUND

# The tag the library writes, read here independently of the library's own parser.
_TAG = re.compile(r"(?:^| )\[ref:([^\]\s]+)\]$")


@attrs.frozen
class Case:
    """An order to seed, the request, its route, and how much someone else may refund beside it."""

    order: dict[str, Any]
    request: RefundRequest | None
    route: RefundRoute
    # Someone else's refunds come from the first payment; this much fits beside ours there.
    foreign_room: Decimal = Decimal(0)


_TEST_CASES = {name: Case(keywords, request, route) for name, (keywords, request, route, _) in CASES.items()}
SOAK_CASES: dict[str, Case] = {
    **_TEST_CASES,
    # 30 of 100 paid as 60 + 40: ours takes 30 from the 60 first, so 30 more fits there.
    "standard_partial_with_reference": attrs.evolve(
        _TEST_CASES["standard_partial_with_reference"], foreign_room=Decimal(30)
    ),
    "standard_partial_no_reference": Case({"total": "100"}, RefundRequest(amount=Decimal(10)), STANDARD, Decimal(60)),
    "standard_partial_split": Case(
        {"total": "50", "payments": [("30", "online"), ("20", "offline")]},
        RefundRequest(amount=Decimal(40), reference="split-9", reason="damaged"),
        STANDARD,
    ),
    "standard_full_with_reference": Case({"total": "35"}, RefundRequest(reference="full-1"), STANDARD),
}


class OutageTransport(ScriptedTransport):
    """ScriptedTransport, and once the first write is sent the next ``outage`` reads get 503: Wix goes down."""

    def __init__(self, fake: FakeWix, script: list[str], *, writes: list[str], outage: int) -> None:
        super().__init__(fake, script, writes=writes)
        self.outage = outage
        self.wrote = False

    def _fault(self, request: httpx.Request) -> tuple[str, httpx.Response | None]:
        write = request.method == "DELETE" or request.url.path.endswith(("/cancel", "/refund-payments"))
        if self.wrote and not write and self.outage > 0:
            self.outage -= 1
            return "503", httpx.Response(503, content=b"", request=request)
        kind, early = super()._fault(request)
        self.wrote = self.wrote or write
        return kind, early


def _tag_of(refund: dict[str, Any]) -> str | None:
    match = _TAG.search(str(refund["details"].get("reason") or ""))
    return match.group(1) if match else None


def _live(refund: dict[str, Any]) -> bool:
    return any(t["refundStatus"] != "FAILED" for t in refund["transactions"])


def _counted(refund: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(t["amount"]["amount"]) for t in refund["transactions"] if t["refundStatus"] != "FAILED"), Decimal(0)
    )


class Watch:
    """The books of one order on the fake, and the rules they must keep."""

    def __init__(self, fake: FakeWix, order_id: str, case: Case) -> None:
        self.fake = fake
        self.order_id = order_id
        self.case = case
        self.paid = sum((Decimal(p["amount"]["amount"]) for p in fake.payments[order_id]), Decimal(0))
        self.fulfillments = {f["id"] for f in fake.fulfillments[order_id]}
        self.references: set[str] = set()

    @property
    def partial(self) -> Decimal | None:
        request = self.case.request
        return None if request is None else request.amount

    def _ours(self, refund: dict[str, Any]) -> bool:
        # References the calls made start "wr-"; someone else's never do.
        tag = _tag_of(refund)
        return tag is not None and (tag in self.references or tag.startswith("wr-"))

    def _asked(self) -> Decimal:
        if self.case.route is not STANDARD:
            return Decimal(0)
        if self.partial is not None:
            return self.partial
        foreign = sum((_counted(r) for r in self.fake.refunds[self.order_id] if not self._ours(r)), Decimal(0))
        return self.paid - foreign

    def never_twice(self) -> list[str]:
        """Return the rules broken so far (those that hold at every moment)."""
        broken = []
        refunds = self.fake.refunds[self.order_id]
        live = Counter(_tag_of(r) for r in refunds if self._ours(r) and _live(r))
        if any(n > 1 for n in live.values()):
            broken.append("two live refunds for one reference")
        ours = sum((_counted(r) for r in refunds if self._ours(r)), Decimal(0))
        if ours > self._asked() or self.fake.refunded_total(self.order_id) > self.paid:
            broken.append("refunded more than asked")
        writes = [(op, target) for op, oid, target in self.fake.writes if oid == self.order_id]
        cancels = [i for i, (op, _) in enumerate(writes) if op == "cancel"]
        if len(cancels) > 1 or (cancels and self.case.route is STANDARD):
            broken.append("second cancel")
        deleted = [target for op, target in writes if op == "delete_fulfillment"]
        if len(deleted) != len(set(deleted)):
            broken.append("fulfilment deleted twice")
        if cancels and not self.fulfillments <= {t for op, t in writes[: cancels[0]] if op == "delete_fulfillment"}:
            broken.append("cancel before every fulfilment was deleted")
        return broken

    def after_outcome(self, status: OutcomeStatus, reference: str | None) -> list[str]:
        """Return the rules a call's outcome breaks, checked as it returns."""
        if self.case.route is not STANDARD or reference is None:
            return []
        self.references.add(reference)
        tagged = [r for r in self.fake.refunds[self.order_id] if _tag_of(r) == reference]
        broken = []
        if status is OutcomeStatus.COMPLETED and not any(_live(r) for r in tagged):
            broken.append("COMPLETED without its tagged refund")
        done = status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE)
        if self.partial is not None and done and sum((_counted(r) for r in tagged), Decimal(0)) != self.partial:
            broken.append("tagged refunds differ from the amount asked")
        return broken

    def done_once(self, finished: bool = True) -> list[str]:
        """Return the rules the order breaks once everything is over.

        ``finished`` is False when the caller stopped as the library told it to (an unknown
        outcome that is not safe to re-run, or a re-run that fails closed where Wix lists no
        reasons): then only the rules that hold at every moment apply.
        """
        broken = self.never_twice()
        if not finished:
            return broken
        if self.case.route is STANDARD:
            ours = sum((_counted(r) for r in self.fake.refunds[self.order_id] if self._ours(r)), Decimal(0))
            if ours != self._asked():
                broken.append("tagged refunds differ from the amount asked")
        elif self.fake.orders[self.order_id]["status"] != "CANCELED" or self.fake.fulfillments[self.order_id]:
            broken.append("clean re-run did not end cancelled")
        return broken


@attrs.define
class Result:
    """What one schedule drew, met and broke."""

    index: int
    label: str
    families: set[str] = attrs.Factory(set)
    faults: Counter[str] = attrs.Factory(Counter)
    errors: Counter[str] = attrs.Factory(Counter)
    broken: list[str] = attrs.Factory(list)
    trace: list[str] = attrs.Factory(list)


class InProcess:
    """One in-process schedule: attempts with faults, then a clean re-run."""

    def __init__(
        self,
        index: int,
        rng: random.Random,
        late_share: float,
        skip: frozenset[str] = frozenset(),
        cases: list[str] | None = None,
    ) -> None:
        self.rng = rng
        name = rng.choice(cases or list(SOAK_CASES))
        self.case = SOAK_CASES[name]
        self.kind = rng.choice(KINDS)
        standard = self.case.route is STANDARD
        self.late = rng.random() < late_share
        self.enabled = {
            "transport": rng.random() < 0.7,
            "server": rng.random() < 0.45,
            "hidden": standard and not self.late and rng.random() < 0.3,
            "foreign": self.case.foreign_room > 0 and rng.random() < 0.35,
            "decline": standard and rng.random() < 0.25,
            "late": self.late,
        }
        for family in skip:
            self.enabled[family] = False
        reasonless = standard and rng.random() < 0.08 and "reasonless" not in skip
        self.fake = FakeWix(seed=rng.randrange(1 << 30), list_reasons=not reasonless)
        self.order_id = self.fake.add_order(**self.case.order)
        self.watch = Watch(self.fake, self.order_id, self.case)
        self.reference = None if self.case.request is None else self.case.request.reference
        self.foreign_left = self.case.foreign_room
        self.result = Result(index, f"{name}/{self.kind}")
        if reasonless:
            self.result.families.add("reasonless")
            self.result.trace.append("listings without reasons")
        if standard:
            self.writes = [("POST", REFUND)]
        else:
            self.writes = [("POST", CANCEL)] + ([("DELETE", DELETE)] if self.watch.fulfillments else [])

    def policy(self) -> RetryPolicy:
        return RetryPolicy(**_soak_worker.REAL_POLICY) if self.late else fast_policy(Sleeps())

    def request(self) -> RefundRequest:
        return attrs.evolve(self.case.request or RefundRequest(), reference=self.reference)

    def drew(self, family: str, fault: str) -> None:
        self.result.families.add(family)
        self.result.faults[fault] += 1
        self.result.trace.append(fault)

    def later(self) -> None:
        """Let time pass: late writes land, lagging listings catch up, 'later' declines fail."""
        self.fake.clear_faults()
        self.fake.settle()
        headers = {"authorization": self.fake.api_key, "wix-site-id": self.fake.site_id}
        for _ in range(MAX_HIDDEN_READS + 1):
            self.fake.handle("GET", f"/ecom/v1/payments/orders/{self.order_id}", headers, b"")

    def script(self) -> ScriptedTransport | None:
        """Script this attempt's faults on the fake; return the transport's script, if any."""
        rng, fake = self.rng, self.fake
        fake.clear_faults()
        fake.decline = None
        on = self.enabled
        if on["decline"] and rng.random() < 0.6:
            fake.decline = rng.choice(["now", "later"])
            self.drew("decline", f"decline {fake.decline}")
        if on["server"] and rng.random() < 0.7:
            for _ in range(rng.randint(1, 2)):
                method, path = rng.choice(self.writes + READS)
                what = rng.choice(["fail", "lose", "refuse"])
                if what == "fail":
                    status = rng.choice([503, 503, 500, 429, 428, 404])
                    fake.fail_next(method, path, status, times=rng.randint(1, 3))
                    what = f"fail {status}"
                elif what == "lose":
                    fake.lose_response_next(method, path, times=rng.randint(1, 2))
                else:
                    fake.refuse_connections(times=rng.randint(1, 3), method=method, path=path)
                self.drew("server", f"server {what} {method}")
        if on["hidden"] and rng.random() < 0.6:
            fake.hide_new_refund_next(reads=rng.randint(1, MAX_HIDDEN_READS))
            self.drew("hidden", "hidden")
        if on["foreign"] and rng.random() < 0.6:
            self.foreign()
        if on["late"] and rng.random() < 0.8:
            method, path = rng.choice(self.writes)
            fake.apply_late_next(method, path, after=rng.uniform(0.05, 0.3))
            self.drew("late", f"late {method}")
        if not (on["transport"] and rng.random() < 0.7):
            return None
        faults = TRANSPORT_FAULTS
        if self.reference is None and self.watch.partial is not None:
            faults = [f for f in faults if not f.startswith("crash")]
        reads = [rng.choice(faults) for _ in range(rng.randint(0, 6))]
        writes = [rng.choice(faults) for _ in range(rng.randint(1, 4))]
        self.result.trace.append(f"reads {reads} writes {writes}")
        if rng.random() < 0.25:
            outage = rng.randint(3, 8)
            self.drew("transport", "transport outage")
            self.result.trace.append(f"then {outage} reads fail")
            return OutageTransport(fake, reads, writes=writes, outage=outage)
        self.drew("transport", "transport script")
        return ScriptedTransport(fake, reads, writes=writes)

    def foreign(self) -> None:
        rng = self.rng
        asked = self.watch.partial or Decimal(0)
        amounts = [a for a in (Decimal(5), Decimal(10), Decimal(15), asked) if 0 < a <= self.foreign_left]
        if not amounts:
            return
        amount = rng.choice(amounts)
        self.foreign_left -= amount
        how = rng.choice(["before refund", "before read", "now"])
        if how == "before refund":
            self.fake.foreign_refund_next("POST", REFUND, amount)
        elif how == "before read":
            self.fake.foreign_refund_next("GET", TRANSACTIONS, amount)
        else:
            reasons: list[str | None] = [None, "dashboard refund [ref:someone-else]"]
            if self.reference:
                reasons += [f"goodwill [ref:{self.reference}] extra", f"x[ref:x{self.reference}]"]
            self.fake.add_foreign_refund(self.order_id, amount, reason=rng.choice(reasons))
        self.drew("foreign", f"foreign {how}")

    def attempt(self, transport: ScriptedTransport | None) -> str:
        """Run one call; return 'done', 'error' or 'crash'."""
        try:
            outcome = run_refund(
                self.kind, self.fake, self.order_id, self.request(), transport=transport, policy=self.policy()
            )
        except Crash:
            self.result.trace.append("crash")
            return "crash"
        except WixRefundError as exc:
            self.result.errors[type(exc).__name__] += 1
            self.result.trace.append(f"{type(exc).__name__}: {str(exc)[:300]}")
            self.reference = getattr(exc, "reference", None) or self.reference
            if self.reference and self.case.route is STANDARD:
                self.watch.references.add(self.reference)
            if isinstance(exc, WixOutcomeUnknown) and not exc.rerun_safe:
                # The library says a re-run could not recognise the refund: the caller
                # checks Wix (a person) instead of running again.
                self.result.trace.append("stop: the error says a re-run is not safe")
                return "stop"
            return "error"
        self.result.trace.append(f"{outcome.status.value} ref {outcome.reference}")
        self.result.broken += self.watch.after_outcome(outcome.status, outcome.reference)
        self.reference = outcome.reference or self.reference
        return "done"

    def run(self) -> Result:
        ended = "error"
        for _ in range(self.rng.randint(1, 4)):
            if ended == "stop":
                break
            if ended != "error":
                if ended == "done" and not self.fake.list_reasons and self.watch.partial is not None:
                    break
                self.later()
            ended = self.attempt(self.script())
            self.result.broken += self.watch.never_twice()
        self.fake.clear_faults()
        self.fake.decline = None
        finished = ended != "stop"
        skip = not finished or (ended == "done" and not self.fake.list_reasons and self.watch.partial is not None)
        if not skip:
            if ended != "error":
                self.later()
            self.result.trace.append("clean re-run")
            finished = self.clean_rerun(self.fake, self.kind)
        self.fake.settle()
        self.result.broken += self.watch.done_once(finished)
        return self.result

    def clean_rerun(self, fake: FakeWix, kind: str, **kwargs: Any) -> bool:
        """Run once more without faults; return whether it ended (False: it failed closed, as allowed).

        ``kwargs`` go to ``refund_order``: the multi-process schedules pass their journal.
        """
        try:
            outcome = run_refund(kind, fake, self.order_id, self.request(), policy=fast_policy(Sleeps()), **kwargs)
        except WixRefundError as exc:
            self.result.trace.append(f"clean re-run raised {type(exc).__name__}: {exc}")
            fails_closed = isinstance(exc, WixOutcomeUnknown) and not exc.rerun_safe
            if fake.list_reasons and not fails_closed:
                self.result.broken.append(f"clean re-run raised {type(exc).__name__}")
            # Where Wix lists no reasons a re-run cannot see its tag and may fail closed
            # (a refusal moves no money): the rules that hold at every moment still apply.
            return False
        self.result.trace.append(f"clean re-run {outcome.status.value}")
        self.result.broken += self.watch.after_outcome(outcome.status, outcome.reference)
        return True


MP_FAULTS = ["none", "lose", "late", "fail write", "fail read", "refuse read"]


class MultiProcess(InProcess):
    """2-4 worker processes refund one served order with one request and reference, on one journal."""

    family = "processes"

    def __init__(
        self,
        index: int,
        rng: random.Random,
        pool: multiprocessing.pool.Pool,
        state_dir: str,
        broken: str | None,
        cases: list[str] | None = None,
    ) -> None:
        super().__init__(index, rng, late_share=0.0, cases=cases)
        self.pool = pool
        # One journal file (and its lock folder) per schedule, shared by its workers.
        self.journal = f"{state_dir}/{index}.sqlite3"
        self.lock_dir = f"{state_dir}/{index}.locks"
        self.pid_file = f"{state_dir}/{index}.pid"
        self.broken = broken
        # Every worker must read the tags: reasonless listings are the in-process schedules' part.
        self.fake.list_reasons = True
        self.result.families = {self.family}
        self.result.trace.clear()
        if self.case.route is STANDARD and self.reference is None:
            self.reference = f"mp-{index}"
        if self.reference is not None:
            # A killed worker reports nothing: the books know its reference from the start.
            self.watch.references.add(self.reference)
        self.workers = rng.randint(2, 4)
        self.result.label = f"{self.result.label.split('/')[0]}/{self.workers} processes"

    def task(self, url: str, **changes: Any) -> dict[str, Any]:
        """Return a worker's task: refund this schedule's order over ``url`` on its journal."""
        fake = self.fake
        return {
            "kind": "sync",
            "timeout": 15.0,
            "url": url,
            "credentials": {"api_key": fake.api_key, "account_id": fake.account_id, "site_id": fake.site_id},
            "order_id": self.order_id,
            "request": self.request(),
            "journal": self.journal,
            "lock_dir": self.lock_dir,
            "pid_file": self.pid_file,
            "settle": _soak_worker.REAL_POLICY["settle"],
            "start_at": time.time() + 0.03,
            **changes,
        }

    def took(self, answer: tuple[str | None, str | None, str | None, str]) -> bool:
        """Check one worker's answer against the books; return whether it raised."""
        status, error, reference, message = answer
        self.result.trace.append(f"worker: {status or error} ref {reference} {message[:200]}")
        if error is None:
            self.result.broken += self.watch.after_outcome(OutcomeStatus(status), reference)
            return False
        self.result.errors[error] += 1
        if error.startswith("untyped"):
            self.result.broken.append(f"{error} in a worker")
        return True

    def converge(self) -> None:
        """Late writes land, listings catch up, and a clean re-run on the schedule's journal ends it."""
        fake = self.fake
        fake.clear_faults()
        fake.lag_listing(0)
        fake.settle()
        self.later()
        self.result.trace.append("clean re-run")
        # The parent is one more process on the journal; a broken set-up's parent knows nothing.
        if self.broken in ("journal", "locks"):
            self.clean_rerun(fake, "sync")
        else:
            self.clean_rerun(fake, "sync", journal=SqliteJournal(self.journal))
        fake.settle()
        self.result.broken += self.watch.done_once()

    def run(self) -> Result:
        rng, fake = self.rng, self.fake
        fault = rng.choice(MP_FAULTS)
        method, path = rng.choice(self.writes)
        if fault == "lose":
            fake.lose_response_next(method, path)
        elif fault == "late":
            fake.apply_late_next(method, path, after=rng.uniform(0.05, 0.3))
        elif fault == "fail write":
            fake.fail_next(method, path, 503)
        elif fault == "fail read":
            fake.fail_next(*rng.choice(READS), 503, times=rng.randint(1, 3))
        elif fault == "refuse read":
            fake.refuse_connections(times=rng.randint(1, 3), method="GET")
        self.result.faults[f"processes {fault}"] += 1
        self.result.trace.append(f"{self.workers} workers, {fault}")
        with fake.serve() as url:
            timeout = rng.choice([15.0, 15.0, 0.2])
            self.result.trace.append(f"client timeout {timeout} s")
            pending = [
                self.pool.apply_async(_soak_worker.refund, (self.task(url, kind=rng.choice(KINDS), timeout=timeout),))
                for _ in range(self.workers)
            ]
            for waiting in pending:
                self.took(waiting.get(timeout=120))
        self.result.broken += self.watch.never_twice()
        self.converge()
        return self.result


RERUN_FAULTS = ["in flight", "killed in flight", "lag", "lag, lost answer"]
# The re-run family's settle window (real seconds): every late write lands within it.
RERUN_SETTLE = 1.5
LATE_AFTER = (0.1, 0.6)


class Rerun(MultiProcess):
    """A standard refund run again by another process while the first one's write may still land.

    ``in flight``: Wix commits the first worker's refund 0.1-0.6 s after taking it (its answer
    lost); as soon as Wix has taken it, 1-2 other workers run the same request. The first
    worker waits for its answer (client timeout 15 s) or gives up at once (0.2 s).
    ``killed in flight``: the same, and the first worker is killed with SIGKILL as soon as
    Wix has taken its write; the re-runs start at once. ``lag``: listings lag 0.5-2 s behind
    committed refunds; once the first worker is COMPLETED, 1-2 re-runs follow 0-0.4 s apart.
    ``lag, lost answer``: the same with the first answer lost and a lag of 0.3-1 s (within
    the settle window, which no listing may outlast). Every worker's settle window is
    ``RERUN_SETTLE`` wall-clock seconds, as the first one's journal entry records.
    """

    family = "rerun"

    def run(self) -> Result:
        rng, fake = self.rng, self.fake
        fault = rng.choice(RERUN_FAULTS)
        reruns = rng.randint(1, 2)
        self.result.faults[f"rerun {fault}"] += 1
        if fault.startswith("lag"):
            lag = rng.uniform(0.5, 2.0) if fault == "lag" else rng.uniform(0.3, 1.0)
            fake.lag_listing(lag)
            if fault == "lag, lost answer":
                fake.lose_response_next("POST", REFUND)
            self.result.trace.append(f"{fault}: listings lag {lag:.2f} s; {reruns} re-runs")
        else:
            after = rng.uniform(*LATE_AFTER)
            fake.apply_late_next("POST", REFUND, after=after)
            self.result.trace.append(f"{fault}: the first write commits {after:.2f} s late; {reruns} re-runs")
        with fake.serve() as url:
            timeout = rng.choice([15.0, 0.2]) if fault == "in flight" else 15.0
            first = self.pool.apply_async(
                _soak_worker.refund,
                (self.task(url, kind=rng.choice(KINDS), timeout=timeout, settle=RERUN_SETTLE, start_at=0),),
            )
            if fault.startswith("lag"):
                self.took(first.get(timeout=120))
                for _ in range(reruns):
                    time.sleep(rng.uniform(0.0, 0.4))
                    task = self.task(url, kind=rng.choice(KINDS), settle=RERUN_SETTLE, start_at=0)
                    self.took(self.pool.apply_async(_soak_worker.refund, (task,)).get(timeout=120))
            else:
                self.in_flight(url, first, fault == "killed in flight", reruns, timeout)
        self.result.broken += self.watch.never_twice()
        self.converge()
        return self.result

    def in_flight(
        self, url: str, first: multiprocessing.pool.AsyncResult[Any], kill: bool, reruns: int, timeout: float
    ) -> None:
        """Start the re-runs as soon as Wix has taken the first write (killing its sender first if ``kill``)."""
        rng, fake = self.rng, self.fake
        self.result.trace.append(f"first client timeout {timeout} s")
        deadline = time.monotonic() + 60
        while not fake.calls(method="POST", path=REFUND):
            if time.monotonic() > deadline or first.ready():
                self.result.trace.append("the first worker never reached the write")
                break
            time.sleep(0.002)
        if kill and not first.ready():
            os.kill(int(Path(self.pid_file).read_text()), signal.SIGKILL)
            self.result.trace.append("first worker killed (SIGKILL)")
        pending = [
            self.pool.apply_async(
                _soak_worker.refund, (self.task(url, kind=rng.choice(KINDS), settle=RERUN_SETTLE, start_at=0),)
            )
            for _ in range(reruns)
        ]
        for waiting in pending:
            self.took(waiting.get(timeout=120))
        if not kill:
            self.took(first.get(timeout=120))


STANDARD_CASES = [name for name, case in SOAK_CASES.items() if case.route is STANDARD]


def one(index: int, seed: int, args: argparse.Namespace, pool: Any, state_dir: str) -> Result:
    """Run schedule ``index``; its draws depend only on (seed, index), so it can be replayed alone."""
    rng = random.Random(f"{seed}/{index}")
    skip = frozenset(args.skip)
    multi = rng.random() < args.processes_share and "processes" not in skip
    late_share = 0.0 if "late" in skip else args.late_share
    # Drawn apart, so that the other schedules of a seed stay what they were before this family.
    rerun = random.Random(f"{seed}/{index}/rerun").random() < args.rerun_share and "rerun" not in skip
    schedule: InProcess
    if rerun:
        schedule = Rerun(index, rng, pool(), state_dir, args.broken, cases=STANDARD_CASES)
    elif multi:
        schedule = MultiProcess(index, rng, pool(), state_dir, args.broken)
    else:
        schedule = InProcess(index, rng, late_share, skip)
    try:
        result = schedule.run()
    except Exception as exc:  # an untyped failure from the library is a finding, never hidden
        schedule.result.broken.append(f"untyped {type(exc).__name__}")
        schedule.result.trace.append(f"untyped {type(exc).__name__}: {exc}")
        result = schedule.result
    result.broken = sorted(set(result.broken))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes-share", type=float, default=0.02, help="share of multi-process schedules")
    parser.add_argument(
        "--rerun-share", type=float, default=0.02, help="share of re-runs by another process (write in flight, lag)"
    )
    parser.add_argument("--late-share", type=float, default=0.02, help="share of late-write (real time) schedules")
    parser.add_argument("--skip", action="append", default=[], choices=FAMILIES, help="draw no faults of this family")
    parser.add_argument(
        "--break", dest="broken", choices=["settle", "journal", "locks"], help="break the library on purpose"
    )
    parser.add_argument("--show", type=int, default=3, help="print this many violating schedules")
    parser.add_argument("--only", type=int, help="run only this schedule index and print its trace")
    args = parser.parse_args()
    _soak_worker.apply_break(args.broken)
    workers: list[multiprocessing.pool.Pool] = []

    def pool() -> multiprocessing.pool.Pool:
        if not workers:
            context = multiprocessing.get_context("spawn")
            workers.append(context.Pool(4, initializer=_soak_worker.init, initargs=(args.broken,)))
        return workers[0]

    indexes = [args.only] if args.only is not None else range(args.schedules)
    families: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    violations: Counter[str] = Counter()
    violating_families: Counter[str] = Counter()
    shown: list[Result] = []
    violating: list[int] = []
    seconds: Counter[str] = Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="soak-journals-") as state_dir:
        try:
            for index in indexes:
                began = time.perf_counter()
                result = one(index, args.seed, args, pool, state_dir)
                where = "in-process"
                if result.families & {"processes", "rerun"}:
                    where = "re-run" if "rerun" in result.families else "multi-process"
                seconds[where] += time.perf_counter() - began
                families.update(result.families | {where})
                faults.update(result.faults)
                errors.update(result.errors)
                violations.update(result.broken)
                if result.broken:
                    violating_families.update(result.families)
                    violating.append(result.index)
                    if len(shown) < args.show:
                        shown.append(result)
                if args.only is not None:
                    shown = [result]
        finally:
            # A worker killed mid-task leaves its task unanswered, which close() would wait for.
            for p in workers:
                p.terminate()
                p.join()
    elapsed = time.perf_counter() - started
    count = len(indexes)
    print(f"machine: {machine()}")
    broke = f", library broken on purpose: --break {args.broken}" if args.broken else ""
    print(f"schedules: {count} (seed {args.seed}{broke})")
    print(
        f"  in-process {families['in-process']} ({seconds['in-process']:.1f} s), "
        f"multi-process {families['multi-process']} ({seconds['multi-process']:.1f} s), "
        f"re-run by another process {families['re-run']} ({seconds['re-run']:.1f} s)"
    )
    print("fault families (schedules drawing each): " + _line(families, skip={"in-process", "multi-process", "re-run"}))
    print("faults drawn: " + _line(faults))
    print("typed errors (not violations by themselves): " + _line(errors))
    total = sum(violations.values())
    print(f"violations: {total} (goal 0){': ' + _line(violations) if total else ''}")
    if total:
        listed = ", ".join(map(str, violating[:20])) + (", ..." if len(violating) > 20 else "")
        print(f"  in {len(violating)} schedules (replay one with --only INDEX): {listed}")
        print("  families in violating schedules: " + _line(violating_families))
    for result in shown:
        print(f"  schedule {result.index} {result.label}: {', '.join(result.broken) or 'no violation'}")
        for step in result.trace:
            print(f"    {step}")
    print(f"total: {elapsed:.1f} s ({count / elapsed:.0f} schedules/s)")


def _line(counts: Counter[str], skip: set[str] | None = None) -> str:
    items = [
        f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if name not in (skip or ())
    ]
    return ", ".join(items) or "none"


if __name__ == "__main__":
    main()
