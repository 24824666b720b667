"""Op table: pointwise ops (special functions, arithmetic extras, comparisons, clamp/where/round) against torch.

Each row is (name, fn(lib, *tensors), numpy inputs, options).  ``fn`` receives the library module
(ember or torch), so one lambda serves both sides; floating inputs get their gradients compared,
and rows with ``gg`` also their second derivatives.  Non-contiguous inputs are made inside the
lambdas (``a.mT``, ``a[::2]``) so the gradients flow through the views.  Integer and bool results
compare exactly.  ``tol`` loosens the comparison where PyTorch's own kernel is the less accurate one
(its trigamma is good to ~1e-9 in double precision; ember's to ~1e-15).
"""
import math

import numpy as np
import pytest
import torch

import ember
from devices import TABLE_DEVICES
from empty_variants import check_same_outcome, empty_rows
from parity import check_op, check_raises

rng = np.random.default_rng(3)
A = rng.standard_normal((3, 4))                       # float64
A32 = A.astype(np.float32)
B = rng.standard_normal((4,))
P = rng.uniform(0.2, 3.0, (3, 4))                      # positive
P32 = P.astype(np.float32)
U = rng.uniform(-0.95, 0.95, (3, 4))                   # inside (-1, 1)
U01 = rng.uniform(0.05, 0.95, (3, 4))                  # inside (0, 1)
W = rng.uniform(-8, 8, (5, 6))                         # wide range for erf & co
NEG = -rng.uniform(0.1, 4.9, (3, 4))
NEG[np.abs(NEG - np.round(NEG)) < 0.05] += 0.1         # keep away from the poles
S = np.array(0.7)                                      # 0-d
E = np.zeros((0, 3))                                   # empty
I = rng.integers(-5, 6, (3, 4))                        # int64
I8 = rng.integers(-100, 100, (3, 4)).astype(np.int8)
BOOL = rng.random((3, 4)) > 0.5
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-300, 3.5, -2.5])
TIES = np.array([[1.0, 2.0, np.nan, 3.0], [2.0, 2.0, -1.0, np.nan]])
TIES_B = np.array([[1.0, 3.0, 1.0, np.nan], [2.0, 0.5, np.nan, np.nan]])
NANS = np.array([[np.nan, np.inf, -np.inf, 1.5], [0.0, -2.0, np.nan, 3.0]])


def row(name, fn, args, gg=False, tol=None, grad=True):
    return pytest.param(fn, args, gg, tol, grad, id=name)


ROWS = [
    # ---- error function family
    row("erf", lambda m, a: m.erf(a), (A,), gg=True),
    row("erf_f32_wide", lambda m, a: m.erf(a), (W.astype(np.float32),)),
    row("erf_wide_noncontig", lambda m, a: a.mT[::2].erf(), (W,), gg=True),
    row("erf_0d", lambda m, a: m.erf(a), (S,)),
    row("erf_empty", lambda m, a: m.erf(a), (E,)),
    row("erf_int", lambda m, a: m.erf(a), (I,)),
    row("erf_special_values", lambda m, a: m.erf(a), (SPECIAL,), grad=False),
    row("erfc", lambda m, a: a.erfc(), (W,), gg=True),
    row("erfc_tail", lambda m, a: m.erfc(a), (np.linspace(1, 26.5, 40),)),
    row("erfc_f32", lambda m, a: m.erfc(a), (A32,)),
    row("erfinv", lambda m, a: m.erfinv(a), (U,), gg=True),
    row("erfinv_f32_noncontig", lambda m, a: a.t().erfinv(), (U.astype(np.float32),)),
    row("erfinv_tails", lambda m, a: m.erfinv(a), (np.array([1 - 1e-12, -1 + 1e-15, 0.999999, 1e-20, -0.5, 0.5]),)),
    row("erfinv_edges", lambda m, a: m.erfinv(a), (np.array([1.0, -1.0, 1.5, -2.0, 0.0, np.nan]),), grad=False),
    row("special_erfcx", lambda m, a: m.special.erfcx(a), (W,), gg=True),
    row("special_ndtr", lambda m, a: m.special.ndtr(a), (W,), gg=True),
    row("special_ndtri", lambda m, a: m.special.ndtri(a), (U01,), gg=True),
    row("special_ndtri_tails", lambda m, a: m.special.ndtri(a), (np.array([1e-300, 1e-20, 1e-5, 1 - 1e-9, 0.0, 1.0]),),
        grad=False),
    row("special_log_ndtr", lambda m, a: m.special.log_ndtr(a), (W * 4,), gg=True),
    # ---- gamma family
    row("lgamma", lambda m, a: m.lgamma(a), (P,), gg=True, tol=1e-8),
    row("lgamma_negative", lambda m, a: a.lgamma(), (NEG,), tol=1e-8),
    row("lgamma_large", lambda m, a: m.lgamma(a), (np.array([10.0, 150.5, 1e5, 1e300, 1e-300, 2.0, 1.0]),),
        grad=False),
    row("lgamma_special_values", lambda m, a: m.lgamma(a), (SPECIAL,), grad=False),
    row("lgamma_f32_int", lambda m, a, b: (m.lgamma(a), m.lgamma(b)), (P32, np.abs(I) + 1)),
    row("special_gammaln", lambda m, a: m.special.gammaln(a), (P,)),
    row("digamma", lambda m, a: m.digamma(a), (P,), gg=True, tol=1e-8),
    row("digamma_negative", lambda m, a: m.digamma(a), (NEG,), tol=1e-8),
    row("digamma_special_values", lambda m, a: m.special.psi(a), (SPECIAL,), grad=False),
    row("polygamma_1", lambda m, a: m.polygamma(1, a), (P,), gg=True, tol=1e-8),
    row("polygamma_2_method", lambda m, a: a.polygamma(2), (P,), gg=True),
    row("polygamma_3_negative", lambda m, a: m.special.polygamma(3, a), (NEG,)),
    row("polygamma_0", lambda m, a: m.polygamma(0, a), (P,), tol=1e-8),
    row("mvlgamma", lambda m, a: m.mvlgamma(a + 2, 3), (P,), gg=True, tol=1e-8),
    row("mvlgamma_off_domain", lambda m, a: m.mvlgamma(a, 3), (U01,), tol=1e-8),
    row("special_multigammaln_p1", lambda m, a: m.special.multigammaln(a, 1), (P,)),
    row("special_zeta", lambda m, a, b: m.special.zeta(a.detach() + 1.5, b), (P, P[0]), gg=True),
    row("special_zeta_scalar", lambda m, a: (m.special.zeta(3.0, a), m.special.zeta(a + 1, 2.0)), (P,), grad=False),
    # ---- Bessel
    row("i0", lambda m, a: m.i0(a * 5), (A,), gg=True),
    row("i0_f32_wide", lambda m, a: m.i0(a), (W.astype(np.float32),)),
    row("special_i0e", lambda m, a: m.special.i0e(a * 10), (A,), gg=True),
    row("special_i1", lambda m, a: m.special.i1(a * 5), (A,), gg=True),
    row("special_i1e", lambda m, a: m.special.i1e(a), (W * 3,), gg=True),
    row("bessel_zero", lambda m, a: (m.i0(a), m.special.i1(a), m.special.i1e(a)), (np.zeros(3),), gg=True),
    # ---- more torch.special
    row("special_expit", lambda m, a: m.special.expit(a), (A,)),
    row("special_entr", lambda m, a: m.special.entr(a), (np.abs(A) + 0.1,), gg=True),
    row("special_entr_edges", lambda m, a: m.special.entr(a), (np.array([0.0, -1.0, np.inf, np.nan, 2.0]),),
        grad=False),
    row("special_xlog1py", lambda m, a, b: m.special.xlog1py(a, b), (A, P[0]), gg=True),
    row("special_softmax", lambda m, a: m.special.softmax(a, 1), (A,), gg=True),
    row("special_log_softmax_dtype", lambda m, a: m.special.log_softmax(a, 0, dtype=m.float64), (A32,)),
    row("special_misc", lambda m, a: (m.special.exp2(a), m.special.expm1(a), m.special.log1p(a),
                                      m.special.round(a * 10), m.special.logsumexp(a, 1)), (P,)),
    row("softmax_toplevel", lambda m, a: (m.softmax(a, -1), a.log_softmax(0)), (A,), gg=True),
    # ---- sgn, logit, sinc
    row("sgn", lambda m, a: m.sgn(a), (A,)),
    row("sgn_int_bool", lambda m, a, b: (m.sgn(a), b.sgn(), m.sign(b)), (I, BOOL)),
    row("sign_sgn_nan", lambda m, a: (m.sign(a), m.sgn(a)), (NANS,)),
    row("bfloat16_predicates", lambda m, a: (m.isposinf(a.bfloat16()), m.isneginf(a.bfloat16()),
                                             m.nan_to_num(a.bfloat16()).float(), m.signbit(a.bfloat16())), (NANS,),
        grad=False),
    row("sgn_complex", lambda m: m.sgn(m.tensor([3 + 4j, 0j, -1j])), ()),
    row("logit", lambda m, a: m.logit(a), (U01,), gg=True),
    row("logit_eps", lambda m, a: a.logit(eps=0.2), (U01,), gg=True),
    row("logit_outside", lambda m, a: m.logit(a), (np.array([-0.5, 0.0, 0.5, 1.0, 1.5]),)),
    row("logit_outside_eps", lambda m, a: m.special.logit(a, 0.1), (np.array([-0.5, 0.05, 0.5, 0.95, 1.5]),)),
    row("logit_int", lambda m, a: m.logit(a), (BOOL.astype(np.int64),)),
    row("sinc", lambda m, a: m.sinc(a), (np.concatenate([A.ravel(), [1.0, -2.0]]),), gg=True),
    row("sinc_at_zero", lambda m, a: m.sinc(a), (np.array([0.0, 0.5]),)),
    row("sinc_f32", lambda m, a: m.special.sinc(a), (A32,)),
    # ---- float_power, fmod, remainder, division modes
    row("float_power_scalar", lambda m, a: m.float_power(a, 2.5), (P32,), gg=True),
    row("float_power_tensor", lambda m, a, b: m.float_power(a, b), (P, A), gg=True),
    row("float_power_scalar_base", lambda m, a: m.float_power(2, a), (A32,)),
    row("float_power_int", lambda m, a: m.float_power(a, -1), (np.abs(I) + 1,)),
    row("float_power_", lambda m, a: a.double().clone().float_power_(2), (P32,)),
    row("fmod_scalar", lambda m, a: m.fmod(a * 5, 1.5), (A,), gg=True),
    row("fmod_tensor", lambda m, a, b: a.fmod(b), (A * 4, P[0] + 0.3), gg=True),
    row("fmod_int", lambda m, a: (m.fmod(a, 3), m.fmod(a, -2.5)), (I,)),
    row("fmod_zero_float", lambda m, a: m.fmod(a, 0.0), (A,), grad=False),
    row("remainder_tensor", lambda m, a, b: m.remainder(a * 4, b), (A, P[0]), gg=True),
    row("remainder_scalar_first", lambda m, a: m.remainder(-1.5, a), (P,), grad=False),
    row("remainder_int", lambda m, a: (a % 3, m.remainder(a, -4), m.remainder(7, a.abs() + 1)), (I,)),
    row("div_floor", lambda m, a, b: m.div(a * 5, b, rounding_mode="floor"), (A, P[0]), gg=True),
    row("div_trunc", lambda m, a, b: a.div(b, rounding_mode="trunc"), (A * 5, -P[0])),
    row("div_modes_int", lambda m, a: (m.div(a, 3, rounding_mode="floor"), m.div(a, -3, rounding_mode="trunc"),
                                       m.div(a, 2.0, rounding_mode="floor"), a // 4), (I,)),
    row("true_divide_int", lambda m, a: (m.true_divide(a, 4), a.true_divide(a.abs() + 1)), (I,)),
    # ---- lerp, addcmul, addcdiv
    row("lerp_scalar", lambda m, a, b: m.lerp(a, b, 0.3), (A, B), gg=True),
    row("lerp_scalar_high", lambda m, a, b: a.lerp(b, 0.8), (A32, A32[::-1].copy())),
    row("lerp_tensor_weight", lambda m, a, b, w: m.lerp(a, b, w), (A, A[0], U01), gg=True),
    row("lerp_0d_weight", lambda m, a, b, w: m.lerp(a, b, w), (A, B, S)),
    row("lerp_noncontig", lambda m, a, b: m.lerp(a.mT, b[::2], 0.5), (A, np.ones((8, 3)))),
    row("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), (A, B, A[:, :1]), gg=True),
    row("addcmul_int", lambda m, a, b: (m.addcmul(a, a, b, value=2), a.addcmul(b, b)), (I, I.T.copy().T)),
    row("addcmul_mixed", lambda m, a, b: m.addcmul(a, b, b), (A32, I)),
    row("addcmul_int_float_value", lambda m, a: m.addcmul(a, a, a, value=0.5), (I,)),
    row("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c, value=-2), (A, B, P), gg=True),
    row("addcdiv_0d", lambda m, a, b: a.addcdiv(b, b + 1), (S, S)),
    row("addcmul_inplace", lambda m, a, b: a.clone().addcmul_(b, b, value=0.1).addcdiv_(b, b.abs() + 1), (A, B),
        gg=True),
    row("addcmul_inplace_nograd", lambda m, a, b: _nograd(m, lambda: a.clone().addcmul_(b, b, value=0.1)
                                                          .addcdiv_(b, b + 3)), (A32, P32[0])),
    # ---- fmax / fmin / hypot / logaddexp / xlogy
    row("fmax", lambda m, a, b: m.fmax(a, b), (TIES, TIES_B)),
    row("fmin", lambda m, a, b: a.fmin(b), (TIES, TIES_B)),
    row("fmax_broadcast", lambda m, a, b: m.fmax(a, b), (A, B), gg=True),
    row("fmax_int_bool", lambda m, a, b: (m.fmax(a, a.flip(0)), m.fmin(b, b.flip(1))), (I, BOOL)),
    row("hypot", lambda m, a, b: m.hypot(a, b), (A, B), gg=True),
    row("hypot_f32", lambda m, a, b: a.hypot(b), (A32, A32 * 2)),
    row("logaddexp", lambda m, a, b: m.logaddexp(a * 30, b), (A, B), gg=True),
    row("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), (A32, B.astype(np.float32)), gg=True),
    row("logaddexp_inf", lambda m, a: m.logaddexp(a, a), (np.array([np.inf, -np.inf, 1.0]),), grad=False),
    row("xlogy", lambda m, a, b: m.xlogy(a, b), (np.where(BOOL, A, 0.0), P), gg=True),
    row("xlogy_scalar_self", lambda m, a: m.xlogy(2, a), (P,)),
    row("xlogy_scalar_other", lambda m, a: a.xlogy(3.0), (A,), gg=True),
    row("xlogy_zero_nan", lambda m, a, b: m.xlogy(a, b), (np.array([0.0, 0.0, 0.0, 1.0]),
                                                        np.array([0.0, np.nan, -1.0, 0.0])), grad=False),
    row("xlogy_int", lambda m, a: m.xlogy(a, a.abs() + 1), (I,)),
    # ---- nan_to_num and predicates
    row("nan_to_num", lambda m, a: m.nan_to_num(a), (NANS,), gg=True),
    row("nan_to_num_values", lambda m, a: a.nan_to_num(nan=1.0, posinf=2.0, neginf=-3.0), (NANS.astype(np.float32),)),
    row("nan_to_num_f16", lambda m, a: m.nan_to_num(a), (NANS.astype(np.float16),)),
    row("nan_to_num_int", lambda m, a: m.nan_to_num(a), (I,)),
    row("isposinf_isneginf", lambda m, a: (m.isposinf(a), a.isneginf()), (NANS,)),
    row("signbit", lambda m, a: m.signbit(a), (np.array([-0.0, 0.0, -1.5, 2.0, -np.inf, np.nan]),)),
    row("predicates_int_bool", lambda m, a, b: (m.signbit(a), m.isposinf(a), m.isneginf(b), m.signbit(b)), (I, BOOL)),
    # ---- shifts
    row("shift_left", lambda m, a: (m.bitwise_left_shift(a, 2), a << 3), (I,)),
    row("shift_right", lambda m, a: (m.bitwise_right_shift(a, 1), a >> 2), (I * 7,)),
    row("shift_out_of_range", lambda m, a: (m.bitwise_left_shift(a, 64), m.bitwise_right_shift(a, 70),
                                            m.bitwise_left_shift(a, -1)), (I,)),
    row("shift_int8", lambda m, a, b: (m.bitwise_left_shift(a, b), m.bitwise_right_shift(a, b)),
        (I8, np.abs(I8 % 10).astype(np.int8))),
    row("shift_scalar_first", lambda m, a: m.bitwise_left_shift(2, a.abs()), (I,)),
    row("shift_inplace", lambda m, a: a.clone().bitwise_left_shift_(1).bitwise_right_shift_(2), (I,)),
    # ---- equal / allclose / isclose
    row("equal", lambda m, a, b: (m.equal(a, a.clone()), m.equal(a, b), a.equal(a.double()), m.equal(a, a[:2])),
        (I, I + 1), grad=False),
    row("equal_nan", lambda m, a: m.equal(a, a), (NANS,), grad=False),
    row("isclose", lambda m, a, b: m.isclose(a, b), (A, A + 1e-9), grad=False),
    row("isclose_args", lambda m, a, b: (a.isclose(b, rtol=0.1, atol=0.5), m.isclose(a, b, equal_nan=True),
                                         m.isclose(a, b, rtol=0, atol=0)), (NANS, np.where(np.isnan(NANS), NANS, NANS + 0.2)),
        grad=False),
    row("isclose_int_bool", lambda m, a, b: (m.isclose(a, a + 1, atol=1), m.isclose(b, b)), (I, BOOL)),
    row("isclose_broadcast", lambda m, a, b: m.isclose(a, b), (A, A[0]), grad=False),
    row("allclose", lambda m, a, b: (m.allclose(a, a + 1e-9), a.allclose(a + 1e-3), m.allclose(a, a[:1]),
                                     m.allclose(b, b), m.allclose(b, b, equal_nan=True)), (A, NANS), grad=False),
    # ---- where with scalar branches, round, clamp with tensor bounds
    row("where_scalar_other", lambda m, c, a: m.where(c, a, 2), (BOOL, A32), gg=True),
    row("where_scalar_input", lambda m, c, a: m.where(c, -1.5, a), (BOOL, A), gg=True),
    row("where_scalars", lambda m, c: (m.where(c, 1.0, 0), m.where(c, 1, 0), m.where(c, True, False),
                                       m.where(c, 2.5, -1.5)), (BOOL,)),
    row("where_int_float_scalar", lambda m, c, a: m.where(c, a, 2.5), (BOOL, I)),
    row("where_mixed_tensors", lambda m, c, a, b: m.where(c, a, b), (BOOL, A32, A[0]), gg=True),
    row("where_method", lambda m, c, a: a.where(c, 0.0), (BOOL, A)),
    row("round_decimals", lambda m, a: (m.round(a * 100, decimals=2), a.round(decimals=-1)), (A * 1000,)),
    row("round_half_even", lambda m, a: (m.round(a), m.round(a, decimals=1)),
        (np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.25, 0.35]),)),
    row("round_int", lambda m, a: m.round(a), (I,)),
    row("clamp_tensor_bounds", lambda m, a, lo, hi: m.clamp(a, lo, hi), (A, -P[0] / 3, P[:, :1] / 3), gg=True),
    row("clamp_tensor_min_only", lambda m, a, lo: a.clamp(min=lo), (A, B)),
    row("clamp_tensor_max_only", lambda m, a, hi: m.clamp(a, max=hi), (A, B), gg=True),
    row("clamp_ties", lambda m, a: m.clamp(a, a.detach()[0], a.detach()[1]), (np.array([[1.0, 2.0, 3.0],
                                                                                       [1.0, 2.0, 3.0]]),)),
    row("clamp_min_gt_max", lambda m, a, lo, hi: m.clamp(a, lo, hi), (A, B + 1, B - 1)),
    row("clamp_int_float_bound", lambda m, a, lo: m.clamp(a, lo), (I, B[:1].astype(np.float32))),
    row("clamp_nan_bound", lambda m, a, lo: m.clamp(a, lo), (A, np.array([np.nan, 0.0, 1.0, np.nan]))),
    row("clip_tensor_inplace", lambda m, a, lo: a.clone().clip_(lo, None), (A, B)),
    # ---- in-place forms and methods
    row("inplace_special", lambda m, a: a.clone().erf_().erfinv_().lgamma_().digamma_(), (U01,), gg=True,
        tol=1e-8),
    row("inplace_misc", lambda m, a, b: (a.clone().lerp_(b, 0.25), a.clone().hypot_(b), a.clone().xlogy_(b.abs()),
                                         a.clone().fmod_(2.5), a.clone().sgn_(), a.clone().addcdiv_(b, a)), (P, B)),
    row("inplace_logit_sinc", lambda m, a: (a.clone().logit_(), a.clone().sinc_(), a.clone().i0_(),
                                            a.clone().nan_to_num_(), a.clone().erfc_(),
                                            a.clone().polygamma_(1)), (U01,), tol=1e-8),
    row("inplace_remainder_div", lambda m, a, b: a.clone().remainder_(b).true_divide_(b), (A, P[0])),
    row("inplace_toplevel", lambda m, a: (m.erf_(a.clone()), m.erfc_(a.clone()), m.logit_(a.clone()), m.i0_(a.clone()),
                                          m.xlogy_(a.clone(), a), m.nan_to_num_(a.clone()), m.sinc_(a.clone())),
        (U01,), gg=True),
    row("inplace_fmod_int", lambda m, a: a.clone().fmod_(3), (I,)),
    row("inplace_mvlgamma", lambda m, a: (a + 1).mvlgamma_(2), (P,)),
]


def _nograd(m, fn):
    with m.no_grad():
        return fn()


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("fn,args,gg,tol,grad", ROWS)
def test_row(fn, args, gg, tol, grad, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, grad=grad, gradgrad=gg,
             rtol=tol, atol=None if tol is None else tol * 1e-2, device=device)


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("fn,args,gg,tol,grad", empty_rows(ROWS, 1))
def test_row_empty(fn, args, gg, tol, grad, device):
    """Each row again with a 0-size batch: PyTorch's result, or its exception type."""
    check_same_outcome(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, grad=grad, gradgrad=gg,
                       device=device)


# ---------------------------------------------------------------------------- accuracy beyond torch's
def test_special_kernels_against_mpmath_values():
    """Spot values known to 16+ digits (mpmath), where torch's float64 agrees too."""
    cases = [
        (ember.erf, 0.5, 0.5204998778130465), (ember.erfc, 10.0, 2.088487583762545e-45),
        (ember.erfc, 26.0, 5.663192408856143e-296), (ember.erfinv, 0.999999, 3.4589107372754988),
        (ember.lgamma, 0.5, 0.5723649429247001), (ember.lgamma, 1 + 1e-10, -5.772157125783244e-11),
        (ember.digamma, 0.25, -4.227453533376265), (ember.i0, 20.0, 43558282.55955353),
        (ember.special.i1e, 30.0, 0.07191633059864755), (ember.special.ndtri, 1e-100, -21.273453560965326),
    ]
    for fn, x, want in cases:
        got = fn(ember.tensor(x, dtype=ember.float64)).item()
        assert math.isclose(got, want, rel_tol=2e-15), (fn.__name__, x, got, want)


def test_polygamma_higher_orders():
    x = np.linspace(0.3, 12.0, 25)
    for n in (4, 6, 9):
        got = ember.polygamma(n, ember.tensor(x)).numpy()
        want = torch.polygamma(n, torch.tensor(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_gelu_style_erf_grad_float32_large():
    x = np.random.default_rng(0).standard_normal(10000).astype(np.float32) * 4
    check_op(lambda t: ember.erf(t).sum(), lambda t: torch.erf(t).sum(), x, rtol=1e-5, atol=1e-6)


def test_inplace_addcmul_fast_path_shares_memory_and_bumps_version():
    a = ember.zeros(4)
    v0 = a._version[0]
    view = a[1:]
    with ember.no_grad():
        a.addcmul_(ember.ones(4), ember.full((4,), 2.0), value=0.5)
    assert a._version[0] == v0 + 1
    assert view.tolist() == [1.0, 1.0, 1.0]


def test_sinc_second_derivative_at_zero():
    x = ember.tensor([0.0, 1e-3], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(ember.sinc(x).sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [-math.pi ** 2 / 3] * 2, rtol=1e-5)   # torch: NaN at 0


def test_grad_fn_names():
    x = ember.tensor([0.3, 0.6], requires_grad=True)
    names = {"ErfBackward0": ember.erf(x), "ErfinvBackward0": x.erfinv(), "LgammaBackward0": x.lgamma(),
             "DigammaBackward0": x.digamma(), "PolygammaBackward0": x.polygamma(2), "I0Backward0": x.i0(),
             "LogitBackward0": x.logit(), "SincBackward0": x.sinc(), "XlogyBackward0": x.xlogy(x),
             "LerpBackward0": x.lerp(x, 0.5), "AddcmulBackward0": x.addcmul(x, x), "HypotBackward0": x.hypot(x),
             "SpecialI1Backward0": ember.special.i1(x), "SpecialErfcxBackward0": ember.special.erfcx(x),
             "ClampBackward0": x.clamp(ember.tensor(0.4)), "SgnBackward0": x.sgn(), "FmaxBackward0": x.fmax(x)}
    for name, t in names.items():
        assert t.grad_fn.name() == name


# ---------------------------------------------------------------------------- bad input
def _t(m, v, **kw):
    return m.tensor(v, **kw)


ERRORS = [
    ("erf_complex", lambda m: m.erf(_t(m, [1j]))),
    ("lgamma_complex", lambda m: m.lgamma(_t(m, [1j]))),
    ("polygamma_negative_n", lambda m: m.polygamma(-1, _t(m, [1.0]))),
    ("zeta_grad_x", lambda m: m.special.zeta(_t(m, [2.0], requires_grad=True), _t(m, [1.0])).sum().backward()),
    ("lerp_int", lambda m: m.lerp(_t(m, [1]), _t(m, [2]), 0.5)),
    ("lerp_dtype_mismatch", lambda m: m.lerp(_t(m, [1.0]), _t(m, [2.0], dtype=m.float64), 0.5)),
    ("lerp_weight_dtype", lambda m: m.lerp(_t(m, [1.0]), _t(m, [2.0]), _t(m, [0.5], dtype=m.float64))),
    ("lerp_broadcast", lambda m: m.lerp(m.ones(2, 3), m.ones(4), 0.5)),
    ("addcdiv_int", lambda m: m.addcdiv(_t(m, [1]), _t(m, [1]), _t(m, [2]))),
    ("addcmul_bool", lambda m: m.addcmul(_t(m, [True]), _t(m, [True]), _t(m, [True]))),
    ("addcmul_broadcast", lambda m: m.addcmul(m.ones(2, 3), m.ones(4), m.ones(4))),
    ("hypot_int", lambda m: m.hypot(_t(m, [1]), _t(m, [2]))),
    ("hypot_scalar_other", lambda m: m.hypot(_t(m, [1.0]), 2.0)),
    ("logaddexp_int", lambda m: m.logaddexp(_t(m, [1]), _t(m, [2]))),
    ("fmax_scalar_other", lambda m: m.fmax(_t(m, [1.0]), 2.0)),
    ("fmod_int_zero", lambda m: m.fmod(_t(m, [1, 2]), 0)),
    ("fmod_bool", lambda m: m.fmod(_t(m, [True]), _t(m, [True]))),
    ("remainder_int_zero", lambda m: m.remainder(_t(m, [1, 2]), _t(m, [1, 0]))),
    ("remainder_bool", lambda m: m.remainder(_t(m, [True]), _t(m, [True]))),
    ("remainder_scalar_first_backward", lambda m: m.remainder(2.0, _t(m, [1.5], requires_grad=True)).sum().backward()),
    ("div_floor_int_zero", lambda m: m.div(_t(m, [1]), 0, rounding_mode="floor")),
    ("div_bad_mode", lambda m: m.div(_t(m, [1.0]), 2, rounding_mode="round")),
    ("float_power_inplace_dtype", lambda m: _t(m, [1.0]).float_power_(2)),
    ("isclose_dtype", lambda m: m.isclose(_t(m, [1.0]), _t(m, [1]))),
    ("isclose_negative_rtol", lambda m: m.isclose(_t(m, [1.0]), _t(m, [1.0]), rtol=-1)),
    ("allclose_broadcast", lambda m: m.allclose(m.ones(2), m.ones(3))),
    ("equal_not_tensor", lambda m: m.equal(_t(m, [1.0]), 1.0)),
    ("shift_float", lambda m: m.bitwise_left_shift(_t(m, [1.0]), 1)),
    ("shift_bool", lambda m: m.bitwise_right_shift(_t(m, [True]), _t(m, [True]))),
    ("round_int_decimals", lambda m: m.round(_t(m, [1, 2]), decimals=1)),
    ("clamp_tensor_broadcast", lambda m: m.clamp(m.ones(2, 3), m.zeros(4))),
    ("clamp_no_bounds", lambda m: m.clamp(_t(m, [1.0]))),
    ("clamp_mixed_bounds", lambda m: m.clamp(_t(m, [1.0]), -0.5, _t(m, [1.0]))),
    ("xlogy_broadcast", lambda m: m.xlogy(m.ones(2, 3), m.ones(4))),
    ("where_int_condition", lambda m: m.where(_t(m, [1, 0]), 1.0, 0.0)),
    ("sinc_inplace_int", lambda m: _t(m, [1, 2]).sinc_()),
    ("erf_inplace_int", lambda m: _t(m, [1, 2]).erf_()),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input(name, fn):
    check_raises(lambda: fn(ember), lambda: fn(torch))
