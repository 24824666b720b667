"""The op-level profiler (ember.profiler, ember.autograd.profiler) against torch's on the same programs."""
import json
import re
import sys
import warnings

import pytest
import torch
import torch.autograd.profiler  # noqa: F401
import torch.profiler

import ember


def _program(m):
    a = m.ones(3, 4, requires_grad=True)
    b = m.ones(4, 5)
    with m.autograd.profiler.record_function("block"):
        for _ in range(3):
            c = m.mm(a, b)
        s = c.exp().sum()
    s.backward()


def _profile(m, **kw):
    with m.autograd.profiler.profile(**kw) as prof:
        _program(m)
    return prof


def _header(table):
    return re.split(r"\s{2,}", table.splitlines()[1].strip())


@pytest.mark.parametrize("memory", [False, True])
def test_table_columns_and_footer_match_torch(memory):
    e, t = _profile(ember, record_shapes=True, profile_memory=memory), \
        _profile(torch, record_shapes=True, profile_memory=memory)
    for grouped in (False, True):
        te = e.key_averages(group_by_input_shape=grouped).table(sort_by="cpu_time_total", row_limit=5)
        tt = t.key_averages(group_by_input_shape=grouped).table(sort_by="cpu_time_total", row_limit=5)
        assert _header(te) == _header(tt)
        assert te.splitlines()[-1].startswith("Self CPU time total: ") and tt.splitlines()[-1].startswith(
            "Self CPU time total: ")
        assert len(te.splitlines()) == 5 + 5


def test_counts_shapes_and_nesting():
    e, t = _profile(ember, record_shapes=True), _profile(torch, record_shapes=True)
    for prof in (e, t):
        avg = {a.key: a for a in prof.key_averages()}
        assert avg["aten::mm"].count == 4 and avg["aten::exp"].count == 1 and avg["block"].count == 1  # 1 in backward
        block = next(ev for ev in prof.function_events if ev.name == "block")
        assert [c.name for c in block.cpu_children].count("aten::mm") == 3
        assert "SumBackward0" in avg and "ExpBackward0" in avg
        by_shape = {(a.key, str(a.input_shapes)) for a in prof.key_averages(group_by_input_shape=True)}
        assert ("aten::mm", "[[3, 4], [4, 5]]") in by_shape
        assert ("aten::mm", "[[3, 5], [5, 4]]") in by_shape   # the backward product grad @ b.T
    events = e.function_events
    block = next(ev for ev in events if ev.name == "block")
    assert {c.name for c in block.cpu_children} >= {"aten::mm", "aten::exp", "aten::sum"}
    assert block.cpu_time_total >= sum(c.cpu_time_total for c in block.cpu_children)
    for ev in events:
        assert 0 <= ev.self_cpu_time_total <= ev.cpu_time_total + 1e-6
        assert ev.time_range.elapsed_us() == pytest.approx(ev.cpu_time_total)
    assert e.self_cpu_time_total == pytest.approx(sum(ev.self_cpu_time_total for ev in events))
    assert sys.getprofile() is None


def test_sort_by_and_bad_key():
    prof = _profile(ember)
    rows = prof.key_averages()
    for key in ("cpu_time_total", "self_cpu_time_total", "count"):
        table = rows.table(sort_by=key, row_limit=-1)
        names = [ln.split()[0] for ln in table.splitlines()[3:-2]]
        expected = [a.key for a in sorted(rows, key=lambda a: getattr(a, key), reverse=True)]
        assert names == [n.split()[0] for n in expected]
    with pytest.raises(AttributeError):
        rows.table(sort_by="bogus")
    with pytest.raises(AttributeError):
        _profile(torch).key_averages().table(sort_by="bogus")


def test_memory_accounting():
    with ember.autograd.profiler.profile(profile_memory=True) as prof:
        ember.zeros(256, 4, dtype=ember.float64).exp()
    avg = {a.key: a for a in prof.key_averages()}
    assert avg["aten::exp"].cpu_memory_usage == 256 * 4 * 8 == avg["aten::exp"].self_cpu_memory_usage


def test_chrome_trace(tmp_path):
    prof = _profile(ember, record_shapes=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    mm = [ev for ev in trace if ev["name"] == "aten::mm"]
    assert len(mm) == 4 and all(ev["ph"] == "X" and ev["dur"] >= 0 for ev in mm)
    assert mm[0]["args"]["Input Dims"] == [[3, 4], [4, 5]]
    assert [ev["name"] for ev in trace] == [ev.name for ev in prof.function_events]


def test_disabled_and_not_finished():
    with ember.autograd.profiler.profile(enabled=False) as prof:
        _program(ember)
    assert len(prof.function_events) == 0
    p = ember.autograd.profiler.profile()
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        p.key_averages()


def test_schedule_matches_torch():
    for kw in (dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1, repeat=2),
               dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3), dict(wait=2, warmup=1, active=1,
                                                                              skip_first_wait=1)):
        with warnings.catch_warnings(record=True) as we:
            warnings.simplefilter("always")
            se = ember.profiler.schedule(**kw)
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            st = torch.profiler.schedule(**kw)
        assert [str(w.message) for w in we] == [str(w.message) for w in wt]
        assert [se(i).name for i in range(25)] == [st(i).name for i in range(25)], kw


def test_profiler_profile_with_schedule_and_trace_handler(tmp_path):
    saved = {}
    for m in (ember, torch):
        calls = []
        with m.profiler.profile(activities=[m.profiler.ProfilerActivity.CPU],
                                schedule=m.profiler.schedule(wait=1, warmup=1, active=2, repeat=2),
                                on_trace_ready=lambda p: calls.append(p.step_num), record_shapes=True) as prof:
            for _ in range(10):
                m.ones(2, 2).exp()
                prof.step()
        saved[m.__name__] = calls
        assert [a.count for a in prof.key_averages() if a.key == "aten::exp"] == [2]
    assert saved["ember"] == saved["torch"]
    with ember.profiler.profile(on_trace_ready=ember.profiler.tensorboard_trace_handler(str(tmp_path), "w")):
        ember.ones(2).sin()
    (f,) = tmp_path.iterdir()
    assert f.name.startswith("w.") and f.name.endswith(".pt.trace.json")
    assert any(ev["name"] == "aten::sin" for ev in json.loads(f.read_text())["traceEvents"])


def test_record_function_decorator_and_profiler_namespace():
    @ember.profiler.record_function("labelled")
    def f(x):
        return x * 2
    with ember.profiler.profile() as prof:
        f(ember.ones(2))
    names = [ev.name for ev in prof.events()]
    assert names == ["aten::ones", "labelled", "aten::mul"]
    assert prof.events()[1].is_user_annotation and not prof.events()[2].is_user_annotation
    assert set(ember.profiler.ProfilerActivity.__members__) == set(torch.profiler.ProfilerActivity.__members__)
    assert ember.profiler.supported_activities() == {ember.profiler.ProfilerActivity.CPU}



def test_scheduled_steps_are_ranges_and_nn_kernels_are_events(tmp_path):
    """With a schedule each step is a ``ProfilerStep#<n>`` range (``ProfilerStep*`` in tables), as PyTorch;
    nn layers show as their kernels (aten::linear, aten::conv2d, aten::max_pool2d), as in the profiler recipe."""
    seen = {}
    for m in (ember, torch):
        model = m.nn.Sequential(m.nn.Conv2d(1, 2, 3), m.nn.MaxPool2d(2), m.nn.Flatten(), m.nn.Linear(8, 3))
        x = m.ones(2, 1, 6, 6)
        traces = []

        def ready(p, m=m):
            path = tmp_path / f"{m.__name__}_{p.step_num}.json"
            p.export_chrome_trace(str(path))
            traces.append(sorted({ev["name"] for ev in json.loads(path.read_text())["traceEvents"]
                                  if ev["name"].startswith("ProfilerStep")}))
        with m.profiler.profile(schedule=m.profiler.schedule(wait=1, warmup=1, active=2), on_trace_ready=ready) as p:
            for _ in range(4):
                model(x)
                p.step()
        keys = {a.key: a.count for a in p.key_averages()}
        assert keys["ProfilerStep*"] == 2
        assert {"aten::linear", "aten::conv2d", "aten::max_pool2d"} <= set(keys)
        seen[m.__name__] = traces, keys["aten::linear"], keys["aten::conv2d"]
    assert seen["ember"] == seen["torch"]
