"""IR -> readable, self-contained Keras source: one function per kind of block, then build_model().

Like torch.fx's code generator, this writes the graph out as Python lines; like the Keras
backend, it reads the layer-call table of `archspec.backends.calls`, so the two cannot drift.

Blocks whose layers are the same up to the block's arguments (filters, stride) share one
function: the IR's `bindings` say which attributes are arguments, everything else is a
literal. The writer does its own line layout (88 columns, ruff/black style) so the output is
stable under `ruff format` without depending on a formatter's version. Nothing from the spec
reaches the output except through `python_literal` or the escaped docstring, so no spec can
inject code.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from archspec.backends.calls import CallArg, layer_call
from archspec.ir import Block, Graph, Layer, StageInfo
from archspec.spec import BLOCK_TYPES, STAGE_MODELS

LINE_LENGTH = 88
INDENT = "    "
BLOCK_ARGUMENTS = ("filters", "stride")
"""Block arguments in the order generated functions take them."""

_BLOCK_DOCS = {
    block: (model.__doc__ or "").strip()
    for block, model in zip(BLOCK_TYPES, STAGE_MODELS, strict=True)
}
_SHORTCUT_DOCS = {
    "identity": "Identity shortcut.",
    "conv": "Shortcut: 1x1 conv projection.",
    "avgpool_conv": "Shortcut: average pool by the stride, then a 1x1 conv (ResNet-D).",
    "maxpool": "Shortcut: MaxPooling2D(1, stride), subsampling without weights.",
}
_VARIABLES = {"main": "x", "preact": "preact", "shortcut": "shortcut"}


def python_literal(value: object) -> str:
    """A Python literal for a plain value, in the style ruff format keeps (double quotes)."""
    if isinstance(value, str):
        return json.dumps(value)  # ASCII-only, escapes quotes, backslashes and controls
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        items = ", ".join(python_literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    raise TypeError(f"no literal for {type(value).__name__}")


def docstring_text(text: str) -> str:
    """Escape text for a triple-quoted docstring: it cannot close it or hide a statement."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n" or char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
    return "".join(out)


def wrap_paragraphs(text: str, width: int) -> list[str]:
    """Fold prose into lines, keeping blank-line paragraph breaks; all whitespace is a space."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        words = " ".join(paragraph.split())
        if words:
            if lines:
                lines.append("")
            lines.extend(
                textwrap.wrap(words, width, break_on_hyphens=False, break_long_words=False)
            )
    return lines


def call_lines(indent: str, head: str, arguments: Sequence[str], tail: str = "") -> list[str]:
    """Lay out `head(arg, ...)tail` in a form ruff format (and black) keep as it is.

    On one line if it fits. Else, for a plain call, the arguments together on their own line
    inside the brackets, if that fits. Else one argument a line with a trailing comma, which
    the formatters keep exploded (for `layer(...)(x)` they would otherwise split at `(x)`).
    """
    joined = ", ".join(arguments)
    one_line = f"{indent}{head}({joined}){tail}"
    if len(one_line) <= LINE_LENGTH or not arguments:
        return [one_line]
    inner = indent + INDENT
    if not tail and len(inner + joined) <= LINE_LENGTH:
        return [f"{indent}{head}(", inner + joined, f"{indent})"]
    return [f"{indent}{head}(", *(f"{inner}{arg}," for arg in arguments), f"{indent}){tail}"]


@dataclass
class _Function:
    """A generated block function: its name, the block it is written from, its parameters."""

    name: str
    template: Block
    parameters: tuple[str, ...]


class PythonWriter:
    """Writes one graph as a module."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.functions: dict[tuple[object, ...], _Function] = {}
        self.function_of: dict[str, _Function] = {}
        self.plan_functions()

    # --- which blocks share a function ----------------------------------------------------

    def signature(self, block: Block) -> tuple[object, ...]:
        """What a block's layers are, up to the block's arguments and its name."""
        parts: list[object] = [block.kind, block.shortcut]
        for name in block.layers:
            layer = self.graph[name]
            parts.append(
                (layer.local, layer.branch, self.local_inputs(block, layer), self.call_args(layer))
            )
        return tuple(parts)

    def plan_functions(self) -> None:
        """Give each distinct block signature a function, named after its kind and shortcut."""
        names: dict[str, int] = {}
        kinds_with_variants = {
            kind
            for kind in {b.kind for b in self.graph.blocks}
            if len({self.signature(b) for b in self.graph.blocks if b.kind == kind}) > 1
        }
        for block in self.graph.blocks:
            key = self.signature(block)
            if key not in self.functions:
                base = (
                    f"{block.kind}_{block.shortcut}_block"
                    if block.kind in kinds_with_variants
                    else f"{block.kind}_block"
                )
                names[base] = names.get(base, 0) + 1
                name = base if names[base] == 1 else f"{base}_{names[base]}"
                # Binding expressions are an argument's name, maybe times a factor.
                bound = {
                    expr.split()[0]
                    for layer_name in block.layers
                    for expr in self.graph[layer_name].bindings.values()
                }
                parameters = tuple(p for p in BLOCK_ARGUMENTS if p in bound)
                self.functions[key] = _Function(name, block, parameters)
            self.function_of[block.name] = self.functions[key]

    # --- rendering pieces -----------------------------------------------------------------

    def local_inputs(self, block: Block, layer: Layer) -> tuple[str, ...]:
        """A layer's inputs by their names inside the block ('<input>' for the block input)."""
        return tuple(
            "<input>" if name == block.input else self.graph[name].local for name in layer.inputs
        )

    @staticmethod
    def call_args(layer: Layer) -> tuple[str, ...]:
        """Positional and keyword arguments as source; bound attributes become expressions."""
        call = layer_call(layer)

        def render(arg: CallArg) -> str:
            if arg.attr is not None and arg.attr in layer.bindings:
                return layer.bindings[arg.attr]
            return python_literal(arg.value)

        return (
            call.cls,
            *(render(a) for a in call.args),
            *(f"{key}={render(a)}" for key, a in call.kwargs),
        )

    def layer_lines(
        self, indent: str, layer: Layer, target: str, name_source: str, inputs: Sequence[str]
    ) -> list[str]:
        """`target = layers.Cls(args, name=...)(inputs)`, laid out."""
        cls, *arguments = self.call_args(layer)
        arguments.append(f"name={name_source}")
        tail = f"({inputs[0]})" if len(inputs) == 1 else f"([{', '.join(inputs)}])"
        return call_lines(indent, f"{target} = layers.{cls}", arguments, tail)

    # --- the module -----------------------------------------------------------------------

    def module(self) -> str:
        """The whole module's source."""
        graph = self.graph
        header = [f"{graph.name}: a Keras 3 model, generated by archspec from its spec."]
        description = wrap_paragraphs(graph.description, LINE_LENGTH - 4)
        if description:
            header += ["", *description]
        header += [
            "",
            "Self-contained: needs only Keras 3 (with any backend). Run it to print the summary.",
        ]
        lines = ['"""' + docstring_text("\n".join(header)), '"""', ""]
        lines += ["import keras", "from keras import layers", ""]
        for function in self.functions.values():
            lines += ["", *self.function_lines(function), ""]
        lines += ["", *self.build_model_lines(), ""]
        lines += ["", 'if __name__ == "__main__":', f"{INDENT}build_model().summary()", ""]
        return "\n".join(lines)

    def function_lines(self, function: _Function) -> list[str]:
        """One block function: docstring, the template block's layers, `return x`."""
        block = function.template
        doc = f"{_BLOCK_DOCS[block.kind]}\n\n{_SHORTCUT_DOCS[block.shortcut]}"
        lines = [f"def {function.name}({', '.join(('x', *function.parameters, 'name'))}):"]
        lines += [INDENT + line if line else "" for line in self.function_docstring(doc)]
        body_layers = [self.graph[name] for name in block.layers]
        # The block input stays in `x` until the main path overwrites it; a later reader
        # (the identity shortcut, or a shortcut built after the main path) needs an alias.
        late_readers = []
        main_started = False
        for layer in body_layers:
            if block.input in layer.inputs and main_started:
                late_readers.append(layer)
            main_started = main_started or layer.branch == "main"
        holder: dict[str, str] = {"x": block.input}  # variable -> the IR layer whose value it holds
        if late_readers:
            alias = "shortcut" if all(r.op == "add" for r in late_readers) else "inputs"
            lines.append(f"{INDENT}{alias} = x")
            holder[alias] = block.input
        for layer in body_layers:
            inputs = [self.variable_for(source, holder) for source in layer.inputs]
            target = _VARIABLES[layer.branch]
            lines += self.layer_lines(INDENT, layer, target, f'f"{{name}}_{layer.local}"', inputs)
            holder[target] = layer.name
        if holder["x"] != block.output:
            raise AssertionError(f"{block.name}: the block's output is not in x")
        lines.append(f"{INDENT}return x")
        return lines

    @staticmethod
    def variable_for(source: str, holder: dict[str, str]) -> str:
        """The variable that holds `source` now ('x' first); a bug in a block if none does."""
        for variable, value in holder.items():
            if value == source:
                return variable
        raise AssertionError(f"no variable holds {source}")

    @staticmethod
    def function_docstring(text: str) -> list[str]:
        """A docstring's lines (unindented), on one line if it fits."""
        escaped = [docstring_text(line) for line in wrap_paragraphs(text, LINE_LENGTH - 8)]
        if len(escaped) == 1 and len(escaped[0]) + 6 + len(INDENT) <= LINE_LENGTH:
            return [f'"""{escaped[0]}"""']
        return ['"""' + escaped[0], *escaped[1:], '"""']

    def build_model_lines(self) -> list[str]:
        """build_model(): the input, the stem, one call per block, the head, the Model."""
        graph = self.graph
        summary = (
            f"Build {docstring_text(graph.name)}: {len(graph)} layers, {graph.params:,} parameters."
        )
        lines = ["def build_model():", f'{INDENT}"""{summary}"""']
        first = graph.input
        shape_arguments = [
            f"shape={python_literal(first.shape)}",
            f"name={python_literal(first.name)}",
        ]
        lines += call_lines(INDENT, "inputs = keras.Input", shape_arguments)
        variable = "inputs"
        blocks = {b.name: b for b in graph.blocks}
        stage_of_block = {name: stage for stage in graph.stages for name in stage.blocks}
        seen_scopes: set[str] = set()
        for layer in graph.layers[1:]:
            if layer.block is not None:
                if layer.block in blocks:  # the block's first layer: call its function
                    block = blocks.pop(layer.block)
                    lines += self.scope_comment(stage_of_block[block.name], seen_scopes)
                    lines += self.block_call_lines(block, variable)
                    variable = "x"
                continue
            if layer.scope not in seen_scopes:
                seen_scopes.add(layer.scope)
                lines += ["", f"{INDENT}# {layer.scope}"]
            lines += self.layer_lines(INDENT, layer, "x", python_literal(layer.name), [variable])
            variable = "x"
        model_arguments = ["inputs=inputs", "outputs=x", f"name={python_literal(graph.name)}"]
        lines += ["", *call_lines(INDENT, "return keras.Model", model_arguments)]
        return lines

    @staticmethod
    def scope_comment(stage: StageInfo, seen_scopes: set[str]) -> list[str]:
        """A blank line and `# stageN: block xdepth, filters, stride`, once per stage."""
        if stage.name in seen_scopes:
            return []
        seen_scopes.add(stage.name)
        return ["", f"{INDENT}# {stage.name}: {stage.summary}"]

    def block_call_lines(self, block: Block, variable: str) -> list[str]:
        """`x = <function>(x, filters=..., stride=..., name="stageN_blockM")`."""
        function = self.function_of[block.name]
        arguments = [
            variable,
            *(f"{p}={block.args[p]}" for p in function.parameters),
            f"name={python_literal(block.name)}",
        ]
        return call_lines(INDENT, f"x = {function.name}", arguments)


def generate(graph: Graph) -> str:
    """The Python source of a module whose `build_model()` builds `graph` in Keras."""
    return PythonWriter(graph).module()
