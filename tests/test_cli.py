"""The command line: exit codes, output formats, and no TensorFlow where none is needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archspec.cli import main
from tests.conftest import ROOT, TINY_SPEC

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
    assert f"{bad_spec}:4:9: error: stages: needs at least 1 item, got 0" in lines
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


def test_validate_strict_fails_on_warnings(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text("extends: resnet22\nname: odd\ninput: {shape: [250, 250, 3]}\n")
    assert run("validate", str(spec)).exit_code == 0
    result = run("validate", "--strict", str(spec))
    assert result.exit_code == 1
    assert "warning: stages[0].stride: the height 125 is not divisible" in result.output


def test_validate_json_format(bad_spec):
    result = run("validate", "--format", "json", str(bad_spec))
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["version"] == 1
    assert document["valid"] is False
    (entry,) = document["files"]
    assert entry["file"] == str(bad_spec)
    first = entry["diagnostics"][0]
    assert set(first) == {
        "file",
        "line",
        "column",
        "path",
        "message",
        "hint",
        "severity",
        "code",
        "origin",
    }
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


@pytest.mark.parametrize(
    ("strict", "severity", "exit_code"), [((), "warning", 0), (("--strict",), "error", 1)]
)
def test_validate_github_format_annotates_a_warning_as_what_it_does_to_the_check(
    tmp_path, strict, severity, exit_code
):
    # Under --strict a warning fails the job: an annotation saying "warning" would hide why.
    spec = tmp_path / "one_class.yaml"
    spec.write_text(TINY_SPEC.replace("classes: 10", "classes: 1, activation: softmax"))
    result = run("validate", "--format", "github", *strict, str(spec))
    assert result.exit_code == exit_code
    first = result.output.splitlines()[0]
    assert first.startswith(f"::{severity} file={spec},line=5,col=")
    assert "single-class" in first or "one class" in first


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


# Modules that validating or inspecting a spec never needs: frameworks and numerics, the
# modules of other commands, and (where nothing is drawn for people) rich. They are checked in
# a fresh process, since start-up is the cost (benchmarks/bench_validate.py times it).
NOT_FOR_COSTING = (
    "tensorflow",
    "keras",
    "jax",
    "torch",
    "numpy",
    "h5py",
    "jsonschema",
    "difflib",
    "archspec.backends",
    "archspec.weights",
    "archspec.inference",
    "archspec.diff",
    "archspec.schema",
    "archspec.diagram",
)


COSTING_COMMANDS = [
    (["validate", "specs/resnet22.yaml"], ("rich",)),
    (["validate", "--format", "json", "specs/resnet22.yaml"], ("rich",)),
    (["validate", "--format", "github", "specs/resnet22.yaml"], ("rich",)),
    (["validate", "tests/invalid/value_zero_filters.yaml"], ("rich",)),
    (["inspect", "specs/resnet22.yaml"], ()),
    (["inspect", "--format", "json", "specs/resnet22.yaml"], ("rich",)),
]


@pytest.mark.parametrize(
    ("args", "also_not"), COSTING_COMMANDS, ids=[" ".join(args) for args, _ in COSTING_COMMANDS]
)
def test_validate_and_inspect_import_only_what_they_use(args, also_not):
    code = (
        "import json, sys\n"
        "from archspec.cli import main\n"
        "try:\n"
        f"    main(args={args!r}, prog_name='archspec')\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        "print(json.dumps([status, sorted(sys.modules)]), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    status, modules = json.loads(result.stderr.splitlines()[-1])
    assert status == (1 if "invalid" in args[-1] else 0), result.stdout
    assert "archspec.spec" in modules  # the check below looks at a process that did the work
    unwanted = NOT_FOR_COSTING + also_not
    loaded = [m for m in modules if m in unwanted or m.startswith(tuple(f"{u}." for u in unwanted))]
    assert loaded == []


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
    assert f"{bad_spec}:3:20: error: stem.strid: unknown key 'strid'" in result.output
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


def test_presets_json_lists_every_preset_with_its_figures():
    import archspec

    result = run("presets", "--format", "json")
    assert result.exit_code == 0
    listing = json.loads(result.output)
    assert [entry["name"] for entry in listing] == archspec.preset_names()
    entry = next(entry for entry in listing if entry["name"] == "resnet50")
    graph = archspec.lower(archspec.load("resnet50"))
    assert entry["params"] == graph.params == 25_636_712
    assert (entry["macs"], entry["layers"]) == (graph.macs, graph.layer_count)
    assert entry["input_shape"] == [224, 224, 3] and entry["output_shape"] == [1000]
    assert entry["description"] == archspec.load("resnet50").description


# --- options: checked when parsed, the same suffixes everywhere, help for every one ----------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["build", "resnet22", "--seed", "-1"], "Invalid value for '--seed'"),
        (["build", "resnet22", "--seed", str(2**32)], "Invalid value for '--seed'"),
        (["diff", "resnet22", "resnet22", "--fail-on-increase", "nan"], "finite percentage"),
        (["diff", "resnet22", "resnet22", "--fail-on-increase", "inf"], "finite percentage"),
        (["validate", "--max-params", "1,,,,0", "resnet22"], "Invalid value for '--max-params'"),
        (["validate", "--max-params", "1e400", "resnet22"], "not a whole amount"),
        (["validate", "--max-params", "0.5", "resnet22"], "not a whole amount"),
        (["validate", "--max-params", "25MB", "resnet22"], "not an amount"),
        (["validate", "--max-layers", "0", "resnet22"], "is less than 1"),
        (["validate", "--max-activation-memory", "lots", "resnet22"], "not an amount"),
        (["inspect", "resnet22", "--input", "32x32x3"], "Invalid value for '--input'"),
        (["inspect", "resnet22", "--input", "0x32"], "each side must be from 1 to 8192"),
        (["bench", "resnet22", "--batch-size", "0"], "Invalid value for '--batch-size'"),
    ],
)
def test_bad_option_values_are_usage_errors_naming_the_option(arguments, message):
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        ("25M", "25,000,000"),
        ("25_000_000", "25,000,000"),
        ("25,000,000", "25,000,000"),
        ("2.5e7", "25,000,000"),
        ("1.5k", "1,500"),
        ("0.05G", "50,000,000"),
    ],
)
def test_counts_take_suffixes_and_separators(value, limit):
    result = run("validate", "--max-params", value, "--format", "json", "resnet152v2")
    assert f"over the limit of {limit}" in result.output
    assert run("validate", "--max-params", "1G", "--max-layers", "1k", "resnet152v2").exit_code == 0


@pytest.mark.parametrize(
    ("value", "shown"), [("128MiB", "128.0 MiB"), ("128m", "128.0 MiB"), ("0.125GB", "128.0 MiB")]
)
def test_sizes_take_binary_suffixes(value, shown):
    result = run("validate", "--max-activation-memory", value, "resnet152v2")
    assert result.exit_code == 1
    assert f"over the limit of {shown}" in result.output
    assert run("validate", "--max-activation-memory", "1G", "resnet152v2").exit_code == 0


def test_input_n_means_n_by_n():
    result = run("inspect", "resnet22", "--input", "96", "--format", "json")
    assert json.loads(result.output)["input_shape"] == [96, 96, 3]


def test_every_option_has_help_and_size_options_say_what_they_take():
    from archspec.cli import main as group

    for name, command in group.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts[0]} has no help"
        help_text = " ".join(CliRunner().invoke(group, [name, "--help"]).output.split())
        if "--max-params" in help_text:
            assert "with k, M, G" in help_text
            assert "powers of 1024" in help_text


def test_the_command_list_never_cuts_a_description():
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    listing = result.output.split("Commands:")[1]
    assert "..." not in listing
    for name, command in main.commands.items():
        first_paragraph = " ".join(command.help.split("\n\n")[0].split())
        assert first_paragraph in " ".join(listing.split()), name


# --- preset names on every command, with typo hints ------------------------------------------


def test_validate_accepts_preset_names():
    result = run("validate", "resnet50v2", "resnet22_bottleneck")
    assert result.exit_code == 0, result.output
    assert "2 files checked: 2 valid" in result.output


@pytest.mark.parametrize("command", ["validate", "inspect", "codegen", "graph", "build", "diff"])
def test_a_misspelt_preset_gets_a_hint_on_every_command(command):
    arguments = [command, "resnet50v3"] + (["resnet50v3"] if command == "diff" else [])
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert "resnet50v3: " in result.output
    assert "hint: did you mean the preset 'resnet50v2'?" in result.output


def test_a_local_folder_named_like_a_preset_does_not_shadow_it(tmp_path, monkeypatch):
    (tmp_path / "resnet22").mkdir()
    monkeypatch.chdir(tmp_path)
    assert run("inspect", "resnet22").exit_code == 0
    result = run("validate", "./resnet22")
    assert result.exit_code == 2
    assert "no spec files in this folder" in result.output


# --- validate: every path reported, nothing checked is a failure ------------------------------


def test_a_missing_path_does_not_hide_the_other_files(bad_spec):
    result = run("validate", "--format", "json", "missing.yaml", str(bad_spec))
    assert result.exit_code == 2
    document = json.loads(result.output)
    assert [f["file"] for f in document["files"]] == ["missing.yaml", str(bad_spec)]
    assert document["files"][0]["readable"] is False
    assert document["files"][1]["diagnostics"]
    assert document["summary"]["not_checked"] == 1
    github = run("validate", "--format", "github", "missing.yaml", str(bad_spec)).output
    assert "::error file=missing.yaml::no such file, folder or preset" in github
    assert f"::error file={bad_spec},line=3,col=20" in github


@pytest.mark.parametrize("argument", ["", "{tmp}/empty", "{tmp}/*.nothing"])
def test_nothing_to_check_is_a_failure(tmp_path, argument):
    (tmp_path / "empty").mkdir()
    result = run("validate", argument.format(tmp=tmp_path))
    assert result.exit_code == 2, result.output
    assert "0 files checked" in result.output


def test_a_file_whose_name_looks_like_a_glob_is_that_file(tmp_path):
    path = tmp_path / "a[1].yaml"
    path.write_text((ROOT / "specs" / "resnet22.yaml").read_text())
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "1 file checked: 1 valid" in result.output


def test_in_a_folder_only_spec_files_are_checked(tmp_path):
    spec = (ROOT / "specs" / "resnet22.yaml").read_text()
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    (tmp_path / "docker-compose.yml").write_text("services: {web: {image: x}}\n")
    (tmp_path / "azure-pipelines.yml").write_text("trigger: [main]\npool: x\nstages: []\n")
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1"}\n')
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "with_modeline.yaml").write_text(spec)  # has the $schema line
    (tmp_path / "models" / "by_keys.yaml").write_text(spec.split("\n", 1)[1])
    (tmp_path / "models" / "typo.yaml").write_text("name: t\nstem: {filters: 8}\nstage: []\n")
    (tmp_path / "models" / "draft_x.yaml").write_text(
        "name: [broken\n# $schema=archspec.schema.json"
    )
    result = run("validate", "--format", "json", "--exclude", "draft_*", str(tmp_path))
    document = json.loads(result.output)
    checked = sorted(Path(f["file"]).name for f in document["files"])
    assert checked == ["by_keys.yaml", "typo.yaml", "with_modeline.yaml"]
    assert sorted(Path(p).name for p in document["skipped"]) == [
        "azure-pipelines.yml",
        "docker-compose.yml",
        "package.json",
    ]
    assert result.exit_code == 1  # typo.yaml is a spec with mistakes
    text = run("validate", "--exclude", "draft_*", "--exclude", "typo.yaml", str(tmp_path))
    assert text.exit_code == 0, text.output
    assert "3 other YAML/JSON files skipped (not specs)" in text.output.splitlines()[-1]


@pytest.mark.keras
def test_build_without_an_output_says_that_nothing_was_saved(tmp_path, monkeypatch):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(BAD.replace("strid: 2}", "stride: 2}").replace("stages: []", STAGES))
    spec.write_text(spec.read_text().replace("head: {}", "head: {classes: 2}"))
    monkeypatch.chdir(tmp_path)
    result = run("build", str(spec))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "not saved (give -o FILE.keras to save it)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


STAGES = "stages: [{block: preact_basic, filters: 8}]"
