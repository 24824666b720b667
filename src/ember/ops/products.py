"""More products: addmm / addmv / addbmm / baddbmm / addr (``beta * input + alpha * product``), vdot, inner,
tensordot, kron, cross, trace, cdist, chain_matmul — each with its gradient, written with ember ops."""
import math
import warnings

from .. import _dtype
from ._common import xp, Tensor, Node, attach, GradMode, _make, wrap_dim, unbroadcast, broadcast_error
from .elementwise import write_out, inplace, _dtype_name
from .linalg import mm, bmm, mv, dot, _same_dtype


# ---------------------------------------------------------------------------- beta * input + alpha * product
class _AddProductBackward(Node):
    """Shared backward of addmm / addmv / addbmm / baddbmm / addr."""

    _kind = None

    def name(self):
        return self._name

    def backward(self, grad):
        m1, m2 = self.saved_tensors
        beta, alpha, kind = self.beta, self.alpha, self.kind
        g_in = None
        if self.need_input:
            g_in = unbroadcast(grad if beta == 1 else grad * beta, self.input_shape)
        ga = gb = None
        if kind == "mm":
            ga = grad.mm(m2.t().conj()) if m1._requires_grad else None
            gb = m1.t().conj().mm(grad) if m2._requires_grad else None
        elif kind == "mv":
            ga = grad.unsqueeze(1) * m2.conj().unsqueeze(0) if m1._requires_grad else None
            gb = m1.t().conj().mv(grad) if m2._requires_grad else None
        elif kind == "baddbmm":
            ga = grad.bmm(m2.mT.conj()) if m1._requires_grad else None
            gb = m1.mT.conj().bmm(grad) if m2._requires_grad else None
        elif kind == "addbmm":
            gx = grad.unsqueeze(0).expand(m1.shape[0], grad.shape[0], grad.shape[1])
            ga = gx.bmm(m2.mT.conj()) if m1._requires_grad else None
            gb = m1.mT.conj().bmm(gx) if m2._requires_grad else None
        else:  # addr
            ga = grad.mv(m2.conj()) if m1._requires_grad else None
            gb = grad.t().mv(m1.conj()) if m2._requires_grad else None
        if alpha != 1:
            ga = ga * alpha if ga is not None else None
            gb = gb * alpha if gb is not None else None
        return g_in, ga, gb


def _add_product(kind, name, input, m1, m2, prod, beta, alpha, out):
    shape = prod.shape
    a = input._data
    try:
        ok = xp.broadcast_shapes(a.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        input.expand(shape)  # raises PyTorch's expand error
        raise broadcast_error(a.shape, shape)
    if beta == 0:
        r = prod * alpha if alpha != 1 else prod
        r = xp.broadcast_to(r, shape).copy() if r.shape != shape else r
    else:
        r = (a if beta == 1 else a * beta) + (prod if alpha == 1 else prod * alpha)
    res = _make(xp.asarray(r, dtype=prod.dtype))
    if GradMode.enabled and (input._requires_grad or m1._requires_grad or m2._requires_grad):
        node = _AddProductBackward()
        node._name, node.kind, node.beta, node.alpha = name, kind, beta, alpha
        node.need_input, node.input_shape = input._requires_grad, a.shape
        node.save(m1, m2)
        attach(res, node, input, m1, m2)
    return write_out(out, res) if out is not None else res


def _check_same(input, m1, m2):
    _same_dtype(m1, m2, "mm")
    if input._data.dtype != m1._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype_name(input.dtype)} and "
                           f"{_dtype_name(m1.dtype)}")


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1``, ``mat2``; ``input`` broadcasts."""
    prod = mm(mat1.detach(), mat2.detach())._data
    _check_same(input, mat1, mat2)
    return _add_product("mm", "AddmmBackward0", input, mat1, mat2, prod, beta, alpha, out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``."""
    prod = mv(mat.detach(), vec.detach())._data
    _check_same(input, mat, vec)
    return _add_product("mv", "AddmvBackward0", input, mat, vec, prod, beta, alpha, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    prod = bmm(batch1.detach(), batch2.detach())._data
    _check_same(input, batch1, batch2)
    return _add_product("baddbmm", "BaddbmmBackward0", input, batch1, batch2, prod, beta, alpha, out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    prod = bmm(batch1.detach(), batch2.detach())._data.sum(0)
    _check_same(input, batch1, batch2)
    return _add_product("addbmm", "AddbmmBackward0", input, batch1, batch2, prod, beta, alpha, out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    for v, nm in ((vec1, "vec1"), (vec2, "vec2")):
        if v._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {nm}, but got {v._data.ndim}-D")
    prod = xp.multiply.outer(vec1._data, vec2._data)
    return _add_product("addr", "AddrBackward0", input, vec1, vec2, prod, beta, alpha, out)


addmm_ = inplace(addmm)
addmv_ = inplace(addmv)
addbmm_ = inplace(addbmm)
baddbmm_ = inplace(baddbmm)
addr_ = inplace(addr)


# ---------------------------------------------------------------------------- vdot / inner / tensordot / kron
class VdotBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        ga = (grad.conj() * b).conj() if a._requires_grad else None
        gb = grad * a if b._requires_grad else None
        return ga, gb


def vdot(input, other, *, out=None):
    """``sum(conj(input) * other)`` of two 1-D tensors."""
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                           f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype != b.dtype:
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found {_dtype_name(input.dtype)} "
                           f"and {_dtype_name(other.dtype)}")
    if a.dtype.kind not in "fc":
        res = dot(input, other)
        return write_out(out, res) if out is not None else res
    res = _make(xp.asarray(xp.vdot(a, b)))
    if GradMode.enabled and (input._requires_grad or other._requires_grad):
        node = VdotBackward0()
        node.save(input, other)
        attach(res, node, input, other)
    return write_out(out, res) if out is not None else res


def inner(input, other, *, out=None):
    """Sum over the last dims of both: (..., n) and (..., n) -> (...a, ...b); 0-d operands multiply."""
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        res = input * other
    else:
        if a.shape[-1] != b.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(a.shape)} and {list(b.shape)}")
        res = tensordot(input, other, ([-1], [-1]))
    return write_out(out, res) if out is not None else res


def tensordot(a, b, dims=2, out=None):
    """Contract dims ``dims`` of ``a`` with those of ``b``: an int (last n of a with first n of b), or two
    lists of dims."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist() if dims._data.ndim else int(dims.item())
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(na, nb):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(range(na - dims, na))
        db = list(range(dims))
        shown_a = [d - na for d in da]
        shown_b = db
    else:
        da, db = list(dims[0]), list(dims[1])
        if isinstance(da, int) or not isinstance(dims[0], (list, tuple)):
            da, db = [dims[0]], [dims[1]]
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        shown_a, shown_b = list(da), list(db)
        da = [wrap_dim(d, na) for d in da]
        db = [wrap_dim(d, nb) for d in db]
    for x, y, sx, sy in zip(da, db, shown_a, shown_b):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._data.shape[x]} in dim "
                               f"{sx} and second has size {b._data.shape[y]} in dim {sy}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected scalar type {_dtype_name(a.dtype)} but found {_dtype_name(b.dtype)}")
    free_a = [d for d in range(na) if d not in da]
    free_b = [d for d in range(nb) if d not in db]
    k = 1
    for d in da:
        k *= a._data.shape[d]
    sa = [a._data.shape[d] for d in free_a]
    sb = [b._data.shape[d] for d in free_b]
    pa = a.permute(free_a + da).reshape(math.prod(sa), k)
    pb = b.permute(db + free_b).reshape(k, math.prod(sb))
    res = mm(pa, pb).reshape(sa + sb)
    return write_out(out, res) if out is not None else res


def kron(input, other, *, out=None):
    """The Kronecker product: block (i, j, ...) is ``input[i, j, ...] * other``."""
    na, nb = input._data.ndim, other._data.ndim
    n = max(na, nb)
    sa = (1,) * (n - na) + input._data.shape
    sb = (1,) * (n - nb) + other._data.shape
    a = input.reshape([v for s in sa for v in (s, 1)])
    b = other.reshape([v for s in sb for v in (1, s)])
    res = (a * b).reshape([x * y for x, y in zip(sa, sb)])
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- cross / trace
def _cross(input, other, d):
    """``input x other`` along dim ``d`` (size 3): c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}."""
    return input.roll(-1, d) * other.roll(-2, d) - input.roll(-2, d) * other.roll(-1, d)


def _cross_operands(input, other, name):
    if input._data.ndim != other._data.ndim:
        raise RuntimeError(f"{name}: inputs dimension {input._data.ndim} does not match other dimension "
                           f"{other._data.ndim}" if name == "linalg.cross" else
                           f"{name}: inputs must have the same number of dimensions.")
    try:
        shape = xp.broadcast_shapes(input._data.shape, other._data.shape)
    except ValueError:
        raise broadcast_error(input._data.shape, other._data.shape) from None
    if input.dtype is not other.dtype:
        dt = _dtype.promote_types(input.dtype, other.dtype)
        input, other = input.to(dt), other.to(dt)
    if input._data.shape != shape:
        input = input.expand(shape)
    if other._data.shape != shape:
        other = other.expand(shape)
    return input, other, shape


def cross(input, other, dim=None, *, out=None):
    """The 3-D cross product along ``dim`` (default: the first dim of size 3, with PyTorch's warning)."""
    input, other, shape = _cross_operands(input, other, "cross")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError("no dimension of size 3 in input")
        d = dims[0]
    else:
        d = wrap_dim(dim, len(shape))
        if shape[d] != 3:
            raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {input._data.shape[d]} "
                               f"and {other._data.shape[d]}")
    res = _cross(input, other, d)
    return write_out(out, res) if out is not None else res


def _linalg_cross(input, other, *, dim=-1, out=None):
    """``torch.linalg.cross``: the cross product along ``dim`` (default -1), with broadcasting."""
    input, other, shape = _cross_operands(input, other, "linalg.cross")
    d = wrap_dim(dim, len(shape))
    if shape[d] != 3 or input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input._data.shape[d]} and {other._data.shape[d]}")
    res = _cross(input, other, d)
    return write_out(out, res) if out is not None else res


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
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {_dtype_name(x1.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
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
    if GradMode.enabled and (x1._requires_grad or x2._requires_grad):
        node = CdistBackward0()
        node.p = float(p)
        node.save(x1, x2)
        node.save_result(res)
        attach(res, node, x1, x2)
    return res


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices, left to right (deprecated in PyTorch in favour of linalg.multi_dot)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        if m._data.ndim != 2:
            raise RuntimeError(f"chain_matmul(): Expected all tensors to be 2D, but got {m._data.ndim}D tensor at "
                               f"index {i}")
    res = matrices[0]
    if len(matrices) == 1:
        res = res.clone()
    for m in matrices[1:]:
        res = mm(res, m)
    return write_out(out, res) if out is not None else res
