"""The README's example outputs are what the commands print: each is run and compared.

A ```console block holds `$ archspec ...` command lines, each followed by its exact output, as
a 100-column terminal shows it. `pytest --update-golden` rewrites the outputs in README.md.
Figures that the prose states (counts, defaults, bounds, the warning codes, the block types and
commands it describes) are checked against the code.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable

import pytest

import archspec
from archspec import io, limits, loader
from archspec.blocks import block_types
from archspec.cli import main
from archspec.ir import Graph
from archspec.warning_codes import WARNING_CODES
from tests.conftest import ROOT

README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)
TERMINAL = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "PYTHONUNBUFFERED": "1"}


def examples() -> list[tuple[str, str]]:
    """(command, expected output) for every `$ ` line of every console block."""
    found = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            found.append((command, output))
    return found


def run(command: str) -> str:
    """What the command prints to a terminal (stdout and stderr in order), from the repo root."""
    arguments = shlex.split(command)
    assert arguments[0] == "archspec", command
    result = subprocess.run(
        [sys.executable, "-m", "archspec", *arguments[1:]],
        cwd=ROOT,
        env={**os.environ, **TERMINAL},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return result.stdout


def marks(command: str) -> list[pytest.MarkDecorator]:
    builds = command.split()[1] in ("build", "bench", "export")
    return [pytest.mark.keras] if builds else []


@pytest.mark.parametrize(
    ("command", "expected"),
    [pytest.param(c, o, id=c, marks=marks(c)) for c, o in examples()],
)
def test_readme_example_output_is_what_the_command_prints(command, expected, update_golden):
    actual = run(command)
    if update_golden:
        text = README.read_text(encoding="utf-8")
        README.write_text(text.replace(f"$ {command}\n{expected}", f"$ {command}\n{actual}", 1))
        return
    assert actual == expected, f"README's output of `{command}` differs:\n{actual}"


def test_the_readme_has_examples_to_check():
    commands = [command.split()[1] for command, _ in examples()]
    assert {"build", "validate", "diff", "inspect"} <= set(commands)


# --- figures stated in the README's prose, checked against the code -----------------------------


def prose() -> str:
    """The README outside its code blocks, each run of whitespace one space."""
    text = re.sub(r"```.*?```", " ", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    return " ".join(text.split())


def stated(pattern: str) -> str:
    """The figure `pattern`'s group captures in the README's prose; fails if it is not there."""
    found = re.search(pattern, prose())
    assert found, f"the README no longer says /{pattern}/: update this test with it"
    return found.group(1)


def _graph(name: str) -> Graph:
    return archspec.lower(archspec.load(name))


FIGURES: list[tuple[str, str, Callable[[], object]]] = [
    # (what, the pattern whose group is the figure in the prose, the code's figure)
    ("broken specs", r"the messages of the (\d+) broken specs",
     lambda: len(list((ROOT / "tests" / "invalid").iterdir()))),
    ("resnet22 layers", r"hand-written model exactly \((\d+) layers",
     lambda: _graph("resnet22").layer_count),
    ("resnet22 parameters", r"hand-written model exactly \(\d+ layers, ([\d,]+) parameters",
     lambda: f"{_graph('resnet22').params:,}"),
    ("ResNet-1001 layers", r"ResNet-1001 has ([\d,]+)\)",
     lambda: f"{_graph('preact_resnet1001').layer_count:,}"),
    ("resnet50v2 MACs", r"resnet50v2 at 224x224 comes to ([\d.]+) G MACs",
     lambda: f"{_graph('resnet50v2').macs / 1e9:.2f}"),
    ("mobilenetv2 MACs", r"mobilenetv2 to ([\d.]+) M",
     lambda: f"{_graph('mobilenetv2').macs / 1e6:.1f}"),
    ("mobilenetv3_large MACs", r"mobilenetv3_large to ([\d.]+) M",
     lambda: f"{_graph('mobilenetv3_large').macs / 1e6:.1f}"),
    ("efficientnet_b0 MACs", r"efficientnet_b0 to ([\d.]+) M",
     lambda: f"{_graph('efficientnet_b0').macs / 1e6:.1f}"),
    ("--max-params", r"`--max-params` \(default (\d+)M",
     lambda: limits.DEFAULT_MAX_PARAMS // 10**6),
    ("--max-activation-memory", r"`--max-activation-memory` \((\d+)G per sample\)",
     lambda: limits.DEFAULT_MAX_ACTIVATION_BYTES >> 30),
    ("--max-layers", r"`--max-layers` \(([\d,]+)\)", lambda: f"{limits.DEFAULT_MAX_LAYERS:,}"),
    ("file size", r"Only regular files are read .*?, at most (\d+) MiB",
     lambda: io.MAX_FILE_BYTES >> 20),
    ("nesting", r"nesting at most (\d+) levels", lambda: io.MAX_DEPTH),
    ("values", r"nesting at most \d+ levels, at most ([\d,]+) values",
     lambda: f"{io.MAX_VALUES:,}"),
    ("values through extends", r"share the reading bounds below \(([\d,]+) values in all\)",
     lambda: f"{io.MAX_VALUES:,}"),
    ("numerals", r"a numeral of more than (\d+) characters", lambda: io.MAX_NUMBER_LENGTH),
    ("problems per file", r"At most (\d+) problems are listed per file",
     lambda: loader.MAX_DIAGNOSTICS),
]  # fmt: skip


@pytest.mark.parametrize(("what", "pattern", "figure"), FIGURES, ids=[f[0] for f in FIGURES])
def test_a_figure_the_prose_states_is_the_codes(what, pattern, figure):
    assert stated(pattern) == str(figure()), f"the README's {what} is out of date"


def test_the_warning_codes_table_is_warning_codes():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| code | flags |") :]
    rows = table[: table.index("\n\n")].splitlines()[2:]
    cells = [tuple(cell.strip() for cell in row.strip("|").split("|")) for row in rows]
    assert cells == [(f"`{code}`", kind.flags) for code, kind in WARNING_CODES.items()]


def test_every_block_type_and_command_is_documented():
    text = prose()
    missing = [name for name in block_types() if f"`{name}`" not in text]
    assert not missing, f"block types the README does not describe: {missing}"
    missing = [name for name in main.commands if f"| `archspec {name}" not in text]
    assert not missing, f"commands missing from the README's command table: {missing}"
