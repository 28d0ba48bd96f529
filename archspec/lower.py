"""Spec -> IR: walk the spec (input, stem, stages, head) and resolve every layer.

No framework is imported. The modules this walk uses each do one job: `archspec.ops` (what
each op computes and costs), `archspec.graph_builder` (accumulating layers and located
diagnostics), `archspec.blocks` (the block types and the block-authoring API),
`archspec.limits` (budgets) and `archspec.consistency` (checks across settings).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Collection
from dataclasses import dataclass

from archspec.blocks.base import StageSpec
from archspec.blocks.builder import StageBuilder
from archspec.consistency import check_settings
from archspec.errors import Diagnosed, Diagnostic, SpecError
from archspec.fields import PaddingStyle
from archspec.graph_builder import GraphBuilder, Stop
from archspec.io import FieldPath
from archspec.ir import Binding, Graph
from archspec.limits import Budget, Limits
from archspec.scaling import scaled_width
from archspec.spec import Spec, Stem, StemPool

__all__ = ["Analysis", "analyze", "lower", "scaled_width"]


@dataclass(frozen=True)
class Analysis(Diagnosed):
    """What lowering found: the graph (None when an error stopped it) and every diagnostic."""

    graph: Graph | None
    diagnostics: tuple[Diagnostic, ...]


def lower(
    spec: Spec, *, input_size: tuple[int, int] | None = None, limits: Limits | None = None
) -> Graph:
    """Lower a validated spec to the IR; raise a located `SpecError` on any semantic error."""
    analysis = analyze(spec, input_size=input_size, limits=limits)
    if analysis.errors or analysis.graph is None:
        raise SpecError(analysis.diagnostics)
    return analysis.graph


def analyze(
    spec: Spec,
    *,
    input_size: tuple[int, int] | None = None,
    limits: Limits | None = None,
    ignore: Collection[str] = (),
) -> Analysis:
    """Lower a spec, collecting every error and warning instead of stopping at the first.

    Warnings whose code the spec's `warnings.ignore` or `ignore` names are left out. The
    diagnostics come in the order of the spec's lines; those about values the spec inherits
    through `extends` are located at its `extends` line (see `SourceMap.relocated`).
    """
    walk = NetworkLowering(spec, Budget(limits or Limits()))
    try:
        graph: Graph | None = walk.run(input_size)
    except Stop:
        graph = None
    if walk.graph.errors:
        graph = None
    silenced = {*spec.warnings.ignore, *ignore}
    diagnostics = [
        d for d in walk.graph.diagnostics if d.severity == "error" or d.code not in silenced
    ]
    if spec._source is not None:
        diagnostics = list(spec._source.relocated(diagnostics))
    return Analysis(graph, tuple(diagnostics))


class NetworkLowering:
    """The walk over one spec: input, stem, each stage's blocks, head."""

    def __init__(self, spec: Spec, budget: Budget) -> None:
        self.spec = spec
        self.budget = budget
        self.graph = GraphBuilder(spec)

    def run(self, input_size: tuple[int, int] | None) -> Graph:
        """Lower stem, stages and head; return the graph."""
        spec, graph = self.spec, self.graph
        height, width, channels = spec.input.shape
        if input_size is not None:
            height, width = input_size
        nominal = spec.input.nominal_size
        sized = (nominal[0] if height is None else height, nominal[1] if width is None else width)
        graph.scope, graph.path = "input", ("input", "shape")
        x = graph.input("input", (height, width, channels), (*sized, channels))
        x = self.preprocess(x)
        self.budget.check(graph)
        if spec.stem is not None:
            x = self.stem(x, spec.stem)
        for index in range(len(spec.stages)):
            x = self.stage(index, x)
        x = self.head(x)
        check_settings(graph)
        return Graph(
            name=spec.name,
            description=spec.description,
            layers=tuple(graph.layers),
            blocks=tuple(graph.blocks),
            stages=tuple(graph.stages),
            output=x,
        )

    def preprocess(self, x: str) -> str:
        """The preprocessing layers inside the model: Rescaling, then Normalization."""
        spec, graph = self.spec, self.graph
        rescale, normalize = spec.input.rescale, spec.input.normalize
        if rescale is not None:
            graph.path = ("input", "rescale")
            attrs = {"scale": rescale.scale, "offset": rescale.offset}
            x = graph.add("input_rescale", "rescaling", (x,), attrs)
        if normalize is not None:
            graph.path = ("input", "normalize")
            channels = spec.input.shape[-1]
            given: dict[str, tuple[float, ...] | None] = {
                "mean": normalize.mean,
                "std": normalize.std,
            }
            for key, values in given.items():
                if values is not None and len(values) != channels:
                    raise graph.fail(
                        ("input", "normalize", key),
                        f"{len(values)} values for an input of {channels} channels",
                        hint="give one value per input channel",
                        code="channel-mismatch",
                    )
            if (normalize.mean is None) != (normalize.std is None):
                missing = "std" if normalize.std is None else "mean"
                raise graph.fail(
                    ("input", "normalize"),
                    f"a mean needs a std and a std a mean; '{missing}' is missing",
                    hint="give both, or neither to make them weights (set by adapt())",
                    code="contradiction",
                )
            variance = None if normalize.std is None else tuple(s**2 for s in normalize.std)
            moments = {"mean": normalize.mean, "variance": variance}
            x = graph.add("input_normalize", "normalization", (x,), moments)
        return x

    def stem(self, x: str, stem: Stem) -> str:
        """The stem convs, their norm -> activation, and the optional pool."""
        spec, graph = self.spec, self.graph
        graph.scope, graph.path = "stem", ("stem",)
        bias = spec.conv.bias.stem
        style = stem.padding or spec.conv.padding
        count = len(stem.filters)
        if stem.kernel % 2 == 0 and (count > 1 or stem.kernel > stem.stride):
            raise graph.fail(
                ("stem", "kernel"),
                f"an even kernel of {stem.kernel} needs asymmetric padding"
                + (" in a deep stem" if count > 1 else f" with stride {stem.stride}"),
                hint="use an odd kernel, or one conv whose kernel is no larger than its stride "
                "(a patchify stem: kernel 4, stride 4)",
                code="even-kernel",
            )
        with graph.sequential("stem") if spec.keras.sequential_stem else contextlib.nullcontext():
            for i, filters in enumerate(stem.filters, start=1):
                suffix = str(i) if count > 1 else ""
                stride = stem.stride if i == 1 else 1
                graph.path = ("stem", "stride") if stride > 1 else ("stem", "filters")
                width = scaled_width(filters, spec.width_multiplier, rounding=spec.width_rounding)
                x = graph.conv(
                    f"stem_conv{suffix}", x, width, stem.kernel, stride, bias=bias, style=style
                )
                if i < count or stem.norm:
                    x = graph.norm(f"stem_bn{suffix}", x)
                    if i < count or stem.activation:
                        x = graph.act(f"stem_relu{suffix}", x)
            if stem.pool is not None:
                x = self.stem_pool(x, stem.pool, style)
        self.budget.check(graph)
        return x

    def stem_pool(self, x: str, pool: StemPool, style: PaddingStyle) -> str:
        """The pool after the stem convs, in its padding style (the stem's unless given)."""
        graph = self.graph
        graph.path = ("stem", "pool")
        pool_style = pool.padding or style
        if pool_style in ("explicit", "torch") and pool.size % 2 == 0:
            raise graph.fail(
                ("stem", "pool", "size"),
                f"{pool_style} padding pads (size - 1) // 2 on every side, which cannot "
                f"center an even pool of {pool.size}",
                hint="use an odd pool size, or padding: same",
                code="even-window",
            )
        return graph.pool("stem_pool", x, pool.kind, pool.size, pool.stride, pool_style)

    def stage(self, index: int, x: str) -> str:
        """One stage, as its block type lowers it; the budget is checked after each block."""
        graph = self.graph
        stage = self.spec.stages[index]
        # No path here: each block and transition sets its own before it adds a layer.
        graph.scope = f"stage{index + 1}"
        if len(stage.blocks) > stage.depth:
            raise graph.fail(
                ("stages", index, "blocks"),
                f"settings for {len(stage.blocks)} blocks in a stage of depth {stage.depth}",
                hint=f"give depth: {len(stage.blocks)}, or leave depth out",
                code="too-many-blocks",
            )
        self.check_problems(index, stage)
        spec = self.spec
        # The scaled width is shared by every block, so it must suit each block's own
        # settings too (a block overriding `groups`).
        overridden = (stage.block_spec(i).width_divisor for i in range(len(stage.blocks)))
        divisor = math.lcm(stage.width_divisor, *overridden)
        filters = scaled_width(stage.filters, spec.width_multiplier, divisor, spec.width_rounding)
        builder = StageBuilder(graph, self.budget, index, stage, filters)
        x = stage.lower_stage(builder, x)
        graph.stages.append(builder.info())
        return x

    def check_problems(self, index: int, stage: StageSpec) -> None:
        """Stop at the first semantic problem of the stage's settings or of a block's own.

        A problem with a setting that a block overrides is located at the override.
        """
        for position, override in enumerate(stage.blocks):
            for problem in stage.block_spec(position).problems():
                if problem.field in override.model_fields_set:
                    path: FieldPath = ("stages", index, "blocks", position, problem.field)
                    raise self.graph.fail(
                        path, problem.message, hint=problem.hint, code=problem.code
                    )
        for problem in stage.problems():
            raise self.graph.fail(
                ("stages", index, problem.field),
                problem.message,
                hint=problem.hint,
                code=problem.code,
            )

    def head(self, x: str) -> str:
        """Top conv, final norm, pooling, hidden layers, dropout and the classifier."""
        spec, graph = self.spec, self.graph
        head = spec.head
        graph.scope, graph.path = "head", ("head",)
        if head.conv is not None:
            top = head.conv
            graph.path = ("head", "conv")
            multiplier = spec.width_multiplier
            scaled = top.scale == "always" or (top.scale == "up" and multiplier > 1)
            filters = (
                scaled_width(top.filters, multiplier, rounding=spec.width_rounding)
                if scaled
                else top.filters
            )
            x = graph.conv("head_conv", x, filters, 1, 1, bias=top.bias)
            if top.norm:
                x = graph.norm("head_conv_bn", x)
            x = graph.activation("head_conv_act", x, top.activation or spec.activation)
            graph.path = ("head",)
        if head.norm:
            x = graph.norm("head_bn", x)
            x = graph.act("head_relu", x)
        as_map = head.classifier == "conv" and head.top
        graph.path = ("head", "pool")
        if head.pool == "none" and head.top:
            raise graph.fail(
                graph.path,
                "a classifier needs pooled features, but pool is none",
                hint="pool: avg, max or flatten; or top: false for the feature map as output",
                code="contradiction",
            )
        if head.pool == "flatten":
            x = graph.add("head_flatten", "flatten", (x,), {})
        elif head.pool != "none":
            x = graph.global_pool("head_pool", x, head.pool, keepdims=as_map)
        graph.path = ("head",)
        if head.pool_norm:  # kept without the top, as keras.applications' ConvNeXt keeps it
            x = graph.norm("head_pool_norm", x)
        if not head.top:  # a backbone: the features are the output, as with include_top=False
            self.budget.check(graph)
            return x
        if head.classes is None:
            raise graph.fail(
                ("head", "classes"),
                "the classifier needs a number of classes",
                hint="give classes: N, or top: false for a backbone without a classifier",
                code="missing",
            )
        for i, units in enumerate(head.dense, start=1):
            graph.path = ("head", "dense", i - 1)
            if as_map:
                x = graph.conv(f"head_dense{i}", x, units, 1, 1, bias=True)
                x = graph.activation(f"head_dense{i}_act", x, head.dense_activation)
            else:
                x = graph.dense(f"head_dense{i}", x, units, head.dense_activation)
        if head.dropout > 0:
            graph.path = ("head", "dropout")
            x = graph.add(
                "head_dropout", "dropout", (x,), {"rate": head.dropout, "noise_shape": None}
            )
        graph.path = ("head", "classes")
        separate = head.activation_layer or as_map
        classes = Binding("classes")  # generated code takes the number of classes as an argument
        if as_map:
            x = graph.conv(
                "classifier", x, head.classes, 1, 1, bias=True, bindings={"filters": classes}
            )
            if head.flatten == "reshape":
                shape = {"target_shape": (head.classes,)}
                x = graph.add(
                    "classifier_reshape", "reshape", (x,), shape, bindings={"target_shape": classes}
                )
            else:
                x = graph.add("classifier_flatten", "flatten", (x,), {})
        else:
            activation = "linear" if separate else head.activation
            x = graph.dense("classifier", x, head.classes, activation, bindings={"units": classes})
        if separate:
            x = graph.activation("classifier_activation", x, head.activation)
        self.budget.check(graph)
        return x
