"""The fused LSTM / GRU step kernels (kernels/recurrent.py) against PyTorch's own cells (torch.lstm_cell /
torch.gru_cell forward and autograd backward on the same pre-activations), the compiled implementation against
the NumPy reference, and float64 gradcheck of the layers built on them."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import recurrent as R

B, H, I = 7, 13, 5   # odd sizes: vector loops' tails run too
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _torch_cell(kind, x, h, c, w_ih, w_hh, b_hh):
    """PyTorch's cell output and its autograd gradients for the outputs' gradients ``dh`` (and ``dc``)."""
    T = lambda a: torch.tensor(a, requires_grad=True)  # noqa: E731
    xt, ht, wi, wh = T(x), T(h), T(w_ih), T(w_hh)
    bh = T(b_hh)
    if kind == "lstm":
        ct = T(c)
        return (xt, ht, ct), torch.lstm_cell(xt, (ht, ct), wi, wh, None, bh)
    return (xt, ht), (torch.gru_cell(xt, ht, wi, wh, None, bh),)


def _inputs(rng, dtype, gates):
    """A cell's inputs and parameters, and the kernels' arguments from them: the input side's pre-activations
    (no input bias) and the hidden side's (with ``b_hh``)."""
    x = rng.standard_normal((B, I)).astype(dtype)
    h = rng.standard_normal((B, H)).astype(dtype)
    c = rng.standard_normal((B, H)).astype(dtype)
    w_ih = (rng.standard_normal((gates * H, I)) * 0.7).astype(dtype)
    w_hh = (rng.standard_normal((gates * H, H)) * 0.4).astype(dtype)
    b_hh = rng.standard_normal(gates * H).astype(dtype)
    return x, h, c, w_ih, w_hh, b_hh, x @ w_ih.T, h @ w_hh.T + b_hh


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_cell_matches_torch(dtype):
    rng = np.random.default_rng(0)
    x, h, c, w_ih, w_hh, b_hh, gates, gh = _inputs(rng, dtype, 4)
    c_out, tc, h_out = (np.empty((B, H), dtype) for _ in range(3))
    R.lstm_cell_forward(gates, gh, c, c_out, tc, h_out)       # gates become the activations
    ins, (th, tcn) = _torch_cell("lstm", x, h, c, w_ih, w_hh, b_hh)
    np.testing.assert_allclose(h_out, th.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(c_out, tcn.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(tc, np.tanh(c_out), **TOL[dtype])
    dh = rng.standard_normal((B, H)).astype(dtype)
    dc = rng.standard_normal((B, H)).astype(dtype)
    torch.autograd.backward([th, tcn], [torch.tensor(dh), torch.tensor(dc)])
    dgates = np.empty((B, 4 * H), dtype)
    dc_prev = dc.copy()
    R.lstm_cell_backward(dh, dc_prev, gates, c, tc, dgates, dc_prev)   # in place: dc_out may be dc
    np.testing.assert_allclose(dgates @ w_ih, ins[0].grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(dgates @ w_hh, ins[1].grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(dc_prev, ins[2].grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_cell_matches_torch(dtype):
    rng = np.random.default_rng(1)
    x, h, _, w_ih, w_hh, b_hh, gates, gh = _inputs(rng, dtype, 3)
    hn, h_out = np.empty((B, H), dtype), np.empty((B, H), dtype)
    R.gru_cell_forward(gates, gh, h, hn, h_out)
    ins, (th,) = _torch_cell("gru", x, h, None, w_ih, w_hh, b_hh)
    np.testing.assert_allclose(h_out, th.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(hn, gh[:, 2 * H:], rtol=0, atol=0)
    dh = rng.standard_normal((B, H)).astype(dtype)
    th.backward(torch.tensor(dh))
    dgh, dn, dh_direct = np.empty((B, 3 * H), dtype), np.empty((B, H), dtype), np.empty((B, H), dtype)
    R.gru_cell_backward(dh, gates, hn, h, dgh, dn, dh_direct)
    dgi = dgh.copy()
    dgi[:, 2 * H:] = dn        # the input side's n block sees the n pre-activation's gradient, not times r
    np.testing.assert_allclose(dgi @ w_ih, ins[0].grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(dh_direct + dgh @ w_hh, ins[1].grad.numpy(), **TOL[dtype])


def _cases(rng, dtype):
    g4, gh4 = (rng.standard_normal((B, 4 * H)).astype(dtype) * 3 for _ in range(2))
    g3, gh3 = (rng.standard_normal((B, 3 * H)).astype(dtype) * 3 for _ in range(2))
    s = [rng.standard_normal((B, H)).astype(dtype) for _ in range(3)]
    act4 = rng.uniform(0, 1, (B, 4 * H)).astype(dtype)
    act3 = rng.uniform(0, 1, (B, 3 * H)).astype(dtype)
    return [(R.lstm_cell_forward, (g4, gh4, s[0]), [(B, H)] * 3),
            (R.lstm_cell_backward, (s[0], s[1], act4, s[2], np.tanh(s[1])), [(B, 4 * H), (B, H)]),
            (R.gru_cell_forward, (g3, gh3, s[0]), [(B, H)] * 2),
            (R.gru_cell_backward, (s[0], act3, s[1], s[2]), [(B, 3 * H), (B, H), (B, H)])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_cells_match_reference(dtype):
    for kernel, args, out_shapes in _cases(np.random.default_rng(2), dtype):
        impl = kernel.implementation(args[0])
        assert (impl is not kernel.reference) == numba_enabled(), kernel.name   # compiled whenever usable
        results = []
        for fn in (impl, kernel.reference):
            a = [x.copy() for x in args]            # forward kernels write their activations into the gates
            outs = [np.empty(s, dtype) for s in out_shapes]
            fn(*a, *outs)
            results.append(a + outs)
        for got, want in zip(*results):
            np.testing.assert_allclose(got, want, **TOL[dtype], err_msg=kernel.name)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_layer_gradcheck_float64(mode):
    ember.manual_seed(0)
    layer = getattr(ember.nn, mode)(3, 4, num_layers=1).double()
    x = ember.randn(5, 2, 3, dtype=ember.float64, requires_grad=True)
    h0 = ember.randn(1, 2, 4, dtype=ember.float64, requires_grad=True)
    hx = (h0, ember.randn(1, 2, 4, dtype=ember.float64, requires_grad=True)) if mode == "LSTM" else h0
    params = list(layer.parameters())

    def f(x, *state_and_params):
        out, _ = layer(x, hx)
        return out
    assert ember.autograd.gradcheck(f, (x, *([hx] if mode == "GRU" else list(hx)), *params))


def _layer_inputs(rng, dtype, batch_sizes, reverse, Hh=H, I_=I):
    """A packed LSTM layer's arguments: pre-activations ``G`` (with both biases), ``w_hh``, ``h0``, ``c0``, the
    steps in processing order, and gradients for the output and final states."""
    N, B0 = sum(batch_sizes), max(batch_sizes)
    offsets = np.cumsum([0] + batch_sizes[:-1])
    steps = [(int(o), int(o) + b) for o, b in zip(offsets, batch_sizes)]
    if reverse:
        steps.reverse()
    x = rng.standard_normal((N, I_)).astype(dtype)
    w_ih = (rng.standard_normal((4 * Hh, I_)) * 0.5).astype(dtype)
    w_hh = (rng.standard_normal((4 * Hh, Hh)) * 0.4).astype(dtype)
    G = x @ w_ih.T + rng.standard_normal(4 * Hh).astype(dtype)
    h0, c0, dhn, dcn = (rng.standard_normal((B0, Hh)).astype(dtype) for _ in range(4))
    dout = rng.standard_normal((N, Hh)).astype(dtype)
    return G, w_hh, h0, c0, steps, dout, dhn, dcn


def _torch_layer(G, w_hh, h0, c0, steps, dout, dhn, dcn):
    """The same recurrence step by step with torch.lstm_cell (input side given as pre-activations: identity
    input weights), outputs and the gradients of G, h0, c0."""
    H4 = G.shape[1]
    Gt, ht0, ct0 = (torch.tensor(a, requires_grad=True) for a in (G, h0, c0))
    eye = torch.eye(H4, dtype=Gt.dtype)
    wh = torch.tensor(w_hh)
    outs, hn, cn = {}, {}, {}
    n = steps[0][1] - steps[0][0]
    h, c = ht0[:n], ct0[:n]
    for r0, r1 in steps:
        bs = r1 - r0
        if bs < h.shape[0]:
            for k in range(bs, h.shape[0]):
                hn[k], cn[k] = h[k], c[k]
            h, c = h[:bs], c[:bs]
        elif bs > h.shape[0]:
            h, c = torch.cat([h, ht0[h.shape[0]:bs]]), torch.cat([c, ct0[c.shape[0]:bs]])
        h, c = torch.lstm_cell(Gt[r0:r1], (h, c), eye, wh)
        outs[r0] = h
    for k in range(h.shape[0]):
        hn[k], cn[k] = h[k], c[k]
    out = torch.cat([outs[r0] for r0 in sorted(outs)])
    hn = torch.stack([hn[k] for k in sorted(hn)])
    cn = torch.stack([cn[k] for k in sorted(cn)])
    grads = torch.autograd.grad([out, hn, cn], [Gt, ht0, ct0], [torch.tensor(dout), torch.tensor(dhn),
                                                                  torch.tensor(dcn)])
    return [t.detach().numpy() for t in (out, hn, cn, *grads)]


LAYER_CASES = [([5, 5, 5, 5], False), ([6, 4, 4, 2, 1], False), ([6, 4, 4, 2, 1], True), ([3], False)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_sizes,reverse", LAYER_CASES)
def test_lstm_layer_matches_torch(dtype, batch_sizes, reverse):
    """Forward and backward of the whole-layer kernel (compiled where usable, and its reference) against torch's
    cell run step by step, on padded and packed sequences in both directions."""
    args = _layer_inputs(np.random.default_rng(3), dtype, batch_sizes, reverse)
    G, w_hh, h0, c0, steps, dout, dhn, dcn = args
    want = _torch_layer(*args)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for fwd, bwd in ((R.lstm_layer_forward, R.lstm_layer_backward),
                     (R.lstm_layer_forward_reference, R.lstm_layer_backward_reference)):
        A = G.copy()
        out, hn, cn, saved = fwd(A, w_hh, None, h0, c0, steps, True)
        dG, Dh, dh0, dc0 = bwd(A, saved, w_hh, None, steps, dout, dhn, dcn, h0.shape[0])
        assert Dh is None
        for got, exp in zip((out, hn, cn, dG, dh0, dc0), want):
            np.testing.assert_allclose(got, exp, **tol)


@pytest.mark.skipif(not numba_enabled(), reason="Numba disabled: no compiled layer")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_lstm_layer_threads_and_absent_gradients(dtype, monkeypatch):
    """The compiled layer split over two chunks gives the one-chunk results; without ``keep`` the same outputs;
    missing output gradients count as zeros; a hidden size not a multiple of the unit block runs its tail."""
    from ember.kernels import _numba_recurrent_layers as L
    G, w_hh, h0, c0, steps, dout, dhn, dcn = _layer_inputs(np.random.default_rng(4), dtype, [8, 8, 7, 3], False,
                                                           Hh=37, I_=6)
    monkeypatch.setattr(L, "_block_width", lambda work, n: 16)   # blocks of 16 units / columns, the last partial
    results = {}
    for nch in (1, 2):
        monkeypatch.setattr(L._split, "chunks", lambda key, work, blocks: min(nch, blocks))
        A = G.copy()
        fwd = L.lstm_layer_forward(A, w_hh, None, h0, c0, steps, True)
        bwd = L.lstm_layer_backward(A, fwd[3], w_hh, None, steps, None, dhn, None, h0.shape[0])
        bare = L.lstm_layer_forward(G.copy(), w_hh, None, h0, c0, steps, False)
        assert bare[3] is None
        results[nch] = (A, *fwd[:3], *bare[:3], bwd[0], bwd[2], bwd[3])
        ref = G.copy()
        rf = R.lstm_layer_forward_reference(ref, w_hh, None, h0, c0, steps, True)
        rb = R.lstm_layer_backward_reference(ref, rf[3], w_hh, None, steps, None, dhn, None, h0.shape[0])
        for got, want in zip(results[nch], (ref, *rf[:3], *rf[:3], rb[0], rb[2], rb[3])):
            np.testing.assert_allclose(got, want, **TOL[dtype])
    for a, b in zip(results[1], results[2]):
        np.testing.assert_array_equal(a, b)


def _layer_against_reference(L, dtype, rng, order="C"):
    """The compiled layer's forward and backward on a packed reverse sequence against the NumPy reference (the
    gates ``G`` in memory ``order``)."""
    G, w_hh, h0, c0, steps, dout, dhn, dcn = _layer_inputs(rng, dtype, [6, 4, 4, 2, 1], True, Hh=21, I_=6)
    A, ref = G.copy(order=order), G.copy()
    fwd = L.lstm_layer_forward(A, w_hh, None, h0, c0, steps, True)
    bwd = L.lstm_layer_backward(A, fwd[3], w_hh, None, steps, dout, dhn, dcn, h0.shape[0])
    rf = R.lstm_layer_forward_reference(ref, w_hh, None, h0, c0, steps, True)
    rb = R.lstm_layer_backward_reference(ref, rf[3], w_hh, None, steps, dout, dhn, dcn, h0.shape[0])
    for got, want in zip((A, *fwd[:3], bwd[0], bwd[2], bwd[3]), (ref, *rf[:3], rb[0], rb[2], rb[3])):
        np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.skipif(not numba_enabled(), reason="Numba disabled: no compiled layer")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_lstm_layer_blas(dtype, monkeypatch):
    """The layer kernel's products go through NumPy's own BLAS (no SciPy needed): its CBLAS gemm is found; a
    32-bit-integer CBLAS (SciPy's OpenBLAS, standing in for an LP64 build) gives the same results; with none
    found, or gates whose rows are not contiguous, the step loop runs (the kernel is not entered)."""
    from ember.kernels import _numba_recurrent_layers as L
    assert L.gemm_address(dtype) is not None and L.gemm_address(np.int32) is None
    _layer_against_reference(L, dtype, np.random.default_rng(5))
    _layer_against_reference(L, dtype, np.random.default_rng(5), order="F")      # the step loop's
    with monkeypatch.context() as m:
        m.setattr(L, "gemm_address", lambda dt: None)
        m.setattr(L, "_forward_chunk", None)
        m.setattr(L, "_backward_chunk", None)
        _layer_against_reference(L, dtype, np.random.default_rng(7))
    scipy = pytest.importorskip("scipy")
    import ctypes
    import glob
    import os
    found = glob.glob(os.path.join(os.path.dirname(scipy.__file__) + ".libs", "libscipy_openblas-*"))
    if not found:
        pytest.skip("no libscipy_openblas (SciPy's wheel BLAS) to stand in for an LP64 CBLAS")
    lib = ctypes.CDLL(found[0])
    kind = "s" if dtype == np.float32 else "d"

    class LP64:
        pass
    setattr(LP64, f"cblas_{kind}gemm", getattr(lib, f"scipy_cblas_{kind}gemm"))
    lp64 = L.gemm_address.__wrapped__(dtype, LP64())
    assert lp64 is not None and lp64[1] is False
    monkeypatch.setattr(L, "gemm_address", lambda dt: lp64)
    _layer_against_reference(L, dtype, np.random.default_rng(6))


def _gru_layer_inputs(rng, dtype, batch_sizes, reverse, Hh=H):
    """A packed GRU layer's arguments: input-side pre-activations ``G`` (with ``b_ih``), ``w_hh``, ``b_hh``, ``h0``,
    the steps in processing order, and gradients for the output and final state."""
    G, w4, h0, _, steps, dout, dhn, _ = _layer_inputs(rng, dtype, batch_sizes, reverse, Hh=Hh)
    return G[:, :3 * Hh].copy(), w4[:3 * Hh].copy(), rng.standard_normal(3 * Hh).astype(dtype), h0, steps, dout, dhn


def _torch_gru_layer(G, w_hh, b_hh, h0, steps, dout, dhn):
    """The same GRU recurrence step by step with torch.gru_cell (identity input weights), the output, h_n and
    the gradients of G, h0."""
    Gt, ht0 = (torch.tensor(a, requires_grad=True) for a in (G, h0))
    eye, wh, bh = torch.eye(G.shape[1], dtype=Gt.dtype), torch.tensor(w_hh), torch.tensor(b_hh)
    outs, hn = {}, {}
    h = ht0[:steps[0][1] - steps[0][0]]
    for r0, r1 in steps:
        bs = r1 - r0
        if bs < h.shape[0]:
            for k in range(bs, h.shape[0]):
                hn[k] = h[k]
            h = h[:bs]
        elif bs > h.shape[0]:
            h = torch.cat([h, ht0[h.shape[0]:bs]])
        h = torch.gru_cell(Gt[r0:r1], h, eye, wh, None, bh)
        outs[r0] = h
    for k in range(h.shape[0]):
        hn[k] = h[k]
    out = torch.cat([outs[r0] for r0 in sorted(outs)])
    hn = torch.stack([hn[k] for k in sorted(hn)])
    grads = torch.autograd.grad([out, hn], [Gt, ht0], [torch.tensor(dout), torch.tensor(dhn)])
    return [t.detach().numpy() for t in (out, hn, *grads)]


def _gru_layer_run(fwd, bwd, G, w_hh, b_hh, h0, steps, dout, dhn, keep=True):
    """A GRU layer's forward and backward: ``(A, out, h_n, dGh, DN, dh0)``, or ``(A, out, h_n)`` without
    ``keep``; ``dG`` (the input side's) is ``dGh`` with ``DN`` as its n block."""
    A = G.copy(order="K")
    out, hn, saved = fwd(A, w_hh, b_hh, h0, steps, keep)
    if not keep:
        assert saved is None
        return A, out, hn
    return (A, out, hn, *bwd(A, saved, w_hh, steps, dout, dhn, h0.shape[0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_sizes,reverse", LAYER_CASES)
def test_gru_layer_matches_torch(dtype, batch_sizes, reverse):
    """Forward and backward of the whole GRU layer kernel (compiled where usable, and its reference) against
    torch's cell run step by step, on padded and packed sequences in both directions."""
    args = _gru_layer_inputs(np.random.default_rng(8), dtype, batch_sizes, reverse)
    G, w_hh, b_hh, h0, steps, dout, dhn = args
    want = _torch_gru_layer(*args)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    Hh = h0.shape[1]
    for fwd, bwd in ((R.gru_layer_forward, R.gru_layer_backward),
                     (R.gru_layer_forward_reference, R.gru_layer_backward_reference)):
        _, out, hn, dGh, DN, dh0 = _gru_layer_run(fwd, bwd, *args)
        dG = dGh.copy()
        dG[:, 2 * Hh:] = DN
        for got, exp in zip((out, hn, dG, dh0), want):
            np.testing.assert_allclose(got, exp, **tol)


@pytest.mark.skipif(not numba_enabled(), reason="Numba disabled: no compiled layer")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_gru_layer_threads_blocks_and_fallbacks(dtype, monkeypatch):
    """The compiled GRU layer against its reference: one chunk and two give the same bits, with a partial last
    unit block, without ``keep``, without ``b_hh`` and output gradients; with no BLAS or gates whose rows are not
    contiguous the step loop runs."""
    from ember.kernels import _numba_recurrent_layers as L
    G, w_hh, b_hh, h0, steps, dout, dhn = _gru_layer_inputs(np.random.default_rng(9), dtype, [8, 8, 7, 3], False,
                                                            Hh=37)
    monkeypatch.setattr(L, "_block_width", lambda work, n: 16)   # blocks of 16 units / columns, the last partial
    results = {}
    for nch in (1, 2):
        monkeypatch.setattr(L._split, "chunks", lambda key, work, blocks: min(nch, blocks))
        for bias, do in ((b_hh, dout), (None, None)):
            got = _gru_layer_run(L.gru_layer_forward, L.gru_layer_backward, G, w_hh, bias, h0, steps, do, dhn)
            want = _gru_layer_run(R.gru_layer_forward_reference, R.gru_layer_backward_reference, G, w_hh, bias, h0,
                                  steps, do, dhn)
            for a, b in zip(got, want):
                np.testing.assert_allclose(a, b, **TOL[dtype])
            results[nch, bias is None] = got
        bare = _gru_layer_run(L.gru_layer_forward, None, G, w_hh, b_hh, h0, steps, None, None, keep=False)
        for a, b in zip(bare, results[nch, False]):
            np.testing.assert_array_equal(a, b)
    for key in ((1, False), (1, True)):
        for a, b in zip(results[key], results[(2, key[1])]):
            np.testing.assert_array_equal(a, b)
    want = _gru_layer_run(L.gru_layer_forward, L.gru_layer_backward, G, w_hh, b_hh, h0, steps, dout, dhn)
    monkeypatch.setattr(L, "_gru_forward_chunk", None)
    monkeypatch.setattr(L, "_gru_backward_chunk", None)
    Gf = np.asfortranarray(G)
    for fwd_blas in (None, L.gemm_address):
        monkeypatch.setattr(L, "gemm_address", (lambda dt: None) if fwd_blas is None else fwd_blas)
        got = _gru_layer_run(L.gru_layer_forward, L.gru_layer_backward, G if fwd_blas is None else Gf, w_hh, b_hh,
                             h0, steps, dout, dhn)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.skipif(not numba_enabled(), reason="Numba disabled: no compiled layer")
def test_layer_split_follows_the_faster_way(monkeypatch):
    """The compiled layer's choice of one chunk or two: each way's first call is not counted, then the faster
    way runs, the other tried every few calls, and a change in their times changes the choice."""
    from ember.kernels import _numba_recurrent_layers as L
    monkeypatch.setattr(L, "block_threads", lambda: 2)
    monkeypatch.setattr(L, "parallel_ok", lambda: True)
    split, cost = L._Split(), {1: 9.0, 2: 5.0}

    def run(calls):
        picks = []
        for _ in range(calls):
            n = split.chunks("key", 1 << 30, 8)
            split.timed("key", n, cost[n])
            picks.append(n)
        return picks
    picks = run(4 + 4 * L._Split._PROBE)
    assert picks[:4] == [1, 1, 2, 2]                        # warm-up and first timing of each way
    assert picks[4:].count(1) == 4 and picks[-1] == 2       # then two chunks, one chunk probed
    cost[2] = 20.0                                          # the cores got busy
    assert run(3 * L._Split._PROBE)[-L._Split._PROBE:].count(2) == 1
