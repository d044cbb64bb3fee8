"""Optimizers and learning-rate schedulers (torch.optim)."""

from ember.optim import lr_scheduler, swa_utils
from ember.optim.adadelta import Adadelta
from ember.optim.adagrad import Adagrad
from ember.optim.adam import Adam, AdamW
from ember.optim.adamax import Adamax
from ember.optim.nadam import NAdam
from ember.optim.optimizer import Optimizer
from ember.optim.rmsprop import RMSprop
from ember.optim.sgd import SGD

# isort: split
# The optimizers added after the first set: RAdam, Rprop, ASGD, LBFGS, SparseAdam
from ember.optim.asgd import ASGD
from ember.optim.lbfgs import LBFGS
from ember.optim.radam import RAdam
from ember.optim.rprop import Rprop
from ember.optim.sparse_adam import SparseAdam

# isort: split
from ember.optim.adafactor import Adafactor
from ember.optim.muon import Muon

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
    "swa_utils",
    # the optimizers added after the first set
    "ASGD",
    "LBFGS",
    "RAdam",
    "Rprop",
    "SparseAdam",
    "Adafactor",
    "Muon",
]
