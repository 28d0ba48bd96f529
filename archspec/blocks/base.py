"""Block types: each one self-registering unit, its spec model and how it lowers to layers.

A block type is a subclass of `StageSpec` whose `block` field is a `Literal` of its name.
Defining the class registers it. The discriminated union of `Spec.stages`, the JSON Schema,
the generated code, inspect, diff, graph and the tests' strategies all read this registry, so
a new block type touches nothing else. The class's docstring documents the block (it becomes
the generated function's docstring); its fields, with their descriptions, are the stage's keys.

How a block lowers is its `lower_block` method, written against the block-authoring API of
`archspec.blocks.builder.BlockBuilder`; a type whose stages need more than a row of blocks
(a transition before them, a pool after them) overrides `lower_stage`.
"""

from __future__ import annotations

import typing
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from archspec.fields import Depth, Filters, Model, Stride

if TYPE_CHECKING:
    from archspec.blocks.builder import BlockBuilder, StageBuilder


@dataclass(frozen=True)
class StageProblem:
    """A semantic error in a stage's settings, found before its blocks are lowered."""

    field: str
    message: str
    hint: str
    code: str


class StageSpec(Model):
    """What every stage has: its block type, width, number of blocks and downsampling."""

    preactivation: ClassVar[bool] = False
    """Whether the block starts with BN -> ReLU (pre-activation, He et al. 2016)."""

    block: str = Field(description="The block type; each block type narrows it to its name.")
    filters: Filters = Field(description="Width of the block's convs (the bottleneck width).")
    depth: Depth = 1
    stride: Stride = Field(1, description="Downsampling factor of the stage.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if block_type_of(cls) is not None:
            register(cls)

    @property
    def width_divisor(self) -> int:
        """Widths of this stage stay multiples of this when scaled (a grouped conv's groups)."""
        return 1

    def problems(self) -> Iterator[StageProblem]:
        """Semantic errors of this stage's settings (pydantic has checked each value)."""
        return iter(())

    def lower_stage(self, stage: StageBuilder, x: str) -> str:
        """Lower the whole stage: by default, `depth` blocks in a row."""
        for index in range(self.depth):
            x = stage.block(index, x, self.lower_block)
        return x

    @abstractmethod
    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Emit one block's layers through `b`, reading `x`; return the block's output."""


# --- the registry -----------------------------------------------------------------------------

_REGISTRY: dict[str, type[StageSpec]] = {}
_LISTENERS: list[Callable[[], None]] = []


def block_type_of(model: type[StageSpec]) -> str | None:
    """The block type a stage model defines: its `block` Literal, or None for a base class."""
    info = model.model_fields.get("block")
    if info is None or typing.get_origin(info.annotation) is not typing.Literal:
        return None
    (name,) = typing.get_args(info.annotation)
    return str(name)


def register(model: type[StageSpec]) -> None:
    """Add a block type (defining a `StageSpec` subclass does this); each name once."""
    name = block_type_of(model)
    if name is None:
        raise TypeError(f"{model.__name__} has no `block: Literal[...]` field")
    if name in _REGISTRY and _REGISTRY[name] is not model:
        raise TypeError(f"block type {name!r} is defined twice")
    _REGISTRY[name] = model
    _changed()


def unregister(name: str) -> None:
    """Remove a block type (for tests that define one of their own)."""
    del _REGISTRY[name]
    _changed()


def on_change(listener: Callable[[], None]) -> None:
    """Call `listener` whenever a block type is added or removed (the Spec model rebuilds)."""
    _LISTENERS.append(listener)


def _changed() -> None:
    for listener in _LISTENERS:
        listener()


def block_types() -> tuple[str, ...]:
    """The registered block type names, in the order they were defined."""
    return tuple(_REGISTRY)


def stage_models() -> tuple[type[StageSpec], ...]:
    """The registered stage models, in the order they were defined."""
    return tuple(_REGISTRY.values())


def stage_model(name: str) -> type[StageSpec]:
    """The stage model of a block type."""
    return _REGISTRY[name]
