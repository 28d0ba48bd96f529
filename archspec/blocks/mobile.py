"""Mobile block types: the inverted residual (MBConv) and Fused-MBConv.

One inverted residual covers MobileNetV2, MobileNetV3 and EfficientNet (Sandler et al. 2018,
Howard et al. 2019, Tan and Le 2019): a 1x1 conv expands the block's input by a ratio, a k x k
depthwise conv (carrying the stride) filters each channel, optional squeeze-and-excitation
gates the channels, and a 1x1 conv without activation projects to the block's width. What
tells the families apart are options: the expansion, the kernel, the activation (ReLU6,
ReLU or hard-swish, swish), squeeze-and-excitation and drop path. EfficientNetV2's
Fused-MBConv (Tan and Le 2021) replaces the 1x1 expansion and the depthwise conv by one k x k
conv.

Both add the block's input back only where it can: stride 1 and as many channels out as in;
there is never a projection shortcut. The add's input order is the spec's
`residual.shortcut.order`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from archspec.blocks.base import StageSpec
from archspec.blocks.options import SqueezeExcite, drop_path, squeeze_excite
from archspec.fields import ActivationName, Kernel, StrictFloat
from archspec.scaling import round_width

if TYPE_CHECKING:
    from archspec.blocks.builder import Arg, BlockBuilder

Expansion = Annotated[
    StrictFloat,
    Field(
        ge=1,
        le=16,
        allow_inf_nan=False,
        description="Expanded width = input channels x expansion, rounded as widths are "
        "(`width_rounding`); 1 leaves out the expansion conv.",
    ),
]


class _MobileStage(StageSpec):
    """What both mobile blocks have: expansion, kernel, activation, squeeze-and-excitation."""

    expansion: Expansion = 6.0
    kernel: Kernel = Field(3, description="Kernel size of the block's k x k conv.")
    activation: ActivationName | None = Field(
        None, description="The block's activation; the network's `activation` if not given."
    )
    se: SqueezeExcite | None = Field(
        None,
        description="Squeeze-and-excitation of the expanded channels (position "
        "before_last_conv: before the projection, as MobileNetV3 and EfficientNet place it; "
        "end: after it), or none.",
    )

    def expanded_width(self, b: BlockBuilder) -> int:
        """The width the block expands its input to."""
        if self.expansion == 1:
            return b.in_channels
        return round_width(b.in_channels * self.expansion, b.spec.width_rounding)

    def act(self, b: BlockBuilder, local: str, x: str) -> str:
        """The block's activation."""
        return b.activation(local, x, self.activation or b.spec.activation)

    def project(self, b: BlockBuilder, h: str, gated: int | Arg) -> str:
        """SE if it sits here, the 1x1 projection conv -> BN, SE if it sits there.

        `gated` is the width of `h`.
        """
        h = squeeze_excite(b, h, self.se, "before_last_conv", gated)
        h = b.conv("project_conv", h, b.filters, 1, bias=b.spec.conv.bias.block_out)
        h = b.norm("project_bn", h)
        return squeeze_excite(b, h, self.se, "end", b.filters)

    def residual(self, b: BlockBuilder, x: str, h: str) -> str:
        """Add the block's input where stride and channels allow; say which form this is.

        The network's drop path goes on the branch just before the add.
        """
        adds = b.stride_value == 1 and b.in_channels == b.filters.value
        own = self.activation if self.activation not in (None, b.spec.activation) else None
        present = {
            str(own): own is not None,
            "expand": self.expansion != 1,
            "strided": b.stride_value > 1,
            "se": self.se is not None,
            "add": adds,
        }
        forms = [form for form, here in present.items() if here]
        b.variant = "_".join(forms)
        b.summary = ", ".join(forms)
        if not adds:
            return h
        b.notes.append("Adds its input back (stride 1, as many channels out as in).")
        h = drop_path(b, h)
        first = b.spec.residual.shortcut.order == "shortcut_first"
        return b.sum("add", (x, h) if first else (h, x))


class MBConvStage(_MobileStage):
    """Inverted residual (MBConv) of MobileNetV2/V3 and EfficientNet.

    1x1 expand -> BN -> act, k x k depthwise (strided) -> BN -> act, 1x1 project -> BN.
    """

    block: Literal["mbconv"]

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Expand (unless the expansion is 1), depthwise, project, add."""
        bias = b.spec.conv.bias
        expanded: int | Arg = b.in_channels
        h = x
        if self.expansion != 1:
            expanded = b.arg("expanded_filters", self.expanded_width(b))
            h = b.conv("expand_conv", h, expanded, 1, bias=bias.block)
            h = self.act(b, "expand_act", b.norm("expand_bn", h))
        kernel = b.arg("kernel", self.kernel)
        h = b.depthwise_conv("dwconv", h, kernel, b.stride, bias=bias.block)
        h = self.act(b, "dw_act", b.norm("dw_bn", h))
        return self.residual(b, x, self.project(b, h, expanded))


class FusedMBConvStage(_MobileStage):
    """Fused-MBConv of EfficientNetV2.

    k x k expand (strided) -> BN -> act, 1x1 project -> BN; with expansion 1, one k x k conv
    -> BN -> act.
    """

    block: Literal["fused_mbconv"]
    expansion: Expansion = 4.0

    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """The fused expansion conv (or the only conv), project, add."""
        bias = b.spec.conv.bias
        kernel = b.arg("kernel", self.kernel)
        if self.expansion == 1:  # SE before the only conv, as keras.applications has it
            h = squeeze_excite(b, x, self.se, "before_last_conv", b.in_channels)
            h = b.conv("conv", h, b.filters, kernel, b.stride, bias=bias.block_out)
            h = self.act(b, "act", b.norm("bn", h))
            h = squeeze_excite(b, h, self.se, "end", b.filters)
            return self.residual(b, x, h)
        expanded = b.arg("expanded_filters", self.expanded_width(b))
        h = b.conv("expand_conv", x, expanded, kernel, b.stride, bias=bias.block)
        h = self.act(b, "expand_act", b.norm("expand_bn", h))
        return self.residual(b, x, self.project(b, h, expanded))


__all__ = ["FusedMBConvStage", "MBConvStage"]
