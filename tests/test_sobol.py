"""ember.quasirandom.SobolEngine against torch.quasirandom.SobolEngine: the direction numbers, every drawn point
bit for bit (plain and scrambled), the state after draws, fast-forwards and resets, out=, and the errors."""
import numpy as np
import pytest
import torch

import ember


def engines(dimension, scramble=False, seed=None):
    return (ember.quasirandom.SobolEngine(dimension, scramble=scramble, seed=seed),
            torch.quasirandom.SobolEngine(dimension, scramble=scramble, seed=seed))


def assert_equal(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dimension", [1, 2, 17, 21201])
def test_direction_numbers_match(dimension):
    ours, theirs = engines(dimension)
    assert_equal(ours.sobolstate, theirs.sobolstate)
    assert_equal(ours.quasi, theirs.quasi)


@pytest.mark.parametrize("scramble,seed", [(False, None), (True, 0), (True, 1234)])
def test_draws_match_exactly(scramble, seed):
    ours, theirs = engines(37, scramble, seed)
    assert_equal(ours.sobolstate, theirs.sobolstate)
    assert_equal(ours.shift, theirs.shift)
    for n, dtype in [(1, None), (1, "float64"), (6, None), (100, "float64"), (3, "float32")]:
        kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
        tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
        assert_equal(ours.draw(n, **kw), theirs.draw(n, **tkw))
        assert ours.num_generated == theirs.num_generated
        assert_equal(ours.quasi, theirs.quasi)


def test_first_draw_of_many_points():
    ours, theirs = engines(5, True, 7)
    assert_equal(ours.draw(257, dtype=ember.float64), theirs.draw(257, dtype=torch.float64))


def test_unseeded_scramble_uses_default_generator():
    ember.manual_seed(3)
    torch.manual_seed(3)
    ours, theirs = engines(4, scramble=True)
    assert_equal(ours.draw(9), theirs.draw(9))


def test_draw_base2_fast_forward_and_reset():
    ours, theirs = engines(6, True, 5)
    assert_equal(ours.draw_base2(3), theirs.draw_base2(3))
    assert ours.fast_forward(8) is ours
    theirs.fast_forward(8)
    assert_equal(ours.quasi, theirs.quasi)
    assert_equal(ours.draw_base2(4), theirs.draw_base2(4))
    assert ours.reset() is ours
    theirs.reset()
    ours.fast_forward(3)
    theirs.fast_forward(3)
    assert_equal(ours.draw(5), theirs.draw(5))
    with pytest.raises(ValueError) as ours_err:
        ours.draw_base2(2)
    with pytest.raises(ValueError) as theirs_err:
        theirs.draw_base2(2)
    assert str(ours_err.value) == str(theirs_err.value)


def test_out_and_repr():
    ours, theirs = engines(3, True, 2)
    out_e, out_t = ember.empty(1), torch.empty(1)
    assert ours.draw(4, out=out_e) is out_e
    theirs.draw(4, out=out_t)
    assert_equal(out_e, out_t)
    assert repr(ours) == repr(theirs) == "SobolEngine(dimension=3, scramble=True, seed=2)"
    assert repr(engines(2)[0]) == "SobolEngine(dimension=2)"
    assert (ours.MAXDIM, ours.MAXBIT) == (theirs.MAXDIM, theirs.MAXBIT)


@pytest.mark.parametrize("dimension", [0, 21202])
def test_bad_dimension(dimension):
    with pytest.raises(ValueError, match=r"Supported range of dimensionality for SobolEngine is \[1, 21201\]"):
        ember.quasirandom.SobolEngine(dimension)
    with pytest.raises(ValueError, match=r"\[1, 21201\]"):
        torch.quasirandom.SobolEngine(dimension)


def test_unsupported_dtype():
    ours, theirs = engines(2)
    assert_equal(ours.draw(1, dtype=ember.float16), theirs.draw(1, dtype=torch.float16))  # the stored first point
    with pytest.raises(NotImplementedError) as ours_err:
        ours.draw(2, dtype=ember.float16)
    with pytest.raises(NotImplementedError) as theirs_err:
        theirs.draw(2, dtype=torch.float16)
    assert str(ours_err.value) == str(theirs_err.value)
