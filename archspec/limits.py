"""Resource guards: the budgets a model must stay within, checked while it is being lowered.

Lowering checks them after the stem, after every block and after the head, before any
framework allocates anything. A deep stage is projected from its first blocks, so
`depth: 1000` of huge blocks is refused after two of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from archspec.cost import human_bytes
from archspec.ir import BYTES_PER_VALUE

if TYPE_CHECKING:
    from archspec.graph_builder import GraphBuilder

DEFAULT_MAX_PARAMS = 400_000_000
"""Every shipped preset fits, the largest being keras.applications' ConvNeXtXLarge (350M).
Building needs up to about 20 bytes per parameter at its peak (saving included): about 8 GB
at this limit, 3 GB at 100M (`--max-params 100M`, what a CI runner with 7 GB survives)."""
DEFAULT_MAX_ACTIVATION_BYTES = 16 << 30
DEFAULT_MAX_LAYERS = 20_000


@dataclass(frozen=True)
class Limits:
    """Resource guards checked while lowering, before any framework allocates anything."""

    max_params: int = DEFAULT_MAX_PARAMS
    max_activation_bytes: int = DEFAULT_MAX_ACTIVATION_BYTES
    max_layers: int = DEFAULT_MAX_LAYERS


@dataclass(frozen=True)
class Budget:
    """Checks a graph being built against its limits."""

    limits: Limits

    def check(
        self,
        graph: GraphBuilder,
        repeats: int = 0,
        since: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        """Stop lowering if the model is over a limit.

        The model counted is what exists so far plus `repeats` more copies of what was added
        since the totals `since`.
        """
        now = graph.totals()
        params, values, layers = (n + repeats * (n - s) for n, s in zip(now, since, strict=True))
        limits = self.limits
        checks = (
            (layers, limits.max_layers, f"{layers:,} layers", f"{limits.max_layers:,}",
             "reduce the depth of the stages, or raise --max-layers", "too-many-layers"),
            (params, limits.max_params, f"{params:,} parameters", f"{limits.max_params:,}",
             "reduce filters, depth or the dense layers, or raise --max-params",
             "too-many-params"),
            (BYTES_PER_VALUE * values, limits.max_activation_bytes,
             f"{human_bytes(BYTES_PER_VALUE * values)} of activations per sample",
             human_bytes(limits.max_activation_bytes),
             "reduce the input size or the widths, or raise --max-activation-memory",
             "too-much-memory"),
        )  # fmt: skip
        for amount, limit, what, shown_limit, hint, code in checks:
            if amount > limit:
                raise graph.fail(
                    graph.path,
                    f"the model would have {what}, over the limit of {shown_limit}",
                    hint=hint,
                    code=code,
                )
