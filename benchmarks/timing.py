"""Shared timing helpers: wall time of commands run side by side, alternating, in one process.

Ratios against a baseline measured in the same run are what the benchmarks report, since the
machine they run on is shared and noisy: absolute seconds move, ratios much less.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def wall_time(command: Sequence[str]) -> float:
    """Seconds one run of a command takes (it must succeed)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def alternate(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call each measurement once per round, in turn, so drift hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(run())
    return times


def median(values: Sequence[float]) -> float:
    """The median, the figure reported (robust to one slow outlier)."""
    return statistics.median(values)


def machine() -> str:
    """A one-line description of the hardware, for RESULTS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(title: str, rows: list[tuple[str, float, str]], unit: str = "s") -> None:
    """Print `name  value unit  note` rows under a title."""
    print(f"# {title}  ({time.strftime('%Y-%m-%d')}, {machine()})")
    for name, value, note in rows:
        print(f"{name:<48} {value:10.3f} {unit}  {note}")
