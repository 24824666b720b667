"""What real programs touch first: ember.cuda, accelerator, backends flags, devices, threads, deterministic
algorithms, multiprocessing -- answered as PyTorch 2.13 answers on a CPU-only machine."""
import importlib.util

import numpy as np
import pytest
import torch

import ember
from parity import check_raises


def test_cuda_queries_and_seeding():
    for name in ["is_available", "device_count", "is_bf16_supported", "is_initialized", "memory_allocated",
                 "max_memory_allocated", "empty_cache"]:
        assert getattr(ember.cuda, name)() == getattr(torch.cuda, name)(), name
    assert ember.cuda.manual_seed(1) is None and ember.cuda.manual_seed_all(1) is None
    for name in ["current_device", "synchronize", "get_device_name"]:
        check_raises(getattr(ember.cuda, name), getattr(torch.cuda, name))
    exc = check_raises(lambda: ember.ones(2).cuda(), lambda: torch.ones(2).cuda())
    assert "Torch not compiled with CUDA enabled" in str(exc)
    check_raises(lambda: ember.ones(2).to("cuda"), lambda: torch.ones(2).to("cuda"))
    check_raises(lambda: ember.ones(2, device="cuda"), lambda: torch.ones(2, device="cuda"))
    check_raises(lambda: ember.zeros(2).to(ember.device("cuda:0")), lambda: torch.zeros(2).to(torch.device("cuda:0")))
    check_raises(lambda: ember.tensor([1.0], device="cuda"), lambda: torch.tensor([1.0], device="cuda"))


def test_cuda_type_names():
    for name in ["FloatTensor", "LongTensor", "DoubleTensor", "IntTensor", "ByteTensor", "BoolTensor", "HalfTensor"]:
        assert hasattr(ember.cuda, name)
    assert not isinstance(ember.ones(2), ember.cuda.FloatTensor) or ember.cuda.FloatTensor is ember.FloatTensor


def test_device_pattern_used_by_programs():
    dev = ember.device("cuda" if ember.cuda.is_available() else "cpu")
    tdev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert str(dev) == str(tdev) == "cpu" and repr(dev) == repr(tdev)
    x = ember.ones(3).to(dev)
    assert x.device == dev and x.device.type == "cpu" and x.device.index is None
    assert ember.zeros(2, device=dev).device == dev
    assert ember.device("cpu") == ember.device("cpu") and hash(ember.device("cpu")) == hash(ember.device("cpu"))
    for spec in ["cuda:1", "cpu:0", ("cuda", 0), "mps"]:
        e = ember.device(*spec) if isinstance(spec, tuple) else ember.device(spec)
        t = torch.device(*spec) if isinstance(spec, tuple) else torch.device(spec)
        assert (str(e), repr(e), e.type, e.index) == (str(t), repr(t), t.type, t.index)
    for bad in ["gpu", "cuda:-1", "cuda:x", "cpu:0:1"]:
        check_raises(ember.device, torch.device, bad)
    assert ember.get_default_device() == ember.device("cpu")
    assert str(ember.get_default_device()) == str(torch.get_default_device())
    with ember.device("cpu"):
        assert ember.ones(1).device.type == "cpu"


def test_accelerator():
    assert ember.accelerator.is_available() == torch.accelerator.is_available() is False
    assert ember.accelerator.current_accelerator() is None is torch.accelerator.current_accelerator()
    assert ember.accelerator.device_count() == torch.accelerator.device_count() == 0


def test_backends_flags():
    for mod, attrs in [("cudnn", ["enabled", "benchmark", "deterministic", "allow_tf32"])]:
        for a in attrs:
            assert getattr(getattr(ember.backends, mod), a) == getattr(getattr(torch.backends, mod), a), a
    assert ember.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert ember.backends.cudnn.version() == torch.backends.cudnn.version()
    assert ember.backends.mps.is_available() == torch.backends.mps.is_available()
    assert ember.backends.mps.is_built() == torch.backends.mps.is_built()
    # ember's CUDA build is CuPy: built when CuPy is installed (the optional ember[cuda] extra)
    assert ember.backends.cuda.is_built() == (importlib.util.find_spec("cupy") is not None)
    assert ember.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    # settable, and the setting sticks
    ember.backends.cudnn.benchmark = True
    ember.backends.cudnn.deterministic = True
    assert ember.backends.cudnn.benchmark and ember.backends.cudnn.deterministic
    ember.backends.cudnn.benchmark = False
    ember.backends.cudnn.deterministic = False
    import ember.backends.cudnn as cudnn_mod   # the import form programs use
    assert cudnn_mod is ember.backends.cudnn


def test_threads():
    before = ember.get_num_threads()
    assert isinstance(before, int) and before >= 1
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        # wired to BLAS: threadpoolctl sees the limit
        from threadpoolctl import threadpool_info
        blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        assert not blas or max(blas) == 1
        a = ember.randn(64, 64)
        np.testing.assert_allclose((a @ a).numpy(), a.numpy() @ a.numpy(), rtol=1e-5, atol=1e-5)
    finally:
        ember.set_num_threads(before)
    assert ember.get_num_threads() == before
    for bad in [0, -1, 2.5]:
        check_raises(ember.set_num_threads, torch.set_num_threads, bad)
    assert ember.get_num_interop_threads() >= 1


def test_deterministic_algorithms():
    assert ember.are_deterministic_algorithms_enabled() == torch.are_deterministic_algorithms_enabled() is False
    try:
        ember.use_deterministic_algorithms(True, warn_only=True)
        assert ember.are_deterministic_algorithms_enabled()
        assert ember.is_deterministic_algorithms_warn_only_enabled()
        ember.use_deterministic_algorithms(True)
        assert not ember.is_deterministic_algorithms_warn_only_enabled()
    finally:
        ember.use_deterministic_algorithms(False)
    assert not ember.are_deterministic_algorithms_enabled()
    check_raises(ember.use_deterministic_algorithms, torch.use_deterministic_algorithms, "yes")


def test_multiprocessing_module():
    import ember.multiprocessing as emp
    import torch.multiprocessing as tmp
    for name in ["spawn", "Queue", "Process", "get_start_method", "set_start_method", "get_all_sharing_strategies",
                 "get_sharing_strategy", "set_sharing_strategy", "Pool", "cpu_count"]:
        assert hasattr(emp, name) == hasattr(tmp, name), name
    assert emp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()


def test_top_level_helpers():
    x = ember.ones(2)
    assert ember.is_tensor(x) and not ember.is_tensor(np.ones(2)) and not ember.is_tensor([1])
    assert ember.is_floating_point(x) and not ember.is_floating_point(ember.ones(2, dtype=ember.int64))
    assert ember.is_complex(ember.ones(1, dtype=ember.complex64))
    assert ember.numel(ember.ones(3, 4)) == 12
    assert ember.is_storage(x) is torch.is_storage(torch.ones(2)) is False
    assert ember.compile(lambda v: v * 2)(x).tolist() == [2.0, 2.0]
    assert ember.__version__.startswith("2.13")
    assert ember.strided == "torch.strided" or str(ember.strided) == str(torch.strided)
    assert ember.set_grad_enabled is not None and ember.no_grad is not None
