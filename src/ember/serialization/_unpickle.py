"""The two unpicklers of ``load``.

``weights_only=True`` (the default) runs a restricted interpreter of pickle's
protocol-2 opcodes: it can name only the globals PyTorch allows by default
(tensors, storages, dtypes, devices, containers, ``set``, ``bytes``...) plus
those the user allowlists, it calls only those, and it builds (sets the state
of) only containers, tensors and allowlisted classes.  ``weights_only=False``
is Python's pickle with PyTorch's names mapped to ember's (trusted files only).
"""
import codecs
import collections
import functools
import pickle
import struct
import warnings

from .. import _dtype
from .._tensor import Size, Tensor
from . import _rebuild
from ._format import STORAGE_TYPES, dtype_name

_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_LEGACY_TENSOR_CLASSES = ("FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
                          "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor")
_UNSUPPORTED_REBUILDS = {"_rebuild_qtensor": "quantized",
                         "_rebuild_nested_tensor": "nested", "_rebuild_meta_tensor_no_storage": "meta",
                         "_rebuild_wrapper_subclass": "wrapper-subclass",
                         "_rebuild_device_tensor_from_numpy": "NumPy-backed device"}


def _get_layout(name):
    """``torch.serialization._get_layout``: the layout object named ``name``."""
    from .. import strided
    from ..ops.sparse_tensor import SPARSE_COO, SPARSE_CSR, SPARSE_CSC
    if name in (SPARSE_COO, SPARSE_CSR, SPARSE_CSC):
        return name
    if name != str(strided):
        raise RuntimeError(f"ember supports only the strided and sparse COO/CSR/CSC layouts, not {name}")
    return strided


def _bytearray(*args):
    """``bytearray`` from a checkpoint: from data only, never ``bytearray(n)`` (n zeroed bytes on demand)."""
    if args and isinstance(args[0], int):
        raise pickle.UnpicklingError("bytearray(size) is not allowed in a checkpoint")
    return bytearray(*args)


@functools.lru_cache(maxsize=1)
def default_globals():
    """PyTorch's names that ``weights_only`` loading allows, mapped to the ember objects they stand for."""
    from .. import _device, nn
    from ..ops.sparse_tensor import rebuild_sparse
    import ember
    table = {
        "collections.OrderedDict": collections.OrderedDict, "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": nn.Parameter, "torch.Size": Size, "torch.Tensor": Tensor,
        "torch.device": _device.device, "torch.serialization._get_layout": _get_layout,
        "_codecs.encode": codecs.encode, "builtins.bytearray": _bytearray, "builtins.set": set,
        "builtins.complex": complex,
        "torch._utils._rebuild_tensor_v2": _rebuild.rebuild_tensor,
        "torch._utils._rebuild_tensor_v3": _rebuild.rebuild_tensor_v3,
        "torch._utils._rebuild_tensor": _rebuild.rebuild_tensor_v1,
        "torch._utils._rebuild_parameter": _rebuild.rebuild_parameter,
        "torch._utils._rebuild_sparse_tensor": rebuild_sparse,
        "torch._utils._rebuild_parameter_with_state": _rebuild.rebuild_parameter,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor": _rebuild.rebuild_device_tensor_from_cpu_tensor,
        "torch._tensor._rebuild_from_type_v2": _rebuild.rebuild_from_type,
        # names that older ember versions wrote
        "ember._dtype._dtype_by_name": _dtype._dtype_by_name, "ember._device.device": _device.device,
        "ember._tensor.Size": Size,
    }
    table.update({f"torch._utils.{name}": _rebuild.unsupported_rebuild(kind)
                  for name, kind in _UNSUPPORTED_REBUILDS.items()})
    table.update({f"torch.{dtype_name(dt)}": dt for dt in _dtype.ALL_DTYPES})
    table.update({f"torch.{name}": getattr(ember, name) for name in _LEGACY_TENSOR_CLASSES})
    table.update(STORAGE_TYPES)
    return table


def full_globals(module, name):
    """The ember object a global named in a checkpoint stands for, or the ``(module, name)`` to import
    (``torch.x`` read as ``ember.x``), when any global may load."""
    known = default_globals().get(f"{module}.{name}")
    if known is not None:
        return known
    if module == "torch" or module.startswith("torch."):
        module = "ember" + module[len("torch"):]
    return module, name


# ------------------------------------------------------------------------------ user allowlist
_user_globals = set()


def add_safe_globals(safe_globals):
    """Allow these functions/classes in ``load(weights_only=True)``.

    Args:
        safe_globals: a list of objects, or of ``(object, "module.qualname")`` pairs naming them as the
            checkpoint does; by default an object is named ``f"{obj.__module__}.{obj.__qualname__}"``.
    """
    global _user_globals
    _user_globals = _user_globals | set(safe_globals)


def get_safe_globals():
    """The list of user-added globals that ``load(weights_only=True)`` allows."""
    return list(_user_globals)


def clear_safe_globals():
    """Forget every user-added safe global."""
    global _user_globals
    _user_globals = set()


class safe_globals:
    """Context manager allowing these globals in ``load(weights_only=True)`` inside its block.

    Args:
        safe_globals: as for :func:`add_safe_globals`.
    """

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        global _user_globals
        _user_globals = _user_globals - set(self.safe_globals)


def _user_table():
    table = {}
    for entry in _user_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got tuple "
                                 f"of length: {len(entry)}")
            if type(entry[1]) is not str:
                raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: "
                                f"{type(entry[1])}")
            table[entry[1]] = entry[0]
        else:
            table[f"{entry.__module__}.{entry.__qualname__}"] = entry
    return table


# ------------------------------------------------------------------------------ restricted unpickler
class WeightsOnlyUnpickler:
    """Reads one pickle with only the opcodes a protocol-2 checkpoint needs; see the module docstring.

    Args:
        file: a binary file positioned at the pickle.
        persistent_load: called with each persistent id (a ``("storage", ...)`` tuple); returns a storage.
        encoding: how to decode protocol-0/1 byte strings.
    """

    def __init__(self, file, persistent_load=None, encoding="utf-8"):
        self.read, self.readline = file.read, file.readline
        self.persistent_load = persistent_load
        self.encoding = encoding

    def load(self):
        """Run the pickle to its STOP opcode and return the object it builds."""
        self.stack, self.marks, self.memo = [], [], {}
        self.allowed = default_globals()
        self.callable_ids = {id(v) for v in self.allowed.values()}
        self.user = self.user_types = None   # read when the file names a global outside the defaults
        while True:
            code = self.read(1)
            if not code:
                raise EOFError
            op = _OPCODES.get(code[0])
            if op is None:
                raise pickle.UnpicklingError(f"Unsupported operand {code[0]}")
            if op(self):
                return self.stack.pop()

    def _pop_mark(self):
        items = self.stack
        self.stack = self.marks.pop()
        return items

    def _unpack(self, fmt):
        raw = self.read(struct.calcsize(fmt))
        return struct.unpack(fmt, raw)[0]

    # --- globals and calls
    def _global(self):
        module = self.readline()[:-1].decode("utf-8")
        name = self.readline()[:-1].decode("utf-8")
        if module == "__builtin__":
            module = "builtins"
        full = f"{module}.{name}"
        if module in _BLOCKED_MODULES:
            raise pickle.UnpicklingError(f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked.")
        if full in self.allowed:
            return self.stack.append(self.allowed[full])
        if self.user is None:
            self.user = _user_table()
            self.callable_ids |= {id(v) for v in self.user.values()}
            self.user_types = {v for v in self.user.values() if isinstance(v, type)}
        for key in (full, "ember" + full[len("torch"):] if module.split(".")[0] == "torch" else None):
            if key in self.user:
                return self.stack.append(self.user[key])
        shown = full[len("builtins."):] if module == "builtins" else full
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
            f"`torch.serialization.add_safe_globals([{shown}])` or the "
            f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist this global if you trust "
            f"this class/function.")

    def _check_callable(self, func, what):
        if id(func) not in self.callable_ids:
            raise pickle.UnpicklingError(f"Trying to {what} unrecognized {func!r}")
        if isinstance(func, type) and issubclass(func, Tensor):
            # Tensor(3) would hand out uninitialised memory; checkpoints rebuild tensors from storages
            from ..nn.parameter import Parameter
            if func is not Parameter:
                raise pickle.UnpicklingError(f"a checkpoint may not construct {func.__name__} directly")

    def _reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        self._check_callable(func, "call reduce for")
        self.stack[-1] = func(*args)

    def _newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self._check_callable(cls, "create new object for")
        from ..nn.parameter import Parameter
        self.stack.append(Parameter(*args) if cls is Parameter else cls.__new__(cls, *args))

    def _build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        kind = type(inst)
        if kind in (collections.OrderedDict, collections.Counter):
            inst.__dict__.update(state)
        elif isinstance(inst, Tensor):
            _rebuild.set_tensor_state(inst, state)
        elif self.user_types and kind in self.user_types:
            if hasattr(inst, "__setstate__"):
                inst.__setstate__(state)
                return
            slots = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slots = state
            if state:
                inst.__dict__.update(state)
            for k, v in (slots or {}).items():
                setattr(inst, k, v)
        else:
            raise pickle.UnpicklingError(f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                                         f"`add_safe_globals`, but got {kind}")

    def _persid(self):
        pid = self.stack.pop()
        if type(pid) is not tuple or not pid or pid[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r}")
        if self.persistent_load is None:
            raise pickle.UnpicklingError("unsupported persistent id encountered")
        self.stack.append(self.persistent_load(pid))

    # --- containers
    def _append(self):
        item = self.stack.pop()
        target = self.stack[-1]
        if type(target) is not list:
            raise pickle.UnpicklingError(f"Can only append to lists, but got {type(target)}")
        target.append(item)

    def _appends(self):
        items = self._pop_mark()
        target = self.stack[-1]
        if type(target) is not list:
            raise pickle.UnpicklingError(f"Can only extend lists, but got {type(target)}")
        target.extend(items)

    def _set_items(self, items):
        target = self.stack[-1]
        if type(target) not in (dict, collections.OrderedDict, collections.Counter):
            raise pickle.UnpicklingError(f"Can only set items of dict, collections.OrderedDict or "
                                         f"collections.Counter, but got {type(target)}")
        for i in range(0, len(items) - 1, 2):
            target[items[i]] = items[i + 1]

    def _setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._set_items([key, value])

    def _setitems(self):
        self._set_items(self._pop_mark())

    def _mark(self):
        self.marks.append(self.stack)
        self.stack = []

    def _tuple(self):
        items = tuple(self._pop_mark())   # pop first: it replaces self.stack
        self.stack.append(items)

    # --- memo
    def _get(self, index):
        self.stack.append(self.memo[index])

    def _put(self, index):
        self.memo[index] = self.stack[-1]

    # --- scalars
    def _string(self, length):
        data = self.read(length)
        if len(data) < length:
            raise EOFError("Ran out of input")
        return data

    def _short_binstring(self):
        data = self._string(self.read(1)[0])
        self.stack.append(data.decode(self.encoding, "strict") if self.encoding != "bytes" else data)

    def _binunicode(self):
        self.stack.append(str(self._string(self._unpack("<I")), "utf-8", "surrogatepass"))

    def _long1(self):
        self.stack.append(pickle.decode_long(self._string(self.read(1)[0])))

    def _proto(self):
        proto = self.read(1)[0]
        if proto != 2:
            warnings.warn(f"Detected pickle protocol {proto} in the checkpoint, which was not the default pickle "
                          f"protocol used by `torch.load` (2). The weights_only Unpickler might not support all "
                          f"instructions implemented by this protocol.", stacklevel=4)


def _tuple_of(n):
    def op(self):
        if len(self.stack) < n:
            raise pickle.UnpicklingError("pickle stack underflow")
        items = tuple(self.stack[len(self.stack) - n:])
        del self.stack[len(self.stack) - n:]
        self.stack.append(items)
    return op


def _push(value):
    return lambda self: self.stack.append(value() if callable(value) else value)


_OPCODES = {
    pickle.PROTO[0]: WeightsOnlyUnpickler._proto,
    pickle.STOP[0]: lambda self: True,
    pickle.GLOBAL[0]: WeightsOnlyUnpickler._global,
    pickle.REDUCE[0]: WeightsOnlyUnpickler._reduce,
    pickle.NEWOBJ[0]: WeightsOnlyUnpickler._newobj,
    pickle.BUILD[0]: WeightsOnlyUnpickler._build,
    pickle.BINPERSID[0]: WeightsOnlyUnpickler._persid,
    pickle.APPEND[0]: WeightsOnlyUnpickler._append,
    pickle.APPENDS[0]: WeightsOnlyUnpickler._appends,
    pickle.SETITEM[0]: WeightsOnlyUnpickler._setitem,
    pickle.SETITEMS[0]: WeightsOnlyUnpickler._setitems,
    pickle.MARK[0]: WeightsOnlyUnpickler._mark,
    pickle.TUPLE[0]: WeightsOnlyUnpickler._tuple,
    pickle.TUPLE1[0]: _tuple_of(1),
    pickle.TUPLE2[0]: _tuple_of(2),
    pickle.TUPLE3[0]: _tuple_of(3),
    pickle.NONE[0]: _push(None),
    pickle.NEWFALSE[0]: _push(False),
    pickle.NEWTRUE[0]: _push(True),
    pickle.EMPTY_TUPLE[0]: _push(()),
    pickle.EMPTY_LIST[0]: _push(list),
    pickle.EMPTY_DICT[0]: _push(dict),
    pickle.EMPTY_SET[0]: _push(set),
    pickle.BININT[0]: lambda self: self.stack.append(self._unpack("<i")),
    pickle.BININT1[0]: lambda self: self.stack.append(self.read(1)[0]),
    pickle.BININT2[0]: lambda self: self.stack.append(self._unpack("<H")),
    pickle.BINFLOAT[0]: lambda self: self.stack.append(self._unpack(">d")),
    pickle.LONG1[0]: WeightsOnlyUnpickler._long1,
    pickle.BINUNICODE[0]: WeightsOnlyUnpickler._binunicode,
    pickle.SHORT_BINSTRING[0]: WeightsOnlyUnpickler._short_binstring,
    pickle.BINGET[0]: lambda self: self._get(self.read(1)[0]),
    pickle.LONG_BINGET[0]: lambda self: self._get(self._unpack("<I")),
    pickle.BINPUT[0]: lambda self: self._put(self.read(1)[0]),
    pickle.LONG_BINPUT[0]: lambda self: self._put(self._unpack("<I")),
}


class FullUnpickler(pickle.Unpickler):
    """Python's unpickler for ``weights_only=False``: any global loads (PyTorch's names map to ember's)."""

    def __init__(self, file, persistent_load=None, **kwargs):
        super().__init__(file, **kwargs)
        self._persistent_load = persistent_load

    def persistent_load(self, pid):
        if self._persistent_load is None:
            raise pickle.UnpicklingError("A load persistent id instruction was encountered, but no persistent_load "
                                         "function was specified.")
        return self._persistent_load(pid)

    def find_class(self, module, name):
        found = full_globals(module, name)
        return super().find_class(*found) if isinstance(found, tuple) else found
