"""The route table, the auth gate in front of it, and the order, fulfilment, transaction and site endpoints."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from ._answers import _GUID, UNKNOWN_RESOURCE_CODE, _app_error, _invalid
from ._billing import _Billing

_G = r"([^/]+)"

# (method, path pattern, handler name, scope, site-level?)
_ROUTES: tuple[tuple[str, re.Pattern[str], str, str, bool], ...] = tuple(
    (method, re.compile(f"^{pattern}$"), handler, scope, site_level)
    for method, pattern, handler, scope, site_level in (
        ("GET", f"/ecom/v1/orders/{_G}", "get_order", "orders.read", True),
        ("POST", "/ecom/v1/orders/search", "search_orders", "orders.read", True),
        ("POST", f"/ecom/v1/orders/{_G}/cancel", "cancel_order", "orders.manage", True),
        ("GET", f"/ecom/v1/fulfillments/orders/{_G}", "list_fulfillments", "orders.read", True),
        ("POST", "/ecom/v1/fulfillments/list-by-ids", "list_fulfillments_by_ids", "orders.read", True),
        ("DELETE", f"/ecom/v1/fulfillments/{_G}/orders/{_G}", "delete_fulfillment", "orders.manage", True),
        ("GET", f"/ecom/v1/payments/orders/{_G}", "list_transactions", "orders.read", True),
        ("POST", "/ecom/v1/payments/list-by-ids", "list_transactions_by_ids", "orders.read", True),
        ("POST", "/ecom/v1/order-billing/get-order-refundability", "get_refundability", "orders.manage", True),
        ("POST", "/ecom/v1/order-billing/refund-payments", "refund_payments", "orders.manage", True),
        ("POST", "/ecom/v1/order-billing/calculate-refund", "calculate_refund", "orders.manage", True),
        ("GET", "/site-properties/v4/properties", "site_properties", "business-info.read", True),
        ("POST", "/site-list/v2/sites/query", "query_sites", "sites.read", False),
        ("GET", "/currency_converter/v1/currencies", "list_currencies", "currencies.manage", True),
    )
)

# Search Orders leaves these out unless its filter asks for a status (INITIALIZED always).
_SEARCH_HIDES = ("PENDING", "REJECTED")
# The fields and operators the fake's Search Orders filter understands, as Wix's table of
# supported filters lists them (``number``: no ``$in``); anything else is a 400. Conditions
# may also be listed under ``$and``.
_LIST_OPERATORS = ("$eq", "$ne", "$in", "$nin")
_FILTERS = {
    **{field: _LIST_OPERATORS for field in ("id", "status", "paymentStatus", "fulfillmentStatus", "archived")},
    "number": ("$eq", "$ne", "$gt", "$lt", "$gte", "$lte"),
}
_COMPARE = {
    "$gt": lambda a, b: a > b,
    "$lt": lambda a, b: a < b,
    "$gte": lambda a, b: a >= b,
    "$lte": lambda a, b: a <= b,
}


def _matches(order: dict[str, Any], where: dict[str, Any]) -> bool:
    """Return whether ``order`` meets every condition of a Search Orders filter (checked already)."""
    for field, condition in where.items():
        if field == "$and":
            if not all(_matches(order, part) for part in condition):
                return False
            continue
        value = order.get(field)
        operator, operand = next(iter(condition.items())) if isinstance(condition, dict) else ("$eq", condition)
        if field == "number":
            if not str(value).isdigit():
                return False  # an order without a number matches no condition on it
            value = int(str(value))
        if operator in _COMPARE:
            if not _COMPARE[operator](value, operand):
                return False
        elif operator in ("$in", "$nin"):
            inside = isinstance(operand, list) and value in operand
            if inside != (operator == "$in"):
                return False
        elif (value == operand) != (operator == "$eq"):
            return False
    return True


def _check_filter(where: Any, path: str = "search.filter") -> None:
    """Refuse, as a 400, a filter on a field or with an operator Search Orders does not support."""
    if not isinstance(where, dict):
        raise _invalid(path, "must be an object")
    for field, condition in where.items():
        if field == "$and":
            if not isinstance(condition, list) or not condition:
                raise _invalid(f"{path}.$and", "must be a list of conditions")
            for part in condition:
                _check_filter(part, f"{path}.$and")
            continue
        if field not in _FILTERS:
            raise _invalid(f"{path}.{field}", "cannot be filtered on")
        operators = _FILTERS[field]
        if isinstance(condition, dict) and (len(condition) != 1 or next(iter(condition)) not in operators):
            raise _invalid(f"{path}.{field}", f"takes one of {', '.join(operators)}")
        operand = next(iter(condition.values())) if isinstance(condition, dict) else condition
        if field == "number" and (not isinstance(operand, int) or isinstance(operand, bool)):
            raise _invalid(f"{path}.number", "must be an integer")


class _Routes(_Billing):
    """Send a request to its endpoint handler (``_h_<name>``) once the key, site and scope allow it."""

    def _dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        for route_method, pattern, handler, scope, site_level in _ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                self._authorize(headers, scope, site_level)
                for value in match.groups():
                    if not _GUID.match(value):
                        raise _invalid("id", f"{value!r} is not a valid GUID")
                data: Any = {}
                if method in ("POST", "PATCH"):
                    if headers.get("content-type", "").split(";")[0].strip() != "application/json":
                        raise _invalid("body", "expected Content-Type: application/json")
                    try:
                        data = json.loads(body or b"{}")
                    except ValueError:
                        raise _invalid("body", "is not valid JSON") from None
                    if not isinstance(data, dict):
                        raise _invalid("body", "must be a JSON object")
                result: tuple[int, Any] = getattr(self, "_h_" + handler)(data, *match.groups())
                return result
        if any(p.match(path) for _, p, *_ in _ROUTES):
            raise _app_error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")
        raise _app_error(404, UNKNOWN_RESOURCE_CODE, f"no such endpoint: {path}")

    def _authorize(self, headers: dict[str, str], scope: str, site_level: bool) -> None:
        key = headers.get("authorization")
        if not key or key not in self.keys:
            raise _app_error(401, "UNAUTHENTICATED", "Unauthenticated: the API key is missing or invalid")
        scopes, sites = self.keys[key]
        site_header, account_header = headers.get("wix-site-id"), headers.get("wix-account-id")
        if site_header and account_header:
            raise _invalid("headers", "send wix-site-id or wix-account-id, not both")
        if site_level:
            if not site_header:
                raise _app_error(403, "PERMISSION_DENIED", "wix-site-id header is required")
            if site_header != self.site_id or (sites is not None and site_header not in sites):
                raise _app_error(403, "PERMISSION_DENIED", "the key cannot access this site")
        else:
            if not account_header:
                raise _app_error(403, "PERMISSION_DENIED", "wix-account-id header is required")
            if account_header != self.account_id:
                raise _app_error(403, "PERMISSION_DENIED", "the key does not belong to this account")
        if scope not in scopes:
            raise _app_error(403, "PERMISSION_DENIED", f"the key lacks the {scope} permission")

    def _h_get_order(self, _: Any, order_id: str) -> tuple[int, Any]:
        return 200, {"order": self._order(order_id)}

    def _h_search_orders(self, data: dict[str, Any]) -> tuple[int, Any]:
        search = data.get("search")
        if not isinstance(search, dict):
            raise _invalid("search", "is required")
        paging = search.get("cursorPaging") or {}
        limit = paging.get("limit", 100)
        if not isinstance(limit, int) or not 0 <= limit <= 100:
            raise _invalid("search.cursorPaging.limit", "must be 0 to 100")
        cursor = paging.get("cursor")
        if cursor is not None:
            # The cursor carries the filter and sort of the first page, as on Wix.
            if set(search) - {"cursorPaging"}:
                raise _invalid("search", "a page after the first sends only cursorPaging")
            if cursor not in self._cursors:
                raise _invalid("search.cursorPaging.cursor", "is not a cursor this search gave")
            matched, start = self._cursors[cursor]
        else:
            matched, start = self._search(search.get("filter") or {}), 0
        page = [self.orders[i] for i in matched[start : start + limit] if i in self.orders]
        following = None
        if start + limit < len(matched):
            following = uuid.UUID(int=self._random.getrandbits(128)).hex
            self._cursors[following] = (matched, start + limit)
            if len(self._cursors) > 1000:  # the oldest cursors expire, as Wix's do
                del self._cursors[next(iter(self._cursors))]
        return 200, {
            "orders": page,
            "metadata": {"count": len(page), "cursors": {"next": following}, "hasNext": following is not None},
        }

    def _search(self, where: Any) -> list[str]:
        """Return the IDs of the orders ``where`` matches, newest first, as Search Orders lists them."""
        _check_filter(where)
        if "id" in where and "search_by_id" in self.refused_lists:
            raise _invalid("search.filter.id", "filtering on id is not supported")
        ids = where.get("id")
        if isinstance(ids, dict) and set(ids) <= {"$in", "$eq"}:
            wanted = ids.get("$in", [ids.get("$eq")])
            if not isinstance(wanted, list) or len(wanted) > 100:
                raise _invalid("search.filter.id.$in", "must be a list of at most 100 IDs")
            candidates = [self.orders[i] for i in dict.fromkeys(wanted) if isinstance(i, str) and i in self.orders]
        else:
            candidates = list(self.orders.values())
        hidden = ("INITIALIZED",) if "status" in where else ("INITIALIZED", *_SEARCH_HIDES)
        found = [o for o in candidates if o["status"] not in hidden and _matches(o, where)]
        found.sort(key=self._created, reverse=True)
        return [o["id"] for o in found]

    def _h_cancel_order(self, data: dict[str, Any], order_id: str) -> tuple[int, Any]:
        order = self._order(order_id)
        for field in ("sendOrderCanceledEmail", "restockAllItems"):
            if field in data and not isinstance(data[field], bool):
                raise _invalid(field, "must be a boolean")
        if "customMessage" in data and (
            not isinstance(data["customMessage"], str) or not 1 <= len(data["customMessage"]) <= 1000
        ):
            raise _invalid("customMessage", "must be a string of 1 to 1000 characters")
        if order["status"] == "CANCELED":
            raise _app_error(428, self.cancel_error_code, "Order is already canceled")
        # Cancel Order's documented errors (docs/wix-api.md 2.3); the other refusals are the
        # fake's choice (CANCEL_REFUSED_CODE).
        if order["status"] == "PENDING":
            raise _app_error(428, "ORDER_IS_PENDING", "Cannot cancel an order that is pending")
        if order["status"] == "REJECTED":
            raise _app_error(428, "ORDER_IS_REJECTED", "Cannot cancel an order that is rejected")
        if order["fulfillmentStatus"] in ("FULFILLED", "PARTIALLY_FULFILLED"):
            raise _app_error(428, self.cancel_error_code, "Cannot cancel an order that is fulfilled")
        if order["status"] != "APPROVED":
            raise _app_error(428, self.cancel_error_code, f"Cannot cancel an order in status {order['status']}")
        order["status"] = "CANCELED"
        if data.get("restockAllItems"):
            for item in order["lineItems"]:
                item["restockQuantity"] = item["quantity"]
        order["activities"].append({"type": "ORDER_CANCELED"})
        self.writes.append(("cancel", order_id, order_id))
        return 200, {"order": order}

    def _h_list_fulfillments(self, _: Any, order_id: str) -> tuple[int, Any]:
        self._order(order_id)
        return 200, {"orderWithFulfillments": {"orderId": order_id, "fulfillments": self._fulfillments_view(order_id)}}

    def _h_list_fulfillments_by_ids(self, data: dict[str, Any]) -> tuple[int, Any]:
        ids = self._list_ids(data, "fulfillments")
        return 200, {
            "ordersWithFulfillments": [
                {"orderId": i, "fulfillments": self._fulfillments_view(i)} for i in ids if i in self.orders
            ]
        }

    def _list_ids(self, data: dict[str, Any], which: str) -> list[str]:
        """Return the ``orderIds`` of a list-by-ids call (1 to 100 GUIDs); 404 when that call is refused."""
        if which in self.refused_lists:
            raise _app_error(404, UNKNOWN_RESOURCE_CODE, "no such endpoint")
        ids = data.get("orderIds")
        if not isinstance(ids, list) or not all(isinstance(i, str) and _GUID.match(i) for i in ids):
            raise _invalid("orderIds", "must be a list of GUIDs")
        if not 1 <= len(ids) <= 100:
            raise _invalid("orderIds", "must hold 1 to 100 IDs")
        return ids

    def _h_delete_fulfillment(self, _: Any, fulfillment_id: str, order_id: str) -> tuple[int, Any]:
        self._order(order_id)
        remaining = [f for f in self.fulfillments[order_id] if f["id"] != fulfillment_id]
        if len(remaining) == len(self.fulfillments[order_id]):
            raise _app_error(404, UNKNOWN_RESOURCE_CODE, f"fulfillment {fulfillment_id} not found")
        self.fulfillments[order_id] = remaining
        self._recompute_fulfillment(order_id)
        self.writes.append(("delete_fulfillment", order_id, fulfillment_id))
        return 200, {"orderWithFulfillments": {"orderId": order_id, "fulfillments": self._fulfillments_view(order_id)}}

    def _h_list_transactions(self, _: Any, order_id: str) -> tuple[int, Any]:
        self._order(order_id)
        return 200, {"orderTransactions": self._read_transactions(order_id)}

    def _h_list_transactions_by_ids(self, data: dict[str, Any]) -> tuple[int, Any]:
        ids = self._list_ids(data, "transactions")
        return 200, {"orderTransactions": [self._read_transactions(i) for i in ids if i in self.orders]}

    def _h_site_properties(self, _: Any) -> tuple[int, Any]:
        return 200, {
            "version": "3",
            "properties": {
                "businessName": self.business_name,
                "paymentCurrency": "USD",
                "locale": {"languageCode": "en", "country": "US"},
                "timeZone": "UTC",
            },
        }

    def _h_query_sites(self, data: dict[str, Any]) -> tuple[int, Any]:
        query = data.get("query") or {}
        wanted = (((query.get("filter") or {}).get("id") or {}).get("$in")) or [self.site_id]
        sites = (
            [{"id": self.site_id, "displayName": self.business_name, "premium": True}] if self.site_id in wanted else []
        )
        return 200, {"sites": sites, "metadata": {"count": len(sites)}}

    def _h_list_currencies(self, _: Any) -> tuple[int, Any]:
        return 200, {"currencies": [{"code": "USD", "symbol": "$"}, {"code": "EUR", "symbol": "€"}]}
