"""``linear``: ``input @ weight.T + bias`` as one op, the kernel of ``nn.functional.linear`` and ``nn.Linear``."""
import math
import operator

from ._common import (Node, Tensor, record, _make, Autocast, autocast_args, dtype_name, function, require_tensor,
                      GradMode, module_of_array)
from ._block_threads import product
from .products import _product
from ..kernels import linear as _klin
from ._device_check import same_device_args


class AddmmBackward0(Node):
    """Gradient of ``input @ weight.T + bias`` (the node F.linear leaves)."""

    def backward(self, grad):
        x, w, b = self.saved_tensors
        ws = w._data.shape   # the arrays' shapes: a Tensor's .shape builds a Size each time
        out_f = ws[0]
        in_f = ws[-1]
        rows = math.prod(x._data.shape[:-1])  # named, not -1: no features and a 0-size batch leave -1 undetermined
        if not GradMode.enabled:
            return self._backward_arrays(grad._data.reshape(rows, out_f), x, w, b, rows, in_f)
        g2 = grad.reshape(rows, out_f)
        gx = gw = gb = None
        if x._requires_grad:
            gx = g2.mm(w).reshape(x.shape)
        if w._requires_grad:
            gw = g2.t().mm(x.reshape(rows, in_f))
        if b is not None and b._requires_grad:
            gb = g2.sum(0) if b.ndim == 1 else g2.sum()
            if gb.shape != b.shape:
                gb = gb.reshape(b.shape)
        return gx, gw, gb

    @staticmethod
    def _backward_arrays(g2, x, w, b, rows, in_f):
        """The gradients on arrays, without recording (no ``create_graph``): the products and the bias sum as the
        ops above compute them, without their checks and nodes (a third of the MLP step's non-GEMM time)."""
        matmul = module_of_array(g2).matmul
        gx = gw = gb = None
        xd = x._data
        if x._requires_grad:
            gx = _make(_product(matmul, g2, w._data).reshape(xd.shape))
        if w._requires_grad:
            gw = _make(_product(matmul, g2.T, xd.reshape(rows, in_f)))
        if b is not None and b._requires_grad:
            bs = b._data.shape
            if len(bs) == 1 and bs[0] == g2.shape[1]:
                gb = _make(_klin.column_sums(g2))
            else:   # a bias broadcast from one element
                gb = _make(g2).sum().reshape(b.shape)
        return gx, gw, gb


class MmBackward0(AddmmBackward0):
    """Gradient of ``input @ weight.T`` (F.linear without bias)."""

    def backward(self, grad):
        return AddmmBackward0.backward(self, grad)[:2]


def _rows_of(x, k):
    return x.size // k if k else 0


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)`` (a 1-D weight gives ``input @ weight``).
        bias: ``(out_features,)``, a scalar tensor, or None.

    Returns ``(*, out_features)``, with PyTorch's shape and dtype errors.
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        require_tensor(input, "linear", "input", 1)
        require_tensor(weight, "linear", "weight", 2)
    x, w = input._data, weight._data
    if type(x) is not type(w) or bias is not None and type(bias._data) is not type(x):
        # PyTorch runs linear as addmm(bias, input, weight.t()), or mm(input, weight.t()) without a bias
        if bias is not None:
            same_device_args("addmm", "self", bias, "mat1", input, "mat2", weight)
        else:
            same_device_args("mm", "self", input, "mat2", weight)
    if Autocast.cpu_dtype is not None:
        input, weight, bias = autocast_args(input, weight, bias)
        x, w = input._data, weight._data
    xs, ws = x.shape, w.shape   # read once: the checks below run on every call of every layer
    if len(ws) != 2:
        if len(ws) == 1 and xs and xs[-1] == ws[0]:
            from .products import matmul
            r = matmul(input, weight)
            return r + bias if bias is not None else r
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    if not xs:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
    k = xs[-1]
    if k != ws[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_rows_of(x, k)}x{k} and "
                           f"{ws[1]}x{ws[0]})")
    dt = x.dtype
    if dt != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {dtype_name(input.dtype)} and "
                           f"{dtype_name(weight.dtype)}")
    b = None
    if bias is not None:
        b = bias._data
        bs = b.shape
        if b.dtype != dt:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got {dtype_name(bias.dtype)} and "
                               f"{dtype_name(weight.dtype)}")
        if bs and bs[-1] not in (1, ws[0]) or len(bs) > 1:
            raise RuntimeError(f"The expanded size of the tensor ({ws[0]}) must match the existing size "
                               f"({bs[-1]}) at non-singleton dimension 1.  Target sizes: "
                               f"[{_rows_of(x, k)}, {ws[0]}].  Tensor sizes: {list(bs)}")
    lead = xs[:-1]
    x2 = x.reshape(math.prod(lead), k) if len(xs) != 2 else x
    if dt.char in "fd" and _klin.takes(x2.shape[0]):
        r = _klin.linear_rows(x2, w, b)   # 3-8 rows: one pass over the weight, faster than BLAS's
    else:
        r = product(operator.matmul, x2, w.T)   # BLAS threads (or row blocks) chosen for the shape
        if r.dtype != dt:  # NumPy multiplies bfloat16 in float32; PyTorch rounds the product back
            r = r.astype(dt)
        if b is not None:
            r += b
    if len(xs) != 2:
        r = r.reshape(lead + (ws[0],))
    res = _make(r)
    if not GradMode.enabled:   # inference: no record() call to build arguments for
        return res
    if bias is not None:
        record(res, AddmmBackward0, (input, weight, bias), (input, weight, bias))
    else:
        record(res, MmBackward0, (input, weight), (input, weight, None))
    return res


@function
def bilinear(input1, input2, weight, bias=None):
    """``y_k = input1^T weight_k input2 + bias_k``.

    Shapes: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out) -> (*, out).
    """
    from .products import einsum
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape)} and "
                           f"{list(input2.shape)}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {weight.dim()}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    lead = input1.shape[:-1]
    rows = math.prod(lead)
    y = einsum("bi,kij,bj->bk", input1.reshape(rows, input1.shape[-1]), weight, input2.reshape(rows, input2.shape[-1]))
    if bias is not None:
        if bias.dim() != 1 or bias.shape[0] != weight.shape[0]:
            raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but "
                               f"expected {weight.shape[0]}")
        y = y + bias
    return y.reshape(tuple(lead) + (weight.shape[0],))
