"""What every model builder shares: the `weights` / `pretrained` arguments, arguments a
builder fixes, and the registry behind `list_models` and `get_model`.

ember ships no pretrained weights and downloads none, so a builder accepts only
`weights=None` (and the deprecated `pretrained=False`); anything else raises and says how
to load a state dict instead. The architecture is torchvision's, module for module, so a
torchvision state dict loads with `strict=True`.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable
from typing import Any

from ember.nn.module import Module

_BUILDERS: dict[str, Callable[..., Module]] = {}


def register_model(builder: Callable[..., Module]) -> Callable[..., Module]:
    """Record a builder under its function name, for `list_models` and `get_model`."""
    _BUILDERS[builder.__name__] = builder
    return builder


def list_models(module: Any = None, include: Any = None, exclude: Any = None) -> list[str]:
    """The sorted names of the model builders (torchvision.models.list_models).

    `module` keeps only the builders of that package (e.g. `ember.models`) or module;
    `include` / `exclude` are fnmatch patterns (a string or a list of them).
    """
    names = sorted(
        name
        for name, fn in _BUILDERS.items()
        if module is None
        or fn.__module__.rsplit(".", 1)[0] == module.__name__
        or fn.__module__ == module.__name__
    )
    if include is not None:
        patterns = [include] if isinstance(include, str) else list(include)
        names = sorted({n for p in patterns for n in fnmatch.filter(names, p)})
    if exclude is not None:
        patterns = [exclude] if isinstance(exclude, str) else list(exclude)
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)]
    return names


def get_model_builder(name: str) -> Callable[..., Module]:
    """The builder function registered as `name` (torchvision.models.get_model_builder)."""
    try:
        return _BUILDERS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name}: ember.models has {', '.join(sorted(_BUILDERS))}") from None


def get_model(name: str, **config: Any) -> Module:
    """The model built by the builder `name` with `config` (torchvision.models.get_model)."""
    return get_model_builder(name)(**config)


def check_weights(builder: str, weights: Any, kwargs: dict[str, Any], stacklevel: int = 3) -> None:
    """Refuse pretrained weights, with the way to load a state dict instead.

    Also takes the deprecated `pretrained=` out of `kwargs`: False means weights=None (with
    torchvision's deprecation warning), True asks for weights and is refused likewise. The
    warning names the line that called the builder: `stacklevel` is 3 for a builder that
    calls check_weights itself, 4 for one that calls it through a helper (`_resnet`).
    """
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        warnings.warn(
            f"{builder}: the argument 'pretrained' is deprecated (as in torchvision since 0.13); "
            "use 'weights' instead (only weights=None exists in ember)",
            UserWarning,
            stacklevel=stacklevel,
        )
        if pretrained:
            weights = "DEFAULT"
    if weights is not None:
        raise NotImplementedError(
            f"{builder}(weights={weights!r}): ember ships no pretrained weights and downloads none. "
            f"Build the model with {builder}(weights=None) and load a state dict holding the weights, "
            "e.g. one saved from the torchvision model of the same name: model.load_state_dict(state_dict) "
            "(ember's models have torchvision's parameter names and shapes)."
        )


def fix_argument(kwargs: dict[str, Any], name: str, value: Any) -> None:
    """Set the argument `name` that a builder fixes (e.g. groups=32 for resnext50_32x4d);
    a different value passed by the caller is a ValueError."""
    if name in kwargs and kwargs[name] != value:
        raise ValueError(f"The parameter '{name}' expected value {value} but got {kwargs[name]} instead.")
    kwargs[name] = value
