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

import ember
from conftest import outcome, requires_torch

pytestmark = requires_torch


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
