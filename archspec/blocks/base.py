"""Block types: each one self-registering unit, its spec model and how it lowers to layers.

A block type is a subclass of `StageSpec` whose `block` field is a `Literal` of its name.
Defining the class registers it. The discriminated union of `Spec.stages`, the JSON Schema,
the generated code, inspect, diff, graph and the tests' strategies all read this registry, so
a new block type touches nothing else. The class's docstring documents the block (it becomes
the generated function's docstring); its fields, with their descriptions, are the stage's keys.

How a block lowers is its `lower_block` method, written against the block-authoring API of
`archspec.blocks.builder.BlockBuilder`; a type whose stages need more than a row of blocks
(a transition before them, a pool after them) overrides `lower_stage`.

Every block type also gets per-block settings for free: a stage's `blocks` list overrides
the stage's own fields block by block (MobileNetV3's table varies the kernel, the expansion
and the activation within a stage). Its items are a model derived from the block type's
fields, so they are validated, located and in the schema like any field; `lower_block` runs
on the stage's settings with the block's overrides applied.
"""

from __future__ import annotations

import typing
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, create_model, model_validator
from pydantic.fields import FieldInfo

from archspec.fields import Depth, Filters, Model, Stride

if TYPE_CHECKING:
    from archspec.blocks.builder import BlockBuilder, StageBuilder


MAX_BLOCK_SETTINGS = 1000
STAGE_WIDE_FIELDS = ("block", "filters", "depth", "stride", "blocks")
"""Fields that belong to the whole stage, so a block cannot override them."""
BLOCKS_DESCRIPTION = (
    "Per-block settings, in block order: each item overrides the stage's own fields for one "
    "block (those after the list use the stage's). Not block, filters, depth or stride."
)


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
    depth: Depth = Field(
        1, description="Number of blocks in the stage; the length of `blocks` if that is given."
    )
    stride: Stride = Field(1, description="Downsampling factor of the stage.")
    blocks: tuple[Any, ...] = Field(
        (),
        max_length=MAX_BLOCK_SETTINGS,
        description=BLOCKS_DESCRIPTION,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if block_type_of(cls) is not None:
            cls.model_fields["blocks"] = FieldInfo.from_annotated_attribute(
                tuple[block_settings_model(cls), ...],  # type: ignore[misc, arg-type]
                Field((), max_length=MAX_BLOCK_SETTINGS, description=BLOCKS_DESCRIPTION),
            )
            if cls.__pydantic_complete__:  # built already: build again with the new field
                cls.model_rebuild(force=True)
            # Otherwise (`defer_build`, see `archspec.fields.Model`) the first use builds it,
            # with the field as set here.
            register(cls)

    @model_validator(mode="before")
    @classmethod
    def _depth_from_blocks(cls, data: Any) -> Any:
        """A stage that lists its blocks has as many, unless it says otherwise."""
        if isinstance(data, dict) and "depth" not in data and isinstance(data.get("blocks"), list):
            return {**data, "depth": max(1, len(data["blocks"]))}
        return data

    def block_spec(self, index: int) -> StageSpec:
        """The settings of block `index` (from 0): the stage's, with its `blocks` overrides."""
        if index >= len(self.blocks):
            return self
        override = self.blocks[index]
        return self.model_copy(
            update={key: getattr(override, key) for key in override.model_fields_set}
        )

    @property
    def width_divisor(self) -> int:
        """Widths of this stage stay multiples of this when scaled (a grouped conv's groups)."""
        return 1

    def problems(self) -> Iterator[StageProblem]:
        """Semantic errors of this stage's settings (pydantic has checked each value)."""
        return iter(())

    def lower_stage(self, stage: StageBuilder, x: str) -> str:
        """Lower the whole stage: by default, its blocks in a row.

        `stage.depth` is the depth after the spec's `depth_multiplier`; `stage.block(i, x)`
        lowers block i by its own settings (`block_spec`).
        """
        for index in range(stage.depth):
            x = stage.block(index, x)
        return x

    @abstractmethod
    def lower_block(self, b: BlockBuilder, x: str) -> str:
        """Emit one block's layers through `b`, reading `x`; return the block's output.

        `self` holds this block's settings: the stage's, with its per-block overrides.
        """


# --- per-block settings -------------------------------------------------------------------------


def block_settings_model(stage: type[StageSpec]) -> type[Model]:
    """The model of one item of a stage's `blocks`: the stage's own fields, each optional.

    A field keeps its type, bounds and description, so a per-block value is checked like the
    stage's; what an item leaves out keeps the stage's value.
    """
    fields: dict[str, Any] = {
        name: (
            info.annotation
            if not info.metadata
            else typing.Annotated[info.annotation, *info.metadata],
            Field(None, description=info.description),
        )
        for name, info in stage.model_fields.items()
        if name not in STAGE_WIDE_FIELDS
    }
    settings = create_model(f"{stage.__name__}Block", __base__=Model, **fields)
    settings.__doc__ = f"One block's settings in a `{block_type_of(stage)}` stage."
    return settings


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
