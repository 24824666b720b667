"""``ember.backends``: the settable backend flags real programs touch (cudnn, cuda, mps, mkldnn, openmp)."""
import types as _types


def _flags(name, **values):
    mod = _types.ModuleType(f"ember.backends.{name}")
    mod.__dict__.update(values)
    return mod


cudnn = _flags("cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
               is_available=lambda: False, version=lambda: None)
mps = _flags("mps", is_available=lambda: False, is_built=lambda: False)
mkldnn = _flags("mkldnn", enabled=True, is_available=lambda: False)
openmp = _flags("openmp", is_available=lambda: False)
mkl = _flags("mkl", is_available=lambda: False)
cpu = _flags("cpu", get_cpu_capability=lambda: "DEFAULT")
cuda = _flags("cuda", is_built=lambda: False,
              matmul=_types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                                            allow_bf16_reduced_precision_reduction=True),
              enable_flash_sdp=lambda enabled: None, enable_mem_efficient_sdp=lambda enabled: None,
              enable_math_sdp=lambda enabled: None, flash_sdp_enabled=lambda: False,
              mem_efficient_sdp_enabled=lambda: False, math_sdp_enabled=lambda: True)

import sys as _sys
for _name in ("cudnn", "mps", "mkldnn", "openmp", "mkl", "cpu", "cuda"):
    _sys.modules[f"{__name__}.{_name}"] = globals()[_name]
