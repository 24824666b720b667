"""``import ember`` loads only what every program needs: Numba, SciPy and the heavy families (nn, optim, the
profiler, data loading, serialization ...) load on first use, and the lazily loaded names behave as if they had
been imported eagerly.  Checked in fresh interpreters (this process has imported everything already)."""
import json
import subprocess
import sys

import pytest

# modules ``import ember`` must not load: compiled-kernel and optional libraries, ember's families that a program
# may never touch, and the stdlib packages only they need
NOT_AT_IMPORT = ("numba", "scipy", "torch", "ember.nn", "ember.optim", "ember.profiler", "ember.autograd.profiler",
                 "ember.utils.data", "ember.serialization", "ember.distributions", "ember.vision", "ember.onnx",
                 "ember.distributed", "ember.func", "concurrent.futures", "logging", "socket")


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_ember_loads_no_heavy_module():
    loaded = _run("import json, sys, ember; print(json.dumps(sorted(sys.modules)))")
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in NOT_AT_IMPORT)]
    assert heavy == []
    assert not [m for m in loaded if "._numba" in m]   # compiled kernels stay unimported until first use


@pytest.mark.parametrize("code,expected", [
    ("ember.nn.Linear(2, 3).weight.shape == (3, 2)", True),
    ("__import__('ember.nn.functional').nn.functional is __import__('ember').nn.functional", True),
    ("ember.nn.Module.__module__", "ember.nn.modules.module"),
    ("[n for n in dir(ember) if n in ('nn', 'optim', 'save', 'autocast')]", ["autocast", "nn", "optim", "save"]),
    ("str(ember.autograd.ProfilerActivity.CPU)", "ProfilerActivity.CPU"),
    ("ember.autograd.profiler.record_function.__name__", "record_function"),
])
def test_lazy_names_work(code, expected):
    assert _run(f"import json, ember; print(json.dumps({code}))") == expected
