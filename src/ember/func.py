"""Function transforms, as torch.func: grad, grad_and_value, vjp, jvp, linearize, jacrev,
jacfwd, hessian, vmap, functional_call and functionalize, and the helpers for ensembles
(stack_module_state, replace_all_batch_norm_modules_), and einops' rearrange.

A transform takes a function and returns a new function. PyTorch implements them with
"levels" of wrapped tensors; ember builds them from what it already has, which keeps them
short and readable:

- `grad`, `vjp`, `jacrev` run the function on fresh tensors that require grad and call
  `ember.autograd.grad`. Inside another transform (or when an argument already requires
  grad) the gradients are built with `create_graph=True`, so that the outer transform can
  differentiate them again: `grad(grad(f))`, `jacrev(grad(f))` and `hessian` are nested
  reverse passes.
- `jacfwd` is `jacrev` (ember has no forward mode); the Jacobian is the same. `jvp` takes
  two reverse passes: the vector-Jacobian product uᵀJ is linear in u, and its gradient
  with respect to u along the tangent v is Jv.
- `vmap` calls the function once per batch element and stacks the results: a loop, not a
  vectorized kernel, so it gives torch.func's results at a loop's speed.

Arguments and results may be trees of tuples, lists and dicts with Tensors at the leaves
(a dict of parameters, as `functional_call` takes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.autograd import forward_ad
from ember.autograd import functional as _functional
from ember.autograd.functional import grad as _autograd_grad
from ember.autograd.grad_mode import enable_grad, is_grad_enabled
from ember.nn.utils.stateless import _functional_call

__all__ = [
    "debug_unwrap",
    "functional_call",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "rearrange",
    "replace_all_batch_norm_modules_",
    "stack_module_state",
    "vjp",
    "vmap",
]

# How many differentiating transforms are running, one inside the other. Inside one, every
# gradient is built with create_graph=True so that the enclosing transform can use it.
_depth = [0]


# ---- trees: tuples, lists and dicts of leaves ------------------------------------------------

_LEAF = None


def _flatten(tree: Any) -> tuple[list, Any]:
    """The leaves of a tree of tuples, lists and dicts, left to right, and its shape (spec)."""
    if isinstance(tree, (tuple, list)):
        leaves: list = []
        specs = []
        for item in tree:
            item_leaves, spec = _flatten(item)
            leaves += item_leaves
            specs.append(spec)
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for value in tree.values():
            item_leaves, spec = _flatten(value)
            leaves += item_leaves
            specs.append(spec)
        return leaves, (type(tree), list(tree), specs)
    return [tree], _LEAF


def _unflatten(leaves: Sequence, spec: Any) -> Any:
    """The tree of shape `spec` with `leaves` at its leaves (the inverse of _flatten)."""
    it = iter(leaves)

    def build(spec: Any) -> Any:
        if spec is _LEAF:
            return next(it)
        kind, keys, specs = spec
        items = [build(s) for s in specs]
        if keys is not None:
            return kind(zip(keys, items))
        if kind is tuple or kind is list:
            return kind(items)
        return kind(*items)  # a namedtuple

    return build(spec)


def _dims_per_leaf(dims: Any, tree: Any, where: str, what: str) -> list:
    """Spread in_dims/out_dims over the leaves of `tree`: an int or None applies to a whole
    subtree; a tuple, list or dict must have the subtree's structure."""
    if dims is None or isinstance(dims, int):
        return [dims] * len(_flatten(tree)[0])
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)) and len(dims) == len(tree):
        return [d for sub_dims, sub in zip(dims, tree) for d in _dims_per_leaf(sub_dims, sub, where, what)]
    if isinstance(dims, dict) and isinstance(tree, dict) and set(dims) == set(tree):
        return [d for key in tree for d in _dims_per_leaf(dims[key], tree[key], where, what)]
    kind = "inputs" if what == "in_dims" else "outputs"
    raise ValueError(
        f"{where}: {what} is not compatible with the structure of `{kind}`: {what}={dims!r} for "
        f"a {type(tree).__name__}"
    )


# ---- the differentiating transforms ---------------------------------------------------------


def _name(func: Any) -> str:
    return getattr(func, "__name__", repr(func))


def _argnums_tuple(argnums: Any, n_args: int) -> tuple:
    """argnums as a tuple of non-negative positions, checked as torch checks it."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        positions = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        positions = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    result = []
    for a in positions:
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
        result.append(a % n_args)
    if len(set(result)) != len(result):
        raise RuntimeError(f"argnums must be unique, got {argnums}")
    return tuple(result)


def _needs_graph(args: Any) -> bool:
    """Whether the results must stay differentiable: inside another transform, or when an
    argument already requires grad (the caller may differentiate the results)."""
    if _depth[0] > 0:
        return True
    return is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in _flatten(args)[0])


def _fresh_leaves(tree: Any, create_graph: bool) -> tuple[Any, list]:
    """A copy of `tree` whose Tensors require grad, and those Tensors. Under create_graph a
    tensor that requires grad is viewed, so that it stays connected to the outer graph;
    the view is a new tensor, so an inner gradient is never confused with an outer one."""
    leaves, spec = _flatten(tree)
    fresh = []
    for t in leaves:
        if not isinstance(t, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
        fresh.append(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_())
    return _unflatten(fresh, spec), fresh


def _fresh_args(args: tuple, positions: tuple, create_graph: bool) -> tuple[list, list]:
    """args with those at `positions` replaced by fresh leaves (_fresh_leaves), and the
    leaves of each of those arguments, in the order of `positions`."""
    args = list(args)
    per_arg = []
    for p in positions:
        args[p], leaves = _fresh_leaves(args[p], create_graph)
        per_arg.append(leaves)
    return args, per_arg


def _per_argument(flat: Sequence, args: list, positions: tuple, per_arg: list, argnums: Any) -> Any:
    """Results with one entry per leaf of the arguments at `positions` (in order), shaped
    as those arguments: one tree for an int argnums, a tuple of them for a tuple."""
    trees, start = [], 0
    for p, leaves in zip(positions, per_arg):
        trees.append(_unflatten(flat[start : start + len(leaves)], _flatten(args[p])[1]))
        start += len(leaves)
    return trees[0] if isinstance(argnums, int) else tuple(trees)


def _split_aux(out: Any, has_aux: bool, where: str) -> tuple:
    """(output, aux) of a function's result: with has_aux the result must be that pair;
    without, aux is None."""
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(
            f"{where}: output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    return out


@contextmanager
def _transform_level():
    _depth[0] += 1
    try:
        with enable_grad():
            yield
    finally:
        _depth[0] -= 1


def _grads_of(outputs: list, cotangents: list, inputs: list, create_graph: bool) -> list:
    """The vector-Jacobian product of `outputs` with `cotangents` for each input, zeros where
    an input does not reach any output (torch.func gives zeros, never None)."""
    from ember.creation import zeros_like

    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if pairs:
        grads = _autograd_grad(
            [o for o, _ in pairs],
            inputs,
            [c for _, c in pairs],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    else:
        grads = [None] * len(inputs)
    return [zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def _detach_tree(tree: Any, keep_graph: bool) -> Any:
    if keep_graph:
        return tree
    leaves, spec = _flatten(tree)
    return _unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


def grad_and_value(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """A function returning (gradient of func's scalar output with respect to the arguments
    at `argnums`, func's output) (torch.func.grad_and_value). With has_aux, func returns
    (output, aux) and the result is (gradient, (output, aux))."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        positions = _argnums_tuple(argnums, len(args))
        create_graph = _needs_graph((args, kwargs))
        args, per_arg = _fresh_args(args, positions, create_graph)
        with _transform_level():
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value(f)(*args)")
            if not isinstance(out, Tensor):
                raise RuntimeError(
                    f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}"
                )
            if out.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"tensor with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
                )
            flat_inputs = [x for leaves in per_arg for x in leaves]
            grads = _grads_of([out], [None], flat_inputs, create_graph)
        gradient = _detach_tree(_per_argument(grads, args, positions, per_arg, argnums), create_graph)
        value = _detach_tree(out, create_graph)
        if has_aux:
            return gradient, (value, _detach_tree(aux, create_graph))
        return gradient, value

    return wrapper


def grad(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """A function returning the gradient of func's scalar output with respect to the
    arguments at `argnums` (torch.func.grad); with has_aux, (gradient, aux)."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn[, aux]) (torch.func.vjp): vjp_fn(cotangents) gives, for each
    primal, the vector-Jacobian product, as a tuple; it may be called many times."""
    create_graph = _needs_graph(primals)
    fresh, inputs = _fresh_leaves(primals, create_graph)
    with _transform_level():
        out = func(*fresh)
    out, aux = _split_aux(out, has_aux, "vjp(f, *primals)")
    outputs, out_spec = _flatten(out)
    if not outputs or not all(isinstance(o, Tensor) for o in outputs):
        raise RuntimeError(
            "vjp(f, *primals): Expected f to be a function that has non-empty output and only "
            f"Tensors in its output, got {type(out)}"
        )

    def vjp_fn(cotangents: Any) -> tuple:
        cots, cot_spec = _flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                "outputs to the function."
            )
        keep = create_graph or _needs_graph(cotangents)
        with enable_grad():
            grads = _grads_of(outputs, cots, inputs, keep)
        return _detach_tree(_unflatten(grads, _flatten(fresh)[1]), keep)

    result = (_detach_tree(out, create_graph), vjp_fn)
    return (*result, _detach_tree(aux, create_graph)) if has_aux else result


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """(func(*primals), the Jacobian-vector product with `tangents`[, aux]) (torch.func.jvp).
    By reverse mode twice (see the module's docstring); `strict` is accepted, as torch's
    is, and changes nothing."""
    from ember.creation import zeros_like

    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(
                f"jvp(f, primals, tangents): Expected {name} to be a tuple. E.g. it should be valid "
                "to call f(*primals)."
            )
    flat_tangents, tangent_spec = _flatten(tangents)
    if tangent_spec != _flatten(primals)[1]:
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            "structure. For example, if primals is a tuple of 3 tensors, tangents also must be."
        )
    create_graph = _needs_graph((primals, tangents))
    fresh, inputs = _fresh_leaves(primals, create_graph)
    for x, v in zip(inputs, flat_tangents):
        if not isinstance(v, Tensor) or v.shape != x.shape:
            raise RuntimeError(
                "jvp(f, primals, tangents): Expected each tangent to be a Tensor of its primal's "
                f"shape, got {type(v).__name__} {getattr(v, 'shape', '')} for a primal of shape {x.shape}"
            )
    with _transform_level():
        out, aux = _split_aux(func(*fresh), has_aux, "jvp(f, primals, tangents)")
        outputs, out_spec = _flatten(out)
        if not outputs or not all(isinstance(o, Tensor) for o in outputs):
            raise RuntimeError(
                "jvp(f, primals, tangents): Expected f(*primals) to return only tensors, got "
                f"unsupported type {type(out)}"
            )
        dummies = [zeros_like(o).requires_grad_() for o in outputs]
        # a custom Function's backward must be differentiable: checked, as forward_ad does
        swapped = forward_ad._check_backwards(outputs, inputs)
        try:
            vjps = _grads_of(outputs, dummies, inputs, create_graph=True)
        finally:
            forward_ad._restore_backwards(swapped)
        # <vjp, v>, the real inner product (Re sum(conj(g) v) for complex tensors): its
        # gradient in the dummies is the Jacobian applied to v
        total = sum(_inner(g, v) for g, v in zip(vjps, flat_tangents) if g.requires_grad)
        if isinstance(total, Tensor):
            jvps = _grads_of([total], [None], dummies, create_graph)
        else:  # no output depends on the primals
            jvps = [zeros_like(o) for o in outputs]
    result = (_detach_tree(out, create_graph), _detach_tree(_unflatten(jvps, out_spec), create_graph))
    return (*result, _detach_tree(aux, create_graph)) if has_aux else result


def linearize(func: Callable, *primals: Any) -> tuple:
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the Jacobian-vector product of func at
    `primals` with `tangents` (torch.func.linearize). PyTorch traces func once and replays
    the linear part; ember's jvp_fn calls `jvp` at the saved primals each time, which gives
    the same numbers."""
    primals = tuple(primals)
    output = _detach_tree(func(*primals), False)
    flat_primals, primal_spec = _flatten(primals)

    def jvp_fn(*tangents: Any) -> Any:
        flat, spec = _flatten(tangents)
        if spec != primal_spec:
            raise RuntimeError(
                f"linearize's jvp_fn: expected the tangents to have the structure of the primals "
                f"({len(flat_primals)} tensors, nested as they are), got {len(flat)} tensors"
            )
        for i, (p, t) in enumerate(zip(flat_primals, flat)):
            if t.shape != p.shape:
                raise RuntimeError(
                    f"tangent:{i} with shape {t.shape} in flattened pytree doesn't match the shape "
                    f"{p.shape} of the corresponding primal."
                )
            if t.dtype != p.dtype:
                raise RuntimeError(
                    f"tangent:{i} with dtype {t.dtype} in flattened pytree doesn't match the dtype "
                    f"{p.dtype} of the corresponding primal."
                )
        return jvp(func, primals, tuple(tangents))[1]

    return output, jvp_fn


def jacrev(
    func: Callable,
    argnums: int | tuple = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable:
    """A function returning the Jacobian of func with respect to the arguments at `argnums`
    (torch.func.jacrev), one reverse pass per output element. For each output leaf of
    shape S and input of shape I the Jacobian has shape S + I; the results nest as the
    outputs, then (for a tuple argnums) as the arguments. `chunk_size` is accepted; the
    rows are computed one at a time whatever it is."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError(f"jacrev: `chunk_size` should be greater than 0, got {chunk_size}")
    return _jacobian_of(func, argnums, has_aux, "jacrev")


def _jacobian_of(func: Callable, argnums: int | tuple, has_aux: bool, name: str) -> Callable:
    """jacrev's and jacfwd's function (`name` for their errors)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        positions = _argnums_tuple(argnums, len(args))
        create_graph = _needs_graph((args, kwargs))
        args, per_arg = _fresh_args(args, positions, create_graph)
        inputs = [x for leaves in per_arg for x in leaves]
        _refuse_complex(inputs, "inputs", name)
        with _transform_level():
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "jacrev(f, ...)(*args)")
            outputs, out_spec = _flatten(out)
            for o in outputs:
                if not isinstance(o, Tensor):
                    raise RuntimeError(
                        f"jacrev(f, ...)(*args): expected f(*args) to return only tensors, got unsupported type {type(o)}"
                    )
            _refuse_complex(outputs, "outputs", name)
            per_output = [_jacobians(o, inputs, create_graph) for o in outputs]
        jac_leaves = [_per_argument(jacs, args, positions, per_arg, argnums) for jacs in per_output]
        result = _detach_tree(_unflatten(jac_leaves, out_spec), create_graph)
        return (result, _detach_tree(aux, create_graph)) if has_aux else result

    return wrapper


def _refuse_complex(tensors: list, what: str, name: str) -> None:
    """PyTorch's jacrev and jacfwd take real inputs and outputs only (a complex function has
    no Jacobian matrix of complex numbers unless it is holomorphic)."""
    for i, t in enumerate(tensors):
        if t._data.dtype.kind == "c":
            raise RuntimeError(
                f"{name}: Expected all {what} to be real but received complex tensor at flattened input idx: {i}"
            )


def _inner(g: Tensor, v: Tensor) -> Tensor:
    """sum(g v), and for complex tensors Re(sum(conj(g) v)) (gradients in PyTorch's form)."""
    if g._data.dtype.kind == "c" or v._data.dtype.kind == "c":
        return (g.conj() * v).real.sum()
    return (g * v).sum()


def _jacobians(out: Tensor, inputs: list, create_graph: bool) -> list:
    """The Jacobian of one output with respect to each input: row k is the gradient of the
    output's k-th element, from a backward pass with a one-hot cotangent."""
    from ember.creation import zeros
    from ember.ops.api.shape import stack

    n = out.numel()
    rows = []
    for k in range(n):
        onehot = np.zeros(n, dtype=out._data.dtype)
        onehot[k] = 1
        rows.append(_grads_of([out], [Tensor(onehot.reshape(out.shape))], inputs, create_graph))
    jacobians = []
    for i, x in enumerate(inputs):
        shape = tuple(out.shape) + tuple(x.shape)
        jacobians.append(stack([r[i] for r in rows]).reshape(shape) if rows else zeros(shape, dtype=x.dtype))
    return jacobians


def _check_randomness(randomness: str) -> None:
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}"
        )


def jacfwd(
    func: Callable, argnums: int | tuple = 0, has_aux: bool = False, *, randomness: str = "error"
) -> Callable:
    """The Jacobian, as torch.func.jacfwd returns it. ember has no forward mode, so it is
    computed by reverse mode (jacrev): the same numbers, one backward pass per output
    element instead of one forward pass per input element."""
    _check_randomness(randomness)
    return _jacobian_of(func, argnums, has_aux, "jacfwd")


def hessian(func: Callable, argnums: int | tuple = 0) -> Callable:
    """The Hessian of func with respect to the arguments at `argnums` (torch.func.hessian):
    the Jacobian of the Jacobian, of shape out.shape + in.shape + in.shape."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---- vmap: a loop over the batch ------------------------------------------------------------


def vmap(
    func: Callable,
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """func mapped over a dimension of its inputs (torch.func.vmap).

    `in_dims` gives, per argument, the dimension to map over (None: the argument is the
    same for every element), as an int for all arguments or a tree matching them;
    `out_dims` says where the mapped dimension goes in each output (None: the output does
    not depend on the element and is returned once).

    ember calls func once per element, on `x.select(dim, i)`, and stacks the results:
    gradients flow through it, and functions written with any ember ops work. `chunk_size`
    is accepted (every element is its own chunk). `randomness`: "different" draws anew for
    each element, "same" restores the generator before each element, and "error" (the
    default, as in torch) raises if func draws random numbers.
    """
    _check_randomness(randomness)
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
        if not args:
            raise ValueError(
                f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
                "are trying to vmap over a function with no inputs. The latter is unsupported."
            )
        if not (isinstance(in_dims, int) or isinstance(in_dims, tuple)):
            raise ValueError(
                f"{where}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
                f"structure of inputs, got: {type(in_dims)}."
            )
        leaves, spec = _flatten(args)
        dims = _dims_per_leaf(in_dims, args, where, "in_dims")
        batch = _batch_size(leaves, dims, where)
        keeping = _functional._keep_graph_in_vmap[0]
        with _random_policy(randomness) as before_each:
            results = []
            try:
                for b in range(batch):
                    before_each()
                    # a graph made outside lives until the last element (see autograd.grad)
                    _functional._keep_graph_in_vmap[0] = keeping or b < batch - 1
                    sample = [x if d is None else x.select(d, b) for x, d in zip(leaves, dims)]
                    results.append(func(*_unflatten(sample, spec), **kwargs))
            finally:
                _functional._keep_graph_in_vmap[0] = keeping
        return _stack_outputs(results, out_dims, func)

    return wrapper


def _batch_size(leaves: list, dims: list, where: str) -> int:
    sizes = []
    for i, (x, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if not isinstance(x, Tensor):
            raise ValueError(
                f"{where}: Got in_dim={d} for an input but the input is of type {type(x)}. We cannot "
                "vmap over non-Tensor arguments, please use None as the respective in_dim"
            )
        if not -x.dim() <= d < x.dim():
            raise ValueError(
                f"{where}: Got in_dim={d} for some input, but that input is a Tensor of dimensionality "
                f"{x.dim()} so expected in_dim to satisfy {-x.dim()} <= in_dim < {x.dim()}."
            )
        dims[i] = d % x.dim()
        sizes.append(x.shape[dims[i]])
    if not sizes:
        raise ValueError(f"{where}: at least one input must be mapped over (in_dims are all None)")
    if len(set(sizes)) != 1:
        raise ValueError(
            f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes} "
            "for the mapped dimension"
        )
    if sizes[0] == 0:
        raise ValueError(
            "vmap: the mapped dimension has size 0; ember's vmap calls the function once per "
            "element, so it cannot tell the shape of the results of an empty batch"
        )
    return sizes[0]


@contextmanager
def _random_policy(randomness: str):
    """Yields the function to call before each element: it restores the generator for
    "same"; for "error" the generator is checked afterwards, as torch forbids drawing."""
    from ember.random import get_rng_state, set_rng_state

    start = get_rng_state()
    if randomness == "same":
        yield lambda: set_rng_state(start)
        return
    yield lambda: None
    if randomness == "error" and not np.array_equal(get_rng_state().numpy(), start.numpy()):
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use the "
            "'same' or 'different' randomness flags on vmap or perform the randomness operation out of vmap"
        )


def _stack_outputs(results: list, out_dims: Any, func: Callable) -> Any:
    """Stack the per-element outputs along out_dims (or check that an output with out_dim
    None is the same for every element, and return it once)."""
    from ember.ops.api.shape import stack

    flat = [_flatten(r) for r in results]
    leaves0, spec = flat[0]
    dims = _dims_per_leaf(out_dims, results[0], f"vmap({_name(func)}, ...)", "out_dims")
    stacked = []
    for i, d in enumerate(dims):
        column = [leaves[i] for leaves, _ in flat]
        first = column[0]
        if d is None:
            if any(not _same(first, other) for other in column[1:]):
                raise ValueError(
                    f"vmap({_name(func)}, ...): `{_name(func)}` can not return a BatchedTensor when out_dim is None"
                )
            stacked.append(first)
            continue
        if not isinstance(first, Tensor):
            raise ValueError(
                f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type {type(first)}. "
                "Did you mean to set out_dims= to None for output?"
            )
        ndim = first.dim() + 1
        if not -ndim <= d < ndim:  # IndexError, as torch.func's (its dimension check raises)
            raise IndexError(
                f"vmap({_name(func)}, ...): Got out_dim={d} for an output, but that output is a Tensor "
                f"of dimensionality {first.dim()} so expected out_dim to satisfy {-ndim} <= out_dim < {ndim}."
            )
        stacked.append(stack(column, dim=d % ndim))
    return _unflatten(stacked, spec)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a is b or (a.shape == b.shape and bool(np.array_equal(a._data, b._data)))
    return a is b or a == b


# ---- functional_call: a module run with other parameters -----------------------------------


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: dict | Sequence[dict],
    args: Any = None,
    kwargs: dict | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call `module(*args, **kwargs)` with some of its parameters and buffers replaced by the
    tensors of `parameter_and_buffer_dicts` (by dotted name), then put the module's own
    back (torch.func.functional_call). The module is unchanged afterwards.

    With tie_weights, a tensor given for one of several names of a shared parameter is
    used for all of them; with strict, every parameter and buffer must be given and no
    other name.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    else:
        values = {}
        seen: list = []
        for d in parameter_and_buffer_dicts:
            seen += [k for k in d if k in values]
            values.update(d)
        if seen:
            raise ValueError(
                f"{sorted(set(seen))} appeared in multiple dictionaries; behavior of functional call is ambiguous"
            )
    # the swapping itself is nn.utils.stateless's, which torch.func.functional_call replaces
    return _functional_call(module, values, args, kwargs, tie_weights=tie_weights, strict=strict)


# ---- functionalize and the ensembling helpers ---------------------------------------------


def debug_unwrap(tensor: Tensor, *, recurse: bool = True) -> Tensor:
    """The tensor under a transform's wrapper, for looking at in a debugger
    (torch.func.debug_unwrap). ember's transforms run the function on plain tensors, so it
    is the tensor itself."""
    return tensor


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """A function computing what func computes (torch.func.functionalize). PyTorch rewrites
    func's in-place operations (and, with remove="mutations_and_views", its views) as
    out-of-place ones for its compilers; ember has no such compilers, nor a program to
    rewrite, and runs func itself: the results, gradients and the changes made to the
    inputs are the same."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. Valid "
            "options are: 'mutations' (in-place and out= operators replaced by out-of-place ones) and "
            "'mutations_and_views' (views replaced by copies as well)."
        )

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def stack_module_state(models: Sequence[Any]) -> tuple[dict, dict]:
    """The parameters and buffers of `models` (modules of one class, all in training or all
    in eval mode), each stacked along a new first dimension: (params, buffers), dicts by
    name (torch.func.stack_module_state). The stacked parameters are new leaves that require
    grad where the originals do; together with functional_call and vmap they run an ensemble
    of the models as one."""
    from ember.ops.api.shape import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named: Callable) -> dict:
        names = [name for name, _ in named(models[0])]
        tensors = [dict(named(m)) for m in models]
        result = {}
        for name in names:
            values = [t[name] for t in tensors]
            flags = {v.requires_grad for v in values}
            if len(flags) > 1:
                raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
            result[name] = stack([v.detach() for v in values]).requires_grad_(flags.pop())
        return result

    params = stacked(lambda m: m.named_parameters())
    buffers = stacked(lambda m: ((n, b) for n, b in m.named_buffers() if b is not None))
    return params, buffers


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Make every batch-norm layer in `root` (root included) normalise with the statistics of
    the batch it is given and keep no running statistics, in place, and return root
    (torch.func.replace_all_batch_norm_modules_): running statistics updated inside vmap
    would mix the elements of the mapped dimension."""
    from ember.nn.modules.normalization import _BatchNorm

    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


# ---- rearrange: einops' reordering of axes by a pattern ---------------------------------------


def _pattern_side(side: str, where: str) -> list:
    """The groups of one side of a rearrange pattern, each a list of axis names: 'b (h w) c'
    is [['b'], ['h', 'w'], ['c']]. '...' alone is the group "..." (a string: the axes it
    stands for stay apart), '(...)' the group ['...'] (they merge); '1' and '()' are groups
    of no name (axes of size 1)."""
    groups, current = [], None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange(): nested parentheses in the {where} of the pattern")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange(): unbalanced parentheses in the {where} of the pattern")
            groups.append(current)
            current = None
        else:
            names = [] if token == "1" else [token]
            if token not in ("1", "...") and not token.isidentifier():
                raise ValueError(f"rearrange(): {token!r} in the {where} of the pattern is not an axis name")
            if current is not None:
                current += names
            else:
                groups.append("..." if token == "..." else names)
    if current is not None:
        raise ValueError(f"rearrange(): unbalanced parentheses in the {where} of the pattern")
    names = [n for g in groups for n in ([g] if g == "..." else g)]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ValueError(f"Indexing expression contains duplicate dimension '{duplicate}'")
    return groups


def _expand_ellipsis(groups: list, count: int) -> list:
    """'...' replaced by `count` axis names: separate groups where it stands alone, one group
    where it is parenthesised ('(...)' flattens them)."""
    names = [f"...{i}" for i in range(count)]
    out = []
    for g in groups:
        if g == "...":
            out += [[n] for n in names]
        else:
            out.append([m for n in g for m in (names if n == "..." else [n])])
    return out


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> Tensor:
    """Reorder, split and merge the axes of `tensor` as `pattern` says, in einops' notation
    (torch.func.rearrange): "b (h1 h) w c -> (b h1) c h w" splits the second axis in two
    (h1 given as a keyword), moves the axes and merges two. A sequence of tensors is stacked
    first. One reshape, one permute and one reshape: differentiable, a view where possible."""
    from ember.ops.api.shape import stack

    if isinstance(tensor, (list, tuple)):
        tensor = stack(list(tensor))
    left_side, arrow, right_side = pattern.partition("->")
    if not arrow:
        raise ValueError(f"rearrange(): the pattern {pattern!r} has no '->'")
    left, right = _pattern_side(left_side, "left side"), _pattern_side(right_side, "right side")
    ndim = tensor.dim()
    if any("..." in g for g in left):
        count = ndim - (len(left) - 1)
        if count < 0:
            raise ValueError(f"rearrange(): the pattern has more axes than the tensor's {ndim}")
        left, right = _expand_ellipsis(left, count), _expand_ellipsis(right, count)
    if len(left) != ndim:
        raise ValueError(
            f"Number of dimensions in pattern ({len(left)}) must be equal to the number of dimensions "
            f"in the tensor ({ndim})"
        )
    left_names = [n for g in left for n in g]
    right_names = [n for g in right for n in g]
    one_sided = set(left_names) ^ set(right_names)
    if one_sided:
        raise ValueError(
            f"Identifiers only on one side of rearrange expression (should be on both): {one_sided}"
        )
    unused = set(axes_lengths) - set(left_names)
    if unused:
        raise ValueError(f"Identifiers not found in rearrange expression: {unused}")
    sizes = {}
    for group, size in zip(left, tensor.shape):
        unknown = [n for n in group if n not in axes_lengths]
        known = math.prod(axes_lengths[n] for n in group if n in axes_lengths)
        if len(unknown) > 1:
            raise ValueError(f"rearrange(): cannot infer the sizes of {unknown} from one axis of size {size}")
        if (size % known if unknown else size != known) or (not group and size != 1):
            raise ValueError(
                f"rearrange(): an axis of size {size} cannot be split into {group} with sizes {axes_lengths}"
            )
        sizes.update({n: axes_lengths[n] for n in group if n in axes_lengths})
        sizes.update({n: size // known for n in unknown})
    elementary = tensor.reshape([sizes[n] for n in left_names])
    moved = elementary.permute([left_names.index(n) for n in right_names])
    return moved.reshape([math.prod(sizes[n] for n in g) for g in right])
