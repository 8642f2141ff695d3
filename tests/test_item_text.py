"""One reader of a refunded line item as a person writes it, for ``--item`` and a batch row alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from wix_refunds import InvalidRequest, RefundItem
from wix_refunds.cli._batch_file import read_batch_file
from wix_refunds.cli._item_text import parse_item, parse_item_option

ORDER = "3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41"


@pytest.mark.parametrize(
    ("word", "restocked"),
    [
        ("", 0),
        ("no", 0),
        ("false", 0),
        ("0", 0),
        ("yes", 3),
        ("true", 3),
        ("restock", 3),
        (" RESTOCK ", 3),
        ("Yes", 3),
        ("2", 2),
        ("3", 3),
    ],
)
def test_every_restock_word_means_the_same_in_an_option_and_in_a_batch_row(
    tmp_path: Path, word: str, restocked: int
) -> None:
    from_option = parse_item_option(f"L-1:3:{word}") if word else parse_item_option("L-1:3")
    path = tmp_path / "items.csv"
    path.write_text(f"order_id,reference,line_item_id,quantity,restock\n{ORDER},r-1,L-1,3,{word}\n")
    (row,) = read_batch_file(str(path)).rows
    (from_row,) = row.request.items
    assert from_option == from_row == parse_item("L-1", "3", word)
    assert (from_option.line_item_id, from_option.quantity, from_option.restock_quantity) == ("L-1", 3, restocked)


@pytest.mark.parametrize(
    ("quantity", "restock", "field", "problem"),
    [
        ("two", "", "quantity", "'two' is not a whole number"),
        ("²", "", "quantity", "'²' is not a whole number"),
        ("-1", "", "quantity", "'-1' is not a whole number"),
        ("1", "maybe", "restock", "'maybe': write yes, true or restock (all), no or false (none), or how many"),
        ("1", "-1", "restock", "'-1': write yes"),
        ("0", "", "quantity", "0 is not a whole number 1 to"),
        ("1", "2", "restock", "restocking 2 is more than the 1 refunded"),
    ],
)
def test_a_quantity_or_restock_word_it_does_not_know_is_refused_naming_the_field(
    quantity: str, restock: str, field: str, problem: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_item("L-1", quantity, restock)
    assert info.value.field == field
    assert problem in info.value.problem


@pytest.mark.parametrize("text", ["L-1", "L-1:1:yes:2", ""])
def test_an_option_without_two_or_three_parts_is_refused_saying_how_to_write_it(text: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_item_option(text)
    assert info.value.field == "item"
    assert "LINE_ID:QTY[:RESTOCK]" in info.value.problem


def test_the_line_id_is_read_without_the_spaces_around_it() -> None:
    assert parse_item_option(" L-1 : 2 : yes ") == RefundItem(line_item_id="L-1", quantity=2, restock=True)
