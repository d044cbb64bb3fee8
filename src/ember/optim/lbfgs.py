"""L-BFGS: a quasi-Newton method that builds its curvature estimate from the last few steps.

Unlike the other optimizers, one `step(closure)` runs a whole inner loop of up to
`max_iter` iterations, each of which may evaluate the closure (the loss and its gradient)
several times. All the parameters are handled as one flat vector.

The arithmetic follows PyTorch's: scalars that PyTorch keeps as 0-d tensors (dot
products, the step length t, rho, the Hessian scale) are NumPy scalars of the
parameters' dtype here, so that float32 problems round as PyTorch's do; the updates
`x + alpha * y` go through `_fused.add_scaled`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ember._layout import strided
from ember._tensor import Tensor
from ember.autograd.grad_mode import enable_grad, no_grad
from ember.optim._fused import add_scaled
from ember.optim.optimizer import Optimizer, ParamsT, _check, _real_view

# The keys of the state LBFGS keeps between steps (on its first parameter, as PyTorch does).
_SAVED = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")


def _cubic_interpolate(
    x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple[Any, Any] | None = None
) -> Any:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped
    to `bounds` (the interval between x1 and x2 by default); the middle of the bounds when
    the cubic has no minimum."""
    if bounds is None:
        low, high = (x1, x2) if x1 <= x2 else (x2, x1)
    else:
        low, high = bounds
    # the two roots of the cubic's derivative: d1 ± d2 (see Nocedal & Wright, eq. 3.59)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            minimum = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            minimum = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(minimum, low), high)
    return (low + high) / 2.0


def _strong_wolfe(
    evaluate: Callable[[Any], tuple[float, np.ndarray]],
    t: Any,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: Any,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, Any, int]:
    """A step length t along d that satisfies the strong Wolfe conditions:

        f(x + t d) <= f + c1 t gtd         (sufficient decrease)
        |g(x + t d) . d| <= -c2 gtd        (the slope has flattened enough)

    First the step grows (by cubic extrapolation, at most tenfold) until an interval is
    known to hold such a point, then that interval is shrunk by cubic interpolation (the
    "zoom" phase). `evaluate(t)` returns the loss and flat gradient at x + t d. Returns the
    loss, gradient and step of the best point found, and the number of evaluations.
    """
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    # bracketing: look for an interval [t_prev, t] that contains an acceptable step
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # still going down: extrapolate, between a little past t and ten times t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new.copy(), gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:  # the evaluations ran out while bracketing
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies both conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # keep t away from the ends of the bracket: when it comes within a tenth of its
        # width for the second time running (or lands outside), move it a tenth inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            # not a sufficient decrease: t becomes the high end
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # the slope points out of the bracket: the old low end becomes the high end
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


def _to_state(value: Any) -> Any:
    """NumPy arrays and scalars as Tensors (lists element by element), as PyTorch's state holds them."""
    if isinstance(value, list):
        return [_to_state(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return Tensor(np.asarray(value))
    return value


def _from_state(value: Any) -> Any:
    """The inverse of _to_state: a 0-d tensor becomes a NumPy scalar, others their array."""
    if isinstance(value, list):
        return [_from_state(v) for v in value]
    if isinstance(value, Tensor):
        return value._data[()] if value._data.ndim == 0 else value._data
    return value


class LBFGS(Optimizer):
    """L-BFGS (torch.optim.LBFGS); `step(closure)` needs the closure.

    Each iteration of a step:

    * picks a direction d = -H g, where H approximates the inverse Hessian from the last
      `history_size` pairs (s = the step taken, y = the change of gradient it caused), by
      the two-loop recursion; the first iteration ever uses d = -g;
    * moves by t d: t = lr (the first iteration ever: min(1, 1 / |g|_1) * lr), or, with
      line_search_fn='strong_wolfe', a t found by a line search that evaluates the closure;
    * stops after `max_iter` iterations or `max_eval` evaluations, or once the gradient
      (max |g| <= tolerance_grad), the step (max |t d| <= tolerance_change) or the loss
      change (< tolerance_change) is small.

    The history is kept between steps, in the state of the first parameter: 'func_evals',
    'n_iter', 'al', 'd', 't', 'old_dirs' (the y's), 'old_stps' (the s's), 'ro' (1 / y.s),
    'H_diag' (y.s / y.y, the scale of the initial H), 'prev_flat_grad' and 'prev_loss'.
    Only one parameter group is allowed.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)  # a second group raises in add_param_group below

    @property
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        if len(self.param_groups) > 1:
            self.param_groups.pop()
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    # ---- the parameters as one flat vector -----------------------------------------------------

    def _gather_flat_grad(self) -> np.ndarray:
        # a complex parameter counts as its real and imaginary parts, as in PyTorch
        return np.concatenate(
            [
                _real_view(_dense_grad(p._grad)).ravel()
                if p._grad is not None
                else np.zeros_like(_real_view(p._data)).ravel()
                for p in self._params
            ]
        )

    def _add_grad(self, step_size: Any, update: np.ndarray) -> None:
        """p <- p + step_size * (p's slice of update), for every parameter."""
        offset = 0
        step_size = float(step_size)
        for p in self._params:
            data = _real_view(p._data)
            add_scaled(data, update[offset : offset + data.size].reshape(data.shape), step_size, out=data)
            p._version_cell[0] += 1
            offset += data.size

    def _directional_evaluate(
        self, closure: Callable[[], Any], x: list[np.ndarray], t: Any, d: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """The loss and flat gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        with enable_grad():
            loss_tensor = closure()
        loss = float(loss_tensor)  # outside enable_grad, so float() does not warn
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            p._data[...] = saved
            p._version_cell[0] += 1
        return loss, flat_grad

    # ---- the step ------------------------------------------------------------------------------

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to max_iter iterations of L-BFGS; return the closure's first loss."""
        with no_grad(), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._step(closure)

    def _step(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:  # already at a stationary point
            return orig_loss

        d, t, old_dirs, old_stps, ro, h_diag, prev_flat_grad, prev_loss = (
            _from_state(state.get(key)) for key in _SAVED
        )
        al = _from_state(state.get("al"))
        opt_cond = False
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair only where the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                if al is None:
                    al = [None] * history_size
                    state["al"] = al  # placed here, so the state's keys come in PyTorch's order
                # two-loop recursion: q <- -g, projected back through the history (newest
                # first), scaled by h_diag, then forward again (oldest first)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    add_scaled(q, old_dirs[i], -float(al[i]), out=q)
                d = r = np.multiply(q, h_diag)
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    add_scaled(r, old_stps[i], float(al[i] - be_i), out=r)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)  # the slope along d
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break

            evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p._data.copy() for p in self._params]

                def evaluate(step: Any, x_init: list[np.ndarray] = x_init, d: np.ndarray = d) -> Any:
                    return self._directional_evaluate(closure, x_init, step, d)

                loss, flat_grad, t, evals = _strong_wolfe(
                    evaluate, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # the loss at the new point (the last iteration leaves it to the next step)
                    with enable_grad():
                        loss_tensor = closure()
                    loss = float(loss_tensor)
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:  # the step was tiny
                break
            if abs(loss - prev_loss) < tolerance_change:  # the loss has stopped changing
                break

        for key, value in zip(_SAVED, (d, t, old_dirs, old_stps, ro, h_diag, prev_flat_grad, prev_loss)):
            state[key] = _to_state(value)
        if "al" in state:
            state["al"] = _to_state(al)
        return orig_loss


def _dense_grad(grad: Tensor) -> np.ndarray:
    """A gradient's array; a sparse gradient made dense, as PyTorch's LBFGS does."""
    if grad.layout is not strided:
        return grad.to_dense()._data
    return grad._data
