"""Automatic differentiation: Function, the engine, grad modes, grad and gradcheck, the graph's
handles (autograd.graph) and forward mode (autograd.forward_ad).

ember.autograd.profiler (the legacy profiler API, `record_function` and `profile`) is
imported on first use, as ember.profiler is: it times ops, which must exist first."""

from ember.autograd import anomaly_mode, forward_ad, graph, variable
from ember.autograd.function import Function
from ember.autograd.functional import (
    GradcheckError,
    backward,
    detect_anomaly,
    grad,
    gradcheck,
    gradgradcheck,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from ember.autograd.grad_mode import (
    enable_grad,
    enforce_grad_layout_policy,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    is_multithreading_enabled,
    no_grad,
    set_grad_enabled,
    set_multithreading_enabled,
)
from ember.autograd.variable import Variable, is_tensor_like

__all__ = [
    "Function",
    "GradcheckError",
    "Variable",
    "anomaly_mode",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "enforce_grad_layout_policy",
    "forward_ad",
    "grad",
    "graph",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "is_multithreading_enabled",
    "is_tensor_like",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
    "set_multithreading_enabled",
    "variable",
]

_LAZY_MODULES = frozenset({"profiler", "profiler_util"})


def __getattr__(name: str) -> object:
    """`ember.autograd.profiler` without an import of it, as in PyTorch (PEP 562)."""
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"ember.autograd.{name}")  # (importing sets it as a global)
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_MODULES)
