"""The Dive into Deep Learning book's PyTorch code, and more of pytorch/examples, run with
`import ember as torch`: each gap they found as a regression test, and condensed versions of
the book's programs compared with PyTorch."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
from conftest import requires_torch

# ---- NumPy's argument names: y_hat.argmax(axis=1), A.sum(axis=1, keepdims=True) ------------


@requires_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: x.argmax(axis=1),
        lambda T, x: x.sum(axis=1, keepdims=True),
        lambda T, x: x.sum(axis=[0, 1]),
        lambda T, x: x.mean(axis=0),
        lambda T, x: x.cumsum(axis=0),
        lambda T, x: x.max(axis=1).values,
        lambda T, x: x.softmax(axis=-1),
        lambda T, x: T.sum(x, axis=0, keepdims=True),
        lambda T, x: T.argmin(x, axis=1),
        lambda T, x: T.cat([x, x], axis=0),
        lambda T, x: T.stack([x, x], axis=1),
        lambda T, x: x.unsqueeze(axis=0),
        lambda T, x: T.std(x, axis=1, keepdims=True),
    ],
)
def test_axis_and_keepdims_name_dim_and_keepdim(call) -> None:
    import torch

    data = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    expected = call(torch, torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(call(ember, ember.tensor(data)).numpy(), expected, rtol=1e-5)


def test_numpy_names_keep_gradients_signatures_and_pickling() -> None:
    x = ember.arange(6.0, requires_grad=True).reshape(2, 3)
    x.sum(axis=1, keepdims=True).pow(2).sum().backward()
    assert x.grad is None  # a non-leaf; its leaf has the gradient
    leaf = ember.ones(2, 3, requires_grad=True)
    (leaf * 2).mean(axis=0).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.full((2, 3), 1.0))
    import inspect

    assert list(inspect.signature(ember.Tensor.sum).parameters)[:3] == ["input", "dim", "keepdim"]
    assert pickle.loads(pickle.dumps(ember.sum)) is ember.sum
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        ember.ones(2).sum(dim=0, axis=0)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        ember.ones(2).sum(0, axis=0)


# ---- vision_transformer: `from torch.hub import tqdm` ---------------------------------------


def test_hub_tqdm_is_tqdm_or_a_plain_bar_with_its_calls(capsys) -> None:
    from ember import hub
    from ember._progress import _TextBar

    try:
        import tqdm
    except ImportError:
        assert hub.tqdm is _TextBar
    else:
        assert hub.tqdm is tqdm.tqdm
    bar = _TextBar([1, 2, 3], desc="EPOCH[TRAIN]1/1")
    assert len(bar) == 3
    seen = []
    for item in bar:
        seen.append(item)
        bar.set_postfix({"Loss": f"{0.5:6f}"})
    assert seen == [1, 2, 3] and bar.n == 3
    assert "EPOCH[TRAIN]1/1" in capsys.readouterr().err
    assert list(_TextBar(range(2), disable=True)) == [0, 1]
    assert capsys.readouterr().err == ""
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        hub.nothing  # noqa: B018
