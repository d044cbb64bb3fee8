"""Sparse gradients: embedding(sparse=True), embedding_bag(sparse=True), their accumulation
in `.grad`, and the optimizers and clipping functions that meet them, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from conftest import requires_torch

pytestmark = requires_torch


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's warning about sparse invariant checks
        yield


def _weight(T, shape=(6, 3), dtype=np.float32, seed=0):
    return T.nn.Parameter(T.tensor(np.random.RandomState(seed).randn(*shape).astype(dtype)))


def _parts(g):
    """(layout name, indices, values, size, is_coalesced) of a sparse gradient."""
    return (
        str(g.layout).split(".")[-1],
        g._indices().numpy().tolist(),
        g._values().detach().numpy(),
        tuple(g.shape),
        g.is_coalesced(),
    )


def _same_sparse(a, b, exact=True):
    pa, pb = _parts(a), _parts(b)
    assert pa[0] == pb[0] and pa[1] == pb[1] and pa[3] == pb[3] and pa[4] == pb[4], (pa, pb)
    if exact:
        np.testing.assert_array_equal(pa[2], pb[2])
    else:
        np.testing.assert_allclose(pa[2], pb[2], rtol=1e-6)


def _both(fn):
    import torch

    return fn(ember), fn(torch)


# ---- the gradient of embedding(sparse=True) ----------------------------------------------------


@pytest.mark.parametrize(
    "indices, padding_idx",
    [
        ([[0, 1, 3], [3, 4, 1]], 1),  # repeated index, padding dropped
        ([3, 1], None),  # unsorted: uncoalesced
        ([2], None),  # one entry: flagged coalesced, as PyTorch
        ([1, 1], 1),  # only padding: no entry
        ([], None),  # nothing looked up
    ],
)
def test_embedding_sparse_grad_as_torch(indices, padding_idx):
    def run(T):
        w = _weight(T)
        idx = T.tensor(indices, dtype=T.int64)
        out = F.embedding(idx, w, padding_idx=padding_idx, sparse=True) if T is ember else None
        if T is not ember:
            out = T.nn.functional.embedding(idx, w, padding_idx=padding_idx, sparse=True)
        (out * T.arange(1.0, out.numel() + 1).reshape(out.shape)).sum().backward()
        assert w.grad.grad_fn is None and not w.grad.requires_grad
        return w.grad

    e, t = _both(run)
    _same_sparse(e, t)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


def test_module_int32_indices_and_float64_weight():
    def run(T):
        m = T.nn.Embedding(5, 2, sparse=True).double()
        with T.no_grad():
            m.weight.copy_(T.tensor(np.arange(10.0).reshape(5, 2)))
        m(T.tensor([[4, 0], [4, 2]], dtype=T.int32)).pow(2).sum().backward()
        return m.weight.grad, repr(m)

    (e, er), (t, tr) = _both(run)
    _same_sparse(e, t)
    assert e._values().dtype == ember.float64 and e._indices().dtype == ember.int64
    assert er == tr


def test_scale_grad_by_freq_raises_in_backward():
    w = _weight(ember)
    out = F.embedding(ember.tensor([1, 1]), w, scale_grad_by_freq=True, sparse=True)  # forward runs
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
        out.sum().backward()


def test_sparse_grad_matches_finite_differences():
    """The sparse gradient, made dense, is the derivative (central differences in float64)."""
    w = ember.tensor(np.random.RandomState(1).randn(5, 3), requires_grad=True)
    idx = ember.tensor([3, 1, 3, 0])
    weights = ember.tensor(np.random.RandomState(2).randn(4, 3))

    def f(w):
        return (F.embedding(idx, w, sparse=True).pow(3) * weights).sum()

    f(w).backward()
    numeric = np.zeros((5, 3))
    base = w.detach().numpy()
    for i in range(5):
        for j in range(3):
            for sign in (1, -1):
                x = base.copy()
                x[i, j] += sign * 1e-6
                numeric[i, j] += sign * f(ember.tensor(x)).item() / 2e-6
    np.testing.assert_allclose(w.grad.to_dense().numpy(), numeric, rtol=1e-6, atol=1e-8)


# ---- accumulation in .grad -----------------------------------------------------------------------


def test_accumulation_as_torch():
    """sparse into sparse stays sparse and the same tensor; sparse into dense and dense into
    sparse give dense gradients; several uses in one pass add up."""

    def run(T):
        emb = T.nn.functional.embedding if T is not ember else F.embedding
        w = _weight(T)
        emb(T.tensor([3, 1, 3]), w, sparse=True).pow(2).sum().backward()
        first = w.grad
        emb(T.tensor([0, 3]), w, sparse=True).sum().backward()
        out = {"same": w.grad is first, "sparse": w.grad.coalesce(), "layout": str(w.grad.layout)}
        (w * 2).sum().backward()  # a dense gradient into the sparse one
        out["then dense"] = (str(w.grad.layout), w.grad.numpy().copy())
        w.grad = None
        (w * 3).sum().backward()
        dense = w.grad
        emb(T.tensor([2, 2]), w, sparse=True).sum().backward()  # sparse into dense: in place
        out["dense first"] = (w.grad is dense, str(w.grad.layout), w.grad.numpy().copy())
        w.grad = None
        both = emb(T.tensor([4, 1]), w, sparse=True).sum() + emb(T.tensor([1]), w, sparse=True).sum() * 2
        both.backward()
        out["one pass"] = w.grad.coalesce()
        w.grad = None
        (emb(T.tensor([5]), w, sparse=True).sum() + (w * w).sum()).backward()
        out["mixed pass"] = (str(w.grad.layout), w.grad.numpy().copy())
        return out

    e, t = _both(run)
    assert e["same"] and t["same"] and e["layout"].endswith("sparse_coo")
    _same_sparse(e["sparse"], t["sparse"])
    _same_sparse(e["one pass"], t["one pass"])
    for key in ("then dense", "dense first", "mixed pass"):
        named = tuple(x.replace("torch", "ember") if isinstance(x, str) else x for x in t[key][:-1])
        assert e[key][:-1] == named
        np.testing.assert_array_equal(e[key][-1], t[key][-1])


def test_autograd_grad_hooks_and_create_graph():
    def run(T):
        emb = T.nn.functional.embedding if T is not ember else F.embedding
        w = _weight(T)
        (g,) = T.autograd.grad(emb(T.tensor([3, 1]), w, sparse=True).pow(2).sum(), w)
        (gg,) = T.autograd.grad(emb(T.tensor([3, 1]), w, sparse=True).pow(2).sum(), w, create_graph=True)
        seen = []
        h = w.register_hook(lambda grad: seen.append((str(grad.layout), grad.is_coalesced())) or grad * 2)
        emb(T.tensor([0, 2]), w, sparse=True).sum().backward()
        h.remove()
        return g, gg, gg.grad_fn.name(), seen, w.grad

    (eg, egg, ename, eseen, ew), (tg, tgg, tname, tseen, tw) = _both(run)
    _same_sparse(eg, tg)
    _same_sparse(egg, tgg)
    assert ename == tname == "SparseCooTensorWithDimsAndTensorsBackward0"
    assert eseen == [(s.replace("torch", "ember"), c) for s, c in tseen]
    _same_sparse(ew, tw)


def test_a_hook_may_not_make_the_gradient_dense():
    w = _weight(ember)
    w.register_hook(lambda grad: grad.to_dense())
    with pytest.raises(RuntimeError, match="has changed the type of value"):
        F.embedding(ember.tensor([1]), w, sparse=True).sum().backward()


def test_a_non_leaf_weight_gets_a_dense_gradient():
    """A documented difference: PyTorch passes the sparse gradient on through the node."""
    w = _weight(ember)
    F.embedding(ember.tensor([3, 1, 3]), w * 2, sparse=True).sum().backward()
    expected = np.zeros((6, 3), np.float32)
    expected[[1, 3]] = [[2, 2, 2], [4, 4, 4]]
    assert w.grad.layout is ember.strided
    np.testing.assert_array_equal(w.grad.numpy(), expected)


def test_sparse_grad_can_be_assigned():
    w = ember.zeros(4, 2, requires_grad=True)
    w.grad = ember.sparse_coo_tensor([[1]], ember.ones(1, 2), (4, 2))
    assert w.grad.layout is ember.sparse_coo
    with pytest.raises(RuntimeError, match="attempting to assign a gradient of size"):
        w.grad = ember.sparse_coo_tensor([[1]], ember.ones(1, 2), (5, 2))


# ---- embedding_bag ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "sum"},
        {"mode": "mean"},
        {"mode": "mean", "padding_idx": 2},
        {"mode": "sum", "per_sample_weights": True},
        {"mode": "sum", "include_last_offset": True},
    ],
)
def test_embedding_bag_sparse_grad_as_torch(kwargs):
    kwargs = dict(kwargs)

    def run(T):
        w = _weight(T)
        args = dict(kwargs)
        psw = None
        if args.pop("per_sample_weights", False):
            psw = T.tensor([1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=True)
        offsets = T.tensor([0, 2, 5] if args.get("include_last_offset") else [0, 2, 2])
        bag = T.nn.functional.embedding_bag if T is not ember else F.embedding_bag
        out = bag(T.tensor([0, 2, 2, 5, 1]), w, offsets, sparse=True, per_sample_weights=psw, **args)
        (out * T.arange(1.0, out.numel() + 1).reshape(out.shape)).sum().backward()
        return w.grad, None if psw is None else psw.grad.numpy()

    (e, epsw), (t, tpsw) = _both(run)
    _same_sparse(e, t)
    if epsw is not None:
        np.testing.assert_allclose(epsw, tpsw, rtol=1e-6)


def test_embedding_bag_sparse_refusals():
    w = _weight(ember)
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        F.embedding_bag(ember.tensor([[0, 1]]), w, mode="max", sparse=True)
    module = ember.nn.EmbeddingBag(6, 3, mode="max", sparse=True)  # built, refused when called
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        module(ember.tensor([[0, 1]]))
    out = F.embedding_bag(ember.tensor([[0, 1]]), w, scale_grad_by_freq=True, sparse=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
        out.sum().backward()


# ---- optimizers ------------------------------------------------------------------------------------


def _train(T, name, kwargs, steps=4, extra_dense=False):
    """A few steps of an embedding table (and, with extra_dense, a dense parameter in the
    same group); the parameters after each step, or the error's (type, message)."""
    w = _weight(T)
    c = _weight(T, (3,), seed=1)
    scale = T.tensor(np.random.RandomState(1).randn(3).astype(np.float32))
    params = [w, c] if extra_dense else [w]
    rs = np.random.RandomState(2)
    emb = T.nn.functional.embedding if T is not ember else F.embedding
    try:
        opt = getattr(T.optim, name)(params, **kwargs)
        history = []
        for _ in range(steps):
            opt.zero_grad()
            idx = T.tensor(rs.randint(0, 6, size=5))
            rows = emb(idx, w, sparse=True) * scale
            loss = rows.pow(2).sum() + ((c * c).sum() if extra_dense else 0)
            loss.backward()
            if name == "LBFGS":
                opt.step(lambda idx=idx: (emb(idx, w, sparse=True) * scale).pow(2).sum())
            else:
                opt.step()
            history.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
        return history
    except Exception as ex:  # noqa: BLE001 (the error is what is compared)
        return type(ex).__name__, str(ex)


@pytest.mark.parametrize(
    "name, kwargs, exact",
    [
        ("SGD", {"lr": 0.1}, True),
        ("SGD", {"lr": 0.1, "maximize": True}, True),
        ("SGD", {"lr": 0.1, "momentum": 0.9}, False),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, False),
        ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3}, False),
        ("Adagrad", {"lr": 0.1}, False),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "maximize": True}, False),
        ("SparseAdam", {"lr": 0.1}, False),
        ("SparseAdam", {"lr": 0.1, "betas": (0.8, 0.9), "maximize": True}, False),
        ("LBFGS", {"lr": 0.1, "max_iter": 3}, False),
    ],
)
def test_optimizers_step_sparse_gradients_as_torch(name, kwargs, exact):
    """Parameters after each step. Exactly PyTorch's for plain SGD; within float32 rounding
    where PyTorch's sqrt or its order of a sparse sum's entries round differently."""
    e, t = _both(lambda T: _train(T, name, kwargs))
    assert not isinstance(e, tuple), e
    for a, b in zip(e, t):
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_sgd_and_adagrad_step_dense_and_sparse_parameters_of_one_group():
    for name, kwargs in (("SGD", {"lr": 0.1}), ("Adagrad", {"lr": 0.1})):
        e, t = _both(lambda T, name=name, kwargs=kwargs: _train(T, name, kwargs, steps=3, extra_dense=True))
        for a, b in zip(e, t):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
        ("SGD", {"lr": 0.1, "fused": True}),  # ember ignores fused, but refuses as PyTorch
        ("Adagrad", {"weight_decay": 0.1}),
        ("Adagrad", {"fused": True}),
        ("Adam", {}),
        ("AdamW", {}),
        ("Adadelta", {}),
        ("Adamax", {}),
        ("ASGD", {}),
        ("NAdam", {}),
        ("RAdam", {}),
        ("RMSprop", {}),
        ("Rprop", {}),
        ("Adafactor", {}),
    ],
)
def test_optimizers_refuse_sparse_gradients_as_torch(name, kwargs):
    e, t = _both(lambda T: _train(T, name, kwargs, steps=1))
    assert e == t and e[0] == "RuntimeError"


def test_sparse_adam_refusals_as_torch():
    def run(T):
        out = []
        p = T.zeros(3, requires_grad=True)
        (p * 2).sum().backward()
        for make in (
            lambda: T.optim.SparseAdam([p]).step(),
            lambda: T.optim.SparseAdam(
                [T.zeros(2), T.sparse_coo_tensor([[0]], [1.0], (3,)).requires_grad_()]
            ),
            lambda: T.optim.SparseAdam([{"params": [T.zeros(2, dtype=T.complex64, requires_grad=True)]}]),
        ):
            try:
                make()
                out.append(None)
            except Exception as ex:  # noqa: BLE001
                out.append((type(ex).__name__, str(ex)))
        return out

    e, t = _both(run)
    assert e == t


def test_zero_grad_of_sparse_gradients():
    def run(T):
        emb = T.nn.functional.embedding if T is not ember else F.embedding
        m = T.nn.Embedding(4, 2, sparse=True)
        opt = T.optim.SGD(m.parameters(), lr=0.1)
        m(T.tensor([1, 3, 1])).sum().backward()
        g = m.weight.grad
        opt.zero_grad(set_to_none=False)
        first = (m.weight.grad is g, g._nnz(), g.is_coalesced())
        emb(T.tensor([2]), m.weight, sparse=True).sum().backward()
        m.zero_grad(set_to_none=False)
        return first, (m.weight.grad is g, g._nnz(), g.is_coalesced(), tuple(g._values().shape))

    e, t = _both(run)
    assert e == t


# ---- clipping ---------------------------------------------------------------------------------------


def test_clipping_sparse_gradients_as_torch():
    def run(T):
        emb = T.nn.functional.embedding if T is not ember else F.embedding
        out = []
        for clip in (
            lambda ps: T.nn.utils.clip_grad_norm_(ps, 1.0),
            lambda ps: T.nn.utils.clip_grad_value_(ps, 1.0),
            lambda ps: T.nn.utils.clip_grads_with_norm_(ps, 1.0, T.tensor(5.0)),
        ):
            w = _weight(T)
            (emb(T.tensor([3, 1, 3]), w, sparse=True) * 10).sum().backward()
            try:
                clip([w])
                out.append(_parts(w.grad))
            except NotImplementedError:
                out.append("NotImplementedError")
        return out

    e, t = _both(run)
    assert e[:2] == t[:2] == ["NotImplementedError", "NotImplementedError"]
    _, ei, ev, es, ec = e[2]
    _, ti, tv, ts, tc = t[2]
    assert (ei, es, ec) == (ti, ts, tc)
    np.testing.assert_array_equal(ev, tv)


# ---- sparse leaves --------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_compressed_leaf_gets_a_gradient_of_its_layout(layout):
    """PyTorch gives a CSR leaf a CSR gradient (and fails for CSC, a bug not copied: ember
    gives CSC)."""
    dense = ember.tensor([[0.0, 2.0], [3.0, 0.0]])
    a = getattr(dense, f"to_sparse_{layout}")().requires_grad_()
    ember.sparse.mm(a, ember.ones(2, 2)).sum().backward()
    assert a.grad.layout is getattr(ember, f"sparse_{layout}")
    np.testing.assert_array_equal(a.grad.to_dense().numpy(), [[0.0, 2.0], [2.0, 0.0]])
    if layout == "csr":
        import torch

        t = torch.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csr().requires_grad_()
        torch.sparse.mm(t, torch.ones(2, 2)).sum().backward()
        assert t.grad.layout is torch.sparse_csr
        np.testing.assert_array_equal(a.grad.col_indices().numpy(), t.grad.col_indices().numpy())
        np.testing.assert_array_equal(a.grad.values().numpy(), t.grad.values().numpy())


def test_sgd_state_with_a_sparse_momentum_buffer_saves_and_loads():
    w = _weight(ember)
    opt = ember.optim.SGD([w], lr=0.1, momentum=0.9)
    F.embedding(ember.tensor([1, 4]), w, sparse=True).sum().backward()
    opt.step()
    other = ember.optim.SGD([w], lr=0.1, momentum=0.9)
    other.load_state_dict(opt.state_dict())
    buf, loaded = opt.state[w]["momentum_buffer"], other.state[w]["momentum_buffer"]
    assert loaded.layout is ember.sparse_coo and loaded is not buf
    np.testing.assert_array_equal(loaded.to_dense().numpy(), buf.to_dense().numpy())


def test_gradcheck_fails_a_sparse_gradient_for_its_layout_as_torch():
    """PyTorch's gradcheck compares the sparse gradient made dense, then fails it for its
    layout (a dense input's gradient must be dense); ember's raised SparseUnsupportedError."""

    def run(T, fn, **kwargs):
        w = T.tensor(np.random.RandomState(0).randn(5, 3), requires_grad=True)
        idx = T.tensor([1, 3, 1])
        f = fn(T, idx)
        try:
            return T.autograd.gradcheck(f, (w,), **kwargs)
        except Exception as ex:  # noqa: BLE001 (the error is what is compared)
            return type(ex).__name__, str(ex).replace("torch", "ember")

    def embedding(T, idx):
        return lambda w: T.nn.functional.embedding(idx, w, sparse=True).pow(2)

    def bag(T, idx):
        return lambda w: T.nn.functional.embedding_bag(idx, w, T.tensor([0, 1]), sparse=True)

    import torch

    for fn in (embedding, bag):
        e, t = run(ember, fn), run(torch, fn)
        assert (
            e == t == ("GradcheckError", "grad is incorrect layout (ember.sparse_coo is not ember.strided)")
        )
        assert run(ember, fn, raise_exception=False) is False


def test_sgd_applies_a_frequent_index_entry_by_entry_as_torch():
    """An index looked up many times among others (a common word's): each entry is added in
    the input's order with its own rounding, as PyTorch's dense.add_(sparse); the entries are
    grouped by occurrence once, not rescanned per occurrence."""
    rs = np.random.RandomState(0)
    idx = np.minimum(rs.zipf(1.3, size=400) - 1, 49)
    values = rs.randn(400, 4).astype(np.float32)

    def run(T):
        w = _weight(T, (50, 4))
        emb = T.nn.functional.embedding if T is not ember else F.embedding
        (emb(T.tensor(idx), w, sparse=True) * T.tensor(values)).sum().backward()
        T.optim.SGD([w], lr=0.37).step()
        return w.detach().numpy()

    e, t = _both(run)
    np.testing.assert_array_equal(e, t)


def test_a_user_functions_sparse_gradient_is_cast_or_refused_as_torch():
    """A custom Function's sparse gradient of another dtype is cast to the leaf's, as
    PyTorch's engine casts it; one of another size raises PyTorch's error."""

    def run(T, dtype, shape):
        class Fn(T.autograd.Function):
            @staticmethod
            def forward(ctx, w):
                return w.sum()

            @staticmethod
            def backward(ctx, g):
                return T.sparse_coo_tensor([[1, 1]], T.ones(2, 2, dtype=dtype) * g, shape)

        w = T.zeros(4, 2, requires_grad=True)
        try:
            Fn.apply(w).backward()
        except RuntimeError as ex:
            return str(ex)
        return w.grad, str(w.grad.dtype).split(".")[-1]

    import torch

    for dtype, shape in (("float64", (4, 2)), ("float32", (5, 2))):
        e, t = run(ember, getattr(ember, dtype), shape), run(torch, getattr(torch, dtype), shape)
        if isinstance(t, str):
            assert e == t.replace("torch", "ember") and "expected shape compatible with [4, 2]" in e
        else:
            assert e[1] == t[1] == "float32"
            _same_sparse(e[0], t[0])


def test_anomaly_mode_checks_a_sparse_gradients_values_as_torch():
    """detect_anomaly looked for NaN in the sparse gradient's stand-in array and raised
    SparseUnsupportedError; PyTorch checks its values."""

    def run(T, nan):
        w = _weight(T)
        emb = T.nn.functional.embedding if T is not ember else F.embedding
        try:
            with T.autograd.detect_anomaly():
                out = emb(T.tensor([1, 2]), w, sparse=True)
                (out * T.tensor([[1.0, float("nan") if nan else 1.0, 1.0]])).sum().backward()
        except RuntimeError as ex:
            return str(ex).split("\n")[0]
        return w.grad

    import torch

    _same_sparse(run(ember, False), run(torch, False))
    nan = run(ember, True)
    assert nan == run(torch, True) and "returned nan values in its 0th output" in nan


def test_clip_grad_value_refuses_a_sparse_gradient_before_clamping_any():
    """PyTorch's clip_grad_value_ (foreach, its default) raises before it clamps the dense
    gradients listed before the sparse one; ember's clamped them first."""

    def run(T):
        emb = T.nn.functional.embedding if T is not ember else F.embedding
        w, dense = _weight(T), _weight(T, seed=2)
        (emb(T.tensor([1]), w, sparse=True) * 5).sum().backward()
        (dense * 3).sum().backward()
        with pytest.raises(NotImplementedError):
            T.nn.utils.clip_grad_value_([dense, w], 0.1)
        return dense.grad.numpy()

    e, t = _both(run)
    np.testing.assert_array_equal(e, t)
