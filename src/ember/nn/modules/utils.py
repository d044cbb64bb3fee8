"""Helpers of the layers (torch.nn.modules.utils): turning an int or a sequence into an
n-tuple of sizes, and consume_prefix_in_state_dict_if_present, which strips a prefix
(the `module.` DataParallel adds) from the keys of a state dict."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A function that repeats a single value n times and turns an iterable into a tuple."""

    def parse(value: Any) -> tuple:
        if isinstance(value, Iterable) and not isinstance(value, str):
            return tuple(value)
        return (value,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(values: tuple, n: int) -> tuple:
    """Each value repeated n times, in reverse order: the layout F.pad takes a padding in."""
    return tuple(value for value in reversed(values) for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Remove prefix from the start of every key of state_dict that has it, in place, and
    likewise from the module names of its `_metadata`
    (torch.nn.modules.utils.consume_prefix_in_state_dict_if_present)."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        state_dict[key[len(prefix) :]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is None:
        return
    for key in [k for k in metadata if k]:
        # the metadata of the prefix's own module is named without the trailing dot
        if key == prefix.replace(".", "") or key.startswith(prefix):
            metadata[key[len(prefix) :]] = metadata.pop(key)


def factory_kwargs(kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """The device, dtype and memory_format a layer's constructor was given, as one dict for
    the tensor factories: from kwargs, merged with a dict of them passed as kwargs'
    `factory_kwargs` entry (torch.nn.factory_kwargs). Other keys, or a key given both
    ways, raise TypeError."""
    if kwargs is None:
        return {}
    simple = ("device", "dtype", "memory_format")
    unexpected = set(kwargs) - {*simple, "factory_kwargs"}
    if unexpected:
        raise TypeError(f"unexpected kwargs {unexpected}")
    merged = dict(kwargs.get("factory_kwargs", {}))
    for key in simple:
        if key in kwargs:
            if key in merged:
                raise TypeError(f"{key} specified twice, in **kwargs and in factory_kwargs")
            merged[key] = kwargs[key]
    return merged
