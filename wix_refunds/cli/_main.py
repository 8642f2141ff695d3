"""The wix-refunds command: parse, call the library, print, exit with a documented code.

Exit codes:
    0    success, or a confirmation answered no ("Nothing was done.")
    1    some orders or rows failed or were refused, reconcile found a mismatch, or Wix
         could not be reached
    2    usage error: bad arguments, a batch file, report or stores file that cannot be
         used, no --yes off a terminal
    3    credentials missing, malformed or refused by Wix
    4    refund refused by the rules (or by Wix's refundability)
    130  interrupted by Ctrl-C (SIGINT)
    143  stopped by SIGTERM

What is printed (text and JSON records) lives in ``_cli_output``; the batch, status and demo
commands in ``_cli_batch``, ``_cli_status`` and ``_cli_demo``; the batch file and its report in
``_batch_file``; the stores file in ``_stores``.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, TextIO

import attrs

from .._version import __version__
from ..core._errors import InvalidRequest, WixRefundError
from ..core._items import ALL_LEFT, FeeRefund
from ..core._references import derive_reference
from ..run._execute import DEFAULT_GROUP_SIZE, RefundOutcome, refund_order
from ._batch_file import BatchFileError
from ._cli_batch import cmd_batch
from ._cli_demo import cmd_demo
from ._cli_follow import add_report_options, cmd_status
from ._cli_output import derived_reference_hint, describe_outcome, describe_plan, error_dict, order_record
from ._cli_reconcile import add_reconcile, cmd_reconcile
from ._cli_run import (
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_OK,
    Context,
    CredentialsMissing,
    JournalNotices,
    UsageError,
    close_journal,
    credentials,
    exit_code_for,
    interrupted,
    refund_journal,
    request_of,
    say,
)
from ._completion import COMPLETION_EXAMPLE, SHELLS, print_completion
from ._item_text import ITEM_OPTION, RESTOCK_WORDS, parse_item_option
from ._options import GLOBAL_OPTIONS_TITLE, MAIN_EPILOG, add_global_options, check_rate_limit, group_size
from ._order_numbers import resolve_orders
from ._store_name import read_store, store_of
from ._stores import StoreConfigError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="wix-refunds",
        formatter_class=raw,
        description="Refund Wix store orders exactly once. Options go before or after the command.\n"
        "The API key is read from $WIX_API_KEY (or asked for, hidden); it is never an argument.",
        epilog=MAIN_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"wix-refunds {__version__}")
    add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    made: list[argparse.ArgumentParser] = []

    def command(name: str, summary: str, epilog: str) -> argparse.ArgumentParser:
        # The help starts with what the command does and whether it writes to Wix.
        sub = commands.add_parser(
            name, help=summary, description=_DESCRIPTIONS[name], epilog=epilog, formatter_class=raw
        )
        made.append(sub)
        return sub

    command("verify", "check that the key has every permission needed", "example:\n  wix-refunds verify --json")
    plan = command("plan", "show how orders would be refunded (no write)", "example:\n  wix-refunds plan ID1 ID2")
    plan.add_argument("order_ids", nargs="+", metavar="ORDER", help="an order's ID, or its number (10005 or #10005)")
    plan.add_argument("--amount", help="plan a partial refund of this amount (default: everything refundable)")
    _item_options(plan)
    refund = command(
        "refund",
        "refund one order, after confirmation",
        "examples:\n  wix-refunds refund ORDER_ID --dry-run\n  wix-refunds refund ORDER_ID --amount 5 --reference t-1\n"
        "  wix-refunds refund ORDER_ID --item LINE_ID:1:restock --shipping --reference return-9\n"
        "(line IDs are shown by `wix-refunds plan ORDER_ID`)",
    )
    refund.add_argument("order_id", metavar="ORDER", help="the order's ID, or its number (10005 or #10005)")
    refund.add_argument("--amount", help="amount to refund (default: everything still refundable)")
    refund.add_argument("--reason", help="reason shown to the buyer (at most 200 characters)")
    refund.add_argument(
        "--reference",
        help="your ID for this refund (default: derived from the order and what is asked, so the same "
        "command twice refunds once; give a new one to refund the same again on purpose)",
    )
    refund.add_argument(
        "--restock", action="store_true", help="restock all (orders before the cutoff); else --item ID:QTY:restock"
    )
    refund.add_argument("--notify-customer", action="store_true", help="let Wix email the buyer")
    refund.add_argument("--dry-run", action="store_true", help="show the plan, send no write")
    refund.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _item_options(refund)
    batch = command("batch", "refund the rows of a CSV file", _BATCH_EPILOG)
    batch.add_argument("file", metavar="FILE.csv", help="the rows to refund (columns below)")
    batch.add_argument("--concurrency", type=int, default=8, help="rows refunded at once (default 8)")
    batch.add_argument(
        "--group-size",
        type=group_size,
        default=DEFAULT_GROUP_SIZE,
        metavar="N",
        help=f"orders locked and read together, 1 to {DEFAULT_GROUP_SIZE} (default {DEFAULT_GROUP_SIZE})",
    )
    batch.add_argument("--dry-run", action="store_true", help="plan every row and show the totals, send no write")
    batch.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed off a terminal)")
    batch.add_argument("--report", metavar="FILE.jsonl", help="append a JSON line per row; re-runs skip done rows")
    batch.add_argument(
        "--full", action="store_true", help="every row refunds everything refundable (other columns are then ignored)"
    )
    status = command(
        "status",
        "show where a refund made with a reference stands on Wix (no write)",
        "Wix may settle a refund later: PENDING, then SUCCEEDED or FAILED. Exit code 0 once Wix answered;\n"
        "the state is in the output. With --report: exit 1 when a row failed.\nexamples:\n"
        "  wix-refunds status ORDER_ID ticket-881 --json\n  wix-refunds status --report r.jsonl --wait",
    )
    status.add_argument("order_id", metavar="ORDER_ID", nargs="?")
    status.add_argument("reference", metavar="REFERENCE", nargs="?", help="the reference the refund was made with")
    add_report_options(status)
    reconcile = command(
        "reconcile",
        "hold the store's refund journal against Wix's books; exit 1 on a mismatch (no write)",
        "Names refunds FAILED or pending too long on Wix, intents that never landed, amounts or items that\n"
        "differ, and refunds tagged with a reference the journal does not know.\n"
        "examples:\n  wix-refunds reconcile --since 2024-06-01\n  wix-refunds reconcile --pending-days 3 --json",
    )
    add_reconcile(reconcile)
    command("demo", "refund one order of each kind on a bundled fake Wix", "example:\n  wix-refunds demo --json")
    command("completion", "print a shell completion script (bash or zsh)", "example:\n  " + COMPLETION_EXAMPLE)
    made[-1].add_argument("shell", choices=SHELLS, help="the shell to complete in")
    # Each command's own options first, then the options every command takes.
    for sub in made:
        add_global_options(sub.add_argument_group(GLOBAL_OPTIONS_TITLE), suppress=True)
    return parser


_BATCH_EPILOG = f"""\
columns (a header names them: any case, spaces or _; comma, semicolon or tab separated):
  order_id       the Wix order ID (or use order_number)
  order_number   the order number shown in the dashboard: 10005 or #10005
  amount         amount to refund, plain: 12.50 (empty: everything still refundable)
  reason         reason shown to the buyer (at most 200 characters)
  reference      your ID for the refund (default: derived from the row, so a re-run refunds once)
  line_item_id   refund by item: one row a line item of the order (line IDs: wix-refunds plan ID)
  quantity       units of that line item to refund
  restock        whether to restock them: {RESTOCK_WORDS}
Rows of one order with one reference and line_item_id make one refund by item.
examples:
  wix-refunds batch orders.csv --dry-run
  wix-refunds batch orders.csv --report r.jsonl --yes
"""

_DESCRIPTIONS = {
    "verify": "Check that the API key has every permission the refunds need, and name the store.\n"
    "Sends no write to Wix: the write checks go to an order that does not exist.",
    "plan": "Show how each order would be refunded: its route, its steps and the first write.\n"
    "Reads only: sends no write to Wix.",
    "refund": "Refund one order: show the plan and the store, ask (unless --yes), then write to Wix\n"
    "(refund, cancel or delete fulfilments, as the plan says). --dry-run sends no write.",
    "batch": "Refund the rows of a CSV file: check every row on Wix, show the totals and the store, ask\n"
    "(unless --yes), then write to Wix. --dry-run sends no write.",
    "status": "Show where a refund made with a reference stands on Wix.\nReads only: sends no write to Wix.",
    "reconcile": "Hold the store's refund journal against Wix's books; exit 1 on a mismatch.\n"
    "Reads only: sends no write to Wix.",
    "demo": "Refund one order of each kind on a fake Wix bundled with the command, in this process.\n"
    "Sends nothing to Wix.",
    "completion": "Print a completion script for bash or zsh, made from this command's options.\nSends nothing to Wix.",
}


def _item_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--item",
        action="append",
        default=[],
        metavar=ITEM_OPTION,
        help=f"refund QTY units of a line item; RESTOCK: {RESTOCK_WORDS}; repeat for more lines",
    )
    add("--shipping", nargs="?", const="all", metavar="AMOUNT", help="refund the shipping (all left, or AMOUNT)")
    add("--fee", action="append", default=[], metavar="FEE_ID[:AMOUNT]", help="refund an additional fee (or AMOUNT)")


def _items_of(args: argparse.Namespace) -> dict[str, Any]:
    """Return the item keywords of a RefundRequest from --item, --shipping and --fee."""
    items = []
    for text in getattr(args, "item", None) or []:
        try:
            items.append(parse_item_option(text))
        except InvalidRequest as exc:
            raise UsageError(f"--item {text!r}: {exc.problem}") from exc
    fees = []
    for text in getattr(args, "fee", None) or []:
        fee_id, _, amount = text.partition(":")
        fees.append(FeeRefund(fee_id=fee_id.strip(), amount=amount.strip() or ALL_LEFT))
    shipping = getattr(args, "shipping", None)
    return {
        "items": items,
        "fees": fees,
        "shipping": None if shipping is None else ALL_LEFT if shipping == "all" else shipping,
    }


def _cmd_verify(ctx: Context) -> int:
    with ctx.client(credentials(ctx.args)) as client:
        report = client.verify()
    store = store_of(ctx.args, report.site_id, report.business_name)
    journal = refund_journal(ctx.args, report.site_id).name
    if ctx.args.json:
        checks = [{"name": c.name, "passed": c.passed, "detail": c.detail, "fix": c.fix} for c in report.checks]
        record = {"type": "verify", "ok": report.ok, "site_id": report.site_id, "store": store.record()}
        say(ctx.out, json.dumps({**record, "journal": journal, "checks": checks}))
    else:
        say(ctx.out, "\n".join([str(report), store.line(), f"journal: {journal}"]))
    if report.ok:
        return EXIT_OK
    # Wix that could not be asked is no missing permission: try again later.
    return EXIT_FAILED if not report.reachable else EXIT_CREDENTIALS


def _show(
    ctx: Context, outcome: RefundOutcome, lines: list[str], out: TextIO | None = None, *, hint: str | None = None
) -> None:
    ctx.tally.add(outcome)
    if ctx.args.json:
        ctx.emit(order_record(outcome, **({"hint": hint} if hint else {})))
    else:
        say(out or ctx.out, "\n".join([*lines, *([f"  {hint}"] if hint else [])]))


def _cmd_plan(ctx: Context) -> int:
    code = EXIT_OK
    by_item = _items_of(ctx.args)
    wanted = ctx.args.amount or any(by_item.values())
    request = request_of(ctx.args.amount, None, None, **by_item) if wanted else None
    with ctx.client(credentials(ctx.args)) as client:
        journal = refund_journal(ctx.args, client.credentials.site_id)
        store = read_store(ctx.args, client)
        ctx.summary.update(store=store.record(), journal=journal.name)
        if not ctx.args.json:
            say(ctx.err, store.line())
            say(ctx.err, f"journal: {journal.name} (a refund run waits for the writes it holds in flight)")
        for order_id, ref in zip(ctx.args.order_ids, resolve_orders(client, ctx.args.order_ids)):
            try:
                if isinstance(ref, WixRefundError):
                    raise ref
                preview = refund_order(client, ref.order_id, request, dry_run=True)
            except WixRefundError as exc:
                code = max(
                    code, ctx.failed(order_id, request, exc, text=f"order {order_id}: cannot be refunded: {exc}")
                )
                continue
            _show(ctx, preview, describe_plan(preview))
    if not ctx.args.json and len(ctx.args.order_ids) > 1:
        say(ctx.out, "\n".join(ctx.tally.totals_lines()))
    return code


def _cmd_refund(ctx: Context) -> int:
    args = ctx.args
    request = request_of(
        args.amount,
        args.reason,
        args.reference,
        restock=args.restock,
        notify_customer=args.notify_customer,
        **_items_of(args),
    )
    # Without --reference the reference is derived from the order and what is asked, as a
    # batch row's is, so the same command run twice finds its refund instead of making a
    # second. It is made here, not in the library, so that an interrupted run can name it.
    derived = request.reference is None
    if not args.dry_run and not args.yes and not sys.stdin.isatty():
        raise UsageError("standard input is not a terminal: add --yes to refund without confirmation")
    with ctx.client(credentials(args)) as client:
        # An order number is looked up first: the reference is derived from the order's ID.
        ref = resolve_orders(client, [args.order_id])[0]
        if isinstance(ref, WixRefundError):
            return ctx.failed(args.order_id, request, ref)
        order_id = ref.order_id
        if derived:
            request = attrs.evolve(request, reference=derive_reference(order_id, request))
        try:
            preview = refund_order(client, order_id, request, dry_run=True)
        except WixRefundError as exc:
            return ctx.failed(order_id, request, exc)
        hint = derived_reference_hint(preview) if derived else None
        if args.dry_run:
            _show(ctx, preview, describe_plan(preview), hint=hint)
            return EXIT_OK
        journal = refund_journal(args, client.credentials.site_id)
        store = read_store(args, client)
        ctx.summary.update(store=store.record(), journal=journal.name)
        if not args.json or not args.yes:
            lines = [*describe_plan(preview), *([f"  {hint}"] if hint else []), f"  {store.line()}"]
            lines.append(f"  journal: {journal.name}")
            say(ctx.err, "\n".join(lines))
        if not args.yes and not ctx.confirm():
            return EXIT_OK
        ctx.in_flight.start(order_id, order_id, request.reference)
        try:
            outcome = refund_order(client, order_id, request, journal=journal)
        except WixRefundError as exc:
            # The error names the reference to run again with; Ctrl-C, above, is not caught here.
            ctx.in_flight.end(order_id)
            return ctx.failed(order_id, request, exc)
        ctx.in_flight.end(order_id)
    _show(ctx, outcome, describe_outcome(outcome), hint=derived_reference_hint(outcome) if derived else None)
    return EXIT_OK


def _on_sigterm(ctx: Context) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        ctx.stopped_by = "SIGTERM"
        # The same way out as Ctrl-C: everything that cleans up on KeyboardInterrupt runs.
        raise KeyboardInterrupt

    return handler


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command; return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "completion":
        return print_completion(parser, args.shell, out or sys.stdout)
    check_rate_limit(parser, args)
    ctx = Context(args, out or sys.stdout, err or sys.stderr)
    if args.verbose:
        logging.basicConfig(
            stream=ctx.err,
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    notices = JournalNotices(ctx)
    logging.getLogger("wix_refunds").addHandler(notices)
    handlers = {
        "verify": _cmd_verify,
        "plan": _cmd_plan,
        "refund": _cmd_refund,
        "status": cmd_status,
        "reconcile": cmd_reconcile,
        "batch": cmd_batch,
        "demo": cmd_demo,
    }
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm(ctx)) if main_thread else None
    try:
        code = handlers[args.command](ctx)
    except KeyboardInterrupt:
        code = interrupted(ctx)
    except (WixRefundError, UsageError, CredentialsMissing, BatchFileError, StoreConfigError) as exc:
        if args.verbose:
            traceback.print_exc(file=ctx.err)
        if ctx.progress is not None:
            ctx.progress.finish()
        code = exit_code_for(exc)
        ctx.summary["error"] = error_dict(exc)
        say(ctx.err, f"wix-refunds: {exc}")
    finally:
        close_journal(args)
        logging.getLogger("wix_refunds").removeHandler(notices)
        if main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    # verify, status and reconcile print their own answer, not a tally of orders.
    if args.command not in ("verify", "status", "reconcile") or "error" in ctx.summary:
        ctx.emit(ctx.tally.record(code, **ctx.summary))
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
