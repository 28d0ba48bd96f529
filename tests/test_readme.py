"""The README's example outputs are what the commands print: each is run and compared.

A ```console block holds `$ archspec ...` command lines, each followed by its exact output, as
a 100-column terminal shows it. `pytest --update-golden` rewrites the outputs in README.md.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

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
