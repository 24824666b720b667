"""Helpers for parity tests: run the same thing in ember and in PyTorch and compare.

``check_op(fn_ember, fn_torch, *arrays, grad=True, gradgrad=False)`` feeds identical
NumPy inputs to both libraries (floating arrays become tensors that require grad),
then compares output values, dtypes and shapes, the gradients of every floating
input for a random upstream gradient, and optionally second derivatives.
"""
import numpy as np
import torch

import ember
from array_backend import assert_on_device

TOL = {np.float64: (1e-10, 1e-12), np.float32: (1e-5, 1e-6), np.float16: (1e-2, 1e-3)}


def to_ember(a, requires_grad=False, device="cpu"):
    t = ember.tensor(a) if not isinstance(a, np.ndarray) else ember.from_numpy(a.copy())
    t = t.to(device)
    return t.requires_grad_() if requires_grad else t


def to_torch(a, requires_grad=False):
    t = torch.tensor(a) if not isinstance(a, np.ndarray) else torch.from_numpy(a.copy())
    return t.requires_grad_() if requires_grad else t


def as_numpy(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().resolve_conj().resolve_neg()
        if t._is_zerotensor():
            return np.zeros(tuple(t.shape), dtype=str(t.dtype).replace("torch.", ""))
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.numpy()
    return np.asarray(t.detach().cpu()._data, dtype=np.float32 if t.dtype is ember.bfloat16 else None)


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def assert_same(e, t, rtol=None, atol=None, check_dtype=True, equal_nan=True):
    """Assert an ember result equals a torch result (tensors, numbers, or nested tuples/lists of them)."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"expected a sequence, got {type(e)}"
        assert len(e) == len(t), f"length {len(e)} != {len(t)}"
        for a, b in zip(e, t):
            assert_same(a, b, rtol, atol, check_dtype, equal_nan)
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"expected a Tensor, got {type(e)}"
        assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != torch {tuple(t.shape)}"
        if check_dtype:
            assert dtype_name(e) == dtype_name(t), f"dtype {e.dtype} != torch {t.dtype}"
        ea, ta = as_numpy(e), as_numpy(t)
        if ta.dtype.kind in "biu":
            np.testing.assert_array_equal(ea, ta)
        else:
            r, a = TOL.get(ta.dtype.type, (1e-5, 1e-6))
            np.testing.assert_allclose(ea, ta, rtol=rtol or r, atol=atol if atol is not None else a,
                                       equal_nan=equal_nan)
        return
    if isinstance(t, float):
        np.testing.assert_allclose(e, t, rtol=rtol or 1e-6, equal_nan=equal_nan)
        return
    assert e == t, f"{e!r} != torch {t!r}"


def _floating(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _outputs(r):
    if isinstance(r, (tuple, list)):
        return [x for x in r if isinstance(x, (torch.Tensor, ember.Tensor))]
    return [r]


def check_op(fn_e, fn_t, *arrays, grad=True, gradgrad=False, rtol=None, atol=None, check_dtype=True, device="cpu"):
    """Compare ``fn_e(*ember_tensors)`` with ``fn_t(*torch_tensors)``: values, dtypes, shapes, grads.

    The ember inputs live on ``device``; every ember result and gradient must stay there."""
    with ember.device(device):   # tensors the op (or the test row) creates land on the same device
        return _check_op(fn_e, fn_t, arrays, grad, gradgrad, rtol, atol, check_dtype, device)


def _check_op(fn_e, fn_t, arrays, grad, gradgrad, rtol, atol, check_dtype, device):
    need = [grad and _floating(a) for a in arrays]
    te = [to_ember(a, n, device) if isinstance(a, np.ndarray) else a for a, n in zip(arrays, need)]
    tt = [to_torch(a, n) if isinstance(a, np.ndarray) else a for a, n in zip(arrays, need)]
    re, rt = fn_e(*te), fn_t(*tt)
    assert_on_device(re, device)
    assert_same(re, rt, rtol, atol, check_dtype)
    if not any(need):
        return re, rt
    outs_t = [o for o in _outputs(rt) if o.requires_grad]
    outs_e = [o for o, ot in zip(_outputs(re), _outputs(rt)) if ot.requires_grad]
    if not outs_t:
        return re, rt
    rng = np.random.default_rng(1)
    ups = [rng.standard_normal(tuple(o.shape)).astype(as_numpy(o).dtype) for o in outs_t]
    inputs_e = [x for x, n in zip(te, need) if n]
    inputs_t = [x for x, n in zip(tt, need) if n]
    ge = ember.autograd.grad(outs_e, inputs_e, [ember.from_numpy(u.copy()).to(device) for u in ups],
                             allow_unused=True, create_graph=gradgrad)
    assert_on_device(ge, device, "gradient")
    gt = torch.autograd.grad(outs_t, inputs_t, [torch.from_numpy(u.copy()) for u in ups], allow_unused=True,
                             create_graph=gradgrad)
    for a, b in zip(ge, gt):
        if b is None:
            assert a is None or not np.any(as_numpy(a)), "ember gave a gradient where torch gave none"
            continue
        assert a is not None, "ember gave no gradient where torch did"
        assert_same(a, b, rtol, atol, check_dtype)
    if gradgrad:
        # differentiate the squared norm of the first gradients once more; a first gradient that
        # does not depend on the inputs (ember: no graph, torch: a graph of zeros) contributes zero
        pairs = [(a, b) for a, b in zip(ge, gt) if b is not None and b.requires_grad]
        if pairs:
            st = sum((b * b).sum() for _, b in pairs)
            ggt = torch.autograd.grad(st, inputs_t, allow_unused=True)
            live = [a for a, _ in pairs if a.requires_grad]
            gge = ember.autograd.grad(sum((a * a).sum() for a in live), inputs_e, allow_unused=True) if live \
                else [None] * len(inputs_e)
            for a, b in zip(gge, ggt):
                if b is None:
                    continue
                if a is None:
                    assert not np.any(as_numpy(b)), "ember gave no second derivative where torch's is non-zero"
                else:
                    assert_same(a, b, rtol, atol, check_dtype)
    return re, rt


def forward_backward(lib, fn, arrays, grad, dtype):
    """Run ``fn(lib, *tensors)`` on ``arrays`` made ``lib`` tensors of ``dtype`` (a name: ``"bfloat16"``) that
    require grad, then backward with ``grad``; returns ``[output, *input gradients]`` as float32/64 NumPy arrays."""
    dt = getattr(lib, dtype)
    ts = [lib.tensor(a, dtype=dt, requires_grad=True) for a in arrays]
    y = fn(lib, *ts)
    y.backward(lib.tensor(grad, dtype=dt))
    return [y.detach().float().numpy()] + [t.grad.float().numpy() for t in ts]


def check_raises(fn_e, fn_t, *args):
    """Both libraries raise, and ember raises the same exception type as torch."""
    try:
        fn_t(*args)
    except Exception as exc:  # noqa: BLE001
        expected = type(exc)
    else:
        raise AssertionError("torch did not raise")
    try:
        fn_e(*args)
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, expected) or type(exc).__name__ == expected.__name__, \
            f"ember raised {type(exc).__name__}: {exc}; torch raised {expected.__name__}"
        return exc
    raise AssertionError("ember did not raise")
