"""torch.Stream / torch.Event on host devices and Tensor.record_stream, against PyTorch 2.13 (CPU build)."""
import pytest
import torch

import ember

# each case runs with ``m`` bound to torch and to ember; results (as repr) or exception type+message must agree
CASES = [
    "repr(m.Stream())", "repr(m.Stream('cpu'))", "repr(m.Stream(m.device('cpu')))", "repr(m.Stream(None))",
    "repr(m.Stream('meta'))", "repr(m.Stream(device='cpu', priority=-1))", "m.Stream('cpu', 0)",
    "m.Stream(priority='a')", "m.Stream(1)",
    "m.Stream().device", "m.Stream().device_index", "m.Stream().device_type", "m.Stream('meta').device_type",
    "m.Stream().stream_id", "m.Stream().query()", "m.Stream().synchronize()", "m.Stream().is_capturing()",
    "m.Stream().native_handle", "m.Stream().record_event()", "m.Stream().wait_stream(m.Stream())",
    "m.Stream().wait_event(m.Event())", "m.Stream().record_event(1)", "m.Stream() == m.Stream()",
    "m.Stream() != m.Stream()", "m.Stream() == 1", "hash(m.Stream()) == hash(m.Stream())",
    "repr(m.Stream().__enter__())",
    "repr(m.Event())", "repr(m.Event('cpu'))", "repr(m.Event(enable_timing=True, blocking=True, interprocess=True))",
    "repr(m.Event(blocking=True))", "m.Event('cpu', True)", "m.Event(1)", "m.Event() == m.Event()",
    "m.Event().device", "m.Event().event_id", "m.Event().query()", "m.Event().record()",
    "m.Event().record(m.Stream())", "m.Event().synchronize()", "m.Event().wait()", "m.Event().wait(m.Stream())",
    "m.Event().elapsed_time(m.Event())", "m.Event(enable_timing=True).elapsed_time(1)",
    "m.Event(enable_timing=True).elapsed_time(m.Event(enable_timing=True))", "m.Event().ipc_handle()",
    "m.Event.from_ipc_handle('cpu', b'')",
    "m.zeros(2).record_stream(1)",
]


def _run(m, expr):
    try:
        return "ok", eval(expr, {"m": m})
    except Exception as exc:   # the outcome compared is the exception's type and first line
        return type(exc).__name__, str(exc).split("\n")[0]


@pytest.mark.parametrize("expr", CASES)
def test_stream_event_as_torch(expr):
    got, want = _run(ember, expr), _run(torch, expr)
    if want[0] == "ok" and isinstance(want[1], torch.device):
        want = ("ok", ember.device(str(want[1])))
    assert got == want


def test_record_stream_on_cpu_raises_not_implemented():
    """PyTorch's message starts with this sentence and goes on to list the dispatcher's back ends."""
    for m in (torch, ember):
        with pytest.raises(NotImplementedError, match=r"Could not run 'aten::record_stream' with arguments from "
                                                      r"the 'CPU' backend\."):
            m.zeros(2).record_stream(m.Stream())


def test_stream_context_returns_itself():
    s = ember.Stream()
    with s as entered:
        assert entered is s
