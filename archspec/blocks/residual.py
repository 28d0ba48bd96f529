"""The residual shortcut, by the spec's network-wide rules (`residual.shortcut`), for any block.

Which blocks project, what a projection is (1x1 conv, or average pool then conv), what a
strided block without a projection does (MaxPooling2D(1, s)), what the projection reads (the
block input, or the pre-activation it shares with the main path), and the order of the add's
inputs: decided here once, so every residual block type gets the same rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archspec.blocks.builder import Arg, BlockBuilder

SHORTCUT_DOCS = {
    "identity": "Identity shortcut.",
    "conv": "Shortcut: 1x1 conv projection.",
    "avgpool_conv": "Shortcut: average pool by the stride, then a 1x1 conv (ResNet-D).",
    "maxpool": "Shortcut: MaxPooling2D(1, stride), subsampling without weights.",
}
"""What each kind of shortcut is, for the generated code's docstrings."""


class Shortcut:
    """The shortcut of one block whose output has `out_channels` channels."""

    def __init__(self, b: BlockBuilder, out_channels: Arg) -> None:
        self.b = b
        self.out_channels = out_channels
        self.settings = b.spec.residual.shortcut
        self.kind = self.resolve()
        b.variant = self.kind
        b.summary = f"{self.kind} shortcut"
        b.notes.append(SHORTCUT_DOCS[self.kind])

    @property
    def reads_preact(self) -> bool:
        """Whether the shortcut reads the pre-activation output (then it is a named branch)."""
        return self.settings.source == "preact" and self.kind in ("conv", "avgpool_conv")

    @property
    def first(self) -> bool:
        """Whether the shortcut is built first and is the add's first input."""
        return self.settings.order == "shortcut_first"

    def resolve(self) -> str:
        """Which shortcut this block has, by the spec's rules; errors if shapes cannot match."""
        b, settings = self.b, self.settings
        stride = b.stride_value
        channels_change = b.in_channels != self.out_channels.value
        changes = stride > 1 or channels_change
        projects = b.index == 0 if settings.when == "first_block" else changes
        kind: str = settings.kind if projects or stride > 1 else "identity"
        # A strided block without a projection subsamples with MaxPooling2D(1, stride).
        if stride > 1 and settings.downsample == "maxpool" and (not projects or kind == "identity"):
            kind = "maxpool"
        if kind in ("identity", "maxpool") and channels_change:
            raise b.fail(
                "filters",
                f"{b.name} changes channels from {b.in_channels} to "
                f"{self.out_channels.value}, but its shortcut is {kind}, so the add cannot match",
                hint="use residual.shortcut.kind: conv, or keep the channels equal",
                code="channel-mismatch",
            )
        if kind == "identity" and stride > 1:
            raise b.fail(
                "stride",
                f"{b.name} downsamples by {stride} but its shortcut is identity, so the add "
                "cannot match",
                hint="use residual.shortcut.kind: conv, or downsample: maxpool",
                code="shape-mismatch",
            )
        return kind

    def build(self, x: str, preact: str | None, *, norm: bool = False) -> str:
        """The shortcut branch; `norm` adds BN after a projection (post-activation blocks)."""
        b, kind = self.b, self.kind
        if kind == "identity":
            return x
        if kind == "maxpool":
            # MaxPooling2D(1, stride) subsamples; keras.applications applies it to the input.
            return b.pool("shortcut_pool", x, "max", 1, b.stride, "valid", branch="shortcut")
        source = preact if preact is not None and self.reads_preact else x
        stride = b.stride
        if kind == "avgpool_conv":
            if b.stride_value > 1:
                source = b.pool(
                    "shortcut_pool", source, "avg", b.stride, b.stride, "same", branch="shortcut"
                )
            stride = 1
        bias = b.spec.conv.bias.shortcut
        out = b.conv(
            "shortcut_conv", source, self.out_channels, 1, stride, bias=bias, branch="shortcut"
        )
        if norm:
            out = b.norm("shortcut_bn", out, branch="shortcut")
        return out

    def add(self, main: str, shortcut: str) -> str:
        """The residual add, inputs in the spec's order."""
        b = self.b
        if b.shape(main) != b.shape(shortcut):
            raise b.fail(
                None,
                f"{b.name}_add: the main path gives {b.shape(main)} but the shortcut gives "
                f"{b.shape(shortcut)}",
                hint="use 'same' padding or sizes the strides divide evenly",
                code="shape-mismatch",
            )
        inputs = (shortcut, main) if self.first else (main, shortcut)
        return b.sum("add", inputs)
