"""Polynomials: the Vandermonde matrix ``vander`` (composed from ember ops, so it is differentiable) and the
orthogonal polynomial families of ``torch.special`` (Chebyshev T/U/V/W and their shifted forms, Hermite,
Laguerre, Legendre), evaluated by their three-term recurrences."""
from .. import _dtype
from ._common import array_module, Tensor, function, _make, ignore_fp_errors
from .cumulative import cumprod
from .joining import cat


@function
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D tensor ``x``: column ``j`` holds ``x ** (N - 1 - j)`` (``x ** j``
    when ``increasing``); ``N`` defaults to ``len(x)``.  Bool inputs count as integers."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x.dtype.name == "bool":
        x = x.long()
    if n == 0:
        return x.new_empty((x.shape[0], 0))
    ones = x.new_ones((x.shape[0], 1))
    powers = cumprod(cat([ones, x.unsqueeze(1).expand(-1, n - 1)], 1), 1) if n > 1 else ones
    return powers if increasing else powers.flip(1)


# ---------------------------------------------------------------------------- orthogonal polynomial families
def _operands(x, n):
    """(xp, x array, integer degree array, result dtype) with both broadcast; x promoted to floating."""
    ref = x if isinstance(x, Tensor) else n
    xp = array_module(ref)
    dt = _dtype.result_type(x, n) if isinstance(x, Tensor) and isinstance(n, Tensor) else \
        (x.dtype if isinstance(x, Tensor) else _dtype.get_default_dtype())
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
    xa = x._data if isinstance(x, Tensor) else xp.asarray(x)
    na = n._data if isinstance(n, Tensor) else xp.asarray(n)
    xa, na = xp.broadcast_arrays(xa.astype(dt.np), xp.trunc(na).astype("int64"))
    return xp, xa, na, dt


def _by_recurrence(x, n, first, step):
    """P_n(x) from ``P_0 = 1``, ``P_1 = first(x)`` and ``P_{k+1} = step(k, x, P_{k-1}, P_k)``, per element's own
    degree (0 for negative degrees).  No gradient, as in PyTorch."""
    xp, xa, na, dt = _operands(x, n)
    prev = xp.ones_like(xa)
    out = xp.where(na == 0, prev, 0).astype(dt.np)
    top = int(na.max()) if na.size else 0
    if top >= 1:
        cur = first(xa)
        out = xp.where(na == 1, cur, out)
        with ignore_fp_errors(_make(xa)):
            for k in range(1, top):
                prev, cur = cur, step(k, xa, prev, cur)
                out = xp.where(na == k + 1, cur, out)
    return _make(xp.asarray(out, dtype=dt.np))


def _three_term(first):
    """The Chebyshev-type recurrence ``P_{k+1} = 2 x P_k - P_{k-1}`` with the family's ``P_1``."""
    return lambda x, n: _by_recurrence(x, n, first, lambda k, t, p, c: 2 * t * c - p)


_chebyshev = {"t": lambda t: t, "u": lambda t: 2 * t, "v": lambda t: 2 * t - 1, "w": lambda t: 2 * t + 1}


def chebyshev_polynomial_t(input, n, *, out=None):
    """Chebyshev polynomial of the first kind T_n(input)."""
    return _three_term(_chebyshev["t"])(input, n)


def chebyshev_polynomial_u(input, n, *, out=None):
    """Chebyshev polynomial of the second kind U_n(input)."""
    return _three_term(_chebyshev["u"])(input, n)


def chebyshev_polynomial_v(input, n, *, out=None):
    """Chebyshev polynomial of the third kind V_n(input)."""
    return _three_term(_chebyshev["v"])(input, n)


def chebyshev_polynomial_w(input, n, *, out=None):
    """Chebyshev polynomial of the fourth kind W_n(input)."""
    return _three_term(_chebyshev["w"])(input, n)


def _shifted(kind, input, n):
    """The Chebyshev polynomial of ``kind`` at ``2 input - 1`` (the family on [0, 1])."""
    return _three_term(_chebyshev[kind])(input * 2 - 1 if isinstance(input, Tensor) else 2 * input - 1, n)


def shifted_chebyshev_polynomial_t(input, n, *, out=None):
    """T*_n(input) = T_n(2 input - 1)."""
    return _shifted("t", input, n)


def shifted_chebyshev_polynomial_u(input, n, *, out=None):
    """U*_n(input) = U_n(2 input - 1)."""
    return _shifted("u", input, n)


def shifted_chebyshev_polynomial_v(input, n, *, out=None):
    """V*_n(input) = V_n(2 input - 1)."""
    return _shifted("v", input, n)


def shifted_chebyshev_polynomial_w(input, n, *, out=None):
    """W*_n(input) = W_n(2 input - 1)."""
    return _shifted("w", input, n)


def hermite_polynomial_h(input, n, *, out=None):
    """Physicists' Hermite polynomial H_n(input)."""
    return _by_recurrence(input, n, lambda t: 2 * t, lambda k, t, p, c: 2 * t * c - 2 * k * p)


def hermite_polynomial_he(input, n, *, out=None):
    """Probabilists' Hermite polynomial He_n(input)."""
    return _by_recurrence(input, n, lambda t: t, lambda k, t, p, c: t * c - k * p)


def laguerre_polynomial_l(input, n, *, out=None):
    """Laguerre polynomial L_n(input)."""
    return _by_recurrence(input, n, lambda t: 1 - t, lambda k, t, p, c: ((2 * k + 1 - t) * c - k * p) / (k + 1))


def legendre_polynomial_p(input, n, *, out=None):
    """Legendre polynomial P_n(input)."""
    return _by_recurrence(input, n, lambda t: t, lambda k, t, p, c: ((2 * k + 1) * t * c - k * p) / (k + 1))
