"""What a node saved, by PyTorch's names (autograd/saved.py), for the ops the first pass left
out: dir() lists exactly the attributes that read; the nodes of basic indexing are named and
show what torch's last node of the chain shows; pooling, split, advanced indexing,
transposed convolution, the general losses and norm over dims show torch's attributes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from conftest import requires_torch
from test_saved_attributes import OP_TABLE, nodes_of


def _listed(node) -> set:
    """The saved attributes dir() lists."""
    return {n for n in dir(node) if n.startswith(("_saved_", "_raw_saved_"))}


def _reading(node) -> set:
    """Those of them that read without AttributeError."""
    found = set()
    for name in _listed(node):
        try:
            getattr(node, name)
        except AttributeError:
            continue
        found.add(name)
    return found


# ---- dir() over the op tables --------------------------------------------------------------------


# ops whose node has torch's name but keeps less than torch's does (docs/differences.md): the
# names ember's node lacks. Nothing else may differ.
LACKS: dict[str, set] = {
    "max(dim)": {"_raw_saved_indices", "_saved_indices", "_saved_self_sym_sizes"},
    "min(dim)": {"_raw_saved_indices", "_saved_indices", "_saved_self_sym_sizes"},
    "gather": {"_raw_saved_self", "_saved_self"},
    "scatter": {"_raw_saved_index", "_saved_dim", "_saved_index"},
    "scatter_add": {"_raw_saved_index", "_saved_dim", "_saved_index"},
    "mm": {"_saved_mat2_sym_strides", "_saved_self_sym_strides"},
    "erfinv": {"_raw_saved_self", "_saved_self"},
    "copysign": {"_raw_saved_result", "_saved_result"},
    "copysign(zeros)": {"_raw_saved_result", "_saved_result"},
    "nan_to_num": {"_raw_saved_self", "_saved_self"},
    "nan_to_num(values)": {"_raw_saved_self", "_saved_self"},
    "nan_to_num_": {"_raw_saved_self", "_saved_self"},
    "take_along_dim": {"_raw_saved_self", "_saved_self"},
    "take_along_dim(None)": {"_raw_saved_self", "_saved_self"},
    "scatter_": {"_raw_saved_index", "_saved_dim", "_saved_index"},
    "scatter_add_": {"_raw_saved_index", "_saved_dim", "_saved_index"},
    "nansum": {"_raw_saved_self", "_saved_self"},
    "nansum(real)": {"_raw_saved_self", "_saved_self"},
}
# names ember's node shows that torch's does not
HAS_MORE: dict[str, set] = {}


def _nodes(spec, data):

    shapes, kwargs = spec.case(data.draw, max(1, spec.min_side), max(4, spec.min_side))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31), label="seed"))
    arrays = [spec.domain_of(k)(rng, s, k) for k, s in enumerate(shapes)]
    return nodes_of(spec, arrays, kwargs)


@requires_torch
@pytest.mark.parametrize("spec", OP_TABLE, ids=lambda spec: spec.name)
@settings(
    max_examples=2, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_dir_lists_exactly_what_reads(spec, data):
    """dir() of every op's node lists only saved attributes that read; where the node has
    torch's name, it lists torch's (but for the gaps LACKS names)."""
    ne, nt = _nodes(spec, data)
    if ne is None:
        return
    listed = _listed(ne)
    assert listed == _reading(ne), sorted(listed - _reading(ne))
    if nt is None or ne.name() != nt.name():
        return
    torch_names = _listed(nt)
    assert listed <= torch_names | HAS_MORE.get(spec.name, set()), sorted(listed - torch_names)
    lacking = torch_names - listed - LACKS.get(spec.name, set())
    assert not lacking, sorted(lacking)


def test_dir_of_t_and_transpose():
    x = ember.zeros(2, 3, requires_grad=True)
    assert _listed(x.t().grad_fn) == set()
    assert _listed(x.transpose(0, 1).grad_fn) == {"_saved_dim0", "_saved_dim1"}
    assert _listed(x.permute(1, 0).grad_fn) == {"_saved_dims"}
    # a parent's names that a subclass hides are not listed; the graph's own helpers are not
    # saved attributes
    mm = x.mm(ember.ones(3, 2, requires_grad=True)).grad_fn
    assert "_saved_other" not in dir(mm) and "_saved_mat2" in dir(mm)
    assert not any(n.startswith("_saved_as") for n in dir(mm))


def test_dir_after_backward_still_lists_freed_values():
    x = ember.ones(2, 3, requires_grad=True)
    y = x.exp()
    y.sum().backward()
    assert _listed(y.grad_fn) == {"_saved_result", "_raw_saved_result"}
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_result


def test_dir_runs_no_hook_and_no_version_check():
    calls = []
    x = ember.ones(3, requires_grad=True)
    c = x * 1
    y = c.sin()
    y.grad_fn._raw_saved_self.register_hooks(
        lambda t: calls.append("pack") or t, lambda t: calls.append("u") or t
    )
    with ember.no_grad():
        c.add_(1)
    assert "_saved_self" in dir(y.grad_fn) and calls == ["pack"]


def test_dir_runs_no_unpack_hook_of_a_kept_value():
    """Nor the unpack hook of a value kept on the node (max's indices), or of a saved number
    under saved_tensors_hooks (2 ** x): dir() lists them without reading them, as torch's."""
    calls = []
    x = ember.ones(3, requires_grad=True)
    y = x.max(0)[0]
    y.grad_fn._raw_saved_indices.register_hooks(lambda t: t, lambda t: calls.append("u") or t)
    assert {"_saved_indices", "_raw_saved_indices"} <= set(dir(y.grad_fn)) and calls == []
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: calls.append("u") or t):
        z = 2**x
    assert "_saved_self" in dir(z.grad_fn) and calls == []


# ---- basic indexing: the node of torch's last step ------------------------------------------------

BASIC_INDEXES = [
    "x[:]",
    "x[...]",
    "x[:, 1]",
    "x[1, :]",
    "x[1:, 2]",
    "x[1, 2]",
    "x[1, 2, 3]",
    "x[-1]",
    "x[:, -2]",
    "x[None]",
    "x[None, 1]",
    "x[1, None]",
    "x[:, None]",
    "x[..., 2]",
    "x[1, ..., 2]",
    "x[0:3]",
    "x[:, 0:4]",
    "x[:, 0:10]",
    "x[:, -4:]",
    "x[:, :, 1:]",
    "x[1:, 1:]",
    "x[::2, 1]",
    "x[:, 1:3, 2]",
    "x[..., None]",
    "x[1:3, None]",
    "x[:10]",
    "x[-2:]",
    "x[:-1]",
    "x[:, :, :]",
    "x[..., :]",
    "x[0:3, 1]",
    "x[None, ..., None]",
    "x[1, ..., None, 2]",
    "x[2, 1:, None, -1]",
    "x.narrow(1, 1, 2)",
    "x.narrow(1, 0, 4)",
    "x.select(1, -1)",
]


def _signed(v):
    return v - 2**64 if isinstance(v, int) and v >= 2**63 else v


@requires_torch
@pytest.mark.parametrize("expr", BASIC_INDEXES)
def test_basic_index_node_is_torchs_last(expr):
    """torch records one node per item of a basic index; ember's one node has the name and
    the saved attributes of torch's last one, and the gradient is torch's."""
    import torch

    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    nodes, grads = [], []
    for T in (ember, torch):
        x = T.tensor(a, requires_grad=True)
        y = eval(expr)
        nodes.append(y.grad_fn)
        (y * T.arange(y.numel()).reshape(y.shape)).sum().backward()
        grads.append(x.grad.numpy())
    ne, nt = nodes
    assert ne.name() == nt.name()
    assert _listed(ne) == _listed(nt)
    for name in _listed(nt):
        assert getattr(ne, name) == _signed(getattr(nt, name)), name
    np.testing.assert_array_equal(grads[0], grads[1])


@requires_torch
@pytest.mark.parametrize(
    "expr", ["x[:, 1]", "x[1:, 2]", "x[None, 1]", "x[:, 0:4]", "x[..., None]", "x[2, 1:, None, -1]"]
)
def test_basic_index_views_in_place_keep_torchs_gradients(expr):
    """In-place ops through such a view, and setitem with the same index, give torch's
    gradients."""
    import torch

    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    got = []
    for T in (ember, torch):
        x0 = T.tensor(a, requires_grad=True)
        x = x0 * 1
        v = eval(expr)
        v.mul_(2)
        (x * x).sum().backward()
        x = x0 * 1
        w = T.ones(eval(expr).shape, requires_grad=True)
        exec(expr + " = w * 3")
        (x**2).sum().backward()
        got.append((x0.grad.numpy(), w.grad.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-6)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-6)


def test_basic_index_node_gradcheck():
    x = ember.randn(3, 4, 5, dtype=ember.float64, requires_grad=True)
    for f in (lambda t: t[1:, 2], lambda t: t[None, 1], lambda t: t[2, 1:, None, -1], lambda t: t[:, 0:4]):
        assert ember.autograd.gradcheck(f, (x,))
        assert ember.autograd.gradgradcheck(f, (x,))


# ---- pooling --------------------------------------------------------------------------------------

POOLINGS = [
    "F.max_pool2d(x, 3, 2, 1, ceil_mode=True)",
    "F.max_pool2d(x[0], 3)",
    "F.max_pool2d(x, 2, return_indices=True)[0]",
    "F.max_pool2d(x, (2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1))",
    "F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=3)",
    "F.avg_pool2d(x, 3)",
    "F.max_pool1d(x[0], 3, 2, 1)",
    "F.max_pool1d(x[0], 2, dilation=2)",
    "F.avg_pool1d(x[0], 3, 2, 1)",
    "F.avg_pool1d(x[0], 3)",
    "F.adaptive_max_pool2d(x, 3)",
    "F.adaptive_max_pool1d(x[0], 3)",
    "F.adaptive_avg_pool2d(x, 4)",
    "F.max_pool3d(v, 2)",
    "F.avg_pool3d(v, 2, 1)",
    "F.adaptive_max_pool3d(v, 3)",
    "F.adaptive_avg_pool3d(v, 2)",
]


@requires_torch
@pytest.mark.parametrize("expr", POOLINGS)
def test_pooling_saved_attributes(expr):
    """torch's node name and attributes (a 1-d pooling: those of the 2-d node under torch's
    squeeze); ember keeps no `_saved_self` (docs/differences.md)."""
    import torch

    g = np.random.default_rng(0)
    a, a3 = (
        g.standard_normal((2, 3, 8, 8)).astype(np.float32),
        g.standard_normal((1, 2, 4, 4, 4)).astype(np.float32),
    )
    nodes = []
    for T in (ember, torch):
        names = {
            "F": T.nn.functional,
            "x": T.tensor(a, requires_grad=True),
            "v": T.tensor(a3, requires_grad=True),
        }
        node = eval(expr, names).grad_fn
        if T is torch and "pool1d" in expr:
            node = node.next_functions[0][0]  # under the squeeze
        nodes.append(node)
    ne, nt = nodes
    assert ne.name() == nt.name()
    assert _listed(ne) == _listed(nt) - {"_saved_self", "_raw_saved_self"}
    for name in _listed(ne):
        e, t = getattr(ne, name), getattr(nt, name)
        if name.startswith("_raw_"):
            assert isinstance(e, ember.autograd.saved.SavedTensor)
            e, t = e.unpack(), t.unpack()
        if isinstance(t, torch.Tensor):
            assert e.dtype == ember.int64 and not e.requires_grad
            np.testing.assert_array_equal(e.numpy(), t.numpy())
        else:
            assert e == t and type(e) is type(t), name


@requires_torch
@pytest.mark.parametrize("expr", ["F.avg_pool2d(x, 3, 2, 1)", "F.adaptive_avg_pool2d(x, 4)"])
def test_average_pooling_in_double_backward_is_named_as_torchs(expr):
    """The average pooling that create_graph records as the backward of the pooling's backward
    is torch's node for the same call (an avg_pool2d's is no AdaptiveAvgPool2DBackward0)."""
    import torch

    found = []
    for T in (ember, torch):
        x = T.ones(1, 2, 8, 8, requires_grad=True)
        y = eval(expr, {"F": T.nn.functional, "x": x})
        v = T.ones(y.shape, requires_grad=True)
        (g,) = T.autograd.grad(y, x, v, create_graph=True)
        (h,) = T.autograd.grad(g, v, T.ones(g.shape, requires_grad=True), create_graph=True)
        node = h.grad_fn
        attrs = {n: getattr(node, n) for n in _listed(node) if n.startswith("_saved_") and n != "_saved_self"}
        found.append((node.name(), attrs))
    assert found[0] == found[1]


# ---- split, chunk, unbind; advanced indexing ---------------------------------------------------------

SPLITS = [
    "x.split(2, -1)",
    "x.split([1, 3], -1)",
    "x.split([2, 4])",
    "x.unbind(-1)",
    "x.unbind(0)",
    "x.chunk(3, -2)",
    "x.chunk(4)",
    "T.split(x, 10)",
]


@requires_torch
@pytest.mark.parametrize("expr", SPLITS)
def test_split_saved_attributes(expr):
    import torch

    a = np.arange(24, dtype=np.float32).reshape(6, 4)
    nodes = []
    for T in (ember, torch):
        pieces = eval(expr, {"T": T, "x": T.tensor(a, requires_grad=True)})
        assert all(p.grad_fn is pieces[0].grad_fn for p in pieces)
        nodes.append(pieces[0].grad_fn)
    ne, nt = nodes
    assert ne.name() == nt.name()
    assert _listed(ne) == _listed(nt)
    for name in _listed(nt):  # ember's dims are non-negative (docs/differences.md)
        t = _signed(getattr(nt, name))
        assert getattr(ne, name) == (t % 2 if name == "_saved_dim" else t), name


ADVANCED = [
    "x[i]",
    "x[:, i]",
    "x[i, i]",
    "x[x > 0]",
    "x[[0, 1]]",
    "x[1, i]",
    "x[:, [True, False, True, True]]",
    "x[..., i]",
    "x[i, :, i]",
    "x[None, i]",
    "x[i, None]",
    "x[1:, i]",
    "x[x[:, :, 0] > 0]",
    "x[T.tensor(True)]",
    "x[i, 1:3]",
    "x[2:, i, None]",
    "x[i, ..., 1]",
    "x[True, i]",
    "x[i.int()]",
    "x[[[0], [1]], [1, 2]]",
]


@requires_torch
@pytest.mark.parametrize("expr", ADVANCED)
def test_advanced_index_saved_attributes(expr):
    """IndexBackward0's `_saved_self_sym_sizes` (the shape after the basic items) and
    `_saved_indices` (one entry per dim, None where taken whole), as torch's."""
    import torch

    a = np.random.default_rng(0).standard_normal((6, 4, 3)).astype(np.float32)
    found = []
    for T in (ember, torch):
        node = eval(expr, {"T": T, "x": T.tensor(a, requires_grad=True), "i": T.tensor([1, 2])}).grad_fn
        indices = [None if t is None else (t.numpy().tolist(), str(t.dtype)) for t in node._saved_indices]
        indices = [None if t is None else (t[0], t[1].split(".")[-1]) for t in indices]
        found.append(
            (node.name(), node._saved_self_sym_sizes, indices, _listed(node) - {"_raw_saved_indices"})
        )
    assert found[0] == found[1]


def test_advanced_index_attributes_after_backward():
    x = ember.ones(4, 3, requires_grad=True)
    y = x[ember.tensor([0, 2])]
    y.sum().backward()
    assert y.grad_fn._saved_self_sym_sizes == (4, 3)
    for name in ("_saved_indices", "_raw_saved_indices"):  # torch raises for both
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            getattr(y.grad_fn, name)
    assert "_raw_saved_indices" in dir(y.grad_fn)
    # other nodes built on Index show none of its names
    d = ember.ones(3, 3, requires_grad=True).diagonal()
    assert not any(n.startswith("_saved_ind") for n in dir(d.grad_fn))


# ---- transposed convolution -------------------------------------------------------------------------

CONV_TRANSPOSED = [
    ("conv_transpose2d", (1, 2, 5, 5), (2, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("conv_transpose1d", (1, 4, 5), (4, 3, 3), {"groups": 2, "dilation": 2}),
    (
        "conv_transpose3d",
        (1, 2, 3, 3, 3),
        (2, 2, 2, 2, 2),
        {"stride": (1, 2, 3), "padding": (0, 1, 0), "output_padding": (0, 1, 2)},
    ),
    ("conv_transpose2d", (1, 2, 5, 5), (2, 3, 3, 3), {"stride": 3, "output_padding": 2, "dilation": 2}),
]


@requires_torch
@pytest.mark.parametrize("op, xs, ws, kw", CONV_TRANSPOSED)
def test_conv_transpose_saved_attributes(op, xs, ws, kw):
    """torch records a transposed convolution as ConvolutionBackward0 with transposed=True."""
    import torch

    g = np.random.default_rng(0)
    a, w = g.standard_normal(xs).astype(np.float32), g.standard_normal(ws).astype(np.float32)
    nodes, inputs = [], []
    for T in (ember, torch):
        x, wt = T.tensor(a, requires_grad=True), T.tensor(w, requires_grad=True)
        nodes.append(getattr(T.nn.functional, op)(x, wt, **kw).grad_fn)
        inputs.append((x, wt))
    ne, nt = nodes
    assert ne.name() == nt.name() == "ConvolutionBackward0"
    assert _listed(ne) == _listed(nt) - {"_saved_bias_sym_sizes_opt"}  # as for conv (differences.md)
    for name in _listed(ne):
        e, t = getattr(ne, name), getattr(nt, name)
        if isinstance(t, torch.Tensor):
            np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
        elif not name.startswith("_raw"):
            assert e == t, name
    assert ne._saved_input is inputs[0][0] and ne._saved_weight is inputs[0][1]


# ---- norm over dims ------------------------------------------------------------------------------------

NORMS = [
    "x.norm()",
    "x.norm(dim=1)",
    "x.norm(p=3, dim=(0, 1), keepdim=True)",
    "T.linalg.vector_norm(x, 2, dim=-1)",
    "T.linalg.vector_norm(x)",
    "T.linalg.vector_norm(x, dim=(1, 0))",
    "T.linalg.vector_norm(x, 1, dim=0, keepdim=True)",
    "T.linalg.vector_norm(x[0], 0.5, dim=0)",
    "T.linalg.vector_norm(x, dim=[])",  # every dim, shown as the () given, not None
]


@requires_torch
@pytest.mark.parametrize("expr", NORMS)
def test_norm_shows_its_dims(expr):
    import torch

    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    found = []
    for T in (ember, torch):
        node = eval(expr, {"T": T, "x": T.tensor(a, requires_grad=True)}).grad_fn
        dim = node._saved_dim
        found.append((node.name(), dim if dim is None else tuple(d % 2 for d in dim), node._saved_keepdim))
        found[-1] += (float(node._saved_ord),)
    assert found[0] == found[1]


def test_norm_gradients_unchanged():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    for p in (1.0, 2.0, 3.0, 0.5):
        assert ember.autograd.gradcheck(lambda t, p=p: ember.linalg.vector_norm(t, p, dim=(1, 0)), (x,))
        assert ember.autograd.gradgradcheck(lambda t, p=p: ember.linalg.vector_norm(t, p, dim=1), (x,))


# ---- squeeze and unsqueeze ---------------------------------------------------------------------------

SQUEEZES = [
    "x.unsqueeze(-1)",
    "x.unsqueeze(0)",
    "x.squeeze()",
    "x.squeeze(1)",
    "x.squeeze(-1)",
    "x.squeeze((1, -1))",
    "x.squeeze(0)",
    "x.squeeze((0,))",
    "x[0, 0, 0, 0].unsqueeze(0)",
]


@requires_torch
@pytest.mark.parametrize("expr", SQUEEZES)
def test_squeeze_nodes_as_torch(expr):
    """SqueezeBackward0/1/2 by the form of the call, UnsqueezeBackward0 with its dim."""
    import torch

    a = np.ones((3, 1, 4, 1), dtype=np.float32)
    found = []
    for T in (ember, torch):
        x = T.tensor(a, requires_grad=True)
        y = eval(expr, {"x": x})
        node = y.grad_fn
        values = {}
        for name in _listed(node):
            v = getattr(node, name)
            values[name] = (
                tuple(_signed(d) % 4 for d in v) if name == "_saved_dim" and isinstance(v, tuple) else v
            )
        if "_saved_dim" in values and isinstance(values["_saved_dim"], int):
            values["_saved_dim"] = _signed(values["_saved_dim"]) % (
                y.ndim if "unsqueeze" in expr else max(1, x.ndim)
            )
        y.sum().backward()
        found.append((node.name(), values, x.grad.numpy().tolist()))
    assert found[0] == found[1]


# ---- values kept on the node: their _raw_saved_ form -----------------------------------------------------

# (what makes the node, the raw attribute, an unpack hook that changes the value): the hook's
# value is what backward uses, in torch and in ember
FIELD_HOOKS = [
    ("x.max(1)[0]", "indices", lambda t: (t + 1) % 3),
    ("x.min(0, keepdim=True)[0]", "indices", lambda t: (t + 1) % 4),
    ("T.where(x > 0, x, 0.0)", "condition", lambda t: t.logical_not()),
    ("x.gather(1, T.tensor([[0], [1], [2], [0]]))", "index", lambda t: (t + 1) % 3),
    ("x.index_select(0, T.tensor([0, 2]))", "index", lambda t: t + 1),
    ("F.nll_loss(x, T.tensor([0, 1, 2, 0]), reduction='sum')", "target", lambda t: (t + 1) % 3),
    ("F.embedding(T.tensor([0, 2]), x)", "indices", lambda t: t + 1),
    ("F.adaptive_max_pool2d(x[None], 2)", "result1", lambda t: t * 0),
]


@requires_torch
@pytest.mark.parametrize("expr, name, change", FIELD_HOOKS)
def test_raw_saved_of_kept_values_takes_hooks(expr, name, change):
    import torch

    a = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    results = []
    for T in (ember, torch):
        calls = []
        x = T.tensor(a, requires_grad=True)
        y = eval(expr, {"T": T, "F": T.nn.functional, "x": x})
        raw = getattr(y.grad_fn, "_raw_saved_" + name)
        assert "_raw_saved_" + name in dir(y.grad_fn)
        assert raw is getattr(y.grad_fn, "_raw_saved_" + name) and raw.unpack_hook is None
        before = getattr(y.grad_fn, "_saved_" + name).numpy().copy()
        raw.register_hooks(lambda t, calls=calls: calls.append("pack") or t.clone(), lambda t: change(t))
        assert calls == ["pack"] and raw.unpack_hook is not None
        shown = getattr(y.grad_fn, "_saved_" + name).numpy()
        y.sum().backward()
        results.append((before, shown, x.grad.numpy(), raw.data))
    (be, se, ge, de), (bt, st_, gt, dt) = results
    np.testing.assert_array_equal(be, bt)
    np.testing.assert_array_equal(se, st_)
    np.testing.assert_allclose(ge, gt)
    assert de is None and dt is None  # freed with the graph


def test_raw_saved_of_kept_values_rules():
    x = ember.randn(1, 2, 4, 4, requires_grad=True)
    y = ember.nn.functional.max_pool2d(x, 2)
    raw = y.grad_fn._raw_saved_result1
    assert isinstance(raw, ember.autograd.saved.SavedTensor)
    assert ember.equal(raw.unpack(), y.grad_fn._saved_result1)
    with pytest.raises(RuntimeError, match="another form"):  # the node keeps the window offsets
        raw.register_hooks(lambda t: t, lambda t: t)
    z = x.flatten().max(0)[0]
    r = z.grad_fn._raw_saved_indices
    r.register_hooks(lambda t: t, lambda t: t)
    with pytest.raises(RuntimeError, match="already been set"):
        r.register_hooks(lambda t: t, lambda t: t)
    with pytest.raises(TypeError):
        x.max(1)[0].grad_fn._raw_saved_indices.register_hooks(1, 2)
    w = x.max(1)[0]
    w.grad_fn._raw_saved_indices.register_hooks(lambda t: t, lambda t: "no")
    with pytest.raises(TypeError, match="expected to be a Tensor"):
        w.sum().backward()
    v = x.max(1)[0]
    v.sum().backward()
    with pytest.raises(RuntimeError, match="after it has been freed"):
        v.grad_fn._raw_saved_indices.register_hooks(lambda t: t, lambda t: t)
    assert "_raw_saved_indices" in dir(v.grad_fn)


@pytest.mark.parametrize("expr", ["x.max(1)[0]", "x.index_select(0, ember.tensor([0, 2]))"])
def test_kept_value_hooks_drop_the_packed_value_with_the_graph(expr):
    """What pack_hook returned goes when backward frees the graph (as torch's, and as a
    saved tensor's): a hook that offloads the value does not keep it alive with the node.
    With retain_graph it stays; a later backward raises the freed graph's error."""
    import gc
    import weakref

    class Box:
        def __init__(self, t):
            self.t = t

    x = ember.ones(3, 4, requires_grad=True)
    y = eval(expr, {"ember": ember, "x": x})
    raw = getattr(y.grad_fn, "_raw_saved_" + ("indices" if "max" in expr else "index"))
    refs = []

    def pack(t):
        box = Box(t)
        refs.append(weakref.ref(box))
        return box

    raw.register_hooks(pack, lambda box: box.t)
    y.backward(ember.ones(y.shape), retain_graph=True)
    gc.collect()
    assert refs[0]() is not None
    y.backward(ember.ones(y.shape))
    gc.collect()
    assert refs[0]() is None and raw.data is None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(ember.ones(y.shape))


# ---- the losses' general path: weight, ignored targets, label smoothing ---------------------------------

LOSSES = [
    ("cross_entropy", {"weight": [1.0, 2, 3, 4]}),
    ("nll_loss", {"weight": [1.0, 2, 3, 4]}),
    ("cross_entropy", {"ignore_index": 3}),
    ("nll_loss", {"ignore_index": 3}),
    ("cross_entropy", {"weight": [1.0, 2, 3, 4], "reduction": "sum"}),
    ("nll_loss", {"weight": [1.0, 2, 3, 4], "reduction": "none", "ignore_index": 1}),
    ("cross_entropy", {"weight": [1.0, 2, 3, 4], "reduction": "none", "ignore_index": 1}),
]


@requires_torch
@pytest.mark.parametrize("op, kw", LOSSES)
def test_general_loss_shows_nll_loss_attributes(op, kw):
    """torch's NllLossBackward0 attributes (ember's fused cross-entropy node shows them too;
    nll_loss keeps no input: no `_saved_self`)."""
    import torch

    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    found = []
    for T in (ember, torch):
        k = dict(kw)
        if "weight" in k:
            k["weight"] = T.tensor(k["weight"])
        node = getattr(T.nn.functional, op)(T.tensor(a, requires_grad=True), T.tensor([0, 3, 1]), **k).grad_fn
        values = {}
        for name in _listed(node) - {"_saved_self", "_raw_saved_self"}:
            v = getattr(node, name)
            if name.startswith("_raw_"):
                v = v.data
            values[name] = v.detach().numpy().tolist() if hasattr(v, "numpy") else _signed(v)
        found.append(values)
    assert found[0] == found[1]


def test_general_loss_kept_arguments_take_no_hooks():
    """The fused node's backward reads the dense target it built, not these: hooks on them
    could not change the gradient, so they are refused."""
    x = ember.randn(3, 4, requires_grad=True)
    loss = ember.nn.functional.cross_entropy(
        x, ember.tensor([0, 3, 1]), weight=ember.ones(4), label_smoothing=0.1
    )
    assert loss.grad_fn._saved_ignore_index == -100 and loss.grad_fn._saved_self is x
    with pytest.raises(RuntimeError, match="does not read this value"):
        loss.grad_fn._raw_saved_target.register_hooks(lambda t: t, lambda t: t)
    n = ember.nn.functional.nll_loss(x, ember.tensor([0, 3, 1]), ignore_index=0).grad_fn
    with pytest.raises(RuntimeError, match="value None is forbidden"):
        n._raw_saved_weight.register_hooks(lambda t: t, lambda t: t)
    with ember.no_grad():  # no node: nothing kept
        assert ember.nn.functional.nll_loss(x, ember.tensor([0, 3, 1]), ignore_index=0).grad_fn is None


# ---- other nodes that had torch's name but none of its attributes ------------------------------------

OTHERS = [
    "x.roll(2, 1)",
    "x.roll((1, 2), (0, -1))",
    "x.diagonal()",
    "x.diagonal(1, -1, 0)",
    "x[0].diagonal(-1)",
    "x.nansum(1)",
    "x.nansum((0, 2), keepdim=True)",
    "T.copysign(x, T.ones(5))",
]


@requires_torch
@pytest.mark.parametrize("expr", OTHERS)
def test_other_nodes_saved_attributes(expr):
    import torch

    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    found = []
    for T in (ember, torch):
        x = T.tensor(a, requires_grad=True)
        node = eval(expr, {"T": T, "x": x}).grad_fn
        values = {}
        # copysign's result and nansum's input: ember's nodes keep neither (LACKS)
        skip = {"_saved_result", "_raw_saved_result"} | (
            {"_saved_self", "_raw_saved_self"} if "nansum" in expr else set()
        )
        for name in _listed(node) - skip:
            v = getattr(node, name)
            if name.startswith("_raw_"):
                v = v.unpack()
            if isinstance(v, tuple):
                v = tuple(_signed(d) % 3 if "dim" in name else d for d in v)
            elif name in ("_saved_dim1", "_saved_dim2"):
                v = _signed(v) % 3
            values[name] = v.detach().numpy().tolist() if hasattr(v, "numpy") else _signed(v)
        found.append((node.name(), values))
    assert found[0] == found[1]


NUMPY_INT_ARGUMENTS = [
    ("x.unsqueeze(i(1))", ("_saved_dim",)),
    ("x.diagonal(i(1), i(0), i(2))", ("_saved_offset", "_saved_dim1", "_saved_dim2")),
    ("x.roll(i(2), i(1))", ("_saved_dims", "_saved_shifts")),
    ("x.roll((i(1), 2), (i(0), 1))", ("_saved_dims", "_saved_shifts")),
    ("x.nansum(i(1))", ("_saved_dim",)),
    ("ember.linalg.vector_norm(x, dim=(i(2), 0))", ("_saved_dim",)),
]


@pytest.mark.parametrize("expr, names", NUMPY_INT_ARGUMENTS)
def test_numpy_integer_arguments_show_as_ints(expr, names):
    """Dims and numbers named with NumPy integers show as Python ints, as torch's do."""
    x = ember.ones(3, 4, 5, requires_grad=True)
    node = eval(expr, {"ember": ember, "x": x, "i": np.int64}).grad_fn
    for name in names:
        value = getattr(node, name)
        assert all(type(v) is int for v in (value if isinstance(value, tuple) else (value,))), (name, value)


@requires_torch
@pytest.mark.parametrize(
    "stmt",
    [
        "x[i] = v",
        "x[:, i] = v",
        "x[x > 0] = 1.0",
        "x[i, i] = v",
        "x.index_put_((i,), v)",
        "x[..., i] = v",  # `...` with tensors only: one index_put on x, as torch records it
        "x[i, ...] = v",
        "x[:, ..., i] = v",
    ],
)
def test_index_put_saved_attributes(stmt):
    import torch

    a = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    found = []
    for T in (ember, torch):
        names = {
            "a": T.tensor(a, requires_grad=True),
            "w": T.ones(1, requires_grad=True),
            "i": T.tensor([0, 2]),
        }
        names["x"], names["v"] = names["a"] * 1, names["w"] * 2
        exec(stmt, names)
        node = names["x"].grad_fn
        indices = [None if t is None else t.numpy().tolist() for t in node._saved_indices]
        found.append((node.name(), node._saved_accumulate, indices, _listed(node)))
        g = T.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3))
        a_grad, v_grad = T.autograd.grad(names["x"], (names["a"], names["w"]), g, allow_unused=True)
        found.append([None if t is None else t.numpy().tolist() for t in (a_grad, v_grad)])
    assert found[0] == found[2] and found[1] == found[3]


@requires_torch
def test_index_raw_saved_indices():
    """One SavedTensor per entry, None ones included, as torch's; ember's take no hooks (the
    node reads its NumPy index)."""
    import torch

    found = []
    for T in (ember, torch):
        x, i = T.ones(4, 3, requires_grad=True), T.tensor([0, 2])
        y = x[:, i]
        raw = y.grad_fn._raw_saved_indices
        assert raw is y.grad_fn._raw_saved_indices or T is torch
        found.append([None if r.data is None else r.data.tolist() for r in raw])
        y.sum().backward()
        if T is ember:  # freed with the graph (torch 2.13 still shows a freed index's data)
            assert all(r.data is None for r in raw)
    assert found[0] == found[1] == [None, [0, 2]]
    y = ember.ones(4, 3, requires_grad=True)[ember.tensor([0, 2])]
    with pytest.raises(RuntimeError, match="does not read this value"):
        y.grad_fn._raw_saved_indices[0].register_hooks(lambda t: t, lambda t: t)
    # a None entry (a dim taken whole) refuses hooks with torch's message
    z = ember.ones(4, 3, requires_grad=True)[:, ember.tensor([0, 2])]
    with pytest.raises(RuntimeError, match="with value None is forbidden"):
        z.grad_fn._raw_saved_indices[0].register_hooks(lambda t: t, lambda t: t)
