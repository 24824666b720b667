"""``torch.Stream`` and ``torch.Event``: device-generic streams and events.

On a CUDA device they wrap ``ember.cuda.Stream``/``Event`` (CuPy's).  Every other device runs its ops
synchronously on the host thread, so its one stream (id 0) is always idle and waiting is a no-op; as in
PyTorch, recording an event there raises ("cpu backend doesn't support events.").
"""
from . import _device

__all__ = ["Stream", "Event"]

# c10::DeviceType numbers of the device types ember knows (Stream.device_type is this integer)
_DEVICE_TYPE_IDS = {"cpu": 0, "cuda": 1, "xpu": 12, "mps": 13, "meta": 14, "privateuseone": 20}


def _resolve(device, cls_name):
    """The ``ember.device`` a Stream/Event is made on: ``device`` (device, str or accelerator index), or the
    current accelerator (CUDA where usable, else the CPU) for None."""
    from . import accelerator
    if device is None:
        return accelerator.current_accelerator() or _device.device("cpu")
    if isinstance(device, int) and not isinstance(device, bool):
        accelerator._require()
        return _device.device("cuda", device)
    if not isinstance(device, (str, _device.device)):
        raise TypeError(f"{cls_name}(): argument 'device' must be torch.device, not {type(device).__name__}")
    dev = _device.device(device)
    if dev.type not in ("cpu", "meta") and _device.lazy_backend(dev.type) is None:
        raise RuntimeError(f"PyTorch is not linked with support for {dev.type} devices")
    return dev


def _device_argument(cls_name, args, device):
    """The one optional positional argument (``device``) of Stream()/Event(), with PyTorch's TypeError."""
    if len(args) > 1:
        raise TypeError(f"{cls_name}() takes from 0 to 1 positional arguments but {len(args)} were given")
    return args[0] if args else device


def _host_backend_error():
    return RuntimeError("cpu backend doesn't support events.")


class Stream:
    """An in-order queue of work on one device; ``with stream:`` sends the block's work to it.

    Args:
        device: a ``torch.device``, a device string, an accelerator index, or None (the current
            accelerator, the CPU without one).
        priority: 0 or negative (higher priority); keyword only.
    """

    def __init__(self, *args, device=None, priority=0):
        device = _device_argument("Stream", args, device)
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TypeError(f"Stream(): argument 'priority' must be int, not {type(priority).__name__}")
        dev = _resolve(device, "Stream")
        self._impl = None
        if dev.type == "cuda":
            from .cuda.streams import Stream as CudaStream
            self._impl = CudaStream(dev, priority)
        self._dev = _device.device(dev.type) if dev.type != "cuda" else self._impl.device

    @property
    def device(self):
        """The stream's ``torch.device``."""
        return self._dev

    @property
    def device_type(self):
        """The device type as PyTorch's ``c10::DeviceType`` number (0 for the CPU, 1 for CUDA)."""
        return _DEVICE_TYPE_IDS[self._dev.type]

    @property
    def device_index(self):
        """The device's index (-1 for the CPU)."""
        return -1 if self._dev.index is None else self._dev.index

    @property
    def stream_id(self):
        """The stream's id: 0 for a host device's only stream, the CUDA stream handle otherwise."""
        return 0 if self._impl is None else self._impl.cuda_stream

    @property
    def native_handle(self):
        """The backend's stream handle (``cudaStream_t``); host devices have none."""
        if self._impl is None:
            raise RuntimeError("Backend doesn't support getting stream native handle.")
        return self._impl.cuda_stream

    def query(self):
        """True when all work queued on this stream has finished."""
        return True if self._impl is None else self._impl.query()

    def synchronize(self):
        """Wait for all work queued on this stream."""
        if self._impl is not None:
            self._impl.synchronize()

    def is_capturing(self):
        """False: ember has no CUDA graph capture."""
        return False

    def record_event(self, event=None):
        """Record ``event`` (a new one for None) on this stream; returns it."""
        if event is not None and not isinstance(event, Event):
            raise RuntimeError("expected event to be a torch.Event object")
        event = Event(self._dev) if event is None else event
        event.record(self)
        return event

    def wait_event(self, event):
        """Make later work on this stream wait for ``event``."""
        if self._impl is not None and isinstance(event, Event) and event._impl is not None:
            self._impl.wait_event(event._impl)

    def wait_stream(self, stream):
        """Make later work on this stream wait for the work queued on ``stream`` so far."""
        if not isinstance(stream, Stream):
            raise RuntimeError("PyTorch is not linked with support for cuda devices")
        self.wait_event(stream.record_event())

    def __enter__(self):
        if self._impl is not None:
            from .cuda.streams import StreamContext
            self._ctx = StreamContext(self._impl)
            self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        if self._impl is not None:
            self._ctx.__exit__(*exc)

    def __eq__(self, other):
        return (isinstance(other, Stream) and self._dev == other._dev and self.stream_id == other.stream_id)

    def __hash__(self):
        return hash((self._dev.type, self.device_index, self.stream_id))

    def __repr__(self):
        return (f"torch.Stream device_type={self._dev.type}, device_index={self.device_index}, "
                f"stream_id={self.stream_id}")


class Event:
    """A marker in a stream, for synchronisation and timing.

    Args:
        device: as for ``Stream``.
        enable_timing: record times, so ``elapsed_time`` works (keyword only).
        blocking: ``synchronize`` blocks the thread (keyword only).
        interprocess: shareable between processes (keyword only; ignored off CUDA, as in PyTorch).
    """

    def __init__(self, *args, device=None, enable_timing=False, blocking=False, interprocess=False):
        dev = _resolve(_device_argument("Event", args, device), "Event")
        self._impl = None
        if dev.type == "cuda":
            from .cuda.streams import Event as CudaEvent
            self._impl = CudaEvent(enable_timing, blocking, interprocess)
        self._dev = dev if dev.type == "cuda" else _device.device(dev.type)
        self._timing, self._recorded = bool(enable_timing), False

    @property
    def device(self):
        """The event's ``torch.device``."""
        return self._dev

    @property
    def event_id(self):
        """0 until the event is recorded on a device that has events."""
        return 0

    def record(self, stream=None):
        """Mark the current point of ``stream`` (the device's current stream for None)."""
        if stream is not None and not isinstance(stream, Stream):
            raise RuntimeError(f"Event device type {self._dev.type.upper()} does not match recording stream's "
                               f"device type CUDA.")
        if self._impl is None:
            raise _host_backend_error()
        self._impl.record(None if stream is None else stream._impl)
        self._recorded = True

    def wait(self, stream=None):
        """Make later work on ``stream`` (the current stream for None) wait for this event."""
        if self._impl is not None and self._recorded:
            self._impl.wait(None if not isinstance(stream, Stream) else stream._impl)

    def query(self):
        """True when the work before the recorded point has finished (always, before recording)."""
        return True if self._impl is None or not self._recorded else self._impl.query()

    def synchronize(self):
        """Wait until the work before the recorded point has finished."""
        if self._impl is not None and self._recorded:
            self._impl.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded with ``enable_timing=True``)."""
        if not isinstance(end_event, Event):
            raise RuntimeError("expected other to be a torch.Event object")
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        return self._impl.elapsed_time(end_event._impl)

    def ipc_handle(self):
        """Not supported (as in PyTorch)."""
        raise NotImplementedError(_IPC_MESSAGE)

    @classmethod
    def from_ipc_handle(cls, device, ipc_handle):
        """Not supported (as in PyTorch)."""
        raise NotImplementedError(_IPC_MESSAGE)

    def __repr__(self):
        index = -1 if self._dev.index is None else self._dev.index
        return (f"torch.Event device_type={self._dev.type}, device_index={index}, event_flag={int(self._timing)}, "
                f"event_id={self.event_id}")


_IPC_MESSAGE = "torch.Event ipc is not supported yet, please open an issue if you need this!"
