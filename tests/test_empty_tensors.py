"""Empty tensors flow through everything (issue 10 §5), against PyTorch: a 0-size batch through the
convolution family with backward (and double backward), MultiheadAttention and the Transformer layers, the
extreme-value reductions over empty dims (PyTorch's exceptions, type and message), every optimizer stepping a
parameter without elements, and a whole training step on an empty batch.  The op and layer tables carry the
0-size twin of each row (tests/empty_variants.py); the cases where PyTorch fails by accident
(empty_variants.NOT_DERIVED) are checked here against their mathematics.
"""
import warnings

import numpy as np
import pytest
import torch

import ember
from empty_variants import NOT_DERIVED
from nn.nn_helpers import build_pair, compare_module
from optim.test_optimizers import CONFIGS, _id, arr, assert_state_dicts_equal, make_pair
from parity import assert_same, check_op

rng = np.random.default_rng(10)


def _raise_alike(fn):
    """``fn(lib)`` raises in both libraries with the same exception type and message."""
    outcomes = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            fn(lib)
        outcomes.append((type(info.value).__name__, str(info.value).split("\n")[0]))
    assert outcomes[0] == outcomes[1]


# ---------------------------------------------------------------------------------------- convolutions

CONVS = [
    ("Conv1d", (3, 4, 3), {}, (3, 8)),
    ("Conv1d", (4, 6, 3), dict(groups=2, padding=1, padding_mode="circular"), (4, 7)),
    ("Conv2d", (3, 4, 3), {}, (3, 8, 8)),              # the Winograd path (3x3, stride 1)
    ("Conv2d", (3, 4, 3), dict(stride=2, padding=1), (3, 8, 8)),
    ("Conv2d", (2, 4, 3), dict(padding="same", padding_mode="reflect"), (2, 6, 5)),
    ("Conv3d", (3, 4, 3), {}, (3, 4, 4, 4)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2), (3, 8)),
    ("ConvTranspose2d", (3, 4, 3), {}, (3, 8, 8)),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, output_padding=1, groups=2), (4, 5, 5)),
    ("ConvTranspose3d", (3, 4, 3), {}, (3, 4, 4, 4)),
]


@pytest.mark.parametrize("name,args,kw,shape", CONVS, ids=lambda v: str(v))
def test_conv_family_on_an_empty_batch(name, args, kw, shape):
    """Output (0, out_channels, *spatial), an empty input gradient, zero weight and bias gradients."""
    em, tm = build_pair(lambda L: getattr(L.nn, name)(*args, **kw))
    oe, ot = compare_module(em, tm, [rng.standard_normal((0,) + shape)])
    assert ot.shape[0] == 0 and ot.numel() == 0
    assert not np.any(arr(em.weight.grad)) and em.weight.grad.shape == em.weight.shape


@pytest.mark.parametrize("fn", [
    lambda m, x, w: m.nn.functional.conv2d(x, w),
    lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2, padding=1),
    lambda m, x, w: m.nn.functional.conv_transpose2d(x, w.transpose(0, 1)),
    lambda m, x, w: m.nn.functional.conv1d(x[..., 0], w[..., 0]),
], ids=["conv2d-winograd", "conv2d-strided", "conv_transpose2d", "conv1d"])
def test_conv_functional_double_backward_on_an_empty_batch(fn):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), rng.standard_normal((0, 3, 6, 6)),
             rng.standard_normal((4, 3, 3, 3)), gradgrad=True)


def test_conv2d_of_the_issue():
    """``nn.Conv2d(3, 4, 3)(randn(0, 3, 8, 8)).sum().backward()`` (an AttributeError before)."""
    for lib in (ember, torch):
        lib.manual_seed(0)
        m = lib.nn.Conv2d(3, 4, 3)
        x = lib.randn(0, 3, 8, 8, requires_grad=True)
        y = m(x)
        y.sum().backward()
        assert tuple(y.shape) == (0, 4, 6, 6) and tuple(x.grad.shape) == (0, 3, 8, 8)
        assert float(m.weight.grad.abs().sum()) == 0.0 and float(m.bias.grad.abs().sum()) == 0.0


# ---------------------------------------------------------------------------------------- attention

ATTENTION = [
    ("MultiheadAttention", lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True), lambda m, x: m(x, x, x)),
    ("MultiheadAttention-seq-first-kdim", lambda L: L.nn.MultiheadAttention(8, 2, kdim=6, vdim=5),
     lambda m, x: m(x, x.new_zeros(5, 0, 6), x.new_zeros(5, 0, 5))),
    ("TransformerEncoderLayer", lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
     None),
    ("TransformerEncoderLayer-norm-first-seq-first",
     lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True), None),
    ("TransformerDecoderLayer", lambda L: L.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
     lambda m, x: m(x, x)),
    ("Transformer", lambda L: L.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True),
     lambda m, x: m(x, x)),
]


@pytest.mark.parametrize("name,ctor,call", ATTENTION, ids=[a[0] for a in ATTENTION])
@pytest.mark.parametrize("train", [True, False])
def test_attention_and_transformers_on_an_empty_batch(name, ctor, call, train):
    """Outputs (and averaged attention weights) with a 0-size batch, gradients of every parameter (zero)."""
    em, tm = build_pair(ctor)
    em.train(train)
    tm.train(train)
    batch_first = "seq-first" not in name
    x = rng.standard_normal((0, 5, 8) if batch_first else (5, 0, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's fast-path notes about nested tensors
        compare_module(em, tm, [x], call=call)


def test_attention_mask_and_key_padding_on_an_empty_batch():
    em, tm = build_pair(lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True))
    x = rng.standard_normal((0, 5, 8))
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    compare_module(em, tm, [x, causal, np.zeros((0, 5), dtype=bool)], nograd=(1,),
                   call=lambda m, x, mask, kpm: m(x, x, x, attn_mask=mask, key_padding_mask=kpm))


# ---------------------------------------------------------------------------------------- reductions

EXTREMES = ["amax", "amin", "max", "min", "argmax", "argmin", "aminmax", "median", "nanmedian", "mode",
            "logsumexp"]


@pytest.mark.parametrize("name", EXTREMES)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 3)], ids=str)
def test_extreme_reductions_over_empty_and_non_empty_dims(name, shape):
    """Over a dim of size 0: PyTorch's exception (type and message, the dim as the caller wrote it); over a
    non-empty dim of an empty tensor: the same empty result, dtypes and indices included."""
    for dim in [None] + list(range(-len(shape), len(shape))):
        if name == "logsumexp" and dim is None:
            continue
        kw = {} if dim is None else {"dim": dim}
        fn = lambda m, a: getattr(m, name)(a, **kw)  # noqa: E731
        x = np.zeros(shape)
        try:
            fn(torch, torch.from_numpy(x))
        except Exception:  # noqa: BLE001
            _raise_alike(lambda lib: fn(lib, lib.from_numpy(x)))
        else:
            check_op(lambda a: fn(ember, a), lambda a: fn(torch, a), x, grad=name not in ("argmax", "argmin"))


@pytest.mark.parametrize("dims", [(0, -1), (-1, 0), [1], (1, -2)], ids=str)
def test_amax_amin_name_the_first_empty_dim_as_written(dims):
    for shape in [(3, 0), (0, 3), (2, 0, 3)]:
        for name in ("amax", "amin"):
            x = np.zeros(shape)
            try:
                getattr(torch, name)(torch.from_numpy(x), dims)
            except Exception:  # noqa: BLE001
                _raise_alike(lambda lib: getattr(lib, name)(lib.from_numpy(x), dims))
            else:
                check_op(lambda a: getattr(ember, name)(a, dims), lambda a: getattr(torch, name)(a, dims), x)


# ---------------------------------------------------------------------------------------- optimizers

def _zero_element_run(name, kw, shapes, steps=3):
    """``steps`` steps of optimizer ``name`` on parameters of ``shapes`` (some without elements) in both
    libraries; the parameters and state_dicts must agree after each."""
    r = np.random.default_rng(1)
    x0 = [r.standard_normal(s) for s in shapes]
    pe = [ember.from_numpy(a.copy()).requires_grad_() for a in x0]
    pt = [torch.from_numpy(a.copy()).requires_grad_() for a in x0]
    oe, ot = make_pair(name, kw, pe, pt)
    for _ in range(steps):
        g = [r.standard_normal(s) for s in shapes]
        for a, b, x in zip(pe, pt, g):
            a.grad, b.grad = ember.from_numpy(x.copy()), torch.from_numpy(x.copy())
        oe.step()
        ot.step()
        for a, b in zip(pe, pt):
            np.testing.assert_allclose(arr(a), arr(b), rtol=1e-10, atol=1e-13)
    assert_state_dicts_equal(oe, ot)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_every_optimizer_steps_a_parameter_without_elements(cfg):
    """Alone (the KeyError in the optimizer kernels' scratch memory) and beside ordinary parameters."""
    name, kw = cfg
    _zero_element_run(name, kw, [(0, 3)])
    _zero_element_run(name, kw, [(0, 3), (4, 3), (0,)])


def test_lbfgs_and_muon_with_a_parameter_without_elements():
    for shapes in ([(0, 3)], [(0, 3), (4, 3)]):
        _zero_element_run("Muon", dict(lr=0.05), shapes)
    final = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(0, 3, dtype=lib.float64))
        q = lib.nn.Parameter(lib.arange(4, dtype=lib.float64))
        opt = lib.optim.LBFGS([p, q], lr=0.5)

        def closure():
            opt.zero_grad()
            loss = (q * q).sum() + p.sum()
            loss.backward()
            return loss
        for _ in range(2):
            opt.step(closure)
        assert tuple(p.shape) == (0, 3)
        final.append(arr(q))
    np.testing.assert_allclose(final[0], final[1], rtol=1e-10, atol=1e-13)


def test_adafactor_refuses_a_parameter_without_elements_as_pytorch():
    def step(lib):
        p = lib.nn.Parameter(lib.zeros(0, 3))
        p.grad = lib.zeros(0, 3)
        lib.optim.Adafactor([p]).step()
    _raise_alike(step)


# ---------------------------------------------------------------------------------------- a training step

def test_a_training_step_on_an_empty_batch():
    """Conv -> BatchNorm -> ReLU -> MaxPool -> Flatten -> Linear -> cross-entropy on a 0-size batch: a NaN loss
    (a mean over nothing), zero gradients, an Adam step that moves nothing, running statistics untouched."""
    def net(L):
        return L.nn.Sequential(L.nn.Conv2d(3, 4, 3, padding=1), L.nn.BatchNorm2d(4), L.nn.ReLU(),
                               L.nn.MaxPool2d(2), L.nn.Flatten(), L.nn.Linear(4 * 4 * 4, 5))
    em, tm = build_pair(net)
    x = rng.standard_normal((0, 3, 8, 8))
    target = np.zeros((0,), dtype=np.int64)
    loss_fn = (lambda m, x, t: (ember if isinstance(x, ember.Tensor) else torch).nn.functional.cross_entropy(m(x), t))
    compare_module(em, tm, [x, target], call=loss_fn)
    oe, ot = ember.optim.Adam(em.parameters(), lr=0.1), torch.optim.Adam(tm.parameters(), lr=0.1)
    oe.step()
    ot.step()
    for (n, a), (_, b) in zip(em.state_dict().items(), tm.state_dict().items()):
        assert_same(a, b)


# ------------------------------------------------------------- where PyTorch fails by accident (NOT_DERIVED)

def test_cases_pytorch_gets_wrong_are_listed():
    for name in ("addmv_scalar_input", "stft_f32_constant_pad", "cond_while_loop", "InstanceNorm3d",
                 "MultiMarginLoss", "MultiLabelMarginLoss"):
        assert name in NOT_DERIVED


def test_addmv_of_an_empty_matrix_broadcasts_its_input():
    """``beta * input + alpha * (mat @ vec)`` has the broadcast shape (0,) (PyTorch returns the 0-d input)."""
    c, v = ember.tensor(1.5, requires_grad=True), ember.ones(4, requires_grad=True)
    mat = ember.ones(0, 4, requires_grad=True)
    r = ember.addmv(c, mat, v, beta=2)
    assert tuple(r.shape) == (0,)
    r.sum().backward()
    assert c.grad.item() == 0.0 and not v.grad.any() and tuple(mat.grad.shape) == (0, 4)
    assert ember.addmv(ember.ones(3), ember.ones(3, 0), ember.ones(0), beta=2).tolist() == [2.0, 2.0, 2.0]


def test_stft_of_an_empty_batch_with_constant_padding():
    """PyTorch's MKL FFT refuses it; the result is the one-signal result's frames, for no signals."""
    def run(lib, n):
        x = lib.from_numpy(rng.standard_normal((n, 40)).astype(np.float32))
        return lib.stft(x, 10, window=lib.hamming_window(10), pad_mode="constant", return_complex=True)
    one = run(torch, 1)
    empty = run(ember, 0)
    assert tuple(empty.shape) == (0,) + tuple(one.shape[1:]) and str(empty.dtype) == str(one.dtype)


def test_cond_and_while_loop_on_an_empty_tensor():
    """As eager Python would compute them (torch.while_loop's tracer compares empty tensors' strides)."""
    a = rng.standard_normal((0, 4))

    def eager(x):
        i = 0
        while i < 3:
            i, x = i + 1, x * x + 0.1
        return x.sin(), x
    fn_e = lambda x: (ember.cond(x.sum() > 0, lambda y: y.exp(), lambda y: y.sin(), (x,)),  # noqa: E731
                      ember.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * y + 0.1), (ember.tensor(0), x))[1])
    check_op(fn_e, lambda x: (x.sin(), eager(x)[1]), a)


def test_affine_instance_norm_on_an_empty_batch():
    """PyTorch fails in select() on the weight repeated 0 times; the output is empty, the affine gradients
    zero, the running statistics untouched."""
    m = ember.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    x = ember.zeros(0, 3, 4, 4, requires_grad=True)
    y = m(x)
    y.sum().backward()
    assert tuple(y.shape) == (0, 3, 4, 4) and tuple(x.grad.shape) == (0, 3, 4, 4)
    assert not m.weight.grad.any() and not m.bias.grad.any()
    assert m.running_mean.tolist() == [0.0] * 3 and m.running_var.tolist() == [1.0] * 3


@pytest.mark.parametrize("loss", ["multi_margin_loss", "multilabel_margin_loss"])
def test_margin_losses_mean_over_an_empty_batch_is_nan(loss):
    """A mean over nothing, as every other loss gives it (PyTorch returns uninitialised memory here)."""
    x = ember.zeros(0, 5, requires_grad=True)
    t = ember.zeros((0,) if loss == "multi_margin_loss" else (0, 5), dtype=ember.int64)
    r = getattr(ember.nn.functional, loss)(x, t)
    assert np.isnan(r.item())
    r.backward()
    assert tuple(x.grad.shape) == (0, 5)
    ref = torch.nn.functional.mse_loss(torch.zeros(0, 5), torch.zeros(0, 5))
    assert np.isnan(ref.item())
