"""The gradients of the convolutions with respect to their input and their weight, given
the gradient of their output (torch.nn.grad, also reached as torch.nn.functional.grad).

Each is the backward of the convolution itself: the convolution is recorded on a stand-in
of the other operand's shape, and autograd.grad takes its vector-Jacobian product with
grad_output, so these give exactly the gradients that `backward()` gives. The result is
differentiable when grad mode is on and an operand requires grad.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ember
from ember._tensor import Tensor
from ember.autograd import grad as _autograd_grad

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]


def _conv_backward(
    conv: Callable, known: Tensor, size: Sequence[int], grad_output: Tensor, of_input: bool, options: dict
) -> Tensor:
    """The gradient of conv with respect to its input (of_input) or its weight, of shape
    size, where known is the other operand."""
    graph = ember.is_grad_enabled() and (known.requires_grad or grad_output.requires_grad)
    stand_in = ember.zeros(tuple(size), dtype=grad_output.dtype, requires_grad=True)
    with ember.enable_grad():
        output = conv(stand_in, known, **options) if of_input else conv(known, stand_in, **options)
        if tuple(output.shape) != tuple(grad_output.shape):
            raise RuntimeError(
                f"grad_output has shape {list(grad_output.shape)}, but the convolution's output has "
                f"shape {list(output.shape)}"
            )
        (gradient,) = _autograd_grad(output, stand_in, grad_output, create_graph=graph)
    return gradient


def _pair_of(conv_name: str) -> tuple[Callable, Callable]:
    def input_gradient(
        input_size: Sequence[int],
        weight: Tensor,
        grad_output: Tensor,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
    ) -> Tensor:
        conv = getattr(ember.nn.functional, conv_name)
        options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return _conv_backward(conv, weight, input_size, grad_output, True, options)

    def weight_gradient(
        input: Tensor,
        weight_size: Sequence[int],
        grad_output: Tensor,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
    ) -> Tensor:
        conv = getattr(ember.nn.functional, conv_name)
        options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return _conv_backward(conv, input, weight_size, grad_output, False, options)

    input_gradient.__name__, weight_gradient.__name__ = f"{conv_name}_input", f"{conv_name}_weight"
    input_gradient.__qualname__, weight_gradient.__qualname__ = (
        input_gradient.__name__,
        weight_gradient.__name__,
    )
    input_gradient.__module__ = weight_gradient.__module__ = __name__
    input_gradient.__doc__ = (
        f"The gradient of {conv_name} with respect to an input of shape input_size, given the "
        f"weight and the gradient of the output (torch.nn.grad.{conv_name}_input)."
    )
    weight_gradient.__doc__ = (
        f"The gradient of {conv_name} with respect to a weight of shape weight_size, given the "
        f"input and the gradient of the output (torch.nn.grad.{conv_name}_weight)."
    )
    return input_gradient, weight_gradient


conv1d_input, conv1d_weight = _pair_of("conv1d")
conv2d_input, conv2d_weight = _pair_of("conv2d")
conv3d_input, conv3d_weight = _pair_of("conv3d")
