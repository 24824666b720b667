"""``torch.quasirandom``: Sobol low-discrepancy sequences.

The engine keeps its state as int64 tensors on the CPU, as PyTorch does, and draws points with NumPy's bitwise
operations (like ``ember.random``, this module produces numbers rather than composing ops). The direction numbers
are Joe and Kuo's table (search criterion D(6), 21201 dimensions), stored beside this file as
``sobol_direction_numbers.npz`` (``poly``: the primitive polynomials, ``vinit``: the first 18 direction numbers
of each dimension) and read on first use.
"""
import functools
import os

import numpy as np

from . import _dtype
from ._tensor import _make
from .ops.joining import cat
from .ops.random import randint
from .random import Generator

__all__ = ["SobolEngine"]

_TABLE = os.path.join(os.path.dirname(__file__), "sobol_direction_numbers.npz")


@functools.lru_cache(maxsize=1)
def _direction_table():
    """``(poly, vinit)`` of the Joe-Kuo table as int64 arrays of shapes ``(21201,)`` and ``(21201, 18)``."""
    with np.load(_TABLE) as table:
        return table["poly"].astype(np.int64), table["vinit"].astype(np.int64)


def _initial_state(dimension, maxbit):
    """The ``(dimension, maxbit)`` direction numbers, column ``j`` scaled to bit ``maxbit - 1 - j``.

    Dimension 0 is the van der Corput sequence (every number 1). Dimension ``d`` starts from the table's first
    ``s`` numbers (``s`` the degree of its polynomial) and continues with Bratley and Fox's recurrence
    ``m_j = m_{j-s} ^ (2^s m_{j-s}) ^ XOR_k (a_k 2^k m_{j-k})``, run here for all dimensions of one degree at once.
    """
    poly, vinit = _direction_table()
    state = np.zeros((dimension, maxbit), np.int64)
    state[0] = 1
    poly = poly[:dimension]
    degree = np.array([int(p).bit_length() - 1 for p in poly])
    for s in range(1, int(degree.max(initial=0)) + 1):
        rows = np.flatnonzero(degree == s)
        rows = rows[rows > 0]
        if rows.size == 0:
            continue
        m = state[rows]
        m[:, :s] = vinit[rows, :s]
        # bit s-1-k of the polynomial is the coefficient of m_{j-k-1}, shifted left k+1 places
        coeff = (poly[rows, None] >> (s - 1 - np.arange(s))) & 1
        for j in range(s, maxbit):
            new = m[:, j - s].copy()
            for k in range(s):
                new ^= coeff[:, k] * (m[:, j - k - 1] << (k + 1))
            m[:, j] = new
        state[rows] = m
    return state << (maxbit - 1 - np.arange(maxbit))


def _rightmost_zero(counts):
    """Index of the lowest zero bit of each non-negative int64 in ``counts``."""
    lowest = ~counts & (counts + 1)          # a power of two: the lowest zero bit set alone
    return np.frexp(lowest.astype(np.float64))[1] - 1


class SobolEngine:
    r"""An engine drawing (optionally scrambled) Sobol sequences, as ``torch.quasirandom.SobolEngine``.

    Args:
        dimension (int): the dimension of each point, 1 to ``MAXDIM`` (21201).
        scramble (bool): Owen-style scrambling: a random lower-triangular binary matrix per dimension
            multiplies the direction numbers, and a random digital shift starts the sequence. Default: False.
        seed (int, optional): seed of the scrambling's own generator; None draws from the default generator.

    Attributes: ``sobolstate`` (int64 ``(dimension, MAXBIT)`` direction numbers), ``shift`` and ``quasi``
    (int64 ``(dimension,)``: the start and the current point as integers over ``2**MAXBIT``),
    ``num_generated``, ``dimension``, ``scramble``, ``seed``.
    """

    MAXBIT = 30
    MAXDIM = 21201

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = _make(_initial_state(dimension, self.MAXBIT))
        if not self.scramble:
            self.shift = _make(np.zeros(dimension, np.int64))
        else:
            self._scramble()
        self.quasi = self.shift.clone()
        # PyTorch divides the int64 start by 2**MAXBIT: the default float dtype of now, whatever dtype draws later
        self._first_point = (self.quasi / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def _scramble(self):
        """Draw the digital shift and scramble ``sobolstate`` with random lower-triangular bit matrices."""
        generator = None
        if self.seed is not None:
            generator = Generator()
            generator.manual_seed(self.seed)
        bits = np.arange(self.MAXBIT)
        shift_bits = randint(2, (self.dimension, self.MAXBIT), generator=generator)._data
        self.shift = _make(shift_bits @ (np.int64(1) << bits))
        lower = np.tril(randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=generator)._data)
        lower[:, bits, bits] = 1
        # row p of a matrix acts on bit MAXBIT-1-k of a direction number through its entry k; the parity of
        # that product gives bit MAXBIT-1-p of the scrambled number (a float32 product: sums of at most 30 ones)
        state = self.sobolstate._data
        state_bits = ((state[:, :, None] >> bits[::-1]) & 1).astype(np.float32)       # (dim, j, k)
        parity = (state_bits @ lower.transpose(0, 2, 1).astype(np.float32)).astype(np.int64) & 1   # (dim, j, p)
        self.sobolstate = _make(parity @ (np.int64(1) << bits[::-1]))

    def _advance(self, n, start):
        """The ``n`` points after ``quasi``: XORs of direction columns in Gray-code order from point ``start``."""
        columns = self.sobolstate._data.T[_rightmost_zero(np.arange(start, start + n, dtype=np.int64))]
        return np.bitwise_xor.accumulate(columns, axis=0) ^ self.quasi._data

    def _draw_after(self, n, start, dtype):
        if dtype not in (_dtype.float32, _dtype.float64):
            raise NotImplementedError(f"\"_sobol_engine_draw\" not implemented for '{_dtype.scalar_name(dtype)}'")
        points = self._advance(n, start)
        if n > 0:
            self.quasi = _make(points[-1].copy())    # a new tensor, as PyTorch's draw returns
        return _make((points * (1.0 / 2 ** self.MAXBIT)).astype(dtype.np))

    def draw(self, n=1, out=None, dtype=None):
        """Draw the next ``n`` points: a ``(n, dimension)`` tensor of ``dtype`` (default: the default dtype).

        Args:
            n (int): how many points. Default: 1.
            out (Tensor, optional): resized to the result and written.
            dtype (ember.dtype, optional): float32 or float64.
        """
        if dtype is None:
            dtype = _dtype.get_default_dtype()
        if self.num_generated == 0:
            if n == 1:
                result = self._first_point.to(dtype)
            else:
                result = cat((self._first_point.to(dtype), self._draw_after(n - 1, 0, dtype)), dim=-2)
        else:
            result = self._draw_after(n, self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        """Draw the next ``2**m`` points; the total drawn must stay a power of two (Sobol's balance property).

        Args:
            m (int): the base-2 exponent of the number of points.
            out (Tensor, optional): resized to the result and written.
            dtype (ember.dtype, optional): float32 or float64.
        """
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError("The balance properties of Sobol' points require n to be a power of 2. "
                             f"{self.num_generated} points have been previously generated, then: "
                             f"n={self.num_generated}+2**{m}={total_n}. If you still want to do this, please use "
                             "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Return to the first point; returns ``self``."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip ``n`` points, as drawing them would; returns ``self``."""
        points = self._advance(n - 1, 0) if self.num_generated == 0 else self._advance(n, self.num_generated - 1)
        if len(points):
            self.quasi._data[...] = points[-1]       # in place, as PyTorch's fast-forward
        self.num_generated += n
        return self

    def __repr__(self):
        fields = [f"dimension={self.dimension}"]
        if self.scramble:
            fields.append("scramble=True")
        if self.seed is not None:
            fields.append(f"seed={self.seed}")
        return f"{type(self).__name__}({', '.join(fields)})"
