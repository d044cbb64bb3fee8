# %% [markdown]
# # 2. A computation graph by hand
#
# The course's first graph: `e = (a + b) * (b + 1)` with `a = 2`, `b = 1`. Every operation
# on tensors that require gradients records a node (`grad_fn`); `e.backward()` walks the
# nodes back from `e` and applies the chain rule:
#
# - de/da = (b + 1) = 2
# - de/db = (b + 1) + (a + b) = 5 (b is used twice, so its two contributions add up)

# %%
import matplotlib.pyplot as plt
import numpy as np
from common import out_dir

import ember as torch
from ember.viz import draw_graph

a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
c = a + b
d = b + 1
e = c * d
print("a =", a)
print("b =", b)
print("c = a + b =", c)
print("d = b + 1 =", d)
print("e = c * d =", e)

# %%
e.backward()
print("a.grad =", a.grad)
print("b.grad =", b.grad)

# %% [markdown]
# ## Drawing the graph
#
# Ellipses are tensors (the leaves a and b are filled), boxes are the operations, with the
# names PyTorch gives them. `draw_graph` returns the graph in Graphviz's DOT language and
# renders an SVG when Graphviz's `dot` program is installed; otherwise it saves the DOT
# text, which any Graphviz viewer (or an online one) draws.

# %%
names = {"a": a, "b": b, "c": c, "d": d, "e": e}
print(draw_graph(e, params=names))
print("written to", draw_graph(e, out_dir() / "graph_by_hand.svg", params=names))

# %% [markdown]
# ## Gradient descent on e
#
# Now we treat e as a loss and move a and b against its gradient: `p -= lr * p.grad`. The
# update runs under `torch.no_grad()` so that it is not itself recorded in a graph, and the
# gradients are reset to None after each step, since `backward()` adds to `.grad`.
#
# e has no minimum (it is a saddle: along some directions it decreases for ever), so the
# point of this exercise is the behaviour of the steps. With lr = 0.1 e decreases steadily;
# with lr = 1 every step overshoots and the values explode.


# %%
def descend(lr: float, steps: int = 10) -> list[tuple[float, float, float]]:
    """Gradient descent on e from a = 0, b = 15; the (a, b, e) visited."""
    a = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(15.0, requires_grad=True)
    path = []
    print(f"lr = {lr}")
    for step in range(steps):
        e = (a + b) * (b + 1)
        e.backward()
        print(
            f"  step {step}: a = {a.item():8.3f}  b = {b.item():8.3f}  e = {e.item():10.3f}"
            f"  de/da = {a.grad.item():8.3f}  de/db = {b.grad.item():8.3f}"
        )
        path.append((a.item(), b.item(), e.item()))
        with torch.no_grad():
            a -= lr * a.grad
            b -= lr * b.grad
        a.grad = None
        b.grad = None
    return path


slow = descend(lr=0.1)
fast = descend(lr=1.0)

# %% [markdown]
# ## The loss landscape and both paths
#
# Left, the contours of e over (a, b): the path with lr = 0.1 slides down the slope, the
# path with lr = 1 jumps from one side of the valley to the other, farther each time (its
# later steps leave the frame). Right, e after each step.

# %%
grid_a, grid_b = np.meshgrid(np.linspace(-40, 10, 200), np.linspace(-35, 35, 200))
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
contours = left.contour(grid_a, grid_b, (grid_a + grid_b) * (grid_b + 1), levels=30, cmap="viridis")
fig.colorbar(contours, ax=left, label="e = (a + b)(b + 1)")
for path, style, label in ((slow, "o-", "lr = 0.1"), (fast, "s--", "lr = 1 (diverges)")):
    pa, pb, pe = (np.array(column) for column in zip(*path))
    inside = (pa >= -40) & (pa <= 10) & (pb >= -35) & (pb <= 35)
    left.plot(pa[inside], pb[inside], style, label=label)
    right.plot(pe, style, label=label)
left.set(xlabel="a", ylabel="b", title="Gradient descent on e from (0, 15)")
left.legend(loc="lower right")
right.set(xlabel="step", ylabel="e", yscale="symlog", title="e after each step")
right.legend()
fig.tight_layout()
fig.savefig(out_dir() / "graph_by_hand_descent.png", dpi=100)
print("saved", out_dir() / "graph_by_hand_descent.png")
