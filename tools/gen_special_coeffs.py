"""Regenerate the Chebyshev coefficient tables of ``src/ember/ops/special_math.py`` (needs mpmath).

Each table approximates a smooth, slowly varying function on one interval; the kernels
in special_math.py map their argument to ``u`` in [-1, 1] and sum the series with
Clenshaw's recurrence.  The first coefficient is already halved.

    python tools/gen_special_coeffs.py > /tmp/coeffs.txt
"""
import mpmath as mp

mp.mp.dps = 50


def chebyshev(f, n, nodes=None):
    """The first ``n`` Chebyshev coefficients of ``f`` on [-1, 1] (interpolation at Chebyshev nodes)."""
    m = nodes or n + 30
    pts = [(j + mp.mpf(1) / 2) * mp.pi / m for j in range(m)]
    vals = [f(mp.cos(p)) for p in pts]
    c = [2 * mp.fsum(v * mp.cos(k * p) for v, p in zip(vals, pts)) / m for k in range(n)]
    c[0] /= 2
    return c


def trim(c, rel=2e-18):
    scale = max(abs(x) for x in c)
    last = max(i for i, x in enumerate(c) if abs(x) > rel * scale)
    return c[:last + 1]


def erfcx(z):
    return mp.exp(z * z) * mp.erfc(z)


def tables():
    out = {}
    # erf(x) / x as a function of u = 2 x^2 - 1, for |x| < 1
    out["ERF_SMALL"] = chebyshev(lambda u: (lambda x: mp.erf(x) / x if x else 2 / mp.sqrt(mp.pi))(
        mp.sqrt((u + 1) / 2)), 30)
    # (1 + z) erfcx(z) for z >= 1 with z = 1 + 4 (1 + u) / (1 - u), i.e. u = (z - 5) / (z + 3)
    out["ERFCX_LARGE"] = chebyshev(lambda u: mp.mpf(1) / mp.sqrt(mp.pi) if u >= 1 else (
        lambda z: (1 + z) * erfcx(z))(1 + 4 * (1 + u) / (1 - u)), 45)

    # lgamma(x) / ((x - 1)(x - 2)) on [1.5, 2.5], u = 2 (x - 2)
    def lg(u):
        x = 2 + u / 2
        if x == 2:
            return 1 - mp.euler
        return mp.loggamma(x) / ((x - 1) * (x - 2))
    out["LGAMMA_CORE"] = chebyshev(lg, 40)

    # sqrt(x) exp(-x) I_nu(x) for x >= 8, u = (x - 16) / x
    for nu in (0, 1):
        out[f"I{nu}E_LARGE"] = chebyshev(lambda u, nu=nu: 1 / mp.sqrt(2 * mp.pi) if u >= 1 else (
            lambda x: mp.sqrt(x) * mp.exp(-x) * mp.besseli(nu, x))(16 / (1 - u)), 40)
    return {k: trim(v) for k, v in out.items()}


if __name__ == "__main__":
    for name, c in tables().items():
        print(f"_{name} = (")
        row = []
        for x in c:
            row.append(repr(float(x)))
        for i in range(0, len(row), 4):
            print("    " + ", ".join(row[i:i + 4]) + ",")
        print(")")
