"""Sparse tensors (torch.sparse): COO, CSR and CSC layouts, and the functions that take them.

`ember.sparse_coo_tensor(indices, values, size)`, `ember.sparse_csr_tensor(...)` and
`ember.sparse_csc_tensor(...)` make them, `Tensor.to_sparse()` converts a dense one; `ember.sparse.mm` (also `ember.mm`,
`ember.matmul` and `@` with a sparse operand on either side), `addmm`, `sum`, `softmax` and
`log_softmax` compute with them, and sparse tensors take integer indexing (`s[1]`, `s[:, 0]`),
`select`, `index_select`, `** p` and the zero-preserving elementwise methods. Storage and autograd are described in `ember/sparse/_tensor.py`:
a sparse tensor's values are a dense Tensor, and the gradient of a sparse tensor is that of
its values, sparse with the tensor's pattern. Importing this package attaches the dense
tensor's conversions (`to_sparse`, `to_sparse_coo`, `to_sparse_csr`, `to_sparse_csc`, `to_dense`,
`sparse_mask`) to Tensor and the sparse operators to SparseTensor.
"""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.sparse._build import attach as _attach_dense
from ember.sparse._build import (
    sparse_compressed_tensor,
    sparse_coo_tensor,
    sparse_csc_tensor,
    sparse_csr_tensor,
    to_sparse,
)
from ember.sparse._legacy import (
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from ember.sparse._ops import (
    addmm,
    hspmm,
    log_softmax,
    mm,
    smm,
    softmax,
    spdiags,
    sspaddmm,
    sum,
)
from ember.sparse._ops import attach as _attach_ops
from ember.sparse._ops import sparse_mask as _sparse_mask
from ember.sparse._tensor import (
    SparseTensor,
    SparseUnsupportedError,
    _new,
    sparse_coo,
    sparse_csc,
    sparse_csr,
)

spmm = mm


def as_sparse_gradcheck(gradcheck: Any) -> Any:
    """gradcheck (or gradgradcheck) for functions of sparse tensors
    (torch.sparse.as_sparse_gradcheck): each sparse input that requires grad is checked through
    its values, a dense leaf, and each sparse output through its dense form."""

    def dense(out: Any) -> Any:
        if isinstance(out, (tuple, list)):
            return type(out)(dense(o) for o in out)
        return out.to_dense() if isinstance(out, SparseTensor) else out

    def check(func: Any, inputs: Any, **kwargs: Any) -> Any:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        sparse = {i: x for i, x in enumerate(inputs) if isinstance(x, SparseTensor) and x.requires_grad}
        values = [x._vals.detach().requires_grad_() if i in sparse else x for i, x in enumerate(inputs)]

        def on_values(*args: Any) -> Any:
            args = [
                _new(sparse[i].layout, sparse[i].shape, a, sparse[i]._idx, sparse[i]._coalesced)
                if i in sparse
                else a
                for i, a in enumerate(args)
            ]
            return dense(func(*args))

        return gradcheck(on_values, tuple(values), **kwargs)

    return check


class check_sparse_tensor_invariants:  # noqa: N801 (PyTorch's name)
    """torch.sparse.check_sparse_tensor_invariants: ember always checks a new sparse tensor's
    indices, so this context manager and decorator changes nothing."""

    def __init__(self, enable: bool = True) -> None:
        self.state = enable

    @staticmethod
    def is_enabled() -> bool:
        return True

    @staticmethod
    def enable() -> None:
        pass

    @staticmethod
    def disable() -> None:
        pass

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        pass

    def __call__(self, fn: Any) -> Any:
        return fn


_attach_dense(Tensor)
Tensor.sparse_mask = _sparse_mask
_attach_ops(SparseTensor)

__all__ = [
    "ByteTensor",
    "CharTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "SparseTensor",
    "SparseUnsupportedError",
    "addmm",
    "as_sparse_gradcheck",
    "check_sparse_tensor_invariants",
    "hspmm",
    "log_softmax",
    "mm",
    "smm",
    "softmax",
    "sparse_coo",
    "sparse_coo_tensor",
    "sparse_compressed_tensor",
    "sparse_csc",
    "sparse_csc_tensor",
    "sparse_csr",
    "sparse_csr_tensor",
    "spdiags",
    "spmm",
    "sspaddmm",
    "sum",
    "to_sparse",
]
