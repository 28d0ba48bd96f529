"""A user's review of `validate FOLDER`: a spec with a YAML mistake is reported, not skipped.

Found by running `archspec validate .` over a repository whose spec had a duplicate key: the
file could not be parsed, so the search could not see that it was a spec, counted it among
the "YAML/JSON files skipped (not specs)" and exited 0. A CI job would pass a broken spec.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.cli import main
from tests.conftest import BASIC_SPEC

MISTAKES = {
    "duplicate_key": (BASIC_SPEC + "head: {classes: 5}\n", "7:1: error: duplicate key 'head'"),
    "tab": (
        BASIC_SPEC.replace("  - {block", "\t- {block"),
        "5:1: error: while scanning for the next token: found character '\\t'",
    ),
    "unclosed": (BASIC_SPEC.replace("[64, 64, 3]}", "[64, 64, 3}"), "2:"),
    "bad_indent": (BASIC_SPEC.replace("head:", " head:"), "6:2: error: "),
    "control": (BASIC_SPEC.replace("name: r", "name: r\x07"), "1:8: error: character U+0007"),
}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_spec_that_cannot_be_parsed_is_checked_in_a_folder(tmp_path, monkeypatch, mistake):
    monkeypatch.chdir(tmp_path)
    text, where = MISTAKES[mistake]
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "good.yaml").write_text(BASIC_SPEC)
    (tmp_path / "models" / "broken.yaml").write_text(text)
    (tmp_path / "docker-compose.yml").write_text("services:\n  web: {image: x}\n")
    result = run("validate", ".")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"models/broken.yaml:{where}")
    assert lines[-1] == (
        "2 files checked: 1 valid, 1 invalid (1 error, 0 warnings); "
        "1 other YAML/JSON file skipped (not specs)"
    )


def test_a_json_spec_that_cannot_be_parsed_is_checked_in_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.json").write_text(
        '{"name": "x", "input": {"shape": [8, 8, 3]}, "stages": [{"block": "basic",}], "head": {}}'
    )
    (tmp_path / "package.json").write_text('{"name": "x", "version": 1,}')
    result = run("validate", ".")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "m.json:1:75: error: a comma before '}'",
        "    hint: JSON allows no comma after the last item",
        "1 file checked: 0 valid, 1 invalid (1 error, 0 warnings); "
        "1 other YAML/JSON file skipped (not specs)",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "services:\n  web:\n\timage: x\n",  # a broken docker-compose file
        "on: push\njobs:\n  test: {runs-on: [x}\n",  # a broken workflow
        "stages:\n  - build\n  - test\nvariables: {a: 1\nscript: [x]\nimage: y\n",  # GitLab CI
        "- a\n- b\n\t- c\n",
    ],
)
def test_other_broken_yaml_is_still_skipped(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(BASIC_SPEC)
    (tmp_path / "other.yml").write_text(text)
    result = run("validate", ".")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "1 file checked: 1 valid, 0 invalid (0 errors, 0 warnings); "
        "1 other YAML/JSON file skipped (not specs)"
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    line=st.integers(0, 5),
    junk=st.sampled_from(["\t", "head: {classes: 1}\n", "  : x\n", "{", "- x\n", "\x01"]),
)
def test_a_spec_broken_anywhere_is_never_skipped(tmp_path_factory, line, junk):
    """Whatever line a mistake lands on, the spec is checked (and so found invalid)."""
    folder = tmp_path_factory.mktemp("repo")
    lines = BASIC_SPEC.splitlines(keepends=True)
    (folder / "spec.yaml").write_text("".join(lines[:line]) + junk + "".join(lines[line:]))
    result = run("validate", str(folder))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1].startswith("1 file checked: 0 valid, 1 invalid")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_spec_saved_as_utf16_is_checked_in_a_folder(tmp_path, monkeypatch, encoding):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_bytes(BASIC_SPEC.encode(encoding))
    result = run("validate", ".")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(
        f"spec.yaml:1:1: error: the file is encoded as {encoding[:6].upper()}, not UTF-8"
    )
