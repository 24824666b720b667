"""The kernel layer's contract: one fused kernel, several implementations, the array type picks.

A fused kernel (a layer norm, a softmax, an optimizer step...) is declared once as a ``Kernel``:

* ``reference``: the NumPy composition.  Always present, written against the array module of its
  inputs (``module_of_array``), so it also runs on any other array type; it is the oracle in tests
  and the path that runs whenever no compiled implementation applies.
* ``numba``: ``"module:function"`` of a CPU implementation for ``numpy.ndarray`` inputs.  Its module
  (which imports Numba and defines ``@njit(cache=True)`` functions) is imported on the first call,
  never at ``import ember``; compiled code is cached on disk, so a machine compiles each kernel once.
* ``cupy``: the same for ``cupy.ndarray`` inputs (the slot the GPU work fills).

Every implementation takes the same arguments and returns the same results as the reference (up to
rounding).  The first argument's array type chooses (for a kernel over a list of arrays, an optimizer's
parameter group, its first array's); ``accepts(*args)`` may send inputs a compiled
implementation does not handle (another dtype, an empty array) to the reference.  The NumPy path
runs instead of Numba when Numba is missing or fails to import, when ``EMBER_DISABLE_NUMBA`` is set
to anything but ``""``/``"0"``, or after a Numba implementation failed to compile (warned once).

Ops call kernels on arrays (``x._data``) and keep recording their nodes with ``record()``; kernels
know nothing of tensors or autograd.
"""
import importlib
import os
import warnings

_numba_state = []   # [] until asked; then [True] or [False]


# How long an idle OpenMP thread waits awake for the next parallel region before it sleeps: GNU OpenMP's spin count,
# about 25 ns a spin here (100000: ~2.5 ms of a core after the last region).  Waking a sleeping thread costs 25-110
# us, on a virtual machine sometimes milliseconds, which a training step's many short kernels each paid.
_SPIN_COUNT = "100000"


def _openmp_wait():
    """Tell the OpenMP runtime (which reads it when Numba first launches a parallel kernel) how its idle threads
    wait, unless the user chose (``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT``); and tell the contention check."""
    from ..ops._block_threads import pool_waits_awake   # here: ops import this module
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", _SPIN_COUNT)
    pool_waits_awake(os.environ.get("OMP_WAIT_POLICY", "").upper() != "PASSIVE"
                     and os.environ.get("GOMP_SPINCOUNT") != "0")


def numba_enabled():
    """True when Numba-compiled kernels may run: importable and not disabled by ``EMBER_DISABLE_NUMBA``."""
    if not _numba_state:
        ok = os.environ.get("EMBER_DISABLE_NUMBA", "") in ("", "0")
        if ok:
            _openmp_wait()
            try:
                import numba  # noqa: F401  (the first kernel call pays for this import, not ``import ember``)
            except Exception:   # missing, or broken against this NumPy: the reference runs
                ok = False
            if ok:
                from ..ops._block_threads import pin_blas   # here: ops import this module
                pin_blas()
        _numba_state.append(ok)
    return _numba_state[0]


def float32_or_64(*args):
    """The default ``accepts``: the first argument is a float32 or float64 array with elements."""
    a = args[0]
    return a.dtype.char in "fd" and a.size > 0


def contiguous_floats(*arrays):
    """An ``accepts`` for compiled kernels over whole arrays: float32 or float64 arrays of one dtype, C-contiguous,
    with elements."""
    a = arrays[0]
    if a.dtype.char not in "fd" or not a.size:
        return False
    for x in arrays:   # a loop, not all() over a generator: this runs before every call, on small arrays too
        if x.dtype is not a.dtype or not x.flags.c_contiguous:
            return False
    return True


# array type -> its library's top-level package name, the key of ``Kernel._impls`` ("numpy", "cupy")
_families = {}


def _load(path):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


class Kernel:
    """One fused-kernel contract and its implementations (see the module docstring).

    Args:
        name: a label for warnings and benchmarks.
        reference: the NumPy implementation, ``reference(*arrays_and_params) -> result``.
        numba: ``"package.module:function"`` of the Numba CPU implementation, or None.
        cupy: ``"package.module:function"`` of the CuPy implementation, or None.
        accepts: ``accepts(*args) -> bool``; False sends the call to the reference.
    """

    __slots__ = ("name", "reference", "accepts", "_paths", "_impls")

    def __init__(self, name, reference, numba=None, cupy=None, accepts=float32_or_64):
        self.name = name
        self.reference = reference
        self.accepts = accepts
        self._paths = {"numpy": numba, "cupy": cupy}
        self._impls = {}

    def implementation(self, array):
        """The implementation that runs for inputs like ``array`` (the reference when none is compiled)."""
        kind = type(array)
        family = _families.get(kind) or _families.setdefault(kind, kind.__module__.partition(".")[0])
        impl = self._impls.get(family)
        if impl is None:
            impl = self._impls[family] = self._resolve(family)
        return impl

    def _resolve(self, family):
        path = self._paths.get(family)
        if path is None or family == "numpy" and not numba_enabled():
            return self.reference
        try:
            return _load(path)
        except Exception as e:   # a broken install: warn once, keep running on the reference
            warnings.warn(f"ember kernel {self.name}: {path} unavailable ({e}); using the NumPy reference")
            return self.reference

    def __call__(self, *args):
        chooser = args[0]
        if type(chooser) is list and chooser:
            chooser = chooser[0]
        impl = self.implementation(chooser)
        if impl is self.reference or not self.accepts(*args):
            return self.reference(*args)
        try:
            return impl(*args)
        except Exception as e:
            if not _is_compile_error(e):
                raise
            warnings.warn(f"ember kernel {self.name} failed to compile ({type(e).__name__}); using the NumPy "
                          "reference")
            self._impls[type(chooser).__module__.partition(".")[0]] = self.reference
            return self.reference(*args)


def _is_compile_error(e):
    """A Numba typing/lowering failure (as opposed to an error in the caller's input)."""
    return type(e).__module__.startswith("numba")
