"""The ResNet block types: basic and bottleneck, pre-activation (v2) and post-activation (v1).

A block is a sequence of convs plus a shortcut. Pre-activation blocks (He et al. 2016,
"Identity Mappings") put BN -> ReLU before each conv and nothing after the add; the original
post-activation blocks put BN after each conv, ReLU between them and after the add.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field

from archspec.blocks.base import StageProblem, StageSpec
from archspec.blocks.options import SqueezeExcite, drop_path, squeeze_excite
from archspec.blocks.residual import Shortcut
from archspec.fields import Whole

if TYPE_CHECKING:
    from archspec.blocks.builder import Arg, BlockBuilder

Expansion = Annotated[int, Whole(1, 16, "Output channels = filters x expansion.")]
Groups = Annotated[int, Whole(1, 1024, "Groups of the 3x3 conv (ResNeXt); must divide filters.")]


@dataclass(frozen=True)
class ConvStep:
    """One conv of a block's main path."""

    kernel: int
    filters: int | Arg
    stride: int | Arg = 1
    groups: int = 1


def _conv(
    b: BlockBuilder, number: int, x: str, step: ConvStep, *, last: bool, zero_init: bool = False
) -> str:
    """conv<number>; its bias by role: the block's last conv, or one inside it."""
    bias = b.spec.conv.bias
    return b.conv(
        f"conv{number}",
        x,
        step.filters,
        step.kernel,
        step.stride,
        bias=bias.block_out if last else bias.block,
        groups=step.groups,
        kernel_initializer="zeros" if zero_init else None,
    )


def _branch_end(b: BlockBuilder, h: str, se: SqueezeExcite | None, out: Arg) -> str:
    """The end of the residual branch, before the add: squeeze-and-excitation, drop path."""
    return drop_path(b, squeeze_excite(b, h, se, "end", out))


def preactivation_block(
    b: BlockBuilder, x: str, convs: list[ConvStep], out: Arg, se: SqueezeExcite | None = None
) -> str:
    """BN -> ReLU -> conv for each conv; the shortcut reads the input or the first BN -> ReLU.

    A zero-initialised branch (`residual.zero_init_last`) starts its last conv at zero, as
    there is no BN after it.
    """
    residual = Shortcut(b, out)
    branch = "preact" if residual.reads_preact else "main"
    h = b.norm("preact_bn", x, branch)
    preact = b.act("preact_relu", h, branch)
    if residual.first:
        shortcut = residual.build(x, preact)
    h = preact
    zero_init = b.spec.residual.zero_init_last
    for i, step in enumerate(convs, start=1):
        last = i == len(convs)
        if i > 1:
            h = b.norm(f"bn{i - 1}", h)
            h = b.act(f"relu{i - 1}", h)
        if last and i > 1:
            h = squeeze_excite(b, h, se, "before_last_conv", convs[i - 2].filters)
        h = _conv(b, i, h, step, last=last, zero_init=last and zero_init)
    h = _branch_end(b, h, se, out)
    if not residual.first:
        shortcut = residual.build(x, preact)
    return residual.add(h, shortcut)


def postactivation_block(
    b: BlockBuilder, x: str, convs: list[ConvStep], out: Arg, se: SqueezeExcite | None = None
) -> str:
    """Conv -> BN (-> ReLU between convs), add, ReLU; a projection gets its own BN.

    A zero-initialised branch (`residual.zero_init_last`) starts its last BN's scale at zero.
    """
    residual = Shortcut(b, out)
    if residual.first:
        shortcut = residual.build(x, None, norm=True)
    h = x
    zero_init = b.spec.residual.zero_init_last
    for i, step in enumerate(convs, start=1):
        last = i == len(convs)
        if last and i > 1:
            h = squeeze_excite(b, h, se, "before_last_conv", convs[i - 2].filters)
        h = _conv(b, i, h, step, last=last)
        h = b.norm(f"bn{i}", h, zero_init=last and zero_init)
        if not last:
            h = b.act(f"relu{i}", h)
    h = _branch_end(b, h, se, out)
    if not residual.first:
        shortcut = residual.build(x, None, norm=True)
    return b.act("out_relu", residual.add(h, shortcut))


class _ResidualStage(StageSpec):
    se: SqueezeExcite | None = Field(
        None, description="Squeeze-and-excitation in every block of the stage, or none."
    )


class _BasicStage(_ResidualStage):
    def convs(self, b: BlockBuilder) -> list[ConvStep]:
        """Two 3x3 convs; the first carries the stride."""
        return [ConvStep(3, b.filters, b.stride), ConvStep(3, b.filters)]


class _BottleneckStage(_ResidualStage):
    expansion: Expansion = 4
    groups: Groups = 1

    @property
    def width_divisor(self) -> int:
        """The grouped 3x3 conv needs a width that its groups divide."""
        return self.groups

    def problems(self) -> Iterator[StageProblem]:
        """The groups must divide the width."""
        if self.filters % self.groups:
            yield StageProblem(
                "groups",
                f"groups={self.groups} does not divide the stage's {self.filters} filters",
                f"use a divisor of {self.filters}, such as "
                f"{_nearest_divisor(self.filters, self.groups)}",
                "groups",
            )

    def convs(self, b: BlockBuilder) -> list[ConvStep]:
        """1x1 reduce, 3x3 (grouped), 1x1 expand; the stride on the 3x3 or the first 1x1."""
        on_reduce = b.spec.residual.bottleneck_stride == "reduce"
        return [
            ConvStep(1, b.filters, b.stride if on_reduce else 1),
            ConvStep(3, b.filters, 1 if on_reduce else b.stride, groups=self.groups),
            ConvStep(1, b.filters * self.expansion),
        ]


def _nearest_divisor(n: int, near: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - near), -d))


class PreactBasicStage(_BasicStage):
    """Full pre-activation basic block: (BN -> ReLU -> 3x3 conv) x 2, plus the shortcut."""

    preactivation: ClassVar[bool] = True
    block: Literal["preact_basic"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Pre-activation convs, then the add."""
        return preactivation_block(b, x, self.convs(b), b.filters, self.se)


class PreactBottleneckStage(_BottleneckStage):
    """Full pre-activation bottleneck: BN -> ReLU -> conv for 1x1, 3x3, 1x1 (x expansion)."""

    preactivation: ClassVar[bool] = True
    block: Literal["preact_bottleneck"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Pre-activation convs, then the add."""
        return preactivation_block(b, x, self.convs(b), b.filters * self.expansion, self.se)


class BasicStage(_BasicStage):
    """Original (post-activation, v1) basic block: conv -> BN -> ReLU -> conv -> BN, add, ReLU."""

    block: Literal["basic"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Post-activation convs, the add, then ReLU."""
        return postactivation_block(b, x, self.convs(b), b.filters, self.se)


class BottleneckStage(_BottleneckStage):
    """Original (post-activation, v1) bottleneck: 1x1, 3x3, 1x1 each conv -> BN, add, ReLU."""

    block: Literal["bottleneck"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Post-activation convs, the add, then ReLU."""
        return postactivation_block(b, x, self.convs(b), b.filters * self.expansion, self.se)


__all__ = ["BasicStage", "BottleneckStage", "PreactBasicStage", "PreactBottleneckStage"]
