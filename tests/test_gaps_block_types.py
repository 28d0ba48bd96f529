"""Block types and the block-authoring API where no preset goes, against their documentation.

What these tests pin, found by mutation testing (`make mutate`, archspec/blocks/*.py):
- defining a block type gives its stage a typed, bounded, documented `blocks` list (at most
  MAX_BLOCK_SETTINGS items, each field of the type optional, with its bounds and its
  description, fields without bounds too), and tells the registry's listeners;
- the registry refuses a second block type of a name and a model without a `block` Literal,
  with messages that say which;
- per-block settings apply in the block types that lower their own stages (plain, ConvNeXt,
  DenseNet: they once ran every block on the stage's settings), and the budget's projection
  of a deep stage copies a block with the stage's settings, never the last listed one (it
  once refused a model at exactly its limit, claiming twice its parameters); an absurd stage
  is refused after its second block, with the projected figure, at the stage;
- squeeze-and-excitation at each position each block type offers (what it reads, what reads
  it, its widths), VGG-BN blocks, SE refused before a plain block's only conv, mobile blocks'
  expanded widths, forms and strided fused convs, drop path's stochastic-depth layers and
  its spread over written blocks, squeeze-width rounding;
- located errors: an identity shortcut on a strided block, a residual add whose paths
  differ, groups that do not divide the width (with the nearest divisor), a window that does
  not fit an unstrided block or a transition; transitions documented by their function;
  the authoring API's defaults and `int_of`'s refusal.
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
from archspec.blocks.builder import Arg, int_of
from archspec.blocks.options import SqueezeExcite
from archspec.blocks.residual import Shortcut
from archspec.blocks.resnet import BottleneckStage
from archspec.errors import SpecError
from archspec.ir import Binding
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


# --- squeeze-and-excitation at each position each block type offers ---------------------------

SE_SITES = [
    # (stage, position, what the squeeze reads, what reads the excitation, gated width)
    ({"block": "basic"}, "end", "bn2", "add", 16),
    ({"block": "basic"}, "before_last_conv", "relu1", "conv2", 16),
    ({"block": "preact_basic"}, "end", "conv2", "add", 16),
    ({"block": "preact_basic"}, "before_last_conv", "relu1", "conv2", 16),
    ({"block": "bottleneck", "expansion": 2}, "end", "bn3", "add", 32),
    ({"block": "bottleneck", "expansion": 2}, "before_last_conv", "relu2", "conv3", 16),
    ({"block": "preact_bottleneck", "expansion": 2}, "end", "conv3", "add", 32),
    ({"block": "preact_bottleneck", "expansion": 2}, "before_last_conv", "relu2", "conv3", 16),
    ({"block": "plain"}, "end", "conv", None, 16),
    ({"block": "plain", "norm": True}, "end", "relu", None, 16),
    ({"block": "mbconv", "expansion": 2}, "end", "project_bn", "add", 16),
    ({"block": "mbconv", "expansion": 2}, "before_last_conv", "dw_act", "project_conv", 32),
    ({"block": "fused_mbconv", "expansion": 2}, "end", "project_bn", "add", 16),
    (
        {"block": "fused_mbconv", "expansion": 2},
        "before_last_conv",
        "expand_act",
        "project_conv",
        32,
    ),
    ({"block": "fused_mbconv", "expansion": 1}, "end", "act", "add", 16),
    ({"block": "fused_mbconv", "expansion": 1}, "before_last_conv", "", "conv", 16),
]


@pytest.mark.parametrize(("stage", "position", "reads", "read_by", "gated"), SE_SITES)
def test_squeeze_excitation_sits_where_its_position_says_in_every_block_type(
    stage, position, reads, read_by, gated
):
    se = {"ratio": 0.25, "position": position}
    graph = archspec.lower(network({**stage, "filters": 16, "depth": 2, "se": se}))
    block = "stage1_block2"
    source = f"{block}_{reads}" if reads else graph.blocks[0].output
    excited = f"{block}_se_excite"
    assert graph[f"{block}_se_squeeze"].inputs == (source,)
    assert graph[excited].inputs == (source, f"{block}_se_gate")
    readers = [layer.local for layer in graph if layer.block == block and excited in layer.inputs]
    assert readers == ([read_by] if read_by else [])
    assert graph[f"{block}_se_expand"].attrs["filters"] == gated
    assert graph[f"{block}_se_reduce"].attrs["filters"] == gated // 4
    se_branch = [layer.op for layer in graph if layer.block == block and layer.branch == "se"]
    assert se_branch == ["global_avg_pool", "conv2d", "activation", "conv2d", "activation"]


def only_error(spec: archspec.Spec, limits: Limits | None = None) -> archspec.Diagnostic:
    with pytest.raises(SpecError) as caught:
        archspec.lower(spec, limits=limits)
    (diagnostic,) = caught.value.diagnostics
    return diagnostic


# --- plain (VGG) blocks -------------------------------------------------------------------------


def test_a_plain_block_with_a_norm_is_conv_norm_activation():
    graph = archspec.lower(network({"block": "plain", "filters": 16, "kernel": 5, "norm": True}))
    block = [layer for layer in graph if layer.block == "stage1_block1"]
    assert [(layer.local, layer.op) for layer in block] == [
        ("conv", "conv2d"),
        ("bn", "batch_norm"),
        ("relu", "activation"),
    ]
    conv = block[0].attrs
    assert (conv["filters"], conv["kernel"], conv["use_bias"]) == (16, 5, True)
    assert "activation" not in conv
    assert [layer.inputs for layer in block[1:]] == [("stage1_block1_conv",), ("stage1_block1_bn",)]


def test_an_unstrided_plain_stage_ends_without_a_pool():
    graph = archspec.lower(network({"block": "plain", "filters": 16, "depth": 2}))
    assert not [layer for layer in graph if layer.op.endswith("_pool") and layer.scope != "head"]
    assert [block.name for block in graph.blocks] == ["stage1_block1", "stage1_block2"]


def test_squeeze_excitation_before_a_plain_blocks_only_conv_is_refused():
    se = {"position": "before_last_conv"}
    diagnostic = only_error(network({"block": "plain", "filters": 16, "se": se}))
    assert diagnostic.path == "stages[0].se"
    assert diagnostic.message == (
        "a plain block has a single conv, so squeeze-and-excitation cannot sit before its last conv"
    )
    assert diagnostic.hint == "use se.position: end (after the block's activation)"
    assert diagnostic.code == "se-position"
    archspec.lower(network({"block": "plain", "filters": 16, "se": {"position": "end"}}))


# --- mobile blocks ------------------------------------------------------------------------------


def test_a_blocks_own_activation_names_its_form_only_where_it_differs_from_the_networks():
    def variants(activation):
        stage = {"block": "mbconv", "filters": 16, "depth": 2, "activation": activation}
        return [block.variant for block in archspec.lower(network(stage)).blocks]

    assert variants("relu") == variants(None) == ["expand_add", "expand_add"]
    assert variants("swish") == ["swish_expand_add", "swish_expand_add"]


@pytest.mark.parametrize("block", ["mbconv", "fused_mbconv"])
def test_the_expanded_width_is_the_input_times_the_expansion_rounded_as_widths(block):
    def expanded(expansion: float, **sections: object) -> int:
        stage = {"block": block, "filters": 16, "expansion": expansion}
        spec = archspec.Spec.model_validate({**network(stage).model_dump(), **sections})
        return archspec.lower(spec)["stage1_block1_expand_conv"].attrs["filters"]

    assert expanded(2.0) == 32
    assert expanded(2.5) == 40
    assert expanded(2.5, width_rounding={"divisor": 16}) == 48


def test_a_strided_fused_block_without_expansion_strides_its_only_conv():
    graph = archspec.lower(
        network({"block": "fused_mbconv", "filters": 16, "expansion": 1.0, "stride": 2})
    )
    conv = graph["stage1_block1_conv"]
    assert conv.attrs["strides"] == 2
    assert conv.shape == (8, 8, 16)


# --- residual shortcuts -------------------------------------------------------------------------


def test_an_identity_shortcut_on_a_strided_block_is_a_located_error():
    spec = network({"block": "basic", "filters": 16, "stride": 2}).model_copy()
    spec = archspec.Spec.model_validate(
        {
            **spec.model_dump(mode="json", exclude_defaults=True),
            "residual": {"shortcut": {"kind": "identity"}},
        }
    )
    diagnostic = only_error(spec)
    assert diagnostic.path == "stages[0].stride"
    assert diagnostic.message == (
        "stage1_block1 downsamples by 2 but its shortcut is identity, so the add cannot match"
    )
    assert diagnostic.hint == "use residual.shortcut.kind: conv, or downsample: maxpool"
    assert diagnostic.code == "shape-mismatch"


def test_a_residual_add_whose_paths_differ_in_size_is_a_located_error():
    class ShrinkStage(StageSpec):
        """A residual block whose main path loses a border (a 'valid' 3x3 pool)."""

        block: Literal["shrink"]

        def lower_block(self, b, x):
            residual = Shortcut(b, b.filters)
            h = b.pool("pool", x, "max", 3, 1, "valid")
            return residual.add(h, residual.build(x, None))

    try:
        diagnostic = only_error(network({"block": "shrink", "filters": 16}))
    finally:
        unregister("shrink")
    assert diagnostic.path == "stages[0]"
    assert diagnostic.message == (
        "stage1_block1_add: the main path gives (14, 14, 16) but the shortcut gives (16, 16, 16)"
    )
    assert diagnostic.hint == "use 'same' padding or sizes the strides divide evenly"
    assert diagnostic.code == "shape-mismatch"


# --- options: squeeze width, drop path ---------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "width"),
    [
        ({"ratio": 0.25, "divisor": 8, "rounding": "down"}, 24),  # 30 down to a multiple of 8
        ({"ratio": 0.25, "divisor": 8}, 32),  # 30 to the nearest multiple of 8
        ({"ratio": 0.05, "divisor": 8, "rounding": "down"}, 8),  # never below the divisor
        # 10 rounds to 8, which is not below 0.8 x 10: it stays
        ({"ratio": 0.25 / 3, "divisor": 8, "round_limit": 0.8}, 8),
        ({"ratio": 0.25 / 3, "divisor": 8, "round_limit": 0.81}, 16),
    ],
)
def test_squeeze_widths_round_as_their_settings_say(settings, width):
    assert SqueezeExcite(**settings).squeeze_width(120, 16) == width


def drop_path_network(stages: list[dict], deeper: bool = False, **drop: object) -> archspec.Graph:
    spec = archspec.Spec.model_validate(
        {
            **network(stages[0]).model_dump(mode="json", exclude_defaults=True),
            "stages": stages,
            "drop_path": drop,
            **({"depth_multiplier": 2.0} if deeper else {}),
        }
    )
    return archspec.lower(spec)


def test_stochastic_depth_layers_drop_the_branch_at_each_blocks_rate():
    stages = [{"block": "convnext", "filters": 16, "depth": 2}]
    graph = drop_path_network(stages, rate=0.2, layer="stochastic_depth")
    drops = [layer for layer in graph if layer.local == "drop_path"]
    assert [(d.op, d.inputs, dict(d.attrs), dict(d.bindings)) for d in drops] == [
        ("stochastic_depth", (f"{b}_layer_scale",), {"rate": 0.2}, {})
        for b in ("stage1_block1", "stage1_block2")
    ]
    assert [b.args.get("drop_rate") for b in graph.blocks] == [None, None]
    linear = drop_path_network(stages, rate=0.2, layer="stochastic_depth", schedule="linear")
    assert [dict(layer.bindings) for layer in linear if layer.local == "drop_path"] == [
        {},
        {"rate": Binding("drop_rate")},
    ]


def test_a_linear_rate_spread_over_the_written_blocks_exceeds_the_rate_in_deeper_networks():
    stages = [
        {"block": "basic", "filters": 16, "depth": 1},
        {"block": "basic", "filters": 16, "depth": 1},
    ]
    common = {"rate": 0.1, "schedule": "linear", "endpoint": False}
    rates = {
        over: [
            layer.attrs["rate"]
            for layer in drop_path_network(stages, deeper=True, over=over, **common)
            if layer.op == "dropout"
        ]
        for over in ("blocks", "written_blocks")
    }
    # Four blocks after depth_multiplier 2, two as written: rate x i / 4 and rate x i / 2.
    assert rates == {"blocks": [0.025, 0.05, 0.075], "written_blocks": [0.05, 0.1, 0.15]}


# --- the block-authoring API: transitions, arguments ------------------------------------------


def test_a_transition_is_documented_by_its_function_or_not_at_all():
    class PooledStage(StageSpec):
        """Blocks, then a pool (an undocumented transition)."""

        block: Literal["pooled"]

        def lower_stage(self, stage, x):
            x = stage.block(0, x)
            return stage.transition("pool", x, pool, filters=stage.filters, stride=2)

        def lower_block(self, b, x):
            return b.act("relu", x)

    def pool(b, x):
        return b.pool("pool", x, "max", 2, 2, "valid")

    try:
        graph = archspec.lower(network({"block": "pooled", "filters": 16}))
    finally:
        unregister("pooled")
    transition = graph.blocks[-1]
    assert (transition.name, transition.variant, transition.doc) == ("stage1_pool", "pool", "")


def test_an_error_in_a_transition_is_located_at_its_stage():
    # VGG's pool by the stride does not fit a 2x2 map.
    spec = archspec.Spec.model_validate(
        {
            "name": "small",
            "input": {"shape": [4, 4, 3]},
            "stem": {"filters": 8, "stride": 2},
            "stages": [{"block": "plain", "filters": 8, "stride": 4}],
            "head": {"classes": 3},
        }
    )
    assert only_error(spec).path == "stages[0]"


def test_a_densenet_transition_is_counted_once_against_the_budget():
    # The transition's 1x1 conv on the stem's 64 channels outweighs the rest of the model.
    stage = {"block": "densenet", "filters": 1, "stride": 2, "bottleneck": 1, "compression": 1.0}
    spec = archspec.Spec.model_validate({**network(stage).model_dump(), "stem": {"filters": 64}})
    graph = archspec.lower(spec)
    transition = sum(layer.params for layer in graph if layer.block == "stage1_transition")
    assert transition > graph.params - transition
    archspec.lower(spec, limits=Limits(max_params=graph.params))


def test_a_transition_keeps_at_least_one_channel():
    spec = archspec.Spec.model_validate(
        {
            **network({"block": "densenet", "filters": 8, "stride": 2}).model_dump(),
            "stem": {"filters": 1},
        }
    )
    assert archspec.lower(spec)["stage1_transition_conv"].attrs["filters"] == 1


def test_a_fractional_width_is_refused_by_name():
    with pytest.raises(
        TypeError, match=r"^Arg\(name='filters', value=2\.5, factor=1\) is not a whole number$"
    ):
        int_of(Arg("filters", 2.5))
    assert int_of(Arg("filters", 4) * 2) == 8


def test_a_deep_stage_is_refused_early_by_projecting_its_second_block():
    # Six equal blocks: after the second, the budget counts four more copies of it, bar the
    # last (which may be strided), so the stem and five blocks.
    spec = network({"block": "plain", "filters": 8, "depth": 6})
    graph = archspec.lower(spec)
    projected = sum(
        layer.params
        for layer in graph
        if layer.scope in ("input", "stem")
        or layer.block in {f"stage1_block{i}" for i in range(1, 6)}
    )
    diagnostic = only_error(spec, Limits(max_params=projected - 1))
    assert diagnostic.path == "stages[0]"
    assert diagnostic.message == (
        f"the model would have {projected:,} parameters, over the limit of {projected - 1:,}"
    )


def test_the_authoring_api_defaults_to_unstrided_linear_layers_on_the_main_path():
    class DefaultsStage(StageSpec):
        """A depthwise conv and a conv, each with every default."""

        block: Literal["defaults"]

        def lower_block(self, b, x):
            h = b.depthwise_conv("dw_conv", x, 3, bias=False)
            return b.conv("conv", h, b.filters, 3, bias=False)

    try:
        graph = archspec.lower(network({"block": "defaults", "filters": 16}))
    finally:
        unregister("defaults")
    depthwise, conv = graph["stage1_block1_dw_conv"], graph["stage1_block1_conv"]
    assert (depthwise.attrs["strides"], depthwise.attrs["depth_multiplier"]) == (1, 1)
    assert (conv.attrs["strides"], conv.attrs["groups"]) == (1, 1)
    assert "activation" not in conv.attrs
    assert depthwise.branch == conv.branch == "main"
    assert depthwise.shape == conv.shape == (16, 16, 16)


@pytest.mark.parametrize(("filters", "groups", "nearest"), [(7, 2, 1), (8, 7, 8), (12, 5, 6)])
def test_groups_that_do_not_divide_the_width_suggest_the_nearest_divisor(filters, groups, nearest):
    stage = {"block": "bottleneck", "filters": filters, "groups": groups}
    diagnostic = only_error(network(stage))
    assert diagnostic.path == "stages[0].groups"
    assert diagnostic.message == f"groups={groups} does not divide the stage's {filters} filters"
    assert diagnostic.hint == f"use a divisor of {filters}, such as {nearest}"


@pytest.fixture
def counted():
    """A block type that counts the blocks it lowers: a 3x3 conv each."""
    lowered: list[str] = []

    class CountedStage(StageSpec):
        """A 3x3 conv, counted."""

        block: Literal["counted"]

        def lower_block(self, b, x):
            lowered.append(b.name)
            return b.conv("conv", x, b.filters, 3, bias=False)

    yield lowered
    unregister("counted")


def test_an_absurdly_deep_stage_is_refused_after_its_second_block(counted):
    spec = network({"block": "counted", "filters": 16, "depth": 1000})
    stem = sum(
        layer.params
        for layer in archspec.lower(network({"block": "counted", "filters": 16}))
        if layer.scope == "stem"
    )
    counted.clear()
    per_block = 3 * 3 * 16 * 16
    diagnostic = only_error(spec, Limits(max_params=100_000))
    assert counted == ["stage1_block1", "stage1_block2"]
    # The stem, the two blocks and 997 copies of the second: the last block is left out.
    projected = stem + 999 * per_block
    assert diagnostic.path == "stages[0]"
    assert diagnostic.message == (
        f"the model would have {projected:,} parameters, over the limit of 100,000"
    )


def test_a_window_that_does_not_fit_an_unstrided_block_is_located_at_its_stage():
    class ShrinkStage(StageSpec):
        """A 'valid' 3x3 pool, unstrided."""

        block: Literal["shrink"]

        def lower_block(self, b, x):
            return b.pool("pool", x, "max", 3, 1, "valid")

    spec = archspec.Spec.model_validate(
        {
            "name": "tiny",
            "input": {"shape": [2, 2, 3]},
            "stem": {"filters": 8},
            "stages": [{"block": "shrink", "filters": 8}],
            "head": {"classes": 3},
        }
    )
    try:
        diagnostic = only_error(spec)
    finally:
        unregister("shrink")
    assert diagnostic.path == "stages[0]"


def test_a_deep_stage_fits_a_budget_of_exactly_its_parameters(counted):
    spec = network({"block": "counted", "filters": 16, "depth": 6, "stride": 2})
    params = archspec.lower(spec).params
    archspec.lower(spec, limits=Limits(max_params=params))
