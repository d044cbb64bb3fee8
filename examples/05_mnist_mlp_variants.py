# %% [markdown]
# # 5. MNIST with multilayer perceptrons: what changes what
#
# One training loop, many networks. Starting from a 784-128-10 perceptron trained with
# plain SGD, we change one thing at a time and compare validation accuracies:
#
# - the hidden activation: sigmoid, then ReLU (the baseline);
# - the architecture: deeper (three hidden layers), wider (512 units), residual;
# - the optimizer: SGD with momentum;
# - the initialisation of the deeper network: PyTorch's default, Xavier, Kaiming, and the
#   naive normal(0, 1).
#
# Set EMBER_EXAMPLES_QUICK=1 for a run of a few seconds (5 000 training images, 1 epoch).

# %%
import time

import matplotlib.pyplot as plt
from common import QUICK, data_root, out_dir, require_data

import ember as torch
from ember import nn
from ember.datasets import MNIST
from ember.transforms import Compose, Normalize, ToTensor
from ember.utils.data import DataLoader, Subset, random_split

root = data_root()
require_data(root / "mnist", "the MNIST dataset")
# ToTensor scales the pixels to [0, 1]; Normalize centres them with MNIST's mean and std.
transform = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
full = MNIST(root, train=True, transform=transform)
# 55 000 images to train on, 5 000 held out to compare the variants (the test set stays
# untouched until a model is chosen).
train_set, val_set = random_split(full, [55_000, 5_000], generator=torch.Generator().manual_seed(0))
if QUICK:
    train_set, val_set = Subset(train_set, range(5_000)), Subset(val_set, range(1_000))
EPOCHS = 1 if QUICK else 3
print(f"{len(train_set)} training and {len(val_set)} validation images, {EPOCHS} epoch(s) per variant")

# %% [markdown]
# ## The models


# %%
def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Flatten, then Linear layers of the given sizes with `activation` between them."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class ResidualMLP(nn.Module):
    """784 -> 128, then blocks h = h + relu(linear(h)), then 128 -> 10."""

    def __init__(self, hidden: int = 128, blocks: int = 2) -> None:
        super().__init__()
        self.inp = nn.Linear(784, hidden)
        self.blocks = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(blocks)])
        self.out = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inp(x.flatten(1)))
        for layer in self.blocks:
            # The skip connection: each block only adds a correction to h, and the gradient
            # reaches the first layers through the identity path undiminished.
            h = h + torch.relu(layer(h))
        return self.out(h)


def initialised(model: nn.Module, how: str) -> nn.Module:
    """Re-initialise every Linear layer's weights ("xavier", "kaiming", "normal") and zero its bias."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            if how == "xavier":
                nn.init.xavier_uniform_(module.weight)
            elif how == "kaiming":
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            elif how == "normal":
                nn.init.normal_(module.weight, mean=0.0, std=1.0)
            nn.init.zeros_(module.bias)
    return model


DEEP = [784, 128, 128, 128, 10]
# name: (a function making the model, SGD momentum)
VARIANTS = {
    "sigmoid": (lambda: mlp([784, 128, 10], nn.Sigmoid), 0.0),
    "relu": (lambda: mlp([784, 128, 10]), 0.0),
    "deeper": (lambda: mlp(DEEP), 0.0),
    "wider": (lambda: mlp([784, 512, 10]), 0.0),
    "momentum 0.9": (lambda: mlp([784, 128, 10]), 0.9),
    "residual": (lambda: ResidualMLP(), 0.0),
    "deeper, xavier": (lambda: initialised(mlp(DEEP), "xavier"), 0.0),
    "deeper, kaiming": (lambda: initialised(mlp(DEEP), "kaiming"), 0.0),
    "deeper, normal(0, 1)": (lambda: initialised(mlp(DEEP), "normal"), 0.0),
}

# %% [markdown]
# ## Training and validation
#
# The same loop for every variant: mini-batches of 64, cross-entropy loss, SGD with learning
# rate 0.01. With momentum 0.9, each step also carries 0.9 of the previous one, so steps
# along a consistent direction grow up to 10 times larger.


# %%
def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    return correct / len(loader.dataset)


def fit(make_model, momentum: float) -> tuple[list[float], float, float]:
    """Train a fresh model: its validation accuracy after each epoch, its mean training loss
    in the last epoch, and the seconds taken."""
    torch.manual_seed(0)  # same initial weights and batch order where the shapes agree
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=1000)
    accuracies, start = [], time.perf_counter()
    for _ in range(EPOCHS):
        model.train()
        total = 0.0
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        accuracies.append(evaluate(model, val_loader))
    return accuracies, total / len(train_set), time.perf_counter() - start


results = {}
for name, (make_model, momentum) in VARIANTS.items():
    results[name] = fit(make_model, momentum)
    print(f"{name:22s} done: validation accuracy {results[name][0][-1]:.4f}")

# %%
print(f"{'variant':22s} {'val accuracy':>12s} {'train loss':>10s} {'seconds':>8s}")
for name, (accuracies, train_loss, seconds) in results.items():
    print(f"{name:22s} {accuracies[-1]:12.4f} {train_loss:10.4f} {seconds:8.1f}")

# %% [markdown]
# What to look for:
#
# - ReLU learns faster than sigmoid, whose gradient is at most 1/4 and vanishes where the
#   unit saturates;
# - momentum gives the largest gain here: plain SGD with lr 0.01 is slow;
# - the deeper network starts slower than the shallow one: PyTorch's default init draws
#   weights from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), which shrinks the signal at every
#   ReLU layer; Xavier and Kaiming, scaled to keep it the same size, fix that, and so does
#   the residual connection, which lets the signal bypass the layers;
# - normal(0, 1) weights multiply the activations by about sqrt(fan_in) = 28 per layer:
#   the first steps are huge, the weights overflow and the loss becomes nan (NumPy warns
#   about the overflow), leaving chance accuracy.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
for name, (accuracies, _, _) in results.items():
    left.plot(range(1, EPOCHS + 1), accuracies, "o-", label=name)
left.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy per epoch")
left.set_xticks(range(1, EPOCHS + 1))
left.legend(fontsize=8)
names = list(results)
bars = right.barh(names, [results[n][0][-1] for n in names])
right.bar_label(bars, fmt="%.3f", padding=2)
right.invert_yaxis()
right.set(xlabel="validation accuracy", xlim=(0, 1), title=f"After {EPOCHS} epoch(s)")
fig.tight_layout()
fig.savefig(out_dir() / "mnist_mlp_variants.png", dpi=100)
print("saved", out_dir() / "mnist_mlp_variants.png")
