"""``autograd.ProfilerConfig`` and ``autograd.ProfilerEvent``: the value classes of PyTorch's legacy autograd
profiler (its C++ session takes a config and hands back events).  ember's op-level profiler
(``autograd.profiler.profile``) reports ``FunctionEvent``s; these two exist for programs that name them."""
from ._profiler_enums import ProfilerState


def _incompatible(signature):
    return TypeError("__init__(): incompatible constructor arguments. The following argument types are "
                     f"supported:\n    1. {signature}")


class ProfilerConfig:
    """What a legacy profiler session records.

    Args:
        state: a ``ProfilerState`` (``ProfilerState.CPU``...).
        report_input_shapes: keep each op's input shapes.
        profile_memory: keep each op's allocations.
        with_stack: keep each op's Python call site.
        with_flops: estimate each op's floating-point operations.
        with_modules: keep the module hierarchy of each op.
        experimental_config: a ``torch.profiler._ExperimentalConfig``-like object (kept as given).
        trace_id: an identifier for the trace (default '').

    Raises TypeError (PyTorch's message) for a state that is not a ``ProfilerState`` or a flag that is not a bool.
    """

    _SIGNATURE = ("ProfilerConfig(state: ProfilerState, report_input_shapes: bool, profile_memory: bool, "
                  "with_stack: bool, with_flops: bool, with_modules: bool, experimental_config: "
                  "_ExperimentalConfig, trace_id: str = '')")

    def __init__(self, state, report_input_shapes, profile_memory, with_stack, with_flops, with_modules,
                 experimental_config, trace_id=""):
        flags = (report_input_shapes, profile_memory, with_stack, with_flops, with_modules)
        if not isinstance(state, ProfilerState) or not all(type(f) is bool for f in flags) \
                or experimental_config is None or not isinstance(trace_id, str):
            raise _incompatible(self._SIGNATURE)
        self._state = state
        (self._report_input_shapes, self._profile_memory, self._with_stack, self._with_flops,
         self._with_modules) = flags
        self._experimental_config = experimental_config
        self._trace_id = trace_id


class ProfilerEvent:
    """One event of a legacy profiler session (an op's start or end, a memory record, a mark); made by the
    profiler, never from Python (``TypeError`` as in PyTorch).  Its fields are read by methods, as in PyTorch:
    ``name()``, ``kind()`` ('push', 'pop', 'mark', 'memory_alloc'), ``start_us()``, ``cpu_elapsed_us(end)``..."""

    _FIELDS = ("name", "kind", "thread_id", "fwd_thread_id", "start_us", "handle", "node_id", "sequence_nr",
               "scope", "device", "correlation_id", "cpu_memory_usage", "cuda_memory_usage", "flops", "shapes",
               "stack", "is_async", "is_remote", "has_cuda")

    def __init__(self, *args, **kwargs):
        raise TypeError(f"{__name__}.ProfilerEvent: No constructor defined!")

    @classmethod
    def _record(cls, name, kind, start_us, **fields):
        """An event (the profiler's constructor): ``fields`` among ``_FIELDS``; the rest take PyTorch's defaults."""
        event = object.__new__(cls)
        values = dict(thread_id=0, fwd_thread_id=0, handle=0, node_id=-1, sequence_nr=-1, scope=0, device=-1,
                      correlation_id=0, cpu_memory_usage=0, cuda_memory_usage=0, flops=0, shapes=[], stack=[],
                      is_async=False, is_remote=False, has_cuda=False)
        unknown = set(fields) - set(cls._FIELDS)
        if unknown:
            raise TypeError(f"unknown ProfilerEvent fields {sorted(unknown)}")
        values.update(fields, name=name, kind=kind, start_us=float(start_us))
        event._values = values
        return event

    def cpu_elapsed_us(self, other):
        """Microseconds from this event's start to ``other``'s."""
        return other._values["start_us"] - self._values["start_us"]

    def cuda_elapsed_us(self, other):
        """Device microseconds between the events: 0 on a CPU-only session, as in PyTorch."""
        return 0.0


def _reader(field):
    def read(self):
        return self._values[field]
    read.__name__ = field
    read.__doc__ = f"The event's ``{field}``."
    return read


for _field in ProfilerEvent._FIELDS:
    setattr(ProfilerEvent, _field, _reader(_field))
