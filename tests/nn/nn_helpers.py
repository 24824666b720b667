"""Module parity harness: build a layer in ember and in torch, copy torch's state into ember through NumPy,
feed the same inputs, and compare outputs, input gradients, parameter gradients and buffers."""
import numpy as np
import torch

import ember
from array_backend import assert_on_device
from parity import assert_same

TDT = {np.float64: torch.float64, np.float32: torch.float32}
EDT = {np.float64: ember.float64, np.float32: ember.float32}
TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}


def copy_state(em, tm):
    """Load torch module ``tm``'s state_dict into ember module ``em`` (through NumPy copies)."""
    sd = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)


def build_pair(ctor, dtype=np.float64, device="cpu"):
    """``ctor(lib)`` in both libraries, cast to ``dtype``, ember's state copied from torch's, ember's module
    then moved to ``device``."""
    tm = ctor(torch)
    em = ctor(ember)
    tm = tm.to(TDT[dtype])
    em = em.to(EDT[dtype])
    assert str(em) == str(tm), f"repr differs:\nember: {em}\ntorch: {tm}"
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in em.named_buffers()] == [n for n, _ in tm.named_buffers()]
    copy_state(em, tm)
    return em.to(device), tm


def _convert(arrays, dtype, nograd, device="cpu"):
    es, ts = [], []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                a = a.astype(dtype)
            rg = a.dtype.kind == "f" and i not in nograd
            es.append(ember.from_numpy(a.copy()).to(device).requires_grad_(rg))
            ts.append(torch.from_numpy(a.copy()).requires_grad_(rg))
        else:
            es.append(a)
            ts.append(a)
    return es, ts


def compare_module(em, tm, arrays, dtype=np.float64, nograd=(), tol=None, call=None, device="cpu"):
    """One forward/backward of both modules on the same inputs; compares everything observable (ember's
    module and inputs on ``device``, where every output and gradient must stay)."""
    tol = tol or TOL[dtype]
    es, ts = _convert(arrays, dtype, nograd, device)
    call = call or (lambda m, *xs: m(*xs))
    oe, ot = call(em, *es), call(tm, *ts)
    assert_on_device(oe, device, "output")
    outs_e = list(oe) if isinstance(oe, (tuple, list)) else [oe]
    outs_t = list(ot) if isinstance(ot, (tuple, list)) else [ot]
    assert len(outs_e) == len(outs_t)
    for a, b in zip(outs_e, outs_t):
        assert_same(a, b, **tol)
    for (n, be), (_, bt) in zip(em.named_buffers(), tm.named_buffers()):
        assert_same(be, bt, **tol)
    diff_t = [o for o in outs_t if isinstance(o, torch.Tensor) and o.requires_grad]
    if not diff_t:
        return oe, ot
    rng = np.random.default_rng(7)
    loss_e, loss_t = 0, 0
    for a, b in zip(outs_e, outs_t):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            up = rng.standard_normal(tuple(b.shape)).astype(dtype)
            loss_e = loss_e + (a * ember.from_numpy(up.copy()).to(device)).sum()
            loss_t = loss_t + (b * torch.from_numpy(up.copy())).sum()
    loss_e.backward()
    loss_t.backward()
    for a, b in zip(es, ts):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            if b.grad is None:
                assert a.grad is None or not np.any(a.grad.cpu().numpy()), "ember has a gradient where torch has none"
            else:
                assert a.grad is not None, "ember has no input gradient"
                assert_same(a.grad, b.grad, **tol)
    pe, pt = dict(em.named_parameters()), dict(tm.named_parameters())
    for name, p in pt.items():
        if p.grad is None:
            assert pe[name].grad is None or not np.any(pe[name].grad.cpu().numpy())
        else:
            assert pe[name].grad is not None, f"no gradient for parameter {name}"
            assert_same(pe[name].grad, p.grad, **tol)
            assert_on_device(pe[name].grad, device, f"gradient of {name}")
    return oe, ot


def check_layer(ctor, make_inputs, dtypes=(np.float64, np.float32), modes=(True, False), nograd=(), tol=None,
                call=None, steps=1, device="cpu"):
    """Parity of the layer ``ctor(lib)`` on ``make_inputs(rng)`` in train and eval mode, float64 and float32."""
    for dtype in dtypes:
        em, tm = build_pair(ctor, dtype, device)
        for mode in modes:
            em.train(mode)
            tm.train(mode)
            for step in range(steps):
                rng = np.random.default_rng(11 + step)
                em.zero_grad()
                tm.zero_grad()
                compare_module(em, tm, make_inputs(rng), dtype, nograd, tol and tol.get(dtype), call, device)
