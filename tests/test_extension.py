"""The extension point: a block type and new ops defined here, nowhere else, work everywhere.

The block is a squeeze-and-excitation basic block written against the block-authoring API,
with ops the table does not have (a keep-dims global pool, a sigmoid, a scaling multiply and a
concatenation), each defined here under a name of its own.
Validation, the schema, inspect, build, codegen and the diagram must all handle it with no
change to archspec.
"""

from __future__ import annotations

import json
from typing import ClassVar, Literal

import jsonschema
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from pydantic import ConfigDict, Field, ValidationError

import archspec
from archspec import ops
from archspec.blocks.base import StageSpec, block_types, unregister
from archspec.blocks.residual import Shortcut
from archspec.cli import main
from archspec.schema import spec_schema
from tests.test_codegen import generated_module
from tests.test_keras_backend import layer_sequence

NEW_OPS = (
    ops.Op(
        "squeeze",
        ops.KerasCall("GlobalAveragePooling2D", (), (ops.Keyword("keepdims"),)),
        lambda a: "squeeze",
        shape=lambda a, inputs: (1, 1, inputs[0][-1]),
    ),
    ops.Op(
        "sigmoid",
        ops.KerasCall("Activation", (ops.Const("sigmoid"),)),
        lambda a: "sigmoid",
    ),
    ops.Op(
        "concat",
        ops.KerasCall("Concatenate"),
        lambda a: "concat",
        shape=lambda a, inputs: (*inputs[0][:-1], sum(shape[-1] for shape in inputs)),
        merges=True,
        symbol="⧺",
    ),
    ops.Op(
        "scale",
        ops.KerasCall("Multiply"),
        lambda a: "scale",
        shape=lambda a, inputs: inputs[0],
        merges=True,
        symbol="×",
    ),
)

SPEC = {
    "name": "se_net",
    "input": {"shape": [32, 32, 3]},
    "stem": {"filters": 8, "norm": False},
    "stages": [
        {"block": "se_basic", "filters": 8, "depth": 2, "reduction": 4},
        {"block": "se_basic", "filters": 16, "stride": 2, "depth": 2},
    ],
    "head": {"norm": True, "classes": 5},
}


@pytest.fixture
def se_block(monkeypatch):
    """Define the new ops and the block types; remove them afterwards."""
    assert not {op.name for op in NEW_OPS} & set(ops.OPS), "the test's ops must be new"
    for op in NEW_OPS:
        monkeypatch.setitem(ops.OPS, op.name, op)

    class SEBasicStage(StageSpec):
        """Pre-activation basic block whose residual branch is rescaled per channel (SE)."""

        preactivation: ClassVar[bool] = True
        block: Literal["se_basic"]
        reduction: int = Field(2, ge=1, le=64, description="Squeeze width = filters / this.")

        def lower_block(self, b, x):
            residual = Shortcut(b, b.filters)
            h = b.act("preact_relu", b.norm("preact_bn", x))
            h = b.conv("conv1", h, b.filters, 3, b.stride, bias=False)
            h = b.act("relu1", b.norm("bn1", h))
            h = b.conv("conv2", h, b.filters, 3, bias=False)
            s = b.layer("squeeze", "se_pool", (h,), {"keepdims": True}, branch="se")
            width = max(1, b.filters.value // self.reduction)
            s = b.conv("se_conv1", s, width, 1, bias=True, branch="se")
            s = b.activation("se_relu", s, "relu", branch="se")
            s = b.conv("se_conv2", s, b.filters, 1, bias=True, branch="se")
            s = b.layer("sigmoid", "se_gate", (s,), branch="se")
            h = b.layer("scale", "se_scale", (h, s))
            return residual.add(h, residual.build(x, None))

    class PlainStage(StageSpec):
        """Conv -> BN -> ReLU, no shortcut (a VGG-like or strided MobileNet-like block)."""

        block: Literal["conv_unit"]

        def lower_block(self, b, x):
            h = b.conv("conv", x, b.filters, 3, b.stride, bias=False)
            return b.act("relu", b.norm("bn", h))

    class DenseUnitStage(StageSpec):
        """BN -> ReLU -> 3x3 conv of `filters` new channels, concatenated to the input."""

        block: Literal["dense_unit"]

        def lower_block(self, b, x):
            h = b.act("relu", b.norm("bn", x))
            h = b.conv("conv", h, b.filters, 3, bias=False)
            return b.layer("concat", "concat", (x, h))

    yield SEBasicStage
    for name in ("se_basic", "conv_unit", "dense_unit"):
        unregister(name)


def write_spec(tmp_path):
    path = tmp_path / "se_net.yaml"
    path.write_text(yaml.safe_dump(SPEC, sort_keys=False))
    return str(path)


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_new_block_type_is_in_the_language_and_the_schema(se_block, tmp_path):
    assert "se_basic" in block_types()
    spec_path = write_spec(tmp_path)
    result = run("validate", spec_path)
    assert result.exit_code == 0, result.output
    schema = spec_schema()
    jsonschema.validate(SPEC, schema)
    assert "se_basic" in json.dumps(schema)
    bad = {**SPEC, "stages": [{"block": "se_basic", "filters": 8, "reduction": 0}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad_path = tmp_path / "bad.yaml"
    bad_path.write_text(yaml.safe_dump(bad, sort_keys=False))
    located = run("validate", str(bad_path))
    assert located.exit_code == 1
    assert "stages[0].reduction: must be at least 1" in located.output
    typo_path = tmp_path / "typo.yaml"
    typo_path.write_text(yaml.safe_dump({**SPEC, "stages": [{**SPEC["stages"][0], "reductio": 2}]}))
    typo = run("validate", str(typo_path))
    assert "did you mean 'reduction'?" in typo.output


@pytest.mark.parametrize("defer_build", [True, False], ids=["built on first use", "built at once"])
def test_per_block_settings_are_checked_like_the_stages(defer_build):
    # Spec models build their validators on first use; a block type that builds its own at
    # once must get its typed `blocks` field all the same.
    class UnitStage(StageSpec):
        """A stage whose model may be built when it is defined."""

        model_config = ConfigDict(defer_build=defer_build)
        block: Literal["unit_under_test"]
        reduction: int = Field(2, ge=1, le=64)

        def lower_block(self, b, x):
            return x

    try:
        stage = UnitStage.model_validate(
            {"block": "unit_under_test", "filters": 8, "blocks": [{"reduction": 4}, {}]}
        )
        assert stage.depth == 2
        assert [stage.block_spec(i).reduction for i in range(2)] == [4, 2]
        for bad in ({"reduction": 0}, {"reductoin": 4}):
            with pytest.raises(ValidationError):
                UnitStage.model_validate(
                    {"block": "unit_under_test", "filters": 8, "blocks": [bad]}
                )
    finally:
        unregister("unit_under_test")


def test_the_block_type_disappears_when_unregistered(tmp_path):
    assert "se_basic" not in block_types()
    result = run("validate", write_spec(tmp_path))
    assert result.exit_code == 1
    assert "unknown block type 'se_basic'" in result.output


def test_inspect_and_graph_handle_the_new_block_and_ops(se_block, tmp_path):
    spec_path = write_spec(tmp_path)
    graph = archspec.lower(archspec.load(spec_path))
    assert [b.variant for b in graph.blocks] == ["conv", "identity", "conv", "identity"]
    assert graph["stage1_block1_se_pool"].shape == (1, 1, 8)
    assert graph["stage1_block1_se_conv1"].attrs["filters"] == 2  # 8 / reduction 4
    assert graph["stage2_block1_se_conv1"].attrs["filters"] == 8  # 16 / default 2
    layers = run("inspect", spec_path, "--depth", "layer").output
    assert "squeeze" in layers and "scale" in layers
    mermaid = run("graph", spec_path).output
    assert 'stage1_block1_se["se<br/>squeeze → conv 1x1 2 → ReLU → conv 1x1 8 → sigmoid"]' in (
        mermaid
    )
    assert 'stage1_block1_se_scale(("×"))' in mermaid
    assert 'stage1_block1_se -->|"32x32x8"| stage1_block1_se_scale' not in mermaid
    assert 'stage1_block1_se -->|"1x1x8"| stage1_block1_se_scale' in mermaid
    assert 'stage1_block1_se_scale -->|"32x32x8"| stage1_block1_add' in mermaid


MIXED = {
    "name": "mixed",
    "input": {"shape": [32, 32, 3]},
    "stem": {"filters": 8, "norm": False},
    "stages": [
        {"block": "conv_unit", "filters": 8, "stride": 2, "depth": 2},
        {"block": "dense_unit", "filters": 4, "depth": 3},
        {"block": "se_basic", "filters": 16, "stride": 2},
    ],
    "head": {"classes": 3},
}


def test_blocks_without_an_add_and_with_a_concatenation(se_block, tmp_path):
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(MIXED, sort_keys=False))
    graph = archspec.lower(archspec.load(path))
    assert graph["stage1_block2_relu"].shape == (16, 16, 8)
    assert [graph[f"stage2_block{i}_concat"].shape[-1] for i in (1, 2, 3)] == [12, 16, 20]
    assert graph["stage2_block1_concat"].inputs == ("stage1_block2_relu", "stage2_block1_conv")
    assert [b.variant for b in graph.blocks[:5]] == [""] * 5
    mermaid = run("graph", str(path)).output
    assert 'stage1_block1["stage1_block1<br/>conv 3x3/2 8 (no bias) → BN → ReLU"]' in mermaid
    assert 'stage2_block1_concat(("⧺"))' in mermaid
    assert 'stage1_block2 -.->|"identity"| stage2_block1_concat' in mermaid
    assert 'stage2_block1 -->|"16x16x4"| stage2_block1_concat' in mermaid
    rows = run("inspect", str(path), "--depth", "block").output
    assert "stage2_block3" in rows and "dense_unit" in rows


@pytest.mark.keras
@pytest.mark.parametrize("spec", [SPEC, MIXED], ids=["se", "mixed"])
def test_build_and_codegen_of_the_new_blocks_equal_the_ir(se_block, tmp_path, spec):
    spec_path = tmp_path / f"{spec['name']}.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    graph = archspec.lower(archspec.load(spec_path))
    model = archspec.build(spec_path)
    assert model.count_params() == graph.params
    for layer in graph.layers[1:]:
        assert tuple(model.get_layer(layer.name).output.shape[1:]) == layer.shape, layer.name
    source = archspec.codegen(spec_path)
    assert "layers.Multiply(" in source or "layers.Concatenate(" in source
    generated = generated_module(source, spec["name"]).build_model()
    assert layer_sequence(generated) == layer_sequence(model)
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.2, w.shape).astype(w.dtype) for w in model.get_weights()]
    model.set_weights(weights)
    generated.set_weights(weights)
    images = rng.uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(
        generated.predict_on_batch(images), model.predict_on_batch(images)
    )
