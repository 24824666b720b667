"""Complex-number plumbing: conj, real / imag (views), view_as_real / view_as_complex, complex, polar, angle.

PyTorch's convention for gradients of complex tensors is used throughout: the gradient of a real loss
with respect to z is dL/d(re z) + i dL/d(im z), so a C-linear map y = A z has gradient A^H g.
(ember materialises ``conj`` instead of setting a lazy conjugate bit; ``is_conj`` is therefore False.)
"""
from .._device import writeable
from ._common import (Node, _make, array_module, module_of_array, record, op, function, unbroadcast, write_out,
                      dtype_name)
from .elementwise import to_dtype
from .shape import view_result, clone


def _is_complex(t):
    return t._data.dtype.kind == "c"


class ConjBackward0(Node):
    def backward(self, grad):
        return (conj(grad),)


@op
def conj(input):
    """The complex conjugate (``input`` itself for real tensors)."""
    if not _is_complex(input):
        return input
    res = _make(array_module(input).conj(input._data))
    record(res, ConjBackward0, (input,))
    return res


@op
def conj_physical(input, *, out=None):
    """The complex conjugate as a new tensor."""
    res = conj(input)
    if res is input:
        res = clone(input)
    return write_out(out, res) if out is not None else res


@op
def resolve_conj(input):
    """``input`` (ember never holds a lazy conjugate)."""
    return input


@op
def resolve_neg(input):
    """``input`` (ember never holds a lazy negation)."""
    return input


@op
def is_conj(input):
    """False: ember materialises conjugates."""
    return False


@op
def is_neg(input):
    """False: ember materialises negations."""
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
    return to_dtype(grad, dtype) if grad.dtype is not dtype else grad


@function
def real(input):
    """The real part (a view for complex tensors; ``input`` itself otherwise)."""
    if not _is_complex(input):
        return input
    return view_result(input, input._data.real, RealBackward0, dtype=input.dtype)


@function
def imag(input):
    """The imaginary part of a complex tensor (a view)."""
    if not _is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return view_result(input, input._data.imag, ImagBackward0, dtype=input.dtype)


class ViewAsRealBackward0(Node):
    def backward(self, grad):
        return (view_as_complex(grad.contiguous()),)


class ViewAsComplexBackward0(Node):
    def backward(self, grad):
        return (view_as_real(grad),)


@function
def view_as_real(input):
    """A real view of a complex tensor with a trailing dim of size 2 (real, imaginary)."""
    arr = input._data
    if arr.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    real_part = arr.real
    out = module_of_array(arr).lib.stride_tricks.as_strided(real_part, arr.shape + (2,),
                                                            arr.strides + (real_part.itemsize,),
                                                            writeable=writeable(arr))
    return view_result(input, out, ViewAsRealBackward0)


@function
def view_as_complex(input):
    """A complex view of a real tensor whose last dim (size 2, stride 1) holds real and imaginary parts."""
    arr = input._data
    xp = array_module(input)
    if arr.dtype not in ("float32", "float64", "float16"):
        raise RuntimeError("view_as_complex is only supported for floating point tensors, but got a tensor of "
                           f"scalar type: {input.dtype}")
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    item = arr.itemsize
    if arr.strides[-1] != item:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * item) for s in arr.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if arr.dtype == "float16":
        raise RuntimeError("view_as_complex is only supported for float and double tensors")
    cdt = "complex64" if arr.dtype == "float32" else "complex128"
    if arr.size:
        pair = arr[(0,) * (arr.ndim - 1) + (slice(0, 2),)]     # the first (re, im) pair: contiguous
        out = xp.lib.stride_tricks.as_strided(pair.view(cdt), arr.shape[:-1], arr.strides[:-1],
                                              writeable=writeable(arr))
    else:
        out = xp.empty(arr.shape[:-1], dtype=cdt)
    return view_result(input, out, ViewAsComplexBackward0)


class ComplexBackward0(Node):
    def backward(self, grad):
        gr = unbroadcast(real(grad), self.shapes[0]) if self.needs[0] else None
        gi = unbroadcast(imag(grad), self.shapes[1]) if self.needs[1] else None
        return gr, gi


@function
def complex(real, imag, *, out=None):
    """A complex tensor from real and imaginary parts (float32 -> complex64, float64 -> complex128)."""
    a, b = real._data, imag._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"Expected object of scalar type {dtype_name(real.dtype)} but got scalar type "
                           f"{dtype_name(imag.dtype)} for second argument")
    if a.dtype not in ("float32", "float64"):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{dtype_name(real.dtype)} and {dtype_name(imag.dtype)}")
    xp = array_module(real)
    r = xp.empty(xp.broadcast_shapes(a.shape, b.shape), dtype="complex64" if a.dtype == "float32" else "complex128")
    r.real, r.imag = a, b
    res = _make(r)
    record(res, ComplexBackward0, (real, imag), shapes=(a.shape, b.shape),
           needs=(real._requires_grad, imag._requires_grad))
    return write_out(out, res) if out is not None else res


@function
def polar(abs, angle, *, out=None):
    """``abs * (cos(angle) + i sin(angle))``."""
    res = complex(abs * angle.cos(), abs * angle.sin())
    return write_out(out, res) if out is not None else res
