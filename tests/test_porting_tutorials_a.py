"""PyTorch's beginner, autograd and recipe tutorials redone as small programs of the library
module `T`, run with `T = torch` and `T = ember` from the same weights (the harness of
test_porting_programs): Learning PyTorch with Examples (gradients by hand, a custom
Function, a custom Module, a graph that changes each step), What is torch.nn really?
(its chain of refactors up to a wrapped loader), the Learn-the-Basics pages on building a
model, autograd and optimization loops, the saving and loading recipes (a checkpoint of two
models and optimizers, warm starts, map_location, mmap and assign), reasoning about shapes,
zeroing gradients, the default device, mixed precision on the CPU and profiling. Each
program is written afresh at tiny sizes; the programs of test_porting_programs and
test_tutorials_sweep are not repeated."""

from __future__ import annotations

import io
import json
import math
import os
import random

import numpy as np
import pytest

import ember
from conftest import requires_torch
from test_porting_programs import _both, _np, _start

pytestmark = requires_torch


def _name(T, text: str) -> str:
    """A message with the library's name taken out, so that the two can be compared."""
    return text.replace(T.__name__ + ".", "T.")


# ---- 1. Learning PyTorch with Examples: a cubic fitted with gradients written by hand -------


def _hand_gradients(T, shared: dict) -> dict:
    dtype, device = T.float64, T.device("cpu")
    x = T.linspace(-math.pi, math.pi, 120, device=device, dtype=dtype)
    y = T.sin(x)
    start = [0.2, -0.1, 0.05, -0.02]
    a, b, c, d = (T.tensor(v, device=device, dtype=dtype) for v in start)
    lr = 1e-5
    out = {"loss": []}
    for _ in range(40):  # the chain rule applied by hand, as the tutorial's first version
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum().item()
        grad_y_pred = 2.0 * (y_pred - y)
        grads = [
            grad_y_pred.sum(),
            (grad_y_pred * x).sum(),
            (grad_y_pred * x**2).sum(),
            (grad_y_pred * x**3).sum(),
        ]
        a, b, c, d = (p - lr * g for p, g in zip((a, b, c, d), grads))
        out["loss"].append(loss)
    out["by_hand"] = [p.item() for p in (a, b, c, d)]
    # the same steps with autograd: the coefficients are leaves, updated under no_grad
    coefficients = [T.tensor(v, dtype=dtype, requires_grad=True) for v in start]
    for _ in range(40):
        a, b, c, d = coefficients
        loss = (a + b * x + c * x**2 + d * x**3 - y).pow(2).sum()
        loss.backward()
        with T.no_grad():
            for p in coefficients:
                p -= lr * p.grad
                p.grad = None
    out["autograd"] = [p.item() for p in coefficients]
    out["is_leaf"] = [p.is_leaf and p.requires_grad for p in coefficients]
    out["dtype"] = str(coefficients[0].dtype).split(".")[1]
    return out


def test_polynomial_with_hand_written_gradients_and_with_autograd() -> None:
    _both(_hand_gradients, rtol=1e-9, atol=1e-12)


# ---- 2. a custom autograd.Function (Legendre's P3) and an nn.Sequential fit by RMSprop -------


def _legendre_and_rmsprop(T, shared: dict) -> dict:
    class LegendreP3(T.autograd.Function):
        """P3(u) = (5u^3 - 3u) / 2, with its derivative 3(5u^2 - 1) / 2 written by hand."""

        @staticmethod
        def forward(ctx, u):
            ctx.save_for_backward(u)
            return 0.5 * (5 * u**3 - 3 * u)

        @staticmethod
        def backward(ctx, grad_output):
            (u,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * u**2 - 1)

    x = T.linspace(-math.pi, math.pi, 100, dtype=T.float64)
    y = T.sin(x)
    coefficients = [T.full((), v, dtype=T.float64, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3)]
    out = {"loss": []}
    for _ in range(25):
        a, b, c, d = coefficients
        P3 = LegendreP3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        out["loss"].append(loss.item())
        loss.backward()
        with T.no_grad():
            for p in coefficients:
                p -= 5e-6 * p.grad
                p.grad = None
    out["grad_fn"] = y_pred.grad_fn.name()
    u = T.tensor([0.3, -0.7], dtype=T.float64, requires_grad=True)
    out["gradcheck"] = T.autograd.gradcheck(LegendreP3.apply, (u,))

    # the nn version: the powers as features, Linear then Flatten(0, 1), RMSprop
    powers = T.tensor([1, 2, 3])
    xx = x.float().unsqueeze(-1).pow(powers)
    model = _start(T, T.nn.Sequential(T.nn.Linear(3, 1), T.nn.Flatten(0, 1)), shared)
    loss_fn = T.nn.MSELoss(reduction="sum")
    optimizer = T.optim.RMSprop(model.parameters(), lr=1e-3)
    for _ in range(20):
        loss = loss_fn(model(xx), y.float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        out["loss"].append(loss.item())
    linear_layer = model[0]
    out["fit"] = [linear_layer.bias.item(), *linear_layer.weight[:, 0:3].flatten().tolist()]
    out["xx_shape"] = list(xx.shape)
    out["square_avg"] = _np(optimizer.state[linear_layer.weight]["square_avg"])
    return out


def test_custom_function_and_rmsprop_polynomials() -> None:
    _both(_legendre_and_rmsprop, rtol=1e-5, atol=1e-6)


# ---- 3. a custom Module of scalar Parameters and a dynamic graph with weight sharing ---------


def _custom_and_dynamic(T, shared: dict) -> dict:
    nn = T.nn

    class Polynomial3(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(T.randn(()))
            self.b = nn.Parameter(T.randn(()))
            self.c = nn.Parameter(T.randn(()))
            self.d = nn.Parameter(T.randn(()))

        def forward(self, x):
            return self.a + self.b * x + self.c * x**2 + self.d * x**3

        def string(self):
            return f"y = {self.a.item():.3f} + {self.b.item():.3f} x + {self.c.item():.3f} x^2"

    class DynamicNet(nn.Module):
        """A polynomial of degree 3 to 5 chosen on each call; the fourth and fifth terms
        reuse one Parameter, so its gradient sums over both uses."""

        def __init__(self, draw):
            super().__init__()
            self.a, self.b, self.c, self.d, self.e = (nn.Parameter(T.randn(())) for _ in range(5))
            self.draw = draw

        def forward(self, x):
            y = self.a + self.b * x + self.c * x**2 + self.d * x**3
            for exp in range(4, self.draw.randint(4, 6)):
                y = y + self.e * x**exp
            return y

    x = T.linspace(-1.0, 1.0, 50)
    y = T.sin(math.pi * x)
    out = {"loss": [], "degree": [], "e_grad": []}
    poly = Polynomial3()
    _start(T, poly, shared.setdefault("poly", {}))
    optimizer = T.optim.SGD(poly.parameters(), lr=1e-3)
    criterion = nn.MSELoss(reduction="sum")
    for _ in range(15):
        loss = criterion(poly(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        out["loss"].append(loss.item())
    out["string"] = poly.string()
    out["names"] = [name for name, _ in poly.named_parameters()]

    draw = random.Random(3)  # the same degrees in both runs
    net = DynamicNet(draw)
    _start(T, net, shared.setdefault("dynamic", {}))
    optimizer = T.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    for _ in range(12):
        state = draw.getstate()
        degree = 3 + len(range(4, draw.randint(4, 6)))
        draw.setstate(state)
        loss = criterion(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        out["degree"].append(degree)
        out["loss"].append(loss.item())
        out["e_grad"].append(0.0 if net.e.grad is None else net.e.grad.item())  # None: e unused
        optimizer.step()
    out["shapes"] = [list(p.shape) for p in net.parameters()]
    return out


def test_custom_module_and_dynamic_weight_sharing() -> None:
    _both(_custom_and_dynamic)


# ---- 4. What is torch.nn really?: the refactoring chain up to get_data/fit/loss_batch --------


def _nn_really(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    from_numpy = T.from_numpy
    rng = np.random.default_rng(4)
    x_train, y_train, x_valid, y_valid = map(
        from_numpy,
        (
            rng.uniform(size=(48, 784)).astype(np.float32),
            rng.integers(0, 10, size=48),
            rng.uniform(size=(24, 784)).astype(np.float32),
            rng.integers(0, 10, size=24),
        ),
    )
    n, c = x_train.shape
    bs, lr = 16, 0.5
    out = {"shapes": [n, c, int(y_train.min() >= 0), int(y_train.max() <= 9)]}
    loss_func = F.cross_entropy

    def accuracy(out_, yb):
        return (T.argmax(out_, dim=1) == yb).float().mean()

    class MnistLogistic(nn.Module):  # the hand-made weights moved into a Module
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(T.randn(784, 10) / math.sqrt(784))
            self.bias = nn.Parameter(T.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    model = _start(T, MnistLogistic(), shared.setdefault("logistic", {}))
    out["first"] = [
        loss_func(model(x_train[:bs]), y_train[:bs]).item(),
        accuracy(model(x_train[:bs]), y_train[:bs]).item(),
    ]
    for i in range((n - 1) // bs + 1):  # the manual update over model.parameters()
        start_i = i * bs
        xb, yb = x_train[start_i : start_i + bs], y_train[start_i : start_i + bs]
        loss = loss_func(model(xb), yb)
        loss.backward()
        with T.no_grad():
            for p in model.parameters():
                p -= p.grad * lr
            model.zero_grad()
    out["manual"] = loss_func(model(x_train), y_train).item()

    class MnistLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(784, 10)

        def forward(self, xb):
            return self.lin(xb)

    def get_model(store):
        m = _start(T, MnistLinear(), shared.setdefault(store, {}))
        return m, T.optim.SGD(m.parameters(), lr=lr)

    def get_data(train_ds, valid_ds, bs):
        return (
            T.utils.data.DataLoader(train_ds, batch_size=bs, shuffle=False),
            T.utils.data.DataLoader(valid_ds, batch_size=bs * 2),
        )

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
        history = []
        for _ in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)
            model.eval()
            with T.no_grad():
                losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
            history.append(np.sum(np.multiply(losses, nums)) / np.sum(nums))
        return history

    train_ds = T.utils.data.TensorDataset(x_train, y_train)
    valid_ds = T.utils.data.TensorDataset(x_valid, y_valid)
    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    model, opt = get_model("linear")
    out["fit_linear"] = fit(2, model, loss_func, opt, train_dl, valid_dl)
    out["valid_batches"] = [len(valid_dl), len(train_dl)]

    class MnistCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(4, 4, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, 28, 28)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 4)
            return xb.view(-1, xb.size(1))

    cnn = _start(T, MnistCNN(), shared.setdefault("cnn", {}))
    opt = T.optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9)
    out["fit_cnn"] = fit(2, cnn, loss_func, opt, train_dl, valid_dl)

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl, self.func = dl, func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield self.func(*b)

    def preprocess(x, y):
        return x.view(-1, 1, 28, 28), y

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    seq = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    _start(T, seq, shared.setdefault("seq", {}))
    train_w, valid_w = (WrappedDataLoader(dl, preprocess) for dl in get_data(train_ds, valid_ds, bs))
    opt = T.optim.SGD(seq.parameters(), lr=0.1, momentum=0.9)
    out["fit_wrapped"] = fit(2, seq, loss_func, opt, train_w, valid_w)
    # a shuffled loader visits every sample once per epoch (its order is each library's own)
    shuffled = T.utils.data.DataLoader(train_ds, batch_size=bs, shuffle=True)
    seen = T.cat([yb for _, yb in shuffled])
    out["shuffled_counts"] = np.bincount(seen.numpy(), minlength=10)
    return out


def test_what_is_torch_nn_really_refactors() -> None:
    _both(_nn_really)


# ---- 5. the Autograd page: grad_fn, backward(v), retain_graph, no_grad, detach ---------------


def _autograd_page(T, shared: dict) -> dict:
    F = T.nn.functional
    x = T.ones(5)
    y = T.zeros(3)
    w = T.from_numpy(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)).requires_grad_()
    b = T.tensor([0.1, -0.2, 0.3], requires_grad=True)
    z = T.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    out = {"names": [z.grad_fn.name(), loss.grad_fn.name()]}
    loss.backward()
    out["w_grad"], out["b_grad"] = _np(w.grad), _np(b.grad)
    with T.no_grad():
        z = T.matmul(x, w) + b
    z_det = (T.matmul(x, w) + b).detach()
    out["flags"] = [z.requires_grad, z_det.requires_grad, loss.requires_grad, w.grad.requires_grad]

    inp = T.eye(4, 5, requires_grad=True)
    out_ = (inp + 1).pow(2).t()
    out_.backward(T.ones_like(out_), retain_graph=True)
    first = _np(inp.grad)
    out_.backward(T.ones_like(out_), retain_graph=True)  # accumulates: twice the first
    second = _np(inp.grad)
    inp.grad.zero_()
    out_.backward(T.ones_like(out_))  # the graph is freed after this one
    out["jvp"] = [first, second, _np(inp.grad)]
    try:
        out_.backward(T.ones_like(out_))
    except RuntimeError as e:
        out["freed"] = str(e).split(" (")[0]
    try:
        (inp + 1).pow(2).t().backward()
    except RuntimeError as e:
        out["non_scalar"] = str(e)[: len("grad can be implicitly created only for scalar outputs")]

    v = T.tensor([1.0, 0.1, 0.01])
    a = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
    f = a * 2
    while f.norm() < 100:  # the blitz's loop: a graph of data-dependent length
        f = f * 2
    f.backward(v)
    out["vjp"] = _np(a.grad)
    frozen = T.ones(2, 2)
    out["requires_grad_"] = [frozen.requires_grad, frozen.requires_grad_().requires_grad, frozen.is_leaf]

    # fine-tuning: the pretrained layers frozen, a new head the only thing trained
    model = _start(T, T.nn.Sequential(T.nn.Linear(5, 4), T.nn.ReLU(), T.nn.Linear(4, 3)), shared)
    for param in model.parameters():
        param.requires_grad = False
    model[2] = T.nn.Linear(4, 2)
    with T.no_grad():
        model[2].weight.copy_(T.linspace(-0.5, 0.5, 8).reshape(2, 4))
        model[2].bias.fill_(0.1)
    optimizer = T.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    for _ in range(2):
        optimizer.zero_grad()
        model(w.detach().t()).pow(2).sum().backward()
        optimizer.step()
    out["frozen_grads"] = [p.grad is None for p in model.parameters()]
    out["head"] = _np(model[2].weight)
    return out


def test_autograd_basics_page() -> None:
    _both(_autograd_page)


# ---- 6. Build the model and Optimization: Flatten, Softmax(dim=1), train and test loops -------


def _build_and_optimize(T, shared: dict) -> dict:
    nn = T.nn
    rng = np.random.default_rng(6)
    images = T.from_numpy(rng.uniform(size=(40, 1, 8, 8)).astype(np.float32))
    labels = T.from_numpy(rng.integers(0, 4, size=40))

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4)
            )

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    model = _start(T, NeuralNetwork(), shared)
    out = {"print": str(model)}
    out["params"] = [f"{name} {tuple(p.size())}" for name, p in model.named_parameters()]
    logits = model(images[:3])
    pred_probab = nn.Softmax(dim=1)(logits)
    out["probab"], out["pred"] = _np(pred_probab), pred_probab.argmax(1).numpy()
    input_image = images[:3]
    flat = nn.Flatten()(input_image)
    hidden = nn.ReLU()(nn.Linear(64, 16)(flat))
    out["layer_shapes"] = [*flat.shape, *hidden.shape, int((hidden >= 0).all())]

    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(images, labels), batch_size=16)

    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        seen = []
        for batch, (X, y) in enumerate(dataloader):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            seen.append([loss.item(), batch * 16 + len(X), size])
        return seen

    def test_loop(dataloader, model, loss_fn):
        model.eval()
        size, num_batches = len(dataloader.dataset), len(dataloader)
        test_loss, correct = 0, 0
        with T.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(T.float).sum().item()
        return [test_loss / num_batches, correct / size]

    loss_fn = nn.CrossEntropyLoss()
    optimizer = T.optim.SGD(model.parameters(), lr=1e-1)
    out["train"], out["test"] = [], []
    for _ in range(3):
        out["train"] += train_loop(loader, model, loss_fn, optimizer)
        out["test"] += test_loop(loader, model, loss_fn)
    return out


def test_build_the_model_and_optimization_loops() -> None:
    _both(_build_and_optimize)


# ---- 7. Saving and loading a general checkpoint of two models and two optimizers -------------


def _general_checkpoint(T, shared: dict, folder) -> dict:
    nn, F = T.nn, T.nn.functional
    rng = np.random.default_rng(7)
    x = T.from_numpy(rng.standard_normal((12, 1, 8, 8)).astype(np.float32))
    y = T.from_numpy(rng.integers(0, 3, size=12))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 3, 3)
            self.pool = nn.MaxPool2d(2, 2)
            self.fc1 = nn.Linear(3 * 3 * 3, 8)
            self.fc2 = nn.Linear(8, 3)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            return self.fc2(F.relu(self.fc1(T.flatten(x, 1))))

    def build():
        netA, netB = Net(), Net()
        _start(T, netA, shared.setdefault("A", {}))
        _start(T, netB, shared.setdefault("B", {}))
        optA = T.optim.SGD(netA.parameters(), lr=0.01, momentum=0.9)
        optB = T.optim.Adam(netB.parameters(), lr=0.01)
        return netA, netB, optA, optB

    def train(net, opt):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    netA, netB, optA, optB = build()
    out = {"loss": [[train(netA, optA), train(netB, optB)] for _ in range(2)]}
    path = os.path.join(folder, f"{T.__name__}_model.tar")
    T.save(
        {
            "modelA_state_dict": netA.state_dict(),
            "modelB_state_dict": netB.state_dict(),
            "optimizerA_state_dict": optA.state_dict(),
            "optimizerB_state_dict": optB.state_dict(),
            "epoch": 2,
        },
        path,
    )
    modelA, modelB, optimizerA, optimizerB = build()
    checkpoint = T.load(path, weights_only=True)
    modelA.load_state_dict(checkpoint["modelA_state_dict"])
    modelB.load_state_dict(checkpoint["modelB_state_dict"])
    optimizerA.load_state_dict(checkpoint["optimizerA_state_dict"])
    optimizerB.load_state_dict(checkpoint["optimizerB_state_dict"])
    modelA.eval()
    modelB.train()
    out["epoch"] = checkpoint["epoch"]
    out["keys"] = sorted(checkpoint["optimizerB_state_dict"]["state"][0])
    out["resumed"] = []
    for _ in range(2):
        out["resumed"].append(
            [train(netA, optA), train(modelA, optimizerA), train(netB, optB), train(modelB, optimizerB)]
        )
    # loading across devices: every spelling of "onto the CPU"
    devices = []
    for where in (T.device("cpu"), "cpu", {"cuda:0": "cpu"}, lambda storage, loc: storage):
        loaded = T.load(path, map_location=where, weights_only=True)
        devices.append(str(loaded["modelA_state_dict"]["fc2.bias"].device))
    out["devices"] = devices
    restored = Net()
    restored.load_state_dict(T.load(path, map_location="cpu", weights_only=True)["modelB_state_dict"])
    restored.to(T.device("cpu"))
    out["restored"] = _np(restored(x))
    return out


def test_general_checkpoint_of_several_models_and_optimizers(tmp_path) -> None:
    _both(_general_checkpoint, folder=str(tmp_path))


# ---- 8. warm-starting a model from another one's parameters -----------------------------------


def _warm_start(T, shared: dict) -> dict:
    nn = T.nn

    class NetA(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Linear(6, 5), nn.ReLU())
            self.fc = nn.Linear(5, 3)

        def forward(self, x):
            return self.fc(self.features(x))

    class NetB(nn.Module):  # a new head of another size, and one layer the checkpoint lacks
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Linear(6, 5), nn.ReLU())
            self.extra = nn.Linear(5, 5)
            self.fc = nn.Linear(5, 2)

        def forward(self, x):
            return self.fc(T.tanh(self.extra(self.features(x))))

    netA = _start(T, NetA(), shared.setdefault("A", {}))
    buffer = io.BytesIO()
    T.save(netA.state_dict(), buffer)
    buffer.seek(0)
    pretrained = T.load(buffer, weights_only=True)
    netB = _start(T, NetB(), shared.setdefault("B", {}))
    out = {}
    try:
        netB.load_state_dict(pretrained, strict=False)  # fc's shapes differ: even strict=False raises
    except RuntimeError as e:
        out["mismatch"] = _name(T, str(e))
    model_dict = netB.state_dict()
    compatible = {k: v for k, v in pretrained.items() if k in model_dict and v.shape == model_dict[k].shape}
    model_dict.update(compatible)
    result = netB.load_state_dict(model_dict)
    out["all_matched"] = str(result)
    partial = NetB()
    keys = partial.load_state_dict(compatible, strict=False)
    out["missing"], out["unexpected"] = keys.missing_keys, keys.unexpected_keys
    renamed = {"backbone." + k: v for k, v in compatible.items()}
    out["renamed"] = list(partial.load_state_dict(renamed, strict=False))[1]
    x = T.from_numpy(np.random.default_rng(8).standard_normal((4, 6)).astype(np.float32))
    out["features_equal"] = bool((netB.features(x) == netA.features(x)).all())
    optimizer = T.optim.SGD(netB.parameters(), lr=0.1)
    out["loss"] = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = netB(x).pow(2).mean()
        loss.backward()
        optimizer.step()
        out["loss"].append(loss.item())
    return out


def test_warm_starting_from_a_different_model() -> None:
    _both(_warm_start)


# ---- 9. loading from a checkpoint: mmap=True, assign=True; shapes through a network ----------


def _checkpoint_tips(T, shared: dict, folder) -> dict:
    nn = T.nn

    class SomeModule(nn.Module):
        def __init__(self, size):
            super().__init__()
            self.linears = nn.ModuleList([nn.Linear(size, size) for _ in range(3)])

        def forward(self, x):
            return self.linears[2](self.linears[1](self.linears[0](x)))

    model = _start(T, SomeModule(6), shared)
    path = os.path.join(folder, f"{T.__name__}_checkpoint.pth")
    T.save(model.state_dict(), path)
    state_dict = T.load(path, mmap=True, weights_only=True)
    fresh = SomeModule(6)
    fresh_weight = fresh.linears[0].weight
    result = fresh.load_state_dict(state_dict, assign=True)  # the Parameters wrap the loaded tensors
    w = fresh.linears[0].weight
    out = {
        "keys": str(result),
        "assigned": [
            w is not fresh_weight,
            type(w).__name__,
            w.requires_grad,
            bool((w == model.linears[0].weight).all()),
        ],
    }
    x = T.from_numpy(np.random.default_rng(9).standard_normal((2, 6)).astype(np.float32))
    out["out"] = _np(fresh(x))
    state_dict["linears.2.bias"].add_(1.0)  # a private mapping: the file keeps its values
    again = T.load(path, mmap=True, weights_only=True)
    out["file_unchanged"] = bool((again["linears.2.bias"] == model.linears[2].bias).all())
    buffer = io.BytesIO()
    T.save(model.state_dict(), buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        T.load(buffer, mmap=True, weights_only=True)
    out["mmap_flags"] = T.serialization.get_default_mmap_options()

    # reasoning about shapes: a forward hook reports each layer's output shape
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(4, 6, 5)
            self.fc1 = nn.Linear(6 * 5 * 5, 12)
            self.fc2 = nn.Linear(12, 10)

        def forward(self, x):
            x = self.pool(T.relu(self.conv1(x)))
            x = self.pool(T.relu(self.conv2(x)))
            return self.fc2(T.relu(self.fc1(T.flatten(x, 1))))

    shapes = []

    def record(module, args, output):
        shapes.append(f"{type(module).__name__}: {tuple(args[0].shape)} -> {tuple(output.shape)}")

    net = Net()
    for submodule in net.modules():
        if submodule is not net:
            submodule.register_forward_hook(record)
    net(T.zeros(2, 3, 32, 32))
    out["shapes"] = shapes
    conv = nn.Conv2d(3, 5, 4, stride=2, padding=1)
    out["conv_shape"] = list(conv(T.zeros(2, 3, 10, 10)).shape)
    return out


def test_checkpoint_loading_tips_and_shapes(tmp_path) -> None:
    _both(_checkpoint_tips, folder=str(tmp_path))


def test_a_whole_module_is_saved_by_pytorch_and_refused_by_ember(tmp_path) -> None:
    """The recipe's `torch.save(model)` pickles the class; ember.save never pickles (a
    checkpoint cannot run code) and says to save the state_dict, as docs/differences.md has it."""
    import torch

    path = str(tmp_path / "model.pt")
    torch.save(torch.nn.Linear(2, 2), path)
    assert isinstance(torch.load(path, weights_only=False), torch.nn.Linear)
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(path)  # weights_only=True, the default since 2.6
    with pytest.raises(Exception, match="Linear"):
        ember.load(path, weights_only=False)  # ember builds no object of a user's class
    with pytest.raises(TypeError, match=r"save a model's state_dict\(\), not the model itself"):
        ember.save(ember.nn.Linear(2, 2), str(tmp_path / "ours.pt"))


def test_assign_true_is_not_remembered_by_the_state_dict() -> None:
    """A later load of the same state_dict without assign copies into the module's own
    Parameters. PyTorch 2.13 writes `assign_to_params_buffers` into the state_dict's
    `_metadata` and so assigns again (a bug, not copied)."""
    import torch

    for T, copies in ((ember, True), (torch, False)):
        state_dict = T.nn.Linear(3, 2).state_dict()
        T.nn.Linear(3, 2).load_state_dict(state_dict, assign=True)
        copied = T.nn.Linear(3, 2)
        before = copied.bias
        copied.load_state_dict(state_dict)
        assert (copied.bias is before) is copies, T.__name__
        assert copied.bias.tolist() == state_dict["bias"].tolist()


def test_meta_device_of_the_recipes_works_as_in_torch() -> None:
    """The meta device of the two recipes above (modules built without memory, shapes
    without computation): tensors and modules go there, and come back with to_empty
    (tests/test_meta.py tests it in depth). Other accelerators still raise."""
    assert str(ember.device("meta")) == "meta"
    assert ember.empty(2, 3, device="meta").is_meta
    assert ember.nn.Linear(2, 3, device="meta").weight.device == ember.device("meta")
    assert ember.ones(2).to("meta").device.type == "meta"
    with ember.device("meta"):
        assert ember.zeros(2).is_meta
    assert not ember.zeros(2).is_meta
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        ember.empty(2, device="cuda")


# ---- 10. zeroing out gradients: accumulation, zero_grad() to None, set_to_none=False ---------


def _zeroing(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    rng = np.random.default_rng(10)
    x = T.from_numpy(rng.standard_normal((8, 3, 8, 8)).astype(np.float32))
    y = T.from_numpy(rng.integers(0, 3, size=8))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, 3)
            self.pool = nn.MaxPool2d(2, 2)
            self.fc1 = nn.Linear(4 * 3 * 3, 3)

        def forward(self, x):
            return self.fc1(T.flatten(self.pool(F.relu(self.conv1(x))), 1))

    net = _start(T, Net(), shared)
    criterion = nn.CrossEntropyLoss()
    optimizer = T.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    out = {"before": [p.grad is None for p in net.parameters()]}
    criterion(net(x), y).backward()
    once = _np(net.fc1.bias.grad)
    criterion(net(x), y).backward()  # without zeroing: the two gradients add up
    out["accumulated"] = [once, _np(net.fc1.bias.grad)]
    optimizer.zero_grad()
    out["to_none"] = [p.grad is None for p in net.parameters()]
    out["loss"] = []
    for i in range(4):
        optimizer.zero_grad(set_to_none=i % 2 == 0)
        loss = criterion(net(x), y)
        loss.backward()
        optimizer.step()
        out["loss"].append(loss.item())
    net.zero_grad(set_to_none=False)
    out["zeros"] = [float(p.grad.abs().sum()) for p in net.parameters()]
    out["momentum"] = _np(optimizer.state[net.fc1.weight]["momentum_buffer"])
    return out


def test_zeroing_out_gradients() -> None:
    _both(_zeroing)


# ---- 11. changing the default device; mixed precision recipe on the CPU ----------------------


def _devices_and_amp(T, shared: dict) -> dict:
    nn = T.nn
    out = {}
    T.set_default_device("cpu")
    try:
        out["default"] = [
            str(T.get_default_device()),
            str(T.ones(2).device),
            str(nn.Linear(2, 2).weight.device),
        ]
    finally:
        T.set_default_device(None)
    with T.device("cpu"):
        mod = nn.Linear(3, 3)
        out["context"] = [str(mod.weight.device), str(T.randn(2).device)]
    out["after"] = str(T.get_default_device())
    device = "cuda" if T.cuda.is_available() else "cpu"
    out["device"] = device

    # the AMP recipe, run where no GPU is: autocast and the scaler switched off by enabled=
    rng = np.random.default_rng(11)
    data = [T.from_numpy(rng.standard_normal((6, 8)).astype(np.float32)) for _ in range(3)]
    targets = [T.from_numpy(rng.standard_normal((6, 4)).astype(np.float32)) for _ in range(3)]
    net = _start(T, nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)), shared)
    use_amp = device == "cuda"
    opt = T.optim.SGD(net.parameters(), lr=0.01)
    scaler = T.amp.GradScaler(device, enabled=use_amp)
    out["loss"], out["scale"] = [], []
    for _ in range(2):
        for x, t in zip(data, targets):
            with T.autocast(device_type=device, dtype=T.float16, enabled=use_amp):
                output = net(x)
                loss = nn.MSELoss()(output, t)
            out["dtypes"] = [str(output.dtype).split(".")[1], str(loss.dtype).split(".")[1]]
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            T.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.5)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            out["loss"].append(loss.item())
    checkpoint = {"model": net.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict()}
    out["scaler_state"] = sorted(checkpoint["scaler"])
    # a real scaler on the CPU in float32: scaled backward, unscale_, skipped step on inf
    cpu_scaler = T.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=1)
    for step in range(3):
        loss = nn.MSELoss()(net(data[step]), targets[step])
        if step == 1:
            loss = loss * float("inf")
        cpu_scaler.scale(loss).backward()
        cpu_scaler.step(opt)
        cpu_scaler.update()
        opt.zero_grad()
        out["scale"].append(cpu_scaler.get_scale())
    out["weights"] = _np(net[0].weight)
    return out


def test_default_device_and_mixed_precision_recipe() -> None:
    _both(_devices_and_amp)


# ---- 12. profiling a module: record_function, key_averages().table, traces, schedule ---------


def _profiling(T, shared: dict, folder) -> dict:
    nn = T.nn
    P = T.profiler

    class MyModule(nn.Module):
        def __init__(self, in_features, out_features, bias=True):
            super().__init__()
            self.linear = nn.Linear(in_features, out_features, bias)

        def forward(self, x, mask):
            with P.record_function("LINEAR PASS"):
                out = self.linear(x)
            with P.record_function("MASK INDICES"):
                threshold = out.sum(axis=1).mean()
                hi_idx = (mask > threshold).nonzero(as_tuple=True)
            return out, hi_idx

    model = _start(T, MyModule(10, 4), shared)
    rng = np.random.default_rng(12)
    x = T.from_numpy(rng.standard_normal((6, 10)).astype(np.float32))
    mask = T.from_numpy(rng.uniform(size=(6, 4)).astype(np.float32))
    model(x, mask)  # a warm-up
    with P.profile(activities=[P.ProfilerActivity.CPU], record_shapes=True, profile_memory=True) as prof:
        result, hi_idx = model(x, mask)
    events = prof.key_averages()
    by_name = {e.key: e for e in events}
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=20)
    header = table.splitlines()[1]
    out = {
        "labels": [by_name[k].count for k in ("LINEAR PASS", "MASK INDICES")],
        "header": [h.strip() for h in header.split("  ") if h.strip()],
        "footer": table.splitlines()[-1].startswith("Self CPU time total:"),
        "hi_idx": [t.numpy() for t in hi_idx],
        "out": _np(result),
    }
    shaped = prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=5)
    out["shape_column"] = "Input Shapes" in shaped.splitlines()[1]
    out["mem_column"] = "CPU Mem" in table.splitlines()[1]
    out["total_ge_self"] = all(e.cpu_time_total >= e.self_cpu_time_total for e in events)
    path = os.path.join(folder, f"{T.__name__}_trace.json")
    prof.export_chrome_trace(path)
    with open(path) as f:
        trace = json.load(f)
    names = {e.get("name") for e in trace["traceEvents"]}
    out["trace"] = ["LINEAR PASS" in names, "MASK INDICES" in names]

    ready = []
    with P.profile(
        activities=[P.ProfilerActivity.CPU],
        schedule=P.schedule(wait=1, warmup=1, active=2, repeat=1),
        on_trace_ready=lambda p: ready.append(p.step_num),
    ) as p:
        for _ in range(6):
            model(x, mask)
            p.step()
    out["ready"] = ready
    out["actions"] = [
        str(P.schedule(wait=1, warmup=1, active=2, repeat=1)(i)).split(".")[-1] for i in range(6)
    ]
    return out


def test_profiling_a_module(tmp_path) -> None:
    _both(_profiling, folder=str(tmp_path))


def test_mmap_options_and_their_errors(T, tmp_path) -> None:
    """torch.serialization's mmap settings, and what load(mmap=True) refuses, in both."""
    import mmap

    import torch

    serialization = T.serialization
    assert serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
    with serialization.set_default_mmap_options(mmap.MAP_SHARED):
        assert serialization.get_default_mmap_options() == mmap.MAP_SHARED
    assert serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
    with pytest.raises(ValueError, match="expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got 7"):
        serialization.set_default_mmap_options(7)
    path = str(tmp_path / "t.pt")
    T.save({"w": T.ones(2)}, path)
    with open(path, "rb") as f, pytest.raises(ValueError, match="f must be a file path"):
        T.load(f, mmap=True, weights_only=True)
    legacy = str(tmp_path / "legacy.pt")
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match=f"torch.save\\({legacy}, _use_new_zipfile_serialization=True"):
        T.load(legacy, mmap=True, weights_only=True)
    assert T.load(legacy, weights_only=True)["w"].tolist() == [1.0, 1.0]


def test_a_shared_mapping_is_refused_rather_than_ignored(tmp_path) -> None:
    """ember reads a checkpoint into memory: a private mapping's behaviour; a shared one would
    write changes back to the file, which ember cannot do, so it refuses rather than differ."""
    import mmap

    path = str(tmp_path / "t.pt")
    ember.save({"w": ember.ones(2)}, path)
    with ember.serialization.set_default_mmap_options(mmap.MAP_SHARED):
        with pytest.raises(NotImplementedError, match="MAP_SHARED"):
            ember.load(path, mmap=True, weights_only=True)
        assert ember.load(path, weights_only=True)["w"].tolist() == [1.0, 1.0]  # without mmap


def test_grad_of_a_non_leaf_warns_as_pytorch(T) -> None:
    """The autograd tutorials read `.grad` of intermediate results: PyTorch warns that backward
    never fills it unless retain_grad() was called; a leaf, a retained non-leaf and a view of a
    leaf made under no_grad (a leaf too) do not warn."""
    import warnings

    x = T.ones(3, requires_grad=True)
    y = x * 2
    retained = x * 3
    retained.retain_grad()
    with T.no_grad():
        view = x[:2]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
        assert x.grad is None and retained.grad is None and view.grad is None
        assert y.detach().grad is None and T.ones(2).grad is None
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and messages[0].startswith(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."
    )
    assert caught[0].filename == __file__  # the user's line
    (y * retained).sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert retained.grad.tolist() == [2.0, 2.0, 2.0] and x.grad.tolist() == [12.0] * 3
        assert y.grad is None
    assert len(caught) == 1


@pytest.mark.parametrize(
    "call",
    [
        "T.device(0)",
        "T.device(1)",
        "T.device(-1)",
        "T.device(True)",
        "T.device(1.0)",
        "T.randn(2, device=0)",
        "T.ones(2).to(0)",
        "T.nn.Linear(2, 2).to(0)",
    ],
)
def test_a_device_given_as_a_number_raises_as_pytorch(call: str) -> None:
    """`device=0`, the legacy spelling of the first accelerator, in recipes that assume a
    GPU: without one, PyTorch says so (a RuntimeError), as ember does."""
    import torch

    outcomes = []
    for T in (torch, ember):
        with pytest.raises((RuntimeError, TypeError)) as caught:
            eval(call, {"T": T})
        outcomes.append((caught.type, str(caught.value).split(", but expected")[0].split(" - got")[0]))
    assert outcomes[0] == outcomes[1]


def test_load_mmap_checks_the_file_first_as_pytorch(T, tmp_path) -> None:
    """torch.load looks at the file before the mmap arguments: a legacy-layout file object
    gets the legacy RuntimeError, not the path ValueError, and a missing file is missing
    whatever the mapping flags (ember checked mmap first: ValueError, NotImplementedError)."""
    import io
    import mmap

    import torch

    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, str(legacy), _use_new_zipfile_serialization=False)
    for f in (io.BytesIO(legacy.read_bytes()), open(legacy, "rb")):
        with f, pytest.raises(RuntimeError, match=r"torch.save\(_use_new_zipfile_serialization=True\)"):
            T.load(f, mmap=True, weights_only=True)
    with T.serialization.set_default_mmap_options(mmap.MAP_SHARED):
        with pytest.raises(FileNotFoundError):
            T.load(str(tmp_path / "missing.pt"), mmap=True, weights_only=True)
        with pytest.raises(RuntimeError, match="mmap can only be used"):
            T.load(str(legacy), mmap=True, weights_only=True)


@pytest.mark.parametrize(
    "call",
    [
        "T.Generator(device=0)",
        "T.Generator(device=-1)",
        "T.nn.Linear(2, 2).to_empty(device=0)",
        "T.nn.Linear(2, 2).to_empty(device=-1)",
    ],
)
def test_generator_and_to_empty_check_their_device(call: str) -> None:
    """Generator(device=) and Module.to_empty(device=) take a device as factories do: one
    that is not there raises (ember ignored the argument and went on, on the CPU)."""
    import torch

    outcomes = []
    for T in (torch, ember):
        with pytest.raises(RuntimeError) as caught:
            eval(call, {"T": T})
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]
    with pytest.raises(RuntimeError, match="CPU only"):
        ember.Generator(device="cuda")
    assert ember.nn.Linear(2, 2).to_empty(device="cpu:0").weight.shape == (2, 2)
    ember.Generator(device=ember.device("cpu", 0)).manual_seed(0)


@pytest.mark.parametrize(
    "args",
    [("cpu", True), ("cpu", 1.0), ("cpu", "0"), (0, 0), ("DEVICE", 1)],
    ids=["bool-index", "float-index", "str-index", "int-type-and-index", "device-and-index"],
)
def test_device_checks_its_index_argument_as_pytorch(args: tuple) -> None:
    """torch.device's index must be an int: a bool gave ember `cpu:True`, a float "Device
    index must not be negative, got 1.0"; an index beside a non-string type was dropped."""
    import torch

    messages = []
    for T in (torch, ember):
        call = tuple(T.device("cpu") if a == "DEVICE" else a for a in args)
        with pytest.raises(TypeError) as caught:
            T.device(*call)
        messages.append(str(caught.value).replace("torch.device", "device"))
    assert messages[0] == messages[1]


def test_a_numpy_integer_is_a_device_index_as_in_pytorch() -> None:
    """PyTorch reads NumPy integers as ints: the legacy ordinal's error, and an index."""
    import numpy as np

    with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
        ember.device(np.int64(0))
    with pytest.raises(RuntimeError, match="Device index must not be negative"):
        ember.device(np.int32(-1))
    d = ember.device("cpu", np.int64(0))
    assert d == ember.device("cpu:0") and type(d.index) is int and str(d) == "cpu:0"


def test_a_post_accumulate_grad_hook_must_return_none(T) -> None:
    """A hook that reads `.grad` and returns it (`lambda p: p.grad`) raises in PyTorch; ember
    ignored what it returned."""
    x = T.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda p: p.grad)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
        (x * 2).sum().backward()
