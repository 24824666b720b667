"""Random sampling: rand, randn, randint, randperm, normal, bernoulli, multinomial, and the in-place
samplers (uniform_, normal_, bernoulli_, random_, exponential_).  Every function takes ``generator=``."""
from .. import _dtype
from .._device import as_cpu
from ..random import np_generator
from ._common import xp, Tensor, _make, scalar_value, Node, attach, GradMode
from .creation import _finish, _out
from .shape import _shape_arg


def _float_dtype(dtype):
    dt = dtype or _dtype.get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"\"check_uniform_bounds\" not implemented for '{dt.name}'")
    return dt


def _sample_float(gen, shape, dt, kind):
    work = dt.np if dt.np in (xp.float32, xp.float64) else xp.float32
    if kind == "uniform":
        arr = gen.random(shape, dtype=work)
    else:
        arr = gen.standard_normal(shape, dtype=work)
    return arr if arr.dtype == dt.np else arr.astype(dt.np)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples on [0, 1)."""
    as_cpu(device)
    dt = _float_dtype(dtype)
    return _out(out, _finish(_sample_float(np_generator(generator), _shape_arg(size), dt, "uniform"), requires_grad))


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples."""
    as_cpu(device)
    dt = _float_dtype(dtype)
    return _out(out, _finish(_sample_float(np_generator(generator), _shape_arg(size), dt, "normal"), requires_grad))


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = dtype or _dtype.int64
    arr = np_generator(generator).integers(low, high, size=_shape_arg((size,)), dtype=xp.int64)
    return _out(out, _finish(arr.astype(dt.np, copy=False), requires_grad))


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of ``0 .. n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    arr = np_generator(generator).permutation(n).astype((dtype or _dtype.int64).np)
    return _out(out, _finish(arr, requires_grad))


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Uniform [0, 1) samples shaped like ``input``."""
    return rand(input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Standard normal samples shaped like ``input``."""
    return randn(input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    """Integers on [low, high) shaped like ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers (then ``size`` is needed)."""
    gen = np_generator(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if isinstance(std, Tensor) and (std._data < 0).any() or not isinstance(std, Tensor) and std < 0:
            raise RuntimeError("normal expects all elements of std >= 0.0")
        ref = mean if isinstance(mean, Tensor) else std
        shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s))
        z = _sample_float(gen, shape, ref.dtype if ref.dtype.is_floating_point else _dtype.get_default_dtype(),
                          "normal")
        return _out(out, _make((m + s * z).astype(z.dtype)))
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal() missing 1 required positional argument: \"size\"")
    dt = _float_dtype(dtype)
    z = _sample_float(gen, _shape_arg((size,)), dt, "normal")
    return _out(out, _finish((z * std + mean).astype(dt.np), requires_grad))


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probability ``input`` (or the number ``p``), in ``input``'s dtype."""
    probs = input._data if p is None else xp.full(input._data.shape, p)
    if ((probs < 0) | (probs > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draws = np_generator(generator).random(input._data.shape) < probs
    return _out(out, _make(draws.astype(input._data.dtype)))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Draw ``num_samples`` category indices per row of non-negative weights ``input`` (1-D or 2-D)."""
    w = input._data.astype(xp.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if (w < 0).any() or not xp.isfinite(w).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if (rows.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    gen = np_generator(generator)
    out_rows = []
    for r in rows:
        p = r / r.sum()
        if replacement:
            out_rows.append(gen.choice(len(p), size=num_samples, replace=True, p=p))
        else:
            # Gumbel top-k keeps zero-weight categories last, as sampling without replacement requires
            keys = xp.log(gen.random(len(p))) / xp.where(p > 0, p, 1e-300)
            keys[p == 0] = -xp.inf
            out_rows.append(xp.argsort(-keys, kind="stable")[:num_samples])
    arr = xp.stack(out_rows).astype(xp.int64)
    return _out(out, _make(arr.reshape(w.shape[:-1] + (num_samples,))))


# ---------------------------------------------------------------------------- in-place samplers
def _fill(self, arr):
    if self._requires_grad and self._grad_fn is None:
        from ..autograd.grad_mode import GradMode
        if GradMode.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    self._data[...] = arr
    self._version[0] += 1
    return self


def _fill_affine(self, gen, kind, scale, shift):
    """Sample straight into a contiguous float32/float64 buffer and scale it in place: the same numbers as
    ``_fill(self, sample * scale + shift)`` without three temporaries (initialising VGG's 100M-weight layer
    allocated 1.2 GB of them)."""
    d = self._data
    if not (d.dtype in (xp.float32, xp.float64) and d.flags.c_contiguous and d.flags.writeable):
        u = _sample_float(gen, d.shape, self.dtype, kind)
        return _fill(self, u * scale + shift)
    if self._requires_grad and self._grad_fn is None:
        from ..autograd.grad_mode import GradMode
        if GradMode.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if kind == "uniform":
        gen.random(out=d, dtype=d.dtype)
    else:
        gen.standard_normal(out=d, dtype=d.dtype)
    d *= scale
    d += shift
    self._version[0] += 1
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with uniform samples on [a, b); returns self."""
    return _fill_affine(self, np_generator(generator), "uniform", b - a, a)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples; returns self."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_affine(self, np_generator(generator), "normal", std, mean)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples of probability ``p`` (number or tensor); returns self."""
    probs = p._data if isinstance(p, Tensor) else p
    return _fill(self, np_generator(generator).random(self._data.shape) < probs)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate ``lambd``; returns self."""
    return _fill(self, np_generator(generator).exponential(1.0 / lambd, self._data.shape))


def random_(self, from_=0, to=None, *, generator=None):
    """Fill with integers uniform on [from, to) (default: the dtype's range); returns self."""
    if to is None:
        if from_ != 0:
            from_, to = 0, from_
        elif self.dtype.is_floating_point:
            to = 2 ** xp.finfo(self._data.dtype).nmant + 1
        elif self.dtype is _dtype.bool:
            to = 2
        else:
            to = int(xp.iinfo(self._data.dtype).max) + 1
    return _fill(self, np_generator(generator).integers(from_, to, self._data.shape, dtype=xp.int64))


def _check_float_fill(self, name, kind):
    if not self.dtype.is_floating_point:
        from .elementwise import _dtype_name
        if kind == "not_implemented":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_dtype_name(self.dtype)}'")
        c_name = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                  "uint8": "unsigned char", "bool": "bool"}.get(self.dtype.name, self.dtype.name)
        raise RuntimeError(f"{kind} distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {c_name}")


def geometric_(self, p, *, generator=None):
    """Fill with samples of the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, np_generator(generator).geometric(p, self._data.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of the Cauchy distribution ``median + sigma * tan(pi * (u - 1/2))``."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _check_float_fill(self, "cauchy", "Cauchy")
    u = _sample_float(np_generator(generator), self._data.shape, _dtype.float64, "uniform")
    return _fill(self, median + sigma * xp.tan(xp.pi * (u - 0.5)))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp(N(mean, std^2))`` samples."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _check_float_fill(self, "log_normal", "not_implemented")
    z = _sample_float(np_generator(generator), self._data.shape, _dtype.float64, "normal")
    return _fill(self, xp.exp(mean + std * z))


class PoissonBackward0(Node):
    def backward(self, grad):
        return (grad * 0,)


def poisson(input, generator=None):
    """Samples of Poisson distributions with the rates in ``input`` (same shape and dtype; zero gradient)."""
    if not input.dtype.is_floating_point:
        from .elementwise import _dtype_name
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_dtype_name(input.dtype)}'")
    rate = input._data
    if rate.size and not (rate >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    res = _make(np_generator(generator).poisson(rate.astype(xp.float64)).astype(rate.dtype))
    if input._requires_grad and GradMode.enabled:
        attach(res, PoissonBackward0(), input)
    return res
