"""``ember.backends.cuda``: CUDA math flags (``torch.backends.cuda``).

``matmul.allow_tf32`` and ``ember.set_float32_matmul_precision`` choose how float32 matrix products run
on the GPU: 'highest' in float32, 'high' on TF32 tensor cores, 'medium' on bfloat16 tensor cores (cuBLAS's
compute type, set through CuPy).  Inside ``autocast('cuda', dtype=bfloat16)`` float32 products use the
bfloat16 compute type (CuPy has no bfloat16 storage; see ``ember.backends._cupy``).
"""
from .. import _global_settings

__all__ = ["is_built", "matmul", "enable_flash_sdp", "enable_mem_efficient_sdp", "enable_math_sdp",
           "enable_cudnn_sdp", "flash_sdp_enabled", "mem_efficient_sdp_enabled", "math_sdp_enabled",
           "cudnn_sdp_enabled"]

_autocast_bf16 = [False]   # set while an autocast('cuda', dtype=bfloat16) region is open


class cuBLASModule:
    """``torch.backends.cuda.matmul``: ``allow_tf32``, ``allow_fp16_reduced_precision_reduction``,
    ``allow_bf16_reduced_precision_reduction``; any other attribute is an AttributeError, as in PyTorch."""

    _reduced = {"allow_fp16_reduced_precision_reduction": True, "allow_bf16_reduced_precision_reduction": True}

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _global_settings.get_float32_matmul_precision() != "highest"
        if name in self._reduced:
            return self._reduced[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            now = _global_settings.get_float32_matmul_precision()
            if bool(value) != (now != "highest"):
                _global_settings.set_float32_matmul_precision("high" if value else "highest")
            return
        if name in self._reduced:
            self._reduced[name] = bool(value)
            return
        raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()


def apply_matmul_precision():
    """Give CuPy's float32 GEMMs the compute type the flags ask for (nothing before CUDA is in use)."""
    from . import _cupy
    if _cupy.state.cupy is None:
        return
    from cupy._core import _routines_linalg as linalg
    precision = _global_settings.get_float32_matmul_precision()
    kind = linalg.COMPUTE_TYPE_BF16 if _autocast_bf16[0] or precision == "medium" else \
        linalg.COMPUTE_TYPE_TF32 if precision == "high" else linalg.COMPUTE_TYPE_DEFAULT
    linalg.set_compute_type("f", kind)


def set_autocast_bf16(on):
    """Enter (True) or leave (False) bfloat16 compute for float32 GEMMs (``autocast('cuda', bfloat16)``)."""
    _autocast_bf16[0] = bool(on)
    apply_matmul_precision()


def is_built():
    """True when CuPy is importable (ember's CUDA support is CuPy)."""
    import importlib.util
    return importlib.util.find_spec("cupy") is not None


_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def enable_flash_sdp(enabled):
    """Accepted (ember's attention is one composed kernel on every device)."""
    _sdp["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled):
    """Accepted (see ``enable_flash_sdp``)."""
    _sdp["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled):
    """Accepted (see ``enable_flash_sdp``)."""
    _sdp["math"] = bool(enabled)


def enable_cudnn_sdp(enabled):
    """Accepted (see ``enable_flash_sdp``)."""
    _sdp["cudnn"] = bool(enabled)


def flash_sdp_enabled():
    return _sdp["flash"]


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def math_sdp_enabled():
    return _sdp["math"]


def cudnn_sdp_enabled():
    return _sdp["cudnn"]

