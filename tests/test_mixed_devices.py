"""Ops of several tensors on two devices raise PyTorch's errors (issue 12), checked without a GPU: the tagged test
device ``privateuseone`` (tests/array_backend.py) stands for CUDA beside the CPU.

Each row is an op family with the message PyTorch 2.13 gives for the same call with ``cuda:0`` in place of the
test device (its per-argument form names the wrapper ``wrapper_CUDA_<op>``, here ``wrapper_PrivateUse1_<op>``).
0-d CPU tensors pass as scalars where PyTorch takes them so, and give the all-on-device result.
"""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from devices import TABLE_DEVICES  # noqa: F401  (registers the test device)

DEV = "privateuseone"
TWO = f"Expected all tensors to be on the same device, but found at least two devices, {DEV}:0 and cpu!"


def _arg(name, on, common, method):
    return (f"Expected all tensors to be on the same device, but got {name} is on {on}, different from other tensors "
            f"on {common} (when checking argument in method wrapper_PrivateUse1_{method})")


def _args_cpu(name, method):
    """The argument ``name`` is the CPU one, the first tensor on the device."""
    return _arg(name, "cpu", f"{DEV}:0", method)


def _args_dev(name, method):
    """The first tensor is on the CPU, ``name`` on the device."""
    return _arg(name, f"{DEV}:0", "cpu", method)


def _d(*shape):
    return ember.ones(*shape, device=DEV)


def _c(*shape):
    return ember.ones(*shape)


def _idx(n, device="cpu"):
    return ember.zeros(n, dtype=ember.long, device=device)


ROWS = [
    # elementwise iterator ops: both devices named, the accelerator first
    ("add", lambda: _d(3) + _c(3), TWO),
    ("add_cpu_first", lambda: _c(3) + _d(3), TWO),
    ("where", lambda: ember.where(_d(3) > 0, _d(3), _c(3)), TWO),
    ("where_condition", lambda: ember.where(_c(3) > 0, _d(3), _d(3)), TWO),
    ("lerp", lambda: ember.lerp(_d(3), _c(3), 0.5), TWO),
    ("lerp_weight", lambda: ember.lerp(_d(3), _d(3), _c(3)), TWO),
    ("addcmul", lambda: ember.addcmul(_d(3), _d(3), _c(3)), TWO),
    ("addcdiv", lambda: ember.addcdiv(_c(3), _d(3), _d(3)), TWO),
    ("clamp_tensor_bounds", lambda: ember.clamp(_d(3), _c(3), _d(3)), TWO),
    ("mse_loss", lambda: F.mse_loss(_d(3), _c(3)), TWO),
    ("binary_cross_entropy", lambda: F.binary_cross_entropy(_d(3) / 2, _c(3)), TWO),
    ("bce_with_logits", lambda: F.binary_cross_entropy_with_logits(_d(3), _c(3)), TWO),
    ("cat", lambda: ember.cat([_d(2), _c(2)]), TWO),
    ("cat_cpu_first", lambda: ember.cat([_c(2), _d(2)]), TWO),
    ("stack", lambda: ember.stack([_d(2), _c(2)]), TWO),
    ("einsum", lambda: ember.einsum("ij,jk->ik", _d(2, 2), _c(2, 2)), TWO),
    ("mv", lambda: ember.mv(_d(2, 2), _c(2)), TWO),
    ("masked_select", lambda: ember.masked_select(_d(3), _c(3) > 0), TWO),
    ("take", lambda: ember.take(_d(3), _idx(2)), TWO),
    ("index_fill", lambda: _d(3).index_fill(0, _idx(1), 2.0), TWO),
    ("masked_scatter", lambda: _d(3).masked_scatter(_d(3) > 0, _c(3)), TWO),
    ("put", lambda: _d(3).put(_idx(1, DEV), _c(1)), TWO),
    # ops checked argument by argument (PyTorch's generated wrappers)
    ("mm", lambda: ember.mm(_d(2, 2), _c(2, 2)), _args_cpu("mat2", "mm")),
    ("mm_cpu_first", lambda: ember.mm(_c(2, 2), _d(2, 2)), _args_dev("mat2", "mm")),
    ("matmul", lambda: _d(2, 2) @ _c(2, 2), _args_cpu("mat2", "mm")),
    ("matmul_batched", lambda: ember.matmul(_d(2, 2, 2), _c(2, 2, 2)), _args_cpu("mat2", "bmm")),
    ("bmm", lambda: ember.bmm(_c(1, 2, 2), _d(1, 2, 2)), _args_dev("mat2", "bmm")),
    ("dot", lambda: ember.dot(_d(2), _c(2)), _args_cpu("tensor", "_dot")),
    ("addmm", lambda: ember.addmm(_d(2, 2), _c(2, 2), _d(2, 2)), _args_cpu("mat1", "addmm")),
    ("addmv", lambda: ember.addmv(_d(2), _d(2, 2), _c(2)), _args_cpu("vec", "addmv")),
    ("baddbmm", lambda: ember.baddbmm(_d(1, 2, 2), _c(1, 2, 2), _d(1, 2, 2)), _args_cpu("batch1", "baddbmm")),
    ("linear", lambda: F.linear(_c(2, 3), _d(4, 3)), _args_dev("mat2", "mm")),
    ("linear_bias", lambda: F.linear(_d(2, 3), _d(4, 3), _c(4)), _args_dev("mat1", "addmm")),
    ("index_select", lambda: ember.index_select(_d(3), 0, _idx(2)), _args_cpu("index", "_index_select")),
    ("embedding", lambda: F.embedding(_idx(2), _d(3, 2)), _args_cpu("index", "_index_select")),
    ("gather", lambda: ember.gather(_d(3), 0, _idx(2)), _args_cpu("index", "gather")),
    ("scatter", lambda: _d(3).scatter(0, _idx(1, DEV), _c(3)), _args_cpu("src", "scatter_src")),
    ("scatter_value", lambda: _d(3).scatter(0, _idx(1), 1.0), _args_cpu("index", "scatter_value")),
    ("scatter_add", lambda: _d(3).scatter_add(0, _idx(1), _d(3)), _args_cpu("index", "scatter_add")),
    ("nll_loss", lambda: F.nll_loss(_d(3, 2), _idx(3)), _args_cpu("target", "nll_loss_forward")),
    ("cross_entropy", lambda: F.cross_entropy(_d(3, 2), _idx(3)), _args_cpu("target", "nll_loss_forward")),
    ("nll_loss_weight", lambda: F.nll_loss(_d(3, 2), _idx(3, DEV), weight=_c(2)),
     _args_cpu("weight", "nll_loss_forward")),
    # ops with their own wording
    ("index_add", lambda: _d(3).index_add(0, _idx(1), _d(1)),
     f"index_add(): self, index and source expected to be in the same device, but got (self) {DEV}:0, (index) cpu, "
     f"and (source) {DEV}:0"),
    ("index_copy", lambda: _d(3).index_copy(0, _idx(1, DEV), _c(1)),
     f"index_copy(): self, index and source expected to be in the same device, but got (self) {DEV}:0, (index) "
     f"{DEV}:0, and (source) cpu"),
    ("masked_fill", lambda: _d(3).masked_fill(_c(3) > 0, 1.0),
     f"expected self and mask to be on the same device, but got mask on cpu and self on {DEV}:0"),
    ("conv_input_on_cpu", lambda: F.conv1d(_c(1, 2, 3), _d(1, 2, 1)),
     "Input type (torch.FloatTensor) and weight type (torch.FloatTensor) should be the same or input should be a "
     "MKLDNN tensor and weight is a dense tensor"),
    ("conv_weight_on_cpu", lambda: F.conv2d(_d(1, 2, 3, 3), _c(1, 2, 1, 1)),
     "Input type (torch.FloatTensor) and weight type (torch.FloatTensor) should be the same"),
    ("conv_bias_on_cpu", lambda: F.conv1d(_d(1, 2, 3), _d(1, 2, 1), _c(1)),
     "Input type (torch.FloatTensor) and bias type (torch.FloatTensor) should be the same"),
]


@pytest.mark.parametrize("fn,message", [pytest.param(f, m, id=n) for n, f, m in ROWS])
def test_two_devices_raise_pytorchs_error(fn, message):
    with pytest.raises(RuntimeError) as info:
        fn()
    assert str(info.value) == message


SCALAR_ROWS = [   # a 0-d CPU tensor beside device tensors: PyTorch takes it as a number
    ("add", lambda x, s: x + s),
    ("where", lambda x, s: ember.where(x > 0, x, s)),
    ("masked_fill", lambda x, s: x.masked_fill(x > 0, s)),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=n) for n, f in SCALAR_ROWS])
def test_zero_dim_cpu_tensors_pass_as_scalars(fn):
    values = np.array([-1.5, 0.25, 2.0], dtype=np.float32)
    on_device = fn(ember.tensor(values, device=DEV), ember.tensor(0.5, device=DEV))
    mixed = fn(ember.tensor(values, device=DEV), ember.tensor(0.5))
    assert mixed.device == on_device.device == ember.device(DEV, 0)
    np.testing.assert_array_equal(mixed.cpu().numpy(), on_device.cpu().numpy())


def test_zero_dim_cpu_tensor_is_not_a_scalar_for_products():
    """The per-argument check has no 0-d exception (PyTorch's mm, index_select ...)."""
    with pytest.raises(RuntimeError, match="but got index is on cpu"):
        ember.index_select(_d(3), 0, ember.tensor(0))
