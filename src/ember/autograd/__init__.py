"""Automatic differentiation: Function, the engine, grad modes, grad and gradcheck.

ember.autograd.profiler (the legacy profiler API) is imported by ember.profiler, once the
ops it times exist: `import ember` makes both available."""

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
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Function",
    "GradcheckError",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]
