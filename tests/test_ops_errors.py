"""Bad input gets PyTorch's exception type, and a message that names the op and the shapes.

Each case is `lambda T: ...` run with T = torch and T = ember: both must raise, with the
same exception class. `words` lists what ember's message must mention (the op, the shapes)
so that the user can find the mistake without a NumPy traceback.
"""

from __future__ import annotations

from typing import Any

import pytest

import ember
from conftest import requires_torch


def _x(T: Any) -> Any:
    return T.ones(2, 3)


# name: (the bad call, words ember's message must contain)
CASES: dict[str, tuple[Any, list[str]]] = {
    # broadcasting
    "add shapes": (lambda T: _x(T) + T.ones(4), ["add", "[2, 3]", "[4]"]),
    "mul shapes": (lambda T: _x(T) * T.ones(3, 2), ["mul", "[2, 3]", "[3, 2]"]),
    "sub shapes": (lambda T: T.sub(_x(T), T.ones(2, 1, 4)), ["sub", "[2, 3]", "[2, 1, 4]"]),
    "div shapes": (lambda T: _x(T) / T.ones(2), ["div", "[2, 3]", "[2]"]),
    "maximum shapes": (lambda T: T.maximum(_x(T), T.ones(2)), ["maximum", "[2, 3]", "[2]"]),
    "eq shapes": (lambda T: _x(T) == T.ones(4), ["eq", "[2, 3]", "[4]"]),
    "where shapes": (lambda T: T.where(_x(T) > 0, _x(T), T.ones(4)), ["where", "[2, 3]", "[4]"]),
    "masked_fill mask shape": (
        lambda T: _x(T).masked_fill(T.ones(4) > 0, 0.0),
        ["masked_fill", "[4]", "[2, 3]"],
    ),
    "add_ shapes": (lambda T: T.ones(3).add_(_x(T)), ["add_", "[3]", "[2, 3]"]),
    # matrix products
    "matmul 2-D": (lambda T: _x(T) @ T.ones(4, 5), ["2x3", "4x5"]),
    "matmul 1-D": (lambda T: T.ones(3) @ T.ones(4), ["3", "4"]),
    "matmul 2-D @ 1-D": (lambda T: _x(T) @ T.ones(4), ["2x3", "4"]),
    "matmul 1-D @ 2-D": (lambda T: T.ones(3) @ T.ones(4, 5), ["3", "4x5"]),
    "matmul batched": (lambda T: T.ones(2, 3, 4) @ T.ones(2, 5, 6), ["2x3x4", "2x5x6"]),
    "matmul batches": (lambda T: T.ones(2, 3, 4) @ T.ones(3, 4, 5), ["matmul", "[2, 3, 4]", "[3, 4, 5]"]),
    "matmul 0-d": (lambda T: T.tensor(2.0) @ T.ones(2), ["matmul", "0D"]),
    "matmul dtypes": (lambda T: _x(T) @ T.ones(3, dtype=T.float64), ["float32", "float64"]),
    "mm 1-D": (lambda T: T.mm(T.ones(3), T.ones(3, 2)), ["mm", "1D"]),
    "bmm 2-D": (lambda T: T.bmm(_x(T), T.ones(3, 2)), ["3D", "2D"]),
    "bmm batches": (lambda T: T.bmm(T.ones(2, 2, 3), T.ones(3, 3, 2)), ["[2, 2, 3]", "[3, 3, 2]"]),
    "dot sizes": (lambda T: T.dot(T.ones(3), T.ones(4)), ["3", "4"]),
    "einsum operands": (lambda T: T.einsum("ij,jk->ik", _x(T)), ["einsum", "2", "1"]),
    "einsum sizes": (lambda T: T.einsum("ij,jk->ik", _x(T), T.ones(4, 2)), ["einsum", "[2, 3]", "[4, 2]"]),
    # indexing
    "float index tensor": (lambda T: _x(T)[T.tensor([0.0, 1.0])], ["long", "float32"]),
    "float index number": (lambda T: _x(T)[1.5], ["1.5"]),
    "index out of range": (lambda T: _x(T)[5], ["5", "[2, 3]"]),
    "index list out of range": (lambda T: _x(T)[[0, 7]], ["7", "[2, 3]"]),
    "too many indices": (lambda T: _x(T)[0, 0, 0], ["[2, 3]"]),
    "mask shape": (lambda T: _x(T)[T.tensor([True, False, True])], ["[2, 3]"]),
    "setitem shape": (lambda T: _x(T).__setitem__(0, T.ones(5)), ["[5]", "[3]"]),
    "gather index dtype": (lambda T: _x(T).gather(1, T.zeros(2, 1)), ["gather", "float32"]),
    "gather index ndim": (lambda T: _x(T).gather(1, T.zeros(2, dtype=T.int64)), ["gather", "[2]", "[2, 3]"]),
    "gather index range": (lambda T: _x(T).gather(1, T.full((2, 1), 5)), ["gather", "5", "size 3"]),
    "scatter index range": (lambda T: _x(T).scatter(1, T.full((2, 1), 5), 1.0), ["scatter", "5", "size 3"]),
    "index_select out of range": (
        lambda T: _x(T).index_select(1, T.tensor([0, 3])),
        ["index_select", "3", "size 3", "[2, 3]"],
    ),
    "index_select negative index": (
        lambda T: _x(T).index_select(1, T.tensor([-1])),
        ["index_select", "-1", "size 3"],
    ),
    "index_select 2-D index": (
        lambda T: _x(T).index_select(0, T.zeros(1, 1, dtype=T.int64)),
        ["index_select"],
    ),
    "index_select float index": (lambda T: _x(T).index_select(0, T.zeros(1)), ["index_select", "float32"]),
    "masked_fill float mask": (lambda T: _x(T).masked_fill(T.ones(2, 3), 0.0), ["masked_fill", "float32"]),
    # dtypes
    "requires_grad on int": (lambda T: T.tensor([1, 2], requires_grad=True), ["floating point", "int64"]),
    "requires_grad_ on int": (lambda T: T.tensor([1, 2]).requires_grad_(), ["floating point", "int64"]),
    "zeros(requires_grad) int": (lambda T: T.zeros(2, dtype=T.int64, requires_grad=True), ["int64"]),
    "int ** negative int": (lambda T: T.tensor([1, 2]) ** -1, ["negative"]),
    "mean of int": (lambda T: T.tensor([1, 2]).mean(), ["mean", "int64"]),
    "std of int": (lambda T: T.tensor([1, 2]).std(), ["int64"]),
    "softmax of int": (lambda T: T.tensor([1, 2]).softmax(0), ["softmax", "int64"]),
    "norm of int": (lambda T: T.tensor([1, 2]).norm(), ["norm", "Long"]),
    "negate bool": (lambda T: -T.tensor([True]), ["bool"]),
    "bitwise and of floats": (lambda T: _x(T) & _x(T), ["bitwise_and", "Float"]),
    "add_ float into int": (lambda T: T.tensor([1, 2]).add_(0.5), ["add_", "Float", "Long"]),
    "div_ of int": (lambda T: T.tensor([1, 2]).div_(2), ["div_", "Long"]),
    # dims
    **{
        f"{name} bad dim": (call, [name, "Dimension out of range"])
        for name, call in {
            "sum": lambda T: _x(T).sum(2),
            "mean": lambda T: _x(T).mean(dim=-3),
            "max": lambda T: _x(T).max(2),
            "argmax": lambda T: _x(T).argmax(2),
            "var": lambda T: _x(T).var(3),
            "logsumexp": lambda T: _x(T).logsumexp(3),
            "softmax": lambda T: _x(T).softmax(2),
            "log_softmax": lambda T: _x(T).log_softmax(-3),
            "unsqueeze": lambda T: _x(T).unsqueeze(4),
            "squeeze": lambda T: _x(T).squeeze(3),
            "transpose": lambda T: _x(T).transpose(0, 2),
            "permute": lambda T: _x(T).permute(0, 2),
            "flatten": lambda T: _x(T).flatten(3),
            "cat": lambda T: T.cat([_x(T), _x(T)], 2),
            "stack": lambda T: T.stack([_x(T), _x(T)], 4),
            "gather": lambda T: _x(T).gather(2, T.zeros(2, 3, dtype=T.int64)),
            "index_select": lambda T: _x(T).index_select(2, T.tensor([0])),
            "narrow": lambda T: _x(T).narrow(2, 0, 1),
            "split": lambda T: _x(T).split(1, 2),
            "chunk": lambda T: _x(T).chunk(2, 2),
            "flip": lambda T: _x(T).flip(2),
            "roll": lambda T: _x(T).roll(1, 2),
        }.items()
    },
    "norm fro over 3 dims": (
        lambda T: T.ones(2, 2, 2).norm("fro", dim=(0, 1, 2)),
        ["matrix_norm", "2-tuple", "(0, 1, 2)"],
    ),
    "sum repeated dims": (lambda T: _x(T).sum((0, 0)), ["sum", "multiple times"]),
    "prod dim tuple": (lambda T: _x(T).prod((0, 1)), ["prod", "dim"]),
    "permute count": (lambda T: _x(T).permute(0, 1, 2), ["permute", "2", "3"]),
    "permute repeated": (lambda T: _x(T).permute(0, 0), ["permute", "duplicate"]),
    "flatten order": (lambda T: T.ones(2, 3, 4).flatten(2, 1), ["flatten", "start_dim"]),
    "narrow range": (lambda T: _x(T).narrow(1, 2, 3), ["narrow", "2", "3"]),
    "narrow of 0-d": (lambda T: T.tensor(1.0).narrow(0, 0, 1), ["narrow", "0-dim"]),
    # shapes
    "reshape size": (lambda T: _x(T).reshape(4, 2), ["[4, 2]", "6", "[2, 3]"]),
    "view size": (lambda T: _x(T).view(5), ["[5]", "6"]),
    "view_as size": (lambda T: _x(T).view_as(T.ones(4)), ["[4]", "6"]),
    "reshape two -1": (lambda T: _x(T).reshape(-1, -1), ["one dimension", "[-1, -1]"]),
    "reshape negative": (lambda T: _x(T).reshape(-2, 3), ["-2", "[-2, 3]"]),
    "unflatten sizes": (lambda T: _x(T).unflatten(1, (2, 2)), ["unflatten", "[2, 2]", "3"]),
    "cat shapes": (lambda T: T.cat([_x(T), T.ones(2, 4)]), ["cat", "[2, 3]", "[2, 4]"]),
    "cat ndim": (lambda T: T.cat([_x(T), T.ones(3)]), ["cat", "[2, 3]", "[3]"]),
    "cat 0-d": (lambda T: T.cat([T.tensor(1.0), T.tensor(2.0)]), ["cat", "zero-dimensional"]),
    "cat nothing": (lambda T: T.cat([]), ["cat", "non-empty"]),
    "stack shapes": (lambda T: T.stack([_x(T), T.ones(3, 2)]), ["stack", "[2, 3]", "[3, 2]"]),
    "expand size": (lambda T: _x(T).expand(2, 4), ["expanded size", "[2, 4]", "[2, 3]"]),
    "expand fewer dims": (lambda T: _x(T).expand(3), ["expand", "(1)", "(2)"]),
    "expand_as": (lambda T: _x(T).expand_as(T.ones(3, 3)), ["[3, 3]", "[2, 3]"]),
    "broadcast_to": (lambda T: T.broadcast_to(_x(T), (4, 3, 2)), ["[4, 3, 2]", "[2, 3]"]),
    "repeat fewer dims": (lambda T: _x(T).repeat(2), ["repeat"]),
    "split sizes": (lambda T: _x(T).split([1, 1], 1), ["split", "[1, 1]", "3"]),
    "split size 0": (lambda T: _x(T).split(0, 1), ["split_size", "3"]),
    "split size negative": (lambda T: _x(T).split(-1, 1), ["split_size", "-1"]),
    "chunk 0": (lambda T: _x(T).chunk(0), ["chunk", "0"]),
    "narrow start": (lambda T: _x(T).narrow(1, -4, 1), ["start", "-4", "[-3, 3]"]),
    "narrow length": (lambda T: _x(T).narrow(1, 1, -1), ["narrow", "length"]),
    "expand -1 new dim": (lambda T: T.ones(3).expand(-1, 3), ["expanded size", "-1", "leading"]),
    "repeat negative": (lambda T: _x(T).repeat(1, 1, -1), ["negative dimension", "-3"]),
    "tril of 1-D": (lambda T: T.ones(3).tril(), ["tril", "2 dimensions", "[3]"]),
    "triu of 0-d": (lambda T: T.ones(()).triu(), ["triu", "2 dimensions"]),
    "zeros negative": (lambda T: T.zeros(2, -1), ["-1"]),
    "tensor ragged": (lambda T: T.tensor([[1, 2], [3]]), []),
    "tensor of str": (lambda T: T.tensor("a"), []),
    # scalars and autograd
    "item of many": (lambda T: _x(T).item(), ["6 elements"]),
    "len of 0-d": (lambda T: len(T.tensor(1.0)), ["0-d"]),
    "iter over 0-d": (lambda T: iter(T.tensor(1.0)), ["0-d"]),
    "clamp without bounds": (lambda T: _x(T).clamp(), ["clamp"]),
    "max of empty": (lambda T: T.ones(0).max(), ["max", "numel() == 0"]),
    "numpy of requires_grad": (lambda T: T.ones(2, requires_grad=True).numpy(), ["detach"]),
    "backward of non-scalar": (lambda T: (_x(T).requires_grad_() * 2).backward(), ["scalar", "[2, 3]"]),
    "backward without grad": (lambda T: _x(T).sum().backward(), ["does not require grad"]),
    "backward gradient shape": (
        lambda T: (_x(T).requires_grad_() * 2).backward(T.ones(3)),
        ["[3]", "[2, 3]"],
    ),
    "in-place on leaf": (lambda T: T.ones(2, requires_grad=True).mul_(2), ["leaf", "in-place"]),
    "batch_norm mixed dtypes": (
        lambda T: T.nn.BatchNorm1d(3)(T.ones(4, 3, dtype=T.float64)),
        ["mixed dtype", "batch_norm", "float64", "float32", ".double()"],
    ),
    "layer_norm mixed dtypes": (
        lambda T: T.nn.LayerNorm(3)(T.ones(4, 3, dtype=T.float64)),
        ["mixed dtype", "layer_norm", "float64", "float32"],
    ),
    "batch_norm of integers": (
        lambda T: T.nn.BatchNorm1d(3)(T.ones(4, 3, dtype=T.int64)),
        ["batch_norm", "int64"],
    ),
    "cross_entropy int32 target": (
        lambda T: T.nn.functional.cross_entropy(_x(T), T.tensor([0, 1], dtype=T.int32)),
        ["Long", "int32", "cross_entropy", ".long()"],
    ),
    "nll_loss int32 target": (
        lambda T: T.nn.functional.nll_loss(_x(T), T.tensor([0, 1], dtype=T.int32)),
        ["Long", "int32", "nll_loss"],
    ),
    "binary_cross_entropy dtypes": (
        lambda T: T.nn.functional.binary_cross_entropy(T.full((2,), 0.5), T.ones(2, dtype=T.float64)),
        ["float64", "float32"],
    ),
    "embedding uint8 indices": (
        lambda T: T.nn.Embedding(3, 2)(T.tensor([0, 1], dtype=T.uint8)),
        ["Long, Int", "uint8"],
    ),
    "normal_ of integers": (lambda T: T.nn.init.normal_(T.zeros(3, dtype=T.int64)), ["normal_", "int64"]),
    "uniform_ of integers": (lambda T: T.nn.init.uniform_(T.zeros(3, dtype=T.int64)), ["uniform_", "int64"]),
    "arange step 0": (lambda T: T.arange(0, 5, 0), ["arange", "step"]),
    "arange step sign": (lambda T: T.arange(5, 0, 1), ["step sign", "arange(5, 0, 1)"]),
    "arange float step sign": (lambda T: T.arange(0.0, -1.0, 0.5), ["step sign"]),
    "randint low >= high": (lambda T: T.randint(5, 2, (3,)), ["randint", "5", "2"]),
    "linspace negative steps": (lambda T: T.linspace(0, 1, -1), ["linspace", "-1"]),
    "rand of int": (lambda T: T.rand(2, dtype=T.int64), ["int64"]),
}


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_error_matches_torch(name: str) -> None:
    import torch

    call, words = CASES[name]
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(Exception) as got:
        call(ember)
    assert got.type is expected.type, f"ember raised {got.type.__name__}, PyTorch {expected.type.__name__}"
    message = str(got.value)
    for word in words:
        assert word in message, f"{word!r} is missing from ember's message: {message}"


@requires_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.ones(0, 2).split(0),  # a split size of 0 is fine on an empty dimension
        lambda T: _x(T).narrow(1, 3, 0),  # start == size with length 0 is an empty slice
        lambda T: T.ones(3).expand(2, -1),  # -1 keeps an existing dimension
        lambda T: T.arange(0, 0, -1),  # empty, not an error
        lambda T: T.arange(5, 0, -1),
    ],
)
def test_edge_cases_that_are_not_errors(call) -> None:
    import torch

    def shapes(result):
        return [tuple(r.shape) for r in result] if isinstance(result, tuple) else tuple(result.shape)

    assert shapes(call(ember)) == shapes(call(torch))
