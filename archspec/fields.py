"""Value types of the spec language, shared by the network's sections and every block type.

Each type states its bounds once; pydantic enforces them and they reach the JSON Schema.
Numbers are strict (no text, no booleans); a float that is a whole number counts as one,
as JSON Schema's "integer" does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, Strict
from pydantic_core import core_schema


class Model(BaseModel):
    """Base for every spec node: unknown keys are errors and nodes never change.

    Validators are built when a model is first used, not when it is defined: validating a spec
    needs only the `Spec` validator, which includes the others' schemas, and building the
    two dozen others at import took about 15 ms of every command's start-up.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise ValueError(f"must be odd so that 'same' padding is symmetric, got {value}")
    return value


def _integral(value: Any) -> Any:
    # JSON Schema's "integer" includes 16.0; so does the spec language, for agreement.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Whole(GroupedMetadata):
    """A whole number in [ge, le]: no text, no booleans; 16.0 counts as 16.

    Use as `Annotated[int, Whole(1, 8)]`. The conversion wraps the constrained int, so the
    bounds still reach the JSON Schema.
    """

    def __init__(self, ge: int, le: int, description: str | None = None, **extra: Any) -> None:
        self.ge, self.le, self.description, self.extra = ge, le, description, extra

    def __iter__(self) -> Iterator[object]:
        yield Strict()
        yield Field(
            ge=self.ge,
            le=self.le,
            description=self.description,
            json_schema_extra=self.extra or None,
        )
        yield _INTEGRAL


class _Integral:
    """Pydantic metadata: `_integral` runs before the inner validation.

    What `BeforeValidator(_integral)` does, without pydantic inspecting the function's
    signature again at each field that uses it (about 90 of them: a few ms of start-up).
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_integral, handler(source))


_INTEGRAL = _Integral()

StrictFloat = Annotated[float, Strict()]
Size = Annotated[int, Whole(1, 8192, "Spatial size in pixels.")]
Channels = Annotated[int, Whole(1, 4096, "Number of input channels.")]
MAX_FILTERS = 16384
Filters = Annotated[int, Whole(1, MAX_FILTERS, "Number of conv filters.")]
Stride = Annotated[int, Whole(1, 8)]
Kernel = Annotated[int, Whole(1, 15, **{"not": {"multipleOf": 2}}), AfterValidator(_odd)]
StemKernel = Annotated[int, Whole(1, 15)]
"""A kernel that may be even where it needs no padding; lowering checks where it is used."""
Flag = Annotated[bool, Strict()]
Depth = Annotated[int, Whole(1, 1000, "Number of blocks in the stage.")]

Name = Annotated[
    str,
    Strict(),
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_-]*$",
        max_length=64,
        # Python's `$` also matches before a final newline; the lookahead keeps JSON Schema
        # validators that use Python's re (jsonschema) as strict as pydantic.
        json_schema_extra={"pattern": r"^[A-Za-z][A-Za-z0-9_-]*(?!\n)$"},
        description="Model name: a letter, then letters, digits, '_' or '-'. "
        "Becomes the Keras model's name.",
    ),
]

ActivationName = Literal[
    "relu",
    "relu6",
    "swish",
    "silu",
    "gelu",
    "hard_swish",
    "hard_sigmoid",
    "sigmoid",
    "tanh",
    "softmax",
    "linear",
    "elu",
    "selu",
    "mish",
]
"""Activation functions by their Keras names (relu6 is ReLU capped at 6, as in MobileNets)."""

PaddingStyle = Literal["same", "explicit", "torch", "correct_pad", "strided_bottom_right"]
"""How a conv or pool pads its input; `archspec.graph_builder.GraphBuilder.window_input` says
how each style is built in Keras."""

PADDING_DESCRIPTION = (
    "'same': Keras's 'same' (on a stride-2 layer and an even size it pads only bottom and "
    "right). 'explicit': ZeroPadding2D(k // 2) on every side, then a 'valid' window "
    "(keras.applications' ResNets). 'torch': PyTorch's symmetric padding of (k - 1) // 2, "
    "where a max-pool's padded values never win, as PyTorch pads it with -inf (weights from "
    "torchvision and timm need it). 'correct_pad': strided windows only, ZeroPadding2D by "
    "keras.applications' correct_pad (k // 2 on each side, one fewer at the top and left of "
    "an even or unknown size) then 'valid'; unstrided windows 'same' (MobileNetV2/V3, "
    "EfficientNet). 'strided_bottom_right': unstrided windows 'same'; before a strided one "
    "ZeroPadding2D of k - stride zeros, the larger half at the bottom and right, then 'valid', "
    "whatever the size (keras.applications' MobileNet)."
)
