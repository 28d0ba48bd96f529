"""Block-level diagrams of a network, as Mermaid (GitHub and GitLab markdown) or Graphviz DOT.

One node for the stem, for each block's main path, for its shortcut (when it has layers), for
its add, and for the head; edges carry the shape of the tensor they pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from archspec.cost import describe_layers, format_shape
from archspec.ir import Graph, Layer

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


def _path(layers: list[Layer]) -> str:
    return describe_layers(layers).replace(" -> ", " → ")


def block_diagram(graph: Graph) -> Diagram:
    """The diagram of a lowered graph."""
    diagram = Diagram(graph.name)
    source = graph.input
    diagram.nodes.append(Node("input", ("input", format_shape(source.shape))))
    stem = graph.scope_layers("stem")
    diagram.nodes.append(Node("stem", ("stem", _path(stem))))
    diagram.edges.append(Edge("input", "stem", format_shape(source.shape)))
    previous, shape = "stem", format_shape(stem[-1].shape)
    blocks = {block.name: block for block in graph.blocks}
    for stage in graph.stages:
        members: list[str] = []
        for name in stage.blocks:
            block = blocks[name]
            layers = [graph[layer] for layer in block.layers]
            add_index = next(i for i, layer in enumerate(layers) if layer.op == "add")
            main = [layer for layer in layers[:add_index] if layer.branch == "main"]
            preact = [layer for layer in layers if layer.branch == "preact"]
            shortcut = [layer for layer in layers if layer.branch == "shortcut"]
            after_add = layers[add_index + 1 :]
            add_label = "+" + "".join(f" → {_path([layer])}" for layer in after_add)
            out_shape = format_shape(layers[-1].shape)
            if preact:  # a pre-activation shared by the main path and the projection
                diagram.nodes.append(Node(f"{name}_preact", ("pre-activation", _path(preact))))
                diagram.edges.append(Edge(previous, f"{name}_preact", shape))
                members.append(f"{name}_preact")
                previous, shape = f"{name}_preact", format_shape(preact[-1].shape)
            diagram.nodes.append(Node(name, (name, _path(main))))
            diagram.nodes.append(Node(f"{name}_add", (add_label,), round=True))
            diagram.edges.append(Edge(previous, name, shape))
            diagram.edges.append(Edge(name, f"{name}_add", format_shape(main[-1].shape)))
            members += [name, f"{name}_add"]
            if shortcut:
                diagram.nodes.append(Node(f"{name}_shortcut", ("shortcut", _path(shortcut))))
                diagram.edges.append(Edge(previous, f"{name}_shortcut", shape))
                diagram.edges.append(
                    Edge(f"{name}_shortcut", f"{name}_add", format_shape(shortcut[-1].shape))
                )
                members.append(f"{name}_shortcut")
            else:
                diagram.edges.append(Edge(previous, f"{name}_add", "identity", dashed=True))
            previous, shape = f"{name}_add", out_shape
        diagram.clusters.append((stage.name, f"{stage.name}: {stage.summary}", members))
    head = graph.scope_layers("head")
    diagram.nodes.append(Node("head", ("head", _path(head))))
    diagram.edges.append(Edge(previous, "head", shape))
    diagram.nodes.append(Node("output", ("output", format_shape(head[-1].shape))))
    diagram.edges.append(Edge("head", "output", format_shape(head[-1].shape)))
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
