"""Datasets: MNIST, Fashion-MNIST, CIFAR-10/100, FakeData, image folders, tabular CSV files (Raisin) and synthetic generators.

torchvision.datasets' MNIST, FashionMNIST, CIFAR10, CIFAR100, FakeData, ImageFolder, DatasetFolder and
VisionDataset API, plus ember's own tabular and synthetic
datasets for first experiments.
"""

from ember.datasets._download import default_root
from ember.datasets.cifar import CIFAR10, CIFAR100
from ember.datasets.fake import FakeData
from ember.datasets.folder import DatasetFolder, ImageFolder
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
from ember.datasets.vision import VisionDataset

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "CSVDataset",
    "DatasetFolder",
    "FakeData",
    "FashionMNIST",
    "ImageFolder",
    "MNIST",
    "Raisin",
    "TabularDataset",
    "VisionDataset",
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
