"""`__torch_function__` (ember/overrides.py): Tensor subclasses keep their type through
functions, methods, operators and properties; classes override what ember's functions do
for their instances; modes see every call. Each program runs in ember and in torch (the
`T` fixture), and the dispatch is swapped in only once a program takes part."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import ember


def _sub(T):
    class Sub(T.Tensor):
        pass

    return Sub


def _names(result):
    if isinstance(result, (tuple, list)):
        return [type(item).__name__ for item in result]
    return type(result).__name__


# ---- subclasses keep their type ------------------------------------------------------------


OPS = {
    "mul": lambda T, s: s * 2,
    "rmul": lambda T, s: 2 * s,
    "rsub": lambda T, s: 1 - s,
    "truediv": lambda T, s: s / 3,
    "pow": lambda T, s: s**2,
    "neg": lambda T, s: -s,
    "matmul": lambda T, s: s @ s.T,
    "compare": lambda T, s: s > 1,
    "sum": lambda T, s: s.sum(),
    "mean_dim": lambda T, s: s.mean(1),
    "add_function": lambda T, s: T.add(s, 1),
    "exp_function": lambda T, s: T.exp(s),
    "where": lambda T, s: T.where(s > 1, s, T.zeros(2, 3)),
    "cat_list": lambda T, s: T.cat([T.zeros(1, 3), s]),
    "stack_tuple": lambda T, s: T.stack((s, s)),
    "index": lambda T, s: s[0],
    "index_tensor": lambda T, s: s[T.tensor([1, 0])],
    "view": lambda T, s: s.view(3, 2),
    "reshape": lambda T, s: s.reshape(-1),
    "transpose_property": lambda T, s: s.T,
    "data_property": lambda T, s: s.data,
    "detach": lambda T, s: s.detach(),
    "clone": lambda T, s: s.clone(),
    "to_dtype": lambda T, s: s.to(T.float64),
    "max_dim": lambda T, s: s.max(1),
    "sort": lambda T, s: T.sort(s, 1),
    "split": lambda T, s: s.split(1),
    "unbind": lambda T, s: s.unbind(0),
    "relu": lambda T, s: T.nn.functional.relu(s),
    "softmax": lambda T, s: T.nn.functional.softmax(s, dim=1),
    "linear_module": lambda T, s: T.nn.Linear(3, 4)(s),
    "linalg_norm": lambda T, s: T.linalg.norm(s),
    "reverse_operator_of_a_plain_tensor": lambda T, s: T.ones(2, 3) + s,
    "iterate": lambda T, s: list(s),
    "new_zeros": lambda T, s: s.new_zeros(2),
    "zeros_like": lambda T, s: T.zeros_like(s),
    "float": lambda T, s: s.float(),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_subclass_results_keep_the_subclass(T, op):
    Sub = _sub(T)
    s = T.arange(6.0).reshape(2, 3).as_subclass(Sub)
    ours = _names(OPS[op](T, s))
    expected = {"max_dim": ["Sub", "Sub"], "sort": ["Sub", "Sub"], "split": ["Sub", "Sub"]}
    expected |= {"unbind": ["Sub", "Sub"], "iterate": ["Sub", "Sub"]}
    assert ours == expected.get(op, "Sub")


def test_non_tensor_results_stay_as_they_are(T):
    s = T.ones(2, 3).as_subclass(_sub(T))
    assert type(s.shape) is T.Size and s.shape == (2, 3)
    assert s.dtype is T.float32 and s.sum().item() == 6.0 and len(s) == 2
    assert s.tolist() == [[1.0, 1.0, 1.0]] * 2 and s.dim() == 2


def test_in_place_ops_return_the_subclass_instance_itself(T):
    s = T.zeros(3).as_subclass(_sub(T))
    assert s.add_(1) is s and s.mul_(3) is s
    s += 1
    s[0] = 7.0
    assert type(s).__name__ == "Sub" and s.tolist() == [7.0, 4.0, 4.0]


def test_gradients_reach_a_subclass_leaf_as_plain_tensors(T):
    Sub = _sub(T)
    leaf = T.tensor([1.0, 2.0, 3.0]).as_subclass(Sub).requires_grad_()
    assert leaf.is_leaf
    out = (leaf * leaf).sum()
    assert type(out) is Sub
    out.backward()
    assert type(leaf.grad) is T.Tensor  # PyTorch's default __torch_function__ leaves .grad alone
    np.testing.assert_allclose(leaf.grad.tolist(), [2.0, 4.0, 6.0])


def test_gradients_through_as_subclass_reach_the_original(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    s = x.as_subclass(_sub(T))
    (T.nn.functional.relu(s) * 3).sum().backward()
    assert type(x.grad) is T.Tensor and x.grad.tolist() == [3.0, 3.0]


def test_a_subclass_made_by_calling_it(T):
    Sub = _sub(T)
    s = Sub([1.0, 2.0])
    assert type(s) is Sub and type(s + 1) is Sub and (s + 1).tolist() == [2.0, 3.0]


def test_parameters_give_plain_tensors(T):
    p = T.nn.Parameter(T.ones(2))
    assert type(p * 2) is T.Tensor and type(p.detach()) is T.Tensor and type(T.exp(p)) is T.Tensor
    assert not T.overrides.has_torch_function((p, T.ones(1)))


def test_a_parameter_of_a_subclass_keeps_the_subclass_through_its_ops(T):
    Sub = _sub(T)
    p = T.nn.Parameter(T.ones(2).as_subclass(Sub))
    assert isinstance(p, T.nn.Parameter) and type(p * 2) is Sub and type(p.detach()) is Sub


def test_subclass_that_opts_out_gives_plain_tensors(T):
    class Plain(T.Tensor):
        __torch_function__ = T._C._disabled_torch_function_impl

    s = T.ones(2).as_subclass(Plain)
    assert type(s * 2) is T.Tensor and type(s.sum()) is T.Tensor


def test_an_override_changes_what_an_op_does(T):
    class Doubling(T.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func is T.add:
                return "add was called"
            return super().__torch_function__(func, types, args, kwargs or {})

    d = T.ones(2).as_subclass(Doubling)
    assert T.add(d, 1) == "add was called"
    assert type(d.sub(1)) is Doubling


def test_the_subclass_before_its_base_in_dispatch_order(T):
    calls = []

    class Base(T.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(cls.__name__)
            return NotImplemented if cls.__name__ == "Derived" else "base"

    class Derived(Base):
        pass

    b, d = T.ones(1).as_subclass(Base), T.ones(1).as_subclass(Derived)
    assert T.mul(b, d) == "base"
    assert calls == ["Derived", "Base"]


def test_a_logging_subclass_sees_the_calls_pytorch_shows_it(T):
    """PyTorch's "Extending torch" LoggingTensor: the same calls, in the same order."""
    calls = []

    class LoggingTensor(T.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func is not T.Tensor.__repr__:
                calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    s = T.ones(2, 2).as_subclass(LoggingTensor)
    assert repr(s).startswith("LoggingTensor([[1., 1.],") and calls == []
    s.requires_grad = True
    x = s * 2 + 1
    loss = T.nn.functional.mse_loss(x, T.zeros(2, 2))
    out = T.nn.Sequential(T.nn.Linear(2, 3), T.nn.ReLU())(s)
    assert [type(t).__name__ for t in (x, loss, out)] == ["LoggingTensor"] * 3
    out.sum().backward()
    assert calls == ["__set__", "mul", "add", "mse_loss", "linear", "relu", "sum", "backward"]
    assert type(s.grad) is T.Tensor


# ---- classes that are not tensors (PyTorch's "Extending torch" ScalarTensor) ----------------


def _scalar_tensor_class(T):
    handled = {}

    class ScalarTensor:
        def __init__(self, N, value):
            self._N, self._value = N, value

        def tensor(self):
            return self._value * T.eye(self._N)

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if kwargs is None:
                kwargs = {}
            if func not in handled or not all(issubclass(t, (T.Tensor, ScalarTensor)) for t in types):
                return NotImplemented
            return handled[func](*args, **kwargs)

    def mean(input):
        return float(input._value) / input._N

    handled[T.mean] = mean
    return ScalarTensor


def test_a_non_tensor_class_implements_mean(T):
    ScalarTensor = _scalar_tensor_class(T)
    d = ScalarTensor(5, 2)
    assert T.mean(d) == 0.4
    assert T.overrides.is_tensor_like(d) and not T.overrides.is_tensor_like(2)


def test_not_implemented_everywhere_raises_type_error(T):
    ScalarTensor = _scalar_tensor_class(T)
    with pytest.raises(TypeError, match="ScalarTensor"):
        T.sum(ScalarTensor(2, 1))

    class Refusing(T.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    r = T.ones(2).as_subclass(Refusing)
    with pytest.raises(TypeError, match="Refusing"):
        r.add(1)
    with pytest.raises(TypeError, match="Refusing"):
        T.nn.functional.relu(r)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Refusing' and 'int'"):
        r + 1
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for -: 'int' and 'Refusing'"):
        1 - r


def test_handle_torch_function_for_a_users_function(T):
    ov = T.overrides

    def scale(x, factor=2):
        if ov.has_torch_function_unary(x):
            return ov.handle_torch_function(scale, (x,), x, factor=factor)
        return x * factor

    class Seen(T.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return ("seen", func.__name__, kwargs)

    assert scale(T.ones(1)).tolist() == [2.0]
    assert scale(T.ones(1).as_subclass(Seen)) == ("seen", "scale", {"factor": 2})


# ---- modes -------------------------------------------------------------------------------------


def _logging_mode(T, log):
    class LoggingMode(T.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append(func.__name__)
            return func(*args, **(kwargs or {}))

    return LoggingMode


def test_a_mode_records_the_top_level_calls_as_pytorch_does(T):
    log = []
    x = T.ones(2, 3, requires_grad=True)
    w = T.ones(4, 3)
    with _logging_mode(T, log)():
        y = x * 2 + 1
        z = T.relu(y).sum()
        z.backward()
        out = T.nn.functional.linear(x, w)
        x.shape
        x[0]
        T.exp(out).mean(1)
    assert log == ["mul", "add", "relu", "sum", "backward", "linear", "__get__", "__getitem__", "exp", "mean"]
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_modes_nest_innermost_first(T):
    outer, inner = [], []
    with _logging_mode(T, outer)(), _logging_mode(T, inner)():
        T.ones(2).neg()
    assert inner == ["ones", "neg"] and outer == ["ones", "neg"]


def test_a_mode_can_replace_results(T):
    class Zeroing(T.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func.__name__ == "exp":
                return "no exp today"
            return func(*args, **(kwargs or {}))

    with Zeroing():
        assert T.exp(T.ones(1)) == "no exp today"
        assert T.ones(1).exp() == "no exp today"
        assert (T.ones(1) + 1).tolist() == [2.0]
    assert T.exp(T.zeros(1)).tolist() == [1.0]  # gone with the mode


def test_a_mode_sees_subclass_types(T):
    seen = []

    class TypesMode(T.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append([t.__name__ for t in types])
            return func(*args, **(kwargs or {}))

    s = T.ones(2).as_subclass(_sub(T))
    with TypesMode():
        out = T.add(s, 1)
    assert seen == [["Sub"]] and type(out).__name__ == "Sub"


# ---- switching it off --------------------------------------------------------------------------


def test_disable_torch_function_subclass(T):
    s = T.ones(2).as_subclass(_sub(T))
    with T._C.DisableTorchFunctionSubclass():
        assert type(s * 2) is T.Tensor and type(T.add(s, 1)) is T.Tensor
        assert not T._C._is_torch_function_enabled()
    assert type(s * 2).__name__ == "Sub" and T._C._is_torch_function_enabled()


def test_disable_torch_function_subclass_leaves_modes_on(T):
    log = []
    s = T.ones(2).as_subclass(_sub(T))
    with T._C.DisableTorchFunctionSubclass(), _logging_mode(T, log)():
        out = s + 1
    assert log == ["add"] and type(out) is T.Tensor


# ---- ember alone ------------------------------------------------------------------------------


def _run_fresh(code: str) -> None:
    """Run code in a new interpreter with this ember (what import and class statements do
    to a process cannot be undone in this one)."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(ember.__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_import_ember_installs_no_wrapper():
    code = (
        "import ember, ember.nn, ember.optim, ember.overrides as o, builtins\n"
        "f, m = ember.add, ember.Tensor.add\n"
        "assert not o._installed(), 'installed at import'\n"
        "assert builtins.__build_class__ is o._watching_build_class\n"
        "class Model(ember.nn.Module): pass\n"
        "p = ember.nn.Parameter(ember.ones(2))\n"
        "assert not o._installed() and ember.add is f and ember.Tensor.add is m\n"
        "class Sub(ember.Tensor): pass\n"
        "assert o._installed() and ember.add is not f and ember.Tensor.add is m\n"
        "assert builtins.__build_class__ is o._build_class\n"
    )
    _run_fresh(code)


def test_a_non_tensor_class_statement_swaps_the_functions_in():
    code = (
        "import builtins, ember, ember.overrides as o\n"
        "class ScalarLike:\n"
        "    @classmethod\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return 'handled'\n"
        "assert ember.mean(ScalarLike()) == 'handled'\n"
        "assert o._installed() and builtins.__build_class__ is o._build_class  # the watch is over\n"
    )
    _run_fresh(code)


def test_a_mode_swaps_tensor_methods_in_and_out():
    code = (
        "import ember, ember.overrides as o\n"
        "m = ember.Tensor.mul\n"
        "with o.BaseTorchFunctionMode():\n"
        "    assert ember.Tensor.mul is not m and (ember.ones(1) * 2).tolist() == [2.0]\n"
        "assert ember.Tensor.mul is m and not o._installed()\n"
    )
    _run_fresh(code)


class _Pickled(ember.Tensor):  # module level: pickle finds the class by its name
    pass


def test_subclass_instances_survive_pickle_and_deepcopy():
    import copy

    s = ember.ones(2).as_subclass(_Pickled) * 3
    for twin in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert type(twin) is _Pickled and twin.tolist() == [3.0, 3.0]


def test_overridable_and_ignored_functions(T):
    ov = T.overrides
    overridable = ov.get_overridable_functions()
    assert T.add in overridable[T] and T.nn.functional.relu in overridable[T.nn.functional]
    assert T.manual_seed in ov.get_ignored_functions()
    assert ov.is_tensor_method_or_property(T.Tensor.add)
    assert ov.is_tensor_method_or_property(T.Tensor.shape.__get__)
    testing = ov.get_testing_overrides()
    assert testing[T.add](T.ones(1), 1) == -1


def test_each_test_starts_without_the_wrappers():
    # _Pickled above, defined when pytest imported this module, swapped the functions in
    # for good; tests/conftest.py swaps them out before each test, so that the suite runs
    # as a program without subclasses does, in any order
    import builtins

    from ember import overrides

    assert not overrides._installed() and builtins.__build_class__ is overrides._watching_build_class
    assert not hasattr(ember.add, "_torch_function_original")
    s = ember.ones(2).as_subclass(_Pickled)
    assert type(s * 2) is _Pickled  # its own methods still dispatch


def test_a_pytorch_tensor_given_to_ember_functions_runs_as_without_the_protocol():
    # torch.Tensor has a __torch_function__ for torch's functions: once ember's functions
    # dispatched, ember.from_dlpack(t) called it, and it called from_dlpack again, forever
    torch = pytest.importorskip("torch")
    _sub(ember)  # the functions dispatch from now on
    t = torch.arange(4.0)
    e = ember.from_dlpack(t)
    assert type(e) is ember.Tensor and e.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ember.as_tensor(t.numpy()).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert not ember.overrides.has_torch_function((t,))


def test_importing_pytorch_after_ember_installs_no_wrapper():
    # PyTorch's own classes with __torch_function__ (its Tensor, Parameter, modes) are
    # for its functions: their class statements leave the watch on
    pytest.importorskip("torch")
    code = (
        "import builtins, ember, ember.overrides as o, torch, torch.nn\n"
        "class Mine(torch.Tensor): pass\n"
        "assert not o._installed() and builtins.__build_class__ is o._watching_build_class\n"
    )
    _run_fresh(code)


FACTORIES = {
    "tensor": lambda T, s: T.tensor(s),
    "tensor of a list": lambda T, s: T.tensor([s[0], s[1]]),
    "as_tensor converted": lambda T, s: T.as_tensor(s, dtype=T.float64),
    "asarray copied": lambda T, s: T.asarray(s, copy=True),
    "scalar_tensor": lambda T, s: T.scalar_tensor(s[1]),
    "arange": lambda T, s: T.arange(s[3]),
    "full": lambda T, s: T.full((2,), s[1]),
    "randint": lambda T, s: T.randint(s[3].long(), (2,)),
}


@pytest.mark.parametrize("op", sorted(FACTORIES))
def test_factories_read_a_subclass_as_data_and_give_plain_tensors(T, op):
    # PyTorch's factories do not dispatch on their data (ember's gave Sub); modes see them
    s = T.arange(4.0).as_subclass(_sub(T))
    assert type(FACTORIES[op](T, s)) is T.Tensor
    log = []
    with _logging_mode(T, log)():
        assert type(FACTORIES[op](T, s)) is T.Tensor
    assert op.partition(" ")[0] in log


def test_autograd_grad_gives_the_subclass_at_every_order(T):
    # PyTorch's autograd.grad dispatches: its results are converted, second derivatives
    # included (ember's first one was a Sub by chance, the second a plain tensor)
    Sub = _sub(T)
    x = T.tensor([1.0, 2.0]).as_subclass(Sub).requires_grad_()
    (g,) = T.autograd.grad((x * x * x).sum(), x, create_graph=True)
    (g2,) = T.autograd.grad(g.sum(), x)
    assert type(g) is Sub and type(g2) is Sub
    assert g.tolist() == [3.0, 12.0] and g2.tolist() == [6.0, 12.0]
    log = []
    y = (x * 2).sum()
    with _logging_mode(T, log)():
        T.autograd.grad(y, x, retain_graph=True)
        T.autograd.backward(y)
    assert log == ["grad", "backward"]
    assert type(x.grad) is T.Tensor


def test_a_dataloader_batches_a_subclass_into_the_subclass(T):
    # PyTorch's default_collate stacks through torch.stack, which dispatches
    Sub = _sub(T)
    data = T.utils.data
    samples = [T.full((2,), float(i)).as_subclass(Sub) for i in range(4)]
    batch = data.default_collate(samples)
    assert type(batch) is Sub and batch.tolist() == [[0.0, 0.0], [1.0, 1.0]] + [[2.0, 2.0], [3.0, 3.0]]
    (first, _) = data.DataLoader(samples, batch_size=2)
    assert type(first) is Sub and first.shape == (2, 2)
    assert type(data.default_collate([T.ones(2), T.zeros(2)])) is T.Tensor


def test_the_class_statement_watch_composes_with_other_code():
    # metaclasses, dataclasses, class statements in threads and another library's own wrap
    # of __build_class__ (installed after ember's, which must then stay in place) all work
    code = (
        "import builtins, dataclasses, threading, pickle, ember, ember.overrides as o\n"
        "seen = []\n"
        "theirs_below = builtins.__build_class__\n"
        "def theirs(func, name, *bases, **kw):\n"
        "    seen.append(name)\n"
        "    return theirs_below(func, name, *bases, **kw)\n"
        "builtins.__build_class__ = theirs\n"
        "class Meta(type):\n"
        "    def __new__(mcs, name, bases, ns, **kw):\n"
        "        return super().__new__(mcs, name, bases, ns)\n"
        "class WithMeta(metaclass=Meta, flag=1):\n"
        "    def f(self): return super().__repr__()\n"
        "@dataclasses.dataclass\n"
        "class Point:\n"
        "    x: int = 1\n"
        "assert Point(2).x == 2 and type(WithMeta) is Meta and WithMeta().f()\n"
        "t = threading.Thread(target=exec, args=('class InThread: pass', {}))\n"
        "t.start(); t.join()\n"
        "assert not o._installed()\n"
        "class ScalarLike:\n"
        "    @classmethod\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return 'handled'\n"
        "assert ember.mean(ScalarLike()) == 'handled' and o._installed()\n"
        "assert builtins.__build_class__ is theirs  # theirs stays, ours below it now passes through\n"
        "class After: pass\n"
        "assert seen[:5] == ['Meta', 'WithMeta', 'Point', 'InThread', 'ScalarLike'], seen\n"
        "assert seen[-1] == 'After', seen  # (the swap imported ember.fft between them)\n"
        "assert pickle.loads(pickle.dumps(Point(3))).x == 3\n"
    )
    _run_fresh(code)


def test_results_are_new_instances_without_the_attributes_or_init(T):
    # PyTorch's conversion neither copies an instance's attributes nor calls __init__
    class Tagged(T.Tensor):
        def __init__(self, *args, **kwargs):
            self.tag = "init ran"

    s = T.arange(6.0).reshape(2, 3).as_subclass(Tagged)
    s.extra = 5
    for result in (s * 2, s.view(6), s.detach(), s[0], T.exp(s)):
        assert type(result) is Tagged and not hasattr(result, "extra") and not hasattr(result, "tag")
    assert not hasattr(s, "tag")


def test_in_place_ops_on_views_of_a_subclass_write_through(T):
    s = T.zeros(2, 3).as_subclass(_sub(T))
    row, column = s[0], s[:, 1]
    row.add_(1)
    column.mul_(2)
    column += 3
    assert type(row) is type(s) and type(column) is type(s)
    assert s.tolist() == [[1.0, 5.0, 1.0], [0.0, 3.0, 0.0]]
    assert type(s == s) is type(s) and (s == s).dtype is T.bool and isinstance(s > 0, T.Tensor)


def test_switching_off_and_modes_hold_for_their_own_thread(T):
    # PyTorch keeps both per thread: another thread's disabled block or mode leaves this
    # thread's calls alone (ember's one flag for the process lost the subclass here)
    import threading

    s = T.ones(2).as_subclass(_sub(T))
    entered, done = threading.Event(), threading.Event()
    log = []

    def other():
        with T._C.DisableTorchFunctionSubclass(), _logging_mode(T, log)():
            entered.set()
            done.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert entered.wait(10)
        assert type(s * 2) is type(s) and type(T.exp(s)) is type(s) and T._C._is_torch_function_enabled()
        assert (T.ones(1) + 1).tolist() == [2.0]
    finally:
        done.set()
        thread.join()
    assert log == []


def test_a_class_of_a_module_whose_name_begins_with_ember_is_a_users():
    # the watch skipped every module whose name began with "ember" (ember_utils, embers...)
    code = (
        "import ember, ember.overrides as o\n"
        "ns = {'__name__': 'ember_utils'}\n"
        "exec('class ScalarLike:\\n"
        "    @classmethod\\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\\n"
        "        return \\'handled\\'\\n', ns)\n"
        "assert ns['ScalarLike'].__module__ == 'ember_utils'\n"
        "assert ember.mean(ns['ScalarLike']()) == 'handled'\n"
    )
    _run_fresh(code)
