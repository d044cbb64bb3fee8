"""The public functions over tensors: `ember.exp(x)`, `ember.sum(x, dim=1)`, ...

Each validates its arguments (so a user's mistake gets a message with the op and the
shapes, not a NumPy traceback) and applies one Function. The same functions are the
Tensor methods (`x.exp()`), attached by `_methods.attach_methods`:

    arith.py     arithmetic, math functions, comparisons, PyTorch's dtype promotion
    reduce.py    sum, mean, max/min, var/std, logsumexp, norm, all/any
    shape.py     reshape, permute, cat/stack, split, gather, indexing
    products.py  matmul, mm, bmm, dot, outer, einsum, softmax, log_softmax
    convert.py   to(dtype), clone, in-place operations
    linalg.py    inner, mv, dist, cdist, renorm
    matrix.py    inv, det, slogdet, solve, cholesky, qr, svd, pinv, matrix_power, matrix_exp
                 (ember.linalg names them as torch.linalg does)
    extra.py     repeat_interleave, masked_scatter, index_put, bit shifts, is_inference
    specfun.py   lgamma, digamma, polygamma, mvlgamma, i0 and torch.special's functions
                 (ember.special is their namespace); cov, corrcoef, combinations, atleast_nd
"""
