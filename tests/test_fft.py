"""ember.fft against torch.fft: values, dtypes, gradients (and second derivatives) of every transform for each
``norm``, with ``n`` / ``s`` padding and trimming and every ``dim`` form; frequencies and shifts; complex
tensor plumbing the transforms rely on (real / imag / view_as_real / conj / printing); bad input."""
import numpy as np
import pytest
import torch

import ember
import ember.fft  # noqa: F401
from parity import check_op, check_raises, assert_same

rng = np.random.default_rng(3)
X = rng.standard_normal((3, 8))
Y = rng.standard_normal((4, 5))
T3 = rng.standard_normal((2, 3, 4))
Z = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
Z32 = Z.astype(np.complex64)
X32 = X.astype(np.float32)
V = rng.standard_normal((6,))

ROWS = [
    ("fft", lambda m, x: m.fft.fft(x), (X,), True),
    ("fft_ortho", lambda m, x: m.fft.fft(x, norm="ortho"), (X,), False),
    ("fft_forward", lambda m, x: m.fft.fft(x, norm="forward"), (X,), False),
    ("fft_n_pad", lambda m, x: m.fft.fft(x, n=10), (X,), True),
    ("fft_n_trim_dim0", lambda m, x: m.fft.fft(x, n=3, dim=0, norm="ortho"), (Y,), False),
    ("fft_complex", lambda m, z: m.fft.fft(z), (Z,), True),
    ("fft_complex64", lambda m, z: m.fft.fft(z, dim=0), (Z32,), False),
    ("fft_float32", lambda m, x: m.fft.fft(x), (X32,), False),
    ("fft_int", lambda m: m.fft.fft(m.arange(6)), (), False),
    ("fft_noncontig", lambda m, x: m.fft.fft(x.mT[::2]), (X,), False),
    ("fft_1d", lambda m, v: m.fft.fft(v), (V,), False),
    ("ifft", lambda m, x: m.fft.ifft(x), (X,), True),
    ("ifft_forward", lambda m, x: m.fft.ifft(x, norm="forward"), (X,), False),
    ("ifft_complex_n", lambda m, z: m.fft.ifft(z, n=7, norm="ortho"), (Z,), True),
    ("rfft", lambda m, x: m.fft.rfft(x), (X,), True),
    ("rfft_odd_ortho", lambda m, y: m.fft.rfft(y, norm="ortho"), (Y,), False),
    ("rfft_n_dim0", lambda m, y: m.fft.rfft(y, n=7, dim=0), (Y,), True),
    ("rfft_forward", lambda m, x: m.fft.rfft(x, norm="forward"), (X,), False),
    ("irfft_roundtrip", lambda m, x: m.fft.irfft(m.fft.rfft(x)), (X,), True),
    ("irfft_odd_n", lambda m, z: m.fft.irfft(z, n=9), (Z,), True),
    ("irfft_default_n", lambda m, z: m.fft.irfft(z), (Z,), False),
    ("irfft_trim", lambda m, z: m.fft.irfft(z, n=4, dim=-1, norm="ortho"), (Z,), False),
    ("irfft_forward", lambda m, z: m.fft.irfft(z, n=7, norm="forward"), (Z,), True),
    ("irfft_real_input", lambda m, y: m.fft.irfft(y), (Y,), False),
    ("fft2", lambda m, y: m.fft.fft2(y), (Y,), True),
    ("fft2_s", lambda m, y: m.fft.fft2(y, s=(2, 6), norm="ortho"), (Y,), False),
    ("fft2_dims", lambda m, t: m.fft.fft2(t, dim=(0, 2)), (T3,), False),
    ("ifft2", lambda m, z: m.fft.ifft2(z, s=(2, 6)), (Z,), True),
    ("fftn_all", lambda m, t: m.fft.fftn(t), (T3,), True),
    ("fftn_dim", lambda m, y: m.fft.fftn(y, dim=(0,)), (Y,), False),
    ("fftn_s_only", lambda m, t: m.fft.fftn(t, s=(2, 3)), (T3,), False),
    ("ifftn", lambda m, t: m.fft.ifftn(t, norm="forward"), (T3,), False),
    ("rfft2", lambda m, y: m.fft.rfft2(y), (Y,), True),
    ("irfft2", lambda m, z: m.fft.irfft2(z), (Z,), True),
    ("rfftn", lambda m, t: m.fft.rfftn(t, s=(3, 4), norm="ortho"), (T3,), False),
    ("irfftn", lambda m, z: m.fft.irfftn(z, s=(3, 6)), (Z,), False),
    ("irfftn_all", lambda m, t: m.fft.irfftn(m.fft.rfftn(t)), (T3,), True),
    ("hfft", lambda m, z: m.fft.hfft(z), (Z,), True),
    ("hfft_n", lambda m, z: m.fft.hfft(z, n=5, norm="ortho"), (Z,), False),
    ("ihfft", lambda m, y: m.fft.ihfft(y), (Y,), True),
    ("ihfft_forward", lambda m, x: m.fft.ihfft(x, norm="forward"), (X,), False),
    ("hfft2", lambda m, z: m.fft.hfft2(z), (Z,), True),
    ("ihfft2", lambda m, y: m.fft.ihfft2(y), (Y,), False),
    ("hfftn", lambda m, z: m.fft.hfftn(z, s=(3, 6), norm="ortho"), (Z,), False),
    ("ihfftn", lambda m, t: m.fft.ihfftn(t, norm="forward"), (T3,), True),
    ("fftfreq", lambda m: m.fft.fftfreq(7, 0.5), (), False),
    ("fftfreq_even", lambda m: m.fft.fftfreq(8), (), False),
    ("fftfreq_dtype", lambda m: m.fft.fftfreq(5, dtype=m.float64), (), False),
    ("rfftfreq", lambda m: m.fft.rfftfreq(9, d=0.1), (), False),
    ("rfftfreq_even", lambda m: m.fft.rfftfreq(8, dtype=m.float64), (), False),
    ("fftshift", lambda m, y: m.fft.fftshift(y), (Y,), True),
    ("fftshift_dim", lambda m, t: m.fft.fftshift(t, dim=(0, 2)), (T3,), False),
    ("ifftshift", lambda m, y: m.fft.ifftshift(y, dim=1), (Y,), False),
    ("shift_roundtrip", lambda m, x: m.fft.ifftshift(m.fft.fftshift(x)), (X,), False),
    ("view_as_real_of_fft", lambda m, x: m.view_as_real(m.fft.fft(x)), (X,), True),
    ("real_imag_of_fft", lambda m, x: m.fft.fft(x).real * m.fft.fft(x).imag, (X,), True),
    ("conj_of_fft", lambda m, x: m.view_as_real(m.fft.fft(x).conj().resolve_conj()), (X,), False),
    ("view_as_complex", lambda m, x: m.fft.ifft(m.view_as_complex(x.reshape(3, 4, 2))), (X,), True),
    ("complex_fn", lambda m, a, b: m.fft.fft(m.complex(a, b)), (Y, Y[::-1].copy()), True),
    ("polar", lambda m, a, b: m.view_as_real(m.polar(a.abs(), b)), (Y, Y[::-1].copy()), False),
    ("out", lambda m, x: m.fft.fft(x.detach(), out=m.empty(0, dtype=m.complex128)), (X,), False),
]


@pytest.mark.parametrize("name,fn,args,gradgrad", ROWS, ids=[r[0] for r in ROWS])
def test_row(name, fn, args, gradgrad):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, gradgrad=gradgrad)


def test_row_count():
    assert len(ROWS) >= 50
    assert sum(r[3] for r in ROWS) * 3 >= len(ROWS)


RAISE_ROWS = [
    ("half", lambda m, x: m.fft.fft(x.half()), (X,)),
    ("n_zero", lambda m, x: m.fft.fft(x, n=0), (X,)),
    ("bad_norm", lambda m, x: m.fft.fft(x, norm="foo"), (X,)),
    ("rfft_complex", lambda m, z: m.fft.rfft(z), (Z,)),
    ("irfft_one_bin", lambda m, z: m.fft.irfft(z[:, :1]), (Z,)),
    ("fft2_1d", lambda m, v: m.fft.fft2(v), (V,)),
    ("fftn_s_dim_len", lambda m, y: m.fft.fftn(y, s=(2,), dim=(0, 1)), (Y,)),
    ("fftn_dup_dims", lambda m, y: m.fft.fftn(y, dim=(0, 0)), (Y,)),
    ("fft_0d", lambda m: m.fft.fft(m.ones(())), ()),
    ("fft_dim_oob", lambda m, v: m.fft.fft(v, dim=1), (V,)),
    ("fft_empty", lambda m: m.fft.fft(m.ones(3, 0)), ()),
    ("rfft_empty", lambda m: m.fft.rfft(m.ones(0)), ()),
    ("view_as_real_of_real", lambda m, x: m.view_as_real(x), (X,)),
    ("view_as_complex_bad_last", lambda m, y: m.view_as_complex(y), (Y,)),
    ("view_as_complex_stride", lambda m, x: m.view_as_complex(x.reshape(4, 6)[:, :4].reshape(4, 2, 2).mT), (X,)),
    ("imag_of_real", lambda m, x: x.imag, (X,)),
    ("complex_dtypes", lambda m, x: m.complex(x, x.float()), (X,)),
]


@pytest.mark.parametrize("name,fn,args", RAISE_ROWS, ids=[r[0] for r in RAISE_ROWS])
def test_raises(name, fn, args):
    te = [ember.from_numpy(a.copy()) for a in args]
    tt = [torch.from_numpy(a.copy()) for a in args]
    check_raises(lambda *_: fn(ember, *te), lambda *_: fn(torch, *tt))


def test_complex_tensors_convert_and_print():
    for lib in (ember, torch):
        z = lib.tensor([1 + 2j, -0.5j])
        assert z.dtype is lib.complex64
        assert z.tolist() == [1 + 2j, -0.5j]
        assert complex(z[0]) == 1 + 2j
        assert z[1].item() == -0.5j
        assert lib.tensor(1j).dtype is lib.complex64
        assert (z * 2).dtype is lib.complex64
        assert lib.ones(2, dtype=lib.complex128).real.dtype is lib.float64
    assert repr(ember.tensor([1 + 2j, -0.5j])) == repr(torch.tensor([1 + 2j, -0.5j]))
    np.testing.assert_array_equal(ember.tensor([1 + 2j]).numpy(), np.array([1 + 2j], dtype=np.complex64))


def test_real_imag_are_views():
    for lib in (ember, torch):
        z = lib.tensor(Z.copy())
        z.real.mul_(0)
        z.imag[0] = 5.0
        assert float(z.real.abs().sum()) == 0.0
        assert float(z.imag[0].sum()) == 25.0
        r = lib.view_as_real(z)
        r[..., 1] = 1.0
        assert float(z.imag.sum()) == 15.0


def test_fft_matches_numpy_roundtrip_float32_dtype():
    e = ember.fft.irfft(ember.fft.rfft(ember.from_numpy(X32.copy())), n=8)
    assert e.dtype is ember.float32
    np.testing.assert_allclose(e.numpy(), X32, atol=1e-5)
    assert_same(ember.fft.fftfreq(4), torch.fft.fftfreq(4))
