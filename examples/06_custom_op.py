# %% [markdown]
# # 6. Writing your own operation: ReLU as an autograd Function
#
# Every operation in ember, built-in or yours, is a `Function` with two static methods:
# `forward` computes the result and saves what the gradient will need on `ctx`; `backward`
# receives the gradient of the loss with respect to the output and returns the gradient
# with respect to each input. It is exactly PyTorch's `torch.autograd.Function`.

# %%
import ember as torch
from ember import nn
from ember.datasets import make_moons


class MyReLU(torch.autograd.Function):
    """relu(x) = max(x, 0); its derivative is 1 where x > 0 and 0 elsewhere."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)  # backward needs to know where x was positive
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        # Chain rule: dL/dx = dL/dy * dy/dx, and dy/dx is the 0/1 mask of x > 0.
        return grad_output * (x > 0).to(grad_output.dtype)


x = torch.tensor([-2.0, -0.5, 0.5, 3.0], requires_grad=True)
y = MyReLU.apply(x)
print("y =", y)  # its grad_fn is a node named after our class
y.sum().backward()
print("x.grad =", x.grad)

# %% [markdown]
# ## Checking the gradient
#
# `gradcheck` compares `backward` with finite differences (f(x + eps) - f(x - eps)) / 2 eps
# for every element of the input. It needs float64 inputs: in float32 the rounding errors
# of the differences would be larger than the tolerance. ReLU has a kink at 0, so the test
# points are kept away from it.

# %%
torch.manual_seed(0)
x = torch.randn(5, 4, dtype=torch.float64)
x = (x + 0.1 * x.sign()).requires_grad_()  # no element within 0.1 of the kink
print("gradcheck(MyReLU):", torch.autograd.gradcheck(MyReLU.apply, (x,)))


class WrongReLU(MyReLU):
    """A classic mistake: forgetting the mask passes the gradient through everywhere."""

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output


print("gradcheck(WrongReLU):", torch.autograd.gradcheck(WrongReLU.apply, (x,), raise_exception=False))

# %% [markdown]
# ## Using it in a network
#
# Wrapped in a Module, the Function is a layer like any other. Trained from the same initial
# weights, the network with `MyReLU` and the one with the built-in `nn.ReLU` give the same
# losses at every step.


# %%
class CustomReLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return MyReLU.apply(x)


def train(activation: nn.Module, steps: int = 300) -> tuple[list[float], float]:
    """Full-batch Adam on the two-moons data; the losses and the final training accuracy."""
    torch.manual_seed(0)
    x, y = make_moons(500, noise=0.1, seed=0)
    model = nn.Sequential(nn.Linear(2, 32), activation, nn.Linear(32, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    return losses, accuracy


mine, my_accuracy = train(CustomReLU())
builtin, builtin_accuracy = train(nn.ReLU())
print(f"MyReLU:  loss {mine[0]:.4f} -> {mine[-1]:.4f}, accuracy {my_accuracy:.3f}")
print(f"nn.ReLU: loss {builtin[0]:.4f} -> {builtin[-1]:.4f}, accuracy {builtin_accuracy:.3f}")
print("same losses at every step:", mine == builtin)
