"""Block-level diagrams of a network, as Mermaid (GitHub and GitLab markdown) or Graphviz DOT.

One node for the stem, for each path of each block (its main path, a shortcut, a shared
pre-activation, a squeeze-excitation), for each merge (add, multiply, concatenate), and for
the head; edges carry the shape of the tensor they pass, dashed for identity shortcuts.
Nodes are listed in the order their layers are created.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from archspec.cost import describe_layers, format_shape
from archspec.ir import Block, Graph, Layer
from archspec.ops import op_of

Format = Literal["mermaid", "dot"]


@dataclass(frozen=True)
class Node:
    """A box (or, for adds, a circle) in the diagram."""

    id: str
    lines: tuple[str, ...]
    round: bool = False


@dataclass(frozen=True)
class Edge:
    """An arrow, labelled with the shape it carries; dashed for identity shortcuts."""

    source: str
    target: str
    label: str
    dashed: bool = False


@dataclass
class Diagram:
    """Nodes, edges, and the clusters (stages) that group nodes."""

    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    clusters: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(id, label, node ids)."""


BRANCH_TITLES = {"preact": "pre-activation"}
"""How a side branch's node is titled, where its name is not the title."""


def _path(layers: list[Layer]) -> str:
    return describe_layers(layers).replace(" -> ", " → ")


class _BlockNodes:
    """Condenses a block's layers into diagram nodes.

    A merging layer (add, multiply, concatenate) is a round node; the layers the block ends
    with after its last merge are written into that node. Every other run of layers that
    follow one another on one branch, with nothing else reading between them, is a box. So a
    residual block draws as main path, shortcut and '+'; a block without a residual as one
    box; a squeeze-excitation as a side box and its multiply; a dense block's concatenation
    as its own node.
    """

    def __init__(self, graph: Graph, block: Block) -> None:
        self.graph = graph
        self.block = block
        self.layers = [graph[name] for name in block.layers]
        self.readers = Counter(source for layer in self.layers for source in layer.inputs)
        self.groups: list[list[Layer]] = []
        last_merge = max(
            (i for i, layer in enumerate(self.layers) if op_of(layer.op).merges), default=-1
        )
        for i, layer in enumerate(self.layers):
            group = self.groups[-1] if self.groups else None
            if group is not None and (i > last_merge >= 0 or self.continues(group, layer)):
                group.append(layer)
            else:
                self.groups.append([layer])

    def continues(self, group: list[Layer], layer: Layer) -> bool:
        """Whether `layer` extends the run `group` (both plain, on one branch, in a row)."""
        last = group[-1]
        return (
            not op_of(layer.op).merges
            and not op_of(last.op).merges
            and layer.branch == last.branch
            and layer.inputs == (last.name,)
            and self.readers[last.name] == 1
        )

    def nodes(self, used: set[str]) -> list[tuple[Node, list[Layer]]]:
        """Each group as a node with a unique id, and the group's layers."""
        out = []
        for group in self.groups:
            first = group[0]
            merge = op_of(first.op)
            if merge.merges:
                base = f"{self.block.name}_{first.local}"
                label = (merge.symbol or merge.describe(first.attrs)) + "".join(
                    f" → {_path([layer])}" for layer in group[1:]
                )
                node_lines: tuple[str, ...] = (label,)
            elif first.branch == "main":
                base = self.block.name
                node_lines = (self.block.name, _path(group))
            else:
                base = f"{self.block.name}_{first.branch}"
                node_lines = (BRANCH_TITLES.get(first.branch, first.branch), _path(group))
            node_id, count = base, 1
            while node_id in used:
                count += 1
                node_id = f"{base}_{count}"
            used.add(node_id)
            out.append((Node(node_id, node_lines, round=merge.merges), group))
        return out


def block_diagram(graph: Graph) -> Diagram:
    """The diagram of a lowered graph."""
    diagram = Diagram(graph.name)
    node_of: dict[str, str] = {}  # layer name -> the node that draws it
    used: set[str] = set()

    def add_node(node: Node, layers: Sequence[Layer], block: Block | None = None) -> None:
        used.add(node.id)
        diagram.nodes.append(node)
        inputs = [s for layer in layers for s in layer.inputs if s not in {x.name for x in layers}]
        for source in dict.fromkeys(inputs):
            identity = block is not None and op_of(layers[0].op).merges and source == block.input
            if identity:
                diagram.edges.append(Edge(node_of[source], node.id, "identity", dashed=True))
            else:
                label = format_shape(graph[source].shape)
                diagram.edges.append(Edge(node_of[source], node.id, label))
        for layer in layers:
            node_of[layer.name] = node.id

    inputs = graph.scope_layers("input")  # the input, then any preprocessing in the model
    lines = (
        "input",
        format_shape(graph.input.shape),
        *((_path(list(inputs[1:])),) if inputs[1:] else ()),
    )
    add_node(Node("input", lines), inputs)
    stem = list(graph.scope_layers("stem"))
    if stem:  # a network may have none (VGG)
        add_node(Node("stem", ("stem", _path(stem))), stem)
    blocks = {block.name: block for block in graph.blocks}
    for stage in graph.stages:
        members: list[str] = []
        for name in stage.blocks:
            block = blocks[name]
            for node, layers in _BlockNodes(graph, block).nodes(used):
                add_node(node, layers, block)
                members.append(node.id)
        diagram.clusters.append((stage.name, f"{stage.name}: {stage.summary}", members))
    head = list(graph.scope_layers("head"))
    if head:  # a backbone may end at its last stage (top: false, pool: none)
        add_node(Node("head", ("head", _path(head))), head)
    output = format_shape(graph[graph.output].shape)
    diagram.nodes.append(Node("output", ("output", output)))
    diagram.edges.append(Edge(node_of[graph.output], "output", output))
    return diagram


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(diagram: Diagram) -> str:
    """Mermaid flowchart source (renders in GitHub and GitLab markdown)."""
    clustered = {node_id for _, _, ids in diagram.clusters for node_id in ids}
    nodes = {node.id: node for node in diagram.nodes}

    def node_line(node: Node, indent: str) -> str:
        label = _mermaid_text("<br/>".join(node.lines))
        return f'{indent}{node.id}(("{label}"))' if node.round else f'{indent}{node.id}["{label}"]'

    lines = [f"---\ntitle: {_mermaid_text(diagram.title)}\n---", "flowchart TD"]
    lines += [node_line(n, "  ") for n in diagram.nodes if n.id not in clustered]
    for cluster_id, label, ids in diagram.clusters:
        lines.append(f'  subgraph {cluster_id}["{_mermaid_text(label)}"]')
        lines += [node_line(nodes[node_id], "    ") for node_id in ids]
        lines.append("  end")
    for edge in diagram.edges:
        arrow = "-.->" if edge.dashed else "-->"
        lines.append(f'  {edge.source} {arrow}|"{_mermaid_text(edge.label)}"| {edge.target}')
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(diagram: Diagram) -> str:
    """Graphviz DOT source (render with `dot -Tsvg`)."""
    clustered = {node_id for _, _, ids in diagram.clusters for node_id in ids}
    nodes = {node.id: node for node in diagram.nodes}

    def node_line(node: Node, indent: str) -> str:
        label = _dot_text("\n".join(node.lines)).replace("\n", "\\n")
        shape = ", shape=circle" if node.round else ""
        return f"{indent}{_dot_text(node.id)} [label={label}{shape}];"

    lines = [
        f"digraph {_dot_text(diagram.title)} {{",
        "  rankdir=TB;",
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    lines += [node_line(n, "  ") for n in diagram.nodes if n.id not in clustered]
    for cluster_id, label, ids in diagram.clusters:
        lines.append(f"  subgraph {_dot_text('cluster_' + cluster_id)} {{")
        lines.append(f"    label={_dot_text(label)};")
        lines += [node_line(nodes[node_id], "    ") for node_id in ids]
        lines.append("  }")
    for edge in diagram.edges:
        style = ", style=dashed" if edge.dashed else ""
        lines.append(
            f"  {_dot_text(edge.source)} -> {_dot_text(edge.target)} "
            f"[label={_dot_text(edge.label)}{style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_diagram(graph: Graph, output_format: Format) -> str:
    """The diagram of `graph` in the given format."""
    diagram = block_diagram(graph)
    return to_mermaid(diagram) if output_format == "mermaid" else to_dot(diagram)
