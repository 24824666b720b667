"""Optimizer-step benchmarks: one Adam step and one SGD-momentum step over a model-like set of
50 float32 parameter tensors (25 weight matrices and 25 bias vectors, 5,000,000 elements in all)
whose gradients are already set."""
import numpy as np

SHAPES = [(398, 500), (1000,)] * 25  # 25 * 199,000 + 25 * 1,000 = 5,000,000 elements


def _params(lib, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    params = []
    for shape in SHAPES:
        p = lib.from_numpy(rng.standard_normal(shape).astype(np.float32)).requires_grad_()
        p.grad = lib.from_numpy(rng.standard_normal(shape).astype(np.float32))
        params.append(p)
    return params


def cases():
    """Return ``[(name, ember_fn, torch_fn)]``; each function performs one optimizer step."""
    import ember
    import ember.optim
    import torch

    out = []
    for name, make in (("Adam step, 50 tensors / 5M params", lambda lib, ps: lib.optim.Adam(ps, lr=1e-3)),
                       ("SGD-momentum step, 50 tensors / 5M params",
                        lambda lib, ps: lib.optim.SGD(ps, lr=1e-3, momentum=0.9))):
        opt_e, opt_t = make(ember, _params(ember)), make(torch, _params(torch))
        opt_e.step()  # create the state outside the timed region
        opt_t.step()
        out.append((name, opt_e.step, opt_t.step))
    return out
