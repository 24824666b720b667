"""``torch.cpu``: the CPU as a device module, with the same functions as ``torch.cuda`` so device-agnostic code
(``torch.get_device_module(device).synchronize()``) runs unchanged.  The CPU runs every op as it is called, so
streams and events are already complete."""
import os
import platform

__all__ = ["is_available", "is_initialized", "synchronize", "current_device", "current_stream", "stream",
           "set_device", "device_count", "Stream", "StreamContext", "Event", "get_capabilities"]


def is_available():
    """Always True: the CPU is there."""
    return True


def is_initialized():
    """Always True: nothing to initialise."""
    return True


def synchronize(device=None):
    """Wait for the CPU's queued work: there is none (ops run when called)."""


def current_device():
    """The CPU's name as PyTorch gives it: ``'cpu'``."""
    return "cpu"


def device_count():
    """One CPU device."""
    return 1


def set_device(device):
    """Selecting a CPU device does nothing (there is one)."""


class Stream:
    """The CPU's (only) stream; work on it is complete as soon as it is issued.

    Args:
        priority: accepted for ``torch.cuda.Stream`` compatibility; ignored.
    """

    def __init__(self, priority=-1):
        self.priority = priority

    def wait_stream(self, stream):
        """Wait for ``stream``: nothing is pending."""

    def wait_event(self, event):
        """Wait for ``event``: it is complete."""

    def record_event(self, event=None):
        """Record ``event`` (a new Event when None) on this stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def synchronize(self):
        """Wait for the stream's work: nothing is pending."""


class Event:
    """A CPU event: complete as soon as it is recorded."""

    def query(self):
        """True: the event's work is done."""
        return True

    def record(self, stream=None):
        """Mark the point on ``stream`` (the current stream by default)."""

    def wait(self, stream=None):
        """Make ``stream`` wait for the event: already satisfied."""

    def synchronize(self):
        """Wait for the event: already complete."""


_CURRENT = Stream()


def current_stream(device=None):
    """The CPU stream."""
    return _CURRENT


class StreamContext:
    """Context manager selecting ``stream`` (a no-op on the CPU, where every stream is the same)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return None      # as PyTorch's (``with ... as s`` binds None)

    def __exit__(self, *exc):
        return False


def stream(stream):
    """``with ember.cpu.stream(s):`` — a ``StreamContext`` for ``s``."""
    return StreamContext(stream)


def get_capabilities():
    """What the processor offers: ``architecture``, ``num_logical_cores``, ``cpu_name`` and, on Linux, each
    instruction-set flag the kernel reports (``'avx2': True`` ...) under PyTorch's key names."""
    caps = {"architecture": platform.machine(), "num_logical_cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return caps
    for line in info.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and "cpu_name" not in caps:
            caps["cpu_name"] = value.strip()
        elif key == "flags":
            for flag in value.split():
                caps[_FLAG_NAMES.get(flag, flag)] = True
            break
    return caps


# /proc/cpuinfo spellings that PyTorch's capability keys spell differently
_FLAG_NAMES = {"pni": "sse3", "fma": "fma3", "abm": "lzcnt", "avx512f": "avx512_f", "avx512cd": "avx512_cd",
               "avx512bw": "avx512_bw", "avx512dq": "avx512_dq", "avx512vl": "avx512_vl", "avx512_vnni": "avx512_vnni",
               "avx512ifma": "avx512_ifma", "avx512vbmi": "avx512_vbmi", "sha_ni": "sha"}
