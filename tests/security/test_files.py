"""Outputs are written atomically, never over an input; exit codes are as documented."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archspec.cli import main
from archspec.files import write_atomic
from tests.conftest import ROOT

RESNET22 = ROOT / "specs" / "resnet22.yaml"


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.py"
    target.write_text("old contents\n")

    def writer_that_dies(path):
        path.write_text("half of the new")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, writer_that_dies)
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


def test_atomic_text_write_replaces_whole(tmp_path):
    target = tmp_path / "out.txt"
    write_atomic(target, "first\n")
    write_atomic(target, "second\n")
    assert target.read_text() == "second\n"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


@pytest.mark.parametrize("command", [["build"], ["codegen"], ["graph"]])
def test_commands_refuse_to_overwrite_their_input(tmp_path, command):
    spec = tmp_path / ("spec.keras" if command == ["build"] else "spec.yaml")
    spec.write_text(RESNET22.read_text())
    result = CliRunner().invoke(main, [*command, str(spec), "-o", str(spec)])
    assert result.exit_code == 2
    assert "refusing to overwrite a file this command reads" in result.output
    assert spec.read_text() == RESNET22.read_text()


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main, ["codegen", str(RESNET22), "-o", str(tmp_path / "no" / "x.py")]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_codegen_writes_atomically_to_a_file(tmp_path):
    output = tmp_path / "model.py"
    result = CliRunner().invoke(main, ["codegen", str(RESNET22), "-o", str(output)])
    assert result.exit_code == 0
    assert output.read_text().startswith('"""resnet22: a Keras 3 model')
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


EXIT_CODES = [
    # (arguments, expected exit code) - the table in the README
    (["validate", "specs/resnet22.yaml"], 0),
    (["validate", "tests/invalid/typo_pool.yaml"], 1),
    (["validate", "missing.yaml"], 2),
    (["validate", "--format", "xml", "specs"], 2),
    (["inspect", "specs/resnet22.yaml"], 0),
    (["inspect", "tests/invalid/typo_pool.yaml"], 1),
    (["inspect", "missing.yaml"], 2),
    (["diff", "resnet50v2", "resnet101v2", "--fail-on-increase", "10"], 1),
    (["diff", "resnet50v2", "resnet101v2"], 0),
    (["graph", "tests/invalid/semantic_collapse.yaml"], 1),
    (["codegen", "tests/invalid/json_duplicate_key.json"], 1),
    (["build", "tests/invalid/value_zero_filters.yaml"], 1),
    (["build", "missing.yaml"], 2),
    (["nonsense"], 2),
]


@pytest.mark.parametrize(
    ("arguments", "code"), EXIT_CODES, ids=lambda v: " ".join(v) if isinstance(v, list) else str(v)
)
def test_exit_codes(arguments, code, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
