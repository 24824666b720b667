"""CUDA streams and events (``torch.cuda.Stream``, ``Event``, ``stream()``) over CuPy's.

Ops enqueue their kernels on CuPy's current stream, so ``with ember.cuda.stream(s):`` sends the ops of the
block to ``s``.  Without CUDA, constructing either raises PyTorch's CPU-build error.
"""
from .. import _device
from ..backends import _cupy

__all__ = ["Stream", "Event", "StreamContext", "stream", "current_stream", "default_stream"]


def _cupy_module():
    if _device.lazy_backend("cuda") is None:
        raise AssertionError("Torch not compiled with CUDA enabled")
    return _cupy.state.cupy


class Stream:
    """A CUDA stream: a queue of work that runs in order.

    Args:
        device: accepted for PyTorch compatibility (the current GPU's stream is made).
        priority: accepted (CuPy streams are made with the default priority).
    """

    def __init__(self, device=None, priority=0, **kwargs):
        if _device.lazy_backend("cuda") is None:
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        self._stream = kwargs.get("_wrap") or _cupy.state.cupy.cuda.Stream(non_blocking=True)

    @property
    def cuda_stream(self):
        """The raw ``cudaStream_t`` handle."""
        return self._stream.ptr

    @property
    def device(self):
        return _device.device("cuda", _cupy.state.cupy.cuda.runtime.getDevice())

    def synchronize(self):
        """Wait for all work queued on this stream."""
        self._stream.synchronize()

    def query(self):
        """True when all work queued on this stream has finished."""
        return self._stream.done

    def record_event(self, event=None):
        """Record ``event`` (a new one for None) on this stream; returns it."""
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        """Make later work on this stream wait for ``event``."""
        self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        """Make later work on this stream wait for the work queued on ``stream`` so far."""
        self.wait_event(stream.record_event())

    def __eq__(self, other):
        return isinstance(other, Stream) and self._stream.ptr == other._stream.ptr

    def __hash__(self):
        return hash(self._stream.ptr)

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


def current_stream(device=None):
    """The stream ops on the current GPU are queued on."""
    return Stream(_wrap=_cupy_module().cuda.get_current_stream())


def default_stream(device=None):
    """The GPU's default (null) stream."""
    return Stream(_wrap=_cupy_module().cuda.Stream.null)


class StreamContext:
    """Context manager sending the block's GPU work to ``stream`` (None: no change)."""

    def __init__(self, stream):
        self.stream, self._prev = stream, None

    def __enter__(self):
        if self.stream is not None:
            self._prev = _cupy.state.cupy.cuda.get_current_stream()
            self.stream._stream.use()
        return self.stream

    def __exit__(self, *exc):
        if self.stream is not None:
            self._prev.use()
        return False


def stream(stream):
    """``with ember.cuda.stream(s):`` queues the block's GPU work on ``s`` (``StreamContext``)."""
    return StreamContext(stream)


class Event:
    """A CUDA event: a marker in a stream, for synchronisation and timing.

    Args:
        enable_timing: record times, so ``elapsed_time`` works (default False).
        blocking: ``synchronize`` blocks the thread instead of spinning.
        interprocess: shareable between processes.
    """

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if _device.lazy_backend("cuda") is None:
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self._event = _cupy.state.cupy.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                                  interprocess=interprocess)

    def record(self, stream=None):
        """Mark the current point of ``stream`` (the current stream for None)."""
        self._event.record(None if stream is None else stream._stream)

    def wait(self, stream=None):
        """Make later work on ``stream`` (the current stream for None) wait for this event."""
        (stream or current_stream()).wait_event(self)

    def query(self):
        """True when the work before the recorded point has finished."""
        return self._event.done

    def synchronize(self):
        """Wait until the work before the recorded point has finished."""
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded, timing enabled)."""
        return _cupy.state.cupy.cuda.get_elapsed_time(self._event, end_event._event)

    def __repr__(self):
        return "<torch.cuda.Event uninitialized>" if self._event is None else f"<torch.cuda.Event {self._event!r}>"
