"""The block-authoring API: what a block type's `lower_block` and `lower_stage` see.

`BlockBuilder` names each layer `<block>_<local>`, files it under the block and a branch, and
turns block arguments (`Arg`) given as attribute values into bindings, so the code generator
can write one function per kind of block. `StageBuilder` runs a stage's blocks in order,
deciding which block carries the stride and checking the budgets after each block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archspec.graph_builder import GraphBuilder
from archspec.ir import Binding, Block, StageInfo, frozen_mapping
from archspec.limits import Budget

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
    ) -> None:
        self.graph = graph
        self.spec = graph.spec
        self.name = name
        self.stage_index = stage_index
        self.index = index
        self.stage = stage
        self.input = x
        self.in_channels = graph.shapes[x][-1]
        self.network_index = network_index
        """This block's index (from 0) among all blocks of the network (drop path's schedule)."""
        self.network_blocks = network_blocks
        """The number of blocks in the network: the sum of the stages' depths."""
        self.first_layer = len(graph.layers)
        self.args: dict[str, int | float] = {}
        self.filters = self.arg("filters", filters)
        self.stride_value = stride
        self.arg("stride", stride)
        # An unstrided block writes no stride at all (like the seed's res_identity).
        self.stride: int | Arg = Arg("stride", stride) if stride > 1 else 1
        self.variant = ""
        self.summary = ""
        self.notes: list[str] = []
        """Documentation of this block's form, after its type's (the shortcut it has)."""

    def arg(self, name: str, value: int | float) -> Arg:
        """Declare a block argument; attributes given the returned `Arg` are bound to it."""
        self.args[name] = value
        return Arg(name, value)

    def shape(self, x: str) -> tuple[int, ...]:
        """The output shape of a layer emitted so far."""
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
        unpadded: str | None = None,
    ) -> str:
        """Any op of the table; attribute values that are `Arg`s become bindings."""
        attrs = attrs or {}
        values = {key: value_of(v) if isinstance(v, Arg) else v for key, v in attrs.items()}
        bindings = {key: v.binding for key, v in attrs.items() if isinstance(v, Arg)}
        name = f"{self.name}_{local}"
        meta = self.meta(local, branch, bindings)
        return self.graph.add(name, op, inputs, values, unpadded=unpadded, **meta)

    def conv(
        self,
        local: str,
        x: str,
        filters: int | Arg,
        kernel: int,
        stride: int | Arg = 1,
        *,
        bias: bool,
        groups: int = 1,
        activation: str = "linear",
        kernel_initializer: str | None = None,
        branch: str = "main",
    ) -> str:
        """A conv in the spec's padding style (explicit padding adds a pad layer before it).

        `activation` other than 'linear' goes inside the conv (Conv2D(activation=...)); a
        `kernel_initializer` replaces Keras's default (zero-initialised residual branches).
        """
        bindings = {
            key: v.binding
            for key, v in (("filters", filters), ("strides", stride))
            if isinstance(v, Arg)
        }
        head, _, tail = local.rpartition("conv")
        return self.graph.conv(
            f"{self.name}_{local}",
            x,
            int_of(filters),
            kernel,
            int_of(stride),
            bias=bias,
            groups=groups,
            activation=activation,
            kernel_initializer=kernel_initializer,
            pad_meta=self.meta(f"{head}pad{tail}", branch, {}),
            **self.meta(local, branch, bindings),
        )

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
        doc = (self.stage.__doc__ or "").strip()
        self.graph.blocks.append(
            Block(
                name=self.name,
                kind=self.stage.block,
                variant=self.variant,
                summary=self.summary,
                doc="\n\n".join([doc, *self.notes]),
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
        self.stride_block = 0 if graph.spec.residual.stride_at == "first" else stage.depth - 1
        self.block_names: list[str] = []
        depths = [s.depth for s in graph.spec.stages]
        self.first_network_index = sum(depths[:index])
        self.network_blocks = sum(depths)

    def block(self, index: int, x: str, lower: BlockFunction) -> str:
        """Lower block `index` (from 0) of the stage with `lower`; return its output."""
        stage = self.stage
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
            stage,
            self.filters,
            stride,
            x,
            network_index=self.first_network_index + index,
            network_blocks=self.network_blocks,
        )
        x = builder.finish(lower(builder, x))
        self.graph.path = ("stages", self.index)
        self.block_names.append(name)
        # Blocks after the second are copies of it (bar a strided last block, left out):
        # projecting its cost gives a lower bound that refuses absurd depths early.
        repeats = max(0, stage.depth - 2 - index) if index >= 1 else 0
        self.budget.check(self.graph, repeats, before)
        return x

    def info(self) -> StageInfo:
        """The stage as the IR records it."""
        return StageInfo(
            index=self.index + 1,
            name=self.name,
            block=self.stage.block,
            filters=self.filters,
            stride=self.stage.stride,
            depth=self.stage.depth,
            blocks=tuple(self.block_names),
        )
