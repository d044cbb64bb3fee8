"""How the recurrent layers and cells read their initial state `hx`, with PyTorch's errors.

An RNN or GRU (layer or cell) takes one tensor; an LSTM or LSTMCell takes (h_0, c_0).
PyTorch reads the argument the way Python lets it: `hx.dim()` for the one tensor (so a
tuple raises AttributeError), `hx[0]` and `hx[1]` for the pair (so a tuple of one raises
IndexError, and a tensor of two rows passes for a pair where nothing else looks at it).
The exception types here are PyTorch's, form by form; the messages say what was given and
what is expected. Where PyTorch silently drops a third state (a tuple of three with an
unbatched or reordered packed input), ember raises, as PyTorch does elsewhere."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor


def _shape(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {list(value.shape)}"
    return f"a {type(value).__name__}"


def _described(hx: Any) -> str:
    if isinstance(hx, Tensor):
        return f"one tensor of shape {list(hx.shape)}"
    return f"a {type(hx).__name__} of {len(hx)}"


def _pair_error(kind: type, name: str, hx: Any, shapes: tuple[str, str]) -> Exception:
    state = "(h_0, c_0)" if name == "LSTM" else "(h, c)"
    sizes = (
        f"each of shape {shapes[0]}" if shapes[0] == shapes[1] else f"of shapes {shapes[0]} and {shapes[1]}"
    )
    given = _described(hx) if isinstance(hx, (Tensor, tuple, list)) else _shape(hx)
    return kind(f"{name}: hx must be a tuple {state} of two tensors, {sizes}; got {given}")


def single(name: str, hx: Any, shape: str) -> Tensor:
    """The one state of an RNN or GRU (layer or cell): a tensor; anything else raises
    AttributeError, as PyTorch's `hx.dim()` does."""
    if isinstance(hx, Tensor):
        return hx
    fix = " (pass h_0 itself: only an LSTM takes a tuple (h_0, c_0))" if isinstance(hx, (tuple, list)) else ""
    raise AttributeError(f"{name}: hx must be a tensor of shape {shape}, got {_shape(hx)}{fix}")


def _length(hx: Any) -> int:
    return (hx.shape[0] if hx.ndim else 0) if isinstance(hx, Tensor) else len(hx)


def _item(name: str, hx: Any, index: int, shapes: tuple[str, str]) -> Tensor:
    """hx[index] of an LSTM's state, as PyTorch reads it: IndexError when there is none,
    AttributeError when it is not a tensor."""
    if index >= _length(hx):
        raise _pair_error(IndexError, name, hx, shapes)
    value = hx[index]
    if not isinstance(value, Tensor):
        raise AttributeError(
            f"{name}: hx[{index}] must be a tensor of shape {shapes[index]}, got {_shape(value)}"
        )
    return value


def lstm(hx: Any, batched: bool, packed: Any, shapes: tuple[str, str]) -> list[Tensor]:
    """(h_0, c_0) of an LSTM layer; `packed` is None for a tensor input, else whether the
    PackedSequence reorders its batch (then PyTorch takes hx[0] and hx[1] apart first;
    otherwise its kernel gets hx as it is)."""
    if not isinstance(hx, (Tensor, tuple, list)):
        raise _pair_error(TypeError, "LSTM", hx, shapes)
    if packed is False:
        if isinstance(hx, Tensor):
            raise _pair_error(TypeError, "LSTM", hx, shapes)
        if len(hx) != 2:
            raise _pair_error(RuntimeError, "LSTM", hx, shapes)
        for k, value in enumerate(hx):
            if not isinstance(value, Tensor):
                raise TypeError(f"LSTM: hx[{k}] must be a tensor of shape {shapes[k]}, got {_shape(value)}")
            if value.ndim != 3:
                raise IndexError(
                    f"LSTM: hx[{k}] must be 3-D {shapes[k]} for a packed input, got {value.ndim}-D"
                )
        return list(hx)
    h, c = _item("LSTM", hx, 0, shapes), _item("LSTM", hx, 1, shapes)
    if packed:
        for k, value in enumerate((h, c)):
            if value.ndim != 3:
                raise IndexError(
                    f"LSTM: hx[{k}] must be 3-D {shapes[k]} for a packed input, got {value.ndim}-D"
                )
    else:
        want = 3 if batched else 2
        if h.ndim != want or c.ndim != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            fix = (
                f" (LSTM: hx is {_described(hx)}; pass a tuple (h_0, c_0))" if isinstance(hx, Tensor) else ""
            )
            raise RuntimeError(
                f"For {kind} input, hx and cx should also be {want}-D but got ({h.ndim}-D, {c.ndim}-D) tensors{fix}"
            )
        if isinstance(hx, Tensor) and batched:
            raise _pair_error(TypeError, "LSTM", hx, shapes)
    if _length(hx) > 2:
        raise _pair_error(RuntimeError, "LSTM", hx, shapes)
    return [h, c]


def cell_rank(name: str, hx: Tensor, label: str) -> None:
    """A cell's state is 1-D or 2-D (PyTorch's ValueError)."""
    if hx.ndim not in (1, 2):
        raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {hx.ndim}D instead")


def lstm_cell(hx: Any, batched: bool, shape: str) -> list[Tensor]:
    """(h, c) of an LSTMCell: 1-D or 2-D tensors, two of them. With an unbatched input a
    tensor of two rows passes for the pair, as in PyTorch."""
    shapes = (shape, shape)
    if not isinstance(hx, (Tensor, tuple, list)):
        raise _pair_error(TypeError, "LSTMCell", hx, shapes)
    for k, value in enumerate(hx):
        if not isinstance(value, Tensor):
            raise AttributeError(f"LSTMCell: hx[{k}] must be a tensor of shape {shape}, got {_shape(value)}")
        cell_rank("LSTMCell", value, f"hx[{k}]")
    if batched and isinstance(hx, Tensor):
        raise _pair_error(TypeError, "LSTMCell", hx, shapes)
    if _length(hx) > 2 or (batched and _length(hx) != 2):
        raise _pair_error(RuntimeError, "LSTMCell", hx, shapes)
    return [_item("LSTMCell", hx, 0, shapes), _item("LSTMCell", hx, 1, shapes)]


def same_dtype(name: str, states: list[Tensor], labels: list[str], weight: Tensor) -> None:
    """Each state has the weights' dtype (PyTorch's kernels raise RuntimeError otherwise)."""
    for state, label in zip(states, labels):
        if state.dtype != weight.dtype:
            module = f", or the module with .to({state.dtype})" if state.is_floating_point() else ""
            raise RuntimeError(
                f"{name}: {label} has dtype {state.dtype} but the weights have {weight.dtype} "
                f"(convert it with {label}.to({weight.dtype}){module})"
            )
