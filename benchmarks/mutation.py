"""Mutation measure: the share of small planted bugs in the decision code that the tests catch.

Each mutant changes one operator in `core/_routing.py`, `_decide.py`, `_engine.py`, `_refund_rows.py`, `_failures.py`,
`_split.py` or `client/_retry.py`
(a comparison flipped, `and`/`or` swapped, a `not` dropped, True/False swapped, a whole
number moved by one), in a scratch copy of the repository; the decision tests then run
against it, stopping at the first failure. A mutant is killed when they fail. Goal: at
least 90% killed. Not part of CI (it runs the tests once per mutant).

Run: python benchmarks/mutation.py [--sample 60] [--seed 1] [--module core/_engine.py ...]
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine

ROOT = Path(__file__).parent.parent
MODULES = [
    "core/_routing.py",
    "core/_decide.py",
    "core/_engine.py",
    "core/_refund_rows.py",
    "core/_failures.py",
    "core/_split.py",
    "client/_retry.py",
]
TESTS = [
    "tests/test_routing.py",
    "tests/test_engine.py",
    "tests/test_retry.py",
    "tests/test_error_table.py",
    "tests/test_exactly_once.py",
    "tests/test_items.py",
    "tests/test_split.py",
]
_COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _sites(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (node index, kind) of every place one mutation can be made."""
    sites = []
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE:
            sites.append((index, "compare"))
        elif isinstance(node, ast.BoolOp):
            sites.append((index, "boolop"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((index, "not"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            sites.append((index, "bool"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            sites.append((index, "int"))
    return sites


def _mutate(source: str, index: int) -> tuple[str, str]:
    """Return the source with node ``index`` mutated, and a description of the change."""
    tree = ast.parse(source)
    node = list(ast.walk(tree))[index]
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Compare):
        old = type(node.ops[0])
        node.ops[0] = _COMPARE[old]()
        what = f"{old.__name__} -> {type(node.ops[0]).__name__}"
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        what = "and <-> or"
    elif isinstance(node, ast.UnaryOp):
        # `not x` becomes `x`: replace the node in its parent by its operand.
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, node.operand)
                elif isinstance(value, list) and node in value:
                    value[value.index(node)] = node.operand
        what = "not dropped"
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        node.value = not node.value
        what = "True <-> False"
    else:
        assert isinstance(node, ast.Constant)
        node.value = node.value + 1
        what = "n -> n + 1"
    return ast.unparse(tree), f"line {line}: {what}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=60, help="mutants to run, drawn at random (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--module", action="append", help="only these modules (default: the decision code)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="wix-refunds-mutation-"))
    try:
        shutil.copytree(ROOT / "wix_refunds", scratch / "wix_refunds")
        shutil.copytree(ROOT / "tests", scratch / "tests")
        shutil.copy(ROOT / "setup.cfg", scratch / "setup.cfg")
        mutants = []
        for module in args.module or MODULES:
            source = (ROOT / "wix_refunds" / module).read_text()
            mutants += [(module, index) for index, _ in _sites(ast.parse(source))]
        chosen = mutants if not args.sample else rng.sample(mutants, min(args.sample, len(mutants)))
        env = {**os.environ, "PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
        killed, survived = 0, []
        per_module: dict[str, list[int]] = {module: [0, 0] for module, _ in chosen}
        started = time.perf_counter()
        for module, index in chosen:
            path = scratch / "wix_refunds" / module
            original = (ROOT / "wix_refunds" / module).read_text()
            mutated, what = _mutate(original, index)
            path.write_text(mutated)
            try:
                result = subprocess.run(
                    [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *TESTS],
                    cwd=scratch,
                    env=env,
                    capture_output=True,
                    timeout=300,
                    check=False,
                )
                dead = result.returncode != 0
            except subprocess.TimeoutExpired:
                dead = True
            finally:
                path.write_text(original)
            killed += dead
            per_module[module][0] += dead
            per_module[module][1] += 1
            if not dead:
                survived.append(f"{module} {what}")
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"machine: {machine()}")
    print(f"mutants: {len(mutants)} sites in {', '.join(args.module or MODULES)}; ran {len(chosen)} (seed {args.seed})")
    print(f"killed: {killed} of {len(chosen)} = {killed / max(len(chosen), 1):.0%} (goal >= 90%) in {elapsed:.0f} s")
    for module, (dead_here, ran) in per_module.items():
        print(f"  {module}: {dead_here} of {ran} = {dead_here / ran:.0%}")
    for line in survived:
        print(f"  survived: {line}")


if __name__ == "__main__":
    main()
