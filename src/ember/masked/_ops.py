"""Masked reductions and normalizations (``torch.masked.sum(input, dim, mask=...)`` and friends).

Each function replaces the masked-out elements of ``input`` (where ``mask`` is False) by the
identity of its operation -- 0 for sums, 1 for products, -inf for maxima, +inf for minima, NaN for
the median -- and then runs the ordinary ember op, so gradients flow through ``where`` (zero at
masked-out elements).  ``mask`` is broadcast to ``input``'s shape; ``None`` means every element
counts.  Fully masked-out slices give the identity (sum, prod, amax...), NaN (mean, var, median)
or NaN rows (softmax), as in PyTorch.
"""
import math

import ember



def _is_float(dtype):
    return dtype.is_floating_point or dtype.is_complex


def _input_mask(input, mask):
    """``mask`` as a bool tensor of ``input``'s shape (broadcast), or None when no mask is given."""
    if mask is None:
        return None
    if mask.ndim > input.ndim:
        raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality higher than of the input)")
    if tuple(mask.shape) != tuple(input.shape):
        mask = ember.broadcast_to(mask, input.shape)
    return mask.to(dtype=ember.bool)


def _identity(op_name, input, ord=2.0):
    """The value that leaves ``op_name``'s result unchanged, as a 0-d tensor of ``input``'s dtype."""
    dtype = input.dtype
    if op_name in ("sum", "cumsum"):
        value = 0
    elif op_name in ("prod", "cumprod"):
        value = 1
    elif op_name in ("amax", "argmax", "logaddexp", "logsumexp"):
        value = -math.inf if _is_float(dtype) else ember.iinfo(dtype).min
    elif op_name in ("amin", "argmin"):
        value = math.inf if _is_float(dtype) else ember.iinfo(dtype).max
    elif op_name == "norm":
        value = math.inf if ord == -math.inf else 0
    elif op_name == "median":
        value = math.nan
    else:
        raise NotImplementedError(f"identity of {op_name} on {dtype} input")
    return ember.tensor(value, dtype=dtype, device=input.device)


def _combine(op_name, input, mask, ord=2.0):
    """``input`` with its masked-out elements replaced by the identity of ``op_name``."""
    mask = _input_mask(input, mask)
    if mask is None:
        return input
    return ember.where(mask, input, _identity(op_name, input, ord))


def _dims(dim, ndim):
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative dims; None means all."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    canonical = []
    for d in dims:
        if d in canonical or (d % max(ndim, 1)) in canonical:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim out of range (got {d}, expected [{-max(ndim, 1)}, {max(ndim, 1) - 1}])")
        canonical.append(d % max(ndim, 1))
    return tuple(sorted(canonical))


def _sum_dtype(input, dtype):
    """PyTorch's sum output dtype: small integer and bool inputs widen to int64."""
    if dtype is not None:
        return dtype
    if input.dtype in (ember.uint8, ember.bool, ember.int8, ember.int16, ember.int32):
        return ember.int64
    return input.dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Sum of the unmasked elements of ``input`` over ``dim`` (all dims when None); 0 where none is unmasked.

    Args:
        input (Tensor): the values.
        dim (int or tuple of ints, optional): the dims to reduce.
        keepdim (bool): keep the reduced dims with size 1.
        dtype (dtype, optional): the output dtype (small integer inputs give int64 by default).
        mask (Tensor, optional): bool, broadcastable to ``input``; True marks the elements that count.

    Returns:
        Tensor: the reduced sums.
    """
    dtype = _sum_dtype(input, dtype)
    return ember.sum(_combine("sum", input, mask), _dims(dim, input.ndim), bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Product of the unmasked elements over ``dim``; 1 where none is unmasked (arguments as :func:`sum`)."""
    dtype = _sum_dtype(input, dtype)
    result = _combine("prod", input, mask).to(dtype=dtype)
    for d in reversed(_dims(dim, input.ndim)):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def cumsum(input, dim, *, dtype=None, mask=None):
    """Cumulative sum along ``dim`` in which masked-out elements count as 0; shape of ``input``."""
    dtype = input.dtype if dtype is None else dtype
    return ember.cumsum(_combine("sum", input, mask), _dims(dim, input.ndim)[0], dtype=dtype).to(dtype=dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """Cumulative product along ``dim`` in which masked-out elements count as 1; shape of ``input``."""
    dtype = input.dtype if dtype is None else dtype
    return ember.cumprod(_combine("prod", input, mask), _dims(dim, input.ndim)[0], dtype=dtype).to(dtype=dtype)


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Maximum of the unmasked elements over ``dim``; -inf (or the dtype's minimum) where none is unmasked."""
    dtype = input.dtype if dtype is None else dtype
    return ember.amax(_combine("amax", input, mask), _dims(dim, input.ndim), bool(keepdim)).to(dtype=dtype)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Minimum of the unmasked elements over ``dim``; +inf (or the dtype's maximum) where none is unmasked."""
    dtype = input.dtype if dtype is None else dtype
    return ember.amin(_combine("amin", input, mask), _dims(dim, input.ndim), bool(keepdim)).to(dtype=dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the largest unmasked element along ``dim`` (flat index when None).

    As in PyTorch the indices come back in ``dtype``, which defaults to ``input``'s dtype.
    """
    dtype = input.dtype if dtype is None else dtype
    return ember.argmax(_combine("argmax", input, mask), dim, bool(keepdim)).to(dtype=dtype)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the smallest unmasked element along ``dim``, in ``dtype`` (default ``input``'s dtype)."""
    dtype = input.dtype if dtype is None else dtype
    return ember.argmin(_combine("argmin", input, mask), dim, bool(keepdim)).to(dtype=dtype)


def _require_float(name, dtype, source):
    if not _is_float(dtype):
        raise ValueError(f"{name}(): Could not infer output dtype. {source} dtype must be either "
                         f"a floating point or complex dtype. Got: {dtype}")


def _count(input, mask, dim, keepdim):
    """How many elements are unmasked in each reduced slice (int64)."""
    mask = _input_mask(input, mask)
    if mask is None:
        mask = ember.ones(input.shape, dtype=ember.int64, device=input.device)
    return mask.sum(dim=_dims(dim, input.ndim), keepdim=bool(keepdim))


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Mean of the unmasked elements over ``dim``; NaN where none is unmasked (floating dtypes only).

    Args:
        input (Tensor): floating values (or give a floating ``dtype``).
        dim, keepdim, dtype, mask: as :func:`sum`.
    """
    if dtype is None:
        _require_float("mean", input.dtype, "Input")
        dtype = input.dtype
    else:
        _require_float("mean", dtype, "Optional")
    return sum(input, dim, keepdim=keepdim, dtype=dtype, mask=mask) / _count(input, mask, dim, keepdim)


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """Median of the unmasked elements along one ``dim``; NaN where none is unmasked.

    Integer inputs are computed in float32 and converted back to ``dtype``; a fully masked-out row is then
    a ValueError, since NaN has no integer value.
    """
    dtype = input.dtype if dtype is None else dtype
    is_float = input.is_floating_point()
    if not is_float:
        input = input.to(dtype=ember.float32)
    output = ember.nanmedian(_combine("median", input, mask), _dims(dim, input.ndim)[0], keepdim).values
    if is_float:
        return output
    if bool(ember.isnan(output).any()):
        raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")
    return output.to(dtype=dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """``log(sum(exp(x)))`` of the unmasked elements over ``dim``; -inf where none is unmasked."""
    dtype = input.dtype if dtype is None else dtype
    return ember.logsumexp(_combine("logsumexp", input, mask), _dims(dim, input.ndim), keepdim=keepdim).to(dtype=dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """Elementwise ``log(exp(input) + exp(other))`` in which masked-out elements of either count as -inf."""
    dtype = input.dtype if dtype is None else dtype
    combined_input = _combine("logaddexp", input, input_mask)
    combined_other = _combine("logaddexp", other, other_mask)
    return ember.logaddexp(combined_input, combined_other).to(dtype=dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Vector ``ord``-norm of the unmasked elements over ``dim`` (masked-out elements count as 0,
    or as +inf for ``ord=-inf``); floating inputs only, as :func:`ember.linalg.vector_norm`."""
    combined = _combine("norm", input, mask, ord)
    return ember.linalg.vector_norm(combined, ord, _dims(dim, input.ndim), bool(keepdim), dtype=dtype)


def _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt):
    """The variance (or its square root) of the unmasked elements, ``sum((x - mean)**2) / (count - correction)``."""
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    if correction is None:
        correction = 1.0 if unbiased is None or unbiased else 0.0
    if dtype is None:
        dtype = input.dtype if _is_float(input.dtype) else ember.float32
    compute_dtype = dtype if _is_float(dtype) else ember.float32
    count = _count(input, mask, dim, True)
    deviation = input - sum(input, dim, keepdim=True, dtype=dtype, mask=mask) / count
    total = sum(deviation * deviation.conj(), dim, keepdim=keepdim, dtype=compute_dtype, mask=mask)
    count = count.reshape(total.shape)
    if correction != 0:
        real_dtype = compute_dtype.to_real() if compute_dtype.is_complex else compute_dtype
        count = ember.clamp_min(count.to(real_dtype) - correction, 0)
    output = (total / count).to(dtype=dtype)
    return output.sqrt() if take_sqrt else output


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Variance of the unmasked elements over ``dim``, divided by ``count - correction`` (``correction``
    defaults to 1, ``unbiased=False`` means 0); NaN where too few elements are unmasked.  Integer inputs give
    float32."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Standard deviation of the unmasked elements over ``dim``: the square root of :func:`var`."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=True)


def softmax(input, dim, *, dtype=None, mask=None):
    """Softmax along ``dim`` over the unmasked elements; masked-out elements get 0, fully masked rows NaN."""
    return ember.nn.functional.softmax(_combine("amax", input, mask), _dims(dim, input.ndim)[0], dtype=dtype)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """Log-softmax along ``dim`` over the unmasked elements; masked-out elements get -inf, fully masked rows NaN."""
    return ember.nn.functional.log_softmax(_combine("amax", input, mask), _dims(dim, input.ndim)[0], dtype=dtype)


def softmin(input, dim, *, dtype=None, mask=None):
    """Softmin along ``dim`` over the unmasked elements; masked-out elements get 0, fully masked rows NaN."""
    return ember.nn.functional.softmin(_combine("amin", input, mask), _dims(dim, input.ndim)[0], dtype=dtype)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """``input`` divided by its masked ``ord``-norm along ``dim`` (at least ``eps``); masked-out elements give 0."""
    dtype = input.dtype if dtype is None else dtype
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return ember.divide(_combine("sum", input, mask), ember.clamp_min(nrm, eps))
