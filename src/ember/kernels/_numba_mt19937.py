"""Numba CPU implementation of ``kernels/mt19937.py``."""
import numba
import numpy as np

from .mt19937 import _LOWER, _MATRIX_A, _UPPER, M, N


@numba.njit(inline="always")
def _mix(k0, k1, far):
    y = (k0 & _UPPER) | (k1 & _LOWER)
    return far ^ (y >> np.uint32(1)) ^ ((y & np.uint32(1)) * _MATRIX_A)


@numba.njit(cache=True, nogil=True)
def _words(state, out):
    pos = np.int64(state[N])
    i = 0
    n = out.size
    while i < n:
        if pos == N:
            for j in range(N - M):
                state[j] = _mix(state[j], state[j + 1], state[j + M])
            for j in range(N - M, N - 1):
                state[j] = _mix(state[j], state[j + 1], state[j + M - N])
            state[N - 1] = _mix(state[N - 1], state[0], state[M - 1])
            pos = 0
        k = min(N - pos, n - i)
        for j in range(k):
            y = state[pos + j]
            y ^= y >> np.uint32(11)
            y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
            y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
            y ^= y >> np.uint32(18)
            out[i + j] = y
        i += k
        pos += k
    state[N] = np.uint32(pos)


def mt_words(state, n):
    """See ``mt19937.mt_words_reference``."""
    out = np.empty(n, np.uint32)
    _words(state, out)
    return out
