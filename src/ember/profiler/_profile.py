"""The recording session both profiler APIs share, and ``record_function``."""
import enum
import functools

from ._events import EventList
from ._recorder import Recorder, active_recorder


class ProfilerActivity(enum.Enum):
    """Where events are collected; ember records CPU (host) events, which also time ops on other devices."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class Session:
    """One recorder run: ``start``/``stop`` install and remove the hook; the events stay readable after.

    Args: ``record_shapes``, ``profile_memory``, ``with_stack`` as in ``profile``.
    """

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False):
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self._recorder = None
        self._events = None

    def start(self):
        """Begin a fresh recording."""
        self._recorder = Recorder(self.record_shapes, self.profile_memory, self.with_stack)
        self._events = None
        self._recorder.start()

    def stop(self):
        """End the recording; its events become ``events()``."""
        if self._recorder is not None:
            self._recorder.stop()
            self._events = EventList(self._recorder.events, self.profile_memory)
            self._recorder = None

    def events(self):
        """The recorded FunctionEvents (an EventList)."""
        if self._events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self._events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events averaged by name (see ``EventList.key_averages``)."""
        if group_by_input_shape and not self.record_shapes:
            raise AssertionError("record_shapes=True must be set to group by input shapes")
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace JSON file."""
        self.events().export_chrome_trace(path)

    def table(self, *args, **kwargs):
        """The individual events as a table (``EventList.table``'s arguments)."""
        return self.events().table(*args, **kwargs)

    @property
    def self_cpu_time_total(self):
        """Total self CPU time (us) of the recorded events."""
        return self.events().self_cpu_time_total

    def total_average(self):
        """One average over every recorded event."""
        return self.events().total_average()


class record_function:
    """A named range in the profile, as a context manager or a decorator.

    Args:
        name: the label the range gets in the events and the table.
        args: an optional string kept with it (accepted for PyTorch compatibility).
    """

    def __init__(self, name, args=None):
        self.name, self.args = name, args
        self._recorder = None

    def __enter__(self):
        self._recorder = active_recorder()
        if self._recorder is not None:
            self._recorder.push(self.name, None, [], None)
        return self

    def __exit__(self, *exc):
        rec, self._recorder = self._recorder, None
        if rec is not None and rec._open and rec._open[-1].frame is None and rec._open[-1].event.name == self.name:
            rec.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped
