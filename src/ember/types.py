"""The type aliases of torch.types, for annotations in code written against PyTorch:
`Number`, `Device`, `FileLike`, the `_TensorOrTensors` family and the short names of the
builtins (`_int`, `_float`, ...) and of ember's own classes (`_dtype`, `_device`, ...).

ember has no symbolic shapes, so the "int-like" aliases are the plain Python types
(PyTorch's also admit its SymInt, SymFloat and SymBool), and there is no quantization
scheme or dispatch key to name.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, TypeAlias, Union

from ember import _layout, dtypes
from ember import _tensor as _tensors
from ember._storage import TypedStorage, UntypedStorage
from ember._tensor import Size, Tensor

if TYPE_CHECKING:
    from ember.autograd.graph import GradientEdge

__all__ = [
    "BoolLikeType",
    "Device",
    "FileLike",
    "FloatLikeType",
    "IntLikeType",
    "Number",
    "Size",
    "Storage",
    "Tensor",
]

# the short names torch.types gives classes, for hints in code that cannot say `ember.dtype`
_dtype = dtypes.dtype
_device = _tensors.device
_layout = _layout.layout

_bool = builtins.bool
_bytes = builtins.bytes
_complex = builtins.complex
_float = builtins.float
_int = builtins.int
_str = builtins.str

# the types of the scalars a tensor can hold: the tuple for isinstance, the union for hints
_Number = (int, float, bool)
Number: TypeAlias = int | float | bool

# what a `device=` argument accepts: a device, its name ("cpu"), an index, or None
Device: TypeAlias = _device | str | int | None

# what ember.save and ember.load accept: a path or a binary file
FileLike: TypeAlias = str | os.PathLike[str] | IO[bytes]

IntLikeType: TypeAlias = int
FloatLikeType: TypeAlias = float
BoolLikeType: TypeAlias = bool

# a shape: a Size, a list or a tuple of ints
_size: TypeAlias = Size | list[int] | tuple[int, ...]
_symsize: TypeAlias = Size | Sequence[int]

# the tensors that autograd.backward and autograd.grad accept
_TensorOrTensors: TypeAlias = Tensor | Sequence[Tensor]
_TensorOrOptionalTensors: TypeAlias = Tensor | Sequence[Tensor | None]
_TensorOrTensorsOrGradEdge: TypeAlias = Union[
    Tensor, Sequence[Tensor], "GradientEdge", Sequence["GradientEdge"]
]

# a storage, typed or untyped
Storage: TypeAlias = TypedStorage | UntypedStorage
