"""nn.grad (the gradients of conv1d/2d/3d with respect to input and weight) against torch."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
# (dims, input shape, weight shape, stride, padding, dilation, groups)
CASES = [
    (1, (2, 4, 9), (6, 2, 3), 2, 1, 1, 2),
    (2, (2, 3, 7, 6), (4, 3, 3, 2), (2, 1), (1, 0), (1, 2), 1),
    (3, (1, 2, 5, 6, 4), (2, 1, 2, 3, 2), 1, (0, 1, 1), 1, 2),
]


def _arrays(dims, xs, ws, stride, padding, dilation, groups):
    x = RNG.standard_normal(xs)
    w = RNG.standard_normal(ws)
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    go_shape = conv(torch.from_numpy(x), torch.from_numpy(w), None, stride, padding, dilation, groups).shape
    return x, w, RNG.standard_normal(go_shape)


@pytest.mark.parametrize("case", CASES, ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("wrt", ["input", "weight"])
def test_values_match_torch(case, wrt):
    dims, xs, ws, *conf = case
    x, w, go = _arrays(dims, xs, ws, *conf)

    def run(m):
        fn = getattr(m.nn.grad, f"conv{dims}d_{wrt}")
        if wrt == "input":
            return fn(xs, m.tensor(w), m.tensor(go), *conf)
        return fn(m.tensor(x), ws, m.tensor(go), *conf)
    got, want = run(ember), run(torch)
    assert tuple(got.shape) == tuple(want.shape) and not got.requires_grad and not want.requires_grad
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-10)


def test_result_is_differentiable_in_weight_and_grad_output():
    x, w, go = _arrays(*CASES[1][:3], *CASES[1][3:])
    conf = CASES[1][3:]

    def run(m):
        wt, gt = m.tensor(w, requires_grad=True), m.tensor(go, requires_grad=True)
        gi = m.nn.grad.conv2d_input(x.shape, wt, gt, *conf)
        (gi * gi).sum().backward()
        return gi.requires_grad, wt.grad.numpy(), gt.grad.numpy()
    got, want = run(ember), run(torch)
    assert got[0] and want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-9)


def test_wrong_stride_length_raises_as_torch():
    x, w, go = _arrays(*CASES[0])
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="expected stride to be a single integer value"):
            m.nn.grad.conv1d_weight(m.tensor(x), w.shape, m.tensor(go), stride=(1, 1))
