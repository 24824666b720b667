"""ReLU and its gradient, and filling an array with one value, as kernels: one pass each, split over threads.

A CNN's ReLU outputs are, after the convolutions, its largest tensors (the bench's ResNet-14 runs thirteen ReLUs
on up to 32x16x32x32 elements a step), and NumPy runs each on one core, the gradient in two passes (a comparison
into a mask, then a product).  The values are PyTorch's: ``relu`` keeps -0.0 and NaN (``clamp_min(x, 0)``), and the
gradient is the incoming one where the output is positive or NaN and 0 elsewhere, also where the incoming gradient
is infinite or NaN (``threshold_backward``), which a product with the mask would turn into NaN.
"""
from .._device import module_of_array
from ._dispatch import Kernel, contiguous_floats


def relu_forward_reference(a):
    """``max(a, 0)`` as PyTorch computes it: ``a`` where it is not negative (-0.0 and NaN stay), else 0.

    Args:
        a: an array of any real dtype.

    Returns a new array of ``a``'s shape and dtype.
    """
    xp = module_of_array(a)
    return xp.where(a < 0, a.dtype.type(0), a)


def relu_backward_reference(g, r):
    """The gradient of ReLU from its output ``r``: ``g`` where ``r`` is positive or NaN, else 0.

    Args:
        g: the incoming gradient; r: ReLU's output, of ``g``'s shape and dtype.

    Returns a new array of ``g``'s shape and dtype.
    """
    xp = module_of_array(g)
    return xp.where(r <= 0, g.dtype.type(0), g)


relu_forward = Kernel("relu_forward", relu_forward_reference, numba="ember.kernels._numba_pointwise:relu_forward",
                      accepts=contiguous_floats)
relu_backward = Kernel("relu_backward", relu_backward_reference,
                       numba="ember.kernels._numba_pointwise:relu_backward", accepts=contiguous_floats)


def fill_reference(a, value):
    """Write ``value`` into every element of ``a`` in place.

    Args:
        a: an array; value: a scalar of ``a``'s dtype.
    """
    a.fill(value)


def _writable_contiguous_floats(a, value):
    """The compiled fill's input: a writable ``contiguous_floats`` array."""
    return contiguous_floats(a) and a.flags.writeable


fill = Kernel("fill", fill_reference, numba="ember.kernels._numba_pointwise:fill", accepts=_writable_contiguous_floats)

# Elements from which ``fill_large`` goes to the kernel: NumPy's fill writes about 15 float32 elements a nanosecond
# here (4 MB in 68 us), the compiled loop 25 on one thread (42 us) and 42 on two (25 us); below, the kernel's
# dispatch (about 1.5 us) costs more than it saves.
FILL_SPLIT = 1 << 18


def fill_large(a, value):
    """``a.fill(value)``, through the ``fill`` kernel where ``a`` has ``FILL_SPLIT`` elements or more (smaller
    fills would only pay the kernel's dispatch)."""
    if a.size >= FILL_SPLIT:
        fill(a, value)
    else:
        a.fill(value)
