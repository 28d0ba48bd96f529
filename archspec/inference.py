"""IR -> IR: the graph a trained network runs for inference, computing the same outputs.

Two rewrites, both exact in real arithmetic and within float32 rounding in practice:

- A BatchNormalization that directly follows a conv whose output nothing else reads is
  folded into that conv. At inference BN is a per-channel affine map,
  `y = gamma * (x - mean) / sqrt(var + eps) + beta`, and a conv is linear per output channel,
  so the conv's kernel scaled by `s = gamma / sqrt(var + eps)` and a bias of
  `s * (bias - mean) + beta` compute both at once. Which ops take a BN in is the op table's
  `fold_axes` (conv2d and depthwise_conv2d); a conv with an activation of its own does not.
- A layer that is the identity at inference (the op table's `identity_at_inference`: dropout,
  drop path, a linear activation) is dropped; its readers read its input.

BNs that do not follow a conv stay: a pre-activation block's BN reads the previous add, and
ReLU between it and the next conv keeps it from folding forward. Names, blocks, stages and
scopes are kept, so inspect, the diagrams and the code generator work on the result as on any
graph. The new weights are computed by the backend from the training model's
(`archspec.backends.keras.fold_model`), which this plan tells what to fold into what.
No framework is imported here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from archspec.ir import Block, Graph, Layer, frozen_mapping
from archspec.ops import op_of

__all__ = ["Fold", "InferencePlan", "plan_inference"]

INFERENCE_NOTE = (
    "Built for inference: every BatchNormalization that directly follows a conv is folded "
    "into that conv (which gains a bias), and layers that are the identity at inference "
    "(dropout, drop path) are left out. Its weights are computed from the training model's."
)
"""Said in the inference graph's description, so generated code documents what it is."""


@dataclass(frozen=True, slots=True)
class Fold:
    """A BatchNormalization folded into the conv whose output it normalized."""

    conv: str
    norm: str


@dataclass(frozen=True)
class InferencePlan:
    """The training graph, the inference graph, and what turned one into the other."""

    training: Graph
    graph: Graph
    """The inference graph: convs with the BN folded in, identity layers gone."""
    folds: tuple[Fold, ...]
    dropped: tuple[str, ...]
    """Layers left out as the identity at inference."""

    @property
    def removed(self) -> frozenset[str]:
        """Every training layer that the inference graph does not have."""
        return frozenset((*self.dropped, *(fold.norm for fold in self.folds)))

    def summary(self) -> str:
        """What the rewrite did, in one line for reports."""
        fewer = self.training.params - self.graph.params
        return (
            f"for inference: {len(self.folds)} BatchNormalization folded into the conv before "
            f"it, {len(self.dropped)} identity layer(s) left out; {len(self.training)} -> "
            f"{len(self.graph)} layers, {fewer:,} fewer parameters"
        )


def _folds_into(conv: Layer, norm: Layer, readers: list[str], output: str) -> bool:
    """Whether `norm` (a BN reading `conv`) folds into `conv`: a linear conv only it reads."""
    return (
        norm.op == "batch_norm"
        and op_of(conv.op).fold_axes > 0
        and conv.attrs.get("activation", "linear") == "linear"
        and readers == [norm.name]
        and conv.name != output
    )


def _with_bias(conv: Layer, graph: Graph) -> Layer:
    """`conv` with use_bias on, its parameter counts recomputed from the op table."""
    attrs = {**conv.attrs, "use_bias": True}
    inputs = [graph[source].shape for source in conv.inputs]
    params, trainable = op_of(conv.op).params(attrs, inputs, conv.shape)
    return dataclasses.replace(
        conv, attrs=frozen_mapping(attrs), params=params, trainable_params=trainable
    )


def plan_inference(graph: Graph) -> InferencePlan:
    """Fold BNs into the convs before them and drop identity layers; see the module doc."""
    dropped = [
        layer.name
        for layer in graph.layers[1:]
        if len(layer.inputs) == 1 and op_of(layer.op).is_identity_at_inference(layer.attrs)
    ]
    replacement = {name: graph[name].inputs[0] for name in dropped}  # -> whose value it was

    def resolve(name: str) -> str:
        while name in replacement:
            name = replacement[name]
        return name

    # Who reads what once the identities are gone: a conv -> dropout -> BN folds too.
    readers: dict[str, list[str]] = {layer.name: [] for layer in graph}
    for layer in graph:
        if layer.name not in replacement:
            for source in layer.inputs:
                readers[resolve(source)].append(layer.name)
    folds: list[Fold] = []
    output = resolve(graph.output)
    for layer in graph.layers[1:]:
        if layer.name in replacement or len(layer.inputs) != 1:
            continue
        conv = graph[resolve(layer.inputs[0])]
        if _folds_into(conv, layer, readers[conv.name], output):
            replacement[layer.name] = conv.name
            folds.append(Fold(conv=conv.name, norm=layer.name))

    folded = {fold.conv for fold in folds}
    layers: list[Layer] = []
    for layer in graph.layers:
        if layer.name in replacement:
            continue
        inputs = tuple(resolve(source) for source in layer.inputs)
        if inputs != layer.inputs:
            layer = dataclasses.replace(layer, inputs=inputs)
        if layer.name in folded and not layer.attrs["use_bias"]:
            layer = _with_bias(layer, graph)
        layers.append(layer)

    blocks: list[Block] = []
    for block in graph.blocks:
        kept = tuple(name for name in block.layers if name not in replacement)
        if kept:  # a block of identity layers only would vanish with them
            blocks.append(
                dataclasses.replace(
                    block, layers=kept, input=resolve(block.input), output=resolve(block.output)
                )
            )
    kept_blocks = {block.name for block in blocks}
    stages = tuple(
        dataclasses.replace(stage, blocks=tuple(b for b in stage.blocks if b in kept_blocks))
        for stage in graph.stages
    )
    description = (
        f"{graph.description}\n\n{INFERENCE_NOTE}" if graph.description else INFERENCE_NOTE
    )
    inference = Graph(
        name=graph.name,
        description=description,
        layers=tuple(layers),
        blocks=tuple(blocks),
        stages=stages,
        output=resolve(graph.output),
    )
    return InferencePlan(graph, inference, tuple(folds), tuple(dropped))
