"""The block-authoring API: what a block type's `lower_block` and `lower_stage` see.

`BlockBuilder` names each layer `<block>_<local>`, files it under the block and a branch, and
turns block arguments (`Arg`) given as attribute values into bindings, so the code generator
can write one function per kind of block. `StageBuilder` runs a stage's blocks in order,
scaling its depth by the spec's `depth_multiplier`, giving each block its own settings (the
stage's, with its `blocks` overrides), deciding which block carries the stride and checking
the budgets after each block.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archspec.graph_builder import GraphBuilder
from archspec.ir import Binding, Block, StageInfo, frozen_mapping
from archspec.limits import Budget
from archspec.ops import Shape, channels_of
from archspec.scaling import scaled_depth

if TYPE_CHECKING:
    from archspec.blocks.base import StageSpec


@dataclass(frozen=True)
class Arg:
    """A block argument times a whole factor: its value, and the binding that says so."""

    name: str
    value: int | float
    factor: int = 1

    def __mul__(self, factor: int) -> Arg:
        return Arg(self.name, self.value * factor, self.factor * factor)

    @property
    def binding(self) -> Binding:
        """What the IR records for an attribute with this value."""
        return Binding(self.name, self.factor)


def _bindings(**attrs: int | Arg) -> dict[str, Binding]:
    """The bindings of the attributes given a block argument."""
    return {key: v.binding for key, v in attrs.items() if isinstance(v, Arg)}


def value_of(x: int | float | Arg) -> int | float:
    """The number an `Arg` stands for, or the number itself."""
    return x.value if isinstance(x, Arg) else x


def int_of(x: int | Arg) -> int:
    """The whole number an `Arg` (of a width or a stride) stands for, or the number itself."""
    value = value_of(x)
    if not isinstance(value, int):
        raise TypeError(f"{x!r} is not a whole number")
    return value


class BlockBuilder:
    """Emits one block's layers: named, scoped to the block, attributes bound to arguments."""

    def __init__(
        self,
        graph: GraphBuilder,
        name: str,
        stage_index: int,
        index: int,
        stage: StageSpec,
        filters: int,
        stride: int,
        x: str,
        network_index: int = 0,
        network_blocks: int = 1,
        written_blocks: int | None = None,
    ) -> None:
        self.graph = graph
        self.spec = graph.spec
        self.name = name
        self.stage_index = stage_index
        self.index = index
        self.stage = stage
        """This block's settings: its stage's, with its per-block overrides."""
        self.input = x
        self.in_channels = channels_of(graph.shapes[x])
        self.network_index = network_index
        """This block's index (from 0) among all blocks of the network (drop path's schedule)."""
        self.network_blocks = network_blocks
        """The number of blocks in the network: the sum of the stages' depths, scaled."""
        self.written_blocks = written_blocks or network_blocks
        """The sum of the stages' depths as written, before `depth_multiplier`."""
        self.first_layer = len(graph.layers)
        self.args: dict[str, int | float] = {}
        self.filters = self.arg("filters", filters)
        self.stride_value = stride
        self.arg("stride", stride)
        # An unstrided block writes no stride at all (like the seed's res_identity).
        self.stride: int | Arg = Arg("stride", stride) if stride > 1 else 1
        self.variant = ""
        self.summary = ""
        self.doc = inspect.getdoc(stage) or ""
        """Documentation of the block: its type's (a transition's is its own)."""
        self.notes: list[str] = []
        """Documentation of this block's form, after its type's (the shortcut it has)."""

    def arg(self, name: str, value: int | float) -> Arg:
        """Declare a block argument; attributes given the returned `Arg` are bound to it."""
        self.args[name] = value
        return Arg(name, value)

    def shape(self, x: str) -> Shape:
        """The output shape of a layer emitted so far (None where the input size is open)."""
        return self.graph.shapes[x]

    def fail(self, field: str | None, message: str, *, hint: str, code: str) -> Exception:
        """A located error at this stage's `field` (or the stage); raise what this returns."""
        path = ("stages", self.stage_index, *((field,) if field else ()))
        return self.graph.fail(path, message, hint=hint, code=code)

    # --- layers ---------------------------------------------------------------------------

    def meta(self, local: str, branch: str, bindings: Mapping[str, Binding]) -> dict[str, Any]:
        """The block fields of a layer named `local` on `branch`."""
        return {"block": self.name, "local": local, "branch": branch, "bindings": bindings}

    def layer(
        self,
        op: str,
        local: str,
        inputs: tuple[str, ...],
        attrs: Mapping[str, object] | None = None,
        *,
        branch: str = "main",
    ) -> str:
        """Any op of the table; attribute values that are `Arg`s become bindings."""
        attrs = attrs or {}
        values = {key: value_of(v) if isinstance(v, Arg) else v for key, v in attrs.items()}
        bindings = {key: v.binding for key, v in attrs.items() if isinstance(v, Arg)}
        name = f"{self.name}_{local}"
        meta = self.meta(local, branch, bindings)
        return self.graph.add(name, op, inputs, values, **meta)

    def conv(
        self,
        local: str,
        x: str,
        filters: int | Arg,
        kernel: int | Arg,
        stride: int | Arg = 1,
        *,
        bias: bool,
        groups: int | Arg = 1,
        activation: str = "linear",
        kernel_initializer: str | None = None,
        branch: str = "main",
    ) -> str:
        """A conv in the spec's padding style (explicit padding adds a pad layer before it).

        `activation` other than 'linear' goes inside the conv (Conv2D(activation=...)); a
        `kernel_initializer` replaces Keras's default (zero-initialised residual branches).
        """
        bindings = _bindings(filters=filters, kernel=kernel, strides=stride, groups=groups)
        head, _, tail = local.rpartition("conv")
        return self.graph.conv(
            f"{self.name}_{local}",
            x,
            int_of(filters),
            int_of(kernel),
            int_of(stride),
            bias=bias,
            groups=int_of(groups),
            activation=activation,
            kernel_initializer=kernel_initializer,
            pad_meta=self.meta(f"{head}pad{tail}", branch, {}),
            **self.meta(local, branch, bindings),
        )

    def depthwise_conv(
        self,
        local: str,
        x: str,
        kernel: int | Arg,
        stride: int | Arg = 1,
        *,
        bias: bool,
        depth_multiplier: int = 1,
        branch: str = "main",
    ) -> str:
        """A depthwise conv (one filter per channel) in the spec's padding style, like `conv`."""
        bindings = _bindings(kernel=kernel, strides=stride)
        head, _, tail = local.rpartition("conv")
        return self.graph.depthwise_conv(
            f"{self.name}_{local}",
            x,
            int_of(kernel),
            int_of(stride),
            bias=bias,
            depth_multiplier=depth_multiplier,
            pad_meta=self.meta(f"{head}pad{tail}", branch, {}),
            **self.meta(local, branch, bindings),
        )

    def sum(self, local: str, inputs: tuple[str, ...], branch: str = "main") -> str:
        """The element-wise sum of `inputs` (an Add layer or the + operator, as the spec says)."""
        return self.graph.sum(f"{self.name}_{local}", inputs, **self.meta(local, branch, {}))

    def norm(self, local: str, x: str, branch: str = "main", *, zero_init: bool = False) -> str:
        """The spec's normalization layer (BatchNormalization unless `norm.kind` says).

        `zero_init` starts its scale (gamma) at zero: the residual branch it ends then adds
        nothing until training moves it (Goyal et al. 2017).
        """
        meta = self.meta(local, branch, {})
        return self.graph.norm(f"{self.name}_{local}", x, zero_init=zero_init, **meta)

    def activation(self, local: str, x: str, function: str, branch: str = "main") -> str:
        """An activation layer (ReLU and ReLU6 in the spec's layer class)."""
        meta = self.meta(local, branch, {})
        return self.graph.activation(f"{self.name}_{local}", x, function, **meta)

    def act(self, local: str, x: str, branch: str = "main") -> str:
        """The network's activation (`activation` of the spec)."""
        return self.activation(local, x, self.spec.activation, branch)

    def pool(
        self,
        local: str,
        x: str,
        kind: str,
        size: int | Arg,
        stride: int | Arg,
        padding: str,
        *,
        branch: str = "main",
    ) -> str:
        """MaxPooling2D or AveragePooling2D; a size or stride given as an `Arg` is bound."""
        attrs = {"size": size, "strides": stride, "padding": padding}
        return self.layer(f"{kind}_pool", local, (x,), attrs, branch=branch)

    # --- the end --------------------------------------------------------------------------

    def finish(self, output: str) -> str:
        """Record the block in the IR; return its output."""
        self.graph.blocks.append(
            Block(
                name=self.name,
                kind=self.stage.block,
                variant=self.variant,
                summary=self.summary,
                doc="\n\n".join([self.doc, *self.notes]),
                stage=self.stage_index + 1,
                index=self.index + 1,
                args=frozen_mapping(self.args),
                input=self.input,
                output=output,
                layers=tuple(layer.name for layer in self.graph.layers[self.first_layer :]),
            )
        )
        return output


BlockFunction = Callable[[BlockBuilder, str], str]


class StageBuilder:
    """Runs one stage's blocks: names them, places the stride, checks budgets after each."""

    def __init__(
        self, graph: GraphBuilder, budget: Budget, index: int, stage: StageSpec, filters: int
    ) -> None:
        self.graph = graph
        self.budget = budget
        self.index = index
        self.stage = stage
        self.filters = filters
        self.name = f"stage{index + 1}"
        self.depth = scaled_depth(stage.depth, graph.spec.depth_multiplier)
        """The number of blocks: the stage's depth times the spec's depth multiplier."""
        self.stride_block = 0 if graph.spec.residual.stride_at == "first" else self.depth - 1
        self.block_names: list[str] = []
        multiplier = graph.spec.depth_multiplier
        depths = [scaled_depth(s.depth, multiplier) for s in graph.spec.stages]
        self.first_network_index = sum(depths[:index])
        self.network_blocks = sum(depths)
        self.written_blocks = sum(s.depth for s in graph.spec.stages)

    def block(self, index: int, x: str, *, stride: int | None = None) -> str:
        """Lower block `index` (from 0) of the stage; return its output.

        The block lowers by its type's `lower_block` on its own settings (the stage's with its
        `blocks` overrides). The block that `residual.stride_at` picks carries the stage's
        stride, unless `stride` says (a type whose stride sits on a transition runs its blocks
        with stride 1).
        """
        stage = self.stage
        settings = stage.block_spec(index)
        if stride is None:
            stride = stage.stride if index == self.stride_block else 1
        name = f"{self.name}_block{index + 1}"
        # A strided block's problems (an uneven or collapsing stride) are the stride's.
        self.graph.path = ("stages", self.index, *(("stride",) if stride > 1 else ()))
        before = self.graph.totals()
        builder = BlockBuilder(
            self.graph,
            name,
            self.index,
            index,
            settings,
            self.filters,
            stride,
            x,
            network_index=self.first_network_index + index,
            network_blocks=self.network_blocks,
            written_blocks=self.written_blocks,
        )
        x = builder.finish(settings.lower_block(builder, x))
        self.graph.path = ("stages", self.index)
        self.block_names.append(name)
        # Blocks after the second and after any per-block settings are copies of the first
        # such block, bar a strided last block, left out: projecting its cost gives a lower
        # bound that refuses absurd depths early.
        copies = index >= max(1, len(stage.blocks))
        repeats = max(0, self.depth - 2 - index) if copies else 0
        self.budget.check(self.graph, repeats, before)
        return x

    def transition(
        self, local: str, x: str, lower: BlockFunction, *, filters: int, stride: int
    ) -> str:
        """Lower a transition with `lower`: layers the stage runs besides its `depth` blocks.

        DenseNet's compressing transition and ConvNeXt's downsampling come before a stage's
        blocks, VGG's pool after them. A transition is recorded as a block named
        `stageN_<local>` of variant `local` (index 0), documented by `lower`'s docstring, so
        inspect, graph and the generated code show it as one; `filters` and `stride` are its
        arguments. With `keras.sequential_transitions`, its layers form a sequential group of
        its name.
        """
        name = f"{self.name}_{local}"
        self.graph.path = ("stages", self.index)
        before = self.graph.totals()
        builder = BlockBuilder(self.graph, name, self.index, -1, self.stage, filters, stride, x)
        builder.variant = builder.summary = local
        builder.doc = inspect.getdoc(lower) or ""
        sequential = self.graph.spec.keras.sequential_transitions
        with self.graph.sequential(name) if sequential else contextlib.nullcontext():
            x = builder.finish(lower(builder, x))
        self.block_names.append(name)
        self.budget.check(self.graph, 0, before)
        return x

    def info(self) -> StageInfo:
        """The stage as the IR records it."""
        return StageInfo(
            index=self.index + 1,
            name=self.name,
            block=self.stage.block,
            filters=self.filters,
            stride=self.stage.stride,
            depth=self.depth,
            blocks=tuple(self.block_names),
        )
