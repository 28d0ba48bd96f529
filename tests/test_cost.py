"""inspect, diff and graph: exact figures from the IR, without building or importing a framework."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.cost import cost_rows, graph_json
from archspec.diff import cost_deltas, increase_over, spec_changes
from tests.conftest import ROOT

RESNET22 = str(ROOT / "specs" / "resnet22.yaml")
BOTTLENECK = str(ROOT / "specs" / "resnet22_bottleneck.yaml")
RESNET50 = str(ROOT / "specs" / "resnet50v2.yaml")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def graph(path: str, **kwargs) -> archspec.Graph:
    return archspec.lower(archspec.load(path), **kwargs)


def test_resnet50v2_macs_match_the_profiler_figure():
    macs = graph(RESNET50).macs
    assert abs(macs - 3.50e9) / 3.50e9 < 0.01  # tf.profiler on keras.applications (ANCHORS.md)


@pytest.mark.keras
def test_macs_equal_a_count_from_the_built_keras_layers(built_models):
    """Recount conv and dense MACs from Keras's own layer configs and shapes."""
    model = built_models("resnet50v2")
    total = 0
    for layer in model.layers:
        kind = layer.__class__.__name__
        if kind == "Conv2D":
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += h * w * c_out * kh * kw * c_in // layer.groups
        elif kind == "Dense":
            total += layer.input.shape[-1] * layer.units
    assert graph(RESNET50).macs == total


def test_stage_rows_add_up_to_the_total():
    g = graph(RESNET50)
    rows = cost_rows(g, "stage")
    assert sum(r.params for r in rows) == g.params
    assert sum(r.macs for r in rows) == g.macs
    assert sum(r.activation_bytes for r in rows) == g.activation_bytes
    blocks = [r for r in cost_rows(g, "block") if r.level == 1]
    assert len(blocks) == 16
    layers = [r for r in cost_rows(g, "layer") if r.level == 2]
    assert len(layers) == len(g) - 1


def test_inspect_text_names_macs_and_flops_plainly():
    result = run("inspect", RESNET22)
    assert result.exit_code == 0
    for text in ("stage4", "8x8x128", "526,720", "1,751,924", "147.59 M"):
        assert text in result.output
    assert "FLOPs = 2 x MACs = 295,175,168" in result.output


def test_inspect_depths():
    block = run("inspect", RESNET22, "--depth", "block").output
    assert "stage2_block1" in block and "stage2_block1_conv1" not in block
    layer = run("inspect", RESNET22, "--depth", "layer").output
    assert "stage2_block1_conv1" in layer and "conv 3x3/2 32" in layer


def test_inspect_json_shape():
    result = run("inspect", RESNET22, "--format", "json")
    document = json.loads(result.output)
    assert document["params"] == 1_751_924
    assert document["trainable_params"] == 1_750_196
    assert document["flops"] == 2 * document["macs"] == 2 * 147_587_584
    assert len(document["layers"]) == 67
    conv = next(layer for layer in document["layers"] if layer["name"] == "stage1_block1_conv1")
    assert conv["output_shape"] == [64, 64, 16]
    assert conv["attributes"]["strides"] == 2
    assert document == json.loads(json.dumps(graph_json(graph(RESNET22))))


def test_inspect_at_another_input_size():
    document = json.loads(run("inspect", RESNET50, "--format", "json", "--input", "448").output)
    base = graph(RESNET50)
    assert document["input_shape"] == [448, 448, 3]
    assert document["params"] == base.params  # global pooling: weights do not depend on size
    assert abs(document["macs"] / base.macs - 4) < 0.01
    assert run("inspect", RESNET50, "--input", "0x5").exit_code == 2
    assert run("inspect", RESNET50, "--input", "big").exit_code == 2


def test_spec_changes_name_each_setting():
    changes = spec_changes(archspec.load(RESNET50), archspec.load("resnet101v2"))
    assert [c.describe() for c in changes] == [
        'name: "resnet50v2" -> "resnet101v2"',
        "stages[2].depth: 6 -> 23",
    ]
    tiny = archspec.load(RESNET22)
    fewer = tiny.model_copy(update={"stages": tiny.stages[:3]})
    (removed,) = spec_changes(tiny, fewer)
    assert (removed.path, removed.kind) == ("stages[3]", "removed")


def test_cost_deltas_per_stage_and_total():
    deltas = cost_deltas(graph(RESNET22), graph(BOTTLENECK))
    assert [d.part for d in deltas] == [
        "stem",
        "stage1",
        "stage2",
        "stage3",
        "stage4",
        "head",
        "total",
    ]
    total = deltas[-1]
    assert total.delta("params") == 1_107_684 - 1_751_924
    assert round(total.percent("params"), 1) == -36.8
    assert deltas[0].delta("macs") == 0
    assert increase_over(deltas, 0) == []
    grown = increase_over(cost_deltas(graph(BOTTLENECK), graph(RESNET22)), 10)
    assert grown[0].startswith("parameters grew by 58.2%")


def test_diff_formats_and_budget_guard():
    text = run("diff", RESNET50, "resnet101v2")
    assert text.exit_code == 0
    assert "stages[2].depth: 6 -> 23" in text.output
    assert "+19,061,760 (+267.7%)" in text.output
    markdown = run("diff", RESNET50, "resnet101v2", "--format", "markdown").output
    assert "| **total** | 44,675,560 | +19,061,760 (+74.4%) |" in markdown
    assert "- `stages[2].depth`: 6 -> 23" in markdown
    document = json.loads(run("diff", RESNET50, "resnet101v2", "--format", "json").output)
    total = document["parts"][-1]
    assert total["delta"]["params"] == 19_061_760
    assert document["changes"][1] == {
        "path": "stages[2].depth",
        "kind": "changed",
        "before": 6,
        "after": 23,
    }
    guarded = CliRunner().invoke(
        main, ["diff", RESNET50, "resnet101v2", "--fail-on-increase", "50"]
    )
    assert guarded.exit_code == 1
    assert "parameters grew by 74.4% (limit 50%)" in guarded.output
    assert run("diff", RESNET50, "resnet101v2", "--fail-on-increase", "200").exit_code == 0


@pytest.mark.parametrize("output_format", ["mermaid", "dot"])
def test_graph_golden_for_resnet22(output_format, golden):
    result = run("graph", RESNET22, "--format", output_format)
    assert result.exit_code == 0
    suffix = "mmd" if output_format == "mermaid" else "dot"
    golden(f"graph/resnet22.{suffix}", result.output)


def test_graph_shows_shortcuts_and_shapes():
    mermaid = run("graph", RESNET50).output
    assert 'stage1_block3_shortcut["shortcut<br/>max pool 1x1/2"]' in mermaid
    assert 'stage1_block1_add -.->|"identity"| stage1_block2_add' in mermaid
    assert 'stem -->|"56x56x64"| stage1_block1' in mermaid


def test_graph_draws_a_shared_pre_activation_as_its_own_node():
    mermaid = run("graph", "resnet50v2").output
    assert 'stage1_block1_preact["pre-activation<br/>BN → ReLU"]' in mermaid
    assert 'stage1_block1_preact -->|"56x56x64"| stage1_block1_shortcut' in mermaid
    assert 'stage1_block1_preact -->|"56x56x64"| stage1_block1\n' in mermaid
