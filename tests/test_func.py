"""ember.func against torch.func: transforms' values, structures, nesting, vmap semantics and errors."""
import warnings

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.func as ef
from parity import assert_same as _assert_same

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4, 5)).astype(np.float32)
V = RNG.standard_normal(5)


def pair(a, requires_grad=False):
    return ember.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def assert_same(e, t, **kw):
    """parity.assert_same, also through dicts (same keys, same order) and namedtuples."""
    if isinstance(t, dict):
        assert isinstance(e, dict) and list(e) == list(t), (e, t)
        for k in t:
            assert_same(e[k], t[k], **kw)
    elif isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            assert_same(a, b, **kw)
    else:
        _assert_same(e, t, **kw)


def same_error(fe, ft):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(Exception) as ee:
        fe()
    assert type(ee.value).__name__ == type(te.value).__name__ or isinstance(ee.value, type(te.value))
    assert str(ee.value) == str(te.value)


def both(make, *arrays, **kw):
    """Run ``make(lib, *tensors)`` with each library on the same arrays; compare results."""
    es = [ember.tensor(a) for a in arrays]
    ts = [torch.tensor(a) for a in arrays]
    assert_same(make(ember, ef, *es), make(torch, tf, *ts), **kw)


# ---------------------------------------------------------------- grad family
def test_grad_argnums_pytrees_aux_and_unused_inputs():
    both(lambda L, F, x: F.grad(lambda a: (a ** 3).sin().sum())(x), V)
    both(lambda L, F, x, y: F.grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))(x, y), V, V[::-1].copy())
    both(lambda L, F, x, y: F.grad(lambda d: (d["a"] * d["b"][0]).sum())({"a": x, "b": [y]}), V, V + 1)
    both(lambda L, F, x, y: F.grad(lambda a, b: (a * 2).sum(), argnums=1)(x, y), V, V)   # unused: zeros
    both(lambda L, F, x: F.grad_and_value(lambda a: ((a * a).sum(), a.cos()), has_aux=True)(x), V)
    both(lambda L, F, x: F.grad(lambda a: (a * a).sum(), has_aux=False)(x), V)


def test_grad_nesting_and_outer_autograd():
    both(lambda L, F, x: F.grad(lambda a: F.grad(lambda b: (b ** 4).sum())(a).sum())(x), V)
    # grad of a function closing over a tensor that requires grad stays differentiable w.r.t. it
    we, wt = pair(V, requires_grad=True)
    ge = ef.grad(lambda a: (a * we).pow(2).sum())(ember.tensor(V + 1))
    gt = tf.grad(lambda a: (a * wt).pow(2).sum())(torch.tensor(V + 1))
    assert ge.requires_grad and gt.requires_grad
    assert_same(ember.autograd.grad(ge.sum(), we), torch.autograd.grad(gt.sum(), wt))
    assert not ef.grad(lambda a: (a * a).sum())(ember.tensor(V)).requires_grad


def test_grad_errors():
    x = V
    cases = [
        lambda L, F, x: F.grad(lambda a: a)(x),
        lambda L, F, x: F.grad(lambda a: 3)(x),
        lambda L, F, x: F.grad(lambda a: a.sum(), argnums=1)(x),
        lambda L, F, x: F.grad(lambda a: a.sum(), argnums=1.5)(x),
        lambda L, F, x: F.grad(lambda a: a.sum(), argnums=())(x),
        lambda L, F, x: F.grad(lambda a: a.sum(), has_aux=True)(x),
        lambda L, F, x: F.grad(lambda a: a.sum())(3.0),
        lambda L, F, x: F.vjp(lambda a: (a, 1), x),
        lambda L, F, x: F.vjp(lambda a: a, x, has_aux=True),
        lambda L, F, x: F.vjp(lambda a: a, x)[1](L.ones(2, dtype=L.float64)),
        lambda L, F, x: F.jvp(lambda a: a, x, x),
        lambda L, F, x: F.jvp(lambda a: a, (x,), (L.ones(2, dtype=L.float64),)),
        lambda L, F, x: F.jvp(lambda a: a, (x,), (x, x)),
        lambda L, F, x: F.jvp(lambda a: a, (x,), (x.int(),)),
        lambda L, F, x: F.jvp(lambda a: 1, (x,), (x,)),
        lambda L, F, x: F.jacrev(lambda a: a, argnums=2)(x),
    ]
    for case in cases:
        same_error(lambda: case(ember, ef, ember.tensor(x)), lambda: case(torch, tf, torch.tensor(x)))


def test_vjp_and_jvp():
    def f(lib):
        return lambda a, b: {"s": (a * b).sin(), "t": (a.exp() @ b.reshape(5, 1)).sum()}

    def vjp_run(L, F, x, y, c):
        out, fn = F.vjp(f(L), x, y)
        return out, fn({"s": c, "t": c.sum()}), fn({"s": c * 2, "t": c.sum() * 0})   # callable twice
    both(vjp_run, V, V + 0.5, V - 1)
    both(lambda L, F, x, y, tx, ty: F.jvp(f(L), (x, y), (tx, ty)), V, V + 0.5, V * 0 + 1, V * 2)
    both(lambda L, F, x, t: F.jvp(lambda a: (a.sin(), a.sum()), (x,), (t,), has_aux=True), V, V + 1)
    both(lambda L, F, x, t: F.jvp(lambda a: x * 2, (x,), (t,)), V, V)    # output independent of the input


@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_jacobians(jac):
    def g(L):
        return lambda a, b: ((a[:, None] * b).tanh(), {"n": (a * a).sum()})
    both(lambda L, F, x, y: getattr(F, jac)(g(L), argnums=(0, 1))(x, y), V[:3].copy(), V[:4].copy())
    both(lambda L, F, x: getattr(F, jac)(lambda a: (a.sin(), a.sum()), has_aux=True)(x), V)
    both(lambda L, F, x: getattr(F, jac)(lambda d: d["u"].exp() * d["w"].sum())({"u": x, "w": x[:2]}), V)


def test_hessian_and_nested_jacobians():
    f = lambda a: (a.sin() * a.pow(3)).sum()   # noqa: E731
    both(lambda L, F, x: F.hessian(f)(x), V)
    both(lambda L, F, x: F.jacrev(F.jacrev(f))(x), V)
    both(lambda L, F, x, y: F.hessian(lambda a, b: (a * b * b).sum(), argnums=(0, 1))(x, y), V, V + 1)


# ---------------------------------------------------------------- vmap
def count_calls(fn):
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(1)
        return fn(*args, **kwargs)
    return wrapped, calls


BATCHED_CASES = {
    "reduce_softmax": (lambda L: lambda x: (x.sum(0) * x.mean(-1, keepdim=True)).softmax(-1), dict(in_dims=1)),
    "shape_ops": (lambda L: lambda x: x.transpose(0, 1).reshape(-1, 2)[1:, ::2].unsqueeze(0).flatten(),
                  dict(in_dims=2, out_dims=1)),
    "matmul_unbatched_arg": (lambda L: lambda x, y: x @ y.T + 1, dict(in_dims=(0, None))),
    "scalars_and_reflected": (lambda L: lambda x: 2 - x / 3 + 2 ** x.tanh(), {}),
    "basic_indexing": (lambda L: lambda x: x[..., 1:3] * x[0, None, :2].abs(), {}),
    "variance_argmax": (lambda L: lambda x: (x.var() + x.std(0).sum(), x.argmax(), x.max(1).values),
                        dict(out_dims=(0, 0, 1))),
    "cumsum_chunked": (lambda L: lambda x: x.cumsum(1).T, dict(chunk_size=2)),
    "vector_dot": (lambda L: lambda x, y: (x[0] * y[0]).sum() + x[1].dot(y[1]), dict(in_dims=(0, 0))),
}


@pytest.mark.parametrize("name", sorted(BATCHED_CASES))
def test_vmap_batched_rules_run_once_and_match_torch(name):
    make, kw = BATCHED_CASES[name]
    fe, calls = count_calls(make(ember))
    n_args = 2 if "in_dims" in kw and isinstance(kw["in_dims"], tuple) else 1
    args_e = [ember.tensor(A)] + ([ember.tensor(A[0])] if kw.get("in_dims") == (0, None) else
                                  [ember.tensor(A * 2)])[:n_args - 1]
    args_t = [torch.tensor(a.numpy()) for a in args_e]
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the batched path: no fallback warning
        out_e = ef.vmap(fe, **kw)(*args_e)
    assert_same(out_e, tf.vmap(make(torch), **kw)(*args_t), rtol=1e-5, atol=1e-5)
    chunks = -(-A.shape[kw.get("in_dims", 0) if isinstance(kw.get("in_dims", 0), int) else 0]
               // kw.get("chunk_size", 10 ** 9))
    assert len(calls) == chunks   # one call per chunk: the function ran on the whole batch


def test_vmap_fallback_loops_warns_once_and_matches_torch():
    def f(L):
        return lambda x, w: L.nn.functional.linear(L.sin(x), w).relu()
    fe, calls = count_calls(f(ember))
    (xe, xt), (we, wt) = pair(A), pair(A[0, :2])
    with pytest.warns(UserWarning, match="without a batching rule"):
        out = ef.vmap(fe, in_dims=(0, None))(xe, we)
    assert len(calls) == 1 + 3   # the failed batched run, then one call per sample
    assert_same(out, tf.vmap(f(torch), in_dims=(0, None))(xt, wt), rtol=1e-5, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ef.vmap(fe, in_dims=(0, None))(xe, we)   # warned once already


def test_vmap_nesting_pytrees_and_out_dims():
    both(lambda L, F, x, y: F.vmap(F.vmap(lambda a, b: (a * b).sum()), in_dims=(0, None))(x, y), A, A[0])
    both(lambda L, F, x: F.vmap(F.vmap(lambda a: a.max(0).values, in_dims=1), in_dims=2)(x), A)
    both(lambda L, F, x: F.vmap(lambda a: F.vmap(L.sin)(a) * 2, in_dims=1, out_dims=2)(x), A)
    both(lambda L, F, x, y: F.vmap(lambda d, t: {"o": d["a"] * 2 - d["b"][0], "p": (t[0], t[1].sum())},
                                   in_dims=({"a": 0, "b": [1]}, (None, 2)), out_dims={"o": 1, "p": (None, 0)})(
        {"a": x, "b": [x.transpose(0, 1)]}, (y, y)), A, A[:, :, :3].copy())
    both(lambda L, F, x: F.vmap(lambda a: x.sum(), out_dims=None)(x), A)
    both(lambda L, F, x: F.vmap(lambda a: x.sum())(x), A)     # unbatched output, expanded
    # in-place writes on per-sample views reach the input, as in PyTorch
    for L, F in ((ember, ef), (torch, tf)):
        t = L.zeros(3, 2)
        F.vmap(lambda r: r.add_(1.0))(t)
        assert float(t.sum()) == 6.0


def test_vmap_of_grad_per_sample_gradients_and_ensembles():
    def loss(L, F):
        def f(params, x, y):
            out = F.functional_call(model[L], params, (x.unsqueeze(0),))
            return L.nn.functional.mse_loss(out, y.unsqueeze(0))
        return f
    model = {ember: ember.nn.Linear(5, 2), torch: torch.nn.Linear(5, 2)}
    for pe, pt in zip(model[ember].parameters(), model[torch].parameters()):
        pe.data = ember.tensor(pt.detach().numpy().copy())
    x, y = A[0], RNG.standard_normal((4, 2)).astype(np.float32)

    def run(L, F, x, y):
        params = {k: v.detach() for k, v in model[L].named_parameters()}
        return F.vmap(F.grad(loss(L, F)), in_dims=(None, 0, 0))(params, x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(run, x, y, rtol=1e-5, atol=1e-6)

    def ensemble(L, F, x):
        L.manual_seed(0)
        models = [L.nn.Linear(5, 3) for _ in range(4)]
        for i, m in enumerate(models):
            for p in m.parameters():
                p.data = L.tensor(np.full(tuple(p.shape), 0.1 * (i + 1), dtype=np.float32))
        params, buffers = F.stack_module_state(models)
        assert params["weight"].shape == (4, 3, 5) and params["weight"].requires_grad
        call = lambda p, b, a: F.functional_call(models[0], (p, b), (a,))   # noqa: E731
        return F.vmap(call, in_dims=(0, 0, None))(params, buffers, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(ensemble, x)
    same_error(lambda: ef.stack_module_state([]), lambda: tf.stack_module_state([]))
    same_error(lambda: ef.stack_module_state([ember.nn.Linear(1, 1), ember.nn.Linear(1, 1).eval()]),
               lambda: tf.stack_module_state([torch.nn.Linear(1, 1), torch.nn.Linear(1, 1).eval()]))
    same_error(lambda: ef.functional_call(ember.nn.Linear(1, 1), ({"weight": 1}, {"weight": 2}), ()),
               lambda: tf.functional_call(torch.nn.Linear(1, 1), ({"weight": 1}, {"weight": 2}), ()))


def test_vmap_randomness():
    x = ember.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ef.vmap(lambda a: a + ember.rand(3))(x)
    same = ef.vmap(lambda a: a + ember.rand(3), randomness="same")(x)
    assert all(ember.equal(same[0], r) for r in same)
    diff = ef.vmap(lambda a: a.bernoulli(0.5) + ember.rand(3), randomness="different")(x.add(0.5))
    assert not all(ember.equal(diff[0], r) for r in diff)


def test_vmap_errors():
    xs = (A, A[:2, 0].copy())
    cases = [
        lambda F, x, y: F.vmap(lambda a, b: a + b)(x, y),
        lambda F, x, y: F.vmap(lambda a: a, in_dims=None)(x),
        lambda F, x, y: F.vmap(lambda a: a, in_dims=(None,))(x),
        lambda F, x, y: F.vmap(lambda a: a, in_dims=3)(x),
        lambda F, x, y: F.vmap(lambda a: a, in_dims=(0, 0))(x),
        lambda F, x, y: F.vmap(lambda a: a, in_dims=1.0)(x),
        lambda F, x, y: F.vmap(lambda a: a, out_dims=(0, 0))(x),
        lambda F, x, y: F.vmap(lambda a: a, out_dims=3)(x),
        lambda F, x, y: F.vmap(lambda a: 3)(x),
        lambda F, x, y: F.vmap(lambda a: (a, 3))(x),
        lambda F, x, y: F.vmap(lambda a: a)(3.0),
        lambda F, x, y: F.vmap(lambda a: a)(),
        lambda F, x, y: F.vmap(lambda a: a.sum(), out_dims=None)(x),
        lambda F, x, y: F.vmap(lambda a: a, randomness="bogus"),
        lambda F, x, y: F.vmap(lambda a: a, chunk_size=0),
        lambda F, x, y: F.vmap(lambda d: d["a"], in_dims=({"b": 0},))({"a": x}),
        lambda F, x, y: F.vmap(lambda a: a.sum().item())(x),
    ]
    for case in cases:
        same_error(lambda: case(ef, *map(ember.tensor, xs)), lambda: case(tf, *map(torch.tensor, xs)))
