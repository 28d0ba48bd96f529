"""Start-up: `archspec validate` and `inspect` as whole processes against `import tensorflow`.

Target: each command, run by the installed console script as CI runs it, takes at most 0.06x
the wall time of `python -c "import tensorflow"`, both measured in this run, alternating.
The libraries the commands need are timed alone too, so the report shows what archspec adds
on top of them: click, PyYAML and pydantic with one model built (building the first validator
is when pydantic imports `importlib.metadata` to look for plugins), and rich on top for
inspect. Each process's CPU time (user + system) is shown as well: it moves less than wall
time when the shared machine is busy.

Bytecode is cached as an installed package has it: PYTHONDONTWRITEBYTECODE is dropped for the
children and every command runs once before timing (`pip install` compiles bytecode; without
it each process would compile archspec's modules again, about 50 ms here).

    ../.venv/bin/python bench_validate.py [--rounds N] [--spec specs/x.yaml ...]

Exits 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from timing import PYTHON, ROOT, alternate, median, report

TARGET = 0.06
SPECS = ("specs/resnet22.yaml", "specs/resnet152v2.yaml")
CONSOLE_SCRIPT = str(Path(PYTHON).with_name("archspec"))
LIBRARIES = "import click, yaml, pydantic; pydantic.create_model('One', x=(int, ...))(x=1)"
RICH = "import rich.console, rich.table"


def child_env() -> dict[str, str]:
    """The environment of an ordinary run: bytecode cached, TensorFlow's C++ log quiet."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of `command` (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=child_env())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--spec", action="append", help=f"spec files (default: {SPECS})")
    args = parser.parse_args()
    specs = args.spec or list(SPECS)

    commands = {
        "import tensorflow": [PYTHON, "-c", "import tensorflow"],
        "libraries of validate": [PYTHON, "-c", LIBRARIES],
        "libraries of inspect (and rich)": [PYTHON, "-c", f"{LIBRARIES}; {RICH}"],
    }
    for spec in specs:
        for command in ("validate", "inspect"):
            commands[f"archspec {command} {spec}"] = [CONSOLE_SCRIPT, command, spec]
    for command in commands.values():  # warm-up: bytecode written, files in the page cache
        timed(command)
    cpu: dict[str, list[float]] = {name: [] for name in commands}

    def run(name: str) -> float:
        wall, used = timed(commands[name])
        cpu[name].append(used)
        return wall

    times = alternate({name: (lambda n=name: run(n)) for name in commands}, args.rounds)
    baseline = median(times["import tensorflow"])
    rows = [
        ("import tensorflow (baseline)", baseline, f"cpu {median(cpu['import tensorflow']):.3f} s")
    ]
    failed = False
    for name in list(commands)[1:]:
        wall = median(times[name])
        ratio = wall / baseline
        note = f"ratio {ratio:.3f}, cpu {median(cpu[name]):.3f} s"
        if name.startswith("archspec"):
            ok = ratio <= TARGET
            failed |= not ok
            note += f" (target <= {TARGET}) {'ok' if ok else 'MISSED'}"
        rows.append((name, wall, note))
    load = os.getloadavg()
    report(
        f"start-up vs import tensorflow, median of {args.rounds} alternating runs "
        f"(load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})",
        rows,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
