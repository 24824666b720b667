"""autograd's thread-local switches (multithreading, grad-layout policy, view replay) and the profiler enums,
against torch."""
import threading

import pytest
import torch

import ember


@pytest.mark.parametrize("name", ["DeviceType", "ProfilerState"])
def test_enum_members_match_torch(name):
    mine, theirs = getattr(ember.autograd, name), getattr(torch.autograd, name)
    assert [(k, int(v)) for k, v in mine.__members__.items()] == [(k, int(v)) for k, v in theirs.__members__.items()]
    member = next(iter(theirs.__members__))
    a, b = getattr(mine, member), getattr(theirs, member)
    assert (repr(a), str(a), a.name, a.value, a == 0, mine(1).name) == (repr(b), str(b), b.name, b.value, b == 0,
                                                                          theirs(1).name)


def _flags(m):
    return m.autograd.is_multithreading_enabled(), m.autograd.is_view_replay_enabled()


def test_defaults_and_switches_match_torch():
    for m in (ember, torch):
        assert _flags(m) == (True, False)
        ctx = m.autograd.set_multithreading_enabled(False)   # takes effect as a call
        assert m.autograd.is_multithreading_enabled() is False
        with ctx:
            pass
        assert m.autograd.is_multithreading_enabled() is True
        with m.autograd.set_multithreading_enabled(False):
            seen = []
            t = threading.Thread(target=lambda: seen.append(m.autograd.is_multithreading_enabled()))
            t.start()
            t.join()
            assert seen == [True]                           # per thread
        m.autograd.set_multithreading_enabled(True)

        @m.autograd.enforce_grad_layout_policy(False)
        def run():
            x = m.ones(2, requires_grad=True)
            (x * 2).sum().backward()
            return x.grad
        assert run().tolist() == [2.0, 2.0]


@pytest.mark.parametrize("which", ["set_multithreading_enabled", "enforce_grad_layout_policy"])
def test_non_bool_raises_as_torch(which):
    msgs = []
    for m in (ember, torch):
        with pytest.raises(TypeError) as info:
            getattr(m.autograd, which)(1)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]
