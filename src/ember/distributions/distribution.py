"""Distribution, the base class of every probability distribution (torch.distributions.Distribution).

A distribution has a `batch_shape` (independent distributions side by side, one per
element of its broadcast parameters) and an `event_shape` (the shape of one draw: () for a
number, (k,) for a k-vector). A sample of `sample_shape` has shape
sample_shape + batch_shape + event_shape, and `log_prob` returns one number per event,
sample_shape + batch_shape. With `validate_args` on (the default, as in PyTorch unless
Python runs with -O), the constructor checks the parameters against `arg_constraints`
and `log_prob`/`cdf` check their value against `support`, raising ValueError.
"""

from __future__ import annotations

import warnings
from typing import Any

import ember
from ember._tensor import Size, Tensor
from ember.distributions import constraints
from ember.distributions.utils import lazy_property

__all__ = ["Distribution"]


def _formatted(value: Tensor) -> str:
    """A tensor as PyTorch's f-strings show it: a 0-d tensor by its number."""
    return str(value.item()) if value.dim() == 0 else str(value)


def _show(value: Tensor) -> str:
    """A parameter in a repr: its value when it holds one number, else its size."""
    return _formatted(value) if value.numel() == 1 else str(value.size())


class Distribution:
    """The base class: subclasses set `arg_constraints` and `support` and define `log_prob`,
    `sample` (or `rsample` when a draw is a differentiable function of the parameters,
    with `has_rsample = True`), and what else they have of mean, mode, variance, entropy,
    cdf and icdf."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for every distribution that was not given
        `validate_args` itself (the checks cost a little on each construction and call)."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(
        self, batch_shape: Any = (), event_shape: Any = (), validate_args: bool | None = None
    ) -> None:
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self) -> None:
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            warnings.warn(
                f"{type(self)} does not define `arg_constraints`. Please set `arg_constraints = {{}}` or "
                "initialize the distribution with `validate_args=False` to turn off validation.",
                stacklevel=3,
            )
            return
        for name, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if name not in self.__dict__ and isinstance(getattr(type(self), name, None), lazy_property):
                continue  # the parameter that was not given (logits when probs were) is not computed to be checked
            value = getattr(self, name)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {self!r} to satisfy the constraint {constraint!r}, "
                    f"but found invalid values:\n{_formatted(value)}"
                )

    # ---- shapes -----------------------------------------------------------------------------------

    @property
    def batch_shape(self) -> Size:
        """The shape over which the parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of one draw, without the batch."""
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> Size:
        """The shape of a sample: sample_shape + batch_shape + event_shape."""
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The same distribution with its parameters expanded (as views) to `batch_shape`;
        the arguments are not checked again. A distribution built on others (LogNormal's
        `base_dist`, ...) names them in `_expanded_names` and has them expanded likewise, each
        keeping the dims it has beyond this one's batch (an Independent's reinterpreted ones)."""
        batch_shape = Size(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.__dict__.update(self.__dict__)
        kept = len(self._batch_shape)
        for name in self._expanded_names():
            value = self.__dict__[name]
            if isinstance(value, Distribution):
                new.__dict__[name] = value.expand(Size((*batch_shape, *value.batch_shape[kept:])))
            else:
                new.__dict__[name] = value.expand(*batch_shape, *value.shape[kept:])
        new._batch_shape = batch_shape
        return new

    def _expanded_names(self) -> list:
        """The attributes expand() expands: the parameters held (computed ones included), or
        the distributions this one is built on."""
        return [name for name in self.arg_constraints if isinstance(self.__dict__.get(name), Tensor)]

    # ---- what subclasses define -------------------------------------------------------------------

    @property
    def arg_constraints(self) -> dict:
        """The constraint each parameter must satisfy, by name."""
        raise NotImplementedError

    @property
    def support(self) -> Any:
        """The constraint the values of log_prob must satisfy."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A draw of shape sample_shape + batch_shape + event_shape, outside the graph."""
        with ember.no_grad():
            return self.rsample(sample_shape)

    def sample_n(self, n: int) -> Tensor:
        """n draws, sample((n,)) (torch.distributions.Distribution.sample_n, deprecated)."""
        warnings.warn(
            "`sample_n(n)` will be deprecated. Use `sample((n,))` instead.", FutureWarning, stacklevel=2
        )
        return self.sample((n,))

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Distribution:
        """The object a subclass's own expand() fills: _instance, or a new uninitialised
        instance of this class. As in PyTorch, a subclass of cls whose __init__ differs
        from cls's must write its own expand."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom __init__ method "
                "must also define a custom .expand() method."
            )
        return type(self).__new__(type(self)) if _instance is None else _instance

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """A reparameterized draw: a differentiable function of the parameters and of
        noise that does not depend on them, so gradients flow through it."""
        raise NotImplementedError(f"{type(self)} does not implement rsample")

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement log_prob")

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement cdf")

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement icdf")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement entropy")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement enumerate_support")

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return ember.exp(self.entropy())

    # ---- validation of values ---------------------------------------------------------------------

    def _validate_sample(self, value: Any, support: Any = None) -> None:
        """Raise ValueError unless value is a tensor whose rightmost dims broadcast with
        batch_shape + event_shape and whose entries lie in the support (or in `support`,
        where a method is defined on more than the support: a cdf at its open end)."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        shape, event = tuple(value.shape), tuple(self._event_shape)
        if shape[len(shape) - len(event) :] != event:
            raise ValueError(
                f"The right-most size of value must match event_shape: {value.size()} vs {self._event_shape}."
            )
        expected = tuple(self._batch_shape) + event
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    "Value is not broadcastable with batch_shape+event_shape: "
                    f"{value.size()} vs {Size(expected)}."
                )
        support = self.support if support is None else support
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {shape}) to be within the support "
                f"({support!r}) of the distribution {self!r}, but found invalid values:\n{_formatted(value)}"
            )

    def __repr__(self) -> str:
        shown = [k for k in self.arg_constraints if isinstance(self.__dict__.get(k), Tensor)]
        return f"{type(self).__name__}({', '.join(f'{k}: {_show(self.__dict__[k])}' for k in shown)})"
