"""More of what PyTorch 2.13 does with the rare per-tensor state of tests/test_small_gaps.py:
inference tensors changed in place outside inference_mode, their detach() and `.data`,
optimizers and grad_dtype, distributions under a half-precision default dtype, and
selective checkpointing's policy. Each program runs in ember and in torch (the `T` fixture)."""

from __future__ import annotations

import numpy as np
import pytest

# ---- inference tensors outside inference_mode ---------------------------------------------------

_INPLACE = "Inplace update to inference tensor outside InferenceMode is not allowed"
_NO_VERSION = "Inference tensors do not track version counter."


def _inference(T, values=(1.0, 2.0, 3.0)):
    with T.inference_mode():
        return T.tensor(list(values))


def _setitem(x):
    x[0] = 5.0


@pytest.mark.parametrize(
    "change",
    [
        lambda T, x: x.add_(1),
        lambda T, x: x.mul_(2),
        lambda T, x: x.__iadd__(1),
        lambda T, x: _setitem(x),
        lambda T, x: x.copy_(T.zeros(3)),
        lambda T, x: x.zero_(),
        lambda T, x: x.fill_(2.0),
        lambda T, x: x.clamp_(0, 1),
        lambda T, x: x.uniform_(),
        lambda T, x: x.normal_(),
        lambda T, x: x.unsqueeze_(0),
        lambda T, x: x.index_put_((T.tensor([0]),), T.tensor(1.0)),
        lambda T, x: T.add(T.ones(3), 1, out=x),
        lambda T, x: T.nn.init.zeros_(x),
        lambda T, x: x.view(3).add_(1),
        lambda T, x: x[1:].mul_(2),
    ],
)
def test_an_inference_tensor_is_not_changed_in_place_outside_the_mode(T, change):
    x = _inference(T)
    with pytest.raises(RuntimeError, match=_INPLACE):
        change(T, x)
    with T.no_grad(), pytest.raises(RuntimeError, match=_INPLACE):
        change(T, x)  # no_grad does not lift it
    with T.inference_mode(), T.inference_mode(False), pytest.raises(RuntimeError, match=_INPLACE):
        change(T, x)  # nor does inference_mode(False) inside the mode
    with T.inference_mode():
        x = _inference(T)
        change(T, x)  # inside the mode it may


@pytest.mark.parametrize(
    "change",
    [
        lambda T, x: x.add_(1),
        lambda T, x: x.add_(T.ones(3), alpha=2),
        lambda T, x: _setitem(x),
        lambda T, x: x.copy_(T.zeros(3)),
        lambda T, x: x.sqrt_(),
        lambda T, x: x.index_add_(0, T.tensor([0]), T.tensor([1.0])),
        lambda T, x: T.add(T.ones(3), 1, out=x),
        lambda T, x: T.nn.init.zeros_(x),
    ],
)
def test_a_refused_in_place_change_has_written_as_pytorch_s_has(change):
    """PyTorch's refusal, like ember's, comes from the version bump after the write: the
    error leaves the new values in the tensor, the same in both."""
    torch = pytest.importorskip("torch")
    import ember

    results = []
    for T in (ember, torch):
        x = _inference(T)
        with pytest.raises(RuntimeError, match=_INPLACE):
            change(T, x)
        results.append(x.tolist())
    assert results[0] == pytest.approx(results[1])


def test_kernels_change_inference_tensors_below_the_check(T):
    """PyTorch's batch_norm moves inference running statistics, and embedding's max_norm
    renormalises an inference weight's rows, outside inference_mode without refusing."""
    x = T.tensor([[1.0, -2.0], [3.0, 0.5], [-1.0, 2.0]])
    with T.inference_mode():
        mean, var = T.zeros(2), T.ones(2)
        weight = T.tensor([[3.0, 4.0], [0.3, 0.4]])
    T.nn.functional.batch_norm(x, mean, var, training=True)
    assert mean.tolist() == pytest.approx([0.1, 1 / 60]) and var.tolist() == pytest.approx(
        [1.3, 0.9 + 49 / 120]
    )
    T.nn.functional.embedding(T.tensor([0, 1]), weight, max_norm=1.0)
    assert weight.flatten().tolist() == pytest.approx([0.6, 0.8, 0.3, 0.4], rel=1e-5)
    assert mean.is_inference() and weight.is_inference()


def test_in_place_changes_of_other_tensors_stay_allowed(T):
    x = _inference(T)
    n = T.ones(3)
    n.add_(x).copy_(x)  # an inference tensor read by an in-place op
    assert n.tolist() == [1.0, 2.0, 3.0] and n._version == 2
    c = x.clone()
    c.add_(1)  # a clone is an ordinary tensor
    assert not c.is_inference() and c.tolist() == [2.0, 3.0, 4.0]
    with T.inference_mode():
        n.mul_(2)  # an ordinary tensor inside the mode: counted
        v = n.view(3)
    assert n._version == 3 and not v.is_inference()
    v.add_(1)
    assert n.tolist() == [3.0, 5.0, 7.0]


def test_an_inference_tensor_may_not_require_grad_outside_the_mode(T):
    x = _inference(T)
    with pytest.raises(
        RuntimeError, match="Setting requires_grad=True on inference tensor outside InferenceMode"
    ):
        x.requires_grad_()
    assert not x.requires_grad
    x.requires_grad_(False)
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
        x.detach().requires_grad = True
    with T.inference_mode():
        y = _inference(T).requires_grad_()
    assert y.requires_grad and y.is_inference()


def test_a_parameter_or_buffer_of_an_inference_tensor_is_its_detach(T):
    """PyTorch's Parameter(t) and Buffer(t) are t.detach(): of an inference tensor outside
    inference_mode, an inference tensor that counts its versions and refuses to require grad."""
    x = _inference(T)
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
        T.nn.Parameter(x)
    for p in (T.nn.Parameter(x, requires_grad=False), T.nn.Buffer(x)):
        assert p.is_inference() and p._version == 0 and not p.requires_grad
        p.add_(1)
        assert p._version == 1
        with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
            p.requires_grad_()
    assert x.tolist() == [3.0, 4.0, 5.0]
    with T.inference_mode():
        p = T.nn.Parameter(_inference(T))
        assert p.is_inference() and p.requires_grad


def test_a_parameter_shares_its_tensor_s_version_counter(T):
    t = T.ones(3)
    t.add_(1)
    p = T.nn.Parameter(t)
    assert p._version == 1
    t.mul_(2)
    assert p._version == 2
    with T.inference_mode():
        q = T.nn.Parameter(t)  # an ordinary tensor's detach() inside the mode: not inference
    assert not q.is_inference() and q._version == 2


def test_a_parameter_of_a_subclass_instance_is_its_detach_too(T):
    class Sub(T.Tensor):
        pass

    t = T.ones(3).as_subclass(Sub)
    t.add_(1)
    p = T.nn.Parameter(t)
    assert type(p) is Sub and isinstance(p, T.nn.Parameter) and p._version == 1
    with T.inference_mode():
        x = T.ones(3).as_subclass(Sub)
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
        T.nn.Parameter(x)


# ---- detach() and .data of inference tensors ----------------------------------------------------


def _made_inside(T):
    n = T.ones(3)
    n.add_(1)
    with T.inference_mode():
        return {
            "factory": T.ones(3),
            "op": n * 2,
            "clone": n.clone(),
            "detach of inference": T.ones(3).detach(),
            "view of inference": T.ones(3).view(3),
        }


@pytest.mark.parametrize("kind", ["factory", "op", "clone", "detach of inference", "view of inference"])
def test_detach_and_data_of_an_inference_tensor_count_versions_outside_the_mode(T, kind):
    """Outside inference_mode, detach() and `.data` of an inference tensor are inference
    tensors that count their own versions from 0 and may change in place; inside it, they
    have no version, as the tensor itself; its views have none anywhere."""
    x = _made_inside(T)[kind]
    with pytest.raises(RuntimeError, match=_NO_VERSION):
        x._version
    for d in (x.detach(), x.data, x.detach().detach()):
        assert d.is_inference() and d._version == 0
    d = x.detach()
    d.add_(1)
    assert d._version == 1 and x.tolist() == d.tolist()
    with pytest.raises(RuntimeError, match=_NO_VERSION):
        x.view(3)._version
    with pytest.raises(RuntimeError, match=_NO_VERSION):
        x[0:2]._version
    assert not x.clone().is_inference()
    with T.no_grad(), T.inference_mode(False):
        assert x.detach()._version == 0
    with T.inference_mode():
        for d in (x.detach(), x.data):
            assert d.is_inference()
            with pytest.raises(RuntimeError, match=_NO_VERSION):
                d._version


def test_detach_and_data_of_an_ordinary_tensor_made_inside_the_mode(T):
    n = T.ones(3)
    n.add_(1)
    with T.inference_mode():
        d, v = n.detach(), n.view(3)
        assert not n.data.is_inference() and n.data._version == 0
    for t in (d, v, d.detach(), v.view(3)):
        assert not t.is_inference() and t._version == 1
    d.add_(1)
    assert n._version == 2 and v._version == 2


def test_data_assignment_keeps_the_tensor_s_version_counter(T):
    """`x.data = t` keeps x's version counter, and with it whether x may change in place
    outside inference_mode (PyTorch's is_inference() follows t: docs/differences.md)."""
    x = _inference(T)
    x.data = T.zeros(3)
    with pytest.raises(RuntimeError, match=_NO_VERSION):
        x._version
    with pytest.raises(RuntimeError, match=_INPLACE):
        x.add_(1)
    a = T.ones(3)
    a.data = _inference(T)
    assert a._version == 0
    a.add_(1)
    assert a.tolist() == [2.0, 3.0, 4.0] and a._version == 1
    b = T.ones(3)
    b.add_(1)
    b.data = T.zeros(3)
    assert b._version == 1


# ---- optimizers and grad_dtype ----------------------------------------------------------------

_LERPING = [
    ("Adam", {}),
    ("AdamW", {}),
    ("Adamax", {}),
    ("NAdam", {}),
    ("RAdam", {}),
    ("RMSprop", {"centered": True}),
]
_STEPPING = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("RMSprop", {}),
    ("Adagrad", {}),
    ("Rprop", {}),
    ("ASGD", {}),
]


def _param_with_grad(T, param_dtype, grad_dtype):
    p = T.nn.Parameter(T.tensor([1.0, -2.0, 3.0], dtype=param_dtype))
    p.grad_dtype = grad_dtype
    (p * T.tensor([0.5, 1.5, -2.0], dtype=param_dtype)).sum().backward()
    return p


@pytest.mark.parametrize("name, kwargs", _LERPING)
@pytest.mark.parametrize(
    "dtypes, message",
    [
        (("float32", "float64"), "expected dtype float for `end` but got dtype double"),
        (("float64", "float32"), "expected dtype double for `end` but got dtype float"),
        (("float32", "float16"), "expected dtype float for `end` but got dtype c10::Half"),
        (("float32", "bfloat16"), "expected dtype float for `end` but got dtype c10::BFloat16"),
    ],
)
def test_optimizers_that_lerp_the_gradient_refuse_another_grad_dtype(T, name, kwargs, dtypes, message):
    param_dtype, grad_dtype = (getattr(T, d) for d in dtypes)
    p = _param_with_grad(T, param_dtype, grad_dtype)
    before = p.tolist()
    optimizer = getattr(T.optim, name)([p], lr=0.1, **kwargs)
    with pytest.raises(RuntimeError, match=message):
        optimizer.step()
    if not (T.__name__ == "torch" and name == "AdamW"):  # PyTorch's has decayed p by then
        assert p.tolist() == before


@pytest.mark.parametrize("name, kwargs", _LERPING + _STEPPING)
def test_a_grad_of_the_parameter_s_dtype_steps_whatever_grad_dtype_says(T, name, kwargs):
    p = _param_with_grad(T, T.float32, T.float64)
    p.grad = None
    p.grad_dtype = T.float32  # set back: an ordinary gradient
    (p * 2).sum().backward()
    getattr(T.optim, name)([p], lr=0.1, **kwargs).step()
    q = _param_with_grad(T, T.float32, None)  # None: any dtype, here the parameter's
    getattr(T.optim, name)([q], lr=0.1, **kwargs).step()
    assert p.dtype == q.dtype == T.float32


@pytest.mark.parametrize("name, kwargs", _STEPPING)
@pytest.mark.parametrize("grad_dtype", ["float64", "float16"])
def test_other_optimizers_step_a_grad_of_another_dtype(T, name, kwargs, grad_dtype):
    p = _param_with_grad(T, T.float32, getattr(T, grad_dtype))
    optimizer = getattr(T.optim, name)([p], lr=0.1, **kwargs)
    optimizer.step()
    optimizer.step()
    assert p.dtype == T.float32 and p.grad.dtype == getattr(T, grad_dtype)


@pytest.mark.parametrize("name, kwargs", _STEPPING)
def test_other_optimizers_step_as_pytorch_s(name, kwargs):
    torch = pytest.importorskip("torch")
    import ember

    results = []
    for T in (ember, torch):
        p = _param_with_grad(T, T.float32, T.float64)
        optimizer = getattr(T.optim, name)([p], lr=0.1, **kwargs)
        optimizer.step()
        optimizer.step()
        results.append(p.tolist())
    assert results[0] == pytest.approx(results[1], rel=1e-6)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adagrad"])
@pytest.mark.parametrize(
    "dtypes, message",
    [
        (("float32", "float64"), "expected scalar type Float but found Double"),
        (("float64", "bfloat16"), "expected scalar type Double but found BFloat16"),
        (("bfloat16", "float32"), "expected scalar type BFloat16 but found Float"),
        (("float32", "float16"), "Tensors of the same index must be on the same device and the same dtype"),
    ],
)
def test_fused_optimizers_refuse_another_grad_dtype_with_their_kernels_messages(T, name, dtypes, message):
    param_dtype, grad_dtype = (getattr(T, d) for d in dtypes)
    p = _param_with_grad(T, param_dtype, grad_dtype)
    before = p.tolist()
    with pytest.raises(RuntimeError, match=message):
        getattr(T.optim, name)([p], lr=0.1, fused=True).step()
    assert p.tolist() == before


@pytest.mark.parametrize("name, kwargs", _LERPING)
def test_a_complex_parameter_s_refusal_names_the_real_dtypes(T, name, kwargs):
    """PyTorch steps a complex parameter through real views, so lerp_ names float and double."""
    p = T.nn.Parameter(T.tensor([1 + 1j, 2 - 1j], dtype=T.complex64))
    p.grad_dtype = T.complex128
    p.grad = T.tensor([0.5 - 1j, 1j], dtype=T.complex128)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        getattr(T.optim, name)([p], lr=0.1, **kwargs).step()
    if not (T.__name__ == "torch" and name == "AdamW"):  # PyTorch's has decayed p by then
        assert p.tolist() == [1 + 1j, 2 - 1j]


def test_a_grad_assigned_under_grad_dtype_none_is_refused_too(T):
    p = T.nn.Parameter(T.ones(3))
    p.grad_dtype = None
    p.grad = T.ones(3, dtype=T.float64)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        T.optim.Adam([p]).step()


# ---- distributions under a half-precision default dtype ---------------------------------------


@pytest.fixture(params=["bfloat16", "float16"])
def half(request, T):
    """The default dtype set to a half-precision one for the test, then put back."""
    d = getattr(T, request.param)
    T.set_default_dtype(d)
    yield d
    T.set_default_dtype(T.float32)


def _distributions(T):
    t, D = T.tensor, T.distributions
    return {
        "Categorical": (lambda: D.Categorical(probs=t([0.2, 0.3, 0.5])), t([0, 2, 1]), "int64"),
        "Categorical logits": (lambda: D.Categorical(logits=t([0.2, -0.3, 0.5])), t(2), "int64"),
        "OneHotCategorical": (
            lambda: D.OneHotCategorical(probs=t([0.2, 0.3, 0.5])),
            t([0.0, 1.0, 0.0]),
            None,
        ),
        "Poisson": (lambda: D.Poisson(t([2.0, 3.5])), t([1.0, 4.0]), None),
        "Poisson of a number": (lambda: D.Poisson(3.0), t(2.0), None),
        "VonMises": (lambda: D.VonMises(t([0.0, 1.0]), t([1.0, 2.5])), t([0.5, -1.0]), None),
        "Binomial": (lambda: D.Binomial(10, probs=t([0.3, 0.6])), t([3.0, 5.0]), None),
        "Multinomial": (lambda: D.Multinomial(5, probs=t([0.2, 0.3, 0.5])), t([1.0, 2.0, 2.0]), None),
        "NegativeBinomial": (lambda: D.NegativeBinomial(5, probs=t([0.3])), t([2.0]), None),
    }


@pytest.mark.parametrize("name", list(_distributions(__import__("ember"))))
def test_discrete_and_von_mises_distributions_under_a_half_default_dtype(T, half, name):
    make, value, sample_dtype = _distributions(T)[name]
    d = make()
    T.manual_seed(0)
    if T.__name__ == "torch" and name in ("Binomial", "NegativeBinomial"):
        with pytest.raises(NotImplementedError):  # PyTorch has no half kernel; ember samples
            d.sample()
        return
    for shape in ((), (4,)):
        s = d.sample(shape)
        assert s.dtype == (getattr(T, sample_dtype) if sample_dtype else half)
        assert tuple(s.shape) == (*shape, *d.batch_shape, *d.event_shape)
    assert d.log_prob(value).dtype == half
    try:
        assert d.entropy().dtype == half
    except NotImplementedError:
        pass


@pytest.mark.parametrize("name", list(_distributions(__import__("ember"))))
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_their_log_prob_and_entropy_under_a_half_default_dtype_are_pytorch_s(name, dtype):
    torch = pytest.importorskip("torch")
    import ember

    results = []
    for T in (ember, torch):
        T.set_default_dtype(getattr(T, dtype))
        try:
            make, value, _ = _distributions(T)[name]
            d = make()
            got = [d.log_prob(value), d.mean]
            try:
                got.append(d.entropy())
            except NotImplementedError:
                pass
            results.append([np.asarray(g.float().tolist(), dtype=np.float64) for g in got])
        finally:
            T.set_default_dtype(T.float32)
    tolerance = 2e-2 if dtype == "bfloat16" else 2e-3
    if name == "Binomial":  # lgamma(11) = 15.1 held in half precision, less the others: a few
        tolerance *= 4  # steps of 15 apart, and ember's is the closer to the exact -1.3211
    assert len(results[0]) == len(results[1])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name", ["Poisson", "VonMises", "Binomial", "NegativeBinomial"])
def test_sampling_meta_parameters_raises_rather_than_drawing_from_the_placeholder(name):
    """The float64 read of the parameters must not take a meta tensor's placeholder array for
    values: that gave a CPU sample (Poisson) or never ended (VonMises). ember raises
    numpy()'s error (PyTorch gives meta samples for Poisson and NegativeBinomial)."""
    import ember

    D, meta = ember.distributions, ember.ones(2, device="meta")
    make = {
        "Poisson": lambda: D.Poisson(meta, validate_args=False),
        "VonMises": lambda: D.VonMises(meta, meta, validate_args=False),
        "Binomial": lambda: D.Binomial(10, probs=meta, validate_args=False),
        "NegativeBinomial": lambda: D.NegativeBinomial(5, probs=meta * 0.5, validate_args=False),
    }[name]
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        make().sample((2,))
