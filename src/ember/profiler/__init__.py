"""``torch.profiler``: an op-level profiler over ember's op layer.

Inside ``with profile(...) as prof:`` every op call (``ember.<op>``, Tensor methods, ``nn.functional``
kernels, the backward nodes run by ``backward()``), every ``record_function`` range and, with a
``schedule``, every step (``ProfilerStep#<n>``) becomes an event with its start, self and total CPU
time, input shapes (``record_shapes``) and allocated bytes (``profile_memory``).
``prof.key_averages().table(sort_by="cpu_time_total")`` summarises them; ``export_chrome_trace`` writes
a trace for ``chrome://tracing``/Perfetto.  The hook is ``sys.setprofile`` on the profiling thread, active
only while recording; ops running on other threads are not seen.
"""
import enum
import os
import socket
import time
import warnings

from ._events import EventList, FunctionEvent, FunctionEventAvg
from ._profile import ProfilerActivity, Session, record_function

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities", "kineto_available", "EventList", "FunctionEvent",
           "FunctionEventAvg"]


class ProfilerAction(enum.Enum):
    """What the profiler does at a step of a ``schedule``."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A step -> ProfilerAction function: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps (the last saves), ``repeat`` times (0: forever).
    With ``skip_first_wait`` the first cycle starts without its wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def action(step):
        if step < 0:
            raise AssertionError("step must be non-negative")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def _always_record(step):
    return ProfilerAction.RECORD


def supported_activities():
    """The activities ember records: the CPU."""
    return {ProfilerActivity.CPU}


def kineto_available():
    """False: ember records with its own op hook, not Kineto."""
    return False


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False, use_python_export=False):
    """An ``on_trace_ready`` callback writing each finished trace to ``dir_name`` as
    ``<worker_name>.<time in ms>.pt.trace.json`` (gzipped when ``use_gzip``), the files TensorBoard's
    profiler plugin reads."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip
            import shutil
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.remove(path)
    return handler


class profile(Session):
    """``torch.profiler.profile``: records ops while active, following an optional ``schedule``.

    Args:
        activities: ProfilerActivity values; CPU events are recorded whichever are given.
        schedule: step -> ProfilerAction (see ``schedule``); default: record every step.
        on_trace_ready: called with the profiler each time a RECORD_AND_SAVE step ends (and at stop).
        record_shapes: keep the input shapes of each op.
        profile_memory: keep the bytes each op allocates.
        with_stack: keep each op's Python call site.
        Other PyTorch arguments are accepted and have no effect.
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        super().__init__(record_shapes, profile_memory, with_stack)
        self.activities = set(activities) if activities is not None else supported_activities()
        self.schedule = schedule or _always_record
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = None
        self.record_steps = schedule is not None    # each step becomes a "ProfilerStep#<n>" range, as PyTorch
        self._step_range = None

    def _recording(self):
        return self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def start(self):
        """Start at step 0 of the schedule."""
        self.step_num = 0
        self.current_action = self.schedule(0)
        if self._recording():
            Session.start(self)
        self._enter_step()

    def _enter_step(self):
        if self.record_steps:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}")
            self._step_range.__enter__()

    def _exit_step(self):
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    def stop(self):
        """Stop; a recording in progress is finished and handed to ``on_trace_ready``."""
        self._exit_step()
        if self._recording():
            self._finish()
        self.current_action = ProfilerAction.NONE

    def _finish(self):
        Session.stop(self)
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self):
        """Mark the end of a training step: advance the schedule, saving or starting a recording."""
        self._exit_step()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if previous == ProfilerAction.RECORD_AND_SAVE:
            self._finish()
        if self._recording() and self._recorder is None:
            Session.start(self)
        self._enter_step()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
