"""no_grad, enable_grad, inference_mode and set_grad_enabled as decorators, with and without
parentheses and on generator functions, as in PyTorch. Each program runs in ember and,
when it is installed, in PyTorch."""

from __future__ import annotations

import pytest


def test_no_grad_decorates_without_parentheses(T):
    x = T.tensor(1.0, requires_grad=True)

    @T.no_grad
    def double(t):
        """Twice t."""
        return t * 2, T.is_grad_enabled()

    y, enabled = double(x)
    assert not y.requires_grad and not enabled and T.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Twice t."


def test_enable_grad_decorates_without_parentheses(T):
    x = T.tensor(1.0, requires_grad=True)

    @T.enable_grad
    def double(t):
        return t * 2

    with T.no_grad():
        assert double(x).requires_grad
        assert not T.is_grad_enabled()


@pytest.mark.parametrize("bare", [True, False])
def test_inference_mode_decorates_with_or_without_parentheses(T, bare):
    x = T.tensor(1.0, requires_grad=True)

    def double(t):
        return t * 2

    inferred = T.inference_mode(double) if bare else T.inference_mode()(double)
    assert not inferred(x).requires_grad and T.is_grad_enabled()
    with T.no_grad():  # inference_mode(False) turns recording on, as in PyTorch
        assert T.inference_mode(False)(double)(x).requires_grad
        assert not T.is_grad_enabled()


def test_set_grad_enabled_decorates_only_with_a_mode(T):
    @T.set_grad_enabled(False)
    def enabled():
        return T.is_grad_enabled()

    assert T.is_grad_enabled() and not enabled() and T.is_grad_enabled()
    with pytest.raises(TypeError, match="must be bool, not function"):
        T.set_grad_enabled(enabled)
    assert T.is_grad_enabled()


@pytest.mark.parametrize("bare", [True, False])
def test_decorated_generator_runs_each_step_in_the_mode(T, bare):
    decorator = T.no_grad if bare else T.no_grad()

    @decorator
    def steps(n):
        received = []
        for _ in range(n):
            received.append((yield T.is_grad_enabled()))
        return received

    gen = steps(2)
    assert next(gen) is False and T.is_grad_enabled()  # not left on between steps
    assert gen.send("a") is False and T.is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        gen.send("b")
    assert stop.value.value == ["a", "b"]


def test_decorated_generator_receives_throw_and_close_in_the_mode(T):
    seen = []

    @T.no_grad()
    def steps():
        try:
            yield 1
        except ValueError:
            seen.append(("caught", T.is_grad_enabled()))
            try:
                yield 2
            finally:
                seen.append(("closed", T.is_grad_enabled()))

    gen = steps()
    next(gen)
    assert gen.throw(ValueError()) == 2 and T.is_grad_enabled()
    gen.close()
    assert seen == [("caught", False), ("closed", False)] and T.is_grad_enabled()


def test_is_inference_mode_enabled_follows_the_blocks(T):
    seen = [T.is_inference_mode_enabled()]
    with T.inference_mode():
        seen.append(T.is_inference_mode_enabled())
        with T.inference_mode(False):
            seen.append(T.is_inference_mode_enabled())
        with T.no_grad():
            seen.append(T.is_inference_mode_enabled())
        seen.append(T.is_grad_enabled())
    seen.append(T.is_inference_mode_enabled())

    @T.inference_mode()
    def inside():
        return T.is_inference_mode_enabled()

    seen.append(inside())
    assert seen == [False, True, False, True, False, False, True]
