"""Numba's disk cache of ember's kernels (kernels/_numba.py): a cached kernel is recompiled when a helper it
inlines from another kernel module changes, not only when its own file does."""
import subprocess
import sys
import textwrap

import pytest

from ember.kernels import numba_enabled

pytestmark = pytest.mark.skipif(not numba_enabled(), reason="Numba disabled: nothing is compiled or cached")

_HELPER = '''
from ember.kernels._numba import inline


@inline
def constant():
    return {value}
'''

_KERNEL = '''
from ember.kernels._numba import jit
from _numba_helper import constant


@jit
def kernel(x):
    return x + constant()
'''

# Run in a fresh process: the kernel modules in ``directory`` stand in for ember's kernel directory.
_RUN = '''
import sys
from ember.kernels import _numba
_numba.KERNELS_DIR = sys.argv[1]
sys.path.insert(0, sys.argv[1])
from _numba_kernel import kernel
print(kernel(1.0), sum(kernel.stats.cache_hits.values()))
'''


def _run(directory):
    out = subprocess.run([sys.executable, "-c", _RUN, str(directory)], capture_output=True, text=True, check=True)
    value, hits = out.stdout.split()
    return float(value), int(hits)


def test_editing_an_inlined_helper_recompiles_the_cached_kernel(tmp_path):
    (tmp_path / "_numba_kernel.py").write_text(textwrap.dedent(_KERNEL))
    (tmp_path / "_numba_helper.py").write_text(_HELPER.format(value=1.0))
    assert _run(tmp_path) == (2.0, 0)     # compiled and saved
    assert _run(tmp_path) == (2.0, 1)     # loaded from the cache
    (tmp_path / "_numba_helper.py").write_text(_HELPER.format(value=5.0))
    assert _run(tmp_path)[0] == 6.0       # the kernel's own file is unchanged: only the kernel stamp sees the edit


def test_digest_covers_every_kernel_module(tmp_path):
    from ember.kernels._numba import sources_digest
    (tmp_path / "_numba_a.py").write_text("x = 1\n")
    first = sources_digest(str(tmp_path))
    (tmp_path / "_numba_b.py").write_text("y = 2\n")
    sources_digest.cache_clear()
    assert sources_digest(str(tmp_path)) != first
