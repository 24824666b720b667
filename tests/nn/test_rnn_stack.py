"""A unidirectional multi-layer RNN/LSTM/GRU runs as one op (ember.ops._rnn_stack), its layers a wavefront on
two threads: the same values and gradients as PyTorch with the wavefront on and off, double backward,
errors raised from either thread, and the per-layer ops while a profile hook records them."""
import sys

import numpy as np
import pytest
import torch

import ember
import ember.nn.utils.rnn as ern
import torch.nn.utils.rnn as trn
from ember.ops import _rnn_stack

from seq_helpers import one_torch_thread, close, twin, leaf_pair, compare_run  # noqa: E402

_torch_threads = pytest.fixture(scope="module", autouse=True)(one_torch_thread)


@pytest.fixture(params=[True, False], ids=["wavefront", "sequential"])
def wavefront(request, monkeypatch):
    monkeypatch.setattr(_rnn_stack, "_parallel", lambda array: request.param)
    return request.param


CONFIGS = [
    ("LSTM", dict(num_layers=2)),
    ("LSTM", dict(num_layers=3, proj_size=3)),
    ("LSTM", dict(num_layers=2, bias=False, batch_first=True)),
    ("GRU", dict(num_layers=3)),
    ("RNN", dict(num_layers=2, nonlinearity="relu")),
    ("RNN", dict(num_layers=3, batch_first=True)),
]


def _states(cls_name, kw, B, rng, dt, H=6):
    L = kw["num_layers"]
    shapes = [(L, B, kw.get("proj_size") or H)] + ([(L, B, H)] if cls_name == "LSTM" else [])
    return [rng.standard_normal(s).astype(dt) for s in shapes]


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("cls_name,kw", CONFIGS)
def test_padded_parity(wavefront, cls_name, kw, with_state, dt):
    em, tm = twin(cls_name, 4, 6, dtype=dt, **kw)
    T, B = 23, 4       # several wavefront chunks of 16 steps x 4 rows
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, 4) if kw.get("batch_first") else (T, B, 4)).astype(dt)
    if not with_state:
        compare_run(em, tm, [x], dt)
    elif cls_name == "LSTM":
        compare_run(em, tm, [x] + _states(cls_name, kw, B, rng, dt), dt, lambda R, lib, a: (a[0], (a[1], a[2])))
    else:
        compare_run(em, tm, [x] + _states(cls_name, kw, B, rng, dt), dt)


@pytest.mark.parametrize("cls_name,kw", CONFIGS)
def test_packed_parity(wavefront, cls_name, kw):
    em, tm = twin(cls_name, 4, 6, **kw)
    lengths = [40, 33, 33, 12, 1]
    rng = np.random.default_rng(1)
    bf = kw.get("batch_first", False)
    x = rng.standard_normal((5, 40, 4) if bf else (40, 5, 4))
    states = _states(cls_name, kw, 5, rng, np.float64)

    def make(R, lib, a):
        packed = R.pack_padded_sequence(a[0], lengths, batch_first=bf)
        return (packed, (a[1], a[2])) if cls_name == "LSTM" else (packed, a[1])

    compare_run(em, tm, [x] + states, np.float64, make)


@pytest.mark.parametrize("cls_name,kw", [("LSTM", dict(num_layers=2)), ("GRU", dict(num_layers=2)),
                                         ("LSTM", dict(num_layers=2, proj_size=2))])
def test_double_backward(wavefront, cls_name, kw):
    em, tm = twin(cls_name, 3, 4, **kw)
    x = np.random.default_rng(6).standard_normal((5, 2, 3))
    xe, xt = leaf_pair(x)
    ge, = ember.autograd.grad((em(xe)[0] ** 2).sum(), xe, create_graph=True)
    gt, = torch.autograd.grad((tm(xt)[0] ** 2).sum(), xt, create_graph=True)
    close(ge, gt)
    (ge ** 2).sum().backward()
    (gt ** 2).sum().backward()
    close(xe.grad, xt.grad)
    for k, p in tm.named_parameters():
        close(dict(em.named_parameters())[k].grad, p.grad)


def test_gradcheck(wavefront):
    m = ember.nn.LSTM(3, 4, num_layers=2).double()
    x = ember.randn(6, 2, 3, dtype=ember.float64, requires_grad=True)
    h = ember.randn(2, 2, 4, dtype=ember.float64, requires_grad=True)
    c = ember.randn(2, 2, 4, dtype=ember.float64, requires_grad=True)

    def f(x, h, c, *params):
        out, (hn, cn) = m(x, (h, c))
        return out, hn, cn

    assert ember.autograd.gradcheck(f, (x, h, c))


def _failing_layer(which, real):
    def layer(mode, X, *args, **kwargs):
        if layer.calls == which:
            raise ValueError("layer %d failed" % which)
        layer.calls += 1
        return real(mode, X, *args, **kwargs)
    layer.calls = 0
    return layer


@pytest.mark.parametrize("which", [0, 1, 2])
def test_error_in_either_thread_is_raised(wavefront, monkeypatch, which):
    """A layer raising on one thread stops the layers waiting for it on the other; its error is the one raised."""
    m = ember.nn.LSTM(3, 4, num_layers=3)
    x = ember.randn(40, 2, 3)
    monkeypatch.setattr(_rnn_stack, "layer_forward", _failing_layer(which, _rnn_stack.layer_forward))
    with pytest.raises(ValueError, match="layer %d failed" % which):
        m(x)
    monkeypatch.undo()
    monkeypatch.setattr(_rnn_stack, "_parallel", lambda array: wavefront)
    out, _ = m(x)
    monkeypatch.setattr(_rnn_stack, "layer_backward", _failing_layer(which, _rnn_stack.layer_backward))
    with pytest.raises(ValueError, match="layer %d failed" % which):
        out.sum().backward()


def test_output_modified_in_place_is_detected():
    o, _ = ember.nn.GRU(2, 3, num_layers=2)(ember.randn(4, 2, 2, requires_grad=True))
    o.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        o.sum().backward()


def test_profile_hook_sees_one_op_per_layer():
    """While a profile hook runs (ONNX export's tracer, ember.profiler), each layer is its own rnn_layer call."""
    from ember.ops import rnn_ops
    m = ember.nn.LSTM(3, 4, num_layers=3)
    x = ember.randn(5, 2, 3)
    calls = []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is rnn_ops.rnn_layer.__code__:
            calls.append(frame)

    sys.setprofile(hook)
    try:
        out_hooked, _ = m(x)
    finally:
        sys.setprofile(None)
    assert len(calls) == 3
    out, _ = m(x)
    np.testing.assert_allclose(out_hooked._data, out._data, rtol=1e-6, atol=1e-6)
    assert type(out.grad_fn).__name__ == "RnnStackBackward0"


def test_packed_sequence_through_module_matches_torch():
    em, tm = twin("LSTM", 3, 5, num_layers=2)
    seqs = [np.random.default_rng(i).standard_normal((n, 3)) for i, n in enumerate([7, 3, 5])]
    pe = ern.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    pt = trn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    (oe, (he, ce)), (ot, (ht, ct)) = em(pe), tm(pt)
    close(oe.data, ot.data)
    close(he, ht)
    close(ce, ct)
