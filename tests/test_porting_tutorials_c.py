"""The sequence, language and generative tutorials of PyTorch's site, each redone here as a
small program written once against a library module `T` and run with `T = torch` and
`T = ember` (the harness of test_porting_programs): an n-gram language model and CBOW, an
LSTM part-of-speech tagger, a Bi-LSTM CRF, the char-RNN name classifier and generator, a
seq2seq translator with additive attention, a Transformer language model, an EmbeddingBag
text classifier, a DCGAN, a convolutional VAE, a spatial transformer, knowledge distillation
and a DQN update. The programs are written from the tutorials' descriptions at tiny sizes;
random draws of the libraries are not compared, only their shapes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch

pytestmark = requires_torch


# ---- findings, each pinned on its own ---------------------------------------------------------


def test_affine_grid_is_pytorchs_to_the_bit() -> None:
    """The grid's positions are rounded as PyTorch's kernel rounds them (a float32 linspace
    scaled by (n - 1) / n in two steps, then theta's columns added term by term): a position
    that lands on a half pixel one way and a hair below it the other moves what 'nearest'
    reads (found by the spatial transformer program)."""
    import torch

    F, tF = ember.nn.functional, torch.nn.functional
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for align_corners in (False, True):
            for size in ([2, 1, 5, 5], [1, 1, 16, 16], [3, 2, 7, 3], [2, 1, 4, 5, 6], [1, 1, 1, 5]):
                nd = len(size) - 2
                theta = (np.round(rng.standard_normal((size[0], nd, nd + 1)) * 4) / 4).astype(dtype)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the unit-size grid's warning
                    ours = F.affine_grid(ember.from_numpy(theta), size, align_corners=align_corners)
                    theirs = tF.affine_grid(torch.from_numpy(theta), size, align_corners=align_corners)
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{size} {align_corners}")
    theta = [[[0.8, -0.3, 0.1], [0.2, 0.9, -0.2]]]  # y = 0.6 one way, 0.59999996 the other
    image = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
    picked = [
        L.nn.functional.grid_sample(
            L.from_numpy(image),
            L.nn.functional.affine_grid(L.tensor(theta), [1, 1, 5, 5], align_corners=False),
            mode="nearest",
            align_corners=False,
        ).numpy()
        for L in (ember, torch)
    ]
    np.testing.assert_array_equal(*picked)
    theta_grad = ember.tensor(theta, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda t: F.affine_grid(t, [1, 1, 3, 4], align_corners=False), (theta_grad,)
    )
    assert ember.autograd.gradgradcheck(
        lambda t: F.affine_grid(t, [1, 1, 3, 4], align_corners=True).pow(2), (theta_grad,)
    )


def test_generator_lives_on_the_cpu() -> None:
    """`torch.Generator(device=...)` and its `.device`, as the name-classification tutorial
    splits its data with; another device raises ember's device error."""
    import torch

    for where in ("cpu", "cpu:0", ember.device("cpu")):
        generator = ember.Generator(device=where)
        assert generator.device == ember.device("cpu") and str(generator.device) == str(
            torch.Generator(device=str(where)).device
        )
    assert repr(ember.default_generator.device) == repr(torch.default_generator.device)
    with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda' is not available"):
        ember.Generator(device="cuda")


def test_legacy_size_average_warning_names_the_reduction() -> None:
    """The spatial transformer tutorial's older test loop sums with `size_average=False`:
    the deprecation warning names the reduction to use instead, as PyTorch's does."""
    import torch

    logp = [L.log_softmax(L.arange(6.0).view(2, 3), 1) for L in (ember, torch)]
    for legacy in ({"size_average": False}, {"reduce": False}, {"size_average": True}, {"reduce": True}):
        messages = []
        for L, x in zip((ember, torch), logp):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                L.nn.functional.nll_loss(x, L.tensor([0, 2]), **legacy)
                L.nn.NLLLoss(**legacy)
            messages.append([str(w.message) for w in caught])
        assert messages[0] == messages[1] and len(messages[0]) == 2, legacy
