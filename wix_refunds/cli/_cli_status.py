"""``wix-refunds status``: where a refund made with a reference stands on Wix (two reads, no write)."""

from __future__ import annotations

from ..core._money import format_money
from ..run._follow import RefundState, RefundStatusReport, refund_status
from ._cli_run import EXIT_OK, Context, credentials, say

__all__ = ["cmd_status", "describe_status"]

_MEANING = {
    RefundState.NOT_FOUND: "no refund on Wix carries this reference",
    RefundState.PENDING: "the payment provider has not settled it yet; ask again later",
    RefundState.SUCCEEDED: "refunded",
    RefundState.FAILED: "every part failed: no money went back with this reference",
}


def describe_status(report: RefundStatusReport) -> list[str]:
    """Return a status report as lines: the state and what it means, the amounts, Wix's refund IDs."""
    lines = [f"order {report.order_id}, reference {report.reference}: {report.state} ({_MEANING[report.state]})"]
    if report.refunds:
        money = [f"succeeded {format_money(report.succeeded, report.currency)}"]
        if report.outside_wix:
            money[0] += f" ({format_money(report.outside_wix, report.currency)} of it recorded outside Wix)"
        money += [f"pending {format_money(report.pending, report.currency)}"]
        money += [f"failed {format_money(report.failed, report.currency)}"]
        lines.append("  " + ", ".join(money))
        lines.append("  Wix refund IDs: " + ", ".join(refund.id for refund in report.refunds))
    return lines


def cmd_status(ctx: Context) -> int:
    """Print where the refunds carrying ``--reference`` stand; return 0 once Wix has answered."""
    args = ctx.args
    with ctx.client(credentials(args)) as client:
        report = refund_status(client, args.order_id, args.reference)
    if args.json:
        ctx.emit({"type": "status", **report.to_dict()})
    else:
        say(ctx.out, "\n".join(describe_status(report)))
    return EXIT_OK
