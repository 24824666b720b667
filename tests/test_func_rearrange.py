"""func.rearrange against torch.func.rearrange: the documented pattern forms (permutation, grouping "(h w)" in
both directions, ellipsis "...", anonymous 1 axes, axes_lengths, lists of tensors), values, dtypes, gradients,
and the pattern / size errors and warnings."""
import warnings

import numpy as np
import pytest
import torch

import ember

SHAPE = (2, 6, 4, 3)

PATTERNS = [
    ("b h w c -> b h w c", {}), ("b h w c -> (b h) w c", {}), ("b h w c -> h (b w) c", {}),
    ("b h w c -> b c h w", {}), ("b h w c -> b (c h w)", {}),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 2}),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 3, "w1": 2}),
    ("b (h h1) w c -> b h w c h1", {"h": 3}), ("b h w c -> b 1 h w 1 c", {}), ("b h w c -> () b h w c", {}),
    ("b h w c -> (1 b) h (w 1) c", {}), ("... c -> c ...", {}), ("b ... -> (b ...)", {}),
    ("b ... c -> c (...) b", {}), ("b h w c ... -> ... c b h w", {}), ("... -> ...", {}),
    ("b h w c -> c w h b", {"b": 2, "h": 6, "w": 4, "c": 3}), ("  b h  w c->c b h  w ", {}),
    ("b h w c -> (b h w c)", {}),
]


@pytest.mark.parametrize("pattern,lengths", PATTERNS)
def test_matches_torch_with_gradient(pattern, lengths):
    data = np.random.default_rng(0).standard_normal(SHAPE)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(data, requires_grad=True)
        y = lib.func.rearrange(x, pattern, **lengths)
        (y * lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    (ey, eg), (ty, tg) = results
    assert ey.shape == ty.shape
    np.testing.assert_array_equal(ey, ty)
    np.testing.assert_array_equal(eg, tg)


@pytest.mark.parametrize("pattern,shape,dtype", [
    ("a 1 c -> a c", (2, 1, 3), "int32"), ("a 1 c -> a c", (2, 3, 4), "float64"),  # torch sums an anonymous axis
    ("a b 1 -> a b", (2, 3, 1), "bool"), ("a b -> b a", (2, 3), "int32"), ("... -> 1 ...", (), "float32"),
    ("-> ", (), "float32"), (" -> 1", (), "int64")])
def test_anonymous_axes_and_dtypes_match_torch(pattern, shape, dtype):
    data = (np.arange(int(np.prod(shape))) % 3).reshape(shape).astype(dtype)
    ey = ember.func.rearrange(ember.tensor(data), pattern)
    ty = torch.func.rearrange(torch.tensor(data), pattern)
    assert str(ey.dtype) == str(ty.dtype)
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())


def test_sequence_of_tensors_is_stacked():
    arrays = [np.random.default_rng(i).standard_normal((3, 4)) for i in range(5)]
    for container in (list, tuple):
        ey = ember.func.rearrange(container(ember.tensor(a) for a in arrays), "n a b -> a (n b)")
        ty = torch.func.rearrange(container(torch.tensor(a) for a in arrays), "n a b -> a (n b)")
        np.testing.assert_array_equal(ey.numpy(), ty.numpy())


def test_result_is_a_view_of_the_input():
    x = ember.zeros(2, 3)
    ember.func.rearrange(x, "a b -> b a")[1, 0] = 5.0
    assert x[0, 1].item() == 5.0


ERRORS = [
    ("a b c d", {}), ("a b -> b a -> a", {}), ("a b c -> a b c", {}), ("a b c d -> a b c", {}),
    ("a b c d e -> a b c d e", {}), ("a b c d e ... -> a b c d e ...", {}), ("a b c d -> a b c", {}),
    ("a b c d -> a b c d e", {}), ("a b c d -> a b c d", {"e": 2}), ("a b c d -> a b c d", {"a": 2.0}),
    ("a b c d -> a b c d", {"a": True}), ("a b c d -> a b c d", {"a": 3}), ("(a ...) -> a", {}),
    ("a a c d -> a c d", {}), ("a b c d -> a b 2 c d", {}), ("a b c 0 -> a b c", {}), ("a b _c d -> a b _c d", {}),
    ("a b c 2d -> a b c 2d", {}), ("a b c d -> (a (b c)) d", {}), ("a b c d) -> a", {}), ("a b (c d -> a", {}),
    ("a b c d -> a b c d ...", {}), ("a . c d -> a c d", {}), ("a ... ... -> a", {}), ("a b$ c d -> a", {}),
    ("a b c d -> a b c d", {"\u2026": 2}), ("a ...b -> a ...b", {}),
    ("a (b1 b2) c d -> a b1 b2 c d", {}), ("a (b1 b2 b3) c d -> a b1 b2 b3 c d", {"b1": 2}),
    ("a (b1 b2) c d -> a b1 b2 c d", {"b1": 4}), ("a (b1 b2 b3) c d -> a b1 b2 b3 c d", {"b1": 4, "b3": 1}),
    ("a (b1 b2) c d -> a b1 b2 c d", {"b1": 2, "b2": 2}), ("... (c1 c2) d -> ... c1 c2 d", {"c2": 3}),
    ("a 1 (c1 c2) d -> a c1 c2 d", {"c2": 3}),
    ("(a b) c d e -> a b c d e", {"a": 0}),
]


def _outcome(lib, pattern, lengths):
    with pytest.raises(Exception) as info:
        lib.func.rearrange(lib.zeros(SHAPE), pattern, **lengths)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("pattern,lengths", ERRORS)
def test_errors_match_torch(pattern, lengths):
    assert _outcome(ember, pattern, lengths) == _outcome(torch, pattern, lengths)


def test_discouraged_names_warn_as_torch():
    caught = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            lib.func.rearrange(lib.zeros(2, 3), "for axis -> axis for")
        caught.append([(w.category, str(w.message)) for w in record])
    assert caught[0] == caught[1] and len(caught[0]) == 4  # each side warns for each name
