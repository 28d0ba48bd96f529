"""Plain blocks (VGG): convs without a shortcut, and a pool that downsamples the stage.

Simonyan and Zisserman 2014. A stage is `depth` k x k convs, each followed by the network's
activation (inside the conv when there is no norm between them, as keras.applications' VGG
writes it), then, where the stage has a stride, a pool by it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from archspec.blocks.base import StageSpec
from archspec.fields import Flag, Kernel

if TYPE_CHECKING:
    from archspec.blocks.builder import BlockBuilder, StageBuilder


class PlainStage(StageSpec):
    """Plain conv (VGG): a k x k conv, then the activation; no shortcut.

    A strided stage ends with a pool by its stride after its convs.
    """

    block: Literal["plain"]
    kernel: Kernel = Field(3, description="Kernel size of the convs.")
    norm: Flag = Field(
        False,
        description="A norm layer between each conv and its activation (VGG-BN); without "
        "one the activation is inside the conv (Conv2D(activation=...)).",
    )
    pool: Literal["max", "avg"] = Field(
        "max", description="The pool that ends a strided stage (size and stride: the stride)."
    )

    def lower_stage(self, stage: StageBuilder, x: str) -> str:
        """The convs, then the pool by the stride (a transition after the blocks)."""
        for index in range(self.depth):
            x = stage.block(index, x, self.lower_block, stride=1)
        if self.stride > 1:
            x = stage.transition(
                "pool", x, self.lower_pool, filters=stage.filters, stride=self.stride
            )
        return x

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Conv and activation, or conv -> norm -> activation."""
        bias, activation = b.spec.conv.bias.block_out, b.spec.activation
        if not self.norm:
            return b.conv("conv", x, b.filters, self.kernel, bias=bias, activation=activation)
        h = b.conv("conv", x, b.filters, self.kernel, bias=bias)
        return b.act("relu", b.norm("bn", h))

    def lower_pool(self, b: BlockBuilder, x: str) -> str:
        """The pool that ends a strided plain stage (VGG): window and stride the stage's."""
        return b.pool("pool", x, self.pool, b.stride, b.stride, "valid")


__all__ = ["PlainStage"]
