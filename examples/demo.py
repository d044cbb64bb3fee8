"""make demo (until `ember train` lands): fit a small tanh network to two spirals with
ember's tensors and autograd alone, and report the accuracy."""

import numpy as np

import ember


def spirals(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    label = rng.integers(0, 2, n)
    r = t / (3 * np.pi)
    angle = t + np.pi * label
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, 0.02, (n, 2))
    return x.astype(np.float32), label


def main() -> None:
    rng = np.random.default_rng(0)
    x_np, y_np = spirals(2000, rng)
    x, y = ember.tensor(x_np), ember.tensor(y_np)
    ember.manual_seed(0)
    w1 = (ember.randn(2, 64) * 1.0).requires_grad_()
    b1 = ember.zeros(64, requires_grad=True)
    w2 = (ember.randn(64, 2) * 0.1).requires_grad_()
    b2 = ember.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2]
    lr = 0.5
    for step in range(1, 1001):
        logits = (x @ w1 + b1).tanh() @ w2 + b2
        loss = -logits.log_softmax(1)[ember.arange(len(y)), y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= lr * p.grad
        if step % 200 == 0:
            acc = (logits.argmax(1) == y).float().mean().item()
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {acc:.3f}")
    print(f"final training accuracy on two spirals: {acc:.3f}")


if __name__ == "__main__":
    main()
