"""The exact sampling transforms (kernels/random_streams.py): the Numba implementations against their NumPy
references bit for bit, and both against PyTorch on hand-picked generator words (edges of the Box-Muller
inputs, the angles where a contracted and an uncontracted reduction differ)."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import random_streams as K
from ember.kernels.mt19937 import temper


def _compiled(kernel, like):
    impl = kernel.implementation(like)
    assert (impl is not kernel.reference) == numba_enabled()
    return impl


def test_fma_is_one_rounding():
    rng = np.random.default_rng(0)
    a, b, c = rng.random(50_000), rng.standard_normal(50_000) * 3, rng.standard_normal(50_000)
    ref = np.array([float(x) for x in map(_exact_fma, a[:2000], b[:2000], c[:2000])])
    np.testing.assert_array_equal(K.fma_reference(a[:2000], b[:2000], c[:2000]), ref)
    for dt in (np.float32, np.float64):
        x = a.astype(dt)
        for bb, cc in ((dt(1.25), dt(-0.37)), (dt(-3.1e-3), dt(7.5))):
            np.testing.assert_array_equal(_compiled(K.fma, x)(x, bb, cc), K.fma_reference(x, bb, cc))
    near = -(a * b) * (1 + rng.standard_normal(50_000) * 1e-15)     # heavy cancellation
    for i in range(0, 2000, 7):
        assert K.fma_reference(a[i:i + 1], b[i], near[i])[0] == _exact_fma(a[i], b[i], near[i])


def _exact_fma(a, b, c):
    from fractions import Fraction
    return float(Fraction(a) * Fraction(b) + Fraction(c))


@pytest.mark.parametrize("kernel,dtype", [(K.normal_fill_float, np.float32), (K.normal_fill_double, np.float64)])
def test_normal_fill_compiled_matches_reference(kernel, dtype):
    rng = np.random.default_rng(1)
    u = rng.random((300, 16)).astype(dtype)
    u[0, :8] = 0          # radius of log(1)
    u[1, :8] = np.nextafter(dtype(1), dtype(0))
    for mean, std in ((0.0, 1.0), (0.3, 2.7)):
        np.testing.assert_array_equal(_compiled(kernel, u)(u, mean, std), kernel.reference(u, mean, std))


def test_scalar_transforms_compiled_match_reference():
    rng = np.random.default_rng(2)
    u = rng.random((500, 2))
    np.testing.assert_array_equal(_compiled(K.box_muller, u)(u), K.box_muller_reference(u))
    x = rng.random(3000) * 4 - 2
    x[:4] = (0.0, -1.0, -1.5, 800.0)    # poles, domain errors and overflow keep the C library's IEEE results
    for name in ("log", "log1p", "tan", "exp"):
        np.testing.assert_array_equal(_compiled(K.libm, x)(x, name), K.libm_reference(x, name))
        inside = np.abs(x[4:40]) / 2.1
        assert K.libm_reference(inside, name).tolist() == [getattr(math, name)(v) for v in inside]


def test_integers_from_words_compiled_match_reference():
    # the compiled remainder is a multiply-shift: every span's remainders of random words and of the words at
    # the ends of the range and around multiples of the span equal NumPy's %
    rng = np.random.default_rng(5)
    words = rng.integers(0, 2 ** 32, 200_000, dtype=np.uint64).astype(np.uint32)
    for span in (1, 2, 3, 7, 10, 1000, 65537, 999_983, 2 ** 27 + 1, 2 ** 28 - 1):
        k = np.arange(1, 50, dtype=np.uint64) * np.uint64(span)
        edges = np.concatenate([[0, 1, 2 ** 32 - 1, 2 ** 32 - 2, 2 ** 31], (2 ** 32 - 1) // span * span - k[:3]])
        edges = np.concatenate([edges, k[k < 2 ** 32], k[k < 2 ** 32] - 1]).astype(np.uint32)
        w = np.concatenate([words, edges])
        for low in (0, -5, 2 ** 62):
            np.testing.assert_array_equal(_compiled(K.integers_from_words, w)(w, low, span),
                                          K.integers_from_words_reference(w, low, span))


def test_shuffles_compiled_match_reference():
    rng = np.random.default_rng(3)
    n = 1000
    offsets = np.array([rng.integers(0, n - i) for i in range(n - 1)])
    a = np.arange(n)
    np.testing.assert_array_equal(_compiled(K.shuffle, a)(a.copy(), offsets), K.shuffle_reference(a.copy(), offsets))
    draws = rng.integers(0, 2 ** 63, n, dtype=np.uint64)
    z = np.zeros(n, np.int64)
    np.testing.assert_array_equal(_compiled(K.inside_out, z)(z.copy(), draws), K.inside_out_reference(z.copy(), draws))
    assert sorted(K.inside_out_reference(z.copy(), draws).tolist()) == list(range(n))


def _untemper(y):
    """The state word whose MT19937 output is ``y``."""
    y = np.uint32(y)
    y ^= y >> np.uint32(18)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    r = y
    for _ in range(5):
        r = y ^ ((r << np.uint32(7)) & np.uint32(0x9D2C5680))
    y = r
    for _ in range(3):
        r = y ^ (r >> np.uint32(11))
    return r


def test_untemper_inverts_temper():
    w = np.random.default_rng(4).integers(0, 2 ** 32, 100, dtype=np.uint32)
    np.testing.assert_array_equal(temper(np.array([_untemper(v) for v in w], np.uint32)), w)


def _state_emitting(words):
    """A PyTorch state (bytes) whose next outputs are ``words`` (at most 623): key[0:len] untempered, with
    ``left`` set so the engine reads them before it regenerates."""
    raw = torch.Generator().manual_seed(1).get_state().numpy().copy()
    key = np.zeros(624, np.uint64)
    key[:len(words)] = [_untemper(w) for w in words]
    raw[24:24 + 624 * 8] = key.view(np.uint8)
    raw[8:12] = np.array([len(words) + 1], np.int32).view(np.uint8)
    raw[16:24] = np.zeros(1, np.uint64).view(np.uint8)
    return raw


def test_normal_fill_edge_words_equal_torch():
    # radius words: u = 0 (log 1), the largest u (log of the smallest 1 - u), mid values; angle words: the
    # three angles where the contracted Cephes reduction differs from the uncontracted one, and the ends
    radius = [0, 0xFFFFFF, 1, 0x800000, 0x7FFFFF, 0xABCDEF, 0x123456, 0xFFFFFE]
    angle = [12582909, 12582912, 12582913, 0, 0xFFFFFF, 0x400000, 0x200000, 0xC00000]
    words = np.array((radius + angle) * 4, np.uint32) | np.uint32(0xAB000000)   # high byte unused by floats
    raw = _state_emitting(words)
    g = ember.Generator().set_state(ember.from_numpy(raw))
    tg = torch.Generator().set_state(torch.from_numpy(raw))
    np.testing.assert_array_equal(ember.randn(64, generator=g).numpy(), torch.randn(64, generator=tg).numpy())
    np.testing.assert_array_equal(g.get_state().numpy(), tg.get_state().numpy())



def test_mt_words_continue_numpys_stream():
    # the kernel advances NumPy's own MT19937 state: words equal NumPy's, across regenerations, and NumPy
    # carries on from where the kernel stopped
    from ember.kernels import mt19937 as MT
    for start, n in ((0, 1), (37, 5000), (600, 624), (624, 1249)):
        full = np.random.MT19937(3).random_raw(start + n + 700).astype(np.uint32)
        bits = np.random.MT19937(3)
        bits.random_raw(start)
        state = np.empty(625, np.uint32)
        state[:624], state[624] = bits.state["state"]["key"], bits.state["state"]["pos"]
        for impl in (MT.mt_words.reference, _compiled(MT.mt_words, state)):
            s = state.copy()
            np.testing.assert_array_equal(impl(s, n), full[start:start + n])
            bits.state = {"bit_generator": "MT19937", "state": {"key": s[:624], "pos": int(s[624])}}
            np.testing.assert_array_equal(bits.random_raw(700), full[start + n:])
