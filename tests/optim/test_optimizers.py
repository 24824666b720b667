"""ember.optim against torch.optim: trajectories, state_dicts, the Optimizer API, bad input.

Every optimizer configuration runs 100 steps in float64 on a fixed random quadratic, in ember and
in PyTorch from the same initial parameters.  Gradients are computed with NumPy from each side's
own current parameters (plus a fixed noise sequence), so any deviation would feed back and grow.
One parameter receives no gradient on every third step, which exercises skipping and lazily
created state.  Parameters must agree to 1e-10 relative after every step, and the final
state_dicts must agree key for key (structure, dtypes and values).
"""
import copy
import itertools
import math
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from array_backend import assert_on_device
from devices import DEVICES
import ember.optim as eoptim
from ember.kernels import numba_enabled

STEPS = 100
SHAPES = [(4, 3), (5,), (2, 3)]
SIZES = [int(np.prod(s)) for s in SHAPES]
RTOL, ATOL = 1e-10, 1e-13


# ----------------------------------------------------------------------------------------------
# the problem


class Quadratic:
    """f(x) = 0.5 x'Ax - b'x over the concatenation x of all parameters, plus gradient noise."""

    def __init__(self, seed=0, steps=STEPS):
        rng = np.random.default_rng(seed)
        n = sum(SIZES)
        q = rng.standard_normal((n, n))
        self.A = q @ q.T / n + 0.5 * np.eye(n)
        self.b = rng.standard_normal(n)
        self.x0 = [rng.standard_normal(s) for s in SHAPES]
        self.noise = 0.1 * rng.standard_normal((steps, n))

    def grads(self, arrays, k, sign=1.0):
        x = np.concatenate([a.ravel() for a in arrays])
        g = sign * (self.A @ x - self.b + self.noise[k])
        return [c.reshape(s) for c, s in zip(np.split(g, np.cumsum(SIZES)[:-1]), SHAPES)]

    def loss(self, arrays):
        x = np.concatenate([a.ravel() for a in arrays])
        return 0.5 * x @ self.A @ x - self.b @ x


def e_params(arrays, device="cpu"):
    return [ember.from_numpy(a.copy()).to(device).requires_grad_() for a in arrays]


def t_params(arrays):
    return [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]


def arr(t):
    """NumPy value of an ember or torch tensor."""
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach().cpu()._data)


def set_grads(pe, pt, prob, k, sign=1.0, skip=True):
    ge = prob.grads([arr(p) for p in pe], k, sign)
    gt = prob.grads([arr(p) for p in pt], k, sign)
    for i, (a, b, x, y) in enumerate(zip(pe, pt, ge, gt)):
        if skip and i == 2 and k % 3 == 0:
            a.grad = b.grad = None
        else:
            a.grad = ember.from_numpy(x).to(a.device)
            b.grad = torch.from_numpy(y)


def assert_params_close(pe, pt, where=""):
    for i, (a, b) in enumerate(zip(pe, pt)):
        x, y = arr(a), arr(b)
        if not (np.abs(x - y) <= ATOL + RTOL * np.abs(y)).all():  # fast check, then the report
            np.testing.assert_allclose(x, y, rtol=RTOL, atol=ATOL, err_msg=f"param {i} {where}")


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def assert_same_value(e, t, path="", rtol=RTOL, atol=ATOL):
    """Structure and value equality of state_dict entries (ember vs torch)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: expected Tensor, got {type(e).__name__}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {tuple(e.shape)} != {tuple(t.shape)}"
        assert dtype_name(e) == dtype_name(t), f"{path}: dtype {e.dtype} != {t.dtype}"
        np.testing.assert_allclose(arr(e), arr(t), rtol=rtol, atol=atol, err_msg=path)
    elif isinstance(t, dict):
        assert isinstance(e, dict), f"{path}: expected dict, got {type(e).__name__}"
        assert list(e.keys()) == list(t.keys()), f"{path}: keys {list(e)} != {list(t)}"
        for k in t:
            assert_same_value(e[k], t[k], f"{path}/{k}", rtol, atol)
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t), f"{path}: {type(e).__name__} != {type(t).__name__}"
        assert len(e) == len(t), f"{path}: length {len(e)} != {len(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same_value(a, b, f"{path}[{i}]", rtol, atol)
    elif isinstance(t, float) and not isinstance(e, ember.Tensor):
        assert type(e) in (float, int), f"{path}: {type(e).__name__} != float"
        assert e == pytest.approx(t, rel=rtol, abs=atol), f"{path}: {e} != {t}"
    else:
        assert type(e) is type(t), f"{path}: {type(e).__name__} != {type(t).__name__}"
        assert e == t, f"{path}: {e!r} != {t!r}"


def assert_state_dicts_equal(oe, ot):
    assert_same_value(oe.state_dict(), ot.state_dict(), "state_dict")


def to_ember(obj):
    """A torch state_dict converted to ember tensors (for cross-loading)."""
    if isinstance(obj, torch.Tensor):
        return ember.from_numpy(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: to_ember(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_ember(v) for v in obj)
    return obj


# ----------------------------------------------------------------------------------------------
# the configurations


def grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(axes[k] for k in keys))]


def _configs():
    out = []
    for kw in grid(momentum=[0, 0.9], dampening=[0, 0.5], nesterov=[False, True],
                   weight_decay=[0, 0.1], maximize=[False, True]):
        if kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0):
            continue
        out.append(("SGD", dict(lr=0.05, **kw)))
    out.append(("SGD", dict(lr=0.05, momentum=0.9, fused=True)))
    for kw in grid(amsgrad=[False, True], weight_decay=[0, 0.1], maximize=[False, True],
                   decoupled_weight_decay=[False, True]):
        out.append(("Adam", dict(lr=0.05, **kw)))
    out.append(("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, fused=True)))
    out.append(("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, foreach=False)))
    for kw in grid(amsgrad=[False, True], weight_decay=[0, 0.1], maximize=[False, True]):
        out.append(("AdamW", dict(lr=0.05, **kw)))
    out.append(("AdamW", dict(lr=0.05, fused=True)))
    for kw in grid(centered=[False, True], momentum=[0, 0.9], weight_decay=[0, 0.1],
                   maximize=[False, True]):
        out.append(("RMSprop", dict(lr=0.01, **kw)))
    out.append(("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, centered=True)))
    for kw in grid(lr_decay=[0, 0.01], initial_accumulator_value=[0, 0.1], weight_decay=[0, 0.1],
                   maximize=[False, True]):
        out.append(("Adagrad", dict(lr=0.1, **kw)))
    out.append(("Adagrad", dict(lr=0.1, eps=1e-6, fused=True)))
    for kw in grid(rho=[0.9, 0.5], weight_decay=[0, 0.1], maximize=[False, True]):
        out.append(("Adadelta", dict(**kw)))
    out.append(("Adadelta", dict(lr=0.5, eps=1e-4)))
    for kw in grid(weight_decay=[0, 0.1], maximize=[False, True], betas=[(0.9, 0.999), (0.5, 0.9)]):
        out.append(("Adamax", dict(lr=0.05, **kw)))
    for kw in grid(momentum_decay=[4e-3, 1e-2], decoupled_weight_decay=[False, True],
                   weight_decay=[0, 0.1], maximize=[False, True]):
        out.append(("NAdam", dict(lr=0.05, **kw)))
    for kw in grid(decoupled_weight_decay=[False, True], weight_decay=[0, 0.1],
                   maximize=[False, True]):
        out.append(("RAdam", dict(lr=0.05, **kw)))
    out.append(("RAdam", dict(lr=0.05, betas=(0.9, 0.9))))
    for kw in grid(t0=[1e6, 10.0], lambd=[1e-4, 1e-2], weight_decay=[0, 0.1],
                   maximize=[False, True]):
        out.append(("ASGD", dict(lr=0.05, **kw)))
    out.append(("ASGD", dict(lr=0.05, alpha=0.5, t0=0.0)))
    for kw in grid(etas=[(0.5, 1.2), (0.3, 1.5)], step_sizes=[(1e-6, 50), (1e-3, 0.05)],
                   maximize=[False, True]):
        out.append(("Rprop", dict(lr=0.01, **kw)))
    return out


CONFIGS = _configs()


def _id(cfg):
    name, kw = cfg
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def make_pair(name, kw, pe, pt):
    return getattr(eoptim, name)(pe, **kw), getattr(torch.optim, name)(pt, **kw)


def _run(oe, ot, pe, pt, prob, sign, start, stop):
    # torch's fused SGD cannot start momentum for a parameter later than for the others
    skip = not ot.defaults.get("fused")
    for k in range(start, stop):
        set_grads(pe, pt, prob, k, sign, skip=skip)
        oe.step()
        ot.step()
        assert_params_close(pe, pt, f"after step {k + 1}")


# ----------------------------------------------------------------------------------------------
# trajectories


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_trajectory_and_state_dict_match_torch(cfg, device):
    name, kw = cfg
    prob = Quadratic(seed=len(_id(cfg)))
    sign = -1.0 if kw.get("maximize") else 1.0  # maximize -f: the same minimiser
    pe, pt = e_params(prob.x0, device), t_params(prob.x0)
    oe, ot = make_pair(name, kw, pe, pt)
    assert_state_dicts_equal(oe, ot)
    _run(oe, ot, pe, pt, prob, sign, 0, STEPS)
    assert_on_device([v for s in oe.state.values() for k, v in s.items() if k != "step"], device, "state")
    assert_state_dicts_equal(oe, ot)
    # the problem is solved: the last parameters differ from the first ones
    assert not np.allclose(arr(pe[0]), prob.x0[0])


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_state_dict_round_trip_continues_identically(cfg):
    """Stop after 40 steps, rebuild both optimizers from (deep-copied) state_dicts, continue.

    Loading casts floating state to the parameters' dtype (e.g. NAdam's float32 mu_product
    becomes float64), so the reloaded ember optimizer is compared with a reloaded torch one.
    """
    name, kw = cfg
    prob = Quadratic(seed=7)
    sign = -1.0 if kw.get("maximize") else 1.0
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    oe, ot = make_pair(name, kw, pe, pt)
    _run(oe, ot, pe, pt, prob, sign, 0, 40)
    oe2, ot2 = make_pair(name, kw, pe, pt)
    oe2.load_state_dict(copy.deepcopy(oe.state_dict()))
    ot2.load_state_dict(copy.deepcopy(ot.state_dict()))
    assert_state_dicts_equal(oe2, ot2)
    _run(oe2, ot2, pe, pt, prob, sign, 40, 70)
    assert_state_dicts_equal(oe2, ot2)


def _force_threads(monkeypatch, optim_kernels, n):
    """Optimizer groups of any size split into ``n`` shares, whatever BLAS's thread count and the machine's load."""
    monkeypatch.setattr(optim_kernels, "NUM_THREADS", n)
    monkeypatch.setattr(optim_kernels, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(optim_kernels, "block_threads", lambda: n)
    monkeypatch.setattr(optim_kernels, "parallel_ok", lambda: True)


THREADED = [cfg for cfg in CONFIGS if not cfg[1].get("maximize") and not cfg[1].get("fused")][::3]


@pytest.mark.parametrize("cfg", THREADED, ids=_id)
def test_threaded_kernels_match_torch(cfg, monkeypatch):
    """Force the multi-thread path (groups split into shares, big tensors into flat slices)."""
    from ember.ops import optim_kernels
    _force_threads(monkeypatch, optim_kernels, 3)
    name, kw = cfg
    prob = Quadratic(seed=21)
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    oe, ot = make_pair(name, kw, pe, pt)
    _run(oe, ot, pe, pt, prob, 1.0, 0, 30)
    assert_state_dicts_equal(oe, ot)


def test_threaded_kernels_with_non_contiguous_parameter(monkeypatch):
    from ember.ops import optim_kernels
    _force_threads(monkeypatch, optim_kernels, 2)
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 40))
    pe = [ember.from_numpy(base.copy()).requires_grad_(), ember.from_numpy(np.ones(3)).requires_grad_()]
    pt = [torch.from_numpy(base.copy()).requires_grad_(), torch.from_numpy(np.ones(3)).requires_grad_()]
    oe, ot = eoptim.Adam(pe, lr=0.1), torch.optim.Adam(pt, lr=0.1)
    for k in range(5):
        g = rng.standard_normal((40, 6)).T  # a transposed (non-contiguous) gradient
        pe[0].grad, pt[0].grad = ember.from_numpy(g), torch.from_numpy(g)
        pe[1].grad, pt[1].grad = ember.from_numpy(np.full(3, 0.5)), torch.from_numpy(np.full(3, 0.5))
        oe.step()
        ot.step()
    assert_params_close(pe, pt)
    assert_state_dicts_equal(oe, ot)


@pytest.mark.parametrize("blas_threads,busy,splits", [(1, False, False), (2, True, False), (2, False, True)])
def test_group_split_follows_thread_setting_and_load(monkeypatch, blas_threads, busy, splits):
    """A big group is split over threads only when BLAS may use several (``set_num_threads``) and the cores are
    not found busy (the NumPy reference of the SGD step; a compiled one splits on Numba's pool instead)."""
    from ember.ops import optim_kernels
    _force_threads(monkeypatch, optim_kernels, 2)
    monkeypatch.setattr(optim_kernels, "block_threads", lambda: blas_threads)
    monkeypatch.setattr(optim_kernels, "parallel_ok", lambda: not busy)
    monkeypatch.setitem(optim_kernels.sgd_steps._impls, "numpy", optim_kernels.sgd_steps.reference)
    submitted = []

    def run_split(fn, parts):   # runs the shares one after another, recording the split
        submitted.append(len(parts))
        return [fn(*part) for part in parts]

    monkeypatch.setattr(optim_kernels, "run_split", run_split)
    p = ember.nn.Parameter(ember.ones(64))
    p.grad = ember.ones(64)
    opt = eoptim.SGD([p], lr=0.1)
    monkeypatch.setattr(optim_kernels, "PARALLEL_MIN_ELEMENTS", 65)
    opt.step()
    assert not submitted                           # under the threshold
    monkeypatch.setattr(optim_kernels, "PARALLEL_MIN_ELEMENTS", 64)
    opt.step()
    assert bool(submitted) == splits
    np.testing.assert_allclose(p.detach().numpy(), 0.8)


@pytest.mark.skipif(not numba_enabled(), reason="Numba not available")
def test_compiled_group_step_does_not_use_the_block_threads(monkeypatch):
    from ember.ops import optim_kernels
    _force_threads(monkeypatch, optim_kernels, 2)
    monkeypatch.setattr(optim_kernels, "run_split", lambda fn, parts: pytest.fail("block threads used"))
    p = ember.nn.Parameter(ember.ones(64))
    p.grad = ember.ones(64)
    eoptim.AdamW([p], lr=0.1).step()
    eoptim.SGD([p], lr=0.1, momentum=0.9).step()


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)),
    ("NAdam", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, t0=5.0)),
    ("Rprop", dict()),
])
def test_load_torch_state_dict_mid_training(name, kw):
    """A checkpoint written by PyTorch (converted to ember tensors) resumes in ember."""
    prob = Quadratic(seed=3)
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    oe, ot = make_pair(name, kw, pe, pt)
    _run(oe, ot, pe, pt, prob, 1.0, 0, 30)
    fresh_e, fresh_t = make_pair(name, kw, pe, pt)
    fresh_e.load_state_dict(to_ember(ot.state_dict()))
    fresh_t.load_state_dict(ot.state_dict())
    _run(fresh_e, fresh_t, pe, pt, prob, 1.0, 30, 60)
    assert_state_dicts_equal(fresh_e, fresh_t)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "NAdam", "RAdam", "RMSprop", "Adamax"])
def test_hyperparameters_changed_between_steps(name):
    """nanoGPT sets group['lr'] every iteration; weight decay and betas may change too."""
    prob = Quadratic(seed=11)
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    kw = dict(lr=0.05, momentum=0.9) if name == "SGD" else dict(lr=0.05)
    oe, ot = make_pair(name, kw, pe, pt)
    for k in range(60):
        lr = 0.05 * (0.5 + 0.5 * math.cos(math.pi * k / 60))
        for o in (oe, ot):
            for g in o.param_groups:
                g["lr"] = lr
                g["weight_decay"] = 0.01 * (k % 4)
                if "betas" in g:
                    g["betas"] = (0.9 - 0.002 * k, 0.999)
        set_grads(pe, pt, prob, k)
        oe.step()
        ot.step()
        assert_params_close(pe, pt, f"after step {k + 1}")
    assert_state_dicts_equal(oe, ot)


def test_float32_parameters_match_torch_to_float32_precision():
    prob = Quadratic(seed=5)
    x0 = [a.astype(np.float32) for a in prob.x0]
    pe, pt = e_params(x0), t_params(x0)
    oe, ot = eoptim.Adam(pe, lr=0.01, weight_decay=0.01), torch.optim.Adam(pt, lr=0.01, weight_decay=0.01)
    for k in range(50):
        ge = prob.grads([arr(p).astype(np.float64) for p in pe], k)
        gt = prob.grads([arr(p).astype(np.float64) for p in pt], k)
        for a, b, x, y in zip(pe, pt, ge, gt):
            a.grad = ember.from_numpy(x.astype(np.float32))
            b.grad = torch.from_numpy(y.astype(np.float32))
        oe.step()
        ot.step()
    for a, b in zip(pe, pt):
        assert dtype_name(a) == "float32"
        np.testing.assert_allclose(arr(a), arr(b), rtol=1e-4, atol=1e-5)
    assert_same_value(oe.state_dict(), ot.state_dict(), rtol=1e-4)


def test_tensor_learning_rate():
    prob = Quadratic(seed=2)
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    oe = eoptim.SGD(pe, lr=ember.from_numpy(np.array(0.05)), momentum=0.9)
    ot = torch.optim.SGD(pt, lr=torch.tensor(0.05, dtype=torch.float64), momentum=0.9)
    _run(oe, ot, pe, pt, prob, 1.0, 0, 20)
    assert_state_dicts_equal(oe, ot)


def test_complex_parameters_adam():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    pe, pt = ember.from_numpy(x0.copy()).requires_grad_(), torch.from_numpy(x0.copy()).requires_grad_()
    oe, ot = eoptim.Adam([pe], lr=0.1, amsgrad=True), torch.optim.Adam([pt], lr=0.1, amsgrad=True)
    for _ in range(10):
        pe.grad = ember.from_numpy(arr(pe) * (1 - 0.5j))
        pt.grad = torch.from_numpy(arr(pt) * (1 - 0.5j))
        oe.step()
        ot.step()
    np.testing.assert_allclose(arr(pe), arr(pt), rtol=RTOL)
    assert_state_dicts_equal(oe, ot)


# ----------------------------------------------------------------------------------------------
# LBFGS


class Logistic:
    """Smooth convex objective with non-trivial curvature: logistic loss + L2."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        n = sum(SIZES)
        self.B = rng.standard_normal((30, n))
        self.c = rng.standard_normal(30)
        self.x0 = [rng.standard_normal(s) for s in SHAPES]

    def value_and_grads(self, arrays):
        x = np.concatenate([a.ravel() for a in arrays])
        z = self.B @ x - self.c
        f = np.logaddexp(0, z).sum() + 0.05 * x @ x
        g = self.B.T @ (1 / (1 + np.exp(-z))) + 0.1 * x
        return f, [c.reshape(s) for c, s in zip(np.split(g, np.cumsum(SIZES)[:-1]), SHAPES)]


LBFGS_CONFIGS = grid(line_search_fn=[None, "strong_wolfe"], history_size=[100, 3],
                     max_iter=[20, 4]) + [
    dict(line_search_fn="strong_wolfe", max_eval=6),
    dict(line_search_fn=None, lr=0.5, max_eval=30),
    dict(line_search_fn="strong_wolfe", tolerance_grad=1e-3, tolerance_change=1e-4),
    dict(line_search_fn=None, lr=0.3, tolerance_grad=1e-12, tolerance_change=1e-14),
]


@pytest.mark.parametrize("kw", LBFGS_CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_lbfgs_matches_torch(kw):
    prob = Logistic(seed=1)
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    oe, ot = eoptim.LBFGS(pe, **kw), torch.optim.LBFGS(pt, **kw)
    evals = {"e": 0, "t": 0}

    def closure_e():
        evals["e"] += 1
        f, g = prob.value_and_grads([arr(p) for p in pe])
        for p, x in zip(pe, g):
            p.grad = ember.from_numpy(x)
        return ember.from_numpy(np.array(f))

    def closure_t():
        evals["t"] += 1
        f, g = prob.value_and_grads([arr(p) for p in pt])
        for p, x in zip(pt, g):
            p.grad = torch.from_numpy(x)
        return torch.tensor(f, dtype=torch.float64)

    for k in range(8):
        le, lt = oe.step(closure_e), ot.step(closure_t)
        assert float(le) == pytest.approx(float(lt), rel=1e-10)
        assert evals["e"] == evals["t"], f"closure evaluations differ at step {k}"
        assert_params_close(pe, pt, f"after LBFGS step {k + 1}")
    # near the optimum the curvature pairs are differences of nearly equal gradients, so the
    # state's scratch quantities (al, ro, y) carry cancellation error beyond 1e-10
    assert_same_value(oe.state_dict(), ot.state_dict(), "state_dict", rtol=1e-6, atol=1e-11)


def test_lbfgs_rejects_groups_and_bad_line_search():
    a, b = e_params([np.ones(2), np.ones(2)])
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        eoptim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = eoptim.LBFGS([a], line_search_fn="wolfe")

    def closure():
        a.grad = ember.from_numpy(np.ones(2))
        return ember.tensor(1.0)

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


# ----------------------------------------------------------------------------------------------
# the seeds' scenarios


def test_finetuning_group_with_lr_zero_stays_frozen():
    """Pretrained layers at lr 0 must not move (even with momentum and weight decay) while the
    new head trains, exactly as in torch."""
    prob = Quadratic(seed=4)
    pe, pt = e_params(prob.x0), t_params(prob.x0)

    def groups(ps):
        return [{"params": ps[:2], "lr": 0.0}, {"params": ps[2:], "lr": 0.1, "weight_decay": 0.0}]

    oe = eoptim.SGD(groups(pe), lr=0.01, momentum=0.9, weight_decay=1e-4)
    ot = torch.optim.SGD(groups(pt), lr=0.01, momentum=0.9, weight_decay=1e-4)
    for k in range(30):
        set_grads(pe, pt, prob, k, skip=False)
        oe.step()
        ot.step()
    for i in range(2):
        np.testing.assert_array_equal(arr(pe[i]), prob.x0[i])
    assert not np.allclose(arr(pe[2]), prob.x0[2])
    assert_params_close(pe, pt)
    assert_state_dicts_equal(oe, ot)


# ----------------------------------------------------------------------------------------------
# the Optimizer API


def test_params_forms_and_param_names():
    a, b, c = e_params([np.ones(2), np.ones(3), np.ones(1)])
    assert eoptim.SGD(iter([a, b])).param_groups[0]["params"] == [a, b]
    assert eoptim.SGD((a,)).param_groups[0]["params"][0] is a
    named = eoptim.Adam([("w", a), ("b", b)])
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    sd = named.state_dict()
    assert sd["param_groups"][0]["param_names"] == ["w", "b"]
    assert sd["param_groups"][0]["params"] == [0, 1]
    g = eoptim.SGD([{"params": a}, {"params": [b, c], "lr": 0.5}], lr=0.1)
    assert g.param_groups[0]["params"] == [a] and g.param_groups[0]["lr"] == 0.1
    assert g.param_groups[1]["lr"] == 0.5
    assert g.state_dict()["param_groups"][1]["params"] == [1, 2]


def test_add_param_group_matches_torch():
    prob = Quadratic(seed=8)
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    oe = eoptim.Adam(pe[:2], lr=0.05)
    ot = torch.optim.Adam(pt[:2], lr=0.05)
    for k in range(10):
        set_grads(pe, pt, prob, k, skip=False)
        oe.step()
        ot.step()
    oe.add_param_group({"params": pe[2], "lr": 0.01, "amsgrad": True})
    ot.add_param_group({"params": pt[2], "lr": 0.01, "amsgrad": True})
    for k in range(10, 30):
        set_grads(pe, pt, prob, k, skip=False)
        oe.step()
        ot.step()
        assert_params_close(pe, pt)
    assert_state_dicts_equal(oe, ot)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        oe.add_param_group({"params": [pe[0]]})


def test_zero_grad():
    a, b = e_params([np.ones(3), np.ones(2)])
    a.grad = ember.from_numpy(np.full(3, 2.0))
    opt = eoptim.SGD([a, b], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and b.grad is None
    np.testing.assert_array_equal(arr(a.grad), np.zeros(3))
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_loss_and_records_graph_inside_closure():
    w = ember.tensor([1.0, -2.0], dtype=ember.float64, requires_grad=True)
    opt = eoptim.SGD([w], lr=0.1)
    seen = {}

    def closure():
        opt.zero_grad()
        seen["grad_mode"] = ember.is_grad_enabled()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert seen["grad_mode"] is True
    assert float(loss) == 5.0
    np.testing.assert_allclose(arr(w), [0.8, -1.6])
    assert opt.step() is None


def test_step_runs_without_recording_a_graph():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    w.grad = ember.tensor([1.0, 1.0])
    opt = eoptim.Adam([w])
    modes = []
    opt.register_step_post_hook(lambda *a: modes.append(ember.is_grad_enabled()))
    opt.step()
    assert w.grad_fn is None and w.is_leaf and w.requires_grad
    assert modes == [True]  # hooks run outside the no-grad region, grad mode restored


def test_step_hooks_like_torch():
    calls = []
    w = ember.tensor([1.0], requires_grad=True)
    w.grad = ember.tensor([1.0])
    opt = eoptim.SGD([w], lr=0.1)

    def pre(o, args, kwargs):
        calls.append(("pre", o is opt, args, kwargs))

    def post(o, args, kwargs):
        calls.append(("post", o is opt, args, kwargs))

    h1 = opt.register_step_pre_hook(pre)
    h2 = opt.register_step_post_hook(post)
    g1 = eoptim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("gpre",)))
    g2 = eoptim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: calls.append(("gpost",)))
    try:
        opt.step()
    finally:
        g1.remove()
        g2.remove()
    assert calls == [("gpre",), ("pre", True, (), {}), ("post", True, (), {}), ("gpost",)]
    calls.clear()
    h1.remove()
    h2.remove()
    opt.step()
    assert calls == []

    # a pre hook may replace the arguments
    def swap(o, args, kwargs):
        return (), {"closure": lambda: 42.0}

    opt.register_step_pre_hook(swap)
    assert opt.step() == 42.0

    def bad(o, args, kwargs):
        return 3

    opt.register_step_pre_hook(bad)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_state_dict_and_load_state_dict_hooks():
    w = ember.tensor([1.0], requires_grad=True)
    opt = eoptim.SGD([w], lr=0.1, momentum=0.9)
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: log.append("lpre"))
    opt.register_load_state_dict_post_hook(lambda o: log.append("lpost"), prepend=True)
    sd = opt.state_dict()
    assert sd["extra"] == 1 and log == ["pre"]
    opt.load_state_dict(sd)
    assert log == ["pre", "lpre", "lpost"]


def _reprs(name, kw):
    pe = e_params([np.ones(2), np.ones(3)])
    pt = t_params([np.ones(2), np.ones(3)])
    groups_e = [{"params": pe[:1]}, {"params": pe[1:], "lr": 0.5}]
    groups_t = [{"params": pt[:1]}, {"params": pt[1:], "lr": 0.5}]
    if name == "LBFGS":
        groups_e, groups_t = pe, pt
    return repr(getattr(eoptim, name)(groups_e, **kw)), repr(getattr(torch.optim, name)(groups_t, **kw))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS"])
def test_repr_and_defaults_match_torch(name):
    e, t = _reprs(name, {})
    assert e == t
    pe, pt = e_params([np.ones(2)]), t_params([np.ones(2)])
    oe, ot = getattr(eoptim, name)(pe), getattr(torch.optim, name)(pt)
    assert_same_value(oe.defaults, ot.defaults, "defaults")
    assert_state_dicts_equal(oe, ot)


def test_optimizer_subclass_with_custom_step_gets_hooks():
    class MySGD(eoptim.SGD):
        def step(self, closure=None):
            self.count = getattr(self, "count", 0) + 1
            return super().step(closure)

    w = ember.tensor([1.0], requires_grad=True)
    w.grad = ember.tensor([1.0])
    opt = MySGD([w], lr=0.5)
    seen = []
    opt.register_step_pre_hook(lambda *a: seen.append(1))
    opt.step()
    assert opt.count == 1 and seen == [1]  # the hook ran once, not once per class level
    np.testing.assert_allclose(arr(w), [0.5])


def test_fused_and_capturable_flags_like_torch():
    w = ember.tensor([1.0], requires_grad=True)
    w.grad = ember.tensor([1.0])
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        eoptim.Adam([w], fused=True, differentiable=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
        eoptim.SGD([w], fused=True, foreach=True)
    opt = eoptim.Adam([w], capturable=True)
    with pytest.raises(AssertionError, match="If capturable=True, params and state_steps must be on "
                                             "supported devices"):
        opt.step()
    i = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be floating point"):
        opt = eoptim.SGD([i], fused=True)
        i.grad = ember.tensor([1, 1])
        opt.step()


# ----------------------------------------------------------------------------------------------
# bad input: the same exception type and message as torch


def _both(fn):
    """Run fn(lib_optim, make_param) with ember and torch; return (ember_exc, torch_exc)."""
    out = []
    for optim, make in ((eoptim, lambda: ember.tensor([1.0], requires_grad=True)),
                        (torch.optim, lambda: torch.tensor([1.0], requires_grad=True))):
        with pytest.raises(Exception) as info:
            fn(optim, make)
        out.append(info.value)
    return out


BAD_INPUTS = {
    "negative lr SGD": lambda o, m: o.SGD([m()], lr=-0.1),
    "negative lr Adam": lambda o, m: o.Adam([m()], lr=-1e-3),
    "negative lr RMSprop": lambda o, m: o.RMSprop([m()], lr=-1.0),
    "negative lr Adagrad": lambda o, m: o.Adagrad([m()], lr=-1.0),
    "negative lr Adadelta": lambda o, m: o.Adadelta([m()], lr=-1.0),
    "negative lr Adamax": lambda o, m: o.Adamax([m()], lr=-1.0),
    "negative lr NAdam": lambda o, m: o.NAdam([m()], lr=-1.0),
    "negative lr RAdam": lambda o, m: o.RAdam([m()], lr=-1.0),
    "negative lr ASGD": lambda o, m: o.ASGD([m()], lr=-1.0),
    "negative lr Rprop": lambda o, m: o.Rprop([m()], lr=-1.0),
    "negative lr LBFGS": lambda o, m: o.LBFGS([m()], lr=-1.0),
    "negative eps Adam": lambda o, m: o.Adam([m()], eps=-1.0),
    "negative eps AdamW": lambda o, m: o.AdamW([m()], eps=-1.0),
    "negative eps RMSprop": lambda o, m: o.RMSprop([m()], eps=-1.0),
    "negative eps Adagrad": lambda o, m: o.Adagrad([m()], eps=-1.0),
    "negative eps Adadelta": lambda o, m: o.Adadelta([m()], eps=-1.0),
    "beta1 = 1 Adam": lambda o, m: o.Adam([m()], betas=(1.0, 0.999)),
    "beta2 < 0 Adam": lambda o, m: o.Adam([m()], betas=(0.9, -0.1)),
    "beta2 = 1 AdamW": lambda o, m: o.AdamW([m()], betas=(0.9, 1.0)),
    "beta1 > 1 NAdam": lambda o, m: o.NAdam([m()], betas=(1.5, 0.9)),
    "beta2 = 1 RAdam": lambda o, m: o.RAdam([m()], betas=(0.9, 1.0)),
    "beta1 = 1 Adamax": lambda o, m: o.Adamax([m()], betas=(1.0, 0.9)),
    "betas mixed types": lambda o, m: o.Adam([m()], betas=(0, 0.9)),
    "negative momentum": lambda o, m: o.SGD([m()], momentum=-0.5),
    "negative weight decay": lambda o, m: o.SGD([m()], weight_decay=-0.5),
    "nesterov without momentum": lambda o, m: o.SGD([m()], nesterov=True),
    "nesterov with dampening": lambda o, m: o.SGD([m()], momentum=0.9, dampening=0.1, nesterov=True),
    "rho > 1": lambda o, m: o.Adadelta([m()], rho=1.5),
    "bad etas": lambda o, m: o.Rprop([m()], etas=(1.2, 0.5)),
    "negative lr_decay": lambda o, m: o.Adagrad([m()], lr_decay=-1.0),
    "negative momentum_decay": lambda o, m: o.NAdam([m()], momentum_decay=-1.0),
    "negative alpha": lambda o, m: o.RMSprop([m()], alpha=-1.0),
    "parameter in two groups": lambda o, m: (lambda p: o.SGD([{"params": [p]}, {"params": [p]}]))(m()),
    "non-leaf tensor": lambda o, m: o.SGD([m() * 2]),
    "single tensor": lambda o, m: o.SGD(m()),
    "a set in a group": lambda o, m: o.SGD([{"params": {m()}}]),
    "not a tensor": lambda o, m: o.SGD([m(), 3]),
    "empty": lambda o, m: o.SGD([]),
    "group not a dict": lambda o, m: o.SGD([m()]).add_param_group([m()]),
    "mixed names": lambda o, m: o.SGD([("a", m()), m()]),
    "named and unnamed groups": lambda o, m: o.SGD([{"params": [("a", m())]}, {"params": [m()]}]),
    "required lr missing": lambda o, m: o.Optimizer(
        [m()], {"lr": sys.modules[o.Optimizer.__module__].required}),
    "load fewer groups": lambda o, m: o.SGD([{"params": [m()]}, {"params": [m()]}]).load_state_dict(
        o.SGD([m()]).state_dict()),
    "load different group size": lambda o, m: o.SGD([m(), m()]).load_state_dict(o.SGD([m()]).state_dict()),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_raises_like_torch(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e, t = _both(BAD_INPUTS[case])
    assert type(e) is type(t), f"{type(e).__name__} != torch {type(t).__name__}: {e}"
    assert str(e).replace("ember.", "torch.") == str(t)


def test_duplicate_parameter_in_group_warns_like_torch():
    w = ember.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters"):
        eoptim.SGD([w, w])


def test_optimizer_is_picklable_and_keeps_working():
    import pickle
    prob = Quadratic(seed=9)
    pe, pt = e_params(prob.x0), t_params(prob.x0)
    oe, ot = make_pair("Adam", dict(lr=0.05), pe, pt)
    _run(oe, ot, pe, pt, prob, 1.0, 0, 5)
    clone = pickle.loads(pickle.dumps(oe))
    assert len(clone.param_groups) == 1 and len(clone.state) == 3
    assert clone.defaults == oe.defaults


# ----------------------------------------------------------------------------------------------
# an end-to-end training loop in the style of nanoGPT's train.py


def _nanogpt_style_run(lib, steps=25):
    nn, F = lib.nn, lib.nn.functional
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 4)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.from_numpy(0.3 * rng.standard_normal(tuple(p.shape))))
    # weight decay on matrices only, as nanoGPT's configure_optimizers does
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    groups = [{"params": [p for p in params.values() if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params.values() if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = lib.optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.95))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaler = lib.cuda.amp.GradScaler(enabled=False)
    xs = rng.standard_normal((steps, 32, 6))
    ys = rng.integers(0, 4, (steps, 32))
    losses = []
    for it in range(steps):
        lr = 1e-2 * min(1.0, (it + 1) / 5) * (0.5 * (1 + math.cos(math.pi * it / steps)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        logits = model(lib.from_numpy(xs[it]))
        loss = F.cross_entropy(logits, lib.from_numpy(ys[it]))
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        with lib.no_grad():  # clip_grad_norm_(model.parameters(), 1.0), spelled out
            total = sum(float((p.grad * p.grad).sum()) for p in model.parameters()) ** 0.5
            if total > 1.0:
                for p in model.parameters():
                    p.grad.mul_(1.0 / (total + 1e-6))
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses, [arr(p) for p in model.parameters()]


def test_nanogpt_style_training_loop_matches_torch():
    le, pe = _nanogpt_style_run(ember)
    lt, pt = _nanogpt_style_run(torch)
    np.testing.assert_allclose(le, lt, rtol=1e-9)
    assert le[-1] < le[0]
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
