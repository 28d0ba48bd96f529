"""A user's review of `inspect --format json`: --depth block asked for blocks and got none.

The JSON had stages and layers whatever --depth said, so `--depth block --format json` printed
no block at all. It now has a `blocks` list too (each naming its stage), the same figures as
the table's block rows, and --depth's help says the JSON has every depth.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archspec.cli import main
from tests.conftest import ROOT

MIXED = str(ROOT / "examples" / "resnet_convnext.yaml")


def inspect(*args: str) -> dict:
    result = CliRunner().invoke(main, ["inspect", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_inspect_json_lists_every_block_with_its_stage_and_figures():
    blocks = inspect(MIXED, "--format", "json")["blocks"]
    assert [(b["stage"], b["name"], b["what"], b["params"]) for b in blocks] == [
        ("stage1", "stage1_block1", "preact_basic, conv shortcut", 44_304),
        ("stage1", "stage1_block2", "preact_basic, identity shortcut", 41_952),
        ("stage2", "stage2_block1", "preact_basic, conv shortcut", 129_888),
        ("stage2", "stage2_block2", "preact_basic, identity shortcut", 166_848),
        ("stage3", "stage3_downsample", "convnext, downsample", 74_304),
        ("stage3", "stage3_block1", "convnext", 306_432),
        ("stage3", "stage3_block2", "convnext", 306_432),
        ("stage4", "stage4_downsample", "convnext, downsample", 296_064),
        ("stage4", "stage4_block1", "convnext", 1_202_688),
    ]
    assert blocks[4]["output_shape"] == [4, 4, 192]
    assert (blocks[4]["macs"], blocks[4]["activation_bytes"]) == (1_179_648, 36 * 1024)


@pytest.mark.parametrize("preset", ["resnet22", "densenet121", "mobilenetv3_small", "vgg16"])
def test_blocks_add_up_to_their_stages(preset):
    document = inspect(preset, "--format", "json")
    for stage in document["stages"]:
        mine = [b for b in document["blocks"] if b["stage"] == stage["name"]]
        if stage["name"] in ("input", "stem", "head"):
            assert mine == []
            continue
        for key in ("params", "trainable_params", "macs", "activation_bytes"):
            assert sum(b[key] for b in mine) == stage[key], (stage["name"], key)
        assert mine[-1]["output_shape"] == stage["output_shape"]


@pytest.mark.parametrize("depth", ["stage", "block", "layer"])
def test_the_json_is_the_same_at_every_depth(depth):
    assert inspect("resnet22", "--format", "json", "--depth", depth) == inspect(
        "resnet22", "--format", "json"
    )


def test_the_depth_help_says_the_json_has_every_depth():
    result = CliRunner().invoke(main, ["inspect", "--help"])
    assert "One row per stage, per block, or per layer (--format json has all three)." in " ".join(
        result.output.split()
    )
