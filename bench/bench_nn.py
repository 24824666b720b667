"""nn layer benchmarks: an MLP classifier training step built from nn modules, the fused loss and normalisation
kernels, and the cost of calling small modules.  ember's weights are copied from torch's."""
import numpy as np

from bench._shared import classifier_steps


def _mlp(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(784, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(512, 512), nn.LayerNorm(512), nn.GELU(), nn.Linear(512, 10))


def _train_case():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    step_e, step_t, _, _ = classifier_steps(_mlp, x, y)
    return ("nn MLP (Linear/BN/ReLU/Dropout/LN/GELU) step, b128", step_e, step_t, {"memory": True})


def _fwd_bwd(lib, fn, x):
    out = fn(x)
    out.backward(lib.ones_like(out) if out.dim() else None)
    x.grad = None


def cases():
    import ember
    import torch
    out = [_train_case()]
    rng = np.random.default_rng(1)

    logits = rng.standard_normal((256, 1000)).astype(np.float32)
    target = rng.integers(0, 1000, 256)
    le, lt = ember.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    te, tt = ember.tensor(target), torch.tensor(target)
    out.append(("cross_entropy 256x1000 fwd+bwd",
                lambda: _fwd_bwd(ember, lambda x: ember.nn.functional.cross_entropy(x, te), le),
                lambda: _fwd_bwd(torch, lambda x: torch.nn.functional.cross_entropy(x, tt), lt)))

    act = rng.standard_normal((32, 128, 256)).astype(np.float32)
    ae, at = ember.tensor(act, requires_grad=True), torch.tensor(act, requires_grad=True)
    lne, lnt = ember.nn.LayerNorm(256), torch.nn.LayerNorm(256)
    out.append(("LayerNorm(256) on 32x128x256 fwd+bwd", lambda: _fwd_bwd(ember, lne, ae),
                lambda: _fwd_bwd(torch, lnt, at)))
    out.append(("softmax(-1) on 32x128x256 fwd+bwd",
                lambda: _fwd_bwd(ember, lambda x: ember.softmax(x, -1), ae),
                lambda: _fwd_bwd(torch, lambda x: torch.softmax(x, -1), at)))
    out.append(("GELU on 32x128x256 fwd+bwd", lambda: _fwd_bwd(ember, ember.nn.functional.gelu, ae),
                lambda: _fwd_bwd(torch, torch.nn.functional.gelu, at)))
    for label, name in (("SiLU", "silu"), ("sigmoid", "sigmoid"), ("tanh", "tanh"), ("leaky_relu", "leaky_relu"),
                        ("hardswish", "hardswish"), ("hardsigmoid", "hardsigmoid"), ("ELU", "elu"),
                        ("softplus", "softplus"), ("Mish", "mish")):
        fe, ft = getattr(ember.nn.functional, name), getattr(torch.nn.functional, name)
        out.append((f"{label} on 32x128x256 fwd+bwd", lambda fe=fe: _fwd_bwd(ember, fe, ae),
                    lambda ft=ft: _fwd_bwd(torch, ft, at)))

    # the tiny GPT's attention: 16 sequences x 4 heads x 64 positions x 32 per head, causal
    q, k, v = (rng.standard_normal((16, 4, 64, 32)).astype(np.float32) for _ in range(3))
    qkv_e = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    qkv_t = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]

    def _sdpa_fwd_bwd(lib, ts):
        out = lib.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
        out.backward(lib.ones_like(out))
        for t in ts:
            t.grad = None
    out.append(("causal scaled_dot_product_attention 16x4x64x32 fwd+bwd", lambda: _sdpa_fwd_bwd(ember, qkv_e),
                lambda: _sdpa_fwd_bwd(torch, qkv_t)))

    img = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
    ie, it = ember.tensor(img, requires_grad=True), torch.tensor(img, requires_grad=True)
    bne, bnt = ember.nn.BatchNorm2d(64), torch.nn.BatchNorm2d(64)
    out.append(("BatchNorm2d(64) on 32x64x16x16 fwd+bwd", lambda: _fwd_bwd(ember, bne, ie),
                lambda: _fwd_bwd(torch, bnt, it)))

    def tiny(L):
        return L.nn.Sequential(*[L.nn.Sequential(L.nn.Linear(8, 8), L.nn.ReLU()) for _ in range(10)])
    se, st = tiny(ember), tiny(torch)
    xe8, xt8 = ember.ones(4, 8), torch.ones(4, 8)
    out.append(("30 small module calls (Linear 8x8 + ReLU)", lambda: se(xe8), lambda: st(xt8)))
    return out
