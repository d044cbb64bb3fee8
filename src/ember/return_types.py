"""The named tuples that ops such as `max(dim)`, `sort` and `topk` return (torch.return_types).

`values, indices = x.max(1)` unpacks one, `x.max(1).values` reads a field, and it prints as
PyTorch prints it. There is one class per op, made on first use (and one for its out= form,
`max_out`, as in PyTorch); `ember.return_types.max` names it, so that pickle finds it again (a DataLoader worker sends samples by pickle).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

_FIELDS = {
    "aminmax": ("min", "max"),
    "frexp": ("mantissa", "exponent"),
    "histogram": ("hist", "bin_edges"),
    "histogramdd": ("hist", "bin_edges"),
    # the matrix functions of ember.linalg and their top-level forms
    "slogdet": ("sign", "logabsdet"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "qr": ("Q", "R"),
    "linalg_qr": ("Q", "R"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_eig": ("eigenvalues", "eigenvectors"),
    "svd": ("U", "S", "V"),
    "linalg_svd": ("U", "S", "Vh"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_solve_ex": ("result", "info"),
    "linalg_ldl_factor": ("LD", "pivots"),
    "linalg_ldl_factor_ex": ("LD", "pivots", "info"),
    "geqrf": ("a", "tau"),
    "triangular_solve": ("solution", "cloned_coefficient"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "_lu_with_info": ("LU", "pivots", "info"),
    "linalg_lu": ("P", "L", "U"),
    "lu_unpack": ("P", "L", "U"),
}  # the others are (values, indices)
_TYPES: dict[str, type] = {}


def return_type(name: str) -> type:
    """The named tuple that the op `name` returns."""
    cls = _TYPES.get(name)
    if cls is None:

        def __repr__(self: Any) -> str:
            items = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
            return f"ember.return_types.{name}(\n{items})"

        # an op's out= form (max_out) has the op's fields, as in PyTorch
        op = name[: -len("_out")] if name.endswith("_out") else name
        base = namedtuple(name, _FIELDS.get(op, ("values", "indices")))  # type: ignore[misc]
        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__})
        _TYPES[name] = cls
    return cls


def __getattr__(name: str) -> type:  # ember.return_types.max, for pickle and for users
    if name.startswith("__"):
        raise AttributeError(name)
    return return_type(name)
