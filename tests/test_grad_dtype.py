"""Tensor.grad_dtype: the dtype a leaf's accumulated .grad takes, and the dtype an assigned .grad must have."""
import pytest
import torch

import ember


def _accumulated(lib, grad_dtype, steps=2):
    w = lib.ones(2, requires_grad=True)
    w.grad_dtype = grad_dtype
    for _ in range(steps):
        (w * 2).sum().backward()
    return w.grad_dtype, w.grad.dtype, w.grad.tolist()


@pytest.mark.parametrize("grad_dtype", ["float64", "float16", None])
def test_backward_accumulates_in_grad_dtype(grad_dtype):
    e, t = (_accumulated(lib, getattr(lib, grad_dtype) if grad_dtype else None) for lib in (ember, torch))
    assert (str(e[0]), str(e[1]), e[2]) == (str(t[0]), str(t[1]), t[2])


def test_defaults_and_errors_as_torch():
    for lib in (ember, torch):
        w = lib.ones(2, requires_grad=True)
        assert w.grad_dtype == lib.float32 and lib.ones(2, dtype=lib.float64).grad_dtype == lib.float64
        messages = []
        for bad in (lambda: setattr(w, "grad", lib.ones(2, dtype=lib.float64)),
                    lambda: setattr(w, "grad_dtype", 3),
                    lambda: (w * 2).grad_dtype,
                    lambda: setattr(w * 2, "grad_dtype", lib.float64)):
            with pytest.raises(RuntimeError) as info:
                bad()
            messages.append(str(info.value))
        w.grad_dtype = lib.float64
        with pytest.raises(RuntimeError) as info:
            w.grad = lib.ones(2)
        messages.append(str(info.value))
        w.grad_dtype = None
        w.grad = lib.ones(2, dtype=lib.float16)
        messages.append(str(w.grad.dtype).replace("torch.", ""))
        if lib is ember:
            ember_messages = messages
    assert ember_messages == messages


def test_autograd_grad_returns_the_inputs_grad_dtype():
    seen = {}
    for lib in (ember, torch):
        x = lib.ones(3, requires_grad=True)
        x.grad_dtype = lib.float64
        z = lib.ones(2, requires_grad=True)
        z.grad_dtype = None
        w = lib.ones(2, requires_grad=True)
        out = (x * x).sum() + (z * 3).sum() + (w * 4).sum()
        grads = lib.autograd.grad(out, (x, z, w), create_graph=True)
        seen[lib] = [(str(g.dtype), g.tolist(), g.requires_grad) for g in grads]
    assert seen[ember] == seen[torch]
