"""Core overhead benchmarks: a chain of tiny ops (forward, and forward+backward) and an MLP training step."""
import numpy as np


def _chain(lib, x):
    for _ in range(10):
        x = x * 1.01
        x = x + 0.5
        x = x.tanh()
        x = x - 0.25
        x = x.sigmoid()
    return x


def _tiny_op_cases(lib_e, lib_t):
    data = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    xe, xt = lib_e.tensor(data), lib_t.tensor(data)
    ge, gt = lib_e.tensor(data, requires_grad=True), lib_t.tensor(data, requires_grad=True)

    def fwd_e():
        _chain(lib_e, xe)

    def fwd_t():
        _chain(lib_t, xt)

    def bwd_e():
        _chain(lib_e, ge).sum().backward()

    def bwd_t():
        _chain(lib_t, gt).sum().backward()

    return [("50 tiny ops, no grad", fwd_e, fwd_t), ("50 tiny ops, forward+backward", bwd_e, bwd_t)]


def _mlp(lib, rng_data):
    sizes = [(784, 512), (512, 512), (512, 10)]
    params = []
    for fan_in, fan_out in sizes:
        w = lib.tensor(rng_data.standard_normal((fan_in, fan_out)).astype(np.float32) * 0.05, requires_grad=True)
        b = lib.zeros(fan_out, requires_grad=True)
        params += [w, b]
    return params


def _mlp_step(lib, params, x, y):
    w1, b1, w2, b2, w3, b3 = params
    h = (x @ w1 + b1).relu()
    h = (h @ w2 + b2).relu()
    logits = h @ w3 + b3
    loss = (logits.logsumexp(1) - logits.gather(1, y.unsqueeze(1)).squeeze(1)).mean()
    loss.backward()
    with lib.no_grad():
        for p in params:
            p -= 0.01 * p.grad
            p.grad = None
    return loss


def cases():
    import torch
    import ember
    out = _tiny_op_cases(ember, torch)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    pe, pt = _mlp(ember, np.random.default_rng(1)), _mlp(torch, np.random.default_rng(1))
    xe, ye, xt, yt = ember.tensor(x), ember.tensor(y), torch.tensor(x), torch.tensor(y)
    out.append(("MLP 784-512-512-10 train step, batch 128", lambda: _mlp_step(ember, pe, xe, ye),
                lambda: _mlp_step(torch, pt, xt, yt)))
    return out
