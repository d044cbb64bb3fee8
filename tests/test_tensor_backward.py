"""Tensor.backward checks its arguments as torch.autograd.backward does (it is that function
with one root). Each program runs in ember and, when it is installed, in PyTorch."""

from __future__ import annotations

import pytest

import ember


@pytest.mark.parametrize("inputs", [[], ()])
def test_backward_inputs_empty_raises(T, inputs):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be empty."):
        (x * 2).sum().backward(inputs=inputs)


@pytest.mark.parametrize("which", ["float", "int"])
def test_backward_inputs_that_need_no_grad_raise(T, which):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    constant = T.tensor([1.0, 2.0]) if which == "float" else T.tensor(1)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        (x * 2).sum().backward(inputs=[x, constant])


def test_backward_gradient_must_be_a_tensor(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError) as error:  # PyTorch 2.13: "'float' object is not iterable"
        (x * 2).sum().backward(2.0)
    if T is ember:
        assert str(error.value) == "gradients can be either Tensors or None, but got float"


@pytest.mark.parametrize("with_inputs", [False, True])
def test_backward_of_a_tensor_without_grad_raises(T, with_inputs):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    inputs = [x] if with_inputs else None
    with pytest.raises(
        RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"
    ):
        T.tensor(1.0).backward(inputs=inputs)
