"""Import time: ``import wix_refunds`` against importing its four dependencies.

Each is measured in fresh interpreters, less a bare interpreter's start, in
interleaved rounds; medians. All import from compiled bytecode, as installed
packages do. Goal: at most 1.3x.
Run: python benchmarks/import_time.py
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine

SNIPPETS = {
    "bare": "pass",
    "deps": "import httpx, attrs, tenacity, dateutil.parser",
    "wix_refunds": "import wix_refunds",
}


# Installed packages import from cached bytecode; so must this one (PYTHONDONTWRITEBYTECODE
# would otherwise make every run compile wix_refunds from source, and only it).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def once(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=ENV)
    return time.perf_counter() - started


def main(rounds: int = 25) -> None:
    import wix_refunds

    compileall.compile_dir(Path(wix_refunds.__file__).parent, quiet=1)
    times: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    for _ in range(rounds):
        for name, code in SNIPPETS.items():
            times[name].append(once(code))
    median = {name: statistics.median(values) for name, values in times.items()}
    deps = median["deps"] - median["bare"]
    ours = median["wix_refunds"] - median["bare"]
    print(f"machine: {machine()}")
    print(f"bare interpreter:        {median['bare'] * 1e3:7.1f} ms")
    print(f"the four dependencies:   {deps * 1e3:7.1f} ms (after the bare start)")
    print(f"import wix_refunds:      {ours * 1e3:7.1f} ms (after the bare start)")
    print(f"ratio: {ours / deps:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()
