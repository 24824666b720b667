"""``torch.autograd.profiler``: the original profiler interface, over the same op-level recorder as
``ember.profiler`` (``with profile() as prof: ...; prof.key_averages().table(sort_by=...)``)."""
from ..profiler import EventList, FunctionEvent, FunctionEventAvg, ProfilerActivity, kineto_available, record_function
from ..profiler._profile import Session

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerActivity",
           "kineto_available"]


class profile(Session):
    """Record op calls while the ``with`` block runs; ``enabled=False`` records nothing.

    Args:
        enabled: record at all.
        record_shapes: keep each op's input shapes (needed by ``key_averages(group_by_input_shape=True)``).
        profile_memory: keep the bytes each op allocates (adds the memory columns to tables).
        with_stack: keep each op's Python call site.
        Other PyTorch arguments (``use_cuda``, ``use_kineto``...) are accepted and have no effect.

    After the block: ``function_events``, ``key_averages()``, ``table()``, ``export_chrome_trace(path)``,
    ``self_cpu_time_total``, ``total_average()``.
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None,
                 post_processing_timeout_s=None, activity_filters=None):
        super().__init__(record_shapes, profile_memory, with_stack)
        self.enabled = enabled
        self.entered = False

    def __enter__(self):
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        if self.enabled:
            self.start()
        else:
            self._events = EventList()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.stop()
        return False

    @property
    def function_events(self):
        """The recorded FunctionEvents (an EventList), in start order."""
        return self.events()

    def __str__(self):
        return str(self.table())
