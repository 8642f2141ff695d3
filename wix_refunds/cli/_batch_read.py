"""The batch command's reading of its file: order numbers looked up on Wix, and what was read past or rewritten."""

from __future__ import annotations

from collections.abc import Collection

from ..client._credentials import WixCredentials
from ._batch_file import BatchFile, read_batch_file
from ._cli_run import Context, credentials
from ._order_numbers import find_numbers

__all__ = ["read_batch"]

# Amounts read with a decimal comma that the notice lists one by one; the rest are counted.
_LISTED = 5


def read_batch(ctx: Context) -> tuple[BatchFile, WixCredentials | None]:
    """Return the batch file the command names, and the credentials that looked its order numbers up (if any).

    The numbers are looked up before any row is built, so before anything is sent; the
    columns ignored and the amounts read with a decimal comma are named in one notice each.
    """
    used: list[WixCredentials] = []

    def find(numbers: Collection[int]) -> dict[int, tuple[str, ...]]:
        wix = credentials(ctx.args)
        used.append(wix)
        with ctx.client(wix) as client:
            return find_numbers(client, numbers)

    batch = read_batch_file(ctx.args.file, full=ctx.args.full, find=find)
    for line in notices(batch):
        ctx.note(line)
    return batch, used[0] if used else None


def notices(batch: BatchFile) -> list[str]:
    """Return the notices of how ``batch`` was read: columns ignored, numbers looked up, decimal commas read."""
    lines = []
    if batch.ignored:
        names = ", ".join(repr(name) for name in batch.ignored)
        lines.append(f"{batch.path}: ignored column{'s' if len(batch.ignored) > 1 else ''} {names} (not read)")
    numbers = [row for row in batch.rows if row.number is not None]
    if numbers:
        shown = ", ".join(row.order_shown for row in numbers[:_LISTED])
        more = f" and {len(numbers) - _LISTED} more" if len(numbers) > _LISTED else ""
        lines.append(f"{batch.path}: order numbers found on Wix: {shown}{more}")
    read = [row for row in batch.rows if row.amount_read is not None]
    if read:
        shown = "; ".join(f"line {row.line}: {row.amount_read}" for row in read[:_LISTED])
        more = f"; and {len(read) - _LISTED} more" if len(read) > _LISTED else ""
        lines.append(f"{batch.path}: amounts read with a decimal comma (semicolon-separated file): {shown}{more}")
    return lines
