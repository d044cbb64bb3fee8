"""Places where ember differed from PyTorch 2.13, each compared with torch here: out= dtypes of
the float reductions, ..."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch

_XS = np.random.default_rng(0).standard_normal((5, 7)) * 3


def _outcome(lib, name, x_dtype, out_dtype):
    """What `lib.<name>(x, 0, out=...)` gives: its out's array, or its error's type and text."""
    x = lib.tensor(_XS.astype(x_dtype))
    out = lib.empty(7, dtype=getattr(lib, out_dtype))
    try:
        getattr(lib, name)(x, 0, out=out)
    except Exception as error:  # noqa: BLE001 - the comparison is of the error itself
        return type(error), str(error)
    return out.numpy().copy()


@requires_torch
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", ["mean", "nanmean", "std", "var", "logsumexp", "nansum", "sum"])
@pytest.mark.parametrize("x_dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64", "bool", "complex64", "complex128"])
def test_float_reduction_into_out_computes_in_outs_dtype(name, x_dtype, out_dtype):
    """mean of float32 into a float64 out sums in float64, as PyTorch; nansum refuses an integer
    out for a float input, std a complex out for a real one, with PyTorch's error."""
    import torch

    if x_dtype == "complex64" and name == "logsumexp":
        pytest.skip("ember's logsumexp has no complex support yet")
    ours, theirs = _outcome(ember, name, x_dtype, out_dtype), _outcome(torch, name, x_dtype, out_dtype)
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and ours[0] is theirs[0], (ours, theirs)
        if theirs[0] is NotImplementedError or "logsumexp" in theirs[1] or "nansum" in theirs[1]:
            assert ours[1] == theirs[1]
        return
    assert not isinstance(ours, tuple), ours
    assert ours.dtype == theirs.dtype
    exact = out_dtype in ("float64", "complex128") and x_dtype != "complex64" and name != "logsumexp"
    tol = 1e-12 if exact else 2e-6  # PyTorch's logsumexp takes exp in x's dtype, ember in out's
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def test_logsumexp_of_complex_into_complex_out_is_not_its_real_part():
    """A complex input is not cast to out's real dtype (which kept only its real part, with
    no error): ember's logsumexp refuses complex input, with or without out."""
    x = ember.tensor([[1 + 2j, 3 - 1j, 0.5j]], dtype=ember.complex64)
    for out in (None, ember.empty(0, dtype=ember.complex64), ember.empty(0, dtype=ember.complex128)):
        with pytest.raises(NotImplementedError, match="complex"):
            ember.logsumexp(x, 1, out=out)


@requires_torch
@pytest.mark.parametrize("name", ["std", "var"])
@pytest.mark.parametrize("x_dtype", ["int64", "bool"])
def test_std_of_integers_into_complex_out_raises_torchs_error_type(name, x_dtype):
    """torch says std and var take floats (a RuntimeError) before it looks at a complex out;
    ember said "std_cpu" not implemented for the out (a NotImplementedError)."""
    import torch

    for lib in (torch, ember):
        x = lib.tensor([[1, 0, 1]], dtype=getattr(lib, x_dtype))
        with pytest.raises(RuntimeError) as caught:
            getattr(lib, name)(x, 1, out=lib.empty(0, dtype=lib.complex64))
        assert caught.type is RuntimeError  # not its subclass NotImplementedError


@requires_torch
def test_mean_into_float64_out_is_not_computed_in_float32():
    import torch

    x = np.full(10**5, 0.1, np.float32)
    ours, theirs = ember.empty((), dtype=ember.float64), torch.empty((), dtype=torch.float64)
    ember.mean(ember.tensor(x), out=ours)
    torch.mean(torch.tensor(x), out=theirs)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-13)


@pytest.mark.filterwarnings("ignore")
def test_sgd_dense_grad_meeting_sparse_momentum_buffer_raises_torchs_error(T):
    """The buffer a sparse gradient started stays sparse; a later dense gradient cannot be
    added to it (torch: add(sparse, dense)), and the parameter is left as it was."""
    w = T.nn.Parameter(T.zeros(3, 2))
    opt = T.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = T.sparse_coo_tensor(T.tensor([[0, 2]]), T.ones(2, 2), (3, 2))
    opt.step()
    before = w.detach().clone()
    w.grad = T.ones(3, 2)
    with pytest.raises(
        RuntimeError, match=r"add\(sparse, dense\) is not supported. Use add\(dense, sparse\) instead."
    ):
        opt.step()
    assert T.equal(w.detach(), before)


@pytest.mark.parametrize("make", [ember.jit.script, lambda m: ember.jit.trace(m, ember.zeros(1, 2))])
def test_scripted_module_save_says_what_ember_supports_instead(make, tmp_path):
    """torch.jit.script(m).save(f) writes TorchScript; ember's script returns m itself, whose
    save(f) raises jit.save's NotImplementedError (how to save the weights), not an
    AttributeError; the module's state_dict and pickling are unchanged."""
    import pickle

    model = ember.nn.Linear(2, 3)
    scripted = make(model)
    assert scripted is model
    with pytest.raises(
        NotImplementedError, match=r"not a ScriptModule.*ember\.save\(model\.state_dict\(\), f\)"
    ):
        scripted.save(str(tmp_path / "model.pt"))
    assert list(scripted.state_dict()) == ["weight", "bias"]
    assert pickle.loads(pickle.dumps(scripted)).weight.shape == (3, 2)
    with pytest.raises(AttributeError, match=r"^'Linear' object has no attribute 'weights'$"):
        scripted.weights  # noqa: B018


@pytest.mark.parametrize("make", [ember.jit.script, ember.jit.trace])
def test_scripting_keeps_a_modules_own_save_method(make):
    """script returns the module itself: a save method its class defines must not be
    replaced by the one that raises (it was, on the caller's own model too)."""

    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = ember.nn.Linear(2, 2)

        def save(self, path):
            return f"saved to {path}"

    model = Net()
    assert make(model).save("w.pt") == "saved to w.pt"
    assert model.save("w.pt") == "saved to w.pt"


@requires_torch
@pytest.mark.parametrize("source", ["ember capsule", "torch capsule", "torch tensor", "numpy array"])
def test_from_dlpack_shares_writable_memory(source):
    """As torch.from_dlpack: the tensor is the producer's memory, and writes go both ways
    (a bare capsule is DLPack's unversioned kind, which NumPy alone would make read-only)."""
    import torch

    producer = {
        "ember capsule": lambda: ember.arange(6.0).reshape(2, 3)[:, 1:],
        "torch capsule": lambda: torch.arange(6.0).reshape(2, 3).t(),
        "torch tensor": lambda: torch.arange(6.0).reshape(2, 3),
        "numpy array": lambda: np.arange(6.0).reshape(2, 3),
    }[source]()
    given = producer
    if source == "ember capsule":
        given = ember.utils.dlpack.to_dlpack(producer)
    elif source == "torch capsule":
        given = torch.utils.dlpack.to_dlpack(producer)
    shared = ember.from_dlpack(given)
    assert shared.tolist() == producer.tolist()
    shared[0, 1] = -1.0
    assert producer[0, 1].item() == -1.0
    producer[1, 0] = -2.0
    assert shared[1, 0].item() == -2.0
    shared.add_(1)  # in place through the whole view
    assert shared.tolist() == producer.tolist()


def test_from_dlpack_of_read_only_memory_stays_read_only():
    # to_dlpack's capsule is versioned and carries the read-only flag: forcing it writable
    # (as an unversioned capsule's array is) would let writes into an immutable bytes object
    source = ember.from_numpy(np.frombuffer(bytes(16), np.float32))
    shared = ember.from_dlpack(ember.utils.dlpack.to_dlpack(source))
    assert not shared._data.flags.writeable and not source._data.flags.writeable
    assert np.shares_memory(shared._data, source._data)


def _scatter_amax(lib, reduce, self_values, src_values, index):
    s = lib.tensor(self_values, dtype=lib.float64, requires_grad=True)
    src = lib.tensor(src_values, dtype=lib.float64, requires_grad=True)
    out = s.scatter_reduce(0, lib.tensor(index), src, reduce, include_self=False)
    (out * lib.arange(1.0, 4.0, dtype=lib.float64)).sum().backward()
    return out.detach().numpy(), s.grad.numpy(), src.grad.numpy()


@requires_torch
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_ties_without_self_split_the_gradient_among_the_sources(reduce):
    """Values are PyTorch's; tied sources share their place's gradient evenly, as PyTorch's,
    and where the input also equals the result (not included) the shares still add up to
    the gradient: PyTorch 2.13 counts the input among the ties there (docs/differences.md)."""
    import torch

    untied = ([0.0, 7.0, 5.0], [2.0, 2.0, 2.0, 3.0], [0, 0, 0, 1])  # input not equal to results
    for lib_result in zip(_scatter_amax(ember, reduce, *untied), _scatter_amax(torch, reduce, *untied)):
        np.testing.assert_allclose(*lib_result)
    ours = _scatter_amax(ember, reduce, [2.0, 2.0, 5.0], [2.0, 2.0, 2.0, 3.0], [0, 0, 0, 1])
    theirs = _scatter_amax(torch, reduce, [2.0, 2.0, 5.0], [2.0, 2.0, 2.0, 3.0], [0, 0, 0, 1])
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])  # the input: no gradient where replaced
    np.testing.assert_allclose(ours[2], [1 / 3, 1 / 3, 1 / 3, 2.0])  # PyTorch: 1/4 each


_PICKING_OPS = {
    "sort": (lambda L, x: L.sort(x, 1, descending=True), "SortBackward0"),
    "msort": (lambda L, x: (L.msort(x),), "SortBackward0"),
    "sort_stable": (lambda L, x: L.sort(x, dim=0, stable=True), "SortBackward1"),
    "sort_not_stable": (lambda L, x: x.sort(stable=False, dim=1, descending=True), "SortBackward1"),
    "topk": (lambda L, x: L.topk(x, 2, 1), "TopkBackward0"),
    "median": (lambda L, x: L.median(x, 1), "MedianBackward1"),
    "nanmedian": (lambda L, x: L.nanmedian(x, 0, keepdim=True), "NanmedianBackward1"),
    "mode": (lambda L, x: L.mode(x, 1), "ModeBackward0"),
    "kthvalue": (lambda L, x: L.kthvalue(x, 2, 0), "KthvalueBackward0"),
    "cummax": (lambda L, x: L.cummax(x, 1), "CummaxBackward0"),
    "cummin": (lambda L, x: L.cummin(x, 0), "CumminBackward0"),
}
_DISTINCT = [[3.0, 1.0, 2.0, 8.0], [-1.0, 5.0, 0.5, 4.0], [7.0, -2.0, 6.0, 9.0]]


@requires_torch
@pytest.mark.parametrize("op", sorted(_PICKING_OPS))
def test_order_statistics_record_torchs_single_node(op):
    """sort, topk, median(dim), mode, kthvalue, cummax, ... record one node with PyTorch's
    name and saved attributes (not a Gather and a View), with the same values and gradient."""
    import torch

    pick, name = _PICKING_OPS[op]
    results = {}
    for lib in (ember, torch):
        x = lib.tensor(_DISTINCT, dtype=lib.float64, requires_grad=True)
        out = pick(lib, x)
        values = out[0]
        node = values.grad_fn
        saved = {a: getattr(node, a) for a in dir(node) if a.startswith("_saved_")}
        (
            values * lib.arange(1.0, values.numel() + 1, dtype=lib.float64).reshape(values.shape)
        ).sum().backward()
        results[lib] = (node.name(), values.detach().numpy(), x.grad.numpy(), saved, len(node.next_functions))
    ours, theirs = results[ember], results[torch]
    assert ours[0] == theirs[0] == name
    np.testing.assert_array_equal(ours[1], theirs[1])
    np.testing.assert_array_equal(ours[2], theirs[2])
    assert sorted(ours[3]) == sorted(theirs[3])
    for key, value in theirs[3].items():
        if isinstance(value, torch.Tensor):
            np.testing.assert_array_equal(ours[3][key].detach().numpy(), value.detach().numpy())
        elif key == "_saved_self_sym_sizes":
            assert tuple(ours[3][key]) == tuple(value)
        else:
            assert ours[3][key] == value, key
    assert ours[4] == theirs[4] == 1


_ON_0D = {
    "sort": lambda L, x: L.sort(x, 0),
    "topk": lambda L, x: L.topk(x, 1),
    "median": lambda L, x: L.median(x, 0, keepdim=True),
    "nanmedian": lambda L, x: L.nanmedian(x, -1),
    "mode": lambda L, x: L.mode(x, 0),
    "kthvalue": lambda L, x: L.kthvalue(x, 1, 0, True),
    "cummax": lambda L, x: L.cummax(x, 0),
    "cummin": lambda L, x: L.cummin(x, 0),
}


@requires_torch
@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_of_all_elements_is_named_as_torch(op):
    """nanmedian(x) was recorded as MedianBackward0; PyTorch records NanmedianBackward0."""
    import torch

    names = [
        getattr(lib, op)(lib.tensor([[1.0, float("nan")], [3.0, 2.0]], requires_grad=True)).grad_fn.name()
        for lib in (ember, torch)
    ]
    assert names[0] == names[1]


@requires_torch
@pytest.mark.parametrize("op", sorted(_ON_0D))
def test_order_statistics_of_0d_tensor_record_torchs_node(op):
    """A 0-d tensor is its own sort, median, ...: PyTorch still records the op's node (it was
    a CloneBackward0 here), with its saved attributes; the values are a copy of the input."""
    import torch

    results = {}
    for lib in (ember, torch):
        x = lib.tensor(2.5, dtype=lib.float64, requires_grad=True)
        values, indices = _ON_0D[op](lib, x)
        node = values.grad_fn
        saved = {a: getattr(node, a) for a in dir(node) if a.startswith("_saved_") and a != "_saved_dim"}
        saved = {k: (tuple(v.shape), v.tolist()) if hasattr(v, "shape") else v for k, v in saved.items()}
        (values * 3).backward()
        values.detach().add_(1)  # a copy: x does not change
        results[lib] = (node.name(), saved, values.item(), indices.item(), x.item(), x.grad.item())
    assert results[ember] == results[torch]


@pytest.mark.parametrize("op", sorted(_PICKING_OPS))
def test_order_statistics_gradcheck_and_guard_their_indices(op):
    pick, _ = _PICKING_OPS[op]
    x = ember.tensor(_DISTINCT, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: pick(ember, t)[0], (x,))
    assert ember.autograd.gradgradcheck(lambda t: pick(ember, t)[0], (x,))
    out = pick(ember, x)
    if len(out) > 1:  # the indices are saved: changed in place, backward refuses, as PyTorch's
        out[1].add_(0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out[0].sum().backward()


def test_cummax_repeated_indices_add_up():
    x = ember.tensor([5.0, 1.0, 2.0, 7.0], requires_grad=True)
    ember.cummax(x, 0).values.sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 0.0, 1.0]


_CLAMPS = {
    "both": (lambda L, x, lo, hi: L.clamp(x, lo, hi), "ClampBackward0"),
    "min": (lambda L, x, lo, hi: x.clamp(min=lo), "ClampBackward0"),
    "max": (lambda L, x, lo, hi: L.clip(x, max=hi), "ClampBackward0"),
    "clamp_min": (lambda L, x, lo, hi: L.clamp_min(x, lo), "ClampMinBackward1"),
    "clamp_max": (lambda L, x, lo, hi: x.clamp_max(hi), "ClampMaxBackward1"),
}


@requires_torch
@pytest.mark.parametrize("form", sorted(_CLAMPS))
def test_clamp_by_tensors_records_torchs_node(form):
    """Tensor bounds: one node (not a chain of where), PyTorch's name and saved tensors, and
    its gradients at ties, NaNs, min > max and with broadcasting."""
    import torch

    clamp, name = _CLAMPS[form]
    x_values = [[-2.0, 0.0, 0.5, 1.0, 3.0, float("nan")], [0.2, 2.0, -1.0, 1.5, 0.7, 0.0]]
    lo_values, hi_values = [0.0, 0.0, 0.2, 1.5, -1.0, 0.0], [[1.0], [0.5]]
    results = {}
    for lib in (ember, torch):
        x, lo, hi = (
            lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in (x_values, lo_values, hi_values)
        )
        y = clamp(lib, x, lo, hi)
        node = y.grad_fn
        saved = sorted(a for a in dir(node) if a.startswith("_saved_"))
        (y * lib.arange(1.0, 13.0, dtype=lib.float64).reshape(2, 6)).sum().backward()
        grads = [None if t.grad is None else t.grad.numpy() for t in (x, lo, hi)]
        results[lib] = (node.name(), y.detach().numpy(), grads, saved, len(node.next_functions))
    ours, theirs = results[ember], results[torch]
    assert ours[0] == theirs[0] == name
    np.testing.assert_array_equal(ours[1], theirs[1])
    for a, b in zip(ours[2], theirs[2]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert ours[3:] == theirs[3:]


@pytest.mark.parametrize("form", sorted(_CLAMPS))
def test_clamp_by_tensors_gradcheck(form):
    clamp, _ = _CLAMPS[form]
    rng = np.random.default_rng(1)
    x, lo, hi = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 4), (4,), (3, 1)))
    hi.data.add_(1.5)
    assert ember.autograd.gradcheck(lambda a, b, c: clamp(ember, a, b, c), (x, lo, hi))
    assert ember.autograd.gradgradcheck(lambda a, b, c: clamp(ember, a, b, c), (x, lo, hi))


@requires_torch
def test_clamp_0d_tensor_beside_a_number_is_a_number_bound():
    import torch

    for lib in (ember, torch):
        x = lib.tensor([-1.0, 0.5, 3.0], requires_grad=True)
        node = lib.clamp(x, min=lib.tensor(0.0), max=2.0).grad_fn
        assert (node.name(), node._saved_min, node._saved_max) == ("ClampBackward1", 0.0, 2.0)


@requires_torch
@pytest.mark.parametrize("op", ["var_mean", "std_mean"])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"dim": 1}, {"dim": 0, "correction": 0, "keepdim": True}, {"dim": [0, 1], "unbiased": False}],
)
@pytest.mark.parametrize("used", ["both", "spread", "mean"])
def test_var_mean_records_torchs_single_node(op, kwargs, used):
    """One VarMeanBackward0 / StdMeanBackward0 for both results, PyTorch's saved attributes,
    and its gradient whichever of the two results is used."""
    import torch

    xv = np.random.default_rng(0).standard_normal((3, 4))
    results = {}
    for lib in (ember, torch):
        x = lib.tensor(xv, requires_grad=True)
        spread, mean = getattr(lib, op)(x, **kwargs)
        node = spread.grad_fn
        assert mean.grad_fn is node
        saved = {a: getattr(node, a) for a in dir(node) if a.startswith("_saved_")}
        saved = {k: tuple(v.shape) if hasattr(v, "shape") else v for k, v in saved.items()}
        loss = {"both": spread * 2 + mean * 3, "spread": spread, "mean": mean}[used]
        loss.sum().backward()
        results[lib] = (node.name(), saved, spread.detach().numpy(), mean.detach().numpy(), x.grad.numpy())
    ours, theirs = results[ember], results[torch]
    assert ours[:2] == theirs[:2]
    for a, b in zip(ours[2:], theirs[2:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@requires_torch
@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
def test_spread_of_integers_raises_torchs_error(op):
    """var_mean said "var(): could not infer output dtype ..."; PyTorch names the op it ran
    (ember's message goes on to name the dtype)."""
    import torch

    errors = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as caught:
            getattr(lib, op)(lib.tensor([[1, 2], [3, 5]]), 1)
        errors.append(str(caught.value))
    assert errors[1] == f"{errors[0]} (got ember.int64)"


@requires_torch
@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
def test_spread_of_float16_sums_in_float32(op):
    """A thousand float16 values near 1000: ember summed their squares (and, in backward,
    the values) in float16, giving inf and an inf or NaN gradient; PyTorch sums in float32."""
    import torch

    xs = np.random.default_rng(3).standard_normal((2, 1000)) * 100 + 1000
    results = []
    for lib in (ember, torch):
        x = lib.tensor(xs, dtype=lib.float16, requires_grad=True)
        out = getattr(lib, op)(x, 1)
        spread = out[0] if isinstance(out, tuple) else out
        spread.sum().backward()
        results.append((spread.detach().float().numpy(), x.grad.float().numpy()))
    for ours, theirs in zip(*results):
        assert np.isfinite(ours).all()
        np.testing.assert_allclose(ours, theirs, rtol=4e-3, atol=1e-6)


@pytest.mark.parametrize("op", ["var_mean", "std_mean"])
def test_var_mean_gradcheck(op):
    x = ember.tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    fn = getattr(ember, op)
    assert ember.autograd.gradcheck(lambda t: fn(t, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda t: fn(t, 1), (x,))


# ---- transforms: PIL images (torchvision's rules; torchvision itself is not a dependency) ----


def test_pil_round_trips_keep_pixels_and_dtypes():
    pytest.importorskip("PIL", reason="Pillow is not installed (an optional dependency of transforms)")
    from ember.transforms import functional as F

    x = ember.rand(3, 4, 5)
    image = ember.transforms.ToPILImage()(x)
    assert (image.mode, image.size) == ("RGB", (5, 4))
    back = ember.transforms.PILToTensor()(image)
    assert back.shape == (3, 4, 5) and back.dtype == ember.uint8
    np.testing.assert_array_equal(
        back.numpy(), (x.numpy() * np.float32(255)).astype(np.uint8)
    )  # mul(255).byte()
    cases = [
        (np.arange(20, dtype=np.uint8).reshape(4, 5), "L", ember.uint8),
        (np.arange(20, dtype=np.int32).reshape(4, 5), "I", ember.int32),
        (np.linspace(0, 3, 20, dtype=np.float32).reshape(4, 5), "F", ember.float32),
        (np.arange(40, dtype=np.uint8).reshape(4, 5, 2), "LA", ember.uint8),
        (np.arange(80, dtype=np.uint8).reshape(4, 5, 4), "RGBA", ember.uint8),
    ]
    for pixels, mode, dtype in cases:
        image = F.to_pil_image(pixels)  # an array is H x W (x C), and a float one is not scaled
        assert image.mode == mode
        tensor = F.pil_to_tensor(image)
        assert tensor.dtype == dtype
        expected = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        np.testing.assert_array_equal(tensor.numpy(), expected)
    assert F.to_pil_image(ember.rand(1, 2, 2), mode="F").mode == "F"  # a float tensor kept as floats
    assert F.to_pil_image(np.zeros((2, 2, 3), np.uint8), "HSV").mode == "HSV"
    assert repr(ember.transforms.ToPILImage("RGB")) == "ToPILImage(mode=RGB)"
    assert repr(ember.transforms.PILToTensor()) == "PILToTensor()"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda F: F.to_pil_image(np.zeros((2, 2, 3), np.uint8), "L"), ValueError, "Only modes"),
        (lambda F: F.to_pil_image(np.zeros((2, 2), np.uint8), "F"), ValueError, "Incorrect mode"),
        (lambda F: F.to_pil_image(ember.zeros(5, 2, 2)), ValueError, "> 4 channels"),
        (lambda F: F.to_pil_image(ember.zeros(1, 1, 2, 2)), ValueError, "2/3 dimensional"),
        (lambda F: F.to_pil_image([[1]]), TypeError, "Tensor or ndarray"),
        (lambda F: F.to_pil_image(np.zeros((2, 2), np.float64)), TypeError, "float64 is not supported"),
        (lambda F: F.pil_to_tensor(np.zeros((2, 2), np.uint8)), TypeError, "pic should be PIL Image"),
    ],
)
def test_pil_conversions_refuse_as_torchvision(call, error, message):
    pytest.importorskip("PIL", reason="Pillow is not installed (an optional dependency of transforms)")
    with pytest.raises(error, match=message):
        call(ember.transforms.functional)


def test_to_pil_image_without_pillow_names_the_package(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "PIL", None)  # `import PIL` now raises ImportError
    with pytest.raises(ImportError, match="needs Pillow.*pip install pillow"):
        ember.transforms.ToPILImage()(ember.rand(3, 2, 2))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        ember.transforms.functional.pil_to_tensor(np.zeros((2, 2), np.uint8))


# ---- bfloat16, bit for bit ---------------------------------------------------------------------

# no ties among the values, whose order PyTorch's topk and kthvalue do not keep
_BF16_VALUES = np.array([3.0, np.nan, -1.0, np.inf, 2.0, np.nan, -np.inf, 0.5, 1.5, -0.0, 7.0], np.float32)


@requires_torch
@pytest.mark.parametrize(
    "op",
    [
        lambda L, x: L.sort(x),
        lambda L, x: L.sort(x, descending=True),
        lambda L, x: L.topk(x, 4),
        lambda L, x: L.topk(x, 4, largest=False),
        lambda L, x: (L.argsort(x),),
        lambda L, x: (L.msort(x),),
        lambda L, x: L.kthvalue(x, 3),
        lambda L, x: L.median(x, 0),
        lambda L, x: L.nanmedian(x, 0),
        lambda L, x: L.unique(x, return_inverse=True, return_counts=True),
        lambda L, x: (L.searchsorted(L.tensor([-1.0, 0.5, 2.0, 3.0]).to(x.dtype), x),),
    ],
)
def test_bfloat16_orders_place_nans_as_torch(op):
    """NumPy's sort of ml_dtypes' bfloat16 misplaces NaNs (and the elements around them):
    ember orders bfloat16 by its exact float32 values, and agrees with PyTorch."""
    import torch

    pytest.importorskip("ml_dtypes", reason="bfloat16 needs ml_dtypes")
    ours = op(ember, ember.tensor(_BF16_VALUES).to(ember.bfloat16))
    theirs = op(torch, torch.tensor(_BF16_VALUES).to(torch.bfloat16))
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        a = a.to(ember.float32) if a.dtype == ember.bfloat16 else a
        b = b.float() if b.dtype == torch.bfloat16 else b
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@requires_torch
@pytest.mark.parametrize("exponent", [0.3, 1.7, 3, 3.0, -2, 2, 4, -3, 0.5, -1, 10, 257, 0, 1])
def test_bfloat16_power_is_torchs_bit_for_bit(exponent):
    """PyTorch raises bfloat16 to a number rounded to bfloat16 (0.3 is 0.30078125), and
    computes x ** 3 and x ** -2 as products rounded in bfloat16; its gradient rounds each of
    p * x ** (p - 1) and the product with the incoming gradient."""
    import torch

    pytest.importorskip("ml_dtypes", reason="bfloat16 needs ml_dtypes")
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(3000) * 3).astype(np.float32)
    grad = rng.standard_normal(3000).astype(np.float32)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(values).to(lib.bfloat16).requires_grad_()
        y = x**exponent
        y.backward(lib.tensor(grad).to(lib.bfloat16))
        results.append([t.detach().to(lib.float32).numpy() for t in (y, x.grad)])
    np.testing.assert_array_equal(results[0][0], results[1][0])
    # x ** 0.5's gradient is PyTorch's rsqrt, whose bfloat16 kernel rounds its vectorized part
    # and its scalar tail differently (so does x ** -0.5): ember's is the vectorized part's
    if exponent != 0.5:
        np.testing.assert_array_equal(results[0][1], results[1][1])


@requires_torch
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_of_0d_tensor_along_a_dim_is_prodbackward1(keepdim):
    import torch

    for lib in (ember, torch):
        x = lib.tensor(2.5, requires_grad=True)
        y = x.prod(0, keepdim=keepdim)
        node = y.grad_fn
        assert (node.name(), node._saved_dim, node._saved_keepdim) == ("ProdBackward1", 0, keepdim)
        y.backward()
        assert (y.shape, x.grad.item()) == ((), 1.0)
    assert ember.tensor(2.5, requires_grad=True).prod().grad_fn.name() == "ProdBackward0"
