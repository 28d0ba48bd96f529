"""Dense blocks (DenseNet, Huang et al. 2017): each block's output is concatenated to its input.

A dense stage is `depth` blocks, each adding `filters` channels (the growth rate) to what it
reads. A strided stage starts with a transition that compresses the channels and pools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import StageSpec
from archspec.fields import StrictFloat, Whole
from archspec.ops import channels_of

if TYPE_CHECKING:
    from archspec.blocks.builder import BlockBuilder, StageBuilder


class DenseStage(StageSpec):
    """Dense block (DenseNet): new channels, concatenated to the block's input.

    Norm -> activation -> 1x1 conv (bottleneck x growth) -> norm -> activation -> 3x3 conv
    (growth), then the concatenation. `filters` is the growth rate: each block adds that many
    channels. A strided stage starts with a transition: norm -> activation -> 1x1 conv to the
    input's channels x compression -> average pool by the stride.
    """

    preactivation: ClassVar[bool] = True
    block: Literal["densenet"]
    bottleneck: Annotated[int, Whole(1, 16)] = Field(
        4, description="Width of the 1x1 conv, in multiples of the growth rate."
    )
    compression: Annotated[StrictFloat, Field(gt=0, le=1)] = Field(
        0.5,
        description="The transition's 1x1 conv keeps this fraction of the channels (rounded "
        "down, as keras.applications' int(channels x reduction)).",
    )

    def lower_stage(self, stage: StageBuilder, x: str) -> str:
        """The transition where the stage has a stride, then `depth` unstrided blocks."""
        if self.stride > 1:
            channels = channels_of(stage.graph.shapes[x])
            compressed = max(1, int(channels * self.compression))
            x = stage.transition(
                "transition", x, self.lower_transition, filters=compressed, stride=self.stride
            )
        for index in range(self.depth):
            x = stage.block(index, x, stride=1)
        return x

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Bottleneck and growth convs, each after norm -> activation; then the concatenation."""
        bias = b.spec.conv.bias
        h = b.act("relu1", b.norm("bn1", x))
        h = b.conv("conv1", h, b.filters * self.bottleneck, 1, bias=bias.block)
        h = b.act("relu2", b.norm("bn2", h))
        h = b.conv("conv2", h, b.filters, 3, bias=bias.block_out)
        return b.layer("concatenate", "concat", (x, h))

    def lower_transition(self, b: BlockBuilder, x: str) -> str:
        """DenseNet's transition: norm -> activation -> 1x1 conv -> average pool by the stride.

        The conv compresses the channels (`compression` of the stage, DenseNet-BC).
        """
        h = b.act("relu", b.norm("bn", x))
        h = b.conv("conv", h, b.filters, 1, bias=b.spec.conv.bias.block)
        return b.pool("pool", h, "avg", b.stride, b.stride, "valid")


__all__ = ["DenseStage"]
