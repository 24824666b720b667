"""What a profiler run produced: one FunctionEvent per op call, their averages by name, and the table and
Chrome trace made from them (PyTorch's ``profiler_util`` interface; times in microseconds)."""
import json
import os


class Interval:
    """A time range in microseconds since the profiler started."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self):
        """The length of the range in microseconds."""
        return self.end - self.start


class _Times:
    """Derived time attributes shared by single events and averages; CUDA/device times are always 0 here."""

    @property
    def cpu_time(self):
        """Average CPU time (us) per call."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self):
        return self.self_cpu_time_total / max(self.count, 1)

    device_time = device_time_total = self_device_time_total = 0.0
    cuda_time = cuda_time_total = self_cuda_time_total = 0.0
    device_memory_usage = self_device_memory_usage = cuda_memory_usage = self_cuda_memory_usage = 0
    flops = 0
    device_type = "CPU"
    is_async = is_remote = is_legacy = False
    node_id = -1
    scope = 0


class FunctionEvent(_Times):
    """One call of an op, a backward node or a ``record_function`` range.

    Attributes: ``id``, ``name`` (``key``), ``thread``, ``time_range`` (Interval), ``cpu_time_total`` and
    ``self_cpu_time_total`` (us, self excludes the children), ``input_shapes``, ``stack``,
    ``cpu_memory_usage`` / ``self_cpu_memory_usage`` (bytes, with ``profile_memory``), ``cpu_parent``,
    ``cpu_children``, ``count`` (1), ``is_user_annotation``.
    """

    count = 1

    def __init__(self, id, name, thread, input_shapes, stack, is_user_annotation=False):
        # the profiler's step ranges ("ProfilerStep#3") share one name in tables, as PyTorch's wildcard
        self.name = "ProfilerStep*" if name.startswith("ProfilerStep#") else name
        self.id, self.thread, self._trace_name = id, thread, name
        self.input_shapes, self.stack = input_shapes, stack or []
        self.is_user_annotation = is_user_annotation
        self.cpu_parent, self.cpu_children = None, []
        self._range = (0.0, 0.0)
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0

    @property
    def key(self):
        return self.name

    @property
    def trace_name(self):
        """The name in traces: a step range keeps its number there."""
        return self._trace_name

    @property
    def time_range(self):
        return Interval(*self._range)

    @time_range.setter
    def time_range(self, start_end):
        self._range = start_end

    @property
    def cpu_time_total(self):
        return self._range[1] - self._range[0]

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"start_us={self._range[0]:.3f} end_us={self._range[1]:.3f} input_shapes={self.input_shapes}>")


class FunctionEventAvg(_Times):
    """The events of one key (name, and input shapes when grouped by them) added together."""

    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.is_user_annotation = False
        self.cpu_parent, self.cpu_children, self.stack = None, [], []

    def add(self, ev):
        """Add one event (or average) into this one; returns self."""
        self.count += ev.count
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.cpu_memory_usage += ev.cpu_memory_usage
        self.self_cpu_memory_usage += ev.self_cpu_memory_usage
        self.is_user_annotation = ev.is_user_annotation
        return self

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time_total)} input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of events (or of averages) with the profiler's summaries.

    Args:
        events: the events, in start order.
        profile_memory: whether memory columns belong in ``table``.
    """

    def __init__(self, events=(), profile_memory=False):
        super().__init__(events)
        self._profile_memory = profile_memory

    @property
    def self_cpu_time_total(self):
        """Sum of every event's self CPU time (us): the time spent in ops, each counted once."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """An EventList of FunctionEventAvg, one per name (per name and input shapes when asked), in order of
        first appearance."""
        groups = {}
        for ev in self:
            key = (ev.key, str(ev.input_shapes) if group_by_input_shape else None,
                   tuple(ev.stack[:group_by_stack_n]) if group_by_stack_n else None)
            if key not in groups:
                groups[key] = FunctionEventAvg(ev.key, ev.input_shapes if group_by_input_shape else None)
                if group_by_stack_n:
                    groups[key].stack = ev.stack[:group_by_stack_n]
            groups[key].add(ev)
        return EventList(groups.values(), self._profile_memory)

    def total_average(self):
        """One FunctionEventAvg adding up every event (key ``"Total"``)."""
        total = FunctionEventAvg("Total")
        for ev in self:
            total.add(ev)
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """The events as a text table: self and total CPU time (with percentages of the whole run), average
        time per call, memory when it was profiled, number of calls, and input shapes for averages grouped
        by them.

        Args:
            sort_by: an attribute of the events (``"cpu_time_total"``, ``"self_cpu_time_total"``,
                ``"count"``, ``"self_cpu_memory_usage"``...), largest first; None keeps their order.
            row_limit: at most this many rows (negative: all).
            header: a line printed above the table.
            top_level_events_only: only events without a parent.
        """
        return _build_table(self, sort_by, row_limit, max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only, time_unit)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (``chrome://tracing`` / Perfetto JSON) to ``path``."""
        trace = []
        for ev in self:
            if not isinstance(ev, FunctionEvent):
                raise RuntimeError("export_chrome_trace needs the individual events, not their averages")
            entry = {"ph": "X", "cat": "user_annotation" if ev.is_user_annotation else "cpu_op", "name": ev.trace_name,
                     "pid": os.getpid(), "tid": ev.thread, "ts": ev.time_range.start, "dur": ev.cpu_time_total,
                     "args": {}}
            if ev.input_shapes:
                entry["args"]["Input Dims"] = ev.input_shapes
            if ev.stack:
                entry["args"]["Call stack"] = ";".join(ev.stack)
            trace.append(entry)
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


def _format_time(us, unit=None):
    """``1.234ms``-style text for a time in microseconds (seconds/ms/us chosen by size, or ``unit``)."""
    if unit == "s" or (unit is None and us >= 1e6):
        return f"{us / 1e6:.3f}s"
    if unit == "ms" or (unit is None and us >= 1e3):
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes):
    """``16.00 KB``-style text for a byte count (sign kept)."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _build_table(events, sort_by, row_limit, name_width, shapes_width, header, top_level_only, time_unit):
    rows = [e for e in events if not (top_level_only and e.cpu_parent is not None)]
    if sort_by is not None:
        rows = sorted(rows, key=lambda e: getattr(e, sort_by), reverse=True)
    if row_limit is not None and row_limit >= 0:
        rows = rows[:row_limit]
    memory = events._profile_memory
    shapes = any(getattr(e, "input_shapes", None) is not None for e in events) and isinstance(
        next(iter(events), None), FunctionEventAvg)
    total_self = sum(e.self_cpu_time_total for e in events) or 1.0
    name_width = min(max([len(e.key) for e in events] + [4]) + 4, name_width)
    titles = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if memory:
        titles += ["CPU Mem", "Self CPU Mem"]
    titles.append("# of Calls")
    widths = [name_width] + [12] * len(titles)
    if shapes:
        titles.append("Input Shapes")
        widths.append(min(max(len(str(e.input_shapes)) for e in events) + 4, shapes_width))
    titles = ["Name"] + titles
    line = "".join("-" * w + "  " for w in widths)
    fmt = "".join("{:>" + str(w) + "}  " for w in widths)

    def cell(text, w):
        return text if len(text) <= w else text[:w - 3] + "..."

    out = []
    if header:
        out += ["=" * len(line), header]
    out += [line, fmt.format(*titles), line]
    for e in rows:
        vals = [cell(e.key, name_width), f"{e.self_cpu_time_total / total_self * 100:.2f}%",
                _format_time(e.self_cpu_time_total, time_unit), f"{e.cpu_time_total / total_self * 100:.2f}%",
                _format_time(e.cpu_time_total, time_unit), _format_time(e.cpu_time, time_unit)]
        if memory:
            vals += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        vals.append(str(e.count))
        if shapes:
            vals.append(cell(str(e.input_shapes), widths[-1]))
        out.append(fmt.format(*vals))
    out.append(line)
    out.append(f"Self CPU time total: {_format_time(sum(e.self_cpu_time_total for e in events), time_unit)}")
    return "\n".join(out) + "\n"
