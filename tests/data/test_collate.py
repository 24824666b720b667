"""default_collate / default_convert against torch: result structure, types, dtypes, values, errors."""
import collections

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as t_collate, default_convert as t_convert

import ember
from ember.utils.data import default_collate as e_collate, default_convert as e_convert
from ember.utils.data._utils.collate import collate as e_collate_generic, default_collate_fn_map

Point = collections.namedtuple("Point", ["x", "y"])


def assert_same(e, t, path="batch"):
    """ember result ``e`` matches torch result ``t``: containers, tensor dtypes/shapes/values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: {type(e)} is not a Tensor"
        assert str(e.dtype) == str(t.dtype), f"{path}: dtype {e.dtype} != {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {tuple(e.shape)} != {tuple(t.shape)}"
        np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=path)
        return
    if isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and e.dtype == t.dtype
        np.testing.assert_array_equal(e, t)
        return
    assert type(e) is type(t), f"{path}: {type(e).__name__} != {type(t).__name__}"
    if isinstance(t, dict):
        assert list(e) == list(t)
        for k in t:
            assert_same(e[k], t[k], f"{path}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t), path
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert e == t, path


def to_ember(x):
    if isinstance(x, torch.Tensor):
        return ember.from_numpy(x.numpy().copy())
    if isinstance(x, dict):
        return {k: to_ember(v) for k, v in x.items()}
    if isinstance(x, Point):
        return Point(*map(to_ember, x))
    if isinstance(x, tuple):
        return tuple(map(to_ember, x))
    if isinstance(x, list):
        return [to_ember(v) for v in x]
    return x


BATCHES = {
    "ints": [0, 1, 2, 3],
    "bools": [True, False, True],
    "bool_then_int": [True, 2],
    "floats": [0.5, 1.5, -2.0],
    "int_then_float": [1, 2.5],
    "float_then_int": [2.5, 1],
    "strings": ["a", "bb", "c"],
    "bytes": [b"x", b"y"],
    "np_f32": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "np_u8": [np.arange(4, dtype=np.uint8), np.arange(4, dtype=np.uint8)],
    "np_bool": [np.array([True, False]), np.array([False, False])],
    "np_int32_0d": [np.array(3, np.int32), np.array(4, np.int32)],
    "np_mixed_dtypes": [np.ones(3, np.int64), np.ones(3, np.float32)],
    "np_scalars_f32": [np.float32(1.5), np.float32(2.5)],
    "np_scalars_f64": [np.float64(1.5), np.float64(2.5)],
    "np_scalars_i32": [np.int32(1), np.int32(2)],
    "np_scalars_bool": [np.bool_(True), np.bool_(False)],
    "np_scalars_mixed": [np.int32(1), np.float32(2)],
    "dicts": [{"a": 0, "b": 1.0}, {"a": 100, "b": 2.0}],
    "namedtuples": [Point(0, 0.5), Point(1, 1.5)],
    "tuples": [(0, 1), (2, 3)],
    "lists": [[0, 1], [2, 3]],
    "nested": [
        {"img": np.zeros((1, 2, 2), np.float32), "meta": (1, "x", [2.0, 3])},
        {"img": np.ones((1, 2, 2), np.float32), "meta": (4, "y", [5.0, 6])},
    ],
    "image_label_pairs": [(np.full((3, 4), i, np.float32), i) for i in range(5)],
}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_default_collate_matches_torch(name):
    batch = BATCHES[name]
    assert_same(e_collate(batch), t_collate(batch), name)


def test_collate_tensors_matches_torch():
    t_batch = [torch.arange(6, dtype=torch.float32).reshape(2, 3) * i for i in range(4)]
    e_batch = [to_ember(t) for t in t_batch]
    assert_same(e_collate(e_batch), t_collate(t_batch))
    t_pairs = [(torch.tensor(i), torch.ones(2, dtype=torch.int64) * i) for i in range(3)]
    assert_same(e_collate(to_ember(t_pairs)), t_collate(t_pairs))


def test_collate_mutable_mapping_keeps_type():
    batch = [collections.OrderedDict(a=1, b=2.0), collections.OrderedDict(a=3, b=4.0)]
    out = e_collate(batch)
    assert type(out) is collections.OrderedDict
    assert_same(out, t_collate(batch))


CONVERT_INPUTS = {
    "int": 0,
    "ndarray": np.array([0, 1]),
    "np_scalar": np.float32(2.0),
    "namedtuple": Point(np.array(0), np.array(1)),
    "tuple": (np.array([1.0]), "s"),
    "list": [np.array([0, 1]), np.array([2, 3])],
    "dict": {"a": np.zeros(2, np.uint8), "b": "text"},
    "str_array": np.array(["a", "b"]),
    "string": "hello",
}


@pytest.mark.parametrize("name", sorted(CONVERT_INPUTS))
def test_default_convert_matches_torch(name):
    x = CONVERT_INPUTS[name]
    assert_same(e_convert(x), t_convert(x), name)


def test_convert_shares_memory_with_array():
    a = np.zeros(3, np.float32)
    t = e_convert(a)
    a[1] = 7
    assert t.numpy()[1] == 7


def test_unequal_shapes_error_names_shapes_and_field():
    batch = [{"image": np.zeros((3, 4), np.float32), "y": 0},
             {"image": np.zeros((3, 4), np.float32), "y": 1},
             {"image": np.zeros((3, 5), np.float32), "y": 2}]
    with pytest.raises(RuntimeError) as t_err:
        t_collate(batch)
    with pytest.raises(RuntimeError) as e_err:
        e_collate(batch)
    msg = str(e_err.value)
    # torch's wording, plus the field that is at fault
    assert str(t_err.value) in msg
    assert "[3, 4] at entry 0 and [3, 5] at entry 2" in msg
    assert "['image']" in msg
    assert type(e_err.value) is RuntimeError


def test_unequal_tensor_shapes_in_tuple_field():
    batch = [(ember.from_numpy(np.zeros(2, np.float32)), 0), (ember.from_numpy(np.zeros(3, np.float32)), 1)]
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                                           r"and \[3\] at entry 1.*\[0\]"):
        e_collate(batch)


def test_unequal_lengths_error_matches_torch():
    batch = [[1, 2], [3]]
    with pytest.raises(RuntimeError) as t_err:
        t_collate(batch)
    with pytest.raises(RuntimeError) as e_err:
        e_collate(batch)
    assert str(e_err.value) == str(t_err.value) == "each element in list of batch should be of equal size"


@pytest.mark.parametrize("batch", [[object(), object()], [np.array(["a"]), np.array(["b"])], [None, None]])
def test_uncollatable_types_raise_torch_type_error(batch):
    with pytest.raises(TypeError) as t_err:
        t_collate(batch)
    with pytest.raises(TypeError) as e_err:
        e_collate(batch)
    assert str(e_err.value).split(";")[0] == str(t_err.value).split(";")[0]
    assert "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists" in str(e_err.value)


def test_collate_fn_map_extension():
    class Custom:
        def __init__(self, v):
            self.v = v

    def collate_custom(batch, *, collate_fn_map=None):
        return sum(c.v for c in batch)

    fn_map = dict(default_collate_fn_map)
    fn_map[Custom] = collate_custom
    out = e_collate_generic([(Custom(1), 2), (Custom(3), 4)], collate_fn_map=fn_map)
    assert out[0] == 4
    assert out[1].tolist() == [2, 4]
    assert list(default_collate_fn_map)[0] is ember.Tensor


def test_numpy_fast_path_result_is_writable_and_independent():
    arrays = [np.full((2, 2), i, np.float32) for i in range(3)]
    out = e_collate(arrays)
    out.numpy()[0, 0, 0] = 99
    assert arrays[0][0, 0] == 0
