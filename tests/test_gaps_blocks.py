"""Every knob of every block type, in both shortcut orders, against an independent expectation.

`expected_network` below is a second description of the blocks, written from the README and
the spec's field descriptions (He et al.'s pre- and post-activation blocks), not from
`archspec.blocks`: which shortcut a block gets, its layers in creation order, each layer's
output shape and parameter count, and the Add's input order. The IR and the built Keras model
must both agree with it, block by block. It is what catches a post-activation projection that
loses its BatchNormalization in one shortcut order only.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import pytest

import archspec
from archspec.errors import SpecError

BLOCK_TYPES = ("preact_basic", "preact_bottleneck", "basic", "bottleneck")
ORDERS = ("main_first", "shortcut_first")
INPUT = (16, 16, 3)
STEM_FILTERS = 8


@dataclass(frozen=True)
class Knobs:
    """One combination of the network-wide settings that shape a block."""

    order: str = "main_first"
    stride_at: str = "first"
    kind: str = "conv"
    when: str = "first_block"
    downsample: str = "projection"
    source: str = "input"
    padding: str = "same"
    bias_block: bool = True
    bias_block_out: bool = True
    bias_shortcut: bool = True
    relu_layer: str = "ReLU"
    zero_init_last: bool = False
    expansion: int = 4
    groups: int = 1
    bottleneck_stride: str = "spatial"


# Bias flags by role, each switched off alone, all off, all on; the ReLU class and the
# zero-initialised branch end ride along.
BIASES = [
    (True, True, True, "ReLU", False),
    (False, True, True, "Activation", True),
    (True, False, True, "ReLU", True),
    (True, True, False, "Activation", False),
    (False, False, False, "ReLU", False),
]
# (expansion, groups, which conv is strided): plain and grouped, the 3x3 or the first 1x1.
BOTTLENECK_SHAPES = [(4, 1, "spatial"), (2, 2, "spatial"), (2, 2, "reduce")]


def knob_grid(block: str, order: str) -> list[Knobs]:
    """The full product of the block-shaping knobs (480 networks per basic type, 1,440 per
    bottleneck type)."""
    shapes = BOTTLENECK_SHAPES if block.endswith("bottleneck") else [(1, 1, "spatial")]
    grid = itertools.product(
        ("first", "last"),
        ("conv", "avgpool_conv", "identity"),
        ("first_block", "shape_change"),
        ("projection", "maxpool"),
        ("input", "preact"),
        ("same", "explicit"),
        BIASES,
        shapes,
    )
    return [
        Knobs(order, stride_at, kind, when, downsample, source, padding, *bias, *shape)
        for stride_at, kind, when, downsample, source, padding, bias, shape in grid
    ]


def stage_list(block: str, knobs: Knobs) -> list[dict]:
    """Two stages: one at stride 1 (depth 2), one at stride 2 (depth 3)."""
    if block.endswith("bottleneck"):
        extra = {"expansion": knobs.expansion, "groups": knobs.groups}
        widths = (4, 8)
    else:
        extra, widths = {}, (8, 16)
    return [
        {"block": block, "filters": widths[0], "stride": 1, "depth": 2, **extra},
        {"block": block, "filters": widths[1], "stride": 2, "depth": 3, **extra},
    ]


def spec_dict(block: str, knobs: Knobs) -> dict:
    return {
        "name": "blocks",
        "input": {"shape": list(INPUT)},
        "stem": {"filters": STEM_FILTERS, "norm": not block.startswith("preact")},
        "stages": stage_list(block, knobs),
        "head": {"classes": 3},
        "residual": {
            "stride_at": knobs.stride_at,
            "shortcut": {
                "kind": knobs.kind,
                "when": knobs.when,
                "downsample": knobs.downsample,
                "source": knobs.source,
                "order": knobs.order,
            },
            "bottleneck_stride": knobs.bottleneck_stride,
            "zero_init_last": knobs.zero_init_last,
        },
        "conv": {
            "padding": knobs.padding,
            "bias": {
                "block": knobs.bias_block,
                "block_out": knobs.bias_block_out,
                "shortcut": knobs.bias_shortcut,
            },
        },
        "norm": {"epsilon": 1e-5, "momentum": 0.9},
        "keras": {"relu_layer": knobs.relu_layer},
    }


# --- the independent expectation ------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One layer as the block definitions in the README describe it."""

    local: str
    op: str
    shape: tuple[int, ...]
    params: int
    detail: tuple = ()
    """conv: (kernel, strides, groups, use_bias, initializer); pool: (kind, size, strides);
    batch norm: (gamma initializer,)"""
    branch: str = "main"


class Refused(Exception):
    """The expectation says lowering must fail, with this diagnostic code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def which_shortcut(knobs: Knobs, index: int, stride: int, c_in: int, c_out: int) -> str:
    """residual.shortcut as documented: `when` picks the projecting blocks, which get `kind`;
    a strided block that does not project gets `downsample` (the projection kind or a 1x1
    max-pool), and so does a strided identity; anything else is an identity."""
    changes = stride > 1 or c_in != c_out
    projects = index == 0 if knobs.when == "first_block" else changes
    if stride > 1 and knobs.downsample == "maxpool" and (not projects or knobs.kind == "identity"):
        kind = "maxpool"
    elif projects or stride > 1:
        kind = knobs.kind
    else:
        kind = "identity"
    if kind in ("identity", "maxpool") and c_in != c_out:
        raise Refused("channel-mismatch")
    if kind == "identity" and stride > 1:
        raise Refused("shape-mismatch")
    return kind


def expected_block(
    block: str, knobs: Knobs, index: int, size: int, c_in: int, filters: int, stride: int
) -> tuple[list[Expected], str, str, str, int, int]:
    """(layers, shortcut kind, main output, shortcut output, output size, output channels).

    Outputs are local names; "" stands for the block's input.
    """
    preact = block.startswith("preact")
    bottleneck = block.endswith("bottleneck")
    c_out = filters * knobs.expansion if bottleneck else filters
    kind = which_shortcut(knobs, index, stride, c_in, c_out)
    out_size = math.ceil(size / stride)

    def conv(local, kernel, cin, cout, strides, groups, bias, at, branch="main", zero=False):
        layers = []
        if knobs.padding == "explicit" and kernel > 1:
            pad = kernel // 2
            shape = (at + 2 * pad, at + 2 * pad, cin)
            layers.append(Expected(local.replace("conv", "pad"), "zero_pad", shape, 0, (), branch))
        weights = kernel * kernel * (cin // groups) * cout + (cout if bias else 0)
        new = math.ceil(at / strides)
        detail = (kernel, strides, groups, bias, "zeros" if zero else None)
        layers.append(Expected(local, "conv2d", (new, new, cout), weights, detail, branch))
        return layers

    def bn(local, channels, at, branch="main", zero=False):
        detail = ("zeros" if zero else None,)
        return Expected(local, "batch_norm", (at, at, channels), 4 * channels, detail, branch)

    def relu(local, channels, at, branch="main"):
        return Expected(local, "activation", (at, at, channels), 0, (), branch)

    # The shortcut branch.
    shortcut: list[Expected] = []
    if kind == "maxpool":
        shape, detail = (out_size, out_size, c_in), ("max", 1, stride)
        shortcut.append(Expected("shortcut_pool", "max_pool", shape, 0, detail, "shortcut"))
    elif kind in ("conv", "avgpool_conv"):
        conv_stride = stride
        if kind == "avgpool_conv":
            conv_stride = 1
            if stride > 1:
                shape, detail = (out_size, out_size, c_in), ("avg", stride, stride)
                pool = Expected("shortcut_pool", "avg_pool", shape, 0, detail, "shortcut")
                shortcut.append(pool)
        at = out_size if shortcut else size
        bias = knobs.bias_shortcut
        shortcut += conv("shortcut_conv", 1, c_in, c_out, conv_stride, 1, bias, at, "shortcut")
        if not preact:  # a post-activation projection has its own BN
            shortcut.append(bn("shortcut_bn", c_out, out_size, "shortcut"))

    # The main path: (kernel, filters, stride, groups) per conv.
    if bottleneck:
        reduce = stride if knobs.bottleneck_stride == "reduce" else 1
        spatial = 1 if knobs.bottleneck_stride == "reduce" else stride
        convs = [(1, filters, reduce, 1), (3, filters, spatial, knobs.groups), (1, c_out, 1, 1)]
    else:
        convs = [(3, filters, stride, 1), (3, filters, 1, 1)]
    main: list[Expected] = []
    channels, at = c_in, size
    for number, (kernel, width, strides, groups) in enumerate(convs, start=1):
        last = number == len(convs)
        bias = knobs.bias_block_out if last else knobs.bias_block
        if preact and number > 1:
            main += [bn(f"bn{number - 1}", channels, at), relu(f"relu{number - 1}", channels, at)]
        # A zero-initialised branch starts at zero: its last conv (pre-activation blocks end
        # in one) or its last BN's scale (post-activation).
        zero = last and knobs.zero_init_last
        main += conv(f"conv{number}", kernel, channels, width, strides, groups, bias, at,
                     zero=zero and preact)  # fmt: skip
        channels, at = width, math.ceil(at / strides)
        if not preact:
            main.append(bn(f"bn{number}", channels, at, zero=zero))
            if not last:
                main.append(relu(f"relu{number}", channels, at))

    shortcut_first = knobs.order == "shortcut_first"
    layers: list[Expected] = []
    if preact:
        shared = knobs.source == "preact" and kind in ("conv", "avgpool_conv")
        branch = "preact" if shared else "main"
        layers += [bn("preact_bn", c_in, size, branch), relu("preact_relu", c_in, size, branch)]
    layers += (shortcut if shortcut_first else []) + main + ([] if shortcut_first else shortcut)
    layers.append(Expected("add", "add", (out_size, out_size, c_out), 0))
    if not preact:
        layers.append(relu("out_relu", c_out, out_size))
    shortcut_out = shortcut[-1].local if shortcut else ""
    return layers, kind, main[-1].local, shortcut_out, out_size, c_out


@dataclass(frozen=True)
class ExpectedBlock:
    name: str
    layers: list[Expected]
    shortcut: str
    add_inputs: tuple[str, str]
    shortcut_reads: str  # the full name of what the shortcut's first layer reads

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)


def expected_network(block: str, knobs: Knobs) -> list[ExpectedBlock]:
    """Every block of the spec_dict network; raises Refused where lowering must fail."""
    # 'preact' names the pre-activation, which post-activation blocks do not have.
    contradiction = not block.startswith("preact") and knobs.source == "preact"
    size, channels = INPUT[0], STEM_FILTERS
    previous = "stem_relu" if not block.startswith("preact") else "stem_conv"
    blocks = []
    for stage_number, stage in enumerate(stage_list(block, knobs), start=1):
        stride_block = 0 if knobs.stride_at == "first" else stage["depth"] - 1
        for index in range(stage["depth"]):
            name = f"stage{stage_number}_block{index + 1}"
            stride = stage["stride"] if index == stride_block else 1
            layers, kind, main_out, shortcut_out, size, out_channels = expected_block(
                block, knobs, index, size, channels, stage["filters"], stride
            )
            full = {"": previous} | {layer.local: f"{name}_{layer.local}" for layer in layers}
            pair = (full[main_out], full[shortcut_out])
            add_inputs = pair[::-1] if knobs.order == "shortcut_first" else pair
            shared = knobs.source == "preact" and kind in ("conv", "avgpool_conv")
            reads = full["preact_relu"] if shared and block.startswith("preact") else previous
            blocks.append(ExpectedBlock(name, layers, kind, add_inputs, reads))
            channels = out_channels
            previous = f"{name}_out_relu" if not block.startswith("preact") else f"{name}_add"
    if contradiction:
        raise Refused("contradiction")
    return blocks


# --- what archspec produced, in the same terms ------------------------------------------------


def actual_layers(graph: archspec.Graph, block: str) -> list[Expected]:
    out = []
    for layer in graph:
        if layer.block != block:
            continue
        attrs = layer.attrs
        if layer.op == "conv2d":
            detail = (
                attrs["kernel"],
                attrs["strides"],
                attrs["groups"],
                attrs["use_bias"],
                attrs.get("kernel_initializer"),
            )
        elif layer.op in ("max_pool", "avg_pool"):
            detail = (layer.op[:3], attrs["size"], attrs["strides"])
        elif layer.op == "batch_norm":
            detail = (attrs.get("gamma_initializer"),)
        else:
            detail = ()
        out.append(Expected(layer.local, layer.op, layer.shape, layer.params, detail, layer.branch))
    return out


def check_graph(graph: archspec.Graph, expected: list[ExpectedBlock], knobs: Knobs) -> None:
    assert [b.name for b in graph.blocks] == [b.name for b in expected], knobs
    for want in expected:
        layers = actual_layers(graph, want.name)
        assert layers == want.layers, (want.name, knobs)
        got = next(b for b in graph.blocks if b.name == want.name)
        assert got.variant == want.shortcut, (want.name, knobs)  # a residual block's form
        assert graph[f"{want.name}_add"].inputs == want.add_inputs, (want.name, knobs)
        block_layers = [layer for layer in graph if layer.block == want.name]
        first = next((x for x in block_layers if x.branch == "shortcut"), None)
        if first is not None:
            assert first.inputs == (want.shortcut_reads,), (want.name, knobs)
        assert sum(x.params for x in block_layers) == want.params, (want.name, knobs)
        for layer in block_layers:
            if layer.op == "batch_norm":
                assert layer.attrs["epsilon"] == 1e-5 and layer.attrs["momentum"] == 0.9
            if layer.op == "activation":
                assert layer.attrs == {"function": "relu", "layer": knobs.relu_layer}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("block", BLOCK_TYPES)
def test_every_knob_gives_the_documented_blocks(block, order):
    checked = refused = 0
    for knobs in knob_grid(block, order):
        spec = archspec.Spec.model_validate(spec_dict(block, knobs))
        try:
            expected = expected_network(block, knobs)
        except Refused as refusal:
            with pytest.raises(SpecError) as info:
                archspec.lower(spec)
            assert refusal.code in {d.code for d in info.value.errors}, knobs
            refused += 1
            continue
        check_graph(archspec.lower(spec), expected, knobs)
        checked += 1
    # The grid exercises both outcomes, so neither branch above is dead.
    assert checked > 100 and refused > 50, (checked, refused)


def test_the_expectation_knows_the_seed_block():
    """Sanity of the expectation itself against figures of the seed (README: 9,808 for stage1)."""
    knobs = Knobs()
    layers, kind, *_ = expected_block("preact_basic", knobs, 0, 128, 16, 16, 2)
    # two BNs (2 x 64) + two 3x3x16x16 convs with bias (2 x 2,320) + 1x1 projection (272)
    assert kind == "conv"
    assert sum(x.params for x in layers) == 2 * 64 + 2 * 2320 + 272
    identity, kind, *_ = expected_block("preact_basic", knobs, 1, 64, 16, 16, 1)
    assert kind == "identity"
    assert sum(x.params for x in identity) == 2 * 64 + 2 * 2320
    assert sum(x.params for x in layers + identity) == 9_808


def test_post_activation_projection_has_its_bn_in_both_orders():
    """The narrowest statement of the gap, for a reader: conv -> BN on the projection."""
    for order in ORDERS:
        for block in ("basic", "bottleneck"):
            spec = archspec.Spec.model_validate(spec_dict(block, Knobs(order=order)))
            graph = archspec.lower(spec)
            for name in ("stage1_block1", "stage2_block1"):
                projection = [x.local for x in graph if x.block == name and x.branch == "shortcut"]
                assert projection == ["shortcut_conv", "shortcut_bn"], (block, order, name)
                assert graph[f"{name}_shortcut_bn"].inputs == (f"{name}_shortcut_conv",)


# --- the built Keras model agrees with the same expectation ----------------------------------

KERAS_CLASSES = {
    "conv2d": "Conv2D",
    "batch_norm": "BatchNormalization",
    "zero_pad": "ZeroPadding2D",
    "max_pool": "MaxPooling2D",
    "avg_pool": "AveragePooling2D",
    "add": "Add",
}
KERAS_VARIANTS = [
    Knobs(),
    Knobs(stride_at="last", downsample="maxpool", source="preact", padding="explicit",
          bias_block=False, relu_layer="Activation", zero_init_last=True),
    Knobs(kind="avgpool_conv", when="shape_change", bias_shortcut=False, expansion=2, groups=2,
          bottleneck_stride="reduce"),
]  # fmt: skip


@pytest.mark.keras
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("block", BLOCK_TYPES)
def test_built_blocks_have_the_expected_layers_and_weights(block, order):
    from archspec.backends.keras import build_model

    for variant in KERAS_VARIANTS:
        knobs = dataclasses.replace(variant, order=order)
        if not block.startswith("preact"):  # post-activation blocks have no pre-activation
            knobs = dataclasses.replace(knobs, source="input")
        graph = archspec.lower(archspec.Spec.model_validate(spec_dict(block, knobs)))
        model = build_model(graph)
        for want in expected_network(block, knobs):
            # Keras orders a functional model's layers by graph depth, not by creation, so the
            # comparison is by name; keras.applications equality (test_family) covers its order.
            prefix = f"{want.name}_"
            built = {
                x.name.removeprefix(prefix): (
                    x.__class__.__name__,
                    tuple(x.output.shape[1:]),
                    x.count_params(),
                )
                for x in model.layers
                if x.name.startswith(prefix)
            }
            assert built == {
                x.local: (
                    knobs.relu_layer if x.op == "activation" else KERAS_CLASSES[x.op],
                    x.shape,
                    x.params,
                )
                for x in want.layers
            }, (want.name, knobs)
            assert sum(params for *_, params in built.values()) == want.params
