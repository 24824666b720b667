"""The ``*_copy`` forms of the view ops (``view_copy``, ``transpose_copy``, ``split_copy``...): the same
result as the view, in new contiguous memory.  Each is the view followed by a copy, so gradients flow through
the view op's own."""
from ._common import function
from .complex_ops import view_as_complex, view_as_real


def _slice(t, dim=0, start=None, end=None, step=1):
    return t[(slice(None),) * (dim % t.dim()) + (slice(start, end, step),)]


_VIEWS = {
    "alias": lambda t: t,
    "as_strided": lambda t, size, stride, storage_offset=None: t.as_strided(size, stride, storage_offset),
    "detach": lambda t: t.detach(),
    "diagonal": lambda t, offset=0, dim1=0, dim2=1: t.diagonal(offset, dim1, dim2),
    "expand": lambda t, size, *, implicit=False: t.expand(size),
    "permute": lambda t, dims: t.permute(dims),
    "select": lambda t, dim, index: t.select(dim, index),
    "slice": _slice,
    "split": lambda t, split_size, dim=0: t.split(split_size, dim),
    "split_with_sizes": lambda t, split_sizes, dim=0: t.split(list(split_sizes), dim),
    "squeeze": lambda t, dim=None: t.squeeze() if dim is None else t.squeeze(dim),
    "t": lambda t: t.t(),
    "transpose": lambda t, dim0, dim1: t.transpose(dim0, dim1),
    "unbind": lambda t, dim=0: t.unbind(dim),
    "unfold": lambda t, dimension, size, step: t.unfold(dimension, size, step),
    "unsqueeze": lambda t, dim: t.unsqueeze(dim),
    "view_as_complex": view_as_complex,
    "view_as_real": view_as_real,
    "view": lambda t, size: t.view(size),
}


def _copying(name, view):
    """``<name>_copy``: the view ``view`` (one tensor or a tuple of them) copied to contiguous memory."""
    def copy_op(input, *args, out=None, **kwargs):
        res = view(input, *args, **kwargs)
        if isinstance(res, (tuple, list)):
            return tuple(r.clone().contiguous() for r in res)
        return res.clone().contiguous()
    copy_op.__name__ = copy_op.__qualname__ = name + "_copy"
    copy_op.__doc__ = f"``{name}`` of ``input`` (same arguments) as a new contiguous tensor instead of a view."
    return function(copy_op)


for _name, _view in _VIEWS.items():
    globals()[_name + "_copy"] = _copying(_name, _view)
