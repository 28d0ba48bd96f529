"""The spec language: strict, frozen pydantic models with every default written here.

A spec says which network it is, down to the choices where real ResNets differ (where the
stride sits, what the shortcut is, which convs carry a bias). Nothing in the compiler adds
a default of its own: what is not in the file is what these models say.

Stages form a discriminated union on `block` over the registered block types
(`archspec.blocks`): a new block type defines its own stage model there and needs nothing here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PrivateAttr,
    Strict,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from archspec.blocks import StageSpec, stage_models
from archspec.blocks.base import block_type_of, on_change
from archspec.blocks.options import DropPath
from archspec.fields import (
    MAX_FILTERS,
    PADDING_DESCRIPTION,
    ActivationName,
    Channels,
    Filters,
    Flag,
    Model,
    Name,
    PaddingStyle,
    Size,
    StemKernel,
    StrictFloat,
    Stride,
    Whole,
)
from archspec.io import SourceMap
from archspec.warning_codes import WarningCode

ONE_OR_MANY_TYPE = "one_or_many_type"
"""The error kind of a field that takes one number or a list of them, given neither."""


def _one_or_many(value: Any) -> Any:
    """One filter count as a list of one, a list as it is, anything else refused.

    Refused here, where the error can name both forms: pydantic's own would ask for a list.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list | tuple):
        return value
    raise PydanticCustomError(ONE_OR_MANY_TYPE, "expected a whole number or a list of them")


MAX_STEM_CONVS = 4
_FILTERS_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_FILTERS}
StemFilters = Annotated[
    tuple[Filters, ...],
    BeforeValidator(_one_or_many),
    Field(min_length=1, max_length=MAX_STEM_CONVS),
    WithJsonSchema(
        {
            "anyOf": [
                _FILTERS_SCHEMA,
                {
                    "type": "array",
                    "items": _FILTERS_SCHEMA,
                    "minItems": 1,
                    "maxItems": MAX_STEM_CONVS,
                },
            ],
            "description": "Filters of the stem conv; a list gives a deep stem, one conv each.",
        }
    ),
]


# --- input and stem ---------------------------------------------------------------------------


PositiveFloat = Annotated[StrictFloat, Field(gt=0, allow_inf_nan=False)]
FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]
ChannelValues = Annotated[tuple[FiniteFloat, ...], Field(min_length=1, max_length=4096)]


class Rescale(Model):
    """keras.layers.Rescaling: every value becomes value x scale + offset."""

    scale: FiniteFloat = Field(description="Factor, such as 0.00392156862745098 (1 / 255).")
    offset: FiniteFloat = Field(0.0, description="Added after scaling, such as -1.0.")


class Normalize(Model):
    """keras.layers.Normalization per channel: (value - mean) / std.

    Without `mean` and `std`, they are the layer's weights, set by `adapt()` or by loaded
    weights (EfficientNet's).
    """

    mean: ChannelValues | None = Field(None, description="One mean per input channel.")
    std: tuple[PositiveFloat, ...] | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="One standard deviation per input channel (the layer's variance is its "
        "square).",
    )


class Input(Model):
    """The image the model takes, channels last, and how the model preprocesses it."""

    shape: tuple[Size | None, Size | None, Channels] = Field(
        description="[height, width, channels] of one input image; null for a height or "
        "width of any size (the model then needs a global pool before any dense layer)."
    )
    nominal_size: tuple[Size, Size] = Field(
        (224, 224),
        description="[height, width] at which inspect, diff and the budgets count MACs and "
        "memory where `shape` leaves the size open.",
    )
    rescale: Rescale | None = Field(
        None, description="A Rescaling layer first, inside the model (keras.applications)."
    )
    normalize: Normalize | None = Field(
        None,
        description="A Normalization layer inside the model, after the rescaling if any "
        "(ConvNeXt's ImageNet normalization, EfficientNet's adapted one).",
    )


class StemPool(Model):
    """A pooling layer after the stem convs (the 3x3/2 max-pool of ImageNet ResNets)."""

    kind: Literal["max", "avg"] = "max"
    size: Annotated[int, Whole(1, 7)] = 3
    stride: Annotated[int, Whole(1, 4)] = 2
    padding: PaddingStyle | None = Field(
        None, description="The pool's padding; the stem's if not given. " + PADDING_DESCRIPTION
    )


class Stem(Model):
    """The convs before the first stage.

    One conv (`filters: 64`) or a deep stem of several 3x3-style convs (`filters: [32, 32, 64]`,
    ResNet-C); the stride applies to the first conv. Between the convs of a deep stem there is
    always BN -> ReLU; `norm` says whether one follows the last conv too.
    """

    filters: StemFilters
    kernel: StemKernel = Field(
        3,
        description="Kernel size of each stem conv: odd, or even for a single conv whose kernel "
        "is no larger than its stride, which needs no padding (ConvNeXt's 4x4/4 patchify stem).",
    )
    stride: Stride = Field(1, description="Stride of the first stem conv.")
    norm: Flag = Field(
        True,
        description="BN -> ReLU after the last stem conv. Pre-activation networks "
        "(keras.applications V2) leave it out: the first block normalizes its input itself.",
    )
    activation: Flag = Field(
        True,
        description="Whether the norm after the last stem conv is followed by the network's "
        "activation (ConvNeXt's stem is conv -> LayerNorm only).",
    )
    pool: StemPool | None = Field(None, description="Pooling after the stem, or none.")
    padding: PaddingStyle | None = Field(
        None,
        description="The stem convs' padding (keras.applications pads its stem explicitly "
        "and its blocks 'same'); `conv.padding` if not given.",
    )


# --- stages -----------------------------------------------------------------------------------


class RegisteredStages:
    """The schema of a stage: a union over the registered block types, tagged by `block`.

    Built from the registry each time the Spec model is (re)built, so a block type defined
    anywhere, even inside a test, is part of the language as soon as its class exists.
    """

    @staticmethod
    def __get_pydantic_core_schema__(
        source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        choices: dict[Any, core_schema.CoreSchema] = {
            block_type_of(model): handler.generate_schema(model) for model in stage_models()
        }
        return core_schema.tagged_union_schema(choices, discriminator="block")


Stage = Annotated[StageSpec, RegisteredStages()]


# --- network-wide choices ---------------------------------------------------------------------


class Shortcut(Model):
    """The residual shortcut: what it is, which blocks project, what it reads."""

    kind: Literal["conv", "avgpool_conv", "identity"] = Field(
        "conv",
        description="The shortcut of a projecting block: 1x1 conv with the block's stride, "
        "average-pool then 1x1 conv (ResNet-D), or identity (no projection at all).",
    )
    when: Literal["first_block", "shape_change"] = Field(
        "first_block",
        description="Which blocks project: the first block of every stage (seed, "
        "keras.applications), or only blocks whose output shape differs from their input.",
    )
    downsample: Literal["projection", "maxpool"] = Field(
        "projection",
        description="Shortcut of a strided block that has no projection (not picked by "
        "`when`, or `kind: identity`): the projection kind, or MaxPooling2D(1, stride) "
        "(keras.applications V2).",
    )
    source: Literal["input", "preact"] = Field(
        "input",
        description="What a projection reads: the block's input (seed), or the block's "
        "pre-activation BN -> ReLU output, shared with the main path (keras.applications V2).",
    )
    order: Literal["main_first", "shortcut_first"] = Field(
        "main_first",
        description="Order of the Add's inputs and of layer creation. The sum is the same; "
        "the order decides Keras's layer order and so the order of get_weights().",
    )


class Residual(Model):
    """Choices shared by all residual blocks."""

    stride_at: Literal["first", "last"] = Field(
        "first",
        description="Which block of a stage carries its stride: the first (seed, keras-hub, "
        "timm) or the last (keras.applications V2).",
    )
    shortcut: Shortcut = Shortcut()
    bottleneck_stride: Literal["spatial", "reduce"] = Field(
        "spatial",
        description="Which conv of a strided bottleneck carries the stride: the 3x3 "
        "(ResNet v1.5: torchvision, timm, and keras.applications V2) or the first 1x1 that "
        "reduces the width (the original ResNet, keras.applications ResNet50/101/152).",
    )
    zero_init_last: Flag = Field(
        False,
        description="Start each residual branch at zero, so every block begins as its "
        "shortcut (Goyal et al. 2017; timm's zero_init_last): the scale (gamma) of the "
        "branch's last BN, or, in pre-activation blocks, which end in a conv, that conv's "
        "kernel. Only the initial weights change.",
    )


class ConvBias(Model):
    """Which convs have a bias, by role."""

    stem: Flag = True
    block: Flag = Field(True, description="Convs inside a block, except its last.")
    block_out: Flag = Field(True, description="The last conv of a block.")
    shortcut: Flag = Field(True, description="Projection convs of shortcuts.")


class Conv(Model):
    """Settings of every conv."""

    padding: PaddingStyle = Field(
        "same",
        description="Padding of the blocks' convs and pools, and of the stem unless "
        "`stem.padding` says. " + PADDING_DESCRIPTION,
    )
    bias: ConvBias = ConvBias()


class Norm(Model):
    """The normalization layers: which kind, and their settings (Keras defaults unless given)."""

    kind: Literal["batch", "layer"] = Field(
        "batch",
        description="BatchNormalization, or LayerNormalization over the channels (ConvNeXt).",
    )
    epsilon: Annotated[StrictFloat, Field(gt=0, le=1)] = 1e-3
    momentum: Annotated[StrictFloat, Field(ge=0, lt=1)] = Field(
        0.99, description="Moving-average momentum of BatchNormalization's statistics."
    )


class KerasOptions(Model):
    """Choices that change which Keras classes are used, never what is computed."""

    relu_layer: Literal["ReLU", "Activation"] = Field(
        "ReLU",
        description="Layer class for ReLU activations: keras.layers.ReLU (seed) or "
        "Activation('relu') (keras.applications).",
    )
    hard_sigmoid: Literal["Activation", "ReLU6"] = Field(
        "Activation",
        description="How hard_sigmoid is written: Activation('hard_sigmoid'), or "
        "ReLU(6.0)(x + 3.0) * (1.0 / 6.0), a ReLU layer between two keras.ops (keras.applications "
        "MobileNetV3's squeeze-and-excitation gate).",
    )
    add_layer: Literal["Add", "operator"] = Field(
        "Add",
        description="How residual adds are made: keras.layers.Add, or the + operator on "
        "tensors (keras.ops.add: an operation, with no entry in model.layers; "
        "keras.applications' ConvNeXt).",
    )
    sequential_stem: Flag = Field(
        False,
        description="Wrap the stem's layers in one keras.Sequential named 'stem': one entry in "
        "model.layers holding the same layers and weights (keras.applications' ConvNeXt).",
    )
    sequential_transitions: Flag = Field(
        False,
        description="Wrap each transition (the layers a stage runs besides its blocks, such as "
        "ConvNeXt's downsampling) in a keras.Sequential named after it.",
    )


# --- warnings ---------------------------------------------------------------------------------


class Warnings(Model):
    """What this spec says about archspec's warnings."""

    ignore: tuple[WarningCode, ...] = Field(
        (),
        max_length=64,
        description="Codes of warnings not to report for this spec (the README lists them). "
        "A spec's list adds to the lists of the specs it extends.",
    )


# --- head and the whole spec ------------------------------------------------------------------

Units = Annotated[int, Whole(1, 65536)]


class HeadConv(Model):
    """A 1x1 conv on the last feature map, before pooling (MobileNet's and EfficientNet's top)."""

    filters: Filters
    bias: Flag = Field(False, description="Whether the conv has a bias.")
    norm: Flag = Field(True, description="A norm layer after the conv.")
    activation: ActivationName | None = Field(
        None, description="The activation after it; the network's `activation` if not given."
    )
    scale: Literal["never", "always", "up"] = Field(
        "never",
        description="Whether `width_multiplier` scales its filters: never, always "
        "(EfficientNet), or only up, for a multiplier above 1 (MobileNetV2).",
    )


def _classes_required_with_top(schema: dict[str, Any]) -> None:
    """In the JSON Schema, as in validation: `classes` is required unless `top` is false."""
    required = [key for key in schema.pop("required", []) if key != "classes"]
    if required:
        schema["required"] = required
    schema["if"] = {"required": ["top"], "properties": {"top": {"const": False}}}
    schema["else"] = {"required": ["classes"]}


class Head(Model):
    """From the last stage to the class scores, or to the features (`top: false`)."""

    model_config = ConfigDict(json_schema_extra=_classes_required_with_top)

    @model_validator(mode="before")
    @classmethod
    def _no_classes_without_top(cls, data: Any) -> Any:
        """Without the classifier `classes` may be left out, as keras ignores it then.

        With it, a missing `classes` is pydantic's located "missing" error, reported with the
        spec's other errors at once.
        """
        if isinstance(data, dict) and data.get("top") is False and "classes" not in data:
            return {**data, "classes": None}
        return data

    top: Flag = Field(
        True,
        description="The classifier on top (keras.applications' include_top). false: a backbone "
        "whose output is the features, the last feature map (pool: none) or the pooled vector; "
        "the top conv, final norm and pool norm are kept, the dense layers and classifier left "
        "out.",
    )
    conv: HeadConv | None = Field(None, description="A 1x1 conv before pooling, or none.")
    norm: Flag = Field(
        False,
        description="A final norm -> activation before pooling (pre-activation networks).",
    )
    pool: Literal["avg", "max", "flatten", "none"] = Field(
        "avg",
        description="Global average or max pooling, Flatten (seed), or none (with top: false: "
        "the output is the last feature map).",
    )
    pool_norm: Flag = Field(
        False, description="A norm layer after pooling (ConvNeXt's LayerNormalization)."
    )
    dense: tuple[Units, ...] = Field(
        (), max_length=16, description="Sizes of the hidden dense layers, in order."
    )
    dense_activation: ActivationName = "relu"
    dropout: Annotated[StrictFloat, Field(ge=0, lt=1)] = Field(
        0.0, description="Dropout rate before the classifier; 0 adds no layer."
    )
    classifier: Literal["dense", "conv"] = Field(
        "dense",
        description="Dense layers on the pooled features, or 1x1 convs on them kept as a 1x1 "
        "map (MobileNets), flattened at the end.",
    )
    flatten: Literal["flatten", "reshape"] = Field(
        "flatten",
        description="How a conv classifier's 1x1 map becomes a vector: Flatten (MobileNetV3) or "
        "Reshape (MobileNet).",
    )
    classes: Annotated[int, Whole(1, 100_000)] | None = Field(
        description="The number of classes the classifier outputs; not needed with top: false "
        "(a backbone without a classifier)."
    )
    activation: Literal["softmax", "sigmoid", "linear"] = "softmax"
    activation_layer: Flag = Field(
        False,
        description="The classifier's activation as a layer of its own after it, rather than "
        "inside it (always so for a conv classifier).",
    )


class WidthRounding(Model):
    """How scaled widths are rounded (`width_multiplier`, expansion ratios).

    A width w becomes the multiple of d nearest to w (halves up), at least d, where d is
    `divisor` (times what a grouped conv needs); if that falls below `min_fraction` of w, d
    is added. MobileNets' `_make_divisible` and EfficientNet's `round_filters` are divisor 8,
    min_fraction 0.9; EfficientNetV2's has no minimum fraction.
    """

    divisor: Annotated[int, Whole(1, 256)] | None = Field(
        None,
        description="Widths are multiples of this; none: whole numbers (multiples of a "
        "stage's groups), left as written when width_multiplier is 1.",
    )
    min_fraction: Annotated[StrictFloat, Field(gt=0, le=1)] | None = Field(
        None, description="Never round below this fraction of the target width (0.9)."
    )


class Spec(Model):
    """A whole network."""

    schema_uri: str | None = Field(
        None, alias="$schema", description="JSON Schema of this file (for editors)."
    )
    name: Name
    description: Annotated[str, Strict(), Field(max_length=4000)] = ""
    extends: Annotated[str, Strict()] | None = Field(
        None,
        description="A preset name or a path relative to this file; this spec's keys are "
        "merged into it (mappings merge key by key, lists and values replace).",
    )
    input: Input
    stem: Stem | None = Field(
        description="The convs before the first stage, or null for none (VGG)."
    )
    stages: tuple[Stage, ...] = Field(min_length=1, max_length=32)
    head: Head
    residual: Residual = Residual()
    conv: Conv = Conv()
    norm: Norm = Norm()
    activation: ActivationName = Field(
        "relu",
        description="The activation of the stem, the blocks and the head, unless they say "
        "otherwise.",
    )
    width_multiplier: Annotated[StrictFloat, Field(gt=0, le=8)] = Field(
        1.0,
        description="Scales every stem and stage width (rounded by `width_rounding`, at least "
        "1, a multiple of the groups).",
    )
    depth_multiplier: Annotated[StrictFloat, Field(gt=0, le=8)] = Field(
        1.0,
        description="Scales every stage's depth, rounded up (EfficientNet's compound scaling).",
    )
    width_rounding: WidthRounding = WidthRounding()
    keras: KerasOptions = KerasOptions()
    drop_path: DropPath = Field(
        DropPath(),
        description="Drop path (stochastic depth) on every residual branch; training only.",
    )
    warnings: Warnings = Field(Warnings(), description="Warnings this spec silences.")

    _source: SourceMap | None = PrivateAttr(None)
    """Where each value was written, so that later stages can locate their errors."""


def _rebuild_spec() -> None:
    Spec.model_rebuild(force=True)


on_change(_rebuild_spec)
