"""Helpers for the conv / pool / resample layer tests: build a layer in both libraries with the same
weights, run it on the same input, and compare outputs, input gradients and parameter gradients."""
import numpy as np
import torch

import ember
from parity import assert_same

TDT = {np.float64: torch.float64, np.float32: torch.float32}
EDT = {np.float64: ember.float64, np.float32: ember.float32}
LOOSE = {np.float64: {}, np.float32: dict(rtol=2e-4, atol=2e-5)}


def twin(cls_name, *args, dtype=np.float64, **kwargs):
    """The same layer in torch and ember (``cls_name`` under nn), ember's state copied from torch's."""
    tm = getattr(torch.nn, cls_name)(*args, **kwargs).to(TDT[dtype])
    em = getattr(ember.nn, cls_name)(*args, **kwargs).to(EDT[dtype])
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert str(em) == str(tm)
    return em, tm


def run_twin(em, tm, x, *extra, dtype=np.float64, grad=True):
    """Forward both layers on ``x`` (NumPy); compare outputs, then input and parameter gradients."""
    x = x.astype(dtype)
    xe = ember.tensor(x.copy(), requires_grad=grad)
    xt = torch.tensor(x.copy(), requires_grad=grad)
    oe, ot = em(xe, *extra[:1]), tm(xt, *extra[1:2])
    tol = LOOSE[dtype]
    outs_e = list(oe) if isinstance(oe, tuple) else [oe]
    outs_t = list(ot) if isinstance(ot, tuple) else [ot]
    for a, b in zip(outs_e, outs_t):
        assert_same(a, b, **tol)
    if not grad:
        return oe, ot
    up = np.random.default_rng(3).standard_normal(tuple(outs_t[0].shape)).astype(dtype)
    (outs_e[0] * ember.tensor(up)).sum().backward()
    (outs_t[0] * torch.tensor(up)).sum().backward()
    assert_same(xe.grad, xt.grad, **tol)
    pe, pt = dict(em.named_parameters()), dict(tm.named_parameters())
    assert list(pe) == list(pt)
    for name in pt:
        assert_same(pe[name].grad, pt[name].grad, **tol)
    return oe, ot
