"""Core benchmarks: a chain of tiny ops (forward, and forward+backward), an MLP training step and batch-1 inference."""
import numpy as np

from bench._shared import classifier_steps


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

    return [("50 tiny ops, no grad", fwd_e, fwd_t),
            ("50 tiny ops, forward+backward", bwd_e, bwd_t, {"workload": True, "memory": True})]


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def _mlp_cases(ember, torch):
    """Issue 11's MLP rows: a training step (batch 128, cross-entropy, SGD with momentum) and batch-1 inference."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    torch.manual_seed(0)
    step_e, step_t, em, tm = classifier_steps(_mlp, x, y)
    one = x[:1]
    xt1, xe1 = torch.tensor(one), ember.tensor(one)

    def infer(lib, model, xb):
        with lib.no_grad():
            for _ in range(100):
                model(xb)

    return [("MLP 784-512-512-10 train step, batch 128, SGD momentum", step_e, step_t,
             {"workload": True, "memory": True}),
            ("MLP 784-512-512-10 inference, batch 1, x100", lambda: infer(ember, em, xe1),
             lambda: infer(torch, tm, xt1), {"workload": True, "memory": True})]


def cases():
    import torch
    import ember
    return _tiny_op_cases(ember, torch) + _mlp_cases(ember, torch)
