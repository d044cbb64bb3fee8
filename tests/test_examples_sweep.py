"""The programs of pytorch/examples, run with `import ember as torch`: the gaps they found,
each as a regression test, and condensed versions of the small programs, compared with
PyTorch from the same initial weights where the comparison is meaningful."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn
from ember.nn import functional as F

# ---- mnist_rnn: Dropout2d after an LSTM, on (N, C) features -----------------------------------


@pytest.mark.parametrize("shape", [(6, 64), (2, 3, 4, 5, 6)])
def test_dropout2d_of_another_rank_warns_and_drops_along_dim_1(shape: tuple) -> None:
    x = ember.ones(*shape)
    with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to dropout2d"):
        y = nn.Dropout2d(0.5)(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    # one draw per (N, C) entry, as feature dropout of (N, C, *) input
    flat = y.reshape(shape[0], shape[1], -1)
    assert (flat == flat[..., :1]).all()
    assert 0 < (flat[..., 0] == 0).sum() < shape[0] * shape[1]
    with pytest.warns(UserWarning):
        assert F.dropout2d(x, 0.5, training=False) is x


def test_dropout2d_of_1d_input_raises_as_feature_dropout() -> None:
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.dropout2d(ember.ones(3))


# ---- running a condensed program in both frameworks ------------------------------------------


def _torch_and_ember(build):
    """The model `build(T)` makes in torch, and the same in ember with torch's initial weights."""
    import torch

    torch.manual_seed(0)
    t_model = build(torch)
    e_model = build(ember)
    e_model.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t_model.state_dict().items()})
    return t_model, e_model


def _mnist_rnn_net(T):
    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = T.nn.LSTM(input_size=7, hidden_size=16, batch_first=True)
            self.batchnorm = T.nn.BatchNorm1d(16)
            self.dropout1 = T.nn.Dropout2d(0.0)
            self.fc1 = T.nn.Linear(16, 10)

        def forward(self, input):
            output, hidden = self.rnn(input.reshape(-1, 7, 7))
            output = self.dropout1(self.batchnorm(output[:, -1, :]))
            return T.nn.functional.log_softmax(self.fc1(output), dim=1)

    return Net()


def _mnist_rnn_train(T, model, images: np.ndarray, labels: np.ndarray) -> list:
    optimizer = T.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = T.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    losses = []
    for data, target in zip(T.from_numpy(images), T.from_numpy(labels)):
        optimizer.zero_grad()
        loss = T.nn.functional.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    with T.no_grad():
        output = model(T.from_numpy(images[0]))
        pred = output.argmax(dim=1, keepdim=True)
        losses.append(pred.eq(T.from_numpy(labels[0]).view_as(pred)).sum().item())
    return losses


@requires_torch
@pytest.mark.filterwarnings("ignore:dropout2d")
def test_mnist_rnn_condensed_matches_torch() -> None:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(3, 8, 1, 7, 7)).astype(np.float32)
    labels = rng.integers(0, 10, size=(3, 8))
    t_model, e_model = _torch_and_ember(_mnist_rnn_net)
    np.testing.assert_allclose(
        _mnist_rnn_train(ember, e_model, images, labels),
        _mnist_rnn_train(__import__("torch"), t_model, images, labels),
        rtol=1e-5,
    )


# ---- imagenet: FakeData for --dummy, DistributedSampler's module, the training-loop utilities --


def test_fakedata_items_are_fixed_images_and_int_labels() -> None:
    from ember import datasets, transforms

    ds = datasets.FakeData(5, (3, 6, 4), 7, transforms.ToTensor())
    state = ember.get_rng_state()
    img, label = ds[2]
    assert np.array_equal(ember.get_rng_state(), state)  # the global generator is untouched
    assert img.shape == (3, 6, 4) and img.dtype == ember.float32 and 0 <= img.min() <= img.max() <= 1
    assert isinstance(label, int) and 0 <= label < 7
    assert np.array_equal(ds[2][0].numpy(), img.numpy()) and ds[-3][1] == label
    assert not np.array_equal(ds[3][0].numpy(), img.numpy())
    assert (
        datasets.FakeData(5, (3, 6, 4), 7, random_offset=1)[1][1] == datasets.FakeData(5, (3, 6, 4), 7)[2][1]
    )
    assert datasets.FakeData(2, (1, 5, 5))[0][0].shape == (5, 5)  # one channel: a mode 'L' image
    assert len(ds) == 5 and repr(ds).startswith("Dataset FakeData\n    Number of datapoints: 5")
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]
    images, labels = next(iter(ember.utils.data.DataLoader(ds, batch_size=4)))
    assert images.shape == (4, 3, 6, 4) and labels.dtype == ember.int64


def test_distributed_sampler_imports_from_utils_data_distributed() -> None:
    import ember.utils.data.distributed

    assert ember.utils.data.distributed.DistributedSampler is ember.utils.data.DistributedSampler


def _accuracy(T, output, target, topk=(1,)):
    """imagenet's accuracy(): the percentage of rows whose target is among the top k."""
    with T.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        return [correct[:k].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / batch_size) for k in topk]


@requires_torch
def test_imagenet_accuracy_and_average_meter_format_as_in_torch() -> None:
    import torch

    rng = np.random.default_rng(0)
    output, target = rng.normal(size=(16, 10)).astype(np.float32), rng.integers(0, 10, 16)
    results = []
    for T in (ember, torch):
        acc1, acc5 = _accuracy(T, T.from_numpy(output), T.from_numpy(target), topk=(1, 5))
        total = 0 + acc1[0] * 16  # AverageMeter.update sums tensors times counts
        best = max(total / 16, 0)
        results.append((f"{acc5[0]:6.2f} ({total / 16:.3f})", float(best), tuple(acc1.shape)))
    assert results[0] == results[1]


# ---- gat: nn.Parameter(torch.empty(size=(in_features, n_hidden * n_heads))) -------------------


@requires_torch
@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_size_by_keyword_as_torch(name: str) -> None:
    import torch

    for size in [(2, 3), [4], (), ember.Size([1, 2])]:
        assert getattr(ember, name)(size=size).shape == getattr(torch, name)(size=tuple(size)).shape
    assert getattr(ember, name)(size=(2,), dtype=ember.float64).dtype == ember.float64
    for args, kwargs in [((2,), {"size": (3,)}), ((), {"size": 2})]:
        with pytest.raises(TypeError):
            getattr(torch, name)(*args, **kwargs)
        with pytest.raises(TypeError, match=f"{name}\\(\\)"):
            getattr(ember, name)(*args, **kwargs)
    out = ember.empty(0)
    assert getattr(ember, name)(size=(2, 2), out=out) is out and out.shape == (2, 2)


@requires_torch
@pytest.mark.parametrize("name", ["new_zeros", "new_ones", "new_empty"])
def test_new_factories_take_size_by_keyword_as_torch(name: str) -> None:
    import torch

    e, t = ember.ones(2, dtype=ember.float64), torch.ones(2, dtype=torch.float64)
    got = getattr(e, name)(size=(2, 3))
    assert got.shape == getattr(t, name)(size=(2, 3)).shape and got.dtype == ember.float64
    assert getattr(e, name)(1, 2).shape == getattr(e, name)((1, 2)).shape == (1, 2)
    with pytest.raises(TypeError, match=f"{name}\\(\\) got multiple values for argument 'size'"):
        getattr(e, name)(2, size=(3,))


# ---- dcgan: weights_init through apply, ConvTranspose2d, BCELoss, Adam(betas) -------------------


@requires_torch
def test_data_parallel_function_needs_gpus_as_in_torch() -> None:
    import torch

    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="device type could not be determined"):
            T.nn.parallel.data_parallel(T.nn.Linear(3, 2), T.ones(4, 3), range(1))


def _dcgan_nets(T):
    nn_ = T.nn

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            T.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            T.nn.init.normal_(m.weight, 1.0, 0.02)
            T.nn.init.zeros_(m.bias)

    net_g = nn_.Sequential(
        nn_.ConvTranspose2d(4, 8, 4, 1, 0, bias=False),
        nn_.BatchNorm2d(8),
        nn_.ReLU(True),
        nn_.ConvTranspose2d(8, 1, 4, 2, 1, bias=False),
        nn_.Tanh(),
    )
    net_d = nn_.Sequential(
        nn_.Conv2d(1, 4, 4, 2, 1, bias=False),
        nn_.LeakyReLU(0.2, inplace=True),
        nn_.Conv2d(4, 1, 4, 1, 0, bias=False),
        nn_.Sigmoid(),
    )
    net_g.apply(weights_init)
    net_d.apply(weights_init)
    return nn_.ModuleDict({"G": net_g, "D": net_d})


def _dcgan_train(T, nets, real: np.ndarray, noise: np.ndarray) -> list:
    net_g, net_d = nets["G"], nets["D"]
    criterion = T.nn.BCELoss()
    opt_d = T.optim.Adam(net_d.parameters(), lr=0.0002, betas=(0.5, 0.999))
    opt_g = T.optim.Adam(net_g.parameters(), lr=0.0002, betas=(0.5, 0.999))
    out = []
    for real_cpu, z in zip(T.from_numpy(real), T.from_numpy(noise)):
        net_d.zero_grad()
        label = T.full((real_cpu.size(0),), 1, dtype=real_cpu.dtype)
        output = net_d(real_cpu).view(-1, 1).squeeze(1)
        err_d_real = criterion(output, label)
        err_d_real.backward()
        fake = net_g(z)
        label.fill_(0)
        err_d_fake = criterion(net_d(fake.detach()).view(-1), label)
        err_d_fake.backward()
        opt_d.step()
        net_g.zero_grad()
        label.fill_(1)
        err_g = criterion(net_d(fake).view(-1), label)
        err_g.backward()
        opt_g.step()
        out += [(err_d_real + err_d_fake).item(), err_g.item(), output.mean().item()]
    return out


@requires_torch
def test_dcgan_condensed_matches_torch() -> None:
    import torch

    rng = np.random.default_rng(0)
    real = np.tanh(rng.normal(size=(2, 4, 1, 8, 8))).astype(np.float32)
    noise = rng.normal(size=(2, 4, 4, 1, 1)).astype(np.float32)
    t_nets, e_nets = _torch_and_ember(_dcgan_nets)
    g = e_nets["G"][0].weight.detach().numpy()
    assert abs(g.std() - 0.02) < 0.005 and abs(e_nets["G"][1].weight.detach().numpy().mean() - 1) < 0.02
    np.testing.assert_allclose(
        _dcgan_train(ember, e_nets, real, noise), _dcgan_train(torch, t_nets, real, noise), rtol=1e-5
    )


# ---- word_language_model: truncated BPTT, clipping, a hand-written SGD step


def _wlm_model(T):
    class RNNModel(T.nn.Module):
        def __init__(self, ntoken=11, ninp=6, nlayers=2):
            super().__init__()
            self.ntoken, self.nhid, self.nlayers = ntoken, ninp, nlayers
            self.encoder = T.nn.Embedding(ntoken, ninp)
            self.rnn = T.nn.LSTM(ninp, ninp, nlayers, dropout=0.0)
            self.decoder = T.nn.Linear(ninp, ntoken)
            self.decoder.weight = self.encoder.weight  # tie_weights
            T.nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            T.nn.init.zeros_(self.decoder.bias)

        def forward(self, input, hidden):
            output, hidden = self.rnn(self.encoder(input), hidden)
            decoded = self.decoder(output).view(-1, self.ntoken)
            return T.nn.functional.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )

    return RNNModel()


def _wlm_train(T, model, ids: np.ndarray, bptt: int = 4) -> list:
    def repackage_hidden(h):
        return h.detach() if isinstance(h, T.Tensor) else tuple(repackage_hidden(v) for v in h)

    data = T.tensor(ids.tolist()).type(T.int64)
    data = data.narrow(0, 0, data.size(0) // 3 * 3).view(3, -1).t().contiguous()  # batchify
    criterion = T.nn.NLLLoss()
    hidden = model.init_hidden(3)
    losses = []
    for i in range(0, data.size(0) - 1, bptt):
        seq_len = min(bptt, len(data) - 1 - i)
        source, targets = data[i : i + seq_len], data[i + 1 : i + 1 + seq_len].view(-1)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(source, hidden)
        loss = criterion(output, targets)
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-20)
        losses.append(loss.item())
    return losses


@requires_torch
def test_word_language_model_condensed_matches_torch() -> None:
    import torch

    ids = np.random.default_rng(0).integers(0, 11, 40)
    t_model, e_model = _torch_and_ember(_wlm_model)
    np.testing.assert_allclose(_wlm_train(ember, e_model, ids), _wlm_train(torch, t_model, ids), rtol=1e-5)


# ---- super_resolution and fast_neural_style: transforms of PIL images -------------------------


def test_image_transforms_read_pil_images_as_arrays() -> None:
    from ember import transforms

    image = pytest.importorskip("PIL.Image")
    pixels = np.random.default_rng(0).integers(0, 256, (20, 15, 3), dtype=np.uint8)
    img = image.fromarray(pixels)
    pipeline = transforms.Compose([transforms.CenterCrop(12), transforms.Resize(6), transforms.ToTensor()])
    assert ember.equal(pipeline(img), pipeline(pixels))
    gray = transforms.Grayscale()(img)
    assert isinstance(gray, np.ndarray) and np.array_equal(gray, transforms.Grayscale()(pixels))
    assert transforms.functional.get_image_size(img) == [15, 20]
    y = image.fromarray(pixels[:, :, 0], mode="L")  # super_resolve.py: the Y channel of a YCbCr image
    assert transforms.ToTensor()(y).view(1, -1, y.size[1], y.size[0]).shape == (1, 1, 20, 15)


# ---- older programs: the scalar-first overloads torch deprecated but still accepts ----------------


@requires_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda T, a, b, c: a.clone().add_(-0.5, b),  # p.data.add_(-lr, p.grad.data)
        lambda T, a, b, c: a.add(2, b),
        lambda T, a, b, c: T.add(a, 2, b),
        lambda T, a, b, c: a.clone().sub_(3, b),
        lambda T, a, b, c: T.sub(a, 3, b),
        lambda T, a, b, c: a.clone().addcmul_(0.1, b, c),  # exp_avg_sq.addcmul_(1 - beta2, grad, grad)
        lambda T, a, b, c: a.clone().addcdiv_(-0.1, b, c),  # p.data.addcdiv_(-step_size, exp_avg, denom)
        lambda T, a, b, c: T.addcmul(a, 0.5, b, c),
        lambda T, a, b, c: a.addcdiv(0.5, b, c),
    ],
)
def test_scalar_first_overloads_warn_and_compute_as_torch(call) -> None:
    import torch

    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(2, 3)).astype(np.float32) for _ in range(3))
    c = np.abs(c) + 1
    expected = call(torch, torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c))
    with pytest.warns(UserWarning, match="This overload of .* is deprecated"):
        got = call(ember, ember.from_numpy(a), ember.from_numpy(b), ember.from_numpy(c))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_scalar_first_overloads_keep_gradients_and_refuse_two_tensors() -> None:
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    with pytest.warns(UserWarning):
        y.add_(2, x)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]
    a = ember.ones(2)
    for call in (lambda: a.add(a, a), lambda: a.add_(a, 2), lambda: a.mul_(2, a)):
        with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
            call()


def test_scalar_first_overloads_refuse_the_scalar_by_keyword_too() -> None:
    # torch refuses `add(2, b, alpha=3)`; taking one of the two scalars silently would be wrong
    a, b = ember.ones(3), ember.arange(3.0)
    calls = (
        lambda: a.add(2, b, alpha=3),
        lambda: ember.sub(a, 2, b, alpha=0.5),
        lambda: a.clone().add_(2, b, alpha=3),
        lambda: a.addcmul(2, b, b, value=3),
        lambda: a.clone().addcdiv_(2, b, b + 1, value=3),
    )
    for call in calls:
        with pytest.raises(TypeError, match="unrecognized keyword arguments"):
            call()


def test_alpha_scales_a_list_operand_elementwise() -> None:
    # add takes a list as the tensor it stands for; alpha * [1, 2, 3] once repeated the list
    a = ember.ones(6)
    np.testing.assert_array_equal(ember.add(a[:3], [1.0, 2.0, 3.0], alpha=2).numpy(), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(ember.sub(a[:2], (1.0, 2.0), alpha=3).numpy(), [-2.0, -5.0])
    np.testing.assert_array_equal(a[:3].clone().add_([1.0, 2.0, 3.0], alpha=2).numpy(), [3.0, 5.0, 7.0])
    with pytest.warns(UserWarning, match="deprecated"), pytest.raises(RuntimeError, match="size"):
        ember.add(a, 2, [1.0, 2.0, 3.0])  # (6,) with (3,), not with a repeated (6,) list


# ---- word_language_model and fast_neural_style: `import torch.onnx` at the top -------------------


def test_onnx_imports_and_export_explains_the_way_out() -> None:
    import ember.onnx

    assert not ember.onnx.is_in_onnx_export()
    model = nn.Linear(2, 1)
    with pytest.raises(NotImplementedError, match="torch.onnx.export"):
        ember.onnx.export(model, (ember.zeros(1, 2),), "model.onnx")


# ---- imagenet: `import torch.distributed as dist`, used only when launched on several processes --


@requires_torch
def test_distributed_without_a_process_group_answers_as_torch() -> None:
    import torch
    import torch.distributed

    import ember.distributed as dist

    assert not dist.is_available() and not dist.is_initialized() and not torch.distributed.is_initialized()
    calls = [
        lambda d, T: d.get_rank(),
        lambda d, T: d.get_world_size(),
        lambda d, T: d.barrier(),
        lambda d, T: d.all_reduce(T.ones(2), d.ReduceOp.SUM, async_op=False),  # AverageMeter.all_reduce
        lambda d, T: d.broadcast(T.ones(2), 0),
    ]
    for call in calls:
        with pytest.raises(ValueError) as expected:
            call(torch.distributed, torch)
        with pytest.raises(ValueError, match=str(expected.value)):
            call(dist, ember)
    with pytest.raises(RuntimeError, match="one process"):
        dist.init_process_group(backend="gloo", init_method="tcp://127.0.0.1:23456", world_size=2, rank=0)
    assert {op.name for op in dist.ReduceOp} >= {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}


# ---- condensed programs that found no gap, kept so that they keep running ---------------------


def _sequence_net(T):
    """time_sequence_prediction: two LSTMCells and a Linear, in float64."""

    class Sequence(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1 = T.nn.LSTMCell(1, 6)
            self.lstm2 = T.nn.LSTMCell(6, 6)
            self.linear = T.nn.Linear(6, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = c_t = h_t2 = c_t2 = T.zeros(input.size(0), 6, dtype=T.double)
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for _ in range(future):
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            return T.cat(outputs, dim=1)

    return Sequence().double()


def _sequence_train(T, seq, data: np.ndarray) -> list:
    input, target = T.from_numpy(data[1:, :-1]), T.from_numpy(data[1:, 1:])
    criterion = T.nn.MSELoss()
    optimizer = T.optim.LBFGS(seq.parameters(), lr=0.8, max_iter=5)
    losses = []

    def closure():
        optimizer.zero_grad()
        loss = criterion(seq(input), target)
        losses.append(loss.item())
        loss.backward()
        return loss

    optimizer.step(closure)
    with T.no_grad():
        pred = seq(T.from_numpy(data[:1, :-1]), future=3)
    return losses + pred.detach().numpy().ravel().tolist()


@requires_torch
def test_time_sequence_prediction_condensed_matches_torch() -> None:
    import torch

    x = np.arange(8) + np.random.default_rng(0).integers(-8, 8, 4)[:, None]
    data = np.sin(x / 4.0)
    t_seq, e_seq = _torch_and_ember(_sequence_net)
    np.testing.assert_allclose(
        _sequence_train(ember, e_seq, data), _sequence_train(torch, t_seq, data), rtol=1e-9
    )


def _actor_critic_net(T):
    class Policy(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = T.nn.Linear(4, 16)
            self.action_head = T.nn.Linear(16, 2)
            self.value_head = T.nn.Linear(16, 1)

        def forward(self, x):
            x = T.nn.functional.relu(self.affine1(x))
            return T.nn.functional.softmax(self.action_head(x), dim=-1), self.value_head(x)

    return Policy()


def _actor_critic_episode(T, model, states: np.ndarray, actions: list) -> float:
    """reinforcement_learning/actor_critic.py's finish_episode, for given states and actions."""
    optimizer = T.optim.Adam(model.parameters(), lr=3e-2)
    eps = np.finfo(np.float32).eps.item()
    saved, rewards = [], []
    for state, action in zip(states, actions):
        probs, state_value = model(T.from_numpy(state).float())
        m = T.distributions.Categorical(probs)
        saved.append((m.log_prob(T.tensor(action)), state_value))
        rewards.append(1.0)
    R, returns = 0, []
    for r in rewards[::-1]:
        R = r + 0.99 * R
        returns.insert(0, R)
    returns = T.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_losses, value_losses = [], []
    for (log_prob, value), R in zip(saved, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(T.nn.functional.smooth_l1_loss(value, T.tensor([R])))
    optimizer.zero_grad()
    loss = T.stack(policy_losses).sum() + T.stack(value_losses).sum()
    loss.backward()
    optimizer.step()
    return loss.item()


@requires_torch
def test_actor_critic_condensed_matches_torch() -> None:
    import torch

    states = np.random.default_rng(0).normal(size=(5, 4))
    actions = [1, 0, 0, 1, 1]
    t_model, e_model = _torch_and_ember(_actor_critic_net)
    for _ in range(2):
        e_loss = _actor_critic_episode(ember, e_model, states, actions)
        assert e_loss == pytest.approx(_actor_critic_episode(torch, t_model, states, actions), rel=1e-5)
