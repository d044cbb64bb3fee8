"""Datasets: MNIST, Fashion-MNIST, CIFAR-10/100, FakeData, tabular CSV files (Raisin) and synthetic generators.

torchvision.datasets' MNIST, FashionMNIST, CIFAR10, CIFAR100 and FakeData API, plus ember's own tabular and synthetic
datasets for first experiments.
"""

from ember.datasets._download import default_root
from ember.datasets.cifar import CIFAR10, CIFAR100
from ember.datasets.fake import FakeData
from ember.datasets.mnist import MNIST, FashionMNIST, read_idx
from ember.datasets.synthetic import (
    make_classification,
    make_linear,
    make_moons,
    make_quadratic,
    make_regression,
    make_spirals,
)
from ember.datasets.tabular import CSVDataset, Raisin, TabularDataset, train_test_split

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "CSVDataset",
    "FakeData",
    "FashionMNIST",
    "MNIST",
    "Raisin",
    "TabularDataset",
    "default_root",
    "make_classification",
    "make_linear",
    "make_moons",
    "make_quadratic",
    "make_regression",
    "make_spirals",
    "read_idx",
    "train_test_split",
]
