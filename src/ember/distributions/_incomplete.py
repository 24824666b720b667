"""Regularized incomplete gamma and beta functions, with their derivative in the first shape parameter.

``Gamma.cdf`` needs P(a, x); the implicit reparameterization gradients of Gamma, Beta and
Dirichlet samples need dP/da and dI_x(a, b)/da (``dx/da = -(dF/da) / pdf(x)`` at a fixed CDF level).
Both come from one pass of the classic expansions (power series, Lentz continued fraction) run in
forward mode on ``_Dual`` numbers, vectorized over tensors and computed in float64 without grad.
"""
import ember

_TINY = 1e-150  # its square must stay a normal float64 (derivatives divide by it)
_EPS = 1e-15
_MAX_ITER = 2000
_CHECK_EVERY = 8  # read convergence back (a host sync) only every few iterations


class _Dual:
    """A value and its derivative along one direction (forward-mode), both tensors."""

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v, self.d = v, d

    def __add__(self, o):
        return _Dual(self.v + o.v, self.d + o.d) if isinstance(o, _Dual) else _Dual(self.v + o, self.d)

    __radd__ = __add__

    def __sub__(self, o):
        return _Dual(self.v - o.v, self.d - o.d) if isinstance(o, _Dual) else _Dual(self.v - o, self.d)

    def __rsub__(self, o):
        return _Dual(o - self.v, -self.d)

    def __neg__(self):
        return _Dual(-self.v, -self.d)

    def __mul__(self, o):
        if isinstance(o, _Dual):
            return _Dual(self.v * o.v, self.d * o.v + self.v * o.d)
        return _Dual(self.v * o, self.d * o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, _Dual):
            return _Dual(self.v / o.v, (self.d * o.v - self.v * o.d) / (o.v * o.v))
        return _Dual(self.v / o, self.d / o)

    def __rtruediv__(self, o):
        return _Dual(o / self.v, -o * self.d / (self.v * self.v))

    def exp(self):
        e = self.v.exp()
        return _Dual(e, e * self.d)

    def lgamma(self):
        return _Dual(ember.lgamma(self.v), ember.digamma(self.v) * self.d)


def _guard_small(x):
    """Keep a Lentz denominator away from zero (its sign is irrelevant at that size)."""
    return ember.where(x.v.abs() < _TINY, ember.full_like(x.v, _TINY), x.v), x.d


def _lentz(first_b, terms):
    """Evaluate ``1 / (b0 + a1 / (b1 + a2 / (b2 + ...)))`` by the modified Lentz method.

    Args:
        first_b (_Dual): b0.
        terms (callable): ``i -> (a_i, b_i)`` as _Duals or numbers, for i = 1, 2, ...

    Returns:
        _Dual: the value of the continued fraction (the reciprocal of the nested denominator).
    """
    v, dv = _guard_small(first_b)
    d = 1 / _Dual(v, dv)
    c = _Dual(ember.full_like(v, 1 / _TINY), ember.zeros_like(v))
    h = d
    for i in range(1, _MAX_ITER):
        a_i, b_i = terms(i)
        d = 1 / _Dual(*_guard_small(a_i * d + b_i))
        c = _Dual(*_guard_small(b_i + a_i / c))
        delta = d * c
        h = h * delta
        if i % _CHECK_EVERY == 0 and not bool(((delta.v - 1).abs() > _EPS).any()):
            break
    return h


def _power_series(first_term, ratio):
    """``sum_n t_n`` with ``t_0 = first_term`` and ``t_n = t_{n-1} * ratio(n)``, until terms are negligible."""
    term, total = first_term, first_term
    for n in range(1, _MAX_ITER):
        term = term * ratio(n)
        total = total + term
        if n % _CHECK_EVERY == 0 and not bool((term.v.abs() > _EPS * total.v.abs()).any()):
            break
    return total


def gammainc_and_dalpha(alpha, x):
    """P(alpha, x) (regularized lower incomplete gamma) and its derivative in ``alpha``.

    Args:
        alpha (Tensor): positive shape parameters.
        x (Tensor): nonnegative points (broadcast with ``alpha``).

    Returns:
        (Tensor, Tensor): P and dP/dalpha in float64.
    """
    with ember.no_grad():
        alpha, x = (t.detach().double() for t in ember.broadcast_tensors(alpha, x))
        use_series = x < alpha + 1
        xs = x.clamp(min=_TINY)
        # each expansion runs on every element; the points the other one handles get harmless stand-ins
        ones = ember.ones_like(alpha)
        a_s = _Dual(ember.where(use_series, alpha, ones), ones)
        x_s = ember.where(use_series, xs, 0.5 * ones)
        # series: P = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n))
        series = _power_series(_Dual(ones, ember.zeros_like(x)), lambda n: 1 / (a_s + n) * x_s)
        p_series = (a_s * x_s.log() - x_s - (a_s + 1).lgamma()).exp() * series
        # continued fraction for Q = 1 - P: x^a e^-x / Gamma(a) / (x+1-a - 1(1-a)/(x+3-a - 2(2-a)/(...)))
        a_c = _Dual(ember.where(use_series, ones, alpha), ones)
        x_c = ember.where(use_series, 3 * ones, xs)
        cf = _lentz(-a_c + (x_c + 1), lambda i: (-i * (i - a_c), -a_c + (x_c + 2 * i + 1)))
        q_cf = (a_c * x_c.log() - x_c - a_c.lgamma()).exp() * cf
        p = ember.where(use_series, p_series.v, 1 - q_cf.v)
        dp = ember.where(use_series, p_series.d, -q_cf.d)
        p = ember.where(x <= 0, ember.zeros_like(p), p)
        dp = ember.where(x <= 0, ember.zeros_like(dp), dp)
    return p, dp


def _betainc_cf(a, b, x):
    """I_x(a, b) by its continued fraction (accurate for ``x < (a + 1) / (a + b + 2)``); _Dual a, b."""
    def terms(i):
        m = i // 2
        if i % 2:
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        return num, 1.0
    one = _Dual(ember.ones_like(x), ember.zeros_like(x))
    log_front = a * x.log() + b * (1 - x).log() + (a + b).lgamma() - a.lgamma() - b.lgamma()
    return log_front.exp() / a * _lentz(one, terms)


def betainc_and_da(a, b, x):
    """I_x(a, b) (regularized incomplete beta) and its derivative in ``a`` (``b`` held fixed).

    Args:
        a, b (Tensor): positive shape parameters.
        x (Tensor): points in [0, 1] (all three broadcast).

    Returns:
        (Tensor, Tensor): I and dI/da in float64.
    """
    with ember.no_grad():
        a, b, x = (t.detach().double() for t in ember.broadcast_tensors(a, b, x))
        flip = x > (a + 1) / (a + b + 2)  # use I_x(a, b) = 1 - I_{1-x}(b, a) where the direct fraction is slow
        xs = ember.where(flip, 1 - x, x).clamp(min=_TINY, max=1 - 1e-16)
        one, zero = ember.ones_like(a), ember.zeros_like(a)
        first = _Dual(ember.where(flip, b, a), ember.where(flip, zero, one))
        second = _Dual(ember.where(flip, a, b), ember.where(flip, one, zero))
        i = _betainc_cf(first, second, xs)
        value = ember.where(flip, 1 - i.v, i.v)
        deriv = ember.where(flip, -i.d, i.d)
        value = ember.where(x <= 0, zero, ember.where(x >= 1, one, value))
        deriv = ember.where((x <= 0) | (x >= 1), zero, deriv)
    return value, deriv


def standard_gamma_grad(x, alpha):
    """``dx/dalpha`` of a standard Gamma(alpha) sample ``x`` at a fixed CDF level (float64)."""
    _, dp = gammainc_and_dalpha(alpha, x)
    with ember.no_grad():
        x, alpha = (t.double() for t in ember.broadcast_tensors(x, alpha))
        log_pdf = (alpha - 1) * x.log() - x - ember.lgamma(alpha)
        return -dp / log_pdf.exp()


def dirichlet_grad(x, alpha, total):
    """PyTorch's ``_dirichlet_grad``: ``(dx/dalpha) / (1 - x)`` for ``x ~ Beta(alpha, total - alpha)`` with
    ``total - alpha`` fixed; ``grad * (g - sum(x * g))`` is then the Dirichlet sample's vector-Jacobian product."""
    beta = total - alpha
    _, di = betainc_and_da(alpha, beta, x)
    with ember.no_grad():
        x, alpha, beta = (t.double() for t in ember.broadcast_tensors(x, alpha, beta))
        log_pdf = ((alpha - 1) * x.log() + (beta - 1) * (1 - x).log() + ember.lgamma(alpha + beta)
                   - ember.lgamma(alpha) - ember.lgamma(beta))
        return -di / log_pdf.exp() / (1 - x)
