"""Random sampling: rand, randn, randint, randperm, normal (and the _like forms), bernoulli, multinomial,
poisson, binomial, and the in-place samplers (uniform_, normal_, bernoulli_, random_, exponential_,
geometric_, cauchy_, log_normal_).  Every function takes ``generator=``.

The numbers are PyTorch's CPU numbers: ``ops/_sampling.py`` draws from the generator (``ember.random``)
what PyTorch's kernel draws and transforms it the same way, filling elements in PyTorch's order.  Samples
are made on the host and moved to the tensor's device (``Generator.to_device``).  poisson and binomial draw
from the same stream but with NumPy's algorithms (their numbers differ from PyTorch's).
"""
import math

import numpy as np

from .. import _dtype
from .._device import device_of
from ..random import generator_for
from ._common import (Tensor, Node, _make, array_module, backend_for, record, op, method, function, write_out,
                      check_inplace_leaf, dtype_name)
from .creation import wrap_leaf, like_device
from .shape import shape_arg, sizes_arg
from ._checked import check_size
from . import _sampling as S


def _float_dtype(dtype, kernel="check_uniform_bounds"):
    dt = dtype or _dtype.get_default_dtype()
    if not (dt.is_floating_point or dt.is_complex):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_name(dt)}'")
    return dt


def _float_samples(gen, shape, dt, kind, a, b, contiguous=True):
    """Host samples of ``shape`` and float or complex dtype ``dt``: U[a, b) (``kind`` "uniform") or
    N(a, b^2) ("normal"); complex dtypes fill their real view (normal with std b / sqrt(2)), as PyTorch."""
    n = math.prod(shape)
    if dt.is_complex:
        real = dt.to_real()
        if kind == "normal":
            b = b / math.sqrt(2)
        vals = _float_samples(gen, (2 * n,), real, kind, a, b, contiguous)
        return vals.view(dt.np).reshape(shape)
    if kind == "uniform":
        return S.uniform_values(gen, n, dt, a, b).reshape(shape)
    return S.normal_values(gen, n, dt, a, b, contiguous).reshape(shape)


def _factory(kind, shape, generator, out, dtype, device, requires_grad):
    backend_for(device)
    dt = dtype or _dtype.get_default_dtype()
    if not dt.is_floating_point:
        dt = _float_dtype(dtype, "check_uniform_bounds" if kind == "uniform" else "normal_kernel_cpu")
    n = check_size(shape, dt.itemsize)
    gen = generator_for(generator, device)
    if n < 16 and dt.itemsize >= 4 and dt.is_floating_point:   # a few float32/float64 values (no NormalFill16)
        vals = S.few_standard(gen, n, dt, kind == "normal")
        res = wrap_leaf(gen.to_device(vals if len(shape) == 1 else vals.reshape(shape)), requires_grad)
    else:
        res = wrap_leaf(gen.to_device(_float_samples(gen, shape, dt, kind, 0.0, 1.0)), requires_grad)
    return write_out(out, res) if out is not None else res


@function
def rand(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples on [0, 1); sizes as varargs, one sequence or the keyword ``size``."""
    return _factory("uniform", sizes_arg("rand", sizes, size), generator, out, dtype, device, requires_grad)


@function
def randn(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples; sizes as varargs, one sequence or the keyword ``size``."""
    return _factory("normal", sizes_arg("randn", sizes, size), generator, out, dtype, device, requires_grad)


@function
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if high is None:   # randint(high, size=...): the one bound given is the upper one
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    backend_for(device)
    dt = dtype or _dtype.int64
    shape = shape_arg((size,))
    check_size(shape, 8)
    gen = generator_for(generator, device)
    vals = S.integers_from_to(gen, math.prod(shape), int(low), int(high) - int(low))
    res = wrap_leaf(gen.to_device(vals.astype(dt.np, copy=False).reshape(shape)), requires_grad)
    return write_out(out, res) if out is not None else res


@function
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of ``0 .. n-1`` (PyTorch's CPU shuffle)."""
    check_size((n,), 8)
    backend_for(device)
    gen = generator_for(generator, device)
    res = wrap_leaf(gen.to_device(S.randperm(gen, n).astype((dtype or _dtype.int64).np, copy=False)), requires_grad)
    return write_out(out, res) if out is not None else res


@function
def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Uniform [0, 1) samples shaped like ``input``, on its device."""
    return rand(input._data.shape, dtype=dtype or input.dtype, device=like_device(input, device),
                requires_grad=requires_grad)


@function
def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Standard normal samples shaped like ``input``, on its device."""
    return randn(input._data.shape, dtype=dtype or input.dtype, device=like_device(input, device),
                 requires_grad=requires_grad)


@function
def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    """Integers on [low, high) shaped like ``input``, on its device."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype, device=like_device(input, device),
                   requires_grad=requires_grad)


def _normal_tensor_args(mean, std):
    """Checks and operands of ``normal`` with a tensor mean and/or std: ``(ref, xp, mean array or number,
    std array or number, broadcast shape, result dtype)``, the dtype being that of ``mean`` (of ``std`` when
    ``mean`` is a number)."""
    ref = mean if isinstance(mean, Tensor) else std
    xp = array_module(ref)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if isinstance(std, Tensor):
        if std.dtype.is_complex:
            raise RuntimeError("normal expects standard deviation to be non-complex")
        if s.size and bool((s < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    dt = ref.dtype if ref.dtype.is_floating_point else _dtype.get_default_dtype()
    return ref, xp, m, s, shape, dt


@function
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers (then ``size`` is needed)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref, xp, m, s, shape, dt = _normal_tensor_args(mean, std)
        gen = generator_for(generator, device_of(ref._data))
        tensor_std = isinstance(std, Tensor)
        # PyTorch: normal_(0, std) then + mean for a number std; normal_(0, 1) then * std + mean otherwise
        z = gen.to_device(_float_samples(gen, shape, dt, "normal", 0.0, 1.0 if tensor_std else std))
        one = dt.np.type
        res = z * s.astype(dt.np, copy=False) if tensor_std else z
        res = res + (m.astype(dt.np, copy=False) if isinstance(mean, Tensor) else one(mean))
        res = _make(xp.asarray(res).astype(dt.np, copy=False))
        return write_out(out, res) if out is not None else res
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal() missing 1 required positional argument: \"size\"")
    backend_for(device)
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    shape = shape_arg((size,))
    gen = generator_for(generator, device)
    res = wrap_leaf(gen.to_device(_float_samples(gen, shape, dt, "normal", mean, std)), requires_grad)
    return write_out(out, res) if out is not None else res


def _gen_of(t, generator):
    """The generator a sampler on tensor ``t`` draws from."""
    return generator_for(generator, device_of(t._data))


# ---------------------------------------------------------------------------- in-place samplers
def _fill(self, gen, host_values):
    """Write the flat ``host_values`` into ``self`` in PyTorch's element order; returns self."""
    check_inplace_leaf(self)
    d = self._data
    if d.size:
        target = S.fill_order(d)
        target[...] = gen.to_device(host_values.reshape(target.shape))
    self._version[0] += 1
    return self


def _contiguous(a):
    """Whether PyTorch sees the array as contiguous (C order; size-1 axes' strides do not count)."""
    return a.flags.c_contiguous


@method
def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with uniform samples on [a, b); returns self."""
    dt = _float_dtype(self.dtype)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    gen = _gen_of(self, generator)
    return _fill(self, gen, _float_samples(gen, (self._data.size,), dt, "uniform", a, b))


@method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples; returns self."""
    dt = _float_dtype(self.dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    gen = _gen_of(self, generator)
    vals = _float_samples(gen, (self._data.size,), dt, "normal", mean, std, _contiguous(self._data))
    return _fill(self, gen, vals)


def _check_p(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples of probability ``p`` (number or tensor broadcast to ``self``); returns self."""
    gen = _gen_of(self, generator)
    n = self._data.size
    if isinstance(p, Tensor):
        xp = array_module(self)
        probs = xp.broadcast_to(p._data, self._data.shape)
        axes = S.fill_axes(self._data)
        probs = probs if axes is None else probs.transpose(axes)   # visited along with self's elements
        draws = S.bernoulli_tensor(gen, _host(xp, probs).reshape(-1)) if n else np.zeros(0, bool)
    else:
        _check_p(p)
        draws = S.bernoulli_scalar(gen, n, p)
    return _fill(self, gen, draws.astype(self._data.dtype))


def _host(xp, arr):
    return np.asarray(arr) if xp is np else backend_for(device_of(arr)).to_host(arr)


@op(inplace=bernoulli_)
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probability ``input`` (or the number ``p``), in ``input``'s dtype."""
    xp = array_module(input)
    a = input._data
    if p is None:
        if bool(((a < 0) | (a > 1)).any()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    else:
        _check_p(p)
    res = _make(xp.empty(a.shape, dtype=a.dtype))
    bernoulli_(res, input if p is None else p, generator=generator)
    return write_out(out, res) if out is not None else res


@op
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Draw ``num_samples`` category indices per row of non-negative weights ``input`` (1-D or 2-D).

    As PyTorch on the CPU: without replacement (or for one sample) the top ``num_samples`` of
    ``input / q`` with ``q`` exponential samples; with replacement, a search of each double uniform in the
    row's normalised cumulative sums."""
    xp = array_module(input)
    w = input._data
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {dtype_name(input.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n_cat = w.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if n_cat > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = _host(xp, w).reshape(-1, n_cat)
    gen = _gen_of(input, generator)
    if rows.size == 0:
        idx = np.zeros((rows.shape[0], num_samples), np.int64)
    elif not replacement or num_samples == 1:
        if not (np.isfinite(rows).all() and (rows >= 0).all()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if bool((rows.sum(-1) == 0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        q = S.exponentials(gen, rows.size, 1.0).astype(rows.dtype).reshape(rows.shape)
        keys = rows / q
        idx = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    else:
        idx = _multinomial_with_replacement(gen, rows, num_samples)
    res = _make(xp.asarray(idx.astype(np.int64).reshape(w.shape[:-1] + (num_samples,))))
    return write_out(out, res) if out is not None else res


def _multinomial_with_replacement(gen, rows, num_samples):
    """PyTorch's CPU sampler with replacement: per row, running sums in the weights' precision (float for
    half/bfloat16) divided by the total, the last set to 1, then the first index whose sum reaches each
    double uniform."""
    work = np.float64 if rows.dtype == np.float64 else np.float32
    idx = np.empty((rows.shape[0], num_samples), np.int64)
    for i, row in enumerate(rows.astype(work)):
        if (row < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not np.isfinite(row).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        cum = np.cumsum(row)
        total = cum[-1]
        if not total > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cum = cum / total
        cum[-1] = 1
        idx[i] = np.searchsorted(cum.astype(np.float64), gen.uniform_double(num_samples), side="left")
    return idx


def _check_float_fill(self, name, kind):
    if not self.dtype.is_floating_point:
        if kind == "not_implemented":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{dtype_name(self.dtype)}'")
        raise RuntimeError(f"{kind} distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_dtype.cpp_name(self.dtype, 'typeid')}")


@method
def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate ``lambd``; returns self."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    _check_float_fill(self, "exponential", "Exponential")
    gen = _gen_of(self, generator)
    return _fill(self, gen, S.exponentials(gen, self._data.size, lambd).astype(self._data.dtype))


@method
def random_(self, from_=0, to=None, *, generator=None):
    """Fill with integers uniform on [from, to) (default: the dtype's range); returns self."""
    gen = _gen_of(self, generator)
    n = self._data.size
    if to is None and from_ == 0:
        vals = S.integers_default(gen, n, self.dtype)
    else:
        if to is None:   # random_(to): the one bound given is the upper one
            from_, to = 0, from_
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        vals = S.integers_from_to(gen, n, int(from_), int(to) - int(from_))
    return _fill(self, gen, vals.astype(self._data.dtype))


@method
def geometric_(self, p, *, generator=None):
    """Fill with samples of the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    gen = _gen_of(self, generator)
    return _fill(self, gen, S.geometrics(gen, self._data.size, p).astype(self._data.dtype))


@method
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of the Cauchy distribution ``median + sigma * tan(pi * (u - 1/2))``."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _check_float_fill(self, "cauchy", "Cauchy")
    gen = _gen_of(self, generator)
    return _fill(self, gen, S.cauchys(gen, self._data.size, median, sigma).astype(self._data.dtype))


@method
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp(N(mean, std^2))`` samples."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _check_float_fill(self, "log_normal", "not_implemented")
    gen = _gen_of(self, generator)
    return _fill(self, gen, S.log_normals(gen, self._data.size, mean, std).astype(self._data.dtype))


class PoissonBackward0(Node):
    def backward(self, grad):
        return (grad * 0,)


@function
def poisson(input, generator=None):
    """Samples of Poisson distributions with the rates in ``input`` (same shape and dtype; zero gradient)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{dtype_name(input.dtype)}'")
    rate = input._data
    if rate.size and not bool((rate >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    gen = _gen_of(input, generator)
    draws = gen.numpy_sample("poisson", _host(array_module(input), rate).astype("float64"))
    res = _make(gen.to_device(np.asarray(draws).astype(rate.dtype)))
    record(res, PoissonBackward0, (input,))
    return res


@function
def binomial(count, prob, generator=None):
    """Samples of Binomial(count, prob) distributions, elementwise over the broadcast ``count`` (floating) and
    ``prob`` (same dtype); probabilities outside [0, 1] are clipped and negative counts give 0, as in PyTorch.
    PyTorch defines no gradient: backward through the result raises."""
    from .binary_math import NotImplemented as _NoDerivative
    if not count.dtype.is_floating_point:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {dtype_name(count.dtype)}")
    if prob.dtype is not count.dtype:
        raise RuntimeError(f"Found dtype {dtype_name(prob.dtype)} but expected {dtype_name(count.dtype)}")
    xp = array_module(count)
    n, p = np.broadcast_arrays(_host(xp, count._data).astype("float64"), _host(xp, prob._data).astype("float64"))
    n = np.maximum(np.floor(n), 0).astype("int64")
    gen = _gen_of(count, generator)
    draws = gen.numpy_sample("binomial", n, np.clip(p, 0.0, 1.0))
    res = _make(gen.to_device(np.asarray(draws).astype(count._data.dtype)))
    record(res, _NoDerivative, (count, prob), op_name="binomial")
    return res
