"""refund_order(), refund_order_async() and refund_orders_async(): observe, step, act, repeat.

One generator, ``_Run.flow``, holds the loop; it yields the Wix calls it needs
and receives their answers. The sync and async drivers only send those calls
(the async one awaits), so both behave the same and the same tests cover both.

asyncio is imported inside the async functions: whoever runs them has it loaded
already, and synchronous callers are spared its import time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Generator, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from . import _wire
from ._client import AsyncWixClient, Sent, WixClient
from ._engine import Cancel, DeleteOne, Finish, Observed, Read, Refund, next_action, payment_status_after, refund_goal
from ._errors import WixNotFound, WixOutcomeUnknown, WixPreconditionFailed, WixRefundError
from ._orders import OrderStatus, PaymentStatus, _TextEnum
from ._routing import STANDARD_REFUND_CUTOFF, RefundPlan, RefundRequest, RefundRoute, decide_refund
from ._wire import WireCall

if TYPE_CHECKING:
    import asyncio

__all__ = ["OutcomeStatus", "RefundOutcome", "StepRecord", "refund_order", "refund_order_async", "refund_orders_async"]

log = logging.getLogger("wix_refunds")

# A bound on the loop: each fulfilment delete, one cancel or refund, and the re-reads
# that a few lost answers cause. Reaching it means Wix does not converge.
_MAX_ACTIONS = 250


class OutcomeStatus(_TextEnum):
    """How a refund ended."""

    COMPLETED = "COMPLETED"
    ALREADY_DONE = "ALREADY_DONE"
    DRY_RUN = "DRY_RUN"
    FAILED = "FAILED"


@attrs.frozen(kw_only=True)
class StepRecord:
    """One write the refund made (or, in a dry run, would make)."""

    action: str
    target: str
    attempts: int
    result: str
    amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class RefundOutcome:
    """What ``refund_order`` did to one order."""

    order_id: str
    status: OutcomeStatus
    route: RefundRoute | None = None
    reason: str | None = None
    steps: tuple[StepRecord, ...] = ()
    refunded: Decimal = Decimal(0)
    currency: str | None = None
    final_status: OrderStatus | None = None
    final_payment_status: PaymentStatus | None = None
    error: WixRefundError | None = None
    plan: RefundPlan | None = attrs.field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as plain JSON-ready data."""
        return {
            "order_id": self.order_id,
            "status": self.status.value,
            "route": None if self.route is None else self.route.value,
            "reason": self.reason,
            "steps": [
                {
                    "action": s.action,
                    "target": s.target,
                    "attempts": s.attempts,
                    "result": s.result,
                    "amount": None if s.amount is None else str(s.amount),
                }
                for s in self.steps
            ],
            "refunded": str(self.refunded),
            "currency": self.currency,
            "final_status": None if self.final_status is None else self.final_status.value,
            "final_payment_status": None if self.final_payment_status is None else self.final_payment_status.value,
            "error": None if self.error is None else {"type": type(self.error).__name__, "message": str(self.error)},
            "plan_steps": [] if self.plan is None else [step.describe() for step in self.plan.steps],
        }


class _OrderLocks:
    """One lock per order ID, for threads and tasks alike; entries go when unused."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def _enter(self, order_id: str) -> threading.Lock:
        with self._guard:
            lock, users = self._locks.get(order_id, (threading.Lock(), 0))
            self._locks[order_id] = (lock, users + 1)
            return lock

    def _leave(self, order_id: str) -> None:
        with self._guard:
            lock, users = self._locks[order_id]
            if users == 1:
                del self._locks[order_id]
            else:
                self._locks[order_id] = (lock, users - 1)

    @contextlib.contextmanager
    def hold(self, order_id: str) -> Iterator[None]:
        lock = self._enter(order_id)
        try:
            with lock:
                yield
        finally:
            self._leave(order_id)

    @contextlib.asynccontextmanager
    async def hold_async(self, order_id: str) -> AsyncIterator[None]:
        import asyncio

        lock = self._enter(order_id)
        try:
            delay = 0.001
            # A thread may hold the same order: poll instead of blocking the event loop.
            while not lock.acquire(blocking=False):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            try:
                yield
            finally:
                lock.release()
        finally:
            self._leave(order_id)


_LOCKS = _OrderLocks()


def _read_call(what: str, order_id: str) -> WireCall[Any]:
    reads: dict[str, Callable[[str], WireCall[Any]]] = {
        "order": _wire.get_order,
        "fulfillments": _wire.list_fulfillments,
        "transactions": _wire.list_transactions,
        "refundability": _wire.get_refundability,
    }
    return reads[what](order_id)


class _Run:
    """The state of one refund while it runs: its plan, what it saw and what it did."""

    def __init__(self, order_id: str, request: RefundRequest | None, *, dry_run: bool, cutoff: datetime) -> None:
        _wire.check_id(order_id, field="order_id")
        self.order_id = order_id
        self.request = request or RefundRequest()
        self.dry_run = dry_run
        self.cutoff = cutoff
        self.plan: RefundPlan | None = None
        self.seen = Observed()
        self.steps: list[StepRecord] = []
        self.wrote = False
        self.goal: Decimal | None = None
        self.baseline: Decimal | None = None

    def _record(self, action: str, target: str, attempts: int, result: str, amount: Decimal | None = None) -> None:
        self.steps.append(StepRecord(action=action, target=target, attempts=attempts, result=result, amount=amount))
        route = self.plan.route if self.plan else None
        log.info("order %s route %s: %s %s -> %s (attempts %d)", self.order_id, route, action, target, result, attempts)

    def _write_call(self, action: DeleteOne | Cancel | Refund) -> WireCall[Any]:
        if isinstance(action, DeleteOne):
            return _wire.delete_fulfillment(self.order_id, action.fulfillment_id)
        if isinstance(action, Cancel):
            return _wire.cancel_order(self.order_id, restock=action.restock, notify_customer=action.notify_customer)
        return _wire.refund_payments(
            self.order_id, action.payment_refunds, reason=action.reason, notify_customer=action.notify_customer
        )

    def flow(self) -> Generator[WireCall[Any], Sent, RefundOutcome]:
        """Yield the Wix calls the refund needs; return its outcome."""
        sent = yield _wire.get_order(self.order_id)
        self.seen = Observed(order=sent.value)
        self.plan = decide_refund(sent.value, self.request, cutoff=self.cutoff)
        refused: object = None
        for _ in range(_MAX_ACTIONS):
            action = next_action(self.plan, self.seen, self.goal)
            if isinstance(action, Finish):
                return self.outcome(OutcomeStatus.COMPLETED if self.wrote else OutcomeStatus.ALREADY_DONE)
            if isinstance(action, Read):
                sent = yield _read_call(action.what, self.order_id)
                self.seen = attrs.evolve(self.seen, **{action.what: sent.value})
                if action.what == "transactions" and self.goal is None:
                    self.baseline = sent.value.refunded_total()
                    self.goal = refund_goal(self.plan, sent.value)
                continue
            call = self._write_call(action)
            target = call.target or self.order_id
            amount = action.amount if isinstance(action, Refund) else None
            if self.dry_run:
                self._record(call.operation, target, 0, "planned (dry run)", amount)
                return self.outcome(OutcomeStatus.DRY_RUN)
            try:
                sent = yield call
            except (WixOutcomeUnknown, WixPreconditionFailed, WixNotFound) as exc:
                if isinstance(exc, WixNotFound) and not isinstance(action, DeleteOne):
                    raise
                if isinstance(exc, WixPreconditionFailed):
                    # Never branch on the 428's code: re-read and decide again, but a second
                    # 428 for the same step means Wix will not move.
                    if refused == action:
                        raise
                    refused = action
                result = {WixOutcomeUnknown: "outcome unknown", WixNotFound: "already gone"}.get(
                    type(exc), "refused by Wix"
                )
                self._record(call.operation, target, exc.attempts, f"{result}; re-reading", amount)
                self.wrote = True
                self.seen = Observed()
                continue
            self.wrote = True
            self._record(call.operation, target, sent.attempts, "done", amount)
            if isinstance(action, DeleteOne):
                self.seen = attrs.evolve(self.seen, fulfillments=sent.value)
            elif isinstance(action, Cancel):
                self.seen = attrs.evolve(self.seen, order=sent.value)
            else:
                self.seen = attrs.evolve(self.seen, transactions=sent.value)
        raise WixRefundError(f"order {self.order_id}: Wix did not settle after {_MAX_ACTIONS} steps")

    def outcome(self, status: OutcomeStatus, error: WixRefundError | None = None) -> RefundOutcome:
        """Return the outcome of this run so far."""
        order, transactions = self.seen.order, self.seen.transactions
        refunded = Decimal(0)
        if transactions is not None and self.baseline is not None:
            refunded = transactions.refunded_total() - self.baseline
        payment_status = None
        if order is not None:
            payment_status = payment_status_after(order, transactions) if transactions else order.payment_status
        return RefundOutcome(
            order_id=self.order_id,
            status=status,
            route=None if self.plan is None else self.plan.route,
            reason=None if self.plan is None else self.plan.reason,
            steps=tuple(self.steps),
            refunded=refunded,
            currency=None if order is None else order.currency,
            final_status=None if order is None else order.status,
            final_payment_status=payment_status,
            error=error,
            plan=self.plan,
        )


def _drive(client: WixClient, run: _Run) -> RefundOutcome:
    flow = run.flow()
    try:
        call = next(flow)
        while True:
            try:
                sent = client.send_counted(call)
            except WixRefundError as exc:
                call = flow.throw(exc)
            else:
                call = flow.send(sent)
    except StopIteration as stop:
        outcome: RefundOutcome = stop.value
        return outcome


async def _drive_async(client: AsyncWixClient, run: _Run) -> RefundOutcome:
    flow = run.flow()
    try:
        call = next(flow)
        while True:
            try:
                sent = await client.send_counted(call)
            except WixRefundError as exc:
                call = flow.throw(exc)
            else:
                call = flow.send(sent)
    except StopIteration as stop:
        outcome: RefundOutcome = stop.value
        return outcome


def refund_order(
    client: WixClient,
    order_id: str,
    request: RefundRequest | None = None,
    *,
    dry_run: bool = False,
    cutoff: datetime = STANDARD_REFUND_CUTOFF,
) -> RefundOutcome:
    """Refund one order exactly once and return what was done.

    Safe to run again: every step is decided from what Wix shows, so work
    already done is found (``ALREADY_DONE``) and never repeated. A partial
    refund is recognised across re-runs only when ``request.reference`` is set.

    Raises:
        RefundNotSupported: the rules or Wix's refundability refuse the refund.
        WixNotFound, WixAuthError, WixConnectionError, ...: the typed failure.
    """
    run = _Run(order_id, request, dry_run=dry_run, cutoff=cutoff)
    with _LOCKS.hold(order_id):
        return _drive(client, run)


async def refund_order_async(
    client: AsyncWixClient,
    order_id: str,
    request: RefundRequest | None = None,
    *,
    dry_run: bool = False,
    cutoff: datetime = STANDARD_REFUND_CUTOFF,
) -> RefundOutcome:
    """Refund one order exactly once (the async twin of ``refund_order``)."""
    run = _Run(order_id, request, dry_run=dry_run, cutoff=cutoff)
    async with _LOCKS.hold_async(order_id):
        return await _drive_async(client, run)


async def _outcome_or_failure(
    client: AsyncWixClient, order_id: str, request: RefundRequest | None, dry_run: bool, cutoff: datetime
) -> RefundOutcome:
    try:
        run = _Run(order_id, request, dry_run=dry_run, cutoff=cutoff)
    except WixRefundError as exc:
        return RefundOutcome(order_id=str(order_id), status=OutcomeStatus.FAILED, error=exc)
    try:
        async with _LOCKS.hold_async(order_id):
            return await _drive_async(client, run)
    except WixRefundError as exc:
        log.warning("order %s failed: %s", order_id, exc)
        return run.outcome(OutcomeStatus.FAILED, exc)


async def refund_orders_async(
    client: AsyncWixClient,
    requests: Iterable[tuple[str, RefundRequest | None]] | AsyncIterable[tuple[str, RefundRequest | None]],
    *,
    concurrency: int = 8,
    dry_run: bool = False,
    cutoff: datetime = STANDARD_REFUND_CUTOFF,
) -> AsyncIterator[RefundOutcome]:
    """Refund many orders, ``concurrency`` at a time; yield each outcome as it finishes.

    ``requests`` is read lazily, so memory stays flat however many there are. A
    failed order yields an outcome with status ``FAILED`` and its error; it never
    stops the others. The client's rate limiter keeps the batch under Wix's limit.
    """
    import asyncio

    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if isinstance(requests, AsyncIterable):
        source: AsyncIterator[tuple[str, RefundRequest | None]] = aiter(requests)
    else:
        source = _as_async(iter(requests))
    take = asyncio.Lock()
    results: asyncio.Queue[RefundOutcome | Exception | None] = asyncio.Queue(maxsize=concurrency)

    async def worker() -> None:
        try:
            while True:
                async with take:
                    try:
                        order_id, request = await anext(source)
                    except StopAsyncIteration:
                        break
                await results.put(await _outcome_or_failure(client, order_id, request, dry_run, cutoff))
        except Exception as exc:  # a bug, or the caller's iterator failing: surface it
            await results.put(exc)
        await results.put(None)

    workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    running = len(workers)
    try:
        while running:
            item = await results.get()
            if item is None:
                running -= 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield item
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def _as_async(
    items: Iterator[tuple[str, RefundRequest | None]],
) -> AsyncIterator[tuple[str, RefundRequest | None]]:
    for item in items:
        yield item
