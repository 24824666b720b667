"""im2col and col2im (kernels/conv_im2col.py): compiled vs the NumPy reference (strides, paddings, dilations, groups,
windows reaching past the input, inputs of odd sizes, float32/float64), and the adjoint identity <im2col(x), c> =
<x, col2im(c)> in float64; col2im's positions come in rows of col_pitch (zero past Wo).
(The convolutions built on them are tested against PyTorch in tests/nn/test_conv.py.)"""
import numpy as np
import pytest

from ember.kernels import numba_enabled
from ember.kernels import conv_im2col as K
from ember.ops.conv import _Geom

# (n, C, H, W), groups, kernel, stride, padding, dilation
CASES = [((5, 16, 12, 12), 1, 3, 2, 1, 1), ((3, 1, 10, 9), 1, 3, 1, 0, 1), ((3, 3, 11, 9), 1, 3, 2, 2, 2),
         ((2, 4, 7, 8), 2, 2, 3, 1, 1), ((2, 6, 9, 9), 3, 1, 2, 0, 1), ((2, 3, 9, 9), 1, 2, 2, 0, 1),
         ((2, 2, 8, 11), 1, 3, 4, 1, 1), ((2, 3, 10, 10), 1, 3, 3, 1, 1), ((2, 2, 9, 12), 1, 5, 2, 2, 1),
         ((2, 3, 8, 7), 1, 3, 1, 1, 1), ((2, 2, 6, 5), 1, 5, 1, 2, 1), ((2, 4, 8, 8), 2, 1, 2, 0, 1)]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _pitched(cols, g):
    """cols (n, groups, K, P) with its positions in rows of col_pitch(g), zero past Wo."""
    ho, wo = g.out_sp
    out = np.zeros(cols.shape[:3] + (ho, K.col_pitch(g)), cols.dtype)
    out[..., :wo] = cols.reshape(cols.shape[:3] + (ho, wo))
    return out.reshape(cols.shape[:3] + (-1,))


def _geom(shape, groups, k, s, p, d):
    n, c, h, w = shape
    out_sp = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1 for size in (h, w))
    return _Geom(2, (s, s), (p, p), (p, p), (d, d), groups, (k, k), (h, w), out_sp, c, 2 * groups)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_im2col_compiled_matches_reference(dtype, case):
    shape = case[0]
    g = _geom(*case)
    x = np.random.default_rng(shape[1]).standard_normal(shape).astype(dtype)
    impl = K.im2col.implementation(x)   # run even where ``accepts`` sends the call to the reference
    assert (impl is not K.im2col.reference) == numba_enabled()
    want = K.im2col_reference(x, g)
    np.testing.assert_array_equal(impl(x, g), want)
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)   # not C-contiguous
    np.testing.assert_array_equal(impl(xt, g), want)
    for fn in (impl, K.im2col_reference):   # into a given matrix
        out = np.full(want.shape, np.nan, dtype)
        assert fn(x, g, out) is out
        np.testing.assert_array_equal(out, want)


def test_im2col_compiled_takes_windows_covering_the_input():
    """1x1 / stride 2 reads a quarter of the input: the strided copy (the reference) does that."""
    x = np.zeros((2, 3, 8, 8), np.float32)
    assert K.im2col.accepts(x, _geom(x.shape, 1, 3, 2, 1, 1))
    assert not K.im2col.accepts(x, _geom(x.shape, 1, 1, 2, 0, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_col2im_compiled_matches_reference(dtype, case):
    shape = case[0]
    g = _geom(*case)
    rng = np.random.default_rng(shape[1])
    cols = _pitched(rng.standard_normal(K.im2col(np.zeros(shape, dtype), g).shape).astype(dtype), g)
    assert (K.col2im.implementation(cols) is not K.col2im.reference) == numba_enabled()
    got, want = np.full(shape, np.nan, dtype), np.full(shape, np.nan, dtype)
    K.col2im(cols, g, got)
    K.col2im_reference(cols, g, want)
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_col2im_is_the_adjoint_of_im2col(case):
    shape = case[0]
    g = _geom(*case)
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape)
    cx = K.im2col(x, g)
    assert cx.shape == (shape[0], g.groups, shape[1] // g.groups * g.kernel[0] * g.kernel[1],
                        g.out_sp[0] * g.out_sp[1])
    c = rng.standard_normal(cx.shape)
    back = np.empty(shape)
    K.col2im(_pitched(c, g), g, back)
    np.testing.assert_allclose((cx * c).sum(), (x * back).sum(), rtol=1e-12)
