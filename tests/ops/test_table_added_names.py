"""Op table: the names issue 13 added to reach PyTorch's public surface, against torch.

Each row is (name, fn(lib, *tensors), numpy inputs, options), as in the other tables: ``fn`` receives the
library module (ember or torch); floating inputs get their gradients compared, rows with ``gg`` also their
second derivatives; ``grad=False`` for ops without a derivative.
"""
import numpy as np
import pytest
import torch

import ember
from devices import TABLE_DEVICES
from parity import check_op, check_raises

rng = np.random.default_rng(13)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((4,))
A32 = A.astype(np.float32)
P = rng.uniform(0.2, 3.0, (3, 4))
I = rng.integers(-30, 31, (3, 4))
J = rng.integers(-12, 13, (4,))
E = rng.integers(-3, 4, (3, 4))
SIGNED_ZEROS = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2.5])
S = np.array(0.7)


def row(name, fn, args, gg=False, tol=None, grad=True):
    return pytest.param(fn, args, gg, tol, grad, id=name)


ROWS = [
    # ---- binary_math
    row("atan2", lambda m, a, b: m.atan2(a, b), (A, B), gg=True),
    row("arctan2_method_noncontig", lambda m, a, b: a.mT.arctan2(b[:3]), (A, B)),
    row("atan2_int", lambda m, a, b: m.atan2(a, b), (I, J)),
    row("atan2_signed_zeros", lambda m, a, b: m.atan2(a, b.flip(0)), (SIGNED_ZEROS, SIGNED_ZEROS), grad=False),
    row("atan2_inplace", lambda m, a, b: (a * 1).atan2_(b), (A, B)),
    row("copysign", lambda m, a, b: m.copysign(a, b), (A, B), gg=True),
    row("copysign_scalar", lambda m, a: a.copysign(-1.0), (A,)),
    row("copysign_int_signed_zero", lambda m, a, b: m.copysign(a, b), (I[0], SIGNED_ZEROS[:4])),
    row("copysign_inplace", lambda m, a, b: (a * 1).copysign_(b), (A, B)),
    row("heaviside", lambda m, a, b: m.heaviside(a, b), (np.array([-1.5, 0.0, 2.0, -0.0, np.nan]),
                                                         np.array([0.5])), grad=False),
    row("heaviside_int_inplace", lambda m, a, b: (a * 1).heaviside_(b), (I, J), grad=False),
    row("nextafter", lambda m, a, b: m.nextafter(a, b), (A, B)),
    row("nextafter_f32", lambda m, a, b: a.nextafter(b), (A32, A32[::-1].copy())),
    row("nextafter_inplace", lambda m, a, b: (a * 1).nextafter_(b), (A, B)),
    row("ldexp", lambda m, a, e: m.ldexp(a, e), (A, E)),
    row("ldexp_float_exponent", lambda m, a, e: a.ldexp(e), (A, B), gg=True),
    row("ldexp_inplace", lambda m, a, e: (a * 1).ldexp_(e), (A, E)),
    row("frexp", lambda m, a: m.frexp(a), (A,), gg=True),
    row("frexp_special_method", lambda m, a: a.frexp(), (SIGNED_ZEROS,), grad=False),
    row("frexp_f32", lambda m, a: tuple(m.frexp(a)), (A32,)),
    row("gcd", lambda m, a, b: m.gcd(a, b), (I, J)),
    row("lcm", lambda m, a, b: m.lcm(a, b), (I, J)),
    row("gcd_lcm_inplace", lambda m, a, b: ((a * 1).gcd_(b), (a * 1).lcm_(b)), (I, J)),
    row("deg2rad", lambda m, a: m.deg2rad(a), (A * 90,), gg=True),
    row("rad2deg_method", lambda m, a: a.rad2deg(), (A,), gg=True),
    row("deg2rad_int", lambda m, a: m.deg2rad(a), (I,)),
    row("deg_rad_inplace", lambda m, a: ((a * 1).deg2rad_(), (a * 1).rad2deg_()), (A,)),
    row("deg2rad_0d", lambda m, s: m.deg2rad(s), (S,)),
]


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("fn,args,gg,tol,grad", ROWS)
def test_row(fn, args, gg, tol, grad, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, grad=grad, gradgrad=gg,
             rtol=tol, atol=None if tol is None else tol * 1e-2, device=device)


def _t(m, v, **kw):
    return m.tensor(v, **kw)


ERRORS = [
    ("atan2_scalar_other", lambda m: m.atan2(_t(m, [1.0]), 2.0)),
    ("atan2_broadcast", lambda m: m.atan2(m.ones(2, 3), m.ones(4))),
    ("heaviside_dtypes", lambda m: m.heaviside(_t(m, [1.0]), _t(m, [1]))),
    ("heaviside_backward", lambda m: m.heaviside(_t(m, [1.0], requires_grad=True), _t(m, [0.5])).sum().backward()),
    ("nextafter_int", lambda m: m.nextafter(_t(m, [1]), _t(m, [2]))),
    ("gcd_float", lambda m: m.gcd(_t(m, [1.0]), _t(m, [2.0]))),
    ("lcm_bool", lambda m: m.lcm(_t(m, [True]), _t(m, [True]))),
    ("frexp_int", lambda m: m.frexp(_t(m, [1, 2]))),
    ("ldexp_scalar", lambda m: m.ldexp(_t(m, [1.0]), 2)),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input(name, fn):
    check_raises(lambda: fn(ember), lambda: fn(torch))


def test_grad_fn_names():
    for lib in (ember, torch):
        x = lib.tensor([0.3, -0.6], requires_grad=True)
        got = [lib.atan2(x, x).grad_fn.name(), x.copysign(x).grad_fn.name(), x.copysign(2.0).grad_fn.name(),
               x.nextafter(x).grad_fn.name(), x.ldexp(x).grad_fn.name(), x.frexp()[0].grad_fn.name(),
               x.deg2rad().grad_fn.name(), x.rad2deg().grad_fn.name(), x.heaviside(x).grad_fn.name()]
        if lib is ember:
            expected = got
        else:
            assert got == expected
