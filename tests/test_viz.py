"""ember.viz: the DOT text of a graph (op names, leaves, shapes, each edge once) and the
fallback to a .dot file where Graphviz's `dot` program is missing."""

from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest

import ember
from ember import nn, viz


def parse(dot: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The nodes (id -> attribute text) and the edges (source, target) of DOT text."""
    nodes = dict(re.findall(r"^  (n\d+) \[(.*)\];$", dot, flags=re.M))
    edges = re.findall(r"^  (n\d+) -> (n\d+);$", dot, flags=re.M)
    return nodes, edges


def label(attributes: str) -> str:
    return re.search(r'label="((?:[^"\\]|\\.)*)"', attributes).group(1)


def by_label(nodes: dict[str, str], text: str) -> str:
    (found,) = [n for n, attrs in nodes.items() if label(attrs) == text]
    return found


def course_graph():
    a = ember.tensor(2.0, requires_grad=True)
    b = ember.tensor(1.0, requires_grad=True)
    c = a + b
    d = b + 1
    return a, b, c, d, c * d


def test_course_graph_structure():
    a, b, c, d, e = course_graph()
    dot = viz.to_dot(e, params={"a": a, "b": b, "c": c, "d": d, "e": e})
    assert dot.startswith("digraph ember {") and dot.endswith("}")
    nodes, edges = parse(dot)
    ops = sorted(label(v) for v in nodes.values() if "shape=box" in v)
    assert ops == ["AddBackward0", "AddBackward0", "MulBackward0"]
    na, nb, nc, nd, ne = (by_label(nodes, f"{x}\\nscalar") for x in "abcde")
    assert "style=filled" in nodes[na] and "style=filled" in nodes[nb]
    assert "style=filled" not in nodes[nc] and "style=filled" not in nodes[ne]
    mul = by_label(nodes, "MulBackward0")
    assert (nc, mul) in edges and (nd, mul) in edges and (mul, ne) in edges
    # b feeds both additions: one edge to each, and a's only to the first
    assert sum(1 for s, _ in edges if s == nb) == 2 and sum(1 for s, _ in edges if s == na) == 1
    assert len(edges) == len(set(edges)) == 8


def test_shapes_and_parameter_names():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    out = model(ember.ones(5, 3)).sum()
    nodes, _ = parse(viz.to_dot(out, params=dict(model.named_parameters())))
    labels = {label(v) for v in nodes.values()}
    assert {"0.weight\\n4×3", "0.bias\\n4", "2.weight\\n2×4", "2.bias\\n2", "output\\nscalar"} <= labels
    assert "5×4" in labels  # an unnamed intermediate shows its shape
    # the input needs no gradient, so it is not part of the graph
    assert not any(label(v).endswith("5×3") for v in nodes.values())


def test_reused_node_is_drawn_once_with_each_edge_once():
    x = ember.randn(3, requires_grad=True)
    h = x.exp()  # used three times below
    out = (h * h + h).sum()
    nodes, edges = parse(viz.to_dot(out))
    exp_ops = [n for n, v in nodes.items() if label(v) == "ExpBackward0"]
    assert len(exp_ops) == 1
    (h_node,) = [t for s, t in edges if s == exp_ops[0]]
    targets = [t for s, t in edges if s == h_node]
    assert sorted(label(nodes[t]) for t in targets) == ["AddBackward0", "MulBackward0"]
    assert len(edges) == len(set(edges))


def test_float64_is_shown_and_output_without_graph():
    x = ember.ones(2, dtype=ember.float64, requires_grad=True)
    nodes, _ = parse(viz.to_dot((x * 2).sum()))
    assert "2 float64" in {label(v) for v in nodes.values()}
    nodes, edges = parse(viz.to_dot(ember.ones(2)))
    assert [label(v) for v in nodes.values()] == ["output\\n2"] and edges == []


def test_user_function_name():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(ember.ones(2, requires_grad=True))
    assert 'label="SquareBackward"' in viz.to_dot(y)


def test_drawing_after_backward_keeps_the_structure():
    a, b, c, d, e = course_graph()
    before = viz.to_dot(e)
    e.backward()
    assert viz.to_dot(e) == before


def test_deep_chain_no_recursion():
    x = ember.ones(2, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    nodes, edges = parse(viz.to_dot(y))
    assert len(nodes) == 1 + 10_000 * 2  # the leaf, then an op and its result per step
    assert len(edges) == 2 * 10_000


def test_labels_are_escaped():
    x = ember.ones(1, requires_grad=True)
    dot = viz.to_dot(x * 2, params={'say "hi"\\': x})
    assert r'label="say \"hi\"\\\n1"' in dot


def test_no_path_returns_the_dot_text():
    *_, e = course_graph()
    assert viz.draw_graph(e) == viz.to_dot(e)


def test_without_dot_program_writes_dot_file(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    *_, e = course_graph()
    written = viz.draw_graph(e, tmp_path / "graph.svg")
    assert written == str(tmp_path / "graph.dot")
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == viz.to_dot(e)
    assert not (tmp_path / "graph.svg").exists()


def test_renders_through_graphviz_when_dot_exists(tmp_path, monkeypatch):
    calls = []

    class FakeSource:
        def __init__(self, source):
            self.source = source

        def pipe(self, format):
            calls.append((self.source, format))
            return b"<svg/>"

    monkeypatch.setattr(viz.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setitem(sys.modules, "graphviz", types.SimpleNamespace(Source=FakeSource))
    *_, e = course_graph()
    assert viz.draw_graph(e, tmp_path / "graph.PNG") == str(tmp_path / "graph.PNG")
    assert calls == [(viz.to_dot(e), "png")] and (tmp_path / "graph.PNG").read_bytes() == b"<svg/>"


def test_dot_suffix_is_written_as_text(tmp_path):
    *_, e = course_graph()
    assert viz.draw_graph(e, tmp_path / "g.gv") == str(tmp_path / "g.gv")
    assert (tmp_path / "g.gv").read_text(encoding="utf-8").startswith("digraph")


def test_svg_when_graphviz_is_installed(tmp_path):
    pytest.importorskip("graphviz", reason="the graphviz package is not installed")
    if viz.shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    *_, e = course_graph()
    written = viz.draw_graph(e, tmp_path / "graph.svg")
    assert written.endswith(".svg") and "<svg" in (tmp_path / "graph.svg").read_text()


def test_multi_output_op_gets_one_tensor_node_per_output():
    class Halves(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:3].clone(), x[3:].clone()

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            return ember.cat([grad_first, grad_second])

    x = ember.tensor(np.arange(6.0, dtype=np.float32), requires_grad=True)
    first, second = Halves.apply(x)
    nodes, edges = parse(viz.to_dot((first * second).sum(), params={"first": first, "second": second}))
    halves = by_label(nodes, "HalvesBackward")
    parts = sorted(label(nodes[t]) for s, t in edges if s == halves)
    assert parts == ["first\\n3", "second\\n3"]
