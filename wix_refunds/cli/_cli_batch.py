"""The batch command: read the file, ask, run every row, report each, summarise.

Rows are the unit (see ``_batch_file``): each outcome comes back with its row's key as its
context, is written to the report under that key, and is named with its ``FILE:LINE`` in
the summary.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from typing import Any

from ..client._client import AsyncWixClient
from ..client._credentials import WixCredentials
from ..core._request import RefundRequest
from ..journal._journal import Journal
from ..run._execute import OutcomeStatus, RefundOutcome, refund_orders_async
from ._batch_file import BatchRow, RowError
from ._batch_read import read_batch
from ._cli_output import Progress, Tally, describe_plan, order_record
from ._cli_run import EXIT_FAILED, EXIT_OK, Context, UsageError, credentials, refund_journal, say
from ._report import Report, recorded_at
from ._store_name import Store, read_store_async

__all__ = ["cmd_batch"]


def _row_error_record(error: RowError) -> dict[str, Any]:
    return {
        "type": "row_error",
        "file": error.file,
        "line": error.line,
        "order_id": error.order_id,
        "message": error.message,
    }


async def _tick(progress: Progress) -> None:
    while True:
        progress.tick()
        await asyncio.sleep(0.2 if progress.tty else 1.0)


async def _run_rows(
    ctx: Context,
    client: AsyncWixClient,
    rows: list[BatchRow],
    *,
    dry_run: bool,
    journal: Journal | None,
    verb: str,
    on_outcome: Callable[[BatchRow, RefundOutcome], None],
) -> None:
    progress = ctx.progress = Progress(len(rows), ctx.err, client.limiter, verb=verb, enabled=not ctx.args.quiet)
    by_key = {row.key: row for row in rows}

    def source() -> Iterator[tuple[str, RefundRequest | None, str]]:
        for row in rows:
            if not dry_run:
                ctx.in_flight.start(row.key, row.order_id, row.request.reference, row.where)
            # The row's key comes back as the outcome's context: rows of one order stay apart.
            yield row.order_id, row.request, row.key

    ticker = asyncio.ensure_future(_tick(progress))
    try:
        batch = refund_orders_async(
            client,
            source(),
            concurrency=ctx.args.concurrency,
            dry_run=dry_run,
            journal=journal,
            group_size=ctx.args.group_size,
        )
        async for outcome in batch:
            row = by_key[outcome.context]
            progress.add(outcome)
            on_outcome(row, outcome)
            ctx.in_flight.end(row.key)
    finally:
        ticker.cancel()
    progress.finish()
    ctx.progress = None


def _confirm_batch(
    ctx: Context, path: str, previews: list[tuple[BatchRow, RefundOutcome]], journal: Journal | None, store: Store
) -> bool:
    """Show what the batch would do, from a dry run of every row, and ask; return the answer."""
    tally = Tally("batch")
    for row, outcome in previews:
        tally.add(outcome, row.where)
    # The rows the report shows done are counted as done already, as the summary will count them.
    for row, record in ctx.tally.skipped:
        tally.skip(row, record)
    count = len(previews)
    lines = [f"{path}: {count} row{'s' if count != 1 else ''} checked on Wix (nothing sent yet):"]
    if ctx.tally.skipped:
        lines.append(f"  done already in {ctx.args.report}: {len(ctx.tally.skipped)} rows (skipped)")
    lines += [f"  {line}" for line in tally.totals_lines()]
    refused = [(e.where, e.order_id or "(none)", e.message) for e in ctx.tally.row_errors] + tally.failed
    if refused:
        lines.append(f"  refused, not run: {len(refused)} row{'s' if len(refused) != 1 else ''}")
        lines += [f"    {where} order {order}: {why}" for where, order, why in refused]
    lines.append(f"  {store.line()}")
    if journal is not None:
        lines.append(f"  journal: {journal.name}")
    say(ctx.err, "\n".join(lines))
    return ctx.confirm()


async def _batch_async(
    ctx: Context, path: str, rows: list[BatchRow], credentials: WixCredentials, report: Report | None
) -> bool:
    args = ctx.args
    journal = None if args.dry_run else refund_journal(args, credentials.site_id)
    if journal is not None:
        ctx.summary["journal"] = journal.name

    def finished(row: BatchRow, outcome: RefundOutcome) -> None:
        number = outcome.plan.order_number if outcome.plan is not None else ""
        record = order_record(
            outcome,
            file=row.file,
            line=row.line,
            row_key=row.key,
            order_number=number or None,
            recorded_at=recorded_at(),
        )
        if report is not None:
            report.write(record)
        ctx.tally.add(outcome, row.where)
        ctx.emit(record)
        if args.dry_run and not args.json:
            if ctx.progress is not None:
                ctx.progress.clear()
            lines = (
                describe_plan(outcome)
                if outcome.plan and not outcome.error
                else [f"order {outcome.order_id}: cannot be refunded: {outcome.error}"]
            )
            say(ctx.out, f"{row.where} " + "\n".join(lines))

    async with AsyncWixClient(credentials, base_url=args.base_url, rate_limit=ctx.rate_limit(credentials)) as client:
        store = await read_store_async(args, client)
        ctx.summary["store"] = store.record()
        if args.dry_run and not args.json:
            ctx.note(store.line())
        if not args.dry_run and not args.yes:
            previews: list[tuple[BatchRow, RefundOutcome]] = []
            await _run_rows(
                ctx,
                client,
                rows,
                dry_run=True,
                journal=None,
                verb="checked",
                on_outcome=lambda r, o: previews.append((r, o)),
            )
            if not _confirm_batch(ctx, path, previews, journal, store):
                return False
            # A row the dry run refused is not run: its failure is the result.
            for row, outcome in previews:
                if outcome.status is OutcomeStatus.FAILED:
                    finished(row, outcome)
            failed = {row.key for row, outcome in previews if outcome.status is OutcomeStatus.FAILED}
            rows = [row for row in rows if row.key not in failed]
        await _run_rows(ctx, client, rows, dry_run=args.dry_run, journal=journal, verb="done", on_outcome=finished)
    return True


def cmd_batch(ctx: Context) -> int:
    """Run ``wix-refunds batch``; return its exit code (1 when any row failed or was refused)."""
    args = ctx.args
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if not args.dry_run and not args.yes and not sys.stdin.isatty():
        raise UsageError(
            "standard input is not a terminal: add --yes to run the batch without confirmation "
            "(or --dry-run to see what it would do)"
        )
    batch, wix = read_batch(ctx)
    report = Report(args.report, warn=ctx.note) if args.report else None
    try:
        done = report.done if report is not None else {}
        rows = [row for row in batch.rows if row.key not in done]
        for row in batch.rows:
            if row.key in done:
                ctx.tally.skip(row, done[row.key])
        ctx.tally.row_errors = list(batch.errors)
        for error in batch.errors:
            ctx.emit(_row_error_record(error))
            ctx.note(f"{error.where}: refused: {error.message}")
        for row, record in ctx.tally.skipped:
            ctx.emit(
                {
                    "type": "row_skipped",
                    "file": row.file,
                    "line": row.line,
                    "order_id": row.order_id,
                    "reference": row.request.reference,
                    "row_key": row.key,
                    "report": args.report,
                    "report_status": str(record.get("status")),
                }
            )
        ran = True
        if rows:
            ran = asyncio.run(_batch_async(ctx, batch.path, rows, wix or credentials(args), report))
    finally:
        if report is not None:
            report.close()
    if not ran:
        return EXIT_OK
    if not args.json:
        say(ctx.out, "\n".join(ctx.tally.lines(args.report)))
    return EXIT_FAILED if ctx.tally.failed or ctx.tally.row_errors else EXIT_OK
