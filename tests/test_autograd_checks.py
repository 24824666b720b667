"""Autograd checks what user code hands back, and grad mode is per thread: each case runs in ember and in
PyTorch and must end the same way (same result, or same exception type and message)."""
import functools
import threading

import numpy as np
import pytest
import torch

import ember
from parity import assert_same


def outcome(lib, case):
    """``case(lib)``'s result, or the type name and message of what it raised."""
    try:
        return "ok", case(lib)
    except Exception as exc:  # noqa: BLE001 - any exception is compared with torch's
        return type(exc).__name__, str(exc)


def assert_same_outcome(case):
    """ember and torch end ``case`` alike: equal results (tensors compared with dtype), or the same exception."""
    kind_t, res_t = outcome(torch, case)
    kind_e, res_e = outcome(ember, case)
    assert kind_e == kind_t, f"ember: {kind_e} {res_e}; torch: {kind_t} {res_t}"
    if kind_t == "ok":
        assert_same(res_e, res_t)
    else:
        assert res_e == res_t


class CallableHook:
    """A hook without ``__name__`` (PyTorch names it '<unknown>'); also a non-tensor value of a Python class."""

    def __call__(self, g):
        return g.new_ones(4)


# ---------------------------------------------------------------- custom Function.backward
def through_function(make_grad, shape=(3,), dtype="float32", create_graph=False):
    """A custom Function whose backward returns ``make_grad(lib, g)``, applied to a leaf of ``shape``; returns the
    leaf's ``.grad`` (and whether it requires grad, under ``create_graph``)."""
    def case(lib):
        class X(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return make_grad(lib, g)

        a = lib.ones(shape, dtype=getattr(lib, dtype), requires_grad=True)
        X.apply(a).sum().backward(create_graph=create_graph)
        if create_graph:
            return a.grad.detach(), a.grad.requires_grad
        return a.grad
    return case


FUNCTION_GRADS = {
    "shape [5] for [3]": (lambda lib, g: lib.ones(5), (3,)),
    "shape [1] for [3]": (lambda lib, g: lib.ones(1), (3,)),
    "shape [3, 1] for [3]": (lambda lib, g: lib.ones(3, 1), (3,)),
    "0-d for [3]": (lambda lib, g: lib.tensor(2.0), (3,)),
    "[3] for [2, 3]": (lambda lib, g: lib.ones(3), (2, 3)),
    "[2, 3] summed to [3]": (lambda lib, g: lib.arange(6.0).reshape(2, 3), (3,)),
    "[1, 3] summed to [3]": (lambda lib, g: lib.ones(1, 3), (3,)),
    "[3] summed to [1]": (lambda lib, g: lib.arange(3.0), (1,)),
    "[3] summed to 0-d": (lambda lib, g: lib.arange(3.0), ()),
    "[2, 4, 3] summed to [4, 1]": (lambda lib, g: lib.arange(24.0).reshape(2, 4, 3), (4, 1)),
    "wrong shape and dtype": (lambda lib, g: lib.ones(5, dtype=lib.float64), (3,)),
    "float64 cast": (lambda lib, g: g.double() * 3, (3,)),
    "float16 cast": (lambda lib, g: g.half(), (3,)),
    "int64 cast": (lambda lib, g: g.long() * 2, (3,)),
    "bool cast": (lambda lib, g: lib.ones(3, dtype=lib.bool), (3,)),
    "complex for real": (lambda lib, g: lib.ones(3, dtype=lib.complex64), (3,)),
    "None": (lambda lib, g: None, (3,)),
    "int": (lambda lib, g: 3, (3,)),
    "list": (lambda lib, g: [g], (3,)),
    "ndarray": (lambda lib, g: np.ones(3, np.float32), (3,)),
    "instance of a Python class": (lambda lib, g: CallableHook(), (3,)),
    "too many": (lambda lib, g: (g, g), (3,)),
    "extra None": (lambda lib, g: (g, None), (3,)),
}


@pytest.mark.parametrize("name", FUNCTION_GRADS)
def test_function_backward_result_checked(name):
    make_grad, shape = FUNCTION_GRADS[name]
    assert_same_outcome(through_function(make_grad, shape))


def test_reduced_and_cast_gradients_stay_differentiable():
    assert_same_outcome(through_function(lambda lib, g: g.expand(2, 3).double(), (3,), create_graph=True))


def test_function_check_under_autograd_grad():
    def case(lib):
        class X(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a.clone()

            @staticmethod
            def backward(ctx, g):
                return lib.ones(5)

        a = lib.ones(3, requires_grad=True)
        return lib.autograd.grad(X.apply(a).sum(), a)
    assert_same_outcome(case)


@pytest.mark.parametrize("first", ["leaf", "no grad", "non-leaf", "number"])
def test_function_check_names_the_edge_index(first):
    """The index counts tensor inputs (those without grad included); a gradient for an input that does not
    require grad is not checked."""
    def case(lib):
        class Y(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a + b

            @staticmethod
            def backward(ctx, g):
                return lib.ones(4), lib.ones(4)

        b = lib.ones(3, requires_grad=True)
        a = {"leaf": lib.ones(3, requires_grad=True), "no grad": lib.ones(3), "non-leaf": b * 2,
             "number": 2.0}[first]
        Y.apply(a, b * 1).sum().backward()
        return b.grad
    assert_same_outcome(case)


def test_unchecked_gradient_for_input_without_grad():
    def case(lib):
        class Y(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * b

            @staticmethod
            def backward(ctx, g):
                return lib.ones(7), g * 2

        b = lib.ones(3, requires_grad=True)
        Y.apply(lib.ones(3), b).sum().backward()
        return b.grad
    assert_same_outcome(case)


# ---------------------------------------------------------------- gradients handed to backward / autograd.grad
ROOT_GRADS = {
    "shape": lambda lib, a: (a * 2).backward(lib.ones(5)),
    "broadcastable shape": lambda lib, a: (a * 2).backward(lib.ones(1)),
    "float64 cast": lambda lib, a: (a * 2).backward(lib.full((3,), 0.1, dtype=lib.float64)),
    "int64 cast": lambda lib, a: (a * 2).backward(lib.tensor([1, 2, 3])),
    "complex for real output": lambda lib, a: (a * 2).backward(lib.ones(3, dtype=lib.complex64)),
    "real for complex output": lambda lib, a: (a * (1 + 1j)).backward(lib.ones(3)),
    "list of numbers": lambda lib, a: (a * 2).backward([1.0, 2.0, 3.0]),
    "implicit, complex output": lambda lib, a: (a * (1 + 1j)).sum().backward(),
    "implicit, non-scalar": lambda lib, a: (a * 2).backward(),
    "fewer gradients": lambda lib, a: lib.autograd.backward((a * 2, a * 3), (lib.ones(3),)),
    "extra gradients ignored": lambda lib, a: lib.autograd.backward((a * 2,), (lib.ones(3), lib.ones(3))),
    "grad(): fewer gradients": lambda lib, a: lib.autograd.grad((a * 2, a * 3), a, (lib.ones(3),)),
    "grad(): int64 cast": lambda lib, a: lib.autograd.grad(a * 2, a, lib.tensor([1, 2, 3])),
}


@pytest.mark.parametrize("name", ROOT_GRADS)
def test_gradient_given_to_backward_checked(name):
    def case(lib):
        a = lib.ones(3, requires_grad=True)
        out = ROOT_GRADS[name](lib, a)
        return out if out is not None else a.grad
    assert_same_outcome(case)


# ---------------------------------------------------------------- tensor hooks
def named_hook(g):
    return g.new_ones(5)


TENSOR_HOOKS = {
    "shape, named function": lambda lib: named_hook,
    "shape [1], lambda": lambda lib: (lambda g: lib.ones(1)),
    "broadcastable shape": lambda lib: (lambda g: lib.ones(2, 3)),
    "float64": lambda lib: (lambda g: g.double()),
    "int64": lambda lib: (lambda g: g.long()),
    "int": lambda lib: (lambda g: 3),
    "list": lambda lib: (lambda g: [g]),
    "callable object": lambda lib: CallableHook(),
    "partial": lambda lib: functools.partial(lambda x, g: g.new_ones(4), 1),
    "bound method": lambda lib: CallableHook().__call__,
    "valid": lambda lib: (lambda g: g * 3),
    "None": lambda lib: (lambda g: None),
}


@pytest.mark.parametrize("where", ["leaf", "non-leaf"])
@pytest.mark.parametrize("name", TENSOR_HOOKS)
def test_tensor_hook_result_checked(name, where):
    def case(lib):
        a = lib.ones(3, requires_grad=True)
        b = a if where == "leaf" else a.exp()
        b.register_hook(TENSOR_HOOKS[name](lib))
        (b * 2).sum().backward()
        return a.grad
    assert_same_outcome(case)


def test_retained_grad_hook_checked():
    def case(lib):
        a = lib.ones(3, requires_grad=True)
        c = a.exp()
        c.retain_grad()
        c.register_hook(lambda g: g.double())
        c.sum().backward()
        return c.grad
    assert_same_outcome(case)


# ---------------------------------------------------------------- node hooks
NODE_PRE_HOOKS = {
    "shape": lambda lib: (lambda go: (lib.ones(5),)),
    "float64": lambda lib: (lambda go: (go[0].double(),)),
    "tensor": lambda lib: (lambda go: go[0]),
    "list": lambda lib: (lambda go: [go[0]]),
    "count": lambda lib: (lambda go: (go[0], go[0])),
    "int entry": lambda lib: (lambda go: (3,)),
    "None entry": lambda lib: (lambda go: (None,)),
    "valid": lambda lib: (lambda go: (go[0] * 2,)),
}


@pytest.mark.parametrize("name", NODE_PRE_HOOKS)
def test_node_prehook_result_checked(name):
    def case(lib):
        a = lib.ones(3, requires_grad=True)
        c = a.exp()
        c.grad_fn.register_prehook(NODE_PRE_HOOKS[name](lib))
        c.sum().backward()
        return a.grad
    assert_same_outcome(case)


NODE_POST_HOOKS = {
    "list": lambda lib: (lambda gi, go: [gi[0], gi[1]]),
    "tensor": lambda lib: (lambda gi, go: gi[0]),
    "int entry": lambda lib: (lambda gi, go: (gi[0], 3)),
    "replaces None": lambda lib: (lambda gi, go: (gi[0], lib.ones(3))),
    "shape": lambda lib: (lambda gi, go: (gi[0], lib.ones(5))),
    "shape [1]": lambda lib: (lambda gi, go: (lib.ones(1), gi[1])),
    "float64": lambda lib: (lambda gi, go: (gi[0].double(), gi[1])),
    "None entry": lambda lib: (lambda gi, go: (None, gi[1])),
    "valid": lambda lib: (lambda gi, go: (gi[0] * 5, gi[1])),
}


@pytest.mark.parametrize("name", NODE_POST_HOOKS)
def test_node_hook_result_checked(name):
    def case(lib):
        a = lib.ones(3, requires_grad=True)
        b = lib.full((3,), 2.0, requires_grad=name != "replaces None")
        c = a * b
        c.grad_fn.register_hook(NODE_POST_HOOKS[name](lib))
        c.sum().backward()
        return a.grad
    assert_same_outcome(case)


MODULE_HOOKS = {
    "full, shape": ("full", lambda lib: (lambda m, gi, go: (lib.ones(5),))),
    "full, broadcastable shape": ("full", lambda lib: (lambda m, gi, go: (lib.ones(1, 3),))),
    "full, float64": ("full", lambda lib: (lambda m, gi, go: (gi[0].double(),))),
    "full, valid": ("full", lambda lib: (lambda m, gi, go: (gi[0] * 2,))),
    "pre, shape": ("pre", lambda lib: (lambda m, go: (lib.ones(5),))),
    "pre, valid": ("pre", lambda lib: (lambda m, go: (go[0] * 3,))),
}


@pytest.mark.parametrize("name", MODULE_HOOKS)
def test_module_backward_hook_result_checked(name):
    kind, make = MODULE_HOOKS[name]

    def case(lib):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.arange(6.0).reshape(2, 3))
        if kind == "full":
            m.register_full_backward_hook(make(lib))
        else:
            m.register_full_backward_pre_hook(make(lib))
        x = lib.ones(4, 3, requires_grad=True)
        m(x).sum().backward()
        return x.grad
    assert_same_outcome(case)


def test_wrong_hook_gradient_never_reaches_optimizer():
    """The issue's case: a (1,) gradient from a hook used to land in .grad and broadcast in optimizer.step."""
    def case(lib):
        p = lib.nn.Parameter(lib.ones(3))
        p.register_hook(lambda g: g.sum().reshape(1))
        opt = lib.optim.SGD([p], lr=0.1)
        (p * 2).sum().backward()
        opt.step()
        return p.detach()
    assert_same_outcome(case)


# ---------------------------------------------------------------- grad mode per thread
def in_thread(fn):
    """Run ``fn`` in a new thread; return what it returned (re-raising what it raised)."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc
    th = threading.Thread(target=target)
    th.start()
    th.join(10)
    assert not th.is_alive(), "thread did not finish"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
@pytest.mark.parametrize("mode", ["no_grad", "set_grad_enabled", "inference_mode"])
def test_new_thread_starts_with_grad_enabled(lib, mode):
    enter = {"no_grad": lib.no_grad, "set_grad_enabled": lambda: lib.set_grad_enabled(False),
             "inference_mode": lib.inference_mode}[mode]
    with enter():
        assert not lib.is_grad_enabled()
        seen = in_thread(lambda: (lib.is_grad_enabled(), lib.is_inference_mode_enabled(),
                                  (lib.ones(2, requires_grad=True) * 2).requires_grad))
        assert seen == (True, False, True)
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
@pytest.mark.parametrize("mode", ["no_grad", "set_grad_enabled", "inference_mode"])
def test_mode_in_other_thread_leaves_this_thread_recording(lib, mode):
    """A thread holds a no-grad mode open while this one records a graph and runs backward through it."""
    entered, release = threading.Event(), threading.Event()

    def other():
        if mode == "set_grad_enabled":
            lib.set_grad_enabled(False)    # the function form, never restored in that thread
            cm = None
        else:
            cm = lib.no_grad() if mode == "no_grad" else lib.inference_mode()
            cm.__enter__()
        state = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
        entered.set()
        release.wait(10)
        if cm is not None:
            cm.__exit__(None, None, None)
        return state

    box = {}
    th = threading.Thread(target=lambda: box.setdefault("state", other()))
    th.start()
    try:
        assert entered.wait(10)
        x = lib.ones(3, requires_grad=True)
        y = (x * 3).sum()
        assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
        assert y.requires_grad and y.grad_fn is not None
        y.backward()
        assert x.grad.tolist() == [3.0, 3.0, 3.0]
    finally:
        release.set()
        th.join(10)
    assert box["state"] == (False, mode == "inference_mode")


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_enable_grad_in_thread_leaves_no_grad_here(lib):
    """A thread holds enable_grad open while this thread, under no_grad, must not record."""
    entered, release = threading.Event(), threading.Event()

    def other():
        with lib.enable_grad():
            entered.set()
            release.wait(10)
            return lib.is_grad_enabled()

    box = {}
    th = threading.Thread(target=lambda: box.setdefault("enabled", other()))
    with lib.no_grad():
        th.start()
        try:
            assert entered.wait(10)
            assert not lib.is_grad_enabled()
            assert not (lib.ones(2, requires_grad=True) * 2).requires_grad
        finally:
            release.set()
            th.join(10)
    assert box["enabled"] is True


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_backward_in_thread_leaves_this_thread_recording(lib):
    """The engine turns grad mode off while it runs backward (no create_graph): only in its own thread."""
    in_backward, release = threading.Event(), threading.Event()

    def hook(g):
        in_backward.set()
        release.wait(10)
        return None

    def run():
        a = lib.ones(3, requires_grad=True)
        b = a * 2
        b.register_hook(hook)
        b.sum().backward()
        return a.grad.tolist()

    box = {}
    th = threading.Thread(target=lambda: box.setdefault("grad", run()))
    th.start()
    try:
        assert in_backward.wait(10)
        assert lib.is_grad_enabled()
        assert (lib.ones(2, requires_grad=True) * 2).requires_grad
    finally:
        release.set()
        th.join(10)
    assert box["grad"] == [2.0, 2.0, 2.0]


ANOMALY_ENABLED = {ember: ember.autograd.is_anomaly_enabled, torch: torch.is_anomaly_enabled}


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_anomaly_mode_is_process_wide(lib):
    with lib.autograd.set_detect_anomaly(True):
        assert in_thread(ANOMALY_ENABLED[lib]) is True
    assert in_thread(ANOMALY_ENABLED[lib]) is False

    def set_in_thread():
        lib.autograd.set_detect_anomaly(True)
    try:
        in_thread(set_in_thread)
        assert ANOMALY_ENABLED[lib]() is True
    finally:
        lib.autograd.set_detect_anomaly(False)
