"""PyTorch's CPU random engine: the 32-bit Mersenne Twister MT19937.

PyTorch seeds it with Matsumoto and Nishimura's ``init_genrand`` on the low 32 bits of the seed and reads it
32 bits at a time (``random()``) or two words at a time, the first as the high half (``random64()``).  The
bit stream itself comes from NumPy's MT19937 (the same algorithm, in C); this class adds PyTorch's seeding
and its view of the state: the 624-word key plus the counters ``left`` and ``next`` that
``torch.get_rng_state()`` stores.
"""
import ctypes

import numpy

from .kernels.mt19937 import mt_words, temper

N = 624                       # words of state
_SMALL = 512                  # below this many words, ``random_raw`` is cheaper than ``integers``
_AHEAD = 128                  # words tempered ahead for a run of small draws (``u32_list``)


class MT19937:
    """A Mersenne Twister with PyTorch's seeding and state counters.

    Args:
        seed: the 64-bit seed; the engine uses its low 32 bits, ``seed`` reports it whole.
    """

    __slots__ = ("seed", "_bits", "_integers", "_raw", "_state", "_next_at_end", "_pending", "_ahead", "_ahead_at",
                 "_small", "_shared")

    def __init__(self, seed):
        self._bits = numpy.random.MT19937(0)
        self._integers = numpy.random.Generator(self._bits).integers
        # NumPy's mt19937_state (key[624], then int pos) as 625 uint32 words: ``_raw`` (ctypes: Python ints,
        # cheap one at a time) and ``_state`` (NumPy, for the mt_words kernel)
        self._raw = (ctypes.c_uint32 * (N + 1)).from_address(self._bits.ctypes.state_address)
        self._state = numpy.ctypeslib.as_array(self._raw)
        # Look-ahead of small draws: ``_ahead`` holds the outputs at positions ``_ahead_at ..`` of the current key
        # (drawn, then the position put back).  It stays right until the key regenerates, which only a draw
        # past the key's end does: every other draw path and every state change drops it.  ``_small``: the last
        # draw was a small one (a run of them pays for a look-ahead); ``_shared``: a NumPy generator handed out
        # may draw unseen, so no look-ahead any more.
        self._shared = False
        self.reseed(seed)

    def _drop_ahead(self):
        self._ahead = None
        self._small = False

    def reseed(self, seed):
        """Restart from ``seed`` (an int in [0, 2**64)), as PyTorch's ``mt19937(seed)``."""
        self.seed = seed
        self._bits._legacy_seeding(seed & 0xFFFFFFFF)   # init_genrand, the key PyTorch builds
        self._next_at_end = 0    # torch's ``next`` while NumPy waits to regenerate (0 after seeding)
        self._pending = None     # (key, next, left) of a loaded state NumPy's counter cannot express
        self._drop_ahead()

    def u32(self, n):
        """The next ``n`` 32-bit outputs, in order (uint32 array)."""
        self._drop_ahead()
        if self._pending is not None:
            head = self._drain_pending(n)
            if len(head) == n:
                return head
            return numpy.concatenate([head, self.u32(n - len(head))])
        if n == 0:
            return numpy.empty(0, numpy.uint32)
        self._next_at_end = N
        if n < _SMALL:
            return self._bits.random_raw(n).astype(numpy.uint32)
        if mt_words.implementation(self._state) is mt_words.reference:   # NumPy's C loop beats the reference
            return self._integers(0, 0x1_0000_0000, size=n, dtype=numpy.uint32)
        return mt_words(self._state, n)

    def u32_list(self, n):
        """``u32(n)`` as a list of Python ints: for a few words, cheaper than an array."""
        raw = self._raw
        pos = raw[N]
        ahead = self._ahead
        if ahead is not None:
            i = pos - self._ahead_at
            if i + n <= len(ahead):
                raw[N] = pos + n
                self._next_at_end = N
                return ahead[i:i + n]
        if self._pending is not None or n == 0 or self._shared:
            return self.u32(n).tolist()
        if self._small and pos + n < N:   # a run of small draws: take the next words of this key ahead
            ahead = self._bits.random_raw(max(n, min(_AHEAD, N - pos))).tolist()
            raw[N] = pos + n
            self._ahead, self._ahead_at = ahead, pos
            self._next_at_end = N
            return ahead[:n]
        self._ahead = None
        self._small = True
        self._next_at_end = N
        return self._bits.random_raw(n).tolist()

    def u64(self, n):
        """The next ``n`` 64-bit outputs, each two 32-bit words with the first as the high half."""
        w = self.u32(2 * n).astype(numpy.uint64).reshape(n, 2)
        return (w[:, 0] << numpy.uint64(32)) | w[:, 1]

    def get(self):
        """PyTorch's view of the state: ``(key, left, next)`` with ``key`` a uint32 array of 624 words."""
        if self._pending is not None:
            key, nxt, left = self._pending
            return key.copy(), left, nxt
        st = self._bits.state["state"]
        pos = int(st["pos"])
        if pos >= N:
            return st["key"].astype(numpy.uint32), 1, self._next_at_end
        return st["key"].astype(numpy.uint32), N + 1 - pos, pos

    def set(self, key, left, nxt):
        """Load PyTorch's view of the state (no validity checks: see ``valid``)."""
        key = numpy.asarray(key, dtype=numpy.uint32).copy()
        self._pending = None
        self._drop_ahead()
        if left + nxt == N + 1:          # the consistent case: NumPy's counter says the same
            self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": nxt}}
        else:                            # PyTorch reads key[next:next+left-1], then regenerates
            self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": N}}
            if left > 1:
                self._pending = (key, nxt, left)
        self._next_at_end = nxt if left == 1 else N

    @staticmethod
    def valid(left, nxt):
        """Whether PyTorch accepts the counters ``left``/``next`` of a loaded state."""
        return 0 < left <= N and 0 <= nxt <= N

    def copy(self):
        """An independent engine in the same state."""
        twin = MT19937(self.seed)
        twin._bits.state = self._bits.state
        twin._next_at_end = self._next_at_end
        twin._pending = self._pending and (self._pending[0].copy(),) + self._pending[1:]
        return twin

    def numpy_generator(self):
        """A ``numpy.random.Generator`` drawing from this engine's stream (for samplers without a PyTorch
        twin); settles a loaded irregular state first, so the stream stays one stream."""
        if self._pending is not None:
            self.u32(self._pending[2] - 1)
        self._next_at_end = N
        self._drop_ahead()
        self._shared = True
        return numpy.random.Generator(self._bits)

    def numpy_sample(self, method, *args):
        """``numpy.random.Generator(<this stream>).<method>(*args)``: a NumPy sampler drawn at once from this
        engine's stream (unlike ``numpy_generator``, this keeps small draws' look-ahead possible)."""
        if self._pending is not None:
            self.u32(self._pending[2] - 1)
        self._next_at_end = N
        self._drop_ahead()
        return getattr(numpy.random.Generator(self._bits), method)(*args)

    def _drain_pending(self, n):
        key, nxt, left = self._pending
        k = min(n, left - 1, N - nxt)
        out = temper(key[nxt:nxt + k])
        nxt, left = nxt + k, left - k
        if left == 1 or nxt >= N:
            self._pending = None
            self._next_at_end = nxt
        else:
            self._pending = (key, nxt, left)
        return out
