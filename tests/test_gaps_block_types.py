"""The block-type registry and the block-authoring API, where the other tests do not look.

What these tests pin, found by mutation testing (`make mutate`, archspec/blocks/*.py):
- defining a block type gives its stage a typed, bounded, documented `blocks` list (at most
  MAX_BLOCK_SETTINGS items, each field of the type optional, with its bounds and its
  description, fields without bounds too), and tells the registry's listeners;
- the registry refuses a second block type of a name and a model without a `block` Literal,
  with messages that say which;
All IR-only (no Keras build).
"""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field, ValidationError

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
    with pytest.raises(TypeError, match="^block type 'basic' is defined twice$"):

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
