"""Peak memory of building resnet152v2 with archspec vs keras.applications (/usr/bin/time -v).

Each build runs in its own process (so peaks do not mix), alternating, and the maximum
resident set size that GNU time reports is compared. Target: within 5%.
"""

from __future__ import annotations

import re
import subprocess
import sys

from timing import PYTHON, ROOT, alternate, median, report

ROUNDS, TARGET = 5, 0.05
PROGRAMS = {
    "keras.applications.ResNet152V2": "import keras; keras.applications.ResNet152V2(weights=None)",
    "archspec build resnet152v2": "import archspec; archspec.build('resnet152v2')",
}


def peak_kib(program: str) -> float:
    result = subprocess.run(
        ["/usr/bin/time", "-v", PYTHON, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    return float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])


def main() -> int:
    runs = {name: (lambda p=program: peak_kib(p)) for name, program in PROGRAMS.items()}
    peaks = alternate(runs, ROUNDS)
    base = median(peaks["keras.applications.ResNet152V2"])
    ours = median(peaks["archspec build resnet152v2"])
    ratio = ours / base
    ok = abs(ratio - 1) <= TARGET
    report(
        f"peak RSS (MiB), median of {ROUNDS} alternating processes",
        [
            ("keras.applications.ResNet152V2(weights=None)", base / 1024, ""),
            ("archspec.build('resnet152v2')", ours / 1024,
             f"ratio {ratio:.3f} (target within {TARGET:.0%}) {'ok' if ok else 'MISSED'}"),
        ],
        unit="MiB",
    )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
