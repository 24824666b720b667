"""class Tensor: an n-dimensional array with autograd, over a NumPy array.

A Tensor holds its values in ``_data`` (a NumPy array; views of a tensor are
NumPy views of its array and share its version counter).  The math lives in
``ember.ops``; most methods here are attached from there at import time, so a
method call costs one Python call.
"""
import threading

import numpy as np

from . import _dtype
from ._device import as_cpu, backend_of, device_of, device as _device_cls, cuda_device, address as _address, memory_owner
from ._dtype import from_numpy_dtype, get_default_dtype
from .autograd.grad_mode import GradMode

_new_plain = _new = object.__new__   # _new marks inference tensors while an inference_mode block is open
_ndarray = np.ndarray
_inference_blocks = [0, threading.Lock()]   # inference_mode blocks open in any thread, and the lock counting them


def _new_marking_inference(cls):
    """``object.__new__`` that marks a tensor made inside ``inference_mode`` as an inference tensor."""
    t = object.__new__(cls)
    if GradMode.inference:
        t.__dict__["_inference"] = True
    return t


def track_inference_mode(entering):
    """Count an ``inference_mode`` block opening (``entering``) or closing: tensors are built through
    ``_new_marking_inference`` only while one is open, so that creating tensors elsewhere costs nothing more."""
    global _new
    with _inference_blocks[1]:
        _inference_blocks[0] += 1 if entering else -1
        _new = _new_marking_inference if _inference_blocks[0] else _new_plain
_scalar_warned = False
_autograd_backward = [None]   # ember.autograd.backward, bound by Tensor.backward on first use


def _warn_scalar_requires_grad():
    """float()/complex() of a tensor that requires grad, with grad mode on: PyTorch's warning, given
    once per process as its TORCH_WARN_ONCE does (int(), bool(), .item() and .tolist() do not warn)."""
    global _scalar_warned
    if not _scalar_warned:
        _scalar_warned = True
        import warnings
        warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                      "Consider using tensor.detach() first.", UserWarning, stacklevel=3)


class Size(tuple):
    """The shape of a tensor: a tuple of ints with ``numel()``."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


def _make(arr):
    """Wrap an array of a registered backend as a new tensor that requires no grad (the ops' hot path).

    A NumPy scalar (what NumPy returns for a 0-d result) becomes a 0-d array; any other
    object that is not an array of a registered backend is a TypeError, never a silent copy.
    """
    if type(arr) is not _ndarray:
        arr = _as_backend_array(arr)
    t = _new(Tensor)
    t._data = arr
    t._requires_grad = False
    t._grad_fn = None
    t._version = [0]
    return t


def _as_backend_array(arr):
    if isinstance(arr, np.generic):
        return np.asarray(arr)
    backend_of(arr)   # raises TypeError for an array no device holds
    return arr


def _make_view(base, arr):
    """Wrap ``arr``, a NumPy view of ``base._data``, as a view tensor sharing base's version counter (an inference
    tensor exactly when its base is one, see ``Tensor.is_inference``)."""
    t = _new_plain(Tensor)
    t._data = arr
    t._requires_grad = False
    t._grad_fn = None
    t._version = base._version
    t._base = base if base._base is None else base._base
    return t


class Tensor:
    """A multi-dimensional array of one dtype, with autograd support.

    Build tensors with ``ember.tensor``, ``ember.zeros``, ``ember.from_numpy``
    and friends.  The legacy constructor is supported as in PyTorch:
    ``Tensor(2, 3)`` (uninitialised float32 of that shape), ``Tensor([1, 2])``
    (float32 copy of the data), ``Tensor()`` (empty).
    """

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_version", "__dict__", "__weakref__")

    # rarely set attributes live in __dict__; these class attributes are their defaults
    _grad = None
    _output_nr = 0
    _base = None
    _acc = None
    _hooks = None
    _post_accumulate_hooks = None
    _retains_grad = False
    _vv = None                 # a view's version when its grad_fn was made (see ops/_views.py)
    _volatile = False
    __array_priority__ = 1000  # NumPy defers ``ndarray op tensor`` to Tensor's reflected operators
    _legacy_dtype = None       # set on FloatTensor & co.

    def __new__(cls, *args, device=None, dtype=None):
        as_cpu(device)
        dt = cls._legacy_dtype or dtype or get_default_dtype()
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)) and not isinstance(args[0], Size):
            from .ops.creation import tensor as _tensor_fn
            data = args[0]
            if isinstance(data, Tensor):
                src = data
            else:
                src = _tensor_fn(data, dtype=dt)
            t = _new(Tensor if cls._legacy_dtype else cls)
            t._data = src._data if src.dtype is dt else src._data.astype(dt.np)
            t._version = src._version if isinstance(data, Tensor) else [0]
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], Size) else args or (0,)
            for s in shape:
                if not isinstance(s, (int, np.integer)):
                    raise TypeError(f"new(): argument 'size' must be tuple of ints, but found element of type "
                                    f"{type(s).__name__}")
            t = _new(Tensor if cls._legacy_dtype else cls)
            t._data = np.empty(tuple(int(s) for s in shape), dtype=dt.np)
            t._version = [0]
        t._requires_grad = False
        t._grad_fn = None
        return t

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def _wrap(arr):
        return _make(arr)

    @classmethod
    def _make_subclass(cls, data, require_grad=False):
        """A ``cls`` instance sharing ``data``'s array and version counter (used by Parameter)."""
        t = _new(cls)
        t._data = data._data
        t._version = data._version
        t._grad_fn = None
        t._requires_grad = False
        if require_grad:
            t.requires_grad = True
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape as an ``ember.Size``, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    @property
    def dtype(self):
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self):
        """True for a tensor on a CUDA device."""
        return type(self._data) is not _ndarray and backend_of(self._data).device_type == "cuda"

    @property
    def is_cpu(self):
        """True for a tensor on the CPU."""
        return type(self._data) is _ndarray or backend_of(self._data).device_type == "cpu"

    is_sparse = False
    is_sparse_csr = False
    _sparse = False            # True for the sparse layouts (ops/sparse_tensor.py): the ops' one layout test
    is_quantized = False
    is_meta = False
    is_mps = False
    is_nested = False
    # back ends ember does not have: no tensor lives there
    is_xpu = is_ipu = is_xla = is_mtia = is_maia = is_vulkan = is_mkldnn = False

    @property
    def name(self):
        """Always None (named tensors are not supported, as in PyTorch's default build)."""
        return None

    @property
    def volatile(self):
        """Always False, with PyTorch's warning: ``volatile`` was removed (use ``no_grad``)."""
        import warnings
        warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
        return False

    @volatile.setter
    def volatile(self, value):
        import warnings
        warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                      UserWarning, stacklevel=2)

    @property
    def __cuda_array_interface__(self):
        """The CUDA array interface of a CUDA tensor's memory (for CuPy, Numba ...); AttributeError elsewhere, so
        ``hasattr`` is False for CPU tensors as in PyTorch."""
        if self.device.type != "cuda":
            raise AttributeError(f"Can't get __cuda_array_interface__ on non-CUDA tensor type: {self.type()} If CUDA "
                                 "data is required use tensor.cuda() to copy tensor to device memory.")
        if self.requires_grad:
            raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires grad. If gradients "
                               "aren't required, use var.detach() to get Variable that doesn't require grad.")
        return self._data.__cuda_array_interface__

    def __setstate__(self, state):
        """Restore a leaf from a legacy pickled state: ``(storage, offset, size, stride)`` (as ``set_``),
        ``(data, _, hooks, requires_grad, _)`` or ``(requires_grad, _, hooks)``."""
        if self._grad_fn is not None:
            raise RuntimeError("__setstate__ can be only called on leaf Tensors")
        if len(state) == 4:
            self.set_(*state)
            return
        if len(state) == 5:
            self.data = state[0]
            state = (state[3], state[4], state[2])
        self.requires_grad = state[0]
        self._hooks = state[2]

    @property
    def real(self):
        """The real part: a view of a complex tensor; the tensor itself otherwise."""
        from .ops.complex_ops import real
        return real(self)

    @real.setter
    def real(self, value):
        from .ops.complex_ops import real
        real(self).copy_(value)

    @property
    def imag(self):
        """The imaginary part of a complex tensor (a view); RuntimeError for real dtypes."""
        from .ops.complex_ops import imag
        return imag(self)

    @imag.setter
    def imag(self, value):
        from .ops.complex_ops import imag
        imag(self).copy_(value)

    @property
    def layout(self):
        from . import strided
        return strided

    def dim(self):
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        """Number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dimension (or along ``dim``)."""
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        if 0 in strides:
            # NumPy gives inserted size-1 dims (None, unsqueeze, expand's new dims) stride 0; PyTorch gives
            # them the stride a contiguous layout would have there
            shape, fixed = self._data.shape, list(strides)
            for d in range(len(shape) - 1, -1, -1):
                if shape[d] == 1 and fixed[d] == 0:
                    fixed[d] = shape[d + 1] * fixed[d + 1] if d + 1 < len(shape) else 1
            strides = tuple(fixed)
        if dim is None:
            return strides
        return strides[self._wrap_dim(dim)]

    def storage_offset(self):
        """Offset in elements of this tensor's first element within its storage (the allocation that
        ``untyped_storage()`` shows: a view's base's, or the source's after ``set_``)."""
        return (_address(self._data) - _address(memory_owner(self._data))) // self._data.itemsize

    def data_ptr(self):
        """Address of the first element."""
        return _address(self._data)

    def untyped_storage(self):
        """The bytes of this tensor's allocation (an ``UntypedStorage`` shared with it)."""
        from ._storage import UntypedStorage
        return UntypedStorage._of(self)

    def is_inference(self):
        """Whether this is an inference tensor: made inside ``inference_mode``, or a view of such a tensor."""
        base = self._base
        return "_inference" in self.__dict__ or (base is not None and "_inference" in base.__dict__)

    def storage(self):
        """This tensor's allocation read as elements of its dtype (a ``TypedStorage``; deprecated as in PyTorch)."""
        from ._storage import TypedStorage, UntypedStorage, _warn_typed_storage_removal
        _warn_typed_storage_removal()
        return TypedStorage(wrap_storage=UntypedStorage._of(self), dtype=self.dtype, _internal=True)

    def storage_type(self):
        """The legacy storage class of this dtype (``ember.FloatStorage``, ...); None for uint16/32/64."""
        from ._storage import LEGACY_CLASSES, _LEGACY_NAMES
        name = _LEGACY_NAMES.get(self.dtype)
        return LEGACY_CLASSES[name] if name else None

    def is_contiguous(self, memory_format=None):
        """True when the elements are laid out densely in row-major order."""
        return self._data.flags.c_contiguous

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    def is_signed(self):
        return self.dtype.is_signed

    def get_device(self):
        return -1

    def _wrap_dim(self, dim):
        n = self._data.ndim
        lo, hi = (-1, 0) if n == 0 else (-n, n - 1)
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"dim must be an int, got {type(dim).__name__}")
        if dim < lo or dim > hi:
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
        return dim % n if n else 0

    def _type_name(self):
        name = _LEGACY_NAMES.get(self.dtype, "torch.Tensor")
        return name.replace("torch.", "torch.cuda.", 1) if self.device.type == "cuda" else name

    # ------------------------------------------------------------------ autograd attributes
    @property
    def requires_grad(self):
        # a result of a volatile Variable keeps _requires_grad for record() to see, but reports False
        return self._requires_grad and not self._volatile

    @requires_grad.setter
    def requires_grad(self, flag):
        if self._grad_fn is not None:
            if flag:
                return
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if flag and self.dtype._category < 2:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place; returns self."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        if self._grad is None and self._grad_fn is not None and not self._retains_grad:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size")
            expected = self.__dict__.get("_grad_dtype", self.dtype)
            if expected is not None and value.dtype is not expected:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_dtype.cpp_name(value.dtype)}' to a tensor with "
                    f"grad_dtype '{_dtype.scalar_name(expected)}'. The gradient must match the tensor's grad_dtype "
                    "(defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a specific "
                    "dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor "
                    "and its gradient may break downstream systems that assume they match.")
        self._grad = value

    @property
    def grad_dtype(self):
        """The dtype of the gradients accumulated into this leaf's ``.grad`` (its own dtype unless set; None
        accepts any dtype).  RuntimeError on a non-leaf."""
        if self._grad_fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        return self.__dict__.get("_grad_dtype", self.dtype)

    @grad_dtype.setter
    def grad_dtype(self, value):
        if self._grad_fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        if value is not None and not isinstance(value, _dtype.dtype):
            raise RuntimeError(f"grad_dtype must be a torch.dtype or None, but got {type(value).__name__}")
        self.__dict__["_grad_dtype"] = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _version_count(self):
        return self._version[0]

    @property
    def data(self):
        # shares the memory but not the version counter: changes through .data are invisible to autograd
        return _make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data   # the tensor keeps its own version counter, as in PyTorch

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        import weakref
        node = self._grad_fn
        node._hooked, node._fast = True, False
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; it may return a replacement.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._add_tensor_hook(self._output_nr, hook)
        from collections import OrderedDict
        from .utils.hooks import _add_hook
        if self._hooks is None:
            self._hooks = OrderedDict()
        return _add_hook(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a gradient has been accumulated into this leaf's ``.grad``."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from collections import OrderedDict
        from .utils.hooks import _add_hook
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = OrderedDict()
        return _add_hook(self._post_accumulate_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. the graph leaves and add it into their ``.grad``.

        Args:
            gradient: gradient of some loss w.r.t. this tensor; may be omitted for a scalar.
            retain_graph: keep the graph for another backward (defaults to ``create_graph``).
            create_graph: record the backward pass, for higher-order derivatives.
            inputs: only accumulate into these tensors.
        """
        backward = _autograd_backward[0]
        if backward is None:   # bound on first use (ember.autograd imports this module); an import here costs ~1 us
            from .autograd import backward
            _autograd_backward[0] = backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A tensor sharing this one's data, cut from the graph."""
        t = _make_view(self, self._data)
        t._base = self._base
        if t._base is not None:
            t.__dict__["_detached"] = True   # an alias of a view, outside autograd (see ops/_views.py)
        return t

    def detach_(self):
        """Cut this tensor from the graph in place; returns self."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def _add_inplace_grad(self, other):
        """``self += other`` on raw data, used by gradient accumulation."""
        np.add(self._data, other._data, out=self._data, casting="unsafe")
        self._version[0] += 1

    # ------------------------------------------------------------------ conversion
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        v = self._data.reshape(-1)[0]
        if self._data.dtype.name == "bfloat16":
            return float(v)
        return v.item()

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        if self._data.dtype.name == "bfloat16":
            return self._data.astype(np.float32).tolist()
        return self._data.tolist()

    def numpy(self, *, force=False):
        """A NumPy array sharing this tensor's memory (a CPU tensor only; ``force`` makes a host copy)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if type(self._data) is not _ndarray and not isinstance(self._data, np.generic):
            if not force:
                raise TypeError(f"can't convert {self.device.type}:{self.device.index or 0} device type tensor to "
                                "numpy. Use Tensor.cpu() to copy the tensor to host memory first.")
            return backend_of(self._data).to_host(self._data)
        return self._data if not force else self._data.copy()

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        arr = self._data
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return array

    def __index__(self):
        if self._data.size != 1 or self.dtype._category > 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __int__(self):
        return int(self._scalar())

    def __float__(self):
        if self._requires_grad and GradMode.enabled:
            _warn_scalar_requires_grad()
        return float(self._scalar())

    def __complex__(self):
        if self._requires_grad and GradMode.enabled:
            _warn_scalar_requires_grad()
        return complex(self._scalar())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with " + ("no values" if self._data.size == 0 else
                                                                  "more than one value") + " is ambiguous")
        return bool(self._data.reshape(-1)[0])

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __contains__(self, element):
        if isinstance(element, (Tensor, int, float, bool)):
            return bool((self == element).any())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                           f"{type(element)}.")

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self, tensor_contents)

    def __reduce_ex__(self, protocol):
        state = dict(self.__dict__) if self.__dict__ else None
        if state:
            for k in ("_grad", "_acc", "_hooks", "_base", "_post_accumulate_hooks"):
                state.pop(k, None)
        return (_rebuild_tensor, (type(self), np.ascontiguousarray(self._data), self._requires_grad, state or None))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        import copy
        t = _new(type(self))
        t._data = self._data.copy()
        t._version = [0]
        t._grad_fn = None
        t._requires_grad = self._requires_grad
        memo[id(self)] = t
        for k, v in self.__dict__.items():
            if k in ("_acc", "_hooks", "_base"):
                continue
            setattr(t, k, copy.deepcopy(v, memo))
        return t

    def to(self, *args, **kwargs):
        """Return this tensor converted to a dtype and/or device (self when nothing changes).

        Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` and the
        keywords ``dtype``, ``device``, ``non_blocking``, ``copy``, ``memory_format``.
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments: unexpected {list(kwargs)}")
        flags = []   # positional non_blocking, copy (they follow the dtype / device / tensor argument)
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, bool):
                flags.append(a)
            elif isinstance(a, (str, _device_cls, int)):
                device = a if not isinstance(a, int) else _device_cls(a)
        if len(flags) > 1:
            copy = flags[1]
        moved = self
        if device is not None:
            target = device if isinstance(device, _device_cls) else _device_cls(device)
            if target.type == "cpu" and target.index is None:
                target = None if type(self._data) is _ndarray else target
            elif target.type == "cuda" and target.index is None:
                target = cuda_device(target)   # 'cuda' is the current GPU
            if target is not None and target != self.device:
                from .ops.elementwise import to_device
                moved = to_device(self, target)
        if dtype is None or dtype is moved.dtype:
            return moved.clone() if copy and moved is self else moved
        from .ops.elementwise import to_dtype
        return to_dtype(moved, dtype)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """With no argument, the legacy type name ('torch.FloatTensor'); otherwise a cast to ``dtype``."""
        if dtype is None:
            return self._type_name()
        if isinstance(dtype, str):
            dtype = _LEGACY_BY_NAME[dtype]
        elif isinstance(dtype, type) and issubclass(dtype, Tensor):
            dtype = dtype._legacy_dtype
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self, memory_format=None):
        return self.to(_dtype.float32)

    def double(self, memory_format=None):
        return self.to(_dtype.float64)

    def half(self, memory_format=None):
        return self.to(_dtype.float16)

    def bfloat16(self, memory_format=None):
        return self.to(_dtype.bfloat16)

    def long(self, memory_format=None):
        return self.to(_dtype.int64)

    def int(self, memory_format=None):
        return self.to(_dtype.int32)

    def short(self, memory_format=None):
        return self.to(_dtype.int16)

    def char(self, memory_format=None):
        return self.to(_dtype.int8)

    def byte(self, memory_format=None):
        return self.to(_dtype.uint8)

    def bool(self, memory_format=None):
        return self.to(_dtype.bool)

    def cfloat(self):
        return self.to(_dtype.complex64)

    def cdouble(self):
        return self.to(_dtype.complex128)

    def cpu(self, memory_format=None):
        """This tensor on the CPU (itself when it is there already)."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """This tensor on a GPU (itself when it is there already).

        Args:
            device: None (the current GPU), an index, 'cuda:N' or a device.
            non_blocking: accepted; a copy from pinned memory does not wait for the GPU.
        Raises PyTorch's errors where there is no CUDA.
        """
        return self.to(cuda_device(device), non_blocking=non_blocking)

    def pin_memory(self, device=None):
        """A copy of this CPU tensor in page-locked host memory (fast, asynchronous copies to the GPU).

        Raises PyTorch's RuntimeError where there is no accelerator.
        """
        from .backends import _cupy
        return _make(_cupy.pinned_copy(self._data)) if not self.is_pinned() else self

    def is_pinned(self, device=None):
        """True when this CPU tensor's memory is page-locked (made by ``pin_memory``)."""
        from .backends import _cupy
        return type(self._data) is _ndarray and _cupy.is_pinned(self._data)

    def share_memory_(self):
        """Move this tensor's data into shared memory (for worker processes); returns self."""
        from .multiprocessing.reductions import share_memory_
        return share_memory_(self)

    def is_shared(self):
        """True when the data lives in shared memory."""
        from .multiprocessing.reductions import is_shared
        return is_shared(self)

    # ------------------------------------------------------------------ new_* factories
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from .ops.creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=self.device if device is None else device,
                      requires_grad=requires_grad)

    def _new_sized(self, name, sizes, size, dtype, device, requires_grad):
        from .ops import creation
        from .ops.shape import sizes_arg
        return getattr(creation, name)(sizes_arg("new_" + name, sizes, size), dtype=dtype or self.dtype,
                                       device=self.device if device is None else device, requires_grad=requires_grad)

    def new_zeros(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        return self._new_sized("zeros", sizes, size, dtype, device, requires_grad)

    def new_ones(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        return self._new_sized("ones", sizes, size, dtype, device, requires_grad)

    def new_empty(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        return self._new_sized("empty", sizes, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .ops.creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=self.device if device is None else device,
                    requires_grad=requires_grad)

    # ------------------------------------------------------------------ derived views
    @property
    def T(self):
        if self._data.ndim != 2:
            import warnings
            warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
                          if self._data.ndim == 0 else
                          "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                          "deprecated and it will throw an error in a future release.", UserWarning, stacklevel=2)
        return self.permute(*range(self._data.ndim - 1, -1, -1))

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T.conj()

    @property
    def mH(self):
        return self.mT.conj()


def _rebuild_tensor(cls, array, requires_grad, state):
    """Unpickle a tensor (or a subclass such as Parameter) from its array and attributes."""
    t = _new(cls)
    t._data = array
    t._version = [0]
    t._grad_fn = None
    t._requires_grad = requires_grad
    if state:
        t.__dict__.update(state)
    return t


_LEGACY_NAMES = {dt: _dtype.legacy_type_name(dt) for dt in _dtype.ALL_DTYPES}
_LEGACY_BY_NAME = {v: k for k, v in _LEGACY_NAMES.items()}


class _LegacyTensorType(type):
    """Metaclass of FloatTensor & co: ``isinstance(t, FloatTensor)`` checks the dtype, as in PyTorch."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype


def _legacy_class(dtype):
    name = _LEGACY_NAMES[dtype].split(".")[1]
    return _LegacyTensorType(name, (Tensor,), {
        "__slots__": (), "_legacy_dtype": dtype,
        "__doc__": f"Legacy constructor for {dtype} tensors (``{name}(2, 3)`` or ``{name}([1, 2])``)."})


FloatTensor = _legacy_class(_dtype.float32)
DoubleTensor = _legacy_class(_dtype.float64)
HalfTensor = _legacy_class(_dtype.float16)
BFloat16Tensor = _legacy_class(_dtype.bfloat16)
ByteTensor = _legacy_class(_dtype.uint8)
CharTensor = _legacy_class(_dtype.int8)
ShortTensor = _legacy_class(_dtype.int16)
IntTensor = _legacy_class(_dtype.int32)
LongTensor = _legacy_class(_dtype.int64)
BoolTensor = _legacy_class(_dtype.bool)
