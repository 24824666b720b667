"""Matrix functions built on the decompositions and products: pinv, matrix_power, matrix_rank, lstsq,
multi_dot, the ``linalg.norm`` dispatch, cond, tensorinv, tensorsolve, vander, trace, and cdist (pairwise
distances between the rows of two matrices).  Gradients are ember ops, or come from the ops composed.

The declared ops are PyTorch's top-level ones; the ``linalg_*`` functions follow ``torch.linalg``'s
signatures and are what ``ember.linalg`` names.
"""
import math

from .. import return_types
from ._common import (array_module, module_of_array, Tensor, Node, record, op, function, _make, unbroadcast,
                      wrap_dim, write_out, dtype_name, ignore_fp_errors)
from .creation import ones_like
from .linalg import check_matrix, converging, real_dtype, linalg_inv, linalg_solve, linalg_svdvals
from .products import matmul


# ---------------------------------------------------------------------------- pinv
class LinalgPinvBackward0(Node):
    def backward(self, grad):
        (A,) = self.saved_tensors
        pinvA = self.result()
        m, n = A.shape[-2], A.shape[-1]
        pinvAh = pinvA.mH
        gradh = grad.mH
        if m <= n:
            K = gradh.matmul(pinvA)
            KpinvAh = K.matmul(pinvAh)
            return (-pinvA.matmul(K).mH + KpinvAh - A.matmul(pinvA).matmul(KpinvAh)
                    + pinvAh.matmul(pinvA).matmul(gradh - K.matmul(A)),)
        K = pinvA.matmul(gradh)
        pinvAhK = pinvAh.matmul(K)
        return (-K.matmul(pinvA).mH + (gradh - A.matmul(K)).matmul(pinvA).matmul(pinvAh) + pinvAhK
                - pinvAhK.matmul(pinvA).matmul(A),)


def _tolerances(a, s_max, atol, rtol):
    """PyTorch's rank / pinv cut-off for array ``a``: max(atol, rtol * s_max), rtol defaulting to eps * max(m, n)."""
    xp = module_of_array(a)

    def val(t):
        return t._data if isinstance(t, Tensor) else t
    eps = xp.finfo(real_dtype(a)).eps
    if atol is None and rtol is None:
        rtol = eps * max(a.shape[-2], a.shape[-1])
        atol = 0.0
    elif rtol is None:
        rtol = 0.0 if (isinstance(atol, Tensor) or atol) and (val(atol) > 0 if not isinstance(atol, Tensor) else True) \
            else eps * max(a.shape[-2], a.shape[-1])
    if atol is None:
        atol = 0.0
    return xp.maximum(xp.asarray(val(atol))[..., None] if isinstance(atol, Tensor) else val(atol),
                      xp.asarray(val(rtol))[..., None] * s_max if isinstance(rtol, Tensor) else val(rtol) * s_max)


def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """``torch.linalg.pinv``: the Moore-Penrose pseudo-inverse, cutting singular values below
    ``max(atol, rtol * largest)``."""
    if not isinstance(A, Tensor) or A._data.ndim < 2 or A._data.dtype.kind not in "fc":
        shape = list(A.shape) if isinstance(A, Tensor) else []
        kind = dtype_name(A.dtype) if isinstance(A, Tensor) else ""
        raise RuntimeError(f"linalg.pinv({kind}{{{shape}}}): expected a tensor with 2 or more dimensions of float, "
                           "double, cfloat or cdouble types")
    a = A._data
    xp = array_module(A)
    if a.size == 0:
        r = xp.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)
    elif hermitian:
        w, v = converging(xp.linalg.eigh, a, "linalg.eigh")
        aw = xp.abs(w)
        cut = _tolerances(a, aw.max(-1, keepdims=True), atol, rtol)
        winv = xp.where(aw > cut, 1 / xp.where(aw > cut, w, 1), 0)
        r = xp.einsum("...ij,...j,...kj->...ik", v, winv, v.conj())
    else:
        u, s, vh = converging(xp.linalg.svd, a, "linalg.svd", full_matrices=False)
        cut = _tolerances(a, s.max(-1, keepdims=True) if s.shape[-1] else s, atol, rtol)
        sinv = xp.where(s > cut, 1 / xp.where(s > cut, s, 1), 0)
        r = xp.einsum("...ji,...j,...kj->...ik", vh.conj(), sinv, u.conj())
    res = _make(xp.ascontiguousarray(r, dtype=a.dtype))
    record(res, LinalgPinvBackward0, (A,), (A,), output=True)
    return write_out(out, res) if out is not None else res


@op
def pinverse(input, rcond=1e-15):
    """The Moore-Penrose pseudo-inverse, cutting singular values below ``rcond * max(S)``."""
    return linalg_pinv(input, rtol=rcond)


# ---------------------------------------------------------------------------- matrix_power / matrix_rank
class CopyBackwards(Node):
    """The zero gradient of ``matrix_power(A, 0)`` (PyTorch: ``A.clone().copy_(eye)``)."""

    def backward(self, grad):
        return (grad * 0,)


@op
def matrix_power(input, n, *, out=None):
    """``input`` multiplied by itself ``n`` times (the inverse's power for n < 0; identity for 0);
    also ``torch.linalg.matrix_power``."""
    A = input
    check_matrix(A, "linalg.matrix_power", square=True, floating=False)
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if n == 0:
        xp = array_module(A)
        res = _make(xp.ascontiguousarray(xp.broadcast_to(xp.eye(A.shape[-1], dtype=A._data.dtype), A._data.shape)))
        record(res, CopyBackwards, (A,))
        return write_out(out, res) if out is not None else res
    if n < 0:
        if A._data.dtype.kind not in "fc":
            raise RuntimeError(f"linalg.inv: Expected a floating point or complex tensor as input. Got "
                               f"{dtype_name(A.dtype)}")
        A = linalg_inv(A)
        n = -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    if result is A:
        result = result.clone()
    return write_out(out, result) if out is not None else result


def linalg_matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """``torch.linalg.matrix_rank``: the number of singular values above ``max(atol, rtol * largest)``."""
    a = check_matrix(A, "linalg.matrix_rank")
    xp = array_module(A)
    if tol is not None:
        atol, rtol = tol, 0.0
    if a.size == 0:
        res = _make(xp.zeros(a.shape[:-2], dtype=xp.int64))
    else:
        s = xp.abs(converging(xp.linalg.eigvalsh, a, "linalg.eigh")) if hermitian else \
            converging(xp.linalg.svd, a, "linalg.svd", compute_uv=False)
        cut = _tolerances(a, s.max(-1, keepdims=True), atol, rtol)
        res = _make((s > cut).sum(-1).astype(xp.int64))
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- lstsq
def linalg_lstsq(A, B, rcond=None, *, driver=None):
    """``torch.linalg.lstsq``: ``(solution, residuals, rank, singular_values)`` of ``min ||A X - B||``."""
    a = check_matrix(A, "linalg.lstsq")
    b = B._data
    xp = array_module(A)
    if driver is not None and driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if a.dtype != b.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    vector = b.ndim == a.ndim - 1
    if b.ndim < 1 or (not vector and b.shape[-2] != a.shape[-2]) or (vector and b.shape[-1] != a.shape[-2]):
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-{1 if vector else 2})")
    driver = driver or "gelsy"
    Bm = B.unsqueeze(-1) if vector else B
    m, n = a.shape[-2], a.shape[-1]
    rc = rcond if rcond is not None else xp.finfo(real_dtype(a)).eps * max(m, n)
    # the solution is pinv(A) @ B (what every LAPACK driver returns for full-rank A), differentiably
    sol = linalg_pinv(A, rtol=rc).matmul(Bm)
    if vector:
        sol = sol.squeeze(-1)
    s = converging(xp.linalg.svd, a, "linalg.svd", compute_uv=False) if a.size else \
        xp.zeros(a.shape[:-2] + (min(m, n),), real_dtype(a))
    cut = rc * s.max(-1, keepdims=True) if s.shape[-1] else s
    rank = (s > cut).sum(-1).astype(xp.int64)
    # outputs PyTorch leaves empty are still empty tensors in the graph (they require grad as PyTorch's do)
    empty = sol.reshape(-1)[:0]
    empty = empty.real if empty._data.dtype.kind == "c" else empty
    residuals = empty
    if m > n and driver != "gelsy" and bool((rank == n).all()):
        r = A.matmul(sol.unsqueeze(-1)) - Bm if vector else A.matmul(sol) - Bm
        residuals = (r.abs() ** 2).sum(-2)
        if vector:
            residuals = residuals.squeeze(-1)
    rank_t = _make(rank) if driver != "gels" else _make(xp.zeros((0,), xp.int64))
    sv = linalg_svdvals(A) if driver in ("gelsd", "gelss") else empty
    return return_types.linalg_lstsq(sol, residuals, rank_t, sv)


# ---------------------------------------------------------------------------- multi_dot
def linalg_multi_dot(tensors, *, out=None):
    """``torch.linalg.multi_dot``: the product of a chain of matrices (the first / last may be vectors)."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first, last = ts[0]._data.ndim, ts[-1]._data.ndim
    if first not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first}D")
    if last not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last}D")
    for i, t in enumerate(ts[1:-1], 1):
        if t._data.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t._data.ndim}D")
    dt = ts[0].dtype
    for t in ts[1:]:
        if t.dtype is not dt:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is {dt} and "
                               f"tensor {ts.index(t)} {t.dtype}")
    mats = [ts[0].unsqueeze(0) if first == 1 else ts[0]] + ts[1:-1] + \
        [ts[-1].unsqueeze(-1) if last == 1 else ts[-1]]
    for i in range(len(mats) - 1):
        if mats[i].shape[-1] != mats[i + 1].shape[-2]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(ts[i].shape)} and "
                               f"{list(ts[i + 1].shape)} cannot be multiplied")
    res = mats[0]
    for mtx in mats[1:]:
        res = matmul(res, mtx)
    if first == 1:
        res = res.squeeze(0)
    if last == 1:
        res = res.squeeze(-1)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- norm / cond
def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """``torch.linalg.norm``: a vector norm (1 dim, or a flattened tensor) or a matrix norm (2 dims)."""
    from .norms import vector_norm, matrix_norm
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
    if dim is None and ord is None:
        res = vector_norm(A.reshape(-1) if A._data.ndim != 1 else A, 2, None, False, dtype=dtype)
        if keepdim:
            res = res.reshape((1,) * A._data.ndim)
    elif dim is None:
        if A._data.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{A._data.ndim}D.")
        res = vector_norm(A, ord, None, keepdim, dtype=dtype) if A._data.ndim == 1 else \
            matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    elif isinstance(dim, int) or len(dim) == 1:
        res = vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    elif len(dim) == 2:
        res = matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    else:
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    return write_out(out, res) if out is not None else res


_COND_ORDS = (2, -2, 1, -1, math.inf, -math.inf)


def _ord_in_check(p):
    """``p`` as PyTorch's square-matrix check prints it: ints plainly, floats with six decimals, inf as 'inf'."""
    return str(p) if isinstance(p, (str, int)) or math.isinf(p) else f"{p:f}"


def linalg_cond(A, p=None, *, out=None):
    """``torch.linalg.cond``: the condition number in the ``p`` norm (by default the ratio of the extreme
    singular values)."""
    from .norms import matrix_norm, _fmt_ord
    a = check_matrix(A, "linalg.cond")
    if isinstance(p, str):
        check_matrix(A, f"linalg.cond(ord={p})", square=True)
    if p is not None and p not in (("fro", "nuc") if isinstance(p, str) else _COND_ORDS):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {_fmt_ord(p)}")
    if a.size == 0:  # undefined (NumPy); PyTorch gives 0 for each empty matrix, with no graph
        return _make(array_module(A).zeros(a.shape[:-2], real_dtype(a)))
    if p is None or p in (2, -2):
        s = linalg_svdvals(A)
        res = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    else:
        check_matrix(A, f"linalg.cond(ord={_ord_in_check(p)})", square=True)
        res = matrix_norm(A, p) * matrix_norm(linalg_inv(A), p)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- tensorinv / tensorsolve / vander
def linalg_tensorinv(A, ind=2, *, out=None):
    """``torch.linalg.tensorinv``: the inverse of ``A`` seen as a matrix from its first ``ind`` dims to the rest."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    res = linalg_inv(A.reshape(rows, cols)).reshape(shape[ind:] + shape[:ind])
    return write_out(out, res) if out is not None else res


def linalg_tensorsolve(A, B, dims=None, *, out=None):
    """``torch.linalg.tensorsolve``: the X with ``tensordot(A, X, X.ndim) = B``."""
    if dims is not None:
        nd = A._data.ndim
        dims = [wrap_dim(d, nd) for d in dims]
        A = A.movedim(dims, list(range(nd - len(dims), nd)))
    rest = tuple(A.shape)[B._data.ndim:]
    n, k = math.prod(B.shape), math.prod(rest)
    if n != k:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {k} != {n}")
    res = linalg_solve(A.reshape(n, k), B.reshape(n)).reshape(rest)
    return write_out(out, res) if out is not None else res


def linalg_vander(x, N=None):
    """``torch.linalg.vander``: the Vandermonde matrix, columns ``x ** 0, x ** 1, ..., x ** (N - 1)``."""
    if x._data.ndim == 0:
        raise RuntimeError("x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .joining import stack
    cols = []
    p = None
    for i in range(n):
        p = ones_like(x) if i == 0 else (x if i == 1 else p * x)
        cols.append(p)
    return stack(cols, -1)


# ---------------------------------------------------------------------------- trace
@op
def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return input.diagonal().sum()


# ---------------------------------------------------------------------------- cdist
class CdistBackward0(Node):
    def backward(self, grad):
        x1, x2 = self.saved_tensors
        p = self.p
        d = self.result()
        diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
        if p == 0:
            w = diff * 0
        elif p == 1:
            w = diff.sign()
        elif p == 2:
            w = diff / d.unsqueeze(-1).masked_fill(d.unsqueeze(-1) == 0, 1)
            w = w.masked_fill(d.unsqueeze(-1) == 0, 0)
        elif math.isinf(p):
            w = diff.sign() * (diff.abs() == d.unsqueeze(-1))
        else:
            dd = d.unsqueeze(-1)
            safe = dd.masked_fill(dd == 0, 1)
            ad = diff.abs()
            w = diff.sign() * ad.masked_fill(ad == 0, 1).pow(p - 1) / safe.pow(p - 1)
            w = w.masked_fill((dd == 0) | (ad == 0), 0)
        gw = grad.unsqueeze(-1) * w
        g1 = unbroadcast(gw.sum(-2), x1.shape) if x1._requires_grad else None
        g2 = unbroadcast(-gw.sum(-3), x2.shape) if x2._requires_grad else None
        return g1, g2


@function
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise ``p``-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M)."""
    a, b = x1._data, x2._data
    if a.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    if a.dtype.kind != "f" or b.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {dtype_name(x1.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    xp = array_module(x1)
    with ignore_fp_errors(x1):   # overflow and inf - inf give inf/nan quietly, as in PyTorch
        diff = a[..., :, None, :] - b[..., None, :, :]
        if p == 0:
            r = (diff != 0).sum(-1).astype(a.dtype)
        elif p == 1:
            r = xp.abs(diff).sum(-1)
        elif p == 2:
            r = xp.sqrt((diff * diff).sum(-1))
        elif math.isinf(p):
            r = xp.abs(diff).max(-1) if diff.shape[-1] else xp.zeros(diff.shape[:-1], a.dtype)
        else:
            r = (xp.abs(diff) ** p).sum(-1) ** (1.0 / p)
    res = _make(xp.asarray(r, dtype=xp.result_type(a, b)))
    record(res, CdistBackward0, (x1, x2), (x1, x2), output=True, p=float(p))
    return res
