"""The ResNet block types: basic and bottleneck, pre-activation (v2) and post-activation (v1).

A block is a sequence of convs plus a shortcut. Pre-activation blocks (He et al. 2016,
"Identity Mappings") put BN -> ReLU before each conv and nothing after the add; the original
post-activation blocks put BN after each conv, ReLU between them and after the add.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from archspec.blocks.base import StageProblem, StageSpec
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


def _conv(b: BlockBuilder, number: int, x: str, step: ConvStep, *, last: bool) -> str:
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
    )


def preactivation_block(b: BlockBuilder, x: str, convs: list[ConvStep], out: Arg) -> str:
    """BN -> ReLU -> conv for each conv; the shortcut reads the input or the first BN -> ReLU."""
    residual = Shortcut(b, out)
    branch = "preact" if residual.reads_preact else "main"
    h = b.norm("preact_bn", x, branch)
    preact = b.act("preact_relu", h, branch)
    if residual.first:
        shortcut = residual.build(x, preact)
    h = preact
    for i, step in enumerate(convs, start=1):
        if i > 1:
            h = b.norm(f"bn{i - 1}", h)
            h = b.act(f"relu{i - 1}", h)
        h = _conv(b, i, h, step, last=i == len(convs))
    if not residual.first:
        shortcut = residual.build(x, preact)
    return residual.add(h, shortcut)


def postactivation_block(b: BlockBuilder, x: str, convs: list[ConvStep], out: Arg) -> str:
    """Conv -> BN (-> ReLU between convs), add, ReLU; a projection gets its own BN."""
    residual = Shortcut(b, out)
    if residual.first:
        shortcut = residual.build(x, None, norm=True)
    h = x
    for i, step in enumerate(convs, start=1):
        last = i == len(convs)
        h = _conv(b, i, h, step, last=last)
        h = b.norm(f"bn{i}", h)
        if not last:
            h = b.act(f"relu{i}", h)
    if not residual.first:
        shortcut = residual.build(x, None, norm=True)
    return b.act("out_relu", residual.add(h, shortcut))


class _BasicStage(StageSpec):
    def convs(self, b: BlockBuilder) -> list[ConvStep]:
        """Two 3x3 convs; the first carries the stride."""
        return [ConvStep(3, b.filters, b.stride), ConvStep(3, b.filters)]


class _BottleneckStage(StageSpec):
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
        """1x1 reduce, 3x3 (strided, grouped), 1x1 expand by the stage's expansion."""
        return [
            ConvStep(1, b.filters),
            ConvStep(3, b.filters, b.stride, groups=self.groups),
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
        return preactivation_block(b, x, self.convs(b), b.filters)


class PreactBottleneckStage(_BottleneckStage):
    """Full pre-activation bottleneck: BN -> ReLU -> conv for 1x1, 3x3, 1x1 (x expansion)."""

    preactivation: ClassVar[bool] = True
    block: Literal["preact_bottleneck"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Pre-activation convs, then the add."""
        return preactivation_block(b, x, self.convs(b), b.filters * self.expansion)


class BasicStage(_BasicStage):
    """Original (post-activation, v1) basic block: conv -> BN -> ReLU -> conv -> BN, add, ReLU."""

    block: Literal["basic"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Post-activation convs, the add, then ReLU."""
        return postactivation_block(b, x, self.convs(b), b.filters)


class BottleneckStage(_BottleneckStage):
    """Original (post-activation, v1) bottleneck: 1x1, 3x3, 1x1 each conv -> BN, add, ReLU."""

    block: Literal["bottleneck"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Post-activation convs, the add, then ReLU."""
        return postactivation_block(b, x, self.convs(b), b.filters * self.expansion)


__all__ = ["BasicStage", "BottleneckStage", "PreactBasicStage", "PreactBottleneckStage"]
