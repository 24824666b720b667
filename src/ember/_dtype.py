"""dtype objects, the default dtype, and PyTorch's type-promotion rules.

Each ember dtype wraps one NumPy dtype.  bfloat16 comes from the optional
``ml_dtypes`` package and is imported only the first time it is used.
"""
import numpy as np

__all__ = [
    "dtype", "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
    "uint8", "int8", "int16", "int32", "int64", "bool", "uint16", "uint32", "uint64",
    "half", "float", "double", "cfloat", "cdouble", "short", "int", "long",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast",
    "finfo", "iinfo",
]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float

# category order used by promotion: bool < integer < floating < complex
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type (``ember.float32``, ``ember.int64``, ...).

    Attributes mirror ``torch.dtype``: ``is_floating_point``, ``is_complex``,
    ``is_signed`` and ``itemsize``.  ``repr`` prints ``torch.<name>`` so that
    programs printing dtypes show the same text as under PyTorch.
    """

    __slots__ = ("name", "_np", "_category", "itemsize", "is_signed")

    def __init__(self, name, np_dtype, category, itemsize, is_signed):
        self.name = name
        self._np = np_dtype
        self._category = category
        self.itemsize = itemsize
        self.is_signed = is_signed

    @property
    def is_floating_point(self):
        return self._category == _FLOAT

    @property
    def is_complex(self):
        return self._category == _COMPLEX

    @property
    def np(self):
        """The NumPy dtype that stores this type's elements."""
        if self._np is None:  # bfloat16, resolved lazily
            import ml_dtypes
            self._np = np.dtype(ml_dtypes.bfloat16)
            _NP_TO_DTYPE[self._np] = self
        return self._np

    def to_real(self):
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self):
        return {float64: complex128}.get(self, complex64) if self._category == _FLOAT else self

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


def _dtype_by_name(name):
    return _BY_NAME[name]


float16 = dtype("float16", np.dtype(np.float16), _FLOAT, 2, True)
bfloat16 = dtype("bfloat16", None, _FLOAT, 2, True)
float32 = dtype("float32", np.dtype(np.float32), _FLOAT, 4, True)
float64 = dtype("float64", np.dtype(np.float64), _FLOAT, 8, True)
complex64 = dtype("complex64", np.dtype(np.complex64), _COMPLEX, 8, True)
complex128 = dtype("complex128", np.dtype(np.complex128), _COMPLEX, 16, True)
uint8 = dtype("uint8", np.dtype(np.uint8), _INT, 1, False)
int8 = dtype("int8", np.dtype(np.int8), _INT, 1, True)
int16 = dtype("int16", np.dtype(np.int16), _INT, 2, True)
int32 = dtype("int32", np.dtype(np.int32), _INT, 4, True)
int64 = dtype("int64", np.dtype(np.int64), _INT, 8, True)
bool = dtype("bool", np.dtype(np.bool_), _BOOL, 1, False)
# PyTorch's "limited support" unsigned types: few kernels, and no promotion with any other integer type
uint16 = dtype("uint16", np.dtype(np.uint16), _INT, 2, False)
uint32 = dtype("uint32", np.dtype(np.uint32), _INT, 4, False)
uint64 = dtype("uint64", np.dtype(np.uint64), _INT, 8, False)
_LIMITED = frozenset((uint16, uint32, uint64))

half, float, double = float16, float32, float64
cfloat, cdouble = complex64, complex128
short, int, long = int16, int32, int64

ALL_DTYPES = (float16, bfloat16, float32, float64, complex64, complex128,
              uint8, int8, int16, int32, int64, bool, uint16, uint32, uint64)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_NP_TO_DTYPE = {d._np: d for d in ALL_DTYPES if d._np is not None}
# the names PyTorch's messages use for each dtype: its ScalarType name and its C++ element type
_SCALAR_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble", "uint8": "Byte", "int8": "Char",
                 "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
                 "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}
_CPP_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>", "uint8": "unsigned char",
              "int8": "signed char", "int16": "short", "int32": "int", "int64": "long", "bool": "bool",
              "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t"}


def scalar_name(dt):
    """PyTorch's ScalarType name of ``dt`` ('Float', 'Long', ...), as its error messages print it."""
    return _SCALAR_NAMES[dt.name]


_FIXED_WIDTH = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t"}
_TYPEID = {"int64": "long int", "int16": "short int"}


def cpp_name(dt, spelling="c"):
    """The C++ element type of ``dt`` as one of PyTorch's messages spells it: "c" ('float', 'long',
    'c10::Half'), "typeid" (the C++ type's runtime name: 'long int', 'short int') or "fixed" (the fixed-width
    integer types: 'int64_t', 'uint8_t')."""
    if spelling == "typeid":
        return _TYPEID.get(dt.name) or _CPP_NAMES[dt.name]
    if spelling == "fixed":
        return _FIXED_WIDTH.get(dt.name) or _CPP_NAMES[dt.name]
    return _CPP_NAMES[dt.name]


def legacy_type_name(dt):
    """The legacy tensor type name of ``dt`` ('torch.FloatTensor')."""
    return f"torch.{_SCALAR_NAMES[dt.name]}Tensor"


_ORDER = {d: i for i, d in enumerate(
    (bool, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16, bfloat16, float32, float64,
     complex64, complex128))}


def from_numpy_dtype(np_dtype):
    """The ember dtype for a NumPy dtype; TypeError for types PyTorch lacks."""
    try:
        return _NP_TO_DTYPE[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _NP_TO_DTYPE:
        return _NP_TO_DTYPE[np_dtype]
    if np_dtype.name == "bfloat16":
        return bfloat16 if bfloat16.np == np_dtype else None
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only supported types are: "
        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, uint8, "
        "and bool.")


class _Default:
    dtype = float32


def get_default_dtype():
    """Return the current default floating-point dtype (``float32`` unless changed)."""
    return _Default.dtype


def set_default_dtype(d):
    """Set the dtype that floating-point tensors get when none is given.

    Only floating-point dtypes are accepted (TypeError otherwise), as in PyTorch.
    """
    if not isinstance(d, dtype) or d._category != _FLOAT:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _Default.dtype = d


def default_complex():
    return complex128 if _Default.dtype is float64 else complex64


# ---------------------------------------------------------------- promotion
def _promote_pair(a, b):
    if a is b:
        return a
    ca, cb = a._category, b._category
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if (a in _LIMITED or b in _LIMITED) and hi._category != _FLOAT:
            return None
        if hi._category == _COMPLEX and lo is float64:
            return complex128
        return hi
    if ca == _FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize > b.itemsize else b
    if ca == _INT:
        if a in _LIMITED or b in _LIMITED:
            return None
        if a is uint8 or b is uint8:
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a.itemsize > b.itemsize else b
    return a if a.itemsize > b.itemsize else b


class _PromotionTable(dict):
    """``{(a, b): promoted}``; a pair of a limited unsigned type with anything but itself or a floating type
    is absent, and looking it up raises PyTorch's RuntimeError."""

    def __missing__(self, key):
        a, b = key
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
                           f"{_SCALAR_NAMES[a.name]} and {_SCALAR_NAMES[b.name]}")


_PROMOTE = _PromotionTable({(a, b): r for a in ALL_DTYPES for b in ALL_DTYPES
                            if (r := _promote_pair(a, b)) is not None})


def promote_types(type1, type2):
    """The smallest dtype to which both ``type1`` and ``type2`` can be cast (PyTorch's table)."""
    return _PROMOTE[type1, type2]


def _combine(higher, lower):
    """Merge the result of a higher-priority operand group with a lower one (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher._category == _COMPLEX:
        return higher
    if lower._category == _COMPLEX:
        return higher.to_complex() if higher._category == _FLOAT else lower
    if higher._category == _FLOAT:
        return higher
    if higher is bool or lower._category == _FLOAT:
        return _PROMOTE[higher, lower]
    return higher


def scalar_dtype(value):
    """The dtype a Python scalar takes when it is wrapped as an operand."""
    if isinstance(value, _builtin_bool):
        return bool
    if isinstance(value, _builtin_int):
        return int64
    if isinstance(value, complex):
        return default_complex()
    return _Default.dtype


def result_type(*operands):
    """The dtype of an op's result over tensors and Python scalars.

    Dimensioned tensors outrank 0-d tensors, which outrank Python scalars; a
    lower-ranked operand only changes the result when its category (bool < int
    < float < complex) is higher.  So ``int64 tensor * 1.5`` is float32 and
    ``float16 tensor * 2.0`` stays float16.
    """
    from ._tensor import Tensor
    dim_r = zero_r = wrapped_r = None
    for op in operands:
        if isinstance(op, Tensor):
            d = op.dtype
            if op._data.ndim:
                dim_r = d if dim_r is None else _PROMOTE[dim_r, d]
            else:
                zero_r = d if zero_r is None else _PROMOTE[zero_r, d]
        else:
            d = scalar_dtype(op)
            wrapped_r = d if wrapped_r is None else _PROMOTE[wrapped_r, d]
    return _combine(dim_r, _combine(zero_r, wrapped_r))


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow ``from_`` -> ``to`` (no category downgrade)."""
    return from_._category <= to._category


# ---------------------------------------------------------------- finfo / iinfo
class finfo:
    """Machine limits of a floating-point dtype (``bits``, ``eps``, ``max``, ``min``, ``tiny``, ``resolution``)."""

    def __init__(self, type=None):
        type = type or _Default.dtype
        if type._category not in (_FLOAT, _COMPLEX):
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle '{type}'")
        if type.to_real() is bfloat16:
            import ml_dtypes
            info = ml_dtypes.finfo(bfloat16.np)
        else:
            info = np.finfo(type.to_real().np)
        self.dtype = type.to_real().name
        self.bits = info.bits
        self.eps = _builtin_float(info.eps)
        self.max = _builtin_float(info.max)
        self.min = _builtin_float(info.min)
        self.tiny = self.smallest_normal = _builtin_float(info.smallest_normal)
        self.resolution = 10.0 ** -_builtin_int(info.precision)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype (``bits``, ``max``, ``min``)."""

    def __init__(self, type):
        if type._category not in (_INT, _BOOL):
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{type}'")
        info = np.iinfo(type.np) if type is not bool else None
        self.dtype = type.name
        self.bits = type.itemsize * 8
        self.max = _builtin_int(info.max) if info else 1
        self.min = _builtin_int(info.min) if info else 0

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
