"""Transformer, TransformerEncoder/Decoder and their layers against PyTorch (weights copied through
NumPy): outputs and gradients in train (dropout 0) and eval mode, masks, norm_first, activations,
batch_first, the nested-tensor inference path, repr, state_dict keys."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as F
from seq_helpers import one_torch_thread, close, leaf_pair

_torch_threads = pytest.fixture(scope="module", autouse=True)(one_torch_thread)

RNG = np.random.default_rng


def copy_into(em, tm):
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    assert list(em.state_dict()) == list(tm.state_dict())


def run_pair(em, tm, inputs, dt=np.float64, extra_e=None, extra_t=None, train=True):
    em.train(train), tm.train(train)
    pairs = [leaf_pair(a.astype(dt)) for a in inputs]
    oe = em(*[p[0] for p in pairs], **(extra_e or {}))
    ot = tm(*[p[1] for p in pairs], **(extra_t or {}))
    close(oe, ot, dt)
    g = RNG(11).standard_normal(tuple(ot.shape)).astype(dt)
    (oe * ember.tensor(g)).sum().backward()
    (ot * torch.tensor(g)).sum().backward()
    for a, b in pairs:
        close(a.grad, b.grad, dt)
    pe = dict(em.named_parameters())
    for n, p in tm.named_parameters():
        close(pe[n].grad, p.grad, dt)
    return oe, ot


def layer_pair(cls, *args, dt=np.float64, activation=None, **kw):
    ta = activation if activation is None or isinstance(activation, str) else activation[1]
    ea = activation if activation is None or isinstance(activation, str) else activation[0]
    extra_t = {} if ta is None else {"activation": ta}
    extra_e = {} if ea is None else {"activation": ea}
    tm = getattr(torch.nn, cls)(*args, **kw, **extra_t).to(torch.float64 if dt == np.float64 else torch.float32)
    em = getattr(enn, cls)(*args, **kw, **extra_e).to(ember.float64 if dt == np.float64 else ember.float32)
    copy_into(em, tm)
    assert str(em) == str(tm)
    return em, tm


def masks(lib, L, S=None, dtype=None):
    S = S or L
    causal = lib.nn.Transformer.generate_square_subsequent_mask(L, dtype=dtype)
    kpm = np.zeros((2, S), bool)
    kpm[0, S - 2:] = True
    return causal, lib.tensor(kpm)


ENC_CASES = [dict(), dict(batch_first=True), dict(norm_first=True), dict(activation="gelu"),
             dict(activation=(lambda x: x.tanh(), lambda x: x.tanh())),
             dict(activation=(enn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh"))),
             dict(bias=False, norm_first=True, layer_norm_eps=1e-3)]


@pytest.mark.parametrize("kw", ENC_CASES)
@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_encoder_layer(kw, dt):
    em, tm = layer_pair("TransformerEncoderLayer", 8, 2, 16, dropout=0.0, dt=dt, **kw)
    bf = kw.get("batch_first", False)
    x = RNG(0).standard_normal((2, 5, 8) if bf else (5, 2, 8))
    run_pair(em, tm, [x], dt)
    ce, kpe = masks(ember, 5, dtype=ember.float64 if dt == np.float64 else ember.float32)
    ct, kpt = masks(torch, 5, dtype=torch.float64 if dt == np.float64 else torch.float32)
    run_pair(em, tm, [x], dt, dict(src_mask=ce, src_key_padding_mask=kpe), dict(src_mask=ct, src_key_padding_mask=kpt))
    run_pair(em, tm, [x], dt, dict(src_mask=ce, is_causal=True), dict(src_mask=ct, is_causal=True))


DEC_CASES = [dict(), dict(batch_first=True), dict(norm_first=True, activation="gelu"), dict(bias=False)]


@pytest.mark.parametrize("kw", DEC_CASES)
def test_decoder_layer(kw):
    em, tm = layer_pair("TransformerDecoderLayer", 8, 2, 16, dropout=0.0, **kw)
    bf = kw.get("batch_first", False)
    rng = RNG(1)
    tgt = rng.standard_normal((2, 4, 8) if bf else (4, 2, 8))
    mem = rng.standard_normal((2, 6, 8) if bf else (6, 2, 8))
    run_pair(em, tm, [tgt, mem])
    ce, kpe = masks(ember, 4, 6, dtype=ember.float64)
    ct, kpt = masks(torch, 4, 6, dtype=torch.float64)
    mkpe, mkpt = ember.tensor(np.array([[0, 0, 0, 0, 1, 1], [0] * 6], bool)), \
        torch.tensor(np.array([[0, 0, 0, 0, 1, 1], [0] * 6], bool))
    run_pair(em, tm, [tgt, mem], np.float64,
             dict(tgt_mask=ce, memory_key_padding_mask=mkpe, tgt_is_causal=True),
             dict(tgt_mask=ct, memory_key_padding_mask=mkpt, tgt_is_causal=True))


@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack_and_final_norm(batch_first):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=batch_first),
                                         3, norm=torch.nn.LayerNorm(8)).double()
        em = enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=batch_first), 3,
                                    norm=enn.LayerNorm(8)).double()
    copy_into(em, tm)
    assert str(em) == str(tm)
    x = RNG(2).standard_normal((2, 5, 8) if batch_first else (5, 2, 8))
    run_pair(em, tm, [x])
    ce, _ = masks(ember, 5, dtype=ember.float64)
    ct, _ = masks(torch, 5, dtype=torch.float64)
    run_pair(em, tm, [x], np.float64, dict(mask=ce), dict(mask=ct))       # causal mask auto-detected


@pytest.mark.parametrize("grad", [False, True])
def test_encoder_inference_with_padding_matches_nested_path(grad):
    """torch runs eval-mode encoders with a padding mask on nested tensors: padded positions come out
    as zeros (before the final norm).  ember reproduces the result, and the ordinary result when grad
    is being recorded."""
    tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), 2).double()
    em = enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), 2).double()
    copy_into(em, tm)
    tm.eval(), em.eval()
    x = RNG(3).standard_normal((3, 5, 8))
    kpm = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]], bool)
    if grad:
        ot = tm(torch.tensor(x, requires_grad=True), src_key_padding_mask=torch.tensor(kpm))
        oe = em(ember.tensor(x, requires_grad=True), src_key_padding_mask=ember.tensor(kpm))
        assert np.abs(ot.detach().numpy()[0, 3:]).sum() > 0
    else:
        with torch.no_grad():
            ot = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        with ember.no_grad():
            oe = em(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm))
        assert not ot.numpy()[0, 3:].any()
    close(oe, ot)


def test_nested_tensor_warning_as_torch():
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2), 2)
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        m = enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2), 2)
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]
    assert m.use_nested_tensor is False and m.enable_nested_tensor is True


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True, norm_first=True, activation="gelu")])
def test_full_transformer(kw):
    tm = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kw).double()
    em = enn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kw).double()
    copy_into(em, tm)
    assert str(em) == str(tm)
    bf = kw.get("batch_first", False)
    rng = RNG(4)
    src = rng.standard_normal((2, 6, 8) if bf else (6, 2, 8))
    tgt = rng.standard_normal((2, 5, 8) if bf else (5, 2, 8))
    ce = enn.Transformer.generate_square_subsequent_mask(5, dtype=ember.float64)
    ct = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    skpm = np.array([[0, 0, 0, 0, 1, 1], [0] * 6], bool)
    run_pair(em, tm, [src, tgt], np.float64,
             dict(tgt_mask=ce, src_key_padding_mask=ember.tensor(skpm), memory_key_padding_mask=ember.tensor(skpm)),
             dict(tgt_mask=ct, src_key_padding_mask=torch.tensor(skpm), memory_key_padding_mask=torch.tensor(skpm)))


def test_generate_square_subsequent_mask():
    for sz in (1, 4):
        close(enn.Transformer.generate_square_subsequent_mask(sz),
              torch.nn.Transformer.generate_square_subsequent_mask(sz), np.float32)
    assert enn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype is ember.float64


def test_transformer_init_and_errors():
    m = enn.Transformer(16, 2, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight._data
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    tm = torch.nn.Transformer(16, 2, 1, 1, 32)
    for src, tgt in (((5, 2, 16), (4, 3, 16)), ((5, 2, 16), (4, 2, 8))):
        with pytest.raises(RuntimeError) as it:
            tm(torch.zeros(src), torch.zeros(tgt))
        with pytest.raises(RuntimeError) as ie:
            m(ember.zeros(src), ember.zeros(tgt))
        assert str(ie.value).startswith(str(it.value))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        enn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_dropout_train_vs_eval():
    m = enn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = ember.randn(5, 2, 8)
    m.eval()
    a = m(x)
    np.testing.assert_array_equal(a._data, m(x)._data)
    m.train()
    assert not np.allclose(m(x)._data, a._data)


def test_encoder_layer_activation_flags():
    assert enn.TransformerEncoderLayer(8, 2).activation_relu_or_gelu == 1
    assert enn.TransformerEncoderLayer(8, 2, activation="gelu").activation_relu_or_gelu == 2
    assert enn.TransformerEncoderLayer(8, 2, activation=enn.ReLU()).activation_relu_or_gelu == 1
    assert enn.TransformerEncoderLayer(8, 2, activation=F.silu).activation_relu_or_gelu == 0


def test_small_training_run_follows_torch():
    """A few SGD steps of a tiny encoder classifier: ember's losses follow torch's."""
    tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True,
                                                                      norm_first=True), 2,
                                     enable_nested_tensor=False).double()
    em = enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=True), 2,
                                enable_nested_tensor=False).double()
    copy_into(em, tm)
    rng = RNG(5)
    x, y = rng.standard_normal((4, 6, 8)), rng.integers(0, 8, 4)
    xe, ye, xt, yt = ember.tensor(x), ember.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(4):
        le = F.cross_entropy(em(xe).mean(1), ye)
        lt = torch.nn.functional.cross_entropy(tm(xt).mean(1), yt)
        np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-10)
        le.backward()
        lt.backward()
        with ember.no_grad():
            for p in em.parameters():
                p -= 0.1 * p.grad
                p.grad = None
        with torch.no_grad():
            for p in tm.parameters():
                p -= 0.1 * p.grad
                p.grad = None


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_inference_kernel_fully_padded_row(norm_first):
    """torch's fused encoder-layer inference kernel yields NaN for a sequence that is all padding."""
    tm = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=norm_first).double().eval()
    em = enn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=norm_first).double().eval()
    copy_into(em, tm)
    x = RNG(6).standard_normal((3, 5, 8))
    kpm = np.array([[0, 0, 0, 1, 1], [0] * 5, [1] * 5], bool)
    with torch.no_grad():
        ot = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).numpy()
    with ember.no_grad():
        oe = em(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm))._data
    np.testing.assert_array_equal(np.isnan(oe), np.isnan(ot))
    np.testing.assert_allclose(oe[:2], ot[:2], rtol=1e-9, atol=1e-11)
