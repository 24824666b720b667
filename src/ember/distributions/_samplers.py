"""Random draws that ember has no op for: standard Gamma, Dirichlet and Binomial variates.

All are vectorized rejection or inversion loops over ember's uniform and normal draws, so they use
ember's generator (``manual_seed`` makes them repeatable); each loop redraws only until every
element has been accepted.
"""
import ember


def standard_gamma(concentration):
    """Gamma(concentration, 1) draws of the same shape and dtype (Marsaglia and Tsang's method).

    Args:
        concentration (Tensor): positive shape parameters.

    Returns:
        Tensor: the draws, clamped below at the dtype's smallest normal number.
    """
    with ember.no_grad():
        alpha = concentration.detach().double()
        boost = alpha < 1  # Gamma(a) = Gamma(a + 1) * U^(1/a) for a < 1
        a = ember.where(boost, alpha + 1, alpha)
        d = a - 1.0 / 3.0
        c = (9.0 * d).rsqrt()
        out = ember.zeros_like(alpha)
        pending = ember.ones_like(alpha, dtype=ember.bool)
        while bool(pending.any()):
            z = ember.randn(alpha.shape, dtype=ember.float64, device=alpha.device)
            u = ember.rand(alpha.shape, dtype=ember.float64, device=alpha.device)
            v = (1 + c * z) ** 3
            ok = (v > 0) & (u.log() < 0.5 * z * z + d - d * v + d * v.clamp(min=1e-300).log())
            take = pending & ok
            out = ember.where(take, d * v, out)
            pending = pending & ~ok
        u = ember.rand(alpha.shape, dtype=ember.float64, device=alpha.device)
        out = ember.where(boost, out * u.pow(1.0 / alpha), out)
        out = out.to(concentration.dtype)
        return out.clamp(min=ember.finfo(concentration.dtype).tiny)


def dirichlet(concentration):
    """Dirichlet draws (normalized Gamma draws along the last dim), same shape and dtype."""
    with ember.no_grad():
        gammas = standard_gamma(concentration.double()).double()
        x = gammas / gammas.sum(-1, keepdim=True)
        return x.to(concentration.dtype).clamp(min=ember.finfo(concentration.dtype).tiny)


_INVERSION_MEAN = 10.0  # below this mean, inversion needs few steps; above, rejection (BTRS) is faster


def _binomial_inversion(n, p):
    """Binomial(n, p) draws by sequential search of the CDF (p <= 0.5, small n * p)."""
    q = 1 - p
    ratio = p / q.clamp(min=1e-300)
    pmf = ember.where(p < 1, ember.exp(n * ember.log1p(-p.clamp(max=1 - 1e-16))), ember.zeros_like(p))
    cdf = pmf
    u = ember.rand(p.shape, dtype=ember.float64, device=p.device)
    k = ember.zeros_like(p)
    active = (u > cdf) & (k < n)
    while bool(active.any()):
        k = ember.where(active, k + 1, k)
        pmf = ember.where(active, pmf * (n - k + 1) / k.clamp(min=1) * ratio, pmf)
        cdf = cdf + ember.where(active, pmf, ember.zeros_like(pmf))
        # rounding can leave the summed CDF just below u: stop at n
        active = active & (u > cdf) & (k < n)
    return k


def _binomial_btrs(n, p):
    """Binomial(n, p) draws by Hormann's transformed rejection with squeeze (BTRS), p <= 0.5, n * p >= 10."""
    q = 1 - p
    spq = (n * p * q).sqrt()
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = (p / q).log()
    m = ((n + 1) * p).floor()
    h = ember.lgamma(m + 1) + ember.lgamma(n - m + 1)
    out = ember.zeros_like(p)
    pending = ember.ones_like(p, dtype=ember.bool)
    while bool(pending.any()):
        u = ember.rand(p.shape, dtype=ember.float64, device=p.device) - 0.5
        v = ember.rand(p.shape, dtype=ember.float64, device=p.device)
        us = (0.5 - u.abs()).clamp(min=1e-12)  # u = -0.5 exactly would divide by zero below
        k = ((2 * a / us + b) * u + c).floor()
        in_range = (k >= 0) & (k <= n)
        squeeze = (us >= 0.07) & (v <= v_r)
        log_v = (v * alpha / (a / (us * us) + b)).log()
        kc = k.clamp(min=0)
        kc = ember.minimum(kc, n)
        exact = log_v <= h - ember.lgamma(kc + 1) - ember.lgamma(n - kc + 1) + (kc - m) * lpq
        ok = in_range & (squeeze | exact)
        out = ember.where(pending & ok, k, out)
        pending = pending & ~ok
    return out


def binomial(count, prob):
    """Binomial(count, prob) draws, elementwise, as float tensors of ``prob``'s dtype.

    Args:
        count (Tensor): nonnegative integer-valued trial counts.
        prob (Tensor): success probabilities in [0, 1] (same shape as ``count``).
    """
    with ember.no_grad():
        n = count.detach().double()
        p = prob.detach().double()
        flip = p > 0.5  # draw failures instead of successes so that p <= 0.5
        ps = ember.where(flip, 1 - p, p)
        small = n * ps < _INVERSION_MEAN
        inv = _binomial_inversion(ember.where(small, n, ember.zeros_like(n)), ember.where(small, ps, ember.zeros_like(ps)))
        large_n = ember.where(small, ember.full_like(n, 100.0), n)
        large_p = ember.where(small, ember.full_like(ps, 0.5), ps)
        rej = _binomial_btrs(large_n, large_p) if bool((~small).any()) else inv
        k = ember.where(small, inv, rej)
        k = ember.where(flip, n - k, k)
        return k.to(prob.dtype)
