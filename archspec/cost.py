"""What a network costs, from the IR alone: per stage, per block or per layer, and in total.

The counting rules (see also `archspec.lower`):
- params: as Keras's count_params() counts them; BatchNormalization's moving mean and
  variance are the non-trainable ones.
- MACs: multiply-accumulates of one forward pass of one sample, for conv layers
  (k*k*C_in/groups per output value) and dense layers (one per input per output). Biases,
  normalization, activations, adds, padding and pooling count zero.
- FLOPs: 2 x MACs (one multiply and one add each). Nothing else is counted as a FLOP.
- activation memory: bytes of every layer's output for one sample in float32, the input
  included: what a training step keeps for the backward pass, before any reuse.

A model that takes any height and width (input.shape [null, null, 3]) has shapes with unknown
sizes (shown '?'); its MACs and activation memory are counted at the spec's
`input.nominal_size`, and reports say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from archspec.ir import BYTES_PER_VALUE, Graph, Layer
from archspec.ops import describe_layer, op_of

Depth = Literal["stage", "block", "layer"]


@dataclass(frozen=True)
class CostRow:
    """The cost of one part of the network: a stage, a block, or a layer."""

    name: str
    what: str
    shape: tuple[int | None, ...]
    params: int
    trainable_params: int
    macs: int
    activation_bytes: int
    level: int = 0
    """0 for the stem, stages and head; 1 for blocks; 2 for layers (for indenting)."""

    @property
    def flops(self) -> int:
        """2 x MACs."""
        return 2 * self.macs


def _row(name: str, what: str, layers: Sequence[Layer], level: int = 0) -> CostRow:
    return CostRow(
        name=name,
        what=what,
        shape=layers[-1].shape,
        params=sum(layer.params for layer in layers),
        trainable_params=sum(layer.trainable_params for layer in layers),
        macs=sum(layer.macs for layer in layers),
        activation_bytes=BYTES_PER_VALUE * sum(layer.activation_values for layer in layers),
        level=level,
    )


def describe_layers(layers: Iterable[Layer]) -> str:
    """Layers joined by ' -> ', leaving out pads (they are part of the conv after them)."""
    return " -> ".join(describe_layer(layer) for layer in layers if op_of(layer.op).summarized)


def cost_rows(graph: Graph, depth: Depth = "stage") -> list[CostRow]:
    """Rows for the stem, each stage (then its blocks, then their layers) and the head."""
    inputs = graph.scope_layers("input")  # the input, and preprocessing inside the model
    rows = [_row("input", describe_layers(inputs), inputs)]
    stem = graph.scope_layers("stem")
    if stem:  # a network may have none (VGG)
        rows.append(_row("stem", describe_layers(stem), stem))
    if depth == "layer":
        rows += [_row(layer.name, describe_layer(layer), [layer], 2) for layer in stem]
    blocks = {block.name: block for block in graph.blocks}
    for stage in graph.stages:
        layers = graph.scope_layers(stage.name)
        rows.append(_row(stage.name, stage.summary, layers))
        if depth == "stage":
            continue
        for name in stage.blocks:
            block = blocks[name]
            block_layers = [graph[layer] for layer in block.layers]
            what = f"{block.kind}, {block.summary}" if block.summary else block.kind
            rows.append(_row(name, what, block_layers, 1))
            if depth == "layer":
                rows += [
                    _row(layer.name, describe_layer(layer), [layer], 2) for layer in block_layers
                ]
    head = graph.scope_layers("head")
    if head:  # a backbone may end at its last stage (top: false, pool: none)
        rows.append(_row("head", describe_layers(head), head))
    if depth == "layer":
        rows += [_row(layer.name, describe_layer(layer), [layer], 2) for layer in head]
    return rows


def total_row(graph: Graph) -> CostRow:
    """The whole network."""
    return _row("total", f"{graph.layer_count} layers", graph.layers)


def _row_json(row: CostRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "what": row.what,
        "output_shape": list(row.shape),
        "params": row.params,
        "trainable_params": row.trainable_params,
        "macs": row.macs,
        "activation_bytes": row.activation_bytes,
    }


def graph_json(graph: Graph) -> dict[str, Any]:
    """The documented JSON shape of `archspec inspect --format json`: every depth at once."""
    total = total_row(graph)
    stage_of = {name: stage.name for stage in graph.stages for name in stage.blocks}
    return {
        "name": graph.name,
        "input_shape": list(graph.input.shape),
        "nominal_input_shape": list(graph.input.sized_shape),
        "output_shape": list(graph[graph.output].shape),
        "params": total.params,
        "trainable_params": total.trainable_params,
        "non_trainable_params": total.params - total.trainable_params,
        "macs": total.macs,
        "flops": total.flops,
        "activation_bytes": total.activation_bytes,
        "stages": [_row_json(row) for row in cost_rows(graph, "stage")],
        "blocks": [
            {"stage": stage_of[row.name], **_row_json(row)}
            for row in cost_rows(graph, "block")
            if row.level == 1
        ],
        "layers": [
            {
                "name": layer.name,
                "op": layer.op,
                "scope": layer.scope,
                "block": layer.block,
                "inputs": list(layer.inputs),
                "output_shape": list(layer.shape),
                "params": layer.params,
                "trainable_params": layer.trainable_params,
                "macs": layer.macs,
                "activation_bytes": BYTES_PER_VALUE * layer.activation_values,
                "attributes": dict(layer.attrs),
            }
            for layer in graph
        ],
    }


def format_shape(shape: Sequence[int | None]) -> str:
    """(56, 56, 256) -> '56x56x256'; a size left open (None) is '?'."""
    return "x".join("?" if size is None else str(size) for size in shape)


def nominal_note(graph: Graph) -> str:
    """For a model of any input size, at which size the figures are counted; else ''."""
    if not graph.variable_size:
        return ""
    return (
        f"Input of any size ({format_shape(graph.input.shape)}): MACs and activations are "
        f"counted at the nominal {format_shape(graph.input.sized_shape)} (input.nominal_size; "
        "--input HxW for another size)."
    )


def human_count(value: int) -> str:
    """3482255360 -> '3.48 G'; 1751924 -> '1.75 M'."""
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(value) >= size:
            return f"{value / size:.2f} {unit}"
    return str(value)


def human_bytes(count: int) -> str:
    """Bytes in binary units: '3.1 MiB'."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} TiB"
