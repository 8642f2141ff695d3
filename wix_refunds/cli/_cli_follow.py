"""``wix-refunds status --report FILE``: where every row of a batch report stands on Wix.

The rows' orders are read together (``_books``: two requests per 100 orders), never one
request per row. ``--wait`` reads the orders of the rows still pending again every
``--interval`` seconds until none is, or ``--timeout`` passes, saying on standard error
how many are left. Exit 1 when any row failed (or is still pending when the wait ran out).
"""

from __future__ import annotations

import argparse
import time

from ..run._books import books_of
from ..run._follow import RefundState, RefundStatusReport
from ._cli_run import EXIT_FAILED, EXIT_OK, Context, UsageError, credentials, say
from ._cli_status import cmd_status as cmd_status_one
from ._cli_status import describe_status
from ._follow_report import ReportRow, count_states, report_rows, row_states

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_TIMEOUT", "add_report_options", "cmd_status"]

DEFAULT_TIMEOUT = 900.0
DEFAULT_INTERVAL = 30.0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 (at most a week)")
    return value


def add_report_options(status: argparse.ArgumentParser) -> None:
    """Add ``--report``, ``--wait``, ``--timeout`` and ``--interval`` to the status command."""
    add = status.add_argument
    add("--report", metavar="FILE.jsonl", help="follow every row of a batch report (instead of ORDER_ID REFERENCE)")
    add("--wait", action="store_true", help="with --report: read again until no row is pending, or --timeout")
    add(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long --wait waits at most (default {DEFAULT_TIMEOUT:g})",
    )
    add(
        "--interval",
        type=_seconds,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between reads while --wait waits (default {DEFAULT_INTERVAL:g})",
    )


def cmd_status(ctx: Context) -> int:
    """Run ``status ORDER_ID REFERENCE`` or ``status --report FILE``, as the arguments ask."""
    args = ctx.args
    if args.report is None:
        if args.order_id is None or args.reference is None:
            raise UsageError("status needs ORDER_ID and REFERENCE, or --report FILE to follow a batch report")
        if args.wait:
            raise UsageError("--wait follows a batch report: add --report FILE")
        return cmd_status_one(ctx)
    if args.order_id is not None:
        raise UsageError("give ORDER_ID REFERENCE or --report FILE, not both")
    return _follow(ctx, report_rows(args.report, warn=ctx.note))


def _follow(ctx: Context, rows: list[ReportRow]) -> int:
    args = ctx.args
    started = time.monotonic()
    deadline = started + args.timeout
    with ctx.client(credentials(args)) as client:
        states = row_states(books_of(client, [row.order_id for row in rows]), rows)
        while args.wait:
            pending = [i for i, state in enumerate(states) if state.state is RefundState.PENDING]
            left = deadline - time.monotonic()
            if not pending or left <= 0:
                break
            pause = min(args.interval, left)
            ctx.note(
                f"wix-refunds: {len(pending)} of {_rows(len(rows))} pending on Wix; reading again in {pause:.3g}s "
                f"({time.monotonic() - started:.0f}s of {args.timeout:g}s waited)"
            )
            time.sleep(pause)
            again = [rows[i] for i in pending]
            for i, state in zip(pending, row_states(books_of(client, [row.order_id for row in again]), again)):
                states[i] = state
    return _show(ctx, rows, states, waited=time.monotonic() - started)


def _show(ctx: Context, rows: list[ReportRow], states: list[RefundStatusReport], *, waited: float) -> int:
    args = ctx.args
    counts = count_states(states)
    timed_out = args.wait and counts["PENDING"] > 0
    code = EXIT_FAILED if counts["FAILED"] or timed_out else EXIT_OK
    if args.json:
        for row, state in zip(rows, states):
            ctx.emit({"type": "status", **state.to_dict(), "where": row.where})
        summary = {"type": "summary", "command": "status", "exit_code": code, "report": args.report}
        ctx.emit({**summary, "rows": len(rows), "states": counts, "waited": round(waited, 1), "timed_out": timed_out})
    else:
        for row, state in zip(rows, states):
            first, *more = describe_status(state)
            say(ctx.out, "\n".join([f"{row.where}: {first}", *more]))
        say(ctx.out, "\n".join(["", "state            rows", *(f"{name:<16} {n}" for name, n in counts.items())]))
    if timed_out:
        say(ctx.err, f"wix-refunds: {_rows(counts['PENDING'])} still pending after waiting {args.timeout:g}s")
    elif counts["FAILED"]:
        say(ctx.err, f"wix-refunds: {_rows(counts['FAILED'])} failed on Wix: no money went back for them")
    return code


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"
