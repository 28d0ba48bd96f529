"""Options any block type can take: squeeze-and-excitation and drop path (stochastic depth).

They are settings handed to blocks, not block types: a block type offers squeeze-and-excitation
by giving its stage model an `se: SqueezeExcite | None` field and calling `squeeze_excite` at the
positions it supports; every block with a residual add calls `drop_path` on its residual branch
just before the add. Both lower through the block-authoring API, so inspect, the diagrams and
the generated code show them like any other layer.

The squeeze-and-excitation settings cover the forms of the reference models:
- timm's seresnet50: ratio 1/16 of the gated channels, nearest multiple of 8, ReLU layer,
  GlobalAveragePooling2D(keepdims=True), sigmoid gate, at the end of the residual branch;
- keras.applications EfficientNet: ratio 0.25 of the block's input channels rounded down,
  the activations inside the convs, pooling then Reshape, before the projection conv;
- keras.applications MobileNetV3: ratio 0.25 of the gated (expanded) channels, nearest
  multiple of 8 with round_limit 0.9, ReLU layer, keepdims, hard_sigmoid gate.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from archspec.fields import ActivationName, Filters, Flag, Model, StrictFloat, Whole
from archspec.ops import channels_of

if TYPE_CHECKING:
    from archspec.blocks.builder import Arg, BlockBuilder

Ratio = Annotated[StrictFloat, Field(gt=0, le=1)]
SEPosition = Literal["end", "before_last_conv"]


class SqueezeExcite(Model):
    """Squeeze-and-excitation (Hu et al. 2018): channels rescaled by a gate from their means.

    Global average pool -> 1x1 conv (reduce) -> activation -> 1x1 conv (expand) -> gate ->
    multiply with the map.
    """

    ratio: Ratio = Field(
        0.0625,
        description="Squeeze width as a fraction of the channels named by `of` (Hu et al.'s "
        "reduction 16 is 0.0625).",
    )
    width: Filters | None = Field(
        None, description="A fixed squeeze width; when given, `ratio` and rounding do not apply."
    )
    of: Literal["gated", "input"] = Field(
        "gated",
        description="The channels the ratio is taken on: those the gate scales (timm, "
        "MobileNetV3), or the block's input (keras.applications EfficientNet).",
    )
    rounding: Literal["nearest", "down"] = Field(
        "nearest",
        description="How channels x ratio becomes a width: the nearest multiple of `divisor` "
        "(timm's and MobileNetV3's make_divisible), or rounded down (EfficientNet's int()); "
        "never below `divisor`.",
    )
    divisor: Annotated[int, Whole(1, 256)] = Field(
        1, description="The width is a multiple of this."
    )
    round_limit: Annotated[StrictFloat, Field(ge=0, lt=1)] = Field(
        0.0,
        description="With nearest rounding: a width below round_limit x the exact value goes "
        "up by one divisor (MobileNetV3's 0.9; timm's SE uses 0).",
    )
    activation: ActivationName = Field("relu", description="Activation after the reduce conv.")
    gate: ActivationName = Field(
        "sigmoid", description="The gate's activation (hard_sigmoid in MobileNetV3)."
    )
    activations: Literal["layers", "convs"] = Field(
        "layers",
        description="Activations as layers of their own (ReLU in the spec's `keras.relu_layer` "
        "class), or inside the convs (Conv2D(activation=...), as EfficientNet writes them).",
    )
    squeeze: Literal["keepdims", "reshape"] = Field(
        "keepdims",
        description="GlobalAveragePooling2D(keepdims=True), or GlobalAveragePooling2D then "
        "Reshape((1, 1, -1)) (EfficientNet).",
    )
    position: SEPosition = Field(
        "end",
        description="Where in the block: at the end of the residual branch, before the add "
        "(timm's SE-ResNets), or before the block's last conv (after the 3x3 or depthwise "
        "conv and its activation, as MobileNetV3 and EfficientNet place it).",
    )
    bias: Flag = Field(True, description="Whether the two 1x1 convs have a bias.")

    def squeeze_width(self, gated: int, block_input: int) -> int:
        """The reduce conv's width for a block gating `gated` channels with `block_input` in."""
        if self.width is not None:
            return self.width
        exact = (gated if self.of == "gated" else block_input) * self.ratio
        divisor = self.divisor
        if self.rounding == "down":
            return max(divisor, math.floor(exact / divisor) * divisor)
        width = max(divisor, int(exact + divisor / 2) // divisor * divisor)
        return width + divisor if width < self.round_limit * exact else width


def squeeze_excite(
    b: BlockBuilder, x: str, se: SqueezeExcite | None, position: SEPosition, gated: int | Arg
) -> str:
    """The stage's SE on `x` if it sits at `position` (else `x` unchanged); `gated` is x's width.

    A block type calls this at each position it supports. The squeeze width becomes the block
    argument `se_filters`, so blocks of every width share one generated function.
    """
    if se is None or se.position != position:
        return x
    keepdims = se.squeeze == "keepdims"
    s = b.layer("global_avg_pool", "se_squeeze", (x,), {"keepdims": keepdims}, branch="se")
    if not keepdims:
        s = b.layer("reshape", "se_reshape", (s,), {"target_shape": (1, 1, -1)}, branch="se")
    width = b.arg("se_filters", se.squeeze_width(channels_of(b.shape(x)), b.in_channels))
    in_convs = se.activations == "convs"
    inner, gate = (se.activation, se.gate) if in_convs else ("linear", "linear")
    s = b.conv("se_reduce", s, width, 1, bias=se.bias, activation=inner, branch="se")
    if not in_convs:
        s = b.activation("se_act", s, se.activation, branch="se")
    s = b.conv("se_expand", s, gated, 1, bias=se.bias, activation=gate, branch="se")
    if not in_convs:
        s = b.activation("se_gate", s, se.gate, branch="se")
    where = "at the end of the residual branch" if position == "end" else "before the last conv"
    b.notes.append(f"Squeeze-and-excitation {where}.")
    return b.layer("multiply", "se_excite", (x, s))


# --- drop path ---------------------------------------------------------------------------------


class DropPath(Model):
    """Drop path (stochastic depth, Huang et al. 2016) on every residual branch.

    In training each sample's residual branch is dropped at a per-block rate and the kept ones
    are scaled by 1 / (1 - rate); at inference the model computes exactly what it computes
    without it.
    """

    rate: Annotated[StrictFloat, Field(ge=0, lt=1)] = Field(
        0.0, description="The drop rate (of every block, or of the last with `linear`); 0: none."
    )
    schedule: Literal["constant", "linear"] = Field(
        "constant",
        description="Every block drops at `rate`, or the rate grows linearly over all blocks "
        "of the network from 0 at the first block.",
    )
    endpoint: Flag = Field(
        True,
        description="With `linear`: the last block reaches `rate` (rate x i / (blocks - 1), "
        "timm and keras.applications ConvNeXt, numpy's linspace), or not (rate x i / blocks, "
        "keras.applications EfficientNet's drop_connect_rate).",
    )
    over: Literal["blocks", "written_blocks"] = Field(
        "blocks",
        description="With `linear`: the count the rate is spread over: the network's blocks, "
        "or the blocks the stages have before `depth_multiplier` (keras.applications "
        "EfficientNetV2, whose deeper variants then exceed `rate` in their last blocks).",
    )
    layer: Literal["dropout", "stochastic_depth"] = Field(
        "dropout",
        description="The Keras realization: Dropout(rate, noise_shape=(None, 1, 1, 1)), which "
        "keeps or drops whole samples (keras.applications EfficientNet's drop connect), and "
        "blocks whose rate is 0 get no layer; or keras.applications ConvNeXt's: a "
        "StochasticDepth(rate) layer (defined by archspec, as Keras has none), and "
        "Activation('linear') where the rate is 0.",
    )

    def block_rate(self, index: int, blocks: int) -> float:
        """The rate of block `index` (from 0) of a network of `blocks` blocks."""
        if self.schedule == "constant":
            return self.rate
        steps = blocks - 1 if self.endpoint else blocks
        # Rounded so that generated code shows 0.12, not 0.12000000000000002.
        return round(self.rate * index / steps, 12) if steps > 0 else 0.0


def drop_path(b: BlockBuilder, x: str) -> str:
    """The network's drop path on the residual branch `x`, just before the block's add.

    A linear schedule makes the rate the block argument `drop_rate`, so the generated code
    shows each block's rate in its call.
    """
    option = b.spec.drop_path
    blocks = b.network_blocks if option.over == "blocks" else b.written_blocks
    rate = option.block_rate(b.network_index, blocks)
    stochastic_depth = option.layer == "stochastic_depth"
    if rate == 0:
        # keras.applications' ConvNeXt keeps a layer in the place: Activation('linear').
        return b.activation("drop_path", x, "linear") if stochastic_depth else x
    bound = b.arg("drop_rate", rate) if option.schedule == "linear" else rate
    b.notes.append("Drop path on the residual branch (identity at inference).")
    if stochastic_depth:
        return b.layer("stochastic_depth", "drop_path", (x,), {"rate": bound})
    attrs = {"rate": bound, "noise_shape": (None, 1, 1, 1)}
    return b.layer("dropout", "drop_path", (x,), attrs)


__all__ = ["DropPath", "SqueezeExcite", "drop_path", "squeeze_excite"]
