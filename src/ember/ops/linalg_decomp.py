"""Matrix functions and decompositions (the work behind ``ember.linalg``): inv, det, slogdet, solve,
solve_triangular, cholesky, qr, svd, svdvals, eigh, eigvalsh, pinv, matrix_power, matrix_rank, lstsq,
multi_dot — batched over leading dims, with gradients written in ember ops (so they differentiate again).

The public names here are PyTorch's top-level ones (``inverse``, ``det``, ``svd`` with ``some=``...);
``ember.linalg`` wraps the underscore functions, which follow ``torch.linalg``'s signatures.
"""
import warnings

from .. import return_types
from ._common import xp, Tensor, Node, attach, GradMode, _make, unbroadcast, wrap_dim
from .elementwise import write_out, _dtype_name

_LinAlgErrorBase = RuntimeError


class _LinAlgError(_LinAlgErrorBase):
    """Raised when a matrix is singular / not positive-definite (``ember.linalg.LinAlgError``)."""


# ---------------------------------------------------------------------------- checks and helpers
def _check_matrix(A, name, square=False, floating=True):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if floating and a.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype_name(A.dtype)}")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")
    return a


def _first_zero_pivot(a):
    """1-based index of the first zero pivot of LU with partial pivoting (for PyTorch's error text)."""
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
    return _LinAlgError(f"{name}: The diagonal element {_first_zero_pivot(a)} is zero, the inversion could not be "
                        "completed because the input matrix is singular.")


def _eye(n, like):
    from .creation import eye
    return eye(n, dtype=like.dtype)


def _mh(t):
    return t.mT.conj() if t._data.dtype.kind == "c" else t.mT


def _save_outputs(node, *tensors):
    """Keep a multi-output node's outputs for its backward (freed with the graph, version-checked)."""
    node._result = tuple((t._data, t._version, t._version[0]) for t in tensors)


def _output(node, i, transpose=False):
    """Output ``i`` of ``node`` as a tensor whose history is ``node`` itself (so backward differentiates again)."""
    from ..autograd.graph import _FREED_MSG, _inplace_message
    saved = node._result
    if saved is None:
        raise RuntimeError(_FREED_MSG)
    arr, counter, version = saved[i]
    t = _make(arr)
    t._version = counter
    if counter[0] != version:
        raise RuntimeError(_inplace_message(t, counter[0], version))
    if GradMode.enabled:
        t._grad_fn = node
        t._requires_grad = True
        if i:
            t.__dict__["_output_nr"] = i
    return _mh(t) if transpose else t


def _attach_outputs(node, A, *outs):
    node._num_outputs = len(outs)
    for i, t in enumerate(outs):
        attach(t, node, A)
        if i:
            t.__dict__["_output_nr"] = i


def _real_dtype(arr):
    return xp.abs(arr[..., :0, :0]).dtype if arr.ndim >= 2 else xp.abs(arr.reshape(-1)[:0]).dtype


# ---------------------------------------------------------------------------- inverse
class LinalgInvExBackward0(Node):
    def backward(self, grad):
        ainv = self.result()
        h = _mh(ainv)
        return (-(h.matmul(grad).matmul(h)),)


def _inv(A, *, out=None):
    a = _check_matrix(A, "linalg.inv", square=True)
    try:
        with xp.errstate(all="ignore"):
            r = xp.linalg.inv(a) if a.size else a.copy()
    except xp.linalg.LinAlgError:
        raise _singular_error("linalg.inv", a) from None
    res = _make(r.astype(a.dtype, copy=False))
    if A._requires_grad and GradMode.enabled:
        node = LinalgInvExBackward0()
        node.save_result(res)
        attach(res, node, A)
    return write_out(out, res) if out is not None else res


def inverse(input, *, out=None):
    """The inverse of a square matrix (or of each in a batch); ``linalg.inv``."""
    return _inv(input, out=out)


def _inv_ex(A, *, check_errors=False, out=None):
    try:
        inv = _inv(A)
        info = _make(xp.zeros(A._data.shape[:-2], dtype=xp.int32))
    except _LinAlgError:
        if check_errors:
            raise
        inv = _make(xp.full(A._data.shape, xp.nan, dtype=A._data.dtype))
        info = _make(xp.full(A._data.shape[:-2], _first_zero_pivot(A._data), dtype=xp.int32))
    return return_types.linalg_inv_ex(inv, info)


# ---------------------------------------------------------------------------- det / slogdet / logdet
class LinalgDetBackward0(Node):
    def backward(self, grad):
        (A,) = self.saved_tensors
        d = self.result()
        g = (grad * _conj(d)).unsqueeze(-1).unsqueeze(-1)
        if bool((d._data == 0).any()):
            # PyTorch's gradient at an exactly singular matrix is zero (det * A^{-H} with det == 0)
            ok = d._data != 0
            if not ok.any():
                return (A.new_zeros(A.shape) * grad.unsqueeze(-1).unsqueeze(-1),)
            safe = A.detach().clone()
            eye = xp.broadcast_to(xp.eye(A.shape[-1], dtype=A._data.dtype), A._data.shape)
            safe._data[~ok] = eye[~ok]
            return (g * _mh(_inv(safe)),)
        return (g * _mh(_inv(A)),)


def det(A, *, out=None):
    """The determinant of a square matrix (or of each in a batch)."""
    a = _check_matrix(A, "linalg.det", square=True)
    with xp.errstate(all="ignore"):
        r = xp.linalg.det(a) if a.shape[-1] else xp.ones(a.shape[:-2], dtype=a.dtype)
    res = _make(xp.asarray(r, dtype=a.dtype))
    if A._requires_grad and GradMode.enabled:
        node = LinalgDetBackward0()
        node.save(A)
        node.save_result(res)
        attach(res, node, A)
    return write_out(out, res) if out is not None else res


class LinalgSlogdetBackward0(Node):
    def backward(self, g_sign, g_logabs):
        (A,) = self.saved_tensors
        if g_logabs is None:
            return (None,)
        return (g_logabs.unsqueeze(-1).unsqueeze(-1) * _mh(_inv(A)),)


def _slogdet_parts(A, name):
    a = _check_matrix(A, name, square=True)
    if a.shape[-1]:
        sign, logabs = xp.linalg.slogdet(a)
    else:
        sign, logabs = xp.ones(a.shape[:-2], a.dtype), xp.zeros(a.shape[:-2], _real_dtype(a))
    sign_t = _make(xp.asarray(sign, dtype=a.dtype))
    log_t = _make(xp.asarray(logabs, dtype=_real_dtype(a)))
    if A._requires_grad and GradMode.enabled:
        node = LinalgSlogdetBackward0()
        node.save(A)
        _attach_outputs(node, A, sign_t, log_t)
    return sign_t, log_t


def _slogdet(A, *, out=None):
    sign, logabs = _slogdet_parts(A, "linalg.slogdet")
    return return_types.linalg_slogdet(sign, logabs)


def slogdet(input):
    """(sign, log|det|) of a square matrix, as a named tuple."""
    sign, logabs = _slogdet_parts(input, "linalg.slogdet")
    return return_types.slogdet(sign, logabs)


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
            gB = _solve(_mh(A), grad, left=True)
            gA = None
            if A._requires_grad:
                gA = -(gB.unsqueeze(-1) * _conj(X).unsqueeze(-2)) if vector else -gB.matmul(_mh(X))
        else:
            gB = _solve(_mh(A), grad, left=False)
            gA = -_mh(X).matmul(gB) if A._requires_grad else None
        if gA is not None and tuple(gA.shape) != tuple(A.shape):
            gA = unbroadcast(gA, A._data.shape)
        if B._requires_grad and tuple(gB.shape) != tuple(B.shape):
            gB = unbroadcast(gB, B._data.shape)
        return gA, (gB if B._requires_grad else None)


def _conj(t):
    return t.conj() if t._data.dtype.kind == "c" else t


def _solve(A, B, *, left=True, out=None):
    a = _check_matrix(A, "linalg.solve", square=True)
    b = B._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_dtype_name(A.dtype)} and B of type {_dtype_name(B.dtype)} instead")
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
        with xp.errstate(all="ignore"):
            x = xp.linalg.solve(xp.broadcast_to(am, batch + am.shape[-2:]),
                                xp.broadcast_to(bm, batch + bm.shape[-2:])) if a.size and bm.size else \
                xp.zeros(batch + bm.shape[-2:], dtype=a.dtype)
    except xp.linalg.LinAlgError:
        raise _LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None
    if vector:
        x = x[..., 0]
    elif not left:
        x = xp.swapaxes(x, -1, -2)
    res = _make(xp.ascontiguousarray(x, dtype=a.dtype))
    if GradMode.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgSolveExBackward0()
        node.left, node.vector = left, vector
        node.save(A, B)
        node.save_result(res)
        attach(res, node, A, B)
    return write_out(out, res) if out is not None else res


class LinalgSolveTriangularBackward0(Node):
    def backward(self, grad):
        A, B = self.saved_tensors
        X = self.result()
        upper, left, unit = self.upper, self.left, self.unitriangular
        gB = _solve_triangular(_mh(A), grad, upper=not upper, left=left, unitriangular=unit)
        gA = None
        if A._requires_grad:
            gA = -gB.matmul(_mh(X)) if left else -_mh(X).matmul(gB)
            gA = gA.triu(1 if unit else 0) if upper else gA.tril(-1 if unit else 0)
            if tuple(gA.shape) != tuple(A.shape):
                gA = unbroadcast(gA, A._data.shape)
        if B._requires_grad and tuple(gB.shape) != tuple(B.shape):
            gB = unbroadcast(gB, B._data.shape)
        return gA, (gB if B._requires_grad else None)


def _solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    a = _check_matrix(A, "linalg.solve_triangular", square=True)
    b = B._data
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{_dtype_name(A.dtype)} and B of type {_dtype_name(B.dtype)} instead")
    tri = xp.triu(a) if upper else xp.tril(a)
    if unitriangular:
        idx = xp.arange(a.shape[-1])
        tri = tri.copy()
        tri[..., idx, idx] = 1
    am = tri if left else xp.swapaxes(tri, -1, -2)
    bm = b if left else xp.swapaxes(b, -1, -2)
    batch = xp.broadcast_shapes(am.shape[:-2], bm.shape[:-2])
    with xp.errstate(all="ignore"):
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
    if GradMode.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgSolveTriangularBackward0()
        node.upper, node.left, node.unitriangular = upper, left, unitriangular
        node.save(A, B)
        node.save_result(res)
        attach(res, node, A, B)
    return write_out(out, res) if out is not None else res


def _back_substitute(a, b, upper):
    n = a.shape[-1]
    x = xp.zeros(b.shape, dtype=xp.result_type(a, b))
    order = range(n - 1, -1, -1) if upper else range(n)
    with xp.errstate(all="ignore"):
        for i in order:
            s = b[..., i, :] - xp.einsum("...j,...jk->...k", a[..., i, :], x)
            x[..., i, :] = s / a[..., i, i][..., None]
    return x


# ---------------------------------------------------------------------------- cholesky
class LinalgCholeskyExBackward0(Node):
    def backward(self, grad):
        L = self.result()
        if self.upper:
            L, grad = _mh(L), _mh(grad)
        # gA = L^{-H} Phi(L^H gL) L^{-1}, Phi = tril with the diagonal halved; then symmetrised
        phi = _mh(L).matmul(grad).tril()
        phi = phi - phi.diagonal(0, -2, -1).diag_embed() * 0.5
        n = L.shape[-1]
        eye = _eye(n, L)
        linv = _solve_triangular(L, eye.expand(L.shape), upper=False)
        ga = _mh(linv).matmul(phi).matmul(linv)
        return ((ga + _mh(ga)) * 0.5,)


def _cholesky_core(A, upper, name):
    a = _check_matrix(A, name, square=True)
    try:
        L = xp.linalg.cholesky(a) if a.size else a.copy()
    except xp.linalg.LinAlgError:
        return None, _not_pd_order(a)
    if upper:
        L = xp.conj(xp.swapaxes(L, -1, -2))
    return L, 0


def _not_pd_order(a):
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


def _cholesky(A, *, upper=False, out=None, name="linalg.cholesky"):
    L, order = _cholesky_core(A, upper, name)
    if L is None:
        raise _LinAlgError(f"{name}: The factorization could not be completed because the input is not "
                           f"positive-definite (the leading minor of order {order} is not positive-definite).")
    res = _make(xp.ascontiguousarray(L, dtype=A._data.dtype))
    if A._requires_grad and GradMode.enabled:
        node = LinalgCholeskyExBackward0()
        node.upper = upper
        node.save_result(res)
        attach(res, node, A)
    return write_out(out, res) if out is not None else res


def _cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    L, order = _cholesky_core(A, upper, "linalg.cholesky_ex")
    if L is None:
        if check_errors:
            return _cholesky(A, upper=upper, name="linalg.cholesky_ex")
        return return_types.linalg_cholesky_ex(_make(xp.zeros_like(A._data)),
                                               _make(xp.full(A._data.shape[:-2], order, dtype=xp.int32)))
    return return_types.linalg_cholesky_ex(_cholesky(A, upper=upper),
                                           _make(xp.zeros(A._data.shape[:-2], dtype=xp.int32)))


def cholesky(input, upper=False, *, out=None):
    """The Cholesky factor (lower, or upper with ``upper=True``); deprecated in PyTorch for linalg.cholesky."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand"
                  "\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
                  "transform will produce equivalent results for all valid (symmetric positive definite) inputs.",
                  UserWarning, stacklevel=2)
    return _cholesky(input, upper=upper, out=out, name="linalg.cholesky")


# ---------------------------------------------------------------------------- QR
def _qr_grad_square_or_tall(Q, R, gQ, gR):
    """TF/JAX's QR gradient for m >= n (reduced): all ember ops."""
    n = R.shape[-1]
    if gQ is None:
        gQ = Q.new_zeros(Q.shape)
    if gR is None:
        gR = R.new_zeros(R.shape)
    qdq = _mh(Q).matmul(gQ)
    qdq_ = qdq - _mh(qdq)
    rdr = R.matmul(_mh(gR))
    rdr_ = rdr - _mh(rdr)
    tril = (qdq_ + rdr_).tril()
    eye = _eye(n, R).expand(R.shape)
    rinvh = _mh(_solve_triangular(R, eye, upper=True))       # R^{-H}
    grad_a = Q.matmul(gR + tril.matmul(rinvh))
    grad_b = (gQ - Q.matmul(qdq)).matmul(rinvh)
    return grad_a + grad_b


class LinalgQrBackward0(Node):
    def backward(self, gQ, gR):
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        Q, R = _output(self, 0), _output(self, 1)
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
        gV = gR[..., :, m:] if gR is not None else V.new_zeros(V.shape)
        gQ2 = Y.matmul(_mh(gV)) if gQ is None else gQ + Y.matmul(_mh(gV))
        gX = _qr_grad_square_or_tall(Q, U, gQ2, gU)
        gY = Q.matmul(gV)
        from .shape import cat
        return (cat([gX, gY], -1),)


def _qr_arrays(a, mode):
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
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


def _qr(A, mode="reduced", *, out=None):
    a = _check_matrix(A, "linalg.qr")
    q, r = _qr_arrays(a, mode)
    Q, R = _make(q), _make(r)
    if A._requires_grad and GradMode.enabled:
        _attach_qr(A, Q, R, mode)
    return return_types.linalg_qr(Q, R)


def _attach_qr(A, Q, R, mode):
    node = LinalgQrBackward0()
    node.mode = mode
    node.save(A)
    _save_outputs(node, Q, R)
    _attach_outputs(node, A, Q, R)
    if mode == "r":
        Q._requires_grad = False
        Q._grad_fn = None
    return node


def qr(input, some=True, *, out=None):
    """(Q, R) with Q orthonormal columns and R upper triangular; ``some=False`` gives the complete Q."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release."
                  "\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = "
                  "torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
                  "'complete')", UserWarning, stacklevel=2)
    a = _check_matrix(input, "linalg.qr")
    mode = "reduced" if some else "complete"
    q, r = _qr_arrays(a, mode)
    Q, R = _make(q), _make(r)
    if input._requires_grad and GradMode.enabled:
        _attach_qr(input, Q, R, mode)
    return return_types.qr(Q, R)


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
        return X - _mh(X)
    UhgU = skew(_mh(U).matmul(gU)) if gU is not None else None
    VhgV = skew(Vh.matmul(_mh(gVh))) if gVh is not None else None
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    k = S.shape[-1]
    E = E + _eye(k, E).expand(E.shape)
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
        gA = gA + gUSinv - U.matmul(_mh(U).matmul(gUSinv))
        return gA.matmul(Vh)
    if m < n and gVh is not None:
        gA = ret.matmul(Vh)
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - SinvgVh.matmul(_mh(Vh)).matmul(Vh)
        return U.matmul(gA)
    return U.matmul(ret.matmul(Vh)) if m >= n else U.matmul(ret).matmul(Vh)


class LinalgSvdBackward0(Node):
    def backward(self, gU, gS, gVh):
        U, S, Vh = _output(self, 0), _output(self, 1), _output(self, 2, transpose=self.v_not_vh)
        k = S.shape[-1]
        if self.v_not_vh:  # torch.svd returns V: its gradient is the transpose of Vh's
            gVh = _mh(gVh) if gVh is not None else None
        if self.full_matrices:
            U = U[..., :, :k]
            Vh = Vh[..., :k, :]
            gU = gU[..., :, :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        return (_svd_backward(gU, gS, gVh, U, S, Vh),)


def _svd_arrays(a, full_matrices):
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    if a.size == 0:
        ucols, vrows = (m, n) if full_matrices else (k, k)
        u = xp.zeros(a.shape[:-2] + (m, ucols), a.dtype)
        vh = xp.zeros(a.shape[:-2] + (vrows, n), a.dtype)
        if full_matrices:
            u[..., range(m), range(m)] = 1
            vh[..., range(n), range(n)] = 1
        s = xp.zeros(a.shape[:-2] + (k,), _real_dtype(a))
        return u, s, vh
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return u.astype(a.dtype, copy=False), s.astype(_real_dtype(a), copy=False), vh.astype(a.dtype, copy=False)


def _attach_svd(A, U, S, V, full_matrices, v_not_vh):
    node = LinalgSvdBackward0()
    node.full_matrices, node.v_not_vh = full_matrices, v_not_vh
    _save_outputs(node, U, S, V)
    _attach_outputs(node, A, U, S, V)


def _svd(A, full_matrices=True, *, driver=None, out=None):
    a = _check_matrix(A, "linalg.svd")
    u, s, vh = _svd_arrays(a, full_matrices)
    U, S, Vh = _make(u), _make(s), _make(vh)
    if A._requires_grad and GradMode.enabled:
        _attach_svd(A, U, S, Vh, full_matrices, False)
    return return_types.linalg_svd(U, S, Vh)


def svd(input, some=True, compute_uv=True, *, out=None):
    """(U, S, V) with ``input = U diag(S) V^H`` (V, not V^H, as the deprecated ``torch.svd``)."""
    a = _check_matrix(input, "linalg.svd")
    if not compute_uv:
        S = _svdvals(input)
        m, n = a.shape[-2], a.shape[-1]
        return return_types.svd(_make(xp.zeros(a.shape[:-2] + (m, m), a.dtype)), S,
                                _make(xp.zeros(a.shape[:-2] + (n, n), a.dtype)))
    u, s, vh = _svd_arrays(a, not some)
    U, S, V = _make(u), _make(s), _make(xp.ascontiguousarray(xp.conj(xp.swapaxes(vh, -1, -2))))
    if input._requires_grad and GradMode.enabled:
        _attach_svd(input, U, S, V, not some, True)
    return return_types.svd(U, S, V)


def _svdvals(A, *, driver=None, out=None):
    a = _check_matrix(A, "linalg.svdvals")
    if A._requires_grad and GradMode.enabled:
        # through the full decomposition, so that second derivatives see U and V move
        res = _svd(A, full_matrices=False).S
    else:
        s = xp.linalg.svd(a, compute_uv=False).astype(_real_dtype(a), copy=False) if a.size else \
            xp.zeros(a.shape[:-2] + (min(a.shape[-2:]),), _real_dtype(a))
        res = _make(s)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- eigh
def _eigh_backward(gL, gV, L, V):
    if gV is None:
        return V.matmul(gL.to(V.dtype).unsqueeze(-1) * _mh(V))
    VhgV = _mh(V).matmul(gV)
    n = L.shape[-1]
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    E = E + _eye(n, E).expand(E.shape)
    off = (VhgV - _mh(VhgV)) * 0.5 / E.to(VhgV.dtype)
    diag = off.diagonal(0, -2, -1)
    off = off - diag.diag_embed()
    if gL is not None:
        off = off + gL.to(off.dtype).diag_embed()
    return V.matmul(off).matmul(_mh(V))


class LinalgEighBackward0(Node):
    def backward(self, gL, gV):
        return (_eigh_backward(gL, gV, _output(self, 0), _output(self, 1)),)


def _eigh_arrays(A, name, UPLO):
    a = _check_matrix(A, name, square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{name}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if a.size == 0:
        return xp.zeros(a.shape[:-1], _real_dtype(a)), a.copy()
    w, v = xp.linalg.eigh(a, UPLO=UPLO)
    return w.astype(_real_dtype(a), copy=False), v.astype(a.dtype, copy=False)


def _eigh(A, UPLO="L", *, out=None):
    w, v = _eigh_arrays(A, "linalg.eigh", UPLO)
    L, V = _make(w), _make(v)
    if A._requires_grad and GradMode.enabled:
        node = LinalgEighBackward0()
        _save_outputs(node, L, V)
        _attach_outputs(node, A, L, V)
    return return_types.linalg_eigh(L, V)


def _eigvalsh(A, UPLO="L", *, out=None):
    if A._requires_grad and GradMode.enabled:
        res = _eigh(A, UPLO).eigenvalues
    else:
        w, _ = _eigh_arrays(A, "linalg.eigvalsh", UPLO)
        res = _make(w)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- pinv
class LinalgPinvBackward0(Node):
    def backward(self, grad):
        (A,) = self.saved_tensors
        pinvA = self.result()
        m, n = A.shape[-2], A.shape[-1]
        pinvAh = _mh(pinvA)
        gradh = _mh(grad)
        if m <= n:
            K = gradh.matmul(pinvA)
            KpinvAh = K.matmul(pinvAh)
            return (-_mh(pinvA.matmul(K)) + KpinvAh - A.matmul(pinvA).matmul(KpinvAh)
                    + pinvAh.matmul(pinvA).matmul(gradh - K.matmul(A)),)
        K = pinvA.matmul(gradh)
        pinvAhK = pinvAh.matmul(K)
        return (-_mh(K.matmul(pinvA)) + (gradh - A.matmul(K)).matmul(pinvA).matmul(pinvAh) + pinvAhK
                - pinvAhK.matmul(pinvA).matmul(A),)


def _tolerances(a, s_max, atol, rtol, name):
    """PyTorch's rank / pinv cut-off: max(atol, rtol * s_max), rtol defaulting to eps * max(m, n)."""
    def val(t):
        return t._data if isinstance(t, Tensor) else t
    eps = xp.finfo(_real_dtype(a)).eps
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


def _pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    if not isinstance(A, Tensor) or A._data.ndim < 2 or A._data.dtype.kind not in "fc":
        shape = list(A.shape) if isinstance(A, Tensor) else []
        kind = {"float32": "Float", "float64": "Double"}.get(A.dtype.name, A.dtype.name) if isinstance(A, Tensor) \
            else ""
        raise RuntimeError(f"linalg.pinv({kind}{{{shape}}}): expected a tensor with 2 or more dimensions of float, "
                           "double, cfloat or cdouble types")
    a = A._data
    if a.size == 0:
        r = xp.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)
    elif hermitian:
        w, v = xp.linalg.eigh(a)
        aw = xp.abs(w)
        cut = _tolerances(a, aw.max(-1, keepdims=True), atol, rtol, "linalg.pinv")
        winv = xp.where(aw > cut, 1 / xp.where(aw > cut, w, 1), 0)
        r = xp.einsum("...ij,...j,...kj->...ik", v, winv, v.conj())
    else:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        cut = _tolerances(a, s.max(-1, keepdims=True) if s.shape[-1] else s, atol, rtol, "linalg.pinv")
        sinv = xp.where(s > cut, 1 / xp.where(s > cut, s, 1), 0)
        r = xp.einsum("...ji,...j,...kj->...ik", vh.conj(), sinv, u.conj())
    res = _make(xp.ascontiguousarray(r, dtype=a.dtype))
    if A._requires_grad and GradMode.enabled:
        node = LinalgPinvBackward0()
        node.save(A)
        node.save_result(res)
        attach(res, node, A)
    return write_out(out, res) if out is not None else res


def pinverse(input, rcond=1e-15):
    """The Moore-Penrose pseudo-inverse, cutting singular values below ``rcond * max(S)``."""
    return _pinv(input, rtol=rcond)


# ---------------------------------------------------------------------------- matrix_power / matrix_rank
class _ZeroBackward(Node):
    def name(self):
        return "CopyBackwards"

    def backward(self, grad):
        return (grad * 0,)


def _matrix_power(A, n, *, out=None):
    _check_matrix(A, "linalg.matrix_power", square=True, floating=False)
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if n == 0:
        k = A.shape[-1]
        res = _make(xp.ascontiguousarray(xp.broadcast_to(xp.eye(k, dtype=A._data.dtype), A._data.shape)))
        if A._requires_grad and GradMode.enabled:
            attach(res, _ZeroBackward(), A)   # PyTorch: A.clone().copy_(eye): a zero gradient
        return write_out(out, res) if out is not None else res
    if n < 0:
        if A._data.dtype.kind not in "fc":
            raise RuntimeError(f"linalg.inv: Expected a floating point or complex tensor as input. Got "
                               f"{_dtype_name(A.dtype)}")
        A = _inv(A)
        n = -n
    from .linalg import matmul
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    if result is A:
        from .shape import clone
        result = clone(result)
    return write_out(out, result) if out is not None else result


def matrix_power(input, n, *, out=None):
    """``input`` multiplied by itself ``n`` times (the inverse's power for n < 0; identity for 0)."""
    return _matrix_power(input, n, out=out)


def _matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    a = _check_matrix(A, "linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    if a.size == 0:
        res = _make(xp.zeros(a.shape[:-2], dtype=xp.int64))
    else:
        s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
        cut = _tolerances(a, s.max(-1, keepdims=True), atol, rtol, "linalg.matrix_rank")
        res = _make((s > cut).sum(-1).astype(xp.int64))
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- lstsq
def _lstsq(A, B, rcond=None, *, driver=None):
    a = _check_matrix(A, "linalg.lstsq")
    b = B._data
    if driver is not None and driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if a.dtype != b.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    vector = b.ndim == a.ndim - 1
    if b.ndim < 1 or (not vector and b.shape[-2] != a.shape[-2]) or (vector and b.shape[-1] != a.shape[-2]):
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-{1 if vector else 2})")
    driver = driver or "gelsy"
    Bm = B.unsqueeze(-1) if vector else B
    m, n = a.shape[-2], a.shape[-1]
    rc = rcond if rcond is not None else xp.finfo(_real_dtype(a)).eps * max(m, n)
    # the solution is pinv(A) @ B (what every LAPACK driver returns for full-rank A), differentiably
    sol = _pinv(A, rtol=rc).matmul(Bm)
    if vector:
        sol = sol.squeeze(-1)
    s = xp.linalg.svd(a, compute_uv=False) if a.size else xp.zeros(a.shape[:-2] + (min(m, n),), _real_dtype(a))
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
    sv = _svdvals(A) if driver in ("gelsd", "gelss") else empty
    return return_types.linalg_lstsq(sol, residuals, rank_t, sv)


# ---------------------------------------------------------------------------- multi_dot
def _multi_dot(tensors, *, out=None):
    from .linalg import matmul
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


# ---------------------------------------------------------------------------- norm
def _linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
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


# ---------------------------------------------------------------------------- cond / tensorinv / tensorsolve / vander
def _cond(A, p=None, *, out=None):
    _check_matrix(A, "linalg.cond")
    if p is None or p in (2, -2):
        s = _svdvals(A)
        res = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    else:
        _check_matrix(A, "linalg.cond", square=True)
        from .norms import matrix_norm
        res = matrix_norm(A, p) * matrix_norm(_inv(A), p)
    return write_out(out, res) if out is not None else res


def _tensorinv(A, ind=2, *, out=None):
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = 1, 1
    for v in shape[:ind]:
        rows *= v
    for v in shape[ind:]:
        cols *= v
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    res = _inv(A.reshape(rows, cols)).reshape(shape[ind:] + shape[:ind])
    return write_out(out, res) if out is not None else res


def _tensorsolve(A, B, dims=None, *, out=None):
    if dims is not None:
        nd = A._data.ndim
        dims = [wrap_dim(d, nd) for d in dims]
        A = A.movedim(dims, list(range(nd - len(dims), nd)))
    bshape = tuple(B.shape)
    rest = tuple(A.shape)[B._data.ndim:]
    n = 1
    for v in bshape:
        n *= v
    k = 1
    for v in rest:
        k *= v
    if n != k:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {k} != {n}")
    res = _solve(A.reshape(n, k), B.reshape(n)).reshape(rest)
    return write_out(out, res) if out is not None else res


def _vander(x, N=None):
    if x._data.ndim == 0:
        raise RuntimeError("x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    from .shape import stack
    cols = []
    p = None
    for i in range(n):
        p = x.new_ones(x.shape) if i == 0 else (x if i == 1 else p * x)
        cols.append(p)
    if not cols:
        return x.new_zeros(tuple(x.shape) + (0,))
    return stack(cols, -1)
