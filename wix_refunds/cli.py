"""The wix-refunds command: parse, call the library, print, exit with a documented code.

Exit codes:
    0  success
    1  some orders failed (or Wix could not be reached)
    2  usage error (bad arguments, a bad CSV, no --yes without a terminal)
    3  credentials missing, malformed or refused by Wix
    4  refund refused by the rules (or by Wix's refundability)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import logging
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, TextIO

import attrs

from ._client import AsyncWixClient, WixClient
from ._credentials import WixCredentials
from ._errors import (
    InvalidCredentials,
    InvalidRequest,
    RefundNotSupported,
    WixAuthError,
    WixRefundError,
)
from ._execute import OutcomeStatus, RefundOutcome, new_reference, refund_order, refund_orders_async
from ._locks import FileLocks, OrderLocks, default_lock_dir
from ._money import format_money
from ._routing import RefundRequest, RefundRoute
from ._version import __version__
from ._wire import DEFAULT_BASE_URL, is_guid

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CREDENTIALS, EXIT_REFUSED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
LOCK_DSN_VARIABLE = "WIX_REFUNDS_LOCK_DSN"


class _InFlight:
    """The refunds this command has started and not seen end: what Ctrl-C must name."""

    def __init__(self) -> None:
        self.orders: dict[str, str | None] = {}

    def start(self, order_id: str, request: RefundRequest | None) -> None:
        self.orders[order_id] = None if request is None else request.reference

    def end(self, order_id: str) -> None:
        self.orders.pop(order_id, None)

    def lines(self) -> list[str]:
        return [
            f"  order {order_id}: may still be refunded on Wix"
            + (f"; run again with --reference {ref} to finish it safely" if ref else "; run again to finish it")
            for order_id, ref in self.orders.items()
        ]


_IN_FLIGHT = _InFlight()


class UsageError(Exception):
    """A mistake in how the command was called."""


def exit_code_for(exc: BaseException) -> int:
    """Return the documented exit code for an error."""
    if isinstance(exc, (InvalidCredentials, WixAuthError)):
        return EXIT_CREDENTIALS
    if isinstance(exc, RefundNotSupported):
        return EXIT_REFUSED
    if isinstance(exc, (UsageError, InvalidRequest)):
        return EXIT_USAGE
    return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON on standard output")
    common.add_argument("--base-url", default=DEFAULT_BASE_URL, help="Wix API base URL (a fake or a proxy)")
    common.add_argument("--site-id", help="site ID or dashboard URL (default: $WIX_SITE_ID)")
    common.add_argument("--account-id", help="account ID (default: $WIX_ACCOUNT_ID)")
    common.add_argument("-v", "--verbose", action="count", default=0, help="log to standard error (-vv: debug)")
    common.add_argument(
        "--lock-dir",
        help="folder of the per-order file locks that keep two runs on one host off the same order "
        f"(default: {default_lock_dir()})",
    )
    common.add_argument(
        "--lock-dsn",
        help=f"PostgreSQL DSN for locks shared by several hosts (default: ${LOCK_DSN_VARIABLE}; "
        "needs pip install 'wix-refunds[postgres]')",
    )

    parser = argparse.ArgumentParser(
        prog="wix-refunds",
        description="Refund Wix store orders exactly once. The API key is read from $WIX_API_KEY "
        "(or asked for, hidden); it is never taken as an argument.",
        epilog="Exit codes: 0 success, 1 some orders failed or Wix could not be reached, 2 usage error, "
        "3 credentials refused, 4 refund refused by the rules, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"wix-refunds {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("verify", parents=[common], help="check that the key has every permission needed")
    plan = commands.add_parser("plan", parents=[common], help="show how orders would be refunded (no write)")
    plan.add_argument("order_ids", nargs="+", metavar="ORDER_ID")
    refund = commands.add_parser("refund", parents=[common], help="refund one order, after confirmation")
    refund.add_argument("order_id", metavar="ORDER_ID")
    refund.add_argument("--amount", help="amount to refund (default: everything still refundable)")
    refund.add_argument("--reason", help="reason shown to the buyer (at most 200 characters)")
    refund.add_argument("--reference", help="your ID for this refund; makes a re-run recognise it")
    refund.add_argument("--restock", action="store_true", help="restock the items (cancelled orders)")
    refund.add_argument("--notify-customer", action="store_true", help="let Wix email the buyer")
    refund.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    batch = commands.add_parser("batch", parents=[common], help="refund the orders listed in a CSV file")
    batch.add_argument("file", metavar="FILE.csv", help="columns: order_id, and optional amount, reason, reference")
    batch.add_argument("--concurrency", type=int, default=8, help="orders refunded at once (default 8)")
    batch.add_argument("--dry-run", action="store_true", help="plan every order, send no write")
    batch.add_argument(
        "--report", metavar="FILE.jsonl", help="append one JSON line per order; re-runs skip done orders"
    )
    commands.add_parser("demo", parents=[common], help="refund one order of each kind on a bundled fake Wix")
    return parser


def _credentials(args: argparse.Namespace) -> WixCredentials:
    env = dict(os.environ)
    if args.site_id:
        env["WIX_SITE_ID"] = args.site_id
    if args.account_id:
        env["WIX_ACCOUNT_ID"] = args.account_id
    if not env.get("WIX_API_KEY", "").strip() and sys.stdin.isatty():
        env["WIX_API_KEY"] = getpass.getpass("Wix API key (input hidden): ")
    return WixCredentials.from_env(env)


def _locks(args: argparse.Namespace) -> OrderLocks:
    """Return the order locks: PostgreSQL with --lock-dsn or $WIX_REFUNDS_LOCK_DSN, else files on this host."""
    dsn = args.lock_dsn or os.environ.get(LOCK_DSN_VARIABLE, "").strip()
    if dsn:
        from .postgres import PostgresLocks

        return PostgresLocks(dsn)
    return FileLocks(args.lock_dir or default_lock_dir())


def _request(amount: str | None, reason: str | None, reference: str | None, **flags: Any) -> RefundRequest:
    # RefundRequest reads amount text itself (and refuses what is not a decimal).
    text = (amount or "").strip() or None
    return RefundRequest(amount=text, reason=reason or None, reference=reference or None, **flags)


def _print(out: TextIO, text: str = "") -> None:
    out.write(text + "\n")


def _money(amount: Decimal, currency: str | None) -> str:
    return format_money(amount, currency) if currency else format(amount, "f")


def _describe_plan(preview: RefundOutcome) -> list[str]:
    """Return a dry run's plan as lines: route, reason, steps, and the first write it would send."""
    plan = preview.plan
    assert plan is not None
    lines = [f"order {plan.order_id} (#{plan.order_number}): {plan.route}", f"  {plan.reason}"]
    lines += [f"  {i}. {step.describe()}" for i, step in enumerate(plan.steps, 1)]
    for step in preview.steps:
        amount = f" {_money(step.amount, preview.currency)}" if step.amount is not None else ""
        if step.outside_wix:
            amount += f" (of which {_money(step.outside_wix, preview.currency)} only recorded: paid back outside Wix)"
        lines.append(f"  first write: {step.action} {step.target}{amount}")
    if not plan.steps:
        lines.append("  nothing to do")
    elif not preview.steps:
        lines.append("  nothing left to do: Wix shows it done already")
    return lines


def _plan_dict(preview: RefundOutcome) -> dict[str, Any]:
    data = preview.to_dict()
    return {key: data[key] for key in ("order_id", "route", "reason", "plan_steps", "steps")}


def _describe_outcome(outcome: RefundOutcome) -> list[str]:
    head = f"order {outcome.order_id}: {outcome.status}"
    if outcome.route is not None:
        head += f" ({outcome.route})"
    lines = [head]
    if outcome.reason:
        lines.append(f"  {outcome.reason}")
    for step in outcome.steps:
        amount = f" {_money(step.amount, outcome.currency)}" if step.amount is not None else ""
        if step.outside_wix:
            amount += f" (of which {_money(step.outside_wix, outcome.currency)} recorded outside Wix)"
        plural = "" if step.attempts == 1 else "s"
        lines.append(f"  - {step.action} {step.target}{amount}: {step.result} ({step.attempts} attempt{plural})")
    if outcome.error is not None:
        lines.append(f"  error: {outcome.error}")
    elif outcome.status is not OutcomeStatus.DRY_RUN:
        status = outcome.final_status.value if outcome.final_status else "?"
        payment = outcome.final_payment_status.value if outcome.final_payment_status else "?"
        if outcome.route is RefundRoute.STANDARD_REFUND:
            lines.append(f"  refunded through Wix: {_money(outcome.refunded, outcome.currency)}; payment {payment}")
            if outcome.refunded_outside_wix:
                lines.append(
                    f"  recorded as refunded outside Wix: {_money(outcome.refunded_outside_wix, outcome.currency)} "
                    "(Wix moved no money: the merchant pays it back)"
                )
        else:
            lines.append(f"  order {status}, payment {payment} (a cancel refunds nothing on Wix)")
        for f in outcome.deleted_fulfillments:
            tracking = f.tracking
            kept = (
                "no tracking"
                if tracking is None
                else " ".join(
                    str(part)
                    for part in (tracking.shipping_provider, tracking.tracking_number, tracking.tracking_link)
                    if part
                )
            )
            lines.append(f"  deleted fulfilment {f.id}: {kept}")
    if outcome.reference is not None and outcome.route is RefundRoute.STANDARD_REFUND:
        lines.append(f"  reference {outcome.reference} (running again with --reference {outcome.reference} is safe)")
    return lines


def _cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    with WixClient(_credentials(args), base_url=args.base_url) as client:
        report = client.verify()
    if args.json:
        checks = [{"name": c.name, "passed": c.passed, "detail": c.detail, "fix": c.fix} for c in report.checks]
        _print(out, json.dumps({"ok": report.ok, "site_id": report.site_id, "checks": checks}))
    else:
        _print(out, str(report))
    if report.ok:
        return EXIT_OK
    # Wix that could not be asked is no missing permission: try again later.
    return EXIT_FAILED if not report.reachable else EXIT_CREDENTIALS


def _cmd_plan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    code = EXIT_OK
    results: list[dict[str, Any]] = []
    with WixClient(_credentials(args), base_url=args.base_url) as client:
        for order_id in args.order_ids:
            try:
                preview = refund_order(client, order_id, dry_run=True)
            except (InvalidCredentials, WixAuthError):
                raise
            except WixRefundError as exc:
                code = max(code, exit_code_for(exc))
                results.append({"order_id": order_id, "error": str(exc)})
                if not args.json:
                    _print(out, f"order {order_id}: cannot be refunded: {exc}")
                continue
            results.append(_plan_dict(preview))
            if not args.json:
                _print(out, "\n".join(_describe_plan(preview)))
    if args.json:
        _print(out, json.dumps(results))
    return code


def _cmd_refund(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # The reference is made here, not in the library, so that an interrupted run can name it.
    request = _request(
        args.amount,
        args.reason,
        args.reference or new_reference(),
        restock=args.restock,
        notify_customer=args.notify_customer,
    )
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("standard input is not a terminal: add --yes to refund without confirmation")
    with WixClient(_credentials(args), base_url=args.base_url) as client:
        preview = refund_order(client, args.order_id, request, dry_run=True)
        if not args.json or not args.yes:
            err.write("\n".join(_describe_plan(preview)) + "\n")
        if not args.yes:
            err.write("Go ahead? [y/N] ")
            err.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                _print(err, "Nothing was done.")
                return EXIT_FAILED
        _IN_FLIGHT.start(args.order_id, request)
        outcome = refund_order(client, args.order_id, request, locks=_locks(args))
        _IN_FLIGHT.end(args.order_id)
    _print(out, json.dumps(outcome.to_dict()) if args.json else "\n".join(_describe_outcome(outcome)))
    return EXIT_OK


def _read_done(report: str | None) -> set[str]:
    done: set[str] = set()
    if report is None or not os.path.exists(report):
        return done
    with open(report, encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interruption
            if isinstance(entry, dict) and entry.get("status") in ("COMPLETED", "ALREADY_DONE"):
                done.add(str(entry.get("order_id")))
    return done


def _rows(path: str, skip: set[str], tally: Counter[str], err: TextIO) -> Iterator[tuple[str, RefundRequest | None]]:
    """Yield the (order ID, request) of each good row, reporting bad rows on ``err`` as they come."""

    def bad(line: int, problem: str) -> None:
        tally["bad"] += 1
        _print(err, f"{path}:{line}: skipped: {problem}")

    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "order_id" not in [f.strip() for f in reader.fieldnames]:
            raise UsageError(f"{path}: line 1 must be a header with an order_id column")
        for row in reader:
            line = reader.line_num
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
            order_id = row.get("order_id", "")
            if not order_id and not any(row.values()):
                continue
            if not is_guid(order_id):
                bad(line, f"order_id {order_id!r} is not a Wix order ID")
                continue
            if order_id in skip:
                tally["skipped"] += 1
                continue
            try:
                request = _request(row.get("amount"), row.get("reason"), row.get("reference"))
            except InvalidRequest as exc:
                bad(line, str(exc))
                continue
            yield order_id, request


def _count_rows(path: str) -> int:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


class _Progress:
    """Done/total, failures, rate and time left on standard error (rows skipped count as done)."""

    def __init__(self, total: int, err: TextIO, tally: Counter[str]) -> None:
        self.total, self.err, self.tally = total, err, tally
        self.outcomes = self.failed = 0
        self.started = self.shown = time.monotonic()
        self.tty = err.isatty()

    def add(self, outcome: RefundOutcome) -> None:
        self.outcomes += 1
        self.failed += outcome.status is OutcomeStatus.FAILED
        if time.monotonic() - self.shown >= (0.2 if self.tty else 2.0):
            self.show()

    def show(self, final: bool = False) -> None:
        now = self.shown = time.monotonic()
        done = self.outcomes + self.tally["bad"] + self.tally["skipped"]
        rate = self.outcomes / max(now - self.started, 1e-9)
        left = max(self.total - done, 0) / rate if rate else 0.0
        text = f"{done}/{self.total} done, {self.failed + self.tally['bad']} failed, {rate:.1f} orders/s"
        text += "" if final else f", {left:.0f}s left"
        self.err.write(("\r" + text + ("\n" if final else "")) if self.tty else (text + "\n"))
        self.err.flush()


def _cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if not os.path.exists(args.file):
        raise UsageError(f"{args.file}: no such file")
    credentials = _credentials(args)
    skip = _read_done(args.report)
    tally: Counter[str] = Counter()
    progress = _Progress(_count_rows(args.file), err, tally)
    statuses: Counter[str] = Counter()
    refunded: Counter[str] = Counter()
    report = open(args.report, "a", encoding="utf-8") if args.report else None  # noqa: SIM115

    locks = _locks(args)

    def started(rows: Iterator[tuple[str, RefundRequest | None]]) -> Iterator[tuple[str, RefundRequest | None]]:
        for order_id, request in rows:
            if request is not None and request.reference is None and not args.dry_run:
                # Named now, so that an interrupted batch can say what to re-run with.
                request = attrs.evolve(request, reference=new_reference())
            _IN_FLIGHT.start(order_id, request)
            yield order_id, request

    async def run() -> None:
        async with AsyncWixClient(credentials, base_url=args.base_url) as client:
            rows = started(_rows(args.file, skip, tally, err))
            async for outcome in refund_orders_async(
                client, rows, concurrency=args.concurrency, dry_run=args.dry_run, locks=locks
            ):
                _IN_FLIGHT.end(outcome.order_id)
                statuses[outcome.status.value] += 1
                if outcome.refunded:
                    refunded[outcome.currency or "?"] += outcome.refunded  # type: ignore[assignment]
                data = outcome.to_dict()
                if report is not None:
                    report.write(json.dumps(data) + "\n")
                    report.flush()
                if args.json:
                    _print(out, json.dumps(data))
                progress.add(outcome)

    try:
        asyncio.run(run())
    finally:
        if report is not None:
            report.close()
    progress.show(final=True)
    if not args.json:
        _print(out, "status          orders")
        for status in ("COMPLETED", "ALREADY_DONE", "DRY_RUN", "FAILED"):
            if statuses[status]:
                _print(out, f"{status:<15} {statuses[status]:>6}")
        if tally["skipped"]:
            _print(out, f"{'SKIPPED (report)':<15} {tally['skipped']:>6}")
        if tally["bad"]:
            _print(out, f"{'BAD ROWS':<15} {tally['bad']:>6}")
        for currency, amount in sorted(refunded.items()):
            _print(out, f"refunded through Wix: {_money(Decimal(amount), currency)}")
    return EXIT_FAILED if statuses["FAILED"] or tally["bad"] else EXIT_OK


def _cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .testing import FakeWix

    fake = FakeWix()
    old = "2024-03-01T10:00:00.000Z"
    orders = [
        ("old order, not fulfilled", fake.add_order(created=old), None),
        ("old order, two fulfilments", fake.add_order(created=old, fulfillments=2), RefundRequest(restock=True)),
        ("old order, already cancelled", fake.add_order(created=old, status="CANCELED"), None),
        ("new order, paid online", fake.add_order(total="42.50"), None),
        ("new order, paid offline", fake.add_order(payments="offline"), None),
        (
            "new order, partial refund",
            fake.add_order(total="80"),
            RefundRequest(amount=Decimal("20"), reason="late delivery", reference="demo-1"),
        ),
        (
            "new order, gift card and card",
            fake.add_order(total="50", payments=[("20", "gift_card"), ("30", "online")]),
            None,
        ),
        ("new order, refunds disabled by the provider (refused)", fake.add_order(payments="refund_disabled"), None),
    ]
    labels = {oid: label for label, oid, _ in orders}

    async def run() -> list[RefundOutcome]:
        with fake.serve() as base_url:
            async with AsyncWixClient(fake.credentials, base_url=base_url) as client:
                pairs = [(oid, request) for _, oid, request in orders]
                return [o async for o in refund_orders_async(client, pairs, concurrency=4)]

    outcomes = sorted(asyncio.run(run()), key=lambda o: list(labels).index(o.order_id))
    if args.json:
        _print(out, json.dumps([{"kind": labels[o.order_id], **o.to_dict()} for o in outcomes]))
        return EXIT_OK
    _print(out, f"wix-refunds demo: {len(orders)} orders on a fake Wix at loopback, refunded through the real client\n")
    for outcome in outcomes:
        _print(out, f"[{labels[outcome.order_id]}]")
        _print(out, "\n".join(_describe_outcome(outcome)) + "\n")
    writes = Counter(op for op, _, _ in fake.writes)
    _print(
        out,
        f"Wix saw {len(fake.requests)} requests: {writes['cancel']} cancels, "
        f"{writes['delete_fulfillment']} fulfilment deletes, {writes['refund']} refunds.",
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command; return its exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(
            stream=err,
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    handlers = {
        "verify": lambda: _cmd_verify(args, out),
        "plan": lambda: _cmd_plan(args, out, err),
        "refund": lambda: _cmd_refund(args, out, err),
        "batch": lambda: _cmd_batch(args, out, err),
        "demo": lambda: _cmd_demo(args, out, err),
    }
    try:
        code: int = handlers[args.command]()
    except (WixRefundError, UsageError) as exc:
        if args.verbose:
            traceback.print_exc(file=err)
        if args.json:
            _print(out, json.dumps({"error": {"type": type(exc).__name__, "message": str(exc)}}))
        _print(err, f"wix-refunds: {exc}")
        return exit_code_for(exc)
    except KeyboardInterrupt:
        in_flight = _IN_FLIGHT.lines()
        if in_flight:
            _print(err, "wix-refunds: interrupted while these refunds were in flight:")
            for line in in_flight:
                _print(err, line)
        else:
            _print(err, "wix-refunds: interrupted before any refund was sent; running the same command again is safe")
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
