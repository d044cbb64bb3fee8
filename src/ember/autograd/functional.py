"""autograd.grad, gradcheck (finite differences in float64) and detect_anomaly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember.autograd import engine, views


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Any = None,
    inputs: Any = None,
) -> None:
    """Accumulate the gradients of one or several roots into the leaves' `.grad`, in one
    pass (torch.autograd.backward); `Tensor.backward` is this with one root.

    `grad_tensors` gives each root its gradient (None for a root with one element);
    `grad_variables` is its old name. With `inputs`, only those tensors get `.grad`,
    non-leaves included.
    """
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("'grad_tensors' and 'grad_variables' (deprecated) arguments both passed")
        grad_tensors = grad_variables
    tensors = _as_list(tensors)
    grads = [None] * len(tensors) if grad_tensors is None else _as_list(grad_tensors)
    if len(grads) < len(tensors):  # more are ignored, as in PyTorch
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    root_grads = [_root_gradient(t, g, create_graph, i) for i, (t, g) in enumerate(zip(tensors, grads))]
    if inputs is not None:
        inputs = _backward_inputs(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    engine.run_backward(tensors, root_grads, retain_graph, create_graph, inputs=inputs)


def _root_gradient(t: Any, gradient: Any, create_graph: bool, i: int) -> Any:
    """The gradient that starts a backward pass at root `t` (the i-th root), checked as
    PyTorch checks it: an array, or under create_graph a Tensor (so that it is recorded)."""
    tensor_type = engine.Tensor
    if not isinstance(t, tensor_type):
        raise TypeError(f"element {i} of tensors is a {type(t).__name__}, not a Tensor")
    if not views.current(t)._requires_grad:
        raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    data = t._data
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs (output {i} has shape "
                f"{list(data.shape)}; pass its gradient, e.g. ones_like(output), or reduce it "
                "with .sum() first)"
            )
        return np.ones_like(data)
    if not isinstance(gradient, tensor_type):
        raise TypeError(f"gradients can be either Tensors or None, but got {type(gradient).__name__}")
    if gradient._data.shape != data.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{i}] has a shape of {gradient.shape!r} and "
            f"output[{i}] has a shape of {t.shape!r}."
        )
    if gradient._data.dtype != data.dtype:
        gradient = gradient.to(t.dtype)  # recorded, if the gradient is in a graph
    return gradient if create_graph else gradient._data


def _backward_inputs(inputs: Any) -> list:
    """The `inputs` of a backward call as a list, checked as PyTorch checks them."""
    inputs = [inputs] if isinstance(inputs, engine.Tensor) else list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                "can't retain_grad on Tensor that has requires_grad=False (element "
                f"{i} of `inputs` does not require grad, so it cannot receive a gradient)"
            )
    return inputs


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """Gradients of outputs with respect to inputs, returned, not accumulated (torch.autograd.grad)."""
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(grad_outputs) < len(outputs):  # more are ignored, as in PyTorch
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    root_grads = [
        _root_gradient(t, g, create_graph, i) for i, (t, g) in enumerate(zip(outputs, grad_outputs))
    ]
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    result = engine.run_backward(
        outputs,
        root_grads,
        retain_graph,
        create_graph,
        inputs=inputs,
        accumulate=False,
        allow_unused=bool(allow_unused) or materialize_grads,
    )
    assert result is not None
    if materialize_grads:
        from ember.creation import zeros_like

        result = [zeros_like(t) if g is None else g for t, g in zip(inputs, result)]
    return tuple(result)


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare backward's gradients with central finite differences (torch.autograd.gradcheck).

    Inputs that require grad should be float64, as in PyTorch; each output is checked
    against each such input, one Jacobian column at a time.
    """
    from ember._tensor import Tensor

    inputs = tuple(_as_list(inputs))
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in diff:
        if inputs[i].dtype.name != "float64":
            import warnings

            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}, not float64; finite differences "
                "will be inaccurate",
                stacklevel=2,
            )

    def outputs_of(args: tuple) -> list:
        return [o for o in _as_list(func(*args)) if isinstance(o, Tensor)]

    outs = outputs_of(inputs)
    for k, out in enumerate(outs):
        if not out.requires_grad:
            continue
        n_out = out.numel()
        for i in diff:
            x = inputs[i]
            analytic = np.zeros((x.numel(), n_out))
            for j in range(n_out):
                g = np.zeros(out.shape, dtype=out._data.dtype)
                g.reshape(-1)[j] = 1
                res = grad([out], [x], [Tensor(g)], retain_graph=True, allow_unused=True)[0]
                if res is not None:
                    analytic[:, j] = res._data.reshape(-1)
            numeric = np.zeros_like(analytic)
            flat = x._data.reshape(-1)
            for m in range(x.numel()):
                orig = flat[m]
                flat[m] = orig + eps
                plus = outputs_of(inputs)[k]._data.astype(np.float64).reshape(-1)
                flat[m] = orig - eps
                minus = outputs_of(inputs)[k]._data.astype(np.float64).reshape(-1)
                flat[m] = orig
                numeric[m] = (plus - minus) / (2 * eps)
            if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{numeric}\nanalytical:{analytic}\n"
                )
    return True


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


class detect_anomaly:
    """Within this block, a backward that produces NaN raises, naming the op (torch.autograd.detect_anomaly)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = engine._anomaly[0]
        engine._anomaly[0] = self.check_nan

    def __exit__(self, *exc: object) -> None:
        engine._anomaly[0] = self._prev


class set_detect_anomaly:
    """Turn anomaly detection on or off (torch.autograd.set_detect_anomaly): at once when
    called, and back to the previous setting at the end of a `with` block when used as one."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = engine._anomaly[0]
        engine._anomaly[0] = bool(mode) and check_nan  # ember's anomaly mode is the NaN check

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        engine._anomaly[0] = self._prev


def is_anomaly_enabled() -> bool:
    return engine._anomaly[0]


def gradgradcheck(func: Callable[..., Any], inputs: Sequence[Any], **kwargs: Any) -> bool:
    """gradcheck of the first derivative: checks gradients built with create_graph=True."""
    from ember._tensor import Tensor

    inputs = tuple(_as_list(inputs))
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*args: Any) -> tuple:
        outs = [o for o in _as_list(func(*args)) if isinstance(o, Tensor)]
        total = sum((o * o).sum() for o in outs)  # a scalar that depends on every output
        return grad(
            total,
            [a for a in args if isinstance(a, Tensor) and a.requires_grad],
            create_graph=True,
            allow_unused=True,
        )

    del diff
    return gradcheck(first_grads, inputs, **kwargs)
