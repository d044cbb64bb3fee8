# %% [markdown]
# # 4. Learning a linear map with two layers, with and without weight decay
#
# The data: points x in the plane and y = A x, where A = [[0, -1], [1, 0]] turns the plane
# by a quarter turn. The network has two weight matrices and no biases:
#
#     y_hat = W2 @ act(W1 @ x)      with W1 of shape (h, 2) and W2 of shape (2, h)
#
# With a linear hidden layer (act = identity) the network computes (W2 @ W1) x, so
# training should bring the product W2 @ W1 to A. We train it twice, without and with an
# explicit weight penalty lam * (||W1||^2 + ||W2||^2) added to the loss.

# %%
import matplotlib.pyplot as plt
from common import QUICK, out_dir

import ember as torch
from ember import nn
from ember.datasets import make_linear

A = torch.tensor([[0.0, -1.0], [1.0, 0.0]])
HIDDEN, LR = 8, 0.05
STEPS = 500 if QUICK else 2000
x, y = make_linear(1000, seed=0)


def train(hidden_activation: nn.Module, lam: float) -> dict:
    """Full-batch gradient descent on mean squared error + lam * (||W1||^2 + ||W2||^2)."""
    torch.manual_seed(0)  # the same initial weights for every run
    model = nn.Sequential(
        nn.Linear(2, HIDDEN, bias=False),  # its weight is W1, shape (h, 2)
        hidden_activation,
        nn.Linear(HIDDEN, 2, bias=False),  # its weight is W2, shape (2, h)
    )
    W1, W2 = model[0].weight, model[2].weight
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    history = {"distance": [], "norm W1": [], "norm W2": []}
    for _ in range(STEPS):
        optimizer.zero_grad()
        mse = nn.functional.mse_loss(model(x), y)
        # The penalty written out; SGD(weight_decay=2 * lam) would add the same gradient.
        penalty = lam * ((W1**2).sum() + (W2**2).sum())
        (mse + penalty).backward()
        optimizer.step()
        with torch.no_grad():
            history["distance"].append((W2 @ W1 - A).abs().max().item())
            history["norm W1"].append(W1.norm().item())
            history["norm W2"].append(W2.norm().item())
    with torch.no_grad():
        product = W2 @ W1
    print(
        f"{type(hidden_activation).__name__:8s} lam={lam:<5}  mse {mse.item():.2e}"
        f"  max|W2@W1 - A| {history['distance'][-1]:.4f}"
        f"  ||W1|| {history['norm W1'][-1]:.3f}  ||W2|| {history['norm W2'][-1]:.3f}"
    )
    print("  W2 @ W1 =", [[round(v, 3) for v in row] for row in product.tolist()])
    history["product"] = product
    return history


# %% [markdown]
# ## A linear hidden layer
#
# Both runs bring W2 @ W1 within 0.05 of A. Without the penalty, the product is exact but
# the weights keep whatever extra size they started with: any W1, W2 with W2 @ W1 = A fit
# the data perfectly, so nothing pulls them further. With the penalty, the product is
# shrunk very slightly towards 0 (the price of the penalty), and the weights move to the
# smallest ones that produce the map: ||W1||^2 + ||W2||^2 falls to 4, shared equally
# (||W1|| = ||W2|| = sqrt(2) = 1.414), whatever the initial weights were.

# %%
plain = train(nn.Identity(), lam=0.0)
decay = train(nn.Identity(), lam=0.01)
for name, run in (("without decay", plain), ("with decay", decay)):
    close = run["distance"][-1] < 0.05
    first = next((step for step, d in enumerate(run["distance"], start=1) if d < 0.05), None)
    print(f"{name}: W2 @ W1 within 0.05 of A: {close} (first after step {first})")

# %% [markdown]
# ## A ReLU hidden layer
#
# With ReLU the network still fits the data (the loss becomes small), but W2 @ W1 is no
# longer the map it computes. Since relu(z) = (z + |z|) / 2, the network is
# (W2 @ W1) x / 2 plus a part made of |.| terms, which must cancel for the output to be
# linear; so training drives W2 @ W1 towards **2 A**, not A. The course's check
# "W2 @ W1 close to A" therefore applies to the linear hidden layer above; for the ReLU
# network we report its loss, and compare W2 @ W1 with 2 A.

# %%
relu_plain = train(nn.ReLU(), lam=0.0)
relu_decay = train(nn.ReLU(), lam=0.01)
for name, run in (("without decay", relu_plain), ("with decay", relu_decay)):
    print(f"ReLU {name}: max|W2@W1 - 2A| = {(run['product'] - 2 * A).abs().max().item():.3f}")

# %% [markdown]
# ## How the weights evolve
#
# The distance of W2 @ W1 from A, and the norms of both matrices, at every step.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for name, run, style in (("no decay", plain, "-"), ("decay 0.01", decay, "--")):
    left.plot(run["distance"], style, color="black", label=name)
    right.plot(run["norm W1"], style, color="tab:blue", label=f"||W1||, {name}")
    right.plot(run["norm W2"], style, color="tab:orange", label=f"||W2||, {name}")
left.set(xlabel="step", ylabel="max |W2 @ W1 - A|", yscale="log", title="Linear hidden layer")
right.axhline(2**0.5, color="grey", linewidth=0.5)
right.set(xlabel="step", ylabel="Frobenius norm", title="Weight norms")
left.legend()
right.legend()
fig.tight_layout()
fig.savefig(out_dir() / "linear_map.png", dpi=100)
print("saved", out_dir() / "linear_map.png")
