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
from empty_variants import check_same_outcome, empty_rows
from parity import check_op, check_raises

rng = np.random.default_rng(13)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((4,))
A32 = A.astype(np.float32)
P = rng.uniform(0.2, 3.0, (3, 4))
P32 = P.astype(np.float32)
I = rng.integers(-30, 31, (3, 4))
J = rng.integers(-12, 13, (4,))
E = rng.integers(-3, 4, (3, 4))
SQ = rng.standard_normal((3, 3)) + 3 * np.eye(3)
SQB = rng.standard_normal((2, 3, 3))
WIDE = rng.standard_normal((3, 5))
RHS = rng.standard_normal((3, 2))
SPD_L = np.linalg.cholesky(SQ @ SQ.T + np.eye(3))
SIG = rng.standard_normal((2, 40))
PX = np.array([-1.5, -1.0, -0.3, 0.0, 0.5, 1.0, 2.0])
PN = np.array([0, 1, 2, -1, 5, 30, 2])
BX = np.array([0.0, 1e-3, 0.3, 0.49, 0.51, 2.0, -3.0, 40.0, -25.0])
POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
               "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]
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
    # ---- metadata_inplace
    row("t_", lambda m, a: (a * 2).t_(), (A,), gg=True),
    row("transpose_swap_inplace", lambda m, a: ((a * 2).transpose_(0, 1), (a * 1).swapaxes_(1, 0),
                                                (a * 1).swapdims_(0, 1)), (A,)),
    row("squeeze_unsqueeze_inplace", lambda m, a: (a * 1).unsqueeze_(1).unsqueeze_(0).squeeze_(1).squeeze_().exp(),
        (A,), gg=True),
    row("squeeze_dims_inplace", lambda m, a: (a * 1).reshape(3, 1, 4, 1).squeeze_((1, 3)), (A,)),
    row("inplace_view_chain_grad", lambda m, a, b: (a * 1).t_().unsqueeze_(0) * b[None, :, None], (A, B)),
    row("resize_deprecated_views", lambda m, a, b: (a.resize(4, 3), a.resize_as(b.reshape(2, 2).repeat(3, 1))),
        (A, B), gg=True),
    row("resize_as_function", lambda m, a: m.resize_as_(a.detach() * 1, a[:2]), (A,), grad=False),
    # ---- tensor_utilities
    row("fill_diagonal_", lambda m, a: (a * 1).fill_diagonal_(5.0), (A,)),
    row("fill_diagonal_wrap", lambda m, a: (a.repeat(3, 1).t() * 1).t().fill_diagonal_(-1.0, wrap=True), (A,)),
    row("fill_diagonal_cube", lambda m, a: (a[:2, :2, None] * a[:2, None, :2]).fill_diagonal_(0.5), (A,)),
    row("sum_to_size", lambda m, a: a.sum_to_size(1, 4), (A,), gg=True),
    row("sum_to_size_tuple", lambda m, a: (a.reshape(3, 1, 4) * a[:1, None, :]).sum_to_size((3, 1, 1)), (A,)),
    row("sum_to_size_same", lambda m, a: a.sum_to_size(3, 4), (A,)),
    row("isin", lambda m, a, b: (m.isin(a, b), m.isin(a, b, invert=True), m.isin(a, 3), m.isin(2, b)), (I, J)),
    row("isin_float", lambda m, a: m.isin(a, a[1]), (A,)),
    row("isreal", lambda m, a: (m.isreal(a), m.isreal(m.complex(a, a * (a > 0)))), (A,), grad=False),
    row("adjoint", lambda m, a: a.adjoint(), (A,), gg=True),
    row("adjoint_complex_batched", lambda m, a: m.complex(a, a * 2).reshape(3, 2, 2).adjoint(), (A,)),
    row("scalar_tensor", lambda m: (m.scalar_tensor(3), m.scalar_tensor(2.5, dtype=m.float64),
                                    m.scalar_tensor(True)), ()),
    row("detach_function", lambda m, a: m.detach(a * 2) + a, (A,)),
    row("new_from_data", lambda m, a: (a.new([1, 2]), a.new(2, 3).shape, a.new().shape, a.new((2, 3))), (A,)),
    row("resize_", lambda m, a: (a.detach() * 1).resize_(2, 3), (A,), grad=False),
    row("resize_as_", lambda m, a, b: (a.detach() * 1).resize_as_(b[:2]), (A, B), grad=False),
    # ---- windows
    row("windows", lambda m: (m.hann_window(8), m.hann_window(7, False, dtype=m.float64),
                              m.hamming_window(6, True, 0.5, 0.3), m.hamming_window(5, False), m.blackman_window(5),
                              m.blackman_window(6, False, dtype=m.float64), m.bartlett_window(6, False),
                              m.bartlett_window(7), m.kaiser_window(9, True, 5.0),
                              m.kaiser_window(6, False, dtype=m.float64), m.hann_window(1), m.bartlett_window(0)), ()),
    # ---- calculus
    row("trapezoid", lambda m, y: m.trapezoid(y), (A,), gg=True),
    row("trapezoid_x_1d", lambda m, y, x: m.trapezoid(y, x[:3].cumsum(0), dim=0), (A, B)),
    row("trapezoid_x_full_dx", lambda m, y, x: (m.trapezoid(y, y.exp().cumsum(1)), m.trapz(y, dx=0.5)), (A, B)),
    row("trapezoid_int_empty", lambda m, i: (m.trapezoid(i), m.trapezoid(i[:, :0]), m.trapz(i, dim=0)), (I,)),
    row("cumulative_trapezoid", lambda m, y, x: (m.cumulative_trapezoid(y), m.cumulative_trapezoid(y, x.cumsum(0)),
                                                 m.cumulative_trapezoid(y.mT, dx=2.0, dim=0)), (A, B), gg=True),
    row("cumulative_trapezoid_one_sample", lambda m, y: m.cumulative_trapezoid(y[:, :1]), (A,)),
    # ---- statistics
    row("cov", lambda m, a: (m.cov(a), m.cov(a.mT, correction=0)), (A,), gg=True),
    row("cov_weights", lambda m, a, w: m.cov(a, fweights=m.tensor([1, 2, 1, 3]), aweights=w.abs() + 0.1), (A, B)),
    row("cov_1d_int", lambda m, a, i: (m.cov(a[0]), m.cov(i)), (A, I)),
    row("cov_complex", lambda m, a: m.cov(m.complex(a, a.flip(0))), (A,), grad=False),
    row("corrcoef", lambda m, a: (m.corrcoef(a), m.corrcoef(a[0])), (A,), gg=True),
    row("histogram", lambda m, a: tuple(m.histogram(a.reshape(-1), 4)), (A,), grad=False),
    row("histogram_edges_density_weight", lambda m, a, b: (
        tuple(m.histogram(a, m.tensor([-1.0, 0.0, 0.5, 2.0], dtype=m.float64), density=True)),
        tuple(m.histogram(a, 3, range=(-1.0, 1.0), weight=a.abs()))), (A, B), grad=False),
    row("histogram_f32_constant", lambda m, a: tuple(m.histogram(a * 0 + 1, 2)), (A32,), grad=False),
    row("histogramdd", lambda m, a: (m.histogramdd(a[:, :2], [2, 3]).hist, m.histogramdd(a[:, :2], [2, 3]).bin_edges,
                                     m.histogramdd(a, 2, range=[-1.0, 1.0] * 4, density=True).hist), (A,), grad=False),
    # ---- polynomial / flat_index
    # torch's vander cannot backward (an in-place cumprod); ember's gradient is checked by gradcheck below
    row("vander", lambda m, x: (m.vander(x), m.vander(x, N=2, increasing=True)), (B,), grad=False),
    row("vander_int_bool", lambda m, j: (m.vander(j[:3]), m.vander(j > 0, N=3), m.vander(j * 1.0, N=0)), (J,)),
    row("unravel_index", lambda m, j: m.unravel_index(j, (2, 3, 2)), (J,)),
    # ---- lu_decomposition / matrix_exponential / triangular_solvers / eigen_general
    row("linalg_lu_factor", lambda m, a: tuple(m.linalg.lu_factor(a)), (SQ,), gg=True),
    row("linalg_lu_factor_ex_batched", lambda m, a: tuple(m.linalg.lu_factor_ex(a)), (SQB,)),
    row("linalg_lu_factor_rect", lambda m, a: (tuple(m.linalg.lu_factor_ex(a)), tuple(m.linalg.lu_factor_ex(a.mT))),
        (WIDE,), gg=True),
    row("linalg_lu", lambda m, a: tuple(m.linalg.lu(a)), (SQB,), gg=True),
    row("linalg_lu_rect", lambda m, a: (tuple(m.linalg.lu(a)), tuple(m.linalg.lu(a.mT))), (WIDE,), gg=True),
    row("lu_legacy", lambda m, a: tuple(m.lu(a)) + tuple(m.lu(a, get_infos=True)), (SQ,)),
    row("lu_unpack", lambda m, a: tuple(m.lu_unpack(*m.linalg.lu_factor(a))), (SQB,), gg=True),
    row("lu_unpack_parts", lambda m, a: (m.lu_unpack(*m.linalg.lu_factor(a), unpack_pivots=False)[1:],
                                         m.lu_unpack(*m.linalg.lu_factor(a), unpack_data=False)[0]), (SQ,)),
    row("linalg_lu_solve", lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b), (SQ, RHS), gg=True),
    row("linalg_lu_solve_variants", lambda m, a, b: (
        m.linalg.lu_solve(*m.linalg.lu_factor(a), b, adjoint=True),
        m.linalg.lu_solve(*m.linalg.lu_factor(a), b.mT, left=False),
        m.linalg.lu_solve(*m.linalg.lu_factor(a), b.mT, left=False, adjoint=True)), (SQ, RHS)),
    row("lu_solve_legacy", lambda m, a, b: m.lu_solve(b, *m.lu(a)), (SQ, RHS)),
    row("matrix_exp", lambda m, a: m.matrix_exp(a), (SQB,), gg=True, tol=1e-12),
    row("matrix_exp_large_norm_method", lambda m, a: (a * 4).matrix_exp(), (SQ,), tol=1e-12),
    row("linalg_matrix_exp_f32", lambda m, a: m.linalg.matrix_exp(a), (A32[:, :3],), tol=1e-5),
    row("cholesky_solve", lambda m, b, l: (m.cholesky_solve(b, l), m.cholesky_solve(b, l.mT, upper=True)),
        (RHS, SPD_L), gg=True),
    row("cholesky_inverse", lambda m, l: (m.cholesky_inverse(l), l.mT.cholesky_inverse(upper=True)), (SPD_L,),
        gg=True),
    row("triangular_solve", lambda m, b, a: (tuple(m.triangular_solve(b, a.triu())),
                                             tuple(b.triangular_solve(a.tril(), upper=False, transpose=True,
                                                                      unitriangular=True))), (RHS, SQ)),
    row("linalg_eig", lambda m, a: (lambda lv: (lv[0].real ** 2, lv[0].imag.abs(), lv[1].abs()))(m.linalg.eig(a)),
        (SQB,)),
    row("linalg_eigvals", lambda m, a: (lambda v: (v.real, v.imag.abs()))(m.linalg.eigvals(a)), (SQB,)),
    # ---- incomplete_gamma
    row("igamma_grad_x", lambda m, a, x: m.igamma(a.detach(), x), (P, P[::-1].copy() * 2), gg=True, tol=1e-10),
    row("igammac_method_grad_x", lambda m, a, x: a.detach().igammac(x), (P, P[:, ::-1].copy()), gg=True, tol=1e-10),
    row("special_gammainc_cc", lambda m, a, x: (m.special.gammainc(a, x), m.special.gammaincc(a, x)),
        (np.array([0.0, 0.0, 1.0, 2.0, -1.0, 1.0, np.inf, 3.0, 1e-3, 500.0, 0.5, 2.0, 1e4, 0.1, 30.0]),
         np.array([0.0, 1.0, 0.0, np.inf, 1.0, -1.0, 1.0, np.inf, 1e-3, 510.0, np.nan, 1e-300, 1.01e4, 40.0, 3.0])),
        grad=False, tol=1e-9),
    row("igamma_f32_broadcast_inplace", lambda m, a, x: ((a * 1).igamma_(x), (a * 1).igammac_(x)),
        (P32, P32[0] * 3), grad=False),
    # ---- stft
    # (no second derivatives: ember's FFT gradients are first-order only)
    row("stft", lambda m, x: m.stft(x, 16, window=m.hann_window(16, dtype=x.dtype), return_complex=True).abs(),
        (SIG,)),
    row("stft_1d_rect_window_real_view", lambda m, x: x[0].stft(8, hop_length=3, window=m.ones(8, dtype=x.dtype),
                                                                return_complex=False), (SIG,)),
    row("stft_win_length_no_center_twosided", lambda m, x: m.view_as_real(m.stft(
        x, 8, hop_length=2, win_length=6, window=m.hann_window(6, dtype=x.dtype), center=False, normalized=True,
        onesided=False, return_complex=True)), (SIG,)),
    row("stft_f32_constant_pad", lambda m, x: m.stft(x.float(), 10, window=m.hamming_window(10), pad_mode="constant",
                                                     return_complex=True).abs(), (SIG,), tol=1e-5),
    row("istft_round_trip", lambda m, x: m.istft(m.stft(x, 16, window=m.hann_window(16, dtype=x.dtype),
                                                        return_complex=True), 16,
                                                 window=m.hann_window(16, dtype=x.dtype)), (SIG,)),
    row("istft_length_no_center", lambda m, x: (
        m.istft(m.stft(x, 8, hop_length=2, window=m.ones(8, dtype=x.dtype), center=False, return_complex=True), 8,
                hop_length=2, window=m.ones(8, dtype=x.dtype), center=False, length=30),
        m.istft(m.stft(x[0], 16, window=m.hann_window(16, dtype=x.dtype), return_complex=True), 16,
                window=m.hann_window(16, dtype=x.dtype), length=50)), (SIG,)),
    row("istft_twosided_normalized_method", lambda m, x: m.stft(
        x, 16, window=m.hann_window(16, dtype=x.dtype), onesided=False, normalized=True, return_complex=True).istft(
        16, window=m.hann_window(16, dtype=x.dtype), normalized=True, onesided=False), (SIG,)),
    # ---- orthogonal polynomials and Bessel functions of torch.special (no gradients in torch)
    *[row(name, (lambda f: lambda m, x, n: (getattr(m.special, f)(x, n), getattr(m.special, f)(x, 3)))(name),
          (PX, PN), grad=False, tol=1e-9) for name in POLYNOMIALS],
    *[row(name + "_f32", (lambda f: lambda m, x, n: (getattr(m.special, f)(x.float(), n),
                                                     getattr(m.special, f)(0.5, n)))(name), (PX, PN), grad=False,
          tol=1e-5) for name in POLYNOMIALS],
    row("spherical_bessel_j0", lambda m, x: (m.special.spherical_bessel_j0(x), m.special.spherical_bessel_j0(x.float()),
                                             m.special.spherical_bessel_j0(x.long())), (BX,), grad=False),
    row("modified_bessel_i0_i1", lambda m, x: (m.special.modified_bessel_i0(x), m.special.modified_bessel_i1(x),
                                               m.special.modified_bessel_i0(x.float())), (BX,), grad=False),
    # ---- view_copies
    row("view_copies", lambda m, a: (m.view_copy(a, (4, 3)), m.slice_copy(a, 1, 1, 3), m.slice_copy(a, -1, 0, 4, 2),
                                     m.alias_copy(a), m.t_copy(a), m.diagonal_copy(a, 1), m.expand_copy(a[:1], (2, 4)),
                                     m.permute_copy(a, (1, 0)), m.select_copy(a, 1, 2), m.squeeze_copy(a[None]),
                                     m.squeeze_copy(a[None], 0), m.unsqueeze_copy(a, 1), m.transpose_copy(a, 0, 1),
                                     m.unfold_copy(a, 1, 2, 1), m.as_strided_copy(a, (2, 2), (1, 2))), (A,), gg=True),
    row("detach_copy", lambda m, a: m.detach_copy(a), (A,), grad=False),
    row("view_copies_multi", lambda m, a: (m.split_copy(a, 2, 1), m.split_with_sizes_copy(a, [1, 3], 1),
                                           m.unbind_copy(a, 1)), (A,)),
    row("view_copies_complex", lambda m, a: (m.view_as_real_copy(m.view_as_complex_copy(a.reshape(3, 2, 2))),),
        (A,), grad=False),   # torch: view_as_complex_copy has no derivative
    # ---- phase / control_flow / gradient / renorm / nonzero_static
    row("angle_real", lambda m, a: (m.angle(a), a.angle(), m.angle(a.long())), (SIGNED_ZEROS,)),
    row("angle_grad", lambda m, a: m.angle(a), (A,)),
    row("angle_complex", lambda m, a, b: m.angle(m.complex(a, b)), (A, B)),
    row("conj_physical_", lambda m, a, b: (m.complex(a, b).conj_physical_(), m.conj_physical_(a * 1)), (A, B),
        grad=False),
    row("cond_while_loop", lambda m, a: (m.cond(a.sum() > 0, lambda x: x.exp(), lambda x: x.sin(), (a,)),
                                         m.cond(False, lambda x: x.exp(), lambda x: x.sin(), [a]),
                                         m.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * x + 0.1),
                                                      (m.tensor(0), a))[1]), (A,)),  # torch.cond: no gg
    row("gradient", lambda m, a: m.gradient(a), (A,), gg=True),
    row("gradient_spacing_dim_order2", lambda m, a: (m.gradient(a, spacing=2.0, dim=1, edge_order=2),
                                                     m.gradient(a, spacing=[0.5, 3.0], dim=(0, 1))), (A,)),
    row("gradient_coordinates", lambda m, a, x: (m.gradient(a, spacing=(x.abs().cumsum(0),), dim=1),
                                                 m.gradient(a, spacing=(x.abs().cumsum(0),), dim=1, edge_order=2)),
        (A, B), gg=True),
    row("gradient_int", lambda m, i: m.gradient(i), (I,)),
    row("renorm", lambda m, a: (m.renorm(a, 2, 0, 1.0), a.renorm(1, 1, 1.5), (a * 1).renorm_(3, 0, 0.5)), (A,),
        gg=True),
    row("nonzero_static", lambda m, i: (m.nonzero_static(i, size=3), i.nonzero_static(size=20, fill_value=7),
                                        m.nonzero_static(i[0, 0], size=2)), (I,)),
    # ---- householder
    row("geqrf", lambda m, a: tuple(m.geqrf(a)) + tuple(a.mT.geqrf()), (WIDE,), grad=False),
    row("householder_product", lambda m, a, t: (m.linalg.householder_product(a, t),
                                                m.linalg.householder_product(a[0], t[0, :1])),
        (SQB.transpose(0, 2, 1)[:, :, :2].copy(), A[:2, :2]), gg=True),
    row("orgqr_ormqr", lambda m, a, o: (lambda g: (m.orgqr(g.a, g.tau), g.a.ormqr(g.tau, o),
                                                   m.ormqr(g.a, g.tau, o, transpose=True),
                                                   m.ormqr(g.a, g.tau, o.mT, left=False, transpose=True)))(
        m.geqrf(a.detach())), (WIDE.T.copy(), RHS.repeat(2, 0)[:5])),
    # ---- index_reduce
    *[row(f"index_reduce_{red}_{inc}", (lambda r, i: lambda m, a, s: (
        a.index_reduce(0, m.tensor([0, 2, 0, 1]), s, r, include_self=i),
        m.index_reduce(a.mT, 1, m.tensor([2, 2, 0, 1]), s.mT, r, include_self=i)))(red, inc),
        (A, np.vstack([P, B[None]])), gg=(red == "mean")) for red in ("prod", "mean", "amax", "amin")
      for inc in (True, False)],
    row("index_reduce_int32_index", lambda m, a, s: a.index_reduce(0, m.tensor([0, 2, 0, 1], dtype=m.int32), s, "amin"),
        (A, np.vstack([A, B[None]])), grad=False),
    row("index_reduce_inplace", lambda m, a, s: (a * 1).index_reduce_(1, m.tensor([3, 0]), s[:, :2], "amax"), (A, A)),
    row("unravel_index_wrap_int_shape", lambda m, i: (m.unravel_index(i, 7), m.unravel_index(i, m.Size([5, 2])),
                                                      m.unravel_index(i[0], ())), (I,)),
]


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
    ("t_3d", lambda m: m.ones(2, 2, 2).t_()),
    ("transpose_bad_dim", lambda m: m.ones(2, 2).transpose_(0, 2)),
    ("t_leaf", lambda m: m.ones(2, 3, requires_grad=True).t_()),
    ("unsqueeze_leaf", lambda m: m.ones(2, requires_grad=True).unsqueeze_(0)),
    ("resize_requires_grad", lambda m: (m.ones(2, requires_grad=True) * 2).resize_(4)),
    ("fill_diagonal_1d", lambda m: m.zeros(3).fill_diagonal_(1)),
    ("fill_diagonal_unequal", lambda m: m.zeros(2, 3, 4).fill_diagonal_(1)),
    ("sum_to_size_bad", lambda m: m.ones(2, 3).sum_to_size(2)),
    ("is_nonzero_many", lambda m: m.ones(2).is_nonzero()),
    ("is_nonzero_empty", lambda m: m.ones(0).is_nonzero()),
    ("adjoint_1d", lambda m: m.ones(2).adjoint()),
    ("apply_requires_grad", lambda m: m.ones(2, requires_grad=True).apply_(lambda v: v)),
    ("new_other_dtype", lambda m: m.ones(2).new(m.tensor([1, 2]))),
    ("empty_strided_mismatch", lambda m: m.empty_strided((2, 3), (1,))),
    ("hann_window_int", lambda m: m.hann_window(5, dtype=m.int64)),
    ("kaiser_window_negative", lambda m: m.kaiser_window(-1)),
    ("trapezoid_x_length", lambda m: m.trapezoid(m.ones(2, 3), m.ones(2))),
    ("cov_3d", lambda m: m.cov(m.ones(2, 2, 2))),
    ("cov_float_fweights", lambda m: m.cov(m.ones(2, 3), fweights=m.ones(3))),
    ("cov_negative_aweights", lambda m: m.cov(m.ones(2, 3), aweights=-m.ones(3))),
    ("cov_weights_numel", lambda m: m.cov(m.ones(2, 3), aweights=m.ones(2))),
    ("histogram_int", lambda m: m.histogram(m.tensor([1, 2]), 3)),
    ("histogram_bad_range", lambda m: m.histogram(m.tensor([1.0, 2.0]), 3, range=(2.0, 1.0))),
    ("vander_2d", lambda m: m.vander(m.ones(2, 2))),
    ("vander_negative_n", lambda m: m.vander(m.ones(2), N=-1)),
    ("unravel_index_float", lambda m: m.unravel_index(m.tensor([1.0]), (2, 3))),
    ("lu_factor_singular", lambda m: m.linalg.lu_factor(m.tensor([[1.0, 2.0], [2.0, 4.0]]))),
    ("lu_factor_1d", lambda m: m.linalg.lu_factor(m.ones(3))),
    ("lu_factor_int", lambda m: m.linalg.lu_factor(m.ones(2, 2, dtype=m.int64))),
    ("matrix_exp_rect", lambda m: m.linalg.matrix_exp(m.ones(2, 3))),
    ("eig_rect", lambda m: m.linalg.eig(m.ones(2, 3))),
    ("igamma_int", lambda m: m.igamma(m.tensor([1, 2]), m.tensor([1, 2]))),
    ("igamma_number_other", lambda m: m.igamma(m.tensor([1.0]), 2.0)),
    ("igamma_grad_a", lambda m: m.special.gammainc(m.tensor([2.0], requires_grad=True), m.tensor([1.5])).backward()),
    ("stft_no_return_complex", lambda m: m.stft(m.ones(40), 8)),
    ("stft_3d", lambda m: m.stft(m.ones(1, 2, 40), 8, return_complex=True)),
    ("stft_window_size", lambda m: m.stft(m.ones(40), 8, window=m.ones(5), return_complex=True)),
    ("istft_real_input", lambda m: m.istft(m.ones(5, 3), 8)),
    ("istft_zero_envelope", lambda m: m.istft(m.stft(m.ones(40), 8, hop_length=2, window=m.hann_window(8),
                                                      center=False, return_complex=True), 8, hop_length=2,
                                               window=m.hann_window(8), center=False)),
    ("binomial_int_count", lambda m: m.binomial(m.tensor([10, 20]), m.tensor([0.5, 0.1]))),
    ("binomial_dtype_mismatch", lambda m: m.binomial(m.tensor([10.0]), m.tensor([0.5], dtype=m.float64))),
    ("binomial_backward", lambda m: m.binomial(m.tensor([10.0], requires_grad=True), m.tensor([0.5])).sum().backward()),
    ("renorm_negative_p", lambda m: m.renorm(m.ones(2, 2), -1, 0, 1.0)),
    ("renorm_negative_maxnorm", lambda m: m.renorm(m.ones(2, 2), 2, 0, -1.0)),
    ("nonzero_static_negative_size", lambda m: m.nonzero_static(m.ones(2), size=-1)),
    ("gradient_edge_order", lambda m: m.gradient(m.ones(4), edge_order=3)),
    ("gradient_too_short", lambda m: m.gradient(m.ones(2), edge_order=2)),
    ("gradient_spacing_length", lambda m: m.gradient(m.ones(3, 3), spacing=[1.0, 2.0, 3.0])),
    ("geqrf_backward", lambda m: m.geqrf(m.ones(3, 3, requires_grad=True)).a.sum().backward()),
    ("householder_wide", lambda m: m.linalg.householder_product(m.ones(2, 3), m.ones(2))),
    ("index_reduce_sum", lambda m: m.ones(3).index_reduce(0, m.tensor([0]), m.ones(1), "sum")),
    ("index_reduce_float_index", lambda m: m.ones(3).index_reduce(0, m.tensor([0.0]), m.ones(1), "prod")),
    ("index_reduce_count", lambda m: m.ones(3, 2).index_reduce(0, m.tensor([0, 1]), m.ones(1, 2), "prod")),
    ("index_reduce_2d_index", lambda m: m.ones(3).index_reduce(0, m.tensor([[0]]), m.ones(1), "prod")),
    ("resize_numel", lambda m: m.ones(6).resize(4)),
    ("unravel_index_negative_shape", lambda m: m.unravel_index(m.tensor([1]), (2, -3))),
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


def _version(t):
    return t._version[0] if isinstance(t._version, list) else t._version   # ember shares a 1-element list


def test_predicates_and_callback_fills():
    for lib in (ember, torch):
        assert lib.tensor([0.0]).is_nonzero() is False and lib.is_nonzero(lib.tensor(2)) is True
        assert lib.ones(2, 3).is_same_size(lib.zeros(2, 3)) and not lib.is_same_size(lib.ones(2), lib.ones(3))
        assert [lib.is_signed(lib.ones(1, dtype=d)) for d in (lib.uint8, lib.int8, lib.bool, lib.float16,
                                                              lib.complex64)] == [False, True, False, True, True]
    for lib in (ember, torch):
        x = lib.arange(6).reshape(2, 3)
        v = _version(x)
        assert x.apply_(lambda a: a * 3 + 1) is x and _version(x) == v   # torch does not count these writes
        x.map_(lib.tensor([1, 2, 3]), lambda a, b: a - b)
        x.map2_(lib.tensor([[1], [2]]), lib.tensor([10, 20, 30]), lambda a, b, c: a * b + c)
        if lib is ember:
            got = x.tolist()
        else:
            assert x.tolist() == got
    a = ember.ones(3)
    assert a.new(a) is not a and a.new(a).data_ptr() == a.data_ptr()


def test_inplace_metadata_ops_keep_memory_and_bump_version():
    for lib in (ember, torch):
        base = lib.arange(6.0).reshape(2, 3)
        v = _version(base)
        ptr = base.data_ptr()
        assert base.t_() is base and tuple(base.shape) == (3, 2) and base.data_ptr() == ptr
        assert _version(base) == v + 1 and not base.is_contiguous()
        r = lib.arange(6.0)
        ptr = r.data_ptr()
        r.resize_(2, 2)
        assert r.data_ptr() == ptr and r.tolist() == [[0.0, 1.0], [2.0, 3.0]]
        r.resize_(3, 3)
        assert r.reshape(-1)[:4].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_empty_strided_layout():
    for lib in (ember, torch):
        e = lib.empty_strided((2, 3), (1, 2), dtype=lib.float64)
        assert e.stride() == (1, 2) and tuple(e.shape) == (2, 3) and e.dtype == lib.float64
        z = lib.ones(2, dtype=lib.int32).new_empty_strided((4,), (2,))
        assert z.stride() == (2,) and z.dtype == lib.int32
        assert tuple(lib.empty_strided((0, 3), (3, 1)).shape) == (0, 3)


def test_vander_gradient_by_gradcheck():
    x = ember.tensor([0.5, -1.5, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.vander(t, N=4), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.vander(t, increasing=True), (x,))


def test_binomial_samples():
    count = ember.tensor([10.0, 20.0, 0.0, -1.0]).repeat(4000, 1)
    prob = ember.tensor([0.5, 0.1, 0.7, 0.5])
    for lib, c, p in ((ember, count, prob), (torch, torch.tensor(count.numpy()), torch.tensor(prob.numpy()))):
        r = lib.binomial(c, p)
        assert r.dtype == lib.float32 and tuple(r.shape) == (4000, 4)
        mean = r.mean(0).tolist()
        assert abs(mean[0] - 5) < 0.2 and abs(mean[1] - 2) < 0.1 and mean[2] == 0 and mean[3] == 0
        assert float(r.max()) <= 20 and float(r.min()) >= 0 and bool((r == r.round()).all())
    g = ember.Generator().manual_seed(3)
    a = ember.binomial(count[:2], prob, generator=g)
    assert a.tolist() == ember.binomial(count[:2], prob, generator=ember.Generator().manual_seed(3)).tolist()


def test_python_protocol_names_match_torch():
    for lib in (ember, torch):
        u = lib.tensor([1, 2, 7])
        u <<= 1
        u >>= 1
        u %= 3
        got = (u.tolist(), (2 << lib.tensor([1, 3])).tolist(), (64 >> lib.tensor([1, 3])).tolist(),
               lib.tensor([7.0]).__rdiv__(2).tolist(), lib.tensor([7.0]).__div__(2).tolist(),
               lib.tensor([7.0]).__idiv__(2).tolist(), lib.tensor(3).__long__(), lib.tensor([0.0]).__nonzero__(),
               [t.tolist() for t in reversed(lib.arange(6).reshape(3, 2))], reversed(lib.tensor(2.0)).tolist())
        if lib is ember:
            expected = got
        else:
            assert got == expected
        with pytest.raises(TypeError, match="Tensor does not support deleting items"):
            del lib.ones(2)[0]


def test_dlpack_exchange_shares_memory():
    a = np.arange(4.0)
    x = ember.from_dlpack(a)
    x[0] = 9.0
    assert a[0] == 9.0
    t = ember.arange(6.0).reshape(2, 3)
    assert ember.from_dlpack(ember.to_dlpack(t)).tolist() == t.tolist()
    tt = torch.from_dlpack(t)           # torch imports ember's tensor without a copy
    tt[0, 0] = -5.0
    assert t[0, 0].item() == -5.0
    assert ember.from_dlpack(torch.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
    assert t.__dlpack_device__()[0] == torch.ones(1).__dlpack_device__()[0] == 1
    for lib in (ember, torch):
        with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
            lib.ones(2, requires_grad=True).__dlpack__()


def test_small_torch_functions():
    for lib in (ember, torch):
        e = lib.empty_permuted((2, 3, 4), (0, 2, 1))
        buf = bytearray(np.arange(4, dtype=np.float32).tobytes())
        t = lib.frombuffer(buf, dtype=lib.float32)
        t[0] = 7.0
        got = (tuple(e.shape), e.stride(), lib.get_device(lib.ones(1)), lib.typename(lib.ones(1)),
               lib.typename(lib.nn.Linear(1, 1)), lib.typename(3), np.frombuffer(buf, dtype=np.float32).tolist(),
               lib.frombuffer(buf, dtype=lib.float32, count=2, offset=4).tolist())
        if lib is ember:
            expected = got
        else:
            assert got == expected


def test_memory_identity_methods():
    for lib in (ember, torch):
        x = lib.ones(2, 3, 4).permute(2, 0, 1)
        a, b = lib.ones(3), lib.zeros(2)
        c = lib.zeros(4)
        c.set_(a)
        a[0] = 5.0
        d = lib.ones(3)
        d.set_()
        got = (x.dim_order(), lib.ones(2, 1, 3).dim_order(), a.const_data_ptr() == a.data_ptr(), a.is_set_to(a),
               a.is_set_to(a[:]), a.is_set_to(b), a[1:].is_set_to(a), c.tolist(), c.is_set_to(a), tuple(d.shape),
               lib.is_distributed(a), a.is_distributed())
        if lib is ember:
            expected = got
        else:
            assert got == expected
        check_raises(lambda: ember.zeros(2, requires_grad=True).set_(ember.ones(3)),
                     lambda: torch.zeros(2, requires_grad=True).set_(torch.ones(3)))
