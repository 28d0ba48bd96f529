"""A user's review of the command line: options checked up front, help that says all of it.

Found by using each command as a new user would: `--weights notes.txt` was refused only after
TensorFlow had built the model, `--weights-strict` alone did nothing, `-o` onto a folder
spoke of "not a regular file", `archspec show -o spec.json` wrote YAML, `archspec show`'s
own output failed `validate --strict`, `-` (standard input) was "no such file" without a
word more, and help texts cut a summary, said "HXW" or "residual CNNs".
"""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from click.testing import CliRunner

from archspec.cli import main
from archspec.loader import preset_names


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def usage_error(result) -> str:
    assert result.exit_code == 2, result.output
    return result.output.splitlines()[-1]


# --- options checked when the command line is read -------------------------------------------


@pytest.mark.parametrize("command", ["build", "export"])
def test_weights_that_are_not_keras_weights_are_a_usage_error_before_any_work(
    tmp_path, monkeypatch, command
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not weights")
    extra = ["--format", "onnx", "-o", "m.onnx"] if command == "export" else []
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    result = run(command, "resnet22", *extra, "--weights", "notes.txt")
    assert usage_error(result) == (
        "Error: Invalid value for '--weights': 'notes.txt' is not a .weights.h5 or .keras file"
    )
    assert "resnet22: 67 layers" not in result.output  # nothing was built
    assert "tensorflow" not in sys.modules


@pytest.mark.parametrize("command", ["build", "export"])
def test_weights_strict_without_weights_is_a_usage_error(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    extra = ["--format", "onnx", "-o", "m.onnx"] if command == "export" else []
    result = run(command, "resnet22", *extra, "--weights-strict")
    assert usage_error(result) == (
        "Error: Invalid value for '--weights-strict': it checks what --weights loads; give "
        "--weights FILE too"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("nonsense", "'nonsense' is no warning's code (codes: "),
        ("unsued", "'unsued' is no warning's code; did you mean 'unused'? (codes: "),
    ],
)
def test_an_unknown_warning_code_reads_as_one_sentence(code, expected):
    line = usage_error(run("inspect", "resnet22", "--ignore", code))
    assert line == (
        f"Error: Invalid value for '--ignore': {expected}uneven-stride, redundant-norm, unused, "
        "single-class-softmax, channels-first)"
    )


# --- outputs: a folder, and the format a file's suffix names ----------------------------------


@pytest.mark.parametrize(
    "args",
    [["codegen", "resnet22"], ["show", "resnet22"], ["graph", "resnet22"], ["schema"]],
)
def test_an_output_onto_a_folder_says_it_is_a_folder(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    result = run(*args, "-o", "out")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: out: that is a folder, not a file: name the file to write in it"
    ]


def test_show_writes_json_into_a_json_file_unless_told_otherwise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("show", "resnet22", "-o", "r.json").exit_code == 0
    assert json.loads((tmp_path / "r.json").read_text())["name"] == "resnet22"
    assert run("validate", "r.json").exit_code == 0
    assert run("show", "resnet22", "-o", "r.JSON", "--format", "yaml").exit_code == 0
    assert yaml.safe_load((tmp_path / "r.JSON").read_text())["name"] == "resnet22"
    assert run("show", "resnet22", "-o", "r.yml").exit_code == 0
    assert (tmp_path / "r.yml").read_text().startswith("name: resnet22\n")


@pytest.mark.parametrize(("name", "first"), [("g.dot", "digraph"), ("g.gv", "digraph"),
                                             ("g.mmd", "---"), ("g.md", "---")])  # fmt: skip
def test_graph_writes_dot_into_a_dot_file(tmp_path, monkeypatch, name, first):
    monkeypatch.chdir(tmp_path)
    assert run("graph", "resnet22", "-o", name).exit_code == 0
    assert (tmp_path / name).read_text().startswith(first)
    assert run("graph", "resnet22", "-o", name, "--format", "mermaid").exit_code == 0
    assert (tmp_path / name).read_text().startswith("---")


# --- show's output is a spec that validates as cleanly as the spec it shows -------------------


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_what_show_prints_passes_validate_strict(tmp_path, monkeypatch, preset, suffix):
    monkeypatch.chdir(tmp_path)
    assert run("show", preset, "-o", f"{preset}.{suffix}").exit_code == 0
    result = run("validate", "--strict", f"{preset}.{suffix}")
    assert result.output.splitlines() == [
        "1 file checked: 1 valid, 0 invalid (0 errors, 0 warnings)"
    ]
    assert result.exit_code == 0


def test_show_keeps_a_setting_the_spec_states_even_where_it_has_no_effect(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text(
        "extends: resnet22\nname: mine\ninput: {shape: [64, 64, 3], nominal_size: [32, 32]}\n"
    )
    result = run("show", "mine.yaml")
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["input"]["nominal_size"] == [32, 32]
    assert result.stderr.splitlines()[0] == (
        "mine.yaml:3:29: warning: input.nominal_size: input.shape fixes the size, so this "
        "setting has no effect [unused]"
    )


def test_show_writes_every_default_that_takes_effect():
    shown = yaml.safe_load(run("show", "mobilenetv3_small").stdout)
    assert shown["input"]["nominal_size"] == [224, 224]  # its size is open: it counts there
    assert shown["keras"]["hard_sigmoid"] == "ReLU6"
    resnet22 = yaml.safe_load(run("show", "resnet22").stdout)
    assert resnet22["head"]["dense_activation"] == "relu"  # it has a hidden dense layer
    assert "nominal_size" not in resnet22["input"]
    assert resnet22["norm"]["epsilon"] == 0.001


# --- standard input and help texts ------------------------------------------------------------


STDIN_HINT = (
    "    hint: archspec reads specs from files, not from standard input: save the spec to a file"
)


@pytest.mark.parametrize("command", ["inspect", "show", "codegen", "graph"])
def test_a_dash_for_standard_input_says_specs_are_read_from_files(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = run(command, "-")
    assert result.exit_code == 2
    assert result.output.splitlines() == ["-: error: no such file", STDIN_HINT]


def test_validate_of_a_dash_says_it_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("validate", "-")
    assert result.exit_code == 2
    assert result.output.splitlines()[:2] == [
        "-: error: no such file, folder or preset",
        STDIN_HINT,
    ]


def test_the_weights_group_lists_its_command_whole():
    result = run("weights", "--help")
    assert result.exit_code == 0
    listing = " ".join(result.output.split("Commands:")[1].split())
    assert (
        listing == "import Convert a PyTorch state dict (FILE) into Keras weights for SPEC's model."
    )


def test_the_main_help_does_not_limit_archspec_to_residual_networks():
    text = " ".join(run("--help").output.split())
    assert "Validate, build, generate and cost CNNs described by YAML or JSON specs." in text


@pytest.mark.parametrize("command", ["inspect", "diff"])
def test_the_input_option_shows_its_form_as_written(command):
    lines = run(command, "--help").output.splitlines()
    assert any(line.strip().startswith("--input HxW ") for line in lines)


@pytest.mark.parametrize("command", ["inspect", "show", "build"])
def test_a_file_path_named_like_a_preset_keeps_its_dot_slash(tmp_path, monkeypatch, command):
    """`./resnet22` is a file that is not there; the message must not call resnet22 missing."""
    monkeypatch.chdir(tmp_path)
    result = run(command, "./resnet22")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "./resnet22: error: no such file",
        "    hint: for the preset, write resnet22 without './'",
    ]


def test_diff_says_that_set_applies_to_both_specs():
    text = " ".join(run("diff", "--help").output.split())
    assert (
        "--set applies to both A and B (so `diff A A --set ...` finds no change): to cost a "
        "change, make B a file that extends A and sets it." in text
    )
    result = run("diff", "resnet22", "resnet22", "--set", "head.classes=10")
    assert result.exit_code == 0
    assert "no setting differs" in result.output


def test_an_output_onto_the_weights_it_loads_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.keras").write_bytes(b"PK")
    result = run("build", "resnet22", "--weights", "m.keras", "-o", "m.keras")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: m.keras: refusing to overwrite a file this command reads (the spec, a file it "
        "extends, or the weights it loads)"
    ]


@pytest.mark.parametrize("command", ["validate", "inspect", "build", "show", "diff"])
def test_the_ignore_help_lists_the_codes(command):
    text = " ".join(run(command, "--help").output.split())
    assert (
        "--ignore CODE Do not report warnings of this code (repeatable): uneven-stride, "
        "redundant-norm, unused, single-class-softmax, channels-first." in text
    )


def test_validate_strict_help_says_what_strict_means_for_validate():
    text = " ".join(run("validate", "--help").output.split())
    assert "--strict Treat warnings as errors: a file with a warning is invalid (exit 1)." in text
    assert "before any work" not in text


def test_show_output_is_clean_whatever_ignore_the_run_was_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("show", "resnet22", "--ignore", "unused", "-o", "r.yaml").exit_code == 0
    result = run("validate", "--strict", "r.yaml")
    assert result.exit_code == 0, result.output
