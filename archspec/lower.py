"""Spec -> IR: resolve every layer's name, attributes, shape, parameters and MACs.

No framework is imported. Semantic problems (a spatial size that collapses, an identity add
whose channels differ, a budget exceeded) are found here and located in the spec's file.
Parameters and MACs are counted by the rules stated in `archspec.cost`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archspec.blocks import BLOCK_BUILDERS
from archspec.cost import human_bytes
from archspec.errors import Diagnosed, Diagnostic, Severity, SpecError, format_path
from archspec.io import FieldPath, SourceMap
from archspec.ir import BYTES_PER_VALUE, Block, Branch, Graph, Layer, Op, StageInfo, frozen_mapping
from archspec.spec import Spec, StageBase

DEFAULT_MAX_PARAMS = 100_000_000
"""Building needs up to about 20 bytes per parameter at its peak (saving included), so 100M
parameters stay under 3 GB of memory and a 400 MB .keras file: what a CI runner survives."""
DEFAULT_MAX_ACTIVATION_BYTES = 16 << 30
DEFAULT_MAX_LAYERS = 20_000
MAX_LAYER_CHAIN = 800
"""Keras builds and loads a functional model by recursing once per layer along its longest
path; past about 950 layers that exceeds Python's default recursion limit (1000), so the
model could not be loaded. Longer chains are refused, with room for the caller's own stack."""


@dataclass(frozen=True)
class Limits:
    """Resource guards checked while lowering, before any framework allocates anything."""

    max_params: int = DEFAULT_MAX_PARAMS
    max_activation_bytes: int = DEFAULT_MAX_ACTIVATION_BYTES
    max_layers: int = DEFAULT_MAX_LAYERS


@dataclass(frozen=True)
class Analysis(Diagnosed):
    """What lowering found: the graph (None when an error stopped it) and every diagnostic."""

    graph: Graph | None
    diagnostics: tuple[Diagnostic, ...]


class _Stop(Exception):
    """Lowering cannot go on; the reason is already in the diagnostics."""


@dataclass(frozen=True)
class Arg:
    """A block argument, or an expression over one: its value and how to write it in Python."""

    name: str
    value: int
    expr: str = ""

    def __post_init__(self) -> None:
        if not self.expr:
            object.__setattr__(self, "expr", self.name)

    def __mul__(self, factor: int) -> Arg:
        if factor == 1:
            return self
        return Arg(self.name, self.value * factor, f"{self.expr} * {factor}")


def _value(x: int | Arg) -> int:
    return x.value if isinstance(x, Arg) else x


def lower(
    spec: Spec, *, input_size: tuple[int, int] | None = None, limits: Limits | None = None
) -> Graph:
    """Lower a validated spec to the IR; raise a located `SpecError` on any semantic error."""
    analysis = analyze(spec, input_size=input_size, limits=limits)
    if analysis.errors or analysis.graph is None:
        raise SpecError(analysis.diagnostics)
    return analysis.graph


def analyze(
    spec: Spec, *, input_size: tuple[int, int] | None = None, limits: Limits | None = None
) -> Analysis:
    """Lower a spec, collecting every error and warning instead of stopping at the first."""
    builder = GraphBuilder(spec, limits or Limits())
    try:
        graph = builder.build(input_size)
    except _Stop:
        graph = None
    if builder.errors:
        graph = None
    return Analysis(graph, tuple(builder.diagnostics))


def _collapse_hint(padding: str, extent: int, stride: int) -> str:
    """Why a collapsing stride is refused, and what to change."""
    if padding == "same":
        why = (
            f"with 'same' padding Keras would not fail: it rounds {extent}/{stride} up to "
            f"{math.ceil(extent / stride)}, so the stride does nothing and later layers see a "
            "map of almost no pixels; archspec refuses that instead of building it silently"
        )
    else:
        why = "Keras would fail to build it: the window is larger than the map"
    return f"{why}. Use a larger input, or fewer or smaller strides before this layer"


def scaled_width(filters: int, multiplier: float, groups: int = 1) -> int:
    """Apply the width multiplier: the nearest multiple of `groups`, at least `groups`.

    Halves round up (7 x 0.5 -> 4), unlike Python's round(), which rounds them to even.
    """
    if multiplier == 1.0:
        return filters
    return max(groups, math.floor(filters * multiplier / groups + 0.5) * groups)


class GraphBuilder(Diagnosed):
    """Accumulates layers, computing each one's shape, parameters and MACs as it is added."""

    def __init__(self, spec: Spec, limits: Limits) -> None:
        self.spec = spec
        self.limits = limits
        self.source: SourceMap | None = spec._source
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.blocks: list[Block] = []
        self.stages: list[StageInfo] = []
        self.diagnostics: list[Diagnostic] = []
        self.params = 0
        self.activation_values = 0
        self.chain: dict[str, int] = {}  # layers on the longest path from the input, per layer
        self.longest_chain = 0
        self.scope = "stem"
        self.path: FieldPath = ()

    # --- diagnostics ----------------------------------------------------------------------

    def report(
        self,
        path: FieldPath,
        message: str,
        *,
        hint: str | None = None,
        severity: Severity = "error",
        code: str = "semantic",
        key: bool = False,
    ) -> None:
        """Record a diagnostic located at `path` in the spec's file."""
        location = self.source.locate(path, key=key) if self.source else None
        self.diagnostics.append(
            Diagnostic(
                message,
                path=format_path(path),
                location=location,
                hint=hint,
                severity=severity,
                code=code,
            )
        )

    def fail(self, path: FieldPath, message: str, *, hint: str, code: str) -> _Stop:
        """Record an error that stops lowering; raise what this returns."""
        self.report(path, message, hint=hint, code=code)
        return _Stop()

    # --- layers ---------------------------------------------------------------------------

    def add(
        self,
        name: str,
        op: Op,
        inputs: tuple[str, ...],
        attrs: Mapping[str, object],
        shape: tuple[int, ...],
        *,
        params: int = 0,
        trainable: int | None = None,
        macs: int = 0,
        block: str | None = None,
        local: str = "",
        branch: Branch = "main",
        bindings: Mapping[str, str] | None = None,
    ) -> str:
        """Append a layer whose figures the caller computed; return its name."""
        layer = Layer(
            name=name,
            op=op,
            inputs=inputs,
            attrs=frozen_mapping(attrs),
            shape=shape,
            params=params,
            trainable_params=params if trainable is None else trainable,
            macs=macs,
            scope=self.scope,
            block=block,
            local=local or name,
            branch=branch,
            bindings=frozen_mapping(bindings),
        )
        self.layers.append(layer)
        self.chain[name] = 1 + max((self.chain[i] for i in inputs), default=0)
        self.longest_chain = max(self.longest_chain, self.chain[name])
        self.shapes[name] = shape
        self.params += layer.params
        self.activation_values += layer.activation_values
        return name

    def spatial(
        self, name: str, x: str, size: int, stride: int, padding: str, pad: int = 0
    ) -> tuple[int, int]:
        """Output height and width of a window op; stop if the image would shrink below 1.

        'same' rounds up, so Keras would silently keep a 1x1 map at 1x1 under any stride: that
        is reported as the collapse it is, and a stride that does not divide the size evenly
        is a warning. Both are judged on the size before any explicit `pad` around `x`.
        """
        out = []
        for axis, padded in zip(("height", "width"), self.shapes[x][:2], strict=True):
            extent = padded - 2 * pad
            window = padded if padding == "same" else padded - size + 1
            if window < 1 or (stride > 1 and extent < stride):
                raise self.fail(
                    self.path,
                    f"{name}: the {axis} is {extent} here, too small for a {size}x{size} window "
                    f"with stride {stride}",
                    hint=_collapse_hint(padding, extent, stride),
                    code="collapse",
                )
            if stride > 1 and extent % stride:
                self.warn_once(
                    f"the {axis} {extent} is not divisible by the stride {stride}; "
                    f"{name} rounds it {'up' if padding == 'same' else 'down'}",
                    hint="sizes that divide evenly keep every pixel and both branches aligned",
                    code="uneven-stride",
                )
            if padding == "same":
                out.append(math.ceil(padded / stride))
            else:
                out.append((padded - size) // stride + 1)
        return out[0], out[1]

    def warn_once(self, message: str, *, hint: str, code: str) -> None:
        """A warning at the current path, unless that path already has one of this code."""
        path = format_path(self.path)
        if not any(d.code == code and d.path == path for d in self.diagnostics):
            self.report(self.path, message, hint=hint, severity="warning", code=code)

    def zero_pad(self, name: str, x: str, pad: int, **meta: Any) -> str:
        """ZeroPadding2D with `pad` on every side."""
        h, w, c = self.shapes[x]
        shape = (h + 2 * pad, w + 2 * pad, c)
        return self.add(name, "zero_pad", (x,), {"padding": pad}, shape, **meta)

    def window_input(
        self, x: str, size: int, pad_name: str, pad_meta: Mapping[str, Any] | None
    ) -> tuple[str, str, int]:
        """The input of a conv or pool in the spec's padding style: (input, Keras padding, pad).

        'same' leaves the input as it is. 'explicit' pads size // 2 zeros on every side first
        (a layer named `pad_name`), then the window is 'valid': symmetric, as
        keras.applications pads.
        """
        if self.spec.conv.padding != "explicit":
            return x, "same", 0
        if size == 1:
            return x, "valid", 0
        pad = size // 2
        return self.zero_pad(pad_name, x, pad, **(pad_meta or {})), "valid", pad

    def conv(
        self,
        name: str,
        x: str,
        filters: int,
        kernel: int,
        stride: int,
        *,
        bias: bool,
        groups: int = 1,
        pad_meta: Mapping[str, Any] | None = None,
        **meta: Any,
    ) -> str:
        """Conv2D in the spec's padding style; a pad layer is named like it, 'pad' for 'conv'."""
        head, _, tail = name.rpartition("conv")
        x, padding, pad = self.window_input(x, kernel, f"{head}pad{tail}", pad_meta)
        h, w = self.spatial(name, x, kernel, stride, padding, pad)
        c_in = self.shapes[x][2]
        per_output = kernel * kernel * (c_in // groups)
        params = per_output * filters + (filters if bias else 0)
        attrs = {
            "filters": filters,
            "kernel": kernel,
            "strides": stride,
            "padding": padding,
            "use_bias": bias,
            "groups": groups,
        }
        macs = h * w * filters * per_output
        shape = (h, w, filters)
        return self.add(name, "conv2d", (x,), attrs, shape, params=params, macs=macs, **meta)

    def batch_norm(self, name: str, x: str, **meta: Any) -> str:
        """BatchNormalization over the channels."""
        norm = self.spec.norm
        channels = self.shapes[x][-1]
        attrs = {"epsilon": norm.epsilon, "momentum": norm.momentum}
        return self.add(
            name,
            "batch_norm",
            (x,),
            attrs,
            self.shapes[x],
            params=4 * channels,
            trainable=2 * channels,
            **meta,
        )

    def relu(self, name: str, x: str, **meta: Any) -> str:
        """ReLU, in the layer class the spec asks for."""
        attrs = {"layer": self.spec.keras.relu_layer}
        return self.add(name, "relu", (x,), attrs, self.shapes[x], **meta)

    def pool(
        self,
        name: str,
        x: str,
        kind: str,
        size: int,
        stride: int,
        padding: str,
        pad: int = 0,
        **meta: Any,
    ) -> str:
        """MaxPooling2D or AveragePooling2D; `pad` is explicit padding already around `x`."""
        h, w = self.spatial(name, x, size, stride, padding, pad)
        attrs = {"size": size, "strides": stride, "padding": padding}
        op: Op = "max_pool" if kind == "max" else "avg_pool"
        return self.add(name, op, (x,), attrs, (h, w, self.shapes[x][2]), **meta)

    def dense(self, name: str, x: str, units: int, activation: str, **meta: Any) -> str:
        """Dense on a flat input."""
        (features,) = self.shapes[x]
        params = features * units + units
        attrs = {"units": units, "activation": activation}
        macs = features * units
        return self.add(name, "dense", (x,), attrs, (units,), params=params, macs=macs, **meta)

    # --- the network ----------------------------------------------------------------------

    def build(self, input_size: tuple[int, int] | None) -> Graph:
        """Lower stem, stages and head; return the graph."""
        spec = self.spec
        height, width, channels = spec.input.shape
        if input_size is not None:
            height, width = input_size
        self.scope, self.path = "input", ("input", "shape")
        x = self.add(
            "input", "input", (), {"shape": (height, width, channels)}, (height, width, channels)
        )
        self.check_budget()
        x = self.stem(x)
        for index, stage in enumerate(spec.stages):
            x = self.stage(index, stage, x)
        x = self.head(x)
        self.check_settings()
        return Graph(
            name=spec.name,
            description=spec.description,
            layers=tuple(self.layers),
            blocks=tuple(self.blocks),
            stages=tuple(self.stages),
            output=x,
        )

    def stem(self, x: str) -> str:
        """The stem convs, their BN -> ReLU, and the optional pool."""
        stem = self.spec.stem
        self.scope, self.path = "stem", ("stem",)
        bias = self.spec.conv.bias.stem
        count = len(stem.filters)
        for i, filters in enumerate(stem.filters, start=1):
            suffix = str(i) if count > 1 else ""
            stride = stem.stride if i == 1 else 1
            self.path = ("stem", "stride") if stride > 1 else ("stem", "filters")
            width = scaled_width(filters, self.spec.width_multiplier)
            x = self.conv(f"stem_conv{suffix}", x, width, stem.kernel, stride, bias=bias)
            if i < count or stem.norm:
                x = self.batch_norm(f"stem_bn{suffix}", x)
                x = self.relu(f"stem_relu{suffix}", x)
        if stem.pool is not None:
            pool = stem.pool
            self.path = ("stem", "pool")
            if self.spec.conv.padding == "explicit" and pool.size % 2 == 0:
                raise self.fail(
                    ("stem", "pool", "size"),
                    f"explicit padding pads size // 2 on every side, which over-pads an even "
                    f"pool of {pool.size}",
                    hint="use an odd pool size, or conv.padding: same",
                    code="even-window",
                )
            x, padding, pad = self.window_input(x, pool.size, "stem_pool_pad", None)
            x = self.pool("stem_pool", x, pool.kind, pool.size, pool.stride, padding, pad)
        self.check_budget()
        return x

    def stage(self, index: int, stage: StageBase, x: str) -> str:
        """Every block of one stage; the budget is checked after each block."""
        number = index + 1
        self.scope = f"stage{number}"
        builder = BLOCK_BUILDERS[stage.block]
        groups = getattr(stage, "groups", 1)
        if stage.filters % groups:
            raise self.fail(
                ("stages", index, "groups"),
                f"groups={groups} does not divide the stage's {stage.filters} filters",
                hint=f"use a divisor of {stage.filters}, such as "
                f"{_nearest_divisor(stage.filters, groups)}",
                code="groups",
            )
        filters = scaled_width(stage.filters, self.spec.width_multiplier, groups)
        stride_block = 0 if self.spec.residual.stride_at == "first" else stage.depth - 1
        names = []
        for j in range(stage.depth):
            stride = stage.stride if j == stride_block else 1
            name = f"stage{number}_block{j + 1}"
            self.path = ("stages", index)
            before = self.totals()
            block = BlockBuilder(self, name, index, j, stage, filters, stride, x)
            x = block.finish(builder(block, x))
            names.append(name)
            # Blocks after the second are copies of it (bar a strided last block, left out):
            # projecting its cost gives a lower bound that refuses absurd depths early.
            repeats = max(0, stage.depth - 2 - j) if j >= 1 else 0
            self.check_budget(repeats, before)
        self.stages.append(
            StageInfo(
                index=number,
                name=self.scope,
                block=stage.block,
                filters=filters,
                stride=stage.stride,
                depth=stage.depth,
                blocks=tuple(names),
            )
        )
        return x

    def head(self, x: str) -> str:
        """Final norm, pooling, hidden dense layers, dropout and the classifier."""
        head = self.spec.head
        self.scope, self.path = "head", ("head",)
        if head.norm:
            x = self.batch_norm("head_bn", x)
            x = self.relu("head_relu", x)
        h, w, c = self.shapes[x]
        if head.pool == "flatten":
            x = self.add("head_flatten", "flatten", (x,), {}, (h * w * c,))
        else:
            x = self.add("head_pool", f"global_{head.pool}_pool", (x,), {}, (c,))
        for i, units in enumerate(head.dense, start=1):
            self.path = ("head", "dense", i - 1)
            x = self.dense(f"head_dense{i}", x, units, head.dense_activation)
        if head.dropout > 0:
            x = self.add("head_dropout", "dropout", (x,), {"rate": head.dropout}, self.shapes[x])
        self.path = ("head", "classes")
        x = self.dense("classifier", x, head.classes, head.activation)
        self.check_budget()
        return x

    # --- checks ---------------------------------------------------------------------------

    def totals(self) -> tuple[int, int, int, int]:
        """(parameters, activation values, layers, longest chain of layers) so far."""
        return self.params, self.activation_values, len(self.layers), self.longest_chain

    def check_budget(
        self, repeats: int = 0, since: tuple[int, int, int, int] = (0, 0, 0, 0)
    ) -> None:
        """Stop if the model is over a limit.

        The model counted is what exists so far plus `repeats` more copies of what was added
        since the totals `since`.
        """
        now = self.totals()
        params, values, layers, chain = (
            n + repeats * (n - s) for n, s in zip(now, since, strict=True)
        )
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
            (chain, MAX_LAYER_CHAIN, f"a chain of {chain:,} layers from input to output",
             f"{MAX_LAYER_CHAIN:,}, beyond which Keras cannot load it (it recurses once per "
             "layer, and Python stops it)", "reduce the depth of the stages", "too-deep-for-keras"),
        )  # fmt: skip
        for amount, limit, what, shown_limit, hint, code in checks:
            if amount > limit:
                raise self.fail(
                    self.path,
                    f"the model would have {what}, over the limit of {shown_limit}",
                    hint=hint,
                    code=code,
                )

    def check_settings(self) -> None:
        """Warnings for legal but suspicious choices, errors for contradictory ones."""
        spec = self.spec
        shortcut = spec.residual.shortcut
        if shortcut.source == "preact" and not any(s.preactivation for s in spec.stages):
            self.report(
                ("residual", "shortcut", "source"),
                "'preact' needs pre-activation blocks, but every stage uses a "
                "post-activation block",
                hint="use source: input with basic/bottleneck blocks",
                code="contradiction",
            )
        uses_downsample = any(b.shortcut == "maxpool" for b in self.blocks)
        if (
            "downsample" in shortcut.model_fields_set
            and not uses_downsample
            and shortcut.downsample == "maxpool"
        ):
            self.report(
                ("residual", "shortcut", "downsample"),
                "no block downsamples without projecting, so this setting has no effect",
                hint="it applies to strided blocks without a projection: stride_at: last "
                "with when: first_block, or kind: identity",
                severity="warning",
                code="unused",
                key=True,
            )
        if "dense_activation" in spec.head.model_fields_set and not spec.head.dense:
            self.report(
                ("head", "dense_activation"),
                "there are no hidden dense layers, so this setting has no effect",
                severity="warning",
                code="unused",
                key=True,
            )
        if spec.head.classes == 1 and spec.head.activation == "softmax":
            self.report(
                ("head", "activation"),
                "softmax over a single class always outputs 1",
                hint="use activation: sigmoid for one class, or give classes: 2",
                severity="warning",
                code="single-class-softmax",
            )
        if spec.stem.norm and spec.stages[0].preactivation:
            self.report(
                ("stem", "norm"),
                "the stem ends in BN -> ReLU and the first pre-activation block starts with "
                "BN -> ReLU again",
                hint="pre-activation networks usually set stem.norm: false",
                severity="warning",
                code="redundant-norm",
            )


class BlockBuilder:
    """What a block definition sees: its arguments and layer helpers that name, bind and scope."""

    def __init__(
        self,
        graph: GraphBuilder,
        name: str,
        stage_index: int,
        index: int,
        stage: StageBase,
        filters: int,
        stride: int,
        x: str,
    ) -> None:
        self.graph = graph
        self.name = name
        self.stage_index = stage_index
        self.index = index
        self.stage = stage
        self.input = x
        self.filters = Arg("filters", filters)
        self.stride_value = stride
        # An unstrided block writes no stride at all (like the seed's res_identity).
        self.stride: int | Arg = Arg("stride", stride) if stride > 1 else 1
        self.spec = graph.spec
        self.first_layer = len(graph.layers)
        self.in_channels = graph.shapes[x][-1]
        expansion = getattr(stage, "expansion", 1)
        self.out_channels = self.filters * expansion
        self.shortcut_kind = self.resolve_shortcut()

    @property
    def preact_shared(self) -> bool:
        """Whether the shortcut reads the pre-activation output (then it is a named branch)."""
        return self.spec.residual.shortcut.source == "preact" and self.shortcut_kind in (
            "conv",
            "avgpool_conv",
        )

    @property
    def shortcut_first(self) -> bool:
        """Whether the shortcut is built first and is the Add's first input."""
        return self.spec.residual.shortcut.order == "shortcut_first"

    def resolve_shortcut(self) -> str:
        """Which shortcut this block has, by the spec's rules; errors if shapes cannot match."""
        settings = self.spec.residual.shortcut
        stride = self.stride_value
        channels_change = self.in_channels != self.out_channels.value
        changes = stride > 1 or channels_change
        projects = self.index == 0 if settings.when == "first_block" else changes
        kind = settings.kind if projects or stride > 1 else "identity"
        # A strided block without a projection subsamples with MaxPooling2D(1, stride).
        if stride > 1 and settings.downsample == "maxpool" and (not projects or kind == "identity"):
            kind = "maxpool"
        if kind in ("identity", "maxpool") and channels_change:
            raise self.graph.fail(
                ("stages", self.stage_index, "filters"),
                f"{self.name} changes channels from {self.in_channels} to "
                f"{self.out_channels.value}, but its shortcut is {kind}, so the add cannot match",
                hint="use residual.shortcut.kind: conv, or keep the channels equal",
                code="channel-mismatch",
            )
        if kind == "identity" and stride > 1:
            raise self.graph.fail(
                ("stages", self.stage_index, "stride"),
                f"{self.name} downsamples by {stride} but its shortcut is identity, so the add "
                "cannot match",
                hint="use residual.shortcut.kind: conv, or downsample: maxpool",
                code="shape-mismatch",
            )
        return kind

    # helpers: each creates one layer named f"{block}_{local}" with Args bound to expressions

    def _meta(self, local: str, branch: Branch, bindings: dict[str, str]) -> dict[str, Any]:
        return {"block": self.name, "local": local, "branch": branch, "bindings": bindings}

    def conv(
        self,
        local: str,
        x: str,
        filters: int | Arg,
        kernel: int,
        stride: int | Arg = 1,
        *,
        bias: bool,
        groups: int = 1,
        branch: Branch = "main",
    ) -> str:
        """A conv in the spec's padding style (explicit padding adds a pad layer before it)."""
        bindings = {
            k: v.expr for k, v in (("filters", filters), ("strides", stride)) if isinstance(v, Arg)
        }
        head, _, tail = local.rpartition("conv")
        return self.graph.conv(
            f"{self.name}_{local}",
            x,
            _value(filters),
            kernel,
            _value(stride),
            bias=bias,
            groups=groups,
            pad_meta=self._meta(f"{head}pad{tail}", branch, {}),
            **self._meta(local, branch, bindings),
        )

    def batch_norm(self, local: str, x: str, branch: Branch = "main") -> str:
        """BatchNormalization."""
        return self.graph.batch_norm(f"{self.name}_{local}", x, **self._meta(local, branch, {}))

    def relu(self, local: str, x: str, branch: Branch = "main") -> str:
        """ReLU."""
        return self.graph.relu(f"{self.name}_{local}", x, **self._meta(local, branch, {}))

    def add(self, main: str, shortcut: str) -> str:
        """The residual add, inputs in the spec's order."""
        inputs = (shortcut, main) if self.shortcut_first else (main, shortcut)
        name = f"{self.name}_add"
        shapes = {self.graph.shapes[main], self.graph.shapes[shortcut]}
        if len(shapes) > 1:
            raise self.graph.fail(
                ("stages", self.stage_index),
                f"{name}: the main path gives {self.graph.shapes[main]} but the shortcut gives "
                f"{self.graph.shapes[shortcut]}",
                hint="use 'same' padding or sizes the strides divide evenly",
                code="shape-mismatch",
            )
        shape = self.graph.shapes[main]
        return self.graph.add(name, "add", inputs, {}, shape, **self._meta("add", "main", {}))

    def shortcut(self, x: str, preact: str | None, *, norm: bool = False) -> str:
        """The shortcut branch; `norm` adds BN after a projection (post-activation blocks)."""
        kind = self.shortcut_kind
        bias = self.spec.conv.bias.shortcut
        if kind == "identity":
            return x
        if kind == "maxpool":
            # MaxPooling2D(1, stride) subsamples; keras.applications applies it to the input.
            bindings = {"strides": "stride"}
            return self.graph.pool(
                f"{self.name}_shortcut_pool",
                x,
                "max",
                1,
                self.stride_value,
                "valid",
                **self._meta("shortcut_pool", "shortcut", bindings),
            )
        source = preact if preact is not None and self.preact_shared else x
        stride: int | Arg = self.stride
        if kind == "avgpool_conv":
            if self.stride_value > 1:
                bindings = {"size": "stride", "strides": "stride"}
                source = self.graph.pool(
                    f"{self.name}_shortcut_pool",
                    source,
                    "avg",
                    self.stride_value,
                    self.stride_value,
                    "same",
                    **self._meta("shortcut_pool", "shortcut", bindings),
                )
            stride = 1
        out = self.conv(
            "shortcut_conv", source, self.out_channels, 1, stride, bias=bias, branch="shortcut"
        )
        if norm:
            out = self.batch_norm("shortcut_bn", out, branch="shortcut")
        return out

    def finish(self, output: str) -> str:
        """Record the block; return its output."""
        self.graph.blocks.append(
            Block(
                name=self.name,
                kind=self.stage.block,
                shortcut=self.shortcut_kind,
                stage=self.stage_index + 1,
                index=self.index + 1,
                args=frozen_mapping({"filters": self.filters.value, "stride": self.stride_value}),
                input=self.input,
                output=output,
                layers=tuple(layer.name for layer in self.graph.layers[self.first_layer :]),
            )
        )
        return output


def _nearest_divisor(n: int, near: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - near), -d))
