"""The torch namespace's constants, classes, small functions and submodules, and Tensor's state properties,
against torch."""
import math
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import assert_same, check_op


def test_math_constants():
    for name in ("e", "pi", "inf", "nan"):
        a, b = getattr(ember, name), getattr(torch, name)
        assert type(a) is type(b) and (a == b or math.isnan(a) and math.isnan(b))
    assert ember.newaxis is None is torch.newaxis
    assert ember.ones(2, 3)[:, ember.newaxis].shape == (2, 1, 3)


def test_build_flags_are_booleans():
    for name in ("has_lapack", "has_mkl", "has_openmp", "has_spectral"):
        assert isinstance(getattr(ember, name), bool)
    assert ember.has_lapack and ember.has_spectral       # linalg and fft work


@pytest.mark.parametrize("name", ["strided", "sparse_coo", "sparse_csr", "sparse_csc"])
def test_layouts(name):
    lay = getattr(ember, name)
    assert isinstance(lay, ember.layout) and repr(lay) == repr(getattr(torch, name)) == str(lay)


def test_tensor_layouts_are_layout_objects():
    dense = ember.zeros(2, 2)
    assert dense.layout is ember.strided and isinstance(dense.to_sparse().layout, ember.layout)
    assert dense.to_sparse().layout == ember.sparse_coo and dense.to_sparse_csr().layout == ember.sparse_csr


@pytest.mark.parametrize("name", ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
                                  "legacy_contiguous_format"])
def test_memory_formats(name):
    fmt = getattr(ember, name)
    assert isinstance(fmt, ember.memory_format) and repr(fmt) == repr(getattr(torch, name))
    x = ember.arange(24.0).reshape(1, 2, 3, 4)
    assert_same(x.contiguous(memory_format=fmt) if name != "preserve_format" else x.clone(memory_format=fmt),
                torch.arange(24.0).reshape(1, 2, 3, 4))
    assert ember.legacy_contiguous_format is ember.contiguous_format


@pytest.mark.parametrize("name,base", [("OutOfMemoryError", RuntimeError), ("AcceleratorError", RuntimeError),
                                       ("FatalError", Exception)])
def test_error_classes(name, base):
    cls = getattr(ember, name)
    assert issubclass(cls, base)
    assert [c.__name__ for c in cls.__mro__] == [c.__name__ for c in getattr(torch, name).__mro__]


def test_aliases_of_submodule_names():
    assert ember.GradScaler is ember.amp.GradScaler
    assert ember.vmap is ember.func.vmap
    x = ember.arange(6.0).reshape(2, 3)
    assert_same(ember.vmap(lambda r: r.sum())(x), torch.vmap(lambda r: r.sum())(torch.arange(6.0).reshape(2, 3)))


def test_cpu_module():
    for lib in (ember, torch):
        cpu = lib.cpu
        assert cpu.is_available() and cpu.is_initialized() and cpu.device_count() == 1
        assert cpu.current_device() == "cpu" and cpu.synchronize() is None
        s = cpu.Stream()
        ev = cpu.Event()
        assert ev.query() is True and ev.record() is None and ev.wait() is None and ev.synchronize() is None
        with cpu.stream(s) as entered:
            assert entered is None
        assert isinstance(cpu.current_stream(), cpu.Stream)
        caps = cpu.get_capabilities()
        assert caps["architecture"] and caps["num_logical_cores"] >= 1
    assert set(ember.cpu.__all__) == set(torch.cpu.__all__)
    assert ember.cpu.get_capabilities().get("avx2") == torch.cpu.get_capabilities().get("avx2")


@pytest.mark.parametrize("device", [None, "cpu", "cuda", "cuda:1", "meta", 0])
def test_get_device_module(device):
    try:
        expected = torch.get_device_module(device).__name__.replace("torch", "ember")
    except RuntimeError as exc:
        with pytest.raises(RuntimeError) as info:
            ember.get_device_module(device)
        assert str(info.value) == str(exc)
        return
    assert ember.get_device_module(device).__name__ == expected


def test_get_device_module_of_a_device_object():
    assert ember.get_device_module(ember.device("cpu")) is ember.cpu


@pytest.mark.parametrize("value", [2.5, "tensor", "int"])
def test_fill(value):
    def run(x):
        m = torch if isinstance(x, torch.Tensor) else ember
        v = {"tensor": m.tensor(1.5, dtype=m.float64, requires_grad=True), "int": 3}.get(value, value)
        out = m.fill(x, v)
        return (out * 2, v) if value == "tensor" else out * 2
    check_op(lambda x: run(x)[0] if value == "tensor" else run(x), lambda x: run(x)[0] if value == "tensor" else run(x),
             np.arange(6.0).reshape(2, 3))


def test_fill_value_gradient_and_errors():
    res = []
    for m in (ember, torch):
        x, v = m.ones(2, 3), m.tensor(2.0, requires_grad=True)
        y = m.fill(x, v)
        (y * 3).sum().backward()
        res.append((y.grad_fn.name(), float(v.grad), m.fill(m.ones(2, dtype=m.int64), 2.7).tolist()))
        with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor"):
            m.fill(x, m.ones(2))
    assert res[0] == res[1]


def test_global_settings_are_exported():
    for name in ("set_float32_matmul_precision", "get_float32_matmul_precision", "set_warn_always",
                 "is_warn_always_enabled", "set_deterministic_debug_mode", "get_deterministic_debug_mode",
                 "set_flush_denormal", "set_anomaly_enabled", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
                 "set_default_tensor_type"):
        assert callable(getattr(ember, name))
    before = ember.get_float32_matmul_precision()
    try:
        ember.set_float32_matmul_precision("high")
        assert ember.get_float32_matmul_precision() == "high"
    finally:
        ember.set_float32_matmul_precision(before)


# ---------------------------------------------------------------------------- Tensor state
@pytest.mark.parametrize("name", ["is_xpu", "is_ipu", "is_xla", "is_mtia", "is_maia", "is_vulkan", "is_mkldnn"])
def test_back_end_flags(name):
    assert getattr(ember.ones(2), name) is getattr(torch.ones(2), name) is False


def test_name_and_volatile():
    for m in (ember, torch):
        x = m.ones(2, requires_grad=True)
        assert x.name is None
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            x.volatile = True
            assert x.volatile is False and x.requires_grad
        assert [str(w.message)[:24] for w in got] == ["volatile was removed and", "volatile was removed (Va"]


def test_cuda_array_interface_is_missing_on_the_cpu():
    messages = []
    for m in (ember, torch):
        x = m.ones(2)
        assert not hasattr(x, "__cuda_array_interface__")
        with pytest.raises(AttributeError) as info:
            x.__cuda_array_interface__
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("state", ["flags", "data", "non-leaf"])
def test_setstate(state):
    outcomes = []
    for m in (ember, torch):
        x = m.ones(2)
        if state == "non-leaf":
            x = m.ones(2, requires_grad=True) * 2
        try:
            x.__setstate__({"flags": (True, False, None), "data": (m.zeros(3), 0, None, True, None),
                            "non-leaf": (True, False, None)}[state])
        except RuntimeError as exc:
            outcomes.append(str(exc))
        else:
            outcomes.append((x.tolist(), x.requires_grad))
    assert outcomes[0] == outcomes[1]


def test_pickle_round_trip_still_works():
    x = ember.arange(4.0).requires_grad_()
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == x.tolist() and y.requires_grad
