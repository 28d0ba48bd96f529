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
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from archspec.ir import Binding, Block, Graph, Layer, StageInfo
from archspec.ops import CallArg, keras_call

LINE_LENGTH = 88
INDENT = "    "
DEEP_GRAPH = 600
"""Layers on the longest path past which generated code raises the recursion limit (Keras's
graph walk needs one call per layer; keras.applications' deepest model has 566 layers)."""
MODULE_NAMES = ("keras", "layers", "build_model", "sys")
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


def render_binding(binding: Binding, value: object = None) -> str:
    """A bound attribute as source: `filters`, `filters * 4`, `(classes,)` for a 1-tuple."""
    text = binding.arg if binding.factor == 1 else f"{binding.arg} * {binding.factor}"
    return f"({text},)" if isinstance(value, tuple) else text


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
    """Text for a docstring that cannot close it, hide a statement, or need an escape.

    Pydocstyle asks for no backslashes in a docstring (D301), so nothing is escaped: a
    backslash or a character that is not printable is written as `<U+XXXX>`, and a quote that
    follows a quote becomes an apostrophe, so no run of three can end the docstring.
    """
    out: list[str] = []
    for char in text:
        if char == '"' and out and out[-1] == '"':
            out.append("'")
        elif char == "\\" or not (char == "\n" or char.isprintable()):
            out.append(f"<U+{ord(char):04X}>")
        else:
            out.append(char)
    return "".join(out)


def display_width(text: str) -> int:
    """The columns text takes as ruff measures a line: two for a wide East Asian character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def wrap_paragraphs(text: str, width: int) -> list[str]:
    """Fold prose into lines of at most `width` columns, keeping blank-line paragraph breaks.

    All whitespace is a space; a word longer than the width gets a line of its own.
    """
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        words = paragraph.split()
        if not words:
            continue
        if lines:
            lines.append("")
        line = words[0]
        for word in words[1:]:
            if display_width(line) + 1 + display_width(word) <= width:
                line += " " + word
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def first_fitting(indent: str, *summaries: str) -> str:
    """The first summary that fits on a docstring's first line at this indent."""
    room = LINE_LENGTH - len(indent) - 6
    fitting = (text for text in summaries if display_width(docstring_text(text)) <= room)
    return next(fitting, summaries[-1])


def docstring_lines(summary: str, body: str, indent: str) -> list[str]:
    """A docstring: a one-line summary, then the body's paragraphs (pydocstyle's layout).

    The body is escaped so that it cannot close the docstring or hide a statement, then
    wrapped: an escape is longer than the character it stands for, so lines are measured
    escaped.
    """
    escaped = docstring_text(body.replace("\r\n", "\n"))
    text = wrap_paragraphs(escaped, LINE_LENGTH - len(indent) - 4)
    if not text:
        return [f'{indent}"""{docstring_text(summary)}"""']
    return [
        f'{indent}"""{docstring_text(summary)}',
        "",
        *(f"{indent}{line}" if line else "" for line in text),
        f'{indent}"""',
    ]


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
    """A generated block function: its name, the block it is written from, its parameters.

    `sources` says how an attribute of the template's i-th layer is written when it is not a
    literal (`filters * 4`, `kernel`); `values` holds, per block, what it passes for the
    parameters that are not block arguments.
    """

    name: str
    template: Block
    parameters: tuple[str, ...]
    sources: dict[tuple[int, str], str]
    values: dict[str, dict[str, object]]


class PythonWriter:
    """Writes one graph as a module."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.names = Namespace(MODULE_NAMES)
        self.functions: list[_Function] = []
        self.function_of: dict[str, _Function] = {}
        self.plan_functions()

    # --- which blocks share a function ----------------------------------------------------

    def structure(self, block: Block) -> tuple[object, ...]:
        """What a block's layers are, up to their attribute values and the block's name."""
        parts: list[object] = [block.kind, block.variant]
        for name in block.layers:
            layer = self.graph[name]
            call = keras_call(layer)
            constants = tuple(arg.value for arg in call.args if arg.attr is None)
            inputs = self.local_inputs(block, layer)
            grouped = layer.group is not None
            parts.append(
                (layer.local, layer.op, layer.branch, inputs, call.cls, constants, grouped)
            )
        return tuple(parts)

    def plan_functions(self) -> None:
        """One function per form of each block type; what differs becomes its parameters.

        Blocks of one type and variant with the same layers share a function: an attribute
        bound to a block argument is written as that argument (`filters * 4`) in every block
        whose value agrees with it, and any other attribute whose value differs between the
        blocks becomes a parameter of its own.
        """
        groups: dict[tuple[object, ...], list[Block]] = {}
        for block in self.graph.blocks:
            groups.setdefault(self.structure(block), []).append(block)
        variants: dict[str, set[str]] = {}
        for block in self.graph.blocks:
            variants.setdefault(block.kind, set()).add(block.variant)
        for blocks in groups.values():
            template = blocks[0]
            variant = template.variant if len(variants[template.kind]) > 1 else ""
            name = self.names.create(f"{template.kind}{f'_{variant}' if variant else ''}_block")
            function = self.parameterize(name, blocks)
            self.functions.append(function)
            for block in blocks:
                self.function_of[block.name] = function

    def parameterize(self, name: str, blocks: list[Block]) -> _Function:
        """The function that `blocks` (of one structure) share."""
        template = blocks[0]
        sources: dict[tuple[int, str], str] = {}
        used_args: set[str] = set()
        extra: dict[tuple[object, ...], str] = {}  # values across the blocks -> parameter
        names = Namespace(("x", "name", *template.args))
        for i, layer in enumerate(self.graph[n] for n in template.layers):
            peers = [self.graph[block.layers[i]] for block in blocks]
            for attr in self.call_attrs(layer):
                binding = next((p.bindings[attr] for p in peers if attr in p.bindings), None)
                if binding is not None and all(
                    peer.attrs[attr] == block.args.get(binding.arg, 0) * binding.factor
                    for peer, block in zip(peers, blocks, strict=True)
                ):
                    sources[i, attr] = render_binding(binding, layer.attrs[attr])
                    used_args.add(binding.arg)
                    continue
                values = tuple(peer.attrs[attr] for peer in peers)
                if len(set(map(repr, values))) > 1:
                    if values not in extra:
                        extra[values] = names.create(attr)
                    sources[i, attr] = extra[values]
        parameters = (*(arg for arg in template.args if arg in used_args), *extra.values())
        per_block = {
            block.name: {parameter: values[j] for values, parameter in extra.items()}
            for j, block in enumerate(blocks)
        }
        return _Function(name, template, parameters, sources, per_block)

    # --- rendering pieces -----------------------------------------------------------------

    def local_inputs(self, block: Block, layer: Layer) -> tuple[str, ...]:
        """A layer's inputs by their names inside the block ('<input>' for the block input)."""
        return tuple(
            "<input>" if name == block.input else self.graph[name].local for name in layer.inputs
        )

    @staticmethod
    def call_attrs(layer: Layer) -> list[str]:
        """The attributes a layer's Keras call takes, written or left at Keras's default."""
        call = keras_call(layer, written=layer.attrs.keys())
        return [a.attr for a in (*call.args, *(arg for _, arg in call.kwargs)) if a.attr]

    @staticmethod
    def call_args(layer: Layer, sources: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """The callee, then its arguments as source; `sources` overrides literals.

        The callee is `layers.<Class>` for a stock layer, `<Class>` for one this module
        defines, `keras.ops.<function>` for an operation on tensors.
        """
        sources = sources or {}
        call = keras_call(layer, written=sources.keys())

        def render(arg: CallArg) -> str:
            if arg.attr is not None and arg.attr in sources:
                return sources[arg.attr]
            return python_literal(arg.value)

        callee = {"layers": "layers.", "ops": "keras.ops.", "archspec": ""}[call.module] + call.cls
        return (
            callee,
            *(render(a) for a in call.args),
            *(f"{key}={render(a)}" for key, a in call.kwargs),
        )

    def layer_lines(
        self,
        indent: str,
        layer: Layer,
        target: str,
        name_source: str,
        inputs: Sequence[str],
        sources: Mapping[str, str] | None = None,
    ) -> list[str]:
        """`target = layers.Cls(args, name=...)(inputs)`, laid out.

        An operation on tensors takes no name: `target = keras.ops.f(inputs, args)`.
        """
        callee, *arguments = self.call_args(layer, sources)
        if not layer.is_layer:
            return call_lines(indent, f"{target} = {callee}", [*inputs, *arguments])
        arguments.append(f"name={name_source}")
        tail = f"({inputs[0]})" if len(inputs) == 1 else f"([{', '.join(inputs)}])"
        return call_lines(indent, f"{target} = {callee}", arguments, tail)

    def statement_lines(
        self,
        indent: str,
        members: Sequence[Layer],
        target: str,
        name_source: Callable[[str], str],
        inputs: Sequence[str],
        sources: Callable[[Layer], Mapping[str, str]],
    ) -> list[str]:
        """One layer's statement, or a sequential group's: `keras.Sequential([...], name=...)`.

        `name_source(name)` is the source of a layer's or the group's name, `sources(layer)`
        the attributes of a layer written other than as literals.
        """
        first = members[0]
        if first.group is None:
            name = name_source(first.name)
            return self.layer_lines(indent, first, target, name, inputs, sources(first))
        lines = [f"{indent}{target} = keras.Sequential(", f"{indent}{INDENT}["]
        for layer in members:
            callee, *arguments = self.call_args(layer, sources(layer))
            arguments.append(f"name={name_source(layer.name)}")
            lines += call_lines(indent + 2 * INDENT, callee, arguments, ",")
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
        summary = first_fitting(
            "",
            f"{graph.name}: a Keras 3 model, generated by archspec from its spec.",
            "A Keras 3 model, generated by archspec from its spec.",
        )
        body = [] if summary.startswith(graph.name) else [f"The model: {graph.name}."]
        body += [
            graph.description,
            "Self-contained: needs only Keras 3 (with any backend). Run it to print the summary.",
        ]
        lines = [*docstring_lines(summary, "\n\n".join(body), ""), ""]
        classes = layer_classes(graph)
        stdlib = ["import sys"] if self.deep else []
        stdlib += sorted({line for cls in classes for line in cls.imports})
        lines += [*stdlib, *([""] if stdlib else []), "import keras", "from keras import layers"]
        lines.append("")
        for cls in classes:
            lines += ["", *cls.source.splitlines(), ""]
        for function in self.functions:
            lines += ["", *self.function_lines(function), ""]
        lines += ["", *self.build_model_lines(), ""]
        lines += ["", 'if __name__ == "__main__":', f"{INDENT}build_model().summary()", ""]
        return "\n".join(lines)

    def function_lines(self, function: _Function) -> list[str]:
        """One block function: docstring, the template block's layers, return its output."""
        block = function.template
        lines = call_lines("", f"def {function.name}", ["x", *function.parameters, "name"], ":")
        form = f" ({block.summary})" if block.summary else ""
        summary = first_fitting(INDENT, f"One {block.kind} block{form}.", "One block.")
        lines += docstring_lines(summary, block.doc, INDENT)
        body_layers = [self.graph[name] for name in block.layers]
        position = {layer.name: i for i, layer in enumerate(body_layers)}
        names = Namespace(("x", *function.parameters, "name"))
        holder: dict[str, str] = {"x": block.input}  # variable -> the IR layer whose value it holds
        variables = {"main": "x"}  # branch -> its variable

        def sources(layer: Layer) -> dict[str, str]:
            i = position[layer.name]
            return {attr: text for (j, attr), text in function.sources.items() if j == i}

        def name_source(name: str) -> str:
            # Every name in a block, its layers' and a group's, is the block's plus a suffix.
            suffix = name.removeprefix(block.name)
            return f'f"{{name}}{suffix}"' if suffix else "name"

        for members in statements(body_layers):
            first, last = members[0], members[-1]
            inputs = [self.variable_for(source, holder) for source in first.inputs]
            if first.branch not in variables:
                variables[first.branch] = names.create(first.branch)
            target = variables[first.branch]
            # A value still to be read must not be lost when its variable is overwritten: the
            # block input for an identity shortcut or a late projection, a branch point.
            kept = holder.get(target)
            readers = [r for r in body_layers[position[last.name] + 1 :] if kept in r.inputs]
            if kept is not None and readers and list(holder.values()).count(kept) == 1:
                alias = names.create(self.alias_name(block, kept, readers))
                lines.append(f"{INDENT}{alias} = {target}")
                holder[alias] = kept
            lines += self.statement_lines(INDENT, members, target, name_source, inputs, sources)
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

    def build_model_lines(self) -> list[str]:
        """build_model(): the input, the stem, one call per block, the head, the Model."""
        graph = self.graph
        figures = f"{graph.layer_count} layers, {graph.params:,} parameters."
        summary = first_fitting(INDENT, f"Build {graph.name}: {figures}", f"Build it: {figures}")
        first = graph.input
        parameters = {"input_shape": python_literal(first.shape)}
        classes = {b.arg for layer in graph for b in layer.bindings.values() if layer.block is None}
        if "classes" in classes:
            parameters["classes"] = python_literal(graph[graph.output].shape[-1])
        signature = ", ".join(f"{name}={default}" for name, default in parameters.items())
        lines = [f"def build_model({signature}):"]
        lines += docstring_lines(
            summary,
            f"With the defaults, the spec's model; {' and '.join(parameters)} may differ: the "
            "same network for another image size"
            + (" or number of classes." if "classes" in parameters else "."),
            INDENT,
        )
        shape_arguments = ["shape=input_shape", f"name={python_literal(first.name)}"]
        lines += call_lines(INDENT, "inputs = keras.Input", shape_arguments)
        variable = "inputs"
        blocks = {b.name: b for b in graph.blocks}
        stage_of_block = {name: stage for stage in graph.stages for name in stage.blocks}
        seen_scopes: set[str] = set()

        def sources(layer: Layer) -> dict[str, str]:
            return {a: render_binding(b, layer.attrs[a]) for a, b in layer.bindings.items()}

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
            lines += self.statement_lines(INDENT, members, "x", python_literal, [variable], sources)
            variable = "x"
        model_arguments = ["inputs=inputs", "outputs=x", f"name={python_literal(graph.name)}"]
        lines.append("")
        if self.deep:
            lines += [
                f"{INDENT}# Keras maps the graph recursively, one call per layer on its longest",
                f"{INDENT}# path ({graph.depth:,} layers), past Python's default limit.",
                f"{INDENT}sys.setrecursionlimit(max(sys.getrecursionlimit(), "
                f"{graph.recursion_limit}))",
            ]
        lines += call_lines(INDENT, "return keras.Model", model_arguments)
        return lines

    @property
    def deep(self) -> bool:
        """Whether Keras needs a higher recursion limit than Python's default to build it."""
        return self.graph.depth > DEEP_GRAPH

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
        values = {**block.args, **function.values[block.name]}
        arguments = [
            variable,
            *(f"{p}={python_literal(values[p])}" for p in function.parameters),
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
    """The classes of the Keras backend's module, by name, decorators included.

    Names the backend imports from the standard library (typing's `Any`) that a class uses
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
        if call.module == "archspec"
    )
    return [backend_classes()[name] for name in names]


def generate(graph: Graph) -> str:
    """The Python source of a module whose `build_model()` builds `graph` in Keras."""
    return PythonWriter(graph).module()
