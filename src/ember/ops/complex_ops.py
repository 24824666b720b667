"""Complex-number plumbing: conj, real / imag (views), view_as_real / view_as_complex, complex, polar, angle.

PyTorch's convention for gradients of complex tensors is used throughout: the gradient of a real loss
with respect to z is dL/d(re z) + i dL/d(im z), so a C-linear map y = A z has gradient A^H g.
(ember materialises ``conj`` instead of setting a lazy conjugate bit; ``is_conj`` is therefore False.)
"""
from ._common import xp, Node, attach, GradMode, _make
from .shape import _view_result


def _is_complex(t):
    return t._data.dtype.kind == "c"


class ConjBackward0(Node):
    def backward(self, grad):
        return (conj(grad),)


def conj(input):
    """The complex conjugate (``input`` itself for real tensors)."""
    if not _is_complex(input):
        return input
    res = _make(xp.conj(input._data))
    if input._requires_grad and GradMode.enabled:
        attach(res, ConjBackward0(), input)
    return res


def conj_physical(input, *, out=None):
    """The complex conjugate as a new tensor."""
    res = conj(input)
    if res is input:
        from .shape import clone
        res = clone(input)
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res


def resolve_conj(input):
    """``input`` (ember never holds a lazy conjugate)."""
    return input


def resolve_neg(input):
    """``input`` (ember never holds a lazy negation)."""
    return input


def is_conj(input):
    return False


def is_neg(input):
    return False


class RealBackward0(Node):
    def name(self):
        return "SelectBackward0"

    def backward(self, grad):
        return (_to_complex(grad, self.dtype),)


class ImagBackward0(Node):
    def name(self):
        return "SelectBackward0"

    def backward(self, grad):
        return (complex(grad.new_zeros(grad.shape), grad).to(self.dtype),)


def _to_complex(grad, dtype):
    from .elementwise import _to_dtype
    return _to_dtype(grad, dtype) if grad.dtype is not dtype else grad


def real(input):
    """The real part (a view for complex tensors; ``input`` itself otherwise)."""
    if not _is_complex(input):
        return input
    return _view_result(input, input._data.real, RealBackward0, dtype=input.dtype)


def imag(input):
    """The imaginary part of a complex tensor (a view)."""
    if not _is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _view_result(input, input._data.imag, ImagBackward0, dtype=input.dtype)


class ViewAsRealBackward0(Node):
    def backward(self, grad):
        return (view_as_complex(grad.contiguous()),)


class ViewAsComplexBackward0(Node):
    def backward(self, grad):
        return (view_as_real(grad),)


def view_as_real(input):
    """A real view of a complex tensor with a trailing dim of size 2 (real, imaginary)."""
    arr = input._data
    if arr.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    real_dt = xp.float32 if arr.dtype == xp.complex64 else xp.float64
    item = xp.dtype(real_dt).itemsize
    out = xp.lib.stride_tricks.as_strided(arr.real, arr.shape + (2,), arr.strides + (item,),
                                          writeable=arr.flags.writeable)
    return _view_result(input, out, ViewAsRealBackward0)


def view_as_complex(input):
    """A complex view of a real tensor whose last dim (size 2, stride 1) holds real and imaginary parts."""
    arr = input._data
    if arr.dtype not in (xp.float32, xp.float64, xp.float16):
        raise RuntimeError("view_as_complex is only supported for floating point tensors, but got a tensor of "
                           f"scalar type: {input.dtype}")
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    item = arr.itemsize
    if arr.strides[-1] != item:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * item) for s in arr.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if arr.dtype == xp.float16:
        raise RuntimeError("view_as_complex is only supported for float and double tensors")
    cdt = xp.complex64 if arr.dtype == xp.float32 else xp.complex128
    if arr.size:
        pair = arr[(0,) * (arr.ndim - 1) + (slice(0, 2),)]     # the first (re, im) pair: contiguous
        out = xp.lib.stride_tricks.as_strided(pair.view(cdt), arr.shape[:-1], arr.strides[:-1],
                                              writeable=arr.flags.writeable)
    else:
        out = xp.empty(arr.shape[:-1], dtype=cdt)
    return _view_result(input, out, ViewAsComplexBackward0)


class ComplexBackward0(Node):
    def backward(self, grad):
        from ._common import unbroadcast
        gr = unbroadcast(real(grad), self.shapes[0]) if self.needs[0] else None
        gi = unbroadcast(imag(grad), self.shapes[1]) if self.needs[1] else None
        return gr, gi


def complex(real, imag, *, out=None):
    """A complex tensor from real and imaginary parts (float32 -> complex64, float64 -> complex128)."""
    a, b = real._data, imag._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"Expected object of scalar type {_name(real.dtype)} but got scalar type "
                           f"{_name(imag.dtype)} for second argument")
    if a.dtype not in (xp.float32, xp.float64):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {_name(real.dtype)} "
                           f"and {_name(imag.dtype)}")
    cdt = xp.complex64 if a.dtype == xp.float32 else xp.complex128
    r = xp.empty(xp.broadcast_shapes(a.shape, b.shape), dtype=cdt)
    r.real, r.imag = a, b
    res = _make(r)
    if GradMode.enabled and (real._requires_grad or imag._requires_grad):
        node = ComplexBackward0()
        node.shapes, node.needs = (a.shape, b.shape), (real._requires_grad, imag._requires_grad)
        attach(res, node, real, imag)
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res


def polar(abs, angle, *, out=None):
    """``abs * (cos(angle) + i sin(angle))``."""
    res = complex(abs * angle.cos(), abs * angle.sin())
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res


def _name(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long"}.get(dt.name, dt.name)
