"""Hook handles against torch: every register_*_hook returns torch.utils.hooks.RemovableHandle's
twin, removing a handle removes only its own registration (also when the same function is
registered twice, or the handle is removed twice), and a hook that removes itself during backward
does not stop the hooks after it."""
import pytest
import torch

import ember


def _run(lib, kind):
    """Register two hooks of ``kind`` (the first removing itself when called), plus the same
    function twice with one of its handles removed twice; return the call order over two backwards."""
    calls = []
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    register = {"leaf": x.register_hook, "nonleaf": y.register_hook,
                "post_acc": x.register_post_accumulate_grad_hook,
                "node_post": y.grad_fn.register_hook, "node_pre": y.grad_fn.register_prehook}[kind]
    handles = {}

    def first(*args):
        calls.append("first")
        handles["first"].remove()

    def second(*args):
        calls.append("second")

    def twice(*args):
        calls.append("twice")

    handles["first"] = register(first)
    register(second)
    register(twice)
    dup = register(twice)
    dup.remove()
    dup.remove()  # a second remove must not take away the other registration of `twice`
    for _ in range(2):
        y.sum().backward(retain_graph=True)
    return calls, handles["first"]


@pytest.mark.parametrize("kind", ["leaf", "nonleaf", "post_acc", "node_post", "node_pre"])
def test_hook_handles_match_torch(kind):
    e_calls, e_handle = _run(ember, kind)
    t_calls, t_handle = _run(torch, kind)
    assert e_calls == t_calls
    assert type(e_handle).__name__ == type(t_handle).__name__ == "RemovableHandle"
    assert isinstance(e_handle, ember.utils.hooks.RemovableHandle)


def test_one_handle_class_and_id_counter():
    from ember.optim.optimizer import RemovableHandle as OptimHandle
    assert OptimHandle is ember.utils.hooks.RemovableHandle
    p = ember.ones(1, requires_grad=True)
    handles = [p.register_hook(lambda g: g),
               ember.optim.SGD([p], lr=0.1).register_step_pre_hook(lambda *a: None),
               ember.nn.Linear(1, 1).register_forward_hook(lambda *a: None),
               (p * 1).grad_fn.register_prehook(lambda g: None)]
    ids = [h.id for h in handles]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # one counter, as in torch


def test_handle_as_context_manager_removes_tensor_hook():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        calls = []
        with x.register_hook(lambda g: calls.append(1)):
            (x * 1).sum().backward()
        (x * 1).sum().backward()
        assert calls == [1]


def _node_run_order(lib):
    """The names of the nodes in the order backward runs them (post-hooks), on a graph whose nodes are reached
    out of their recording order (``exp`` recorded after ``sin``, reached first through ``add``), with a branch
    reaching ``mul`` from two sides and a second root."""
    ran = []
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    s = y.sin()
    e = y.exp()
    z = e + s
    w = x.cos()
    for t in (y, s, e, z, w):
        t.grad_fn.register_hook(lambda gi, go, name=t.grad_fn.name(): ran.append(name))
    lib.autograd.backward([z.sum(), w.sum()])
    return ran, x.grad


def test_backward_runs_nodes_in_torch_order():
    """Most recently recorded node first among those whose gradients are complete, as PyTorch's engine."""
    got, grad = _node_run_order(ember)
    want, want_grad = _node_run_order(torch)
    assert got == want
    assert grad.tolist() == pytest.approx(want_grad.tolist())
