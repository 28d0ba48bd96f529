"""The slowest 1 MiB inputs we can construct, against validating resnet22, as whole processes.

Each candidate is a known way to make a YAML or JSON reader, or what follows it, do more work
than the file's size suggests: long scalars, comments and blank lines, flat and deep
collections, anchors that multiply, merge keys, alias chains, JSON whitespace and numerals,
thousands of wrong keys, a huge value where a name is expected (the "did you mean" search),
`extends` replacing thousands of keys, and more. Every file is at most 1 MiB (the limit).

Each is timed in process (the pipeline alone) and as `archspec validate FILE` (start-up
included), alternating with `archspec validate specs/resnet22.yaml`, the baseline measured in
the same run. Target: every file refused or accepted within a second of the baseline process.
Exits 1 if the target is missed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import PYTHON, ROOT, alternate, median, report, wall_time

sys.path.insert(0, str(ROOT))

from click.testing import CliRunner

from archspec.cli import main as cli

MIB = 1 << 20
ROUNDS = 3
TARGET_SECONDS = 1.0


def fill(head: str, unit: str, tail: str = "") -> str:
    """`head`, then `unit` repeated to make the text 1 MiB (UTF-8), then `tail`."""
    room = MIB - len((head + tail).encode())
    return head + unit * (room // len(unit.encode())) + tail


def numbered(head: str, template: str, tail: str = "", separator: str = "") -> str:
    """`head`, then `template` formatted with 0, 1, 2... while the text stays 1 MiB, `tail`."""
    parts, size, i = [head], len((head + tail).encode()), 0
    while True:
        part = (separator if i else "") + template.format(i)
        if size + len(part.encode()) > MIB:
            return "".join(parts) + tail
        parts.append(part)
        size += len(part.encode())
        i += 1


def candidates() -> dict[str, str]:
    keys = ", ".join(f"k{i}: {i}" for i in range(4000))
    chain = "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 40_000))
    return {
        "plain scalar of 1 MiB": fill("name: ", "a"),
        "double-quoted escapes": fill('name: "', "\\x41", '"'),
        "comments": fill("", "# comment\n"),
        "blank lines, then a key": fill("", "\n", "name: x\n"),
        "spaces, then a key": fill("", " ", "\nname: x\n"),
        "flat flow list": fill("[", "0,", "0]"),
        "flat block list": fill("", "- 0\n"),
        "flat mapping": numbered("", "k{0}: 1\n"),
        "deep flow nesting": fill("", "["),
        "deep block nesting": "".join("  " * i + "- \n" for i in range(1000))[:MIB],
        "billion laughs": "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 12)),
        "merging two 4,000-key anchors": f"a: &a {{{keys}}}\nb: &b {{{keys}}}\n"
        + fill("", "c: {<<: [*a, *b]}\n")[: MIB // 2],
        "alias chain 40,000 deep": "a0: &a0 []\n" + chain,
        "unicode (4-byte characters)": fill("name: ", "𝔘"),
        "control character at the end": fill("name: ", "a", "\x1f\n"),
        "numeral of 1 MiB digits": fill("width_multiplier: ", "9"),
        "thousands of unknown keys": numbered("extends: resnet22\nhead:\n", "  k{0}: 1\n"),
        "1 MiB value where a choice is expected": fill(
            "extends: resnet22\nhead: {pool: ", "x", "}"
        ),
        "1 MiB block type": fill("extends: resnet22\nstages: [{block: ", "x", ", filters: 8}]"),
        "1 MiB key": fill("extends: resnet22\nhead: {", "x", ": 1}"),
        "1 MiB top-level key of escapes": fill("{", "\\u0000", "}"),
        "3,000 stages": fill("extends: resnet22\nstages:\n", "  - {block: basic, filters: 8}\n"),
        "duplicate key after 50,000 keys": "".join(f"k{i}: 1\n" for i in range(50_000)) + "k0: 2\n",
        "JSON whitespace and numbers": fill("[", "1," + " " * 40 + "\n", "1]"),
        "JSON whitespace, then a key": fill("{", " \n", '"name": 1}'),
        "JSON numeral of 1 MiB digits": fill('{"name": ', "7", "}"),
        "JSON deep nesting": fill("", "["),
        "JSON object of 1 MiB": numbered("{", '"k{0}": 1', "}", separator=", "),
    }


def extends_pair(folder: Path) -> Path:
    """A base of 9,000 keys and a spec that extends it replacing every one."""
    (folder / "base.yaml").write_text("x:\n" + "".join(f"  k{i}: 1\n" for i in range(9000)))
    child = folder / "extends_replacing_9000_keys.yaml"
    child.write_text("extends: base.yaml\nx:\n" + "".join(f"  k{i}: 2\n" for i in range(9000)))
    return child


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {}
        for name, text in candidates().items():
            suffix = ".json" if name.startswith("JSON") else ".yaml"
            path = folder / (name.replace(" ", "_").replace(",", "") + suffix)
            path.write_text(text, encoding="utf-8")
            assert path.stat().st_size <= MIB, (name, path.stat().st_size)
            files[name] = path
        files["extends replacing 9,000 keys"] = extends_pair(folder)

        in_process = {}
        for name, path in files.items():
            start = time.perf_counter()
            CliRunner().invoke(cli, ["validate", str(path)])  # reading to rendering
            in_process[name] = time.perf_counter() - start

        def validate(path: Path) -> float:
            command = [PYTHON, "-m", "archspec", "validate", str(path)]
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
            return time.perf_counter() - start

        baseline_command = [PYTHON, "-m", "archspec", "validate", "specs/resnet22.yaml"]
        runs = {"baseline": lambda: wall_time(baseline_command)}
        runs |= {name: (lambda p=path: validate(p)) for name, path in files.items()}
        times = alternate(runs, ROUNDS)
    baseline = median(times["baseline"])
    rows = [("archspec validate specs/resnet22.yaml (baseline)", baseline, "")]
    worst = max(files, key=lambda name: median(times[name]))
    for name in sorted(files, key=lambda name: -median(times[name])):
        process = median(times[name])
        rows.append(
            (
                name,
                process,
                f"ratio {process / baseline:.2f}; in process {in_process[name]:.3f} s",
            )
        )
    extra = median(times[worst]) - baseline
    ok = extra <= TARGET_SECONDS
    rows.append(
        (
            f"worst: {worst}",
            median(times[worst]),
            f"{extra:+.3f} s over the baseline (target <= +{TARGET_SECONDS} s) "
            f"{'ok' if ok else 'MISSED'}",
        )
    )
    report(f"1 MiB hostile inputs, `archspec validate` processes, median of {ROUNDS}", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
