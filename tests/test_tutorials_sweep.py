"""PyTorch's tutorials and recipes run with `import ember as torch`: one regression test per
gap they found, and condensed versions of the programs (synthetic data, few steps), compared
with PyTorch from the same weights and inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn

# ---- the tensors tutorial: `torch.device('cuda')` is named on a machine without one --------


@requires_torch
@pytest.mark.parametrize("name", ["cpu", "cpu:0", "cuda", "cuda:1", "mps", "meta"])
def test_any_device_type_can_be_named(name: str) -> None:
    import torch

    d, t = ember.device(name), torch.device(name)
    assert (repr(d), str(d), d.type, d.index) == (repr(t), str(t), t.type, t.index)
    assert ember.device(d) == d and hash(ember.device(name)) == hash(d)


def test_unknown_or_badly_indexed_devices_raise_as_pytorch() -> None:
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        ember.device("foo")
    with pytest.raises(RuntimeError, match="Invalid device string: 'cuda:x'"):
        ember.device("cuda:x")
    assert ember.device("cuda") != ember.device("cpu") and ember.device("cuda:0") != ember.device("cuda")


def test_a_named_cuda_device_raises_only_when_used() -> None:
    cuda = ember.device("cuda")
    assert not (ember.cuda.is_available() & (cuda.index is not None))  # the tutorial's line
    for use in (
        lambda: ember.zeros(2, device=cuda),
        lambda: ember.ones(2).to(cuda),
        lambda: ember.ones(2).cuda(),
        lambda: nn.Linear(2, 2).to(cuda),
        lambda: ember.set_default_device(cuda),
    ):
        with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda'"):
            use()


# ---- changing_default_device and reasoning_about_shapes: `with torch.device(...)` ----------


def test_device_as_a_context_manager() -> None:
    with ember.device("cpu") as d:
        layer = nn.Linear(2, 3)
        assert d == ember.device("cpu") and layer.weight.device == ember.zeros(1).device == d
    with pytest.raises(RuntimeError, match="CPU only"), ember.device("cuda:0"):
        pass


# ---- the blitz's neural_networks_tutorial prints MSELoss's grad_fn and walks from it -------


def _node_names(node, depth: int) -> list:
    names = []
    for _ in range(depth):
        names.append(type(node).__name__ if hasattr(node, "variable") else node.name())
        if not node.next_functions:
            break
        node = node.next_functions[0][0]
    return names


@requires_torch
def test_mse_loss_is_one_node_as_pytorch() -> None:
    import torch

    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)
    t = np.full((3, 2), 0.5, np.float32)
    e_in, t_in = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    e_loss = nn.MSELoss()(e_in * 2, ember.tensor(t))
    t_loss = torch.nn.MSELoss()(t_in * 2, torch.tensor(t))
    assert _node_names(e_loss.grad_fn, 3) == _node_names(t_loss.grad_fn, 3)
    # the input, then the target, which needs no gradient
    assert [n is None for n, _ in e_loss.grad_fn.next_functions] == [False, True]
    assert len(t_loss.grad_fn.next_functions) == 2


@requires_torch
@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "shapes, dtypes",
    [
        (((3, 2), (3, 2)), ("float32", "float32")),
        (((3, 2), (2,)), ("float32", "float32")),
        (((2,), (3, 2)), ("float32", "float64")),
        (((0, 2), (0, 2)), ("float64", "float64")),
    ],
)
def test_mse_loss_values_and_gradients_match_pytorch(shapes, dtypes, reduction: str) -> None:
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(d) for s, d in zip(shapes, dtypes)]
    grads = []
    for T in (ember, torch):
        x, t = (T.tensor(a, requires_grad=True) for a in arrays)
        loss = T.nn.functional.mse_loss(x, t, reduction=reduction)
        loss.backward(T.ones_like(loss))
        assert str(loss.dtype).split(".")[1] == str(np.result_type(*arrays))
        grads.append([loss.detach().numpy(), x.grad.numpy(), t.grad.numpy()])
    for e, t in zip(*grads):
        assert e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


def test_mse_loss_second_derivatives_and_integer_inputs() -> None:
    x = ember.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
    t = ember.tensor([0.3, -0.7], dtype=ember.float64, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        fn = lambda a, b, r=reduction: ember.nn.functional.mse_loss(a, b.expand(3, 2), reduction=r)  # noqa: E731
        assert ember.autograd.gradcheck(fn, (x, t)) and ember.autograd.gradgradcheck(fn, (x, t))
    with pytest.raises(NotImplementedError, match="\"mse_cpu\" not implemented for 'Long'"):
        ember.nn.functional.mse_loss(ember.ones(2, dtype=ember.long), ember.ones(2, dtype=ember.long))
    # with weight, composed as in PyTorch
    weighted = ember.nn.functional.mse_loss(x, x.detach() + 1, weight=ember.ones(3, 2, dtype=ember.float64))
    assert weighted.item() == 1.0 and weighted.grad_fn.name() == "DivBackward0"


# ---- introyt's tensors: a deprecation warning names the user's line, not ember/_out.py -----


@pytest.mark.parametrize(
    "call",
    [
        lambda: ember.cross(ember.ones(3), ember.ones(3)),
        lambda: ember.ones(3).cross(ember.ones(3)),
        lambda: ember.frobenius_norm(ember.eye(3), dim=(0, 1)),
        lambda: ember.nuclear_norm(ember.eye(3)),
        lambda: ember.range(0, 3),
        lambda: ember.triangular_solve(ember.ones(3, 1), ember.eye(3)),
        lambda: ember.lu_solve(ember.ones(3, 1), *ember.linalg.lu_factor(ember.eye(3))),
    ],
)
def test_warnings_of_functions_taking_out_name_the_callers_line(call) -> None:
    with pytest.warns(UserWarning) as record:
        call()
    assert [w.filename for w in record] == [__file__]


# ---- the programs, condensed: each runs once in ember and once in PyTorch --------------------


def _fill(T, model, seed: int = 0, scale: float = 0.3):
    """Overwrite every parameter of `model` with draws of a seeded NumPy generator, so that
    the two frameworks start from the same weights."""
    rng = np.random.default_rng(seed)
    with T.no_grad():
        for _, p in model.named_parameters():
            p.copy_(T.from_numpy(rng.uniform(-scale, scale, size=tuple(p.shape)).astype(np.float32)))
    return model


def _same_numbers(program, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    """Run `program(T)` with ember and with PyTorch and compare the numbers it returns."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops: PyTorch's threads only contend on a loaded machine
    try:
        ours, theirs = (np.asarray(program(T), dtype=np.float64) for T in (ember, torch))
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def _quickstart(T, folder) -> list:
    """Learn the Basics: a Dataset of 28x28 images, an MLP behind nn.Flatten, SGD on
    cross-entropy, an accuracy pass, and the state_dict saved and loaded again."""
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(48, 28, 28), dtype=np.uint8)
    classes = rng.integers(0, 10, size=48)

    class Images(T.utils.data.Dataset):
        def __len__(self):
            return len(classes)

        def __getitem__(self, i):
            return T.from_numpy(pixels[i]).unsqueeze(0).float() / 255, int(classes[i])

    class Classifier(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = T.nn.Flatten()
            self.stack = T.nn.Sequential(T.nn.Linear(784, 32), T.nn.ReLU(), T.nn.Linear(32, 10))

        def forward(self, x):
            return self.stack(self.flatten(x))

    device = T.accelerator.current_accelerator().type if T.accelerator.is_available() else "cpu"
    model = _fill(T, Classifier().to(device), scale=0.05)
    loader = T.utils.data.DataLoader(Images(), batch_size=16)
    loss_fn, optimizer = T.nn.CrossEntropyLoss(), T.optim.SGD(model.parameters(), lr=0.1)
    out = []
    for _ in range(2):
        model.train()
        for X, y in loader:
            loss = loss_fn(model(X.to(device)), y.to(device))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            out.append(loss.item())
        model.eval()
        correct = 0.0
        with T.no_grad():
            for X, y in loader:
                correct += (model(X).argmax(1) == y).type(T.float).sum().item()
        out.append(correct / len(loader.dataset))
    path = folder / f"{T.__name__}.pth"
    T.save(model.state_dict(), path)
    again = Classifier()
    again.load_state_dict(T.load(path, weights_only=True))
    with T.no_grad():
        out += again(Images()[0][0]).flatten().tolist()
    return out


@requires_torch
def test_quickstart(tmp_path) -> None:
    _same_numbers(lambda T: _quickstart(T, tmp_path))


def _polynomials(T) -> list:
    """Learning PyTorch with examples: sin(x) fitted by a cubic, with tensors and autograd,
    with nn (Linear over the powers, Flatten(0, 1)), with an optimizer and with a custom
    autograd Function (the Legendre polynomial P3)."""
    x = T.linspace(-np.pi, np.pi, 200)
    y = T.sin(x)
    out = []
    coefficients = [T.tensor(v, requires_grad=True) for v in (0.1, -0.2, 0.05, 0.3)]
    for _ in range(30):
        a, b, c, d = coefficients
        loss = (a + b * x + c * x**2 + d * x**3 - y).pow(2).sum()
        loss.backward()
        with T.no_grad():
            for p in coefficients:
                p -= 1e-5 * p.grad
                p.grad = None
    out += [p.item() for p in coefficients]

    powers = x.unsqueeze(-1).pow(T.tensor([1, 2, 3]))
    for make_optimizer in (None, lambda ps: T.optim.RMSprop(ps, lr=1e-3)):
        model = _fill(T, T.nn.Sequential(T.nn.Linear(3, 1), T.nn.Flatten(0, 1)))
        loss_fn = T.nn.MSELoss(reduction="sum")
        optimizer = make_optimizer and make_optimizer(model.parameters())
        for _ in range(30):
            loss = loss_fn(model(powers), y)
            model.zero_grad()
            loss.backward()
            if optimizer is None:
                with T.no_grad():
                    for p in model.parameters():
                        p -= 1e-5 * p.grad
            else:
                optimizer.step()
        out += [loss.item(), model[0].bias.item(), *model[0].weight[:, 1].tolist()]

    class P3(T.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            ctx.save_for_backward(v)
            return 0.5 * (5 * v**3 - 3 * v)

        @staticmethod
        def backward(ctx, grad):
            (v,) = ctx.saved_tensors
            return grad * 1.5 * (5 * v**2 - 1)

    a, b, c, d = (T.full((), v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
    for _ in range(30):
        loss = (a + b * P3.apply(c + d * x) - y).pow(2).sum()
        loss.backward()
        with T.no_grad():
            for p in (a, b, c, d):
                p -= 5e-6 * p.grad
                p.grad = None
    return out + [loss.item(), b.item(), d.item()]


@requires_torch
def test_learning_pytorch_with_examples() -> None:
    _same_numbers(_polynomials)


def _what_is_nn_really(T) -> list:
    """What is torch.nn really?: logistic regression by hand (log_softmax written out, NLL by
    indexing), then nn.Module, DataLoader, and the all-convolutional net with a Lambda layer,
    AdaptiveAvgPool2d and a wrapped loader, trained by SGD with momentum."""
    rng = np.random.default_rng(2)
    images = T.tensor(rng.uniform(size=(64, 784)).astype(np.float32))
    labels = T.tensor(rng.integers(0, 10, size=64))
    weights = T.tensor(rng.normal(size=(784, 10)).astype(np.float32)) / np.sqrt(784)
    weights.requires_grad_()
    bias = T.zeros(10, requires_grad=True)
    out = []
    for start in range(0, 64, 16):
        xb, yb = images[start : start + 16], labels[start : start + 16]
        z = xb @ weights + bias
        log_p = z - z.exp().sum(-1).log().unsqueeze(-1)
        loss = -log_p[range(yb.shape[0]), yb].mean()
        loss.backward()
        with T.no_grad():
            weights -= weights.grad * 0.5
            bias -= bias.grad * 0.5
            weights.grad.zero_()
            bias.grad.zero_()
        out += [loss.item(), (log_p.argmax(dim=1) == yb).float().mean().item()]

    class Lambda(T.nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    model = T.nn.Sequential(
        Lambda(lambda x: x.view(-1, 1, 28, 28)),
        T.nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1),
        T.nn.ReLU(),
        T.nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1),
        T.nn.ReLU(),
        T.nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    _fill(T, model)
    optimizer = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(images, labels), batch_size=16)
    for _ in range(2):
        for xb, yb in ((x.view(-1, 1, 28, 28), y) for x, y in loader):
            loss = T.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            out.append(loss.item())
    return out


@requires_torch
def test_what_is_torch_nn_really() -> None:
    _same_numbers(_what_is_nn_really)


def _char_rnns(T) -> list:
    """NLP from scratch: a name classifier (nn.RNN's last hidden state through Linear and
    LogSoftmax, a batch's NLL losses summed, clip_grad_norm_) and a character generator
    built from Linear layers over concatenated one-hots, updated through `p.data`."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = {"en": ["smith", "jones", "brown"], "fr": ["dubois", "moreau"], "ru": ["ivanov", "popov"]}

    def one_hots(word):
        t = T.zeros(len(word), 1, len(letters) + 1)
        for i, ch in enumerate(word):
            t[i][0][letters.find(ch)] = 1
        return t

    samples = [(one_hots(w), T.tensor([k])) for k, words in enumerate(names.values()) for w in words]

    class Classifier(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = T.nn.RNN(len(letters) + 1, 12)
            self.h2o = T.nn.Linear(12, 3)
            self.softmax = T.nn.LogSoftmax(dim=1)

        def forward(self, line):
            _, hidden = self.rnn(line)
            return self.softmax(self.h2o(hidden[0]))

    model = _fill(T, Classifier())
    optimizer, criterion = T.optim.SGD(model.parameters(), lr=0.2), T.nn.NLLLoss()
    out = []
    for _ in range(4):
        for batch in (samples[:4], samples[4:]):
            total = sum(criterion(model(line), label) for line, label in batch)
            total.backward()
            T.nn.utils.clip_grad_norm_(model.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            out.append(total.item())
    top_value, top_index = model(one_hots("petrov")).topk(1)
    out += [top_value.item(), top_index[0].item()]

    class Generator(T.nn.Module):
        def __init__(self, categories, size, hidden):
            super().__init__()
            self.hidden = hidden
            self.i2h = T.nn.Linear(categories + size + hidden, hidden)
            self.i2o = T.nn.Linear(categories + size + hidden, size)
            self.o2o = T.nn.Linear(hidden + size, size)
            self.softmax = T.nn.LogSoftmax(dim=1)

        def forward(self, category, letter, hidden):
            joined = T.cat((category, letter, hidden), 1)
            hidden = self.i2h(joined)
            return self.softmax(self.o2o(T.cat((hidden, self.i2o(joined)), 1))), hidden

    gen = _fill(T, Generator(3, len(letters) + 1, 16), seed=1)
    for k, words in enumerate(names.values()):
        category = T.zeros(1, 3)
        category[0][k] = 1
        for word in words:
            targets = T.LongTensor([letters.find(ch) for ch in word[1:]] + [len(letters)])
            targets.unsqueeze_(-1)
            hidden, loss = T.zeros(1, 16), T.Tensor([0])
            gen.zero_grad()
            for i, letter in enumerate(one_hots(word)):
                output, hidden = gen(category, letter, hidden)
                loss += T.nn.NLLLoss()(output, targets[i])
            loss.backward()
            for p in gen.parameters():
                p.data.add_(p.grad.data, alpha=-0.05)
            out.append(loss.item() / len(word))
    return out


@requires_torch
def test_char_rnn_classification_and_generation() -> None:
    _same_numbers(_char_rnns)


def _seq2seq(T) -> list:
    """seq2seq translation: a GRU encoder (batch_first) and a decoder with Bahdanau attention
    (tanh of two Linears, softmax, bmm), teacher forcing, Adam, then greedy decoding with
    topk and detach."""
    length, vocab, size = 5, 10, 12

    class Attention(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.Wa, self.Ua, self.Va = T.nn.Linear(size, size), T.nn.Linear(size, size), T.nn.Linear(size, 1)

        def forward(self, query, keys):
            scores = self.Va(T.tanh(self.Wa(query) + self.Ua(keys))).squeeze(2).unsqueeze(1)
            weights = T.nn.functional.softmax(scores, dim=-1)
            return T.bmm(weights, keys), weights

    class Encoder(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding, self.gru = T.nn.Embedding(vocab, size), T.nn.GRU(size, size, batch_first=True)

        def forward(self, ids):
            return self.gru(self.embedding(ids))

    class Decoder(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding, self.attention = T.nn.Embedding(vocab, size), Attention()
            self.gru, self.out = T.nn.GRU(2 * size, size, batch_first=True), T.nn.Linear(size, vocab)

        def forward(self, keys, hidden, targets=None):
            step = T.empty(keys.size(0), 1, dtype=T.long).fill_(0)
            outputs, attentions = [], []
            for i in range(length):
                context, weights = self.attention(hidden.permute(1, 0, 2), keys)
                output, hidden = self.gru(T.cat((self.embedding(step), context), dim=2), hidden)
                outputs.append(self.out(output))
                attentions.append(weights)
                step = (
                    targets[:, i].unsqueeze(1)
                    if targets is not None
                    else outputs[-1].topk(1)[1].squeeze(-1).detach()
                )
            return (
                T.nn.functional.log_softmax(T.cat(outputs, dim=1), dim=-1),
                hidden,
                T.cat(attentions, dim=1),
            )

    rng = np.random.default_rng(3)
    sources = T.from_numpy(rng.integers(2, vocab, size=(8, length)))
    targets = sources.flip(1)
    encoder, decoder = _fill(T, Encoder(), seed=1), _fill(T, Decoder(), seed=2)
    optimizers = [T.optim.Adam(m.parameters(), lr=0.01) for m in (encoder, decoder)]
    out = []
    for _ in range(3):
        for start in (0, 4):
            src, tgt = sources[start : start + 4], targets[start : start + 4]
            for o in optimizers:
                o.zero_grad()
            keys, hidden = encoder(src)
            log_p, _, _ = decoder(keys, hidden, tgt)
            loss = T.nn.NLLLoss()(log_p.view(-1, log_p.size(-1)), tgt.reshape(-1))
            loss.backward()
            for o in optimizers:
                o.step()
            out.append(loss.item())
    with T.no_grad():
        log_p, _, attentions = decoder(*encoder(sources[:2]))
    return out + log_p.topk(1)[1].flatten().tolist() + attentions.sum(-1).flatten().tolist()


@requires_torch
def test_seq2seq_with_attention() -> None:
    _same_numbers(_seq2seq)
