"""Gaps that PyTorch's own docstring examples found (tests/test_torch_docstring_examples.py),
each as a direct regression test compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch

# ---- testing.assert_close: complex and bfloat16 tensors take their dtype's tolerance ---------


@requires_torch
@pytest.mark.parametrize("dtype", ["complex64", "complex128", "bfloat16"])
@pytest.mark.parametrize("step", [1e-6, 1e-3, 4e-3, 3e-2])
def test_assert_close_tolerance_of_complex_and_bfloat16_is_torchs(dtype: str, step: float) -> None:
    import torch

    def outcome(T):
        a = (
            T.tensor([1.0 + 1j, 2.0 - 0.5j, -3.0j])
            if dtype.startswith("complex")
            else T.tensor([1.0, 2.0, -3.0])
        )
        a = a.to(getattr(T, dtype))
        b = (a.float() + step if dtype == "bfloat16" else a + step).to(getattr(T, dtype))
        try:
            T.testing.assert_close(a, b)
        except AssertionError as exc:
            return str(exc).splitlines()[:3]  # the last digits of the differences may differ
        return None

    assert outcome(ember) == outcome(torch)


def test_assert_close_of_complex_ffts_passes() -> None:
    x = ember.rand(10, 10, dtype=ember.complex64)
    two_ffts = ember.fft.fft(ember.fft.fft(x, dim=0), dim=1)
    ember.testing.assert_close(ember.fft.fft2(x), two_ffts, check_stride=False)


# ---- einsum's sublist form: einsum(op0, [0, 1], op1, [1, 2], [0, 2]) ---------------------------


@requires_torch
@pytest.mark.parametrize(
    "subs",
    [
        ([..., 0, 1], [..., 1, 2], [..., 0, 2]),
        ([0, 1, 2], [0, 2, 27]),  # implicit output: the numbers seen once, ascending
        ([..., 1, 2], [..., 2, 0]),
        ([0, 1, 2], [0, 2, 3], [3, 1]),
    ],
)
def test_einsum_sublist_form_matches_torch(subs: tuple) -> None:
    import torch

    a, b = np.random.randn(3, 2, 5), np.random.randn(3, 5, 4)
    t_out = torch.einsum(torch.tensor(a), subs[0], torch.tensor(b), *subs[1:])
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    e_out = ember.einsum(ea, subs[0], eb, *subs[1:])
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.numpy(), rtol=1e-10)
    assert ember.autograd.gradcheck(lambda x, y: ember.einsum(x, subs[0], y, *subs[1:]), (ea, eb))


def test_einsum_sublist_form_takes_a_range_and_says_which_argument_is_wrong() -> None:
    t = ember.ones(2, 3)
    assert ember.einsum(t, range(2), [1]).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError, match="expects a tensor as argument 2, but got list"):
        ember.einsum(t, [0, 1], [1, 0], [0])  # (was AttributeError: 'list' object has no attribute 'shape')
    with pytest.raises(TypeError, match="expects a list of subscripts as argument 2, but got Tensor"):
        ember.einsum(t, [0, 1], t)


@requires_torch
@pytest.mark.parametrize("bad", [[0, 52], [-1, 0], [0.5, 1]])
def test_einsum_sublist_out_of_range_raises_as_torch(bad: list) -> None:
    import torch

    kind = TypeError if isinstance(bad[0], float) else ValueError
    with pytest.raises(kind) as t_err:
        torch.einsum(torch.ones(2, 2), bad)
    with pytest.raises(kind) as e_err:
        ember.einsum(ember.ones(2, 2), bad)
    assert str(e_err.value) == str(t_err.value)


# ---- gradient: coordinates along a dim of two samples (no interior point) ---------------------


@requires_torch
@pytest.mark.parametrize("int_coords", [True, False])
def test_gradient_with_coordinates_of_a_size_two_dim_matches_torch(int_coords: bool) -> None:
    import torch

    values = np.array([[1.0, 2, 4, 8], [10, 20, 40, 80]])
    coords = (np.array([0, 2]), np.array([0, 3, 6, 9]))
    if not int_coords:
        coords = tuple(c.astype(np.float32) for c in coords)
    t_out = torch.gradient(torch.tensor(values), spacing=tuple(torch.tensor(c) for c in coords))
    x = ember.tensor(values, requires_grad=True)
    e_out = ember.gradient(x, spacing=tuple(ember.tensor(c) for c in coords))
    for e, t in zip(e_out, t_out):
        np.testing.assert_allclose(e.detach().numpy(), t.numpy(), rtol=1e-6)
    spacing = tuple(ember.tensor(c) for c in coords)
    assert ember.autograd.gradcheck(lambda v: ember.gradient(v, spacing=spacing)[0], (x,))


# ---- allclose and isclose: shapes that do not broadcast raise RuntimeError -------------------


@requires_torch
@pytest.mark.parametrize("name", ["allclose", "isclose"])
@pytest.mark.parametrize("shapes", [((5, 2), (2, 5)), ((3,), (4,)), ((5, 2), (1, 2)), ((2,), ())])
def test_allclose_of_shapes_that_do_not_broadcast_raises_runtime_error(name: str, shapes: tuple) -> None:
    import torch

    def outcome(T):
        try:
            result = getattr(T, name)(T.ones(shapes[0]), T.ones(shapes[1]))
        except RuntimeError:
            return "RuntimeError"
        return bool(result) if name == "allclose" else tuple(result.shape)

    assert outcome(ember) == outcome(torch)


# ---- utils.data: the typed generic classes, Dataset[T] and Sampler[int] -----------------------

_DATA_CLASSES = [
    "Dataset",
    "IterableDataset",
    "Sampler",
    "DataLoader",
    "Subset",
    "StackDataset",
    "ConcatDataset",
    "TensorDataset",
    "ChainDataset",
    "SequentialSampler",
    "RandomSampler",
    "BatchSampler",
]


@requires_torch
@pytest.mark.parametrize("name", _DATA_CLASSES)
def test_data_classes_subscript_as_torchs(name: str) -> None:
    import torch.utils.data

    def outcome(module):
        try:
            getattr(module, name)[int]
        except TypeError:
            return "TypeError"
        return "subscripts"

    assert outcome(ember.utils.data) == outcome(torch.utils.data)


def test_typed_sampler_subclass_drives_a_data_loader() -> None:
    from ember.utils.data import DataLoader, Dataset, Sampler

    class Words(Dataset[str]):
        def __init__(self, words: list) -> None:
            self.words = words

        def __len__(self) -> int:
            return len(self.words)

        def __getitem__(self, i: int) -> str:
            return self.words[i]

    class ShortestFirst(Sampler[int]):
        def __init__(self, data: list) -> None:
            self.data = data

        def __len__(self) -> int:
            return len(self.data)

        def __iter__(self):
            yield from ember.argsort(ember.tensor([len(w) for w in self.data])).tolist()

    words = ["ember", "a", "tensor", "of"]
    loader: DataLoader[list] = DataLoader(Words(words), batch_size=2, sampler=ShortestFirst(words))
    assert list(loader) == [["a", "of"], ["ember", "tensor"]]


# ---- dlpack: a capsule from to_dlpack shares writable memory --------------------------------


def test_from_dlpack_of_to_dlpack_capsule_writes_into_the_source() -> None:
    from ember.utils.dlpack import to_dlpack

    t = ember.arange(4)
    t3 = ember.from_dlpack(to_dlpack(t))
    t3[0] = -9
    assert t.tolist() == [-9, 1, 2, 3]


@requires_torch
def test_torch_reads_the_capsule_of_to_dlpack_as_shared_memory() -> None:
    import torch

    from ember.utils.dlpack import to_dlpack

    t = ember.arange(4.0)
    back = torch.from_dlpack(to_dlpack(t))
    back[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 2.0, 3.0]


@requires_torch
def test_to_dlpack_exports_a_tensor_that_requires_grad_as_torch() -> None:
    import torch

    from ember.utils.dlpack import to_dlpack

    torch.utils.dlpack.to_dlpack(torch.ones(2, requires_grad=True))  # torch exports its data
    t = ember.ones(2, requires_grad=True)
    shared = ember.from_dlpack(to_dlpack(t))
    shared[0] = 5.0
    assert t.tolist() == [5.0, 1.0] and not shared.requires_grad
    with pytest.raises(BufferError, match="detach"):
        t.__dlpack__()  # the protocol itself refuses, as torch's


# ---- func.rearrange: einops' patterns ---------------------------------------------------------

_REARRANGE = [
    ("b h w c -> b h w c", {}),
    ("b h w c -> (b h) w c", {}),
    ("b h w c -> h (b w) c", {}),
    ("b h w c -> b c h w", {}),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 3}),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 3}),
    ("b h w c -> (b h) 1 w () c", {}),
    ("... c -> c ...", {}),
    ("b ... c -> (b ...) c", {}),
    ("... -> (...)", {}),
]


@requires_torch
@pytest.mark.parametrize("pattern, lengths", _REARRANGE)
def test_rearrange_matches_torch_and_differentiates(pattern: str, lengths: dict) -> None:
    import torch

    x = np.random.randn(2, 4, 6, 3)
    expected = torch.func.rearrange(torch.tensor(x), pattern, **lengths)
    t = ember.tensor(x, requires_grad=True)
    actual = ember.func.rearrange(t, pattern, **lengths)
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(actual.detach().numpy(), expected.numpy())
    assert ember.autograd.gradcheck(lambda v: ember.func.rearrange(v, pattern, **lengths), (t,))


@requires_torch
def test_rearrange_stacks_a_list_first() -> None:
    import torch

    rows = [np.arange(3.0), np.arange(3.0, 6.0)]
    expected = torch.func.rearrange([torch.tensor(r) for r in rows], "n d -> d n")
    actual = ember.func.rearrange([ember.tensor(r) for r in rows], "n d -> d n")
    np.testing.assert_array_equal(actual.numpy(), expected.numpy())


@requires_torch
@pytest.mark.parametrize(
    "pattern, lengths",
    [
        ("b h w -> b h", {}),  # wrong rank
        ("b h w c -> b h w", {}),  # c on one side only
        ("b b w c -> b w c", {}),  # a name twice
        ("b (h x) w c -> b h x w c", {"h": 3}),  # 4 does not split by 3
        ("b h w c", {}),  # no arrow
        ("b h w c -> b (h w) c", {"d": 5}),  # a length of an axis the pattern does not name
    ],
)
def test_rearrange_bad_patterns_raise_value_error_as_torch(pattern: str, lengths: dict) -> None:
    import torch

    # torch's size mismatch is functorch's DimensionBindError, an Exception: ember's a ValueError
    with pytest.raises(Exception):  # noqa: B017, PT011
        torch.func.rearrange(torch.zeros(2, 4, 6, 3), pattern, **lengths)
    with pytest.raises(ValueError):
        ember.func.rearrange(ember.zeros(2, 4, 6, 3), pattern, **lengths)


# ---- vmap over autograd.grad of one graph made outside: the rows of a Jacobian ------------------


@requires_torch
def test_vmap_of_grad_over_an_outside_graph_gives_the_jacobian_and_then_frees_it() -> None:
    import torch

    xs = np.random.randn(5)
    results = []
    for T in (torch, ember):
        x = T.tensor(xs, requires_grad=True)
        y = T.sin(x)
        (jacobian,) = T.vmap(lambda v, T=T, x=x, y=y: T.autograd.grad(y, x, v))(T.eye(5, dtype=T.float64))
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.sum().backward()  # freed by the last element's call, as by torch's one call
        results.append(jacobian.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)
    np.testing.assert_allclose(results[1], np.diag(np.cos(xs)), rtol=1e-12)


@requires_torch
def test_vmap_of_grad_with_retain_graph_false_frees_the_graph_after_the_last_element() -> None:
    """torch's one batched call frees the graph after every row is done; ember's loop must
    not free it after the first row (which raised 'backward through the graph a second time')."""
    import torch

    results = []
    for T in (torch, ember):
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = T.sin(x)
        (jacobian,) = T.vmap(lambda v, T=T, x=x, y=y: T.autograd.grad(y, x, v, retain_graph=False))(T.eye(3))
        with pytest.raises(RuntimeError, match="second time"):
            y.sum().backward()
        results.append(jacobian.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


# ---- autograd.enforce_grad_layout_policy: accepted, and changes nothing in ember ---------------


@requires_torch
def test_enforce_grad_layout_policy_as_block_and_decorator_gives_torchs_grads() -> None:
    import torch

    x = np.random.randn(2, 3, 4)
    grads = []
    for T in (torch, ember):
        p = T.tensor(x).permute(2, 0, 1).requires_grad_()
        with T.autograd.enforce_grad_layout_policy(False):
            (p * 2).sum().backward()

        @T.autograd.enforce_grad_layout_policy(True)
        def step(p=p, T=T):
            (p**2).sum().backward()

        step()
        grads.append(p.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])
