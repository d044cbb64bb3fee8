"""The models `ember train` builds: an MLP of any widths, or a CNN sized to the input."""

from __future__ import annotations

from ember import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def mlp(in_features: int, hidden: list[int], n_outputs: int, activation: str) -> nn.Module:
    """Flatten, then Linear + activation for each hidden width, then a Linear to the outputs."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
        width = h
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


class CNN(nn.Module):
    """PyTorch's examples/mnist network for 28×28 inputs; a smaller one for small images."""

    def __init__(self, in_shape: tuple, n_outputs: int, activation: str = "relu") -> None:
        super().__init__()
        channels, height, width = in_shape
        act = ACTIVATIONS[activation]
        if height >= 28:
            self.features = nn.Sequential(
                nn.Conv2d(channels, 32, 3),
                act(),
                nn.Conv2d(32, 64, 3),
                act(),
                nn.MaxPool2d(2),
                nn.Dropout(0.25),
            )
            flat = 64 * ((height - 4) // 2) * ((width - 4) // 2)
            hidden = 128
        else:  # e.g. the 8×8 digits: padding keeps the little image
            self.features = nn.Sequential(
                nn.Conv2d(channels, 16, 3, padding=1),
                act(),
                nn.Conv2d(16, 32, 3, padding=1),
                act(),
                nn.MaxPool2d(2),
            )
            flat = 32 * (height // 2) * (width // 2)
            hidden = 64
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, hidden), act(), nn.Dropout(0.5), nn.Linear(hidden, n_outputs)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def build(kind: str, in_shape: tuple, n_outputs: int, hidden: list[int], activation: str) -> nn.Module:
    if kind == "cnn":
        if len(in_shape) != 3:
            raise ValueError(
                f"--model cnn needs image data (C×H×W samples); this dataset's samples have shape {in_shape}"
            )
        return CNN(in_shape, n_outputs, activation)
    in_features = 1
    for n in in_shape:
        in_features *= n
    return mlp(in_features, hidden, n_outputs, activation)
