"""Checks across settings: errors for contradictory choices, warnings for suspicious ones.

They run after lowering, when the graph shows what each setting actually did (which blocks
downsample without projecting, whether any block is pre-activation).
"""

from __future__ import annotations

from archspec.graph_builder import GraphBuilder


def check_settings(graph: GraphBuilder) -> None:
    """Report settings that contradict each other or have no effect."""
    spec = graph.spec
    shortcut = spec.residual.shortcut
    if shortcut.source == "preact" and not any(s.preactivation for s in spec.stages):
        graph.report(
            ("residual", "shortcut", "source"),
            "'preact' needs pre-activation blocks, but every stage uses a post-activation block",
            hint="use source: input with basic/bottleneck blocks",
            code="contradiction",
        )
    uses_downsample = any(b.variant == "maxpool" for b in graph.blocks)
    if (
        "downsample" in shortcut.model_fields_set
        and not uses_downsample
        and shortcut.downsample == "maxpool"
    ):
        graph.report(
            ("residual", "shortcut", "downsample"),
            "no block downsamples without projecting, so this setting has no effect",
            hint="it applies to strided blocks without a projection: stride_at: last "
            "with when: first_block, or kind: identity",
            severity="warning",
            code="unused",
            key=True,
        )
    _unused_keras_options(graph)
    for index, stage in enumerate(spec.stages):
        se = getattr(stage, "se", None)
        if se is not None and se.width is not None and "ratio" in se.model_fields_set:
            graph.report(
                ("stages", index, "se", "ratio"),
                "a fixed `width` is given, so the ratio has no effect",
                hint="give ratio or width, not both",
                severity="warning",
                code="unused",
                key=True,
            )
    if "nominal_size" in spec.input.model_fields_set and not graph.variable:
        graph.report(
            ("input", "nominal_size"),
            "input.shape fixes the size, so this setting has no effect",
            hint="it applies where input.shape leaves the height or width open (null)",
            severity="warning",
            code="unused",
            key=True,
        )
    if "hard_sigmoid" in spec.keras.model_fields_set and "hard_sigmoid" not in graph.functions:
        graph.report(
            ("keras", "hard_sigmoid"),
            "no layer uses hard_sigmoid, so this setting has no effect",
            hint="it applies to activations and gates that are hard_sigmoid",
            severity="warning",
            code="unused",
            key=True,
        )
    if "dense_activation" in spec.head.model_fields_set and not spec.head.dense:
        graph.report(
            ("head", "dense_activation"),
            "there are no hidden dense layers, so this setting has no effect",
            severity="warning",
            code="unused",
            key=True,
        )
    if spec.head.classes == 1 and spec.head.activation == "softmax":
        stated = "activation" in spec.head.model_fields_set
        graph.report(
            ("head", "activation" if stated else "classes"),
            "softmax over a single class always outputs 1",
            hint="use activation: sigmoid for one class, or give classes: 2",
            severity="warning",
            code="single-class-softmax",
        )
    height, width, channels = spec.input.shape
    if height in CHANNELS_FIRST and (width or 0) >= 16 and channels >= 16:
        graph.report(
            ("input", "shape"),
            f"[{height}, {width}, {channels}] looks channels first: archspec reads [height, "
            f"width, channels], so this is {height} pixels high with {channels} channels",
            hint=f"write [{width}, {channels}, {height}] for {height}-channel images",
            severity="warning",
            code="channels-first",
        )
    # Only a stated `norm: true` warns: no default may (a minimal pre-activation spec keeps
    # the default stem BN -> ReLU, as the seed's resnet22 does). A pool between them
    # (DenseNet's stem) changes what the block normalizes.
    stem = spec.stem
    if (
        stem is not None
        and stem.norm
        and "norm" in stem.model_fields_set
        and stem.pool is None
        and spec.stages[0].preactivation
    ):
        graph.report(
            ("stem", "norm"),
            "the stem ends in BN -> ReLU and the first pre-activation block starts with "
            "BN -> ReLU again",
            hint="pre-activation networks usually set stem.norm: false",
            severity="warning",
            code="redundant-norm",
        )


CHANNELS_FIRST = (1, 3, 4)
"""A first size that is an image's usual channel count: grey, RGB, RGBA."""


def _unused_keras_options(graph: GraphBuilder) -> None:
    """Warn about the stem's activation and the Keras grouping options where nothing uses them."""
    spec = graph.spec
    stem = spec.stem
    if stem is not None and not stem.norm and "activation" in stem.model_fields_set:
        graph.report(
            ("stem", "activation"),
            "the stem has no norm after its last conv, so this setting has no effect",
            hint="it says whether that norm is followed by the activation",
            severity="warning",
            code="unused",
            key=True,
        )
    grouped = {layer.group for layer in graph.layers if layer.group is not None}
    unused = {
        "sequential_stem": (
            spec.keras.sequential_stem and "stem" not in grouped,
            "stem",
            "it wraps the stem's layers; this network has no stem",
        ),
        "sequential_transitions": (
            spec.keras.sequential_transitions and not any(b.index == 0 for b in graph.blocks),
            "transition",
            "transitions are the layers a stage runs besides its blocks (DenseNet's, "
            "ConvNeXt's downsampling, a strided plain stage's pool)",
        ),
    }
    for option, (applies, what, hint) in unused.items():
        if applies:
            graph.report(
                ("keras", option),
                f"there is no {what} to wrap, so this setting has no effect",
                hint=hint,
                severity="warning",
                code="unused",
                key=True,
            )
