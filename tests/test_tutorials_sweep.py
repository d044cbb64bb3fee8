"""PyTorch's tutorials and recipes run with `import ember as torch`: one regression test per
gap they found, and condensed versions of the programs (synthetic data, few steps), compared
with PyTorch from the same weights and inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn

# ---- the tensors tutorial: `torch.device('cuda')` is named on a machine without one --------


@requires_torch
@pytest.mark.parametrize("name", ["cpu", "cpu:0", "cuda", "cuda:1", "mps", "meta"])
def test_any_device_type_can_be_named(name: str) -> None:
    import torch

    d, t = ember.device(name), torch.device(name)
    assert (repr(d), str(d), d.type, d.index) == (repr(t), str(t), t.type, t.index)
    assert ember.device(d) == d and hash(ember.device(name)) == hash(d)


def test_unknown_or_badly_indexed_devices_raise_as_pytorch() -> None:
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        ember.device("foo")
    with pytest.raises(RuntimeError, match="Invalid device string: 'cuda:x'"):
        ember.device("cuda:x")
    assert ember.device("cuda") != ember.device("cpu") and ember.device("cuda:0") != ember.device("cuda")


def test_a_named_cuda_device_raises_only_when_used() -> None:
    cuda = ember.device("cuda")
    assert not (ember.cuda.is_available() & (cuda.index is not None))  # the tutorial's line
    for use in (
        lambda: ember.zeros(2, device=cuda),
        lambda: ember.ones(2).to(cuda),
        lambda: ember.ones(2).cuda(),
        lambda: nn.Linear(2, 2).to(cuda),
        lambda: ember.set_default_device(cuda),
    ):
        with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda'"):
            use()


# ---- changing_default_device and reasoning_about_shapes: `with torch.device(...)` ----------


def test_device_as_a_context_manager() -> None:
    with ember.device("cpu") as d:
        layer = nn.Linear(2, 3)
        assert d == ember.device("cpu") and layer.weight.device == ember.zeros(1).device == d
    with pytest.raises(RuntimeError, match="CPU only"), ember.device("cuda:0"):
        pass


# ---- the blitz's neural_networks_tutorial prints MSELoss's grad_fn and walks from it -------


def _node_names(node, depth: int) -> list:
    names = []
    for _ in range(depth):
        names.append(type(node).__name__ if hasattr(node, "variable") else node.name())
        if not node.next_functions:
            break
        node = node.next_functions[0][0]
    return names


@requires_torch
def test_mse_loss_is_one_node_as_pytorch() -> None:
    import torch

    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)
    t = np.full((3, 2), 0.5, np.float32)
    e_in, t_in = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    e_loss = nn.MSELoss()(e_in * 2, ember.tensor(t))
    t_loss = torch.nn.MSELoss()(t_in * 2, torch.tensor(t))
    assert _node_names(e_loss.grad_fn, 3) == _node_names(t_loss.grad_fn, 3)
    # the input, then the target, which needs no gradient
    assert [n is None for n, _ in e_loss.grad_fn.next_functions] == [False, True]
    assert len(t_loss.grad_fn.next_functions) == 2


@requires_torch
@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "shapes, dtypes",
    [
        (((3, 2), (3, 2)), ("float32", "float32")),
        (((3, 2), (2,)), ("float32", "float32")),
        (((2,), (3, 2)), ("float32", "float64")),
        (((0, 2), (0, 2)), ("float64", "float64")),
    ],
)
def test_mse_loss_values_and_gradients_match_pytorch(shapes, dtypes, reduction: str) -> None:
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(d) for s, d in zip(shapes, dtypes)]
    grads = []
    for T in (ember, torch):
        x, t = (T.tensor(a, requires_grad=True) for a in arrays)
        loss = T.nn.functional.mse_loss(x, t, reduction=reduction)
        loss.backward(T.ones_like(loss))
        assert str(loss.dtype).split(".")[1] == str(np.result_type(*arrays))
        grads.append([loss.detach().numpy(), x.grad.numpy(), t.grad.numpy()])
    for e, t in zip(*grads):
        assert e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


def test_mse_loss_second_derivatives_and_integer_inputs() -> None:
    x = ember.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
    t = ember.tensor([0.3, -0.7], dtype=ember.float64, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        fn = lambda a, b, r=reduction: ember.nn.functional.mse_loss(a, b.expand(3, 2), reduction=r)  # noqa: E731
        assert ember.autograd.gradcheck(fn, (x, t)) and ember.autograd.gradgradcheck(fn, (x, t))
    with pytest.raises(NotImplementedError, match="\"mse_cpu\" not implemented for 'Long'"):
        ember.nn.functional.mse_loss(ember.ones(2, dtype=ember.long), ember.ones(2, dtype=ember.long))
    # with weight, composed as in PyTorch
    weighted = ember.nn.functional.mse_loss(x, x.detach() + 1, weight=ember.ones(3, 2, dtype=ember.float64))
    assert weighted.item() == 1.0 and weighted.grad_fn.name() == "DivBackward0"


# ---- introyt's tensors: a deprecation warning names the user's line, not ember/_out.py -----


@pytest.mark.parametrize(
    "call",
    [
        lambda: ember.cross(ember.ones(3), ember.ones(3)),
        lambda: ember.ones(3).cross(ember.ones(3)),
        lambda: ember.frobenius_norm(ember.eye(3), dim=(0, 1)),
        lambda: ember.nuclear_norm(ember.eye(3)),
        lambda: ember.range(0, 3),
        lambda: ember.triangular_solve(ember.ones(3, 1), ember.eye(3)),
        lambda: ember.lu_solve(ember.ones(3, 1), *ember.linalg.lu_factor(ember.eye(3))),
    ],
)
def test_warnings_of_functions_taking_out_name_the_callers_line(call) -> None:
    with pytest.warns(UserWarning) as record:
        call()
    assert [w.filename for w in record] == [__file__]
