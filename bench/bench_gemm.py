"""GEMM-bound layers against plain ``numpy.matmul``: ``nn.functional.linear`` and ``@`` forward + backward on the
shapes of the MLP 784-512-512-10 at batch 128 (and a batch-1024 layer), reported in GFLOP/s.

The NumPy side does exactly the three products of a layer's forward and backward -- ``x @ w.T``, ``g @ w`` and
``g.T @ x`` -- with NumPy's default BLAS settings, in a process of its own: issue 11 asks ember to reach 90% of
it.  The flop count is the products' only (bias and its gradient are not counted, but ember does them).
"""
import numpy as np

LAYERS = ((128, 784, 512), (128, 512, 512), (128, 512, 10), (1024, 512, 512))


def _linear_case(ember, torch, batch, fan_in, fan_out, rng):
    x = rng.standard_normal((batch, fan_in)).astype(np.float32)
    w = rng.standard_normal((fan_out, fan_in)).astype(np.float32) * 0.05
    b = np.zeros(fan_out, np.float32)
    g = rng.standard_normal((batch, fan_out)).astype(np.float32)
    ev = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    tv = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    eg, tg = ember.tensor(g), torch.tensor(g)

    def numpy_side():
        x @ w.T
        g @ w
        g.T @ x

    return (f"GEMM: F.linear {batch}x{fan_in} -> {fan_out} fwd+bwd",
            lambda: ember.autograd.grad(ember.nn.functional.linear(*ev), ev, eg),
            lambda: torch.autograd.grad(torch.nn.functional.linear(*tv), tv, tg),
            {"flops": 6 * batch * fan_in * fan_out, "numpy": numpy_side})


def _mlp_case(ember, torch, rng):
    """The MLP's three layers chained (no activation: GEMMs only), backward to the weights as in training."""
    sizes = ((784, 512), (512, 512), (512, 10))
    x = rng.standard_normal((128, 784)).astype(np.float32)
    ws = [rng.standard_normal((o, i)).astype(np.float32) * 0.05 for i, o in sizes]
    g = rng.standard_normal((128, 10)).astype(np.float32)
    ew = [ember.tensor(w, requires_grad=True) for w in ws]
    tw = [torch.tensor(w, requires_grad=True) for w in ws]
    ex, tx, eg, tg = ember.tensor(x), torch.tensor(x), ember.tensor(g), torch.tensor(g)

    def run(lib, h, weights, grad):
        for w in weights:
            h = h @ w.mT
        return lib.autograd.grad(h, weights, grad)

    def numpy_side():
        acts = [x]
        for w in ws:
            acts.append(acts[-1] @ w.T)
        gh = g
        for i in (2, 1, 0):
            gh.T @ acts[i]
            if i:
                gh = gh @ ws[i]

    flops = sum(2 * 128 * i * o for i, o in sizes) * 3 - 2 * 128 * 784 * 512   # no input gradient at layer 1
    return ("GEMM: MLP 784-512-512-10 b128, x @ w.mT chain fwd+bwd", lambda: run(ember, ex, ew, eg),
            lambda: run(torch, tx, tw, tg), {"flops": flops, "numpy": numpy_side})


def cases():
    import ember
    import torch
    rng = np.random.default_rng(0)
    return [_linear_case(ember, torch, *shape, rng) for shape in LAYERS] + [_mlp_case(ember, torch, rng)]
