"""The block-type registry and the block-authoring API, where the other tests do not look.

What these tests pin, found by mutation testing (`make mutate`, archspec/blocks/*.py):
- defining a block type gives its stage a typed, bounded, documented `blocks` list (at most
  MAX_BLOCK_SETTINGS items, each field of the type optional, with its bounds and its
  description, fields without bounds too), and tells the registry's listeners;
- the registry refuses a second block type of a name and a model without a `block` Literal,
  with messages that say which;
- per-block settings apply in the block types that lower their own stages (plain, ConvNeXt,
  DenseNet: they once ran every block on the stage's settings), and the budget's projection
  of a deep stage copies a block with the stage's settings, never the last listed one (it
  once refused a model at exactly its limit, claiming twice its parameters);
All IR-only (no Keras build).
"""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field, ValidationError

import archspec
from archspec.blocks import base
from archspec.blocks.base import (
    BLOCKS_DESCRIPTION,
    MAX_BLOCK_SETTINGS,
    StageSpec,
    block_settings_model,
    register,
    unregister,
)
from archspec.blocks.resnet import BottleneckStage
from archspec.errors import SpecError
from archspec.limits import Limits


@pytest.fixture
def listened(monkeypatch):
    """The registry's listeners, with one more that counts its calls."""
    calls: list[None] = []
    monkeypatch.setattr(base, "_LISTENERS", [*base._LISTENERS])
    base.on_change(lambda: calls.append(None))
    return calls


def test_a_new_block_type_gets_a_typed_bounded_documented_blocks_list(listened):
    class TrialStage(StageSpec):
        """A trial block type."""

        block: Literal["trial"]
        kernel: int = Field(3, description="Kernel of the trial conv.")
        reduction: int = Field(2, ge=1, le=64, description="Squeeze width = filters / this.")

        def lower_block(self, b, x):
            return x

    try:
        assert len(listened) == 1
        schema = TrialStage.model_json_schema()
        blocks = schema["properties"]["blocks"]
        assert blocks["maxItems"] == MAX_BLOCK_SETTINGS
        assert blocks["description"] == BLOCKS_DESCRIPTION
        item = schema["$defs"][blocks["items"]["$ref"].rsplit("/", 1)[1]]
        assert item["description"] == "One block's settings in a `trial` stage."
        assert item["properties"]["kernel"]["description"] == "Kernel of the trial conv."
        stage = TrialStage.model_validate(
            {"block": "trial", "filters": 8, "blocks": [{"kernel": 5}, {"reduction": 4}]}
        )
        assert [(s.kernel, s.reduction) for s in map(stage.block_spec, range(3))] == [
            (5, 2),
            (3, 4),
            (3, 2),
        ]
        too_many = [{}] * (MAX_BLOCK_SETTINGS + 1)
        for bad in ([{"reduction": 0}], too_many):
            with pytest.raises(ValidationError):
                TrialStage.model_validate({"block": "trial", "filters": 8, "blocks": bad})
    finally:
        unregister("trial")
    assert len(listened) == 2


def test_per_block_settings_keep_each_fields_type_bounds_and_description():
    settings = block_settings_model(BottleneckStage)
    assert settings.__doc__ == "One block's settings in a `bottleneck` stage."
    fields = settings.model_fields
    assert set(fields) == set(BottleneckStage.model_fields) - set(base.STAGE_WIDE_FIELDS)
    for name, info in fields.items():
        assert info.description == BottleneckStage.model_fields[name].description, name
        assert info.default is None
    with pytest.raises(ValidationError):
        settings.model_validate({"expansion": 0})
    assert settings.model_validate({"se": {"ratio": 0.25}}).se.ratio == 0.25


def test_a_second_block_type_of_a_name_is_refused(listened):
    with pytest.raises(TypeError, match=r"^block type 'basic' is defined twice$"):

        class Twin(StageSpec):
            block: Literal["basic"]

            def lower_block(self, b, x):
                return x

    assert not listened
    register(BottleneckStage)  # the same model again: nothing to refuse
    assert base.stage_model("bottleneck") is BottleneckStage


def test_a_model_without_a_block_literal_cannot_be_registered():
    with pytest.raises(TypeError, match=r"^StageSpec has no `block: Literal\[...\]` field$"):
        register(StageSpec)


def network(stage: dict) -> archspec.Spec:
    return archspec.Spec.model_validate(
        {
            "name": "per_block",
            "input": {"shape": [16, 16, 3]},
            "stem": {"filters": 16},
            "stages": [stage],
            "head": {"classes": 3},
        }
    )


@pytest.mark.parametrize(
    ("stage", "layer", "attr", "expected"),
    [
        ({"block": "plain", "stride": 2}, "conv", "kernel", [3, 5, 3]),
        ({"block": "convnext", "stride": 2}, "dw_conv", "kernel", [7, 5, 7]),
        ({"block": "densenet", "stride": 2}, "conv1", "filters", [64, 80, 64]),
        ({"block": "depthwise_separable"}, "dw_conv", "kernel", [3, 5, 3]),
        ({"block": "mbconv"}, "dwconv", "kernel", [3, 5, 3]),
    ],
)
def test_per_block_settings_apply_in_every_block_type(stage, layer, attr, expected):
    override = {"kernel": 5} if attr == "kernel" else {"bottleneck": 5}
    spec = network({**stage, "filters": 16, "depth": 3, "blocks": [{}, override]})
    graph = archspec.lower(spec)
    names = [f"stage1_block{i}_{layer}" for i in (1, 2, 3)]
    assert [graph[name].attrs[attr] for name in names] == expected


def test_a_deep_stage_with_a_heavier_listed_block_fits_at_exactly_its_parameters():
    # Block 2 (a 7x7 conv) is listed; blocks 3 to 6 are 3x3 like block 1.
    spec = network({"block": "plain", "filters": 8, "depth": 6, "blocks": [{}, {"kernel": 7}]})
    params = sum(layer.params for layer in archspec.lower(spec))
    archspec.lower(spec, limits=Limits(max_params=params))
    with pytest.raises(SpecError) as caught:
        archspec.lower(spec, limits=Limits(max_params=params - 1))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == (
        f"the model would have {params:,} parameters, over the limit of {params - 1:,}"
    )
