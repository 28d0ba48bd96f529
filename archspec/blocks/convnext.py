"""ConvNeXt blocks (Liu et al. 2022, "A ConvNet for the 2020s").

An inverted bottleneck on a residual branch: a large depthwise conv, a norm, then a pointwise
MLP (expand by 4, activation, project back), a learned per-channel scale, drop path, and the
add. keras.applications writes the depthwise conv as a Conv2D with one group per channel and
the pointwise convs as Dense layers on the channels; so does archspec. A strided stage starts
with a downsampling: norm, then a conv whose kernel is its stride.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from archspec.blocks.base import StageSpec
from archspec.blocks.options import drop_path
from archspec.fields import Kernel, StrictFloat, Whole

if TYPE_CHECKING:
    from archspec.blocks.builder import BlockBuilder, StageBuilder


class ConvNeXtStage(StageSpec):
    """ConvNeXt block: depthwise conv, norm, pointwise MLP, layer scale, added to its input.

    Depthwise k x k conv -> norm -> dense (expansion x width) -> activation -> dense (width)
    -> layer scale -> drop path, then the add with the block's input. The block keeps its
    width; a strided stage starts with a downsampling (norm -> stride x stride conv) that sets
    it.
    """

    block: Literal["convnext"]
    kernel: Kernel = Field(7, description="Kernel size of the depthwise conv.")
    expansion: Annotated[int, Whole(1, 16)] = Field(
        4, description="Width of the MLP's hidden layer, in multiples of the block's width."
    )
    layer_scale: Annotated[StrictFloat, Field(gt=0, le=1)] | None = Field(
        1e-6,
        description="Initial value of the per-channel scale at the end of the residual "
        "branch (CaiT's layer scale); null for none.",
    )

    def lower_stage(self, stage: StageBuilder, x: str) -> str:
        """The downsampling where the stage has a stride, then `depth` unstrided blocks."""
        if self.stride > 1:
            x = stage.transition(
                "downsample", x, self.lower_downsample, filters=stage.filters, stride=self.stride
            )
        for index in range(self.depth):
            x = stage.block(index, x, stride=1)
        return x

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """The residual branch, then the add with the block's input."""
        if b.in_channels != b.filters.value:
            raise b.fail(
                "filters",
                f"{b.name} keeps its width of {b.filters.value} channels for its add, but its "
                f"input has {b.in_channels}",
                hint=f"give the stage a stride (its downsampling sets the width), or filters: "
                f"{b.in_channels}",
                code="channel-mismatch",
            )
        bias = b.spec.conv.bias.block
        h = b.conv("dw_conv", x, b.filters, self.kernel, bias=bias, groups=b.filters)
        h = b.norm("norm", h)
        hidden = {"units": b.filters * self.expansion, "activation": "linear"}
        h = b.layer("dense", "pw_conv1", (h,), hidden)
        h = b.act("act", h)
        h = b.layer("dense", "pw_conv2", (h,), {"units": b.filters, "activation": "linear"})
        if self.layer_scale is not None:
            scale = {"init_values": self.layer_scale, "projection_dim": b.filters}
            h = b.layer("layer_scale", "layer_scale", (h,), scale)
        return b.sum("add", (x, drop_path(b, h)))

    def lower_downsample(self, b: BlockBuilder, x: str) -> str:
        """ConvNeXt's downsampling: norm, then a conv whose kernel and stride are the stride.

        The windows do not overlap, so the conv needs no padding.
        """
        h = b.norm("norm", x)
        return b.conv("conv", h, b.filters, b.stride, b.stride, bias=b.spec.conv.bias.block)


__all__ = ["ConvNeXtStage"]
