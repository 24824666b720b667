"""Recurrent layers and nn.utils.rnn against PyTorch: same weights (copied through NumPy), same inputs;
outputs, final states, input / initial-state / parameter gradients, repr, state_dict keys, errors."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.utils.rnn as ern
import torch.nn.utils.rnn as trn

from empty_variants import run_layer, same_outcome
from seq_helpers import one_torch_thread, close, twin, leaf_pair, compare_run  # noqa: E402

_torch_threads = pytest.fixture(scope="module", autouse=True)(one_torch_thread)


CONFIGS = [
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2)),
    ("LSTM", dict(bidirectional=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(proj_size=3)),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True)),
    ("LSTM", dict(bias=False, num_layers=2)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(batch_first=True, bias=False)),
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNN", dict(bidirectional=True, batch_first=True)),
    ("RNN", dict(nonlinearity="relu", bias=False, bidirectional=True)),
]


def _state_shapes(cls_name, kw, B, H=6):
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    Hout = kw.get("proj_size") or H
    if cls_name == "LSTM":
        return [(L * D, B, Hout), (L * D, B, H)]
    return [(L * D, B, H)]


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("cls_name,kw", CONFIGS)
def test_padded_parity(cls_name, kw, with_state, dt):
    em, tm = twin(cls_name, 4, 6, dtype=dt, **kw)
    T, B = 5, 3
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, 4) if kw.get("batch_first") else (T, B, 4)).astype(dt)
    if not with_state:
        compare_run(em, tm, [x], dt)
        return
    states = [rng.standard_normal(s).astype(dt) for s in _state_shapes(cls_name, kw, B)]
    if cls_name == "LSTM":
        compare_run(em, tm, [x] + states, dt, lambda R, lib, a: (a[0], (a[1], a[2])))
    else:
        compare_run(em, tm, [x] + states, dt)


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("cls_name,kw", CONFIGS)
def test_padded_parity_empty_batch(cls_name, kw, with_state):
    """A 0-size batch, forward and backward: PyTorch's result (empty outputs and states, zero weight
    gradients), or its exception type."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((0, 5, 4) if kw.get("batch_first") else (5, 0, 4))
    states = [rng.standard_normal(s) for s in _state_shapes(cls_name, kw, 0)] if with_state else []
    arrange = (lambda R, lib, a: (a[0], (a[1], a[2]))) if cls_name == "LSTM" and with_state else None
    call = (lambda m, *ts: m(*arrange(None, None, ts))) if arrange else None
    same_outcome(lambda lib: run_layer(lib, lambda L: getattr(L.nn, cls_name)(4, 6, **kw), [x] + states, (True,),
                                       call=call),
                 lambda: compare_run(*twin(cls_name, 4, 6, **kw), [x] + states, np.float64, arrange))


@pytest.mark.parametrize("cls_name,kw", [("LSTM", dict(num_layers=2, bidirectional=True)),
                                         ("LSTM", dict(proj_size=2, bidirectional=True)),
                                         ("GRU", dict(bidirectional=True)),
                                         ("RNN", dict(num_layers=2, nonlinearity="relu", bidirectional=True)),
                                         ("GRU", dict(batch_first=True))])
@pytest.mark.parametrize("sorted_lengths", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed_parity(cls_name, kw, sorted_lengths, with_state):
    em, tm = twin(cls_name, 4, 6, **kw)
    T, B = 6, 4
    lengths = [6, 4, 4, 1] if sorted_lengths else [3, 6, 1, 4]
    rng = np.random.default_rng(1)
    bf = kw.get("batch_first", False)
    x = rng.standard_normal((B, T, 4) if bf else (T, B, 4))
    states = [rng.standard_normal(s) for s in _state_shapes(cls_name, kw, B)] if with_state else []

    def make(R, lib, a):
        packed = R.pack_padded_sequence(a[0], lengths, batch_first=bf, enforce_sorted=sorted_lengths)
        if not a[1:]:
            return (packed,)
        return (packed, (a[1], a[2])) if cls_name == "LSTM" else (packed, a[1])

    oe, ot = compare_run(em, tm, [x] + states, np.float64, make)
    pe, pt = oe[0], ot[0]
    assert isinstance(pe, ern.PackedSequence)
    assert pe.batch_sizes.tolist() == pt.batch_sizes.tolist()
    pad_e, len_e = ern.pad_packed_sequence(pe, batch_first=bf)
    pad_t, len_t = trn.pad_packed_sequence(pt, batch_first=bf)
    close(pad_e, pad_t)
    assert len_e.tolist() == len_t.tolist()


@pytest.mark.parametrize("cls_name", ["LSTM", "GRU", "RNN"])
def test_unbatched(cls_name):
    em, tm = twin(cls_name, 3, 5, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 3))
    compare_run(em, tm, [x], np.float64)
    h = rng.standard_normal((4, 5))
    if cls_name == "LSTM":
        c = rng.standard_normal((4, 5))
        oe, ot = compare_run(em, tm, [x, h, c], np.float64, lambda R, lib, a: (a[0], (a[1], a[2])))
        assert tuple(oe[1][0].shape) == (4, 5)
    else:
        oe, ot = compare_run(em, tm, [x, h], np.float64)
        assert tuple(oe[1].shape) == (4, 5)


@pytest.mark.parametrize("cls_name,kw", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                                         ("LSTMCell", {}), ("LSTMCell", dict(bias=False)), ("GRUCell", {}),
                                         ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_cells(cls_name, kw, dt):
    em, tm = twin(cls_name, 4, 5, dtype=dt, **kw)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4)).astype(dt)
    compare_run(em, tm, [x], dt)                       # zero initial state
    h = rng.standard_normal((3, 5)).astype(dt)
    if cls_name == "LSTMCell":
        c = rng.standard_normal((3, 5)).astype(dt)
        compare_run(em, tm, [x, h, c], dt, lambda R, lib, a: (a[0], (a[1], a[2])))
        compare_run(em, tm, [x[0], h[0], c[0]], dt, lambda R, lib, a: (a[0], (a[1], a[2])))   # unbatched
    else:
        compare_run(em, tm, [x, h], dt)
        compare_run(em, tm, [x[0], h[0]], dt)


def test_cell_unrolled_sequence_matches_layer():
    """A cell stepped in a Python loop (the seeds' char-rnn style) gives torch's gradients."""
    em, tm = twin("LSTMCell", 3, 4)
    rng = np.random.default_rng(4)
    xs = rng.standard_normal((6, 2, 3))

    def run(lib, cell, x):
        h = c = lib.zeros(2, 4, dtype=lib.float64)
        outs = []
        for t in range(x.shape[0]):
            h, c = cell(x[t], (h, c))
            outs.append(h)
        return lib.stack(outs)

    xe, xt = leaf_pair(xs)
    oe, ot = run(ember, em, xe), run(torch, tm, xt)
    close(oe, ot)
    (oe ** 2).sum().backward()
    (ot ** 2).sum().backward()
    close(xe.grad, xt.grad)
    close(em.weight_hh.grad, tm.weight_hh.grad)


@pytest.mark.parametrize("cls_name,kw", [("LSTM", dict(num_layers=2)), ("GRU", dict(bidirectional=True)),
                                         ("RNN", dict(nonlinearity="tanh")), ("LSTM", dict(proj_size=2))])
def test_double_backward(cls_name, kw):
    em, tm = twin(cls_name, 3, 4, **kw)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 2, 3))
    xe, xt = leaf_pair(x)
    oe, ot = em(xe)[0], tm(xt)[0]
    ge, = ember.autograd.grad((oe ** 2).sum(), xe, create_graph=True)
    gt, = torch.autograd.grad((ot ** 2).sum(), xt, create_graph=True)
    close(ge, gt)
    (ge ** 2).sum().backward()
    (gt ** 2).sum().backward()
    close(xe.grad, xt.grad)
    for k, p in tm.named_parameters():
        close(dict(em.named_parameters())[k].grad, p.grad)


REPRS = [("LSTM", (10, 20), {}), ("LSTM", (10, 20, 2), dict(proj_size=5, dropout=0.25, bidirectional=True)),
         ("LSTM", (3, 4), dict(bias=False, batch_first=True)), ("GRU", (3, 4, 3), {}),
         ("RNN", (3, 4), dict(nonlinearity="relu")), ("RNN", (3, 4, 2, "relu"), {}),
         ("RNNCell", (3, 4), dict(nonlinearity="relu", bias=False)), ("LSTMCell", (3, 4), {}),
         ("GRUCell", (3, 4), dict(bias=False))]


@pytest.mark.parametrize("cls_name,args,kw", REPRS)
def test_repr_state_dict_and_names(cls_name, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = getattr(torch.nn, cls_name)(*args, **kw)
        em = getattr(enn, cls_name)(*args, **kw)
    assert str(em) == str(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    for (ke, pe), (kt, pt) in zip(em.named_parameters(), tm.named_parameters()):
        assert ke == kt and tuple(pe.shape) == tuple(pt.shape) and isinstance(pe, enn.Parameter)
    if hasattr(tm, "_flat_weights_names"):
        assert em._flat_weights_names == tm._flat_weights_names
        assert em._all_weights == tm._all_weights
        assert [tuple(w.shape) for w in em._flat_weights] == [tuple(w.shape) for w in tm._flat_weights]
        assert [[tuple(w.shape) for w in ws] for ws in em.all_weights] == \
            [[tuple(w.shape) for w in ws] for ws in tm.all_weights]
    assert type(em).__module__ == "ember.nn.modules.rnn"


@pytest.mark.parametrize("cls_name", ["LSTM", "GRU", "RNN", "LSTMCell"])
def test_init_distribution(cls_name):
    m = getattr(enn, cls_name)(8, 64, **({"num_layers": 2} if cls_name != "LSTMCell" else {}))
    bound = 1 / 8.0
    allv = np.concatenate([p.detach()._data.ravel() for p in m.parameters()])
    assert allv.min() >= -bound and allv.max() <= bound
    assert abs(allv.mean()) < 0.01 * bound * 10
    np.testing.assert_allclose(allv.std(), bound / np.sqrt(3), rtol=0.03)


def test_flat_weights_follow_assignment_and_to():
    m = enn.LSTM(3, 4)
    m.flatten_parameters()
    new = enn.Parameter(ember.zeros(16, 3))
    m.weight_ih_l0 = new
    assert m._flat_weights[0] is new
    m.double()
    assert m._flat_weights[0].dtype is ember.float64
    out, _ = m(ember.randn(2, 1, 3, dtype=ember.float64))
    assert out.dtype is ember.float64


def test_pickle_and_deepcopy_keep_working():
    m = enn.GRU(3, 4, 2)
    x = ember.randn(5, 2, 3)
    ref = m(x)[0]
    for m2 in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        np.testing.assert_allclose(m2(x)[0].detach()._data, ref.detach()._data)
        assert m2._flat_weights[0] is m2.weight_ih_l0


def test_dropout_between_layers():
    ember.manual_seed(0)
    m = enn.LSTM(4, 8, num_layers=3, dropout=0.5)
    x = ember.randn(5, 2, 4)
    m.eval()
    e1, e2 = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(e1._data, e2._data)          # eval: deterministic
    m.train()
    ember.manual_seed(1)
    t1 = m(x)[0]
    ember.manual_seed(1)
    t2 = m(x)[0]
    np.testing.assert_array_equal(t1._data, t2._data)          # same seed, same masks
    assert not np.allclose(t1._data, e1._data)                 # dropout changed something
    m.dropout = 0.0
    np.testing.assert_allclose(m(x)[0]._data, e1._data)        # p=0 in train == eval


def test_dropout_matches_torch_in_eval_and_p0_train():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em, tm = twin("GRU", 3, 4, num_layers=2, dropout=0.3)
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    em.eval(), tm.eval()
    compare_run(em, tm, [x], np.float64)


def test_training_trajectory_matches_torch():
    """A few SGD steps of embedding-free sequence regression follow torch's losses."""
    em, tm = twin("LSTM", 3, 5, num_layers=2)
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((6, 4, 3)), rng.standard_normal((6, 4, 5))
    xe, ye, xt, yt = ember.tensor(x), ember.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(5):
        le = ((em(xe)[0] - ye) ** 2).mean()
        lt = ((tm(xt)[0] - yt) ** 2).mean()
        np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-10)
        le.backward()
        lt.backward()
        with ember.no_grad():
            for p in em.parameters():
                p -= 0.5 * p.grad
                p.grad = None
        with torch.no_grad():
            for p in tm.parameters():
                p -= 0.5 * p.grad
                p.grad = None


def test_long_sequence_backward():
    m = enn.GRU(2, 3)
    x = ember.randn(3000, 1, 2, requires_grad=True)
    m(x)[0].sum().backward()
    assert np.isfinite(x.grad._data).all()


def test_no_grad_keeps_no_graph():
    m = enn.LSTM(2, 3)
    with ember.no_grad():
        o, (h, c) = m(ember.randn(4, 2, 2))
    assert o.grad_fn is None and not o.requires_grad and h.grad_fn is None


def test_output_modified_in_place_is_detected():
    m = enn.RNN(2, 3)
    o, h = m(ember.randn(4, 2, 2))
    o.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        o.sum().backward()


def _raises(fe, ft, exc=None, match=None):
    with pytest.raises(Exception) as it:
        ft()
    with pytest.raises(type(it.value) if exc is None else exc) as ie:
        fe()
    if match:
        assert match in str(ie.value), str(ie.value)
    return str(ie.value), str(it.value)


def test_errors_match_torch():
    em, tm = twin("LSTM", 3, 4)
    rng = np.random.default_rng(0)
    bad = rng.standard_normal((2, 5, 2))
    e, t = _raises(lambda: em(ember.tensor(bad)), lambda: tm(torch.tensor(bad)))
    assert e.startswith(t), (e, t)
    x = rng.standard_normal((2, 5, 3))
    e, t = _raises(lambda: em(ember.tensor(x), (ember.zeros(1, 4, 4, dtype=ember.float64),
                                                 ember.zeros(1, 5, 4, dtype=ember.float64))),
                   lambda: tm(torch.tensor(x), (torch.zeros(1, 4, 4, dtype=torch.float64),
                                                torch.zeros(1, 5, 4, dtype=torch.float64))))
    assert e.startswith(t), (e, t)
    e, t = _raises(lambda: em(ember.tensor(x, dtype=ember.float32)), lambda: tm(torch.tensor(x, dtype=torch.float32)))
    assert e.startswith(t), (e, t)
    e, t = _raises(lambda: em(ember.zeros(1, 2, 3, 4)), lambda: tm(torch.zeros(1, 2, 3, 4)))
    assert e.startswith(t), (e, t)
    g_e, g_t = twin("GRU", 3, 4)
    e, t = _raises(lambda: g_e(ember.tensor(x), ember.zeros(4, 4, dtype=ember.float64)),
                   lambda: g_t(torch.tensor(x), torch.zeros(4, 4, dtype=torch.float64)))
    assert e.startswith(t), (e, t)
    c_e, c_t = twin("GRUCell", 3, 4)
    e, t = _raises(lambda: c_e(ember.zeros(2, 5, dtype=ember.float64)),
                   lambda: c_t(torch.zeros(2, 5, dtype=torch.float64)))
    assert e.startswith(t), (e, t)


@pytest.mark.parametrize("args,kw", [((3, 4), dict(dropout=1.5)), ((3, 4), dict(proj_size=4)),
                                     ((3, 0), {}), ((3, 4, 0), {}), ((3, 4), dict(bias=1))])
def test_constructor_errors(args, kw):
    e, t = _raises(lambda: enn.LSTM(*args, **kw), lambda: torch.nn.LSTM(*args, **kw))
    assert e.startswith(t), (e, t)
    _raises(lambda: enn.GRU(3, 4, proj_size=2), lambda: torch.nn.GRU(3, 4, proj_size=2))
    _raises(lambda: enn.RNN(3, 4, nonlinearity="gelu"), lambda: torch.nn.RNN(3, 4, nonlinearity="gelu"))


def test_dropout_single_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        enn.GRU(3, 4, dropout=0.2)


def test_functional_cells_are_exported():
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    w_ih, w_hh, b = rng.standard_normal((16, 3)), rng.standard_normal((16, 4)), rng.standard_normal(16)
    E, T = (lambda a: ember.tensor(a)), (lambda a: torch.tensor(a))
    he, ce = ember.lstm_cell(E(x), (E(h), E(c)), E(w_ih), E(w_hh), E(b), E(b))
    ht, ct = torch.lstm_cell(T(x), (T(h), T(c)), T(w_ih), T(w_hh), T(b), T(b))
    close(he, ht)
    close(ce, ct)
    close(ember.gru_cell(E(x), E(h), E(w_ih[:12]), E(w_hh[:12]), E(b[:12]), E(b[:12])),
          torch.gru_cell(T(x), T(h), T(w_ih[:12]), T(w_hh[:12]), T(b[:12]), T(b[:12])))
    close(ember.rnn_tanh_cell(E(x), E(h), E(w_ih[:4]), E(w_hh[:4])),
          torch.rnn_tanh_cell(T(x), T(h), T(w_ih[:4]), T(w_hh[:4])))
    close(ember.rnn_relu_cell(E(x), E(h), E(w_ih[:4]), E(w_hh[:4]), E(b[:4]), E(b[:4])),
          torch.rnn_relu_cell(T(x), T(h), T(w_ih[:4]), T(w_hh[:4]), T(b[:4]), T(b[:4])))


# ------------------------------------------------------------------------------------------- utils.rnn
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [4, 3, 3, 1]), (False, [2, 4, 1, 4]),
                                                    (False, [3, 3, 3, 3])])
def test_pack_pad_roundtrip(batch_first, enforce_sorted, lengths):
    rng = np.random.default_rng(0)
    xe, xt = leaf_pair(rng.standard_normal((4, 4, 2)))
    pe = ern.pack_padded_sequence(xe, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = trn.pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    close(pe.data, pt.data)
    assert pe.batch_sizes.tolist() == pt.batch_sizes.tolist() and pe.batch_sizes.dtype is ember.int64
    for a, b in ((pe.sorted_indices, pt.sorted_indices), (pe.unsorted_indices, pt.unsorted_indices)):
        assert (a is None and b is None) or a.tolist() == b.tolist()
    for total in (None, 6):
        for bf2 in (False, True):
            oe, le = ern.pad_packed_sequence(pe, batch_first=bf2, padding_value=-1.0, total_length=total)
            ot, lt = trn.pad_packed_sequence(pt, batch_first=bf2, padding_value=-1.0, total_length=total)
            close(oe, ot)
            assert le.tolist() == lt.tolist() and le.dtype is ember.int64
    g = rng.standard_normal(tuple(ot.shape))
    (oe * ember.tensor(g)).sum().backward()
    (ot * torch.tensor(g)).sum().backward()
    close(xe.grad, xt.grad)
    for a, b in zip(ern.unpack_sequence(pe), trn.unpack_sequence(pt)):
        close(a, b)
    le_t = ember.tensor(lengths)
    for a, b in zip(ern.unpad_sequence(xe, le_t, batch_first), trn.unpad_sequence(xt.detach().clone(),
                                                                                 torch.tensor(lengths),
                                                                                 batch_first)):
        close(a, b)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["left", "right"])
def test_pad_sequence(batch_first, side):
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    pe = [leaf_pair(s) for s in seqs]
    oe = ern.pad_sequence([p[0] for p in pe], batch_first, 2.5, side)
    ot = trn.pad_sequence([p[1] for p in pe], batch_first, 2.5, side)
    close(oe, ot)
    g = rng.standard_normal(tuple(ot.shape))
    (oe * ember.tensor(g)).sum().backward()
    (ot * torch.tensor(g)).sum().backward()
    for a, b in pe:
        close(a.grad, b.grad)
    ints = ern.pad_sequence([ember.tensor([1, 2]), ember.tensor([3])], batch_first=True)
    assert ints.dtype is ember.int64 and ints.tolist() == [[1, 2], [3, 0]]


def test_pack_sequence_and_repr():
    seqs = [np.arange(n, dtype=np.float32) for n in (2, 3, 1)]
    pe = ern.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    pt = trn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    assert repr(pe) == repr(pt)
    assert isinstance(pe, tuple) and pe._fields == pt._fields
    assert pe.double().data.dtype is ember.float64
    assert [a.tolist() for a in ern.unpack_sequence(pe)] == [s.tolist() for s in seqs]
    assert ern.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert ern.invert_permutation(None) is None


def test_pack_errors_match_torch():
    x = np.zeros((4, 3, 2))
    for lengths in ([2, 3, 1], [3, 2], [3, 0, 1], [3, 2, 0]):
        e, t = _raises(lambda: ern.pack_padded_sequence(ember.tensor(x), lengths),
                       lambda: trn.pack_padded_sequence(torch.tensor(x), lengths))
        assert e.startswith(t), (e, t)
    e, t = _raises(lambda: ern.pad_sequence([]), lambda: trn.pad_sequence([]))
    assert e.startswith(t), (e, t)
    e, t = _raises(lambda: ern.pad_sequence([ember.zeros(2, 3), ember.zeros(3, 2)]),
                   lambda: trn.pad_sequence([torch.zeros(2, 3), torch.zeros(3, 2)]))
    assert e.startswith(t), (e, t)
    e, t = _raises(lambda: ern.pad_sequence([ember.zeros(2)], padding_side="top"),
                   lambda: trn.pad_sequence([torch.zeros(2)], padding_side="top"))
    assert e.startswith(t), (e, t)
    pe = ern.pack_sequence([ember.zeros(3), ember.zeros(2)])
    pt = trn.pack_sequence([torch.zeros(3), torch.zeros(2)])
    e, t = _raises(lambda: ern.pad_packed_sequence(pe, total_length=2),
                   lambda: trn.pad_packed_sequence(pt, total_length=2))
    assert e.startswith(t), (e, t)


@pytest.mark.parametrize("mode,gates,proj", [("LSTM", 4, 0), ("LSTM", 4, 2), ("GRU", 3, 0), ("RNN_TANH", 1, 0),
                                             ("RNN_RELU", 1, 0)])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_layer_composed_twin_agrees(mode, gates, proj, reverse):
    """Under create_graph the fused layer differentiates its composed twin: both give the same first
    derivatives on packed input, both directions, with projections."""
    from ember.ops.rnn_ops import rnn_layer
    rng = np.random.default_rng(8)
    H, Ho, bs = 4, proj or 4, [3, 3, 2, 1]

    def T(*s):
        return ember.tensor(rng.standard_normal(s), requires_grad=True)

    x, h = T(sum(bs), 5), T(3, Ho)
    c = T(3, H) if mode == "LSTM" else None
    w = [T(gates * H, 5), T(gates * H, Ho), T(gates * H), T(gates * H), T(Ho, H) if proj else None]
    ins = [x, h] + ([c] if c is not None else []) + [t for t in w if t is not None]

    def loss():
        o, hn, cn = rnn_layer(mode, x, h, c, *w, reverse, bs)
        total = (o ** 2).sum() + (hn * 1.5).sum()
        return total + (cn ** 3).sum() if cn is not None else total

    g1 = ember.autograd.grad(loss(), ins)
    g2 = ember.autograd.grad(loss(), ins, create_graph=True)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a._data, b._data, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls_name", ["LSTM", "GRU", "RNN"])
def test_frozen_weights_and_constant_input(cls_name):
    """Backward skips the products nobody needs (input without grad, frozen weights) and still gives
    torch's gradients for the rest."""
    em, tm = twin(cls_name, 3, 4, num_layers=2)
    for m in (em, tm):
        m.weight_ih_l0.requires_grad_(False)
        m.bias_hh_l1.requires_grad_(False)
        m.bias_ih_l1.requires_grad_(False)
    x = np.random.default_rng(9).standard_normal((5, 2, 3))
    oe, ot = em(ember.tensor(x))[0], tm(torch.tensor(x))[0]
    (oe ** 2).sum().backward()
    (ot ** 2).sum().backward()
    pe = dict(em.named_parameters())
    for n, p in tm.named_parameters():
        close(pe[n].grad, p.grad)
