"""The compiled SGD / Adam group steps (kernels/_numba_optim.py) against their NumPy references: the same bits for
every option, float32 and float64, groups of several parameters with different step counts, each pass in one chunk
or split into several on Numba's pool, and the dispatch rules (a non-contiguous or half-precision parameter of a
group -> reference, the others compiled)."""
import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import ember
import ember.optim as eoptim

from ember.kernels import numba_enabled
from ember.ops import optim_kernels as K

N = 777   # not a multiple of a vector width: the loop tail runs too


def _arrays(rng, dtype, k):
    return [rng.standard_normal(N).astype(dtype) for _ in range(k)]


def _split_into(monkeypatch, n):
    """The compiled passes split into ``n`` chunks whatever the parameter's size."""
    if numba_enabled():
        from ember.kernels import _numba_optim, _numba_optim_adam_family, _numba_optim_more
        for module in (_numba_optim, _numba_optim_adam_family, _numba_optim_more):
            for size in ("_SGD_CHUNK", "_ADAM_CHUNK"):
                if hasattr(module, size):
                    monkeypatch.setattr(module, size, 1)
        monkeypatch.setattr(_numba_optim, "chunks", lambda size, per: n)
        monkeypatch.setattr(_numba_optim, "threads", lambda: 2)


@pytest.fixture(params=[1, 2, 3])
def nch(request, monkeypatch):
    """The compiled passes split into 1, 2 or 3 chunks whatever the parameter's size."""
    _split_into(monkeypatch, request.param)
    return request.param


def _compiled(kernel, like):
    impl = kernel.implementation(like)
    assert (impl is not kernel.reference) == numba_enabled()   # compiled whenever Numba is usable
    return impl


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_steps_match_reference_bitwise(dtype, nch):
    rng = np.random.default_rng(0)
    impl = _compiled(K.sgd_steps, np.zeros(1, dtype))
    for wd, mom, damp, nesterov, maximize, fresh in itertools.product((0, 0.01), (0, 0.9), (0, 0.1), (False, True),
                                                                         (False, True), (False, True)):
        if nesterov and (mom == 0 or damp):
            continue
        p, g, buf, p2, g2, buf2 = _arrays(rng, dtype, 6)
        want = [p.copy(), buf.copy(), p2.copy(), buf2.copy()]
        got = [a.copy() for a in want]
        for fn, (a, b, a2, b2) in ((K.sgd_steps_reference, want), (impl, got)):
            fn([a, a2], [g, g2], [b, b2] if mom else [], [fresh, not fresh] if mom else [], 0.1, wd, mom, damp,
               nesterov, maximize)
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a, b, err_msg=str((wd, mom, damp, nesterov, maximize, fresh)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_steps_match_reference_bitwise(dtype, nch):
    rng = np.random.default_rng(1)
    impl = _compiled(K.adam_steps, np.zeros(1, dtype))
    for amsgrad, wd, decoupled, maximize, beta1 in itertools.product((False, True), (0, 0.01), (False, True),
                                                                     (False, True), (0.9, 0.3)):
        p, g, m, v, vmax, p2, g2, m2 = _arrays(rng, dtype, 8)
        v, vmax = np.abs(v), np.abs(vmax)
        v[:3] = 0   # zero second moments: eps alone in the denominator
        v2, vmax2 = v[::-1].copy(), vmax[::-1].copy()
        want = [a.copy() for a in (p, m, v, vmax, p2, m2, v2, vmax2)]
        got = [a.copy() for a in want]
        for step in (1.0, 7.0):
            for fn, (a, b, c, d, a2, b2, c2, d2) in ((K.adam_steps_reference, want), (impl, got)):
                fn([a, a2], [g, g2], [b, b2], [c, c2], [d, d2] if amsgrad else [], [step, step + 3], amsgrad, beta1,
                   0.999, 1e-3, wd, 1e-8, maximize, decoupled)
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a, b, err_msg=str((amsgrad, wd, decoupled, maximize, beta1)))


def test_adam_steps_propagate_nan_like_reference():
    p, g, m, v, vmax = (np.ones(8, np.float32) for _ in range(5))
    g[2] = np.nan
    vmax[5] = np.nan
    outs = []
    for fn in (K.adam_steps_reference, K.adam_steps):
        arrays = [a.copy() for a in (p, m, v, vmax)]
        fn([arrays[0]], [g], [arrays[1]], [arrays[2]], [arrays[3]], [1.0], True, 0.9, 0.999, 1e-3, 0, 1e-8, False,
           False)
        outs.append(arrays)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(outs[1][0][[2, 5]]).all() and np.isfinite(outs[1][0][[0, 1, 3, 4, 6, 7]]).all()


def test_parameters_the_compiled_step_does_not_take_go_to_the_reference():
    p = np.ones((4, 6), np.float32)
    g = np.ones((6, 4), np.float32).T          # a transposed gradient: not C-contiguous
    assert not K.same_layout(p, g, None)
    assert K.same_layout(p, np.ones((4, 6), np.float32), None)
    assert not K.same_layout(p.astype(np.float16), p.astype(np.float16), None)
    # in one group with a parameter the compiled pass takes: each gets its own step
    q, h = np.ones(5, np.float32), np.full(5, 2, np.float32)
    r, k = np.ones(3, np.float16), np.full(3, 4, np.float16)
    K.sgd_([p, q, r], [g, h, k], [], [], lr=0.5, weight_decay=0, momentum=0, dampening=0, nesterov=False,
           maximize=False)
    np.testing.assert_array_equal(p, np.full((4, 6), 0.5, np.float32))
    np.testing.assert_array_equal(q, np.zeros(5, np.float32))
    np.testing.assert_array_equal(r, np.full(3, -1, np.float16))


# ----------------------------------------------------------------------------------------------
# the other group steps (kernels/_numba_optim_adam_family.py, kernels/_numba_optim_more.py)

def _grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*axes.values())]


# name -> (kernel, state arrays per parameter and which of them start non-negative, option grid,
#          call(fn, params, grads, states, step, options))
STEPS = {
    "adamax": (K.adamax_steps, (False, True), _grid(wd=(0, 0.01), maximize=(False, True), beta1=(0.9, 0.3)),
               lambda f, p, g, s, k, o: f(p, g, s[0], s[1], [k, k + 2], o["beta1"], 0.999, 1e-2, o["wd"], 1e-8,
                                         o["maximize"])),
    "nadam": (K.nadam_steps, (False, True), _grid(wd=(0, 0.01), maximize=(False, True), decoupled=(False, True),
                                                  beta1=(0.9, 0.3)),
              lambda f, p, g, s, k, o: f(p, g, s[0], s[1], [k, k + 2], [0.93, 0.95], [0.8 ** k, 0.7 ** k],
                                         [0.94, 0.96], o["beta1"], 0.999, 1e-2, o["wd"], 1e-8, o["maximize"],
                                         o["decoupled"])),
    # beta2 0.9: rho_t > 5 (rectified) from the sixth step, the first steps are not
    "radam": (K.radam_steps, (False, True), _grid(wd=(0, 0.01), maximize=(False, True), decoupled=(False, True),
                                                  beta1=(0.9, 0.3)),
              lambda f, p, g, s, k, o: f(p, g, s[0], s[1], [k, k + 4], o["beta1"], 0.9, 1e-2, o["wd"], 1e-8,
                                         o["maximize"], o["decoupled"])),
    "rmsprop": (K.rmsprop_steps, (True, False, False),
                _grid(wd=(0, 0.01), maximize=(False, True), centered=(False, True), momentum=(0, 0.9),
                      alpha=(0.99, 0.3)),
                lambda f, p, g, s, k, o: f(p, g, s[0], s[1] if o["centered"] else [], s[2] if o["momentum"] else [],
                                           1e-2, o["alpha"], 1e-8, o["wd"], o["momentum"], o["centered"],
                                           o["maximize"])),
    "adagrad": (K.adagrad_steps, (True,), _grid(wd=(0, 0.01), maximize=(False, True), lr_decay=(0, 0.01)),
                lambda f, p, g, s, k, o: f(p, g, s[0], [k, k + 2], 1e-2, o["wd"], o["lr_decay"], 1e-10,
                                           o["maximize"])),
    "adadelta": (K.adadelta_steps, (True, True), _grid(wd=(0, 0.01), maximize=(False, True), rho=(0.9, 0.3)),
                 lambda f, p, g, s, k, o: f(p, g, s[0], s[1], 1.0, o["rho"], 1e-6, o["wd"], o["maximize"])),
    "asgd": (K.asgd_steps, (False,), _grid(wd=(0, 0.01), maximize=(False, True), mu=(1.0, 0.25)),
             lambda f, p, g, s, k, o: f(p, g, s[0], [0.01 / k, 0.02], [o["mu"], 0.5], 1e-2, o["wd"], o["maximize"])),
    "rprop": (K.rprop_steps, (False, True), _grid(maximize=(False, True), sizes=((1e-6, 50.0), (0.5, 0.6))),
              lambda f, p, g, s, k, o: f(p, g, s[0], s[1], 0.5, 1.2, *o["sizes"], o["maximize"])),
    "lerp": (K.lerp_pairs, (), _grid(weight=(0.3, 0.7, -0.2)),
             lambda f, p, g, s, k, o: f(p, g, o["weight"])),
}


def _group(rng, dtype, nonneg):
    """Two parameters with their gradients and states: a flat one the compiled pass takes, and a matrix whose
    gradient is transposed (not C-contiguous: the reference's); zeros here and there (sign and maximum ties), and
    states flagged ``nonneg`` at 16 or more."""
    def pair(nonneg=False):
        a, b = rng.standard_normal(N).astype(dtype), rng.standard_normal((6, 5)).astype(dtype)
        a[::50] = 0
        return [a * a + 16, b * b + 16] if nonneg else [a, b]   # RMSprop's square average over grad_avg ** 2
    params, grads = pair(), pair()
    grads[1] = np.ascontiguousarray(grads[1].T).T
    return params, grads, [pair(n) for n in nonneg]


@pytest.mark.parametrize("name", list(STEPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_steps_match_reference_bitwise(name, dtype, nch):
    kernel, nonneg, options, call = STEPS[name]
    impl = _compiled(kernel, np.zeros(1, dtype))
    rng = np.random.default_rng(len(name))
    for o in options:
        params, grads, states = _group(rng, dtype, nonneg)
        want = [[a.copy() for a in L] for L in [params, *states]]
        got = [[a.copy() for a in L] for L in want]
        for k, c in enumerate((1.0, -0.5, 2.0, 0.0, -1.0, 0.25, 1.5), 1):   # the states feed back
            g = [a * c for a in grads]      # the same layouts; signs that change and stay (Rprop)
            call(kernel.reference, want[0], g, want[1:], float(k), o)
            call(impl, got[0], g, got[1:], float(k), o)
        for i, (a, b) in enumerate(zip(itertools.chain(*want), itertools.chain(*got))):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} {o} array {i}")
            assert np.isfinite(b).all()


def test_group_steps_propagate_nan_and_inf_like_reference():
    for name, (kernel, nonneg, options, call) in STEPS.items():
        params, grads, states = _group(np.random.default_rng(5), np.float32, nonneg)
        grads[0][[3, 10]] = np.nan, np.inf
        for L in states:
            L[0][[20, 30]] = np.nan, np.inf
        outs = []
        for fn in (kernel.reference, kernel):
            arrays = [[a.copy() for a in L] for L in [params, *states]]
            with np.errstate(invalid="ignore", divide="ignore"):
                call(fn, arrays[0], grads, arrays[1:], 2.0, options[-1])
            outs.append(list(itertools.chain(*arrays)))
        for a, b in zip(*outs):
            np.testing.assert_array_equal(a, b, err_msg=name)
        assert np.isnan(outs[1][0]).any() and np.isfinite(outs[1][0]).any(), name


TORCH_CONFIGS = [
    ("Adamax", K.adamax_steps, dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("Adamax", K.adamax_steps, dict(lr=0.05, betas=(0.5, 0.9))),
    ("NAdam", K.nadam_steps, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", K.nadam_steps, dict(lr=0.05, weight_decay=0.1, maximize=True, momentum_decay=1e-2)),
    ("RAdam", K.radam_steps, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", K.radam_steps, dict(lr=0.05, weight_decay=0.1, betas=(0.9, 0.9))),
    ("RMSprop", K.rmsprop_steps, dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", K.rmsprop_steps, dict(lr=0.01, alpha=0.5, centered=True, maximize=True)),
    ("RMSprop", K.rmsprop_steps, dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", K.adagrad_steps, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", K.adagrad_steps, dict(lr=0.1, maximize=True)),
    ("Adadelta", K.adadelta_steps, dict(rho=0.5, weight_decay=0.1)),
    ("Adadelta", K.adadelta_steps, dict(lr=0.5, maximize=True)),
    ("ASGD", K.asgd_steps, dict(lr=0.05, t0=5.0, lambd=1e-2, weight_decay=0.1)),
    ("ASGD", K.asgd_steps, dict(lr=0.05, maximize=True)),
    ("Rprop", K.rprop_steps, dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05))),
    ("Rprop", K.rprop_steps, dict(lr=0.01, maximize=True)),
]


@pytest.mark.parametrize("path", ["compiled", "reference"])
@pytest.mark.parametrize("name,kernel,kw", TORCH_CONFIGS, ids=[f"{c[0]}{c[2]}" for c in TORCH_CONFIGS])
def test_group_step_trajectories_match_torch(name, kernel, kw, path, monkeypatch):
    """20 float64 steps on a separable quadratic (each side's gradients from its own parameters), the compiled
    passes split into 3 chunks, against torch.optim's single-tensor steps."""
    if path == "reference":
        monkeypatch.setitem(kernel._impls, "numpy", kernel.reference)
    else:
        _split_into(monkeypatch, 3)
    rng = np.random.default_rng(3)
    x0 = [rng.standard_normal(N), rng.standard_normal((6, 5))]
    curv = [rng.uniform(0.5, 2, a.shape) for a in x0]
    noise = [[0.1 * rng.standard_normal(a.shape) for a in x0] for _ in range(20)]
    sign = -1.0 if kw.get("maximize") else 1.0
    pe = [ember.from_numpy(a.copy()).requires_grad_() for a in x0]
    pt = [torch.from_numpy(a.copy()).requires_grad_() for a in x0]
    oe, ot = getattr(eoptim, name)(pe, **kw), getattr(torch.optim, name)(pt, foreach=False, **kw)
    for k in range(20):
        for e, t, c, z in zip(pe, pt, curv, noise[k]):
            e.grad = ember.from_numpy(sign * (c * (e.detach().numpy() - 1) + z))
            t.grad = torch.from_numpy(sign * (c * (t.detach().numpy() - 1) + z))
        oe.step()
        ot.step()
        for e, t in zip(pe, pt):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-13,
                                       err_msg=f"step {k + 1}")
    assert not np.allclose(pe[0].detach().numpy(), x0[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lerp_matches_torch_foreach_lerp(dtype, nch):
    rng = np.random.default_rng(4)
    for weight in (0.3, 0.9):
        a, b = [rng.standard_normal(N).astype(dtype) for _ in range(2)]
        got = [a.copy()]
        K.lerp_(got, [b], weight)
        want = [torch.from_numpy(a.copy())]
        torch._foreach_lerp_(want, [torch.from_numpy(b)], weight)
        tol = 1e-6 if dtype == np.float32 else 1e-15   # torch rounds its vector kernel differently (near-zero results)
        np.testing.assert_allclose(got[0], want[0].numpy(), rtol=tol, atol=tol)


def _block_thread_splits(monkeypatch):
    """Every group split into 2 shares where the NumPy path runs; returns the list the share counts go to."""
    monkeypatch.setattr(K, "NUM_THREADS", 2)
    monkeypatch.setattr(K, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(K, "block_threads", lambda: 2)
    monkeypatch.setattr(K, "parallel_ok", lambda: True)
    splits = []

    def run_split(fn, parts):
        splits.append(len(parts))
        return [fn(*part) for part in parts]

    monkeypatch.setattr(K, "run_split", run_split)
    return splits


@pytest.mark.parametrize("path", ["compiled", "reference"])
def test_lerp_of_a_large_group_on_either_path(path, monkeypatch):
    """``lerp_``'s weight is a positional scalar: the block-thread shares of the NumPy path pass it through (they
    took it for a list and raised a TypeError)."""
    if path == "reference":
        monkeypatch.setitem(K.lerp_pairs._impls, "numpy", K.lerp_pairs.reference)
    splits = _block_thread_splits(monkeypatch)
    rng = np.random.default_rng(6)
    a, b = [rng.standard_normal(N) for _ in range(2)], [rng.standard_normal(N) for _ in range(2)]
    want = [x.copy() for x in a]
    K.lerp_pairs_reference(want, b, 0.25)
    K.lerp_(a, b, 0.25)
    assert splits == ([] if numba_enabled() and path == "compiled" else [2])
    for x, y in zip(a, want):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name,kernel,kw", TORCH_CONFIGS[::2], ids=[c[0] for c in TORCH_CONFIGS[::2]])
def test_compiled_group_steps_leave_the_block_threads_alone(name, kernel, kw, monkeypatch):
    """A group large enough to be split: over Python block threads on the NumPy path, never with Numba (its own pool
    splits a large parameter's pass)."""
    splits = _block_thread_splits(monkeypatch)
    p = ember.nn.Parameter(ember.ones(64))
    p.grad = ember.ones(64)
    getattr(eoptim, name)([p], **kw).step()
    assert splits == ([] if numba_enabled() else [2])


DRIVER_FIRST = textwrap.dedent("""
    import numpy as np
    from ember.kernels import numba_enabled
    from ember.ops import optim_kernels as K
    rng = np.random.default_rng(0)
    p, g, s, b = (rng.standard_normal(777).astype(np.float32) for _ in range(4))
    s = np.abs(s)
    runs = [(K.sgd_steps, lambda f, a: f([a[0]], [g], [a[1]], [False], 0.1, 0.01, 0.9, 0.1, False, False)),
            (K.adam_steps, lambda f, a: f([a[0]], [g], [a[1]], [a[2]], [], [3.0], False, 0.9, 0.999, 0.1, 0.01, 1e-8,
                                          False, True)),
            (K.rmsprop_steps, lambda f, a: f([a[0]], [g], [a[2]], [], [a[1]], 0.1, 0.99, 1e-8, 0.01, 0.9, False,
                                             False))]
    for chunks in (2, 1):   # the split passes (their drivers) compile first, then the passes run alone
        if numba_enabled():
            from ember.kernels import _numba_optim, _numba_optim_adam_family, _numba_optim_more
            for module in (_numba_optim, _numba_optim_adam_family, _numba_optim_more):
                for size in ("_SGD_CHUNK", "_ADAM_CHUNK"):
                    if hasattr(module, size):
                        setattr(module, size, 1)
            _numba_optim.chunks = lambda size, per: chunks
            _numba_optim.threads = lambda: 2
        for kernel, run in runs:
            want, got = [p.copy(), b.copy(), s.copy()], [p.copy(), b.copy(), s.copy()]
            run(kernel.reference, want)
            run(kernel, got)
            for x, y in zip(want, got):
                assert np.array_equal(x, y), (kernel.name, chunks, int((x != y).sum()))
    print("ok")
""")


def test_passes_stay_exact_when_their_drivers_compile_first(tmp_path):
    """A pass first compiled from its (parallel) driver, in a fresh process with an empty Numba cache, still gives the
    reference's bits: the drivers are compiled without fast-math, whose flags Numba would hand to the pass."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", DRIVER_FIRST], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout[-2000:] + proc.stderr[-3000:]
