"""Random sampling: rand, randn, randint, randperm, normal (and the _like forms), bernoulli, multinomial,
poisson, and the in-place samplers (uniform_, normal_, bernoulli_, random_, exponential_, geometric_,
cauchy_, log_normal_).  Every function takes ``generator=``.

Samples come from ``ember.random``: ``generator_for(generator, device).draw(...)`` returns arrays of the
device's array module, so the factories create on ``device=`` and the in-place samplers on their tensor's
device.
"""
import math

from .. import _dtype
from .._device import device_of
from ..random import generator_for
from ._common import (Tensor, Node, _make, array_module, backend_for, record, op, method, function, write_out,
                      check_inplace_leaf, dtype_name)
from .creation import wrap_leaf, like_device
from .shape import shape_arg
from ._checked import check_size


def _float_dtype(dtype):
    dt = dtype or _dtype.get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"\"check_uniform_bounds\" not implemented for '{dt.name}'")
    return dt


def _sample_float(gen, shape, dt, kind):
    """``shape`` samples of U[0, 1) (``kind`` "uniform") or N(0, 1) ("normal") in dtype ``dt``."""
    check_size(shape, dt.np.itemsize)
    work = dt.np if dt in (_dtype.float32, _dtype.float64) else _dtype.float32.np
    arr = gen.draw("random" if kind == "uniform" else "standard_normal", shape, dtype=work)
    return arr if arr.dtype == dt.np else arr.astype(dt.np)


def _factory_sample(kind, size, generator, out, dtype, device, requires_grad):
    backend_for(device)
    dt = _float_dtype(dtype)
    res = wrap_leaf(_sample_float(generator_for(generator, device), shape_arg(size), dt, kind), requires_grad)
    return write_out(out, res) if out is not None else res


@function
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples on [0, 1)."""
    return _factory_sample("uniform", size, generator, out, dtype, device, requires_grad)


@function
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples."""
    return _factory_sample("normal", size, generator, out, dtype, device, requires_grad)


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
    arr = generator_for(generator, device).draw("integers", low, high, size=shape, dtype="int64")
    res = wrap_leaf(arr.astype(dt.np, copy=False), requires_grad)
    return write_out(out, res) if out is not None else res


@function
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of ``0 .. n-1``."""
    check_size((n,), 8)
    backend_for(device)
    arr = generator_for(generator, device).draw("permutation", n).astype((dtype or _dtype.int64).np)
    res = wrap_leaf(arr, requires_grad)
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


@function
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers (then ``size`` is needed)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        xp = array_module(ref)
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if isinstance(std, Tensor) and bool((std._data < 0).any()) or not isinstance(std, Tensor) and std < 0:
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s))
        z = _sample_float(generator_for(generator, device_of(ref._data)), shape,
                          ref.dtype if ref.dtype.is_floating_point else _dtype.get_default_dtype(), "normal")
        res = _make((m + s * z).astype(z.dtype))
        return write_out(out, res) if out is not None else res
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal() missing 1 required positional argument: \"size\"")
    backend_for(device)
    dt = _float_dtype(dtype)
    z = _sample_float(generator_for(generator, device), shape_arg((size,)), dt, "normal")
    res = wrap_leaf((z * std + mean).astype(dt.np), requires_grad)
    return write_out(out, res) if out is not None else res


def _gen_of(t, generator):
    """The generator a sampler on tensor ``t`` draws from."""
    return generator_for(generator, device_of(t._data))


# ---------------------------------------------------------------------------- in-place samplers
def _fill(self, arr):
    check_inplace_leaf(self)
    self._data[...] = arr
    self._version[0] += 1
    return self


def _fill_affine(self, gen, kind, scale, shift):
    """``self`` filled with ``sample * scale + shift``; drawn straight into a plain float buffer when the
    generator can (no temporaries), else through a sampled array."""
    check_inplace_leaf(self)
    d = self._data
    if gen.draw_into(d, "random" if kind == "uniform" else "standard_normal"):
        d *= scale
        d += shift
    else:
        d[...] = _sample_float(gen, d.shape, self.dtype, kind) * scale + shift
    self._version[0] += 1
    return self


@method
def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with uniform samples on [a, b); returns self."""
    return _fill_affine(self, _gen_of(self, generator), "uniform", b - a, a)


@method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples; returns self."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_affine(self, _gen_of(self, generator), "normal", std, mean)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples of probability ``p`` (number or tensor); returns self."""
    probs = p._data if isinstance(p, Tensor) else p
    return _fill(self, _gen_of(self, generator).draw("random", self._data.shape) < probs)


@op(inplace=bernoulli_)
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probability ``input`` (or the number ``p``), in ``input``'s dtype."""
    xp = array_module(input)
    probs = input._data if p is None else xp.full(input._data.shape, p)
    if bool(((probs < 0) | (probs > 1)).any()):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draws = _gen_of(input, generator).draw("random", input._data.shape) < probs
    res = _make(draws.astype(input._data.dtype))
    return write_out(out, res) if out is not None else res


@op
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Draw ``num_samples`` category indices per row of non-negative weights ``input`` (1-D or 2-D)."""
    xp = array_module(input)
    w = input._data.astype("float64")
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if bool((w < 0).any()) or not bool(xp.isfinite(w).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    totals = rows.sum(-1, keepdims=True)
    if bool((totals <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    n_rows, n_cat = rows.shape
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    gen = _gen_of(input, generator)
    if replacement:
        # inverse CDF: row i's CDF is shifted to [i, i + 1] so one sorted search serves every row; dividing by
        # the row total makes the last steps exactly 1, so a zero-weight category is never picked
        cdf = xp.cumsum(rows, axis=-1) / totals + xp.arange(n_rows, dtype="float64")[:, None]
        u = gen.draw("random", (n_rows, num_samples)) + xp.arange(n_rows, dtype="float64")[:, None]
        idx = xp.searchsorted(cdf.reshape(-1), u.reshape(-1), side="right").reshape(n_rows, num_samples)
        idx = xp.minimum(idx - xp.arange(n_rows)[:, None] * n_cat, n_cat - 1)
    else:
        # Gumbel top-k keeps zero-weight categories last, as sampling without replacement requires
        p = rows / totals
        keys = xp.log(gen.draw("random", rows.shape)) / xp.where(p > 0, p, 1e-300)
        keys = xp.where(p == 0, -math.inf, keys)
        idx = xp.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    res = _make(idx.astype("int64").reshape(w.shape[:-1] + (num_samples,)))
    return write_out(out, res) if out is not None else res


@method
def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate ``lambd``; returns self."""
    return _fill(self, _gen_of(self, generator).draw("exponential", 1.0 / lambd, self._data.shape))


@method
def random_(self, from_=0, to=None, *, generator=None):
    """Fill with integers uniform on [from, to) (default: the dtype's range); returns self."""
    if to is None:
        if from_ != 0:
            from_, to = 0, from_
        elif self.dtype.is_floating_point:
            to = 2 ** array_module(self).finfo(self._data.dtype).nmant + 1
        elif self.dtype is _dtype.bool:
            to = 2
        else:
            to = int(array_module(self).iinfo(self._data.dtype).max) + 1
    return _fill(self, _gen_of(self, generator).draw("integers", from_, to, self._data.shape, dtype="int64"))


def _check_float_fill(self, name, kind):
    if not self.dtype.is_floating_point:
        if kind == "not_implemented":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{dtype_name(self.dtype)}'")
        raise RuntimeError(f"{kind} distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_dtype.cpp_name(self.dtype, 'typeid')}")


@method
def geometric_(self, p, *, generator=None):
    """Fill with samples of the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, _gen_of(self, generator).draw("geometric", p, self._data.shape))


@method
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of the Cauchy distribution ``median + sigma * tan(pi * (u - 1/2))``."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _check_float_fill(self, "cauchy", "Cauchy")
    u = _sample_float(_gen_of(self, generator), self._data.shape, _dtype.float64, "uniform")
    return _fill(self, median + sigma * array_module(self).tan(math.pi * (u - 0.5)))


@method
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp(N(mean, std^2))`` samples."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _check_float_fill(self, "log_normal", "not_implemented")
    z = _sample_float(_gen_of(self, generator), self._data.shape, _dtype.float64, "normal")
    return _fill(self, array_module(self).exp(mean + std * z))


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
    res = _make(_gen_of(input, generator).draw("poisson", rate.astype("float64")).astype(rate.dtype))
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
    n, p = xp.broadcast_arrays(count._data.astype("float64"), prob._data.astype("float64"))
    n = xp.maximum(xp.floor(n), 0).astype("int64")
    draws = _gen_of(count, generator).draw("binomial", n, xp.clip(p, 0.0, 1.0))
    res = _make(xp.asarray(draws).astype(count._data.dtype))
    record(res, _NoDerivative, (count, prob), op_name="binomial")
    return res
