"""Fused kernels: one contract per kernel, a NumPy reference and compiled implementations (Numba on CPU,
CuPy on CUDA) chosen by the array type of the inputs.  See ``kernels/_dispatch.py`` for the contract.

Importing this package imports neither Numba nor any compiled implementation.
"""
from ._dispatch import Kernel, numba_enabled

__all__ = ["Kernel", "numba_enabled"]
