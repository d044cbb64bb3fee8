"""Bad and unusual input to ember.nn, each case run in PyTorch and in ember.

A case is `lambda T: ...` with T = torch or ember. Where PyTorch raises, ember must raise
the same exception class (and, for the cases listed in WORDS, name the op and the shapes in
its message); where PyTorch computes, ember must give the same shapes, dtypes and values,
and warn where PyTorch warns. The cases walk through the layers and losses of issue 3
(Linear, Bilinear, Flatten, the containers, dropout, the activations, Embedding, one_hot,
the normalizations, every loss with every reduction, nn.init, clip_grad_norm_,
parameters_to_vector), then convolution, pooling, the recurrent and attention layers: wrong
ranks, shapes and dtypes, mismatched batches, indices out of range, bad hyper-parameters,
empty batches, non-contiguous and expanded inputs, in-place forms on leaves that require
grad. Where ember differs on purpose, or PyTorch is wrong, the case sits in DIFFERENT
instead, with what ember does (docs/differences.md says why).
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import requires_torch

# ---- inputs: the same numbers in both frameworks, without drawing from a generator ------------


def R(T: Any, *shape: int, dtype: Any = None) -> Any:
    """A float32 (or dtype) tensor of the shape holding sin(1.3 i + 0.2)."""
    x = T.sin(T.arange(math.prod(shape), dtype=T.float64) * 1.3 + 0.2).reshape(shape)
    return x.to(dtype or T.float32)


def P(T: Any, *shape: int) -> Any:
    """Probabilities in (0, 1)."""
    return T.sigmoid(R(T, *shape))


def Y(T: Any, *shape: int) -> Any:
    """Zeros and ones, as float32."""
    return (R(T, *shape) > 0).float()


def leaf(T: Any, *shape: int) -> Any:
    return R(T, *shape).requires_grad_()


def det(T: Any, module: Any) -> Any:
    """The module with its parameters set to cos(0.7 i), so both frameworks agree."""
    with T.no_grad():
        for p in module.parameters():
            p.copy_(T.cos(T.arange(p.numel(), dtype=T.float64) * 0.7).reshape(p.shape).to(p.dtype))
    return module


def F(T: Any) -> Any:
    return T.nn.functional


def grads(T: Any, values: list) -> list:
    """Parameters of ones whose .grad holds the given lists."""
    params = []
    for v in values:
        p = T.nn.Parameter(T.ones(len(v)))
        p.grad = T.tensor(v)
        params.append(p)
    return params


def clip(T: Any, values: list, *args: Any, **kwargs: Any) -> tuple:
    params = grads(T, values)
    norm = T.nn.utils.clip_grad_norm_(params, *args, **kwargs)
    return norm, [p.grad for p in params]


def no_grad_call(T: Any, f: Any, x: Any) -> Any:
    with T.no_grad():
        return f(T, x)


def _int_activation(name: str) -> Any:
    return lambda T: getattr(F(T), name)(T.tensor([-1, 2]))


def _init_of_shape(name: str, shape: tuple) -> Any:
    return lambda T: getattr(T.nn.init, name)(T.ones(shape)).shape


INF, NAN = float("inf"), float("nan")


def _seq(T: Any) -> Any:
    return T.nn.Sequential(T.nn.Linear(2, 2), T.nn.ReLU(), T.nn.Linear(2, 1))


def _eval(T: Any, module: Any) -> Any:
    return det(T, module).eval()


def _param_grads(T: Any, module: Any, x: Any, loss: Any = None) -> list:
    """The gradients of the module's parameters for loss(output) (the sum by default)."""
    module = det(T, module)
    out = module(x)
    out = out[0] if isinstance(out, tuple) else out
    (out.sum() if loss is None else loss(out)).backward()
    return [p.grad for p in module.parameters()]


# ---- the cases -------------------------------------------------------------------------------

CASES: dict[str, Any] = {
    # Linear and Bilinear
    "linear int input": lambda T: det(T, T.nn.Linear(3, 2))(T.ones(2, 3, dtype=T.int64)),
    "linear float64 input": lambda T: det(T, T.nn.Linear(3, 2))(T.ones(2, 3, dtype=T.float64)),
    "linear wrong features": lambda T: det(T, T.nn.Linear(3, 2))(T.ones(2, 4)),
    "linear 1-d": lambda T: det(T, T.nn.Linear(3, 2))(R(T, 3)),
    "linear 0-d": lambda T: det(T, T.nn.Linear(3, 2))(T.tensor(1.0)),
    "linear 4-d": lambda T: det(T, T.nn.Linear(3, 2))(R(T, 2, 2, 2, 3)),
    "linear empty batch": lambda T: det(T, T.nn.Linear(3, 2))(T.ones(0, 3)),
    "linear no in_features": lambda T: det(T, T.nn.Linear(0, 2))(T.ones(4, 0)),
    "linear no out_features": lambda T: det(T, T.nn.Linear(3, 0))(T.ones(4, 3)),
    "linear negative in_features": lambda T: T.nn.Linear(-1, 2),
    "linear negative out_features": lambda T: T.nn.Linear(2, -2),
    "linear float size": lambda T: T.nn.Linear(2.5, 2),
    "linear non-contiguous": lambda T: det(T, T.nn.Linear(3, 2))(R(T, 3, 4).t()),
    "linear expanded": lambda T: det(T, T.nn.Linear(3, 2))(R(T, 1, 3).expand(4, 3)),
    "F.linear bias shape": lambda T: F(T).linear(R(T, 2, 3), R(T, 4, 3), R(T, 3)),
    "F.linear 2-d bias": lambda T: F(T).linear(R(T, 2, 3), R(T, 4, 3), R(T, 2, 4)),
    "F.linear 3-d weight": lambda T: F(T).linear(R(T, 2, 3), R(T, 1, 4, 3)),
    "F.linear 1-d weight": lambda T: F(T).linear(R(T, 2, 3), R(T, 3)),
    "F.linear float64 bias": lambda T: F(T).linear(R(T, 2, 3), R(T, 4, 3), R(T, 4, dtype=T.float64)),
    "F.linear int bias": lambda T: F(T).linear(R(T, 2, 3), R(T, 4, 3), T.ones(4, dtype=T.int64)),
    "bilinear": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(R(T, 5, 2), R(T, 5, 3)),
    "bilinear batch mismatch": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(R(T, 5, 2), R(T, 4, 3)),
    "bilinear in1 features": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(R(T, 5, 3), R(T, 5, 3)),
    "bilinear in2 features": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(R(T, 5, 2), R(T, 5, 2)),
    "bilinear 1-d": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(R(T, 2), R(T, 3)),
    "bilinear 3-d": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(R(T, 6, 5, 2), R(T, 6, 5, 3)),
    "bilinear ranks differ": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(R(T, 6, 5, 2), R(T, 5, 3)),
    "bilinear int inputs": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(
        T.ones(5, 2, dtype=T.int64), T.ones(5, 3, dtype=T.int64)
    ),
    "bilinear float64 input": lambda T: F(T).bilinear(R(T, 5, 2, dtype=T.float64), R(T, 5, 3), R(T, 4, 2, 3)),
    "bilinear float64 bias": lambda T: F(T).bilinear(R(T, 5, 2), R(T, 5, 3), R(T, 4, 2, 3), R(T, 4).double()),
    "bilinear all int": lambda T: F(T).bilinear(
        T.ones(5, 2, dtype=T.int64), T.ones(5, 3, dtype=T.int64), T.ones(4, 2, 3, dtype=T.int64)
    ),
    "bilinear empty batch": lambda T: det(T, T.nn.Bilinear(2, 3, 4))(T.ones(0, 2), T.ones(0, 3)),
    "bilinear negative size": lambda T: T.nn.Bilinear(-2, 3, 4),
    "F.bilinear bias shape": lambda T: F(T).bilinear(R(T, 5, 2), R(T, 5, 3), R(T, 4, 2, 3), R(T, 3)),
    # Identity, Flatten, Unflatten
    "identity takes any arguments": lambda T: T.nn.Identity(3, foo=1)(R(T, 2)),
    "flatten 1-d": lambda T: T.nn.Flatten()(R(T, 3)),
    "flatten 0-d": lambda T: T.nn.Flatten()(T.tensor(1.0)),
    "flatten 0-d from 0": lambda T: T.nn.Flatten(0)(T.tensor(1.0)),
    "flatten 0-d to -2": lambda T: T.tensor(1.0).flatten(-2),
    "flatten end out of range": lambda T: T.nn.Flatten(1, 5)(R(T, 2, 3)),
    "flatten start after end": lambda T: T.nn.Flatten(2, 1)(R(T, 2, 3, 4)),
    "flatten empty batch": lambda T: T.nn.Flatten()(T.ones(0, 3, 4)),
    "flatten empty dimension": lambda T: T.nn.Flatten()(T.ones(2, 0, 4)),
    "unflatten sizes": lambda T: T.nn.Unflatten(1, (2, 2))(R(T, 3, 5)),
    "unflatten -1": lambda T: T.nn.Unflatten(1, (-1, 2))(R(T, 3, 4)),
    "unflatten two -1": lambda T: T.nn.Unflatten(1, (-1, -1))(R(T, 3, 4)),
    "unflatten list": lambda T: T.nn.Unflatten(1, [2, 2])(R(T, 3, 4)),
    "unflatten int size": lambda T: T.nn.Unflatten(1, 4),
    "unflatten float sizes": lambda T: T.nn.Unflatten(1, (2.0, 2)),
    "unflatten dim out of range": lambda T: T.nn.Unflatten(3, (2, 2))(R(T, 3, 4)),
    "unflatten no sizes": lambda T: T.nn.Unflatten(1, ())(R(T, 3, 1)),
    # containers and Module
    "sequential of an int": lambda T: T.nn.Sequential(1),
    "sequential of None": lambda T: T.nn.Sequential(None),
    "sequential index": lambda T: T.nn.Sequential(T.nn.ReLU())[5],
    "sequential negative index": lambda T: T.nn.Sequential(T.nn.ReLU())[-2],
    "sequential str index": lambda T: T.nn.Sequential(T.nn.ReLU())["a"],
    "sequential empty call": lambda T: T.nn.Sequential()(R(T, 2)),
    "sequential two inputs": lambda T: T.nn.Sequential(T.nn.ReLU())(R(T, 2), R(T, 2)),
    "sequential append int": lambda T: T.nn.Sequential().append(3),
    "sequential insert int": lambda T: T.nn.Sequential().insert(0, 3),
    "sequential setitem int": lambda T: T.nn.Sequential(T.nn.ReLU()).__setitem__(0, 3),
    "sequential delitem": lambda T: T.nn.Sequential(T.nn.ReLU()).__delitem__(3),
    "sequential dict of int": lambda T: T.nn.Sequential(OrderedDict(a=3)),
    "sequential plain dict": lambda T: len(T.nn.Sequential({"a": T.nn.ReLU()})),
    "sequential list": lambda T: T.nn.Sequential([T.nn.ReLU()]),
    "sequential + int": lambda T: T.nn.Sequential() + 3,
    "sequential * 0": lambda T: len(T.nn.Sequential(T.nn.ReLU()) * 0),
    "sequential * -1": lambda T: T.nn.Sequential(T.nn.ReLU()) * -1,
    "sequential * float": lambda T: T.nn.Sequential(T.nn.ReLU()) * 1.5,
    "sequential extend int": lambda T: T.nn.Sequential().extend([3]),
    "sequential pop empty": lambda T: T.nn.Sequential().pop(0),
    "modulelist append int": lambda T: T.nn.ModuleList().append(3),
    "modulelist of int": lambda T: T.nn.ModuleList([3]),
    "modulelist of a module": lambda T: T.nn.ModuleList(T.nn.ReLU()),
    "modulelist index": lambda T: T.nn.ModuleList([T.nn.ReLU()])[3],
    "modulelist call": lambda T: T.nn.ModuleList([T.nn.ReLU()])(R(T, 2)),
    "modulelist extend module": lambda T: T.nn.ModuleList().extend(T.nn.ReLU()),
    "modulelist setitem int": lambda T: T.nn.ModuleList([T.nn.ReLU()]).__setitem__(0, 3),
    "modulelist str index": lambda T: T.nn.ModuleList([T.nn.ReLU()])["0"],
    "modulelist + list": lambda T: T.nn.ModuleList() + [T.nn.ReLU()],
    "moduledict of int": lambda T: T.nn.ModuleDict({"a": 3}),
    "moduledict dotted key": lambda T: T.nn.ModuleDict({"a.b": T.nn.ReLU()}),
    "moduledict empty key": lambda T: T.nn.ModuleDict({"": T.nn.ReLU()}),
    "moduledict int key": lambda T: T.nn.ModuleDict({1: T.nn.ReLU()}),
    "moduledict missing key": lambda T: T.nn.ModuleDict()["a"],
    "moduledict pairs": lambda T: len(T.nn.ModuleDict([("a", T.nn.ReLU())])),
    "moduledict triples": lambda T: T.nn.ModuleDict([("a", T.nn.ReLU(), 1)]),
    "moduledict update int": lambda T: T.nn.ModuleDict().update(3),
    "moduledict call": lambda T: T.nn.ModuleDict()(R(T, 2)),
    "moduledict attribute key": lambda T: T.nn.ModuleDict({"training": T.nn.ReLU()}),
    "parameterlist makes Parameters": lambda T: type(T.nn.ParameterList([R(T, 2)])[0]).__name__,
    "parameterlist of int": lambda T: T.nn.ParameterList([3])[0],
    "parameterlist index": lambda T: T.nn.ParameterList([R(T, 2)])[3],
    "parameterlist call": lambda T: T.nn.ParameterList([R(T, 2)])(R(T, 2)),
    "parameterlist of a module": lambda T: len(
        list(T.nn.ParameterList().append(T.nn.Linear(2, 2)).parameters())
    ),
    "parameterdict makes Parameters": lambda T: type(T.nn.ParameterDict({"a": R(T, 2)})["a"]).__name__,
    "parameterdict of int": lambda T: T.nn.ParameterDict({"a": 3})["a"],
    "parameterdict missing key": lambda T: T.nn.ParameterDict()["a"],
    "parameterdict dotted key": lambda T: T.nn.ParameterDict({"a.b": R(T, 2)}),
    "parameterdict int key": lambda T: T.nn.ParameterDict({1: R(T, 2)}),
    "parameterdict call": lambda T: T.nn.ParameterDict()(R(T, 2)),
    "parameter of int": lambda T: T.nn.Parameter(T.ones(2, dtype=T.int64)),
    "parameter of int without grad": lambda T: T.nn.Parameter(T.ones(2, dtype=T.int64), requires_grad=False),
    "add_module dotted": lambda T: T.nn.Module().add_module("a.b", T.nn.ReLU()),
    "add_module int": lambda T: T.nn.Module().add_module("a", 3),
    "add_module empty name": lambda T: T.nn.Module().add_module("", T.nn.ReLU()),
    "add_module int name": lambda T: T.nn.Module().add_module(1, T.nn.ReLU()),
    "register_buffer dotted": lambda T: T.nn.Module().register_buffer("a.b", R(T, 2)),
    "register_buffer int": lambda T: T.nn.Module().register_buffer("a", 3),
    "register_parameter tensor": lambda T: T.nn.Module().register_parameter("a", R(T, 2)),
    "module without forward": lambda T: T.nn.Module()(R(T, 2)),
    "get_submodule missing": lambda T: T.nn.Module().get_submodule("a"),
    "get_parameter missing": lambda T: T.nn.Linear(2, 2).get_parameter("foo"),
    "train with a str": lambda T: T.nn.Linear(2, 2).train("no"),
    "requires_grad_ of an int": lambda T: T.nn.Linear(2, 2).requires_grad_(0),
    "tensor requires_grad_ None": lambda T: T.ones(2).requires_grad_(None),
    "to int dtype": lambda T: T.nn.Linear(2, 2).to(T.int64),
    "to complex dtype": lambda T: det(T, T.nn.Linear(2, 2)).to(T.complex64)(R(T, 3, 2).to(T.complex64)),
    "to complex, then double": lambda T: [
        str(p.dtype).split(".")[-1] for p in T.nn.Linear(2, 2).to(T.complex64).double().parameters()
    ],
    "to complex, then to float64": lambda T: [
        str(p.dtype).split(".")[-1] for p in T.nn.Linear(2, 2).to(T.complex128).to(T.float64).parameters()
    ],
    "eval turns off dropout and batch statistics": lambda T: det(
        T, T.nn.Sequential(T.nn.Linear(3, 3), T.nn.BatchNorm1d(3), T.nn.Dropout(0.9))
    ).eval()(R(T, 4, 3)),
    "eval reaches every module": lambda T: [
        m.training for m in T.nn.Sequential(T.nn.Linear(3, 3), T.nn.Dropout()).eval().modules()
    ],
    "load_state_dict wrong shape": lambda T: T.nn.Linear(2, 2).load_state_dict(
        {"weight": T.ones(3, 2), "bias": T.ones(2)}
    ),
    "load_state_dict missing key": lambda T: T.nn.Linear(2, 2).load_state_dict({"weight": T.ones(2, 2)}),
    "setattr tensor on a parameter": lambda T: setattr(T.nn.Linear(2, 2), "weight", T.ones(2, 2)),
    "setattr int on a buffer": lambda T: setattr(T.nn.BatchNorm1d(2), "running_mean", 3),
    "apply a non-callable": lambda T: T.nn.Linear(2, 2).apply(3),
    "shared parameters counted once": lambda T: len(
        list((lambda m: T.nn.Sequential(m, m))(T.nn.Linear(2, 2)).parameters())
    ),
    # dropout
    "dropout p > 1": lambda T: T.nn.Dropout(1.5),
    "dropout p < 0": lambda T: T.nn.Dropout(-0.1),
    "dropout p str": lambda T: T.nn.Dropout("a"),
    "dropout p = 1": lambda T: T.nn.Dropout(1.0)(R(T, 3, 4)),
    "dropout p = 0": lambda T: T.nn.Dropout(0.0)(R(T, 3, 4)),
    "dropout in eval": lambda T: T.nn.Dropout(0.5).eval()(R(T, 3, 4)),
    "F.dropout p > 1": lambda T: F(T).dropout(R(T, 3), 1.5),
    "F.dropout p > 1 in eval": lambda T: F(T).dropout(R(T, 3), 1.5, training=False),
    "F.dropout int": lambda T: F(T).dropout(T.ones(3, dtype=T.int64), 0.5),
    "F.dropout bool": lambda T: F(T).dropout(T.ones(3, dtype=T.bool), 0.5),
    "F.dropout int in place": lambda T: F(T).dropout(T.ones(3, dtype=T.int64), 0.5, inplace=True),
    "F.dropout int p = 0": lambda T: F(T).dropout(T.ones(3, dtype=T.int64), 0.0),
    "F.dropout int p = 1": lambda T: F(T).dropout(T.ones(3, dtype=T.int64), 1.0),
    "F.dropout int in eval": lambda T: F(T).dropout(T.ones(3, dtype=T.int64), 0.5, training=False),
    "F.dropout1d int": lambda T: F(T).dropout1d(T.ones(2, 3, dtype=T.int64), 0.5),
    "F.alpha_dropout int": lambda T: F(T).alpha_dropout(T.ones(3, dtype=T.int64), 0.5, True),
    "dropout in place on a leaf": lambda T: T.nn.Dropout(0.5, inplace=True)(leaf(T, 3)),
    "dropout in place on a leaf in eval": lambda T: T.nn.Dropout(0.5, inplace=True).eval()(leaf(T, 3)),
    "dropout in place p = 1": lambda T: T.nn.Dropout(1.0, inplace=True)(R(T, 3)),
    "dropout empty": lambda T: T.nn.Dropout(0.5)(T.ones(0, 3)),
    "dropout1d 4-d": lambda T: T.nn.Dropout1d(0.5)(R(T, 2, 3, 4, 5)),
    "dropout2d p > 1": lambda T: T.nn.Dropout2d(2.0),
    "alphadropout p > 1": lambda T: T.nn.AlphaDropout(2.0),
    "F.alpha_dropout p > 1": lambda T: F(T).alpha_dropout(R(T, 3), 1.5),
    "F.dropout2d p > 1": lambda T: F(T).dropout2d(R(T, 2, 3, 4), 1.5),
    "F.feature_alpha_dropout p > 1": lambda T: F(T).feature_alpha_dropout(R(T, 2, 3, 4), 1.5),
    "dropout p = 1 gradient": lambda T: (lambda x: T.autograd.grad(F(T).dropout(x, 1.0).sum(), x))(
        leaf(T, 3)
    ),
    # activations
    "relu int": lambda T: F(T).relu(T.tensor([-1, 2])),
    "relu bool": lambda T: F(T).relu(T.tensor([True, False])),
    "relu6 int": lambda T: F(T).relu6(T.tensor([-1, 7])),
    "relu6 uint8": lambda T: F(T).relu6(T.tensor([-3, 0, 3, 7]).to(T.uint8)),
    "relu6 bool": lambda T: F(T).relu6(T.tensor([True, False])),
    "hardtanh int": lambda T: F(T).hardtanh(T.tensor([-3, 0, 3])),
    "hardtanh int8, fractional bounds": lambda T: F(T).hardtanh(
        T.tensor([-3, 0, 3], dtype=T.int8), -1.5, 1.5
    ),
    "hardtanh int in place": lambda T: F(T).hardtanh(T.tensor([-3, 0, 3]), inplace=True),
    # were clamped into the type silently: PyTorch refuses a bound the type cannot hold
    "hardtanh int8, a bound beyond int8": lambda T: F(T).hardtanh(
        T.tensor([-3, 0, 3], dtype=T.int8), -1000.0, 2.0
    ),
    "hardtanh uint8, a negative bound": lambda T: F(T).hardtanh(T.tensor([0, 3], dtype=T.uint8), -2.0, 2.0),
    "hardtanh uint8, a bound in (-1, 0)": lambda T: F(T).hardtanh(T.tensor([0, 3], dtype=T.uint8), -0.5, 2.0),
    "hardtanh int, a NaN bound": lambda T: F(T).hardtanh(T.tensor([-3, 0, 3]), float("nan"), 2.0),
    "hardtanh bool": lambda T: F(T).hardtanh(T.tensor([True, False])),
    "hardtanh min > max": lambda T: T.nn.Hardtanh(2.0, 1.0),
    "F.hardtanh min > max": lambda T: F(T).hardtanh(R(T, 3), 2.0, 1.0),
    **{
        f"{name} int": _int_activation(name)
        for name in [
            "leaky_relu",
            "elu",
            "selu",
            "celu",
            "gelu",
            "silu",
            "softplus",
            "hardsigmoid",
            "hardswish",
            "mish",
            "logsigmoid",
            "softsign",
            "tanhshrink",
            "hardshrink",
            "softshrink",
            "rrelu",
            "sigmoid",
            "tanh",
            "glu",
        ]
    },
    "leaky_relu bool": lambda T: F(T).leaky_relu(T.tensor([True, False])),
    "prelu int": lambda T: F(T).prelu(T.tensor([-1, 2]), T.tensor([1])),
    "threshold int": lambda T: F(T).threshold(T.tensor([1, 5]), 2, 0),
    "gelu bad approximate": lambda T: F(T).gelu(R(T, 3), approximate="bad"),
    "GELU bad approximate": lambda T: T.nn.GELU("bad")(R(T, 3)),
    "softplus beta 0": lambda T: F(T).softplus(R(T, 3), beta=0),
    "softmax without dim": lambda T: F(T).softmax(R(T, 2, 3)),
    "softmax without dim 3-d": lambda T: F(T).softmax(R(T, 2, 3, 4)),
    "softmax without dim 0-d": lambda T: F(T).softmax(T.tensor(1.0)),
    "Softmax without dim": lambda T: T.nn.Softmax()(R(T, 2, 3)),
    "LogSoftmax without dim 4-d": lambda T: T.nn.LogSoftmax()(R(T, 2, 3, 2, 2)),
    "softmin without dim": lambda T: F(T).softmin(R(T, 2, 3)),
    "softmax dim out of range": lambda T: F(T).softmax(R(T, 2, 3), dim=3),
    "softmax int": lambda T: F(T).softmax(T.tensor([1, 2]), dim=0),
    "log_softmax int": lambda T: F(T).log_softmax(T.tensor([1, 2]), dim=0),
    "softmax int with dtype": lambda T: F(T).softmax(T.tensor([1, 2]), dim=0, dtype=T.float32),
    "softmax empty batch": lambda T: F(T).softmax(T.ones(0, 3), dim=1),
    "softmax empty dim": lambda T: F(T).softmax(T.ones(2, 0), dim=1),
    "softmax 0-d": lambda T: F(T).softmax(T.tensor(2.0), dim=0),
    "softmax 0-d dim 1": lambda T: F(T).softmax(T.tensor(2.0), dim=1),
    "softmax2d 2-d": lambda T: T.nn.Softmax2d()(R(T, 2, 3)),
    "prelu channels": lambda T: T.nn.PReLU(3)(R(T, 2, 4)),
    "prelu 1-d": lambda T: T.nn.PReLU(3)(R(T, 3)),
    "prelu 0-d": lambda T: T.nn.PReLU()(T.tensor(-1.0)),
    "F.prelu 2-d weight": lambda T: F(T).prelu(R(T, 2, 3), T.ones(3, 1)),
    "glu odd size": lambda T: F(T).glu(R(T, 2, 3)),
    "glu 0-d": lambda T: F(T).glu(T.tensor(1.0)),
    "glu dim out of range": lambda T: F(T).glu(R(T, 2, 4), dim=3),
    "softshrink negative lambda": lambda T: F(T).softshrink(R(T, 3), -1.0),
    "rrelu lower > upper": lambda T: F(T).rrelu(R(T, 3), 0.5, 0.1, training=True),
    "celu alpha 0": lambda T: F(T).celu(R(T, 3), alpha=0.0),
    # Embedding and one_hot
    "embedding index out of range": lambda T: det(T, T.nn.Embedding(3, 2))(T.tensor([3])),
    "embedding negative index": lambda T: det(T, T.nn.Embedding(3, 2))(T.tensor([-1])),
    "embedding float indices": lambda T: det(T, T.nn.Embedding(3, 2))(T.tensor([1.0])),
    "embedding int32 indices": lambda T: det(T, T.nn.Embedding(3, 2))(T.tensor([1], dtype=T.int32)),
    "embedding bool indices": lambda T: det(T, T.nn.Embedding(3, 2))(T.tensor([True])),
    "embedding 0-d index": lambda T: det(T, T.nn.Embedding(3, 2))(T.tensor(1)),
    "embedding empty": lambda T: det(T, T.nn.Embedding(3, 2))(T.ones(0, 4, dtype=T.int64)),
    "embedding negative size": lambda T: T.nn.Embedding(-3, 2),
    "embedding padding_idx out of range": lambda T: T.nn.Embedding(3, 2, padding_idx=3),
    "embedding padding_idx below -n": lambda T: T.nn.Embedding(3, 2, padding_idx=-4),
    "embedding negative padding_idx": lambda T: T.nn.Embedding(3, 2, padding_idx=-1).padding_idx,
    "embedding negative padding_idx row": lambda T: T.nn.Embedding(3, 2, padding_idx=-1).weight[2],
    "embedding _weight shape": lambda T: T.nn.Embedding(3, 2, _weight=T.ones(2, 2)),
    "from_pretrained 1-d": lambda T: T.nn.Embedding.from_pretrained(T.ones(3)),
    "from_pretrained padding_idx": lambda T: T.nn.Embedding.from_pretrained(T.ones(3, 2), padding_idx=5),
    "F.embedding 1-d weight": lambda T: F(T).embedding(T.tensor([0]), T.ones(3)),
    "F.embedding padding_idx": lambda T: F(T).embedding(T.tensor([0]), T.ones(3, 2), padding_idx=3),
    "embedding max_norm": lambda T: det(T, T.nn.Embedding(3, 2, max_norm=0.5))(T.tensor([0, 1])),
    "embedding padding row gets no gradient": lambda T: (
        lambda e: (e(T.tensor([0, 1, 1])).sum().backward(), e.weight.grad)[1]
    )(det(T, T.nn.Embedding(3, 2, padding_idx=1))),
    "one_hot too large": lambda T: F(T).one_hot(T.tensor([3]), 3),
    "one_hot negative": lambda T: F(T).one_hot(T.tensor([-1]), 3),
    "one_hot float": lambda T: F(T).one_hot(T.tensor([1.0]), 3),
    "one_hot int32": lambda T: F(T).one_hot(T.tensor([1], dtype=T.int32), 3),
    "one_hot inferred": lambda T: F(T).one_hot(T.tensor([1, 3])),
    "one_hot empty, inferred": lambda T: F(T).one_hot(T.ones(0, dtype=T.int64)),
    "one_hot empty": lambda T: F(T).one_hot(T.ones(0, dtype=T.int64), 3),
    "one_hot empty, 0 classes": lambda T: F(T).one_hot(T.ones(0, dtype=T.int64), 0),
    "one_hot -2 classes": lambda T: F(T).one_hot(T.tensor([1]), -2),
    "one_hot 0 classes": lambda T: F(T).one_hot(T.tensor([0]), 0),
    "one_hot 0-d": lambda T: F(T).one_hot(T.tensor(1), 3),
    "one_hot 2-d": lambda T: F(T).one_hot(T.tensor([[1], [0]]), 3),
    # normalization layers
    "layernorm shape": lambda T: T.nn.LayerNorm(4)(R(T, 2, 3)),
    "layernorm tuple shape": lambda T: T.nn.LayerNorm((2, 3))(R(T, 3, 2)),
    "layernorm longer than input": lambda T: T.nn.LayerNorm((2, 2, 3))(R(T, 2, 3)),
    "layernorm": lambda T: det(T, T.nn.LayerNorm((2, 3)))(R(T, 4, 2, 3)),
    "layernorm 0 features": lambda T: T.nn.LayerNorm(0)(T.ones(2, 0)),
    "layernorm empty batch": lambda T: T.nn.LayerNorm(3)(T.ones(0, 3)),
    "layernorm negative size": lambda T: T.nn.LayerNorm(-1),
    "layernorm empty shape": lambda T: T.nn.LayerNorm(())(R(T, 2, 3)),
    "layernorm int input": lambda T: T.nn.LayerNorm(3)(T.ones(2, 3, dtype=T.int64)),
    "F.layer_norm int input": lambda T: F(T).layer_norm(T.ones(2, 3, dtype=T.int64), (3,)),
    "layernorm float64 input": lambda T: T.nn.LayerNorm(3)(T.ones(2, 3, dtype=T.float64)),
    "F.layer_norm weight shape": lambda T: F(T).layer_norm(R(T, 2, 3), (3,), T.ones(4)),
    "F.layer_norm bias shape": lambda T: F(T).layer_norm(R(T, 2, 3), (3,), T.ones(3), T.ones(2)),
    "F.layer_norm non-contiguous": lambda T: F(T).layer_norm(R(T, 3, 2).t(), (3,)),
    "layernorm without bias": lambda T: det(T, T.nn.LayerNorm(3, bias=False))(R(T, 2, 3)),
    "rmsnorm shape": lambda T: T.nn.RMSNorm(4)(R(T, 2, 3)),
    "batchnorm1d features": lambda T: T.nn.BatchNorm1d(3)(R(T, 2, 4)),
    "batchnorm1d features in eval": lambda T: T.nn.BatchNorm1d(3).eval()(R(T, 2, 4)),
    "batchnorm1d one value per channel": lambda T: T.nn.BatchNorm1d(3)(R(T, 1, 3)),
    "batchnorm1d one value per channel in eval": lambda T: T.nn.BatchNorm1d(3).eval()(R(T, 1, 3)),
    "batchnorm1d (1, 3, 1)": lambda T: T.nn.BatchNorm1d(3)(R(T, 1, 3, 1)),
    "batchnorm1d (1, 3, 2)": lambda T: T.nn.BatchNorm1d(3)(R(T, 1, 3, 2)),
    "batchnorm1d 4-d": lambda T: T.nn.BatchNorm1d(3)(R(T, 2, 3, 4, 5)),
    "batchnorm1d 1-d": lambda T: T.nn.BatchNorm1d(3)(R(T, 3)),
    "batchnorm2d 3-d": lambda T: T.nn.BatchNorm2d(3)(R(T, 3, 4, 5)),
    "batchnorm3d 4-d": lambda T: T.nn.BatchNorm3d(3)(R(T, 3, 4, 5, 2)),
    "batchnorm2d features": lambda T: T.nn.BatchNorm2d(3)(R(T, 2, 4, 2, 2)),
    "batchnorm empty batch": lambda T: T.nn.BatchNorm1d(3)(T.ones(0, 3)),
    "batchnorm empty batch in eval": lambda T: T.nn.BatchNorm1d(3).eval()(T.ones(0, 3)),
    "batchnorm without running stats in eval": lambda T: T.nn.BatchNorm1d(
        3, track_running_stats=False
    ).eval()(R(T, 4, 3)),
    "batchnorm running statistics": lambda T: (
        lambda m: (m(R(T, 4, 3)), m.running_mean, m.running_var, m.num_batches_tracked)[1:]
    )(T.nn.BatchNorm1d(3)),
    "batchnorm momentum None": lambda T: (
        lambda m: (m(R(T, 4, 3)), m(R(T, 4, 3) * 2), m.running_mean, m.running_var)[2:]
    )(T.nn.BatchNorm1d(3, momentum=None)),
    "batchnorm negative size": lambda T: T.nn.BatchNorm1d(-1),
    "batchnorm int input": lambda T: T.nn.BatchNorm1d(3)(T.ones(2, 3, dtype=T.int64)),
    "F.batch_norm weight shape": lambda T: F(T).batch_norm(R(T, 4, 3), T.zeros(3), T.ones(3), T.ones(2)),
    "F.batch_norm running shape": lambda T: F(T).batch_norm(R(T, 4, 3), T.zeros(2), T.ones(2)),
    "F.batch_norm no running stats in eval": lambda T: F(T).batch_norm(
        R(T, 4, 3), None, None, training=False
    ),
    "F.batch_norm no running stats": lambda T: F(T).batch_norm(R(T, 4, 3), None, None, training=True),
    "F.batch_norm (1, 3) training": lambda T: F(T).batch_norm(
        R(T, 1, 3), T.zeros(3), T.ones(3), training=True
    ),
    "batchnorm non-contiguous": lambda T: T.nn.BatchNorm1d(3)(R(T, 3, 4).t()),
    "batchnorm eps 0": lambda T: T.nn.BatchNorm1d(3, eps=0.0)(T.ones(4, 3)),
    "batchnorm negative eps": lambda T: T.nn.BatchNorm1d(3, eps=-1.0)(R(T, 4, 3)),
    "batchnorm eps 0 in eval": lambda T: T.nn.BatchNorm1d(3, eps=0.0).eval()(R(T, 4, 3)),
    "batchnorm negative eps in eval": lambda T: T.nn.BatchNorm1d(3, eps=-1.0).eval()(R(T, 4, 3)),
    "batchnorm momentum > 1": lambda T: (lambda m: (m(R(T, 4, 3)), m.running_mean)[1])(
        T.nn.BatchNorm1d(3, momentum=2.0)
    ),
    "instancenorm eps 0": lambda T: F(T).instance_norm(R(T, 4, 3, 2), eps=0.0),
    "groupnorm groups do not divide channels": lambda T: T.nn.GroupNorm(3, 4),
    "groupnorm channels": lambda T: T.nn.GroupNorm(2, 4)(R(T, 2, 6, 3)),
    "groupnorm channels without affine": lambda T: T.nn.GroupNorm(2, 4, affine=False)(R(T, 2, 6, 3)),
    "groupnorm": lambda T: det(T, T.nn.GroupNorm(2, 4))(R(T, 2, 4, 3)),
    "groupnorm 1-d": lambda T: T.nn.GroupNorm(2, 4)(R(T, 4)),
    "groupnorm 2-d": lambda T: T.nn.GroupNorm(2, 4)(R(T, 3, 4)),
    "groupnorm 0 groups": lambda T: T.nn.GroupNorm(0, 4),
    "groupnorm empty batch": lambda T: T.nn.GroupNorm(2, 4)(T.ones(0, 4, 3)),
    "F.group_norm groups": lambda T: F(T).group_norm(R(T, 2, 6, 3), 4),
    "F.group_norm weight shape": lambda T: F(T).group_norm(R(T, 2, 6, 3), 2, T.ones(4)),
    "groupnorm int input": lambda T: T.nn.GroupNorm(2, 4)(T.ones(2, 4, 3, dtype=T.int64)),
    "groupnorm int input without affine": lambda T: T.nn.GroupNorm(2, 4, affine=False)(
        T.ones(2, 4, 3, dtype=T.int64)
    ),
    "instancenorm int input": lambda T: T.nn.InstanceNorm1d(4, affine=True)(T.ones(2, 4, 3, dtype=T.int64)),
    "instancenorm1d channels with affine": lambda T: T.nn.InstanceNorm1d(3, affine=True)(R(T, 2, 4, 5)),
    "instancenorm1d one spatial element": lambda T: T.nn.InstanceNorm1d(3)(R(T, 2, 3, 1)),
    "instancenorm1d one spatial element in eval": lambda T: T.nn.InstanceNorm1d(3).eval()(R(T, 2, 3, 1)),
    "instancenorm1d 2-d": lambda T: T.nn.InstanceNorm1d(3)(R(T, 3, 5)),
    "instancenorm1d 4-d": lambda T: T.nn.InstanceNorm1d(3)(R(T, 2, 3, 4, 5)),
    "instancenorm2d 2-d": lambda T: T.nn.InstanceNorm2d(3)(R(T, 3, 4)),
    "instancenorm1d running stats in eval": lambda T: T.nn.InstanceNorm1d(3, track_running_stats=True).eval()(
        R(T, 2, 3, 5)
    ),
    "F.instance_norm running shape": lambda T: F(T).instance_norm(R(T, 2, 3, 5), T.zeros(2), T.ones(2)),
    "localresponsenorm 2-d": lambda T: T.nn.LocalResponseNorm(2)(R(T, 3, 4)),
    "localresponsenorm 1-d": lambda T: T.nn.LocalResponseNorm(2)(R(T, 3)),
    "F.normalize int": lambda T: F(T).normalize(T.ones(2, 3, dtype=T.int64)),
    "F.normalize dim out of range": lambda T: F(T).normalize(R(T, 2, 3), dim=2),
    "F.normalize zeros": lambda T: F(T).normalize(T.zeros(2, 3)),
    "cosine_similarity shapes": lambda T: F(T).cosine_similarity(R(T, 2, 3), R(T, 2, 4)),
    "cosine_similarity broadcast": lambda T: F(T).cosine_similarity(R(T, 2, 3), R(T, 1, 3)),
    "cosine_similarity zero vector": lambda T: F(T).cosine_similarity(T.zeros(2, 3), R(T, 2, 3)),
    "pairwise_distance shapes": lambda T: F(T).pairwise_distance(R(T, 2, 3), R(T, 2, 4)),
    "pdist 1-d": lambda T: F(T).pdist(R(T, 3)),
    # nn.init
    "init uniform_ a > b": lambda T: T.nn.init.uniform_(T.ones(3), 2.0, 1.0),
    "init normal_ negative std": lambda T: T.nn.init.normal_(T.ones(3), 0.0, -1.0),
    "Tensor.uniform_ from > to": lambda T: T.ones(3).uniform_(2, 1),
    "Tensor.normal_ negative std": lambda T: T.ones(3).normal_(0, -1),
    "init uniform_ empty range": lambda T: T.nn.init.uniform_(T.ones(3), 1.0, 1.0),
    "init normal_ std 0": lambda T: T.nn.init.normal_(T.ones(3), 2.0, 0.0),
    "init trunc_normal_ a > b": lambda T: T.nn.init.trunc_normal_(T.ones(3), a=2.0, b=-2.0),
    "init kaiming bad mode": lambda T: T.nn.init.kaiming_uniform_(T.ones(3, 4), mode="bad"),
    "init kaiming bad nonlinearity": lambda T: T.nn.init.kaiming_uniform_(T.ones(3, 4), nonlinearity="bad"),
    "calculate_gain bad": lambda T: T.nn.init.calculate_gain("bad"),
    "calculate_gain leaky_relu str": lambda T: T.nn.init.calculate_gain("leaky_relu", "x"),
    "calculate_gain leaky_relu bool": lambda T: T.nn.init.calculate_gain("leaky_relu", True),
    "calculate_gain selu": lambda T: T.nn.init.calculate_gain("selu"),
    "calculate_gain conv2d": lambda T: T.nn.init.calculate_gain("conv2d"),
    "init orthogonal_ int": lambda T: T.nn.init.orthogonal_(T.ones(3, 3, dtype=T.int64)),
    "init xavier_uniform_ int": lambda T: T.nn.init.xavier_uniform_(T.ones(3, 3, dtype=T.int64)),
    "init normal_ int": lambda T: T.nn.init.normal_(T.ones(3, 3, dtype=T.int64)),
    "init zeros_ int": lambda T: T.nn.init.zeros_(T.ones(3, 3, dtype=T.int64)),
    "init constant_ 0-d": lambda T: T.nn.init.constant_(T.ones(()), 2.0),
    "init eye_ int": lambda T: T.nn.init.eye_(T.ones(2, 3, dtype=T.int64)),
    "init fan of 3-d": lambda T: T.nn.init._calculate_fan_in_and_fan_out(T.ones(3, 4, 5)),
    "init fan of 1-d": lambda T: T.nn.init._calculate_fan_in_and_fan_out(T.ones(3)),
    "init dirac_ groups": lambda T: T.nn.init.dirac_(T.ones(4, 2, 3), groups=3),
    "init dirac_ 2 groups": lambda T: T.nn.init.dirac_(T.ones(4, 2, 3), groups=2),
    "init sparse_ sparsity > 1": lambda T: T.nn.init.sparse_(T.ones(3, 4), 1.5).shape,
    **{
        f"init {f} {shape}": _init_of_shape(f, shape)
        for f in [
            "xavier_uniform_",
            "xavier_normal_",
            "kaiming_uniform_",
            "kaiming_normal_",
            "orthogonal_",
            "eye_",
            "dirac_",
            "sparse_",
            "trunc_normal_",
            "uniform_",
            "normal_",
            "zeros_",
            "ones_",
        ]
        for shape in [(), (3,), (0, 3), (2, 0), (3, 4), (2, 3, 4)]
    },
    # clip_grad_norm_, clip_grad_value_, parameters_to_vector
    "clip_grad_norm_ empty": lambda T: T.nn.utils.clip_grad_norm_([], 1.0),
    "clip_grad_norm_ without gradients": lambda T: T.nn.utils.clip_grad_norm_(
        [T.nn.Parameter(T.ones(2))], 1.0
    ),
    "clip_grad_norm_": lambda T: clip(T, [[3.0, 4.0], [1.0]], 1.0),
    "clip_grad_norm_ inf": lambda T: clip(T, [[INF, 4.0], [1.0]], 1.0),
    "clip_grad_norm_ nan": lambda T: clip(T, [[NAN, 4.0], [1.0]], 1.0),
    "clip_grad_norm_ inf refused": lambda T: clip(T, [[INF, 4.0], [1.0]], 1.0, error_if_nonfinite=True),
    "clip_grad_norm_ nan refused": lambda T: clip(T, [[NAN, 4.0], [1.0]], 1.0, error_if_nonfinite=True),
    "clip_grad_norm_ inf-norm": lambda T: clip(T, [[-3.0, 4.0], [1.0]], 1.0, norm_type=INF),
    "clip_grad_norm_ 'inf'": lambda T: clip(T, [[-3.0, 4.0], [1.0]], 1.0, norm_type="inf"),
    "clip_grad_norm_ inf-norm of inf": lambda T: clip(T, [[INF, 4.0], [1.0]], 1.0, norm_type=INF),
    "clip_grad_norm_ 0-norm": lambda T: clip(T, [[-3.0, 4.0], [0.0]], 1.0, norm_type=0),
    "clip_grad_norm_ 1-norm": lambda T: clip(T, [[-3.0, 4.0], [1.0]], 1.0, norm_type=1),
    "clip_grad_norm_ max_norm 0": lambda T: clip(T, [[-3.0, 4.0], [1.0]], 0.0),
    "clip_grad_norm_ negative max_norm": lambda T: clip(T, [[-3.0, 4.0], [1.0]], -1.0),
    "clip_grad_norm_ under max_norm": lambda T: clip(T, [[-3.0, 4.0], [1.0]], 100.0),
    "clip_grad_norm_ tensor max_norm": lambda T: clip(T, [[-3.0, 4.0], [1.0]], T.tensor(1.0)),
    "clip_grad_norm_ one tensor": lambda T: (lambda ps: (T.nn.utils.clip_grad_norm_(ps[0], 1.0), ps[0].grad))(
        grads(T, [[3.0, 4.0]])
    ),
    "clip_grad_norm_ generator": lambda T: (
        lambda ps: (T.nn.utils.clip_grad_norm_(iter(ps), 1.0), ps[0].grad)
    )(grads(T, [[3.0, 4.0]])),
    "clip_grad_value_": lambda T: (lambda ps: (T.nn.utils.clip_grad_value_(ps, 1.0), ps[0].grad))(
        grads(T, [[3.0, -4.0, 0.5]])
    ),
    "clip_grad_value_ negative": lambda T: (lambda ps: (T.nn.utils.clip_grad_value_(ps, -1.0), ps[0].grad))(
        grads(T, [[3.0, -4.0, 0.5]])
    ),
    "clip_grad_value_ nan": lambda T: (lambda ps: (T.nn.utils.clip_grad_value_(ps, 1.0), ps[0].grad))(
        grads(T, [[NAN, -4.0, 0.5]])
    ),
    "get_total_norm empty": lambda T: T.nn.utils.get_total_norm([]),
    "parameters_to_vector empty": lambda T: T.nn.utils.parameters_to_vector([]),
    "parameters_to_vector": lambda T: T.nn.utils.parameters_to_vector([R(T, 2, 2), R(T, 3)]),
    "parameters_to_vector mixed dtypes": lambda T: T.nn.utils.parameters_to_vector(
        [R(T, 2), R(T, 3).double()]
    ),
    "parameters_to_vector of a tensor": lambda T: T.nn.utils.parameters_to_vector(R(T, 2, 3)),
    "parameters_to_vector 0-d": lambda T: T.nn.utils.parameters_to_vector([T.tensor(2.0)]),
    "vector_to_parameters short": lambda T: T.nn.utils.vector_to_parameters(
        R(T, 3), [T.nn.Parameter(R(T, 2, 2))]
    ),
    "vector_to_parameters long": lambda T: (lambda p: (T.nn.utils.vector_to_parameters(R(T, 5), [p]), p)[1])(
        T.nn.Parameter(R(T, 2, 2))
    ),
    "vector_to_parameters list": lambda T: T.nn.utils.vector_to_parameters(
        [1.0, 2.0], [T.nn.Parameter(R(T, 2))]
    ),
    "vector_to_parameters 2-d": lambda T: (
        lambda p: (T.nn.utils.vector_to_parameters(R(T, 2, 2), [p]), p)[1]
    )(T.nn.Parameter(R(T, 4))),
    "vector_to_parameters float64": lambda T: (
        lambda p: (T.nn.utils.vector_to_parameters(R(T, 4).double(), [p]), p)[1]
    )(T.nn.Parameter(R(T, 2, 2))),
    # convolution
    "conv2d 1-tuple kernel": lambda T: det(T, T.nn.Conv2d(3, 4, (3,)))(R(T, 1, 3, 5, 5)),
    "conv2d 3-tuple kernel": lambda T: T.nn.Conv2d(3, 4, (3, 3, 3)),
    "conv2d 3-tuple stride": lambda T: det(T, T.nn.Conv2d(3, 4, 3, stride=(1, 1, 1)))(R(T, 1, 3, 5, 5)),
    "conv2d 3-tuple padding": lambda T: det(T, T.nn.Conv2d(3, 4, 3, padding=(1, 1, 1)))(R(T, 1, 3, 5, 5)),
    "conv2d 1-tuple dilation": lambda T: det(T, T.nn.Conv2d(3, 4, 3, dilation=(1,)))(R(T, 1, 3, 5, 5)),
    "conv2d 1-tuple stride": lambda T: det(T, T.nn.Conv2d(3, 4, 3, stride=(2,)))(R(T, 1, 3, 5, 5)),
    "conv2d 1-tuple padding, reflect": lambda T: T.nn.Conv2d(3, 4, 3, padding=(1,), padding_mode="reflect")(
        R(T, 1, 3, 5, 5)
    ),
    "conv2d kernel 0": lambda T: det(T, T.nn.Conv2d(3, 4, 0))(R(T, 1, 3, 5, 5)),
    "F.conv2d kernel 0 x 3": lambda T: F(T).conv2d(R(T, 1, 1, 5, 5), T.ones(1, 1, 0, 3)),
    "F.conv1d kernel 0": lambda T: F(T).conv1d(R(T, 1, 1, 5), T.ones(1, 1, 0)),
    "F.conv_transpose2d kernel 0": lambda T: F(T).conv_transpose2d(R(T, 1, 1, 5, 5), T.ones(1, 1, 0, 3)),
    "conv2d negative kernel": lambda T: T.nn.Conv2d(3, 4, -1),
    "conv2d stride 0": lambda T: det(T, T.nn.Conv2d(3, 4, 3, stride=0))(R(T, 1, 3, 5, 5)),
    "conv2d negative stride": lambda T: det(T, T.nn.Conv2d(3, 4, 3, stride=-1))(R(T, 1, 3, 5, 5)),
    "conv2d negative padding": lambda T: det(T, T.nn.Conv2d(3, 4, 3, padding=-1))(R(T, 1, 3, 5, 5)),
    "conv2d dilation 0": lambda T: det(T, T.nn.Conv2d(3, 4, 3, dilation=0))(R(T, 1, 3, 5, 5)),
    "conv2d groups do not divide out_channels": lambda T: T.nn.Conv2d(4, 6, 3, groups=4),
    "conv2d groups do not divide in_channels": lambda T: T.nn.Conv2d(3, 6, 3, groups=2),
    "conv2d groups 0": lambda T: T.nn.Conv2d(3, 6, 3, groups=0),
    "conv2d negative groups": lambda T: T.nn.Conv2d(3, 6, 3, groups=-3),
    "conv2d same and strided": lambda T: T.nn.Conv2d(3, 6, 3, padding="same", stride=2),
    "conv2d bad padding string": lambda T: T.nn.Conv2d(3, 6, 3, padding="bad"),
    "conv2d bad padding_mode": lambda T: T.nn.Conv2d(3, 6, 3, padding_mode="bad"),
    "conv2d channels": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(R(T, 1, 2, 5, 5)),
    "conv2d 2-d input": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(R(T, 3, 5)),
    "conv2d unbatched": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(R(T, 3, 5, 5)),
    "conv2d 5-d input": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(R(T, 1, 1, 3, 5, 5)),
    "conv2d kernel larger than input": lambda T: det(T, T.nn.Conv2d(3, 4, 7))(R(T, 1, 3, 5, 5)),
    "conv2d int input": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(T.ones(1, 3, 5, 5, dtype=T.int64)),
    "conv2d float64 input": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(T.ones(1, 3, 5, 5, dtype=T.float64)),
    "conv2d empty batch": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(T.ones(0, 3, 5, 5)),
    "conv2d non-contiguous": lambda T: det(T, T.nn.Conv2d(3, 4, 3))(R(T, 1, 3, 5, 5).transpose(2, 3)),
    "conv2d same, even kernel": lambda T: det(T, T.nn.Conv2d(3, 4, 4, padding="same"))(R(T, 1, 3, 5, 5)),
    "conv2d same, dilated": lambda T: det(T, T.nn.Conv2d(3, 4, 3, padding="same", dilation=2))(
        R(T, 1, 3, 5, 5)
    ),
    "conv2d valid": lambda T: det(T, T.nn.Conv2d(3, 4, 3, padding="valid"))(R(T, 1, 3, 5, 5)),
    "conv2d reflect, padding too wide": lambda T: det(
        T, T.nn.Conv2d(3, 4, 3, padding=5, padding_mode="reflect")
    )(R(T, 1, 3, 5, 5)),
    "conv2d float kernel size": lambda T: T.nn.Conv2d(3, 4, 2.5),
    "conv1d 2-tuple kernel": lambda T: det(T, T.nn.Conv1d(3, 4, (3, 3)))(R(T, 1, 3, 5)),
    "conv1d 4-d input": lambda T: det(T, T.nn.Conv1d(3, 4, 3))(R(T, 1, 3, 5, 5)),
    "conv3d unbatched": lambda T: det(T, T.nn.Conv3d(3, 4, 2))(R(T, 3, 4, 4, 4)),
    "convtranspose2d output_padding too large": lambda T: det(
        T, T.nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)
    )(R(T, 1, 3, 4, 4)),
    "convtranspose2d output_padding": lambda T: det(
        T, T.nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1)
    )(R(T, 1, 3, 4, 4)),
    "convtranspose2d reflect": lambda T: T.nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
    "convtranspose2d groups": lambda T: T.nn.ConvTranspose2d(3, 4, 3, groups=2),
    "convtranspose2d channels": lambda T: det(T, T.nn.ConvTranspose2d(3, 4, 3))(R(T, 1, 2, 4, 4)),
    "convtranspose2d output_size": lambda T: det(T, T.nn.ConvTranspose2d(3, 4, 3, stride=2))(
        R(T, 1, 3, 4, 4), output_size=[10, 10]
    ),
    "convtranspose2d output_size out of reach": lambda T: det(T, T.nn.ConvTranspose2d(3, 4, 3, stride=2))(
        R(T, 1, 3, 4, 4), output_size=[20, 20]
    ),
    "F.conv2d 3-d weight": lambda T: F(T).conv2d(R(T, 1, 3, 5, 5), R(T, 4, 3, 3)),
    "F.conv2d bias shape": lambda T: F(T).conv2d(R(T, 1, 3, 5, 5), R(T, 4, 3, 3, 3), R(T, 3)),
    "F.conv2d groups": lambda T: F(T).conv2d(R(T, 1, 4, 5, 5), R(T, 4, 2, 3, 3), groups=2),
    "F.conv2d groups do not fit": lambda T: F(T).conv2d(R(T, 1, 4, 5, 5), R(T, 4, 2, 3, 3), groups=3),
    "F.conv2d stride list": lambda T: F(T).conv2d(R(T, 1, 3, 5, 5), R(T, 4, 3, 3, 3), stride=[2, 1]),
    # pooling, padding, resampling
    "maxpool2d padding > half the kernel": lambda T: T.nn.MaxPool2d(2, padding=2)(R(T, 1, 1, 5, 5)),
    "maxpool2d kernel 0": lambda T: T.nn.MaxPool2d(0)(R(T, 1, 1, 5, 5)),
    "maxpool2d stride 0": lambda T: T.nn.MaxPool2d(2, stride=0)(R(T, 1, 1, 5, 5)),
    "maxpool2d kernel larger than input": lambda T: T.nn.MaxPool2d(6)(R(T, 1, 1, 5, 5)),
    "maxpool2d unbatched": lambda T: T.nn.MaxPool2d(2)(R(T, 5, 5)),
    "maxpool2d 1-d": lambda T: T.nn.MaxPool2d(2)(R(T, 5)),
    "maxpool2d 5-d": lambda T: T.nn.MaxPool2d(2)(R(T, 1, 1, 1, 5, 5)),
    "maxpool2d int": lambda T: T.nn.MaxPool2d(2)(T.ones(1, 1, 4, 4, dtype=T.int64)),
    "maxpool2d negative padding": lambda T: T.nn.MaxPool2d(2, padding=-1)(R(T, 1, 1, 5, 5)),
    "maxpool2d 3-tuple kernel": lambda T: T.nn.MaxPool2d((2, 2, 2))(R(T, 1, 1, 5, 5)),
    "maxpool2d dilation 0": lambda T: T.nn.MaxPool2d(2, dilation=0)(R(T, 1, 1, 5, 5)),
    "maxpool2d empty batch": lambda T: T.nn.MaxPool2d(2)(T.ones(0, 1, 4, 4)),
    "maxpool2d no channels": lambda T: T.nn.MaxPool2d(2)(T.ones(1, 0, 4, 4)),
    "maxpool2d empty spatial": lambda T: T.nn.MaxPool2d(2)(T.ones(1, 1, 0, 4)),
    "maxpool2d ceil_mode": lambda T: T.nn.MaxPool2d(2, ceil_mode=True)(R(T, 1, 1, 5, 5)),
    "maxpool1d 1-d": lambda T: T.nn.MaxPool1d(2)(R(T, 5)),
    "avgpool2d padding > half the kernel": lambda T: T.nn.AvgPool2d(2, padding=2)(R(T, 1, 1, 5, 5)),
    "avgpool2d kernel 0": lambda T: T.nn.AvgPool2d(0)(R(T, 1, 1, 5, 5)),
    "avgpool2d kernel larger than input": lambda T: T.nn.AvgPool2d(6)(R(T, 1, 1, 5, 5)),
    "avgpool2d divisor_override 0": lambda T: T.nn.AvgPool2d(2, divisor_override=0)(R(T, 1, 1, 4, 4)),
    "avgpool2d int": lambda T: T.nn.AvgPool2d(2)(T.ones(1, 1, 4, 4, dtype=T.int64)),
    "avgpool1d kernel 0": lambda T: T.nn.AvgPool1d(0)(R(T, 1, 4, 4)),
    "adaptiveavgpool2d 3 sizes": lambda T: T.nn.AdaptiveAvgPool2d((2, 2, 2))(R(T, 1, 1, 4, 4)),
    "adaptiveavgpool2d 1 size": lambda T: T.nn.AdaptiveAvgPool2d((2,))(R(T, 1, 1, 4, 4)),
    "adaptiveavgpool2d negative size": lambda T: T.nn.AdaptiveAvgPool2d(-1)(R(T, 1, 1, 4, 4)),
    "adaptiveavgpool2d size 0": lambda T: T.nn.AdaptiveAvgPool2d(0)(R(T, 1, 1, 4, 4)),
    "adaptiveavgpool2d None size": lambda T: T.nn.AdaptiveAvgPool2d((None, 2))(R(T, 1, 1, 4, 4)),
    "adaptiveavgpool2d larger than input": lambda T: T.nn.AdaptiveAvgPool2d(6)(R(T, 1, 1, 4, 4)),
    "adaptiveavgpool2d empty spatial": lambda T: T.nn.AdaptiveAvgPool2d(2)(T.ones(1, 1, 0, 4)),
    "adaptivemaxpool2d empty batch": lambda T: T.nn.AdaptiveMaxPool2d(2)(T.ones(0, 1, 4, 4)),
    "adaptiveavgpool2d int": lambda T: T.nn.AdaptiveAvgPool2d(2)(T.ones(1, 1, 4, 4, dtype=T.int64)),
    "lppool2d unbatched": lambda T: T.nn.LPPool2d(2, 2)(R(T, 1, 4, 4)),
    "maxunpool2d output_size": lambda T: (lambda o: T.nn.MaxUnpool2d(2)(o[0], o[1], output_size=(9, 9)))(
        T.nn.MaxPool2d(2, return_indices=True)(R(T, 1, 1, 4, 4))
    ),
    "pixelshuffle channels": lambda T: T.nn.PixelShuffle(2)(R(T, 1, 3, 2, 2)),
    "pixelshuffle 2-d": lambda T: T.nn.PixelShuffle(2)(R(T, 4, 2)),
    "pixelunshuffle size": lambda T: T.nn.PixelUnshuffle(2)(R(T, 1, 1, 3, 3)),
    "upsample bad mode": lambda T: T.nn.Upsample(scale_factor=2, mode="bad")(R(T, 1, 1, 2, 2)),
    "upsample size and scale": lambda T: T.nn.Upsample(size=4, scale_factor=2)(R(T, 1, 1, 2, 2)),
    "upsample neither": lambda T: T.nn.Upsample()(R(T, 1, 1, 2, 2)),
    "interpolate linear of 4-d": lambda T: F(T).interpolate(R(T, 1, 1, 2, 2), scale_factor=2, mode="linear"),
    "interpolate 3 sizes": lambda T: F(T).interpolate(R(T, 1, 1, 2, 2), size=(4, 4, 4)),
    "interpolate align_corners, nearest": lambda T: F(T).interpolate(
        R(T, 1, 1, 2, 2), scale_factor=2, align_corners=True
    ),
    "interpolate 2-d": lambda T: F(T).interpolate(R(T, 2, 2), scale_factor=2),
    "pad too many": lambda T: F(T).pad(R(T, 2, 2), (1, 1, 1, 1, 1, 1)),
    "pad odd length": lambda T: F(T).pad(R(T, 2, 2), (1,)),
    "pad reflect wider than input": lambda T: F(T).pad(R(T, 1, 2, 2), (2, 2), mode="reflect"),
    "pad bad mode": lambda T: F(T).pad(R(T, 1, 2, 2), (1, 1), mode="bad"),
    "pad negative": lambda T: F(T).pad(R(T, 2, 3), (-1, -1)),
    "pad crops everything": lambda T: F(T).pad(R(T, 2, 3), (-2, -2)),
    "zeropad2d negative": lambda T: T.nn.ZeroPad2d(-1)(R(T, 1, 3, 3)),
    "fold sizes": lambda T: T.nn.Fold((4, 4), 2)(R(T, 1, 3, 9)),
    "fold kernel 0": lambda T: T.nn.Fold((4, 4), 0)(R(T, 1, 3, 9)),
    "unfold kernel 0": lambda T: T.nn.Unfold(0)(R(T, 1, 3, 4, 4)),
    "unfold stride 0": lambda T: T.nn.Unfold(2, stride=0)(R(T, 1, 1, 4, 4)),
    "reflectionpad2d 3-tuple": lambda T: T.nn.ReflectionPad2d((1, 2, 3))(R(T, 1, 1, 4, 4)),
    "reflectionpad2d wider than input": lambda T: T.nn.ReflectionPad2d(4)(R(T, 1, 1, 4, 4)),
    "constantpad1d of int, float value": lambda T: T.nn.ConstantPad1d(1, 3.5)(T.ones(1, 3, dtype=T.int64)),
    "F.pad float widths": lambda T: F(T).pad(R(T, 2, 2), (1.0, 1.0)),
    "pixelshuffle 0": lambda T: T.nn.PixelShuffle(0)(R(T, 1, 4, 2, 2)),
    "channelshuffle 0": lambda T: T.nn.ChannelShuffle(0)(R(T, 1, 4, 2, 2)),
    "interpolate scale 0": lambda T: F(T).interpolate(R(T, 1, 1, 2, 2), scale_factor=0.0),
    "interpolate negative scale": lambda T: F(T).interpolate(R(T, 1, 1, 2, 2), scale_factor=-2.0),
    "interpolate size 0": lambda T: F(T).interpolate(R(T, 1, 1, 2, 2), size=0),
    "interpolate bilinear of 3-d": lambda T: F(T).interpolate(R(T, 1, 1, 4), scale_factor=2, mode="bilinear"),
    "affine_grid theta shape": lambda T: F(T).affine_grid(R(T, 1, 3, 3), [1, 1, 4, 4], align_corners=False),
    "grid_sample grid shape": lambda T: F(T).grid_sample(
        R(T, 1, 1, 4, 4), R(T, 1, 2, 2, 3), align_corners=False
    ),
    "grid_sample batch sizes": lambda T: F(T).grid_sample(
        R(T, 2, 1, 4, 4), R(T, 1, 2, 2, 2), align_corners=False
    ),
    "fractionalmaxpool2d ratio > 1": lambda T: T.nn.FractionalMaxPool2d(2, output_ratio=1.5),
    "fractionalmaxpool2d size and ratio": lambda T: T.nn.FractionalMaxPool2d(
        2, output_size=2, output_ratio=0.5
    ),
    "unfold unbatched": lambda T: T.nn.Unfold(2)(R(T, 1, 4, 4)),
    "channelshuffle groups": lambda T: T.nn.ChannelShuffle(2)(R(T, 1, 3, 2, 2)),
    # recurrent layers (the hidden-state checks are tests/test_rnn_state_checks.py's)
    "rnn input_size": lambda T: T.nn.RNN(3, 4)(R(T, 5, 2, 5)),
    "rnn bad nonlinearity": lambda T: T.nn.RNN(3, 4, nonlinearity="bad"),
    "rnn dropout > 1": lambda T: T.nn.RNN(3, 4, dropout=1.5),
    "rnn dropout str": lambda T: T.nn.RNN(3, 4, dropout="a"),
    "rnn dropout with one layer": lambda T: T.nn.RNN(3, 4, dropout=0.5),
    "rnn 0 layers": lambda T: T.nn.RNN(3, 4, num_layers=0),
    "rnn hidden_size 0": lambda T: T.nn.RNN(3, 0),
    "rnn negative hidden_size": lambda T: T.nn.RNN(3, -1),
    "rnn float hidden_size": lambda T: T.nn.RNN(3, 4.0),
    "rnn float num_layers": lambda T: T.nn.RNN(3, 4, num_layers=2.0),
    "rnn 4-d": lambda T: T.nn.RNN(3, 4)(R(T, 5, 2, 3, 1)),
    "rnn 1-d": lambda T: T.nn.RNN(3, 4)(R(T, 3)),
    "rnn int": lambda T: T.nn.RNN(3, 4)(T.ones(5, 2, 3, dtype=T.int64)),
    "rnn float64": lambda T: T.nn.RNN(3, 4)(T.ones(5, 2, 3, dtype=T.float64)),
    "rnn empty sequence": lambda T: T.nn.RNN(3, 4)(T.ones(0, 2, 3)),
    "rnn empty batch": lambda T: T.nn.RNN(3, 4)(T.ones(5, 0, 3)),
    "rnn two layers": lambda T: det(T, T.nn.RNN(3, 4, num_layers=2))(R(T, 5, 2, 3)),
    "rnn non-contiguous": lambda T: det(T, T.nn.RNN(3, 4))(R(T, 2, 5, 3).transpose(0, 1)),
    "lstm proj_size >= hidden_size": lambda T: T.nn.LSTM(3, 4, proj_size=4),
    "lstm negative proj_size": lambda T: T.nn.LSTM(3, 4, proj_size=-1),
    "lstm input_size": lambda T: T.nn.LSTM(3, 4)(R(T, 5, 2, 5)),
    "gru input_size": lambda T: T.nn.GRU(3, 4)(R(T, 5, 2, 5)),
    "lstm bidirectional batch_first": lambda T: det(T, T.nn.LSTM(3, 4, batch_first=True, bidirectional=True))(
        R(T, 2, 5, 3)
    ),
    "rnncell input_size": lambda T: T.nn.RNNCell(3, 4)(R(T, 2, 5)),
    "rnncell 3-d": lambda T: T.nn.RNNCell(3, 4)(R(T, 2, 2, 3)),
    "rnncell bad nonlinearity": lambda T: T.nn.RNNCell(3, 4, nonlinearity="bad"),
    "lstmcell input_size": lambda T: T.nn.LSTMCell(3, 4)(R(T, 2, 5)),
    "grucell input_size": lambda T: T.nn.GRUCell(3, 4)(R(T, 2, 5)),
    "grucell int": lambda T: T.nn.GRUCell(3, 4)(T.ones(2, 3, dtype=T.int64)),
    "rnncell empty batch": lambda T: T.nn.RNNCell(3, 4)(T.ones(0, 3)),
    "rnncell negative input_size": lambda T: T.nn.RNNCell(-3, 4),
    # attention and the Transformer
    "mha heads do not divide embed_dim": lambda T: T.nn.MultiheadAttention(5, 2),
    "mha 0 heads": lambda T: T.nn.MultiheadAttention(4, 0),
    "mha dropout > 1": lambda T: T.nn.MultiheadAttention(4, 2, dropout=1.5),
    "mha embed_dim": lambda T: T.nn.MultiheadAttention(4, 2)(R(T, 3, 2, 5), R(T, 3, 2, 5), R(T, 3, 2, 5)),
    "mha key and value lengths": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 2, 4), R(T, 5, 2, 4), R(T, 6, 2, 4)
    ),
    "mha batch sizes": lambda T: T.nn.MultiheadAttention(4, 2)(R(T, 3, 2, 4), R(T, 5, 3, 4), R(T, 5, 3, 4)),
    "mha 2-d query, 3-d key": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 4), R(T, 5, 2, 4), R(T, 5, 2, 4)
    ),
    "mha 4-d": lambda T: T.nn.MultiheadAttention(4, 2)(R(T, 1, 3, 2, 4), R(T, 1, 3, 2, 4), R(T, 1, 3, 2, 4)),
    "mha attn_mask shape": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 2, 4), R(T, 3, 2, 4), R(T, 3, 2, 4), attn_mask=T.zeros(2, 2)
    ),
    "mha key_padding_mask shape": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 2, 4), R(T, 3, 2, 4), R(T, 3, 2, 4), key_padding_mask=T.zeros(2, 4, dtype=T.bool)
    ),
    "mha int attn_mask": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 2, 4), R(T, 3, 2, 4), R(T, 3, 2, 4), attn_mask=T.zeros(3, 3, dtype=T.int64)
    ),
    "mha key features, packed projection": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 2, 4), R(T, 6, 2, 5), R(T, 6, 2, 5)
    ),
    "mha key and value shapes, packed projection": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 2, 4), R(T, 6, 2, 4), R(T, 6, 2, 5)
    ),
    "decoder layer memory features": lambda T: T.nn.TransformerDecoderLayer(4, 2)(
        R(T, 3, 2, 4), R(T, 3, 2, 5)
    ),
    "decoder layer memory batch": lambda T: T.nn.TransformerDecoderLayer(4, 2)(R(T, 3, 2, 4), R(T, 3, 3, 4)),
    "encoder layer int mask": lambda T: T.nn.TransformerEncoderLayer(4, 2, dropout=0.0)(
        R(T, 3, 2, 4), src_mask=T.zeros(3, 3, dtype=T.int64)
    ),
    "encoder layer bool and float masks": lambda T: det(T, T.nn.TransformerEncoderLayer(4, 2, dropout=0.0))(
        R(T, 3, 2, 4),
        src_mask=T.tensor([[False, True, False]] * 3),
        src_key_padding_mask=T.tensor([[0.0, 0.0, -1.0], [0.0, -2.0, 0.0]]),
    ),
    "square subsequent mask of 0": lambda T: T.nn.Transformer.generate_square_subsequent_mask(0),
    "mha kdim and vdim": lambda T: det(T, T.nn.MultiheadAttention(4, 2, kdim=3, vdim=5))(
        R(T, 3, 2, 4), R(T, 6, 2, 3), R(T, 6, 2, 5)
    ),
    "mha kdim": lambda T: det(T, T.nn.MultiheadAttention(4, 2, kdim=3, vdim=5))(
        R(T, 3, 2, 4), R(T, 6, 2, 4), R(T, 6, 2, 5)
    ),
    "mha is_causal without a mask": lambda T: T.nn.MultiheadAttention(4, 2)(
        R(T, 3, 2, 4), R(T, 3, 2, 4), R(T, 3, 2, 4), is_causal=True
    ),
    "encoder layer heads": lambda T: T.nn.TransformerEncoderLayer(5, 2),
    "encoder layer bad activation": lambda T: T.nn.TransformerEncoderLayer(4, 2, activation="bad"),
    "encoder layer d_model": lambda T: T.nn.TransformerEncoderLayer(4, 2)(R(T, 3, 2, 5)),
    "encoder layer 4-d": lambda T: T.nn.TransformerEncoderLayer(4, 2)(R(T, 1, 3, 2, 4)),
    "transformer d_model": lambda T: T.nn.Transformer(4, 2, 1, 1, 8)(R(T, 3, 2, 4), R(T, 3, 2, 5)),
    "transformer batch sizes": lambda T: T.nn.Transformer(4, 2, 1, 1, 8)(R(T, 3, 2, 4), R(T, 3, 3, 4)),
    "transformer batch_first batch sizes": lambda T: T.nn.Transformer(4, 2, 1, 1, 8, batch_first=True)(
        R(T, 2, 3, 4), R(T, 3, 3, 4)
    ),
    "transformer 2-d and 3-d": lambda T: T.nn.Transformer(4, 2, 1, 1, 8)(R(T, 3, 4), R(T, 3, 1, 4)),
    "sdpa shapes": lambda T: F(T).scaled_dot_product_attention(R(T, 2, 3, 4), R(T, 2, 5, 3), R(T, 2, 5, 4)),
    "sdpa int": lambda T: F(T).scaled_dot_product_attention(*[T.ones(2, 3, 4, dtype=T.int64)] * 3),
    "sdpa mixed dtypes": lambda T: F(T).scaled_dot_product_attention(
        R(T, 2, 3, 4), R(T, 2, 3, 4).double(), R(T, 2, 3, 4)
    ),
    "sdpa dropout > 1": lambda T: F(T).scaled_dot_product_attention(*[R(T, 2, 3, 4)] * 3, dropout_p=1.5),
    "sdpa 1-d": lambda T: F(T).scaled_dot_product_attention(R(T, 4), R(T, 4), R(T, 4)),
    "sdpa no queries": lambda T: F(T).scaled_dot_product_attention(
        T.ones(2, 0, 4), T.ones(2, 3, 4), T.ones(2, 3, 4)
    ),
    "sdpa no keys": lambda T: F(T).scaled_dot_product_attention(
        T.ones(2, 3, 4), T.ones(2, 0, 4), T.ones(2, 0, 4)
    ),
    "sdpa mask of all False": lambda T: F(T).scaled_dot_product_attention(
        *[R(T, 2, 3, 4)] * 3, attn_mask=T.zeros(3, 3, dtype=T.bool)
    ),
    "embeddingbag bad mode": lambda T: T.nn.EmbeddingBag(3, 2, mode="bad"),
    "embeddingbag 2-d with offsets": lambda T: T.nn.EmbeddingBag(3, 2)(T.tensor([[0, 1]]), T.tensor([0])),
    "embeddingbag 1-d without offsets": lambda T: T.nn.EmbeddingBag(3, 2)(T.tensor([0, 1])),
    "embeddingbag index out of range": lambda T: T.nn.EmbeddingBag(3, 2)(T.tensor([[0, 3]])),
    "embeddingbag float indices": lambda T: T.nn.EmbeddingBag(3, 2)(T.tensor([[0.0, 1.0]])),
    "embeddingbag weights with max": lambda T: T.nn.EmbeddingBag(3, 2, mode="max")(
        T.tensor([[0, 1]]), per_sample_weights=T.ones(1, 2)
    ),
    "ctc blank out of range": lambda T: F(T).ctc_loss(
        R(T, 5, 2, 4).log_softmax(2), T.tensor([[1, 2], [1, 1]]), T.tensor([5, 5]), T.tensor([2, 2]), blank=4
    ),
    "ctc target longer than given": lambda T: F(T).ctc_loss(
        R(T, 5, 2, 4).log_softmax(2), T.tensor([[1, 2], [1, 1]]), T.tensor([5, 5]), T.tensor([2, 3])
    ),
    "ctc input length too long": lambda T: F(T).ctc_loss(
        R(T, 5, 2, 4).log_softmax(2), T.tensor([[1, 2], [1, 1]]), T.tensor([6, 5]), T.tensor([2, 2])
    ),
    "ctc impossible alignment": lambda T: F(T).ctc_loss(
        R(T, 2, 1, 4).log_softmax(2), T.tensor([[1, 1]]), T.tensor([2]), T.tensor([2]), reduction="none"
    ),
    "ctc impossible alignment, zero_infinity": lambda T: F(T).ctc_loss(
        R(T, 2, 1, 4).log_softmax(2), T.tensor([[1, 1]]), T.tensor([2]), T.tensor([2]), zero_infinity=True
    ),
    "ctc batch sizes": lambda T: F(T).ctc_loss(
        R(T, 5, 2, 4).log_softmax(2), T.tensor([[1, 2]]), T.tensor([5, 5]), T.tensor([2, 2])
    ),
}

# ---- the losses: every reduction, empty batches, wrong dtypes and shapes ---------------------

# name: (input, target) for a batch of n, and the module's name
PAIRS: dict[str, tuple[Any, str]] = {
    "l1_loss": (lambda T, n: (R(T, n, 3), R(T, n, 3) * 0.5), "L1Loss"),
    "mse_loss": (lambda T, n: (R(T, n, 3), R(T, n, 3) * 0.5), "MSELoss"),
    "smooth_l1_loss": (lambda T, n: (R(T, n, 3), R(T, n, 3) * 0.5), "SmoothL1Loss"),
    "huber_loss": (lambda T, n: (R(T, n, 3), R(T, n, 3) * 0.5), "HuberLoss"),
    "binary_cross_entropy": (lambda T, n: (P(T, n, 3), Y(T, n, 3)), "BCELoss"),
    "binary_cross_entropy_with_logits": (lambda T, n: (R(T, n, 3), Y(T, n, 3)), "BCEWithLogitsLoss"),
    "kl_div": (lambda T, n: (R(T, n, 3).log_softmax(1), P(T, n, 3)), "KLDivLoss"),
    "nll_loss": (lambda T, n: (R(T, n, 3).log_softmax(1), T.arange(n) % 3), "NLLLoss"),
    "cross_entropy": (lambda T, n: (R(T, n, 3), T.arange(n) % 3), "CrossEntropyLoss"),
    "soft_margin_loss": (lambda T, n: (R(T, n, 3), Y(T, n, 3) * 2 - 1), "SoftMarginLoss"),
    "multilabel_soft_margin_loss": (lambda T, n: (R(T, n, 3), Y(T, n, 3)), "MultiLabelSoftMarginLoss"),
    "multi_margin_loss": (lambda T, n: (R(T, n, 3), T.arange(n) % 3), "MultiMarginLoss"),
    "multilabel_margin_loss": (
        lambda T, n: (R(T, n, 3), T.tensor([[0, 2, -1]] * n, dtype=T.int64).reshape(n, 3)),
        "MultiLabelMarginLoss",
    ),
    "hinge_embedding_loss": (lambda T, n: (R(T, n, 3), Y(T, n, 3) * 2 - 1), "HingeEmbeddingLoss"),
    "poisson_nll_loss": (lambda T, n: (R(T, n, 3), P(T, n, 3)), "PoissonNLLLoss"),
}
TRIPLES: dict[str, tuple[Any, str]] = {
    "margin_ranking_loss": (
        lambda T, n: (R(T, n), R(T, n) * 0.3, (R(T, n) > 0).float() * 2 - 1),
        "MarginRankingLoss",
    ),
    "cosine_embedding_loss": (
        lambda T, n: (R(T, n, 3), R(T, n, 3) * 0.3 + 1, (R(T, n) > 0).float() * 2 - 1),
        "CosineEmbeddingLoss",
    ),
    "triplet_margin_loss": (
        lambda T, n: (R(T, n, 3), R(T, n, 3) * 0.3 + 1, R(T, n, 3) * 2),
        "TripletMarginLoss",
    ),
    "gaussian_nll_loss": (lambda T, n: (R(T, n, 3), R(T, n, 3) * 0.3, P(T, n, 3)), "GaussianNLLLoss"),
}


def _loss(name: str, make: Any, n: int, **kwargs: Any) -> Any:
    return lambda T: getattr(F(T), name)(*make(T, n), **kwargs)


def _loss_grad(name: str, make: Any, n: int) -> Any:
    def call(T: Any) -> Any:
        first, *rest = make(T, n)
        first.requires_grad_()
        return T.autograd.grad(getattr(F(T), name)(first, *rest), first)

    return call


def _with_args(name: str, make: Any, change: Any) -> Any:
    return lambda T: getattr(F(T), name)(*change(T, make))


_GARBAGE_WHEN_EMPTY = ("multi_margin_loss", "multilabel_margin_loss")
_CLASS_INDICES = ("nll_loss", "cross_entropy", "multi_margin_loss", "multilabel_margin_loss")

for _name, (_make, _module) in {**PAIRS, **TRIPLES}.items():
    for _reduction in ["none", "mean", "sum", "batchmean", "bad", "elementwise_mean"]:
        for _n in (4, 0):
            if _n == 0 and _name in _GARBAGE_WHEN_EMPTY and _reduction in ("mean", "sum", "elementwise_mean"):
                continue  # PyTorch reads uninitialised memory: see DIFFERENT
            CASES[f"{_name} {_reduction} of {_n}"] = _loss(_name, _make, _n, reduction=_reduction)
    CASES[f"{_name} gradient of an empty batch"] = _loss_grad(_name, _make, 0)
    CASES[f"{_name} module"] = (lambda module, make: lambda T: getattr(T.nn, module)()(*make(T, 4)))(
        _module, _make
    )
for _name, (_make, _module) in PAIRS.items():
    for _label, _change in {
        "batch sizes": lambda T, make: (make(T, 4)[0], make(T, 3)[1]),
        "broadcast target": lambda T, make: (make(T, 4)[0], make(T, 1)[1]),
        "int input": lambda T, make: (make(T, 4)[0].long(), make(T, 4)[1]),
        "float64 target": lambda T, make: (make(T, 4)[0], make(T, 4)[1].double()),
        "int target": lambda T, make: (make(T, 4)[0], make(T, 4)[1].long()),
        "non-contiguous input": lambda T, make: (make(T, 4)[0].t().contiguous().t(), make(T, 4)[1]),
    }.items():
        CASES[f"{_name} {_label}"] = _with_args(_name, _make, _change)
    if _name in _CLASS_INDICES:
        continue  # their targets are class indices: their dtypes are checked further down
    for _a, _b in [("int64", "float32"), ("float32", "int64"), ("int64", "int64"), ("bool", "float32"),
                   ("float32", "bool"), ("int32", "int32")]:  # fmt: skip
        CASES[f"{_name} of {_a} and {_b}"] = (
            lambda name, a, b: (
                lambda T: getattr(F(T), name)(
                    T.tensor([[1, 0], [0, 1]], dtype=getattr(T, a)),
                    T.tensor([[1, 0], [1, 1]], dtype=getattr(T, b)),
                )
            )
        )(_name, _a, _b)


def X(T: Any) -> Any:
    return R(T, 3, 4)


for _name in ["nll_loss", "cross_entropy", "multi_margin_loss"]:
    for _label, _call in {
        "target out of range": lambda T, f: f(X(T), T.tensor([0, 4, 1])),
        "negative target": lambda T, f: f(X(T), T.tensor([0, -1, 1])),
        "float target": lambda T, f: f(X(T), T.tensor([0.0, 1.0, 1.0])),
        "int32 target": lambda T, f: f(X(T), T.tensor([0, 1, 1], dtype=T.int32)),
        "uint8 target": lambda T, f: f(X(T), T.tensor([0, 1, 1], dtype=T.uint8)),
        "bool target": lambda T, f: f(X(T), T.tensor([False, True, True])),
        "batch sizes": lambda T, f: f(X(T), T.tensor([0, 1])),
        "2-d target": lambda T, f: f(X(T), T.tensor([[0], [1], [2]])),
        "0-d target": lambda T, f: f(R(T, 4), T.tensor(2)),
        "1-d input and target": lambda T, f: f(R(T, 4), T.tensor([2])),
        "0-d input": lambda T, f: f(T.tensor(1.0), T.tensor(0)),
        "weight size": lambda T, f: f(X(T), T.tensor([0, 1, 1]), weight=T.ones(3)),
        "2-d weight": lambda T, f: f(X(T), T.tensor([0, 1, 1]), weight=T.ones(1, 4)),
        "float64 weight": lambda T, f: f(X(T), T.tensor([0, 1, 1]), weight=T.ones(4, dtype=T.float64)),
        "int weight": lambda T, f: f(X(T), T.tensor([0, 1, 1]), weight=T.ones(4, dtype=T.int64)),
        "weighted": lambda T, f: f(X(T), T.tensor([0, 1, 3]), weight=T.tensor([1.0, 2.0, 0.5, 3.0])),
        "zero weights": lambda T, f: f(X(T), T.tensor([0, 1, 3]), weight=T.tensor([0.0, 0.0, 0.5, 0.0])),
        "non-contiguous input": lambda T, f: f(R(T, 4, 3).t(), T.tensor([0, 1, 3])),
        "expanded input": lambda T, f: f(R(T, 1, 4).expand(3, 4), T.tensor([0, 1, 3])),
        "float64 input": lambda T, f: f(X(T).double(), T.tensor([0, 1, 3])),
        "int input": lambda T, f: f(T.ones(3, 4, dtype=T.int64), T.tensor([0, 1, 3])),
    }.items():
        CASES[f"{_name} {_label}"] = (lambda name, call: lambda T: call(T, getattr(F(T), name)))(_name, _call)
for _name in ["nll_loss", "cross_entropy"]:
    for _reduction in ["mean", "sum", "none"]:
        for _label, _call in {
            "all ignored": lambda T, f, r: f(X(T), T.tensor([-100, -100, -100]), reduction=r),
            "some ignored": lambda T, f, r: f(X(T), T.tensor([-100, 2, -100]), reduction=r),
            "ignore_index 1": lambda T, f, r: f(X(T), T.tensor([1, 2, 1]), ignore_index=1, reduction=r),
            "ignore_index out of range": lambda T, f, r: f(
                X(T), T.tensor([7, 2, 1]), ignore_index=7, reduction=r
            ),
            "-100 with another ignore_index": lambda T, f, r: f(
                X(T), T.tensor([-100, 2, 1]), ignore_index=7, reduction=r
            ),
            "gradient, all ignored": lambda T, f, r: (
                lambda x: T.autograd.grad(f(x, T.tensor([-100, -100, -100]), reduction=r).sum(), x)
            )(leaf(T, 3, 4)),
            "weighted, some ignored": lambda T, f, r: f(
                X(T), T.tensor([-100, 2, 3]), weight=T.tensor([1.0, 2.0, 0.5, 3.0]), reduction=r
            ),
            "spatial": lambda T, f, r: f(
                R(T, 2, 4, 3, 2), T.tensor([[[0, 1], [2, 3], [-100, 1]]] * 2), reduction=r
            ),
            "spatial out of range": lambda T, f, r: f(
                R(T, 2, 4, 3, 2), T.tensor([[[0, 1], [2, 4], [-100, 1]]] * 2), reduction=r
            ),
            "spatial shapes": lambda T, f, r: f(
                R(T, 2, 4, 3, 2), T.tensor([[[0, 1], [2, 3]]] * 2), reduction=r
            ),
            "empty batch": lambda T, f, r: f(T.ones(0, 4), T.ones(0, dtype=T.int64), reduction=r),
            "no classes": lambda T, f, r: f(T.ones(3, 0), T.zeros(3, dtype=T.int64), reduction=r),
        }.items():
            CASES[f"{_name} {_reduction} {_label}"] = (
                lambda name, call, r: lambda T: call(T, getattr(F(T), name), r)
            )(_name, _call, _reduction)

CASES.update(
    {
        "cross_entropy probabilities": lambda T: F(T).cross_entropy(X(T), T.softmax(R(T, 3, 4) * 2, 1)),
        "cross_entropy probabilities shape": lambda T: F(T).cross_entropy(X(T), T.softmax(R(T, 3, 5), 1)),
        "cross_entropy float64 probabilities": lambda T: F(T).cross_entropy(
            X(T), T.softmax(R(T, 3, 4), 1).double()
        ),
        "cross_entropy probabilities, ignore_index": lambda T: F(T).cross_entropy(
            X(T), T.softmax(R(T, 3, 4), 1), ignore_index=1
        ),
        "cross_entropy probabilities, smoothing": lambda T: F(T).cross_entropy(
            X(T), T.softmax(R(T, 3, 4), 1), label_smoothing=0.2
        ),
        "cross_entropy smoothing > 1": lambda T: F(T).cross_entropy(
            X(T), T.tensor([0, 1, 2]), label_smoothing=1.5
        ),
        "cross_entropy smoothing, ignored": lambda T: F(T).cross_entropy(
            X(T), T.tensor([0, -100, 2]), label_smoothing=0.3
        ),
        "cross_entropy smoothing, weighted": lambda T: F(T).cross_entropy(
            X(T), T.tensor([0, -100, 2]), weight=T.tensor([1.0, 2.0, 0.5, 3.0]), label_smoothing=0.3
        ),
        "cross_entropy smoothing 1": lambda T: F(T).cross_entropy(
            X(T), T.tensor([0, 1, 2]), label_smoothing=1.0
        ),
        "cross_entropy inf logit": lambda T: F(T).cross_entropy(
            T.tensor([[INF, 0.0], [0.0, 1.0]]), T.tensor([0, 1])
        ),
        "cross_entropy -inf logit of the target": lambda T: F(T).cross_entropy(
            T.tensor([[-INF, 0.0], [0.0, 1.0]]), T.tensor([0, 1])
        ),
        "cross_entropy -inf logit of another": lambda T: F(T).cross_entropy(
            T.tensor([[-INF, 0.0], [0.0, 1.0]]), T.tensor([1, 1])
        ),
        "cross_entropy nan": lambda T: F(T).cross_entropy(
            T.tensor([[NAN, 0.0], [0.0, 1.0]]), T.tensor([1, 1])
        ),
        "cross_entropy 0-d input, float target": lambda T: F(T).nll_loss(T.tensor(1.0), T.tensor(0.0)),
        "CrossEntropyLoss weight size": lambda T: T.nn.CrossEntropyLoss(weight=T.ones(3))(
            X(T), T.tensor([0, 1, 2])
        ),
        "CrossEntropyLoss ignore_index": lambda T: T.nn.CrossEntropyLoss(ignore_index=2)(
            X(T), T.tensor([0, 1, 2])
        ),
        "NLLLoss list weight": lambda T: T.nn.NLLLoss(weight=[1.0, 2.0]),
        "bce input above 1": lambda T: F(T).binary_cross_entropy(T.tensor([1.5, 0.5]), T.tensor([1.0, 0.0])),
        "bce negative input": lambda T: F(T).binary_cross_entropy(
            T.tensor([-0.5, 0.5]), T.tensor([1.0, 0.0])
        ),
        "bce nan input": lambda T: F(T).binary_cross_entropy(T.tensor([NAN, 0.5]), T.tensor([1.0, 0.0])),
        "bce target out of [0, 1]": lambda T: F(T).binary_cross_entropy(
            T.tensor([0.3, 0.5]), T.tensor([2.0, -1.0])
        ),
        "bce nan target": lambda T: F(T).binary_cross_entropy(T.tensor([0.3, 0.5]), T.tensor([NAN, 0.0])),
        "bce input and target out of [0, 1]": lambda T: F(T).binary_cross_entropy(
            T.tensor([1.3, 0.5]), T.tensor([1.5, 0.0])
        ),
        "bce 0 and 1": lambda T: F(T).binary_cross_entropy(T.tensor([0.0, 1.0]), T.tensor([1.0, 0.0])),
        "bce gradient at 0 and 1": lambda T: (
            lambda x: T.autograd.grad(F(T).binary_cross_entropy(x, T.tensor([1.0, 0.0])), x)
        )(T.tensor([0.0, 1.0], requires_grad=True)),
        "bce sizes": lambda T: F(T).binary_cross_entropy(T.tensor([0.3, 0.5]), T.tensor([[1.0, 0.0]])),
        "bce weight broadcast": lambda T: F(T).binary_cross_entropy(
            T.full((2, 3), 0.5), T.ones(2, 3), weight=T.ones(3)
        ),
        "bce weight shape": lambda T: F(T).binary_cross_entropy(
            T.full((2, 3), 0.5), T.ones(2, 3), weight=T.ones(2)
        ),
        "bce with logits sizes": lambda T: F(T).binary_cross_entropy_with_logits(T.ones(2), T.ones(2, 1)),
        "bce with logits pos_weight": lambda T: F(T).binary_cross_entropy_with_logits(
            R(T, 2, 3), T.ones(2, 3), pos_weight=T.tensor([1.0, 2.0, 3.0])
        ),
        "bce with logits pos_weight shape": lambda T: F(T).binary_cross_entropy_with_logits(
            R(T, 2, 3), T.ones(2, 3), pos_weight=T.tensor([1.0, 2.0])
        ),
        "bce with logits weight shape": lambda T: F(T).binary_cross_entropy_with_logits(
            R(T, 2, 3), T.ones(2, 3), weight=T.tensor([1.0, 2.0])
        ),
        "bce with logits inf": lambda T: F(T).binary_cross_entropy_with_logits(
            T.tensor([INF, -INF]), T.tensor([1.0, 0.0])
        ),
        "kl_div sizes": lambda T: F(T).kl_div(R(T, 2, 3), T.ones(3)),
        "kl_div log_target": lambda T: F(T).kl_div(R(T, 2, 3), R(T, 2, 3), log_target=True, reduction="sum"),
        "kl_div zero target": lambda T: F(T).kl_div(R(T, 2, 3), T.zeros(2, 3), reduction="sum"),
        "kl_div negative target": lambda T: F(T).kl_div(R(T, 2, 3), -T.ones(2, 3), reduction="sum"),
        "kl_div batchmean of 1-d": lambda T: F(T).kl_div(R(T, 3), T.ones(3) / 3, reduction="batchmean"),
        "kl_div batchmean of 0-d": lambda T: F(T).kl_div(T.tensor(0.5), T.tensor(0.3), reduction="batchmean"),
        "mse_loss broadcast": lambda T: F(T).mse_loss(R(T, 3, 1), R(T, 3)),
        "mse_loss shapes": lambda T: F(T).mse_loss(R(T, 3, 2), R(T, 4)),
        "l1_loss shapes": lambda T: F(T).l1_loss(R(T, 3, 2), R(T, 4)),
        "smooth_l1_loss beta 0": lambda T: F(T).smooth_l1_loss(R(T, 3), R(T, 3) * 0, beta=0.0),
        "smooth_l1_loss negative beta": lambda T: F(T).smooth_l1_loss(R(T, 3), R(T, 3) * 0, beta=-1.0),
        "smooth_l1_loss bool target gradient": lambda T: (
            lambda x: T.autograd.grad(F(T).smooth_l1_loss(x, T.tensor([True, False, True])), x)
        )(leaf(T, 3)),
        "huber_loss delta 0": lambda T: F(T).huber_loss(R(T, 3), R(T, 3) * 0, delta=0.0),
        "huber_loss negative delta": lambda T: F(T).huber_loss(R(T, 3), R(T, 3) * 0, delta=-1.0),
        "hinge_embedding_loss of int, none": lambda T: F(T).hinge_embedding_loss(
            T.tensor([[1, 0], [0, 3]]), T.tensor([[1, -1], [-1, 1]]), margin=1.5, reduction="none"
        ),
        "hinge_embedding_loss of int, sum": lambda T: F(T).hinge_embedding_loss(
            T.tensor([[1, 0], [0, 3]]), T.tensor([[1.0, -1.0], [-1.0, 1.0]]), reduction="sum"
        ),
        "hinge_embedding_loss other targets": lambda T: F(T).hinge_embedding_loss(
            R(T, 3), T.tensor([1.0, 0.0, 2.0])
        ),
        "gaussian_nll_loss negative var": lambda T: F(T).gaussian_nll_loss(R(T, 3), R(T, 3), -T.ones(3)),
        "gaussian_nll_loss var shape": lambda T: F(T).gaussian_nll_loss(R(T, 3, 2), R(T, 3, 2), T.ones(3, 1)),
        "gaussian_nll_loss bad var shape": lambda T: F(T).gaussian_nll_loss(
            R(T, 3, 2), R(T, 3, 2), T.ones(2, 3)
        ),
        "gaussian_nll_loss float var": lambda T: F(T).gaussian_nll_loss(R(T, 3, 2), R(T, 3, 2), 0.5),
        "poisson_nll_loss of rates": lambda T: F(T).poisson_nll_loss(
            T.sigmoid(R(T, 3)), R(T, 3).abs(), log_input=False, full=True
        ),
        "margin_ranking_loss sizes": lambda T: F(T).margin_ranking_loss(R(T, 3), R(T, 4), T.ones(3)),
        "margin_ranking_loss 2-d": lambda T: F(T).margin_ranking_loss(R(T, 3, 2), R(T, 3, 2), T.ones(3, 2)),
        "margin_ranking_loss 0-d": lambda T: F(T).margin_ranking_loss(
            T.tensor(1.0), T.tensor(2.0), T.tensor(1.0)
        ),
        "cosine_embedding_loss 2-d target": lambda T: F(T).cosine_embedding_loss(
            R(T, 3, 2), R(T, 3, 2), T.ones(3, 2)
        ),
        "cosine_embedding_loss 1-d": lambda T: F(T).cosine_embedding_loss(R(T, 2), R(T, 2), T.tensor(1.0)),
        "cosine_embedding_loss 3-d": lambda T: F(T).cosine_embedding_loss(
            R(T, 3, 2, 2), R(T, 3, 2, 2), T.ones(3)
        ),
        "cosine_embedding_loss other targets": lambda T: F(T).cosine_embedding_loss(
            R(T, 3, 2), R(T, 3, 2), T.tensor([1.0, 0.0, 2.0])
        ),
        "triplet_margin_loss shapes": lambda T: F(T).triplet_margin_loss(R(T, 3, 2), R(T, 3, 2), R(T, 3, 3)),
        "triplet_margin_loss 3-d": lambda T: F(T).triplet_margin_loss(
            R(T, 3, 2, 2), R(T, 3, 2, 2), R(T, 3, 2, 2)
        ),
        "triplet_margin_loss negative margin": lambda T: F(T).triplet_margin_loss(
            R(T, 3, 2), R(T, 3, 2), R(T, 3, 2), margin=-1.0
        ),
        "triplet_margin_with_distance_loss margin 0": lambda T: F(T).triplet_margin_with_distance_loss(
            R(T, 3, 2), R(T, 3, 2), R(T, 3, 2), margin=0.0
        ),
        "triplet_margin_with_distance_loss negative margin": lambda T: F(T).triplet_margin_with_distance_loss(
            R(T, 3, 2), R(T, 3, 2), R(T, 3, 2), margin=-1.0
        ),
        "multi_margin_loss p = 3": lambda T: F(T).multi_margin_loss(X(T), T.tensor([0, 1, 2]), p=3),
        "multi_margin_loss 3-d": lambda T: F(T).multi_margin_loss(R(T, 2, 3, 4), T.tensor([0, 1])),
        "multilabel_margin_loss target out of range": lambda T: F(T).multilabel_margin_loss(
            X(T), T.tensor([[0, 5, -1, 0]] * 3)
        ),
        "multilabel_margin_loss target shape": lambda T: F(T).multilabel_margin_loss(
            X(T), T.tensor([[0, 1, -1]] * 3)
        ),
        "multilabel_margin_loss float target": lambda T: F(T).multilabel_margin_loss(
            X(T), T.tensor([[0.0, 1.0, -1.0, 0.0]] * 3)
        ),
        "multilabel_soft_margin_loss weight": lambda T: F(T).multilabel_soft_margin_loss(
            X(T), (X(T) > 0).float(), weight=T.ones(3)
        ),
        "soft_margin_loss shapes": lambda T: F(T).soft_margin_loss(X(T), T.ones(4)),
    }
)


def _target_grad(name: str, make: Any) -> Any:
    """The gradient a loss gives its target (PyTorch differentiates the target too)."""

    def call(T: Any) -> Any:
        input, target = make(T)
        target.requires_grad_()
        return T.autograd.grad(getattr(F(T), name)(input, target), target)

    return call


_SOFT_TARGETS: dict[str, Any] = {
    "mse_loss": lambda T: (R(T, 3), R(T, 3) * 2),
    "l1_loss": lambda T: (R(T, 3), R(T, 3) * 2),
    "smooth_l1_loss": lambda T: (R(T, 3), R(T, 3) * 2),
    "huber_loss": lambda T: (R(T, 3), R(T, 3) * 2),
    "binary_cross_entropy": lambda T: (T.sigmoid(R(T, 3)), T.sigmoid(R(T, 3) * 2)),
    "binary_cross_entropy_with_logits": lambda T: (R(T, 3), T.sigmoid(R(T, 3) * 2)),
    "kl_div": lambda T: (R(T, 2, 3).log_softmax(1), T.softmax(R(T, 2, 3) * 2, 1)),
    "cross_entropy": lambda T: (R(T, 2, 3), T.softmax(R(T, 2, 3) * 2, 1)),
    "soft_margin_loss": lambda T: (R(T, 3), R(T, 3) * 2),
    "poisson_nll_loss": lambda T: (R(T, 3), R(T, 3).abs()),
    "multilabel_soft_margin_loss": lambda T: (R(T, 2, 3), T.sigmoid(R(T, 2, 3) * 2)),
}

# ---- containers and Module's own API ----------------------------------------------------------

CASES.update(
    {
        "seq slice": lambda T: len(_seq(T)[1:]),
        "seq slice type": lambda T: type(_seq(T)[1:]).__name__,
        "seq slice step": lambda T: len(_seq(T)[::2]),
        "seq neg index": lambda T: type(_seq(T)[-1]).__name__,
        "seq setitem slice": lambda T: _seq(T).__setitem__(slice(0, 1), T.nn.ReLU()),
        "seq delitem slice": lambda T: (lambda s: (s.__delitem__(slice(0, 2)), len(s), list(s._modules))[1:])(
            _seq(T)
        ),
        "seq del then names": lambda T: (lambda s: (s.__delitem__(0), list(s._modules))[1])(_seq(T)),
        "seq insert neg": lambda T: (lambda s: (s.insert(-1, T.nn.Tanh()), [type(m).__name__ for m in s])[1])(
            _seq(T)
        ),
        "seq insert out of range": lambda T: _seq(T).insert(10, T.nn.Tanh()),
        "seq insert neg oob": lambda T: _seq(T).insert(-10, T.nn.Tanh()),
        "seq pop neg": lambda T: type(_seq(T).pop(-1)).__name__,
        "seq pop oob": lambda T: _seq(T).pop(10),
        "seq append self": lambda T: len(_seq(T).append(T.nn.ReLU())),
        "seq iadd": lambda T: (lambda s: (s.__iadd__(_seq(T)), len(s))[1])(_seq(T)),
        "seq iadd list": lambda T: _seq(T).__iadd__([T.nn.ReLU()]),
        "seq mul 2": lambda T: [n for n, _ in (_seq(T) * 2).named_children()],
        "seq rmul": lambda T: len(2 * _seq(T)),
        "seq imul": lambda T: (lambda s: (s.__imul__(2), len(s))[1])(_seq(T)),
        "seq extend seq": lambda T: len(_seq(T).extend(_seq(T))),
        "seq len dict names": lambda T: [
            n
            for n, _ in T.nn.Sequential(
                OrderedDict([("a", T.nn.ReLU()), ("b", T.nn.Tanh())])
            ).named_children()
        ],
        "seq kw": lambda T: T.nn.Sequential(a=T.nn.ReLU()),
        "seq repr empty": lambda T: repr(T.nn.Sequential()),
        "seq bool": lambda T: bool(T.nn.Sequential()),
        "modulelist insert oob": lambda T: (
            lambda ml: (ml.insert(10, T.nn.Tanh()), [type(m).__name__ for m in ml])[1]
        )(T.nn.ModuleList([T.nn.ReLU()])),
        "modulelist del neg": lambda T: (lambda ml: (ml.__delitem__(-1), list(ml._modules))[1])(
            T.nn.ModuleList([T.nn.ReLU(), T.nn.Sigmoid(), T.nn.Tanh()])
        ),
        "modulelist del slice": lambda T: (lambda ml: (ml.__delitem__(slice(0, 2)), list(ml._modules))[1])(
            T.nn.ModuleList([T.nn.ReLU(), T.nn.Sigmoid(), T.nn.Tanh()])
        ),
        "modulelist pop": lambda T: (lambda ml: (type(ml.pop(0)).__name__, list(ml._modules)))(
            T.nn.ModuleList([T.nn.ReLU(), T.nn.Sigmoid()])
        ),
        "modulelist slice": lambda T: type(T.nn.ModuleList([T.nn.ReLU(), T.nn.Sigmoid()])[1:]).__name__,
        "modulelist setitem neg": lambda T: (
            lambda ml: (ml.__setitem__(-1, T.nn.Tanh()), [type(m).__name__ for m in ml])[1]
        )(T.nn.ModuleList([T.nn.ReLU(), T.nn.Sigmoid()])),
        "modulelist setitem oob": lambda T: T.nn.ModuleList([T.nn.ReLU()]).__setitem__(3, T.nn.Tanh()),
        "modulelist iadd": lambda T: len(T.nn.ModuleList([T.nn.ReLU()]).__iadd__([T.nn.Tanh()])),
        "modulelist extend int": lambda T: T.nn.ModuleList().extend(3),
        "moduledict pop missing": lambda T: T.nn.ModuleDict().pop("a"),
        "moduledict pop": lambda T: type(T.nn.ModuleDict({"a": T.nn.ReLU()}).pop("a")).__name__,
        "moduledict del missing": lambda T: T.nn.ModuleDict().__delitem__("a"),
        "moduledict contains": lambda T: "a" in T.nn.ModuleDict({"a": T.nn.ReLU()}),
        "moduledict keys order": lambda T: list(T.nn.ModuleDict({"b": T.nn.ReLU(), "a": T.nn.Tanh()}).keys()),
        "moduledict update pairs": lambda T: list(T.nn.ModuleDict().update([("a", T.nn.ReLU())]) or []),
        "moduledict update bad pairs": lambda T: T.nn.ModuleDict().update([("a",)]),
        "moduledict setitem int": lambda T: T.nn.ModuleDict().__setitem__("a", 3),
        "moduledict get": lambda T: T.nn.ModuleDict().get("a"),
        "moduledict clear": lambda T: (lambda d: (d.clear(), len(d))[1])(T.nn.ModuleDict({"a": T.nn.ReLU()})),
        "paramlist setitem tensor": lambda T: (
            lambda ml: (ml.__setitem__(0, R(T, 3)), type(ml[0]).__name__)[1]
        )(T.nn.ParameterList([R(T, 2)])),
        "paramlist neg index": lambda T: T.nn.ParameterList([R(T, 2)])[-1],
        "paramlist extend int": lambda T: T.nn.ParameterList().extend(3),
        "paramlist iadd": lambda T: len(T.nn.ParameterList([R(T, 2)]).__iadd__([R(T, 3)])),
        "paramlist slice": lambda T: type(T.nn.ParameterList([R(T, 2), R(T, 2)])[1:]).__name__,
        "paramlist requires grad": lambda T: T.nn.ParameterList([R(T, 2)])[0].requires_grad,
        "paramlist of int tensor": lambda T: T.nn.ParameterList([T.ones(2, dtype=T.int64)]),
        "paramlist of none": lambda T: T.nn.ParameterList([None])[0],
        "paramdict update": lambda T: sorted(T.nn.ParameterDict({"a": R(T, 2)}).keys()),
        "paramdict setdefault": lambda T: T.nn.ParameterDict().setdefault("a", R(T, 2)).requires_grad,
        "paramdict pop missing": lambda T: T.nn.ParameterDict().pop("a"),
        "paramdict int tensor": lambda T: T.nn.ParameterDict({"a": T.ones(2, dtype=T.int64)}),
        "paramdict or": lambda T: sorted(
            (T.nn.ParameterDict({"a": R(T, 2)}) | T.nn.ParameterDict({"b": R(T, 2)})).keys()
        ),
        "paramdict fromkeys": lambda T: sorted(T.nn.ParameterDict().fromkeys(["a", "b"]).keys()),
        "module attr missing": lambda T: T.nn.Linear(2, 2).foo,
        "module del param": lambda T: (lambda m: (delattr(m, "bias"), hasattr(m, "bias"))[1])(
            T.nn.Linear(2, 2)
        ),
        "module del then call": lambda T: (lambda m: (delattr(m, "bias"), m(R(T, 2)))[1])(T.nn.Linear(2, 2)),
        "module param wrong shape": lambda T: (
            lambda m: (setattr(m, "weight", T.nn.Parameter(T.ones(3, 3))), m(R(T, 2)))[1]
        )(T.nn.Linear(2, 2)),
        "module buffer none": lambda T: (
            lambda m: (m.register_buffer("x", None), m.x, list(dict(m.named_buffers())))[1:]
        )(T.nn.Module()),
        "module register_buffer existing attr": lambda T: (
            lambda m: (setattr(m, "x", 1), m.register_buffer("x", R(T, 2)))
        )(T.nn.Module()),
        "module register_parameter existing attr": lambda T: (
            lambda m: (setattr(m, "x", 1), m.register_parameter("x", T.nn.Parameter(R(T, 2))))
        )(T.nn.Module()),
        "module register_buffer param name": lambda T: T.nn.Linear(2, 2).register_buffer("weight", R(T, 2)),
        "module register_parameter buffer name": lambda T: T.nn.BatchNorm1d(2).register_parameter(
            "running_mean", T.nn.Parameter(R(T, 2))
        ),
        "module add_module existing attr": lambda T: (
            lambda m: (setattr(m, "x", 1), m.add_module("x", T.nn.ReLU()))
        )(T.nn.Module()),
        "module add_module param name": lambda T: T.nn.Linear(2, 2).add_module("weight", T.nn.ReLU()),
        "module setattr module over param": lambda T: setattr(T.nn.Linear(2, 2), "weight", T.nn.ReLU()),
        "module setattr param over module": lambda T: setattr(
            T.nn.Sequential(T.nn.ReLU()), "0", T.nn.Parameter(R(T, 2))
        ),
        "module setattr none over module": lambda T: (
            lambda s: (setattr(s, "0", None), list(s._modules.items()))
        )(T.nn.Sequential(T.nn.ReLU())),
        "module forward hook non callable": lambda T: T.nn.Linear(2, 2).register_forward_hook(3),
        "module state_dict keep_vars": lambda T: [
            type(v).__name__ for v in T.nn.Linear(2, 2).state_dict(keep_vars=True).values()
        ],
        "module state_dict prefix": lambda T: list(T.nn.Linear(2, 2).state_dict(prefix="a.")),
        "module load int weight": lambda T: (
            lambda m: (
                m.load_state_dict({"weight": T.ones(2, 2, dtype=T.int64), "bias": T.ones(2)}),
                m.weight.dtype,
            )[1]
        )(T.nn.Linear(2, 2)),
        "module load float64 weight": lambda T: (
            lambda m: (
                m.load_state_dict({"weight": T.ones(2, 2, dtype=T.float64), "bias": T.ones(2)}),
                str(m.weight.dtype).split(".")[-1],
            )[1]
        )(T.nn.Linear(2, 2)),
        "module load list": lambda T: T.nn.Linear(2, 2).load_state_dict(
            {"weight": [[1.0, 2.0], [3.0, 4.0]], "bias": T.ones(2)}
        ),
        "module load assign": lambda T: (
            lambda m: (
                m.load_state_dict({"weight": T.ones(2, 2, dtype=T.float64), "bias": T.ones(2)}, assign=True),
                str(m.weight.dtype).split(".")[-1],
                type(m.weight).__name__,
            )[1:]
        )(T.nn.Linear(2, 2)),
        "module load non-dict": lambda T: T.nn.Linear(2, 2).load_state_dict([1, 2]),
        "module apply returns": lambda T: type(T.nn.Linear(2, 2).apply(lambda m: None)).__name__,
        "module children of leaf": lambda T: list(T.nn.Linear(2, 2).children()),
        "module train(1)": lambda T: T.nn.Linear(2, 2).train(1).training,
        "module eval arg": lambda T: T.nn.Linear(2, 2).eval(True),
        "module zero_grad no grad": lambda T: T.nn.Linear(2, 2).zero_grad(set_to_none=False),
        "module get_submodule bad": lambda T: T.nn.Sequential(T.nn.Linear(2, 2)).get_submodule("0.weight"),
        "module get_parameter bad": lambda T: T.nn.Sequential(T.nn.Linear(2, 2)).get_parameter("0.foo"),
        "module get_buffer bad": lambda T: T.nn.Sequential(T.nn.BatchNorm1d(2)).get_buffer("0.weight"),
        "module named_modules dup": lambda T: [
            n for n, _ in (lambda m: T.nn.Sequential(m, m))(T.nn.ReLU()).named_modules()
        ],
        "module named_modules dup nodedup": lambda T: [
            n for n, _ in (lambda m: T.nn.Sequential(m, m))(T.nn.ReLU()).named_modules(remove_duplicate=False)
        ],
        "module parameters recurse false": lambda T: len(
            list(T.nn.Sequential(T.nn.Linear(2, 2)).parameters(recurse=False))
        ),
        "linear bias str": lambda T: T.nn.Linear(2, 2, bias="no").bias is None,
        "linear bias 0": lambda T: T.nn.Linear(2, 2, bias=0).bias is None,
        "linear dtype int": lambda T: T.nn.Linear(2, 2, dtype=T.int64),
        "linear dtype float64": lambda T: str(T.nn.Linear(2, 2, dtype=T.float64).weight.dtype).split(".")[-1],
        "linear device meta": lambda T: T.nn.Linear(2, 2, device="cpu").weight.shape,
        "embedding float size": lambda T: T.nn.Embedding(3.5, 2),
        "embedding dtype int": lambda T: T.nn.Embedding(3, 2, dtype=T.int64),
        "dropout p true": lambda T: T.nn.Dropout(True)(R(T, 3)),
        "dropout p int": lambda T: T.nn.Dropout(1)(R(T, 3)),
        "dropout p tensor": lambda T: T.nn.Dropout(T.tensor(0.0))(R(T, 3)),
        "dropout p none": lambda T: T.nn.Dropout(None),
        "conv bias none": lambda T: T.nn.Conv2d(3, 4, 3, bias=None).bias,
        "layernorm float shape": lambda T: T.nn.LayerNorm(3.0),
        "layernorm list shape": lambda T: T.nn.LayerNorm([2, 3]).normalized_shape,
        "layernorm size shape": lambda T: T.nn.LayerNorm(T.ones(2, 3).shape).normalized_shape,
        "batchnorm float features": lambda T: T.nn.BatchNorm1d(3.0),
        "groupnorm float groups": lambda T: T.nn.GroupNorm(2.0, 4),
        "softmax dim str": lambda T: T.nn.Softmax(dim="a")(R(T, 2, 3)),
        "flatten str": lambda T: T.nn.Flatten("a")(R(T, 2, 3)),
        "flatten float": lambda T: T.nn.Flatten(1.0)(R(T, 2, 3)),
        "threshold module": lambda T: T.nn.Threshold(0.5, -1.0)(R(T, 3)),
        "hardtanh module int bounds": lambda T: T.nn.Hardtanh(-2, 2)(R(T, 3) * 3),
        "prelu init": lambda T: T.nn.PReLU(init=0.1).weight,
        "prelu 0 params call": lambda T: T.nn.PReLU(0)(R(T, 2, 3)),
        "celu module alpha0": lambda T: T.nn.CELU(alpha=0.0)(R(T, 3)),
        "softplus module": lambda T: T.nn.Softplus(beta=-1.0)(R(T, 3)),
        "rrelu module bounds": lambda T: T.nn.RReLU(0.5, 0.1),
        "rrelu module bounds call": lambda T: T.nn.RReLU(0.5, 0.1)(R(T, 3)),
        "glu module": lambda T: T.nn.GLU(dim=0)(R(T, 3, 2)),
        "logsoftmax module dim": lambda T: T.nn.LogSoftmax(dim=5)(R(T, 2, 3)),
        "mha kdim none": lambda T: T.nn.MultiheadAttention(4, 2, kdim=None, vdim=3).vdim,
        "cosine similarity module eps": lambda T: T.nn.CosineSimilarity(eps=0.0)(
            T.zeros(2, 3), T.zeros(2, 3)
        ),
        "pairwise module keepdim": lambda T: T.nn.PairwiseDistance(keepdim=True)(R(T, 2, 3), R(T, 2, 3) * 2),
        "identity module": lambda T: T.nn.Identity()(R(T, 2)) is None,
    }
)

# ---- evaluation mode, empty batches and their gradients, targets that require grad -------------

CASES.update(
    {
        "rnn dropout eval": lambda T: _eval(T, T.nn.RNN(3, 4, num_layers=2, dropout=0.5))(R(T, 5, 2, 3)),
        "lstm dropout eval": lambda T: _eval(T, T.nn.LSTM(3, 4, num_layers=2, dropout=0.5))(R(T, 5, 2, 3)),
        "gru dropout eval": lambda T: _eval(T, T.nn.GRU(3, 4, num_layers=2, dropout=0.5))(R(T, 5, 2, 3)),
        "mha dropout eval": lambda T: _eval(T, T.nn.MultiheadAttention(4, 2, dropout=0.5))(
            R(T, 3, 2, 4), R(T, 3, 2, 4), R(T, 3, 2, 4)
        ),
        "tel eval": lambda T: _eval(T, T.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.5))(
            R(T, 3, 2, 4)
        ),
        "tdl eval": lambda T: _eval(T, T.nn.TransformerDecoderLayer(4, 2, dim_feedforward=8, dropout=0.5))(
            R(T, 3, 2, 4), R(T, 5, 2, 4)
        ),
        "transformer eval": lambda T: _eval(T, T.nn.Transformer(4, 2, 1, 1, 8, dropout=0.5))(
            R(T, 3, 2, 4), R(T, 5, 2, 4)
        ),
        "transformer eval batch_first norm_first": lambda T: _eval(
            T, T.nn.Transformer(4, 2, 1, 1, 8, dropout=0.5, batch_first=True, norm_first=True)
        )(R(T, 2, 3, 4), R(T, 2, 5, 4)),
        "te eval kpm": lambda T: _eval(
            T, T.nn.TransformerEncoder(T.nn.TransformerEncoderLayer(4, 2, 8, 0.5), 2)
        )(R(T, 3, 2, 4), src_key_padding_mask=T.tensor([[False, False, True], [False, False, False]])),
        "te eval kpm bf": lambda T: _eval(
            T, T.nn.TransformerEncoder(T.nn.TransformerEncoderLayer(4, 2, 8, 0.5, batch_first=True), 2)
        )(R(T, 2, 3, 4), src_key_padding_mask=T.tensor([[False, False, True], [False, False, False]])),
        "bn eval no track": lambda T: _eval(T, T.nn.BatchNorm1d(3, track_running_stats=False))(R(T, 4, 3)),
        "in eval track": lambda T: _eval(T, T.nn.InstanceNorm1d(3, track_running_stats=True, affine=True))(
            R(T, 2, 3, 4)
        ),
        "in train track": lambda T: (lambda m: (m(R(T, 2, 3, 4)), m.running_mean, m.running_var))(
            det(T, T.nn.InstanceNorm1d(3, track_running_stats=True, affine=True))
        ),
        "bn2d eval": lambda T: _eval(T, T.nn.BatchNorm2d(3))(R(T, 2, 3, 2, 2)),
        "bn train then eval": lambda T: (lambda m: (m(R(T, 8, 3)), m.eval()(R(T, 2, 3)))[1])(
            det(T, T.nn.BatchNorm1d(3))
        ),
        "alphadropout eval": lambda T: _eval(T, T.nn.AlphaDropout(0.5))(R(T, 3)),
        "rrelu eval": lambda T: _eval(T, T.nn.RReLU())(R(T, 5) - 0.5),
        "embbag eval": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="mean"))(T.tensor([[0, 1], [2, 4]])),
        "embbag sum per sample": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="sum"))(
            T.tensor([[0, 1], [2, 4]]), per_sample_weights=T.tensor([[1.0, 2.0], [0.5, 0.5]])
        ),
        "embbag max": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="max"))(
            T.tensor([0, 1, 2, 4]), T.tensor([0, 3])
        ),
        "embbag empty bag": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="mean"))(
            T.tensor([0, 1, 2]), T.tensor([0, 3])
        ),
        "embbag empty bag max": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="max"))(
            T.tensor([0, 1, 2]), T.tensor([0, 3])
        ),
        "embbag include_last": lambda T: _eval(
            T, T.nn.EmbeddingBag(5, 2, mode="sum", include_last_offset=True)
        )(T.tensor([0, 1, 2, 4]), T.tensor([0, 1, 4])),
        "embbag padding": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="mean", padding_idx=1))(
            T.tensor([[0, 1], [1, 1]])
        ),
        "embbag offsets unsorted": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2))(
            T.tensor([0, 1, 2, 4]), T.tensor([0, 3, 1])
        ),
        "embbag offsets oob": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2))(
            T.tensor([0, 1, 2, 4]), T.tensor([0, 7])
        ),
        "embbag per sample mean": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="mean"))(
            T.tensor([[0, 1]]), per_sample_weights=T.ones(1, 2)
        ),
        "embbag per sample shape": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="sum"))(
            T.tensor([[0, 1]]), per_sample_weights=T.ones(2)
        ),
        "embbag float64 weights": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2, mode="sum"))(
            T.tensor([[0, 1]]), per_sample_weights=T.ones(1, 2, dtype=T.float64)
        ),
        "embbag int32 offsets": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2))(
            T.tensor([0, 1, 2, 4]), T.tensor([0, 2], dtype=T.int32)
        ),
        "embbag mixed int types": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2))(
            T.tensor([0, 1, 2, 4], dtype=T.int32), T.tensor([0, 2])
        ),
        "embbag negative index": lambda T: _eval(T, T.nn.EmbeddingBag(5, 2))(T.tensor([[0, -1]])),
        **{f"{name} target requires grad": _target_grad(name, make) for name, make in _SOFT_TARGETS.items()},
        "linear empty grads": lambda T: _param_grads(T, T.nn.Linear(3, 2), T.ones(0, 3)),
        "linear empty mean grads": lambda T: _param_grads(
            T, T.nn.Linear(3, 2), T.ones(0, 3), lambda y: y.mean()
        ),
        "conv empty grads": lambda T: _param_grads(T, T.nn.Conv2d(2, 3, 2), T.ones(0, 2, 3, 3)),
        "bn empty grads": lambda T: _param_grads(T, T.nn.BatchNorm1d(3), T.ones(0, 3)),
        "ln empty grads": lambda T: _param_grads(T, T.nn.LayerNorm(3), T.ones(0, 3)),
        "gn empty grads": lambda T: _param_grads(T, T.nn.GroupNorm(1, 2), T.ones(0, 2, 3)),
        "emb empty grads": lambda T: _param_grads(T, T.nn.Embedding(3, 2), T.ones(0, dtype=T.int64)),
        "lstm empty batch grads": lambda T: _param_grads(T, T.nn.LSTM(3, 2), T.ones(4, 0, 3)),
        "gru empty seq": lambda T: _param_grads(T, T.nn.GRU(3, 2), T.ones(0, 2, 3)),
        "bilinear empty grads": lambda T: (
            lambda m: (m(T.ones(0, 2), T.ones(0, 3)).sum().backward(), [p.grad for p in m.parameters()])[1]
        )(det(T, T.nn.Bilinear(2, 3, 4))),
        "mha empty batch": lambda T: det(T, T.nn.MultiheadAttention(4, 2))(
            T.ones(3, 0, 4), T.ones(3, 0, 4), T.ones(3, 0, 4)
        ),
        "tel empty batch": lambda T: det(T, T.nn.TransformerEncoderLayer(4, 2, 8, 0.0))(T.ones(3, 0, 4)),
        "tel empty seq": lambda T: det(T, T.nn.TransformerEncoderLayer(4, 2, 8, 0.0))(T.ones(0, 2, 4)),
        "mha empty seq": lambda T: det(T, T.nn.MultiheadAttention(4, 2))(
            T.ones(0, 2, 4), T.ones(3, 2, 4), T.ones(3, 2, 4)
        ),
        "mha empty keys": lambda T: det(T, T.nn.MultiheadAttention(4, 2))(
            T.ones(3, 2, 4), T.ones(0, 2, 4), T.ones(0, 2, 4)
        ),
        "convT empty": lambda T: det(T, T.nn.ConvTranspose2d(2, 3, 2))(T.ones(0, 2, 3, 3)),
        "maxpool empty grads": lambda T: (lambda x: T.autograd.grad(T.nn.MaxPool2d(2)(x).sum(), x))(
            T.ones(0, 1, 4, 4, requires_grad=True)
        ),
        "adaptive empty grads": lambda T: (lambda x: T.autograd.grad(T.nn.AdaptiveAvgPool2d(2)(x).sum(), x))(
            T.ones(0, 1, 4, 4, requires_grad=True)
        ),
        "upsample empty": lambda T: T.nn.Upsample(scale_factor=2)(T.ones(0, 1, 2, 2)),
        "upsample bilinear empty": lambda T: T.nn.Upsample(scale_factor=2, mode="bilinear")(
            T.ones(0, 1, 2, 2)
        ),
        "pixelshuffle empty": lambda T: T.nn.PixelShuffle(2)(T.ones(0, 4, 2, 2)),
        "flatten empty grads": lambda T: (lambda x: T.autograd.grad(T.nn.Flatten()(x).sum(), x))(
            T.ones(0, 2, 3, requires_grad=True)
        ),
        "softmax empty grads": lambda T: (lambda x: T.autograd.grad(F(T).softmax(x, 1).sum(), x))(
            T.ones(0, 3, requires_grad=True)
        ),
        "log_softmax zero classes": lambda T: F(T).log_softmax(T.ones(2, 0), 1),
        "embbag empty input": lambda T: det(T, T.nn.EmbeddingBag(3, 2))(
            T.ones(0, dtype=T.int64), T.tensor([0])
        ),
        "embbag empty 2d": lambda T: det(T, T.nn.EmbeddingBag(3, 2))(T.ones(0, 2, dtype=T.int64)),
        "one_hot empty 2d": lambda T: F(T).one_hot(T.ones(2, 0, dtype=T.int64), 3),
        "pad empty": lambda T: F(T).pad(T.ones(0, 3), (1, 1)),
        "pad reflect empty batch": lambda T: F(T).pad(T.ones(0, 1, 3), (1, 1), mode="reflect"),
        "ctc empty batch": lambda T: F(T).ctc_loss(
            T.ones(5, 0, 4).log_softmax(2),
            T.ones(0, 2, dtype=T.int64),
            T.ones(0, dtype=T.int64),
            T.ones(0, dtype=T.int64),
        ),
        "cosine empty": lambda T: F(T).cosine_similarity(T.ones(0, 3), T.ones(0, 3)),
        "pairwise empty": lambda T: F(T).pairwise_distance(T.ones(0, 3), T.ones(0, 3)),
        "normalize empty": lambda T: F(T).normalize(T.ones(0, 3)),
        "clip empty grads tensor": lambda T: (
            lambda p: (p.__setattr__("grad", T.ones(0)), T.nn.utils.clip_grad_norm_([p], 1.0))[1]
        )(T.nn.Parameter(T.ones(0))),
        "p2v empty tensors": lambda T: T.nn.utils.parameters_to_vector([T.ones(0), T.ones(2, 0)]),
        "init empty xavier": lambda T: T.nn.init.xavier_uniform_(T.ones(0, 3)),
        "init empty kaiming": lambda T: T.nn.init.kaiming_normal_(T.ones(3, 0)),
        "init orthogonal empty": lambda T: T.nn.init.orthogonal_(T.ones(0, 3)),
    }
)

# ---- nn.utils (weight norm, pruning, parametrize, packed sequences), non-contiguous inputs ----

CASES.update(
    {
        "weight_norm dim out": lambda T: T.nn.utils.weight_norm(T.nn.Linear(3, 2), dim=3),
        "weight_norm name missing": lambda T: T.nn.utils.weight_norm(T.nn.Linear(3, 2), name="foo"),
        "weight_norm twice": lambda T: T.nn.utils.weight_norm(T.nn.utils.weight_norm(T.nn.Linear(3, 2))),
        "remove_weight_norm none": lambda T: T.nn.utils.remove_weight_norm(T.nn.Linear(3, 2)),
        "spectral_norm dim": lambda T: T.nn.utils.spectral_norm(T.nn.Linear(3, 2), n_power_iterations=0),
        "spectral_norm negative iters": lambda T: T.nn.utils.spectral_norm(
            T.nn.Linear(3, 2), n_power_iterations=-1
        ),
        "prune amount >1": lambda T: T.nn.utils.prune.l1_unstructured(
            T.nn.Linear(3, 2), "weight", amount=1.5
        ),
        "prune amount negative": lambda T: T.nn.utils.prune.l1_unstructured(
            T.nn.Linear(3, 2), "weight", amount=-1
        ),
        "prune amount int too big": lambda T: T.nn.utils.prune.l1_unstructured(
            T.nn.Linear(3, 2), "weight", amount=7
        ),
        "prune amount int ok": lambda T: (
            lambda m: (T.nn.utils.prune.l1_unstructured(m, "weight", amount=2), int(m.weight_mask.sum()))[1]
        )(det(T, T.nn.Linear(3, 2))),
        "prune name missing": lambda T: T.nn.utils.prune.l1_unstructured(
            T.nn.Linear(3, 2), "foo", amount=0.5
        ),
        "prune remove unpruned": lambda T: T.nn.utils.prune.remove(T.nn.Linear(3, 2), "weight"),
        "ln structured dim": lambda T: T.nn.utils.prune.ln_structured(
            T.nn.Linear(3, 2), "weight", amount=0.5, n=2, dim=3
        ),
        "parametrize not module": lambda T: T.nn.utils.parametrize.register_parametrization(
            T.nn.Linear(3, 2), "weight", 3
        ),
        "parametrize missing": lambda T: T.nn.utils.parametrize.register_parametrization(
            T.nn.Linear(3, 2), "foo", T.nn.Identity()
        ),
        "orthogonal 1d": lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 2), "bias"),
        "rnn batch_first mismatch": lambda T: det(T, T.nn.GRU(3, 4, batch_first=True))(R(T, 5, 2, 3)),
        "rnn packed unsorted": lambda T: det(T, T.nn.GRU(3, 4))(
            T.nn.utils.rnn.pack_padded_sequence(R(T, 5, 2, 3), T.tensor([3, 5]), enforce_sorted=False)
        )[1],
        "rnn packed wrong features": lambda T: det(T, T.nn.GRU(3, 4))(
            T.nn.utils.rnn.pack_padded_sequence(R(T, 5, 2, 4), T.tensor([5, 3]))
        ),
        "pad_packed total_length short": lambda T: T.nn.utils.rnn.pad_packed_sequence(
            T.nn.utils.rnn.pack_padded_sequence(R(T, 5, 2, 3), T.tensor([5, 3])), total_length=3
        ),
        "pad_packed total_length": lambda T: (
            T.nn.utils.rnn.pad_packed_sequence(
                T.nn.utils.rnn.pack_padded_sequence(R(T, 5, 2, 3), T.tensor([5, 3])), total_length=7
            )[0].shape
        ),
        "pack_sequence unsorted": lambda T: T.nn.utils.rnn.pack_sequence([R(T, 2, 3), R(T, 4, 3)]),
        "pack_sequence empty": lambda T: T.nn.utils.rnn.pack_sequence([]),
        "unpad_sequence": lambda T: [
            t.shape for t in T.nn.utils.rnn.unpad_sequence(R(T, 5, 2, 3), T.tensor([5, 3]))
        ],
        "conv noncontig det": lambda T: det(T, T.nn.Conv2d(2, 3, 2))(R(T, 1, 2, 4, 5).transpose(2, 3)),
        "conv expanded det": lambda T: det(T, T.nn.Conv2d(2, 3, 2))(R(T, 1, 2, 1, 5).expand(3, 2, 4, 5)),
        "lstm noncontig det": lambda T: det(T, T.nn.LSTM(3, 4))(R(T, 2, 5, 3).transpose(0, 1)),
        "ln expanded det": lambda T: det(T, T.nn.LayerNorm(4))(R(T, 1, 4).expand(3, 4)),
        "bn expanded det": lambda T: det(T, T.nn.BatchNorm1d(4))(R(T, 1, 4).expand(3, 4) + R(T, 3, 1)),
        "emb noncontig idx": lambda T: det(T, T.nn.Embedding(5, 2))(T.tensor([[0, 1], [2, 4], [3, 3]]).t()),
        "emb expanded idx": lambda T: det(T, T.nn.Embedding(5, 2))(T.tensor([[0, 1, 2]]).expand(2, 3)),
        "ce expanded target": lambda T: F(T).cross_entropy(R(T, 3, 4), T.tensor([1]).expand(3)),
        "ce noncontig both": lambda T: F(T).cross_entropy(
            R(T, 4, 3).t(), T.tensor([[1, 2, 0]]).t().reshape(3)
        ),
        "bce expanded": lambda T: F(T).binary_cross_entropy(
            T.sigmoid(R(T, 1, 3)).expand(2, 3), T.ones(1, 3).expand(2, 3)
        ),
        "mha noncontig": lambda T: det(T, T.nn.MultiheadAttention(4, 2))(
            R(T, 2, 3, 4).transpose(0, 1), R(T, 2, 3, 4).transpose(0, 1), R(T, 2, 3, 4).transpose(0, 1)
        ),
        "pool noncontig": lambda T: F(T).max_pool2d(R(T, 1, 1, 4, 6).transpose(2, 3), 2),
        "interp noncontig": lambda T: F(T).interpolate(
            R(T, 1, 1, 3, 4).transpose(2, 3), scale_factor=2, mode="bilinear"
        ),
        "softmax noncontig": lambda T: F(T).softmax(R(T, 3, 4).t(), 1),
        "grad noncontig linear": lambda T: (
            lambda x: T.autograd.grad(det(T, T.nn.Linear(3, 2))(x.t()).sum(), x)
        )(leaf(T, 3, 4)),
        "grad expanded conv": lambda T: (
            lambda x: T.autograd.grad(det(T, T.nn.Conv2d(2, 3, 2))(x.expand(3, 2, 4, 5)).sum(), x)
        )(leaf(T, 1, 2, 4, 5)),
    }
)

# ---- gradients at the kinks, NaN in pooling, pooling windows that start in the padding ------

CASES.update(
    {
        "hardshrink negative": lambda T: F(T).hardshrink(R(T, 5), -0.5),
        "softmax2d 3d": lambda T: T.nn.Softmax2d()(R(T, 2, 3, 4)),
        "lrn size 0": lambda T: F(T).local_response_norm(R(T, 1, 3, 4), 0),
        "lrn size negative": lambda T: F(T).local_response_norm(R(T, 1, 3, 4), -1),
        "lrn big size": lambda T: F(T).local_response_norm(R(T, 1, 3, 4), 10),
        "adaptive max1d indices": lambda T: F(T).adaptive_max_pool1d(R(T, 1, 2, 7), 3, return_indices=True),
        "maxpool1d dilation big": lambda T: F(T).max_pool1d(R(T, 1, 1, 5), 2, dilation=5),
        "avgpool1d ceil window in pad": lambda T: F(T).avg_pool1d(
            R(T, 1, 1, 5), 2, stride=2, padding=1, ceil_mode=True
        ),
        "avgpool2d ceil stride 3": lambda T: F(T).avg_pool2d(R(T, 1, 1, 5, 5), 3, stride=3, ceil_mode=True),
        "maxpool ceil last window outside": lambda T: F(T).max_pool1d(
            R(T, 1, 1, 6), 2, stride=3, padding=1, ceil_mode=True
        ),
        "maxpool stride None": lambda T: F(T).max_pool2d(R(T, 1, 1, 4, 4), 2, stride=None),
        "maxpool stride empty": lambda T: F(T).max_pool2d(R(T, 1, 1, 4, 4), 2, stride=[]),
        "avgpool stride empty": lambda T: F(T).avg_pool2d(R(T, 1, 1, 4, 4), 2, stride=[]),
        "lppool stride none": lambda T: F(T).lp_pool1d(R(T, 1, 1, 6).abs(), 2, 2),
        "maxpool nan": lambda T: F(T).max_pool1d(T.tensor([[[1.0, float("nan"), 2.0, 3.0]]]), 2),
        "adaptivemax nan": lambda T: F(T).adaptive_max_pool1d(T.tensor([[[1.0, float("nan"), 2.0, 3.0]]]), 2),
        "maxpool -inf pad": lambda T: F(T).max_pool1d(T.tensor([[[-5.0, -6.0, -7.0]]]), 2, padding=1),
        "relu nan": lambda T: F(T).relu(T.tensor([float("nan"), -1.0])),
        "relu grad at 0": lambda T: (lambda x: T.autograd.grad(F(T).relu(x).sum(), x))(
            T.tensor([0.0, -0.0, 1.0], requires_grad=True)
        ),
        "leaky grad at 0": lambda T: (lambda x: T.autograd.grad(F(T).leaky_relu(x, 0.1).sum(), x))(
            T.tensor([0.0, 1.0], requires_grad=True)
        ),
        "elu grad at 0": lambda T: (lambda x: T.autograd.grad(F(T).elu(x).sum(), x))(
            T.tensor([0.0, 1.0], requires_grad=True)
        ),
        "hardtanh grad at bounds": lambda T: (lambda x: T.autograd.grad(F(T).hardtanh(x).sum(), x))(
            T.tensor([-1.0, 1.0, 0.5], requires_grad=True)
        ),
        "threshold grad at thr": lambda T: (lambda x: T.autograd.grad(F(T).threshold(x, 0.5, 2.0).sum(), x))(
            T.tensor([0.5, 1.0, 0.2], requires_grad=True)
        ),
        "hardshrink grad at lambda": lambda T: (lambda x: T.autograd.grad(F(T).hardshrink(x, 0.5).sum(), x))(
            T.tensor([0.5, -0.5, 1.0], requires_grad=True)
        ),
        "softshrink grad at lambda": lambda T: (lambda x: T.autograd.grad(F(T).softshrink(x, 0.5).sum(), x))(
            T.tensor([0.5, -0.5, 1.0], requires_grad=True)
        ),
        "relu6 grad at 0": lambda T: (lambda x: T.autograd.grad(F(T).relu6(x).sum(), x))(
            T.tensor([0.0, 6.0], requires_grad=True)
        ),
        "hardsigmoid grad at 3": lambda T: (lambda x: T.autograd.grad(F(T).hardsigmoid(x).sum(), x))(
            T.tensor([-3.0, 3.0], requires_grad=True)
        ),
        "hardswish grad at 3": lambda T: (lambda x: T.autograd.grad(F(T).hardswish(x).sum(), x))(
            T.tensor([-3.0, 3.0], requires_grad=True)
        ),
        "prelu grad at 0": lambda T: (lambda x: T.autograd.grad(F(T).prelu(x, T.tensor([0.25])).sum(), x))(
            T.tensor([0.0, 1.0], requires_grad=True)
        ),
        "rrelu eval grad 0": lambda T: (lambda x: T.autograd.grad(F(T).rrelu(x).sum(), x))(
            T.tensor([0.0, 1.0], requires_grad=True)
        ),
        "maxpool grad ties": lambda T: (lambda x: T.autograd.grad(F(T).max_pool1d(x, 2).sum(), x))(
            T.tensor([[[1.0, 1.0, 2.0, 2.0]]], requires_grad=True)
        ),
        "maxpool overlap ties": lambda T: (
            lambda x: T.autograd.grad(F(T).max_pool1d(x, 3, stride=1).sum(), x)
        )(T.tensor([[[1.0, 3.0, 3.0, 2.0]]], requires_grad=True)),
        "adaptivemax grad ties": lambda T: (
            lambda x: T.autograd.grad(F(T).adaptive_max_pool1d(x, 2).sum(), x)
        )(T.tensor([[[1.0, 1.0, 2.0, 2.0, 0.0]]], requires_grad=True)),
        "l1 grad at 0": lambda T: (lambda x: T.autograd.grad(F(T).l1_loss(x, T.zeros(2)), x))(
            T.tensor([0.0, 1.0], requires_grad=True)
        ),
        "smooth l1 beta0 grad at 0": lambda T: (
            lambda x: T.autograd.grad(F(T).smooth_l1_loss(x, T.zeros(2), beta=0.0), x)
        )(T.tensor([0.0, 1.0], requires_grad=True)),
        "huber grad at delta": lambda T: (lambda x: T.autograd.grad(F(T).huber_loss(x, T.zeros(2)), x))(
            T.tensor([1.0, -1.0], requires_grad=True)
        ),
        "hinge grad at margin": lambda T: (
            lambda x: T.autograd.grad(F(T).hinge_embedding_loss(x, -T.ones(2)), x)
        )(T.tensor([1.0, 0.5], requires_grad=True)),
        "margin ranking grad at margin": lambda T: (
            lambda x: T.autograd.grad(F(T).margin_ranking_loss(x, T.zeros(2), T.ones(2)), x)
        )(T.tensor([0.0, 1.0], requires_grad=True)),
        "multi margin grad at margin": lambda T: (
            lambda x: T.autograd.grad(F(T).multi_margin_loss(x, T.tensor([0])), x)
        )(T.tensor([[1.0, 0.0, 0.5]], requires_grad=True)),
        "triplet grad zero dist": lambda T: (
            lambda x: T.autograd.grad(F(T).triplet_margin_loss(x, x.detach(), x.detach() + 1), x)
        )(T.tensor([[1.0, 0.0]], requires_grad=True)),
        "pairwise grad zero": lambda T: (
            lambda x: T.autograd.grad(F(T).pairwise_distance(x, x.detach()).sum(), x)
        )(T.tensor([[1.0, 0.0]], requires_grad=True)),
        "cosine grad zero": lambda T: (
            lambda x: T.autograd.grad(F(T).cosine_similarity(x, T.ones(1, 2)).sum(), x)
        )(T.tensor([[0.0, 0.0]], requires_grad=True)),
        "normalize grad zero": lambda T: (lambda x: T.autograd.grad(F(T).normalize(x).sum(), x))(
            T.tensor([[0.0, 0.0]], requires_grad=True)
        ),
        "kl grad zero target": lambda T: (
            lambda x: T.autograd.grad(F(T).kl_div(x, T.tensor([[0.0, 1.0]]), reduction="sum"), x)
        )(T.tensor([[-1.0, -0.5]], requires_grad=True)),
        "bce grad eps": lambda T: (
            lambda x: T.autograd.grad(F(T).binary_cross_entropy(x, T.tensor([0.5, 0.5])), x)
        )(T.tensor([1e-13, 1 - 1e-7], requires_grad=True)),
    }
)

# ---- in-place forms: leaves that require grad, no_grad, expanded and non-contiguous inputs ---

INPLACE = {
    "relu": lambda T, x: F(T).relu(x, inplace=True),
    "relu_": lambda T, x: F(T).relu_(x),
    "elu_": lambda T, x: F(T).elu_(x),
    "leaky_relu_": lambda T, x: F(T).leaky_relu_(x),
    "hardtanh_": lambda T, x: F(T).hardtanh_(x),
    "rrelu_": lambda T, x: F(T).rrelu_(x, training=False),
    "celu_": lambda T, x: F(T).celu_(x),
    "selu_": lambda T, x: F(T).selu_(x),
    "dropout": lambda T, x: F(T).dropout(x, 0.0, inplace=True),
    "dropout in eval": lambda T, x: F(T).dropout(x, 0.5, training=False, inplace=True),
    "alpha_dropout": lambda T, x: F(T).alpha_dropout(x, 0.0, training=True, inplace=True),
    "silu": lambda T, x: F(T).silu(x, inplace=True),
    "hardswish": lambda T, x: F(T).hardswish(x, inplace=True),
    "hardsigmoid": lambda T, x: F(T).hardsigmoid(x, inplace=True),
    "mish": lambda T, x: F(T).mish(x, inplace=True),
    "relu6": lambda T, x: F(T).relu6(x, inplace=True),
    "leaky_relu": lambda T, x: F(T).leaky_relu(x, inplace=True),
    "elu": lambda T, x: F(T).elu(x, inplace=True),
    "ReLU module": lambda T, x: T.nn.ReLU(inplace=True)(x),
    "ELU module": lambda T, x: T.nn.ELU(inplace=True)(x),
    "Hardtanh module": lambda T, x: T.nn.Hardtanh(inplace=True)(x),
    "Dropout module": lambda T, x: T.nn.Dropout(0.5, inplace=True)(x),
}
for _name, _f in INPLACE.items():
    CASES[f"{_name} in place on a leaf"] = (lambda f: lambda T: f(T, leaf(T, 2, 3)))(_f)
    CASES[f"{_name} in place on a leaf under no_grad"] = (
        lambda f: lambda T: no_grad_call(T, f, leaf(T, 2, 3))
    )(_f)
    CASES[f"{_name} in place on a view of a leaf"] = (lambda f: lambda T: f(T, leaf(T, 2, 3)[0]))(_f)
    if "Dropout" not in _name:
        CASES[f"{_name} in place on an expanded tensor"] = (
            lambda f: lambda T: f(T, R(T, 1, 3).expand(2, 3))
        )(_f)
        CASES[f"{_name} in place, gradient"] = (
            lambda f: lambda T: (lambda x: T.autograd.grad(f(T, x * 1.0).sum(), x))(leaf(T, 2, 3))
        )(_f)
        CASES[f"{_name} in place returns its input"] = (
            lambda f: lambda T: (lambda x: f(T, x) is x)(R(T, 2, 3))
        )(_f)
        CASES[f"{_name} in place, non-contiguous"] = (
            lambda f: lambda T: (lambda x: (f(T, x), x)[1])(R(T, 3, 2).t())
        )(_f)

# Random draws differ between the two frameworks: these compare shapes and dtypes only.
SHAPES_ONLY = {
    "dropout in place on a leaf under no_grad",
    "Dropout module in place on a leaf under no_grad",
    "init sparse_ sparsity > 1",
}

# PyTorch's warning is TORCH_WARN_ONCE there: ember must warn, whatever PyTorch did before.
WARNS_ONCE = {"conv2d same, even kernel"}

# What ember's message must mention where ember raises (the op, the shapes, the way out).
WORDS: dict[str, list[str]] = {
    "F.linear float64 bias": ["linear", "float64", "float32", "[4, 3]", "[4]"],
    "F.linear int bias": ["linear", "int64", "bias"],
    "bilinear float64 input": ["bilinear", "same dtype", "float64", "float32"],
    "bilinear int inputs": ["bilinear", "int64", "float32"],
    "F.bilinear bias shape": ["bilinear", "[3]", "[4, 2, 3]"],
    "flatten 0-d": ["flatten", "[-1, 0]", "1"],
    "unflatten no sizes": ["unflatten", "non-empty"],
    "F.dropout int": ["Long", "floating point"],
    "F.dropout bool": ["Bool", "floating point"],
    "relu bool": ["relu", "Bool"],
    "hardtanh bool": ["hardtanh", "Bool"],
    "leaky_relu int": ["leaky_relu", "Long", "floating point"],
    "gelu int": ["gelu", "Long"],
    "one_hot int32": ["one_hot", "LongTensor", "int32"],
    "one_hot empty, 0 classes": ["empty"],
    "huber_loss int input": ["huber_loss", "Long", ".float()"],
    "huber_loss of int64 and int64": ["huber", "Long"],
    "smooth_l1_loss of int64 and int64": ["smooth_l1", "Long", "int64"],
    "hinge_embedding_loss int input": ["hinge_embedding_loss", "Long"],
    "binary_cross_entropy_with_logits int input": ["binary_cross_entropy_with_logits", "Long", "int64"],
    "binary_cross_entropy of int64 and int64": ["binary_cross_entropy", "Long"],
    "cross_entropy int input": ["cross_entropy", "Long", "int64"],
    "nll_loss int input": ["nll_loss", "Long", "int64"],
    "cross_entropy 0-d input": ["cross_entropy", "0-d"],
    "bce nan input": ["input", "between 0 and 1"],
    "bce target out of [0, 1]": ["target", "between 0 and 1"],
    "bce weight shape": ["binary_cross_entropy", "[2]", "[2, 3]"],
    "bce with logits weight shape": ["binary_cross_entropy_with_logits", "[2]", "[2, 3]"],
    "init uniform_ a > b": ["uniform_", "from=2", "to=1"],
    "fold kernel 0": ["kernel size", "fold", "[1, 3, 9]"],
    "batchnorm eps 0": ["batch_norm", "eps", "positive"],
    "mha key features, packed projection": ["MultiheadAttention", "[6, 2, 5]"],
    "init normal_ negative std": ["std", "-1"],
    "conv2d 1-tuple kernel": ["conv2d", "[4, 3, 3]"],
    "conv2d kernel 0": ["kernel size", "conv2d", "[4, 3, 0, 0]"],
    "F.conv_transpose2d kernel 0": ["kernel size", "conv_transpose2d", "0 x 3"],
    "layernorm int input": ["mixed dtype", "layer_norm", "int64", "float32"],
    "groupnorm int input": ["mixed dtype", "group_norm", "int64"],
    "requires_grad_ of an int": ["requires_grad", "bool", "int"],
}

# Where ember differs on purpose or PyTorch is wrong (docs/differences.md): what ember does.
DIFFERENT: dict[str, tuple[Any, Any]] = {
    # PyTorch returns uninitialised memory for an empty batch (a torch bug)
    "multi_margin_loss mean of 0": (
        lambda T: F(T).multi_margin_loss(T.ones(0, 3), T.ones(0, dtype=T.int64)),
        NAN,
    ),
    "multi_margin_loss sum of 0": (
        lambda T: F(T).multi_margin_loss(T.ones(0, 3), T.ones(0, dtype=T.int64), reduction="sum"),
        0.0,
    ),
    "multilabel_margin_loss mean of 0": (
        lambda T: F(T).multilabel_margin_loss(T.ones(0, 3), T.ones(0, 3, dtype=T.int64)),
        NAN,
    ),
    # PyTorch computes with class indices out of range (a torch bug); ember refuses them
    "ctc target out of range": (
        lambda T: F(T).ctc_loss(
            R(T, 5, 1, 4).log_softmax(2), T.tensor([[7, 2]]), T.tensor([5]), T.tensor([2])
        ),
        RuntimeError,
    ),
    # PyTorch accepts a negative label_smoothing (only > 1 is refused); ember refuses both
    "cross_entropy negative smoothing": (
        lambda T: F(T).cross_entropy(X(T), T.tensor([0, 1, 2]), label_smoothing=-0.1),
        RuntimeError,
    ),
    # PyTorch's foreach kernel raises an internal error for an empty list; ember does nothing
    "clip_grad_value_ empty": (lambda T: T.nn.utils.clip_grad_value_([], 1.0), None),
    # a layer refuses a reduction it cannot compute when it is built, not at its first call
    "loss module with a bad reduction": (lambda T: T.nn.MSELoss(reduction="bad"), ValueError),
    # a convolution over no input channels gives the bias (PyTorch: an output of no channels)
    "conv2d of 0 channels": (lambda T: det(T, T.nn.Conv2d(0, 4, 3))(T.ones(1, 0, 5, 5)).shape, (1, 4, 3, 3)),
    # PyTorch packs a sequence longer than the input into inconsistent batch sizes
    "pack_padded_sequence of a length past the input": (
        lambda T: T.nn.utils.rnn.pack_padded_sequence(R(T, 3, 2, 1), T.tensor([4, 3])),
        RuntimeError,
    ),
    # PyTorch's ModuleList.insert with a negative index raises a KeyError; ember inserts as list.insert
    "modulelist insert at -1": (
        lambda T: [
            type(m).__name__
            for m in (lambda ml: (ml.insert(-1, T.nn.Tanh()), ml)[1])(
                T.nn.ModuleList([T.nn.ReLU(), T.nn.Sigmoid()])
            )
        ],
        ("ReLU", "Tanh", "Sigmoid"),
    ),
    # a ModuleList holds modules only (PyTorch's insert lets anything in)
    "modulelist insert int": (lambda T: T.nn.ModuleList().insert(0, 3), TypeError),
}

# ---- the comparison ----------------------------------------------------------------------------


def _outcome(T: Any, call: Any) -> tuple:
    """("raise", exception) or ("ok", result), and whether a warning other than NumPy's
    floating point ones was raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Any = ("ok", call(T))
        except Exception as error:  # noqa: BLE001 - any exception is an outcome to compare
            result = ("raise", error)
    warned = [w for w in caught if "encountered in" not in str(w.message)]
    return result, bool(warned)


def _flat(value: Any) -> list:
    """A result as a list of (shape, dtype name, array) for tensors and the plain values."""
    if isinstance(value, (tuple, list)):
        return [item for v in value for item in _flat(v)]
    if hasattr(value, "detach") and hasattr(value, "shape"):
        return [(tuple(value.shape), str(value.dtype).split(".")[-1], value.detach().numpy())]
    if isinstance(value, (bool, int, float, str, type(None))):
        return [value]
    return [type(value).__name__]


def _same(expected: Any, got: Any, values: bool) -> None:
    e, g = _flat(expected), _flat(got)
    assert len(e) == len(g), f"PyTorch gives {e!r:.300}, ember {g!r:.300}"
    for a, b in zip(e, g):
        if isinstance(a, tuple):
            assert isinstance(b, tuple) and a[:2] == b[:2], (
                f"PyTorch gives {a[:2]}, ember {b[:2] if isinstance(b, tuple) else b}"
            )
            if values:
                np.testing.assert_allclose(b[2], a[2], rtol=1e-5, atol=1e-6, equal_nan=True)
        elif isinstance(a, float) and math.isnan(a):
            assert isinstance(b, float) and math.isnan(b)
        else:
            assert a == b, f"PyTorch gives {a!r}, ember {b!r}"


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_as_torch(name: str) -> None:
    import torch
    import torch.nn.utils.prune  # noqa: F401 - torch.nn.utils does not import it

    call = CASES[name]
    torch.manual_seed(0)
    (t_kind, t_value), t_warned = _outcome(torch, call)
    (e_kind, e_value), e_warned = _outcome(ember, call)
    if t_kind == "raise":
        assert e_kind == "raise", f"PyTorch raises {t_value!r}; ember computes {_flat(e_value)!r:.300}"
        assert type(e_value) is type(t_value), f"PyTorch raises {t_value!r}, ember {e_value!r}"
        for word in WORDS.get(name, []):
            assert word in str(e_value), f"{word!r} is missing from ember's message: {e_value}"
    else:
        assert e_kind == "ok", f"PyTorch computes; ember raises {e_value!r}"
        _same(t_value, e_value, values=name not in SHAPES_ONLY)
    if name in WARNS_ONCE:  # PyTorch warns once per process, so only if no test ran it before
        assert e_warned, "ember does not warn"
    else:
        assert e_warned == t_warned, (
            f"PyTorch {'warns' if t_warned else 'does not warn'}, ember does the other"
        )


def test_words_name_cases() -> None:
    """Each WORDS, SHAPES_ONLY and WARNS_ONCE entry names a case (a renamed case would silently lose its check)."""
    assert not (set(WORDS) | SHAPES_ONLY | WARNS_ONCE) - set(CASES)


@pytest.mark.parametrize("name", list(DIFFERENT))
def test_documented_differences(name: str) -> None:
    call, expected = DIFFERENT[name]
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected):
            call(ember)
        return
    got = call(ember)
    if isinstance(expected, float):
        np.testing.assert_allclose(got.item(), expected, equal_nan=True)
    else:
        assert (tuple(got) if hasattr(got, "__len__") else got) == expected


# ---- random shapes: batch sizes and class indices -------------------------------------------


@requires_torch
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(0, 4),
    m=st.integers(0, 4),
    c=st.integers(1, 4),
    shift=st.integers(-2, 2),
    op=st.sampled_from(["nll_loss", "cross_entropy", "multi_margin_loss"]),
)
def test_class_targets_checked_as_torch(n: int, m: int, c: int, shift: int, op: str) -> None:
    """Batch sizes that differ and class indices out of [0, C) raise what PyTorch raises;
    everything else gives PyTorch's loss."""
    import torch

    if n == 0 and op == "multi_margin_loss":
        return  # PyTorch's value is uninitialised memory (DIFFERENT above)
    targets = [(i + shift) % (c + 2) - 1 for i in range(m)]

    def call(T: Any) -> Any:
        return getattr(F(T), op)(R(T, n, c), T.tensor(targets, dtype=T.int64), reduction="sum")

    (t_kind, t_value), _ = _outcome(torch, call)
    (e_kind, e_value), _ = _outcome(ember, call)
    assert e_kind == t_kind, (t_value, e_value)
    if t_kind == "raise":
        assert type(e_value) is type(t_value), (t_value, e_value)
    else:
        _same(t_value, e_value, values=True)


def test_fixed_losses_gradcheck() -> None:
    """The losses whose argument handling changed keep exact gradients (float64)."""
    x = ember.tensor(np.linspace(-1.5, 1.5, 6).reshape(2, 3), requires_grad=True)
    y = ember.tensor([[True, False, True], [False, True, True]])
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.smooth_l1_loss(a, y), (x,))
    w = ember.tensor(np.linspace(0.5, 1.5, 24).reshape(4, 2, 3), requires_grad=True)
    a = ember.tensor(np.linspace(-1, 1, 10).reshape(5, 2), requires_grad=True)
    b = ember.tensor(np.linspace(1, -1, 15).reshape(5, 3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b, w: ember.nn.functional.bilinear(a, b, w), (a, b, w))
    p = ember.tensor([0.2, 0.7, 0.4], dtype=ember.float64, requires_grad=True)
    t = ember.tensor([0.0, 1.0, 0.5], dtype=ember.float64)
    assert ember.autograd.gradcheck(lambda p: ember.nn.functional.binary_cross_entropy(p, t), (p,))
