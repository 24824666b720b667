"""Op table: reductions, scans, order statistics, counting and norms against torch.

Same row format as test_table_pointwise.py: (name, fn(lib, *tensors), numpy inputs, options).  Where
PyTorch documents a result as unspecified (which index a tied median / kthvalue / topk picks, the
order of ``topk(sorted=False)``), the rows compare values only, and ``test_tied_indices_are_valid``
checks that the indices ember returns point at those values.
"""
import numpy as np
import pytest
import torch

import ember
from devices import TABLE_DEVICES
from empty_variants import check_same_outcome, empty_rows
from parity import check_op, check_raises

rng = np.random.default_rng(7)
A = rng.standard_normal((3, 4))                      # float64, distinct values
A32 = A.astype(np.float32)
C = rng.standard_normal((2, 3, 5))
C32 = C.astype(np.float32)
V = rng.standard_normal((7,))
P = rng.uniform(0.5, 1.5, (3, 4))
S = np.array(0.7)
E = np.zeros((0, 3))
I = rng.integers(-4, 5, (3, 4))
IU = rng.integers(0, 6, (10,))
BOOL = rng.random((3, 4)) > 0.5
ZEROS1 = P.copy()
ZEROS1[1, 2] = 0.0                                    # one zero
ZEROS2 = P.copy()
ZEROS2[0, 1] = ZEROS2[0, 3] = ZEROS2[2, 0] = 0.0     # two zeros in a row, one elsewhere
NANR = A.copy()
NANR[0, 1] = NANR[2, 2] = NANR[2, 0] = np.nan
TIE = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.5, 0.5, 0.5, -1.0, 2.0]])
TIE_I = np.array([[3, 1, 3, 2, 1, 1], [5, 5, 0, 0, 7, 7]])
HIST = np.array([0.0, 0.25, 1.0, 1.5, 2.0, 2.999, 3.0, -1.0, 4.0, 1.0])
SORTED = np.array([-2.0, -0.5, 0.0, 0.0, 1.5, 3.0])
SORTED2 = np.sort(rng.standard_normal((3, 5)), axis=1)


def _la(m):
    """torch.linalg / ember.linalg (until ember.linalg lands, the norms' home module ember.ops.norms)."""
    return m.linalg if hasattr(m, "linalg") else ember.ops.norms


def row(name, fn, args, gg=False, tol=None, grad=True):
    return pytest.param(fn, args, gg, tol, grad, id=name)


ROWS = [
    # ---- prod
    row("prod_all", lambda m, a: m.prod(a), (P,), gg=True),
    row("prod_dim", lambda m, a: a.prod(1), (P,), gg=True),
    row("prod_dim_keepdim_noncontig", lambda m, a: m.prod(a.mT, 0, keepdim=True), (P,)),
    row("prod_one_zero", lambda m, a: (m.prod(a), a.prod(0), a.prod(1)), (ZEROS1,), gg=True),
    row("prod_two_zeros", lambda m, a: (m.prod(a), a.prod(1, keepdim=True), a.prod(0)), (ZEROS2,), gg=True),
    row("prod_int_bool", lambda m, a, b: (m.prod(a), a.prod(0), m.prod(b), b.prod(1)), (I, BOOL)),
    row("prod_dtype", lambda m, a: (m.prod(a, dtype=m.float64), m.prod(a, 1, dtype=m.float64)), (A32,)),
    row("prod_0d_empty", lambda m, a, b: (m.prod(a), a.prod(0), m.prod(b), m.prod(b, 0), m.prod(b, 1)), (S, E)),
    row("prod_f32", lambda m, a: m.prod(a, -1), (C32,)),
    # ---- nansum / nanmean / count_nonzero / aminmax
    row("nansum", lambda m, a: (m.nansum(a), a.nansum(1), m.nansum(a, (0, 1), keepdim=True)), (NANR,), gg=True),
    row("nansum_int_dtype", lambda m, a, b: (m.nansum(a), m.nansum(b, 0), m.nansum(a, dtype=m.float64)), (I, BOOL)),
    row("nanmean", lambda m, a: (m.nanmean(a), a.nanmean(0), m.nanmean(a, 1, keepdim=True)), (NANR,), gg=True),
    row("nanmean_dtype_allnan", lambda m, a: (m.nanmean(a, dtype=m.float64), m.nanmean(a * np.nan)), (A32,)),
    row("count_nonzero", lambda m, a: (m.count_nonzero(a), a.count_nonzero(0), m.count_nonzero(a, (0, 1)),
                                       m.count_nonzero(a, dim=[1])), (I,)),
    row("count_nonzero_float_bool", lambda m, a, b: (m.count_nonzero(a), m.count_nonzero(b, -1)), (ZEROS2, BOOL)),
    row("aminmax", lambda m, a: m.aminmax(a), (A,), gg=True),
    row("aminmax_dim", lambda m, a: (m.aminmax(a, dim=0), a.aminmax(dim=-1, keepdim=True)), (TIE,)),
    row("aminmax_int_bool_0d", lambda m, a, b, c: (m.aminmax(a), m.aminmax(b, dim=1), m.aminmax(c), m.aminmax(c, dim=0)),
        (I, BOOL, S)),
    # ---- existing reductions: tuple dims, ties, dtypes
    row("amax_ties_tuple", lambda m, a: (m.amax(a, (0, 1)), a.amin(1)), (TIE,), gg=True),
    row("max_all_ties", lambda m, a: (a.max(), m.min(a)), (TIE,)),
    row("sum_mean_dims", lambda m, a: (a.sum((0, 2)), m.mean(a, (-1, 0), keepdim=True), a.sum(dtype=m.float64)),
        (C32,), gg=True),
    row("std_var_mean", lambda m, a: (m.std_mean(a, 1), m.var_mean(a, (0, 1), correction=0), a.var(0, keepdim=True)),
        (A,), gg=True),
    row("logsumexp_tuple", lambda m, a: m.logsumexp(a, (0, 2)), (C,), gg=True),
    # ---- cumsum / cumprod
    row("cumsum", lambda m, a: m.cumsum(a, 1), (A,), gg=True),
    row("cumsum_neg_dim_noncontig", lambda m, a: a.mT.cumsum(-1), (C,)),
    row("cumsum_int_bool", lambda m, a, b: (m.cumsum(a, 0), b.cumsum(1), m.cumsum(a.int(), 1)), (I, BOOL)),
    row("cumsum_dtype", lambda m, a: m.cumsum(a, 0, dtype=m.float64), (A32,), gg=True),
    row("cumsum_0d_empty", lambda m, a, b: (m.cumsum(a, 0), b.cumsum(0), m.cumsum(b, 1)), (S, E)),
    row("cumsum_inplace", lambda m, a: a.clone().cumsum_(0), (A,)),
    row("cumprod", lambda m, a: m.cumprod(a, 1), (P,), gg=True),
    row("cumprod_zeros", lambda m, a: (a.cumprod(1), m.cumprod(a, 0)), (ZEROS2,), gg=True),
    row("cumprod_int", lambda m, a: (m.cumprod(a, 1), m.cumprod(a.to(m.uint8), 0)), (np.abs(I),)),
    row("cumprod_0d_f32", lambda m, a, b: (m.cumprod(a, 0), m.cumprod(b, -1)), (S, C32)),
    # ---- cummax / cummin / logcumsumexp
    row("cummax", lambda m, a: m.cummax(a, 1), (A,), gg=True),
    row("cummin_dim0", lambda m, a: a.cummin(0), (C,)),
    row("cummax_ties", lambda m, a: (m.cummax(a, 1), m.cummin(a, 1)), (TIE,)),
    row("cummax_nan", lambda m, a: (m.cummax(a, 1), m.cummin(a, 0)), (NANR,)),
    row("cummax_int_bool", lambda m, a, b: (m.cummax(a, 1), m.cummin(b, 1), m.cummax(b, 0)), (TIE_I, BOOL)),
    row("cummax_0d_empty", lambda m, a, b: (m.cummax(a, 0), m.cummin(b, 0)), (S, E)),
    row("logcumsumexp", lambda m, a: m.logcumsumexp(a * 10, 1), (A,), gg=True),
    row("logcumsumexp_f32_dim0", lambda m, a: a.logcumsumexp(0), (C32,)),
    row("logcumsumexp_inf", lambda m, a: m.logcumsumexp(a, 0), (np.array([-np.inf, 0.0, -np.inf, np.inf]),),
        grad=False),
    # ---- diff
    row("diff", lambda m, a: m.diff(a), (A,), gg=True),
    row("diff_n2_dim0", lambda m, a: a.diff(n=2, dim=0), (C,)),
    row("diff_prepend_append", lambda m, a, b, c: m.diff(a, dim=0, prepend=b, append=c), (A, A[:1] * 2, A[:2])),
    row("diff_large_n", lambda m, a: (m.diff(a, n=4), m.diff(a, n=9)), (A,)),
    row("diff_bool_int", lambda m, a, b: (m.diff(a), m.diff(b, dim=0), m.diff(b, append=b[:, :1].double())), (BOOL, I)),
    # ---- sort / argsort / msort
    row("sort", lambda m, a: m.sort(a), (A,), gg=True),
    row("sort_dim0_descending", lambda m, a: a.sort(0, descending=True), (C,), gg=True),
    row("sort_stable_ties", lambda m, a: (m.sort(a, stable=True), m.sort(a, dim=1, descending=True, stable=True)),
        (TIE,)),
    row("sort_nan", lambda m, a: (m.sort(a, stable=True), m.sort(a, stable=True, dim=0, descending=True)), (NANR,)),
    row("sort_int_bool", lambda m, a, b: (m.sort(a, stable=True), b.sort(stable=True)), (TIE_I, BOOL)),
    row("sort_0d_empty", lambda m, a, b: (m.sort(a), m.sort(b, 0), m.sort(b)), (S, E)),
    row("sort_noncontig", lambda m, a: a.mT[::2].sort(), (A,)),
    row("argsort", lambda m, a: (m.argsort(a), a.argsort(0, descending=True), m.argsort(a, stable=True)), (A,)),
    row("argsort_ties", lambda m, a: (m.argsort(a, stable=True), m.argsort(a, stable=True, descending=True)),
        (TIE_I,)),
    row("msort", lambda m, a: m.msort(a), (A,), gg=True),
    # ---- topk / kthvalue
    row("topk", lambda m, a: m.topk(a, 2), (A,), gg=True),
    row("topk_smallest_dim0", lambda m, a: a.topk(2, 0, largest=False), (C,), gg=True),
    row("topk_unsorted_values", lambda m, a: m.topk(a, 3, sorted=False).values.sort().values, (A,)),
    row("topk_k0_full", lambda m, a: (m.topk(a, 0), m.topk(a, 4), m.topk((a * 100).int(), 2)), (A,)),
    row("topk_nan", lambda m, a: m.topk(a, 2), (NANR,)),
    row("topk_0d", lambda m, a: m.topk(a, 1), (S,)),
    row("kthvalue", lambda m, a: m.kthvalue(a, 2), (A,), gg=True),
    row("kthvalue_keepdim_dim0", lambda m, a: a.kthvalue(3, 1, keepdim=True), (C,)),
    row("kthvalue_int_0d", lambda m, a, b: (m.kthvalue(a, 3), m.kthvalue(b, 1)), (I[:, :3] * 10 + np.arange(3), S)),
    # ---- median / nanmedian / mode
    row("median_all", lambda m, a: m.median(a), (A,), gg=True),
    row("median_all_ties_even", lambda m, a: a.median(), (TIE,), gg=True),
    row("median_dim", lambda m, a: m.median(a, 1), (A,), gg=True),
    row("median_dim_keepdim_even", lambda m, a: a.median(0, keepdim=True), (C,)),
    row("median_ties_values", lambda m, a: m.median(a, 1).values, (TIE,)),
    row("median_nan", lambda m, a: (m.median(a), m.median(a, 1)), (NANR,)),
    row("median_int_0d", lambda m, a, b: (m.median(a), m.median(b), m.median(b, 0)), (TIE_I[:, :5], S)),
    row("median_empty", lambda m, a: m.median(a), (E,)),
    row("nanmedian", lambda m, a: (m.nanmedian(a), a.nanmedian(1)), (NANR,), gg=True),
    row("nanmedian_allnan", lambda m, a: (m.nanmedian(a), m.nanmedian(a, 1)), (np.array([[np.nan, np.nan],
                                                                                      [1.0, np.nan]]),)),
    row("mode", lambda m, a: (m.mode(a), m.mode(a, 0)), (TIE_I,)),
    row("mode_float", lambda m, a: m.mode(a, 1), (TIE,), gg=True),
    row("mode_keepdim_nan_0d", lambda m, a, b: (m.mode(a, keepdim=True), m.mode(b)),
        (np.array([[1.0, np.nan, np.nan], [2.0, 2.0, np.nan]]), S)),
    # ---- quantile / nanquantile
    row("quantile_scalar", lambda m, a: m.quantile(a, 0.3), (A,), gg=True),
    row("quantile_tensor_dim", lambda m, a, q: m.quantile(a, q, dim=1, keepdim=True), (A, np.array([0.0, 0.25, 1.0])),
        gg=True),
    row("quantile_dim0_f32", lambda m, a, q: a.quantile(q, 0), (A32, np.array([0.4, 0.9], dtype=np.float32))),
    row("quantile_0d_q_tensor", lambda m, a, q: m.quantile(a, q, -1), (C, np.array(0.6))),
    row("quantile_keepdim_all", lambda m, a: m.quantile(a, 0.5, keepdim=True), (C,)),
    *[row(f"quantile_{mode}", lambda m, a, q, mode=mode: m.quantile(a, q, 1, interpolation=mode),
          (A, np.array([0.1, 0.375, 0.5, 0.625])), gg=mode == "linear") for mode in
      ("linear", "lower", "higher", "midpoint", "nearest")],
    row("quantile_nan", lambda m, a: (m.quantile(a, 0.5), m.quantile(a, 0.5, dim=1)), (NANR,)),
    row("nanquantile", lambda m, a: (m.nanquantile(a, 0.5), a.nanquantile(0.25, dim=1)), (NANR,), gg=True),
    row("nanquantile_allnan", lambda m, a: m.nanquantile(a, 0.5, dim=1), (np.array([[np.nan, np.nan],
                                                                                    [1.0, np.nan]]),)),
    row("quantile_0d", lambda m, a: m.quantile(a, 0.5), (S,)),
    # ---- unique / unique_consecutive
    row("unique", lambda m, a: m.unique(a), (TIE_I,)),
    row("unique_inverse_counts", lambda m, a: m.unique(a, return_inverse=True, return_counts=True), (TIE_I,)),
    row("unique_counts_method", lambda m, a: a.unique(return_counts=True), (TIE,), grad=False),
    row("unique_float_nan", lambda m, a: m.unique(a, return_inverse=True), (NANR,), grad=False),
    row("unique_dim0", lambda m, a: m.unique(a, dim=0, return_inverse=True, return_counts=True),
        (np.array([[1, 2], [1, 2], [0, 5], [1, 0]]),)),
    row("unique_dim1", lambda m, a: m.unique(a, dim=1, return_inverse=True), (np.array([[1, 2, 1], [3, 0, 3]]),)),
    row("unique_0d_empty_bool", lambda m, a, b, c: (m.unique(a, return_inverse=True), m.unique(b), m.unique(c)),
        (np.array(2), np.zeros(0, np.int64), BOOL)),
    row("unique_consecutive", lambda m, a: m.unique_consecutive(a, return_inverse=True, return_counts=True),
        (np.array([1, 1, 2, 2, 3, 1, 1]),)),
    row("unique_consecutive_2d_dim", lambda m, a: (m.unique_consecutive(a), m.unique_consecutive(
        a, dim=0, return_counts=True), m.unique_consecutive(a, dim=1, return_inverse=True)),
        (np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3]]),)),
    # ---- bincount / histc / searchsorted / bucketize
    row("bincount", lambda m, a: (m.bincount(a), a.bincount(minlength=10)), (IU,)),
    row("bincount_weights", lambda m, a, w: (m.bincount(a, w), m.bincount(a, w.float()), m.bincount(a, (w * 3).long())),
        (IU, rng.standard_normal(10)), grad=False),
    row("bincount_empty", lambda m, a: m.bincount(a, minlength=3), (np.zeros(0, np.int64),)),
    row("histc", lambda m, a: (m.histc(a, bins=4, min=0, max=3), a.histc(3)), (HIST,), grad=False),
    row("histc_data_range_f32", lambda m, a: m.histc(a, bins=7), (A32,), grad=False),
    row("histc_constant_empty", lambda m, a, b: (m.histc(a, bins=3), m.histc(b, bins=5)), (np.ones(4), E),
        grad=False),
    row("searchsorted", lambda m, s, v: (m.searchsorted(s, v), m.searchsorted(s, v, right=True),
                                         m.searchsorted(s, v, side="right", out_int32=True)),
        (SORTED, np.array([[0.0, 3.0, 5.0], [-3.0, 1.5, -0.5]])), grad=False),
    row("searchsorted_scalar_int", lambda m, s: (m.searchsorted(s, 3), m.searchsorted(s, 4, right=True)),
        (np.array([1, 3, 5, 7]),)),
    row("searchsorted_nd", lambda m, s, v: (m.searchsorted(s, v), m.searchsorted(s, v, side="right")),
        (SORTED2, rng.standard_normal((3, 4))), grad=False),
    row("searchsorted_sorter", lambda m, s, o, v: m.searchsorted(s, v, sorter=o),
        (np.array([5.0, 1.0, 3.0]), np.array([1, 2, 0]), np.array([0.0, 3.0, 6.0])), grad=False),
    row("bucketize", lambda m, v, b: (m.bucketize(v, b), m.bucketize(v, b, right=True), m.bucketize(2.0, b),
                                      m.bucketize(v, b, out_int32=True)), (A * 3, SORTED), grad=False),
    # ---- norms
    row("norm_default", lambda m, a: (m.norm(a), a.norm()), (A,), gg=True),
    row("norm_p_dim", lambda m, a: (m.norm(a, 1, dim=1), a.norm(3, dim=(0, 1), keepdim=True),
                                    m.norm(a, float("inf"), 0)), (A,), gg=True),
    row("norm_fro_dims_nuc", lambda m, a: (m.norm(a, "fro", dim=(0, 2)), m.norm(a[0], "nuc"),
                                           m.norm(a, "nuc", dim=(1, 2))), (C,)),
    row("norm_dtype", lambda m, a: m.norm(a, 2, dtype=m.float64), (A32,)),
    row("vector_norm_ords", lambda m, a: tuple(_la(m).vector_norm(a, o) for o in (2, 1, 0, 3, 0.5, -1, float("inf"),
                                                                                    -float("inf"))), (A,), gg=True),
    row("vector_norm_dims", lambda m, a: (_la(m).vector_norm(a, 2, dim=1), _la(m).vector_norm(
        a, 1.5, dim=(0, 2), keepdim=True), _la(m).vector_norm(a.mT, dim=-1)), (C,), gg=True),
    row("vector_norm_zero", lambda m, a: tuple(_la(m).vector_norm(a * 0, o, dim=1) for o in (2, 1, 3, 0.5)), (A,),
        gg=True),
    row("vector_norm_inf_ties", lambda m, a: (_la(m).vector_norm(a, float("inf")),
                                              _la(m).vector_norm(a, -float("inf"), dim=1)),
        (np.array([[1.0, -3.0, 3.0], [-2.0, 2.0, 5.0]]),), gg=True),
    row("vector_norm_f32_dtype_empty", lambda m, a, e: (_la(m).vector_norm(a, dtype=m.float64),
                                                        _la(m).vector_norm(e), _la(m).vector_norm(e, 1, dim=0)),
        (A32, E)),
    row("matrix_norm_fro_1_inf", lambda m, a: tuple(_la(m).matrix_norm(a, o) for o in ("fro", 1, -1, float("inf"),
                                                                                          -float("inf"))), (C,),
        gg=True),
    row("matrix_norm_dims_keepdim", lambda m, a: (_la(m).matrix_norm(a, 1, dim=(2, 0), keepdim=True),
                                                  _la(m).matrix_norm(a, "fro", dim=(0, 2))), (C,)),
    row("matrix_norm_svd", lambda m, a: tuple(_la(m).matrix_norm(a, o) for o in ("nuc", 2, -2)), (C,), gg=True),
    row("dist", lambda m, a, b: (m.dist(a, b), a.dist(b, 1), m.dist(a, b, float("inf"))), (A, V[:4]), gg=True),
    row("dist_p0", lambda m, a, b: m.dist(a, b, 0), (A, V[:4]), grad=False),
    row("dist_p3", lambda m, a, b: m.dist(a, b, 3), (A32, A32.T.copy().T * 2), gg=True),
    # ---- hash_tensor (uint64 XOR of each element's 64-bit widening; never differentiable)
    row("hash_tensor_all", lambda m, a: (m.hash_tensor(a), a.hash_tensor(None), m.hash_tensor(a, [])), (C,)),
    row("hash_tensor_dims", lambda m, a: (m.hash_tensor(a, 1), a.hash_tensor((0, 2), keepdim=True),
                                          m.hash_tensor(a.mT, dim=-1, mode=0)), (C32,), grad=False),
    row("hash_tensor_ints_bool", lambda m, a, b: (m.hash_tensor(a), a.hash_tensor(0), m.hash_tensor(b, 1),
                                                  m.hash_tensor(a.to(m.int8)), m.hash_tensor(a.abs().to(m.uint8)),
                                                  m.hash_tensor(a.to(m.int16), 1), m.hash_tensor(a.to(m.int32))),
        (I, BOOL)),
    row("hash_tensor_half_nan_0d", lambda m, a, b, c: (m.hash_tensor(a.half()), m.hash_tensor(a.bfloat16(), 0),
                                                       m.hash_tensor(b), m.hash_tensor(c), m.hash_tensor(c, 0)),
        (A32, NANR, S), grad=False),
    row("hash_tensor_empty_dim", lambda m, a: (m.hash_tensor(a, 1), m.hash_tensor(a, 1, keepdim=True)), (E,)),
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


def test_tied_indices_are_valid():
    """Where PyTorch leaves the index of a tied pick unspecified, ember's points at an equal value."""
    x = ember.tensor(TIE)
    for res in (ember.median(x, 1), ember.kthvalue(x, 2, 1), ember.topk(x, 3), ember.sort(x, 1), ember.mode(x, 1)):
        picked = x.gather(1, res.indices if res.indices.ndim == 2 else res.indices.unsqueeze(1))
        vals = res.values if res.values.ndim == 2 else res.values.unsqueeze(1)
        assert (picked == vals).all()


def test_sort_descending_is_stable():
    x = ember.tensor([2.0, 1.0, 2.0, float("nan"), 1.0, float("nan")])
    assert ember.sort(x, descending=True, stable=True).indices.tolist() == [3, 5, 0, 2, 1, 4]


def test_cumprod_grad_exact_with_zeros():
    x = ember.tensor([2.0, 0.0, 3.0, 0.0, 5.0], dtype=ember.float64, requires_grad=True)
    ember.cumprod(x, 0).sum().backward()
    # d/dx_i sum_j prod_{k<=j} x_k, by hand
    assert x.grad.tolist() == [1.0, 2.0 + 2.0 * 3.0, 0.0, 0.0, 0.0]


def test_return_types():
    x = ember.tensor(A)
    assert type(ember.sort(x)).__name__ == "sort" and ember.sort(x)._fields == ("values", "indices")
    assert ember.aminmax(x)._fields == ("min", "max")
    for name in ("cummax", "cummin"):
        assert getattr(ember, name)(x, 0)._fields == ("values", "indices")
    for name in ("median", "nanmedian", "mode", "kthvalue", "topk"):
        args = (x, 1) if name in ("kthvalue", "topk") else (x, 0)
        assert type(getattr(ember, name)(*args)).__name__ == name


def test_out_arguments():
    x = ember.tensor(A)
    out = ember.empty(0)
    ember.cumsum(x, 1, out=out)
    np.testing.assert_allclose(out.numpy(), np.cumsum(A, 1))
    vals, idx = ember.empty(0), ember.empty(0, dtype=ember.int64)
    r = ember.sort(x, 0, out=(vals, idx))
    assert r.values is vals and r.indices is idx
    np.testing.assert_array_equal(idx.numpy(), np.argsort(A, 0, kind="stable"))
    q = ember.empty(0)
    ember.quantile(x, 0.5, out=q)
    assert q.item() == pytest.approx(float(np.quantile(A, 0.5)))


# ---------------------------------------------------------------------------- bad input
def _t(m, v, **kw):
    return m.tensor(v, **kw)


ERRORS = [
    ("prod_tuple_dim", lambda m: m.prod(m.ones(2, 2), (0, 1))),
    ("cumsum_no_dim", lambda m: m.cumsum(m.ones(2))),
    ("cumsum_tuple_dim", lambda m: m.cumsum(m.ones(2), (0,))),
    ("cumsum_dim_range", lambda m: m.cumsum(m.ones(2, 2), 2)),
    ("cummax_dim_range", lambda m: m.cummax(m.ones(2), -2)),
    ("logcumsumexp_int", lambda m: m.logcumsumexp(_t(m, [1, 2]), 0)),
    ("nanmean_int", lambda m: m.nanmean(_t(m, [1, 2]))),
    ("aminmax_empty", lambda m: m.aminmax(m.zeros(0))),
    ("aminmax_tuple_dim", lambda m: m.aminmax(m.ones(2, 2), dim=(0, 1))),
    ("count_nonzero_dim_range", lambda m: m.count_nonzero(m.ones(2), 1)),
    ("diff_0d", lambda m: m.diff(_t(m, 1.0))),
    ("diff_negative_n", lambda m: m.diff(m.ones(3), n=-1)),
    ("sort_dim_range", lambda m: m.sort(m.ones(2), 1)),
    ("argsort_dim_range", lambda m: m.argsort(m.ones(2, 2), -3)),
    ("topk_k_too_big", lambda m: m.topk(m.ones(3), 4)),
    ("topk_bool", lambda m: m.topk(_t(m, [True, False]), 1)),
    ("kthvalue_k_range", lambda m: m.kthvalue(m.ones(3), 4)),
    ("kthvalue_empty", lambda m: m.kthvalue(m.zeros(0), 1)),
    ("median_empty_dim", lambda m: m.median(m.zeros(0, 3), 0)),
    ("mode_empty", lambda m: m.mode(m.zeros(0))),
    ("quantile_int", lambda m: m.quantile(_t(m, [1, 2]), 0.5)),
    ("quantile_q_range", lambda m: m.quantile(m.ones(3), 1.5)),
    ("quantile_q_tensor_range", lambda m: m.quantile(m.ones(3), _t(m, [0.5, -0.1]))),
    ("quantile_q_dtype", lambda m: m.quantile(m.ones(3), _t(m, [0.5], dtype=m.float64))),
    ("quantile_q_2d", lambda m: m.quantile(m.ones(3), _t(m, [[0.5]]))),
    ("quantile_empty", lambda m: m.quantile(m.zeros(0), 0.5)),
    ("quantile_interpolation", lambda m: m.quantile(m.ones(3), 0.5, interpolation="cubic")),
    ("unique_dim_range", lambda m: m.unique(m.ones(2, 2), dim=2)),
    ("bincount_negative", lambda m: m.bincount(_t(m, [-1, 2]))),
    ("bincount_2d", lambda m: m.bincount(_t(m, [[1]]))),
    ("bincount_float", lambda m: m.bincount(_t(m, [1.0]))),
    ("bincount_weights_length", lambda m: m.bincount(_t(m, [0, 1]), weights=_t(m, [1.0]))),
    ("histc_int", lambda m: m.histc(_t(m, [1, 2]), bins=4)),
    ("histc_bins", lambda m: m.histc(_t(m, [1.0]), bins=0)),
    ("histc_min_gt_max", lambda m: m.histc(_t(m, [1.0]), bins=3, min=3, max=1)),
    ("histc_nan_range", lambda m: m.histc(_t(m, [1.0, float("nan")]), bins=3)),
    ("searchsorted_shapes", lambda m: m.searchsorted(_t(m, [[1, 3], [2, 4]]), _t(m, [2]))),
    ("searchsorted_side_right", lambda m: m.searchsorted(_t(m, [1, 3]), _t(m, [2]), side="left", right=True)),
    ("bucketize_2d_boundaries", lambda m: m.bucketize(_t(m, [1]), _t(m, [[1, 2]]))),
    ("vector_norm_int", lambda m: _la(m).vector_norm(_t(m, [1, 2]))),
    ("vector_norm_int_dtype", lambda m: _la(m).vector_norm(_t(m, [1.0]), dtype=m.int64)),
    ("vector_norm_inf_empty", lambda m: _la(m).vector_norm(m.zeros(0), float("inf"))),
    ("vector_norm_str_ord", lambda m: _la(m).vector_norm(_t(m, [1.0]), "fro")),
    ("matrix_norm_1d", lambda m: _la(m).matrix_norm(m.ones(3))),
    ("matrix_norm_bad_ord", lambda m: _la(m).matrix_norm(m.ones(2, 2), 3)),
    ("matrix_norm_bad_dim", lambda m: _la(m).matrix_norm(m.ones(2, 2), dim=(0,))),
    ("matrix_norm_int", lambda m: _la(m).matrix_norm(_t(m, [[1, 2]]))),
    ("norm_int", lambda m: m.norm(_t(m, [1, 2]))),
    ("norm_nuc_int_dim", lambda m: m.norm(m.ones(2, 2), "nuc", dim=1)),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input(name, fn):
    check_raises(lambda: fn(ember), lambda: fn(torch))


def test_zero_dim_reductions_accept_dim_0():
    for name in ("sum", "mean", "amax", "amin", "nansum", "nanmean", "logsumexp", "prod", "std", "var", "all", "any"):
        check_op(lambda t: getattr(ember, name)(t, 0), lambda t: getattr(torch, name)(t, 0), np.array(2.5),
                 grad=name not in ("all", "any", "std", "var"))
    assert ember.count_nonzero(ember.tensor(2.0), -1).item() == 1


HASH_ERRORS = [
    ("empty_all", lambda m: m.hash_tensor(m.zeros(0, 3))),
    ("empty_dim", lambda m: m.hash_tensor(m.zeros(0, 3), -2)),
    ("empty_repeated", lambda m: m.hash_tensor(m.zeros(0, 3), [0, 0])),
    ("repeated", lambda m: m.hash_tensor(m.ones(2, 3), [1, -1], mode=5)),
    ("dim_range", lambda m: m.hash_tensor(m.ones(2, 3), 2)),
    ("mode", lambda m: m.hash_tensor(m.ones(2) + 0j, mode=1)),
    ("complex", lambda m: m.hash_tensor(m.ones(2) + 0j)),
    ("uint32", lambda m: m.hash_tensor(m.ones(2, dtype=m.uint32), 0)),
    ("dim_float", lambda m: m.hash_tensor(m.ones(2), dim=1.0)),
    ("dim_bool", lambda m: m.hash_tensor(m.ones(2), dim=True)),
    ("dim_float_list", lambda m: m.hash_tensor(m.ones(2), dim=[0.0])),
    ("mode_float", lambda m: m.hash_tensor(m.ones(2), mode=0.0)),
    ("keepdim_positional", lambda m: m.hash_tensor(m.ones(2), 0, True)),
    ("out_dtype", lambda m: m.hash_tensor(m.ones(2), out=m.empty(0, dtype=m.int64))),
]


@pytest.mark.parametrize("name,fn", HASH_ERRORS, ids=[e[0] for e in HASH_ERRORS])
def test_hash_tensor_errors(name, fn):
    """hash_tensor's errors: torch's exception type and message."""
    exc = check_raises(lambda: fn(ember), lambda: fn(torch))
    try:
        fn(torch)
    except Exception as expected:  # noqa: BLE001
        assert str(exc) == str(expected)


def test_hash_tensor_out_and_no_grad():
    x = rng.standard_normal((3, 4))
    out_e, out_t = ember.empty(0, dtype=ember.uint64), torch.empty(0, dtype=torch.uint64)
    e = ember.hash_tensor(ember.tensor(x, requires_grad=True), 1, out=out_e)
    t = torch.hash_tensor(torch.tensor(x, requires_grad=True), 1, out=out_t)
    assert e is out_e and out_e.tolist() == out_t.tolist() and out_e.dtype == ember.uint64
    r = ember.hash_tensor(ember.tensor(x, requires_grad=True))
    assert not r.requires_grad and r.grad_fn is None and r.item() == torch.hash_tensor(torch.tensor(x)).item()
