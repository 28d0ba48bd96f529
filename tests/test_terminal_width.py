"""Output that fits a terminal: at 80, 60 and 40 columns no number or name is cut or elided,
no line is longer than the terminal, no line ends in a space, and piped output is as wide as its
contents (no padding to a fixed width)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console, ConsoleRenderable

import archspec
from archspec import cli, render
from archspec.bench import BenchResult, PhaseResult
from archspec.cost import cost_rows, format_shape, total_row
from archspec.diff import METRICS, cost_deltas, format_metric, spec_changes
from archspec.weights import Conversion, LoadReport, Mismatch
from tests.conftest import ROOT

WIDTHS = [40, 60, 80]
"""80: the classic terminal; 60: a split pane; 40: too narrow for any table (one record per row)."""


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}-columns")
def columns(request, monkeypatch) -> int:
    monkeypatch.setattr(cli.stdout, "width", request.param)
    return request.param


def run(*args: str) -> str:
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def rendered(renderable: ConsoleRenderable, width: int) -> str:
    """What `renderable` prints on a plain console `width` columns wide."""
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def check_fits(text: str, width: int, whole: list[str]) -> None:
    """Every line fits, none ends in a space, nothing is elided, each of `whole` appears uncut."""
    assert "…" not in text and "..." not in text
    for line in text.splitlines():
        assert len(line) <= width, line
        assert line == line.rstrip(), repr(line)
    words = set(re.findall(r"[^\s│┃]+", text))
    missing = [token for token in whole if token not in words]
    assert not missing, f"cut or missing: {missing[:10]}"


def cost_tokens(graph: archspec.Graph, depth: str, skip: int = 0) -> list[str]:
    """Every part's name, shape and parameter count (but the first `skip` parts): what inspect
    and build must show whole."""
    rows = [*cost_rows(graph, depth)[skip:], total_row(graph)]  # type: ignore[arg-type]
    return [
        token
        for row in rows
        for token in (row.name, format_shape(row.shape), f"{row.params:,}")
        if token
    ]


@pytest.mark.parametrize("spec", ["resnet22", "resnet152v2", "tv_resnext50_32x4d"])
@pytest.mark.parametrize("depth", ["stage", "block", "layer"])
def test_inspect_cuts_no_name_or_number(columns, spec, depth):
    graph = archspec.lower(archspec.load(spec))
    check_fits(run("inspect", spec, "--depth", depth), columns, cost_tokens(graph, depth))


def test_inspect_footnote_wraps_between_words(columns):
    output = run("inspect", "resnet22")
    check_fits(output, columns, ["147,587,584", "295,175,168."])


@pytest.mark.parametrize(
    ("a", "b"), [("resnet50v2", "resnet101v2"), ("resnet22", "resnet22_bottleneck")]
)
def test_diff_cuts_no_number(columns, a, b):
    spec_a, spec_b = (archspec.load(name) for name in (a, b))
    deltas = cost_deltas(*(archspec.lower(spec) for spec in (spec_a, spec_b)))
    whole = [delta.part for delta in deltas]
    for delta in deltas:
        for metric in METRICS:
            _, after, change = format_metric(delta, metric)
            signed, _, percent = change.partition(" (")
            whole += [*after.split(), *signed.split(), f"({percent}"]
    whole += [f"{change.path}:" for change in spec_changes(spec_a, spec_b)]
    check_fits(run("diff", a, b), columns, whole)


def test_presets_cuts_no_name(columns):
    output = run("presets")
    check_fits(output, columns, [*archspec.preset_names(), "10,476,922", "3,339"])


def test_tables_stay_tables_while_they_fit():
    """Narrowing degrades step by step: 80 columns still get tables, not one record per row."""
    for renderable in (
        render.inspect_table(archspec.lower(archspec.load("resnet152v2")), "layer"),
        render.presets_table([("preact_resnet18_cifar", "32x32x3", 65, 11_179_978, 0, "x y")]),
        render.diff_table(
            "cost",
            cost_deltas(*map(archspec.lower, map(archspec.load, ["resnet50v2", "resnet101v2"]))),
        ),
    ):
        assert "┃" in rendered(renderable, 80)
        assert "┃" not in rendered(renderable, 30)


def test_build_summary_cuts_no_name_or_number(columns):
    graph = archspec.lower(archspec.load("tv_resnext50_32x4d"))
    text = rendered(render.summary_table(graph), columns)
    check_fits(text, columns, cost_tokens(graph, "stage", skip=1))  # no input row


def test_bench_table_cuts_no_number(columns):
    phases = [
        PhaseResult("train", (1234.5, 1300.0, 1250.0), steps=10, batch_size=32),
        PhaseResult("infer", (98765.4, 99000.0, 98000.0), steps=10, batch_size=32),
    ]
    result = BenchResult(
        "resnet50", "tensorflow", "cpu", 1, 32, "float32", None, 25_636_712, phases
    )
    text = rendered(render.bench_table(result), columns)
    check_fits(text, columns, ["train", "infer", "1,250.0", "98,765.4", "±2.6%", "25.6"])


def test_weights_tables_cut_no_layer_name(columns):
    long = "conv4_block23_3_conv"
    report = LoadReport(
        loaded=(("conv1_conv", 9408),),
        missing=("conv5_block3_preact_bn",),
        mismatched=((long, "3x3x256x256, 256", "1x1x1024x256, 256"),),
        unused=("predictions_dense_layer",),
    )
    text = rendered(render.load_report_table(report), columns)
    check_fits(text, columns, [long, "conv5_block3_preact_bn", "predictions_dense_layer", "9,408"])
    conversion = Conversion(
        weights={"conv1": [np.zeros(1)]},
        missing=("layer4.2.bn3.running_var",),
        mismatched=(Mismatch("layer3.5.conv2.weight", (256, 256, 3, 3), (256, 128, 3, 3)),),
        unused=("fc.bias_extra_for_another_head",),
    )
    text = rendered(render.conversion_table(conversion, "torchvision"), columns)
    tokens = ["layer4.2.bn3.running_var", "layer3.5.conv2.weight", "256x256x3x3", "256x128x3x3"]
    check_fits(text, columns, [*tokens, "fc.bias_extra_for_another_head"])


def test_validate_diagnostics_are_one_line_each(columns, tmp_path):
    """A diagnostic is not wrapped: editors and CI annotations read it line by line."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("extends: resnet22\nname: odd\ninput: {shape: [250, 250, 3]}\n")
    result = CliRunner().invoke(cli.main, ["validate", str(spec)])
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{spec}:1:10: warning: stages[0].stride:")
    assert lines[0].endswith("[uneven-stride]")


def _piped(*args: str, **environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [sys.executable, "-m", "archspec", *args],
        cwd=ROOT,
        env={**env, "NO_COLOR": "1", **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_piped_output_is_as_wide_as_its_contents_with_no_trailing_spaces():
    output = _piped("inspect", "resnet22")
    lines = output.splitlines()
    assert lines[0] == "resnet22: 67 layers"
    assert all(line == line.rstrip() for line in lines)
    assert "preact_basic x2, 128 filters, stride 2" in output  # one line: no width to wrap to
    assert len(lines) == 15
    assert max(map(len, lines[:-1])) < 120  # the table: not padded to a fixed width
    assert lines[-1].startswith("MACs: ") and lines[-1].endswith("non-trainable ones).")


def test_piped_output_follows_columns():
    output = _piped("presets", COLUMNS="60")
    lines = output.splitlines()
    assert max(map(len, lines)) <= 60
    assert all(line == line.rstrip() for line in lines)
    assert set(archspec.preset_names()) <= {line.strip() for line in lines}
