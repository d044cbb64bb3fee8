"""Drawing the computation graph, as the course does: a bipartite graph of tensor nodes
(ellipses, leaves filled, each labelled with its shape) and op nodes (boxes, with PyTorch's
names such as MulBackward0), arrows in the direction of the forward pass.

`to_dot(t)` returns the graph in Graphviz's DOT language; it needs nothing installed.
`draw_graph(t, path)` also renders it through the `graphviz` package and the `dot` program
when both are installed (the `viz` extra and the system's graphviz); otherwise it writes the
DOT text to a .dot file beside the requested path, which any Graphviz viewer opens.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import edge_meta, edge_target

_LEAF_STYLE = 'shape=ellipse, style=filled, fillcolor="#d6eaf8"'
_TENSOR_STYLE = "shape=ellipse"
_OP_STYLE = "shape=box, style=rounded"


def _shape_text(shape: tuple, dtype: np.dtype) -> str:
    """The shape as "2×3" (or "scalar"), with the dtype when it is not float32."""
    text = "×".join(str(n) for n in shape) or "scalar"
    return text if dtype == np.float32 else f"{text} {dtype.name}"


def _label(name: str | None, shape: tuple, dtype: np.dtype) -> str:
    text = _shape_text(shape, dtype)
    return f"{name}\n{text}" if name else text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Dot:
    """Accumulates nodes and edges, each once, with short ids in order of discovery."""

    def __init__(self) -> None:
        self.ids: dict[tuple, str] = {}
        self.lines: list[str] = []
        self.edges: dict[str, None] = {}

    def node(self, key: tuple, label: str, style: str) -> str:
        """The id of the node for key, declaring it the first time it is seen."""
        node_id = self.ids.get(key)
        if node_id is None:
            node_id = self.ids[key] = f"n{len(self.ids)}"
            self.lines.append(f"  {node_id} [label={_quote(label)}, {style}];")
        return node_id

    def edge(self, source: str, target: str) -> None:
        self.edges[f"  {source} -> {target};"] = None

    def text(self) -> str:
        head = ["digraph ember {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=10];']
        return "\n".join([*head, *self.lines, *self.edges, "}"])


def to_dot(output: Tensor, params: dict[str, Tensor] | None = None) -> str:
    """The DOT text of the graph that produced `output` (walked without recursion).

    `params` names tensors in the labels, e.g. `dict(model.named_parameters())`, or
    `{"a": a, "c": c}` for leaves and intermediate results alike.
    Leaves that need no gradient (inputs, constants) are not part of the graph and not drawn.
    """
    names: dict[tuple, str] = {}
    for name, t in (params or {}).items():
        key = ("leaf", id(t)) if t.grad_fn is None else ("out", id(t.grad_fn), t._out_nr)
        names[key] = name
    dot = _Dot()
    root = output.grad_fn
    # The tensor an op produced is keyed by (op, output number): the graph keeps no
    # reference to intermediate tensors, only to the ops that made them.
    key = ("leaf", id(output)) if root is None else ("out", id(root), output._out_nr)
    label = _label(names.get(key, "output"), output.shape, output._data.dtype)
    if root is None:
        dot.node(key, label, _LEAF_STYLE)
        return dot.text()
    out = dot.node(key, label, _TENSOR_STYLE)
    dot.edge(dot.node(("op", id(root)), root.name(), _OP_STYLE), out)
    stack = [root]
    seen = {id(root)}
    while stack:
        fn = stack.pop()
        op = dot.node(("op", id(fn)), fn.name(), _OP_STYLE)
        for edge in fn._edges:
            if edge is None:
                continue
            shape, dtype = edge_meta(edge)
            if not isinstance(edge, Tensor):
                target, out_nr = edge_target(edge)
                producer = dot.node(("op", id(target)), target.name(), _OP_STYLE)
                key = ("out", id(target), out_nr)
                tensor = dot.node(key, _label(names.get(key), shape, dtype), _TENSOR_STYLE)
                dot.edge(producer, tensor)
                if id(target) not in seen:
                    seen.add(id(target))
                    stack.append(target)
            else:
                key = ("leaf", id(edge))
                tensor = dot.node(key, _label(names.get(key), shape, dtype), _LEAF_STYLE)
            dot.edge(tensor, op)
    return dot.text()


def draw_graph(
    output: Tensor, path: str | Path | None = None, params: dict[str, Tensor] | None = None
) -> str:
    """The DOT text of output's graph; with `path` (.svg, .png, .pdf), write the drawing there.

    Rendering needs the `graphviz` package and Graphviz's `dot` program; without either, or
    for a .dot/.gv path, the DOT text is written to `path` with the suffix .dot instead.
    Returns the DOT text when no path is given, else the path of the file written.
    """
    dot = to_dot(output, params)
    if path is None:
        return dot
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("dot", "gv") and shutil.which("dot") is not None:
        try:
            import graphviz
        except ImportError:
            pass
        else:
            path.write_bytes(graphviz.Source(dot).pipe(format=fmt))
            return str(path)
    fallback = path if fmt in ("dot", "gv") else path.with_suffix(".dot")
    fallback.write_text(dot, encoding="utf-8")
    return str(fallback)
