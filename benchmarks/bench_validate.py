"""`archspec validate` (and `inspect`, where present) against `python -c "import tensorflow"`.

Target: validating resnet152v2 takes at most a tenth of the wall time of importing TensorFlow,
measured side by side in this run. Exits 1 if the target is missed.
"""

from __future__ import annotations

import sys

from timing import PYTHON, alternate, median, report, wall_time

ROUNDS = 5
TARGET = 0.10
SPEC = "specs/resnet152v2.yaml"


def main() -> int:
    commands = {
        "import tensorflow": [PYTHON, "-c", "import tensorflow"],
        f"archspec validate {SPEC}": [PYTHON, "-m", "archspec", "validate", SPEC],
        f"archspec inspect {SPEC}": [PYTHON, "-m", "archspec", "inspect", SPEC],
    }
    runs = {name: (lambda c=command: wall_time(c)) for name, command in commands.items()}
    times = alternate(runs, ROUNDS)
    baseline = median(times["import tensorflow"])
    rows = [("import tensorflow (baseline)", baseline, "")]
    failed = False
    for name in list(commands)[1:]:
        ratio = median(times[name]) / baseline
        ok = ratio <= TARGET
        failed |= not ok
        rows.append(
            (
                name,
                median(times[name]),
                f"ratio {ratio:.3f} (target <= {TARGET}) {'ok' if ok else 'MISSED'}",
            )
        )
    report(f"validate/inspect vs import tensorflow, median of {ROUNDS} alternating runs", rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
