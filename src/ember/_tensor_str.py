"""Printing tensors exactly as PyTorch prints them.

``repr(t)`` / ``str(t)`` give PyTorch's text: 4 digits after the point by
default, floats that are all whole numbers printed as ``1.``, scientific
notation when the magnitudes are far apart, summaries with ``...`` for large
tensors, lines wrapped at 80 columns with aligned columns, and the suffixes
``dtype=``, ``size=``, ``requires_grad=True`` and ``grad_fn=<...>``.

Printing is an I/O boundary: it reads the tensor's array once (through the
device's array module) and formats Python numbers from it.
"""
import contextlib
import math

from . import _dtype
import numpy as xp   # printing formats host (NumPy) copies of the values it shows

from ._device import backend_of

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr", "PRINT_OPTS"]


class _PrinterOptions:
    """The current print options (PyTorch's ``torch._tensor_str.PRINT_OPTS``)."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None

    def __repr__(self):
        return ("_PrinterOptions(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")")


PRINT_OPTS = _PrinterOptions()

_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Set how tensors print.

    Args:
        precision: digits after the decimal point for floating values (default 4).
        threshold: more elements than this and the tensor is summarised with ``...`` (default 1000).
        edgeitems: items kept at each end of a summarised dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: ``'default'``, ``'short'`` or ``'full'``; the other arguments override it.
        sci_mode: True or False forces scientific notation on or off; None (the default, and
            what every call without it sets) lets the values decide.
    """
    if profile is not None:
        if profile in _PROFILES:
            (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
             PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict that can be passed back to ``set_printoptions(**opts)``."""
    return {k: getattr(PRINT_OPTS, k) for k in _PrinterOptions.__slots__}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options for its block and restores them afterwards."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---------------------------------------------------------------- element formatting
class _Formatter:
    """Decides the width and style (integer-valued, fixed or scientific) shared by all elements."""

    def __init__(self, arr, floating):
        # ``arr``: a NumPy array of the (possibly summarised) values; floats as float64
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in arr.reshape(-1).tolist():
                n = len(str(v))
                if n > self.max_width:
                    self.max_width = n
            return
        flat = arr.reshape(-1)
        vals = flat[xp.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        absvals = xp.abs(vals)
        lo, hi = float(absvals.min()), float(absvals.max())
        self.int_mode = not bool(xp.any(vals != xp.ceil(vals)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        values = vals.tolist()
        if self.sci_mode:
            width = max(len(f"{v:.{p}e}") for v in values)
        elif self.int_mode:
            width = max(len(f"{v:.0f}") for v in values) + 1
        else:
            width = max(len(f"{v:.{p}f}") for v in values)
        self.max_width = max(self.max_width, width)

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating:
            if self.sci_mode:
                s = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            s = str(value)
        return " " * (self.max_width - len(s)) + s


def _complex_str(value, real_fmt, imag_fmt):
    re = real_fmt.format(value.real)
    im = (imag_fmt.format(value.imag) + "j").lstrip()
    if im[0] in "+-":
        return re + im
    return re + "+" + im


def _format_one(value, fmts):
    if len(fmts) == 2:
        return _complex_str(value, fmts[0], fmts[1])
    return fmts[0].format(value)


def _vector_str(arr, indent, summarize, fmts):
    elem_len = fmts[0].width() + 2
    if len(fmts) == 2:
        elem_len += fmts[1].width() + 1
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / elem_len))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        items = ([_format_one(v, fmts) for v in _printable(arr[:edge]).tolist()] + [" ..."]
                 + [_format_one(v, fmts) for v in _printable(arr[-edge:]).tolist()])
    else:
        items = [_format_one(v, fmts) for v in _printable(arr).tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nd_str(arr, indent, summarize, fmts):
    ndim = arr.ndim
    if ndim == 0:
        return _format_one(_printable(arr).item(), fmts)
    if ndim == 1:
        return _vector_str(arr, indent, summarize, fmts)
    edge = PRINT_OPTS.edgeitems
    n = arr.shape[0]
    if summarize and n > 2 * edge:
        parts = ([_nd_str(arr[i], indent + 1, summarize, fmts) for i in range(edge)] + ["..."]
                 + [_nd_str(arr[i], indent + 1, summarize, fmts) for i in range(n - edge, n)])
    else:
        parts = [_nd_str(arr[i], indent + 1, summarize, fmts) for i in range(n)]
    return "[" + ("," + "\n" * (ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _summarized(arr):
    """The values a summarised print shows (the edges of each dimension), for the formatter."""
    if arr.ndim == 0:
        return arr
    edge = PRINT_OPTS.edgeitems
    if arr.ndim == 1:
        if arr.shape[0] > 2 * edge:
            # PyTorch slices ``[-edge:]``, which for edge == 0 is the whole vector
            return xp.concatenate((arr[:edge], arr[-edge:]))
        return arr
    if not edge:
        return arr[tuple(slice(0, 0) for _ in range(arr.ndim))]
    n = arr.shape[0]
    rows = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return xp.stack([_summarized(arr[i]) for i in rows])


def _printable(a):
    """``a`` as an array whose ``tolist()`` gives the Python numbers PyTorch formats (exact float64 values)."""
    if a.dtype.kind == "V" or a.dtype.name == "bfloat16" or a.dtype.kind == "f":
        return a.astype(xp.float64)
    if a.dtype.kind == "c":
        return a.astype(xp.complex128)
    return a


def _tensor_str(t, indent):
    """The bracketed body of ``t``'s repr (``[]`` for an empty tensor)."""
    if t._data.size == 0:
        return "[]"
    summarize = t._data.size > PRINT_OPTS.threshold
    arr = t._data if type(t._data) is xp.ndarray else backend_of(t._data).to_host(t._data)
    shown = _printable(_summarized(arr) if summarize else arr)   # only the values that will be printed
    if shown.dtype.kind == "c":
        fmts = (_Formatter(shown.real, True), _Formatter(shown.imag, True))
    else:
        fmts = (_Formatter(shown, shown.dtype.kind == "f"),)
    return _nd_str(arr, indent, summarize, fmts)


def _add_suffixes(body, suffixes, indent):
    out = [body]
    last_len = len(body) - body.rfind("\n") + 1   # PyTorch's count (one more than the line's length)
    for suffix in suffixes:
        n = len(suffix)
        if last_len + n + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            last_len = indent + n
        else:
            out.append(", " + suffix)
            last_len += n + 2
    out.append(")")
    return "".join(out)


def _parameter_class():
    import sys
    mod = sys.modules.get("ember.nn.parameter")
    return getattr(mod, "Parameter", None) if mod is not None else None


def _str_intern(t, *, tensor_contents=None):
    """PyTorch's ``_str_intern``: the full repr of ``t`` (prefix, body and suffixes).

    ``tensor_contents``, when given, replaces the printed values (subclasses use it).
    """
    from ._tensor import Tensor
    cls = type(t)
    param_cls = _parameter_class()
    plain = cls is Tensor or (param_cls is not None and cls is param_cls)
    prefix = "tensor(" if plain else cls.__name__ + "("
    indent = len(prefix)
    suffixes = []
    dev = t.device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    dt = t.dtype
    default = _dtype.get_default_dtype()
    if t._data.size == 0:
        if t._data.ndim != 1:
            suffixes.append("size=" + str(tuple(t._data.shape)))
        if dt is not default:
            suffixes.append("dtype=" + repr(dt))
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(t._data.shape)))
        if dt not in (default, _dtype.default_complex(), _dtype.int64, _dtype.bool):
            suffixes.append("dtype=" + repr(dt))
        body = _tensor_str(t, indent) if tensor_contents is None else None
    if tensor_contents is not None:
        body = tensor_contents
    grad_fn = t._grad_fn
    if grad_fn is not None:
        # name(), not the class name: some ember nodes share a class and carry PyTorch's name
        suffixes.append(f"grad_fn=<{grad_fn.name()}>")
    elif t.requires_grad:   # the property: results of a volatile Variable report False
        suffixes.append("requires_grad=True")
    text = _add_suffixes(prefix + body, suffixes, indent)
    if param_cls is not None and isinstance(t, param_cls) and not plain:
        text = f"Parameter({text})"
    return text


def tensor_repr(t, tensor_contents=None):
    """``repr(t)`` as PyTorch writes it."""
    return _str_intern(t, tensor_contents=tensor_contents)


_str = tensor_repr
