"""``ember.backends``: the settable backend flags real programs touch (cudnn, cuda, mps, mkldnn, openmp)."""
import types as _types


def _flags(name, **values):
    mod = _types.ModuleType(f"ember.backends.{name}")
    mod.__dict__.update(values)
    return mod


cudnn = _flags("cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
               is_available=lambda: False, version=lambda: None)   # accepted: CuPy has no cuDNN binding
mps = _flags("mps", is_available=lambda: False, is_built=lambda: False)
mkldnn = _flags("mkldnn", enabled=True, is_available=lambda: False)
openmp = _flags("openmp", is_available=lambda: False)
mkl = _flags("mkl", is_available=lambda: False)
cpu = _flags("cpu", get_cpu_capability=lambda: "DEFAULT")
from . import cuda  # noqa: E402  a module of its own: its matmul flags reach CuPy

import sys as _sys
for _name in ("cudnn", "mps", "mkldnn", "openmp", "mkl", "cpu"):
    _sys.modules[f"{__name__}.{_name}"] = globals()[_name]
