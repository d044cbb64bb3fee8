"""ember: a deep-learning framework on NumPy with PyTorch's API.

import ember as torch   # PyTorch-style code runs unchanged
"""

import math as _math
import warnings as _warnings

# Subpackages: each imports the modules it needs directly, so the order here does not matter.
# The optional ones (see _LAZY_MODULES below) are imported on first use instead.
from ember import (
    __future__,
    _numpy_names,
    _out,
    accelerator,
    autograd,
    backends,
    compiler,
    cuda,
    dtypes,
    futures,
    linalg,
    nn,
    optim,
    overrides,
    return_types,
    sparse,  # (eager: it gives Tensor its to_sparse and sparse_mask methods)
    special,
    types,
    utils,
)
from ember._compile import compile

# torch.cond and torch.while_loop, run eagerly
from ember._control_flow import cond, while_loop
from ember._format import set_printoptions
from ember._layout import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    memory_format,
    preserve_format,
    sparse_bsc,
    sparse_bsr,
    sparse_coo,
    sparse_csc,
    sparse_csr,
    strided,
)

# the legacy tensor types of older code (torch.FloatTensor([1, 2]), isinstance(x, torch.LongTensor))
from ember._legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    set_default_tensor_type,
)

# process-wide settings (threads, matmul precision, determinism, default device)
from ember._settings import (
    are_deterministic_algorithms_enabled,
    get_default_device,
    get_deterministic_debug_mode,
    get_float32_matmul_precision,
    get_num_interop_threads,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    is_warn_always_enabled,
    set_default_device,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_flush_denormal,
    set_num_interop_threads,
    set_num_threads,
    set_warn_always,
    use_deterministic_algorithms,
)
from ember._storage import TypedStorage, UntypedStorage
from ember._tensor import Size, Tensor, device
from ember.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from ember.autograd.functional import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled
from ember.creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ember.dtypes import (
    bfloat16,
    bool,
    can_cast,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)

# the losses and distances PyTorch also has at the top level (torch.margin_ranking_loss, ...)
from ember.nn._functional.loss_toplevel import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    poisson_nll_loss,
    triplet_margin_loss,
)
from ember.nn._functional.normalization import cosine_similarity, pairwise_distance
from ember.nn._functional.shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from ember.ops.api import copies as _copies
from ember.ops.api.arith import (
    abs,
    absolute,
    add,
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    div,
    divide,
    eq,
    equal,
    exp,
    expm1,
    floor,
    floor_divide,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    multiply,
    ne,
    neg,
    negative,
    not_equal,
    pow,
    reciprocal,
    relu,
    remainder,
    result_type,
    round,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    subtract,
    tan,
    tanh,
    true_divide,
    where,
)
from ember.ops.api.arrange import (
    block_diag,
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    column_stack,
    diag,
    diag_embed,
    diagonal,
    diff,
    dstack,
    hsplit,
    meshgrid,
    rot90,
    row_stack,
    tensor_split,
    tile,
    trace,
    tril_indices,
    triu_indices,
    vsplit,
)

# the answers of a CPU tensor to PyTorch's device and lazy-view questions, and other names
# for existing work: ops/api/compat.py
from ember.ops.api.compat import (
    adjoint,
    asarray,
    chain_matmul,
    detach_,
    dsplit,
    empty_permuted,
    empty_strided,
    fill,
    from_file,
    frombuffer,
    ger,
    get_device,
    is_storage,
    narrow_copy,
    unsafe_chunk,
    unsafe_split,
    unsafe_split_with_sizes,
)

# complex numbers: ops/api/complex.py
from ember.ops.api.complex import (
    angle,
    complex,
    conj,
    conj_physical,
    conj_physical_,
    imag,
    is_complex,
    is_conj,
    is_neg,
    isreal,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    view_as_complex,
    view_as_real,
)

# (the in-place forms are also top-level, torch.cos_(x) as x.cos_())
from ember.ops.api.convert import (
    abs_,
    acos_,
    acosh_,
    addmv_,
    arccos_,
    arccosh_,
    arcsin_,
    arcsinh_,
    arctan_,
    arctanh_,
    asin_,
    asinh_,
    atan_,
    atanh_,
    ceil_,
    clamp_,
    clamp_max_,
    clamp_min_,
    clip_,
    clone,
    cos_,
    cosh_,
    deg2rad_,
    detach,
    exp2_,
    exp_,
    expm1_,
    fill_,
    floor_,
    is_floating_point,
    is_tensor,
    log1p_,
    log2_,
    log10_,
    log_,
    neg_,
    negative_,
    numel,
    rad2deg_,
    reciprocal_,
    relu_,
    round_,
    rsqrt_,
    sigmoid_,
    sin_,
    sinh_,
    sqrt_,
    square_,
    tan_,
    tanh_,
    zero_,
)

# each view op's result copied into new memory (torch.t_copy, torch.select_copy, ...)
from ember.ops.api.copies import (
    alias_copy,
    as_strided_copy,
    detach_copy,
    diagonal_copy,
    expand_copy,
    permute_copy,
    select_copy,
    slice_copy,
    split_copy,
    split_with_sizes_copy,
    squeeze_copy,
    t_copy,
    transpose_copy,
    unbind_copy,
    unfold_copy,
    unsqueeze_copy,
    view_copy,
)
from ember.ops.api.extra import (
    bitwise_left_shift,
    bitwise_right_shift,
    index_put,
    index_put_,
    is_inference,
    masked_scatter,
    repeat_interleave,
)
from ember.ops.api.factor import geqrf, orgqr, ormqr
from ember.ops.api.indexing import (
    argsort,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    sort,
    take,
    take_along_dim,
    topk,
)
from ember.ops.api.linalg import cdist, dist, inner, mv, pdist, renorm
from ember.ops.api.lowrank import lobpcg, pca_lowrank, svd_lowrank

# matrix functions (ember.linalg has them under PyTorch's linalg names)
from ember.ops.api.matrix import (
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    det,
    inverse,
    logdet,
    lu,
    lu_solve,
    lu_unpack,
    matrix_exp,
    matrix_power,
    pinverse,
    qr,
    slogdet,
    svd,
    triangular_solve,
)

# small functions and methods, and compositions of existing ops: ops/api/more.py
from ember.ops.api.more import (
    _assert,
    addbmm,
    addr,
    argwhere,
    as_strided_,
    diagflat,
    fliplr,
    flipud,
    frexp,
    gcd,
    gcd_,
    is_nonzero,
    is_same_size,
    is_signed,
    lcm,
    lcm_,
    ldexp,
    ldexp_,
    msort,
    nextafter,
    nonzero_static,
    positive,
    ravel,
    resize_as_,
    scalar_tensor,
    split_with_sizes,
    typename,
    vdot,
)

# the trapezoidal rule, vander, unravel_index, window functions, range: ops/api/numeric.py
from ember.ops.api.numeric import (
    bartlett_window,
    blackman_window,
    cumulative_trapezoid,
    gradient,
    hamming_window,
    hann_window,
    histogram,
    histogramdd,
    kaiser_window,
    range,
    trapezoid,
    trapz,
    unravel_index,
    vander,
)
from ember.ops.api.oldlinalg import eig, frobenius_norm, lstsq, matrix_rank, nuclear_norm, solve, symeig
from ember.ops.api.products import (
    addmm,
    addmv,
    baddbmm,
    bmm,
    cross,
    dot,
    einsum,
    kron,
    log_softmax,
    matmul,
    mm,
    outer,
    softmax,
    tensordot,
)
from ember.ops.api.reduce import (
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    count_nonzero,
    cummax,
    cummin,
    cumprod,
    cumsum,
    hash_tensor,
    logcumsumexp,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    segment_reduce,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from ember.ops.api.sampling import binomial, poisson
from ember.ops.api.scatter import (
    as_strided_scatter,
    diagonal_scatter,
    index_reduce,
    put,
    scatter_reduce,
    select_scatter,
    slice_scatter,
)
from ember.ops.api.shape import (
    as_strided,
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    flatten,
    flip,
    hstack,
    moveaxis,
    movedim,
    narrow,
    permute,
    repeat,
    reshape,
    roll,
    select,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)

# the special functions (lgamma, digamma, polygamma, i0, ...) and cov, corrcoef, combinations,
# atleast_1d/2d/3d, isposinf, isneginf: ops/api/specfun.py
from ember.ops.api.specfun import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    combinations,
    corrcoef,
    cov,
    digamma,
    erf_,
    erfc_,
    i0,
    i0_,
    igamma,
    igammac,
    isneginf,
    isposinf,
    lgamma,
    logit_,
    mvlgamma,
    polygamma,
    sinc_,
    xlogy_,
)
from ember.ops.api.special import (
    acos,
    acosh,
    addcdiv,
    addcmul,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    copysign,
    cosh,
    deg2rad,
    erf,
    erfc,
    erfinv,
    exp2,
    fix,
    fix_,
    float_power,
    fmax,
    fmin,
    fmod,
    frac,
    frac_,
    heaviside,
    hypot,
    lerp,
    logaddexp,
    logaddexp2,
    logit,
    nan_to_num,
    nan_to_num_,
    rad2deg,
    sgn,
    signbit,
    sinc,
    sinh,
    trunc,
    trunc_,
    xlogy,
)
from ember.ops.api.spectral import istft, stft
from ember.ops.api.stats import (
    bincount,
    bucketize,
    histc,
    isin,
    kthvalue,
    median,
    mode,
    nanmedian,
    nanquantile,
    quantile,
    searchsorted,
    unique,
    unique_consecutive,
)
from ember.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ember.sparse import (
    hspmm,
    smm,
    sparse_compressed_tensor,
    sparse_coo_tensor,
    sparse_csc_tensor,
    sparse_csr_tensor,
    spmm,
    sspaddmm,
)
from ember.utils.dlpack import from_dlpack, to_dlpack

# isort: split
# the pooling and dropout functions torch also has at its top level, with their signatures there
from ember.nn._functional.toplevel import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    alpha_dropout,
    alpha_dropout_,
    avg_pool1d,
    dropout,
    dropout_,
    feature_alpha_dropout,
    feature_alpha_dropout_,
    feature_dropout,
    feature_dropout_,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool3d,
)

# isort: split
# rms_norm, which torch also has at its top level
from ember.nn._functional.normalization import rms_norm

# isort: split
# the convolutions, activations and normalizations torch has at its top level
from ember.nn._functional.toplevel_layers import (
    batch_norm,
    bilinear,
    celu,
    celu_,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    group_norm,
    hardshrink,
    instance_norm,
    layer_norm,
    prelu,
    rrelu,
    rrelu_,
    selu,
    selu_,
    threshold,
    threshold_,
)

# isort: split
# the functions torch has at its top level under their ATen names and signatures (integer
# reductions and modes, the native_* normalizations returning their statistics)
from ember.nn._functional.native import (
    affine_grid_generator,
    batch_norm_update_stats,
    binary_cross_entropy_with_logits,
    constant_pad_nd,
    conv_tbc,
    convolution,
    ctc_loss,
    embedding,
    embedding_bag,
    embedding_renorm_,
    grid_sampler,
    grid_sampler_2d,
    grid_sampler_3d,
    kl_div,
    native_batch_norm,
    native_channel_shuffle,
    native_dropout,
    native_group_norm,
    native_layer_norm,
    norm_except_dim,
)

# isort: split
# the recurrent layers' functional forms (torch.lstm, torch.gru_cell, ...)
from ember.nn._functional.recurrent import (
    gru,
    gru_cell,
    lstm,
    lstm_cell,
    rnn_relu,
    rnn_relu_cell,
    rnn_tanh,
    rnn_tanh_cell,
)

# isort: split
# torch.func's function transforms (grad, vmap, functional_call, ...): ember.func
from ember import func

# isort: split
# mixed precision (torch.amp, torch.autocast, torch.cpu), TorchScript's entry points (torch.jit),
# ONNX export's (torch.onnx), which raises, and torch.distributed without a process group
from ember import amp, cpu, distributed, jit, onnx

# isort: split
# torch.multiprocessing, which registers how tensors travel between processes (after nn: it
# registers Parameter's and Buffer's reductions too)
from ember import multiprocessing
from ember.amp.autocast_mode import (
    autocast,
    clear_autocast_cache,
    get_autocast_dtype,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from ember.amp.grad_scaler import GradScaler  # torch.GradScaler is torch.amp.GradScaler

# isort: split
# torch.Stream and torch.Event, as PyTorch's CPU has them
from ember._stream import Event, Stream

# isort: split
# the deprecated per-device autocast functions (torch.get_autocast_cpu_dtype, ...)
from ember._autocast_legacy import (
    autocast_decrement_nesting,
    autocast_increment_nesting,
    get_autocast_cpu_dtype,
    get_autocast_gpu_dtype,
    get_autocast_ipu_dtype,
    get_autocast_xla_dtype,
    is_autocast_cpu_enabled,
    is_autocast_ipu_enabled,
    is_autocast_xla_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_gpu_dtype,
    set_autocast_ipu_dtype,
    set_autocast_ipu_enabled,
    set_autocast_xla_dtype,
    set_autocast_xla_enabled,
)

__version__ = "0.1.0"

# PyTorch's numeric constants (torch.pi, torch.inf, ...), and newaxis, which is None
pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
newaxis = None

vmap = func.vmap  # torch.vmap, torch.func's

# prelu and hardshrink are Tensor methods too (x.prelu(weight)); they live in nn, above Tensor
Tensor.prelu = prelu  # type: ignore[attr-defined]
Tensor.hardshrink = hardshrink  # type: ignore[attr-defined]

# out=: the functions PyTorch gives an `out` argument write their result into it (ember/_out.py);
# in these namespaces only, so Tensor methods and the functions' own modules stay unwrapped
_out.install(globals(), _out.TOP_LEVEL)
_out.install(globals(), _copies.TAKE_OUT)
_out.install(vars(linalg), _out.LINALG, exact=True)
_out.install(vars(special), _out.SPECIAL)  # (fft's: by ember.fft itself, which loads lazily)

# NumPy's names: the functions and Tensor methods taking `dim` or `keepdim` accept `axis` and
# `keepdims` too, as PyTorch's argument parser does (ember/_numpy_names.py)
_numpy_names.install(globals())
_numpy_names.install_methods(Tensor)

# NumPy reports an inf or NaN made by arithmetic (x / 0, log(0), 0 * inf) with a
# RuntimeWarning; PyTorch returns the same inf or NaN without a word, and so does ember. The
# filter covers warnings raised in ember's own modules only: the user's NumPy code keeps them.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.")

# __torch_function__: nothing dispatches until a class takes part or a mode is entered; a
# class statement that defines one (not a Tensor subclass: __init_subclass__ sees those)
# is watched for until then (ember/overrides.py)
overrides.watch_class_statements()

# Optional parts, imported on first use (PEP 562): `ember.datasets.MNIST`, `import
# ember.datasets`, `from ember.datasets import MNIST` and `from ember import save` work as if
# they were imported here, and `import ember` does not pay for them (urllib and http for the
# downloads, the distributions, the model zoo...). Submodules, then names from them.
_LAZY_MODULES = frozenset(
    {
        "_C",
        "datasets",
        "distributions",
        "fft",
        "hub",
        "library",
        "masked",
        "models",
        "profiler",
        "quasirandom",
        "serialization",
        "signal",
        "testing",
        "transforms",
        "version",
    }
)
_LAZY_NAMES = {
    "load": "ember.serialization",
    "save": "ember.serialization",
}


def __getattr__(name: str) -> object:
    """An optional submodule or one of its names, imported now (it stays a global after)."""
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"ember.{name}")  # (importing sets it as a global)
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        if _numpy_names.takes_torch_names(name, value):  # as _numpy_names.install would
            value = _numpy_names._wrapper(value, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_MODULES | set(_LAZY_NAMES))


__all__ = sorted(name for name in set(dir()) | _LAZY_MODULES | set(_LAZY_NAMES) if not name.startswith("_"))
