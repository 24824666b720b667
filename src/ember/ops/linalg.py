"""Decompositions and solvers: inverse, det, slogdet, logdet, solve, solve_triangular, cholesky, qr, svd,
svdvals, eigh, eigvalsh — batched over leading dims, with gradients written in ember ops (so they
differentiate again).  Functions built on these (pinv, lstsq, matrix_rank, norms ...) are in
``matrix_functions.py``.

The declared ops are PyTorch's top-level ones (``inverse``, ``det``, ``svd`` with ``some=``...); the
``linalg_*`` functions follow ``torch.linalg``'s signatures and are what ``ember.linalg`` names.
"""
import warnings

from .. import return_types
from .creation import eye, zeros_like
from ._common import (array_module, module_of_array, Tensor, Node, GradMode, record, op, _make, unbroadcast,
                      write_out, dtype_name, ignore_fp_errors)


class LinAlgError(RuntimeError):
    """Raised when a matrix is singular / not positive-definite (``ember.linalg.LinAlgError``)."""


LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"   # what PyTorch's class is called


# ---------------------------------------------------------------------------- checks and helpers
def converging(fn, a, name, **kwargs):
    """``fn(a, **kwargs)`` (an SVD or eigen solver of ``a``'s module), with PyTorch's LinAlgError when it does
    not converge (NumPy raises its own LinAlgError, a ValueError)."""
    xp = module_of_array(a)
    try:
        return fn(a, **kwargs)
    except xp.linalg.LinAlgError:
        why = "the input matrix contained non-finite values" if not xp.isfinite(a).all() else \
            "the input matrix is ill-conditioned or has too many repeated singular values"
        raise LinAlgError(f"{name}: The algorithm failed to converge because {why}.") from None


def check_matrix(A, name, square=False, floating=True):
    """``A``'s array after PyTorch's checks for a (batch of) matrix input of op ``name``."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if floating and a.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{dtype_name(A.dtype)}")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")
    return a


def first_zero_pivot(a):
    """1-based index of the first zero pivot of LU with partial pivoting of array ``a`` (PyTorch's error text)."""
    xp = module_of_array(a)
    m = xp.array(a, dtype=xp.float64 if a.dtype.kind == "f" else xp.complex128).reshape(-1, a.shape[-2], a.shape[-1])
    n = m.shape[-1]
    first = n
    for b in range(m.shape[0]):
        u = m[b].copy()
        for k in range(n):
            p = k + int(xp.argmax(xp.abs(u[k:, k])))
            if u[p, k] == 0:
                first = min(first, k + 1)
                break
            u[[k, p]] = u[[p, k]]
            u[k + 1:] -= xp.outer(u[k + 1:, k] / u[k, k], u[k])
    return first


def _singular_error(name, a):
    return LinAlgError(f"{name}: The diagonal element {first_zero_pivot(a)} is zero, the inversion could not be "
                       "completed because the input matrix is singular.")


def _eye_like(n, like):
    """The ``n`` x ``n`` identity with ``like``'s dtype and device."""
    return eye(n, dtype=like.dtype, device=like.device)


def real_dtype(arr):
    """The real NumPy dtype matching array ``arr``'s dtype (float64 for complex128 ...)."""
    xp = module_of_array(arr)
    return xp.abs(arr[..., :0, :0]).dtype if arr.ndim >= 2 else xp.abs(arr.reshape(-1)[:0]).dtype


# ---------------------------------------------------------------------------- inverse
class LinalgInvExBackward0(Node):
    def backward(self, grad):
        h = self.result().mH
        return (-(h.matmul(grad).matmul(h)),)


def linalg_inv(A, *, out=None):
    """``torch.linalg.inv``: the inverse of a square matrix (batched); LinAlgError for a singular one."""
    a = check_matrix(A, "linalg.inv", square=True)
    xp = array_module(A)
    try:
        with ignore_fp_errors(A):
            r = xp.linalg.inv(a) if a.size else a.copy()
    except xp.linalg.LinAlgError:
        raise _singular_error("linalg.inv", a) from None
    res = _make(r.astype(a.dtype, copy=False))
    record(res, LinalgInvExBackward0, (A,), output=True)
    return write_out(out, res) if out is not None else res


@op
def inverse(input, *, out=None):
    """The inverse of a square matrix (or of each in a batch); ``linalg.inv``."""
    return linalg_inv(input, out=out)


def linalg_inv_ex(A, *, check_errors=False, out=None):
    """``torch.linalg.inv_ex``: ``(inverse, info)``, info the index of the first zero pivot (0 when invertible)."""
    xp = array_module(A)
    try:
        inv = linalg_inv(A)
        info = _make(xp.zeros(A._data.shape[:-2], dtype=xp.int32))
    except LinAlgError:
        if check_errors:
            raise
        inv = _make(xp.full(A._data.shape, xp.nan, dtype=A._data.dtype))
        info = _make(xp.full(A._data.shape[:-2], first_zero_pivot(A._data), dtype=xp.int32))
    return return_types.linalg_inv_ex(inv, info)


def linalg_solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """``torch.linalg.solve_ex``: ``(result, info)`` of ``linalg_solve``; a singular A raises, so info is 0."""
    res = linalg_solve(A, B, left=left)
    xp = array_module(A)
    return return_types.linalg_solve_ex(res, _make(xp.zeros(A._data.shape[:-2], dtype=xp.int32)))


# ---------------------------------------------------------------------------- det / slogdet / logdet
class LinalgDetBackward0(Node):
    def backward(self, grad):
        (A,) = self.saved_tensors
        d = self.result()
        g = (grad * d.conj()).unsqueeze(-1).unsqueeze(-1)
        if bool((d._data == 0).any()):
            # PyTorch's gradient at an exactly singular matrix is zero (det * A^{-H} with det == 0)
            ok = d._data != 0
            if not ok.any():
                return (zeros_like(A) * grad.unsqueeze(-1).unsqueeze(-1),)
            xp = array_module(A)
            safe = A.detach().clone()
            ident = xp.broadcast_to(xp.eye(A.shape[-1], dtype=A._data.dtype), A._data.shape)
            safe._data[~ok] = ident[~ok]
            return (g * linalg_inv(safe).mH,)
        return (g * linalg_inv(A).mH,)


@op
def det(A, *, out=None):
    """The determinant of a square matrix (or of each in a batch)."""
    a = check_matrix(A, "linalg.det", square=True)
    xp = array_module(A)
    with ignore_fp_errors(A):
        r = xp.linalg.det(a) if a.shape[-1] else xp.ones(a.shape[:-2], dtype=a.dtype)
    res = _make(xp.asarray(r, dtype=a.dtype))
    record(res, LinalgDetBackward0, (A,), (A,), output=True)
    return write_out(out, res) if out is not None else res


class LinalgSlogdetBackward0(Node):
    def backward(self, g_sign, g_logabs):
        (A,) = self.saved_tensors
        if g_logabs is None:
            return (None,)
        return (g_logabs.unsqueeze(-1).unsqueeze(-1) * linalg_inv(A).mH,)


def _slogdet_parts(A, name):
    a = check_matrix(A, name, square=True)
    xp = array_module(A)
    if a.shape[-1]:
        sign, logabs = xp.linalg.slogdet(a)
    else:
        sign, logabs = xp.ones(a.shape[:-2], a.dtype), xp.zeros(a.shape[:-2], real_dtype(a))
    sign_t = _make(xp.asarray(sign, dtype=a.dtype))
    log_t = _make(xp.asarray(logabs, dtype=real_dtype(a)))
    record((sign_t, log_t), LinalgSlogdetBackward0, (A,), (A,))
    return sign_t, log_t


def linalg_slogdet(A, *, out=None):
    """``torch.linalg.slogdet``: ``(sign, logabsdet)`` of the determinant (batched)."""
    sign, logabs = _slogdet_parts(A, "linalg.slogdet")
    return return_types.linalg_slogdet(sign, logabs)


@op
def slogdet(input):
    """(sign, log|det|) of a square matrix, as a named tuple."""
    sign, logabs = _slogdet_parts(input, "linalg.slogdet")
    return return_types.slogdet(sign, logabs)


@op
def logdet(input):
    """log(det(input)): NaN for a negative determinant, -inf for zero."""
    sign, logabs = _slogdet_parts(input, "logdet")
    if input._data.dtype.kind == "c":
        return logabs + sign.log()
    bad = _make(sign._data < 0)
    return logabs.masked_fill(bad, float("nan")) if bool(bad._data.any()) else logabs


# ---------------------------------------------------------------------------- solve
def _solve_is_vector(a, b):
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


class LinalgSolveExBackward0(Node):
    def backward(self, grad):
        A, B = self.saved_tensors
        X = self.result()
        left, vector = self.left, self.vector
        if left:
            gB = linalg_solve(A.mH, grad, left=True)
            gA = None
            if A._requires_grad:
                gA = -(gB.unsqueeze(-1) * X.conj().unsqueeze(-2)) if vector else -gB.matmul(X.mH)
        else:
            gB = linalg_solve(A.mH, grad, left=False)
            gA = -X.mH.matmul(gB) if A._requires_grad else None
        if gA is not None and tuple(gA.shape) != tuple(A.shape):
            gA = unbroadcast(gA, A._data.shape)
        if B._requires_grad and tuple(gB.shape) != tuple(B.shape):
            gB = unbroadcast(gB, B._data.shape)
        return gA, (gB if B._requires_grad else None)


def linalg_solve(A, B, *, left=True, out=None):
    """``torch.linalg.solve``: the X of ``A X = B`` (``X A = B`` with ``left=False``); B may be (batched) vectors."""
    a = check_matrix(A, "linalg.solve", square=True)
    b = B._data
    xp = array_module(A)
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{dtype_name(A.dtype)} and B of type {dtype_name(B.dtype)} instead")
    vector = left and _solve_is_vector(a, b)
    n = a.shape[-1]
    if vector:
        if b.shape[-1] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
                               f"{b.shape[-1]}x1)")
        bm = b[..., None]
    else:
        if b.ndim < 2:
            raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
        rows = b.shape[-2] if left else b.shape[-1]
        if rows != n:
            eq = "AX = B" if left else "XA = B"
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and "
                               f"{b.shape[-2]}x{b.shape[-1]})")
        bm = b if left else xp.swapaxes(b, -1, -2)
    am = a if left else xp.swapaxes(a, -1, -2)
    try:
        batch = xp.broadcast_shapes(am.shape[:-2], bm.shape[:-2])
    except ValueError:
        raise RuntimeError(f"The size of tensor a must match the size of tensor b at a non-singleton batch "
                           f"dimension: shapes {list(a.shape)} and {list(b.shape)}") from None
    try:
        with ignore_fp_errors(A):
            x = xp.linalg.solve(xp.broadcast_to(am, batch + am.shape[-2:]),
                                xp.broadcast_to(bm, batch + bm.shape[-2:])) if a.size and bm.size else \
                xp.zeros(batch + bm.shape[-2:], dtype=a.dtype)
    except xp.linalg.LinAlgError:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None
    if vector:
        x = x[..., 0]
    elif not left:
        x = xp.swapaxes(x, -1, -2)
    res = _make(xp.ascontiguousarray(x, dtype=a.dtype))
    record(res, LinalgSolveExBackward0, (A, B), (A, B), output=True, left=left, vector=vector)
    return write_out(out, res) if out is not None else res


class LinalgSolveTriangularBackward0(Node):
    def backward(self, grad):
        A, B = self.saved_tensors
        X = self.result()
        upper, left, unit = self.upper, self.left, self.unitriangular
        gB = linalg_solve_triangular(A.mH, grad, upper=not upper, left=left, unitriangular=unit)
        gA = None
        if A._requires_grad:
            gA = -gB.matmul(X.mH) if left else -X.mH.matmul(gB)
            gA = gA.triu(1 if unit else 0) if upper else gA.tril(-1 if unit else 0)
            if tuple(gA.shape) != tuple(A.shape):
                gA = unbroadcast(gA, A._data.shape)
        if B._requires_grad and tuple(gB.shape) != tuple(B.shape):
            gB = unbroadcast(gB, B._data.shape)
        return gA, (gB if B._requires_grad else None)


def linalg_solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """``torch.linalg.solve_triangular``: only the ``upper`` (or lower) triangle of A is read."""
    a = check_matrix(A, "linalg.solve_triangular", square=True)
    b = B._data
    xp = array_module(A)
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{dtype_name(A.dtype)} and B of type {dtype_name(B.dtype)} instead")
    tri = xp.triu(a) if upper else xp.tril(a)
    if unitriangular:
        idx = xp.arange(a.shape[-1])
        tri = tri.copy()
        tri[..., idx, idx] = 1
    am = tri if left else xp.swapaxes(tri, -1, -2)
    bm = b if left else xp.swapaxes(b, -1, -2)
    batch = xp.broadcast_shapes(am.shape[:-2], bm.shape[:-2])
    with ignore_fp_errors(A):
        try:
            x = xp.linalg.solve(xp.broadcast_to(am, batch + am.shape[-2:]), xp.broadcast_to(bm, batch + bm.shape[-2:])) \
                if a.size and bm.size else xp.zeros(batch + bm.shape[-2:], dtype=a.dtype)
        except xp.linalg.LinAlgError:
            # a zero on the diagonal: LAPACK's trtrs gives inf/nan rather than an error
            x = _back_substitute(xp.broadcast_to(am, batch + am.shape[-2:]), xp.broadcast_to(bm, batch + bm.shape[-2:]),
                                 upper if left else not upper)
    if not left:
        x = xp.swapaxes(x, -1, -2)
    res = _make(xp.ascontiguousarray(x, dtype=a.dtype))
    record(res, LinalgSolveTriangularBackward0, (A, B), (A, B), output=True, upper=upper, left=left,
           unitriangular=unitriangular)
    return write_out(out, res) if out is not None else res


def _back_substitute(a, b, upper):
    """Triangular solve of arrays by substitution (inf / nan where a diagonal element is zero)."""
    xp = module_of_array(a)
    n = a.shape[-1]
    x = xp.zeros(b.shape, dtype=xp.result_type(a, b))
    order = range(n - 1, -1, -1) if upper else range(n)
    for i in order:
        s = b[..., i, :] - xp.einsum("...j,...jk->...k", a[..., i, :], x)
        x[..., i, :] = s / a[..., i, i][..., None]
    return x


# ---------------------------------------------------------------------------- cholesky
class LinalgCholeskyExBackward0(Node):
    def backward(self, grad):
        L = self.result()
        if self.upper:
            L, grad = L.mH, grad.mH
        # gA = L^{-H} Phi(L^H gL) L^{-1}, Phi = tril with the diagonal halved; then symmetrised
        phi = L.mH.matmul(grad).tril()
        phi = phi - phi.diagonal(0, -2, -1).diag_embed() * 0.5
        linv = linalg_solve_triangular(L, _eye_like(L.shape[-1], L).expand(L.shape), upper=False)
        ga = linv.mH.matmul(phi).matmul(linv)
        return ((ga + ga.mH) * 0.5,)


def _cholesky_core(A, upper, name):
    a = check_matrix(A, name, square=True)
    xp = array_module(A)
    try:
        L = xp.linalg.cholesky(a) if a.size else a.copy()
    except xp.linalg.LinAlgError:
        return None, _not_pd_order(a)
    if upper:
        L = xp.conj(xp.swapaxes(L, -1, -2))
    return L, 0


def _not_pd_order(a):
    xp = module_of_array(a)
    m = a.reshape(-1, a.shape[-2], a.shape[-1])
    worst = a.shape[-1]
    for b in range(m.shape[0]):
        for k in range(1, a.shape[-1] + 1):
            try:
                xp.linalg.cholesky(m[b, :k, :k])
            except xp.linalg.LinAlgError:
                worst = min(worst, k)
                break
    return worst


def linalg_cholesky(A, *, upper=False, out=None, name="linalg.cholesky"):
    """``torch.linalg.cholesky``: L with ``A = L L^H`` (U = L^H with ``upper=True``); LinAlgError when A is not
    positive-definite (``name`` is the op named in that message)."""
    L, order = _cholesky_core(A, upper, name)
    if L is None:
        raise LinAlgError(f"{name}: The factorization could not be completed because the input is not "
                          f"positive-definite (the leading minor of order {order} is not positive-definite).")
    res = _make(array_module(A).ascontiguousarray(L, dtype=A._data.dtype))
    record(res, LinalgCholeskyExBackward0, (A,), output=True, upper=upper)
    return write_out(out, res) if out is not None else res


def linalg_cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """``torch.linalg.cholesky_ex``: ``(L, info)``, info the order of the first non-positive-definite leading
    minor (0 when A is positive-definite)."""
    L, order = _cholesky_core(A, upper, "linalg.cholesky_ex")
    xp = array_module(A)
    if L is None:
        if check_errors:
            return linalg_cholesky(A, upper=upper, name="linalg.cholesky_ex")
        return return_types.linalg_cholesky_ex(_make(xp.zeros_like(A._data)),
                                               _make(xp.full(A._data.shape[:-2], order, dtype=xp.int32)))
    return return_types.linalg_cholesky_ex(linalg_cholesky(A, upper=upper),
                                           _make(xp.zeros(A._data.shape[:-2], dtype=xp.int32)))


@op
def cholesky(input, upper=False, *, out=None):
    """The Cholesky factor (lower, or upper with ``upper=True``); deprecated in PyTorch for linalg.cholesky."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand"
                  "\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
                  "transform will produce equivalent results for all valid (symmetric positive definite) inputs.",
                  UserWarning, stacklevel=2)
    return linalg_cholesky(input, upper=upper, out=out, name="linalg.cholesky")


# ---------------------------------------------------------------------------- QR
def _qr_grad_square_or_tall(Q, R, gQ, gR):
    """TF/JAX's QR gradient for m >= n (reduced): all ember ops."""
    n = R.shape[-1]
    if gQ is None:
        gQ = zeros_like(Q)
    if gR is None:
        gR = zeros_like(R)
    qdq = Q.mH.matmul(gQ)
    qdq_ = qdq - qdq.mH
    rdr = R.matmul(gR.mH)
    rdr_ = rdr - rdr.mH
    tril = (qdq_ + rdr_).tril()
    rinvh = linalg_solve_triangular(R, _eye_like(n, R).expand(R.shape), upper=True).mH       # R^{-H}
    grad_a = Q.matmul(gR + tril.matmul(rinvh))
    grad_b = (gQ - Q.matmul(qdq)).matmul(rinvh)
    return grad_a + grad_b


class LinalgQrBackward0(Node):
    def backward(self, gQ, gR):
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        Q, R = self.result(0), self.result(1)
        m, n = Q.shape[-2], R.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return (_qr_grad_square_or_tall(Q, R, gQ, gR),)
        # wide: A = [X | Y] = Q [U | V] with U square
        U, V = R[..., :, :m], R[..., :, m:]
        (A,) = self.saved_tensors
        Y = A[..., :, m:]
        gU = gR[..., :, :m] if gR is not None else None
        gV = gR[..., :, m:] if gR is not None else zeros_like(V)
        gQ2 = Y.matmul(gV.mH) if gQ is None else gQ + Y.matmul(gV.mH)
        gX = _qr_grad_square_or_tall(Q, U, gQ2, gU)
        gY = Q.matmul(gV)
        from .joining import cat
        return (cat([gX, gY], -1),)


def _qr_arrays(a, mode):
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
    xp = module_of_array(a)
    m, n = a.shape[-2], a.shape[-1]
    if a.size == 0:
        k = min(m, n)
        qcols = m if mode == "complete" else k
        q = xp.zeros(a.shape[:-2] + (m, qcols), a.dtype)
        if qcols:
            q[..., range(min(m, qcols)), range(min(m, qcols))] = 1
        r = xp.zeros(a.shape[:-2] + ((m if mode == "complete" else k), n), a.dtype)
    else:
        q, r = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        q = xp.zeros((0,), dtype=a.dtype)
    return xp.ascontiguousarray(q, dtype=a.dtype), xp.ascontiguousarray(r, dtype=a.dtype)


def _qr_tensors(A, mode):
    """``(Q, R)`` of ``A``, recorded (Q takes no gradient in mode 'r', where it is empty)."""
    q, r = _qr_arrays(check_matrix(A, "linalg.qr"), mode)
    Q, R = _make(q), _make(r)
    if record((Q, R), LinalgQrBackward0, (A,), (A,), output=True, mode=mode) is not None and mode == "r":
        Q._requires_grad = False
        Q._grad_fn = None
    return Q, R


def linalg_qr(A, mode="reduced", *, out=None):
    """``torch.linalg.qr``: ``(Q, R)``; mode 'reduced', 'complete' or 'r'."""
    return return_types.linalg_qr(*_qr_tensors(A, mode))


@op
def qr(input, some=True, *, out=None):
    """(Q, R) with Q orthonormal columns and R upper triangular; ``some=False`` gives the complete Q."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release."
                  "\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = "
                  "torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
                  "'complete')", UserWarning, stacklevel=2)
    return return_types.qr(*_qr_tensors(input, "reduced" if some else "complete"))


# ---------------------------------------------------------------------------- SVD
def _svd_backward(gU, gS, gVh, U, S, Vh):
    """PyTorch's svd_backward (distinct singular values), in ember ops; U, Vh are the reduced factors."""
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        if gS is None:
            return None
        return U.matmul(gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)).matmul(Vh)
    is_complex = U._data.dtype.kind == "c"

    def skew(X):
        return X - X.mH
    UhgU = skew(U.mH.matmul(gU)) if gU is not None else None
    VhgV = skew(Vh.matmul(gVh.mH)) if gVh is not None else None
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    k = S.shape[-1]
    E = E + _eye_like(k, E).expand(E.shape)
    if UhgU is not None and VhgV is not None:
        ret = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif UhgU is not None:
        ret = UhgU * S.unsqueeze(-2) / E
    else:
        ret = S.unsqueeze(-1) * VhgV / E
    if gS is not None:
        ret = ret + gS.diag_embed().to(ret.dtype) if is_complex else ret + gS.diag_embed()
    if is_complex and UhgU is not None:
        ret = ret + (UhgU.diagonal(0, -2, -1) / (S * 2)).diag_embed()
    if m > n and gU is not None:
        gA = U.matmul(ret)
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U.matmul(U.mH.matmul(gUSinv))
        return gA.matmul(Vh)
    if m < n and gVh is not None:
        gA = ret.matmul(Vh)
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - SinvgVh.matmul(Vh.mH).matmul(Vh)
        return U.matmul(gA)
    return U.matmul(ret.matmul(Vh)) if m >= n else U.matmul(ret).matmul(Vh)


class LinalgSvdBackward0(Node):
    def backward(self, gU, gS, gVh):
        U, S, Vh = self.result(0), self.result(1), self.result(2)
        k = S.shape[-1]
        if self.v_not_vh:  # torch.svd returns V: its gradient is the transpose of Vh's
            Vh = Vh.mH
            gVh = gVh.mH if gVh is not None else None
        if self.full_matrices:
            U = U[..., :, :k]
            Vh = Vh[..., :k, :]
            gU = gU[..., :, :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        return (_svd_backward(gU, gS, gVh, U, S, Vh),)


def _svd_arrays(a, full_matrices):
    xp = module_of_array(a)
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    if a.size == 0:
        ucols, vrows = (m, n) if full_matrices else (k, k)
        u = xp.zeros(a.shape[:-2] + (m, ucols), a.dtype)
        vh = xp.zeros(a.shape[:-2] + (vrows, n), a.dtype)
        if full_matrices:
            u[..., range(m), range(m)] = 1
            vh[..., range(n), range(n)] = 1
        s = xp.zeros(a.shape[:-2] + (k,), real_dtype(a))
        return u, s, vh
    u, s, vh = converging(xp.linalg.svd, a, "linalg.svd", full_matrices=full_matrices)
    return u.astype(a.dtype, copy=False), s.astype(real_dtype(a), copy=False), vh.astype(a.dtype, copy=False)


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """``torch.linalg.svd``: ``(U, S, Vh)`` with ``A = U diag(S) Vh``."""
    u, s, vh = _svd_arrays(check_matrix(A, "linalg.svd"), full_matrices)
    U, S, Vh = _make(u), _make(s), _make(vh)
    record((U, S, Vh), LinalgSvdBackward0, (A,), output=True, full_matrices=full_matrices, v_not_vh=False)
    return return_types.linalg_svd(U, S, Vh)


@op
def svd(input, some=True, compute_uv=True, *, out=None):
    """(U, S, V) with ``input = U diag(S) V^H`` (V, not V^H, as the deprecated ``torch.svd``)."""
    a = check_matrix(input, "linalg.svd")
    xp = array_module(input)
    if not compute_uv:
        S = linalg_svdvals(input)
        m, n = a.shape[-2], a.shape[-1]
        return return_types.svd(_make(xp.zeros(a.shape[:-2] + (m, m), a.dtype)), S,
                                _make(xp.zeros(a.shape[:-2] + (n, n), a.dtype)))
    u, s, vh = _svd_arrays(a, not some)
    U, S, V = _make(u), _make(s), _make(xp.ascontiguousarray(xp.conj(xp.swapaxes(vh, -1, -2))))
    record((U, S, V), LinalgSvdBackward0, (input,), output=True, full_matrices=not some, v_not_vh=True)
    return return_types.svd(U, S, V)


def linalg_svdvals(A, *, driver=None, out=None):
    """``torch.linalg.svdvals``: the singular values, in descending order."""
    a = check_matrix(A, "linalg.svdvals")
    if A._requires_grad and GradMode.enabled:
        # through the full decomposition, so that second derivatives see U and V move
        res = linalg_svd(A, full_matrices=False).S
    else:
        xp = array_module(A)
        if a.size:
            s = converging(xp.linalg.svd, a, "linalg.svd", compute_uv=False).astype(real_dtype(a), copy=False)
        else:
            s = xp.zeros(a.shape[:-2] + (min(a.shape[-2:]),), real_dtype(a))
        res = _make(s)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- eigh
def _eigh_backward(gL, gV, L, V):
    if gV is None:
        return V.matmul(gL.to(V.dtype).unsqueeze(-1) * V.mH)
    VhgV = V.mH.matmul(gV)
    n = L.shape[-1]
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    E = E + _eye_like(n, E).expand(E.shape)
    off = (VhgV - VhgV.mH) * 0.5 / E.to(VhgV.dtype)
    diag = off.diagonal(0, -2, -1)
    off = off - diag.diag_embed()
    if gL is not None:
        off = off + gL.to(off.dtype).diag_embed()
    return V.matmul(off).matmul(V.mH)


class LinalgEighBackward0(Node):
    def backward(self, gL, gV):
        return (_eigh_backward(gL, gV, self.result(0), self.result(1)),)


def _eigh_arrays(A, name, UPLO):
    a = check_matrix(A, name, square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{name}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    xp = array_module(A)
    if a.size == 0:
        return xp.zeros(a.shape[:-1], real_dtype(a)), a.copy()
    w, v = converging(xp.linalg.eigh, a, "linalg.eigh", UPLO=UPLO)
    return w.astype(real_dtype(a), copy=False), v.astype(a.dtype, copy=False)


def linalg_eigh(A, UPLO="L", *, out=None):
    """``torch.linalg.eigh``: ``(eigenvalues, eigenvectors)`` of a Hermitian matrix (ascending eigenvalues; the
    ``UPLO`` triangle is read)."""
    w, v = _eigh_arrays(A, "linalg.eigh", UPLO)
    L, V = _make(w), _make(v)
    record((L, V), LinalgEighBackward0, (A,), output=True)
    return return_types.linalg_eigh(L, V)


def linalg_eigvalsh(A, UPLO="L", *, out=None):
    """``torch.linalg.eigvalsh``: the eigenvalues of a Hermitian matrix, ascending."""
    if A._requires_grad and GradMode.enabled:
        res = linalg_eigh(A, UPLO).eigenvalues
    else:
        w, _ = _eigh_arrays(A, "linalg.eigvalsh", UPLO)
        res = _make(w)
    return write_out(out, res) if out is not None else res
