"""Learning-rate schedulers (torch.optim.lr_scheduler); the code lives in `ember.optim._schedulers`."""

from ember.optim._schedulers.base import LRScheduler, _LRScheduler
from ember.optim._schedulers.composite import ChainedScheduler, SequentialLR
from ember.optim._schedulers.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from ember.optim._schedulers.plateau import ReduceLROnPlateau
from ember.optim._schedulers.simple import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "_LRScheduler",
]
