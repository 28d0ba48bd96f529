"""Plain blocks (VGG): convs without a shortcut, and a pool that downsamples the stage.

Simonyan and Zisserman 2014. A stage is `depth` k x k convs, each followed by the network's
activation (inside the conv when there is no norm between them, as keras.applications' VGG
writes it), then, where the stage has a stride, a pool by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from archspec.blocks.base import StageProblem, StageSpec
from archspec.blocks.options import SqueezeExcite, squeeze_excite
from archspec.fields import Flag, Kernel

if TYPE_CHECKING:
    from archspec.blocks.builder import BlockBuilder, StageBuilder


class PlainStage(StageSpec):
    """Plain conv (VGG): a k x k conv, then the activation; no shortcut.

    A strided stage ends with a pool by its stride after its convs. Squeeze-and-excitation,
    if the stage has it, follows each block's activation.
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
    se: SqueezeExcite | None = Field(
        None,
        description="Squeeze-and-excitation on each block's output (position: end), or none.",
    )

    def problems(self) -> Iterator[StageProblem]:
        """A plain block has one conv, so SE can only follow it."""
        if self.se is not None and self.se.position != "end":
            yield StageProblem(
                "se",
                "a plain block has a single conv, so squeeze-and-excitation cannot sit before "
                "its last conv",
                "use se.position: end (after the block's activation)",
                "se-position",
            )

    def lower_stage(self, stage: StageBuilder, x: str) -> str:
        """The convs, then the pool by the stride (a transition after the blocks)."""
        for index in range(self.depth):
            x = stage.block(index, x, stride=1)
        if self.stride > 1:
            x = stage.transition(
                "downsample", x, self.lower_pool, filters=stage.filters, stride=self.stride
            )
        return x

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Conv and activation, or conv -> norm -> activation."""
        bias, activation = b.spec.conv.bias.block_out, b.spec.activation
        if not self.norm:
            h = b.conv("conv", x, b.filters, self.kernel, bias=bias, activation=activation)
        else:
            h = b.conv("conv", x, b.filters, self.kernel, bias=bias)
            h = b.act("relu", b.norm("bn", h))
        return squeeze_excite(b, h, self.se, "end", b.filters)

    def lower_pool(self, b: BlockBuilder, x: str) -> str:
        """The pool that ends a strided plain stage (VGG): window and stride the stage's."""
        return b.pool("pool", x, self.pool, b.stride, b.stride, "valid")


__all__ = ["PlainStage"]
