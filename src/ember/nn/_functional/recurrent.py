"""The recurrent computations, shared by nn.RNN/LSTM/GRU and their cells (which hold the
weights) and PyTorch's functional forms of them (torch.rnn_tanh, torch.lstm, torch.gru_cell,
..., with ATen's signatures: the weights as one flat list, every option given).

One step (`rnn_step`, `lstm_step`, `gru_step`) takes the input's projection for that step,
computed beforehand for all steps in one product; `run_direction` loops over time, padded
or packed (`packed_loop`), and `run_layers` over layers and directions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ember._tensor import Tensor
from ember.nn._functional import activation as A
from ember.nn._functional import layers
from ember.ops.api.shape import cat, split, stack, unbind

# (w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction, given (layer, reverse)
Weights = Callable[[int, bool], tuple]

# ---- one time step, shared by the cells and the multi-layer modules ---------------------
# `xw` is the input's projection x @ W_ih^T + b_ih for this step, computed beforehand.


def rnn_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, nonlinearity: str) -> Tensor:
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    pre = xw + layers.linear(h, w_hh, b_hh)
    return A.tanh(pre) if nonlinearity == "tanh" else A.relu(pre)


def lstm_step(
    xw: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None
) -> tuple[Tensor, Tensor]:
    """c' = f * c + i * g and h' = o * tanh(c'), projected by W_hr when the LSTM has proj_size."""
    # sections, not a size: a cell of hidden_size 0 still has four (empty) gates
    i, f, g, o = split(xw + layers.linear(h, w_hh, b_hh), [c.shape[-1]] * 4, -1)
    c = A.sigmoid(f) * c + A.sigmoid(i) * A.tanh(g)
    h = A.sigmoid(o) * A.tanh(c)
    return (h if w_hr is None else layers.linear(h, w_hr)), c


def gru_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """r, z = sigmoid(...); n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)); h' = (1 - z) n + z h."""
    hidden = h.shape[-1]
    x_rz, x_n = split(xw, [2 * hidden, hidden], -1)
    h_rz, h_n = split(layers.linear(h, w_hh, b_hh), [2 * hidden, hidden], -1)
    r, z = split(A.sigmoid(x_rz + h_rz), [hidden, hidden], -1)
    n = A.tanh(x_n + r * h_n)
    # (1 - z) * n + z * h, written with one product fewer.
    return n + z * (h - n)


# ---- the loops over time, layers and directions -----------------------------------------


def run_layers(
    mode: str,
    x: Tensor,
    states: list[Tensor],
    weights: Weights,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    batch_sizes: list[int] | None,
) -> tuple[Tensor, list[Tensor]]:
    """Run every layer and direction over x, (seq, batch, features) or packed data when
    batch_sizes is given, from the initial states (each (layers*directions, batch, size));
    dropout between layers when nonzero. Return the last layer's output and the final
    states, stacked as the initial ones."""
    per_stack = [unbind(s, 0) for s in states]  # per_stack[k][layer * directions + d]
    finals: list[list[Tensor]] = [[] for _ in states]
    directions = 2 if bidirectional else 1
    for layer in range(num_layers):
        outputs = []
        for d in range(directions):
            index = layer * directions + d
            out, last = run_direction(
                mode, x, [p[index] for p in per_stack], weights(layer, d == 1), d == 1, batch_sizes
            )
            outputs.append(out)
            for final, state in zip(finals, last):
                final.append(state)
        x = outputs[0] if directions == 1 else cat(outputs, -1)
        if dropout and layer < num_layers - 1:
            x = layers.dropout(x, dropout, training=True)
    return x, [stack(f, 0) for f in finals]


def run_direction(
    mode: str,
    x: Tensor,
    states: list[Tensor],
    weights: tuple,
    reverse: bool,
    batch_sizes: list[int] | None = None,
) -> tuple[Tensor, list[Tensor]]:
    """Run one layer in one direction over x: the input projection for all steps in one
    product, then the step function per time step. x is (seq, batch, features), or packed
    data (sum of batch_sizes, features) whose step t is the next batch_sizes[t] rows."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    projected = layers.linear(x, w_ih, b_ih)
    if mode == "LSTM":

        def step(xw: Tensor, states: list[Tensor]) -> list[Tensor]:
            return list(lstm_step(xw, states[0], states[1], w_hh, b_hh, w_hr))

    elif mode == "GRU":

        def step(xw: Tensor, states: list[Tensor]) -> list[Tensor]:
            return [gru_step(xw, states[0], w_hh, b_hh)]

    else:
        nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"

        def step(xw: Tensor, states: list[Tensor]) -> list[Tensor]:
            return [rnn_step(xw, states[0], w_hh, b_hh, nonlinearity)]

    if batch_sizes is not None:
        return packed_loop(step, split(projected, batch_sizes, 0), states, batch_sizes, reverse)
    steps = unbind(projected, 0)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    outputs: list[Tensor] = [None] * len(steps)  # type: ignore[list-item]
    for t in order:
        states = step(steps[t], states)
        outputs[t] = states[0]
    return stack(outputs, 0), states


def packed_loop(
    step: Any, steps: list[Tensor], states: list[Tensor], batch_sizes: list[int], reverse: bool
) -> tuple[Tensor, list[Tensor]]:
    """The time loop over packed steps: steps[t] holds the batch_sizes[t] sequences still
    running at t, always the first rows (the batch is sorted longest first), so the states
    run on their first batch_sizes[t] rows.

    Forwards, every sequence starts at step 0 and the batch shrinks: the rows that end
    before step t are set aside as final states. Backwards, every sequence starts at its own
    last step and the batch grows: the rows that join at step t start from their initial
    state. Returns the packed output (the h of every row of every step) and the final states.
    """
    outputs: list[Tensor] = [None] * len(steps)  # type: ignore[list-item]
    if not reverse:
        done: list[list[Tensor]] = []  # the final states of the rows that ended, the last rows first
        for t, n in enumerate(batch_sizes):
            if n < states[0].shape[0]:
                done.append([s[n:] for s in states])
                states = [s[:n] for s in states]
            states = step(steps[t], states)
            outputs[t] = states[0]
        done.append(states)
        finals = [cat([rows[k] for rows in reversed(done)], 0) for k in range(len(states))]
        return cat(outputs, 0), finals
    initial = states
    states = [s[: batch_sizes[-1]] for s in initial]
    for t in range(len(batch_sizes) - 1, -1, -1):
        n, running = batch_sizes[t], states[0].shape[0]
        if n > running:
            states = [cat([s, s0[running:n]], 0) for s, s0 in zip(states, initial)]
        states = step(steps[t], states)
        outputs[t] = states[0]
    return cat(outputs, 0), states


# ---- PyTorch's functional forms (torch.rnn_tanh, torch.lstm, torch.gru_cell, ...) -------


def _unpack_params(
    op: str, params: Sequence[Tensor], has_biases: bool, num_layers: int, bidirectional: bool
) -> Weights:
    """The flat weight list of ATen's recurrent functions, per layer and direction
    w_ih, w_hh[, b_ih, b_hh][, w_hr], as a `weights(layer, reverse)` lookup."""
    directions = 2 if bidirectional else 1
    groups = num_layers * directions
    per = len(params) // groups if groups else 0
    plain = 4 if has_biases else 2
    if groups == 0 or len(params) % groups or per not in (plain, plain + 1):
        raise RuntimeError(
            f"{op}: got {len(params)} weights for {num_layers} layer(s) x {directions} direction(s); "
            f"expected {plain} per layer and direction (w_ih, w_hh{', b_ih, b_hh' if has_biases else ''})"
        )

    def weights(layer: int, reverse: bool) -> tuple:
        group = list(params[(layer * directions + reverse) * per :][:per])
        w_ih, w_hh = group[:2]
        b_ih, b_hh = group[2:4] if has_biases else (None, None)
        return w_ih, w_hh, b_ih, b_hh, (group[-1] if per == plain + 1 else None)

    return weights


def _stacked(
    mode: str,
    args: tuple,
    hx: list[Tensor],
    params: Sequence[Tensor],
    has_biases: bool,
    num_layers: int,
    dropout: float,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
) -> tuple:
    """The multi-layer run of the functional forms: args is (input,) for padded input, or
    (data, batch_sizes) for packed data; returns (output, *final states)."""
    op = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}[mode]
    weights = _unpack_params(op, params, has_biases, num_layers, bidirectional)
    stacks = num_layers * (2 if bidirectional else 1)
    if any(h.ndim < 2 or h.shape[0] < stacks for h in hx):
        raise RuntimeError("Expected more hidden states in stacked_rnn")
    p = dropout if train else 0.0
    if len(args) == 2:  # packed: (data, batch_sizes)
        data, batch_sizes = args
        out, finals = run_layers(mode, data, hx, weights, num_layers, bidirectional, p, batch_sizes.tolist())
        return (out, *finals)
    (x,) = args
    unbatched = x.ndim == 2
    if unbatched:
        x, hx = x.unsqueeze(1), [h.unsqueeze(1) for h in hx]
    elif batch_first:
        x = x.transpose(0, 1)
    out, finals = run_layers(mode, x, hx, weights, num_layers, bidirectional, p, None)
    if unbatched:
        return (out.squeeze(1), *(f.squeeze(1) for f in finals))
    return (out.transpose(0, 1) if batch_first else out, *finals)


def _split_args(op: str, args: tuple, lstm: bool) -> tuple[tuple, Any, tuple]:
    """ATen's two overloads: (input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first) and (data, batch_sizes, hx, params, has_biases, num_layers,
    dropout, train, bidirectional). Returns (inputs, hx, the rest with batch_first last)."""
    packed = len(args) > 2 and isinstance(args[1], Tensor) and not isinstance(args[2], (list, tuple))
    if lstm:
        packed = len(args) > 1 and isinstance(args[1], Tensor)
    if packed:
        if len(args) != 9:
            raise TypeError(f"{op}() on packed data takes 9 arguments, got {len(args)}")
        return args[:2], args[2], (*args[3:], False)
    if len(args) != 9:
        raise TypeError(f"{op}() takes 9 arguments, got {len(args)}")
    return args[:1], args[1], args[2:]


def _functional_rnn(mode: str, op: str) -> Any:
    def run(*args: Any) -> tuple[Tensor, Tensor]:
        inputs, hx, rest = _split_args(op, args, lstm=False)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{op}(): argument 'hx' must be Tensor, not {type(hx).__name__}")
        return _stacked(mode, inputs, [hx], *rest)  # type: ignore[return-value]

    run.__name__ = run.__qualname__ = op
    return run


rnn_tanh = _functional_rnn("RNN_TANH", "rnn_tanh")
rnn_tanh.__doc__ = """A multi-layer Elman RNN with tanh over a sequence (torch.rnn_tanh, nn.RNN's
computation): rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train,
bidirectional, batch_first), params the flat list w_ih, w_hh[, b_ih, b_hh] per layer and
direction; or rnn_tanh(data, batch_sizes, hx, params, ..., bidirectional) on packed data.
Returns (output, h_n)."""
rnn_relu = _functional_rnn("RNN_RELU", "rnn_relu")
rnn_relu.__doc__ = "rnn_tanh with relu as the nonlinearity (torch.rnn_relu)."
gru = _functional_rnn("GRU", "gru")
gru.__doc__ = "rnn_tanh's arguments and results for a GRU, gates r, z, n (torch.gru, nn.GRU's computation)."


def lstm(*args: Any) -> tuple[Tensor, Tensor, Tensor]:
    """A multi-layer LSTM over a sequence (torch.lstm, nn.LSTM's computation): lstm(input,
    (h0, c0), params, has_biases, num_layers, dropout, train, bidirectional, batch_first), or
    lstm(data, batch_sizes, (h0, c0), params, ...) on packed data; params per layer and
    direction w_ih, w_hh, then b_ih, b_hh with biases, then w_hr with projections. Returns (output, h_n, c_n)."""
    inputs, hx, rest = _split_args("lstm", args, lstm=True)
    if isinstance(hx, Tensor) or len(hx) != 2:
        raise RuntimeError("lstm expects two hidden states")
    return _stacked("LSTM", inputs, list(hx), *rest)  # type: ignore[return-value]


def _check_cell(input: Tensor, states: Sequence[Tensor], w_ih: Tensor, w_hh: Tensor) -> None:
    for k, h in enumerate(states):
        if input.ndim == 2 and h.ndim == 2 and h.shape[0] != input.shape[0]:
            raise RuntimeError(
                f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size {h.shape[0]}"
            )
    if input.shape[-1] != w_ih.shape[-1]:
        raise RuntimeError(
            f"input has inconsistent input_size: got {input.shape[-1]} expected {w_ih.shape[-1]}"
        )


def _cell(nonlinearity: str, op: str) -> Any:
    def cell(
        input: Tensor,
        hx: Tensor,
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor | None = None,
        b_hh: Tensor | None = None,
    ) -> Tensor:
        _check_cell(input, [hx], w_ih, w_hh)
        return rnn_step(layers.linear(input, w_ih, b_ih), hx, w_hh, b_hh, nonlinearity)

    cell.__name__ = cell.__qualname__ = op
    cell.__doc__ = f"One Elman RNN step, h' = {nonlinearity}(input w_ih^T + b_ih + hx w_hh^T + b_hh) (torch.{op}, nn.RNNCell's)."
    return cell


rnn_tanh_cell = _cell("tanh", "rnn_tanh_cell")
rnn_relu_cell = _cell("relu", "rnn_relu_cell")


def lstm_cell(
    input: Tensor,
    hx: Sequence[Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step from hx = (h, c), gates i, f, g, o; returns (h', c') (torch.lstm_cell, nn.LSTMCell's)."""
    if isinstance(hx, Tensor) or len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    _check_cell(input, hx, w_ih, w_hh)
    return lstm_step(layers.linear(input, w_ih, b_ih), hx[0], hx[1], w_hh, b_hh, None)


def gru_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step, gates r, z, n; returns h' (torch.gru_cell, nn.GRUCell's)."""
    _check_cell(input, [hx], w_ih, w_hh)
    return gru_step(layers.linear(input, w_ih, b_ih), hx, w_hh, b_hh)
