"""Recurrent layers: RNNCell, LSTMCell, GRUCell and the multi-layer RNN, LSTM, GRU.

Everything is composed from differentiable ops (linear, sigmoid, tanh, split, stack), so
gradients, gradcheck and second derivatives come for free. A sequence is run as PyTorch's
CPU kernels run it: one matrix product projects the inputs of all time steps at once
(x @ W_ih^T for the whole sequence), then a Python loop does, per step, one product with
the hidden state (h @ W_hh^T) and the gate arithmetic of `rnn_step`, `lstm_step` or
`gru_step`; the cells use the same step functions. The steps and the loops over time, layers
and directions are in nn/_functional/recurrent.py, which also has PyTorch's functional forms
(torch.lstm, torch.gru_cell, ...); the modules here hold the weights.

The multi-layer modules also take a PackedSequence (nn.utils.rnn): its sequences are
sorted longest first, so at step t the active ones are the first batch_sizes[t] rows and
the loop runs the states on just those rows (`recurrent.packed_loop`); each sequence's final state
is taken at its own last step, and the reverse direction starts there.

Gate order, weight names, shapes and initialisation are PyTorch's: W_ih stacks the gates
(i, f, g, o) for LSTM and (r, z, n) for GRU along dimension 0, and every weight and bias
is drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ember import creation
from ember._tensor import Tensor
from ember.nn import functional as F
from ember.nn import init
from ember.nn._functional import recurrent
from ember.nn.module import Module
from ember.nn.modules import _rnn_states
from ember.nn.parameter import Parameter
from ember.nn.utils.rnn import PackedSequence
from ember.ops.api.indexing import index_select

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- cells -------------------------------------------------------------------------------


class RNNCellBase(Module):
    """What the three cells share: weight_ih (gates*hidden, input), weight_hh (gates*hidden,
    hidden), bias_ih and bias_hh (gates*hidden,), input checks and the repr (torch.nn.RNNCellBase)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty(rows, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty(rows, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _states(self, input: Tensor, hx: Any, count: int) -> list[Tensor | None]:
        """hx read as PyTorch reads it (see _rnn_states): [None] * count when not given, the
        one tensor of an RNNCell or GRUCell, the pair of an LSTMCell; checked after the input's
        rank, as in PyTorch."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if hx is None:
            return [None] * count
        shape = f"(batch, {self.hidden_size}) or ({self.hidden_size},)"
        if count == 2:
            states = _rnn_states.lstm_cell(hx, input.ndim == 2, shape)
        else:
            states = [_rnn_states.single(name, hx, shape)]
            _rnn_states.cell_rank(name, states[0], "hidden")
        # PyTorch lets an LSTMCell's c have another dtype (the result takes it); not h
        _rnn_states.same_dtype(name, states[:1], ["hx[0]" if count == 2 else "hx"], self.weight_ih)
        return states

    def _batched(self, input: Tensor, states: list[Tensor | None]) -> tuple[Tensor, list[Tensor], bool]:
        """The input as (batch, input_size) and each state as (batch, hidden_size), zeros
        where not given, after PyTorch's checks; and whether the input was unbatched."""
        name = type(self).__name__
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}"
            )
        batch = input.shape[0]
        out = []
        for k, state in enumerate(states):
            if state is None:
                out.append(creation.zeros(batch, self.hidden_size, dtype=input.dtype, device=input.device))
                continue
            if state.ndim != input.ndim - unbatched:
                raise RuntimeError(
                    f"{name}: Expected hidden{k} to be {input.ndim - unbatched}D for a "
                    f"{input.ndim - unbatched}D input, got {state.ndim}D"
                )
            state = state.unsqueeze(0) if unbatched else state
            if state.shape[0] != batch:
                raise RuntimeError(
                    f"Input batch size {batch} doesn't match hidden{k} batch size {state.shape[0]}"
                )
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {state.shape[1]}, expected {self.hidden_size}"
                )
            out.append(state)
        return input, out, unbatched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), or relu (torch.nn.RNNCell).

    Input (batch, input_size) or (input_size,); hx of the matching (batch, hidden_size) or
    (hidden_size,), zeros when omitted. Returns h'.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        x, (h,), unbatched = self._batched(input, self._states(input, hx, 1))
        h = recurrent.rnn_step(
            F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, self.nonlinearity
        )
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step with gates i, f, g, o (torch.nn.LSTMCell).

    Input (batch, input_size) or (input_size,); hx is (h, c), each (batch, hidden_size) or
    (hidden_size,), zeros when omitted. Returns (h', c').
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        x, (h, c), unbatched = self._batched(input, self._states(input, hx, 2))
        h, c = recurrent.lstm_step(
            F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None
        )
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step with gates r, z, n (torch.nn.GRUCell).

    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)) and h' = (1 - z) * n + z * h. Input
    (batch, input_size) or (input_size,); hx (batch, hidden_size) or (hidden_size,), zeros
    when omitted. Returns h'.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), unbatched = self._batched(input, self._states(input, hx, 1))
        h = recurrent.gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h


# ---- multi-layer, optionally bidirectional ----------------------------------------------


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks
    and the loop over layers (torch.nn.RNNBase).

    `mode` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU". Layer k, direction d has weight_ih_lk,
    weight_hh_lk, bias_ih_lk, bias_hh_lk (and weight_hr_lk for an LSTM with proj_size), with
    the suffix "_reverse" for the backward direction, registered in PyTorch's order.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int) or isinstance(input_size, bool):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and (isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral)):
            raise TypeError(f"proj_size should be of type int, got: {type(proj_size).__name__}")
        if proj_size and mode != "LSTM":  # PyTorch builds the weights, and its forward then fails
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = int(proj_size)
        # The size of h: the projection's when there is one.
        real_hidden = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        rows = _GATES[mode] * hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (rows, layer_input), "weight_hh": (rows, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(
                        self, name + suffix, Parameter(creation.empty(*shape, dtype=dtype, device=device))
                    )
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights for cuDNN here, and ember has no cuDNN."""

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, in registration order."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        flat = self._flat_weights
        return [flat[i : i + per] for i in range(0, len(flat), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- checks ---------------------------------------------------------------------------

    def _check_input(self, input: Tensor) -> bool:
        """Raise PyTorch's errors for a wrong input; return whether it is batched."""
        if input.ndim not in (2, 3):
            what = "D" if self.mode == "LSTM" else "D tensor"
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.ndim}{what} instead"
            )
        return input.ndim == 3

    def _check_dtype(self, input: Tensor) -> None:
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). Convert input: "
                f"input.to({weight.dtype}), or convert model: model.to({input.dtype})"
            )

    def _check_sizes(
        self, features: int, steps: int, batch: int, states: list[Tensor], sizes: list[int]
    ) -> None:
        """The input has `steps` time steps of `batch` rows of `features`, and each state must
        be (layers*directions, batch, size)."""
        if features != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {features}"
            )
        if steps == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        stacks = self.num_layers * (2 if self.bidirectional else 1)
        for k, (state, size) in enumerate(zip(states, sizes)):
            expected = (stacks, batch, size)
            if tuple(state.shape) != expected:
                which = f"hidden[{k}]" if len(states) > 1 else "hidden"
                raise RuntimeError(f"Expected {which} size {expected}, got {list(state.shape)}")

    def _initial_states(
        self, hx: Any, input: Tensor, batched: bool, packed: Any, sizes: list[int]
    ) -> list[Tensor]:
        """hx read as PyTorch reads it (see _rnn_states), in the weights' dtype; [] when None.
        packed: None for a tensor input, else whether the PackedSequence reorders its batch."""
        if hx is None:
            return []
        stacks = self.num_layers * (2 if self.bidirectional else 1)
        batch = ", batch" if batched else ""
        shapes = [f"({stacks}{batch}, {size})" for size in sizes]
        name = type(self).__name__
        if self.mode == "LSTM":
            states = _rnn_states.lstm(hx, batched, packed, (shapes[0], shapes[1]))
        else:
            states = [_rnn_states.single(name, hx, shapes[0])]
        labels = ["hx[0]", "hx[1]"] if self.mode == "LSTM" else ["hx"]
        _rnn_states.same_dtype(name, states, labels, self.weight_ih_l0)
        return states

    # -- the loop -------------------------------------------------------------------------

    def _run(self, input: Tensor | PackedSequence, hx: Any, sizes: list[int]) -> tuple[Any, list[Tensor]]:
        """Check input and initial states (a tensor, a tuple of them, or None), run every
        layer and direction, and return the output and the final states, shaped as the input."""
        if isinstance(input, PackedSequence):
            return self._run_packed(input, hx, sizes)
        batched = self._check_input(input)
        self._check_dtype(input)
        states = self._initial_states(hx, input, batched, None, sizes)
        want = 3 if batched else 2
        if any(s.ndim != want for s in states):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            if len(states) == 1:
                raise RuntimeError(
                    f"For {kind} input, hx should also be {want}-D but got {states[0].ndim}-D tensor"
                )
            dims = ", ".join(f"{s.ndim}-D" for s in states)
            raise RuntimeError(
                f"For {kind} input, hx and cx should also be {want}-D but got ({dims}) tensors"
            )
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        states = [s if batched else s.unsqueeze(1) for s in states]
        stacks = self.num_layers * (2 if self.bidirectional else 1)
        if not states:
            states = [
                creation.zeros(stacks, x.shape[1], size, dtype=x.dtype, device=x.device) for size in sizes
            ]
        self._check_sizes(x.shape[-1], x.shape[0], x.shape[1], states, sizes)

        x, finals = self._layers(x, states, None)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if not batched:
            x, finals = x.squeeze(1), [f.squeeze(1) for f in finals]
        return x, finals

    def _run_packed(
        self, input: PackedSequence, hx: Any, sizes: list[int]
    ) -> tuple[PackedSequence, list[Tensor]]:
        """_run for a PackedSequence: the states are given and returned in the batch's original
        order, and run in the packed (longest first) order in between. batch_first does not
        apply: packed data has no batch dimension."""
        x = input.data
        if x.ndim != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {x.ndim}")
        self._check_dtype(x)
        batch_sizes = input.batch_sizes.tolist()
        batch = batch_sizes[0] if batch_sizes else 0
        states = self._initial_states(hx, x, True, input.sorted_indices is not None, sizes)
        stacks = self.num_layers * (2 if self.bidirectional else 1)
        if not states:
            states = [creation.zeros(stacks, batch, size, dtype=x.dtype, device=x.device) for size in sizes]
        self._check_sizes(x.shape[-1], len(batch_sizes), batch, states, sizes)
        if input.sorted_indices is not None:
            states = [index_select(s, 1, input.sorted_indices) for s in states]

        x, finals = self._layers(x, states, batch_sizes)
        if input.unsorted_indices is not None:
            finals = [index_select(f, 1, input.unsorted_indices) for f in finals]
        return PackedSequence(x, input.batch_sizes, input.sorted_indices, input.unsorted_indices), finals

    def _layers(
        self, x: Tensor, states: list[Tensor], batch_sizes: list[int] | None
    ) -> tuple[Tensor, list[Tensor]]:
        """Run every layer and direction over x (recurrent.run_layers) with this module's weights."""
        dropout = self.dropout if self.training else 0.0
        return recurrent.run_layers(
            self.mode, x, states, self._weights, self.num_layers, self.bidirectional, dropout, batch_sizes
        )

    def _weights(self, layer: int, reverse: bool) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction; None for the absent ones."""
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        w_ih, w_hh, *biases = (getattr(self, name + suffix) for name in names)
        b_ih, b_hh = biases or (None, None)
        w_hr = getattr(self, "weight_hr" + suffix) if self.mode == "LSTM" and self.proj_size else None
        return w_ih, w_hh, b_ih, b_hh, w_hr


def _no_projection(kwargs: dict) -> None:
    """RNN and GRU take RNNBase's remaining arguments (proj_size, device, dtype) after
    bidirectional, positionally or by keyword, as PyTorch's do; a proj_size keyword raises
    PyTorch's ValueError whatever its value (a positional one does unless it is 0)."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """A multi-layer Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) or relu (torch.nn.RNN).

    Input (seq, batch, input_size), (batch, seq, input_size) with batch_first, or unbatched
    (seq, input_size); h0 (num_layers * directions, batch, hidden_size), zeros when omitted.
    Returns (output, h_n), output holding the last layer's h_t for every t. The input may
    also be a PackedSequence: the output is then one too, h0 and h_n are in the batch's
    original order, and h_n holds each sequence's state at its own last step.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        _no_projection(kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            *args,
            **kwargs,
        )
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        output, (h_n,) = self._run(input, hx, [self.hidden_size])
        return output, h_n


class LSTM(RNNBase):
    """A multi-layer LSTM with gates i, f, g, o, optionally with projections (torch.nn.LSTM).

    Input as for RNN (a PackedSequence included); hx is (h0, c0), h0 (num_layers * directions, batch, proj_size or
    hidden_size) and c0 (num_layers * directions, batch, hidden_size), zeros when omitted.
    Returns (output, (h_n, c_n)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

    def forward(
        self, input: Tensor | PackedSequence, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Any, tuple[Tensor, Tensor]]:
        output, (h_n, c_n) = self._run(input, hx, [self.proj_size or self.hidden_size, self.hidden_size])
        return output, (h_n, c_n)


class GRU(RNNBase):
    """A multi-layer GRU with gates r, z, n (torch.nn.GRU).

    Input (a PackedSequence included) and h0 as for RNN. Returns (output, h_n).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        _no_projection(kwargs)
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            *args,
            **kwargs,
        )

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        output, (h_n,) = self._run(input, hx, [self.hidden_size])
        return output, h_n
