"""``wix-refunds reconcile``: the store's refund journal held against Wix's books; exit 1 on a mismatch."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timezone

from ..core._dates import parse_timestamp
from ..core._errors import InvalidOrderData
from ..run._reconcile import ReconcileReport, reconcile
from ._cli_run import EXIT_FAILED, EXIT_OK, Context, credentials, refund_journal, say

__all__ = ["add_reconcile", "cmd_reconcile", "describe_reconcile"]


def _since(text: str) -> datetime:
    """Return ``--since``: a date (midnight UTC) or an ISO 8601 time with its offset."""
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(), timezone.utc)
    except ValueError:
        pass
    try:
        return parse_timestamp(text.strip(), field="--since")
    except InvalidOrderData:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (2024-06-01) or a time with its offset (2024-06-01T12:00:00Z)"
        ) from None


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 100000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days, 0 or more")
    return value


def add_reconcile(command: argparse.ArgumentParser) -> None:
    """Add the reconcile command's options to its parser."""
    add = command.add_argument
    add("--since", type=_since, metavar="DATE", help="check the entries sent since DATE (default: all)")
    add(
        "--pending-days",
        type=_days,
        default=7.0,
        metavar="N",
        help="name a refund pending on Wix for longer than N days (default 7)",
    )


def describe_reconcile(report: ReconcileReport) -> list[str]:
    """Return the report as lines: each mismatch, then what was checked and what was found."""
    lines = [f"order {m.order_id}, reference {m.reference}: {m.kind}: {m.detail}" for m in report.mismatches]
    since = f" sent since {report.since.isoformat()}" if report.since is not None else ""
    checked = f"{report.entries} journal entries{since} on {report.orders} orders ({report.journal})"
    if report.ok:
        lines.append(f"all {checked} match Wix's books")
    else:
        kinds = ", ".join(f"{kind} {n}" for kind, n in report.to_dict()["kinds"].items())
        lines.append(f"{len(report.mismatches)} mismatches in {checked}: {kinds}")
    if report.in_flight:
        entries = "1 entry" if report.in_flight == 1 else f"{report.in_flight} entries"
        lines.append(f"{entries} may still land on Wix (inside the settle window): not judged yet")
    return lines


def cmd_reconcile(ctx: Context) -> int:
    """Print every mismatch between the store's journal and Wix's books; return 1 if there is one."""
    args = ctx.args
    with ctx.client(credentials(args)) as client:
        journal = refund_journal(args, client.credentials.site_id)
        report = reconcile(client, journal, since=args.since, pending_days=args.pending_days)
    code = EXIT_OK if report.ok else EXIT_FAILED
    if args.json:
        for mismatch in report.mismatches:
            ctx.emit({"type": "mismatch", **mismatch.to_dict()})
        ctx.emit({"type": "summary", "command": "reconcile", "exit_code": code, **report.to_dict()})
    else:
        say(ctx.out, "\n".join(describe_reconcile(report)))
    return code
