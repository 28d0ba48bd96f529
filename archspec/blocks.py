"""The residual block types, each defined once: its convs, and where normalization goes.

A block is a sequence of convs plus a shortcut. Pre-activation blocks (He et al. 2016,
"Identity Mappings") put BN -> ReLU before each conv and nothing after the add; the original
post-activation blocks put BN after each conv, ReLU between them and after the add. Both
backends read the layers these definitions produce, so build and codegen cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archspec.lower import Arg, BlockBuilder


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


def preactivation_block(b: BlockBuilder, x: str, convs: list[ConvStep]) -> str:
    """BN -> ReLU -> conv for each conv; the shortcut reads the input or the first BN -> ReLU."""
    branch = "preact" if b.preact_shared else "main"
    h = b.batch_norm("preact_bn", x, branch)
    preact = b.relu("preact_relu", h, branch)
    if b.shortcut_first:
        shortcut = b.shortcut(x, preact)
    h = preact
    for i, step in enumerate(convs, start=1):
        if i > 1:
            h = b.batch_norm(f"bn{i - 1}", h)
            h = b.relu(f"relu{i - 1}", h)
        h = _conv(b, i, h, step, last=i == len(convs))
    if not b.shortcut_first:
        shortcut = b.shortcut(x, preact)
    return b.add(h, shortcut)


def postactivation_block(b: BlockBuilder, x: str, convs: list[ConvStep]) -> str:
    """Conv -> BN (-> ReLU between convs), add, ReLU; a projection gets its own BN."""
    if b.shortcut_first:
        shortcut = b.shortcut(x, None, norm=True)
    h = x
    for i, step in enumerate(convs, start=1):
        last = i == len(convs)
        h = _conv(b, i, h, step, last=last)
        h = b.batch_norm(f"bn{i}", h)
        if not last:
            h = b.relu(f"relu{i}", h)
    if not b.shortcut_first:
        shortcut = b.shortcut(x, None, norm=True)
    return b.relu("out_relu", b.add(h, shortcut))


def basic_convs(b: BlockBuilder) -> list[ConvStep]:
    """Two 3x3 convs; the first carries the stride."""
    return [ConvStep(3, b.filters, b.stride), ConvStep(3, b.filters)]


def bottleneck_convs(b: BlockBuilder) -> list[ConvStep]:
    """1x1 reduce, 3x3 (strided, grouped), 1x1 expand by the stage's expansion."""
    stage = b.stage
    return [
        ConvStep(1, b.filters),
        ConvStep(3, b.filters, b.stride, groups=stage.groups),  # type: ignore[attr-defined]
        ConvStep(1, b.out_channels),
    ]


BlockFn = Callable[["BlockBuilder", str], str]

BLOCK_BUILDERS: dict[str, BlockFn] = {
    "preact_basic": lambda b, x: preactivation_block(b, x, basic_convs(b)),
    "preact_bottleneck": lambda b, x: preactivation_block(b, x, bottleneck_convs(b)),
    "basic": lambda b, x: postactivation_block(b, x, basic_convs(b)),
    "bottleneck": lambda b, x: postactivation_block(b, x, bottleneck_convs(b)),
}
"""Block type (the `block:` key of a stage) -> the function that emits its layers."""
