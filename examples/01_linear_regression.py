# %% [markdown]
# # 1. Linear regression, one sample at a time
#
# We fit `y = x @ w + b` to 200 noisy points whose true parameters are w = [2, -3.4] and
# b = 4.2. The loop is the one every course starts with: for each sample, compute the
# squared error, call `backward()` to get the gradients, and let `optim.SGD` take a step.
#
# We run the *same function* twice: once with PyTorch (if it is installed) and once with
# ember. Because ember follows PyTorch's API, the only difference is the module passed in,
# and the weights after every epoch come out identical to the last bit.

# %%
import numpy as np

import ember

try:
    import torch
except ImportError:
    torch = None  # the comparison is skipped below

ROWS, EPOCHS, LR = 200, 10, 0.01

# %% [markdown]
# The data and the initial weights are drawn with NumPy, so that both libraries start from
# exactly the same numbers (their own random generators differ).


# %%
def make_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.float32]:
    """200 samples with 2 features, their targets, and initial weights w and b."""
    np.random.seed(1)
    x = np.random.randn(ROWS, 2)
    y = x @ np.array([2.0, -3.4]) + 4.2 + 0.01 * np.random.randn(ROWS)
    np.random.seed(1)
    w = np.random.randn(2)
    b = np.random.randn()
    return x.astype(np.float32), y.astype(np.float32), w.astype(np.float32), np.float32(b)


def train(lib) -> tuple[list[float], list[list[float]]]:
    """Per-sample SGD with `lib` (ember or torch); after each epoch, the MSE over all samples
    and the weights [w1, w2, b]."""
    x_np, y_np, w_np, b_np = make_data()
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    w = lib.tensor(w_np, requires_grad=True)
    b = lib.tensor(b_np, requires_grad=True)
    optimizer = lib.optim.SGD([w, b], lr=LR)
    history, weights = [], []
    for _ in range(EPOCHS):
        for i in range(ROWS):
            optimizer.zero_grad()  # gradients accumulate: clear the previous step's
            loss = (x[i] @ w + b - y[i]) ** 2
            loss.backward()  # fills w.grad and b.grad
            optimizer.step()  # w -= lr * w.grad, b -= lr * b.grad
        with lib.no_grad():  # evaluating needs no graph
            history.append(((x @ w + b - y) ** 2).mean().item())
        weights.append(w.tolist() + [b.item()])
    print(f"{lib.__name__}: w = {[round(v, 4) for v in w.tolist()]}, b = {b.item():.4f}")
    return history, weights


# %%
mine, my_weights = train(ember)
theirs, their_weights = train(torch) if torch is not None else (None, None)

# %% [markdown]
# Same data, same float32 arithmetic, same update rule: the weights after every epoch are
# equal to the last bit. The MSE columns agree to about 6 significant digits: the error over
# all 200 samples is a matrix-vector product, which NumPy hands to its BLAS library, and on
# some CPUs that library and PyTorch's own kernel round the last bit of a few rows differently.

# %%
print("epoch   ember MSE     torch MSE")
for epoch, m in enumerate(mine, start=1):
    t = f"{theirs[epoch - 1]:.6g}" if theirs is not None else "(no torch)"
    print(f"{epoch:5d}   {m:<12.6g}  {t}")
if theirs is None:
    print("PyTorch is not installed: the comparison is skipped.")
else:
    same = my_weights == their_weights  # Python floats: equal only if every bit is
    close = all(abs(m - t) <= 1e-5 * abs(t) for m, t in zip(mine, theirs))
    print(f"weights after every epoch identical to the last bit: {same}")
    print(f"MSEs equal to within 1e-5 (relative): {close}")
