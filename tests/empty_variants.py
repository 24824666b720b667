"""Empty-input variants of table rows: every op and layer must handle a 0-size batch as PyTorch does.

``empty_args(arrays)`` derives the 0-size twin of a row's inputs: the leading axis of the input with the
most dimensions (the "batch") is cut to length 0, and so is that axis of every other input with the same
number of dimensions and the same leading length (operands that go with the batch: the other side of a
binary op, an index of the same shape). Lower-dimensional inputs (a broadcast operand, a weight, a
0-d scalar) stay as they are. ``check_same_outcome`` then runs the row in both libraries and accepts
PyTorch's behaviour whatever it is: the same result (values, dtypes, shapes, gradients), or the same
exception type when PyTorch raises.
"""
import warnings

import numpy as np
import pytest
import torch

from parity import check_op, check_raises


# Rows whose 0-size twin is not derived, and why.  Either the twin is not a meaningful empty case, or PyTorch
# fails on it by an accident of its implementation (an internal error, a result of the wrong shape) where the
# mathematics is plain; tests/test_empty_tensors.py checks those against the mathematics instead.
_OUT_OF_RANGE = ("constant indices into the cut dim are out of range; PyTorch's kernel then fails on its storage "
                 "bounds (RuntimeError 'setStorage') instead of checking the index")
NOT_DERIVED = {
    "index_copy": _OUT_OF_RANGE,
    "index_copy_": _OUT_OF_RANGE,
    "index_fill_": _OUT_OF_RANGE,
    "index_fill_tensor_value": _OUT_OF_RANGE,
    **{f"index_reduce_{r}_False": _OUT_OF_RANGE for r in ("prod", "mean", "amax", "amin")},
    "resize_": "growing a tensor from 0 elements leaves uninitialised memory: no values to compare",
    "resize_as_": "growing a tensor from 0 elements leaves uninitialised memory: no values to compare",
    "addmv_scalar_input": "PyTorch returns the 0-d input itself for an empty matrix (shape () instead of (0,)) and "
                          "its backward fails in outer()",
    "stft_f32_constant_pad": "PyTorch's MKL FFT rejects a 0-size batch ('Inconsistent configuration parameters')",
    "cond_while_loop": "torch.while_loop's metadata check compares the strides of empty tensors ((4, 1) vs (0, 0))",
    # layers (tests/nn/test_nn_layers_parity.py)
    **{name: "PyTorch's affine instance norm fails on a 0-size batch (IndexError in select() of its weight "
             "repeated 0 times)" for name in ("InstanceNorm2d-track", "InstanceNorm3d")},
    # losses (tests/nn/test_nn_losses_parity.py)
    **{name: "PyTorch's multi_margin_loss and multilabel_margin_loss return uninitialised memory as the mean "
             "over a 0-size batch" for name in ("MultiMarginLoss", "MultiMarginLoss-p2-weight", "MultiLabelMarginLoss")},
    **{name: "the offsets are not a batch axis: they point past the cut input" for name in (
        "EmbeddingBag-sum", "EmbeddingBag-max", "EmbeddingBag-last", "EmbeddingBag-psw", "EmbeddingBag-padding")},
}


def empty_args(arrays, whole_batch=False):
    """The 0-size-batch twin of ``arrays`` (a tuple of NumPy arrays and other values), or None when no
    input has a non-empty leading axis to cut.  ``whole_batch`` (layers and losses, whose inputs all share the
    batch axis): cut every input with the batch's leading length, whatever its number of dimensions."""
    shaped = [a for a in arrays if isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[0] > 0]
    if not shaped:
        return None
    lead = max(shaped, key=lambda a: a.ndim)
    cut = lambda a: (isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[0] == lead.shape[0]  # noqa: E731
                     and (whole_batch or a.ndim == lead.ndim))
    return tuple(a[:0].copy() if cut(a) else a for a in arrays)


def empty_maker(make):
    """The 0-size-batch twin of a layer row's input maker ``make(rng) -> [arrays]`` (``whole_batch`` cut), or
    None when its inputs have no batch to cut."""
    if empty_args(tuple(make(np.random.default_rng(0))), whole_batch=True) is None:
        return None
    return lambda rng: list(empty_args(tuple(make(rng)), whole_batch=True))


def empty_rows(rows, args_at):
    """Rows of an op table (tuples or ``pytest.param``s) with their inputs replaced by ``empty_args``;
    rows without a cuttable input, and those of ``NOT_DERIVED``, are left out. ``args_at``: the index of the
    inputs tuple in a row."""
    out = []
    for r in rows:
        values, rid = (r.values, r.id) if hasattr(r, "values") else (r, r[0])
        args = empty_args(values[args_at])
        if args is None or rid in NOT_DERIVED:
            continue
        values = values[:args_at] + (args,) + values[args_at + 1:]
        out.append(pytest.param(*values, id=f"{rid}-empty"))
    return out


def _floating(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def run_with_backward(lib, fn, arrays, grad=True, device="cpu"):
    """``fn(*tensors)`` in ``lib`` (ember or torch) on tensors made from ``arrays`` (floating ones requiring
    grad when ``grad``), then the gradient of the sum of every differentiable output; returns the result."""
    def make(a):
        if not isinstance(a, np.ndarray):
            return a
        t = lib.from_numpy(a.copy())
        t = t.to(device) if lib is not torch else t
        return t.requires_grad_() if grad and _floating(a) else t
    ts = [make(a) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fn(*ts)
        outs = [o for o in (r if isinstance(r, (tuple, list)) else [r])
                if isinstance(o, lib.Tensor) and o.requires_grad]
        inputs = [t for t in ts if isinstance(t, lib.Tensor) and t.requires_grad]
        if outs and inputs:
            lib.autograd.grad([o.sum() for o in outs], inputs, allow_unused=True)
    return r


def same_outcome(run, check):
    """``run(lib)`` does a whole computation (forward and backward) in ember or torch.  Where PyTorch's run
    raises, ember's raises the same exception type; where it succeeds, ``check()`` compares the two in full."""
    import ember
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run(torch)
    except Exception:  # noqa: BLE001
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_raises(lambda: run(ember), lambda: run(torch))
        return
    check()


def check_same_outcome(fn_e, fn_t, *arrays, grad=True, gradgrad=False, device="cpu", **kw):
    """``check_op`` where PyTorch succeeds; where PyTorch raises (forward or backward), ember raises the
    same exception type."""
    import ember

    def run(lib):
        if lib is torch:
            return run_with_backward(torch, fn_t, arrays, grad)
        with ember.device(device):
            return run_with_backward(ember, fn_e, arrays, grad, device)
    same_outcome(run, lambda: check_op(fn_e, fn_t, *arrays, grad=grad, gradgrad=gradgrad, device=device, **kw))


def run_layer(lib, ctor, arrays, modes=(True, False), device="cpu", call=None, nograd=()):
    """``ctor(lib)`` in float64 on tensors made from ``arrays`` (floating ones requiring grad, but for the
    positions in ``nograd``), forward and backward of the sum of its differentiable outputs, in each training
    mode of ``modes``.  ``call(module, *tensors)`` replaces the plain call."""
    m = ctor(lib).to(lib.float64)
    if lib is not torch:
        m = m.to(device)
    for mode in modes:
        m.train(mode)
        ts = []
        for i, a in enumerate(arrays):
            t = lib.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a
            if isinstance(a, np.ndarray) and lib is not torch:
                t = t.to(device)
            ts.append(t.requires_grad_() if _floating(a) and i not in nograd else t)
        r = call(m, *ts) if call else m(*ts)
        outs = [o for o in (r if isinstance(r, (tuple, list)) else [r])
                if isinstance(o, lib.Tensor) and o.requires_grad]
        if outs:
            sum(o.sum() for o in outs).backward()
