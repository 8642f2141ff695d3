"""_Run: one refund's observe, decide, act loop, as a generator that does no I/O.

``_Run.flow`` yields the Wix calls it needs (a call, reads to send side by side, or a
wait) and receives their answers; ``_execute``'s drivers, sync and async, only send
what it asks and differ only where they await.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, Union

import attrs

from ..client._log import log_event
from ..client._tracing import Span, span
from ..core._actions import (
    DeleteOne,
    Failure,
    Finish,
    ItemsAsked,
    Observed,
    Progress,
    Read,
    Refund,
    Shared,
    Wait,
    Write,
)
from ..core._decide import decide_refund
from ..core._engine import next_action, payment_status_after, reads_for, stale, tagged_refunds
from ..core._errors import WixAPIError, WixRefundError
from ..core._failures import after_failure, after_read_failure, may_still_land, on_failure
from ..core._orders import Fulfillment, RefundRecord, RefundStatus
from ..core._outcome import OutcomeStatus, RefundOutcome, StepRecord, books_of
from ..core._references import new_reference
from ..core._request import RefundRequest
from ..core._routing import ROUTES, RefundPlan
from ..journal._journal import EntryState, asked_of, record_to_text
from ..wix import _wire
from ._run_journal import JournalAsk, LoadEntries, RunJournal
from ._speculate import Together, first_reads, speculated

# A bound on the loop: each fulfilment delete, one cancel or refund, and the re-reads
# that a few lost answers and a settle window cause. Reaching it means Wix does not converge.
_MAX_ACTIONS = 250


# What the flow asks of its driver: send a Wix call, send reads side by side (answered
# as a tuple in the same order; ``Together``: each failure is an answer), wait before
# reading again, or use the journal.
_Ask = Union[_wire.WireCall[Any], tuple[_wire.WireCall[Any], ...], Together, Wait, JournalAsk]


class _Run:
    """The state of one refund while it runs: its plan, what it saw and what it did."""

    def __init__(
        self,
        order_id: str,
        request: RefundRequest | None,
        *,
        dry_run: bool,
        cutoff: datetime,
        settle: float,
        context: Any = None,
        clock: Callable[[], float] = time.monotonic,
        parallel: bool = False,
        speculate: bool = False,
    ) -> None:
        _wire.check_id(order_id, field="order_id")
        self.order_id = order_id
        self.asked = request
        self.context = context
        self.request = request or RefundRequest()
        self.reference = self.request.reference or new_reference()
        self.cutoff = cutoff
        self.clock = clock
        self.plan: RefundPlan | None = None
        self.progress = Progress(reference=self.reference, dry_run=dry_run, settle=settle)
        # A record of each write (the outcome's ``steps``).
        self.records: list[StepRecord] = []
        self.deleted: list[Fulfillment] = []
        self.deleting: dict[str, Fulfillment] = {}
        self.unknown_since: float | None = None
        self.waited = 0.0
        self.journal = RunJournal(order_id, self.reference, asked_of(self.request))
        self.slept = 0.0
        # Whether the driver may send two reads at once (the async one), and whether to read a
        # standard refund's transactions and refundability with the order, before the route is known.
        self.parallel, self.speculate = parallel, parallel and speculate
        # What a batch's shared reads showed of the order, when (self.clock), and for how long.
        self.shared: Shared | None = None

    def seed(self, shared: Observed, *, at: float, max_age: float) -> None:
        """Start from what a batch read at ``at`` (the order, and maybe transactions or fulfilments)."""
        self.shared = Shared(seen=shared, at=at, max_age=max_age)

    def _forget_stale(self) -> bool:
        """Forget the batch's reads once too old to write on (``stale``); return whether a part relied on them."""
        old = stale(self.progress.seen, self.shared, self.clock())
        if old is None:
            return False
        shared, self.shared = self.shared, None
        assert shared is not None
        if not old:
            return False
        log_event(
            logging.DEBUG,
            "order %s: the batch read %s %.1fs ago, more than %gs: reading again before writing",
            self.order_id,
            ", ".join(old),
            self.clock() - shared.at,
            shared.max_age,
            order_id=self.order_id,
            reference=self.reference,
        )
        self._seen(**dict.fromkeys(old))
        return True

    def _record(self, call: _wire.WireCall[Any], action: Write, attempts: int, result: str) -> None:
        amount = outside = None
        if isinstance(action, Refund):
            amount = action.amount
            outside = sum((p.amount for p in action.payment_refunds if p.external and p.amount), Decimal(0))
        target = call.target or self.order_id
        self.records.append(
            StepRecord(
                action=action.kind,
                target=target,
                attempts=attempts,
                result=result,
                amount=amount,
                outside_wix=outside,
            )
        )
        route = None if self.plan is None else self.plan.route.value
        log_event(
            logging.INFO,
            "order %s route %s: %s %s -> %s (attempts %d)",
            self.order_id,
            route,
            action.kind,
            target,
            result,
            attempts,
            order_id=self.order_id,
            route=route,
            step=action.kind,
            attempt=attempts,
            reference=self.reference,
        )

    def _read_call(self, what: str) -> _wire.WireCall[Any]:
        if what == "calculation":
            request = self.request
            items = ItemsAsked(items=request.items, shipping=request.shipping, fees=request.fees)
            order = self.progress.seen.order
            return _wire.calculate_refund(self.order_id, items, currency=None if order is None else order.currency)
        reads: dict[str, Callable[[str], _wire.WireCall[Any]]] = {
            "order": _wire.get_order,
            "fulfillments": _wire.list_fulfillments,
            "transactions": _wire.list_transactions,
            "refundability": _wire.get_refundability,
        }
        return reads[what](self.order_id)

    def _saw(self, what: str, value: Any) -> None:
        """Keep what a read returned (the refundability answer holds payments and items)."""
        if what == "refundability":
            self._seen(refundability=value.payments, availability=value.items)
            return
        self._seen(**{what: value})
        if what == "fulfillments":
            self._gone(value)

    def _write_call(self, action: Write) -> _wire.WireCall[Any]:
        order = self.progress.seen.order
        return _wire.write_call(self.order_id, action, currency=None if order is None else order.currency)

    def _seen(self, **parts: Any) -> None:
        self.progress = attrs.evolve(self.progress, seen=attrs.evolve(self.progress.seen, **parts))

    def _gone(self, remaining: tuple[Fulfillment, ...]) -> None:
        """Move the fulfilments this run deleted (or tried to) and that are now gone into ``deleted``."""
        listed = {f.id for f in remaining}
        for fid in [fid for fid in self.deleting if fid not in listed]:
            self.deleted.append(self.deleting.pop(fid))

    def flow(self) -> Generator[_Ask, Any, RefundOutcome]:
        """Yield the Wix calls (and settle waits) the refund needs; return its outcome."""
        # A batch's shared reads are planned from only while fresh (``Shared.fresh``).
        if self.shared is not None and (self.shared.seen.order is None or not self.shared.fresh(self.clock())):
            self.shared = None
        order = None if self.shared is None else self.shared.seen.order
        speculative: dict[str, Any] = {}
        if order is None:
            # In parallel, a standard refund's other reads go out with the order's (``_speculate``).
            order, speculative = yield from first_reads(self.order_id, speculate=self.speculate)
        self.plan = decide_refund(order, self.request, cutoff=self.cutoff)
        self._seen(order=order)
        if self.shared is not None:
            self._seen(transactions=self.shared.seen.transactions, fulfillments=self.shared.seen.fulfillments)
        for what, value in speculated(self.plan, speculative).items():
            self._saw(what, value)
        if ROUTES[self.plan.route].tagged and not self.progress.dry_run:
            entries, now = yield LoadEntries()
            self.journal.load(entries, now, at=self.clock(), slept=self.slept, currency=order.currency)
        for _ in range(_MAX_ACTIONS):
            if self.unknown_since is not None:
                self.progress = attrs.evolve(self.progress, unknown_for=self._unknown_for())
            # How long ago each write the journal holds was sent, as of now.
            in_flight, unconfirmed = self.journal.view(at=self.clock(), slept=self.slept)
            self.progress = attrs.evolve(self.progress, in_flight=in_flight, unconfirmed=unconfirmed)
            action = next_action(self.plan, self.progress)
            if isinstance(action, Finish):
                if action.planned is not None:
                    self._record(self._write_call(action.planned), action.planned, 0, "planned (dry run)")
                    return self.outcome(OutcomeStatus.DRY_RUN)
                yield from self.journal.settle_listed(self.progress.seen.transactions)
                return self.outcome(self._finished_status())
            if isinstance(action, Wait):
                yield from self._wait(action.seconds)
                continue
            if isinstance(action, Read):
                whats = reads_for(action, self.plan, self.progress, parallel=self.parallel)
                try:
                    if len(whats) == 1:
                        answers: tuple[Any, ...] = ((yield self._read_call(action.what)),)
                    else:
                        answers = yield tuple(self._read_call(what) for what in whats)
                except WixRefundError as exc:
                    wait = after_read_failure(self.plan, self.progress, exc, self._unknown_for())
                    yield from self._wait(wait.seconds)
                    continue
                for what, answer in zip(whats, answers):
                    self._saw(what, answer.value)
                continue
            if self._forget_stale():
                continue
            yield from self._write(action)
        raise WixRefundError(f"order {self.order_id}: Wix did not settle after {_MAX_ACTIONS} actions")

    def _wait(self, seconds: float) -> Generator[_Ask, Any, None]:
        """Wait ``seconds`` in the settle window, then forget the transactions (they are read again)."""
        yield Wait(seconds)
        self.waited += seconds
        self.slept += seconds
        # What is left to refund may have moved meanwhile: read it again before any write.
        self._seen(transactions=None, refundability=None, availability=None, calculation=None)
        self.progress = attrs.evolve(self.progress, settle_reads=self.progress.settle_reads + 1)

    def _unknown_for(self) -> float | None:
        """Return how long this call's refund has been of unknown outcome (None: it is not)."""
        if self.unknown_since is None:
            return None
        # Wait times count even when a test's sleep does not really sleep.
        return max(self.clock() - self.unknown_since, self.waited)

    def _write(self, action: Write) -> Generator[_Ask, Any, None]:
        call = self._write_call(action)
        if isinstance(action, Refund):
            before = self.progress.before
            if before is None and self.progress.seen.transactions is not None:
                before = frozenset(r.id for r in self.progress.seen.transactions.refunds)
            self.progress = attrs.evolve(self.progress, sent=action, before=before)
            # The intent is durable before the write leaves (others' landed writes settled first).
            yield from self.journal.settle_listed(self.progress.seen.transactions)
            self.journal.intended((yield self.journal.intend(self.progress.settle)))
        if isinstance(action, DeleteOne):
            seen = {f.id: f for f in self.progress.seen.fulfillments or ()}
            if action.fulfillment_id in seen:
                self.deleting[action.fulfillment_id] = seen[action.fulfillment_id]
        try:
            sent = yield call
        except WixRefundError as exc:
            if isinstance(action, Refund) and not may_still_land(exc):
                # Wix answered, or never had it: nothing of this write will land.
                yield self.journal.ended(EntryState.REFUSED, error=f"{type(exc).__name__}: {exc}")
            row = on_failure(action, exc)
            if row is None:
                raise
            self._record(call, action, exc.attempts, f"{row.says}; re-reading")
            if row.then == "settle":
                self.unknown_since, self.waited = self.clock(), 0.0
            self.progress = after_failure(self.progress, Failure(action=action, error=exc))
            return
        self.progress = attrs.evolve(self.progress, wrote=True)
        self._record(call, action, sent.attempts, "done")
        shows = _wire.WRITE_CALLS[action.kind].shows
        if shows is not None:
            # Wix answers with what the write changed (the fulfilments left, the order): keep it.
            self._saw(shows, sent.value)
            return
        self.progress = attrs.evolve(self.progress, answer=sent.value.refund)
        refund = sent.value.refund
        if any(i.restock_quantity for i in self.request.items):
            # What Wix restocked is on the order: read it again before saying. If that
            # read fails, the refund still stands; the outcome then names no restock.
            with contextlib.suppress(WixRefundError):
                self._seen(order=(yield _wire.get_order(self.order_id)).value)
        yield self.journal.ended(EntryState.SETTLED, refund_id=refund.id, answer=record_to_text(refund))
        if sent.value.transactions is not None:
            self._seen(transactions=sent.value.transactions)

    def _finished_status(self) -> OutcomeStatus:
        """Return how a finished run ended: PENDING while any part of its refund is unsettled on Wix."""
        settled = (RefundStatus.SUCCEEDED, RefundStatus.FAILED)
        if any(t.status not in settled for refund in self._own_refunds() for t in refund.transactions):
            return OutcomeStatus.PENDING
        return OutcomeStatus.COMPLETED if self.progress.wrote else OutcomeStatus.ALREADY_DONE

    def _own_refunds(self) -> list[RefundRecord]:
        """Return this reference's refunds: those Wix lists, and Wix's answers it does not list yet."""
        if self.plan is None or not ROUTES[self.plan.route].tagged:
            return []
        transactions = self.progress.seen.transactions
        own = [] if transactions is None else tagged_refunds(transactions, self.reference)
        listed = {r.id for r in own}
        # Wix's answer to a write (this run's, or an earlier one's the journal kept) stands
        # for its refund while the listing lags behind it.
        for answer in (self.progress.answer, self.journal.answer()):
            if answer is not None and answer.id not in listed:
                own.append(answer)
                listed.add(answer.id)
        return own

    def outcome(self, status: OutcomeStatus, error: WixRefundError | None = None) -> RefundOutcome:
        """Return the outcome of this run so far."""
        order, transactions = self.progress.seen.order, self.progress.seen.transactions
        own = self._own_refunds()
        moved, outside, refunded_items, restocked = books_of(own, order)
        payment_status = None
        if order is not None:
            payment_status = payment_status_after(order, transactions) if transactions else order.payment_status
        tagged = self.plan is None or ROUTES[self.plan.route].tagged
        return RefundOutcome(
            order_id=self.order_id,
            status=status,
            route=None if self.plan is None else self.plan.route,
            reason=None if self.plan is None else self.plan.reason,
            reference=self.reference if tagged else None,
            request=self.asked,
            context=self.context,
            steps=tuple(self.records),
            refunded=moved,
            refunded_outside_wix=outside,
            currency=None if order is None else order.currency,
            final_status=None if order is None else order.status,
            final_payment_status=payment_status,
            deleted_fulfillments=tuple(self.deleted),
            prices=self.progress.seen.calculation,
            items_refunded=refunded_items,
            items_restocked=restocked,
            error=error,
            plan=self.plan,
        )

    def failed(self, exc: WixRefundError, current: Span) -> None:
        """Give ``exc`` this run's reference (for a re-run) and log it once, at INFO: it is returned or raised."""
        if exc.reference is None and (self.plan is None or ROUTES[self.plan.route].tagged):
            exc.reference = self.reference
        api = exc if isinstance(exc, WixAPIError) else None
        route = None if self.plan is None else self.plan.route.value
        fields: dict[str, Any] = {
            "order_id": self.order_id,
            "route": route,
            "reference": exc.reference,
            "request_id": None if api is None else api.request_id,
            "status": None if api is None else api.status,
        }
        log_event(logging.INFO, "order %s failed: %s", self.order_id, exc, **fields)
        current.set(**fields, outcome="FAILED", error=type(exc).__name__)

    def finished(self, outcome: RefundOutcome, current: Span) -> RefundOutcome:
        """Return ``outcome``, its facts set on the refund's span."""
        current.set(route=outcome.route, reference=outcome.reference, outcome=outcome.status.value)
        return outcome

    @contextmanager
    def traced(self) -> Iterator[Callable[[RefundOutcome], RefundOutcome]]:
        """Trace the run in the span ``refund``; yield the function that records its outcome."""
        with span("refund", order_id=self.order_id) as current:
            try:
                yield lambda outcome: self.finished(outcome, current)
            except WixRefundError as exc:
                self.failed(exc, current)
                raise
