"""The op-level recorder behind both profilers: which Python code objects are ops, and the hook that times them.

The hook is installed with ``sys.setprofile`` only while a profiler records; it looks each called frame's
code object up in a table built from the op declarations (``ember.ops._declare.declarations()``), the
exported ops, the Tensor methods and every backward node class, so no op is wrapped or patched.  Several
ops share one code object (the table-built unary ops, the in-place form ``_common.inplace`` builds): for
those a closure variable whose value differs between them tells them apart.
"""
import sys
import threading
import time
import types

from ._events import FunctionEvent

_ACTIVE = []      # the recorders currently recording, innermost last
_LOCK = threading.Lock()


def _functions_to_name():
    """[(function, event name)]: every op, Tensor method, nn.functional kernel and backward node's ``backward``."""
    from .. import ops
    from .._tensor import Tensor
    from ..autograd.graph import Node
    from ..ops import _declare
    pairs, seen = [], set()

    def add(fn, name):
        fn = _declare.undispatched(fn)
        if getattr(fn, "__code__", None) is not None and id(fn) not in seen:
            seen.add(id(fn))
            pairs.append((fn, name))

    for fn, decl in _declare.declarations():
        add(fn, "aten::" + decl.name)
    for name, fn in ((n, getattr(ops, n)) for n in ops.__all__):
        add(fn, "aten::" + name)
    for name, fn in vars(Tensor).items():   # in-place forms and other methods built from ops (not backward(), item())
        if not name.startswith("_") and getattr(fn, "__module__", "").startswith("ember.ops"):
            add(fn, "aten::" + name)
    from ..nn import functional
    for name, fn in vars(functional).items():   # nn kernels (linear, conv2d, max_pool2d...), ops or not
        if not name.startswith("_") and isinstance(fn, types.FunctionType) and fn.__module__.startswith("ember."):
            add(fn, "aten::" + name)
    from ..ops import products
    add(products._gradient_mm, "aten::mm")   # the array-level products of a first-order mm backward
    todo = [Node]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "backward" in vars(cls):
            add(vars(cls)["backward"], cls.__name__)
    return pairs


def build_code_table():
    """{code object: name or (free variable, {id(value): name}, name when no variable tells them apart)}."""
    by_code = {}
    for fn, name in _functions_to_name():
        by_code.setdefault(fn.__code__, []).append((fn, name))
    table = {}
    for code, entries in by_code.items():
        names = {name for _, name in entries}
        if len(names) == 1:
            table[code] = entries[0][1]
            continue
        best = (None, {})
        for i, var in enumerate(code.co_freevars):   # the closure variable telling the most of them apart
            ids = {}
            for fn, name in entries:
                ids.setdefault(id(fn.__closure__[i].cell_contents), name)
            if len(ids) > len(best[1]):
                best = (var, ids)
        table[code] = best + (entries[0][1],)
    return table


def _shapes(frame):
    """The shapes of a call's positional arguments, ``[]`` for those that are not tensors (keyword-only
    ``out=``/``dtype=`` arguments are left out, as PyTorch lists the schema's inputs)."""
    from .._tensor import Tensor
    code, local = frame.f_code, frame.f_locals
    out = []
    for name in code.co_varnames[:code.co_argcount]:
        v = local.get(name)
        if isinstance(v, Tensor):
            out.append(list(v._data.shape))
        elif isinstance(v, (list, tuple)) and v and all(isinstance(t, Tensor) for t in v):
            out.append([list(t._data.shape) for t in v])
        elif hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, type):   # an array (array-level op)
            out.append(list(v.shape))
        else:
            out.append([])
    return out


def _allocated(value):
    """Bytes of the new (non-view) tensors in an op's result."""
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        return 0 if value._base is not None else value._data.nbytes
    if isinstance(value, tuple):
        return sum(_allocated(v) for v in value)
    return 0


class _Open:
    """An event that has started and not finished: its frame (None for a user range), start, children."""

    __slots__ = ("event", "frame", "start_ns", "child_ns", "child_mem")

    def __init__(self, event, frame, start_ns):
        self.event, self.frame, self.start_ns, self.child_ns, self.child_mem = event, frame, start_ns, 0, 0


class Recorder:
    """Collects FunctionEvents while installed.

    Args:
        record_shapes: keep each op's input shapes.
        profile_memory: keep the bytes each op's result allocates.
        with_stack: keep the Python call site of each op (file:line entries).
    """

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False):
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.events = []
        self._open = []
        self._table = None
        self._previous = None
        self._origin_ns = 0
        self._thread = 0

    def start(self):
        """Install the hook (the previous ``sys.setprofile`` function is restored by ``stop``)."""
        if self._table is None:
            self._table = build_code_table()
        self._previous = sys.getprofile()
        self._origin_ns = time.perf_counter_ns()
        self._thread = threading.get_ident()
        with _LOCK:
            _ACTIVE.append(self)
        sys.setprofile(self._hook)

    def stop(self):
        """Remove the hook; events still open (a ``stop`` inside an op) are dropped."""
        sys.setprofile(self._previous)
        with _LOCK:
            if self in _ACTIVE:
                _ACTIVE.remove(self)
        self._open.clear()

    def _us(self, ns):
        return (ns - self._origin_ns) / 1000.0

    def push(self, name, frame, shapes, stack):
        """Open an event called ``name`` (``frame`` is None for a ``record_function`` range)."""
        ev = FunctionEvent(len(self.events), name, self._thread, shapes, stack,
                           is_user_annotation=frame is None)
        if self._open:
            ev.cpu_parent = self._open[-1].event
            self._open[-1].event.cpu_children.append(ev)
        self.events.append(ev)
        self._open.append(_Open(ev, frame, time.perf_counter_ns()))

    def pop(self, result=None):
        """Close the innermost open event; ``result`` is what the op returned (for memory accounting)."""
        o = self._open.pop()
        end = time.perf_counter_ns()
        ev = o.event
        total = end - o.start_ns
        ev.time_range = (self._us(o.start_ns), self._us(end))
        ev.self_cpu_time_total = (total - o.child_ns) / 1000.0
        if self.profile_memory:
            ev.cpu_memory_usage = max(_allocated(result), o.child_mem) if o.frame is None else _allocated(result)
            ev.self_cpu_memory_usage = ev.cpu_memory_usage - o.child_mem
        if self._open:
            self._open[-1].child_ns += total
            self._open[-1].child_mem += ev.cpu_memory_usage

    def _hook(self, frame, event, arg):
        if event == "call":
            entry = self._table.get(frame.f_code)
            if entry is None:
                return
            if type(entry) is tuple:
                var, ids, name = entry
                if var is not None:
                    # a shared body reached through an undeclared closure is a helper inside a recorded op
                    name = ids.get(id(frame.f_locals.get(var)))
                    if name is None:
                        return
            else:
                name = entry
            top = self._open[-1] if self._open else None
            if top is not None and top.frame is not None and top.event.name == name:
                return      # F.relu calling the relu op is one aten::relu, as in PyTorch
            stack = None
            if self.with_stack:
                caller = frame.f_back
                stack = [f"{caller.f_code.co_filename}({caller.f_lineno}): {caller.f_code.co_name}"] if caller else []
            self.push(name, frame, _shapes(frame) if self.record_shapes else [], stack)
        elif event == "return" and self._open and self._open[-1].frame is frame:
            self.pop(arg)


def active_recorder():
    """The innermost recorder recording on this thread, or None."""
    for rec in reversed(_ACTIVE):
        if rec._thread == threading.get_ident():
            return rec
    return None
