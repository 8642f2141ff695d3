"""The public surface: a short top level for services and scripts, every other public name in its layer."""

from __future__ import annotations

import ast
import importlib
import pathlib
import re
import subprocess
import sys
from types import ModuleType

import pytest

import wix_refunds

ROOT = pathlib.Path(__file__).parent.parent
PACKAGE = ROOT / "wix_refunds"
LAYERS = ("core", "wix", "client", "journal", "run", "testing", "cli")
MOST_AT_TOP = 40

# The top level's __all__ before issue 23 (git show f2c2245:wix_refunds/__init__.py): each
# name must still be public, at the top level or in its layer.
BEFORE_ISSUE_23 = [
    "ALL_LEFT",
    "AsyncWixClient",
    "CancelOrder",
    "DeleteFulfillments",
    "EntryState",
    "FeeRefund",
    "FileLocks",
    "Fulfillment",
    "FulfillmentStatus",
    "HeldLock",
    "InProcessLocks",
    "InvalidCredentials",
    "InvalidOrderData",
    "InvalidRequest",
    "InvalidWixData",
    "Journal",
    "JournalEntry",
    "JournalError",
    "LineItem",
    "LockLost",
    "LockUnavailable",
    "MINOR_UNITS",
    "MemoryJournal",
    "Mismatch",
    "MismatchKind",
    "Order",
    "OrderLocks",
    "OrderStatus",
    "OrderTransactions",
    "OutcomeDict",
    "OutcomeStatus",
    "Payment",
    "PaymentRecordStatus",
    "PaymentRefund",
    "PaymentRefundability",
    "PaymentStatus",
    "PermissionCheck",
    "RateLimiter",
    "ReconcileReport",
    "RefundDeclined",
    "RefundItem",
    "RefundNotSupported",
    "RefundOutcome",
    "RefundPayments",
    "RefundPlan",
    "RefundRecord",
    "RefundRequest",
    "RefundRoute",
    "RefundState",
    "RefundStatus",
    "RefundStatusReport",
    "RefundTransaction",
    "Refundability",
    "RequestLimiter",
    "RetryPolicy",
    "STANDARD_REFUND_CUTOFF",
    "SqliteJournal",
    "StepRecord",
    "TrackingInfo",
    "VerifyReport",
    "WixAPIError",
    "WixAuthError",
    "WixClient",
    "WixConnectionError",
    "WixCredentials",
    "WixInvalidResponse",
    "WixNotFound",
    "WixOutcomeUnknown",
    "WixPreconditionFailed",
    "WixRateLimited",
    "WixRefundError",
    "WixServerError",
    "__version__",
    "decide_refund",
    "default_journal_path",
    "default_lock_dir",
    "format_money",
    "lock_key",
    "new_reference",
    "parse_order",
    "reconcile",
    "reconcile_async",
    "refund_order",
    "refund_order_async",
    "refund_orders_async",
    "refund_status",
    "refund_status_async",
]


def _layer(name: str) -> ModuleType:
    return importlib.import_module(f"wix_refunds.{name}")


def _exported_by() -> dict[str, list[str]]:
    """Return each name a layer exports, with the layers that export it."""
    found: dict[str, list[str]] = {}
    for layer in LAYERS:
        for name in _layer(layer).__all__:
            found.setdefault(name, []).append(layer)
    return found


def _defined_at_top(path: pathlib.Path) -> set[str]:
    """Return the names a module binds at its top level by def, class or assignment (not by import)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_top_level_is_at_most_forty_sorted_names_all_importable() -> None:
    names = wix_refunds.__all__
    assert len(names) <= MOST_AT_TOP, len(names)
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(wix_refunds, name), name


def test_each_top_level_name_is_the_very_object_one_layer_exports() -> None:
    exported_by = _exported_by()
    for name in wix_refunds.__all__:
        if name == "__version__":
            continue
        layers = exported_by.get(name, [])
        assert len(layers) == 1, (name, layers)
        assert getattr(wix_refunds, name) is getattr(_layer(layers[0]), name), name


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_exports_a_sorted_list_of_names_defined_in_its_own_modules(layer: str) -> None:
    module = _layer(layer)
    names = module.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    folder = PACKAGE / layer
    init = folder / "__init__.py"
    # Where the package's __init__ takes each name from: (module file, the name there).
    source = {name: (init, name) for name in _defined_at_top(init)}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            path = folder / f"{node.module}.py"
            for alias in node.names:
                if alias.name == "*":  # every name of that module's __all__
                    there = importlib.import_module(f"wix_refunds.{layer}.{node.module}")
                    source.update((name, (path, name)) for name in there.__all__)
                else:
                    source[alias.asname or alias.name] = (path, alias.name)
    for name in names:
        assert hasattr(module, name), name
        assert name in source, f"{layer}.{name} is not imported from a module of {layer}"
        path, defined_as = source[name]
        assert path.exists(), (name, path)
        assert defined_as in _defined_at_top(path), f"{layer}.{name} is re-exported by {path.name}, not defined there"


def test_no_name_is_exported_by_two_layers() -> None:
    twice = {name: layers for name, layers in _exported_by().items() if len(layers) > 1}
    assert not twice


def test_every_name_the_top_level_exported_before_is_still_public() -> None:
    exported_by = _exported_by()
    lost = [name for name in BEFORE_ISSUE_23 if name not in wix_refunds.__all__ and name not in exported_by]
    assert not lost
    assert "__version__" in wix_refunds.__all__


def test_importing_the_package_and_its_layers_imports_neither_psycopg_nor_opentelemetry() -> None:
    layers = ", ".join(f"wix_refunds.{layer}" for layer in LAYERS)
    code = (
        f"import sys, wix_refunds, {layers}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'opentelemetry'))\n"
        "assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "path",
    [*sorted((ROOT / "examples").glob("*.py")), ROOT / "README.md", ROOT / "docs" / "library.md"],
    ids=lambda path: path.name,
)
def test_examples_the_readme_and_the_library_guide_import_only_public_modules(path: pathlib.Path) -> None:
    imports = re.findall(r"^\s*(?:from|import) (wix_refunds[\w.]*)", path.read_text(), flags=re.MULTILINE)
    assert imports
    private = [name for name in imports if any(part.startswith("_") for part in name.split("."))]
    assert not private
