"""wix-refunds batch, end to end as a subprocess against FakeWix served on loopback."""

from __future__ import annotations

import json
import re
import select
import signal
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wix_refunds import RefundRequest
from wix_refunds.core._references import derive_reference
from wix_refunds.testing import FakeWix

from .command import OLD, cli, records, run_on_terminal, start, write_csv

# --- a strict CSV ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("order_id,amount", "has 3 fields but the header has 2 (extra: '50'); quote a value that holds a comma."),
        ("order_id,amount,reason", "look like the amount 12,50 split at a decimal comma; write 12.50"),
    ],
)
def test_an_unquoted_decimal_comma_is_a_bad_row_never_a_refund_of_its_first_half(
    fake: FakeWix, served: str, tmp_path: Path, header: str, says: str
) -> None:
    oid = fake.add_order(total="50")
    path = write_csv(tmp_path / "in.csv", [f"{oid},12,50"], header=header)
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 1
    assert f"in.csv:2 order {oid}: " in result.stdout
    assert says in result.stdout
    assert fake.writes == []


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ('"12,50"', "has a decimal comma; use a point: 12.50"),
        ("1e1", "is in exponent form; write it in plain digits: 10"),
        ("1_0", "has underscores; write the digits without them: 10"),
        ("-5", "has a sign"),
    ],
)
def test_amounts_follow_the_librarys_money_rules_and_say_what_to_write(
    fake: FakeWix, served: str, tmp_path: Path, amount: str, says: str
) -> None:
    oid = fake.add_order(total="50")
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "in.csv", [f"{oid},{amount},,"])), "--yes")
    assert result.returncode == 1
    assert "in.csv:2: refused: amount " in result.stderr
    assert says in result.stderr
    assert fake.writes == []


@pytest.mark.parametrize("header", ["Order ID,Amount", "ORDER_ID,AMOUNT", " order id , amount "])
def test_headers_match_ignoring_case_spaces_and_underscores(
    fake: FakeWix, served: str, tmp_path: Path, header: str
) -> None:
    oid = fake.add_order(total="50")
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "in.csv", [f"{oid},5"], header=header)), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.refunded_total(oid) == Decimal("5")


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(fake: FakeWix, served: str, tmp_path: Path, delimiter: str) -> None:
    oid = fake.add_order(total="50")
    path = tmp_path / "in.csv"
    path.write_text(f"order_id{delimiter}amount{delimiter}reason\n{oid}{delimiter}7.50{delimiter}late, sorry\n")
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.refunded_total(oid) == Decimal("7.50")


def _latin1(path: Path) -> None:
    path.write_bytes("order_id,reason\n3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41,r\xe9clamation\n".encode("latin-1"))


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_latin1, "in.csv:2: the file is not UTF-8 text (byte 0xe9 cannot be read); save it as UTF-8"),
        (lambda p: p.write_text(""), "in.csv is empty: its first line must be a header"),
        (lambda p: p.write_text("\n\n  \n"), "in.csv is empty"),
        (lambda p: None, "in.csv: no such file"),
        (lambda p: p.mkdir(), "in.csv is a folder, not a CSV file"),
        (
            lambda p: p.write_text("id;amount\nx;1\n"),
            "in.csv:1: no order_id or order_number column; found 'id', 'amount'; the header needs order_id",
        ),
        (
            lambda p: p.write_text("order_id,ammount\n"),
            "unknown column 'ammount' (found 'order_id', 'ammount')",
        ),
        (
            lambda p: p.write_text("3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41,5\n"),
            "in.csv:1 is a row, not a header",
        ),
    ],
    ids=["latin-1", "empty", "blank", "missing", "folder", "no-order-id", "misspelt", "no-header"],
)
def test_a_file_that_cannot_be_used_is_a_sentence_and_exit_2(
    fake: FakeWix, served: str, tmp_path: Path, make: object, says: str
) -> None:
    path = tmp_path / "in.csv"
    make(path)  # type: ignore[operator]
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize("report", ["missing-folder/report.jsonl", "."], ids=["no-folder", "a-folder"])
def test_an_unwritable_report_is_a_sentence_and_exit_2_before_anything_is_sent(
    fake: FakeWix, served: str, tmp_path: Path, report: str
) -> None:
    oid = fake.add_order()
    path = write_csv(tmp_path / "in.csv", [f"{oid},,,"])
    result = cli(fake, served, "batch", str(path), "--yes", "--report", str(tmp_path / report))
    assert result.returncode == 2
    assert "cannot be written" in result.stderr or "cannot be read" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake.requests == []


def test_bad_rows_are_reported_by_line_with_what_to_write_and_the_rest_go_on(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    good = [fake.add_order(created=OLD), fake.add_order(), fake.add_order(total="50")]
    rows = [f"{good[0]},,,", "not-an-id,,,", f"{good[1]},,,", f"{good[2]},ten,,", f"{good[2]},10,late,b-1"]
    report = tmp_path / "report.jsonl"
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "in.csv", rows)), "--report", str(report), "--yes")
    assert result.returncode == 1
    assert (
        "in.csv:3: refused: order_id 'not-an-id' is not a Wix order ID or order number; write the order's GUID"
        in result.stderr
    )
    assert "in.csv:5: refused: amount 'ten' is not a plain decimal amount" in result.stderr
    assert "3/3 rows done, 0 failed" in result.stderr
    assert "BAD ROWS" in result.stdout
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(d["order_id"] for d in lines) == sorted(good)
    assert fake.refunded_total(good[2]) == Decimal("10")


# --- rows are the unit ----------------------------------------------------------------------


def test_an_identical_second_row_is_refused_as_a_duplicate_of_its_first_line(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="80")
    rows = [f"{oid},10,late,", f"{oid},10,late,", f"{oid},10,late,second-refund"]
    path = write_csv(tmp_path / "in.csv", rows)
    dry = cli(fake, served, "batch", str(path), "--dry-run")
    assert "in.csv:3: refused: is the same refund as line 2" in dry.stderr
    assert fake.writes == []
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 1
    assert "in.csv:3 order " + oid + ": is the same refund as line 2" in result.stdout
    # The row with its own reference is a refund of its own.
    assert fake.count_writes("refund", oid) == 2
    assert fake.refunded_total(oid) == Decimal("20")


def test_a_row_given_another_rows_derived_reference_is_refused_naming_both_lines_not_merged_into_its_refund(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="80")
    derived = derive_reference(oid, RefundRequest(amount=Decimal("5")))
    path = write_csv(tmp_path / "in.csv", [f"{oid},5,,", f"{oid},7,,{derived}"])
    result = cli(fake, served, "--json", "batch", str(path), "--yes")
    assert result.returncode == 1
    out = records(result.stdout)
    (refused,) = [r for r in out if r["type"] == "row_error"]
    assert refused["line"] == 3
    assert f"is a duplicate of line 2: both end with reference '{derived}'" in refused["message"]
    assert [(r["line"], r["status"]) for r in out if r["type"] == "order"] == [(2, "COMPLETED")]
    assert fake.count_writes("refund", oid) == 1
    assert fake.refunded_total(oid) == Decimal("5")


def test_running_the_same_file_again_without_a_report_refunds_unreferenced_partials_once(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    a, b = fake.add_order(total="80"), fake.add_order(total="80")
    rows = [f"{a},10,late,", f"{a},10,damaged,", f"{b},25,,", f"{b},5,,"]
    path = write_csv(tmp_path / "in.csv", rows)
    first = records(cli(fake, served, "--json", "batch", str(path), "--yes").stdout)
    assert [r["status"] for r in first if r["type"] == "order"] == ["COMPLETED"] * 4
    # Another file with the same rows in another order: the same refunds, found on Wix.
    again = cli(fake, served, "batch", str(write_csv(tmp_path / "copy.csv", rows[::-1])), "--yes", "--json")
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in records(again.stdout) if r["type"] == "order"] == ["ALREADY_DONE"] * 4
    assert fake.count_writes("refund") == 4
    assert fake.refunded_total(a) == Decimal("20")
    assert fake.refunded_total(b) == Decimal("30")
    references = {r["reference"] for r in first if r["type"] == "order"}
    assert len(references) == 4
    assert all(ref.startswith("b-") for ref in references)


def test_resume_skips_the_rows_its_report_shows_done_never_the_whole_order(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid, other = fake.add_order(total="80"), fake.add_order(total="80")
    report = tmp_path / "report.jsonl"
    cli(fake, served, "batch", str(write_csv(tmp_path / "a.csv", [f"{oid},10,,r-1"])), "--report", str(report), "--yes")
    # A dry run and a failure are in the report too; neither counts as done.
    cli(
        fake,
        served,
        "batch",
        str(write_csv(tmp_path / "b.csv", [f"{other},5,,"])),
        "--report",
        str(report),
        "--dry-run",
    )
    rows = [f"{oid},10,,r-1", f"{oid},15,,r-2", f"{other},5,,"]
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "c.csv", rows)), "--report", str(report), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"1 row already done in an earlier run ({report}): skipped" in result.stdout
    assert f"order {oid}" not in result.stdout  # a skipped row is counted, not listed
    assert fake.refunded_total(oid) == Decimal("25")
    assert fake.refunded_total(other) == Decimal("5")
    assert fake.count_writes("refund") == 3


def test_a_torn_last_report_line_is_set_aside_before_appending(fake: FakeWix, served: str, tmp_path: Path) -> None:
    oid, more = fake.add_order(), fake.add_order()
    report = tmp_path / "report.jsonl"
    cli(fake, served, "batch", str(write_csv(tmp_path / "a.csv", [f"{oid},1,,"])), "--report", str(report), "--yes")
    report.write_text(report.read_text() + '{"type": "order", "order_id": "cut-off-li')  # an interrupted write
    rows = [f"{oid},1,,", f"{more},1,,"]
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "b.csv", rows)), "--report", str(report), "--yes")
    assert result.returncode == 0, result.stderr
    assert "report.jsonl:2: the last line was cut short (an interrupted run); moved it to" in result.stderr
    assert (tmp_path / "report.jsonl.torn-1").read_text() == '{"type": "order", "order_id": "cut-off-li'
    lines = [json.loads(line) for line in report.read_text().splitlines()]  # every line reads back
    assert [d["order_id"] for d in lines] == [oid, more]
    assert fake.count_writes("refund") == 2


# --- batches ask first ----------------------------------------------------------------------


def test_a_batch_off_a_terminal_needs_yes(fake: FakeWix, served: str, tmp_path: Path) -> None:
    oid = fake.add_order()
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "in.csv", [f"{oid},,,"])), stdin="y\n")
    assert result.returncode == 2
    assert "add --yes" in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize(("answer", "refunds"), [("y", 2), ("n", 0)])
def test_a_batch_on_a_terminal_shows_the_totals_and_asks_first(
    fake: FakeWix, served: str, tmp_path: Path, answer: str, refunds: int
) -> None:
    orders = [fake.add_order(total="45"), fake.add_order(total="10"), fake.add_order(created=OLD)]
    refused = fake.add_order(payments="refund_disabled")
    rows = [f"{orders[0]},,,", f"{orders[1]},2.50,,", f"{orders[2]},,,", "nope,,,", f"{refused},,,"]
    path = write_csv(tmp_path / "in.csv", rows)
    code, text = run_on_terminal(fake, ["batch", str(path), "--base-url", served], answer)
    assert "in.csv: 4 rows checked on Wix (nothing sent yet):" in text
    assert "to refund through Wix: 2 orders, 47.50 USD" in text
    assert "to cancel: 1 order" in text
    assert "refused, not run: 2 rows" in text
    assert "in.csv:5 order nope: order_id 'nope' is not a Wix order ID" in text
    assert f"in.csv:6 order {refused}: " in text
    assert "Go ahead? [y/N]" in text
    assert fake.count_writes("refund") == refunds
    if answer == "n":
        assert code == 0
        assert "Nothing was done." in text
        assert fake.writes == []
    else:
        assert code == 1  # the refused rows
        assert fake.count_writes("cancel", orders[2]) == 1


def test_a_dry_run_lists_each_orders_plan_and_the_totals(fake: FakeWix, served: str, tmp_path: Path) -> None:
    ids = [fake.add_order(created=OLD, fulfillments=1), fake.add_order(), fake.add_order(currency="JPY", total="1000")]
    rows = [f"{ids[0]},,,", f"{ids[1]},12.5,,", f"{ids[2]},,,"]
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "in.csv", rows)), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"in.csv:2 order #10001 ({ids[0]})" in result.stdout
    assert "UNFULFILL_THEN_CANCEL" in result.stdout
    assert f"first write: refund_payments {ids[1]} 12.50 USD" in result.stdout
    assert "to refund through Wix: 1 order, 12.50 USD" in result.stdout
    assert "to refund through Wix: 1 order, 1000 JPY" in result.stdout
    assert "to cancel: 1 order" in result.stdout
    assert fake.writes == []


# --- nothing hidden -------------------------------------------------------------------------


def test_the_summary_names_every_failed_and_refused_row_and_counts_the_skipped_ones(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    done, disabled, fine = fake.add_order(), fake.add_order(payments="refund_disabled"), fake.add_order()
    report = tmp_path / "report.jsonl"
    cli(fake, served, "batch", str(write_csv(tmp_path / "a.csv", [f"{done},,,"])), "--report", str(report), "--yes")
    rows = [f"{done},,,", f"{disabled},,,", f"{fine},,x[ref:1],", f"{fine},,,"]
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "b.csv", rows)), "--report", str(report), "--yes")
    assert result.returncode == 1
    out, file = result.stdout, tmp_path / "b.csv"
    assert f"refused rows (nothing sent):\n  {file}:4 order {fine}: invalid reason: may not contain '[ref:'" in out
    # The failures come last, so that they stay on the screen.
    (failed,) = re.findall(rf"failed:\n  {re.escape(str(file))}:3 order {disabled}: order 1000.*\n", out)
    assert out.endswith(failed)
    assert "refunds are disabled" in failed
    assert f"1 row already done in an earlier run ({report}): skipped" in out
    assert f"order {done}" not in out


def test_json_lines_give_each_row_its_record_and_end_with_a_summary(fake: FakeWix, served: str, tmp_path: Path) -> None:
    ok, old, disabled = (
        fake.add_order(currency="KWD", total="10.5"),
        fake.add_order(created=OLD),
        fake.add_order(payments="refund_disabled"),
    )
    rows = [f"{ok},1.25,,", f"{old},,,", f"{disabled},,,", "nope,,,"]
    result = cli(fake, served, "--json", "batch", str(write_csv(tmp_path / "in.csv", rows)), "--yes")
    data = records(result.stdout)
    assert [d["type"] for d in data] == ["row_error", "order", "order", "order", "summary"]
    assert data[0] == {"type": "row_error", "file": str(tmp_path / "in.csv"), "line": 5, "order_id": "nope",
                       "message": data[0]["message"]}  # fmt: skip
    by_order = {d["order_id"]: d for d in data if d["type"] == "order"}
    assert by_order[ok]["refunded"] == "1.250"  # KWD has three digits
    assert by_order[ok]["line"] == 2
    assert "returned outside Wix" in by_order[old]["note"]
    error = by_order[disabled]["error"]
    assert set(error) >= {"type", "message", "status", "code", "request_id", "retryable", "reference"}
    assert error["type"] == "RefundNotSupported"
    summary = data[-1]
    assert summary["exit_code"] == 1 == result.returncode
    assert summary["refunded"] == {"KWD": "1.250"}
    assert summary["cancelled"] == 1
    assert (summary["failed"], summary["row_errors"]) == (1, 1)


# --- long runs ------------------------------------------------------------------------------


def _read_until(stream: Any, pattern: str, seconds: float) -> str:
    text = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not re.search(pattern, text):
        if select.select([stream], [], [], 0.2)[0]:
            line = stream.readline()
            if not line:
                break
            text += line
    return text


def test_progress_moves_while_waiting_on_the_rate_limit_with_time_left_from_that_limit(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    ids = [fake.add_order() for _ in range(3)]
    path = write_csv(tmp_path / "in.csv", [f"{o},1,," for o in ids])
    process = start(fake, served, "batch", str(path), "--yes", "--rate-limit", "3")
    assert process.stderr is not None
    seen = _read_until(process.stderr, "waiting on Wix's 3 requests a minute.*left", 20)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)
    assert "waiting on Wix's 3 requests a minute" in seen, seen
    # Three rows: a group's shared reads and two requests a row, nine at three a minute: the
    # third window opens about two minutes in. Minutes, not seconds, and not twice too many.
    minutes = re.search(r"about (\d+)m\d\ds left", seen)
    assert minutes is not None, seen
    assert 1 <= int(minutes.group(1)) <= 3, seen
    assert process.returncode == 143
    # Whether the first row's write (its intent recorded) waits on the limit yet depends on
    # how far the three requests went; tests/test_cli_terminal.py holds what is named.
    assert "stopped by SIGTERM" in err
    assert "to resume, run the same command again" in err


def test_a_terminal_gets_one_line_rewritten_in_place_and_blank_rows_are_not_counted(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    ids = [fake.add_order(), fake.add_order()]
    path = tmp_path / "in.csv"
    path.write_text(f"order_id,amount\n\n{ids[0]},1\n,\n\n{ids[1]},1\n\n")
    code, text = run_on_terminal(fake, ["batch", str(path), "--yes", "--base-url", served], None)
    assert code == 0, text
    assert "\r\x1b[K2/2 rows done, 0 failed" in text
    assert "/4 rows" not in text
    assert "/7 rows" not in text


def test_quiet_prints_no_progress(fake: FakeWix, served: str, tmp_path: Path) -> None:
    oid = fake.add_order()
    result = cli(fake, served, "-q", "batch", str(write_csv(tmp_path / "in.csv", [f"{oid},1,,"])), "--yes")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "COMPLETED" in result.stdout


# --- stopping -------------------------------------------------------------------------------


def test_ctrl_c_in_a_batch_prints_a_partial_summary_the_rows_in_flight_and_how_to_resume(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    ids = [fake.add_order() for _ in range(4)]
    path = write_csv(tmp_path / "in.csv", [f"{o},1,," for o in ids])
    fake.latency = 0.25
    report = tmp_path / "report.jsonl"
    process = start(fake, served, "batch", str(path), "--yes", "--concurrency", "1", "--report", str(report))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (report.exists() and report.read_text().count("\n") >= 1):
        time.sleep(0.05)
    # The next refund is taken and its answer held: a write is in flight when Ctrl-C comes.
    fake.apply_late_next("POST", "/ecom/v1/order-billing/refund-payments", after=5)
    while time.monotonic() < deadline and not [c for c in fake.requests if c.outcome == "late"]:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted (Ctrl-C) while these refunds were in flight:" in err
    assert re.search(r"in\.csv:\d order [0-9a-f-]{36}: a write may be in flight \(reference b-[0-9a-f]{20}\)", err)
    assert "to resume, run the same command again: it waits for any write that may still land" in err
    assert "skips the rows the report shows done" in err
    assert "partial summary (the run was stopped):" in out
    assert "COMPLETED" in out
    fake.latency = 0.0  # the write in flight keeps its own; the resumed run need not crawl
    again = cli(fake, served, "batch", str(path), "--yes", "--report", str(report))
    assert again.returncode == 0, again.stdout + again.stderr
    assert all(fake.refunded_total(o) == Decimal("1") for o in ids)


def test_item_rows_of_one_order_and_reference_make_one_refund_by_item(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="40", line_items=[3, 1])
    one, two = (line["id"] for line in fake.orders[oid]["lineItems"])
    rows = [f"{oid},,returned,ret-1,{one},2,yes", f"{oid},,,ret-1,{two},1,no"]
    path = write_csv(
        tmp_path / "items.csv", rows, header="order_id,amount,reason,reference,line_item_id,quantity,restock"
    )
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.count_writes("refund", oid) == 1
    lines = fake.orders[oid]["lineItems"]
    assert [(line["refundQuantity"], line["restockQuantity"]) for line in lines] == [(2, 2), (1, 0)]
    assert fake.refunded_total(oid) == Decimal("30")
    again = cli(fake, served, "batch", str(path), "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert fake.count_writes("refund", oid) == 1


def test_a_bad_item_row_names_its_line_and_what_to_write(fake: FakeWix, served: str, tmp_path: Path) -> None:
    oid = fake.add_order(total="40", line_items=[3])
    line = fake.orders[oid]["lineItems"][0]["id"]
    rows = [f"{oid},,,r-1,{line},two,", f"{oid},,,r-2,{line},1,maybe"]
    path = write_csv(
        tmp_path / "items.csv", rows, header="order_id,amount,reason,reference,line_item_id,quantity,restock"
    )
    result = cli(fake, served, "batch", str(path), "--yes")
    assert "items.csv:2" in result.stdout + result.stderr
    assert "whole number" in result.stdout + result.stderr
    assert "items.csv:3" in result.stdout + result.stderr
    assert fake.writes == []


# --- a PostgreSQL journal: a small pool, whatever the group -----------------------------------


def _role_with_few_sessions(postgres: Any, name: str, limit: int) -> str:
    """Return the DSN of a new role that may open at most ``limit`` sessions at once (and make the journal's tables)."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS wix_refunds_journal, wix_refunds_locks")
        admin.execute(f"DROP ROLE IF EXISTS {name}")
        admin.execute(f"CREATE ROLE {name} LOGIN CONNECTION LIMIT {limit}")
        admin.execute(f"GRANT CREATE ON SCHEMA public TO {name}")
    return f"postgresql://{name}@127.0.0.1:{postgres.port}/postgres"


def test_a_batch_on_a_postgres_journal_fits_a_role_allowed_few_sessions_and_refunds_each_row_once(
    fake: FakeWix, served: str, postgres: Any, tmp_path: Path
) -> None:
    # The default group (100) and concurrency (8) hold 60 orders at once; the journal's
    # locks are rows, not sessions, so its small pool fits the 8 sessions this role may open.
    dsn = _role_with_few_sessions(postgres, "few_sessions", 8)
    ids = [fake.add_order(total="10") for _ in range(60)]
    path = write_csv(tmp_path / "in.csv", [f"{oid},," for oid in ids], header="order_id,amount,reason")
    report = str(tmp_path / "report.jsonl")
    args = ("--yes", "--json", "--lock-dsn", dsn, "--rate-limit", "100000", "--force", "--report", report)
    first = cli(fake, served, "batch", str(path), *args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert records(first.stdout)[-1]["journal"].startswith("postgresql:user=few_sessions")
    assert all(fake.refunded_total(oid) == Decimal("10") for oid in ids)
    assert all(fake.count_writes("refund", oid) == 1 for oid in ids)


def test_group_size_sets_how_many_orders_a_batch_reads_in_one_request(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    ids = [fake.add_order(created=OLD) for _ in range(7)]
    path = write_csv(tmp_path / "in.csv", [f"{oid},," for oid in ids], header="order_id,amount,reason")
    result = cli(fake, served, "batch", str(path), "--yes", "--group-size", "3", "--rate-limit", "100000", "--force")
    assert result.returncode == 0, result.stderr
    searched = [r.json["search"]["filter"]["id"]["$in"] for r in fake.calls(method="POST", path="*/search")]
    assert sorted(len(group) for group in searched) == [1, 3, 3]
    assert sorted(oid for group in searched for oid in group) == sorted(ids)


@pytest.mark.parametrize("size", ["0", "101", "ten"])
def test_a_group_size_outside_1_to_100_is_a_usage_error(fake: FakeWix, served: str, tmp_path: Path, size: str) -> None:
    oid = fake.add_order(total="10")
    path = write_csv(tmp_path / "in.csv", [f"{oid},,"], header="order_id,amount,reason")
    result = cli(fake, served, "batch", str(path), "--yes", "--group-size", size)
    assert result.returncode == 2
    assert "--group-size" in result.stderr
    assert fake.requests == []
