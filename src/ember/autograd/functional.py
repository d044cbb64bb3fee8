"""autograd.grad, gradcheck (finite differences in float64) and detect_anomaly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy import ndarray

from ember._layout import strided
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
        if data.dtype.kind == "c":
            raise RuntimeError(
                "grad can be implicitly created only for real scalar outputs (output "
                f"{i} is complex; pass its gradient, or backward from a real function of it, "
                "e.g. output.abs())"
            )
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
    if gradient._data.__class__ is not data.__class__ and gradient.is_meta != t.is_meta:
        gradient = _on_outputs_device(gradient, t, i)
    if gradient._data.dtype != data.dtype:
        gradient = gradient.to(t.dtype)  # recorded, if the gradient is in a graph
    if data.dtype.kind == "c":  # the engine's convention for complex gradients (engine.py)
        gradient = gradient.conj()
    return gradient if create_graph else gradient._data


def _on_outputs_device(gradient: Any, t: Any, i: int) -> Any:
    """A meta output's CPU gradient, or a CPU output's meta one, as PyTorch takes them: a 0-d
    CPU gradient joins a meta output (as a CPU scalar joins meta tensors), a 0-d meta one has
    no values to give a CPU output, and others are on the wrong device."""
    if gradient._data.ndim == 0:
        if t.is_meta:
            return gradient.to("meta")
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")
    raise RuntimeError(
        f"invalid gradient at index {i} - expected device {t.device.type} but got {gradient.device.type}"
    )


def _backward_inputs(inputs: Any) -> list:
    """The `inputs` of a backward call as a list, checked as PyTorch checks them; a
    GradientEdge (autograd.graph) is replaced by a tensor that stands for it."""
    from ember.autograd.graph import GradientEdge, _edge_input

    inputs = [inputs] if isinstance(inputs, (engine.Tensor, GradientEdge)) else list(inputs)
    inputs = [_sparse_values(_edge_input(t) if isinstance(t, GradientEdge) else t) for t in inputs]
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                "can't retain_grad on Tensor that has requires_grad=False (element "
                f"{i} of `inputs` does not require grad, so it cannot receive a gradient)"
            )
    return inputs


def _sparse_values(t: Any) -> Any:
    """A sparse tensor (ember.sparse) is in the graph through its values, a dense tensor."""
    return t._vals if t.layout is not strided else t


# Set by func.vmap while it calls its function for every element but the last: PyTorch's
# vmap runs one batched backward over a graph made outside it, which ember's per-element
# loop would free after the first element; so grad keeps the graph (retain_graph None or
# False) until the last element, whose call frees it as PyTorch's one call does.
_keep_graph_in_vmap = [False]


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> Any:
    """Gradients of outputs with respect to inputs, returned, not accumulated (torch.autograd.grad).

    With `is_grads_batched`, the first dimension of each grad_output is a batch: one
    backward pass per element (torch vectorizes them), the results stacked along dim 0.
    `only_inputs` is deprecated and ignored, as in PyTorch; `inputs` may be a dict, and the
    gradients come back in a dict with its keys.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if not only_inputs:
        import warnings

        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    keys = list(inputs) if isinstance(inputs, dict) else None
    outputs, inputs = (
        _as_list(outputs),
        _edges_as_inputs(tuple(inputs.values()) if keys is not None else inputs),
    )
    given, inputs = inputs, [_sparse_values(t) for t in inputs]
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(grad_outputs) < len(outputs):  # more are ignored, as in PyTorch
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    root_grads = None
    if not is_grads_batched:
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
    retain_graph = retain_graph or _keep_graph_in_vmap[0]
    allow_unused = bool(allow_unused) or materialize_grads
    if root_grads is None:
        result = _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
    else:
        result = engine.run_backward(
            outputs,
            root_grads,
            retain_graph,
            create_graph,
            inputs=inputs,
            accumulate=False,
            allow_unused=allow_unused,
        )
    assert result is not None
    if materialize_grads:
        from ember.creation import zeros_like

        result = [
            zeros_like(t, requires_grad=create_graph) if g is None else g for t, g in zip(inputs, result)
        ]
    if root_grads is not None:  # a sparse input's gradient is sparse, with its pattern
        result = [
            g if g is None or t is v else t._grad_of_values(g) for t, v, g in zip(given, inputs, result)
        ]
    return dict(zip(keys, result)) if keys is not None else tuple(result)


def _edges_as_inputs(inputs: Any) -> list:
    """grad's `inputs` as a list, a GradientEdge (autograd.graph) replaced by a tensor that
    stands for it."""
    from ember.autograd.graph import GradientEdge, _edge_input

    if isinstance(inputs, GradientEdge):
        return [_edge_input(inputs)]
    return [_edge_input(t) if isinstance(t, GradientEdge) else t for t in _as_list(inputs)]


def _batched_grad(
    outputs: list,
    inputs: list,
    grad_outputs: list,
    retain_graph: bool,
    create_graph: bool,
    allow_unused: bool,
) -> list:
    """grad(is_grads_batched=True): one backward pass per element of the grad_outputs' first
    dimension, the results stacked (an input that none of them reaches gets None)."""
    from ember.ops.api.shape import stack

    sizes = set()
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            continue
        if g.dim() == 0 or tuple(g.shape[1:]) != tuple(t.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output "
                "as the batch dimension. The sizes of the remaining dimensions are expected to "
                "match the shape of corresponding output, but a mismatch was detected: "
                f"grad_output[{i}] has a shape of {g.shape[1:]!r} and output[{i}] has a shape of "
                f"{t.shape!r}. If you only want some tensors in `grad_output` to be considered "
                "batched, consider using vmap."
            )
        sizes.add(g.shape[0])
    if len(sizes) != 1:
        raise RuntimeError(
            "is_grads_batched=True needs at least one grad_output, and the same batch size (first "
            f"dimension) for all of them; got sizes {sorted(sizes)}"
        )
    (n,) = sizes
    rows = []
    for k in range(n):
        roots = [
            _root_gradient(t, None if g is None else g[k], create_graph, i)
            for i, (t, g) in enumerate(zip(outputs, grad_outputs))
        ]
        keep = retain_graph or k < n - 1
        rows.append(
            engine.run_backward(
                outputs, roots, keep, create_graph, inputs=inputs, accumulate=False, allow_unused=allow_unused
            )
        )
    result = []
    for j, t in enumerate(inputs):
        column = [row[j] for row in rows]
        if all(g is None for g in column):
            result.append(None)
            continue
        column = [_as_tensor(t, g) for g in column]
        result.append(stack(column) if create_graph else engine.Tensor(np.stack([g._data for g in column])))
    return result


def _as_tensor(like: Any, g: Any) -> Any:
    """A gradient from one batched pass as a Tensor (zeros where that pass did not reach it)."""
    if g is None:
        return engine.Tensor(np.zeros(like.shape, like._data.dtype))
    return g if isinstance(g, engine.Tensor) else engine.Tensor(g)


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Compare backward's gradients with central finite differences (torch.autograd.gradcheck).

    Inputs that require grad should be float64, as in PyTorch; each output is checked
    against each such input, one Jacobian column at a time. With check_forward_ad, the
    tangents of forward-mode AD (autograd.forward_ad) are checked too, one Jacobian row per
    input element. PyTorch's other options are accepted so that its tests run; ember always
    does the full (slow-mode) check.
    """
    from ember._tensor import Tensor

    inputs = tuple(_as_list(inputs))
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in diff:
        strides = inputs[i]._data.strides if inputs[i].numel() else ()  # (NumPy's of an empty array may be 0)
        if any(stride == 0 and size > 1 for stride, size in zip(strides, inputs[i].shape)):
            raise RuntimeError(  # perturbing one element would perturb the others it shares memory with
                f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                "that are non-overlapping to be able to compute the numerical gradients correctly. "
                "You should call .contiguous on the input before passing it to gradcheck."
            )
        if inputs[i].dtype.name not in ("float64", "complex128"):
            import warnings

            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}, not float64; finite differences "
                "will be inaccurate",
                stacklevel=2,
            )

    def outputs_of(args: tuple) -> list:
        return [o for o in _as_list(func(*args)) if isinstance(o, Tensor)]

    # A complex input or output counts as its real and imaginary parts, side by side: the
    # Jacobian is that of the real function of real numbers that it is.
    def numerical(k: int, x: Any, n_out: int) -> ndarray:
        parts = _real_parts(x._data)
        numeric = np.zeros((len(parts) * x.numel(), n_out))
        for m, index in enumerate(np.ndindex(x._data.shape)):
            for j, part in enumerate(parts):
                orig = part[index]
                part[index] = orig + eps
                plus = _real_values(outputs_of(inputs)[k]._data)
                part[index] = orig - eps
                minus = _real_values(outputs_of(inputs)[k]._data)
                part[index] = orig
                numeric[m * len(parts) + j] = (plus - minus) / (2 * eps)
        return numeric

    def fail(message: str) -> bool:
        if not raise_exception:
            return False
        raise GradcheckError(message)

    mismatch = (
        _forward_ad_mismatch(outputs_of, inputs, diff, numerical, atol, rtol) if check_forward_ad else None
    )
    if mismatch is not None:
        return fail(mismatch)
    if not check_backward_ad:
        return True
    outs = outputs_of(inputs)
    if not any(out.requires_grad for out in outs):
        # nothing to compare with: then nothing may depend on the inputs (a detached result
        # that does would otherwise pass unchecked), as PyTorch checks
        for k, out in enumerate(outs):
            n_out = out.numel() * (2 if out._data.dtype.kind == "c" else 1)  # real and imaginary parts
            for i in diff:
                if not np.allclose(numerical(k, inputs[i], n_out), 0):
                    if not raise_exception:
                        return False
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    # PyTorch compares a sparse gradient (embedding(sparse=True)'s) made dense, then fails
    # it for having another layout than its input's
    wrong_layout = None
    for k, out in enumerate(outs):
        if not out.requires_grad:
            continue
        parts = 2 if out._data.dtype.kind == "c" else 1
        n_out = out.numel() * parts
        for i in diff:
            x = inputs[i]
            analytic = np.zeros((x.numel() * (2 if x._data.dtype.kind == "c" else 1), n_out))
            for j in range(n_out):
                g = np.zeros(out.shape, dtype=out._data.dtype)
                g.reshape(-1)[j // parts] = 1j if j % parts else 1  # PyTorch's: dL/dx + i dL/dy
                res = grad([out], [x], [Tensor(g)], retain_graph=True, allow_unused=True)[0]
                if res is not None and res.layout is not x.layout:  # a sparse gradient of a dense x
                    wrong_layout = (
                        wrong_layout or f"grad is incorrect layout ({res.layout} is not {x.layout})"
                    )
                    res = res.to_dense()
                if res is not None:
                    analytic[:, j] = _real_values(res._data)
            numeric = numerical(k, x, n_out)
            if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{numeric}\nanalytical:{analytic}\n"
                )
    if wrong_layout is not None:
        return fail(wrong_layout)
    return True


def _forward_ad_mismatch(
    outputs_of: Callable, inputs: tuple, diff: list, numerical: Callable, atol: float, rtol: float
) -> str | None:
    """gradcheck's forward-mode check: for each element m of each input that requires grad
    (each part of a complex one), the tangents of the outputs when that element's tangent is
    1 (1j for an imaginary part; all others 0) must be row m of the numerical Jacobian. None
    when they are, else the message with both."""
    from ember.autograd import forward_ad
    from ember.creation import zeros_like

    # a complex input or output counts as its real and imaginary parts, as in `numerical`
    n_outs = [out.numel() * (2 if out._data.dtype.kind == "c" else 1) for out in outputs_of(inputs)]
    for i in diff:
        x = inputs[i]
        parts = 2 if x._data.dtype.kind == "c" else 1
        forward = [np.zeros((x.numel() * parts, n)) for n in n_outs]
        for m in range(x.numel() * parts):
            with forward_ad.dual_level():
                args = list(inputs)
                for j in diff:
                    tangent = zeros_like(inputs[j])
                    if j == i:
                        tangent._data.reshape(-1)[m // parts] = 1j if m % parts else 1
                    args[j] = forward_ad.make_dual(inputs[j], tangent)
                for k, out in enumerate(outputs_of(tuple(args))):
                    t = forward_ad.unpack_dual(out).tangent
                    if t is not None:
                        forward[k][m] = _real_values(t._data)
        for k, n in enumerate(n_outs):
            numeric = numerical(k, x, n)
            if not np.allclose(forward[k], numeric, atol=atol, rtol=rtol):
                return (
                    f"Jacobian computed with forward mode mismatch for output {k} with respect to "
                    f"input {i},\nnumerical:{numeric}\nanalytical:{forward[k]}\n"
                )
    return None


def _real_parts(a: ndarray) -> tuple:
    """Views of a that gradcheck perturbs in place, element by element in C order: a
    itself, or a complex one's real and imaginary parts. Views of any layout: a flat
    reshape of a transposed or sliced array is a copy, which took the perturbations and left
    the input as it was (a zero numerical Jacobian)."""
    return (a.real, a.imag) if a.dtype.kind == "c" else (a,)


def _real_values(a: ndarray) -> ndarray:
    """A copy of a's elements as float64, a complex one's real and imaginary parts in turn."""
    wide = np.array(a, np.complex128 if a.dtype.kind == "c" else np.float64, order="C")  # always a copy
    return wide.reshape(-1).view(np.float64)


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


# Anomaly mode as PyTorch keeps it: whether it is on, and whether it checks for NaN. ember's
# anomaly mode is the NaN check alone, so the engine's flag is on when both are.
_anomaly_mode = [False, True]


def _set_anomaly(enabled: bool, check_nan: bool) -> None:
    _anomaly_mode[:] = [bool(enabled), bool(check_nan)]
    engine._anomaly[0] = bool(enabled) and bool(check_nan)


class detect_anomaly:
    """Within this block, a backward that produces NaN raises, naming the op (torch.autograd.detect_anomaly)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = tuple(_anomaly_mode)
        _set_anomaly(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set_anomaly(*self._prev)


class set_detect_anomaly:
    """Turn anomaly detection on or off (torch.autograd.set_detect_anomaly): at once when
    called, and back to the previous setting at the end of a `with` block when used as one."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = tuple(_anomaly_mode)
        _set_anomaly(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set_anomaly(*self._prev)


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly mode on or off for the rest of the program (torch.set_anomaly_enabled);
    in ember it is the check for NaN gradients, so enabled without check_nan checks nothing."""
    _set_anomaly(enabled, check_nan)


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on (torch.is_anomaly_enabled)."""
    return _anomaly_mode[0]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks for NaN (torch.is_anomaly_check_nan_enabled); PyTorch
    reports True when the mode is off too, as the setting waiting for it."""
    return _anomaly_mode[1]


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    gen_non_contig_grad_outputs: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    **kwargs: Any,
) -> bool:
    """gradcheck of the first derivative (torch.autograd.gradgradcheck): the vector-Jacobian
    product of func, with grad_outputs as extra inputs that require grad (random in [-1, 1)
    from ember's generator when not given), is checked against finite differences with
    respect to the inputs and the grad_outputs, so that a backward's derivative in its
    incoming gradient is checked too; check_fwd_over_rev checks its forward-mode tangents
    as well (gradcheck's check_forward_ad). The other keywords go to gradcheck.
    """
    from ember import random
    from ember._tensor import Tensor

    if not (check_rev_over_rev or check_fwd_over_rev):
        return True
    inputs = tuple(_as_list(inputs))
    if grad_outputs is None:
        outs = [o for o in _as_list(func(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
        grad_outputs = tuple(
            Tensor(
                (random.rng(None).random(o.shape) * 2 - 1).astype(o._data.dtype),
                requires_grad=True,
            )
            for o in outs
        )
    else:
        grad_outputs = tuple(_as_list(grad_outputs))
    n = len(grad_outputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def vjp(*args: Any) -> tuple:
        outs = [
            o for o in _as_list(func(*args[: len(args) - n])) if isinstance(o, Tensor) and o.requires_grad
        ]
        grads = grad(
            outs, [args[i] for i in diff], list(args[len(args) - n :]), create_graph=True, allow_unused=True
        )
        return tuple(g for g in grads if g is not None)

    kwargs.setdefault("check_forward_ad", check_fwd_over_rev)
    kwargs.setdefault("check_backward_ad", check_rev_over_rev)
    return gradcheck(vjp, inputs + grad_outputs, **kwargs)


# ---- the functional higher-level API: vjp, jvp, jacobian, hessian, vhp, hvp ------------------
#
# Each of these differentiates `func` at `inputs` with the reverse mode that the engine has.
# They take and return a Tensor or a tuple of Tensors, in the shape the caller used: a tuple
# comes back where a tuple went in (or came out of func), a Tensor where a Tensor did.
# The inputs are replaced by fresh tensors that require grad (still connected to the
# caller's graph under create_graph), so the results never mix with the caller's `.grad`.


def _as_tuple(x: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(was it a tuple, x as a tuple of Tensors), checked as torch checks it."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, item in enumerate(items):
        if not isinstance(item, engine.Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but the {where} has type {type(item)}."
            )
    return is_tuple, items


def _unpack(result: Any, is_tuple: bool | tuple) -> Any:
    """Give back the structure the caller used: `is_tuple` for a flat result, or a pair
    (outputs were a tuple, inputs were a tuple) for a Jacobian's result[output][input]."""
    if isinstance(is_tuple, tuple):
        out_tuple, in_tuple = is_tuple
        if not in_tuple:
            result = tuple(row[0] for row in result)
        return result if out_tuple else result[0]
    return result if is_tuple else result[0]


def _fresh(tensors: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New tensors to differentiate with respect to: under create_graph a tensor that already
    requires grad is viewed (so the result stays connected to the caller's graph), anything
    else is detached, requiring grad when `need_graph`."""
    return tuple(
        t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
        for t in tensors
    )


def _finish(tensors: tuple, create_graph: bool) -> tuple:
    """Results leave detached unless create_graph asked for a graph through them."""
    if create_graph:
        return tuple(tensors)
    return tuple(None if t is None else t.detach() for t in tensors)


def _vector(
    v: Any, like: tuple, like_is_tuple: bool, create_graph: bool, fn_name: str, when_none: str
) -> Any:
    """The vector v of vjp (shaped as the outputs), jvp, vhp or hvp (as the inputs): fresh
    tensors checked against `like`. None stands for 1 only where `like` is one tensor of one
    element; otherwise it raises, naming `when_none`, what must then be a single element."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(
                f"The vector v can only be None if {when_none} a single Tensor with a single element."
            )
        return None
    v = _fresh(_as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.shape} but got {a.shape}.")
    return v


_STRICT_MESSAGES = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs "
    "must be computed in a differentiable manner from the input when running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
    "user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function "
    "with respect to input {i} is independent of the input. This is not allowed in strict mode. You "
    "should ensure that your function is twice differentiable and that the jacobian depends on the "
    "inputs (this would be violated by a linear function for example).",
}


def _check_requires_grad(tensors: tuple, kind: str, strict: bool) -> None:
    """In strict mode, every tensor must depend on the inputs (torch's wording per `kind`)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode."
            )
        if not t.requires_grad:
            raise RuntimeError(_STRICT_MESSAGES[kind].format(i=i))


def _grads(outputs: tuple, inputs: tuple, grad_outputs: Any, create_graph: bool) -> list:
    """autograd.grad that skips outputs which do not depend on anything, and gives None for
    every input when none does (instead of an error), as the functional API needs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return list(
        grad(
            [o for o, _ in pairs],
            list(inputs),
            [g for _, g in pairs],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    )


_ZERO_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
    "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
    "grad_outputs when using the double backward trick to compute forward mode gradients. This "
    "is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
    "is not allowed in strict mode.",
}


def _fill_zeros(grads: list, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros where a gradient is None (the result does not depend on that input), or torch's
    error in strict mode; under strict and create_graph a gradient must also be differentiable."""
    from ember.creation import zeros_like

    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_MESSAGES[stage].format(i=i))
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if stage.startswith("double") else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode when create_graph=True."
            )
        out.append(g)
    return tuple(out)


def vjp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
):
    """(func(inputs), the vector-Jacobian product vᵀ·J) (torch.autograd.functional.vjp).

    `v` has the shape of func's outputs; it may be left out when func returns one element.
    Results are detached unless `create_graph`; with `strict`, an output that does not
    depend on an input raises instead of giving zeros.
    """
    from ember.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _vector(v, outputs, out_tuple, create_graph, "vjp", "the user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        result = _fill_zeros(_grads(outputs, inputs, v, create_graph), inputs, strict, create_graph, "back")
    return _unpack(_finish(outputs, create_graph), out_tuple), _unpack(
        _finish(result, create_graph), in_tuple
    )


def jvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
):
    """(func(inputs), the Jacobian-vector product J·v) (torch.autograd.functional.jvp).

    ember has no forward mode, so this uses the double-backward trick: u ↦ uᵀ·J is linear
    in u, and differentiating (uᵀ·J)·v with respect to u gives J·v.
    """
    from ember.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
    from ember.creation import zeros_like

    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _vector(v, inputs, in_tuple, create_graph, "jvp", "the input to the user-provided function is")
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # u: a dummy cotangent; uᵀ·J is built with create_graph so that it depends on u
        u = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        u_jacobian = _grads(outputs, inputs, u, create_graph=True)
        _check_requires_grad(u_jacobian, "grad_inputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        result = _grads(tuple(u_jacobian), u, v, create_graph)
        result = _fill_zeros(result, outputs, strict, create_graph, "back_trick")
    return _unpack(_finish(outputs, create_graph), out_tuple), _unpack(
        _finish(result, create_graph), out_tuple
    )


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
):
    """The Jacobian of func at inputs (torch.autograd.functional.jacobian): for output i and
    input j, a tensor of shape outputs[i].shape + inputs[j].shape, nested as torch nests it
    (a Tensor when both are single Tensors, `result[i][j]` when both are tuples).

    Computed one row at a time by reverse mode. `vectorize=True` is accepted and gives the
    same rows (ember has no vmap to batch them); strategy="forward-mode" (which torch allows
    only with vectorize=True) is computed by reverse mode too: see docs/differences.md.
    """
    from ember.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
            "implemented for `vectorize=True`."
        )
    if strict and vectorize:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`."
        )
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        result = tuple(
            tuple(_finish(_jacobian_of(out, i, inputs, create_graph, strict), create_graph))
            for i, out in enumerate(outputs)
        )
    return _unpack(result, (out_tuple, in_tuple))


def _jacobian_of(out: Any, i: int, inputs: tuple, create_graph: bool, strict: bool) -> list:
    """The Jacobians of output `out` (number i) with respect to each input, one row (one
    element of out) per backward pass."""
    from ember.creation import zeros, zeros_like
    from ember.ops.api.shape import stack

    flat = out.reshape(-1)
    rows: list[list] = [[] for _ in inputs]
    for k in range(flat.numel()):
        row = _grads((flat[k],), inputs, None, create_graph)
        for j, (g, x) in enumerate(zip(row, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(
                        f"Output {i} of the user-provided function is independent of input {j}. "
                        "This is not allowed in strict mode."
                    )
                g = zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(
                    f"The jacobian of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode when create_graph=True."
                )
            rows[j].append(g)
    jacobians = []
    for j, x in enumerate(inputs):
        shape = tuple(out.shape) + tuple(x.shape)
        jacobians.append(stack(rows[j]).reshape(shape) if rows[j] else zeros(shape, dtype=x.dtype))
    return jacobians


def _single_element(out: Any, fn_name: str) -> Any:
    if isinstance(out, tuple) or not isinstance(out, engine.Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if out.numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single element"
        )
    return out


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
):
    """The Hessian of a function returning one element (torch.autograd.functional.hessian):
    a Tensor for one input, `result[i][j]` of shape inputs[i].shape + inputs[j].shape for a
    tuple of inputs. The Jacobian of the gradient, both by reverse mode."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*xs: Any) -> Any:
        out = func(*xs)
        _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad((out,) if not isinstance(out, tuple) else out, "outputs", strict)
        return _single_element(out, "hessian").squeeze()

    def gradient(*xs: Any) -> tuple:
        g = jacobian(scalar_func, xs, create_graph=True)
        _check_requires_grad(g, "jacobian", strict)
        return g

    result = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(result, (in_tuple, in_tuple))


def vhp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
):
    """(func(inputs), vᵀ·H): the vector-Hessian product of a function returning one element
    (torch.autograd.functional.vhp), from two reverse passes."""
    return _vector_hessian("vhp", func, inputs, v, create_graph, strict)


def hvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
):
    """(func(inputs), H·v): the Hessian-vector product (torch.autograd.functional.hvp).

    The Hessian of a twice continuously differentiable function is symmetric, so H·v is
    vᵀ·H, which is what this computes (torch gets the same number with a double-backward
    trick, which costs a third pass).
    """
    return _vector_hessian("hvp", func, inputs, v, create_graph, strict)


def _vector_hessian(fn_name: str, func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool):
    from ember.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _vector(v, inputs, in_tuple, create_graph, fn_name, "the input to the user-provided function is")
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
        _check_requires_grad(outputs, "outputs", strict)
        if out_tuple:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        _single_element(outputs[0], fn_name)
        gradient = tuple(_grads(outputs, inputs, None, create_graph=True))
        _check_requires_grad(gradient, "jacobian", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        result = _grads(gradient, inputs, v, create_graph)
        result = _fill_zeros(result, inputs, strict, create_graph, "double_back")
    return _unpack(_finish(outputs, create_graph), out_tuple), _unpack(
        _finish(result, create_graph), in_tuple
    )
