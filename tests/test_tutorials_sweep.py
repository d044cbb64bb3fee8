"""PyTorch's tutorials and recipes run with `import ember as torch`: one regression test per
gap they found, and condensed versions of the programs (synthetic data, few steps), compared
with PyTorch from the same weights and inputs."""

from __future__ import annotations

import importlib
import warnings

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
    assert d == name and {name: 1}[d] == 1  # ember's extension: a device equals its name


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
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="mse_loss: the size of tensor a"):
        ember.nn.functional.mse_loss(ember.ones(2, 3), ember.ones(3, 2))  # not NumPy's ValueError
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


def _transformers(T) -> list:
    """The nn.Transformer tutorials: a language model (Embedding, a sin/cos positional buffer,
    TransformerEncoder under a causal mask, SGD with StepLR and clip_grad_norm_) and a
    translation model (nn.Transformer with float and bool masks and key padding masks,
    sequences padded by pad_sequence, Adam, greedy decoding through encoder and decoder)."""
    rng = np.random.default_rng(4)
    vocab, d_model = 20, 16

    class Positions(T.nn.Module):
        def __init__(self, size=64):
            super().__init__()
            position = T.arange(size).unsqueeze(1)
            angle = T.exp(T.arange(0, d_model, 2) * (-np.log(10000.0) / d_model))
            table = T.zeros(size, 1, d_model)
            table[:, 0, 0::2] = T.sin(position * angle)
            table[:, 0, 1::2] = T.cos(position * angle)
            self.register_buffer("table", table)

        def forward(self, x):
            return x + self.table[: x.size(0)]

    class LanguageModel(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding, self.positions = T.nn.Embedding(vocab, d_model), Positions()
            layer = T.nn.TransformerEncoderLayer(d_model, 2, 32, 0.0)
            self.encoder = T.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.linear = T.nn.Linear(d_model, vocab)

        def forward(self, src):
            mask = T.nn.Transformer.generate_square_subsequent_mask(len(src))
            return self.linear(self.encoder(self.positions(self.embedding(src) * np.sqrt(d_model)), mask))

    stream = T.from_numpy(rng.integers(0, vocab, size=(96,)))
    batches = stream.view(4, 24).t().contiguous()
    model = _fill(T, LanguageModel(), scale=0.2)
    optimizer = T.optim.SGD(model.parameters(), lr=1.0)
    scheduler = T.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    out = []
    for _ in range(2):
        for i in range(0, batches.size(0) - 1, 8):
            data, target = batches[i : i + 8], batches[i + 1 : i + 9].reshape(-1)
            loss = T.nn.CrossEntropyLoss()(model(data[: len(target) // 4]).view(-1, vocab), target)
            optimizer.zero_grad()
            loss.backward()
            T.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            out.append(loss.item())
        out.append(scheduler.get_last_lr()[0])
        scheduler.step()

    pad, bos, eos = 1, 2, 3

    class Translator(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = T.nn.Transformer(d_model, 2, 1, 1, 32, 0.0)
            self.src_embedding, self.tgt_embedding = (
                T.nn.Embedding(vocab, d_model),
                T.nn.Embedding(vocab, d_model),
            )
            self.positions, self.generator = Positions(), T.nn.Linear(d_model, vocab)

        def forward(self, src, tgt, src_mask, tgt_mask, src_padding, tgt_padding):
            return self.generator(
                self.transformer(
                    self.positions(self.src_embedding(src)),
                    self.positions(self.tgt_embedding(tgt)),
                    src_mask,
                    tgt_mask,
                    None,
                    src_padding,
                    tgt_padding,
                    src_padding,
                )
            )

    def causal(n):
        mask = (T.triu(T.ones((n, n))) == 1).transpose(0, 1)
        return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)

    def sentence():
        return T.tensor([bos, *rng.integers(4, vocab, size=int(rng.integers(2, 6))), eos])

    pairs = [[(sentence(), sentence()) for _ in range(4)] for _ in range(2)]
    pad_sequence = T.nn.utils.rnn.pad_sequence
    translator = _fill(T, Translator(), seed=1, scale=0.2)
    optimizer = T.optim.Adam(translator.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
    for _ in range(2):
        for batch in pairs:
            src = pad_sequence([s for s, _ in batch], padding_value=pad)
            tgt = pad_sequence([t for _, t in batch], padding_value=pad)
            tgt_in = tgt[:-1, :]
            logits = translator(
                src,
                tgt_in,
                T.zeros((src.shape[0], src.shape[0])).type(T.bool),
                causal(tgt_in.shape[0]),
                (src == pad).transpose(0, 1),
                (tgt_in == pad).transpose(0, 1),
            )
            loss = T.nn.CrossEntropyLoss(ignore_index=pad)(logits.reshape(-1, vocab), tgt[1:, :].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            out.append(loss.item())
    translator.eval()
    src = pairs[0][0][0].view(-1, 1)
    memory = translator.transformer.encoder(translator.positions(translator.src_embedding(src)))
    ys = T.ones(1, 1).fill_(bos).type(T.long)
    for _ in range(6):
        mask = causal(ys.size(0)).type(T.bool)
        decoded = translator.transformer.decoder(
            translator.positions(translator.tgt_embedding(ys)), memory, mask
        )
        _, word = T.max(translator.generator(decoded.transpose(0, 1)[:, -1]), dim=1)
        ys = T.cat([ys, T.ones(1, 1).type_as(src.data).fill_(word.item())], dim=0)
    return out + ys.flatten().tolist()


@requires_torch
def test_transformer_language_model_and_translation() -> None:
    _same_numbers(_transformers)


def _dcgan(T) -> list:
    """DCGAN: ConvTranspose2d/BatchNorm2d generator, LeakyReLU/Sigmoid discriminator,
    weights_init applied by class name, BCELoss against labels made by torch.full and
    fill_, and Adam with betas=(0.5, 0.999)."""
    nz, width = 8, 4

    def weights_init(m):
        name = m.__class__.__name__
        if name.find("BatchNorm") != -1:
            T.nn.init.constant_(m.bias.data, 0)

    G = T.nn.Sequential(
        T.nn.ConvTranspose2d(nz, width * 2, 4, 1, 0, bias=False),
        T.nn.BatchNorm2d(width * 2),
        T.nn.ReLU(True),
        T.nn.ConvTranspose2d(width * 2, 3, 4, 2, 1, bias=False),
        T.nn.Tanh(),
    )
    D = T.nn.Sequential(
        T.nn.Conv2d(3, width, 4, 2, 1, bias=False),
        T.nn.BatchNorm2d(width),
        T.nn.LeakyReLU(0.2, inplace=True),
        T.nn.Conv2d(width, 1, 4, 1, 0, bias=False),
        T.nn.Sigmoid(),
    )
    _fill(T, G.apply(weights_init), seed=1)
    _fill(T, D.apply(weights_init), seed=2)
    rng = np.random.default_rng(5)
    criterion = T.nn.BCELoss()
    opt_d = T.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = T.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    out = []
    for _ in range(3):
        real = T.from_numpy(rng.uniform(-1, 1, size=(4, 3, 8, 8)).astype(np.float32))
        noise = T.from_numpy(rng.normal(size=(4, nz, 1, 1)).astype(np.float32))
        D.zero_grad()
        label = T.full((4,), 1.0, dtype=T.float)
        err_real = criterion(D(real).view(-1), label)
        err_real.backward()
        fake = G(noise)
        label.fill_(0.0)
        err_fake = criterion(D(fake.detach()).view(-1), label)
        err_fake.backward()
        opt_d.step()
        G.zero_grad()
        label.fill_(1.0)
        output = D(fake).view(-1)
        err_g = criterion(output, label)
        err_g.backward()
        opt_g.step()
        out += [(err_real + err_fake).item(), err_g.item(), output.mean().item()]
    return out + D[1].running_var.tolist() + G[1].running_mean.tolist()


@requires_torch
def test_dcgan() -> None:
    _same_numbers(_dcgan)


def _parametrizations_and_pruning(T) -> list:
    """The parametrizations tutorial (symmetric, skew, Cayley and matrix_exp orthogonal maps,
    right_inverse on assignment, cached(), remove_parametrizations either way) and the
    pruning tutorial (l1_unstructured, ln_structured, global_unstructured, remove, and a
    BasePruningMethod subclass)."""
    P = importlib.import_module(f"{T.__name__}.nn.utils.parametrize")
    prune = importlib.import_module(f"{T.__name__}.nn.utils.prune")

    class Symmetric(T.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Skew(T.nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

    class Cayley(T.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", T.eye(n))

        def forward(self, X):
            return T.linalg.solve(self.Id - X, self.Id + X)

    class MatrixExp(T.nn.Module):
        def forward(self, X):
            return T.matrix_exp(X)

    out = []
    for seed, maps in enumerate(
        ([Symmetric()], [Skew(), Cayley(3)], [Skew(), MatrixExp()], [Symmetric(), MatrixExp()])
    ):
        layer = _fill(T, T.nn.Linear(3, 3), seed=seed)
        for m in maps:
            P.register_parametrization(layer, "weight", m)
        with P.cached():
            W = layer.weight
            out += W.flatten().tolist() + [T.dist(W.T @ W, T.eye(3)).item(), T.dist(W, W.T).item()]
        layer(T.ones(2, 3)).sum().backward()
        out += layer.parametrizations.weight.original.grad.flatten().tolist()
    layer = _fill(T, T.nn.Linear(3, 3))
    P.register_parametrization(layer, "weight", Symmetric())
    symmetric = T.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    layer.weight = symmetric
    out += layer.parametrizations.weight.original.flatten().tolist() + [float(P.is_parametrized(layer))]
    P.remove_parametrizations(layer, "weight", leave_parametrized=False)
    out += layer.weight.flatten().tolist() + [float(P.is_parametrized(layer))]

    class LeNet(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = T.nn.Conv2d(1, 6, 3), T.nn.Conv2d(6, 16, 3)
            self.fc1, self.fc2 = T.nn.Linear(16 * 5 * 5, 32), T.nn.Linear(32, 10)

        def forward(self, x):
            x = T.nn.functional.max_pool2d(T.nn.functional.relu(self.conv1(x)), 2)
            x = T.nn.functional.max_pool2d(T.nn.functional.relu(self.conv2(x)), 2)
            return self.fc2(T.nn.functional.relu(self.fc1(x.view(-1, int(x.nelement() / x.shape[0])))))

    class EverySecond(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    model = _fill(T, LeNet())
    prune.l1_unstructured(model.conv1, name="weight", amount=0.3)
    prune.l1_unstructured(model.conv1, name="bias", amount=3)
    prune.ln_structured(model.conv1, name="weight", amount=0.5, n=2, dim=0)
    out += model.conv1.weight_mask.flatten().tolist() + model.conv1.bias_mask.tolist()
    out.append(len([n for n, _ in model.conv1.named_buffers()]))
    prune.remove(model.conv1, "weight")
    prune.global_unstructured(
        [(model.conv2, "weight"), (model.fc1, "weight"), (model.fc2, "weight")],
        pruning_method=prune.L1Unstructured,
        amount=0.2,
    )
    out += [float(T.sum(m.weight == 0)) for m in (model.conv1, model.conv2, model.fc1, model.fc2)]
    EverySecond.apply(model.fc2, "bias")
    out += model.fc2.bias.tolist() + model(T.ones(2, 1, 28, 28)).flatten().tolist()
    return out + [float(len(model.state_dict()))]


@requires_torch
def test_parametrizations_and_pruning() -> None:
    _same_numbers(_parametrizations_and_pruning, atol=1e-5)


def _torch_func(T) -> list:
    """The torch.func tutorials: per-sample gradients by vmap(grad(functional_call)),
    Jacobians and Hessians by jacrev, jacfwd and hessian (batched by vmap), a Hessian-vector
    product by jvp of grad, and an ensemble run by stack_module_state."""
    func = T.func
    rng = np.random.default_rng(6)

    def data(*shape):
        return T.from_numpy(rng.normal(size=shape).astype(np.float32))

    model = _fill(
        T, T.nn.Sequential(T.nn.Conv2d(1, 3, 3), T.nn.ReLU(), T.nn.Flatten(), T.nn.Linear(3 * 6 * 6, 5))
    )
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(params, sample, target):
        prediction = func.functional_call(model, (params, {}), (sample.unsqueeze(0),))
        return T.nn.functional.cross_entropy(prediction, target.unsqueeze(0))

    images, targets = data(4, 1, 8, 8), T.tensor([0, 3, 1, 4])
    grads = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, images, targets)
    out = [g for v in grads.values() for g in v.flatten().tolist()]

    def predict(weight, bias, x):
        return T.nn.functional.linear(x, weight, bias).tanh()

    weight, bias, x = data(3, 4), data(3), data(4)
    out += func.jacrev(predict, argnums=2)(weight, bias, x).flatten().tolist()
    out += func.jacfwd(predict, argnums=(0, 1))(weight, bias, x)[0].flatten().tolist()
    out += func.hessian(predict, argnums=2)(weight, bias, x).flatten().tolist()
    batch = func.vmap(func.jacrev(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, data(2, 4))
    out += batch.flatten().tolist()
    out += func.jvp(func.grad(lambda v: v.sin().sum()), (x,), (data(4),))[1].tolist()

    members = [
        _fill(T, T.nn.Sequential(T.nn.Linear(4, 6), T.nn.ReLU(), T.nn.Linear(6, 2)), seed=s) for s in range(3)
    ]
    stacked, buffers = func.stack_module_state(members)

    def run(params, buffers, x):
        return func.functional_call(members[0], (params, buffers), (x,))

    out += func.vmap(run, in_dims=(0, 0, None))(stacked, buffers, data(5, 4)).flatten().tolist()
    return out


@requires_torch
def test_torch_func_tutorials() -> None:
    _same_numbers(_torch_func)


def _schedulers(T) -> list:
    """The learning-rate schedulers of the optim recipes, stepped for ten epochs each."""
    lrs = T.optim.lr_scheduler
    makers = [
        lambda o: lrs.StepLR(o, step_size=3, gamma=0.5),
        lambda o: lrs.MultiStepLR(o, milestones=[2, 5], gamma=0.1),
        lambda o: lrs.ExponentialLR(o, gamma=0.9),
        lambda o: lrs.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
        lambda o: lrs.LambdaLR(o, lr_lambda=lambda epoch: 0.95**epoch),
        lambda o: lrs.LinearLR(o, start_factor=0.25, total_iters=4),
        lambda o: lrs.OneCycleLR(o, max_lr=0.5, total_steps=10),
        lambda o: lrs.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
        lambda o: lrs.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
        lambda o: lrs.SequentialLR(
            o,
            [lrs.LinearLR(o, start_factor=0.1, total_iters=2), lrs.ExponentialLR(o, gamma=0.9)],
            milestones=[2],
        ),
        lambda o: lrs.ChainedScheduler(
            [lrs.ConstantLR(o, factor=0.1, total_iters=2), lrs.ExponentialLR(o, gamma=0.9)]
        ),
    ]
    out = []
    for make in makers:
        optimizer = T.optim.SGD(T.nn.Linear(2, 1).parameters(), lr=0.1, momentum=0.9)
        scheduler = make(optimizer)
        for _ in range(10):
            optimizer.step()
            out.append(scheduler.get_last_lr()[0])
            scheduler.step()
        out.append(optimizer.param_groups[0]["momentum"])
    optimizer = T.optim.SGD(T.nn.Linear(2, 1).parameters(), lr=0.1)
    plateau = lrs.ReduceLROnPlateau(optimizer, "min", patience=1, factor=0.5)
    for metric in (1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8):
        plateau.step(metric)
        out.append(optimizer.param_groups[0]["lr"])
    return out


@requires_torch
def test_lr_scheduler_recipes() -> None:
    _same_numbers(_schedulers, rtol=1e-6)


# ---- the double-backward and conv-bn custom Function tutorials (ember alone: gradcheck) ------


def test_custom_function_tutorials_pass_gradcheck() -> None:
    gradcheck, gradgradcheck = ember.autograd.gradcheck, ember.autograd.gradgradcheck
    rng = np.random.default_rng(7)

    def data(*shape):
        return ember.tensor(rng.normal(size=shape), requires_grad=True)

    class Sinh(ember.autograd.Function):  # three outputs, two of them only saved for backward
        @staticmethod
        def forward(ctx, x):
            up, down = ember.exp(x), ember.exp(-x)
            ctx.save_for_backward(up, down)
            return (up - down) / 2, up, down

        @staticmethod
        def backward(ctx, grad, grad_up, grad_down):
            up, down = ctx.saved_tensors
            return grad * (up + down) / 2 + grad_up * up - grad_down * down

    class CubeBackward(ember.autograd.Function):
        @staticmethod
        def forward(ctx, grad, x):
            ctx.save_for_backward(x, grad)
            return grad * 3 * x**2

        @staticmethod
        def backward(ctx, gg):
            x, grad = ctx.saved_tensors
            return gg * 3 * x**2, gg * grad * 6 * x

    class Cube(ember.autograd.Function):  # its backward is itself a Function
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return CubeBackward.apply(grad, x)

    class Conv(ember.autograd.Function):  # the conv-bn tutorial's convolution
        @staticmethod
        def forward(ctx, X, weight):
            ctx.save_for_backward(X, weight)
            return ember.nn.functional.conv2d(X, weight)

        @staticmethod
        def backward(ctx, grad):
            X, weight = ctx.saved_tensors
            grad_weight = ember.nn.functional.conv2d(X.transpose(0, 1), grad.transpose(0, 1)).transpose(0, 1)
            return ember.nn.functional.conv_transpose2d(grad, weight), grad_weight

    x = data(2, 3)
    assert gradcheck(lambda v: Sinh.apply(v)[0], x) and gradgradcheck(lambda v: Sinh.apply(v)[0], x)
    assert gradcheck(Cube.apply, x) and gradgradcheck(Cube.apply, x)
    assert gradcheck(Conv.apply, (data(2, 2, 5, 5), data(3, 2, 3, 3)))


# ---- neural style transfer: torch.tensor(a_tensor) advises detach().clone(), as PyTorch ----


@requires_torch
def test_copy_constructing_from_a_tensor_warns_as_pytorch() -> None:
    import torch

    for T in (ember, torch):
        source = T.ones(2, requires_grad=True)
        with pytest.warns(
            UserWarning, match=r"detach\(\).clone\(\).*rather than torch.tensor\(sourceTensor\)"
        ) as w:
            copy = T.tensor(source)
        assert w[0].filename == __file__ and not copy.requires_grad
        with pytest.warns(UserWarning, match=r"rather than tensor.new_tensor\(sourceTensor\)"):
            source.new_tensor(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither a list of tensors nor asarray warns
        ember.tensor([ember.tensor(1.0), ember.tensor(2.0)])
        ember.asarray(ember.ones(2), dtype=ember.float64, copy=True)


# ---- the transformer tutorials: PyTorch's warnings about nested tensors and mixed masks ------


def _encoder_warnings(T, layer_options: dict, encoder_options: dict) -> list:
    layer = T.nn.TransformerEncoderLayer(8, **{"nhead": 2, **layer_options})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        T.nn.TransformerEncoder(layer, 1, **encoder_options)
    return [str(w.message) for w in caught]


@requires_torch
@pytest.mark.parametrize(
    "layer_options, encoder_options",
    [
        ({}, {}),
        ({"batch_first": True}, {}),
        ({"batch_first": True, "norm_first": True}, {}),
        ({"batch_first": True, "nhead": 1}, {}),
        ({"batch_first": True, "bias": False}, {}),
        ({"batch_first": True, "activation": "gelu"}, {}),
        ({"batch_first": True, "activation": lambda x: x.sigmoid()}, {}),
        ({}, {"enable_nested_tensor": False}),
    ],
)
def test_encoder_warns_when_nested_tensors_would_not_be_used(
    layer_options: dict, encoder_options: dict
) -> None:
    import torch

    assert _encoder_warnings(ember, layer_options, encoder_options) == _encoder_warnings(
        torch, layer_options, encoder_options
    )


@requires_torch
def test_mismatched_mask_types_warn_as_pytorch() -> None:
    import torch

    messages = []
    for T in (ember, torch):
        attention = T.nn.MultiheadAttention(4, 2)
        x = T.ones(3, 2, 4)
        causal = T.nn.Transformer.generate_square_subsequent_mask(3)
        padding = T.tensor([[False, False, True], [False, False, False]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            attention(x, x, x, key_padding_mask=padding, attn_mask=causal)
            attention(x, x, x, key_padding_mask=padding, attn_mask=causal == float("-inf"))
            attention(x, x, x, key_padding_mask=padding.float(), attn_mask=causal)
        messages.append([str(w.message) for w in caught])
        if T is ember:
            assert [w.filename for w in caught] == [__file__]
    assert messages[0] == messages[1] and len(messages[0]) == 1


# ---- beginners' mistakes: the class-index target checked in PyTorch's order -----------------


@requires_torch
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("shape", [(2, 3), (3,), (1, 3), (2, 3, 4)])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_bad_class_targets_raise_pytorchs_exception_types(shape: tuple, name: str) -> None:
    import torch

    def targets(T):
        return [
            T.tensor([0], dtype=T.int32),
            T.tensor([0.5]),
            T.tensor(0.5),
            T.tensor(0),
            T.tensor([[0], [1]], dtype=T.int32),
            T.ones(3, 3),
            T.ones(2),
            T.tensor([0, 1]),
            T.tensor([0, 1, 2]),
        ]

    def outcome(T, target):
        try:
            getattr(T.nn.functional, name)(T.ones(*shape), target)
        except (RuntimeError, ValueError, IndexError) as e:
            return type(e).__name__
        return "ok"

    assert [outcome(ember, t) for t in targets(ember)] == [outcome(torch, t) for t in targets(torch)]


def test_one_sample_with_a_one_element_target() -> None:
    # PyTorch computes the loss but fails in backward ("size mismatch"); ember gives the
    # gradient of the 0-d target's loss
    for name in ("cross_entropy", "nll_loss"):
        grads = []
        for target in (ember.tensor([1]), ember.tensor(1)):
            x = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
            loss = getattr(ember.nn.functional, name)(x, target)
            loss.backward()
            grads.append((loss.shape, loss.item(), x.grad.tolist()))
        assert grads[0] == grads[1]


# ---- torch.tensor of a list of tensors: each one is a number, as in PyTorch -----------------


@requires_torch
def test_tensors_inside_a_list_are_scalars() -> None:
    import torch

    def make(T):
        return [
            [T.ones(1), T.ones(1)],
            [T.tensor(1.0), T.tensor(2)],
            [[T.ones(1)], [T.ones(1, 1)]],
            [1.0, T.tensor([2], dtype=T.int32)],
        ]

    for ours, theirs in zip(make(ember), make(torch)):
        e, t = ember.tensor(ours), torch.tensor(theirs)
        assert (list(e.shape), e.tolist(), str(e.dtype)[6:]) == (list(t.shape), t.tolist(), str(t.dtype)[6:])
    for bad in ([ember.ones(2), ember.ones(2)], [ember.ones(0)], [[ember.ones(1, 2)]]):
        with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
            ember.tensor(bad)
