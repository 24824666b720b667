"""``BatchedTensor``: what a vmapped function sees in place of a tensor, and the batching rules.

A ``BatchedTensor`` holds ``value`` (a Tensor, or for nested vmap a lower-level BatchedTensor) whose
dim 0 is the batch dim of its vmap ``level``; to the function it looks like one sample: ``shape``,
``dim()``, ``size()`` and every dim argument are per sample.  Its methods and operators are the
batching rules: each runs ONE ember op on the whole batch (elementwise math with rank alignment,
reductions and shape ops with shifted dims, matmul, basic indexing).  A Tensor method without a rule
runs once per sample and stacks the results (a per-op loop that warns once per method).  Anything
the wrapper cannot take part in -- an ember function such as ``ember.sin(x)`` that reads the tensor's
internals, in-place writes, a Tensor on the left of an operator -- raises, and ``vmap`` reruns the
whole function once per sample instead.
"""
import warnings

import ember

_RULELESS_WARNED = set()


class VmapItemError(RuntimeError):
    """PyTorch's error for data-dependent Python (``item()``, ``bool()``) on a batched tensor; not retried."""


def level_of(x):
    return x.level if isinstance(x, BatchedTensor) else -1


def lift(x, level):
    """``(value, batched)``: the batch-first value of ``x`` at ``level``, or ``x`` itself if it is not batched there."""
    if isinstance(x, BatchedTensor) and x.level == level:
        return x.value, True
    return x, False


def pad(value, k):
    """Insert ``k`` size-1 dims right after the batch dim (aligns ranks for broadcasting)."""
    for _ in range(k):
        value = value.unsqueeze(1)
    return value


def stack(items, dim):
    """``ember.stack`` that also stacks BatchedTensors (per level, unbatched items expanded)."""
    level = max(level_of(x) for x in items)
    if level < 0:
        return ember.stack(items, dim)
    size = next(x.size_ for x in items if level_of(x) == level)
    values = []
    for x in items:
        v, batched = lift(x, level)
        values.append(v if batched else broadcast_batch(v, size))
    return BatchedTensor(stack(values, _wrap(dim, values[0].dim()) + 1), level, size)


def broadcast_batch(x, size):
    """``x`` (not batched at a level) given a leading batch dim of ``size`` (an expanded view)."""
    return x.unsqueeze(0).expand((size,) + tuple(x.shape))


def _wrap(d, rank):
    """A per-sample dim made non-negative; raises IndexError (caught by the per-op loop) when out of range."""
    if not -rank <= d < rank:   # (0-d tensors too: their dim rules run per sample or per function)
        raise IndexError(d)
    return d + rank if d < 0 else d


def _shift(d, rank):
    return _wrap(d, rank) + 1


def _scalarish(x):
    return not isinstance(x, (ember.Tensor, BatchedTensor, list, tuple, dict))


_UNARY = ("abs neg negative exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh asinh "
          "acosh atanh arcsin arccos arctan sigmoid relu sqrt rsqrt square sign sgn floor ceil round trunc frac "
          "reciprocal erf erfc erfinv lgamma digamma clamp clip clamp_min clamp_max float double half bfloat16 int "
          "long bool short to detach clone contiguous nan_to_num isnan isinf isfinite logical_not bitwise_not conj "
          "deg2rad rad2deg sinc logit xlogy_ cpu cuda").split()
_BINARY = ("add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow maximum minimum "
           "fmax fmin atan2 arctan2 hypot eq ne lt le gt ge greater less greater_equal less_equal not_equal "
           "logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor copysign xlogy").split()
_OPERATORS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div", "__floordiv__":
              "floor_divide", "__mod__": "remainder", "__pow__": "pow", "__eq__": "eq", "__ne__": "ne", "__lt__":
              "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__and__": "bitwise_and", "__or__":
              "bitwise_or", "__xor__": "bitwise_xor"}
# reflected operators: the BatchedTensor is the right operand
_REFLECTED = {"__radd__": "__add__", "__rsub__": "__sub__", "__rmul__": "__mul__", "__rtruediv__": "__truediv__",
              "__rfloordiv__": "__floordiv__", "__rmod__": "__mod__", "__rpow__": "__pow__", "__rand__": "__and__",
              "__ror__": "__or__", "__rxor__": "__xor__"}
_REDUCE = "sum mean prod amax amin argmax argmin all any std var logsumexp max min nansum nanmean".split()
_ALONG = "cumsum cumprod softmax log_softmax cummax cummin logcumsumexp".split()


def _binary(name, x, y, kwargs):
    """``getattr(x, name)(y)`` with either operand batched at any level: ranks aligned after the batch dim."""
    level = max(level_of(x), level_of(y))
    xv, xb = lift(x, level)
    yv, yb = lift(y, level)
    size = x.size_ if xb else y.size_
    rx = xv.dim() - xb if not _scalarish(xv) else 0
    ry = yv.dim() - yb if not _scalarish(yv) else 0
    r = max(rx, ry)
    if xb:
        xv = pad(xv, r - rx)
    if yb:
        yv = pad(yv, r - ry)
    if _scalarish(xv):   # scalar on the left: the reflected dunder of the right operand
        rname = "__r" + next(k for k, v in _OPERATORS.items() if v == name)[2:]
        out = getattr(yv, rname)(xv)
    else:
        out = getattr(xv, name)(yv, **kwargs)
    return BatchedTensor(out, level, size)


class BatchedTensor:
    """One sample's view of a batch (see the module docstring). ``value`` holds the batch at dim 0."""

    __slots__ = ("value", "level", "size_")
    __array_priority__ = 1000

    def __init__(self, value, level, size):
        self.value, self.level, self.size_ = value, level, size

    # ---- per-sample metadata
    @property
    def shape(self):
        return ember.Size(tuple(self.value.shape)[1:])

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.value.dim() - 1

    ndim = property(dim)

    def ndimension(self):
        return self.dim()

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __len__(self):
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    dtype = property(lambda self: self.value.dtype)
    device = property(lambda self: self.value.device)
    requires_grad = property(lambda self: self.value.requires_grad)
    is_cuda = property(lambda self: self.value.is_cuda)

    def is_floating_point(self):
        return self.value.is_floating_point()

    def is_complex(self):
        return self.value.is_complex()

    def __repr__(self):
        return f"BatchedTensor(lvl={self.level}, bdim=0, value=\n{self.value!r}\n)"

    # ---- data-dependent Python is an error under vmap, as in PyTorch
    def item(self):
        raise VmapItemError("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
                            "calling .item() on a Tensor, please try to rewrite what you're doing with other "
                            "operations. If error is occurring somewhere inside PyTorch internals, please file a bug "
                            "report.")

    def __bool__(self):
        raise VmapItemError("vmap: It looks like you're attempting to use a Tensor in some data-dependent control "
                            "flow. We don't support that yet, please shout over at "
                            "https://github.com/pytorch/functorch/issues/257 .")

    __float__ = __int__ = __index__ = item

    def __array__(self, *args, **kwargs):
        raise TypeError("BatchedTensor cannot become a NumPy array")

    # ---- the batching rules
    def _wrapv(self, value):
        return BatchedTensor(value, self.level, self.size_)

    def _wrap_result(self, out):
        """Wrap an op's result: one tensor, or a (named) tuple such as ``(values, indices)``."""
        return _rebuild(out, [self._wrapv(o) for o in out]) if isinstance(out, tuple) else self._wrapv(out)

    def matmul(self, other):
        return _matmul(self, other)

    __matmul__ = matmul

    def __rmatmul__(self, other):
        return _matmul(other, self)

    def __getitem__(self, index):
        idx = index if isinstance(index, tuple) else (index,)
        if not all(i is None or i is Ellipsis or isinstance(i, (int, slice)) and not isinstance(i, bool)
                   for i in idx):
            return self._per_sample("__getitem__", (index,), {})
        return self._wrapv(self.value[(slice(None),) + idx])

    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return self._wrapv(self.value.reshape((self.size_,) + tuple(shape)))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.dim() == 0:
            return self._wrapv(self.value.reshape(self.size_, 1))
        return self._wrapv(self.value.flatten(_shift(start_dim, self.dim()), _shift(end_dim, self.dim())))

    def unflatten(self, dim, sizes):
        return self._wrapv(self.value.unflatten(_shift(dim, self.dim()), sizes))

    def transpose(self, dim0, dim1):
        return self._wrapv(self.value.transpose(_shift(dim0, self.dim()), _shift(dim1, self.dim())))

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        if len(dims) != self.dim():
            return self._per_sample("permute", dims, {})
        return self._wrapv(self.value.permute((0,) + tuple(_shift(d, self.dim()) for d in dims)))

    def movedim(self, source, destination):
        if isinstance(source, int) and isinstance(destination, int):
            return self._wrapv(self.value.movedim(_shift(source, self.dim()), _shift(destination, self.dim())))
        return self._per_sample("movedim", (source, destination), {})

    moveaxis = movedim

    def t(self):
        return self if self.dim() < 2 else self.transpose(0, 1)

    @property
    def T(self):
        return self.permute(*reversed(range(self.dim())))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def unsqueeze(self, dim):
        return self._wrapv(self.value.unsqueeze(_shift(dim, self.dim() + 1)))

    def squeeze(self, dim=None):
        shape = tuple(self.shape)
        if dim is None:
            keep = [s for s in shape if s != 1]
        else:
            dims = {_wrap(d, len(shape)) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
            keep = [s for i, s in enumerate(shape) if i not in dims or s != 1]
        return self._wrapv(self.value.reshape((self.size_,) + tuple(keep)))

    def expand(self, *sizes):
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        value = pad(self.value, len(sizes) - self.dim())
        return self._wrapv(value.expand((self.size_,) + tuple(sizes)))

    def _along(self, name, dim, args, kwargs):
        return self._wrapv(getattr(self.value, name)(_shift(dim, self.dim()), *args, **kwargs))

    def narrow(self, dim, start, length):
        return self._along("narrow", dim, (start, length), {})

    def select(self, dim, index):
        return self._along("select", dim, (index,), {})

    def unbind(self, dim=0):
        return tuple(self._wrapv(v) for v in self.value.unbind(_shift(dim, self.dim())))

    def split(self, split_size, dim=0):
        return tuple(self._wrapv(v) for v in self.value.split(split_size, _shift(dim, self.dim())))

    def chunk(self, chunks, dim=0):
        return tuple(self._wrapv(v) for v in self.value.chunk(chunks, _shift(dim, self.dim())))

    def flip(self, *dims):
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return self._wrapv(self.value.flip(tuple(_shift(d, self.dim()) for d in dims)))

    def repeat(self, *sizes):
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        if len(sizes) < self.dim():
            return self._per_sample("repeat", sizes, {})
        return self._wrapv(pad(self.value, len(sizes) - self.dim()).repeat((1,) + tuple(sizes)))

    def dot(self, other):
        return _matmul(self, other) if level_of(other) == self.level and other.dim() == 1 == self.dim() \
            else self._per_sample("dot", (other,), {})

    def _reduce(self, name, dim, keepdim, extra):
        """A reduction over per-sample ``dim`` (None: all per-sample dims), one op over the batch."""
        kw = dict(extra)
        if keepdim:
            kw["keepdim"] = True
        if dim is None:
            if keepdim:
                return self._per_sample(name, (), {"keepdim": True, **extra})
            out = getattr(self.value.reshape(self.size_, -1), name)(1, **kw)
        else:
            if self.dim() == 0:
                return self._per_sample(name, (dim,), {"keepdim": keepdim, **extra})
            if isinstance(dim, (tuple, list)):
                dim = tuple(_shift(d, self.dim()) for d in dim)
            else:
                dim = _shift(dim, self.dim())
            out = getattr(self.value, name)(dim, **kw)
        return self._wrap_result(out)

    def _per_sample(self, name, args, kwargs):
        return per_sample_method(name, self, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("_") and not name.startswith("__"):
            # an ember function reading a tensor's internals: it has no batching rule
            raise AttributeError("an ember function (not a Tensor method or operator) was called with a vmapped "
                                 "tensor")
        if name.startswith("__") or name.endswith("_") or not callable(getattr(ember.Tensor, name, None)):
            raise AttributeError(f"'BatchedTensor' object has no attribute '{name}'")
        return lambda *args, **kwargs: per_sample_method(name, self, args, kwargs)


def _make_unary(name):
    def method(self, *args, **kwargs):
        if all(_scalarish(a) for a in args) and all(_scalarish(v) for v in kwargs.values()):
            return self._wrapv(getattr(self.value, name)(*args, **kwargs))
        return self._per_sample(name, args, kwargs)
    method.__name__ = name
    return method


def _make_binary(name):
    def method(self, other, **kwargs):
        if not (isinstance(other, (ember.Tensor, BatchedTensor)) or _scalarish(other)):
            return self._per_sample(name, (other,), kwargs)
        return _binary(name, self, other, kwargs)
    method.__name__ = name
    return method


def _make_reflected(dunder):
    def method(self, other):
        if not _scalarish(other) and not isinstance(other, (ember.Tensor, BatchedTensor)):
            return NotImplemented
        return _binary(_OPERATORS[dunder], other, self, {})
    return method


def _make_reduce(name):
    def method(self, dim=None, keepdim=False, **kwargs):
        if name in ("std", "var") and isinstance(dim, bool):   # std(unbiased)
            return self._per_sample(name, (dim,), kwargs)
        return self._reduce(name, dim, keepdim, kwargs)
    method.__name__ = name
    return method


def _make_along(name):
    def method(self, dim, *args, **kwargs):
        if self.dim() == 0:
            return self._per_sample(name, (dim,) + args, kwargs)
        return self._wrap_result(getattr(self.value, name)(_shift(dim, self.dim()), *args, **kwargs))
    method.__name__ = name
    return method


for _n in _UNARY:
    setattr(BatchedTensor, _n, _make_unary(_n))
for _n in _BINARY:
    setattr(BatchedTensor, _n, _make_binary(_n))
for _d, _n in _OPERATORS.items():
    setattr(BatchedTensor, _d, _make_binary(_n))
for _d, _fwd in _REFLECTED.items():
    setattr(BatchedTensor, _d, _make_reflected(_fwd))
for _n in _REDUCE:
    setattr(BatchedTensor, _n, _make_reduce(_n))
for _n in _ALONG:
    setattr(BatchedTensor, _n, _make_along(_n))
BatchedTensor.__neg__ = BatchedTensor.neg
BatchedTensor.__abs__ = BatchedTensor.abs
BatchedTensor.__invert__ = BatchedTensor.bitwise_not
BatchedTensor.__hash__ = object.__hash__


def _matmul(a, b):
    """Per-sample ``a @ b`` as one batched matmul: 1-d operands promoted, ranks aligned after the batch dim."""
    level = max(level_of(a), level_of(b))
    av, ab = lift(a, level)
    bv, bb = lift(b, level)
    size = a.size_ if ab else b.size_
    ra, rb = av.dim() - ab, bv.dim() - bb
    if ra == 0 or rb == 0:
        return per_sample_call(lambda x, y: x @ y, (a, b), {}, "matmul")
    if ra == 1:
        av = av.unsqueeze(-2)
    if rb == 1:
        bv = bv.unsqueeze(-1)
    r = max(max(ra, 2), max(rb, 2))
    if ab:
        av = pad(av, r - max(ra, 2))
    if bb:
        bv = pad(bv, r - max(rb, 2))
    out = av @ bv
    if ra == 1:
        out = out.squeeze(-2)
    if rb == 1:
        out = out.squeeze(-1)
    return BatchedTensor(out, level, size)


def per_sample_method(name, self, args, kwargs):
    """A Tensor method without a batching rule: run it on each sample and stack the results."""
    if name not in _RULELESS_WARNED:
        _RULELESS_WARNED.add(name)
        warnings.warn(f"ember.func.vmap: Tensor.{name} has no batching rule; it runs once per sample (slower).",
                      UserWarning, stacklevel=3)
    return per_sample_call(lambda t, *a, **k: getattr(t, name)(*a, **k), (self,) + tuple(args), kwargs, name)


def per_sample_call(fn, args, kwargs, name):
    """``fn`` on each sample of the highest-level BatchedTensor among ``args``/``kwargs``; results stacked."""
    from ..utils._pytree import tree_flatten, tree_unflatten
    leaves, spec = tree_flatten((args, kwargs))
    level = max(level_of(x) for x in leaves)
    size = next(x.size_ for x in leaves if level_of(x) == level)
    results = []
    for i in range(size):
        sample = [x.value[i] if level_of(x) == level else x for x in leaves]
        a, k = tree_unflatten(sample, spec)
        results.append(fn(*a, **k))
    first = results[0]
    if isinstance(first, (ember.Tensor, BatchedTensor)):
        return _rewrap(stack(results, 0), level)
    if isinstance(first, tuple) and all(isinstance(o, (ember.Tensor, BatchedTensor)) for o in first):
        return _rebuild(first, [_rewrap(stack([r[j] for r in results], 0), level) for j in range(len(first))])
    if all(r == first for r in results):
        return first
    raise TypeError(f"vmap: Tensor.{name} returned per-sample Python values")


def _rebuild(like, parts):
    """A tuple of ``parts`` of the same (named) tuple type as ``like``."""
    return type(like)(*parts) if hasattr(like, "_fields") else type(like)(parts)


def _rewrap(stacked, level):
    """Stacked per-sample results (batch at per-sample dim 0 of ``stacked``) as a BatchedTensor at ``level``."""
    return BatchedTensor(stacked, level, stacked.shape[0])
