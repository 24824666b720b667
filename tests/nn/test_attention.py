"""scaled_dot_product_attention and MultiheadAttention against PyTorch: outputs, attention weights,
gradients of inputs, masks and parameters; masks of every kind; repr, state_dict, init, errors."""
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from seq_helpers import one_torch_thread, close, leaf_pair, twin

_torch_threads = pytest.fixture(scope="module", autouse=True)(one_torch_thread)

RNG = np.random.default_rng


def _sdpa_case(shapes, mask=None, mask_grad=False, dt=np.float64, **kw):
    rng = RNG(0)
    arrays = [rng.standard_normal(s).astype(dt) for s in shapes]
    pairs = [leaf_pair(a) for a in arrays]
    me = mt = None
    if mask is not None:
        if mask.dtype == bool:
            me, mt = ember.tensor(mask), torch.tensor(mask)
        else:
            me, mt = leaf_pair(mask.astype(dt)) if mask_grad else (ember.tensor(mask.astype(dt)),
                                                                   torch.tensor(mask.astype(dt)))
    oe = F.scaled_dot_product_attention(*[p[0] for p in pairs], attn_mask=me, **kw)
    ot = TF.scaled_dot_product_attention(*[p[1] for p in pairs], attn_mask=mt, **kw)
    close(oe, ot, dt)
    g = rng.standard_normal(tuple(ot.shape)).astype(dt)
    (oe * ember.tensor(g)).sum().backward()
    (ot * torch.tensor(g)).sum().backward()
    for a, b in pairs:
        close(a.grad, b.grad, dt)
    if mask_grad:
        close(me.grad, mt.grad, dt)
    return oe, ot


@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_sdpa_plain_and_scaled(dt):
    _sdpa_case([(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], dt=dt)
    _sdpa_case([(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], dt=dt, scale=0.7)
    _sdpa_case([(4, 8), (5, 8), (5, 6)], dt=dt)                       # 2-D
    _sdpa_case([(3, 4, 8), (3, 5, 8), (3, 5, 6)], dt=dt)              # 3-D


def test_sdpa_masks():
    rng = RNG(1)
    shapes = [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)]
    _sdpa_case(shapes, mask=rng.random((4, 5)) > 0.3)
    _sdpa_case(shapes, mask=rng.random((2, 1, 4, 5)) > 0.3)
    _sdpa_case(shapes, mask=rng.standard_normal((4, 5)))
    _sdpa_case(shapes, mask=rng.standard_normal((2, 3, 4, 5)), mask_grad=True)
    _sdpa_case(shapes, mask=rng.standard_normal((1, 3, 1, 5)), mask_grad=True)   # broadcast mask gradient


def test_sdpa_fully_masked_rows_are_zero():
    m = np.ones((4, 5), bool)
    m[1] = False
    oe, ot = _sdpa_case([(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], mask=m)
    assert not np.any(oe._data[:, :, 1])
    fm = np.zeros((4, 5))
    fm[2] = -np.inf
    _sdpa_case([(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], mask=fm)


@pytest.mark.parametrize("L,S", [(5, 5), (4, 6), (6, 4)])
def test_sdpa_causal(L, S):
    _sdpa_case([(2, 2, L, 8), (2, 2, S, 8), (2, 2, S, 3)], is_causal=True)


def test_sdpa_broadcast_and_gqa():
    _sdpa_case([(2, 4, 5, 8), (2, 1, 5, 8), (2, 1, 5, 6)])                     # head dim broadcasts
    _sdpa_case([(2, 4, 5, 8), (2, 2, 5, 8), (2, 2, 5, 6)], enable_gqa=True)    # grouped-query attention
    _sdpa_case([(4, 5, 8), (5, 8), (5, 6)])                                   # batch dims broadcast


def test_sdpa_double_backward():
    rng = RNG(2)
    arrays = [rng.standard_normal(s) for s in ((2, 4, 8), (2, 5, 8), (2, 5, 3))]
    pairs = [leaf_pair(a) for a in arrays]
    mask = rng.random((4, 5)) > 0.3
    oe = F.scaled_dot_product_attention(*[p[0] for p in pairs], attn_mask=ember.tensor(mask))
    ot = TF.scaled_dot_product_attention(*[p[1] for p in pairs], attn_mask=torch.tensor(mask))
    ge = ember.autograd.grad((oe ** 2).sum(), [p[0] for p in pairs], create_graph=True)
    gt = torch.autograd.grad((ot ** 2).sum(), [p[1] for p in pairs], create_graph=True)
    for a, b in zip(ge, gt):
        close(a, b)
    sum((g ** 2).sum() for g in ge).backward()
    sum((g ** 2).sum() for g in gt).backward()
    for a, b in pairs:
        close(a.grad, b.grad)


def test_sdpa_dropout_is_unbiased_and_seeded():
    rng = RNG(3)
    q, k, v = (ember.tensor(rng.standard_normal(s)) for s in ((1, 4, 8), (1, 6, 8), (1, 6, 3)))
    ember.manual_seed(5)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ember.manual_seed(5)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a._data, b._data)
    ref = F.scaled_dot_product_attention(q, k, v)._data
    assert not np.allclose(a._data, ref)
    mean = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)._data for _ in range(3000)], 0)
    np.testing.assert_allclose(mean, ref, atol=0.06)


def test_sdpa_dropout_gradient_uses_the_same_mask():
    """With dropout, the gradient is that of the output actually produced: check numerically by
    replaying the draw (same seed) at a perturbed input."""
    rng = RNG(4)
    arrs = [rng.standard_normal(s) for s in ((3, 8), (5, 8), (5, 2))]
    q = ember.tensor(arrs[0], requires_grad=True)
    k, v = ember.tensor(arrs[1]), ember.tensor(arrs[2])
    ember.manual_seed(9)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    out.sum().backward()
    eps = 1e-6
    dq = np.zeros_like(arrs[0])
    dq[1, 2] = eps
    ember.manual_seed(9)
    up = F.scaled_dot_product_attention(ember.tensor(arrs[0] + dq), k, v, dropout_p=0.4).sum().item()
    ember.manual_seed(9)
    dn = F.scaled_dot_product_attention(ember.tensor(arrs[0] - dq), k, v, dropout_p=0.4).sum().item()
    np.testing.assert_allclose(q.grad._data[1, 2], (up - dn) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_sdpa_errors():
    q, k, v = torch.zeros(2, 4, 8), torch.zeros(2, 5, 8), torch.zeros(2, 5, 6)
    m = torch.ones(4, 5, dtype=torch.bool)
    with pytest.raises(RuntimeError) as it:
        TF.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=True)
    with pytest.raises(RuntimeError) as ie:
        F.scaled_dot_product_attention(ember.zeros(2, 4, 8), ember.zeros(2, 5, 8), ember.zeros(2, 5, 6),
                                       attn_mask=ember.ones(4, 5, dtype=ember.bool), is_causal=True)
    assert str(ie.value) == str(it.value)
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide"):
        F.scaled_dot_product_attention(ember.zeros(1, 3, 4, 8), ember.zeros(1, 2, 5, 8), ember.zeros(1, 2, 5, 6),
                                       enable_gqa=True)


# ---------------------------------------------------------------------------------------- MultiheadAttention
def _mha_run(kw, fkw, self_attn=True, B=3, L=4, S=5, unbatched=False, dt=np.float64, train=False):
    em, tm = twin("MultiheadAttention", 8, 2, dtype=dt, **kw)
    if train:
        em.train(), tm.train()
    else:
        em.eval(), tm.eval()
    bf = kw.get("batch_first", False)
    kd, vd = kw.get("kdim") or 8, kw.get("vdim") or 8
    if self_attn:
        S = L

    def shp(n, d):
        return (n, d) if unbatched else ((B, n, d) if bf else (n, B, d))

    rng = RNG(7)
    q = leaf_pair(rng.standard_normal(shp(L, 8)).astype(dt))
    if self_attn:
        k = v = q
    else:
        k = leaf_pair(rng.standard_normal(shp(S, kd)).astype(dt))
        v = leaf_pair(rng.standard_normal(shp(S, vd)).astype(dt))
    fe, ft = {}, {}
    for name, val in fkw.items():
        if isinstance(val, np.ndarray):
            val = val.astype(dt) if val.dtype.kind == "f" else val
            fe[name], ft[name] = ember.tensor(val), torch.tensor(val)
        else:
            fe[name] = ft[name] = val
    oe, we = em(q[0], k[0], v[0], **fe)
    ot, wt = tm(q[1], k[1], v[1], **ft)
    close(oe, ot, dt)
    if wt is None:
        assert we is None
    else:
        close(we, wt, dt)
    g = rng.standard_normal(tuple(ot.shape)).astype(dt)
    le = (oe * ember.tensor(g)).sum()
    lt = (ot * torch.tensor(g)).sum()
    if wt is not None:
        gw = rng.standard_normal(tuple(wt.shape)).astype(dt)
        le = le + (we * ember.tensor(gw)).sum()
        lt = lt + (wt * torch.tensor(gw)).sum()
    le.backward()
    lt.backward()
    for a, b in {id(x): x for x in (q, k, v)}.values():
        close(a.grad, b.grad, dt)
    pe = dict(em.named_parameters())
    for n, p in tm.named_parameters():
        close(pe[n].grad, p.grad, dt)


L_ = 4
CAUSAL = np.triu(np.ones((L_, L_), bool), 1)
KPM = np.array([[0, 0, 1, 1], [0, 0, 0, 0], [0, 1, 1, 1]], bool)

MHA_CASES = [
    ({}, {}),
    ({"batch_first": True}, {}),
    ({"bias": False}, {"need_weights": False}),
    ({}, {"attn_mask": CAUSAL}),
    ({}, {"attn_mask": CAUSAL, "need_weights": False}),
    ({}, {"attn_mask": np.where(CAUSAL, -np.inf, 0.0), "is_causal": True, "need_weights": False}),
    ({}, {"attn_mask": np.where(CAUSAL, -np.inf, 0.0), "is_causal": True}),
    ({}, {"key_padding_mask": KPM}),
    ({}, {"key_padding_mask": KPM, "need_weights": False}),
    ({}, {"key_padding_mask": np.where(KPM, -np.inf, 0.0), "attn_mask": np.where(CAUSAL, -np.inf, 0.0)}),
    ({}, {"key_padding_mask": KPM, "attn_mask": CAUSAL, "average_attn_weights": False}),
    ({"batch_first": True}, {"key_padding_mask": KPM, "attn_mask": CAUSAL, "need_weights": False}),
    # the fused kernel on heads read from the batch-first projection, merged back as a view
    ({"batch_first": True}, {"attn_mask": np.where(CAUSAL, -np.inf, 0.0), "is_causal": True, "need_weights": False}),
    ({"batch_first": True}, {"need_weights": False}),
    ({"add_bias_kv": True}, {"key_padding_mask": KPM, "attn_mask": CAUSAL}),
    ({"add_zero_attn": True}, {"key_padding_mask": KPM, "need_weights": False}),
    ({"add_bias_kv": True, "add_zero_attn": True, "bias": False}, {"attn_mask": CAUSAL}),
]


@pytest.mark.parametrize("kw,fkw", MHA_CASES)
def test_mha_self_attention(kw, fkw):
    _mha_run(kw, fkw)


@pytest.mark.parametrize("kw,fkw", [({}, {}), ({"kdim": 5, "vdim": 3}, {}), ({"kdim": 5, "vdim": 3}, {"need_weights": False}),
                                    ({}, {"attn_mask": np.random.default_rng(0).standard_normal((6, 4, 5))}),
                                    ({"batch_first": True, "kdim": 6}, {"key_padding_mask": np.array(
                                        [[0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]], bool)})])
def test_mha_cross_attention(kw, fkw):
    _mha_run(kw, fkw, self_attn=False)


def test_mha_key_is_value_path():
    em, tm = twin("MultiheadAttention", 8, 2)
    rng = RNG(8)
    q, kv = leaf_pair(rng.standard_normal((4, 2, 8))), leaf_pair(rng.standard_normal((6, 2, 8)))
    oe, _ = em(q[0], kv[0], kv[0], need_weights=False)
    ot, _ = tm(q[1], kv[1], kv[1], need_weights=False)
    close(oe, ot)
    oe.sum().backward()
    ot.sum().backward()
    close(kv[0].grad, kv[1].grad)
    close(em.in_proj_weight.grad, tm.in_proj_weight.grad)


@pytest.mark.parametrize("fkw", [{}, {"need_weights": False}, {"key_padding_mask": np.array([0, 0, 1, 1], bool)},
                                 {"key_padding_mask": np.array([1, 1, 1, 1], bool), "need_weights": False},
                                 {"attn_mask": np.random.default_rng(1).random((2, 4, 4)) > 0.5}])
def test_mha_unbatched(fkw):
    _mha_run({}, fkw, unbatched=True)


def test_mha_all_masked_gives_nan_with_weights_like_torch():
    em, tm = twin("MultiheadAttention", 8, 2)
    x = np.random.default_rng(0).standard_normal((4, 8))
    kpm = np.ones(4, bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oe, we = em(ember.tensor(x), ember.tensor(x), ember.tensor(x), key_padding_mask=ember.tensor(kpm))
        ot, wt = tm(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=torch.tensor(kpm))
    assert np.isnan(oe._data).all() and torch.isnan(ot).all() and np.isnan(we._data).all()


def test_mha_float32_and_train_mode_without_dropout():
    _mha_run({"batch_first": True}, {"key_padding_mask": KPM, "attn_mask": CAUSAL}, dt=np.float32, train=True)
    _mha_run({}, {"need_weights": False}, dt=np.float32, train=True)


def test_mha_dropout_in_train_only():
    m = enn.MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(4, 2, 8)
    m.eval()
    a, wa = m(x, x, x)
    b, wb = m(x, x, x)
    np.testing.assert_array_equal(a._data, b._data)
    m.train()
    c, wc = m(x, x, x, average_attn_weights=False)
    assert not np.allclose(c._data, a._data)
    kept = wc._data[wc._data != 0]
    assert (wc._data == 0).mean() > 0.3 and kept.size          # weights are returned after dropout


def test_mha_repr_state_dict_init():
    for args, kw in (((8, 2), {}), ((8, 2), {"kdim": 5, "vdim": 3, "add_bias_kv": True}), ((6, 3), {"bias": False})):
        tm = torch.nn.MultiheadAttention(*args, **kw)
        em = enn.MultiheadAttention(*args, **kw)
        assert str(em) == str(tm)
        assert list(em.state_dict()) == list(tm.state_dict())
        for (a, pa), (b, pb) in zip(em.named_parameters(), tm.named_parameters()):
            assert a == b and tuple(pa.shape) == tuple(pb.shape)
    m = enn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))
    w = m.in_proj_weight.detach()._data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)
    assert not m.in_proj_bias._data.any() and not m.out_proj.bias._data.any()
    assert type(m).__module__ == "ember.nn.modules.activation"
    assert ember.nn.modules.activation.MultiheadAttention is enn.MultiheadAttention
    m2 = pickle.loads(pickle.dumps(m))
    x = ember.randn(3, 1, 64)
    np.testing.assert_allclose(m2(x, x, x)[0]._data, m(x, x, x)[0]._data)


def test_mha_errors():
    for ctor in (lambda lib: lib.nn.MultiheadAttention(8, 3), lambda lib: lib.nn.MultiheadAttention(0, 2)):
        with pytest.raises(Exception) as it:
            ctor(torch)
        with pytest.raises(type(it.value)) as ie:
            ctor(ember)
        assert str(ie.value) == str(it.value)
    em, tm = twin("MultiheadAttention", 8, 2)
    x = np.zeros((4, 2, 8))
    for fkw in ({"key_padding_mask": np.zeros((2, 3), bool)}, {"attn_mask": np.zeros((3, 4), bool)},
                {"attn_mask": np.zeros((2, 4, 4), bool)}, {"attn_mask": np.zeros((4, 4), np.int64)}):
        fe = {k: ember.tensor(v) for k, v in fkw.items()}
        ft = {k: torch.tensor(v) for k, v in fkw.items()}
        with pytest.raises(Exception) as it:
            tm(torch.tensor(x), torch.tensor(x), torch.tensor(x), **ft)
        with pytest.raises(type(it.value)) as ie:
            em(ember.tensor(x), ember.tensor(x), ember.tensor(x), **fe)
        assert str(ie.value).startswith(str(it.value)), (str(ie.value), str(it.value))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        em(ember.tensor(x), ember.tensor(x), ember.tensor(x), is_causal=True)


@pytest.mark.parametrize("train,grad,need_weights", [(False, False, False), (False, False, True), (True, False, False),
                                                     (False, True, False)])
def test_mha_fully_masked_rows_follow_torch_paths(train, grad, need_weights):
    """torch's fused inference kernel (eval, no grad, batch_first self-attention) gives NaN for a query that
    may attend to nothing; its general path gives 0 without weights and NaN with them."""
    em, tm = twin("MultiheadAttention", 8, 2, batch_first=True)
    em.train(train), tm.train(train)
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    kpm = np.array([[0, 0, 0, 1, 1], [0] * 5, [1] * 5], bool)
    xe, xt = ember.tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad)
    with torch.set_grad_enabled(grad), ember.set_grad_enabled(grad):
        oe, _ = em(xe, xe, xe, key_padding_mask=ember.tensor(kpm), need_weights=need_weights)
        ot, _ = tm(xt, xt, xt, key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
    ot = ot.detach().numpy()
    np.testing.assert_array_equal(np.isnan(oe._data), np.isnan(ot))
    np.testing.assert_allclose(oe._data[:2], ot[:2], rtol=1e-9, atol=1e-11)


def test_sdpa_kernel_selector_is_accepted():
    from ember.nn.attention import SDPBackend, sdpa_kernel
    from torch.nn.attention import SDPBackend as TB
    assert [b.name for b in SDPBackend if b.value >= 0] == [n for n in ("MATH", "FLASH_ATTENTION",
                                                                      "EFFICIENT_ATTENTION", "CUDNN_ATTENTION",
                                                                      "OVERRIDEABLE") if hasattr(TB, n)]
    q = ember.randn(2, 3, 4)
    ref = F.scaled_dot_product_attention(q, q, q)
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION]):
        np.testing.assert_array_equal(F.scaled_dot_product_attention(q, q, q)._data, ref._data)
    with pytest.raises(AssertionError):
        with sdpa_kernel("math"):
            pass


def test_functional_mha_separate_weights_and_static_kv():
    rng = RNG(12)
    L, S, B, E, H = 4, 5, 2, 8, 2
    arr = {n: rng.standard_normal(s) for n, s in (("q", (L, B, E)), ("k", (S, B, 6)), ("v", (S, B, 3)),
                                                  ("wq", (E, E)), ("wk", (E, 6)), ("wv", (E, 3)), ("b", (3 * E,)),
                                                  ("wo", (E, E)), ("bo", (E,)), ("sk", (B * H, 7, E // H)),
                                                  ("sv", (B * H, 7, E // H)))}
    pe = {n: leaf_pair(a) for n, a in arr.items()}

    def run(lib_f, i, static):
        P = {n: p[i] for n, p in pe.items()}
        kw = dict(use_separate_proj_weight=True, q_proj_weight=P["wq"], k_proj_weight=P["wk"],
                  v_proj_weight=P["wv"], need_weights=False, training=False)
        if static:
            kw.update(static_k=P["sk"], static_v=P["sv"])
        return lib_f.multi_head_attention_forward(P["q"], P["k"], P["v"], E, H, None, P["b"], None, None, False,
                                                  0.0, P["wo"], P["bo"], **kw)[0]

    for static in (False, True):
        for p in pe.values():
            p[0].grad = p[1].grad = None
        oe, ot = run(F, 0, static), run(TF, 1, static)
        close(oe, ot)
        (oe ** 2).sum().backward()
        (ot ** 2).sum().backward()
        for n, (a, b) in pe.items():
            close(a.grad, b.grad)


@pytest.mark.parametrize("kw", [dict(is_causal=True), dict(mask="bool"), dict(mask="float"), dict(dropout_p=0.3),
                                dict(enable_gqa=True)])
def test_sdpa_composed_twin_agrees(kw):
    """Under create_graph attention differentiates its composed twin (same dropout mask): first
    derivatives agree with the array backward."""
    rng = RNG(13)
    kw = dict(kw)
    shapes = ((2, 4, 5, 8), (2, 2, 6, 8), (2, 2, 6, 3)) if kw.get("enable_gqa") else ((2, 5, 8), (2, 6, 8),
                                                                                      (2, 6, 3))
    q, k, v = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    mask = kw.pop("mask", None)
    m = None
    if mask == "bool":
        m = ember.tensor(rng.random((5, 6)) > 0.3)
    elif mask == "float":
        m = ember.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    ins = [q, k, v] + ([m] if mask == "float" else [])

    def loss():
        ember.manual_seed(3)
        return (F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw) ** 2).sum()

    g1 = ember.autograd.grad(loss(), ins)
    g2 = ember.autograd.grad(loss(), ins, create_graph=True)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a._data, b._data, rtol=1e-10, atol=1e-12)
