from __future__ import annotations

import ast
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wix_refunds.core._money as money
from wix_refunds import InvalidRequest
from wix_refunds.core._money import (
    MINOR_UNITS,
    amount_key,
    check_amount,
    format_money,
    minor_units,
    parse_amount,
    wire_amount,
)

FIXTURES = Path(__file__).parent / "fixtures"

currencies = st.sampled_from(sorted(MINOR_UNITS))


def amounts_of(currency: str) -> st.SearchStrategy[Decimal]:
    """Positive amounts with exactly ``currency``'s digits, from its smallest unit to a billion."""
    digits = MINOR_UNITS[currency]
    smallest = Decimal(1).scaleb(-digits)
    return st.decimals(min_value=smallest, max_value=10**9, places=digits, allow_nan=False, allow_infinity=False)


# --- the table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("HUF", 2),
        ("TWD", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("CLP", 0),
        ("ISK", 0),
        ("VND", 0),
        ("UGX", 0),
        ("XAF", 0),
        ("XOF", 0),
        ("XPF", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("JOD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("LYD", 3),
        ("IQD", 3),
        ("CLF", 4),
        ("UYW", 4),
        ("BYR", 0),
        ("HRK", 2),
    ],
)
def test_minor_units_are_iso_4217s(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits
    assert MINOR_UNITS[currency] == digits


def test_table_holds_every_active_currency_with_digits_and_the_withdrawn_ones_wix_lists() -> None:
    # 165 codes of List one (2026-01-01) with minor units, and 15 withdrawn codes Wix lists.
    assert len(MINOR_UNITS) == 180
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in MINOR_UNITS)
    assert set(MINOR_UNITS.values()) == {0, 2, 3, 4}
    assert list(MINOR_UNITS) == sorted(MINOR_UNITS)


def test_no_code_is_listed_twice_in_the_tables_source() -> None:
    listed = [
        code for group in (money._LIST_ONE, money._WIX_HISTORIC) for codes in group.values() for code in codes.split()
    ]
    assert len(listed) == len(set(listed)) == len(MINOR_UNITS)


@pytest.mark.parametrize("code", ["XAU", "XAG", "XDR", "XTS", "XXX", "SDD", "DEM"])
def test_codes_without_minor_units_or_long_gone_are_not_in_the_table(code: str) -> None:
    assert code not in MINOR_UNITS


def test_table_cannot_be_changed_by_a_caller() -> None:
    with pytest.raises(TypeError):
        MINOR_UNITS["USD"] = 3  # type: ignore[index]


def test_every_currency_wix_lists_has_minor_units() -> None:
    listed = json.loads((FIXTURES / "list-currencies-response-1.json").read_text(encoding="utf-8"))
    codes = [currency["code"] for currency in listed["currencies"]]
    assert len(codes) == 156
    assert [code for code in codes if code not in MINOR_UNITS] == []
    for code in codes:
        assert format_money(Decimal(1), code) == f"{format_money(Decimal(1), code, code=False)} {code}"


@pytest.mark.parametrize("code", ["XYZ", "", "US", "USDD", "€"])
def test_unknown_currency_is_refused_naming_the_code(code: str) -> None:
    with pytest.raises(InvalidRequest, match="not an ISO 4217 currency code") as info:
        minor_units(code)
    assert info.value.field == "currency"
    assert repr(code) in info.value.problem


@pytest.mark.parametrize("code", ["usd", "Usd", " USD", "USD\n"])
def test_currency_written_unlike_iso_is_refused_with_the_iso_spelling(code: str) -> None:
    with pytest.raises(InvalidRequest, match="as ISO 4217 writes it: USD") as info:
        minor_units(code)
    assert info.value.field == "currency"


# --- parse_amount: what people and CSV files write -------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.5", Decimal("12.5")),
        ("12.50", Decimal("12.50")),
        ("0.5", Decimal("0.5")),
        ("10", Decimal("10")),
        ("0", Decimal("0")),
        ("007.10", Decimal("7.10")),
        ("  12.50\t\n", Decimal("12.50")),
        ("\u00a012.50\u00a0", Decimal("12.50")),
        ("123456789012345678901234567890.12", Decimal("123456789012345678901234567890.12")),
        (10, Decimal(10)),
        (0, Decimal(0)),
        (Decimal("12.50"), Decimal("12.50")),
        (Decimal("1E+3"), Decimal("1000")),
    ],
)
def test_plain_decimal_text_ints_and_finite_decimals_are_accepted(
    value: Decimal | int | str, expected: Decimal
) -> None:
    parsed = parse_amount(value)
    assert parsed == expected
    assert isinstance(parsed, Decimal)


def test_parsed_text_keeps_the_digits_it_was_written_with() -> None:
    assert parse_amount("12.50").as_tuple().exponent == -2
    assert parse_amount("12.5").as_tuple().exponent == -1


def test_numbers_keep_their_sign_for_check_amount_to_judge() -> None:
    assert parse_amount(-5) == Decimal(-5)
    assert parse_amount(Decimal("-5.00")) == Decimal("-5.00")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e1", "'1e1' is in exponent form; write it in plain digits: 10"),
        ("1E+1", "'1E+1' is in exponent form; write it in plain digits: 10"),
        ("1.5e-3", "'1.5e-3' is in exponent form; write it in plain digits: 0.0015"),
        ("1e999999", "'1e999999' is in exponent form; write it in plain digits"),
        ("1_0", "'1_0' has underscores; write the digits without them: 10"),
        ("1_000.50", "'1_000.50' has underscores; write the digits without them: 1000.50"),
        ("1_000,50", "'1_000,50' has underscores; write the digits without them"),
        ("12,50", "'12,50' has a decimal comma; use a point: 12.50"),
        ("0,5", "'0,5' has a decimal comma; use a point: 0.5"),
        ("1,000", "'1,000' is ambiguous; without thousands separators write 1000, or with a decimal point 1.000"),
        ("1,234.50", "'1,234.50' has thousands separators; write the amount without them: 1234.50"),
        ("1,234,567", "'1,234,567' has thousands separators; write the amount without them: 1234567"),
        ("1.234,50", "'1.234,50' has thousands separators and a decimal comma; use a point and no separators: 1234.50"),
        ("1 234,50", "'1 234,50' has thousands separators and a decimal comma; use a point and no separators: 1234.50"),
        ("1 234.50", "'1 234.50' has thousands separators; write the amount without them: 1234.50"),
        ("1\u202f234.50", "has thousands separators; write the amount without them: 1234.50"),
        ("1'000", '"1\'000" has thousands separators; write the amount without them: 1000'),
        ("1.234.567", "'1.234.567' has more than one point; write one decimal point and no thousands separators"),
        ("-5", "'-5' has a sign; write the amount to refund without one: 5"),
        ("+5", "'+5' has a sign; write the amount to refund without one: 5"),
        ("\u22125", "has a sign; write the amount to refund without one: 5"),
        ("-1e3", "'-1e3' has a sign; write the amount to refund without one"),
        ("NaN", "'NaN' is not a number"),
        ("nan", "'nan' is not a number"),
        ("sNaN", "'sNaN' is not a number"),
        ("Infinity", "'Infinity' is not a number"),
        ("-inf", "'-inf' is not a number"),
        ("", "the text is empty; write an amount such as 12.50"),
        ("   ", "the text is empty; write an amount such as 12.50"),
        (".5", "'.5' has no digit before the point; write 0.5"),
        ("5.", "'5.' has no digit after the point; write 5"),
        ("$12.50", "'$12.50' has more than the number; write only the amount: 12.50"),
        ("12.50 USD", "'12.50 USD' has more than the number; write only the amount: 12.50"),
        ("\uff11\uff12", "is not a plain decimal amount; write digits 0-9 and at most one point, such as 12.50"),
        ("\u0661\u0662", "is not a plain decimal amount; write digits 0-9"),
        ("twelve", "'twelve' is not a plain decimal amount"),
        ("0x10", "'0x10' is not a plain decimal amount"),
        ("1/2", "'1/2' is not a plain decimal amount"),
        (12.5, "12.5 is a float, and floats lose cents; pass a Decimal or text such as '12.50'"),
        (float("nan"), "nan is a float, and floats lose cents"),
        (True, "True is a bool, not an amount"),
        (False, "False is a bool, not an amount"),
        (None, "expected a Decimal, an int or text, got NoneType"),
        (b"12.50", "expected a Decimal, an int or text, got bytes"),
        (Decimal("NaN"), "NaN is not a number; pass a finite amount"),
        (Decimal("-Infinity"), "-Infinity is not a number; pass a finite amount"),
    ],
)
def test_anything_but_a_plain_decimal_is_refused_saying_what_to_write(value: object, problem: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_amount(value, field="rows[3].amount")  # type: ignore[arg-type]
    assert info.value.field == "rows[3].amount"
    assert problem in info.value.problem


def test_a_long_refused_text_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_amount("x" * 10_000)
    assert len(info.value.message) < 200


# --- check_amount: the amount against its currency ---------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("10", "USD", "10.00"),
        ("10.5", "USD", "10.50"),
        ("10.000", "USD", "10.00"),
        ("0.01", "USD", "0.01"),
        ("100", "JPY", "100"),
        ("100.000", "JPY", "100"),
        ("1E+3", "JPY", "1000"),
        ("1.234", "KWD", "1.234"),
        ("1.2345000", "CLF", "1.2345"),
        ("123456789012345678901234567890", "USD", "123456789012345678901234567890.00"),
    ],
)
def test_amount_the_currency_can_hold_is_returned_with_exactly_its_digits(
    amount: str, currency: str, expected: str
) -> None:
    checked = check_amount(Decimal(amount), currency)
    assert str(checked) == expected
    assert checked == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency", "problem"),
    [
        ("10.005", "USD", "10.005 is finer than USD allows (2 decimal places); write 10.00 or 10.01"),
        ("100.5", "JPY", "100.5 is finer than JPY allows (no decimal places); write 100 or 101"),
        ("1.2345", "KWD", "1.2345 is finer than KWD allows (3 decimal places); write 1.234 or 1.235"),
        ("0.001", "USD", "0.001 is finer than USD allows (2 decimal places); write 0.01"),
        ("1E-50", "USD", "1E-50 is finer than USD allows (2 decimal places); write 0.01"),
        ("0", "USD", "0 USD is not above zero"),
        ("0.00", "USD", "0.00 USD is not above zero"),
        ("-0", "USD", "0 USD is not above zero"),
        ("-5", "USD", "-5 USD is not above zero"),
        ("NaN", "USD", "NaN is not a number"),
        ("Infinity", "USD", "Infinity is not a number"),
    ],
)
def test_amount_the_currency_cannot_hold_is_refused_naming_amount_currency_and_digits(
    amount: str, currency: str, problem: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        check_amount(Decimal(amount), currency, field="refund.amount")
    assert info.value.field == "refund.amount"
    assert problem in info.value.problem


def test_amount_in_an_unknown_currency_is_refused_on_the_currency() -> None:
    with pytest.raises(InvalidRequest) as info:
        check_amount(Decimal("10"), "XYZ")
    assert info.value.field == "currency"
    assert "'XYZ'" in info.value.problem


@given(
    currency=currencies,
    coefficient=st.integers(min_value=1, max_value=10**12),
    exponent=st.integers(min_value=-8, max_value=4),
)
def test_check_amount_accepts_exactly_the_amounts_with_no_digit_finer_than_the_currency(
    currency: str, coefficient: int, exponent: int
) -> None:
    amount = Decimal(coefficient).scaleb(exponent)
    digits = MINOR_UNITS[currency]
    # Counted with fractions, independently of Decimal's exponents and contexts.
    fits = (Fraction(amount) * 10**digits).denominator == 1
    if fits:
        checked = check_amount(amount, currency)
        assert checked == amount
        assert checked.as_tuple().exponent == -digits
    else:
        with pytest.raises(InvalidRequest, match=f"finer than {currency} allows"):
            check_amount(amount, currency)


@given(currency=currencies, coefficient=st.integers(min_value=1, max_value=10**12))
def test_check_amount_accepts_a_normalised_amount_exactly_when_its_exponent_is_at_least_minus_digits(
    currency: str, coefficient: int
) -> None:
    digits = MINOR_UNITS[currency]
    for exponent in range(-digits - 3, 3):
        amount = Decimal(coefficient).scaleb(exponent).normalize()
        normalised_exponent = amount.as_tuple().exponent
        assert isinstance(normalised_exponent, int)
        accepted = normalised_exponent >= -digits
        try:
            check_amount(amount, currency)
        except InvalidRequest:
            assert not accepted
        else:
            assert accepted


# --- format_money, wire_amount, amount_key -------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("12.5", "USD", "12.50"),
        ("35.0", "USD", "35.00"),
        ("2.0", "EUR", "2.00"),
        ("0", "USD", "0.00"),
        ("215.66", "USD", "215.66"),
        ("1000", "JPY", "1000"),
        ("1E+3", "JPY", "1000"),
        ("1.00E+3", "USD", "1000.00"),
        ("10.125", "KWD", "10.125"),
        ("10.1", "KWD", "10.100"),
        ("5", "CLF", "5.0000"),
        ("-12.5", "USD", "-12.50"),
        ("-0.0", "USD", "0.00"),
        ("1E-7", "USD", "0.0000001"),
        ("10.005", "USD", "10.005"),
        ("10.00500", "USD", "10.005"),
        ("100.5", "JPY", "100.5"),
        ("35.0", "XYZ", "35"),
        ("35.50", "XYZ", "35.5"),
        ("1E+3", "XYZ", "1000"),
        ("0.000", "XYZ", "0"),
        ("-0", "XYZ", "0"),
        ("NaN", "USD", "NaN"),
        ("-Infinity", "USD", "-Infinity"),
    ],
)
def test_format_money_without_the_code_writes_the_currencys_digits_in_plain_text_and_never_raises(
    amount: str, currency: str, text: str
) -> None:
    assert format_money(Decimal(amount), currency, code=False) == text


def test_format_money_puts_the_code_after_the_amount() -> None:
    assert format_money(Decimal("12.5"), "USD") == "12.50 USD"
    assert format_money(Decimal("1E+3"), "JPY") == "1000 JPY"
    assert format_money(Decimal("35.0"), "XYZ") == "35 XYZ"


@pytest.mark.parametrize("currency", [None, ""])
@pytest.mark.parametrize(
    ("amount", "text"), [("12.5", "12.5"), ("12.50", "12.50"), ("1E+1", "10"), ("-0.00", "0.00"), ("NaN", "NaN")]
)
def test_format_money_without_a_currency_writes_the_amount_as_it_is_and_no_code(
    amount: str, text: str, currency: str | None
) -> None:
    assert format_money(Decimal(amount), currency) == text
    assert format_money(Decimal(amount), currency, code=False) == text


@pytest.mark.parametrize(
    ("amount", "text"), [("12.5", "12.5"), ("12.50", "12.50"), ("1E+1", "10"), ("1E-7", "0.0000001")]
)
def test_wire_amount_without_a_currency_sends_the_amount_as_given_in_plain_digits(amount: str, text: str) -> None:
    assert wire_amount(Decimal(amount), None) == text


@pytest.mark.parametrize(
    ("written", "key"), [("12.5", "12.5"), ("12.50", "12.5"), ("12.500", "12.5"), ("1E+2", "100"), ("100.00", "100")]
)
def test_amount_key_names_an_amount_by_its_value_however_it_is_written(written: str, key: str) -> None:
    assert amount_key(Decimal(written)) == key


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("12.5", "USD", "12.50"), ("35.0", "USD", "35.00"), ("1E+3", "JPY", "1000"), ("10.1250", "KWD", "10.125")],
)
def test_wire_amount_is_the_formatted_amount_for_an_amount_the_currency_holds(
    amount: str, currency: str, text: str
) -> None:
    assert wire_amount(Decimal(amount), currency) == text == format_money(Decimal(amount), currency, code=False)


@pytest.mark.parametrize(
    ("amount", "currency", "field", "problem"),
    [
        ("10.005", "USD", "amount", "10.005 is finer than USD allows (2 decimal places) and cannot be sent to Wix"),
        ("100.5", "JPY", "amount", "100.5 is finer than JPY allows (no decimal places)"),
        ("NaN", "USD", "amount", "NaN is not a number and cannot be sent to Wix"),
        ("12.50", "XYZ", "currency", "'XYZ' is not an ISO 4217 currency code"),
    ],
)
def test_wire_amount_sends_nothing_the_currency_cannot_hold(
    amount: str, currency: str, field: str, problem: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        wire_amount(Decimal(amount), currency)
    assert info.value.field == field
    assert problem in info.value.problem


@given(data=st.data(), currency=currencies)
def test_formatted_amount_parses_back_to_the_same_amount_with_the_same_text(data: st.DataObject, currency: str) -> None:
    amount = data.draw(amounts_of(currency))
    text = format_money(amount, currency, code=False)
    parsed = parse_amount(text)
    assert parsed == amount
    assert check_amount(parsed, currency) == amount
    assert format_money(parsed, currency, code=False) == text == wire_amount(amount, currency)
    digits = MINOR_UNITS[currency]
    assert len(text.partition(".")[2]) == digits


@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**40), max_value=10**40),
    currency=st.one_of(currencies, st.sampled_from(["XYZ", "usd", ""])),
)
def test_formatted_amount_is_never_in_exponent_form_or_negative_zero(amount: Decimal, currency: str) -> None:
    text = format_money(amount, currency, code=False)
    assert "E" not in text
    assert "e" not in text
    assert text.lstrip("-") == text or amount < 0
    assert Decimal(text) == amount


@given(data=st.data(), currency=currencies, zeros=st.integers(min_value=0, max_value=6))
def test_formatted_amount_is_the_same_text_however_wix_wrote_the_amount(
    data: st.DataObject, currency: str, zeros: int
) -> None:
    amount = data.draw(amounts_of(currency))
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    padded = Decimal((sign, (*digits, *(0,) * zeros), exponent - zeros))
    assert (
        format_money(padded, currency, code=False)
        == format_money(amount.normalize(), currency, code=False)
        == format_money(amount, currency, code=False)
    )


# --- purity ---------------------------------------------------------------------------


def test_money_module_imports_nothing_that_does_io_or_reads_the_clock() -> None:
    tree = ast.parse(Path(money.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= {"__future__", "collections.abc", "decimal", "re", "types", "_errors"}
