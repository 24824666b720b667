"""``vmap``: map a function over a batch dimension of its inputs.

How it runs (ember has no dispatcher to hook, so the batching happens in a wrapper object):

1. **Batched**: every mapped input becomes a ``BatchedTensor`` (``_batched.py``) with its batch dim moved
   to the front; the function runs once, and each tensor method or operator it uses runs as one ember
   op over the whole batch (or, for a method without a rule, once per sample).  Nested vmaps stack
   levels: an inner BatchedTensor wraps an outer one.
2. **Per-sample loop** (fallback): if the batched run raises anything -- the function called an ember
   function directly (``ember.sin(x)``, ``F.linear``), wrote in place, put a Tensor on the left of an
   operator -- or it drew random numbers (the generator's state moved), the function runs again once per
   sample on plain tensor slices and the results are stacked; the first fallback of each function warns
   once.  The loop is PyTorch's semantics by construction; errors raised there are the real ones.

Differences from PyTorch's vmap, all in the loop: a function that falls back runs partly twice (Python
side effects repeat), and data-dependent Python (``if x.sum() > 0``) is accepted there, while in the
batched run it raises PyTorch's error as PyTorch does.
"""
import functools
import warnings

import ember
from ..utils._pytree import tree_flatten, tree_unflatten, LeafSpec
from ._batched import BatchedTensor, VmapItemError, broadcast_batch, level_of

__all__ = ["vmap"]

_LEVEL = [0]               # the next vmap level (nested vmaps get increasing levels)
_FALLBACK_WARNED = set()   # functions whose loop fallback has already warned


def _name(func):
    return getattr(func, "__name__", repr(func))


def _random_error():
    return RuntimeError("vmap: called random operation while in randomness error mode. Please either use the "
                        "'same' or 'different' randomness flags on vmap or perform the randomness operation out of "
                        "vmap")


def _broadcast_dims(dims, tree, func, kind):
    """``(leaves, spec, one dim per leaf)``; ``dims`` is an int/None or a prefix tree of ``tree``.

    ``kind`` is ``"in_dims"`` or ``"out_dims"`` (for PyTorch's error message).
    """
    leaves, spec = tree_flatten(tree)

    def expand(d, s):
        if d is None or isinstance(d, int) and not isinstance(d, bool):
            return [d] * s.num_leaves
        if isinstance(s, LeafSpec) or not isinstance(d, (tuple, list, dict)) \
                or isinstance(d, dict) != issubclass(s.type, dict):
            raise ValueError
        children = list(d.values()) if isinstance(d, dict) else list(d)
        if len(children) != len(s.children_specs) or (isinstance(d, dict) and list(d) != s.context):
            raise ValueError
        return [x for dc, sc in zip(children, s.children_specs) for x in expand(dc, sc)]

    try:
        return leaves, spec, expand(dims, spec)
    except ValueError:
        what = "inputs" if kind == "in_dims" else "outputs"
        where = f"in_dims={dims}, ..." if kind == "in_dims" else f"..., out_dims={dims}"
        raise ValueError(f"vmap({_name(func)}, {where})(<inputs>): {kind} is not compatible with the structure of "
                         f"`{what}`. {kind} has structure {tree_flatten(dims)[1]} but {what} has structure "
                         f"{spec}.") from None


def _batch_size(func, in_dims, leaves, dims):
    sizes = []
    for x, d in zip(leaves, dims):
        if d is None:
            continue
        if not isinstance(x, (ember.Tensor, BatchedTensor)):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input "
                             f"but the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please "
                             "use None as the respective in_dim")
        n = x.dim()
        if not -n <= d < n:
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                             f"but that input is a Tensor of dimensionality {n} so expected in_dim to satisfy -{n} <= "
                             f"in_dim < {n}.")
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    return sizes[0]


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorize ``func`` over a batch dimension of its inputs.

    Args:
        func: a function of (pytrees of) Tensors returning (a pytree of) Tensors.
        in_dims: the batch dim of each input: an int, or a (nested) tuple matching the positional
            arguments with None for inputs that are not mapped.  Keyword arguments are not mapped.
        out_dims: where the batch dim goes in each output (an int, None for unbatched outputs, or a
            tree matching the outputs).
        randomness: ``"error"`` (random ops raise), ``"different"`` (each sample draws its own
            numbers) or ``"same"`` (every sample sees the same numbers).
        chunk_size: map this many samples at a time (None: all at once).

    Returns:
        A function taking ``func``'s arguments and returning the stacked results.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
                           f"{randomness}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        if not args:
            raise ValueError(f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
                             "are trying to vmap over a function with no inputs. The latter is unsupported.")
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or "
                             f"a (potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
        dims_tree = (in_dims,) * len(args) if isinstance(in_dims, int) else in_dims
        leaves, spec, dims = _broadcast_dims(dims_tree, args, func, "in_dims")
        size = _batch_size(func, in_dims, leaves, dims)
        step = size if chunk_size is None else chunk_size
        chunks = []
        for start in range(0, size, step):
            part = [x if d is None else x.narrow(d, start, min(step, size - start)) for x, d in zip(leaves, dims)]
            chunks.append(_run(func, part, spec, dims, kwargs, min(step, size - start), out_dims, randomness))
        if len(chunks) == 1:
            return chunks[0]
        flat = [tree_flatten(c)[0] for c in chunks]
        out_leaves, out_spec = tree_flatten(chunks[0])
        _, _, odims = _broadcast_dims(out_dims, chunks[0], func, "out_dims")
        joined = [c[0] if d is None else ember.cat(c, d) for c, d in zip(zip(*flat), odims)]
        return tree_unflatten(joined, out_spec)

    return wrapped


def _run(func, leaves, spec, dims, kwargs, size, out_dims, randomness):
    """One chunk: the batched run, or the per-sample loop when that fails."""
    state = ember.get_rng_state()
    level = _LEVEL[0]
    _LEVEL[0] += 1
    try:
        batched = [x if d is None else BatchedTensor(x.movedim(d, 0), level, size) for x, d in zip(leaves, dims)]
        out = func(*tree_unflatten(batched, spec), **kwargs)
        if not ember.equal(ember.get_rng_state(), state):
            raise _RandomUsed
    except VmapItemError:
        raise
    except Exception as exc:   # noqa: BLE001 -- any failure: the loop gives the true result or the true error
        ember.set_rng_state(state)
        _warn_fallback(func, exc)
        return _loop(func, leaves, spec, dims, kwargs, size, out_dims, randomness, state)
    finally:
        _LEVEL[0] -= 1
    return _unwrap(func, out, level, size, out_dims)


class _RandomUsed(Exception):
    """The batched run drew random numbers: only the loop gives each sample its own (or the same) draws."""


def _warn_fallback(func, reason):
    key = getattr(func, "__code__", func)
    if key in _FALLBACK_WARNED or isinstance(reason, _RandomUsed):
        return
    _FALLBACK_WARNED.add(key)
    warnings.warn(f"ember.func.vmap: {_name(func)} uses an operation without a batching rule "
                  f"({type(reason).__name__}: {reason}); running it once per sample instead.", UserWarning,
                  stacklevel=4)


def _loop(func, leaves, spec, dims, kwargs, size, out_dims, randomness, state):
    results = []
    for i in range(size):
        if randomness == "same":
            ember.set_rng_state(state)
        before = ember.get_rng_state() if randomness == "error" else None
        sample = [x if d is None else x.select(d, i) for x, d in zip(leaves, dims)]
        results.append(func(*tree_unflatten(sample, spec), **kwargs))
        if before is not None and not ember.equal(ember.get_rng_state(), before):
            raise _random_error()
    out_leaves, out_spec = tree_flatten(results[0])
    _, _, odims = _broadcast_dims(out_dims, results[0], func, "out_dims")
    per_leaf = list(zip(*[tree_flatten(r)[0] for r in results]))
    stacked = []
    for samples, d in zip(per_leaf, odims):
        if d is None:
            first = samples[0]
            if isinstance(first, ember.Tensor) and not all(s is first or ember.equal(s, first) for s in samples):
                raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` can not return a BatchedTensor when "
                                 "out_dim is None")
            stacked.append(first)
            continue
        for s in samples:
            _check_output(func, s)
        from ._batched import stack
        stacked.append(stack(list(samples), d))
    return tree_unflatten(stacked, out_spec)


def _check_output(func, x):
    if not isinstance(x, (ember.Tensor, BatchedTensor)):
        raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type {type(x)}. "
                         "Did you mean to set out_dims= to None for output?")


def _unwrap(func, out, level, size, out_dims):
    """The batched run's outputs with this level's batch dim moved to ``out_dims`` (unbatched ones expanded)."""
    out_leaves, out_spec = tree_flatten(out)
    _, _, odims = _broadcast_dims(out_dims, out, func, "out_dims")
    result = []
    for x, d in zip(out_leaves, odims):
        batched = isinstance(x, BatchedTensor) and x.level == level
        if d is None:
            if batched:
                raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` can not return a BatchedTensor when "
                                 "out_dim is None")
            result.append(x)
            continue
        _check_output(func, x)
        if level_of(x) > level:
            raise RuntimeError("vmap: an output is batched at an inner level")
        value = x.value if batched else broadcast_batch(x, size)
        result.append(value.movedim(0, d))
    return tree_unflatten(result, out_spec)

