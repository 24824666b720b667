"""Shared helpers of the sequence-model parity tests (recurrent layers, attention, transformers):
build a module in torch and ember with the same weights, run both on the same inputs, compare."""
import numpy as np
import torch

import ember
import ember.nn as enn
import ember.nn.utils.rnn as ern
import torch.nn.utils.rnn as trn

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}
TDT = {np.float64: torch.float64, np.float32: torch.float32}
EDT = {np.float64: ember.float64, np.float32: ember.float32}


def close(e, t, dt=np.float64):
    if t is None:
        assert e is None or not np.any(e._data)
        return
    assert e is not None, "ember gave no gradient where torch did"
    t = t.detach().numpy()
    assert tuple(e.shape) == t.shape, f"shape {tuple(e.shape)} != torch {t.shape}"
    np.testing.assert_allclose(e.detach()._data, t, **TOL[dt])


def twin(cls_name, *args, dtype=np.float64, **kwargs):
    """The same module in torch and ember, ember's weights copied from torch's."""
    tm = getattr(torch.nn, cls_name)(*args, **kwargs).to(TDT[dtype])
    em = getattr(enn, cls_name)(*args, **kwargs).to(EDT[dtype])
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)
    assert list(em.state_dict()) == list(tm.state_dict())
    return em, tm


def leaf_pair(a):
    return ember.tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)


def flat_outputs(out):
    if isinstance(out, (ern.PackedSequence, trn.PackedSequence)):
        return [out.data]
    if isinstance(out, (tuple, list)):
        r = []
        for o in out:
            r += flat_outputs(o)
        return r
    return [out]


def compare_run(em, tm, inputs_np, dt, make_inputs=None):
    """Run both modules on the same inputs, compare outputs, then backprop the same random
    cotangent through every output and compare input and parameter gradients."""
    pairs = [leaf_pair(a) for a in inputs_np]
    ie = [p[0] for p in pairs]
    it = [p[1] for p in pairs]
    if make_inputs is not None:
        ae, at = make_inputs(ern, ember, ie), make_inputs(trn, torch, it)
    else:
        ae, at = ie, it
    oe, ot = em(*ae), tm(*at)
    fe, ft = flat_outputs(oe), flat_outputs(ot)
    assert len(fe) == len(ft)
    for a, b in zip(fe, ft):
        close(a, b, dt)
    rng = np.random.default_rng(5)
    ups = [rng.standard_normal(tuple(b.shape)).astype(dt) for b in ft]
    le = sum((a * ember.tensor(u)).sum() for a, u in zip(fe, ups))
    lt = sum((b * torch.tensor(u)).sum() for b, u in zip(ft, ups))
    le.backward()
    lt.backward()
    for a, b in zip(ie, it):
        close(a.grad, b.grad, dt)
    pe, pt = dict(em.named_parameters()), dict(tm.named_parameters())
    assert list(pe) == list(pt)
    for k in pt:
        close(pe[k].grad, pt[k].grad, dt)
    return oe, ot


def one_torch_thread():
    """Generator for a module-scoped fixture: the reference runs single-threaded (these tensors are tiny,
    and on a busy machine torch's thread pool turns millisecond calls into seconds)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
