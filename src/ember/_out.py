"""The `out=` argument of PyTorch's functions: `torch.mul(a, b, out=c)` writes the product
into `c` and returns `c`.

ember's functions compute a new result; the functions that take `out=` in PyTorch are
wrapped here, in the `ember`, `ember.linalg` and `ember.special` namespaces only, so that
they also write the result into a given tensor. A Tensor method (`x.mul(y)`) and an
operator (`x * y`) never take `out=` and stay unwrapped, and so does every function's own
module: the wrapper's call costs about 0.2 µs, paid only by calls spelt `ember.mul(...)`.

What PyTorch does, and ember with it:

- `out` is written in place and returned; its version counter moves, so a graph that saved
  it refuses to backpropagate through the old values.
- A result that needs a gradient cannot go into `out` (PyTorch's autograd does not support
  `out=`), nor can `out` itself be a tensor that requires grad, while grad mode is on.
- The result is cast to `out`'s dtype where PyTorch's promotion allows a cast (an integer
  into a float tensor, not a float into an integer tensor). Many functions (matmul, sort,
  gather, abs, round, clamp, where, the linalg ones, ...: `EXACT`) write only a result of
  `out`'s own dtype, and the sums and products (`IN_OUT_DTYPE`) compute in `out`'s dtype,
  as if it were given as `dtype=` (`sum(x, 0, out=long_tensor)` sums x made int64); mean,
  nanmean, std, var and logsumexp compute in a float32, float64 or complex out's dtype
  (`IN_FLOAT_OUT_DTYPE`).
- An `out` of another shape is resized, with PyTorch's deprecation warning unless it was
  empty. A view of another tensor cannot be resized: ember refuses it with a clear error.
- Functions with several results (`max(x, dim)`, `sort`, `topk`, `linalg.qr`, ...) take a
  tuple or list of tensors, one for each, and return their named tuple.
- The factories (`zeros`, `arange`, `rand`, ...) take their dtype from `out` when none is
  given, and refuse a dtype that differs from it.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ember import _numpy_names, dtypes, return_types
from ember._tensor import Tensor
from ember.autograd.grad_mode import is_grad_enabled

# The functions of torch 2.13 that take out= and that ember has: found by calling each of
# PyTorch's functions with out= (a scratch script; tests/test_out.py checks a sample of
# them against PyTorch and every name here for the keyword).
TOP_LEVEL = """
abs absolute acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin aminmax
angle any arange arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin asin
asinh atan atan2 atanh baddbmm bernoulli bitwise_and bitwise_left_shift bitwise_not
bitwise_or bitwise_right_shift bitwise_xor bmm bucketize cat ceil chain_matmul cholesky
cholesky_inverse cholesky_solve clamp clamp_max clamp_min clip column_stack complex concat
concatenate conj_physical copysign cos cosh cross cummax cummin cumprod cumsum deg2rad diag
diff digamma div divide dot dstack empty eq erf erfc erfinv exp exp2 expm1 eye fix
float_power floor floor_divide fmax fmin fmod frac frexp frobenius_norm full gather gcd ge geqrf ger greater
greater_equal gt hardshrink heaviside histc histogram hstack hypot i0 igamma igammac
index_add index_copy index_reduce index_select inner inverse isin isneginf isposinf kron
kthvalue lcm ldexp le lerp less less_equal lgamma linspace log log10 log1p log2 log_softmax
logaddexp logaddexp2 logcumsumexp logical_and logical_not logical_or logical_xor logit
logspace logsumexp lt lu_solve lu_unpack masked_select matmul matrix_power max maximum mean median min minimum
mm mode msort mul multinomial multiply mv mvlgamma nan_to_num nanmean nanmedian nanquantile
nansum ne neg negative nextafter nonzero norm normal not_equal nuclear_norm ones orgqr ormqr outer polar polygamma pow prod
qr quantile rad2deg rand randint randn randperm range reciprocal remainder renorm round
row_stack rsqrt scatter scatter_add scatter_reduce searchsorted sgn sigmoid sign signbit sin
sinc sinh slice_scatter softmax sort sqrt square stack std sub subtract sum svd take
take_along_dim tan tanh tensordot threshold topk triangular_solve tril triu true_divide trunc var
vdot vstack
where xlogy zeros
""".split()

LINALG = """
cholesky cholesky_ex cond cross det eig eigh eigvals eigvalsh householder_product inv inv_ex
ldl_factor ldl_factor_ex ldl_solve matmul matrix_norm matrix_power lu lu_factor lu_factor_ex lu_solve
matrix_rank multi_dot norm pinv qr slogdet solve solve_ex solve_triangular svd
svdvals tensorinv tensorsolve vecdot vector_norm
""".split()

SPECIAL = """
airy_ai bessel_j0 bessel_j1 bessel_y0 bessel_y1 chebyshev_polynomial_t chebyshev_polynomial_u
chebyshev_polynomial_v chebyshev_polynomial_w digamma entr erf erfc erfcx erfinv exp2 expit
expm1 gammainc gammaincc gammaln hermite_polynomial_h hermite_polynomial_he i0 i0e i1 i1e
laguerre_polynomial_l legendre_polynomial_p log1p log_ndtr logit logsumexp modified_bessel_i0
modified_bessel_i1 modified_bessel_k0 modified_bessel_k1 multigammaln ndtr ndtri polygamma psi
round scaled_modified_bessel_k0 scaled_modified_bessel_k1 shifted_chebyshev_polynomial_t
shifted_chebyshev_polynomial_u shifted_chebyshev_polynomial_v shifted_chebyshev_polynomial_w
sinc spherical_bessel_j0 xlog1py xlogy zeta
""".split()

FFT = """
fft ifft fft2 ifft2 fftn ifftn rfft irfft rfft2 irfft2 rfftn irfftn hfft ihfft hfft2 ihfft2
hfftn ihfftn fftfreq rfftfreq
""".split()

# The functions that write only a result of out's own dtype in PyTorch 2.13, found by calling
# each with an out of another dtype (a float64 out for a float32 result, and so on); every
# function of ember.linalg is one but `LINALG_CASTING`'s. max, min, median and nanmedian are,
# in their forms with (values, indices) results, and the clamps with number bounds.
EXACT = frozenset(
    """
abs absolute addbmm addmm addmv aminmax amax amin argmax argmin baddbmm bmm bucketize ceil
chain_matmul complex conj_physical cross cummax cummin diag dot
fix floor frac frexp frobenius_norm gather hardshrink heaviside histc index_add index_copy
index_reduce index_select inner inverse kthvalue log_softmax logcumsumexp masked_select
matmul mm mode msort multinomial mv nan_to_num nanquantile neg negative nonzero norm
nuclear_norm polar quantile renorm round scatter scatter_add scatter_reduce searchsorted sgn
sign slice_scatter softmax sort take take_along_dim tensordot topk tril triu trunc vdot where
isin isneginf isposinf signbit
""".split()
)
_EXACT_TUPLES = frozenset("max min median nanmedian".split())
_EXACT_WITH_NUMBERS = frozenset("clamp clamp_max clamp_min clip".split())
# lerp is exact only with a weight tensor of one or more dims (a number or 0-d weight: cast);
# all and any write into a bool or uint8 out, whatever their result's dtype
_EXACT_WITH_WEIGHT = frozenset({"lerp"})
_BOOL_OR_BYTE = frozenset("all any".split())
LINALG_CASTING = frozenset("cond pinv tensorinv".split())
# the reductions that compute in out's dtype (a `dtype=` given with out must equal it)
IN_OUT_DTYPE = frozenset("sum nansum prod cumsum cumprod".split())
# the float reductions that compute in a floating or complex out's dtype (mean of a float32
# tensor into a float64 out sums in float64, as PyTorch); nansum and nanmean refuse an integer,
# bool or complex out for a float input, and std, var a complex out for a real input
IN_FLOAT_OUT_DTYPE = frozenset("mean nanmean std var logsumexp".split())
_NANSUM_KERNEL = frozenset("nansum nanmean".split())
_FULL_FLOATS = frozenset((dtypes.float32, dtypes.float64, dtypes.complex64, dtypes.complex128))

# the factories whose dtype comes from out when the call names none
FACTORIES = frozenset(
    "zeros ones empty full arange range linspace logspace eye rand randn randint randperm fftfreq rfftfreq".split()
)


_WRAPPED: dict = {}  # function -> its wrapper: aliases (arcsin and asin) stay one function


def install(namespace: dict, names: list[str], exact: bool = False) -> None:
    """Replace each function `names` lists in `namespace` by one that also takes out=
    (`exact`: each writes only a result of out's own dtype, as EXACT's do)."""
    for name in names:
        fn = namespace[name]
        if fn not in _WRAPPED:
            wrapper = _WRAPPED[fn] = accepting_out(
                fn, name, (exact and name not in LINALG_CASTING) or name in EXACT
            )
            # found where it is installed, so that pickle (a DataLoader's spawned workers
            # given collate_fn=ember.stack, say) finds this object again by its name
            wrapper.__module__, wrapper.__qualname__ = namespace["__name__"], name
        namespace[name] = _WRAPPED[fn]


def accepting_out(fn: Callable[..., Any], name: str, exact: bool = False) -> Callable[..., Any]:
    """`fn`, taking a keyword `out` besides its own arguments (`exact`: out must have the
    result's own dtype)."""
    factory = name in FACTORIES
    in_out_dtype = name in IN_OUT_DTYPE
    in_float_out_dtype = name in IN_FLOAT_OUT_DTYPE or name == "nansum"
    exact_tuples = exact or name in _EXACT_TUPLES
    with_numbers = name in _EXACT_WITH_NUMBERS
    with_weight = name in _EXACT_WITH_WEIGHT
    bool_or_byte = name in _BOOL_OR_BYTE
    numpy_names = _numpy_names.takes_torch_names(name, fn)  # axis and keepdims, renamed here

    @functools.wraps(fn)
    def call(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if numpy_names and kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            kwargs = _numpy_names.renamed(name, kwargs)
        if out is None:
            return fn(*args, **kwargs)
        if factory:
            _dtype_from(out, kwargs, name)
        elif in_float_out_dtype and isinstance(out, Tensor) and args and isinstance(args[0], Tensor):
            args = (_computed_in(name, args[0], out, kwargs), *args[1:])
        if in_out_dtype and isinstance(out, Tensor):
            given = kwargs.get("dtype")
            if given is None:
                kwargs["dtype"] = out.dtype
            elif dtypes.to_numpy_dtype(given) != out._data.dtype:
                _wrong_dtype(name, dtypes.to_numpy_dtype(given), out._data.dtype)
        result = fn(*args, **kwargs)
        if exact_tuples and (exact or isinstance(result, tuple)):
            _check_exact(name, out, result)
        elif with_numbers and not any(isinstance(a, Tensor) for a in (*args[1:], *kwargs.values())):
            _check_exact(name, out, result)
        elif with_weight and getattr(args[2] if len(args) > 2 else kwargs.get("weight"), "ndim", 0):
            _check_exact(name, out, result)
        elif bool_or_byte and isinstance(out, Tensor) and out._data.dtype not in (np.bool_, np.uint8):
            raise RuntimeError(f"{name} only supports bool tensor for result, got: {_name(out.dtype)}")
        return _write(name, out, result)

    call.__signature__ = _with_out(fn)  # type: ignore[attr-defined]  # help() and IDEs show out
    return call


def _with_out(fn: Callable[..., Any]) -> inspect.Signature | None:
    """fn's signature with a keyword-only `out=None` (before a **kwargs)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    out = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
    at = len(params) - (params and params[-1].kind is inspect.Parameter.VAR_KEYWORD)
    return signature.replace(parameters=params[:at] + [out] + params[at:])


def _dtype_from(out: Any, kwargs: dict, name: str) -> None:
    """A factory's dtype: out's, which a dtype given in the call must equal."""
    if not isinstance(out, Tensor):
        return  # _write raises the type error
    wanted = out.dtype
    given = kwargs.get("dtype")
    if given is None:
        kwargs["dtype"] = wanted
    elif given != wanted:
        raise RuntimeError(
            f"{name}(): dtype {_name(given)} does not match dtype of out parameter ({_name(wanted)})"
        )


def _computed_in(name: str, input: Tensor, out: Tensor, kwargs: dict) -> Tensor:
    """`input` cast to the dtype a float reduction computes in for `out` (IN_FLOAT_OUT_DTYPE):
    out's own where it is float32, float64 or complex. An integer or bool out is left to
    _write's casting error, which PyTorch gives too, and a half out to the function's own
    dtype (PyTorch accumulates halves in float32, which a cast to half here would not)."""
    got, kind = out._data.dtype, out._data.dtype.kind
    real_input = input._data.dtype.kind in "fV"
    if name in _NANSUM_KERNEL and real_input and kind not in "fV":
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{dtypes.scalar_type_name(got)}'")
    if name == "nanmean" and input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if name in ("std", "var") and kind == "c" and real_input:
        raise NotImplementedError(f"\"std_cpu\" not implemented for '{dtypes.scalar_type_name(got)}'")
    if name == "logsumexp" and kind not in "fcV":
        raise RuntimeError(
            f"logsumexp(): Expected floating point type for result tensor, but got: {dtypes.scalar_type_name(got)}"
        )
    if name in ("mean", "nanmean"):
        given = kwargs.get("dtype")
        if given is not None and kind in "fcV" and dtypes.to_numpy_dtype(given) != got:
            _wrong_dtype(name, dtypes.to_numpy_dtype(given), got)
    wanted = dtypes.from_numpy_dtype(got)
    if name == "nansum" or wanted not in _FULL_FLOATS or not (real_input or input._data.dtype.kind == "c"):
        return input  # nansum: dtype= casts it; an integer input: the function's own error
    if input._data.dtype.kind == "c" and kind != "c" and name != "mean":
        wanted = wanted.to_complex()  # std of a complex tensor is real: computed at out's precision
    elif kind == "c" and name == "logsumexp":
        if not real_input:
            return input  # a complex input: logsumexp's own error, never its real part alone
        wanted = wanted.to_real()
    return input.to(wanted)


def _check_exact(name: str, out: Any, result: Any) -> None:
    """Refuse an out (or one of a tuple of outs) whose dtype is not its result's."""
    pairs = (
        zip(out, result) if isinstance(result, tuple) and isinstance(out, (tuple, list)) else [(out, result)]
    )
    for o, r in pairs:
        if isinstance(o, Tensor) and isinstance(r, Tensor) and o._data.dtype != r._data.dtype:
            _wrong_dtype(name, r._data.dtype, o._data.dtype)


def _wrong_dtype(name: str, wanted: np.dtype, got: np.dtype) -> None:
    raise RuntimeError(
        f"{name}(): Expected out tensor to have dtype {dtypes.scalar_type_name(wanted)}, but got "
        f"{dtypes.scalar_type_name(got)} instead (this function writes only a result of out's own "
        "dtype: cast the result after the call instead)"
    )


def _name(d: Any) -> str:
    return dtypes.scalar_type_name(dtypes.to_numpy_dtype(d))


def _write(name: str, out: Any, result: Any) -> Any:
    """Write `result` (a Tensor or a tuple of them) into `out` and return out."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(
                f"{name}(): out must be a tuple or list of {len(result)} tensors for its "
                f"{len(result)} results, not {type(out).__name__}"
            )
        written = tuple(_write_one(name, o, r) for o, r in zip(out, result))
        if not hasattr(result, "_fields"):
            return written
        return return_types.return_type(type(result).__name__ + "_out")(*written)  # max_out, as PyTorch
    return _write_one(name, out, result)


def _write_one(name: str, out: Any, result: Any) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if is_grad_enabled() and (out.requires_grad or (isinstance(result, Tensor) and result.requires_grad)):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    data = result._data if isinstance(result, Tensor) else np.asarray(result)
    target = out._data
    if data.dtype != target.dtype and not dtypes.can_cast(
        dtypes.from_numpy_dtype(data.dtype), dtypes.from_numpy_dtype(target.dtype)
    ):
        raise RuntimeError(
            f"{name}(): result type {dtypes.scalar_type_name(data.dtype)} can't be cast to the "
            f"desired output type {dtypes.scalar_type_name(target.dtype)}"
        )
    if target.shape != data.shape:
        if out._base is not None:
            raise RuntimeError(
                f"{name}(): out has shape {list(target.shape)}, a view of another tensor, and the "
                f"result has shape {list(data.shape)}; a view cannot be resized: pass a tensor of "
                "the result's shape, or one with no elements"
            )
        if target.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(target.shape)}, which does not match the required output shape "
                f"{list(data.shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with t.resize_(0).",
                UserWarning,
                stacklevel=4,
            )
        out._data = target = np.empty(data.shape, target.dtype)
    np.copyto(target, data, casting="unsafe")
    out._version_cell[0] += 1
    return out
