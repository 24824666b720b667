"""The Numba decorators every CPU kernel module uses (importing this module imports Numba).

``jit``: ``@njit(cache=True, nogil=True)`` with the fast-math flags that let LLVM vectorise reductions
(reassociation, contraction, reciprocal) but keep IEEE inf/nan/signed-zero semantics, so a NaN or
an infinity in the input gives PyTorch's NaN/inf results; ``error_model="numpy"``: a float division
by zero gives inf/nan instead of raising, which also lets loops that divide vectorise.  ``pjit`` adds ``parallel=True`` for
kernels whose outer loop is a ``prange`` over independent chunks; ``inline`` is for scalar helpers.
``chunks(n, per)`` splits ``n`` rows into at most ``threads()`` chunks of at least ``per`` rows, so
small inputs run on one thread without paying for the pool.
"""
import warnings

import numba
from numba.core.errors import NumbaIRAssumptionWarning

# Numba's own pedantic SSA self-check fires (once, while compiling) on helpers inlined at the IR level through
# ``@overload(inline="always")`` (kernels/_numba_math.py: ftanh, fsigmoid); the code it compiles is correct.
warnings.filterwarnings("ignore", category=NumbaIRAssumptionWarning)

FASTMATH = {"reassoc", "contract", "arcp"}

jit = numba.njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
pjit = numba.njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy", parallel=True)
# scalar helpers called from kernels: inlined into the caller's loop (a call the vectoriser cannot see
# through, with its error-status return, keeps the loop scalar)
inline = numba.njit(inline="always", nogil=True, fastmath=FASTMATH, error_model="numpy")


def threads():
    """How many threads a parallel kernel may use (Numba's current setting)."""
    return numba.get_num_threads()


def chunks(n, per):
    """The number of chunks to split ``n`` independent rows into: 1 below ``2 * per`` rows."""
    return max(1, min(threads(), n // per))
