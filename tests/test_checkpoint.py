"""ember.utils.checkpoint against torch.utils.checkpoint: values, gradients, memory, RNG replay, errors."""
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import ember
import ember.utils.checkpoint as ecp
from parity import assert_same

RNG = np.random.default_rng(0)


def twin_mlps(width=6, depth=4, dropout=0.0):
    """The same MLP (Linear, Tanh[, Dropout]) x depth in ember and torch, with equal weights."""
    def build(lib):
        layers = []
        for _ in range(depth):
            layers += [lib.nn.Linear(width, width), lib.nn.Tanh()] + ([lib.nn.Dropout(dropout)] if dropout else [])
        return lib.nn.Sequential(*layers)
    e, t = build(ember), build(torch)
    for pe, pt in zip(e.parameters(), t.parameters()):
        w = RNG.standard_normal(tuple(pt.shape)) * 0.5
        pe.data = ember.tensor(w, dtype=ember.float32)
        pt.data = torch.tensor(w, dtype=torch.float32)
    return e, t


def grads(model, x):
    return [p.grad for p in model.parameters()] + [x.grad]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_values_and_grads_match_torch(use_reentrant):
    me, mt = twin_mlps()
    a = RNG.standard_normal((5, 6)).astype(np.float32)
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ye = ecp.checkpoint(lambda x: me(x) * 2, xe, use_reentrant=use_reentrant)
    yt = tcp.checkpoint(lambda x: mt(x) * 2, xt, use_reentrant=use_reentrant)
    assert ye.grad_fn is not None
    assert_same(ye, yt)
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    assert_same(grads(me, xe), grads(mt, xt), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_matches_torch(use_reentrant, segments):
    me, mt = twin_mlps(depth=3)
    a = RNG.standard_normal((4, 6)).astype(np.float32)
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ye = ecp.checkpoint_sequential(me, segments, xe, use_reentrant=use_reentrant)
    yt = tcp.checkpoint_sequential(mt, segments, xt, use_reentrant=use_reentrant)
    assert_same(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_same(grads(me, xe), grads(mt, xt), rtol=1e-5, atol=1e-6)


def test_non_reentrant_grad_kwargs_nested_outputs_and_double_backward():
    me, mt = twin_mlps(depth=2)
    a, b = RNG.standard_normal((3, 6)), RNG.standard_normal(6)
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    be, bt = ember.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)

    def fn(lib, model):
        def f(x, *, shift):
            h = model(x.float()).double()
            return {"out": (h + shift).sin(), "aux": [h.sum(), 3]}
        return f

    oe = ecp.checkpoint(fn(ember, me), xe, shift=be, use_reentrant=False)
    ot = tcp.checkpoint(fn(torch, mt), xt, shift=bt, use_reentrant=False)
    assert oe["aux"][1] == 3
    assert_same(oe["out"], ot["out"], rtol=1e-5, atol=1e-6)
    # autograd.grad with respect to parameters the function closes over, and to a keyword argument
    targets_e, targets_t = list(me.parameters()) + [be], list(mt.parameters()) + [bt]
    ge = ember.autograd.grad(oe["out"].sum() + oe["aux"][0], targets_e, create_graph=True)
    gt = torch.autograd.grad(ot["out"].sum() + ot["aux"][0], targets_t, create_graph=True)
    assert_same(ge, gt, rtol=1e-4, atol=1e-5)
    # create_graph: second derivatives through the recomputation reach the input
    assert_same(ember.autograd.grad(ge[-1].sum(), xe), torch.autograd.grad(gt[-1].sum(), xt), rtol=1e-4, atol=1e-5)


def test_non_reentrant_backward_inputs_and_no_grad_input():
    me, mt = twin_mlps(depth=2)
    a = RNG.standard_normal((3, 6)).astype(np.float32)
    xe, xt = ember.tensor(a), torch.tensor(a)   # the input does not require grad; the parameters do
    ye = ecp.checkpoint(me, xe, use_reentrant=False)
    yt = tcp.checkpoint(mt, xt, use_reentrant=False)
    w_e, w_t = me[0].weight, mt[0].weight
    ye.sum().backward(inputs=[w_e])
    yt.sum().backward(inputs=[w_t])
    assert_same(w_e.grad, w_t.grad, rtol=1e-5, atol=1e-6)
    assert me[2].weight.grad is None and mt[2].weight.grad is None


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_dropout_recomputes_same_masks(use_reentrant):
    """Checkpointed gradients equal the plain run's with dropout; without RNG replay they do not."""
    model, _ = twin_mlps(width=32, depth=3, dropout=0.5)
    x = ember.randn(16, 32, requires_grad=True)

    def run(preserve, checkpointed):
        ember.manual_seed(7)
        out = ecp.checkpoint_sequential(model, 3, x, use_reentrant=use_reentrant, preserve_rng_state=preserve) \
            if checkpointed else model(x)
        model.zero_grad()
        x.grad = None
        out.pow(2).sum().backward()
        return out.detach(), [g.clone() for g in grads(model, x)]

    plain_out, plain = run(True, False)
    ck_out, ck = run(True, True)
    assert ember.equal(ck_out, plain_out)
    for g1, g2 in zip(ck, plain):
        assert ember.equal(g1, g2)
    _, unpreserved = run(False, True)
    assert not all(ember.equal(g1, g2) for g1, g2 in zip(unpreserved, plain))


def peak_bytes(fn):
    """Peak bytes allocated (NumPy buffers included) while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpointing_lowers_peak_memory_with_equal_grads(use_reentrant):
    nn = ember.nn
    # transformer-style blocks: wide intermediates inside, narrow tensors between blocks
    model = nn.Sequential(*[nn.Sequential(nn.Linear(64, 512), nn.Tanh(), nn.Dropout(0.1), nn.Linear(512, 64))
                            for _ in range(8)])
    x = ember.randn(512, 64, requires_grad=True)
    results = {}

    def step(checkpointed):
        def run():
            ember.manual_seed(3)
            out = ecp.checkpoint_sequential(model, 8, x, use_reentrant=use_reentrant) if checkpointed else model(x)
            out.sum().backward()
        return run

    for checkpointed in (False, True):
        model.zero_grad()
        x.grad = None
        results[checkpointed] = (peak_bytes(step(checkpointed)), [g.clone() for g in grads(model, x)])
    (plain_peak, plain_grads), (ck_peak, ck_grads) = results[False], results[True]
    print(f"peak bytes: plain {plain_peak}, checkpointed {ck_peak}")
    assert ck_peak < 0.4 * plain_peak, (ck_peak, plain_peak)
    for g1, g2 in zip(ck_grads, plain_grads):
        assert ember.equal(g1, g2)


def same_error(fe, ft):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(Exception) as ee:
        fe()
    assert type(ee.value).__name__ == type(te.value).__name__
    assert str(ee.value) == str(te.value)


def test_warnings_and_errors_match_torch():
    xe, xt = ember.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for lib, mod, x in ((ember, ecp, xe), (torch, tcp, xt)):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            mod.checkpoint(lambda a: a * 2, x)
            mod.checkpoint_sequential([lambda a: a * 2] * 2, 2, x)
            mod.checkpoint(lambda a: a * 2, lib.ones(2), use_reentrant=True)
        if lib is torch:
            torch_msgs = [str(w.message) for w in rec]
        else:
            ember_msgs = [str(w.message) for w in rec]
    assert ember_msgs == torch_msgs and len(ember_msgs) == 3
    cases = [
        lambda m, x: m.checkpoint(lambda a, b: a, x, b=1, use_reentrant=True),
        lambda m, x: m.checkpoint(lambda a: a, x, use_reentrant=True, debug=True),
        lambda m, x: m.checkpoint(lambda a: a, x, use_reentrant=True, context_fn=lambda: (None, None)),
        lambda m, x: m.checkpoint(lambda a: a, x, use_reentrant=False, determinism_check="strict"),
        lambda m, x: m.checkpoint_sequential([lambda a: a], 1, x, use_reentrant=False, foo=1),
        lambda m, x: m.detach_variable([x]),
    ]
    for case in cases:
        same_error(lambda: case(ecp, xe), lambda: case(tcp, xt))


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_input_modified_in_place_is_caught(use_reentrant):
    for lib, mod in ((torch, tcp), (ember, ecp)):
        w = lib.ones(3, requires_grad=True)
        x = lib.ones(3, requires_grad=True) * 2
        y = mod.checkpoint(lambda a: (a * w).exp(), x, use_reentrant=use_reentrant)
        x.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_determinism_check_and_context_fn():
    calls = []

    def changing(a):
        calls.append(1)
        return a.repeat(len(calls))

    x = ember.ones(2, requires_grad=True)
    y = ecp.checkpoint(changing, x, use_reentrant=False)
    with pytest.raises(ecp.CheckpointError, match="different metadata"):
        y.sum().backward()
    calls.clear()
    y = ecp.checkpoint(changing, x, use_reentrant=False, determinism_check="none")
    with pytest.raises(RuntimeError):   # the shapes really differ; without the check the engine notices later
        y.sum().backward()

    entered = []

    class Mark:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            entered.append(self.name)

        def __exit__(self, *exc):
            return False

    y = ecp.checkpoint(lambda a: a.sin(), x, use_reentrant=False, context_fn=lambda: (Mark("fwd"), Mark("re")))
    y.sum().backward()
    assert entered == ["fwd", "re"]
    assert_same(x.grad, torch.ones(2, dtype=torch.float32).cos())
