"""Op table: products (matmul in every broadcasting case, mm, bmm, mv, dot, vdot, inner, outer, add*mm family,
einsum, tensordot, kron, cross, trace, cdist) and ``ember.linalg`` (inv, det, slogdet, solve, cholesky, qr,
svd, eigh, pinv, matrix_power, matrix_rank, lstsq, norm, multi_dot, ...) against torch: values, dtypes,
gradients and, on a third of the rows or more, second derivatives.

Decompositions whose factors are defined only up to sign (SVD, eigh) are compared through quantities that
do not depend on the sign choice (reconstructions, projectors, products with their own column sums).
"""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.linalg  # noqa: F401
from devices import TABLE_DEVICES
from empty_variants import check_same_outcome, empty_rows
from parity import check_op, check_raises, assert_same

rng = np.random.default_rng(2)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((4, 5))
V3 = rng.standard_normal((3,))
V4 = rng.standard_normal((4,))
V5 = rng.standard_normal((5,))
BA = rng.standard_normal((2, 3, 4))
BB = rng.standard_normal((2, 4, 5))
B1 = rng.standard_normal((1, 4, 5))
C4 = rng.standard_normal((2, 1, 3, 4))
SQ = rng.standard_normal((4, 4)) + 3 * np.eye(4)
SQB = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
SPD = SQ @ SQ.T + np.eye(4)
SYM = SQ + SQ.T
TALL = rng.standard_normal((5, 3))
WIDE = rng.standard_normal((3, 5))
RHS = rng.standard_normal((4, 2))
F32 = rng.standard_normal((3, 4)).astype(np.float32)
F32B = rng.standard_normal((4, 2)).astype(np.float32)
SQ32 = SQ.astype(np.float32)
I64 = rng.integers(-3, 4, (3, 4))
I64B = rng.integers(-3, 4, (4, 2))
P3 = rng.standard_normal((4, 3))
Q3 = rng.standard_normal((4, 3))
X1 = rng.standard_normal((5, 3))
X2 = rng.standard_normal((4, 3))
E0 = np.zeros((0, 4))


def _svd_inv(m, u, s, vh):
    """Sign-free functions of an SVD: the reconstruction, both projectors, and the singular values."""
    return (u * s.unsqueeze(-2)) @ vh, u @ u.mT, vh.mT @ vh, s, u * u.sum(-2, keepdim=True)


def _eigh_inv(m, lam, v):
    return lam, v[..., :2] @ v[..., :2].mT, v * v


ROWS = [
    # ---- matmul in every broadcasting case
    ("matmul_2d_2d", lambda m, a, b: a @ b, (A, B), True),
    ("matmul_1d_1d", lambda m, a, b: m.matmul(a, b), (V4, V4), True),
    ("matmul_1d_2d", lambda m, a, b: a @ b, (V4, B), False),
    ("matmul_2d_1d", lambda m, a, b: a @ b, (A, V4), False),
    ("matmul_3d_3d", lambda m, a, b: a @ b, (BA, BB), True),
    ("matmul_3d_bcast", lambda m, a, b: a @ b, (BA, B1), True),
    ("matmul_3d_2d", lambda m, a, b: a @ b, (BA, B), False),
    ("matmul_2d_3d", lambda m, a, b: a @ b, (A, BB), False),
    ("matmul_1d_3d", lambda m, a, b: m.matmul(a, b), (V4, BB), False),
    ("matmul_3d_1d", lambda m, a, b: a.matmul(b), (BA, V4), True),
    ("matmul_4d_3d", lambda m, a, b: a @ b, (C4, BB), False),
    ("matmul_noncontig", lambda m, a, b: a.mT @ b[:3], (A, B), False),
    ("matmul_empty", lambda m, a, b: a @ b, (E0, B), False),
    ("matmul_int", lambda m, a, b: a @ b, (I64, I64B), False),
    ("matmul_f32", lambda m, a, b: a @ b, (F32, F32B), False),
    ("rmatmul", lambda m, a, b: b.__rmatmul__(a), (A, B), True),
    ("matmul_out", lambda m, a, b: m.matmul(a.detach(), b.detach(), out=m.empty(0, dtype=m.float64)), (A, B), False),
    ("mm", lambda m, a, b: m.mm(a, b), (A, B), True),
    ("mm_method_noncontig", lambda m, a, b: b.mT.mm(a.mT), (A, B), False),
    ("bmm", lambda m, a, b: m.bmm(a, b), (BA, BB), True),
    ("mv", lambda m, a, v: m.mv(a, v), (A, V4), True),
    ("mv_method", lambda m, a, v: a.mT.mv(v), (A, V3), False),
    ("dot", lambda m, a, b: m.dot(a, b), (V4, V4), True),
    ("dot_int", lambda m, a: a[0].dot(a[1]), (I64,), False),
    ("vdot", lambda m, a, b: m.vdot(a, b), (V4, V4), False),
    ("inner_1d", lambda m, a, b: m.inner(a, b), (V4, V4), False),
    ("inner_nd", lambda m, a, b: m.inner(a, b), (BA, A), True),
    ("inner_0d", lambda m, a, b: m.inner(a, b[0, 0]), (A, B), False),
    ("outer", lambda m, a, b: m.outer(a, b), (V3, V4), True),
    ("ger", lambda m, a, b: a.ger(b), (V3, V4), False),
    # ---- beta * input + alpha * product
    ("addmm", lambda m, c, a, b: m.addmm(c, a, b), (A[:, :1], A, B[:, :4]), True),
    ("addmm_bcast_beta_alpha", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2), (V5, A, B), True),
    ("addmm_beta0_nan", lambda m, c, a, b: m.addmm(c * float("nan"), a, b, beta=0), (V5, A, B), False),
    ("addmm_method", lambda m, c, a, b: c.addmm(a, b), (A @ B, A, B), False),
    ("addmm_", lambda m, c, a, b: (c * 1).addmm_(a, b, alpha=3), (A @ B, A, B), False),
    ("addmv", lambda m, c, a, v: m.addmv(c, a, v, beta=2), (V3, A, V4), True),
    ("addmv_scalar_input", lambda m, c, a, v: m.addmv(c[0], a, v), (V3, A, V4), False),
    ("addmv_function_inplace", lambda m, c, a, v: m.addmv_(c * 1, a, v, alpha=2), (V3, A, V4), False),
    ("addbmm", lambda m, c, a, b: m.addbmm(c, a, b, alpha=0.5), (A @ B, BA, BB), True),
    ("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, beta=-1), (V5, BA, BB), True),
    ("baddbmm_", lambda m, c, a, b: (c * 1).baddbmm_(a, b), (BA @ BB, BA, BB), False),
    ("addr", lambda m, c, a, b: m.addr(c, a, b, beta=2, alpha=3), (A, V3, V4), True),
    ("chain_matmul", lambda m, a, b, c: m.chain_matmul(a, b, c), (A, B, B.T), False),
    # ---- einsum
    ("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), (A, B), True),
    ("einsum_implicit", lambda m, a, b: m.einsum("ij,jk", a, b), (A, B), False),
    ("einsum_batch", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), (BA, BB), True),
    ("einsum_bcast_batch", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), (BA, B1), True),
    ("einsum_trace", lambda m, a: m.einsum("ii", a), (SQ,), True),
    ("einsum_diag", lambda m, a: m.einsum("ii->i", a), (SQ,), True),
    ("einsum_repeat3", lambda m, c: m.einsum("iij->j", c), (SQB.transpose(1, 2, 0)[:, :, :2].copy(),), True),
    ("einsum_ellipsis", lambda m, a: m.einsum("...j->...", a), (BA,), True),
    ("einsum_ellipsis_bcast", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b), (C4, BB), True),
    ("einsum_ellipsis_mid", lambda m, a, b: m.einsum("i...j,j->...", a, b), (BA.transpose(1, 0, 2).copy(), V4), False),
    ("einsum_outer", lambda m, a, b: m.einsum("i,j->ij", a, b), (V3, V4), False),
    ("einsum_sum_only", lambda m, a: m.einsum("ij->", a), (A,), False),
    ("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c), (A, B, B.T), True),
    ("einsum_list_operands", lambda m, a, b: m.einsum("ij,ij->i", [a, b]), (A, A * 2), False),
    ("einsum_sublist", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), (A, B), False),
    ("einsum_spaces_upper", lambda m, a, b: m.einsum("iJ, Jk -> ki", a, b), (A, B), False),
    # ---- tensordot / kron / cross / trace / cdist
    ("tensordot_int", lambda m, a, b: m.tensordot(a, b, 1), (A, B), True),
    ("tensordot_2", lambda m, a, b: m.tensordot(a, b), (BA, BA[0]), False),
    ("tensordot_lists", lambda m, a, b: m.tensordot(a, b, ([0, 2], [1, 0])), (BA, BA.transpose(2, 0, 1).copy()), True),
    ("tensordot_0", lambda m, a, b: m.tensordot(a, b, 0), (V3, V4), False),
    ("kron", lambda m, a, b: m.kron(a, b), (A, B[:2, :2]), True),
    ("kron_ndim", lambda m, a, b: m.kron(a, b), (V3, BA), False),
    ("cross_dim", lambda m, a, b: m.cross(a, b, dim=1), (P3, Q3), True),
    ("cross_bcast", lambda m, a, b: m.cross(a, b[:1], dim=-1), (P3, Q3), False),
    ("cross_method", lambda m, a, b: a.mT.cross(b.mT, dim=0), (P3, Q3), False),
    ("linalg_cross", lambda m, a, b: m.linalg.cross(a, b), (P3, Q3), True),
    ("trace", lambda m, a: m.trace(a), (A,), True),
    ("trace_int", lambda m, a: a.trace(), (I64,), False),
    ("cdist_p2", lambda m, a, b: m.cdist(a, b), (X1, X2), False),
    ("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1), (X1, X2), False),
    ("cdist_p0", lambda m, a, b: m.cdist(a, b, p=0), (X1, X2), False),
    ("cdist_p3", lambda m, a, b: m.cdist(a, b, p=3.0), (X1, X2), False),
    ("cdist_pinf", lambda m, a, b: m.cdist(a, b, p=float("inf")), (X1, X2), False),
    ("cdist_p_half", lambda m, a, b: m.cdist(a, b, p=0.5), (X1, X2), False),
    ("cdist_batch", lambda m, a, b: m.cdist(a, b), (BA, rng.standard_normal((1, 2, 4))), False),
    ("cdist_zero_dist", lambda m, a: m.cdist(a, a), (X1,), False),
    # ---- inverse / det / slogdet / solve
    ("inv", lambda m, a: m.linalg.inv(a), (SQ,), True),
    ("inv_batch", lambda m, a: m.linalg.inv(a), (SQB,), True),
    ("inverse_method", lambda m, a: a.inverse(), (SQ,), False),
    ("inv_f32", lambda m, a: m.linalg.inv(a), (SQ32,), False),
    ("inv_ex", lambda m, a: m.linalg.inv_ex(a), (SQ,), False),
    ("det", lambda m, a: m.linalg.det(a), (SQ,), True),
    ("det_batch", lambda m, a: m.det(a), (SQB,), True),
    ("det_singular", lambda m, a: m.linalg.det(a), (np.array([[1.0, 2.0], [2.0, 4.0]]),), False),
    ("det_method", lambda m, a: a.det(), (SQ,), False),
    ("slogdet", lambda m, a: m.linalg.slogdet(a), (SQ,), True),
    ("slogdet_torch", lambda m, a: m.slogdet(-a), (SQB,), False),
    ("logdet", lambda m, a: m.logdet(a), (SPD,), True),
    ("logdet_method", lambda m, a: a.logdet(), (SQB,), False),
    ("solve_matrix", lambda m, a, b: m.linalg.solve(a, b), (SQ, RHS), True),
    ("solve_vector", lambda m, a, b: m.linalg.solve(a, b), (SQ, V4), True),
    ("solve_batch_vector", lambda m, a, b: m.linalg.solve(a, b), (SQB, A[:2, :3]), False),
    ("solve_bcast", lambda m, a, b: m.linalg.solve(a, b), (SQB, A[:, :2]), True),
    ("solve_ex_fields", lambda m, a, b: (lambda r: (r.result, r.info))(m.linalg.solve_ex(a, b)), (SQ, RHS), False),
    ("solve_left_false", lambda m, a, b: m.linalg.solve(a, b, left=False), (SQ, RHS.T), False),
    ("solve_triangular_upper", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), (SQ, RHS), True),
    ("solve_triangular_lower_right", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False),
     (SQ, RHS.T), False),
    ("solve_triangular_unit", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
     (SQ, RHS), False),
    # ---- cholesky / qr / svd / eigh
    ("cholesky", lambda m, a: m.linalg.cholesky(a), (SPD,), True),
    ("cholesky_upper", lambda m, a: m.linalg.cholesky(a, upper=True), (SPD,), False),
    ("cholesky_batch", lambda m, a: m.linalg.cholesky(a @ a.mT), (SQB,), False),
    ("cholesky_ex", lambda m, a: m.linalg.cholesky_ex(a), (SPD,), False),
    ("cholesky_torch", lambda m, a: _quiet(lambda: m.cholesky(a, upper=True)), (SPD,), False),
    ("qr_tall", lambda m, a: m.linalg.qr(a), (TALL,), True),
    ("qr_square", lambda m, a: m.linalg.qr(a), (SQ,), False),
    ("qr_wide", lambda m, a: m.linalg.qr(a), (WIDE,), True),
    ("qr_batch", lambda m, a: m.linalg.qr(a), (BA,), False),
    ("qr_complete", lambda m, a: m.linalg.qr(a, mode="complete"), (WIDE,), False),
    ("qr_complete_tall_values", lambda m, a: m.linalg.qr(a.detach(), mode="complete"), (TALL,), False),
    ("qr_r", lambda m, a: m.linalg.qr(a.detach(), mode="r").R, (TALL,), False),
    ("qr_torch", lambda m, a: _quiet(lambda: m.qr(a)), (TALL,), False),
    ("svd_reduced", lambda m, a: _svd_inv(m, *m.linalg.svd(a, full_matrices=False)), (TALL,), True),
    ("svd_wide", lambda m, a: _svd_inv(m, *m.linalg.svd(a, full_matrices=False)), (WIDE,), True),
    ("svd_full", lambda m, a: (lambda u, s, vh: _svd_inv(m, u[:, :3], s, vh))(*m.linalg.svd(a)), (TALL,), False),
    ("svd_batch", lambda m, a: _svd_inv(m, *m.linalg.svd(a, full_matrices=False)), (BA,), False),
    ("svd_torch", lambda m, a: (lambda u, s, v: _svd_inv(m, u, s, v.mT))(*m.svd(a)), (TALL,), False),
    ("svd_torch_no_uv", lambda m, a: m.svd(a, compute_uv=False).S, (TALL,), False),
    ("svdvals", lambda m, a: m.linalg.svdvals(a), (WIDE,), True),
    ("eigh", lambda m, a: _eigh_inv(m, *m.linalg.eigh(a)), (SPD,), True),
    ("eigh_upper", lambda m, a: _eigh_inv(m, *m.linalg.eigh(a, UPLO="U")), (SYM,), False),
    ("eigh_batch", lambda m, a: _eigh_inv(m, *m.linalg.eigh(a @ a.mT)), (SQB,), False),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a), (SYM,), True),
    # ---- pinv / powers / rank / lstsq / norms / multi_dot
    ("pinv_tall", lambda m, a: m.linalg.pinv(a), (TALL,), True),
    ("pinv_wide", lambda m, a: m.linalg.pinv(a), (WIDE,), False),
    ("pinv_hermitian", lambda m, a: m.linalg.pinv(a, hermitian=True), (SPD,), False),
    ("pinv_rank_deficient", lambda m, a: m.linalg.pinv(a.detach()), (np.outer(V3, V4),), False),
    ("pinverse", lambda m, a: m.pinverse(a), (WIDE,), False),
    ("matrix_power_3", lambda m, a: m.linalg.matrix_power(a, 3), (SQ,), True),
    ("matrix_power_0", lambda m, a: m.matrix_power(a, 0), (SQB,), False),
    ("matrix_power_1", lambda m, a: a.matrix_power(1), (SQ,), False),
    ("matrix_power_neg", lambda m, a: m.linalg.matrix_power(a, -2), (SQ,), True),
    ("matrix_power_int", lambda m, a: m.linalg.matrix_power(a, 2), (I64[:3, :3].copy(),), False),
    ("matrix_rank", lambda m, a: m.linalg.matrix_rank(a), (np.outer(V3, V4) + np.outer(V3[::-1], V4),), False),
    ("matrix_rank_tol", lambda m, a: m.linalg.matrix_rank(a, atol=1.0, rtol=0.0), (A,), False),
    ("matrix_rank_hermitian", lambda m, a: m.linalg.matrix_rank(a, hermitian=True), (SPD,), False),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b), (TALL, rng.standard_normal((5, 2))), True),
    ("lstsq_gelsd", lambda m, a, b: m.linalg.lstsq(a.detach(), b.detach(), driver="gelsd"),
     (TALL, rng.standard_normal((5, 2))), False),
    ("lstsq_vector", lambda m, a, b: m.linalg.lstsq(a, b).solution, (TALL, V5), False),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), (V3, A, B), True),
    ("multi_dot_mats", lambda m, a, b, c: m.linalg.multi_dot((a, b, c)), (A, B, B.T), False),
    ("norm_default", lambda m, a: m.linalg.norm(a), (BA,), True),
    ("norm_vector_ord", lambda m, a: m.linalg.norm(a, 3, dim=1), (A,), False),
    ("norm_matrix_fro_keepdim", lambda m, a: m.linalg.norm(a, dim=(0, 2), keepdim=True), (BA,), False),
    ("norm_matrix_ord1", lambda m, a: m.linalg.norm(a, 1), (A,), False),
    ("norm_matrix_inf", lambda m, a: m.linalg.norm(a, float("inf")), (A,), False),
    ("norm_1d_ord", lambda m, a: m.linalg.norm(a, 1), (V4,), False),
    ("vector_norm", lambda m, a: m.linalg.vector_norm(a, 2, dim=(0, 1)), (BA,), False),
    ("matrix_norm", lambda m, a: m.linalg.matrix_norm(a), (BA,), False),
    ("vecdot", lambda m, a, b: m.linalg.vecdot(a, b), (BA, A), False),
    ("linalg_matmul", lambda m, a, b: m.linalg.matmul(a, b), (A, B), False),
    ("linalg_diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), (BA,), False),
    ("cond", lambda m, a: m.linalg.cond(a), (SQ,), True),
    ("cond_fro", lambda m, a: m.linalg.cond(a.detach(), "fro"), (SQ,), False),  # torch cannot differentiate it
    ("cond_m2", lambda m, a: m.linalg.cond(a, -2), (SQB,), False),
    ("tensorinv", lambda m, a: m.linalg.tensorinv(a.reshape(4, 2, 2), ind=1), (SQ,), True),
    ("tensorsolve", lambda m, a, b: m.linalg.tensorsolve(a.reshape(2, 2, 4), b.reshape(2, 2)), (SQ, V4), True),
    ("tensorsolve_dims", lambda m, a, b: m.linalg.tensorsolve(a.reshape(4, 2, 2), b.reshape(2, 2), dims=(0,)),
     (SQ, V4), False),
    ("vander", lambda m, x: m.linalg.vander(x), (V4,), True),
    ("vander_N_batch", lambda m, x: m.linalg.vander(x, N=6), (A,), False),
]


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("name,fn,args,gradgrad", ROWS, ids=[r[0] for r in ROWS])
def test_row(name, fn, args, gradgrad, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, gradgrad=gradgrad, device=device)


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("name,fn,args,gradgrad", empty_rows(ROWS, 2))
def test_row_empty(name, fn, args, gradgrad, device):
    """Each row again with a 0-size batch: PyTorch's result, or its exception type."""
    check_same_outcome(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, gradgrad=gradgrad, device=device)


def test_row_count():
    assert len(ROWS) >= 140
    assert sum(r[3] for r in ROWS) * 3 >= len(ROWS)


def test_linalg_error_class_and_messages():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    for name in ("inv", "cholesky"):
        try:
            getattr(torch.linalg, name)(torch.from_numpy(sing))
        except RuntimeError as exc:
            expected = str(exc)
        with pytest.raises(ember.linalg.LinAlgError) as info:
            getattr(ember.linalg, name)(ember.from_numpy(sing))
        assert str(info.value) == expected


def test_decomposition_factors_reconstruct():
    a = ember.from_numpy(TALL.copy())
    q, r = ember.linalg.qr(a)
    assert_same(q @ r, torch.from_numpy(TALL))
    u, s, vh = ember.linalg.svd(a)
    assert tuple(u.shape) == (5, 5) and tuple(vh.shape) == (3, 3)
    np.testing.assert_allclose((u[:, :3] * s) @ vh, TALL, atol=1e-12)
    lam, v = ember.linalg.eigh(ember.from_numpy(SPD.copy()))
    np.testing.assert_allclose((v * lam) @ v.mT, SPD, atol=1e-10)


# ---------------------------------------------------------------------------- bad input
RAISE_ROWS = [
    ("matmul_0d", lambda m, a: m.matmul(a[0, 0], a), (A,)),
    ("matmul_inner", lambda m, a: a @ a, (A,)),
    ("matmul_1d_1d", lambda m, a, b: m.matmul(a, b), (V3, V4)),
    ("matmul_batch", lambda m, a, b: a @ b, (BA, rng.standard_normal((3, 4, 5)))),
    ("matmul_3d_1d", lambda m, a: a @ m.ones(3, dtype=m.float64), (BA,)),
    ("matmul_dtype", lambda m, a, b: a @ b.float(), (A, B)),
    ("mm_1d", lambda m, a, b: m.mm(a, b), (V4, B)),
    ("mm_shape", lambda m, a: m.mm(a, a), (A,)),
    ("bmm_2d", lambda m, a, b: m.bmm(a, b), (A, B)),
    ("bmm_batch", lambda m, a, b: m.bmm(a, b), (BA, rng.standard_normal((3, 4, 5)))),
    ("mv_shape", lambda m, a, v: m.mv(a, v), (A, V3)),
    ("dot_shape", lambda m, a, b: m.dot(a, b), (V3, V4)),
    ("dot_2d", lambda m, a: m.dot(a, a), (A,)),
    ("dot_dtype", lambda m, a: m.dot(a, a.float()), (V3,)),
    ("vdot_shape", lambda m, a, b: m.vdot(a, b), (V3, V4)),
    ("inner_shape", lambda m, a, b: m.inner(a, b), (V3, V4)),
    ("outer_2d", lambda m, a, b: m.outer(a, b), (A, V4)),
    ("addmm_input", lambda m, c, a, b: m.addmm(c, a, b), (V4, A, B)),
    ("addmm_shape", lambda m, c, a: m.addmm(c, a, a), (A, A)),
    ("addmv_input", lambda m, c, a, v: m.addmv(c, a, v), (V4, A, V4)),
    ("einsum_letter_size", lambda m, a, b: m.einsum("ij,jk", a, b[:3]), (A, B)),
    ("einsum_too_many", lambda m, a: m.einsum("ij->", a, a), (A,)),
    ("einsum_too_few", lambda m, a: m.einsum("ij,jk->ik", a), (A,)),
    ("einsum_repeat_out", lambda m, a: m.einsum("ij->ii", a), (A,)),
    ("einsum_repeat_size", lambda m, a: m.einsum("ii->i", a), (A,)),
    ("einsum_dims", lambda m, a: m.einsum("ijk->i", a), (A,)),
    ("einsum_dtype", lambda m, a: m.einsum("ij,ij->", a, a.float()), (A,)),
    ("einsum_bad_out_letter", lambda m, a: m.einsum("ij->k", a), (A,)),
    ("tensordot_size", lambda m, a: m.tensordot(a, a, 1), (A,)),
    ("cross_no3", lambda m, a: m.cross(a, a), (rng.standard_normal((4, 2)),)),
    ("cross_dim_len", lambda m, a: m.cross(a, a, dim=0), (P3,)),
    ("linalg_cross_len", lambda m, a: m.linalg.cross(a, a), (A,)),
    ("trace_1d", lambda m, a: m.trace(a), (V3,)),
    ("trace_3d", lambda m, a: m.trace(a), (BA,)),
    ("cdist_cols", lambda m, a, b: m.cdist(a, b), (X1, A)),
    ("cdist_neg_p", lambda m, a, b: m.cdist(a, b, p=-1), (X1, X2)),
    ("cdist_1d", lambda m, a: m.cdist(a, a), (V3,)),
    ("inv_singular", lambda m, a: m.linalg.inv(a), (np.zeros((3, 3)),)),
    ("inv_nonsquare", lambda m, a: m.linalg.inv(a), (A,)),
    ("inv_int", lambda m, a: m.linalg.inv(a), (I64[:3, :3].copy(),)),
    ("inv_1d", lambda m, a: m.linalg.inv(a), (V3,)),
    ("det_nonsquare", lambda m, a: m.linalg.det(a), (A,)),
    ("solve_singular", lambda m, a, b: m.linalg.solve(a, b), (np.zeros((4, 4)), V4)),
    ("solve_shape", lambda m, a, b: m.linalg.solve(a, b), (SQ, V5)),
    ("solve_matrix_shape", lambda m, a, b: m.linalg.solve(a, b), (SQ, A)),
    ("solve_dtype", lambda m, a, b: m.linalg.solve(a, b.float()), (SQ, V4)),
    ("cholesky_not_pd", lambda m, a: m.linalg.cholesky(a), (-np.eye(3),)),
    ("cholesky_nonsquare", lambda m, a: m.linalg.cholesky(a), (A,)),
    ("qr_mode", lambda m, a: m.linalg.qr(a, mode="foo"), (A,)),
    ("qr_r_backward", lambda m, a: m.linalg.qr(a.requires_grad_(), mode="r").R.sum().backward(), (A,)),
    ("svd_1d", lambda m, a: m.linalg.svd(a), (V3,)),
    ("eigh_nonsquare", lambda m, a: m.linalg.eigh(a), (A,)),
    ("pinv_1d", lambda m, a: m.linalg.pinv(a), (V3,)),
    ("matrix_power_nonsquare", lambda m, a: m.linalg.matrix_power(a, 2), (A,)),
    ("matrix_power_neg_singular", lambda m, a: m.linalg.matrix_power(a, -1), (np.zeros((3, 3)),)),
    ("multi_dot_one", lambda m, a: m.linalg.multi_dot([a]), (A,)),
    ("multi_dot_3d", lambda m, a, b: m.linalg.multi_dot([a, b]), (BA, B)),
    ("multi_dot_shape", lambda m, a, b: m.linalg.multi_dot([a, b]), (V3, B)),
    ("lstsq_rows", lambda m, a, b: m.linalg.lstsq(a, b), (TALL, RHS)),
    ("norm_3d_ord", lambda m, a: m.linalg.norm(a, 2), (BA,)),
]


@pytest.mark.parametrize("name,fn,args", RAISE_ROWS, ids=[r[0] for r in RAISE_ROWS])
def test_raises(name, fn, args):
    te = [ember.from_numpy(a.copy()) for a in args]
    tt = [torch.from_numpy(a.copy()) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_raises(lambda *_: fn(ember, *te), lambda *_: fn(torch, *tt))
