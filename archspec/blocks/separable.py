"""Depthwise separable convs (MobileNet, Howard et al. 2017).

A depthwise k x k conv filters each channel on its own (and carries the stride); a 1x1 conv
then mixes the channels to the block's width. Each is followed by norm -> activation; there is
no shortcut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from archspec.blocks.base import StageSpec
from archspec.fields import Kernel, Whole

if TYPE_CHECKING:
    from archspec.blocks.builder import BlockBuilder


class DepthwiseSeparableStage(StageSpec):
    """Depthwise separable conv (MobileNet): depthwise k x k, then a pointwise 1x1 conv.

    Depthwise conv (strided) -> norm -> activation -> 1x1 conv (filters) -> norm ->
    activation; no shortcut.
    """

    block: Literal["depthwise_separable"]
    kernel: Kernel = Field(3, description="Kernel size of the depthwise conv.")
    depth_multiplier: Annotated[int, Whole(1, 16)] = Field(
        1, description="Output channels of the depthwise conv per input channel."
    )

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Depthwise conv -> norm -> activation -> pointwise conv -> norm -> activation."""
        bias = b.spec.conv.bias
        h = b.depthwise_conv(
            "dw_conv",
            x,
            self.kernel,
            b.stride,
            bias=bias.block,
            depth_multiplier=self.depth_multiplier,
        )
        if b.graph.layers[-1].inputs != (x,):  # the padding style padded the window first
            b.variant, b.summary = "padded", "explicit padding"
            b.notes.append("A zero-padding layer before the strided depthwise conv.")
        h = b.act("dw_relu", b.norm("dw_bn", h))
        h = b.conv("pw_conv", h, b.filters, 1, bias=bias.block_out)
        return b.act("pw_relu", b.norm("pw_bn", h))


__all__ = ["DepthwiseSeparableStage"]
