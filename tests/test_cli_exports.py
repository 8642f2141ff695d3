"""wix-refunds batch, refund and plan with files and orders as ops people have them (issue 24).

Against FakeWix served on loopback: exports with other columns, a European spreadsheet's
decimal commas, order numbers instead of IDs, and IDs in upper case.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from wix_refunds.testing import FakeWix

from .command import cli, records, run_on_terminal, write_csv

EXPORTS = Path(__file__).parent / "exports"
ANA = "6c9e1a52-3b7d-4e8f-9a10-2b3c4d5e6f70"
BEN = "0f1e2d3c-4b5a-4968-8776-655443322110"
CLEO = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _export(tmp_path: Path, name: str) -> str:
    return str(shutil.copy(EXPORTS / name, tmp_path / name))


def _refunded(fake: FakeWix, order_id: str) -> Decimal:
    return fake.refunded_total(order_id)


def _number_searches(fake: FakeWix) -> list[dict[str, object]]:
    searches = [call.json["search"] for call in fake.calls(method="POST", path="/ecom/v1/orders/search")]
    return [search for search in searches if "id" not in search.get("filter", {})]


# --- columns --------------------------------------------------------------------------------


def test_a_wix_dashboard_export_refunds_its_rows_and_names_the_columns_it_ignored(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    fake.add_order(order_id=ANA, total="35")
    fake.add_order(order_id=BEN, total="35")
    result = cli(fake, served, "batch", _export(tmp_path, "wix-dashboard.csv"), "--yes")
    assert result.returncode == 0, result.stderr
    ignored = "'Order #', 'Date Created', 'Customer Email', 'Billing Name', 'Payment Method', 'Total'"
    assert f"wix-dashboard.csv: ignored columns {ignored} (not read)" in result.stderr
    assert result.stderr.count("ignored column") == 1
    assert _refunded(fake, ANA) == Decimal("12.50")
    assert _refunded(fake, BEN) == Decimal("35")


def test_an_upper_case_order_id_is_sent_in_wixs_lower_case(fake: FakeWix, served: str, tmp_path: Path) -> None:
    fake.add_order(order_id=ANA, total="35")
    fake.add_order(order_id=BEN, total="35")
    cli(fake, served, "batch", _export(tmp_path, "wix-dashboard.csv"), "--yes")
    paths = [call.path for call in fake.requests]
    assert not [path for path in paths if ANA.upper() in path]
    assert not [call for call in fake.requests if call.status == 404]


@pytest.mark.parametrize("header", ["order_id,amout,Customer Email", "order_id,Refund Amount,Customer Email"])
def test_a_misspelt_amount_column_never_turns_partial_refunds_into_full_ones(
    fake: FakeWix, served: str, tmp_path: Path, header: str
) -> None:
    oid = fake.add_order(total="35")
    path = write_csv(tmp_path / "in.csv", [f"{oid},12.50,ana@example.com"], header=header)
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 2
    assert "Other columns are ignored only when the file has an amount column, or with --full" in result.stderr
    assert fake.requests == []


def test_full_says_every_row_is_a_full_refund_and_lets_other_columns_be(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="35")
    path = write_csv(tmp_path / "in.csv", [f"{oid},ana@example.com"], header="order_id,Customer Email")
    result = cli(fake, served, "batch", str(path), "--full", "--yes")
    assert result.returncode == 0, result.stderr
    assert "in.csv: ignored column 'Customer Email' (not read)" in result.stderr
    assert _refunded(fake, oid) == Decimal("35")


def test_full_with_an_amount_column_is_refused_before_anything_is_sent(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="35")
    path = write_csv(tmp_path / "in.csv", [f"{oid},5"], header="order_id,amount")
    result = cli(fake, served, "batch", str(path), "--full", "--yes")
    assert result.returncode == 2
    assert "--full refunds everything refundable of each order, but the file has the column amount" in result.stderr
    assert fake.requests == []


# --- amounts --------------------------------------------------------------------------------


def test_a_european_excel_file_reads_decimal_commas_and_shows_how(fake: FakeWix, served: str, tmp_path: Path) -> None:
    for order_id in (ANA, BEN, CLEO):
        fake.add_order(order_id=order_id, total="35")
    result = cli(fake, served, "batch", _export(tmp_path, "excel-european.csv"), "--yes")
    assert result.returncode == 1  # the thousands point is refused
    assert (
        "excel-european.csv: amounts read with a decimal comma (semicolon-separated file): "
        "line 2: 12,50 -> 12.50; line 3: 7,5 -> 7.5"
    ) in result.stderr
    assert "ignored columns 'Kunde', 'Betrag gesamt'" in result.stderr
    assert "excel-european.csv:4: refused: amount '1.234,50' has thousands separators" in result.stderr
    assert _refunded(fake, ANA) == Decimal("12.50")
    assert _refunded(fake, BEN) == Decimal("7.50")
    assert _refunded(fake, CLEO) == 0


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ('"12,50"', "has a decimal comma; use a point: 12.50"),
        ('"$12.50"', "has more than the number; write only the amount: 12.50"),
        ('"1,234.50"', "has thousands separators; write the amount without them: 1234.50"),
    ],
)
def test_a_comma_file_still_refuses_a_decimal_comma_and_symbols_with_the_fix(
    fake: FakeWix, served: str, tmp_path: Path, amount: str, says: str
) -> None:
    oid = fake.add_order(total="2000")
    result = cli(fake, served, "batch", str(write_csv(tmp_path / "in.csv", [f"{oid},{amount},,"])), "--yes")
    assert result.returncode == 1
    assert says in result.stderr
    assert fake.writes == []


@pytest.mark.parametrize("amount", ["$12.50", "1,234.50"])
def test_a_semicolon_file_refuses_symbols_and_thousands_separators(
    fake: FakeWix, served: str, tmp_path: Path, amount: str
) -> None:
    oid = fake.add_order(total="2000")
    path = write_csv(tmp_path / "in.csv", [f"{oid};{amount}"], header="order_id;amount")
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 1
    assert f"in.csv:2: refused: amount '{amount}'" in result.stderr
    assert fake.writes == []


# --- order numbers --------------------------------------------------------------------------


def test_a_google_sheets_file_of_order_numbers_is_looked_up_in_one_search(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    ids = [fake.add_order(total="35") for _ in range(3)]  # numbers 10001 to 10003
    result = cli(fake, served, "--json", "batch", _export(tmp_path, "google-sheets.csv"), "--yes")
    assert result.returncode == 1  # #10999 names no order
    searches = _number_searches(fake)
    assert searches == [
        {
            "filter": {"$and": [{"number": {"$gte": 10002}}, {"number": {"$lte": 10003}}]},
            "cursorPaging": {"limit": 100},
        },
        {"filter": {"number": {"$eq": 10999}}, "cursorPaging": {"limit": 100}},
    ]
    assert f"order numbers found on Wix: #10002 ({ids[1]}), #10003 ({ids[2]})" in result.stderr
    assert _refunded(fake, ids[1]) == Decimal("5.00")
    assert _refunded(fake, ids[2]) == Decimal("35")
    assert _refunded(fake, ids[0]) == 0
    errors = [r for r in records(result.stdout) if r["type"] == "row_error"]
    assert [(e["line"], e["order_id"]) for e in errors] == [(4, "#10999")]
    assert "order number #10999 is not on Wix" in str(errors[0]["message"])


def test_a_row_by_number_and_a_row_by_id_are_one_refund(fake: FakeWix, served: str, tmp_path: Path) -> None:
    oid = fake.add_order(total="35")
    by_number = write_csv(tmp_path / "numbers.csv", ["#10001,5"], header="order_number,amount")
    by_id = write_csv(tmp_path / "ids.csv", [f"{oid.upper()},5"], header="order_id,amount")
    assert cli(fake, served, "batch", str(by_number), "--yes").returncode == 0
    again = cli(fake, served, "--json", "batch", str(by_id), "--yes")
    assert again.returncode == 0, again.stderr
    assert fake.count_writes("refund", oid) == 1
    assert [r["status"] for r in records(again.stdout) if r["type"] == "order"] == ["ALREADY_DONE"]


def test_a_number_two_orders_share_is_refused_never_guessed(fake: FakeWix, served: str, tmp_path: Path) -> None:
    first, second = fake.add_order(), fake.add_order()
    fake.orders[second]["number"] = fake.orders[first]["number"]
    path = write_csv(tmp_path / "in.csv", ["10001"], header="order_id")
    result = cli(fake, served, "batch", str(path), "--yes")
    assert result.returncode == 1
    assert "in.csv:2: refused: order number #10001 names 2 orders on Wix" in result.stderr
    assert fake.writes == []


def test_refund_and_plan_take_an_order_number_and_show_it_with_the_id(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="35")
    plan = cli(fake, served, "plan", "#10001")
    assert plan.returncode == 0, plan.stderr
    assert f"order #10001 ({oid}): " in plan.stdout
    refund = cli(fake, served, "refund", "10001", "--amount", "5", "--yes")
    assert refund.returncode == 0, refund.stderr
    again = cli(fake, served, "refund", oid.upper(), "--amount", "5", "--yes")
    assert again.returncode == 0, again.stderr
    assert fake.count_writes("refund", oid) == 1


def test_an_unknown_order_number_fails_as_a_missing_order_does(fake: FakeWix, served: str) -> None:
    fake.add_order()
    missing = cli(fake, served, "refund", "3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41", "--yes")
    for command in (["refund", "#10999", "--yes"], ["plan", "#10999"]):
        result = cli(fake, served, *command)
        assert result.returncode == missing.returncode == 1
        assert "order number #10999 is not on Wix" in result.stdout + result.stderr
    assert fake.writes == []


def test_the_preview_on_a_terminal_shows_how_numbers_and_amounts_were_read_before_asking(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="35")
    path = write_csv(tmp_path / "in.csv", ["#10001;12,50;ana@example.com"], header="order_number;amount;Email")
    code, text = run_on_terminal(fake, ["batch", str(path), "--base-url", served], "n")
    assert code == 0
    shown = text.split("[y/N]")[0]
    assert f"in.csv: order numbers found on Wix: #10001 ({oid})" in shown
    assert "in.csv: amounts read with a decimal comma (semicolon-separated file): line 2: 12,50 -> 12.50" in shown
    assert "in.csv: ignored column 'Email' (not read)" in shown
    assert "to refund through Wix: 1 order, 12.50 USD" in shown
    assert fake.writes == []
