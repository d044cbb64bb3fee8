"""The rest of torch's public surface, checked against PyTorch: the functions torch exposes
under their ATen names (torch.embedding, torch.convolution, torch.native_layer_norm, ...), the
*_copy forms of the view ops, and the Tensor methods and dtypes added with them."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import requires_torch

import ember
from ember.autograd import gradcheck, gradgradcheck

pytestmark = requires_torch


def _pair(values, requires_grad=True, dtype=np.float64):
    import torch

    a = np.asarray(values, dtype=dtype)
    return ember.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _close(e, t, atol=1e-6):
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _close(a, b, atol)
        return
    te = t.detach().numpy()
    assert tuple(e.shape) == tuple(te.shape), (e.shape, te.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(e.detach().numpy(), te, atol=atol, rtol=1e-6)


def _same_grads(fn_e, fn_t, inputs):
    """Run fn on both frameworks' copies of inputs, compare values and the gradients of a
    weighted sum of the first output."""
    import torch

    pairs = [_pair(x) for x in inputs]
    out_e, out_t = fn_e(*(p[0] for p in pairs)), fn_t(*(p[1] for p in pairs))
    _close(out_e, out_t)
    first_e = out_e[0] if isinstance(out_e, tuple) else out_e
    first_t = out_t[0] if isinstance(out_t, tuple) else out_t
    w = np.random.default_rng(1).standard_normal(tuple(first_t.shape))
    (first_e * ember.tensor(w)).sum().backward()
    (first_t * torch.tensor(w)).sum().backward()
    for e, t in pairs:
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=1e-6)


# ---- the *_copy functions ------------------------------------------------------------------

_COPIES = [
    ("alias_copy", (2, 3), ()),
    ("as_strided_copy", (2, 3), ([2, 2], [1, 2], 1)),
    ("diagonal_copy", (3, 4), (1,)),
    ("expand_copy", (1, 3), ([4, 3],)),
    ("permute_copy", (2, 3, 4), ([2, 0, 1],)),
    ("select_copy", (2, 3), (1, -1)),
    ("slice_copy", (4, 3), (0, 1, None, 2)),
    ("split_copy", (5, 2), (2,)),
    ("split_with_sizes_copy", (2, 5), ([1, 4], 1)),
    ("squeeze_copy", (2, 1, 3), ()),
    ("squeeze_copy", (2, 1, 3), (1,)),
    ("t_copy", (2, 3), ()),
    ("transpose_copy", (2, 3, 4), (0, 2)),
    ("unbind_copy", (3, 2), (1,)),
    ("unfold_copy", (2, 7), (1, 3, 2)),
    ("unsqueeze_copy", (2, 3), (-1,)),
    ("view_copy", (2, 6), ([3, 4],)),
]


@pytest.mark.parametrize("name, shape, args", _COPIES, ids=[c[0] + str(i) for i, c in enumerate(_COPIES)])
def test_copy_functions_match_torch(name, shape, args):
    import torch

    x = np.random.default_rng(0).standard_normal(shape)
    _same_grads(
        lambda a: getattr(ember, name)(a, *args),
        lambda a: getattr(torch, name)(a, *args),
        [x],
    )
    e = ember.tensor(x)
    out = getattr(ember, name)(e, *args)
    for o in out if isinstance(out, tuple) else (out,):  # new, contiguous memory
        assert o.is_contiguous() and not np.shares_memory(o.numpy(), e.numpy())


def test_copy_functions_errors_out_and_gradcheck():
    import torch

    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a: ember.transpose_copy(a, 0, 1), (x,))
    assert gradgradcheck(lambda a: ember.diagonal_copy(a) ** 2, (x,))
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        ember.slice_copy(x, 0, 0, 2, 0)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        torch.slice_copy(torch.ones(3), 0, 0, 2, 0)
    out = ember.empty(4, 3)
    assert ember.t_copy(ember.ones(3, 4), out=out) is out and out.sum().item() == 12
    # detach_copy: outside the graph (torch marks it requires_grad, then cannot differentiate it)
    assert not ember.detach_copy(x).requires_grad
    assert (
        ember.view_copy(ember.ones(2), ember.int32).tolist()
        == torch.view_copy(torch.ones(2), torch.int32).tolist()
    )
