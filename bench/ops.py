"""Single ops, ember vs PyTorch, in one process: a sweep for the slow ones.

About 190 cases (most of them one op each) at sizes a course's models use ((64, 256)
float32 matrices, (16, 3, 32, 32) images, (8, 32, 64) sequences): elementwise math,
reductions, indexing, shape ops, products, nn.functional, creation, linalg, fft,
distributions and the DataLoader's collate. Each op is timed forward, and forward+backward
(a sum of the first output, then `.backward()`) where it is differentiable. Both libraries
get the same NumPy data. Rounds are interleaved (ember then PyTorch, case by case) and the
table, sorted by ember's time over PyTorch's, gives medians and the median of the
per-round ratios.

Times are CPU time of the process (time.process_time) by default, steadier than the wall
clock on a shared machine; --wall uses the wall clock. For a fair comparison run both
libraries on one thread: the script calls torch.set_num_threads(1), and NumPy's BLAS
threads are set by the environment before Python starts:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/ops.py [--rounds N] [--filter TEXT]
        [--min-ratio R] [--wall] [--json PATH]

A ratio well above 1 on a large op points at ember's own code (a Python loop over rows, a
needless copy); on the small ones (a few µs in PyTorch) it is mostly ember's per-call
Python overhead, the cost core.py measures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import ember

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the sweep needs both libraries
    torch = None

RNG = np.random.default_rng(0)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def positive(*shape: int) -> np.ndarray:
    return (RNG.random(shape) + 0.5).astype(np.float32)


def ints(high: int, *shape: int) -> np.ndarray:
    return RNG.integers(0, high, shape).astype(np.int64)


# The data: NumPy arrays, turned into each library's tensors once per case. Float arrays
# require grad in the forward+backward cases; integer and bool arrays never do.
A = randn(64, 256)
B = randn(64, 256)
P = positive(64, 256)
ROW = randn(256)
W = randn(256, 128)
IMG = randn(16, 3, 32, 32)
FEAT = randn(16, 16, 16, 16)
SEQ = randn(8, 32, 64)
SEQ2 = randn(8, 64, 32)
SQ = randn(64, 64)
SPD = (SQ @ SQ.T / 64 + np.eye(64, dtype=np.float32)).astype(np.float32)
ROWS = ints(64, 100)
COLS = ints(256, 64, 256)
MASK = RNG.random((64, 256)) > 0.5
LABELS = ints(10, 64)
LOGITS = randn(64, 10)
TOKENS = ints(1000, 64, 32)
TABLE = randn(1000, 64)


def _tensor(T, a: np.ndarray, grad: bool):
    t = T.tensor(a)
    if grad and a.dtype.kind == "f":
        t.requires_grad_(True)
    return t


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


# name -> (function of (T, F, *tensors), input arrays, differentiable)
CASES: dict[str, tuple] = {}


def case(name: str, *arrays: np.ndarray, grad: bool = True):
    def register(fn):
        CASES[name] = (fn, arrays, grad)
        return fn

    return register


# --- elementwise ---------------------------------------------------------------------
for _name, _fn in {
    "add": lambda T, F, a, b: a + b,
    "mul": lambda T, F, a, b: a * b,
    "div": lambda T, F, a, b: a / (b.abs() + 1),
    "maximum": lambda T, F, a, b: T.maximum(a, b),
    "atan2": lambda T, F, a, b: T.atan2(a, b),
    "lerp": lambda T, F, a, b: T.lerp(a, b, 0.3),
    "add row (broadcast)": lambda T, F, a, b: a + b[0],
}.items():
    case(_name, A, B)(_fn)
for _name, _fn in {
    "exp": lambda T, F, a: a.exp(),
    "tanh": lambda T, F, a: a.tanh(),
    "sigmoid": lambda T, F, a: a.sigmoid(),
    "sin": lambda T, F, a: a.sin(),
    "abs": lambda T, F, a: a.abs(),
    "pow 3": lambda T, F, a: a**3,
    "pow 4": lambda T, F, a: a**4,
    "clamp": lambda T, F, a: a.clamp(-0.5, 0.5),
    "erf": lambda T, F, a: T.erf(a),
    "sign": lambda T, F, a: a.sign(),
    "round": lambda T, F, a: a.round(),
    "x * 2 + 1": lambda T, F, a: a * 2 + 1,
}.items():
    case(_name, A)(_fn)
for _name, _fn in {
    "log": lambda T, F, p: p.log(),
    "sqrt": lambda T, F, p: p.sqrt(),
    "rsqrt": lambda T, F, p: p.rsqrt(),
    "lgamma": lambda T, F, p: T.lgamma(p),
}.items():
    case(_name, P)(_fn)

# --- reductions ----------------------------------------------------------------------
for _name, _fn in {
    "sum": lambda T, F, a: a.sum(),
    "sum dim": lambda T, F, a: a.sum(1),
    "mean dim": lambda T, F, a: a.mean(0),
    "var dim": lambda T, F, a: a.var(1),
    "std": lambda T, F, a: a.std(),
    "prod dim": lambda T, F, a: a.prod(1),
    "norm": lambda T, F, a: a.norm(),
    "norm dim p=1": lambda T, F, a: a.norm(p=1, dim=1),
    "logsumexp dim": lambda T, F, a: T.logsumexp(a, 1),
    "cumsum dim": lambda T, F, a: a.cumsum(1),
    "cumprod dim": lambda T, F, a: a.cumprod(1),
    "amax dim": lambda T, F, a: a.amax(1),
    "max dim": lambda T, F, a: a.max(1),
    "sort dim": lambda T, F, a: a.sort(1),
    "topk 5": lambda T, F, a: a.topk(5, 1),
    "median dim": lambda T, F, a: a.median(1),
    "kthvalue 10": lambda T, F, a: a.kthvalue(10, 1),
    "cummax dim": lambda T, F, a: T.cummax(a, 1),
}.items():
    case(_name, A)(_fn)
for _name, _fn in {
    "argmax dim": lambda T, F, a: a.argmax(1),
    "argsort dim": lambda T, F, a: a.argsort(1),
    "unique": lambda T, F, a: T.unique(a),
    "unique counts": lambda T, F, a: T.unique(a, return_counts=True),
}.items():
    case(_name, np.round(A * 4), grad=False)(_fn)
case("mode dim", np.round(A * 4))(lambda T, F, a: a.mode(1))
case("bincount", ints(100, 10000), grad=False)(lambda T, F, i: T.bincount(i))
case("histc", A, grad=False)(lambda T, F, a: T.histc(a, 50))

# --- indexing ------------------------------------------------------------------------
case("getitem slice", A)(lambda T, F, a: a[:, 10:200:2])
case("getitem int list", A, ROWS)(lambda T, F, a, i: a[i])
case("getitem bool", A, MASK)(lambda T, F, a, m: a[m])
case("getitem two index arrays", A, ROWS, ints(256, 100))(lambda T, F, a, i, j: a[i, j])


@case("setitem index", A, ROWS)
def _setitem(T, F, a, i):
    y = a.clone()
    y[i] = 0.0
    return y


@case("setitem bool", A, MASK)
def _setitem_bool(T, F, a, m):
    y = a.clone()
    y[m] = 1.0
    return y


case("gather", A, COLS)(lambda T, F, a, i: a.gather(1, i))
case("scatter", A, COLS, B)(lambda T, F, a, i, b: a.scatter(1, i, b))
case("scatter_add", A, COLS, B)(lambda T, F, a, i, b: a.scatter_add(1, i, b))
case("index_select", A, ROWS)(lambda T, F, a, i: a.index_select(0, i))
case("index_add", A, ROWS, randn(100, 256))(lambda T, F, a, i, s: a.index_add(0, i, s))
case("masked_fill", A, MASK)(lambda T, F, a, m: a.masked_fill(m, 0.0))
case("take", A, ints(64 * 256, 1000))(lambda T, F, a, i: a.take(i))
case("where", MASK, A, B)(lambda T, F, m, a, b: T.where(m, a, b))
case("nonzero", MASK, grad=False)(lambda T, F, m: m.nonzero())

# --- shape ---------------------------------------------------------------------------
case("cat", A, B)(lambda T, F, a, b: T.cat([a, b, a], 1))
case("stack", A, B)(lambda T, F, a, b: T.stack([a, b, a]))
case("split", A)(lambda T, F, a: T.cat([s * 2 for s in a.split(32, 1)], 1))
case("chunk", A)(lambda T, F, a: T.cat([s * 2 for s in a.chunk(8, 1)], 1))
case("permute contiguous", IMG)(lambda T, F, x: x.permute(0, 2, 3, 1).contiguous())
case("transpose reshape", A)(lambda T, F, a: a.t().reshape(-1))
case("flip", A)(lambda T, F, a: a.flip(1))
case("roll", A)(lambda T, F, a: a.roll(3, 1))
case("repeat", A)(lambda T, F, a: a.repeat(2, 3))
case("tile", A)(lambda T, F, a: a.tile((3, 1)))
case("repeat_interleave", A)(lambda T, F, a: a.repeat_interleave(3, 0))
case("expand contiguous", ROW)(lambda T, F, r: r.expand(64, 256).contiguous())
case("pad constant", IMG)(lambda T, F, x: F.pad(x, (1, 1, 1, 1)))
case("pad reflect", IMG)(lambda T, F, x: F.pad(x, (2, 2, 2, 2), mode="reflect"))
case("unfold (Tensor)", A)(lambda T, F, a: a.unfold(1, 16, 8))
case("F.unfold", IMG)(lambda T, F, x: F.unfold(x, 3, padding=1))
case("F.fold", randn(16, 27, 1024))(lambda T, F, c: F.fold(c, (32, 32), 3, padding=1))
case("tril", SQ)(lambda T, F, a: a.tril())
case("triu diagonal 1", SQ)(lambda T, F, a: a.triu(1))
case("diag_embed", A)(lambda T, F, a: T.diag_embed(a[:8]))

# --- products ------------------------------------------------------------------------
case("matmul", A, W)(lambda T, F, a, w: a @ w)
case("bmm", SEQ, SEQ2)(lambda T, F, x, y: T.bmm(x, y))
case("einsum bij,bjk", SEQ, SEQ2)(lambda T, F, x, y: T.einsum("bij,bjk->bik", x, y))
case("einsum ij,ij->i", A, B)(lambda T, F, a, b: T.einsum("ij,ij->i", a, b))
case("tensordot", SEQ, SEQ2)(lambda T, F, x, y: T.tensordot(x, y, dims=([0, 2], [0, 1])))
case("outer", ROW, ROW)(lambda T, F, u, v: T.outer(u, v))
case("addmm", randn(64, 128), A, W)(lambda T, F, c, a, w: T.addmm(c, a, w))
case("baddbmm", randn(8, 32, 32), SEQ, SEQ2)(lambda T, F, c, x, y: T.baddbmm(c, x, y))
case("linear", A, randn(128, 256), randn(128))(lambda T, F, a, w, b: F.linear(a, w, b))
case("bilinear", randn(64, 32), randn(64, 32), randn(16, 32, 32))(lambda T, F, a, b, w: F.bilinear(a, b, w))
case("cdist", randn(64, 32), randn(48, 32))(lambda T, F, a, b: T.cdist(a, b))

# --- nn.functional -------------------------------------------------------------------
case("conv1d", SEQ, randn(16, 32, 3))(lambda T, F, x, w: F.conv1d(x, w, padding=1))
case("conv2d", IMG, randn(16, 3, 3, 3))(lambda T, F, x, w: F.conv2d(x, w, padding=1))
case("conv2d 16->16", FEAT, randn(16, 16, 3, 3))(lambda T, F, x, w: F.conv2d(x, w, padding=1))
case("conv2d depthwise", FEAT, randn(16, 1, 3, 3))(lambda T, F, x, w: F.conv2d(x, w, padding=1, groups=16))
case("conv_transpose2d", FEAT, randn(16, 8, 4, 4))(
    lambda T, F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1)
)
case("max_pool2d", IMG)(lambda T, F, x: F.max_pool2d(x, 2))
case("max_pool2d 3 s2 p1", IMG)(lambda T, F, x: F.max_pool2d(x, 3, 2, 1))
case("avg_pool2d", IMG)(lambda T, F, x: F.avg_pool2d(x, 2))
case("adaptive_avg_pool2d 7", IMG)(lambda T, F, x: F.adaptive_avg_pool2d(x, 7))
case("adaptive_max_pool2d 7", IMG)(lambda T, F, x: F.adaptive_max_pool2d(x, 7))
case("max_pool1d", SEQ)(lambda T, F, x: F.max_pool1d(x, 2))
case("interpolate nearest x2", IMG)(lambda T, F, x: F.interpolate(x, scale_factor=2))
case("interpolate bilinear x2", IMG)(
    lambda T, F, x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
)
case("interpolate bicubic", IMG)(lambda T, F, x: F.interpolate(x, size=(48, 48), mode="bicubic"))
case("grid_sample", IMG, (RNG.random((16, 32, 32, 2)) * 2 - 1).astype(np.float32))(
    lambda T, F, x, g: F.grid_sample(x, g, align_corners=False)
)
case("affine_grid", randn(16, 2, 3))(lambda T, F, th: F.affine_grid(th, [16, 3, 32, 32], align_corners=False))
case("pixel_shuffle", randn(16, 12, 16, 16))(lambda T, F, x: F.pixel_shuffle(x, 2))
case("batch_norm train", FEAT, positive(16), randn(16))(
    lambda T, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True)
)
case("batch_norm eval", FEAT, randn(16), positive(16), positive(16), randn(16))(
    lambda T, F, x, m, v, w, b: F.batch_norm(x, m.detach(), v.detach(), w, b, training=False)
)
case("layer_norm", SEQ, positive(64), randn(64))(lambda T, F, x, w, b: F.layer_norm(x, (64,), w, b))
case("group_norm", FEAT, positive(16), randn(16))(lambda T, F, x, w, b: F.group_norm(x, 4, w, b))
case("instance_norm", FEAT)(lambda T, F, x: F.instance_norm(x))
case("rms_norm", SEQ, positive(64))(lambda T, F, x, w: F.rms_norm(x, (64,), w))
case("normalize", A)(lambda T, F, a: F.normalize(a, dim=1))
case("embedding", TOKENS, TABLE)(lambda T, F, i, w: F.embedding(i, w))
case("embedding_bag mean", TOKENS, TABLE)(lambda T, F, i, w: F.embedding_bag(i, w, mode="mean"))
case("dropout", A)(lambda T, F, a: F.dropout(a, 0.5))
case("softmax", A)(lambda T, F, a: F.softmax(a, 1))
case("log_softmax", A)(lambda T, F, a: F.log_softmax(a, 1))
case("relu", A)(lambda T, F, a: F.relu(a))
case("leaky_relu", A)(lambda T, F, a: F.leaky_relu(a, 0.1))
case("gelu", A)(lambda T, F, a: F.gelu(a))
case("gelu tanh", A)(lambda T, F, a: F.gelu(a, approximate="tanh"))
case("silu", A)(lambda T, F, a: F.silu(a))
case("elu", A)(lambda T, F, a: F.elu(a))
case("softplus", A)(lambda T, F, a: F.softplus(a))
case("hardswish", A)(lambda T, F, a: F.hardswish(a))
case("cross_entropy", LOGITS, LABELS)(lambda T, F, x, y: F.cross_entropy(x, y))
case("cross_entropy smoothing", LOGITS, LABELS)(lambda T, F, x, y: F.cross_entropy(x, y, label_smoothing=0.1))
case("cross_entropy 4d", randn(16, 10, 32, 32), ints(10, 16, 32, 32))(
    lambda T, F, x, y: F.cross_entropy(x, y)
)
case("nll_loss", LOGITS, LABELS)(lambda T, F, x, y: F.nll_loss(x, y))
case("mse_loss", A, B)(lambda T, F, a, b: F.mse_loss(a, b))
case("l1_loss", A, B)(lambda T, F, a, b: F.l1_loss(a, b))
case("smooth_l1_loss", A, B)(lambda T, F, a, b: F.smooth_l1_loss(a, b))
case("bce_with_logits", A, (RNG.random((64, 256)) > 0.5).astype(np.float32))(
    lambda T, F, a, t: F.binary_cross_entropy_with_logits(a, t.detach())
)
case("kl_div", A, B)(lambda T, F, a, b: F.kl_div(a, b.detach(), reduction="batchmean"))
case("cosine_similarity", A, B)(lambda T, F, a, b: F.cosine_similarity(a, b))
case("ctc_loss", randn(50, 8, 20), ints(19, 8, 10) + 1)(
    lambda T, F, x, t: F.ctc_loss(x.log_softmax(2), t, [50] * 8, [10] * 8)
)
case("scaled_dot_product_attention", SEQ, SEQ, SEQ)(
    lambda T, F, q, k, v: F.scaled_dot_product_attention(q, k, v)
)
case("sdpa causal", SEQ, SEQ, SEQ)(
    lambda T, F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)
)
case(
    "multi_head_attention_forward",
    randn(32, 8, 64),
    randn(192, 64),
    randn(192),
    randn(64, 64),
    randn(64),
)(
    lambda T, F, x, w, b, ow, ob: F.multi_head_attention_forward(
        x, x, x, 64, 4, w, b, None, None, False, 0.0, ow, ob, training=False
    )
)
case("lstm_cell", randn(64, 64), randn(64, 128), randn(64, 128), randn(512, 64), randn(512, 128))(
    lambda T, F, x, h, c, wi, wh: T.lstm_cell(x, (h, c), wi, wh)
)
case("gru_cell", randn(64, 64), randn(64, 128), randn(384, 64), randn(384, 128))(
    lambda T, F, x, h, wi, wh: T.gru_cell(x, h, wi, wh)
)

# --- creation ------------------------------------------------------------------------
case("arange float32", grad=False)(lambda T, F: T.arange(0.0, 1000.0, 0.5))
case("arange float64", grad=False)(lambda T, F: T.arange(0.0, 1000.0, 0.01, dtype=T.float64))
case("arange int", grad=False)(lambda T, F: T.arange(10000))
case("linspace", grad=False)(lambda T, F: T.linspace(0, 1, 10000))
case("linspace float64", grad=False)(lambda T, F: T.linspace(0, 1, 10000, dtype=T.float64))
case("logspace", grad=False)(lambda T, F: T.logspace(0, 3, 1000))
case("randn", grad=False)(lambda T, F: T.randn(64, 256))
case("rand", grad=False)(lambda T, F: T.rand(64, 256))
case("randint", grad=False)(lambda T, F: T.randint(0, 10, (64, 256)))
case("randperm", grad=False)(lambda T, F: T.randperm(10000))
case("normal_", grad=False)(lambda T, F: T.empty(64, 256).normal_())
case("bernoulli", P, grad=False)(lambda T, F, p: T.bernoulli(p / 2))
case("multinomial", positive(64, 100), grad=False)(lambda T, F, p: T.multinomial(p, 5))
case("multinomial replacement", positive(64, 100), grad=False)(lambda T, F, p: T.multinomial(p, 20, True))
case("eye", grad=False)(lambda T, F: T.eye(256))
case("full", grad=False)(lambda T, F: T.full((64, 256), 3.0))
case("zeros_like", A, grad=False)(lambda T, F, a: T.zeros_like(a))
case("one_hot", LABELS, grad=False)(lambda T, F, y: F.one_hot(y, 10))
case("tensor from list", grad=False)(lambda T, F: T.tensor(LIST))
case("tensor from nested list", grad=False)(lambda T, F: T.tensor(NESTED))
case("from_numpy", grad=False)(lambda T, F: T.from_numpy(A))
LIST = A[0].tolist()
NESTED = A[:16, :32].tolist()

# --- linalg --------------------------------------------------------------------------
case("linalg.inv", SPD)(lambda T, F, a: T.linalg.inv(a))
case("linalg.solve", SPD, randn(64, 8))(lambda T, F, a, b: T.linalg.solve(a, b))
case("det", SPD)(lambda T, F, a: T.det(a))
case("slogdet", SPD)(lambda T, F, a: T.linalg.slogdet(a)[1])
case("linalg.qr", SQ)(lambda T, F, a: T.linalg.qr(a))
case("linalg.svd", SQ)(lambda T, F, a: T.linalg.svd(a, full_matrices=False)[1])
case("linalg.svdvals", SQ)(lambda T, F, a: T.linalg.svdvals(a))
case("linalg.cholesky", SPD)(lambda T, F, a: T.linalg.cholesky(a))
case("linalg.eigh", SPD)(lambda T, F, a: T.linalg.eigh(a)[0])
case("linalg.norm", A)(lambda T, F, a: T.linalg.norm(a))
case("linalg.matrix_norm nuc", SQ)(lambda T, F, a: T.linalg.matrix_norm(a, "nuc"))
case("linalg.vector_norm dim", A)(lambda T, F, a: T.linalg.vector_norm(a, 3, dim=1))
case("batched inv", randn(32, 8, 8) + 4 * np.eye(8, dtype=np.float32))(lambda T, F, a: T.linalg.inv(a))
case("pinv", SQ)(lambda T, F, a: T.linalg.pinv(a))

# --- fft -----------------------------------------------------------------------------
case("fft.fft", A)(lambda T, F, a: T.fft.fft(a).abs())
case("fft.rfft", A)(lambda T, F, a: T.fft.rfft(a).abs())
case("fft.ifft", A)(lambda T, F, a: T.fft.ifft(a).real)
case("fft.irfft", A)(lambda T, F, a: T.fft.irfft(a))
case("fft.fft2", IMG)(lambda T, F, x: T.fft.fft2(x).abs())
case("stft", randn(8, 4000), grad=False)(lambda T, F, s: T.stft(s, 256, return_complex=True))

# --- distributions -------------------------------------------------------------------
case("Normal.log_prob", A, B, P)(lambda T, F, x, m, s: T.distributions.Normal(m, s).log_prob(x.detach()))
case("Normal.rsample", B, P)(lambda T, F, m, s: T.distributions.Normal(m, s).rsample())
case("Categorical.sample", LOGITS, grad=False)(
    lambda T, F, x: T.distributions.Categorical(logits=x).sample((16,))
)
case("Categorical.log_prob", LOGITS, LABELS)(
    lambda T, F, x, y: T.distributions.Categorical(logits=x).log_prob(y)
)
case("MultivariateNormal.log_prob", randn(64, 8), SPD[:8, :8].copy())(
    lambda T, F, x, c: T.distributions.MultivariateNormal(T.zeros(8), covariance_matrix=c).log_prob(x)
)


# --- data ----------------------------------------------------------------------------
@case("default_collate 64 images", grad=False)
def _collate(T, F):
    batch = COLLATE_BATCH[T.__name__]
    return T.utils.data.default_collate(batch)


COLLATE_BATCH: dict[str, list] = {}


def _prepare_collate(T) -> None:
    images = RNG.standard_normal((64, 3, 32, 32)).astype(np.float32)
    COLLATE_BATCH[T.__name__] = [(T.tensor(images[i]), i % 10) for i in range(64)]


# --- timing --------------------------------------------------------------------------
def build(T, name: str, backward: bool):
    """A no-argument callable running case `name` in library T once."""
    fn, arrays, _ = CASES[name]
    F = T.nn.functional
    tensors = [_tensor(T, a, backward) for a in arrays]
    leaves = [t for t in tensors if t.requires_grad]
    if not backward:  # no input requires grad: both record nothing, and neither pays for no_grad
        return lambda: fn(T, F, *tensors)

    def run_backward():
        out = _first(fn(T, F, *tensors))
        out.sum().backward()
        for t in leaves:
            t.grad = None

    return run_backward


def calibrate(run, clock, target: float) -> int:
    """Repetitions of run that take about `target` seconds."""
    run()
    reps = 1
    while True:
        t0 = clock()
        for _ in range(reps):
            run()
        elapsed = clock() - t0
        if elapsed >= target / 4 or reps >= 10_000:
            return max(1, int(reps * target / max(elapsed, 1e-9)))
        reps *= 4


def measure(run, reps: int, clock) -> float:
    t0 = clock()
    for _ in range(reps):
        run()
    return (clock() - t0) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--filter", default="", help="only the cases whose name contains this text")
    parser.add_argument("--min-ratio", type=float, default=0.0, help="print only rows above this ratio")
    parser.add_argument("--target", type=float, default=0.004, help="seconds per sample (default 0.004)")
    parser.add_argument("--wall", action="store_true", help="time the wall clock, not process CPU time")
    parser.add_argument("--json", metavar="PATH", help="also write the medians to this JSON file")
    args = parser.parse_args()
    if torch is None:
        raise SystemExit("bench/ops.py compares with PyTorch: install torch")
    clock = time.perf_counter if args.wall else time.process_time
    libs = {"ember": ember, "torch": torch}
    for T in libs.values():
        _prepare_collate(T)
    print(f"ember {ember.__version__}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"medians of {args.rounds} interleaved rounds, {'wall clock' if args.wall else 'process CPU time'}")
    rows = []
    for name, (_, _, differentiable) in CASES.items():
        if args.filter not in name:
            continue
        for backward in (False, True) if differentiable else (False,):
            try:
                runs = {k: build(T, name, backward) for k, T in libs.items()}
                reps = {k: calibrate(r, clock, args.target) for k, r in runs.items()}
            except Exception as exc:  # a case one library lacks is reported, not fatal
                print(f"  {name} ({'fwd+bwd' if backward else 'fwd'}): {type(exc).__name__}: {exc}")
                continue
            samples: dict[str, list[float]] = {k: [] for k in runs}
            for _ in range(args.rounds):
                for k, run in runs.items():
                    samples[k].append(measure(run, reps[k], clock))
            med = {k: statistics.median(v) for k, v in samples.items()}
            paired = statistics.median(a / b for a, b in zip(samples["ember"], samples["torch"]))
            rows.append((name, "fwd+bwd" if backward else "fwd", med["ember"], med["torch"], paired))
    rows.sort(key=lambda r: -r[4])
    print("\n| op | pass | ember µs | PyTorch µs | ember / PyTorch |\n| --- | --- | --- | --- | --- |")
    for name, mode, e, t, ratio in rows:
        if ratio >= args.min_ratio:
            print(f"| {name} | {mode} | {e * 1e6:.1f} | {t * 1e6:.1f} | {ratio:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                [dict(zip(("op", "pass", "ember_s", "torch_s", "ratio"), r)) for r in rows], f, indent=1
            )


if __name__ == "__main__":
    main()
