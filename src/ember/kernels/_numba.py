"""The Numba decorators every CPU kernel module uses (importing this module imports Numba).

``jit``: ``@njit(cache=True, nogil=True)`` with the fast-math flags that let LLVM vectorise reductions
(reassociation, contraction, reciprocal) but keep IEEE inf/nan/signed-zero semantics, so a NaN or
an infinity in the input gives PyTorch's NaN/inf results; ``error_model="numpy"``: a float division
by zero gives inf/nan instead of raising, which also lets loops that divide vectorise.  ``pjit`` adds ``parallel=True`` for
kernels whose outer loop is a ``prange`` over independent chunks, their count the argument ``nch`` (see
``Parallel``); ``inline`` is for scalar helpers.
``chunks(n, per)`` splits ``n`` rows into at most ``threads()`` chunks of at least ``per`` rows, so
small inputs run on one thread without paying for the pool, and into one chunk while the cores are found
busy (``ops/_block_threads.parallel_ok``).

Compiled kernels are cached on disk (``cache=True``) with a source stamp covering every ``kernels/_numba*.py``
file (``_install_cache_stamp``), not only the kernel's own file.
"""
import functools
import glob
import hashlib
import inspect
import os
import types
import warnings
from time import perf_counter, thread_time

import numba
from numba.core import caching
from numba.np.ufunc import parallel as _parallel
from numba.core.errors import NumbaIRAssumptionWarning

from ..ops._block_threads import account_region, parallel_ok

# Numba's own pedantic SSA self-check fires (once, while compiling) on helpers inlined at the IR level through
# ``@overload(inline="always")`` (kernels/_numba_math.py: ftanh, fsigmoid); the code it compiles is correct.
warnings.filterwarnings("ignore", category=NumbaIRAssumptionWarning)

FASTMATH = {"reassoc", "contract", "arcp"}

KERNELS_DIR = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def sources_digest(directory):
    """SHA-256 over the names and contents of the Numba kernel modules (``_numba*.py``) in ``directory``, read once
    per process."""
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(directory, "_numba*.py"))):
        digest.update(os.path.basename(path).encode())
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def _install_cache_stamp():
    """Make Numba's disk cache of ember's kernels depend on all the kernel modules.

    Numba stamps a cached kernel with its own file's content only, so after an edit to a helper it inlines from
    another file (``_numba_math.py``'s exp, say) the stale machine code kept loading.  For functions defined in
    ``KERNELS_DIR``, each of Numba's file-backed locators (``NUMBA_CACHE_DIR``, the module's ``__pycache__``, the
    user-wide cache) is put in front by a subclass whose stamp adds the digest of every kernel module.
    """
    def kernel_locator(base):
        class KernelCacheLocator(base):
            @classmethod
            def from_function(cls, py_func, py_file):
                if os.path.dirname(os.path.abspath(py_file)) != KERNELS_DIR:
                    return None
                return super().from_function(py_func, py_file)

            def get_source_stamp(self):
                return super().get_source_stamp(), sources_digest(KERNELS_DIR)
        KernelCacheLocator.__name__ = KernelCacheLocator.__qualname__ = f"Kernel{base.__name__}"
        return KernelCacheLocator

    bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator)
    caching.CacheImpl._locator_classes[:0] = [kernel_locator(base) for base in bases]


_install_cache_stamp()

jit = numba.njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
_parallel_jit = numba.njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy", parallel=True)
# scalar helpers called from kernels: inlined into the caller's loop (a call the vectoriser cannot see
# through, with its error-status return, keeps the loop scalar)
inline = numba.njit(inline="always", nogil=True, fastmath=FASTMATH, error_model="numpy")


def threads():
    """How many threads a parallel kernel may use (Numba's current setting).  Once Numba's pool is started, its
    setting is read directly: ``numba.get_num_threads`` takes its start-up locks on every call (1.5 us, 0.25 this
    way)."""
    if _parallel._is_initialized:
        return _parallel._get_num_threads()
    return numba.get_num_threads()


def chunks(n, per):
    """The number of chunks to split ``n`` independent rows into: 1 below ``2 * per`` rows, else one per row block
    of ``per`` up to the thread count.  It depends on the sizes and the thread setting only, never on how busy the
    cores are: where chunks' partial results meet (sums, products split by rows) the order of the additions
    follows the chunks, and a result must not change with the machine's load.  A kernel that finds the cores busy
    runs its chunks one after another instead (``Parallel``)."""
    k = n // per
    if k < 2:   # before reading the thread count: small kernels run often
        return 1
    return min(threads(), k)


def row_chunks(rows, row_size, elements):
    """``chunks`` of ``rows`` rows of ``row_size`` elements each, a chunk holding at least ``elements`` elements.

    With the pool's threads waiting awake between regions (``_dispatch._openmp_wait``) a region of two chunks costs
    about 4-5 us more than its work (two-chunk against one-chunk kernels of 8K-512K float32 elements, minimum of
    alternating runs of each kernel), so a kernel is split where each chunk holds some 10-15 us of one thread's
    work: ``elements`` is set per kernel from its cost per element (a sleeping pool's wake-up, 25 us and more, had
    needed 30-60 us)."""
    return chunks(rows, max(1, elements // max(1, row_size)))


class Parallel:
    """A ``parallel=True`` kernel whose argument ``nch`` is its number of chunks (``prange(nch)``).

    One chunk runs a serial compilation of the same function (``prange`` is ``range`` there) on the calling
    thread: a parallel region of one chunk still waits on every pool thread (on a machine whose cores are
    busy a descheduled pool thread made a 60 us kernel take 1-14 ms, measured on 2 loaded cores), and
    limiting the pool around the call cost 4-10 us per call.  Several chunks run as a timed parallel region
    (``account_region``, from the calling thread's CPU time: 2-3 us, where reading every thread's clock as
    ``timed_parallel`` does took 13 us with torch's and OpenBLAS's idle threads in the process): a region that got
    little CPU time sends the next ones to the serial compilation for a while, which runs the same chunks one after
    another (same results).  ``meets``: the chunks wait for each other inside the kernel (a barrier), so they
    cannot run one after another; the caller chooses one chunk while the cores are busy.
    """

    def __init__(self, fn, meets=False):
        self.meets = meets
        # Numba's disk cache keys an entry by the function's name, bytecode and signature, not by ``parallel=``: one
        # function compiled both ways shares one entry, and whichever compilation was saved first is loaded for both
        # (a softmax whose two chunks ran on one thread, a one-chunk call that woke the pool).  Each compilation
        # therefore gets a copy of the function named for it, so each is cached under its own name.
        self.kernel = _parallel_jit(_renamed(fn, "parallel"))
        self.serial = jit(_renamed(fn, "serial"))   # compiled (and cached) on its first call, like the parallel one
        self._nch = list(inspect.signature(fn).parameters).index("nch")
        self.__doc__, self.__name__ = fn.__doc__, fn.__name__

    def __call__(self, *args):
        if args[self._nch] == 1 or not (self.meets or parallel_ok()):
            return self.serial(*args)
        wall, cpu = perf_counter(), thread_time()
        result = self.kernel(*args)
        account_region(perf_counter() - wall, thread_time() - cpu)
        return result


def _renamed(fn, suffix):
    """A copy of the function ``fn`` (same code, globals and closure) whose qualified name ends in ``.suffix``."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = f"{fn.__qualname__}.{suffix}"
    copy.__module__, copy.__doc__ = fn.__module__, fn.__doc__
    return copy


pjit = Parallel


def meeting_pjit(fn):
    """``pjit`` for a kernel whose chunks meet at a barrier (``Parallel``'s ``meets``)."""
    return Parallel(fn, meets=True)
