"""IR -> readable, self-contained Keras source: one function per kind of block, then build_model().

Like torch.fx's code generator, this writes the graph out as Python lines; like the Keras
backend, it reads the op table's Keras calls (`archspec.ops.keras_call`), so the two cannot
drift.

Blocks whose layers are the same up to the block's arguments (filters, stride) share one
function: the IR's `bindings` say which attributes are arguments, everything else is a
literal; the block's documentation comes with the IR too, so nothing here reads the spec
models. Names are allocated by a namespace (as torch.fx's `_Namespace` does), so they are
legal, unique and never shadow a builtin. The writer does its own line layout (88 columns,
ruff/black style) so the output is stable under `ruff format` without depending on a
formatter's version. Nothing from the spec reaches the output except through
`python_literal` or the escaped docstring, so no spec can inject code.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import keyword
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from archspec.ir import Binding, Block, Graph, Layer, StageInfo
from archspec.ops import CallArg, keras_call

LINE_LENGTH = 88
INDENT = "    "
MODULE_NAMES = ("keras", "layers", "build_model")
"""Names the module itself defines or imports."""


class Namespace:
    """Allocates Python names: legal identifiers, unique, never a keyword or a builtin."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.used = {*keyword.kwlist, *dir(builtins), *reserved}

    def create(self, candidate: str) -> str:
        """A new name like `candidate` (`candidate_2` if taken); other characters become `_`."""
        base = re.sub(r"\W", "_", candidate, flags=re.ASCII) or "_"
        if base[0].isdigit():
            base = f"_{base}"
        name, count = base, 1
        while name in self.used:
            count += 1
            name = f"{base}_{count}"
        self.used.add(name)
        return name


def render_binding(binding: Binding) -> str:
    """A bound attribute as source: `filters`, `filters * 4`."""
    return binding.arg if binding.factor == 1 else f"{binding.arg} * {binding.factor}"


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
        self.names = Namespace(MODULE_NAMES)
        self.functions: dict[tuple[object, ...], _Function] = {}
        self.function_of: dict[str, _Function] = {}
        self.plan_functions()

    # --- which blocks share a function ----------------------------------------------------

    def signature(self, block: Block) -> tuple[object, ...]:
        """What a block's layers are, up to the block's arguments and its name."""
        parts: list[object] = [block.kind, block.variant]
        for name in block.layers:
            layer = self.graph[name]
            parts.append(
                (layer.local, layer.branch, self.local_inputs(block, layer), self.call_args(layer))
            )
        return tuple(parts)

    def plan_functions(self) -> None:
        """Give each distinct block signature a function, named after its kind and variant."""
        kinds_with_variants = {
            kind
            for kind in {b.kind for b in self.graph.blocks}
            if len({self.signature(b) for b in self.graph.blocks if b.kind == kind}) > 1
        }
        for block in self.graph.blocks:
            key = self.signature(block)
            if key not in self.functions:
                variant = block.variant if block.kind in kinds_with_variants else ""
                variant = f"_{variant}" if variant else ""
                name = self.names.create(f"{block.kind}{variant}_block")
                bound = {
                    binding.arg
                    for layer_name in block.layers
                    for binding in self.graph[layer_name].bindings.values()
                }
                parameters = tuple(arg for arg in block.args if arg in bound)
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
        call = keras_call(layer)

        def render(arg: CallArg) -> str:
            if arg.attr is not None and arg.attr in layer.bindings:
                return render_binding(layer.bindings[arg.attr])
            return python_literal(arg.value)

        return (
            call.cls,
            *(render(a) for a in call.args),
            *(f"{key}={render(a)}" for key, a in call.kwargs),
        )

    @staticmethod
    def constructor(layer: Layer) -> str:
        """The callable that makes a layer: `layers.Conv2D`, or a class this module defines."""
        call = keras_call(layer)
        return call.cls if call.namespace == "archspec" else f"layers.{call.cls}"

    def layer_lines(
        self, indent: str, layer: Layer, target: str, name_source: str, inputs: Sequence[str]
    ) -> list[str]:
        """`target = layers.Cls(args, name=...)(inputs)`, or `target = keras.ops.f(inputs)`."""
        cls, *arguments = self.call_args(layer)
        if not keras_call(layer).is_layer:
            return call_lines(indent, f"{target} = keras.ops.{cls}", [*inputs, *arguments])
        arguments.append(f"name={name_source}")
        tail = f"({inputs[0]})" if len(inputs) == 1 else f"([{', '.join(inputs)}])"
        return call_lines(indent, f"{target} = {self.constructor(layer)}", arguments, tail)

    def statement_lines(
        self,
        indent: str,
        members: Sequence[Layer],
        target: str,
        name_source: Callable[[str], str],
        inputs: Sequence[str],
    ) -> list[str]:
        """One layer's statement, or a sequential group's: `keras.Sequential([...], name=...)`.

        `name_source(name)` is the source of a layer's or the group's name.
        """
        first = members[0]
        if first.group is None:
            return self.layer_lines(indent, first, target, name_source(first.name), inputs)
        inner = indent + 2 * INDENT
        lines = [f"{indent}{target} = keras.Sequential(", f"{indent}{INDENT}["]
        for layer in members:
            _, *arguments = self.call_args(layer)
            arguments.append(f"name={name_source(layer.name)}")
            lines += call_lines(inner, self.constructor(layer), arguments, ",")
        lines += [
            f"{indent}{INDENT}],",
            f"{indent}{INDENT}name={name_source(first.group)},",
            f"{indent})({inputs[0]})",
        ]
        return lines

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
        classes = layer_classes(self.graph)
        imports = sorted({module for cls in classes for module in cls.imports})
        lines += [
            *imports,
            *([""] if imports else []),
            "import keras",
            "from keras import layers",
            "",
        ]
        for cls in classes:
            lines += ["", *cls.source.splitlines(), ""]
        for function in self.functions.values():
            lines += ["", *self.function_lines(function), ""]
        lines += ["", *self.build_model_lines(), ""]
        lines += ["", 'if __name__ == "__main__":', f"{INDENT}build_model().summary()", ""]
        return "\n".join(lines)

    def function_lines(self, function: _Function) -> list[str]:
        """One block function: docstring, the template block's layers, return its output."""
        block = function.template
        lines = [f"def {function.name}({', '.join(('x', *function.parameters, 'name'))}):"]
        lines += [INDENT + line if line else "" for line in self.function_docstring(block.doc)]
        body_layers = [self.graph[name] for name in block.layers]
        names = Namespace(("x", *function.parameters, "name"))
        holder: dict[str, str] = {"x": block.input}  # variable -> the IR layer whose value it holds
        variables = {"main": "x"}  # branch -> its variable

        def name_source(name: str) -> str:
            # Names inside the block are the block's name and a suffix.
            suffix = name.removeprefix(block.name)
            return "name" if not suffix else f'f"{{name}}{suffix}"'

        done = 0
        for members in statements(body_layers):
            first, last = members[0], members[-1]
            done += len(members)
            inputs = [self.variable_for(source, holder) for source in first.inputs]
            if first.branch not in variables:
                variables[first.branch] = names.create(first.branch)
            target = variables[first.branch]
            # A value still to be read must not be lost when its variable is overwritten: the
            # block input for an identity shortcut or a late projection, a branch point.
            kept = holder.get(target)
            readers = [r for r in body_layers[done:] if kept in r.inputs]
            if kept is not None and readers and list(holder.values()).count(kept) == 1:
                alias = names.create(self.alias_name(block, kept, readers))
                lines.append(f"{INDENT}{alias} = {target}")
                holder[alias] = kept
            lines += self.statement_lines(INDENT, members, target, name_source, inputs)
            holder[target] = last.name
        lines.append(f"{INDENT}return {self.variable_for(block.output, holder)}")
        return lines

    def alias_name(self, block: Block, value: str, readers: Sequence[Layer]) -> str:
        """A name for a value kept aside: the block input is the shortcut or the inputs."""
        if value != block.input:
            return self.graph[value].local
        return "shortcut" if all(r.op == "add" for r in readers) else "inputs"

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
        for members in statements(graph.layers[1:]):
            layer = members[0]
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
            lines += self.statement_lines(INDENT, members, "x", python_literal, [variable])
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


def statements(layers: Sequence[Layer]) -> list[tuple[Layer, ...]]:
    """Layers as the statements that make them: a sequential group is one, others one each."""
    out: list[tuple[Layer, ...]] = []
    for layer in layers:
        if layer.group is not None and out and out[-1][0].group == layer.group:
            out[-1] = (*out[-1], layer)
        else:
            out.append((layer,))
    return out


# --- layer classes Keras does not have: copied from the Keras backend's source --------------------

KERAS_BACKEND = Path(__file__).with_name("keras.py")
"""Where archspec's own layer classes are defined; read as text, never imported here."""


@dataclass(frozen=True)
class LayerClass:
    """A layer class a generated module defines: its source, and the imports it needs."""

    name: str
    source: str
    imports: tuple[str, ...]


@functools.cache
def backend_classes() -> dict[str, LayerClass]:
    """The classes of the Keras backend's module, by name, with their decorators' lines.

    Names the backend imports from the standard library (typing's `Any`) and a class uses
    become the import lines a generated module needs for it.
    """
    text = KERAS_BACKEND.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines()
    stdlib_names = {
        alias.asname or alias.name: f"from {node.module} import {alias.name}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module in ("typing", "collections.abc")
        for alias in node.names
    }
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            imports = tuple(sorted(stdlib_names[name] for name in used & stdlib_names.keys()))
            source = "\n".join(lines[start : node.end_lineno])
            classes[node.name] = LayerClass(node.name, source, imports)
    return classes


def layer_classes(graph: Graph) -> list[LayerClass]:
    """The archspec layer classes `graph` uses, in order of first use."""
    names = dict.fromkeys(
        call.cls
        for call in (keras_call(layer) for layer in graph.layers[1:])
        if call.namespace == "archspec"
    )
    return [backend_classes()[name] for name in names]


def generate(graph: Graph) -> str:
    """The Python source of a module whose `build_model()` builds `graph` in Keras."""
    return PythonWriter(graph).module()
