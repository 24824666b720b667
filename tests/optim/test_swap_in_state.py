"""optim.swap_in_optimizer_params_and_state against torch: what a step inside the context changes, and the errors."""
import copy

import numpy as np
import pytest
import torch

import ember

W = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
B = np.random.default_rng(1).standard_normal(3).astype(np.float32)


def _setup(m):
    """A stepped Adam over two groups, and a swap-in copy of its parameters and state."""
    w, b = m.tensor(W, requires_grad=True), m.tensor(B, requires_grad=True)
    opt = m.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (w.sum() * 2 + (b * b).sum()).backward()
    opt.step()
    params = {"w": w.detach().clone().requires_grad_(), "b": b.detach().clone().requires_grad_()}
    osd = copy.deepcopy(opt.state_dict())
    osd["param_groups"][0]["lr"] = 1.0
    return opt, (w, b), params, osd


def _run(m):
    opt, (w, b), params, osd = _setup(m)
    live_before = [w.detach().clone(), b.detach().clone()]
    with m.optim.swap_in_optimizer_params_and_state(opt, params, osd):
        inside_lr = opt.param_groups[0]["lr"]
        for p in params.values():
            p.grad = m.ones_like(p)
        opt.step()
    return dict(inside_lr=inside_lr, lr=opt.param_groups[0]["lr"], w=params["w"].detach().numpy(),
                b=params["b"].detach().numpy(), live_w_same=bool((w == live_before[0]).all()),
                live_b_same=bool((b == live_before[1]).all()), live_is_param=opt.param_groups[0]["params"][0] is w,
                exp_avg=osd["state"][0]["exp_avg"].numpy(), step=float(osd["state"][0]["step"]),
                live_state_keys=sorted(id(k) == id(w) for k in opt.state))


def test_step_inside_matches_torch():
    got, want = _run(ember), _run(torch)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("edit", ["uninitialized", "not_dict", "state_type", "tensor_key", "groups_type",
                                  "groups_len", "ids", "count", "keys", "extra"])
def test_errors_match_torch(edit):
    def attempt(m):
        opt, _, params, osd = _setup(m)
        if edit == "uninitialized":
            opt.state.clear()
        elif edit == "not_dict":
            osd = [osd]
        elif edit == "state_type":
            osd["state"] = []
        elif edit == "tensor_key":
            osd["state"] = {params["w"]: {}}
        elif edit == "groups_type":
            osd["param_groups"] = tuple(osd["param_groups"])
        elif edit == "groups_len":
            osd["param_groups"] = osd["param_groups"][:1]
        elif edit == "ids":
            osd["param_groups"][0]["params"] = ["0"]
        elif edit == "count":
            osd["param_groups"][0]["params"] = [0, 5]
        elif edit == "keys":
            osd["param_groups"][1]["extra"] = 1
        elif edit == "extra":
            osd["state"][7] = {}
        with pytest.raises(RuntimeError) as info:
            with m.optim.swap_in_optimizer_params_and_state(opt, params, osd):
                pass
        return str(info.value)
    assert attempt(ember) == attempt(torch)
