"""ember._global_settings (torch-level switches) against torch: values read back, errors, side effects."""
import warnings

import pytest
import torch

import ember
from ember import _global_settings as settings
from parity import check_raises


@pytest.fixture
def restore():
    saved = (torch.get_float32_matmul_precision(), torch.get_deterministic_debug_mode(),
             torch.is_warn_always_enabled(), torch.get_default_dtype())
    yield
    for mod in (torch, settings):
        mod.set_float32_matmul_precision(saved[0])
        mod.set_deterministic_debug_mode(saved[1])
        mod.set_warn_always(saved[2])
    torch.set_default_dtype(saved[3])
    ember.set_default_dtype(ember.float32)


def test_switches_read_back_as_torch(restore):
    results = {}
    for lib, mod in ((torch, torch), (ember, settings)):
        seen = [mod.get_float32_matmul_precision()]
        mod.set_float32_matmul_precision("high")
        seen += [mod.get_float32_matmul_precision(), lib.backends.cuda.matmul.allow_tf32]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            mod.set_float32_matmul_precision("bogus")
        seen += [mod.get_float32_matmul_precision(), len(w)]
        mod.set_float32_matmul_precision("highest")
        seen.append(lib.backends.cuda.matmul.allow_tf32)
        for mode in ("warn", 2, "default"):
            mod.set_deterministic_debug_mode(mode)
            seen += [mod.get_deterministic_debug_mode(), lib.are_deterministic_algorithms_enabled()]
        mod.set_warn_always(True)
        seen += [mod.is_warn_always_enabled(), mod.set_flush_denormal(False), mod.is_anomaly_enabled(),
                 mod.is_anomaly_check_nan_enabled()]
        mod.set_warn_always(False)
        results[lib.__name__] = seen
    assert results["ember"] == results["torch"]


def test_errors_and_default_tensor_type(restore):
    check_raises(lambda: settings.set_deterministic_debug_mode("x"), lambda: torch.set_deterministic_debug_mode("x"))
    check_raises(lambda: settings.set_deterministic_debug_mode(5), lambda: torch.set_deterministic_debug_mode(5))
    check_raises(lambda: settings.set_default_tensor_type(ember.LongTensor),
                 lambda: torch.set_default_tensor_type(torch.LongTensor))
    with pytest.warns(UserWarning, match="deprecated"):
        settings.set_default_tensor_type("torch.DoubleTensor")
    assert ember.get_default_dtype() == ember.float64 and ember.tensor([1.0]).dtype == ember.float64
    settings.set_anomaly_enabled(True)
    assert settings.is_anomaly_enabled()
    settings.set_anomaly_enabled(False)
    assert not settings.is_anomaly_enabled()
