"""``ember.func.rearrange``: einops-style reordering of a tensor's axes (``torch.func.rearrange``)."""
import math

from .. import ops as _ops
from ._einops_pattern import ELLIPSIS, parse


class DimensionBindError(Exception):
    """A pattern's axis sizes do not fit the tensor's shape (``functorch.dim.DimensionBindError``)."""


def _pack_name(indices):
    """``(d1, d2)`` / ``(d1,)``: how torch names a group of elementary axes in its errors."""
    names = [f"d{i}" for i in indices]
    return f"({', '.join(names)}{',' if len(names) == 1 else ''})"


def _bind_group(size, names, indices, known):
    """Sizes of the axes ``names`` composing a tensor dimension of ``size``; ``known`` maps given lengths."""
    unknown = [i for i, name in enumerate(names) if name not in known]
    if len(unknown) > 1:
        raise DimensionBindError(f"cannot infer the sizes of two dimensions at once d{indices[unknown[0]]} and "
                                 f"d{indices[unknown[1]]}")
    sizes = [known.get(name, "?") for name in names]
    product = math.prod(s for s in sizes if s != "?")
    if unknown:
        if size % product:  # a zero length raises ZeroDivisionError, as in torch
            raise DimensionBindError(f"inferred dimension does not evenly fit into larger dimension: {size} vs "
                                     f"{tuple(sizes)}")
        sizes[unknown[0]] = size // product
    elif product != size:
        raise DimensionBindError(f"Dimension sizes to do not match ({size} != {product}) when matching dimension "
                                 f"pack {_pack_name(indices)}")
    return sizes


def _elementary_axes(shape, left, axes_lengths):
    """Split the tensor's dims into the left side's elementary axes.

    Returns ``(keys, sizes)`` in left order: an axis name, ``(ELLIPSIS, k)`` for the k-th dim under ``...``, or
    ``("1", j)`` for the j-th anonymous axis (summed away, as torch does)."""
    n_ellipsis = len(shape) - (len(left.groups) - 1) if left.has_ellipsis else 0
    keys, sizes, dim = [], [], 0
    for group in left.groups:
        if group == ELLIPSIS:
            keys += [(ELLIPSIS, k) for k in range(n_ellipsis)]
            sizes += shape[dim:dim + n_ellipsis]
            dim += n_ellipsis
            continue
        if not group:
            keys.append(("1", dim))
            sizes.append(shape[dim])
        else:
            keys += group
            sizes += _bind_group(shape[dim], group, range(len(sizes), len(sizes) + len(group)), axes_lengths)
        dim += 1
    return keys, sizes


def _check_rank(ndim, left):
    """Torch's check that the left side names as many dims as the tensor has (at most, with an ellipsis)."""
    n_anonymous = sum(1 for group in left.groups if not group)
    if left.has_ellipsis:
        if n_anonymous + len(left.names) - 1 > ndim:
            raise ValueError(f"Number of dimensions in pattern ({n_anonymous + len(left.names) - 1}) must be less "
                             f"than or equal to the number of dimensions in the tensor ({ndim})")
    elif len(left.groups) != ndim:
        raise ValueError(f"Number of dimensions in pattern ({len(left.groups)}) must be equal to the number of "
                         f"dimensions in the tensor ({ndim})")


def rearrange(tensor, pattern, **axes_lengths):
    """Reorder, split, merge, add or drop axes of ``tensor`` as an einops ``pattern`` says.

    Args:
        tensor: a tensor, or a list/tuple of tensors stacked along a new first dim.
        pattern: ``"left -> right"``; each side lists axes by name, ``(a b)`` for a merged axis, ``1`` for a
            size-1 axis and ``...`` for the remaining dims, e.g. ``"b (h h1) (w w1) c -> b h w (c h1 w1)"``.
        axes_lengths: sizes of axes that cannot be inferred from the shape (``h1=2``).

    Returns:
        The rearranged tensor (a view where reshape allows).  Built from reshape/permute, so it is differentiable.

    Raises:
        ValueError / TypeError: an invalid pattern or length, as torch.
        DimensionBindError: axis sizes that do not fit the tensor's shape.
    """
    if isinstance(tensor, (list, tuple)):
        tensor = _ops.stack(tensor)
    left, right = parse(pattern, axes_lengths)
    _check_rank(tensor.dim(), left)
    keys, sizes = _elementary_axes(tuple(tensor.shape), left, axes_lengths)
    if not keys:
        return tensor
    size_of = dict(zip(keys, sizes))
    n_ellipsis = sum(1 for key in keys if isinstance(key, tuple) and key[0] == ELLIPSIS)
    right_keys, right_shape = [], []
    ellipsis_keys = [(ELLIPSIS, k) for k in range(n_ellipsis)]
    for group in right.groups:
        if group == ELLIPSIS:
            right_keys += ellipsis_keys
            right_shape += [size_of[key] for key in ellipsis_keys]
            continue
        members = [key for name in group for key in (ellipsis_keys if name == ELLIPSIS else [name])]
        right_keys += members
        right_shape.append(math.prod(size_of[key] for key in members))
    anonymous = [key for key in keys if isinstance(key, tuple) and key[0] == "1"]
    order = [keys.index(key) for key in right_keys + anonymous]
    result = tensor.reshape(sizes).permute(order)
    if anonymous:
        result = result.sum(dim=tuple(range(len(right_keys), len(order))))
    return result.reshape(right_shape)
