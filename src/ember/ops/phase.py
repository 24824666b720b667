"""The phase of numbers: ``angle`` (``atan2(imag, real)`` for complex, 0 or pi for reals) and the in-place
``conj_physical_``."""
import math

from ._common import array_module, Node, record, op, _make, float_array, write_out, check_inplace_leaf


class AngleBackward0(Node):
    def backward(self, grad):
        z, = self.saved_tensors
        if not z.dtype.is_complex:
            return (grad * 0,)
        # d angle: (-imag + i real) / |z|^2, and 0 at z == 0
        denom = z.abs() ** 2
        safe = denom.masked_fill(denom == 0, 1)
        return ((grad / safe).masked_fill(denom == 0, 0) * (z.imag * -1 + 1j * z.real),)


@op
def angle(input, *, out=None):
    """The phase in radians: ``atan2(imag, real)`` of complex values; pi for negative reals, 0 otherwise (NaN
    stays NaN)."""
    xp = array_module(input)
    a = input._data
    if a.dtype.kind == "c":
        res = xp.angle(a)
    else:
        f = float_array(input)
        res = xp.where(f < 0, f.dtype.type(math.pi), xp.where(f != f, f, f.dtype.type(0)))
    out_t = _make(xp.asarray(res))
    record(out_t, AngleBackward0, (input,), (input,))
    return write_out(out, out_t) if out is not None else out_t


@op
def conj_physical_(input):
    """Conjugate ``input`` in place (a no-op for real tensors); returns it."""
    if not input.dtype.is_complex:
        return input
    check_inplace_leaf(input)
    return input.copy_(input.conj_physical())
