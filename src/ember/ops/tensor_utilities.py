"""Tensor utilities PyTorch programs call: the legacy constructor ``new``, Python-callback fills
(``apply_``, ``map_``, ``map2_``), ``fill_diagonal_``, ``sum_to_size``, ``isin``, the predicates
``is_nonzero``/``is_same_size``/``is_signed``/``isreal``, ``adjoint``, ``scalar_tensor``, ``empty_strided``
and the function forms of ``detach``/``detach_``, ``record_stream``."""
import weakref

from .. import _dtype
from ._common import (array_module, Tensor, op, method, function, _make, backend_for, unbroadcast, write_out,
                      check_inplace_leaf)
from .creation import empty, tensor
from .shape import transpose


# ---------------------------------------------------------------------------- legacy constructor
@method
def new(input, *args, device=None):
    """The legacy constructor: ``t.new()`` (empty), ``t.new(2, 3)`` / ``t.new(Size)`` (uninitialized, those
    sizes), ``t.new(sequence)`` (from data), ``t.new(tensor)`` (that tensor, which must have t's dtype); the
    result has ``t``'s dtype and device."""
    dev = input.device if device is None else device
    if not args:
        return empty(0, dtype=input.dtype, device=dev)
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.dtype is not input.dtype:
            raise TypeError(f"expected {input.dtype} (got {other.dtype})")
        return other.detach()
    if all(type(a) is int for a in args) or (len(args) == 1 and type(args[0]).__name__ == "Size"):
        return empty(*args, dtype=input.dtype, device=dev)
    if len(args) == 1:
        return tensor(args[0], dtype=input.dtype, device=dev)
    raise TypeError(f"new() received an invalid combination of arguments - got {len(args)} arguments")


# ---------------------------------------------------------------------------- Python-callback fills
def _callback_fill(name, input, fn, others):
    if input._requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() "
                           f"instead.")
    if input.device.type != "cpu":
        raise TypeError(f"{name}_ is only implemented on CPU tensors")
    a = input._data
    xp = array_module(input)
    arrays = [xp.broadcast_to(o._data, a.shape) for o in others]
    flat = a.reshape(-1) if a.flags.c_contiguous else a.copy().reshape(-1)
    flats = [o.reshape(-1) for o in arrays]
    py = [f.tolist() for f in flats]
    values = [fn(*items) for items in zip(flat.tolist(), *py)]
    if values:
        a[...] = xp.asarray(values, dtype=a.dtype).reshape(a.shape)
    return input   # PyTorch does not bump the version counter for these writes


@method
def apply_(input, callable):
    """Replace each element ``x`` with ``callable(x)`` (a Python call per element; CPU only); returns self."""
    return _callback_fill("apply_", input, callable, ())


@method
def map_(input, tensor, callable):
    """Replace each element ``x`` with ``callable(x, y)``, ``y`` from ``tensor`` broadcast to self; returns self."""
    return _callback_fill("map_", input, callable, (tensor,))


@method
def map2_(input, x, y, callable):
    """Replace each element ``s`` with ``callable(s, a, b)``, ``a``/``b`` from ``x``/``y`` broadcast to self."""
    return _callback_fill("map2_", input, callable, (x, y))


# ---------------------------------------------------------------------------- diagonal fill
@method
def fill_diagonal_(input, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal (all dims equal, or a 2-D tensor; a tall matrix's diagonal
    restarts every ``cols + 1`` rows with ``wrap``); returns self."""
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and any(s != shape[0] for s in shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = array_module(input)
    if len(shape) == 2 and wrap and shape[0] > shape[1] + 1:
        pos = xp.arange(0, shape[0] * shape[1], shape[1] + 1)
        index = (_make(pos // shape[1]), _make(pos % shape[1]))
    else:
        n = _make(xp.arange(min(shape)))
        index = (n,) * len(shape)
    input[index] = fill_value
    return input


# ---------------------------------------------------------------------------- reductions to a shape
@method
def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (which ``input`` must broadcast from), as broadcasting's gradient does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(input.shape)
    ok = len(size) <= len(shape) and all(s == t or s == 1 for s, t in zip(size[::-1], shape[::-1]))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    return unbroadcast(input, tuple(size))


# ---------------------------------------------------------------------------- membership
@function
def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """Bool tensor: whether each of ``elements`` occurs in ``test_elements`` (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got (" +
                        f"{type(elements).__name__}, {type(test_elements).__name__})")
    ref = elements if isinstance(elements, Tensor) else test_elements
    xp = array_module(ref)
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    res = _make(xp.asarray(xp.isin(e, t, assume_unique=assume_unique, invert=invert)))
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- predicates
@op
def is_nonzero(input):
    """The truth value of a one-element tensor."""
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(-1)[0])


@op
def is_same_size(input, other):
    """Whether two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


@function
def is_signed(input):
    """Whether the dtype can hold negative values (floating, complex and signed integer types)."""
    return input.dtype.is_signed


@op
def isreal(input):
    """Bool tensor: True where the value has no imaginary part (everywhere for real dtypes)."""
    a = input._data
    xp = array_module(input)
    if a.dtype.kind == "c":
        return _make(xp.asarray(a.imag == 0))
    return _make(xp.ones(a.shape, dtype=bool))


# ---------------------------------------------------------------------------- views and factories
@op
def adjoint(input):
    """The conjugate transpose of the last two dims (a view)."""
    if input.dim() < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got "
                           f"{input.dim()}-D tensor.")
    r = transpose(input, -2, -1)
    return r.conj() if input.dtype.is_complex else r


@function
def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False):
    """A 0-d tensor holding the number ``s`` (of the default float dtype unless ``dtype`` is given)."""
    return tensor(s, dtype=dtype or _dtype.get_default_dtype(), device=device, requires_grad=requires_grad)


@function
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialized tensor of ``size`` whose elements are ``stride`` elements apart in each dim."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                           f"({len(stride)})")
    dt = dtype or _dtype.get_default_dtype()
    xp = backend_for(device).xp
    extent = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    buf = xp.empty(extent, dtype=dt.np)
    item = buf.itemsize
    arr = xp.lib.stride_tricks.as_strided(buf, size, tuple(st * item for st in stride)) if extent else \
        xp.empty(size, dtype=dt.np)
    res = _make(arr)
    res._requires_grad = requires_grad
    return res


@method
def new_empty_strided(input, size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                      pin_memory=False):
    """``empty_strided`` with this tensor's dtype and device unless given."""
    return empty_strided(size, stride, dtype=dtype or input.dtype, device=input.device if device is None else device,
                         requires_grad=requires_grad)


@function(name="detach")
def detach_function(input):
    """``input.detach()``: the same data, cut from the graph."""
    return input.detach()


@function(name="detach_")
def detach_inplace_function(input):
    """``input.detach_()``: cut ``input`` itself from the graph; returns it."""
    return input.detach_()


@function
def get_device(input):
    """The device index of a tensor: -1 on the CPU, the GPU's ordinal otherwise."""
    dev = input.device
    return -1 if dev.type == "cpu" else (dev.index or 0)


@function
def typename(obj):
    """The type name PyTorch prints: ``torch.FloatTensor``-style for tensors, ``module.QualName`` otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    name = cls.__qualname__
    if module in ("builtins", None):
        return name
    return module.replace("ember", "torch", 1) + "." + name if module.startswith("ember") else module + "." + name


@function
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing the memory of a Python buffer object (``bytearray``, ``memoryview``...)."""
    xp = backend_for("cpu").xp
    res = _make(xp.frombuffer(buffer, dtype=dtype.np, count=count, offset=offset))
    res._requires_grad = requires_grad
    return res


@function
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialized tensor of ``size`` whose memory is laid out with dims in the order
    ``physical_layout`` (outermost first), as ``empty(physical sizes).permute(inverse)``."""
    size, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; "
                           f"i.e. len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}")
    inverse = [order.index(d) for d in range(len(size))]
    res = empty(*[size[d] for d in order], dtype=dtype, device=device).permute(inverse)
    res._requires_grad = requires_grad
    return res


# ---------------------------------------------------------------------------- memory identity
@method
def dim_order(input, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (by decreasing stride; ties keep the logical order)."""
    strides = input.stride()
    return tuple(sorted(range(input.dim()), key=lambda d: -strides[d]))


@method
def const_data_ptr(input):
    """The address of the first element, for reading (``data_ptr``)."""
    return input.data_ptr()


@method
def is_set_to(input, tensor):
    """Whether both tensors view the same memory with the same sizes, strides and offset."""
    return (input.data_ptr() == tensor.data_ptr() and tuple(input.shape) == tuple(tensor.shape)
            and input.stride() == tensor.stride())


@method
def set_(input, source=None, storage_offset=0, size=None, stride=None):
    """Make ``input`` view the memory of ``source`` (a tensor, or a storage read as ``input``'s dtype: all of it
    when ``size`` is not given), or become empty when called without one; returns ``input``."""
    check_inplace_leaf(input)
    if source is None:
        input._data = input._data[:0].reshape(0) if input._data.ndim else input._data.reshape(1)[:0]
    else:
        if not isinstance(source, Tensor):
            source = _storage_elements(source, input.dtype)
        if size is not None:
            source = source.as_strided(size, stride if stride is not None else _contiguous_strides(size),
                                       storage_offset)
        input._data = source._data
    input._version[0] += 1
    return input


def _storage_elements(storage, dtype):
    """A 1-D tensor over the bytes of ``storage`` (untyped, or typed of ``dtype``) read as ``dtype``."""
    if getattr(storage, "dtype", dtype) != dtype:
        raise RuntimeError(f"Expected a Storage of type {_dtype.cpp_name(dtype)} or an UntypedStorage, but got "
                           f"type {_dtype.scalar_name(storage.dtype)} for argument 1 'storage'")
    raw = storage.untyped()._bytes
    return _make(raw[:raw.size - raw.size % dtype.itemsize].view(dtype.np))


def _contiguous_strides(size):
    strides, step = [], 1
    for s in reversed(tuple(size)):
        strides.append(step)
        step *= max(s, 1)
    return tuple(reversed(strides))


@op
def is_distributed(input):
    """Whether the tensor is a distributed (sharded) one: never, for ember's tensors."""
    return False


@method
def record_stream(input, s):
    """Mark ``input`` as used by stream ``s`` (a ``torch.Stream`` or ``torch.cuda.Stream``).

    On CUDA, when ``input`` is freed its array stays alive until ``s`` has run the work queued on it by then,
    so CuPy's pool cannot hand the memory to new work too early (views of ``input`` that outlive it keep the
    memory anyway).
    Host devices have no streams: PyTorch's NotImplementedError.
    """
    from .._streams import Stream
    from ..cuda.streams import Stream as CudaStream
    if not isinstance(s, (Stream, CudaStream)):
        raise RuntimeError("unknown parameter type")
    if input.device.type != "cuda":
        raise NotImplementedError(f"Could not run 'aten::record_stream' with arguments from the "
                                  f"'{input.device.type.upper()}' backend.")
    cuda_stream = s if isinstance(s, CudaStream) else s._impl
    weakref.finalize(input, _release_after, input._data, cuda_stream)


def _release_after(array, stream):
    """record_stream's finalizer: it holds ``array`` (an argument) until ``stream``'s queued work is done."""
    if stream is not None:
        stream.synchronize()
