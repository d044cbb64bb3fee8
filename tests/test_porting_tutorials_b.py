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

import copy
import importlib
import os
import tempfile
import uuid
from collections.abc import Sequence

import numpy as np
import pytest

import ember
from conftest import outcome, requires_torch
from test_porting_programs import _both, _np, _start

pytestmark = requires_torch


def _data(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


# ---- 1. forward-mode AD: duals through a module, functional_call, a custom jvp ---------------


def _forward_ad(T, shared: dict) -> dict:
    fwAD = importlib.import_module(f"{T.__name__}.autograd.forward_ad")
    rng = np.random.default_rng(0)
    model = _start(T, T.nn.Sequential(T.nn.Linear(5, 4), T.nn.Tanh(), T.nn.Linear(4, 3)), shared)
    x = T.from_numpy(_data(rng, 6, 5))
    tangents = {k: T.from_numpy(_data(rng, *p.shape)) for k, p in model.named_parameters()}
    out = {}
    with fwAD.dual_level():  # the tutorial's first way: swap each parameter for a dual
        swapped = copy.deepcopy(model)
        for name, p in list(swapped.named_parameters()):
            module_name, _, attr = name.rpartition(".")
            module = swapped.get_submodule(module_name)
            delattr(module, attr)
            setattr(module, attr, fwAD.make_dual(p.detach(), tangents[name]))
        unpacked = fwAD.unpack_dual(swapped(x))
        out["primal"], out["tangent_swapped"] = _np(unpacked.primal), _np(unpacked.tangent)
        out["fields"] = list(type(unpacked)._fields)
    with fwAD.dual_level():  # the second way: functional_call with a dict of duals
        duals = {k: fwAD.make_dual(p.detach(), tangents[k]) for k, p in model.named_parameters()}
        out["tangent_functional"] = _np(fwAD.unpack_dual(T.func.functional_call(model, duals, (x,))).tangent)

    class Exp(T.autograd.Function):  # forward AD by the Function's own jvp
        @staticmethod
        def forward(ctx, v):
            result = T.exp(v)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, v_tangent):
            return v_tangent * ctx.result

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.result

    primal, tangent = T.from_numpy(_data(rng, 4)), T.from_numpy(_data(rng, 4))
    with fwAD.dual_level():
        y = fwAD.unpack_dual(Exp.apply(fwAD.make_dual(primal, tangent)) * 2)
        out["custom_jvp"] = _np(y.tangent)
        none = fwAD.unpack_dual(primal * 3)  # a tensor that is no dual: no tangent
        out["no_tangent"] = none.tangent is None
    double = primal.double().requires_grad_()
    out["gradcheck_forward"] = T.autograd.gradcheck(
        Exp.apply, (double,), check_forward_ad=True, check_backward_ad=False, check_batched_grad=False
    )
    return out


def test_forward_mode_ad_through_modules_and_custom_jvp() -> None:
    _both(_forward_ad)


# ---- 2. Jacobians, Hessians, hvp and vhp in the tutorial's several forms ---------------------


def _jacobians(T, shared: dict) -> dict:
    func, AF = T.func, T.autograd.functional
    rng = np.random.default_rng(1)
    weight, bias, x = (T.from_numpy(_data(rng, *s)) for s in ((4, 4), (4,), (4,)))

    def predict(weight, bias, x):
        return T.nn.functional.linear(x, weight, bias).tanh()

    out = {}
    # row by row with vjp, then all rows at once with vmap(vjp_fn)
    value, vjp_fn = func.vjp(lambda v: predict(weight, bias, v), x)
    rows = [vjp_fn(unit)[0] for unit in T.eye(4).unbind()]
    out["rows"] = _np(T.stack(rows))
    out["vmap_vjp"] = _np(func.vmap(vjp_fn)(T.eye(4))[0])
    out["jacrev"] = _np(func.jacrev(predict, argnums=2)(weight, bias, x))
    out["jacfwd_weight"], out["jacfwd_x"] = (
        _np(j) for j in func.jacfwd(predict, argnums=(0, 2))(weight, bias, x)
    )
    out["jacrev_chunked"] = _np(func.jacrev(predict, argnums=2, chunk_size=1)(weight, bias, x))
    batch = T.from_numpy(_data(rng, 3, 4))
    out["batched"] = _np(
        func.vmap(func.jacrev(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, batch)
    )
    out["batched_sum_trick"] = _np(
        func.jacrev(lambda w, b, v: predict(w, b, v).sum(0), argnums=2)(weight, bias, batch).movedim(1, 0)
    )
    out["hessian"] = _np(func.hessian(predict, argnums=2)(weight, bias, x))
    out["hessian_fwdrev"] = _np(func.jacfwd(func.jacrev(predict, argnums=2), argnums=2)(weight, bias, x))

    def f(v):
        return (v.sin() * v.cos().sum()).sum()

    tangent = T.from_numpy(_data(rng, 4))
    out["hvp_jvp_of_grad"] = _np(func.jvp(func.grad(f), (x,), (tangent,))[1])
    out["hvp_vjp_of_grad"] = _np(func.vjp(func.grad(f), x)[1](tangent)[0])
    out["functional_jacobian"] = _np(AF.jacobian(lambda v: predict(weight, bias, v), x, vectorize=True))
    out["functional_jacobian_fwd"] = _np(
        AF.jacobian(lambda v: predict(weight, bias, v), x, vectorize=True, strategy="forward-mode")
    )
    out["functional_hessian"] = _np(AF.hessian(f, x, vectorize=True, outer_jacobian_strategy="forward-mode"))
    out["vhp_value"], out["vhp"] = (_np(t) for t in AF.vhp(f, x, tangent))
    out["hvp_value"], out["hvp"] = (_np(t) for t in AF.hvp(f, x, tangent))
    return out


def test_jacobians_hessians_and_their_products() -> None:
    _both(_jacobians)


# ---- 3. model ensembling with stack_module_state and vmap ----------------------------------------


def _ensembling(T, shared: dict) -> dict:
    func = T.func
    rng = np.random.default_rng(2)

    class MLP(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = T.nn.Linear(6, 8), T.nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(T.nn.functional.relu(self.fc1(x.flatten(1))))

    models = []
    for i in range(4):
        part = shared.setdefault(i, {})
        models.append(_start(T, MLP(), part))
    data = T.from_numpy(_data(rng, 5, 2, 3))
    minibatches = T.from_numpy(_data(rng, 4, 5, 2, 3))
    params, buffers = func.stack_module_state(models)
    base = copy.deepcopy(models[0])  # the tutorial moves it to 'meta'; see the test below

    def call(params, buffers, x):
        return func.functional_call(base, (params, buffers), (x,))

    out = {
        **{f"stacked_shape_{k}": list(v.shape) for k, v in params.items()},
        "stacked_leaf": [v.is_leaf and v.requires_grad for v in params.values()],
        "same_minibatch": _np(func.vmap(call, in_dims=(0, 0, None))(params, buffers, data)),
        "different_minibatches": _np(func.vmap(call)(params, buffers, minibatches)),
        "loop": _np(T.stack([m(data) for m in models])),
    }
    loss = func.vmap(call, in_dims=(0, 0, None))(params, buffers, data).pow(2).mean()
    loss.backward()  # the stacked parameters are leaves: an ensemble can be trained as one
    out["stacked_grad"] = _np(params["fc1.weight"].grad)
    return out


def test_model_ensembling() -> None:
    _both(_ensembling)


# ---- 4. per-sample gradients: a loop, then vmap(grad) with detached params and buffers ---------


def _per_sample(T, shared: dict) -> dict:
    func, F = T.func, T.nn.functional
    rng = np.random.default_rng(3)

    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = T.nn.Conv2d(1, 3, 3)
            self.norm = T.nn.BatchNorm1d(12)
            self.fc = T.nn.Linear(12, 4)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv(x)), 2).flatten(1)
            return F.log_softmax(self.fc(self.norm(x)), dim=1)

    model = _start(T, Net(), shared).eval()  # eval: batch norm reads its buffers
    images = T.from_numpy(_data(rng, 5, 1, 6, 6))
    targets = T.from_numpy(rng.integers(0, 4, size=5))

    def loss_fn(predictions, targets):
        return F.nll_loss(predictions, targets)

    def compute_grad(sample, target):
        loss = loss_fn(model(sample.unsqueeze(0)), target.unsqueeze(0))
        return T.autograd.grad(loss, list(model.parameters()))

    loop = [compute_grad(images[i], targets[i]) for i in range(5)]
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        predictions = func.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return loss_fn(predictions, target.unsqueeze(0))

    grads = func.vmap(func.grad(compute_loss), in_dims=(None, None, 0, 0))(params, buffers, images, targets)
    grads_and_losses = func.vmap(func.grad_and_value(compute_loss), in_dims=(None, None, 0, 0))(
        params, buffers, images, targets
    )
    out = {f"loop_{name}": _np(T.stack([g[j] for g in loop])) for j, name in enumerate(params)}
    out.update({f"vmap_{name}": _np(g) for name, g in grads.items()})
    out["losses"] = _np(grads_and_losses[1])
    out["names"] = list(grads)
    return out


def test_per_sample_gradients_by_loop_and_by_vmap() -> None:
    _both(_per_sample)


# ---- 5. neural tangent kernels: Jacobian contraction and NTK-vector products -------------------


def _ntk(T, shared: dict) -> dict:
    func = T.func
    rng = np.random.default_rng(4)
    net = _start(T, T.nn.Sequential(T.nn.Linear(3, 5), T.nn.Tanh(), T.nn.Linear(5, 2)), shared)
    params = {k: v.detach() for k, v in net.named_parameters()}
    x1, x2 = T.from_numpy(_data(rng, 4, 3)), T.from_numpy(_data(rng, 3, 3))

    def fnet_single(params, x):
        return func.functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)

    def ntk_by_jacobians(x1, x2, mode):
        jac1 = [j.flatten(2) for j in func.vmap(func.jacrev(fnet_single), (None, 0))(params, x1).values()]
        jac2 = [j.flatten(2) for j in func.vmap(func.jacrev(fnet_single), (None, 0))(params, x2).values()]
        spec = {"full": "Naf,Mbf->NMab", "trace": "Naf,Maf->NM", "diagonal": "Naf,Maf->NMa"}[mode]
        return T.stack([T.einsum(spec, j1, j2) for j1, j2 in zip(jac1, jac2)]).sum(0)

    def ntk_by_products(x1, x2):
        def get_ntk(x1, x2):
            def f1(p):
                return fnet_single(p, x1)

            def f2(p):
                return fnet_single(p, x2)

            def get_ntk_slice(vec):
                vjps = func.vjp(f2, params)[1](vec)
                return func.jvp(f1, (params,), vjps)[1]

            basis = T.eye(2, dtype=x1.dtype).view(2, -1)
            return func.vmap(get_ntk_slice)(basis)

        result = func.vmap(func.vmap(get_ntk, (None, 0)), (0, None))(x1, x2)
        return result.movedim(-2, -1)  # the basis index is the last output's: PyTorch's order

    return {
        "full": _np(ntk_by_jacobians(x1, x2, "full")),
        "trace": _np(ntk_by_jacobians(x1, x2, "trace")),
        "diagonal": _np(ntk_by_jacobians(x1, x2, "diagonal")),
        "products": _np(ntk_by_products(x1, x2)),
    }


def test_neural_tangent_kernels() -> None:
    _both(_ntk)


# ---- 6. pruning: random, iterative, global, custom; masks, hooks, state_dict; training --------


def _pruning(T, shared: dict) -> dict:
    prune = importlib.import_module(f"{T.__name__}.nn.utils.prune")
    rng = np.random.default_rng(5)

    class LeNet(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = T.nn.Conv2d(1, 4, 3), T.nn.Conv2d(4, 6, 3)
            self.fc1, self.fc2 = T.nn.Linear(6 * 4 * 4, 12), T.nn.Linear(12, 3)

        def forward(self, x):
            x = T.nn.functional.relu(self.conv2(T.nn.functional.relu(self.conv1(x))))
            return self.fc2(T.nn.functional.relu(self.fc1(x.flatten(1))))

    model = _start(T, LeNet(), shared)
    out = {}
    T.manual_seed(0)
    prune.random_unstructured(model.conv1, name="weight", amount=0.3)  # the draw differs: counts only
    out["random_zeros"] = int((model.conv1.weight_mask == 0).sum())
    out["params_after"] = [n for n, _ in model.conv1.named_parameters()]
    out["buffers_after"] = [n for n, _ in model.conv1.named_buffers()]
    out["hooks"] = [type(h).__name__ for h in model.conv1._forward_pre_hooks.values()]
    model.conv1.weight_mask.fill_(1.0)  # from here on, both start from the same mask
    model.conv1.weight_mask.view(-1)[::5] = 0.0
    prune.l1_unstructured(model.conv1, name="bias", amount=1)
    prune.ln_structured(model.conv1, name="weight", amount=0.5, n=2, dim=0)  # iterative: a container
    hook = next(h for h in model.conv1._forward_pre_hooks.values() if h._tensor_name == "weight")
    out["history"] = [type(m).__name__ for m in hook]
    out["mask"] = _np(model.conv1.weight_mask)
    out["keys"] = sorted(model.conv1.state_dict())
    for name, module in model.named_modules():  # the tutorial's loop over a model's layers
        if isinstance(module, T.nn.Conv2d) and name != "conv1":
            prune.l1_unstructured(module, name="weight", amount=0.2)
        elif isinstance(module, T.nn.Linear):
            prune.l1_unstructured(module, name="weight", amount=0.4)
    out["all_buffers"] = sorted(dict(model.named_buffers()))
    prune.remove(model.conv1, "weight")
    out["removed_keys"] = sorted(model.conv1.state_dict())
    fresh = _start(T, LeNet(), shared)
    parameters = [
        (fresh.conv1, "weight"),
        (fresh.conv2, "weight"),
        (fresh.fc1, "weight"),
        (fresh.fc2, "weight"),
    ]
    prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=0.25)
    out["global_zeros"] = [int((m.weight == 0).sum()) for m, _ in parameters]

    class EveryThird(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::3] = 0
            return mask

    EveryThird.apply(model.fc2, "bias")
    out["custom_mask"] = _np(model.fc2.bias_mask)
    optimizer = T.optim.SGD(model.parameters(), lr=0.1)
    x, y = T.from_numpy(_data(rng, 4, 1, 8, 8)), T.tensor([0, 2, 1, 0])
    for _ in range(2):  # the masked entries get no gradient; the originals keep their values
        optimizer.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    out["loss"] = loss.item()
    out["orig_grad"] = _np(model.fc1.weight_orig.grad)
    out["is_pruned"] = prune.is_pruned(model)
    return out


def test_pruning_iterative_global_custom_and_training() -> None:
    _both(_pruning)


# ---- 7. parametrizations: orthogonal maps, new-style spectral and weight norm, removal --------


def _parametrizations(T, shared: dict) -> dict:
    P = importlib.import_module(f"{T.__name__}.nn.utils.parametrize")
    pz = importlib.import_module(f"{T.__name__}.nn.utils.parametrizations")
    rng = np.random.default_rng(6)
    x = T.from_numpy(_data(rng, 3, 4))
    out = {}
    for kind in ("matrix_exp", "cayley", "householder"):
        layer = _start(T, T.nn.Linear(4, 4), shared.setdefault(kind, {}))
        pz.orthogonal(layer, orthogonal_map=kind)
        Q = layer.weight
        out[f"orthogonal_{kind}"] = float(T.dist(Q.T @ Q, T.eye(4)))
        layer(x).sum().backward()
        out[f"orthogonal_{kind}_grad_shape"] = list(layer.parametrizations.weight.original.grad.shape)
    sn = pz.spectral_norm(T.nn.Linear(4, 5))
    _start(T, sn, shared.setdefault("spectral", {}))  # u and v are buffers: loaded alike
    out["spectral_keys"] = sorted(sn.state_dict())
    for _ in range(3):
        y = sn(x)  # training mode: a power iteration per call
    out["spectral_out"] = _np(y)
    out["spectral_sigma1"] = float(T.linalg.matrix_norm(sn.weight, ord=2))
    sn.eval()
    out["spectral_eval"] = _np(sn(x))
    wn = _start(T, pz.weight_norm(T.nn.Linear(4, 3), dim=0), shared.setdefault("weight_norm", {}))
    out["weight_norm_keys"] = sorted(wn.state_dict())
    wn(x).pow(2).sum().backward()
    out["g_grad"] = _np(wn.parametrizations.weight.original0.grad)
    out["v_grad"] = _np(wn.parametrizations.weight.original1.grad)

    class Symmetric(T.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    layer, kept = (_start(T, T.nn.Linear(3, 3), shared.setdefault("symmetric", {})) for _ in range(2))
    for module in (layer, kept):
        P.register_parametrization(module, "weight", Symmetric())
        optimizer = T.optim.SGD(module.parameters(), lr=0.1)
        for _ in range(2):  # training keeps the parametrized weight symmetric
            optimizer.zero_grad()
            module(x[:, :3]).pow(2).sum().backward()
            optimizer.step()
    out["trained"] = _np(layer.weight)
    out["type"] = type(layer).__name__
    P.remove_parametrizations(kept, "weight", leave_parametrized=True)
    out["left_parametrized"] = _np(kept.weight)
    P.remove_parametrizations(layer, "weight", leave_parametrized=False)
    out["left_original"] = _np(layer.weight)
    out["types_after"] = [type(kept).__name__, type(layer).__name__, type(layer.weight).__name__]
    return out


def test_parametrizations_orthogonal_norms_and_removal() -> None:
    _both(_parametrizations, atol=1e-5)


# ---- 8. saved-tensor hooks: counting, save_on_cpu, a saved tensor's own hooks, to disk -------


def _saved_hooks(T, shared: dict) -> dict:
    graph = T.autograd.graph
    rng = np.random.default_rng(7)
    model = _start(T, T.nn.Sequential(T.nn.Linear(6, 5), T.nn.ReLU(), T.nn.Linear(5, 2)), shared)
    x = T.from_numpy(_data(rng, 4, 6))
    out, packed, unpacked = {}, [], []

    def pack(t):
        packed.append(list(t.shape))
        return t

    def unpack(t):
        unpacked.append(list(t.shape))
        return t

    a, b = (T.from_numpy(_data(rng, 3)).requires_grad_() for _ in range(2))
    with graph.saved_tensors_hooks(pack, unpack):
        y = a * b.exp()  # the tutorial's first example: what mul and exp save
        out["packed"] = list(packed)  # (not the Linear layers': see differences.md)
        loss = model(x).pow(2).sum()
    y.sum().backward()
    out["unpacked"] = list(unpacked)
    loss.backward()
    out["grads_ab"] = [_np(a.grad), _np(b.grad)]
    out["grad_hooks"] = _np(model[0].weight.grad)
    model.zero_grad()
    with graph.save_on_cpu(pin_memory=False):
        model(x).pow(2).sum().backward()
    out["grad_cpu"] = _np(model[0].weight.grad)

    a = T.from_numpy(_data(rng, 5)).requires_grad_()
    y = a.pow(2)
    out["saved_self_is_a"] = y.grad_fn._saved_self is a
    out["exponent"] = y.grad_fn._saved_exponent
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t * 10, lambda t: t / 10)
    y.sum().backward()
    out["grad_registered"] = _np(a.grad)

    folder = tempfile.mkdtemp()

    class SelfDeletingTempFile:
        def __init__(self):
            self.name = os.path.join(folder, str(uuid.uuid4()))

        def __del__(self):
            os.remove(self.name)

    def pack_to_disk(t):
        if t.numel() < 8:  # small tensors stay in memory
            return t
        f = SelfDeletingTempFile()
        T.save(t, f.name)
        return f

    def unpack_from_disk(f):
        return f if isinstance(f, T.Tensor) else T.load(f.name, weights_only=True)

    class SaveToDisk(graph.saved_tensors_hooks):
        def __init__(self):
            super().__init__(pack_to_disk, unpack_from_disk)

    model.zero_grad()
    with SaveToDisk():
        loss = model(x).pow(2).sum()
    out["files_while_graph_lives"] = len(os.listdir(folder)) > 0
    loss.backward()
    del loss
    out["files_after_backward"] = len(os.listdir(folder))
    out["grad_disk"] = _np(model[0].weight.grad)
    os.rmdir(folder)
    return out


def test_saved_tensor_hooks_counting_cpu_and_disk() -> None:
    _both(_saved_hooks)


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


# ---- 9. double backward of custom Functions -----------------------------------------------------


def _double_backward(T, shared: dict) -> dict:
    once_differentiable = importlib.import_module(f"{T.__name__}.autograd.function").once_differentiable

    class Square(T.autograd.Function):  # saves its input: double backward works as is
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    class Exp(T.autograd.Function):  # saves its output
        @staticmethod
        def forward(ctx, x):
            result = T.exp(x)
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return grad_out * result

    class Sinh(T.autograd.Function):  # intermediates returned as outputs, so they are tracked
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = T.exp(x), T.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            return grad_out * (expx + expnegx) / 2 + _grad_out_exp * expx - _grad_out_negexp * expnegx

    class SinhUntracked(T.autograd.Function):  # the tutorial's "what not to do"
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = T.exp(x), T.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2

        @staticmethod
        def backward(ctx, grad_out):
            expx, expnegx = ctx.saved_tensors
            return grad_out * (expx + expnegx) / 2

    class CubeOnce(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        @once_differentiable
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 3 * x**2

    x = T.tensor([0.5, -1.0, 2.0], dtype=T.double, requires_grad=True)
    out = {}
    for name, fn in (
        ("square", Square.apply),
        ("exp", Exp.apply),
        ("sinh", lambda v: Sinh.apply(v)[0]),
        ("untracked", SinhUntracked.apply),
    ):
        (g,) = T.autograd.grad(fn(x).sum(), x, create_graph=True)
        out[f"{name}_grad"] = _np(g)
        out[f"{name}_requires_grad"] = g.requires_grad
        out[f"{name}_second"] = _np(T.autograd.grad(g.sum(), x)[0]) if g.requires_grad else 0.0
        out[f"{name}_gradgradcheck"] = T.autograd.gradgradcheck(fn, x, raise_exception=False)
    (g,) = T.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    out["once_grad"], out["once_requires_grad"] = _np(g), g.requires_grad
    v = T.ones(3, dtype=T.double, requires_grad=True)  # a cotangent that requires grad
    (g,) = T.autograd.grad(CubeOnce.apply(x), x, grad_outputs=v, create_graph=True)
    out["once_with_graph"] = g.requires_grad
    try:
        g.sum().backward()
        out["once_second"] = "no error"
    except RuntimeError as error:
        out["once_second"] = "differentiate twice" in str(error)
    return out


def test_double_backward_of_custom_functions() -> None:
    _both(_double_backward)


# ---- 10. fusing convolution and batch norm with custom Functions --------------------------------


def _fused_conv_bn(T, shared: dict) -> dict:
    F = T.nn.functional
    once_differentiable = importlib.import_module(f"{T.__name__}.autograd.function").once_differentiable

    def convolution_backward(grad_out, X, weight):
        grad_input = F.conv_transpose2d(grad_out, weight)
        grad_X = F.conv2d(X.transpose(0, 1), grad_out.transpose(0, 1)).transpose(0, 1)
        return grad_X, grad_input

    def unsqueeze_all(t):
        return t[None, :, None, None]

    def batch_norm_backward(grad_out, X, sum, sqrt_var, N, eps):
        tmp = ((X - unsqueeze_all(sum) / N) * grad_out).sum(dim=(0, 2, 3))
        tmp *= -1
        d_denom = tmp / (sqrt_var + eps) ** 2
        d_var = d_denom / (2 * sqrt_var)
        d_mean_dx = grad_out / unsqueeze_all(sqrt_var + eps)
        d_mean_dx = unsqueeze_all(-d_mean_dx.sum(dim=(0, 2, 3)) / N)
        grad_input = X * unsqueeze_all(d_var * N)
        grad_input += unsqueeze_all(-d_var * sum)
        grad_input *= 2 / ((N - 1) * N)
        grad_input += d_mean_dx
        grad_input *= unsqueeze_all(sqrt_var + eps)
        grad_input += grad_out
        grad_input /= unsqueeze_all(sqrt_var + eps)
        return grad_input

    def batch_norm(input, eps=1e-3):
        sum = input.sum(dim=(0, 2, 3))
        var = input.var(dim=(0, 2, 3))
        sqrt_var = T.sqrt(var)
        N = input.numel() / input.size(1)
        return (input - unsqueeze_all(sum) / N) / unsqueeze_all(sqrt_var + eps), sum, sqrt_var, N

    class FusedConvBN2DFunction(T.autograd.Function):
        @staticmethod
        def forward(ctx, X, conv_weight, eps=1e-3):
            assert X.ndim == 4
            ctx.save_for_backward(X, conv_weight)  # the only buffers kept: conv is recomputed
            out, _, _, _ = batch_norm(F.conv2d(X, conv_weight), eps)
            ctx.eps = eps
            return out

        @staticmethod
        @once_differentiable
        def backward(ctx, grad_out):
            X, conv_weight = ctx.saved_tensors
            X_conv = F.conv2d(X, conv_weight)
            _, sum, sqrt_var, N = batch_norm(X_conv, ctx.eps)
            grad_out = batch_norm_backward(grad_out, X_conv, sum, sqrt_var, N, ctx.eps)
            grad_X, grad_input = convolution_backward(grad_out, X, conv_weight)
            needs = ctx.needs_input_grad
            return (grad_input if needs[0] else None), (grad_X if needs[1] else None), None

    class FusedConvBN(T.nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, eps=1e-3):
            super().__init__()
            self.conv_weight = T.nn.Parameter(T.empty(out_channels, in_channels, kernel_size, kernel_size))
            self.eps = eps
            T.nn.init.kaiming_uniform_(self.conv_weight)

        def forward(self, X):
            return FusedConvBN2DFunction.apply(X, self.conv_weight, self.eps)

    rng = np.random.default_rng(8)
    X = T.from_numpy(rng.standard_normal((2, 3, 6, 6))).requires_grad_()
    weight = T.from_numpy(rng.standard_normal((4, 3, 3, 3))).requires_grad_()
    out = {"gradcheck": T.autograd.gradcheck(FusedConvBN2DFunction.apply, (X, weight))}
    fused = _start(T, FusedConvBN(3, 4, 3), shared)
    reference_conv = T.nn.Conv2d(3, 4, 3, bias=False)
    with T.no_grad():
        reference_conv.weight.copy_(fused.conv_weight)
    reference_bn = T.nn.BatchNorm2d(4, affine=False, eps=1e-3, track_running_stats=False)
    x = T.from_numpy(_data(rng, 5, 3, 7, 7))
    a, b = fused(x), reference_bn(reference_conv(x))
    out["fused"] = _np(a)
    out["close_to_layers"] = float((a - b).abs().max()) < 5e-3  # var vs biased var, eps placement
    optimizer = T.optim.SGD(fused.parameters(), lr=0.05)
    for _ in range(2):
        optimizer.zero_grad()
        loss = fused(x).pow(3).mean()
        loss.backward()
        optimizer.step()
    out["loss"], out["weight"] = loss.item(), _np(fused.conv_weight)
    only_input = T.from_numpy(_data(rng, 1, 3, 5, 5)).requires_grad_()
    frozen = fused.conv_weight.detach()
    FusedConvBN2DFunction.apply(only_input, frozen).sum().backward()  # needs_input_grad (True, False)
    out["input_grad_only"] = _np(only_input.grad)
    return out


def test_fusing_convolution_and_batch_norm() -> None:
    _both(_fused_conv_bn, atol=1e-4)


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
    assert not hasattr(ember.ops, "no_such_namespace") and not hasattr(ember.ops.tutorials_b, "no_such_op")
    gpu_only = library.custom_op(
        "tutorials_b::gpu_only", no_return_clone(ember), mutates_args=(), device_types="cuda"
    )
    with pytest.raises(NotImplementedError, match="register_kernel"):
        gpu_only(ember.zeros(1))


def test_an_explicit_schema_types_a_function_without_hints() -> None:
    def scale_into(x, out, k):
        out.copy_(x * k)

    op = ember.library.custom_op(
        "tutorials_b::scale_into",
        scale_into,
        mutates_args={"out"},
        schema="(Tensor x, Tensor(a1!) out, float k) -> ()",
    )
    x, out = ember.ones(2), ember.zeros(2)
    op(x, out, 3.0)
    assert out.tolist() == [3.0, 3.0] and out._version_cell[0] == 2  # copy_ and the declared write
    with pytest.raises(RuntimeError, match="Expected a value of type 'float' for argument 'k'"):
        op(x, out, "3")
    assert ember.library.opcheck(op, (x, out, 2.0))["test_schema"] == "SUCCESS"


def test_an_explicit_schema_is_checked_when_the_op_is_made() -> None:
    """`int` (how schemas written by hand name integers) is checked on each call; a type ember
    does not know, argument names that are not the function's, or `Tensor(a!)` marks that
    disagree with mutates_args are refused at once, not by a KeyError at the first call or
    by arguments going unchecked."""
    library = ember.library

    def times(x, k):
        return x * k

    op = library.custom_op("tutorials_b::times", times, mutates_args=(), schema="(Tensor x, int k) -> Tensor")
    assert op(ember.ones(1), 3).tolist() == [3.0]
    with pytest.raises(RuntimeError, match="Expected a value of type 'int' for argument 'k'"):
        op(ember.ones(1), 1.5)
    with pytest.raises(RuntimeError, match="unknown type 'Foo'"):
        library.custom_op("tutorials_b::foo", times, mutates_args=(), schema="(Tensor x, Foo k) -> Tensor")
    with pytest.raises(ValueError, match="names the arguments"):
        library.custom_op("tutorials_b::named", times, mutates_args=(), schema="(Tensor x, int n) -> Tensor")
    with pytest.raises(ValueError, match="The schema suggests that the op mutates"):
        library.custom_op(
            "tutorials_b::marks", times, mutates_args=(), schema="(Tensor(a0!) x, int k) -> Tensor"
        )
    with pytest.raises(RuntimeError, match="is not of the form"):
        library.custom_op("tutorials_b::form", times, mutates_args=(), schema="Tensor x, int k -> Tensor")


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


def test_a_custom_op_must_return_what_its_schema_says() -> None:
    """PyTorch refuses a kernel's result of another structure than the schema's returns;
    ember returned it, and with a gradient a Tensor for `Tensor[]` came back as its rows."""

    @ember.library.custom_op("tutorials_b::halves", mutates_args=())
    def halves(x: ember.Tensor) -> list[ember.Tensor]:
        return x / 2  # should be [x / 2]

    halves.register_autograd(lambda ctx, gs: gs[0] / 2)
    for x in (ember.ones(2, 3), ember.ones(2, 3, requires_grad=True)):
        with pytest.raises(RuntimeError, match="does not match the schema's returns 'Tensor\\[\\]'"):
            halves(x)

    @ember.library.custom_op("tutorials_b::pair", mutates_args=())
    def pair(x: ember.Tensor) -> tuple[ember.Tensor, int]:
        return x.clone(), 2.5  # should be an int

    with pytest.raises(RuntimeError, match="returned a tuple, which does not match"):
        pair(ember.ones(1))


def _number_arguments(T, shared: dict) -> dict:
    """The kernel receives number arguments converted to the schema's types, as PyTorch's
    dispatcher passes them: 2 for a float is 2.0, a tuple for an int[] is a list."""
    seen = {}

    def record(x: T.Tensor, k: float, ks: Sequence[int], b: bool, n: int | None = None) -> T.Tensor:
        seen.update(k=repr(k), ks=repr(ks), b=repr(b), n=repr(n))
        return T.full_like(x, k)

    op = T.library.custom_op("tutorials_b::record", record, mutates_args=())
    out = {"full": _np(op(T.ones(2), 2, (np.int64(1), 2), 1, np.int64(3)))}
    out.update(seen)
    op(T.ones(1), T.tensor(2.5), [1], True)
    out["from_tensor"] = seen["k"]
    return out


def test_number_arguments_reach_the_kernel_as_the_schema_types() -> None:
    _both(_number_arguments)


def test_needs_input_grad_in_a_custom_ops_backward_is_per_argument() -> None:
    """As PyTorch's: one flag per positional argument, a list for a list of tensors; the
    node's flat inputs and its metadata argument (ember's own) do not show."""
    seen = []

    @ember.library.custom_op("tutorials_b::needs", mutates_args=())
    def needs(xs: list[ember.Tensor], w: ember.Tensor, *, k: float = 1.0) -> ember.Tensor:
        return (xs[0] + xs[1]) * w * k

    def backward(ctx, g):
        seen.append(ctx.needs_input_grad)
        return [g if n else None for n in ctx.needs_input_grad[0]], None

    needs.register_autograd(backward)
    a = ember.ones(1, requires_grad=True)
    needs([a, ember.ones(1)], ember.ones(1), k=2.0).sum().backward()
    assert seen == [([True, False], False)] and a.grad.tolist() == [1.0]


def _autograd_of_non_functional_ops(T, shared: dict) -> dict:
    """register_autograd refuses an op that mutates an argument or returns nothing: such an
    op records no node, so the formula would never run."""
    library, out = T.library, {}

    def add_into(x: T.Tensor, buf: T.Tensor) -> T.Tensor:
        buf.add_(1)
        return x * 2

    def nothing(x: T.Tensor) -> None:
        pass

    for name, fn, mutates in (("add_into", add_into, {"buf"}), ("nothing", nothing, ())):
        op = library.custom_op(f"tutorials_b::{name}", fn, mutates_args=mutates)
        try:
            op.register_autograd(lambda ctx, g: (g, None))
            out[name] = "registered"
        except RuntimeError as error:
            out[name] = str(error).split(" with schema")[0]
    return out


def test_register_autograd_refuses_non_functional_ops() -> None:
    _both(_autograd_of_non_functional_ops)


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
