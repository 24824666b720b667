"""Regenerate the Chebyshev tables of ``src/ember/ops/bessel.py`` (needs mpmath).

Each table approximates a smooth part of a Bessel or Airy function on one interval, as a Chebyshev series
in ``u`` in [-1, 1] (first coefficient halved, summed by Clenshaw's recurrence in ops/special_math.py):

- small arguments: the entire part left after taking out the logarithm and pole terms (J0, J1/x,
  Y0 - 2/pi ln(x) J0, ..., K0 + ln(x) I0, ...), in ``u = 2 (x / R)^2 - 1`` (R = 8 for J/Y, 2 for K);
- large arguments: the slowly varying modulus factors of the Hankel-type expansions (P and Q of J/Y,
  sqrt(x) e^x K, Ai's e^zeta factor and the two oscillation amplitudes), in a variable that is -1 at infinity.

    python tools/gen_bessel_coeffs.py > /tmp/bessel_coeffs.txt
"""
import mpmath as mp

from gen_special_coeffs import chebyshev, trim

mp.mp.dps = 50

ZETA2 = mp.mpf(2) / 3 * mp.mpf(2) ** mp.mpf(1.5)      # zeta at |x| = 2


def _j_y_small(u):
    return mp.sqrt(32 * (u + 1))                          # x in (0, 8] for u in (-1, 1]


def _j_y_large(u):
    return 8 / mp.sqrt((u + 1) / 2)                       # x in [8, inf) for u in (-1, 1]


def _pq(nu, x):
    """P and Q of J_nu = sqrt(2/(pi x)) (P cos chi - Q sin chi), Y_nu = sqrt(2/(pi x)) (P sin chi + Q cos chi)."""
    chi = x - (2 * nu + 1) * mp.pi / 4
    j, y, s = mp.besselj(nu, x), mp.bessely(nu, x), mp.sqrt(mp.pi * x / 2)
    return s * (j * mp.cos(chi) + y * mp.sin(chi)), s * (-j * mp.sin(chi) + y * mp.cos(chi))


def _airy_x(u):
    return 2 / ((u + 1) / 2) ** (mp.mpf(2) / 3)          # |x| in [2, inf) for u in (-1, 1]: (2/|x|)^1.5 = (u+1)/2


def _airy_oscillating(x):
    """A and B of Ai(-x) = x^(-1/4)/sqrt(pi) (A sin(zeta + pi/4) - B cos(zeta + pi/4)), x > 0."""
    z = mp.mpf(2) / 3 * x ** mp.mpf(1.5)
    s, c = mp.sin(z + mp.pi / 4), mp.cos(z + mp.pi / 4)
    ai, bi = mp.airyai(-x), mp.airybi(-x)
    f = mp.sqrt(mp.pi) * x ** mp.mpf(0.25)
    return f * (ai * s + bi * c), f * (-ai * c + bi * s)


def tables():
    out = {}
    out["J0_SMALL"] = chebyshev(lambda u: mp.besselj(0, _j_y_small(u)), 40)
    out["J1_SMALL"] = chebyshev(lambda u: (lambda x: mp.besselj(1, x) / x)(_j_y_small(u)), 40)
    out["Y0_SMALL"] = chebyshev(lambda u: (lambda x: mp.bessely(0, x) - 2 / mp.pi * mp.log(x) * mp.besselj(0, x))(
        _j_y_small(u)), 40)
    out["Y1_SMALL"] = chebyshev(lambda u: (lambda x: (mp.bessely(1, x) - 2 / mp.pi * (
        mp.besselj(1, x) * mp.log(x) - 1 / x)) / x)(_j_y_small(u)), 40)
    for nu in (0, 1):
        out[f"P{nu}_LARGE"] = chebyshev(lambda u, nu=nu: _pq(nu, _j_y_large(u))[0], 60)
        # Q is odd in 1/x: tabulate Q * x / 8
        out[f"Q{nu}_LARGE"] = chebyshev(lambda u, nu=nu: (lambda x: _pq(nu, x)[1] * x / 8)(_j_y_large(u)), 60)
    k_small = lambda u: mp.sqrt(2 * (u + 1))           # x in (0, 2]
    out["K0_SMALL"] = chebyshev(lambda u: (lambda x: mp.besselk(0, x) + mp.log(x) * mp.besseli(0, x))(
        k_small(u)), 30)
    out["K1_SMALL"] = chebyshev(lambda u: (lambda x: (mp.besselk(1, x) - mp.log(x) * mp.besseli(1, x) - 1 / x) / x)(
        k_small(u)), 30)
    for nu in (0, 1):   # sqrt(x) e^x K_nu(x) for x >= 2, u = 4 / x - 1
        out[f"K{nu}E_LARGE"] = chebyshev(lambda u, nu=nu: (lambda x: mp.sqrt(x) * mp.exp(x) * mp.besselk(nu, x))(
            4 / (u + 1)), 60)
    out["AI_SMALL"] = chebyshev(lambda u: mp.airyai(2 * u), 40)        # |x| <= 2, u = x / 2
    # Ai(x) = exp(-zeta) / (2 sqrt(pi) x^(1/4)) F for x >= 2
    out["AI_DECAY"] = chebyshev(lambda u: (lambda x: mp.airyai(x) * 2 * mp.sqrt(mp.pi) * x ** mp.mpf(0.25) * mp.exp(
        mp.mpf(2) / 3 * x ** mp.mpf(1.5)))(_airy_x(u)), 60)
    out["AI_OSC_A"] = chebyshev(lambda u: _airy_oscillating(_airy_x(u))[0], 60)
    # B is odd in 1/zeta: tabulate B zeta / zeta(2)
    out["AI_OSC_B"] = chebyshev(lambda u: (lambda x: _airy_oscillating(x)[1] * mp.mpf(2) / 3 * x ** mp.mpf(1.5)
                                           / ZETA2)(_airy_x(u)), 60)
    return {k: trim(v) for k, v in out.items()}


if __name__ == "__main__":
    for name, c in tables().items():
        print(f"_{name} = (")
        row = [repr(float(x)) for x in c]
        for i in range(0, len(row), 4):
            print("    " + ", ".join(row[i:i + 4]) + ",")
        print(")")
