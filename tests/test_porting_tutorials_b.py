"""PyTorch's tutorials on function transforms, pruning, parametrizations, saved-tensor hooks,
custom autograd Functions and custom operators, as small programs written once against a
library module `T` and run with `T = torch` and `T = ember` (the harness of
test_porting_programs.py): forward-mode AD through modules, Jacobians and Hessians in
their several forms, model ensembling, per-sample gradients, neural tangent kernels,
iterative and global pruning, parametrizations, saved-tensor hooks (to disk included),
double backward of custom Functions, a fused convolution and batch norm, and
`library.custom_op` with autograd, a fake and opcheck. What the tutorials print is
compared: values, gradients, state_dict keys, node names. Each failure the audit found has
a named test below its program.

No `from __future__ import annotations` here: custom_op reads the type hints of functions
defined inside the programs, which must be objects, not strings naming a local `T`."""

from collections.abc import Sequence

import numpy as np
import pytest

import ember
from conftest import outcome, requires_torch
from test_porting_programs import _both, _np, _start

pytestmark = requires_torch


def _data(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


# ---- 11. custom Python operators: library.custom_op, register_autograd/fake, opcheck --------------


def _custom_ops(T, shared: dict) -> dict:
    library = T.library
    rng = np.random.default_rng(9)

    @library.custom_op("tutorials_b::crop", mutates_args=())
    def crop(pic: T.Tensor, box: Sequence[int]) -> T.Tensor:
        x0, y0, x1, y1 = box
        height_last = np.ascontiguousarray(pic.numpy()[:, y0:y1, x0:x1].transpose(1, 2, 0))
        return T.from_numpy(height_last).permute(2, 0, 1) / 1.0  # channels-last, as PIL gives

    @crop.register_fake
    def _(pic, box):
        x0, y0, x1, y1 = box
        return pic.new_empty(y1 - y0, x1 - x0, pic.shape[0]).permute(2, 0, 1)

    def setup_context(ctx, inputs, output):
        _, box = inputs
        ctx.box = box

    def backward(ctx, grad_output):
        grad_input = grad_output.new_zeros(3, 8, 8)
        x0, y0, x1, y1 = ctx.box
        grad_input[:, y0:y1, x0:x1] = grad_output
        return grad_input, None

    crop.register_autograd(backward, setup_context=setup_context)
    img = T.from_numpy(_data(rng, 3, 8, 8)).requires_grad_()
    result = crop(img, (1, 2, 5, 7))
    out = {"crop": _np(result), "stride": list(result.stride()), "node": result.grad_fn.name()}
    (result * T.arange(20.0).reshape(5, 4)).sum().backward()
    out["crop_grad"] = _np(img.grad)
    checks = library.opcheck(crop, (T.from_numpy(_data(rng, 3, 8, 8)).requires_grad_(), (0, 0, 3, 3)))
    out["opcheck"] = sorted(checks.items())
    out["ops_path"] = _np(T.ops.tutorials_b.crop.default(img.detach(), (0, 0, 2, 2)))
    packet = T.ops.tutorials_b.crop
    out["ops_names"] = [str(packet), str(packet.default), repr(packet), repr(packet.default)]
    out["schema"] = library.infer_schema(crop._init_fn, mutates_args=())

    @library.custom_op("tutorials_b::numpy_sin", mutates_args={"output"}, device_types="cpu")
    def numpy_sin(input: T.Tensor, output: T.Tensor) -> None:
        assert input.device == output.device
        np.sin(input.numpy(), out=output.numpy())

    x = T.from_numpy(_data(rng, 3))
    y = T.empty(3)
    out["returns"] = numpy_sin(x, y) is None
    out["sin"] = _np(y)
    for example in ([T.randn(3), T.empty(3)], [T.randn(0, 3), T.empty(0, 3)]):
        out[f"opcheck_sin_{len(example[0])}"] = sorted(library.opcheck(numpy_sin, example).items())

    @library.custom_op("tutorials_b::scaled_tanh", mutates_args=())
    def scaled_tanh(x: T.Tensor, scale: float = 2.0) -> T.Tensor:
        return T.from_numpy(np.tanh(x.numpy()) * scale)

    scaled_tanh.register_fake(lambda x, scale=2.0: T.empty_like(x))

    def tanh_setup(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.scale = inputs[1]

    def tanh_backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (ctx.scale - y * y / ctx.scale), None

    scaled_tanh.register_autograd(tanh_backward, setup_context=tanh_setup)
    model = _start(T, T.nn.Linear(4, 2), shared)
    optimizer = T.optim.SGD(model.parameters(), lr=0.1)
    data = T.from_numpy(_data(rng, 6, 4))
    for _ in range(3):  # a custom op inside a training loop
        optimizer.zero_grad()
        loss = scaled_tanh(model(data), scale=1.5).pow(2).mean()
        loss.backward()
        optimizer.step()
    out["train_loss"], out["trained"] = loss.item(), _np(model.weight)
    return out


def test_custom_python_operators() -> None:
    _both(_custom_ops)


def test_custom_op_gradient_passes_gradcheck() -> None:
    @ember.library.custom_op("tutorials_b::cube", mutates_args=())
    def cube(x: ember.Tensor) -> ember.Tensor:
        return ember.from_numpy(x.numpy() ** 3)

    def setup(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x  # ember ops on saved tensors: differentiable again

    cube.register_autograd(backward, setup_context=setup)
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(cube, (x,)) and ember.autograd.gradgradcheck(cube, (x,))


def _op_errors(T, shared: dict) -> dict:
    """What PyTorch refuses, and how: names, hints, argument types and counts, aliasing
    outputs, a backward that was never registered, a mutation not declared."""
    library = T.library
    out = {}

    def first_line(call):
        try:
            call()
        except Exception as error:  # noqa: BLE001 - the kind of error is what is compared
            return type(error).__name__
        return "ok"

    def no_hint(x):
        return x

    def no_return(x: T.Tensor):
        return x

    def takes_dict(x: T.Tensor, d: dict) -> T.Tensor:
        return x

    def mutates_int(x: T.Tensor, n: int) -> T.Tensor:
        return x

    def good(x: T.Tensor, k: float, n: int) -> T.Tensor:
        return x * k

    out["no_hint"] = first_line(lambda: library.custom_op("tutorials_b::e1", no_hint, mutates_args=()))
    out["no_return"] = first_line(lambda: library.custom_op("tutorials_b::e2", no_return, mutates_args=()))
    out["dict"] = first_line(lambda: library.infer_schema(takes_dict, mutates_args=()))
    out["mutates_int"] = first_line(lambda: library.infer_schema(mutates_int, mutates_args={"n"}))
    out["unknown_name"] = first_line(lambda: library.infer_schema(good, mutates_args={"zz"}))
    out["mutates_str"] = first_line(lambda: library.custom_op("tutorials_b::e3", good, mutates_args="x"))
    out["no_mutates"] = first_line(lambda: library.custom_op("tutorials_b::e4", good))
    op = library.custom_op("tutorials_b::good", good, mutates_args=())
    out["schema"] = library.infer_schema(good, mutates_args=())
    x = T.ones(2)
    out["float_for_int"] = first_line(lambda: op(x, 1.0, 1.5))
    out["int_for_float"] = _np(op(x, 2, 1))
    out["list_for_tensor"] = first_line(lambda: op([1.0], 1.0, 1))
    out["too_many"] = first_line(lambda: op(x, 1.0, 1, 2))
    out["missing"] = first_line(lambda: op(x, 1.0))
    out["alias"] = first_line(
        lambda: library.custom_op("tutorials_b::alias", no_return_alias(T), mutates_args=())(x)
    )
    leaf = T.ones(2, requires_grad=True)
    y = op(leaf, 3.0, 1)
    out["node_without_autograd"] = y.grad_fn.name()
    out["backward_without_autograd"] = first_line(lambda: y.sum().backward())
    with T.no_grad():
        out["no_grad_output"] = op(leaf, 3.0, 1).requires_grad
    op.register_autograd(lambda ctx, g: g)
    out["wrong_count"] = first_line(lambda: op(leaf, 3.0, 1).sum().backward())

    def liar(x: T.Tensor) -> T.Tensor:
        x.add_(1)
        return x + 1

    lying = library.custom_op("tutorials_b::liar", liar, mutates_args=())
    lying.register_fake(lambda x: T.empty_like(x))
    out["undeclared_mutation"] = first_line(lambda: library.opcheck(lying, (T.ones(2),)))
    no_fake = library.custom_op("tutorials_b::no_fake", no_return_clone(T), mutates_args=())
    results = library.opcheck(no_fake, (T.ones(2),), raise_exception=False)
    out["no_fake"] = sorted((k, v if isinstance(v, str) else type(v).__name__) for k, v in results.items())
    out["bad_test_name"] = first_line(
        lambda: library.opcheck(no_fake, (T.ones(2),), test_utils="test_nothing")
    )
    no_fake.register_fake(lambda x: x.new_empty(x.shape[0] + 1))
    out["bad_fake"] = first_line(lambda: library.opcheck(no_fake, (T.ones(2),), test_utils="test_faketensor"))
    return out


def no_return_alias(T):
    def alias(x: T.Tensor) -> T.Tensor:
        return x[:1]

    return alias


def no_return_clone(T):
    def plus_one(x: T.Tensor) -> T.Tensor:
        return x + 1

    return plus_one


def test_custom_op_errors_as_pytorch() -> None:
    _both(_op_errors)


def test_kernels_by_device_and_their_switch() -> None:
    library = ember.library

    @library.custom_op("tutorials_b::plus", mutates_args=(), device_types="cpu")
    def plus(x: ember.Tensor) -> ember.Tensor:
        return x + 1

    @plus.register_kernel("cpu")
    def _(x):
        return x + 2

    assert plus(ember.zeros(1)).item() == 2.0
    with plus.set_kernel_enabled("cpu", False):
        assert plus(ember.zeros(1)).item() == 1.0
    assert plus(ember.zeros(1)).item() == 2.0
    gpu_only = library.custom_op(
        "tutorials_b::gpu_only", no_return_clone(ember), mutates_args=(), device_types="cuda"
    )
    with pytest.raises(NotImplementedError, match="register_kernel"):
        gpu_only(ember.zeros(1))


def test_lists_of_tensors_each_get_their_gradient() -> None:
    @ember.library.custom_op("tutorials_b::weighted_sum", mutates_args=())
    def weighted_sum(xs: list[ember.Tensor], w: float) -> ember.Tensor:
        return sum(x.clone() for x in xs) * w

    weighted_sum.register_autograd(
        lambda ctx, g: ([g * ctx.w, g * ctx.w], None),
        setup_context=lambda ctx, inputs, output: setattr(ctx, "w", inputs[1]),
    )
    a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    weighted_sum([a, b], 3.0).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="list of 2 gradients"):
        weighted_sum.register_autograd(lambda ctx, g: (g, None))
        weighted_sum([a, b], 3.0).sum().backward()


# ---- 12. extending torch.func with autograd.Function: NumPy inside forward ---------------------


def _numpy_functions(T, shared: dict) -> dict:
    func = T.func

    class NumpySort(T.autograd.Function):
        @staticmethod
        def forward(x, dim):
            x = x.cpu().numpy()  # the input requires grad: numpy() answers with grad mode off
            ind = np.argsort(x, axis=dim)
            ind_inv = np.argsort(ind, axis=dim)
            result = np.take_along_axis(x, ind, axis=dim)
            return T.tensor(result), T.tensor(ind), T.tensor(ind_inv)

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, dim = inputs
            _, ind, ind_inv = output
            ctx.mark_non_differentiable(ind, ind_inv)
            ctx.save_for_backward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output, _0, _1):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None

        @staticmethod
        def vmap(info, in_dims, x, dim):  # NumPy cannot be batched by PyTorch: the rule says how
            x = x.movedim(in_dims[0], 0)
            dim = dim if dim >= 0 else dim + x.dim() - 1
            return NumpySort.apply(x, dim + 1), (0, 0, 0)

    class NumpyTake(T.autograd.Function):
        @staticmethod
        def forward(x, ind, ind_inv, dim):
            return T.tensor(np.take_along_axis(x.cpu().numpy(), ind.cpu().numpy(), dim))

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, ind, ind_inv, dim = inputs
            ctx.save_for_backward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None, None, None

        @staticmethod
        def vmap(info, in_dims, x, ind, ind_inv, dim):
            x_bdim, ind_bdim, ind_inv_bdim, _ = in_dims
            logical_dim = x.dim() if x_bdim is None else x_bdim - 1
            dim = dim if dim >= 0 else dim + logical_dim

            def batched(t, bdim):
                return t.expand(info.batch_size, *t.shape) if bdim is None else t.movedim(bdim, 0)

            x, ind, ind_inv = batched(x, x_bdim), batched(ind, ind_bdim), batched(ind_inv, ind_inv_bdim)
            return NumpyTake.apply(x, ind, ind_inv, dim + 1), 0

    rng = np.random.default_rng(10)
    x = T.from_numpy(_data(rng, 3, 4))

    def smallest_squared(x):
        return NumpySort.apply(x, 1)[0][:, :2].pow(2).sum()

    leaf = x.clone().requires_grad_()
    smallest_squared(leaf).backward()
    out = {"backward": _np(leaf.grad)}
    out["grad"] = _np(func.grad(smallest_squared)(x))
    out["grad_of_grad"] = _np(func.grad(lambda v: func.grad(smallest_squared)(v).pow(3).sum())(x))
    out["vmap"] = _np(func.vmap(lambda row: NumpySort.apply(row, 0)[0])(x))
    sorted_, ind, _ = NumpySort.apply(leaf, 1)
    out["flags"] = [sorted_.requires_grad, ind.requires_grad]
    with T.no_grad():
        out["numpy_under_no_grad"] = leaf.numpy().copy()
    try:
        leaf.numpy()
        out["numpy_with_grad"] = "no error"
    except RuntimeError as error:
        out["numpy_with_grad"] = str(error)
    return out


def test_numpy_inside_custom_functions_under_transforms() -> None:
    """ember's Tensor.numpy() refused a tensor that requires grad even with grad mode off,
    so a custom Function calling x.numpy() in forward (the extending-torch.func tutorial)
    failed; PyTorch refuses only while grad mode is on."""
    _both(_numpy_functions)


# ---- saved-tensor hooks -------------------------------------------------------------------


def test_a_pack_hook_writing_into_its_input_raises_as_pytorch() -> None:
    """ember let a pack hook double a saved tensor that did not require grad, and backward
    then read the doubled value silently; PyTorch refuses."""
    import torch

    def program(T):
        a, b = T.ones(3, requires_grad=True), T.ones(3)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.mul_(2), lambda t: t):
            return a * b

    def registered(T):
        a, b = T.ones(3, requires_grad=True), T.ones(3)
        y = a * b
        y.grad_fn._raw_saved_other.register_hooks(lambda t: t.mul_(2), lambda t: t)

    for call in (program, registered):
        ours, theirs = outcome(ember, call), outcome(torch, call)
        assert ours[0] == theirs[0] == "raise"
        assert type(ours[1]) is type(theirs[1]) and str(ours[1]) == str(theirs[1])
