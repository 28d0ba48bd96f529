"""Width and depth scaling: how a multiplied width or depth becomes a whole number.

One rule for every width (`width_multiplier`, a block's expansion ratio): the multiple of a
divisor nearest to the target, halves up, never below the divisor, and optionally never below
a fraction of the target. With divisor 8 and fraction 0.9 it is MobileNets' `_make_divisible`
and EfficientNet's `round_filters`, computed the same way so that every float rounds alike.
Depths are multiplied and rounded up, as EfficientNet's `round_repeats`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archspec.spec import WidthRounding

__all__ = ["round_width", "scaled_depth", "scaled_width"]


def round_width(width: float, rounding: WidthRounding | None = None, groups: int = 1) -> int:
    """`width` as a whole number of channels by `rounding` (the spec's `width_rounding`).

    Also a multiple of `groups`; without `rounding`, the nearest multiple of `groups`.
    """
    divisor = math.lcm((rounding.divisor or 1) if rounding else 1, groups)
    rounded = max(divisor, int(width + divisor / 2) // divisor * divisor)
    if rounding and rounding.min_fraction is not None and rounded < rounding.min_fraction * width:
        rounded += divisor
    return rounded


def scaled_width(
    filters: int, multiplier: float, groups: int = 1, rounding: WidthRounding | None = None
) -> int:
    """Apply the width multiplier: by default the nearest multiple of `groups`, at least that.

    Halves round up (7 x 0.5 -> 4), unlike Python's round(), which rounds them to even. A
    width is left as written when nothing scales it and no divisor is asked for.
    """
    if multiplier == 1.0 and (rounding is None or rounding.divisor is None):
        return filters
    return round_width(filters * multiplier, rounding, groups)


def scaled_depth(depth: int, multiplier: float) -> int:
    """Apply the depth multiplier: the number of blocks, rounded up."""
    return math.ceil(multiplier * depth)
