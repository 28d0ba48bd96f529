"""The command line: exit codes, output formats, and no TensorFlow where none is needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archspec.cli import main
from tests.conftest import ROOT

BAD = "name: bad\ninput: {shape: [32, 32, 3]}\nstem: {filters: 8, strid: 2}\nstages: []\nhead: {}\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def bad_spec(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    return path


def test_validate_valid_specs_exits_0():
    result = run("validate", str(ROOT / "specs"))
    assert result.exit_code == 0, result.output
    assert "invalid" in result.output.splitlines()[-1]
    assert " 0 invalid" in result.output


def test_validate_reports_every_error_with_file_line_and_column(bad_spec):
    result = run("validate", str(bad_spec))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{bad_spec}:3:20: error: stem.strid: unknown key 'strid'" in lines
    assert f"{bad_spec}:4:9: error: stages: needs at least 1 item(s), got 0" in lines
    assert f"{bad_spec}:5:7: error: head.classes: missing required key 'classes'" in lines
    assert "Traceback" not in result.output
    assert lines[-1] == "1 file checked: 0 valid, 1 invalid (3 errors, 0 warnings)"


def test_validate_exit_2_for_missing_files_and_usage(tmp_path):
    assert run("validate", str(tmp_path / "nope.yaml")).exit_code == 2
    assert run("validate", str(tmp_path / "*.yaml")).exit_code == 2
    assert run("validate").exit_code == 2
    assert run("validate", "--format", "xml", "specs").exit_code == 2


def test_validate_accepts_globs_and_folders(tmp_path, bad_spec):
    good = tmp_path / "good.yaml"
    good.write_text((ROOT / "specs" / "resnet22.yaml").read_text())
    result = run("validate", str(tmp_path / "*.yaml"))
    assert result.exit_code == 1
    assert "2 files checked: 1 valid, 1 invalid" in result.output
    assert run("validate", str(good)).exit_code == 0


def test_validate_strict_fails_on_warnings():
    spec = str(ROOT / "specs" / "resnet22.yaml")
    assert run("validate", spec).exit_code == 0
    result = run("validate", "--strict", spec)
    assert result.exit_code == 1
    assert "warning: stem.norm" in result.output


def test_validate_json_format(bad_spec):
    result = run("validate", "--format", "json", str(bad_spec))
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["version"] == 1
    assert document["valid"] is False
    (entry,) = document["files"]
    assert entry["file"] == str(bad_spec)
    first = entry["diagnostics"][0]
    assert set(first) == {"file", "line", "column", "path", "message", "hint", "severity", "code"}
    assert (first["line"], first["column"], first["path"]) == (3, 20, "stem.strid")
    assert document["summary"] == {
        "files": 1,
        "invalid": 1,
        "errors": 3,
        "warnings": 0,
        "not_checked": 0,
        "skipped": 0,
    }


def test_validate_github_format(bad_spec):
    result = run("validate", "--format", "github", str(bad_spec))
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith(f"::error file={bad_spec},line=3,col=20,title=stem.strid::")
    assert "unknown key 'strid'" in first


def test_validate_max_params(tmp_path):
    spec = str(ROOT / "specs" / "resnet22.yaml")
    result = run("validate", "--max-params", "1e6", spec)
    assert result.exit_code == 1
    assert "over the limit of 1,000,000" in result.output
    assert run("validate", "--max-params", "lots", spec).exit_code == 2


def test_only_build_imports_a_framework():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from archspec.cli import main\n"
        "for args in (['validate', 'specs'], ['inspect', 'resnet152v2'],\n"
        "             ['diff', 'resnet50v2', 'resnet101v2'], ['graph', 'resnet22'],\n"
        "             ['codegen', 'resnet50v2'], ['presets'], ['schema']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "loaded = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "archspec", "validate", "specs/resnet22.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "1 file checked: 1 valid" in result.stdout


def test_build_errors_are_located_and_exit_1(bad_spec):
    result = CliRunner().invoke(main, ["build", str(bad_spec)])
    assert result.exit_code == 1
    assert f"{bad_spec}:3:20: stem.strid: unknown key 'strid'" in result.output
    assert "Traceback" not in result.output


def test_build_refuses_to_overwrite_its_input(tmp_path):
    spec = tmp_path / "model.keras"
    spec.write_text((ROOT / "specs" / "resnet22.yaml").read_text())
    result = CliRunner().invoke(main, ["build", str(spec), "-o", str(spec)])
    assert result.exit_code == 2
    assert "refusing to overwrite a file this command reads" in result.output
    assert spec.read_text().startswith("# yaml-language-server")


@pytest.mark.keras
def test_build_prints_the_summary_and_saves(tmp_path):
    output = tmp_path / "resnet22.keras"
    result = run("build", str(ROOT / "specs" / "resnet22.yaml"), "-o", str(output))
    assert result.exit_code == 0, result.output
    for row in ("stage1", "64x64x16", "9,808", "1,751,924", "67 layers"):
        assert row in result.output
    assert output.stat().st_size > 0
    assert not list(tmp_path.glob(".resnet22.keras*")), "temporary file left behind"


def test_schema_command_prints_the_schema():
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "archspec spec"


def test_presets_lists_the_shipped_specs():
    result = run("presets")
    assert result.exit_code == 0
    assert "resnet22" in result.output and "1,751,924" in result.output
