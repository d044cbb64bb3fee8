# %% [markdown]
# # 3. Classifying raisins with one hidden layer
#
# The Raisin dataset: 900 grains of two varieties (Kecimen and Besni), each described by 7
# shape measurements (area, perimeter, axis lengths...). We train a network with one tanh
# hidden layer to tell them apart, with the binary cross-entropy loss.
#
# The features have very different scales (areas around 10^5, eccentricities below 1), so we
# standardise them: subtract the mean and divide by the standard deviation of each feature.
# Those statistics are computed on the **training part only**; computing them on all the
# data would leak information about the test set into training.

# %%
from common import QUICK, data_root, require_data

import ember as torch
from ember import nn
from ember.datasets import Raisin, train_test_split
from ember.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
root = data_root()
require_data(root / "raisin" / "Raisin_Dataset.csv", "the Raisin dataset")
raisin = Raisin(root)
print(f"{len(raisin)} grains, features: {raisin.feature_names}, classes: {raisin.classes}")

# %% [markdown]
# Split 80 % / 20 %, then standardise with the training statistics.

# %%
x_train, x_test, y_train, y_test = train_test_split(raisin.data, raisin.targets, test_size=0.2, seed=0)
mean, std = x_train.mean(dim=0), x_train.std(dim=0)
x_train = (x_train - mean) / std
x_test = (x_test - mean) / std  # the training statistics, not the test set's own
# BCE compares one logit per grain with a float target 0. or 1., both of shape (N, 1).
y_train, y_test = y_train.float().unsqueeze(1), y_test.float().unsqueeze(1)
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")
print("training features now have mean ~0 and std ~1:", x_train.mean(dim=0).abs().max().item() < 1e-5)

# %% [markdown]
# The model outputs a logit (any real number); `BCEWithLogitsLoss` applies the sigmoid
# inside the loss, which is more stable than `nn.Sigmoid()` followed by `nn.BCELoss()`.

# %%
model = nn.Sequential(nn.Linear(7, 16), nn.Tanh(), nn.Linear(16, 1))
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)
print(model)


def accuracy(x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        predicted = (model(x) > 0).float()  # logit > 0  <=>  probability > 0.5
    return (predicted == y).float().mean().item()


# %%
epochs = 20 if QUICK else 50
for epoch in range(1, epochs + 1):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    if epoch % 5 == 0:
        model.eval()
        print(
            f"epoch {epoch:3d}  train loss {total / len(x_train):.4f}"
            f"  train acc {accuracy(x_train, y_train):.3f}  test acc {accuracy(x_test, y_test):.3f}"
        )

print(f"test accuracy: {accuracy(x_test, y_test):.3f}")
