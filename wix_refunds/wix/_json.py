"""Reading Wix's JSON: typed getters that name the field a payload gets wrong. No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ..core._errors import InvalidOrderData
from ..core._money import check_read_amount

__all__ = ["is_guid"]

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_guid(value: object) -> bool:
    """Return whether ``value`` is a GUID string (the form of every Wix ID used here)."""
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


def _obj(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidOrderData(field, f"expected an object, got {_kind(value)}")
    return value


def _get(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data or data[key] is None:
        raise InvalidOrderData(f"{path}.{key}" if path else key, "missing")
    return data[key]


def _str(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _get(data, key, path)
    if not isinstance(value, str) or not value:
        raise InvalidOrderData(f"{path}.{key}", f"expected a non-empty string, got {_kind(value)}")
    return value


def _opt_str(data: Mapping[str, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidOrderData(f"{path}.{key}", f"expected a string, got {_kind(value)}")
    return value


def _bool(data: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidOrderData(f"{path}.{key}", f"expected true or false, got {_kind(value)}")
    return value


def _list(data: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidOrderData(f"{path}.{key}", f"expected an array, got {_kind(value)}")
    return value


def _id(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _str(data, key, path)
    if not is_guid(value):
        raise InvalidOrderData(f"{path}.{key}", f"{value!r} is not a GUID")
    return value


def _decimal(value: object, field: str) -> Decimal:
    # Wix writes amounts as decimal strings; a reader also takes a JSON number, which
    # decode_json has made a Decimal (a float from someone else's json.loads is read
    # through its shortest text, never through binary arithmetic).
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
        raise InvalidOrderData(field, f"expected a decimal string or number, got {_kind(value)}")
    try:
        amount = Decimal(
            value.strip() if isinstance(value, str) else repr(value) if isinstance(value, float) else value
        )
    except InvalidOperation as exc:
        raise InvalidOrderData(field, f"{value!r} is not a decimal amount") from exc
    # Every amount Wix sends passes here: from 0 to 10^15, no finer than any currency
    # (the currency's own digits are checked where it is known: _orders, _split, _items).
    return check_read_amount(amount, field)


def _price(data: Mapping[str, Any], key: str, path: str) -> Decimal:
    price = _obj(_get(data, key, path), f"{path}.{key}")
    return _decimal(_get(price, "amount", f"{path}.{key}"), f"{path}.{key}.amount")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _enum_text(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _get(data, key, path)
    if not isinstance(value, str):
        raise InvalidOrderData(f"{path}.{key}", f"expected an enum string, got {_kind(value)}")
    return value


def _count(data: Mapping[str, Any], key: str, path: str) -> int:
    value = data.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidOrderData(f"{path}.{key}", f"expected a whole number >= 0, got {value!r}")
    return value


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
