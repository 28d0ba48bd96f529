"""No spec, and no file name, can put a control character on a terminal or a CI log.

A key or value echoed in a message is escaped in every format and on every stream, so a
spec in a pull request cannot clear the reviewer's screen, hide text, ring the bell or
forge a GitHub workflow command (a newline followed by `::error ...`).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.cli import main

NASTY = [
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]0;title\x07",  # OSC: set the terminal title
    "\x07",  # bell
    "x\n::error file=README.md,line=1::forged",  # a workflow command on its own line
    "x\r::warning::forged",
    "\u202eevil\u202c",  # right-to-left override
    "\u2028::error::forged",  # line separator
    "\x9b31m",  # C1 control sequence introducer
    "zero\u200bwidth",
]


def spec_text(nasty: str) -> str:
    quoted = json.dumps(nasty)  # JSON strings are YAML double-quoted strings
    return (
        "extends: resnet22\n"
        f"name: {quoted}\n"
        f"head: {{{quoted}: 1, classes: 3, pool: {quoted}}}\n"
        f"stages: [{{block: {quoted}, filters: 8}}]\n"
    )


def assert_harmless(output: str) -> None:
    for line in output.split("\n"):
        assert line.isprintable(), repr(line)
        assert not line.startswith("::") or line.startswith(("::error file=", "::warning file="))


def outputs(tmp_path, text: str, name: str = "spec.yaml") -> dict[str, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    found = {}
    for label, arguments in {
        "text": ["validate", str(path)],
        "github": ["validate", "--format", "github", str(path)],
        "json": ["validate", "--format", "json", str(path)],
        "inspect": ["inspect", str(path)],
        "codegen": ["codegen", str(path)],
        "build": ["build", str(path)],
    }.items():
        result = runner.invoke(main, arguments)
        assert result.exit_code == 1, (label, result.output)
        found[label] = result.output
    return found


@pytest.mark.parametrize("nasty", NASTY, ids=range(len(NASTY)))
def test_keys_and_values_are_escaped_in_every_format_and_stream(tmp_path, nasty):
    found = outputs(tmp_path, spec_text(nasty))
    for label, output in found.items():
        assert_harmless(output)
        assert "unknown key" in output, label
    github = [line for line in found["github"].splitlines() if line.startswith("::")]
    assert all(line.startswith("::error file=") for line in github)
    document = json.loads(found["json"])  # JSON keeps the exact text, escaped as JSON does
    messages = [d["message"] for d in document["files"][0]["diagnostics"]]
    assert any(repr(nasty) in m for m in messages)


@pytest.mark.parametrize("nasty", ["\x1b[31mred", "new\nline", "tab\there"])
def test_file_names_are_escaped_too(tmp_path, nasty):
    found = outputs(tmp_path, "name: x\n", name=f"{nasty}.yaml")
    for output in found.values():
        assert_harmless(output)
    assert "\\x1b" in found["text"] or "\\n" in found["text"] or "\\t" in found["text"]


HOSTILE_TEXT = st.text(
    st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Ll", "Po", "Sm"]),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(nasty=HOSTILE_TEXT)
def test_any_text_in_a_spec_is_harmless_on_output(tmp_path, nasty):
    for output in outputs(tmp_path, spec_text(nasty)).values():
        assert_harmless(output)
