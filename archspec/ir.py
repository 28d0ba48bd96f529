"""The resolved IR: a flat, ordered list of layers with everything a backend or a report needs.

No framework is imported here. Every layer carries its explicit name, its attributes, its
inputs, its output shape, its parameter count and its cost, so `inspect`, `diff` and `graph`
need nothing else, and the Keras and Python backends only translate.

Layers that belong to a residual block also say which block, and `bindings` say which
attributes come from the block's arguments (`filters * 4`): the Python backend writes one
function per kind of block from that, instead of from a second description of the blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Op = Literal[
    "input",
    "conv2d",
    "batch_norm",
    "relu",
    "add",
    "zero_pad",
    "max_pool",
    "avg_pool",
    "global_avg_pool",
    "global_max_pool",
    "flatten",
    "dense",
    "dropout",
]
Branch = Literal["main", "preact", "shortcut"]

BYTES_PER_VALUE = 4
"""Activation memory is counted in float32."""


def frozen_mapping(values: Mapping[str, object] | None = None) -> Mapping[str, object]:
    """A read-only copy of `values`, for attributes that must not change after lowering."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of the network, fully resolved."""

    name: str
    op: Op
    inputs: tuple[str, ...]
    attrs: Mapping[str, object]
    shape: tuple[int, ...]
    """Output shape of one sample (no batch axis)."""
    params: int
    trainable_params: int
    macs: int
    """Multiply-accumulates of conv and dense layers, per sample (see `archspec.cost`)."""
    scope: str
    """'input', 'stem', 'stage1'..'stageN' or 'head'."""
    block: str | None = None
    """Name of the residual block this layer belongs to, if any."""
    local: str = ""
    """The layer's name inside its block ('conv1'); equal to `name` outside blocks."""
    branch: Branch = "main"
    bindings: Mapping[str, str] = field(default_factory=frozen_mapping)
    """attribute -> Python expression over the block's arguments: {'filters': 'filters * 4'}."""

    @property
    def activation_values(self) -> int:
        """Number of values this layer outputs per sample."""
        count = 1
        for size in self.shape:
            count *= size
        return count


@dataclass(frozen=True, slots=True)
class Block:
    """One residual block: which kind, its arguments, its layers (in creation order)."""

    name: str
    kind: str
    shortcut: str
    """'identity', 'conv', 'avgpool_conv' or 'maxpool': what this block's shortcut does."""
    stage: int
    index: int
    args: Mapping[str, int]
    input: str
    output: str
    layers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StageInfo:
    """A stage as the spec gave it, and where its blocks are."""

    index: int
    name: str
    block: str
    filters: int
    stride: int
    depth: int
    blocks: tuple[str, ...]

    @property
    def summary(self) -> str:
        """'preact_basic x2, 16 filters, stride 2', as reports, diagrams and code say it."""
        return f"{self.block} x{self.depth}, {self.filters} filters, stride {self.stride}"


@dataclass(frozen=True)
class Graph:
    """The whole network: layers in creation order (every input before its use)."""

    name: str
    description: str
    layers: tuple[Layer, ...]
    blocks: tuple[Block, ...]
    stages: tuple[StageInfo, ...]
    output: str
    _by_name: dict[str, Layer] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {layer.name: layer for layer in self.layers})

    def __repr__(self) -> str:
        return f"Graph({self.name!r}: {len(self.layers)} layers, {self.params:,} parameters)"

    def __getitem__(self, name: str) -> Layer:
        return self._by_name[name]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def input(self) -> Layer:
        """The input layer."""
        return self.layers[0]

    @property
    def params(self) -> int:
        """Total parameters (trainable and not), as Keras's count_params() counts them."""
        return sum(layer.params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        """Trainable parameters."""
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one forward pass of one sample."""
        return sum(layer.macs for layer in self.layers)

    @property
    def activation_bytes(self) -> int:
        """Bytes of all layer outputs of one sample in float32 (what training keeps)."""
        return BYTES_PER_VALUE * sum(layer.activation_values for layer in self.layers)

    def scope_layers(self, scope: str) -> tuple[Layer, ...]:
        """The layers of 'stem', 'stageN' or 'head'."""
        return tuple(layer for layer in self.layers if layer.scope == scope)
