"""Matrix and vector products, each with its gradient written in ember ops: matmul (every broadcasting case,
and the ``@`` operator), mm, bmm, mv, dot, vdot, outer, inner, tensordot, kron, einsum, chain_matmul, the
``beta * input + alpha * product`` family (addmm, addmv, addbmm, baddbmm, addr) and the cross product.
"""
import math
import warnings

from .. import _dtype
from .creation import eye
from ._common import (array_module, Tensor, Node, record, op, method, function, _make, wrap_dim,
                      unbroadcast, broadcast_error, write_out, dtype_name, Autocast, autocast_args, GradMode)
from ._unsigned import refuse_wide_unsigned
from ._device_check import same_device, same_device_args
from ._ieee import cast, retry_quietly
from ._block_threads import product as _blas_product


def _product(fn, a, b):
    """``fn(a, b)`` in ``a``'s dtype: NumPy computes bfloat16 products in float32, PyTorch rounds back.  BLAS's
    thread count is chosen for the product's size (``_block_threads.product``)."""
    try:
        r = _blas_product(fn, a, b)
    except RuntimeWarning:   # a warning filter made an error of an overflow: PyTorch gives inf quietly
        r = retry_quietly(a, fn, a, b)
    return r if r.dtype == a.dtype else cast(r, a.dtype)


def _product_result(res, node_cls, a, b, out):
    """Record ``node_cls`` (saving both operands) for the product ``res`` of ``a`` and ``b``; honour ``out``."""
    record(res, node_cls, (a, b), (a, b))
    return write_out(out, res) if out is not None else res


def _same_dtype(a, b, op_name):
    """PyTorch's error when the two operands of product ``op_name`` differ in dtype."""
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {dtype_name(a.dtype).lower()} != "
                           f"{dtype_name(b.dtype).lower()}" if op_name != "dot" else
                           f"dot : expected both vectors to have same dtype, but found {dtype_name(a.dtype)} and "
                           f"{dtype_name(b.dtype)}")


def _vector_size_error(a, b):
    return RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                        f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")


# ---------------------------------------------------------------------------- mm / bmm / matmul / dot / mv
def _matrix_grads(grad, a, b):
    """The gradients of ``a @ b`` for real 2-D ``a`` and ``b`` on arrays (no graph: grad mode off, the first-order
    case), without the checks and view nodes of the ops: ``grad @ b.T``, ``a.T @ grad``."""
    g, ad, bd = grad._data, a._data, b._data
    matmul = array_module(grad).matmul
    ga = gb = None
    # each gradient in its operand's layout, as PyTorch's mm backward: a transposed operand (``x @ w.T``) gets a
    # transposed gradient, whose transpose is then the C-contiguous gradient of ``w`` itself
    if a._requires_grad:
        ga = _make(_gradient_mm(bd, g.T, matmul=matmul).T if _transposed(ad) else _gradient_mm(g, bd.T, matmul=matmul))
    if b._requires_grad:
        gb = _make(_gradient_mm(g.T, ad, matmul=matmul).T if _transposed(bd) else _gradient_mm(ad.T, g, matmul=matmul))
    return ga, gb


def _gradient_mm(x, y, *, matmul):
    """One product of ``_matrix_grads`` on arrays: the profiler records it as ``aten::mm``, as PyTorch's backward."""
    return _product(matmul, x, y)


def _transposed(x):
    """A 2-D array laid out column by column (the transpose of a C-contiguous one), not also row by row."""
    return x.flags.f_contiguous and not x.flags.c_contiguous


class MmBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        if not GradMode.enabled and a._data.dtype.char in "efd":
            return _matrix_grads(grad, a, b)
        ga = grad.mm(b.t()) if a._requires_grad else None
        gb = a.t().mm(grad) if b._requires_grad else None
        return ga, gb


@op
def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors, (n, k) @ (k, m) -> (n, m)."""
    same_device_args("mm", "self", input, "mat2", mat2)
    if input._sparse or mat2._sparse:
        from .sparse_products import sparse_mm
        return sparse_mm(input, mat2, "MmBackward0")
    if Autocast.cpu_dtype is not None:
        input, mat2 = autocast_args(input, mat2)
    a, b = input._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    _same_dtype(input, mat2, "mm")
    refuse_wide_unsigned("addmm_impl_cpu_", a.dtype)
    return _product_result(_make(_product(array_module(input).matmul, a, b)), MmBackward0, input, mat2, out)


class BmmBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        ga = grad.bmm(b.transpose(1, 2)) if a._requires_grad else None
        gb = a.transpose(1, 2).bmm(grad) if b._requires_grad else None
        return ga, gb


@op
def bmm(input, mat2, *, out=None):
    """Batched matrix product of 3-D tensors, (b, n, k) @ (b, k, m) -> (b, n, m)."""
    same_device_args("bmm", "self", input, "mat2", mat2)
    if Autocast.cpu_dtype is not None:
        input, mat2 = autocast_args(input, mat2)
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch{'1' if a.ndim != 3 else '2'} must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                           f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _same_dtype(input, mat2, "bmm")
    refuse_wide_unsigned("bmm", a.dtype)
    return _product_result(_make(_product(array_module(input).matmul, a, b)), BmmBackward0, input, mat2, out)


class MatmulBackward0(Node):
    """Gradient of the general (broadcast, possibly vector) matmul."""

    def backward(self, grad):
        a, b = self.saved_tensors
        if not GradMode.enabled and a._data.ndim == 2 and b._data.ndim == 2 and a._data.dtype.char in "efd":
            return _matrix_grads(grad, a, b)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if a._requires_grad:
            ga = unbroadcast(g.matmul(b2.mT), a2.shape)
            ga = ga.squeeze(0) if a.ndim == 1 else ga
        if b._requires_grad:
            gb = unbroadcast(a2.mT.matmul(g), b2.shape)
            gb = gb.squeeze(-1) if b.ndim == 1 else gb
        return ga, gb


def _matmul_kernel(a_ndim, b_ndim):
    """The PyTorch kernel matmul reaches for these ranks (other than 2-D @ 2-D and 2-D @ 1-D, which are mm/mv)."""
    if a_ndim == 1 and b_ndim == 1:
        return "dot"
    if b_ndim == 1:
        return "addmv_impl_cpu"
    return "addmm_impl_cpu_" if b_ndim == 2 else "bmm"


@op(operators=("__matmul__",))
def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch broadcasting: vectors, matrices and batches of matrices."""
    if Autocast.cpu_dtype is not None:
        input, other = autocast_args(input, other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 2 and b.ndim == 2:
        return mm(input, other, out=out)
    if input._sparse or other._sparse:   # after the 2-D case: mm takes sparse matrices itself
        from .sparse_products import sparse_matmul
        return sparse_matmul(input, other)
    if a.ndim == 2 and b.ndim == 1:
        return mv(input, other, out=out)   # PyTorch's matmul dispatches here too (MvBackward0, mv's errors)
    if a.ndim == 1 and b.ndim == 1:
        same_device_args("_dot", "self", input, "tensor", other)
    else:   # PyTorch folds the operands into one mm, or expands them into one bmm
        same_device_args("bmm" if a.ndim >= 3 and b.ndim >= 3 else "mm", "self", input, "mat2", other)
    _same_dtype(input, other, "matmul")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        if a.ndim == 1 and b.ndim == 1:
            raise _vector_size_error(a, b)
        lhs = "x".join(str(s) for s in (a.shape if a.ndim <= 2 else (math.prod(a.shape[:-1]), a.shape[-1])))
        rhs = "x".join(str(s) for s in (b.shape if b.ndim <= 2 else (b.shape[-2], b.shape[-1])))
        if a.ndim == 1:
            lhs = f"1x{a.shape[0]}"
        if b.ndim == 1:
            rhs = f"{b.shape[0]}x1"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lhs} and {rhs})")
    refuse_wide_unsigned(_matmul_kernel(a.ndim, b.ndim), a.dtype)
    try:
        r = _product(array_module(input).matmul, a, b)
    except ValueError:
        raise RuntimeError(f"The size of tensor a must match the size of tensor b at a non-singleton batch "
                           f"dimension: shapes {list(a.shape)} and {list(b.shape)}") from None
    node_cls = MatmulBackward0 if a.ndim != 1 or b.ndim != 1 else DotBackward0
    return _product_result(_make(r), node_cls, input, other, out)


@method(name="__rmatmul__")
def reflected_matmul(input, other):
    """``other @ input`` for the reflected operator."""
    return matmul(other, input)


class DotBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        return (grad * b if a._requires_grad else None), (grad * a if b._requires_grad else None)


@op
def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors."""
    same_device_args("_dot", "self", input, "tensor", tensor)
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise _vector_size_error(a, b)
    _same_dtype(input, tensor, "dot")
    refuse_wide_unsigned("dot", a.dtype)
    return _product_result(_make(_product(array_module(input).dot, a, b)), DotBackward0, input, tensor, out)


class MvBackward0(Node):
    def backward(self, grad):
        a, v = self.saved_tensors
        ga = grad.unsqueeze(1) * v.unsqueeze(0) if a._requires_grad else None
        gv = a.t().mv(grad) if v._requires_grad else None
        return ga, gv


@op
def mv(input, vec, *, out=None):
    """Matrix-vector product, (n, m) @ (m,) -> (n,)."""
    same_device(input, vec)
    a, v = input._data, vec._data
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {v.ndim}, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), "
                           f"vec ({v.shape[0]})")
    _same_dtype(input, vec, "mv")
    refuse_wide_unsigned("addmv_impl_cpu", a.dtype)
    return _product_result(_make(_product(array_module(input).matmul, a, v)), MvBackward0, input, vec, out)


# ---------------------------------------------------------------------------- outer / vdot / inner / tensordot / kron
@op(aliases=("ger",))
def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors -> (n, m)."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        name, bad = ("self", input) if input._data.ndim != 1 else ("vec2", vec2)
        raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {bad._data.ndim}-D")
    res = input.reshape(input._data.shape[0], 1) * vec2   # PyTorch's composition (ViewBackward0 -> MulBackward0)
    return write_out(out, res) if out is not None else res


class VdotBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        ga = (grad.conj() * b).conj() if a._requires_grad else None
        gb = grad * a if b._requires_grad else None
        return ga, gb


@op
def vdot(input, other, *, out=None):
    """``sum(conj(input) * other)`` of two 1-D tensors."""
    same_device_args("_vdot", "self", input, "other", other)
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise _vector_size_error(a, b)
    if a.dtype != b.dtype:
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found {dtype_name(input.dtype)} "
                           f"and {dtype_name(other.dtype)}")
    if a.dtype.kind not in "fc":
        res = dot(input, other)
        return write_out(out, res) if out is not None else res
    res = _make(array_module(input).vdot(a, b))
    return _product_result(res, VdotBackward0, input, other, out)


@op
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


@function
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
        raise RuntimeError(f"expected scalar type {dtype_name(a.dtype)} but found {dtype_name(b.dtype)}")
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


@op
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


@function
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


# ---------------------------------------------------------------------------- beta * input + alpha * product
class AddProductBackward(Node):
    """Shared backward of addmm / addmv / addbmm / baddbmm / addr; ``name()`` reports ``node_name``."""

    node_name = "AddmmBackward0"

    def name(self):
        return self.node_name

    def backward(self, grad):
        m1, m2 = self.saved_tensors
        beta, alpha, kind = self.beta, self.alpha, self.kind
        g_in = None
        if self.need_input:
            g_in = unbroadcast(grad if beta == 1 else grad * beta, self.input_shape)
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
    """``beta * input + alpha * prod`` (``prod`` the array product of ``m1`` and ``m2``), recorded as ``name``."""
    xp = array_module(input)
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
    record(res, AddProductBackward, (input, m1, m2), (m1, m2), node_name=name, kind=kind, beta=beta, alpha=alpha,
           need_input=input._requires_grad, input_shape=a.shape)
    return write_out(out, res) if out is not None else res


def _check_same(input, m1, m2):
    _same_dtype(m1, m2, "mm")
    if input._data.dtype != m1._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {dtype_name(input.dtype)} and "
                           f"{dtype_name(m1.dtype)}")


@op(inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1``, ``mat2``; ``input`` broadcasts."""
    same_device_args("addmm", "self", input, "mat1", mat1, "mat2", mat2)
    if mat1._sparse or input._sparse:
        from .sparse_products import sparse_addmm
        return sparse_addmm(input, mat1, mat2, beta, alpha)
    prod = mm(mat1.detach(), mat2.detach())._data
    _check_same(input, mat1, mat2)
    return _add_product("mm", "AddmmBackward0", input, mat1, mat2, prod, beta, alpha, out)


@op(inplace=True, inplace_function=True)   # torch.addmv_ exists as a function, unlike this family's other X_
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``."""
    same_device_args("addmv", "self", input, "mat", mat, "vec", vec)
    prod = mv(mat.detach(), vec.detach())._data
    _check_same(input, mat, vec)
    return _add_product("mv", "AddmvBackward0", input, mat, vec, prod, beta, alpha, out)


@op(inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    same_device_args("baddbmm", "self", input, "batch1", batch1, "batch2", batch2)
    prod = bmm(batch1.detach(), batch2.detach())._data
    _check_same(input, batch1, batch2)
    return _add_product("baddbmm", "BaddbmmBackward0", input, batch1, batch2, prod, beta, alpha, out)


@op(inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    same_device_args("_addbmm", "self", input, "batch1", batch1, "batch2", batch2)
    prod = bmm(batch1.detach(), batch2.detach())._data.sum(0)
    _check_same(input, batch1, batch2)
    return _add_product("addbmm", "AddbmmBackward0", input, batch1, batch2, prod, beta, alpha, out)


@op(inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    same_device(input, vec1, vec2)
    for v, nm in ((vec1, "vec1"), (vec2, "vec2")):
        if v._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {nm}, but got {v._data.ndim}-D")
    prod = array_module(vec1).multiply.outer(vec1._data, vec2._data)
    return _add_product("addr", "AddrBackward0", input, vec1, vec2, prod, beta, alpha, out)


# ---------------------------------------------------------------------------- cross product
def _cross(input, other, d):
    """``input x other`` along dim ``d`` (size 3): c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}."""
    return input.roll(-1, d) * other.roll(-2, d) - input.roll(-2, d) * other.roll(-1, d)


def _cross_operands(input, other, name):
    if input._data.ndim != other._data.ndim:
        raise RuntimeError(f"{name}: inputs dimension {input._data.ndim} does not match other dimension "
                           f"{other._data.ndim}" if name == "linalg.cross" else
                           f"{name}: inputs must have the same number of dimensions.")
    try:
        shape = array_module(input).broadcast_shapes(input._data.shape, other._data.shape)
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


@op
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


def linalg_cross(input, other, *, dim=-1, out=None):
    """``torch.linalg.cross``: the cross product along ``dim`` (default -1), with broadcasting."""
    input, other, shape = _cross_operands(input, other, "linalg.cross")
    d = wrap_dim(dim, len(shape))
    if shape[d] != 3 or input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input._data.shape[d]} and {other._data.shape[d]}")
    res = _cross(input, other, d)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- einsum
class EinsumBackward(Node):
    """Gradient of einsum: for each operand, another einsum of the output gradient with the other operands.

    Letters summed in only one operand are broadcast back; repeated letters in one operand (a diagonal)
    are put back on the diagonal by an einsum with identity matrices; size-1 dims that broadcast in the
    forward are summed.  All of it is einsum, so higher derivatives come for free.
    """

    def backward(self, grad):
        ops = self.saved_tensors
        ins, out_sub = self.subscripts
        sizes = self.sizes
        grads = []
        for i, t in enumerate(ops):
            if not t._requires_grad:
                grads.append(None)
                continue
            target = ins[i]
            others = [ops[j] for j in range(len(ops)) if j != i]
            other_subs = [ins[j] for j in range(len(ops)) if j != i]
            available = set(out_sub).union(*other_subs)
            unique = "".join(dict.fromkeys(target))
            kept = "".join(c for c in unique if c in available)
            g = _einsum_tensors(f"{','.join([out_sub] + other_subs)}->{kept}", [grad] + others)
            # letters only this operand had were summed in the forward: broadcast them back
            for pos, c in enumerate(unique):
                if c not in available:
                    g = g.unsqueeze(pos)
            full = [sizes[c] for c in unique]
            if list(g.shape) != full:
                g = g.expand(full)
            # repeated letters: place the gradient on the diagonal
            if len(unique) != len(target):
                fresh = iter(c for c in _LETTERS if c not in set("".join(ins) + out_sub))
                tgt, eyes, eye_subs, seen = [], [], [], set()
                for c in target:
                    if c in seen:
                        f = next(fresh)
                        tgt.append(f)
                        eyes.append(eye(sizes[c], dtype=grad.dtype, device=grad.device))
                        eye_subs.append(c + f)
                    else:
                        seen.add(c)
                        tgt.append(c)
                g = _einsum_tensors(f"{','.join([unique] + eye_subs)}->{''.join(tgt)}", [g] + eyes)
            # size-1 dims of this operand that broadcast against other operands
            shape = tuple(t.shape)
            if tuple(g.shape) != shape:
                dims = tuple(k for k, (a, b) in enumerate(zip(g.shape, shape)) if a != b)
                g = g.sum(dims, keepdim=True)
            grads.append(g.reshape(shape) if tuple(g.shape) != shape else g)
        return tuple(grads)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(equation, operands):
    """The equation with '...' spelled out as letters: (input subscripts, output subscripts)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        explicit = True
    else:
        lhs, rhs, explicit = eq, None, False
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(ins) else
                           "einsum(): fewer operands were provided than specified in the equation")
    for part in ins + ([rhs] if explicit else []):
        bad = [c for c in part.replace("...", "") if c not in _LETTERS]
        if bad:
            raise RuntimeError(f"einsum(): invalid subscript given at index {part.index(bad[0])} in the equation "
                               f"string, subscripts must be in [a-zA-Z]")
    used = set(lhs.replace("...", "").replace(",", "")) | set((rhs or "").replace("...", ""))
    free = [c for c in _LETTERS[26:] + _LETTERS[:26] if c not in used]
    n_ell = 0
    for sub, t in zip(ins, operands):
        if "..." in sub:
            n_ell = max(n_ell, t._data.ndim - len(sub.replace("...", "")))
    ell = "".join(free[:n_ell])
    out_ins = []
    for k, (sub, t) in enumerate(zip(ins, operands)):
        if "..." in sub:
            k_ell = t._data.ndim - len(sub.replace("...", ""))
            if k_ell < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(sub) - 3}) is more than "
                                   f"the number of dimensions ({t._data.ndim}) for operand {k}")
            sub = sub.replace("...", ell[n_ell - k_ell:])
        elif len(sub) != t._data.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(sub)}) does not match the "
                               f"number of dimensions ({t._data.ndim}) for operand {k} and no ellipsis was given")
        out_ins.append(sub)
    if explicit:
        rhs = rhs.replace("...", ell)
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if not any(c in sub for sub in out_ins):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
    else:
        letters = "".join(sub.replace("...", "") for sub in ins)
        rhs = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return out_ins, rhs


def _letter_sizes(ins, operands):
    """The size of every letter (broadcast over operands); PyTorch's errors for mismatches."""
    sizes = {}
    for k, (sub, t) in enumerate(zip(ins, operands)):
        own = {}
        for c, n in zip(sub, t._data.shape):
            if c in own and own[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, "
                                   f"{own[c]} != {n}")
            own[c] = n
        for c, n in own.items():
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast "
                                   f"with previously seen size {prev}")
    return sizes


def _einsum_tensors(eq, tensors):
    """einsum of an explicit (no '...') equation over tensors, recording EinsumBackward."""
    ins, rhs = eq.split("->")
    ins = ins.split(",")
    same_device(*tensors)
    xp = array_module(tensors[0])
    sizes = _letter_sizes(ins, tensors)
    # NumPy does not broadcast size-1 dims of repeated letters; expand size-1 dims explicitly
    fixed = []
    for sub, t in zip(ins, tensors):
        target = tuple(sizes[c] for c in sub)
        a = t._data
        fixed.append(a if a.shape == target else xp.broadcast_to(a, target))
    r = xp.einsum(f"{','.join(ins)}->{rhs}", *fixed, optimize=len(fixed) > 2)
    # ascontiguousarray would make a 0-d result 1-d
    res = _make(xp.ascontiguousarray(r) if getattr(r, "ndim", 0) else xp.asarray(r))
    record(res, EinsumBackward, tensors, tensors, subscripts=(ins, rhs), sizes=sizes)
    return res


def _sublist_equation(args):
    """einsum(op1, sublist1, op2, sublist2, ..., [out_sublist]) -> (equation, operands)."""
    ops, subs = [], []
    args = list(args)
    while len(args) >= 2 and isinstance(args[0], Tensor):
        ops.append(args.pop(0))
        subs.append(args.pop(0))
    out = args.pop(0) if args else None

    def letters(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
            else:
                if not 0 <= v < 52:
                    raise RuntimeError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
                s += _LETTERS[v]
        return s
    eq = ",".join(letters(s) for s in subs)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


@function
def einsum(*args):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; operands may also come as one list,
    and the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` works too.  '...' broadcasts."""
    if args and isinstance(args[0], Tensor):
        equation, operands = _sublist_equation(args)
    else:
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    dt = operands[0].dtype
    for t in operands[1:]:
        if t.dtype is not dt:
            raise RuntimeError(f"expected scalar type {dtype_name(dt)} but found {dtype_name(t.dtype)}")
    ins, rhs = _parse_einsum(equation, operands)
    return _einsum_tensors(f"{','.join(ins)}->{rhs}", list(operands))
