"""The Mersenne Twister's bit stream, generated on the engine's own state: the kernel behind
``_mt19937.MT19937`` for large draws.

The state is NumPy's ``mt19937_state`` seen as 625 uint32 words: the 624-word key, then the position of the
next word (624: regenerate first).  ``mt_words`` advances it in place exactly as NumPy's ``mt19937_next``
does, so NumPy's generator and this kernel can take turns on one stream.
"""
import numpy as np

from ._dispatch import Kernel

N, M = 624, 397
_UPPER, _LOWER, _MATRIX_A = np.uint32(0x80000000), np.uint32(0x7FFFFFFF), np.uint32(0x9908B0DF)


def temper(words):
    """MT19937's output function applied to raw state words (uint32 array -> uint32 array)."""
    y = words.astype(np.uint32)
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    return y


def _twist(key):
    """Regenerate the 624-word ``key`` in place (MT19937's ``gen``), in runs of 227 words: each run reads
    only words that earlier runs (or none) have already rewritten."""
    for a, b in ((0, N - M), (N - M, 2 * (N - M)), (2 * (N - M), N - 1)):
        y = (key[a:b] & _UPPER) | (key[a + 1:b + 1] & _LOWER)
        src = key[a + M:b + M] if a == 0 else key[a + M - N:b + M - N]
        key[a:b] = src ^ (y >> np.uint32(1)) ^ ((y & np.uint32(1)) * _MATRIX_A)
    y = (key[N - 1] & _UPPER) | (key[0] & _LOWER)
    key[N - 1] = key[M - 1] ^ (y >> np.uint32(1)) ^ ((y & np.uint32(1)) * _MATRIX_A)


def mt_words_reference(state, n):
    """The next ``n`` outputs (uint32 array) of the MT19937 ``state`` (uint32[625], see the module
    docstring), which it advances in place."""
    key, pos = state[:N], int(state[N])
    out = np.empty(n, np.uint32)
    i = 0
    while i < n:
        if pos == N:
            _twist(key)
            pos = 0
        k = min(N - pos, n - i)
        out[i:i + k] = temper(key[pos:pos + k])
        i, pos = i + k, pos + k
    state[N] = pos
    return out


mt_words = Kernel("mt_words", mt_words_reference, numba="ember.kernels._numba_mt19937:mt_words",
                  accepts=lambda state, n: True)
