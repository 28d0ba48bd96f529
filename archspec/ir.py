"""The resolved IR: a flat, ordered list of layers with everything a backend or a report needs.

No framework is imported here. Every layer carries its explicit name, its op (an entry of
`archspec.ops`), its attributes, its inputs, its output shape, its parameter count and its
cost, so `inspect`, `diff` and `graph` need nothing else, and the Keras and Python backends
only translate.

Layers that belong to a block also say which block and which branch of it, and `bindings` say
which attributes come from the block's arguments (`filters * 4`, as data): the Python backend
writes one function per kind of block from that, instead of from a second description of the
blocks. A block carries its own documentation, so nothing downstream reads the spec models.

A model may take images of any height and width (`input.shape: [null, null, 3]`): its shapes
then hold None where Keras's do, and each layer also carries its `nominal` shape, at the
spec's nominal input size, where MACs and activation memory are counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar, cast

V = TypeVar("V")

BYTES_PER_VALUE = 4
"""Activation memory is counted in float32."""


def frozen_mapping(values: Mapping[str, V] | None = None) -> Mapping[str, V]:
    """A read-only copy of `values`, for attributes that must not change after lowering."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class Binding:
    """An attribute whose value is a block argument times a whole factor: `filters * 4`."""

    arg: str
    factor: int = 1


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of the network, fully resolved."""

    name: str
    op: str
    """The op's name in `archspec.ops.OPS`."""
    inputs: tuple[str, ...]
    attrs: Mapping[str, object]
    shape: tuple[int | None, ...]
    """Output shape of one sample (no batch axis); None where it depends on the input size."""
    params: int
    trainable_params: int
    macs: int
    """Multiply-accumulates of conv and dense layers, per sample (see `archspec.cost`)."""
    scope: str
    """'input', 'stem', 'stage1'..'stageN' or 'head'."""
    block: str | None = None
    """Name of the block this layer belongs to, if any."""
    local: str = ""
    """The layer's name inside its block ('conv1'); equal to `name` outside blocks."""
    branch: str = "main"
    """Which path of its block the layer is on: 'main', or a side path ('shortcut', 'se')."""
    bindings: Mapping[str, Binding] = field(default_factory=lambda: frozen_mapping())
    """attribute -> the block argument it is bound to: {'filters': Binding('filters', 4)}."""
    nominal: tuple[int, ...] | None = None
    """Where `shape` holds None: the output shape at the nominal input size."""
    is_layer: bool = True
    """False for a `keras.ops` call (`x + 3.0`, ConvNeXt's `x + y`): a graph node Keras does
    not count as a layer."""
    group: str | None = None
    """The sequential group this layer belongs to, if any: consecutive layers, each reading
    the one before, that a backend wraps as one module (a `keras.Sequential` of this name, one
    entry in `model.layers`). Every layer still counts on its own in the IR's figures."""

    @property
    def sized_shape(self) -> tuple[int, ...]:
        """The output shape with every size known: `shape`, or the nominal one."""
        if self.nominal is not None:
            return self.nominal
        return cast(tuple[int, ...], self.shape)  # no None: the size is fixed

    @property
    def activation_values(self) -> int:
        """Number of values this layer outputs per sample (at the nominal input size)."""
        count = 1
        for size in self.sized_shape:
            count *= size
        return count


@dataclass(frozen=True, slots=True)
class Block:
    """One block: its type and form, its documentation, its arguments, its layers in order."""

    name: str
    kind: str
    """The block type (`block:` of its stage)."""
    variant: str
    """What tells apart blocks of one type that differ in structure ('conv', 'identity' for
    a residual block's shortcut); empty when the type has one form."""
    summary: str
    """That form in words for reports ('conv shortcut'); empty when there is one form."""
    doc: str
    """Documentation of this form of the block: its type's, then its variant's."""
    stage: int
    index: int
    """Position in its stage, from 1; 0 for a transition (layers besides the stage's blocks)."""
    args: Mapping[str, int | float]
    """The block's arguments in order (filters, stride, ...): what bindings refer to."""
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
    def layer_count(self) -> int:
        """Layers as Keras counts them, `len(model.layers)`.

        The input counts, a sequential group counts as one, keras.ops calls do not.
        """
        groups = {layer.group for layer in self.layers if layer.group is not None}
        return len(groups) + sum(layer.is_layer and layer.group is None for layer in self.layers)

    @property
    def depth(self) -> int:
        """The number of layers on the longest path from the input to the output.

        Keras maps a functional model's graph recursively, one Python call per layer on this
        path, so a deep network needs more than Python's default recursion limit.
        """
        longest: dict[str, int] = {}
        for layer in self.layers:
            longest[layer.name] = 1 + max((longest[name] for name in layer.inputs), default=0)
        return longest[self.output]

    @property
    def recursion_limit(self) -> int:
        """A Python recursion limit under which Keras can build this graph.

        Two calls per layer on the longest path, and 1,000 for what is on the stack already.
        """
        return 1000 + 2 * self.depth

    @property
    def input(self) -> Layer:
        """The input layer."""
        return self.layers[0]

    @property
    def variable_size(self) -> bool:
        """Whether the model takes images of any height or width (shapes hold None)."""
        return self.input.nominal is not None

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
