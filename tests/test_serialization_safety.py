"""Loading hostile or damaged checkpoints, and what a checkpoint means (shared storages, legacy files,
weights_only, map_location): every case is run through torch.load as well and must end the same way."""
import collections
import io
import os
import pickle
import random

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

import checkpoint_mutations as cm
import ember
import ember.nn as enn

REC6 = cm.record_bytes(np.arange(6))


def assert_same_outcome(data, **kwargs):
    """Both libraries raise the same exception type, or both load equal tensors with equal layouts."""
    t_kind, t_res = cm.load_outcome(torch, data, **kwargs)
    e_kind, e_res = cm.load_outcome(ember, data, **kwargs)
    if t_kind == "ok" and isinstance(t_res, torch.Tensor) and min(t_res.shape, default=0) < 0:
        # PyTorch 2.13 builds an empty tensor with a negative dimension from size (0, -1); ember refuses it
        assert e_kind is RuntimeError and "negative dimension" in e_res
        return e_kind, e_res
    if t_kind == "ok" and isinstance(t_res, torch.Tensor) and t_res.numel() * t_res.element_size() >= 2 ** 63 or \
            t_kind == "ok" and isinstance(t_res, torch.Tensor) and t_res.numel() == 0 and e_kind is RuntimeError:
        # shapes NumPy cannot describe (an expanded 2**62-element tensor, an empty one with 2**31 x 2**31 dims)
        assert e_kind is RuntimeError and ("too large" in e_res or "can address" in e_res)
        return e_kind, e_res
    if t_kind is RuntimeError and t_res == "Stride calculation overflowed" and e_kind == "ok":
        assert e_res.numel() == 0   # PyTorch checks the strides of some empty tensors; they read nothing
        return e_kind, e_res
    assert e_kind == t_kind, f"torch: {t_kind} {str(t_res)[:200]}; ember: {e_kind} {str(e_res)[:200]}"
    if t_kind == "ok" and isinstance(t_res, torch.Tensor):
        assert tuple(e_res.shape) == tuple(t_res.shape) and e_res.dtype.itemsize == t_res.dtype.itemsize
        if t_res.numel() <= 10 ** 6:
            np.testing.assert_array_equal(e_res.numpy(), t_res.numpy())
        if t_res.numel():   # the stride of a size-1 dimension is never used (ember reports a contiguous one)
            assert [s for s, n in zip(e_res.stride(), e_res.shape) if n > 1] == \
                [s for s, n in zip(t_res.stride(), t_res.shape) if n > 1]
    return e_kind, e_res


# ------------------------------------------------------------------------------ hostile tensor records
BAD_RECORDS = {
    "size_past_record_1e8": ((10 ** 8,), (1,), 0, 6, REC6),
    "size_past_record_1e6": ((10 ** 6,), (1,), 0, 6, REC6),
    "negative_offset": ((3,), (1,), -2, 6, REC6),
    "negative_stride": ((3,), (-1,), 2, 6, REC6),
    "negative_size": ((-3,), (1,), 0, 6, REC6),
    "offset_past_end": ((3,), (1,), 5, 6, REC6),
    "stride_past_end": ((3,), (3,), 0, 6, REC6),
    "overflowing_strides": ((2, 2), (2 ** 62, 2 ** 62), 0, 6, REC6),
    "size_stride_lengths_differ": ((3,), (1, 2), 0, 6, REC6),
    "float_size": ((2.0,), (1,), 0, 6, REC6),
    "record_shorter_than_declared": ((6,), (1,), 0, 6, REC6[:12]),
    "record_longer_than_declared": ((6,), (1,), 0, 6, REC6 + REC6),
    "declared_numel_past_record": ((6,), (1,), 0, 100, REC6),
    "declared_numel_under_record": ((2,), (1,), 0, 2, REC6),
    "record_not_multiple_of_itemsize": ((1,), (1,), 0, 1, REC6[:5]),
    "negative_numel": ((0,), (1,), 0, -1, b""),
    "numel_overflowing_bytes": ((6,), (1,), 0, 2 ** 62, REC6),
    "empty_with_huge_offset": ((0,), (10 ** 9,), 10 ** 9, 6, REC6),
    "numel_overflowing_int64": ((2 ** 62, 4), (0, 0), 0, 6, REC6),
    "valid_2x3": ((2, 3), (3, 1), 0, 6, REC6),
    "valid_expanded": ((4, 3), (0, 1), 3, 6, REC6),
    "valid_scalar": ((), (), 5, 6, REC6),
    "scalar_past_end": ((), (), 6, 6, REC6),
    "valid_last_element": ((1,), (7,), 5, 6, REC6),
    "valid_huge_stride_of_size_1_dim": ((1, 2), (2 ** 62, 1), 3, 6, REC6),
}


@pytest.mark.parametrize("name", sorted(BAD_RECORDS))
def test_hostile_tensor_record_raises_as_torch(name):
    size, stride, offset, numel, record = BAD_RECORDS[name]
    kind, result = assert_same_outcome(cm.craft(size, stride, offset, numel, record))
    if kind == "ok":
        cm.assert_within_storages(result)
    else:
        assert kind in (RuntimeError, TypeError)


def test_hostile_records_of_other_kinds():
    cases = {
        "missing_storage_key": cm.archive({"data.pkl": cm.tensor_pickle((6,), (1,), 0, 6), "data/1": REC6}),
        "unknown_storage_dtype": cm.craft((6,), (1,), 0, 6, REC6, storage="FooStorage"),
        "int_tensor_requires_grad": cm.craft((6,), (1,), 0, 6, REC6, storage="IntStorage", requires_grad=True),
        "bool_storage": cm.craft((6,), (1,), 0, 24, bytes(range(24)), storage="BoolStorage"),
        "storage_key_not_a_string": cm.archive({"data.pkl": cm.tensor_pickle((6,), (1,), 0, 6, key=0),
                                                "data/0": REC6}),
    }
    kinds = {name: assert_same_outcome(data)[0] for name, data in cases.items()}
    assert kinds["missing_storage_key"] is RuntimeError
    assert kinds["unknown_storage_dtype"] is pickle.UnpicklingError
    assert kinds["int_tensor_requires_grad"] is RuntimeError


def test_expanded_tensor_too_large_for_numpy_raises():
    data = cm.craft((2 ** 62,), (0,), 0, 6, REC6)
    assert cm.load_outcome(torch, data)[0] == "ok"   # PyTorch holds 2**62 floats over one element; NumPy cannot
    with pytest.raises(RuntimeError, match="span more bytes than an array can address"):
        ember.load(io.BytesIO(data))


def test_record_error_names_the_problem():
    with pytest.raises(RuntimeError, match=r"sizes \[1000000\].*out of bounds for storage of size 24"):
        ember.load(io.BytesIO(cm.craft((10 ** 6,), (1,), 0, 6, REC6)))
    with pytest.raises(RuntimeError, match="invalid storage offset -2"):
        ember.load(io.BytesIO(cm.craft((3,), (1,), -2, 6, REC6)))
    with pytest.raises(RuntimeError, match="holds 5 bytes.*1 elements"):
        ember.load(io.BytesIO(cm.craft((1,), (1,), 0, 1, REC6[:5])))
    with pytest.raises(RuntimeError, match="failed locating file data/0"):
        ember.load(io.BytesIO(cm.archive({"data.pkl": cm.tensor_pickle((6,), (1,), 0, 6)})))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ndim=st.integers(0, 3), data=st.data())
def test_random_tensor_records_match_torch(ndim, data):
    huge = st.sampled_from([2 ** 31, 2 ** 62, 10 ** 8, -2 ** 40])
    size = data.draw(st.lists(st.integers(-2, 5) | huge, min_size=ndim, max_size=ndim))
    stride = data.draw(st.lists(st.integers(-2, 7) | huge, min_size=ndim, max_size=ndim))
    offset = data.draw(st.integers(-2, 12) | huge)
    numel = data.draw(st.integers(0, 12))
    record_len = data.draw(st.sampled_from([numel * 4, numel * 4, numel * 4 + 1, max(numel * 4 - 4, 0)]))
    record = cm.record_bytes(np.arange(record_len // 4 + 1))[:record_len]
    kind, result = assert_same_outcome(cm.craft(size, stride, offset, numel, record))
    if kind == "ok":
        cm.assert_within_storages(result)


# ------------------------------------------------------------------------------ damaged files
def _valid_checkpoint():
    buf = io.BytesIO()
    torch.save({"w": torch.arange(12.0).reshape(3, 4), "i": torch.arange(5)}, buf)
    return buf.getvalue()


def test_damaged_files_raise_as_torch():
    good = _valid_checkpoint()
    cases = {"empty": b"", "garbage": b"hello world", "plain_pickle": pickle.dumps(5, protocol=2),
             "zip_without_data_pkl": cm.archive({"foo": b"x"}),
             "data_pkl_outside_folder": cm.members_of(good) and _top_level_data_pkl(),
             "bad_byteorder": cm.archive({**cm.members_of(good), "byteorder": b"middle"})}
    cases.update({f"truncated_{k}_of_16": good[:len(good) * k // 16] for k in range(1, 16)})
    kinds = {name: assert_same_outcome(data)[0] for name, data in cases.items()}
    assert kinds["empty"] is EOFError
    assert all(kinds[f"truncated_{k}_of_16"] is RuntimeError for k in range(1, 16))


def _top_level_data_pkl():
    buf = io.BytesIO()
    import zipfile
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.pkl", pickle.dumps(5, protocol=2))
    return buf.getvalue()


def test_deflated_checkpoint_loads_and_a_deflate_bomb_does_not():
    import zipfile
    deflated = cm.archive(cm.members_of(_valid_checkpoint()), compression=zipfile.ZIP_DEFLATED)
    kind, result = assert_same_outcome(deflated)
    assert kind == "ok" and result["w"].tolist() == torch.arange(12.0).reshape(3, 4).tolist()
    with pytest.raises(RuntimeError, match="zip bomb"):
        ember.load(io.BytesIO(cm.deflate_bomb(None, random.Random(0))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 32 - 1), which=st.integers(0, 100))
def test_fuzzed_checkpoints_fail_cleanly_or_load_safely(seed, which):
    rng = random.Random(seed)
    legacy = which % 5 == 0
    base = _FUZZ_BASES["legacy"] if legacy else _FUZZ_BASES["zip"]
    mutate = (cm.LEGACY_MUTATIONS if legacy else cm.ZIP_MUTATIONS)[which % (2 if legacy else len(cm.ZIP_MUTATIONS))]
    data = mutate(base, rng)
    kind, result = cm.load_outcome(ember, data)
    if kind == "ok":
        cm.assert_within_storages(result)
    else:
        assert issubclass(kind, Exception)


_FUZZ_BASES = cm.base_checkpoints()


# ------------------------------------------------------------------------------ shared storages
def test_views_stay_views_from_ember_to_torch_and_back(tmp_path):
    t = ember.arange(10.0)
    ember.save({"a": t, "b": t[2:5], "c": t.view(2, 5).t()}, tmp_path / "e.pt")
    r = torch.load(tmp_path / "e.pt")
    assert r["b"].untyped_storage().data_ptr() == r["a"].untyped_storage().data_ptr()
    assert r["b"].storage_offset() == 2 and r["c"].stride() == (1, 5)
    r["a"][3] = 100.0
    assert r["b"].tolist() == [2.0, 100.0, 4.0] and r["c"][3, 0].item() == 100.0
    e = ember.load(tmp_path / "e.pt")
    e["a"][3] = -1.0
    assert e["b"].tolist() == [2.0, -1.0, 4.0] and e["c"][3, 0].item() == -1.0
    assert e["c"].stride() == (1, 5)


def test_views_stay_views_from_torch_to_ember_and_back(tmp_path):
    t = torch.arange(10.0)
    torch.save({"a": t, "b": t[2:5], "p": torch.nn.Parameter(t[4:6])}, tmp_path / "t.pt")
    e = ember.load(tmp_path / "t.pt")
    e["a"][4] = 7.0
    assert e["b"].tolist() == [2.0, 3.0, 7.0] and e["p"].tolist() == [7.0, 5.0]
    assert isinstance(e["p"], enn.Parameter)
    ember.save(e, tmp_path / "again.pt")
    r = torch.load(tmp_path / "again.pt")
    assert r["b"].untyped_storage().data_ptr() == r["a"].untyped_storage().data_ptr() == \
        r["p"].untyped_storage().data_ptr()
    assert (r["b"].storage_offset(), r["p"].storage_offset()) == (2, 4)


def test_a_parameter_and_views_of_it_share_one_storage(tmp_path):
    p = enn.Parameter(ember.arange(4.0))
    ember.save({"p": p, "v": p.detach()[1:3], "e": p.detach().expand(5, 4)}, tmp_path / "p.pt")
    r = torch.load(tmp_path / "p.pt")
    assert isinstance(r["p"], torch.nn.Parameter) and r["p"].untyped_storage().nbytes() == 16
    assert r["v"].untyped_storage().data_ptr() == r["p"].untyped_storage().data_ptr() == \
        r["e"].untyped_storage().data_ptr()
    assert (r["v"].storage_offset(), r["e"].stride()) == (1, (0, 1))


def test_expanded_tensor_saves_its_small_storage(tmp_path):
    ember.save(ember.ones(3).expand(10 ** 6, 3), tmp_path / "e.pt")
    torch.save(torch.ones(3).expand(10 ** 6, 3), tmp_path / "t.pt")
    assert os.path.getsize(tmp_path / "e.pt") <= os.path.getsize(tmp_path / "t.pt")
    back = torch.load(tmp_path / "e.pt")
    assert back.shape == (10 ** 6, 3) and back.stride() == (0, 1) and back.untyped_storage().nbytes() == 12
    mine = ember.load(tmp_path / "t.pt")
    assert mine.shape == (10 ** 6, 3) and mine.stride() == (0, 1) and mine.sum().item() == 3 * 10 ** 6


def test_dtype_device_and_size_are_saved_under_torch_names(tmp_path):
    ember.save([ember.float16, ember.device("cpu"), ember.Size([2, 3]), ember.int64], tmp_path / "e.pt")
    assert torch.load(tmp_path / "e.pt") == [torch.float16, torch.device("cpu"), torch.Size([2, 3]), torch.int64]
    assert ember.load(tmp_path / "e.pt") == [ember.float16, ember.device("cpu"), ember.Size([2, 3]), ember.int64]


# ------------------------------------------------------------------------------ legacy format
@pytest.mark.parametrize("weights_only", [True, False])
def test_legacy_checkpoint_loads_as_in_torch(tmp_path, weights_only):
    t = torch.arange(6.0)
    obj = {"a": t, "b": t[1:4], "p": torch.nn.Parameter(torch.ones(2)), "i": torch.arange(3),
           "h": torch.tensor([1.5, -2.0], dtype=torch.float16), "n": 3}
    torch.save(obj, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    want = torch.load(tmp_path / "legacy.pt", weights_only=weights_only)
    got = ember.load(tmp_path / "legacy.pt", weights_only=weights_only)
    assert got.keys() == want.keys() and got["n"] == 3
    for k in ("a", "b", "p", "i", "h"):
        np.testing.assert_array_equal(got[k].detach().numpy(), want[k].detach().numpy())
        assert str(got[k].dtype) == str(want[k].dtype)
    assert isinstance(got["p"], enn.Parameter) and got["p"].requires_grad
    got["a"][2] = 50.0
    assert got["b"].tolist() == [1.0, 50.0, 3.0]


def test_damaged_legacy_files_raise():
    legacy = _FUZZ_BASES["legacy"]
    for k in range(0, 16):
        kind, _ = cm.load_outcome(ember, legacy[:len(legacy) * k // 16])
        assert kind != "ok" and issubclass(kind, Exception)


# ------------------------------------------------------------------------------ weights_only
ALLOWED_VALUES = {"set": {1, 2}, "bytes": b"ab\x00\xff", "complex": 1 + 2j, "bytearray": bytearray(b"xy"),
                  "counter": collections.Counter("aab"), "big_int": 2 ** 100,
                  "mixed": [1.5, None, True, "s", (1,), {"k": -3}]}
REJECTED_VALUES = {"slice": slice(1, 2), "frozenset": frozenset([1]), "range": range(3)}


@pytest.mark.parametrize("name", sorted(ALLOWED_VALUES) + sorted(REJECTED_VALUES))
def test_weights_only_allows_what_torch_allows(tmp_path, name):
    value = ALLOWED_VALUES.get(name, REJECTED_VALUES.get(name))
    torch.save(value, tmp_path / "t.pt")
    kind, result = assert_same_outcome((tmp_path / "t.pt").read_bytes())
    if name in ALLOWED_VALUES:
        assert kind == "ok" and result == value and type(result) is type(value)
        ember.save(value, tmp_path / "e.pt")
        assert torch.load(tmp_path / "e.pt") == value and ember.load(tmp_path / "e.pt") == value
    else:
        assert kind is pickle.UnpicklingError


class _Evil:
    def __reduce__(self):
        return os.system, ("echo pwned",)


def test_weights_only_blocks_code_execution(tmp_path):
    torch.save(_Evil(), tmp_path / "evil.pt")
    kind, message = assert_same_outcome((tmp_path / "evil.pt").read_bytes())
    assert kind is pickle.UnpicklingError and "blocked" in message


def test_safe_globals_load_a_whole_model(tmp_path):
    model = enn.Sequential(enn.Linear(3, 4), enn.ReLU(), enn.Linear(4, 2))
    ember.save(model, tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL ember.nn.modules.container"):
        ember.load(tmp_path / "m.pt")
    classes = [enn.Sequential, enn.Linear, enn.ReLU]
    with ember.serialization.safe_globals(classes):
        assert set(ember.serialization.get_safe_globals()) == set(classes)
        again = ember.load(tmp_path / "m.pt")
    assert ember.serialization.get_safe_globals() == []
    x = ember.randn(5, 3)
    np.testing.assert_array_equal(again(x).detach().numpy(), model(x).detach().numpy())
    ember.serialization.add_safe_globals([(enn.Sequential, "ember.nn.modules.container.Sequential"), enn.Linear,
                                         enn.ReLU])
    try:
        assert isinstance(ember.load(tmp_path / "m.pt"), enn.Sequential)
    finally:
        ember.serialization.clear_safe_globals()
    assert ember.serialization.get_safe_globals() == []


def test_safe_globals_api_errors_as_torch(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pt")
    for lib in (torch, ember):
        lib.load(io.BytesIO(_valid_checkpoint()))   # a bad entry is noticed only when a global needs the list
        lib.serialization.add_safe_globals([(enn.Linear, "a", "b")])
        try:
            with pytest.raises(ValueError, match="Expected tuple of length 2"):
                lib.load(tmp_path / "model.pt")
        finally:
            lib.serialization.clear_safe_globals()


def test_weights_only_with_pickle_module_raises_as_torch():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module"):
            lib.load(io.BytesIO(_valid_checkpoint()), pickle_module=pickle, weights_only=True)


# ------------------------------------------------------------------------------ map_location
def test_map_location_function_is_called_per_storage_as_in_torch():
    data = _valid_checkpoint()
    seen = {}
    for lib in (torch, ember):
        calls = seen[lib.__name__] = []

        def keep(storage, location):
            calls.append((location, storage.nbytes()))
            return storage if lib is ember else None

        lib.load(io.BytesIO(data), map_location=keep)
    assert sorted(seen["ember"]) == sorted(seen["torch"]) and len(seen["ember"]) == 2


@pytest.mark.parametrize("where", ["cuda", "cuda:1", {"cpu": "cuda:0"}, "bogus", "cpu",
                                   lambda storage, location: 3])
def test_map_location_errors_as_torch(where):
    kind, message = assert_same_outcome(_valid_checkpoint(), map_location=where)
    if where in ("cuda", "cuda:1") or isinstance(where, dict):
        assert kind is RuntimeError and "torch.cuda.is_available() is False" in message


# ------------------------------------------------------------------------------ saving
def test_save_into_missing_folder_raises_as_torch(tmp_path):
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            lib.save({"a": lib.ones(2)}, tmp_path / "nope" / "x.pt")
        messages.append(str(info.value))
    assert messages[0] == messages[1] == f"Parent directory {tmp_path / 'nope'} does not exist."


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "keep.pt"
    ember.save({"a": ember.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(Exception):
        ember.save({"a": ember.zeros(3), "bad": lambda: 0}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["keep.pt"]


def test_tensor_over_part_of_a_numpy_array_saves_only_its_part(tmp_path):
    big = np.arange(10 ** 5, dtype=np.float32)
    ember.save(ember.from_numpy(big[10:20]), tmp_path / "part.pt")
    back = torch.load(tmp_path / "part.pt")
    assert back.tolist() == list(range(10, 20)) and back.untyped_storage().nbytes() == 40


def test_tensor_attributes_saved_by_torch_load(tmp_path):
    t = torch.ones(2)
    t.note = 3
    p = torch.nn.Parameter(torch.zeros(2))
    p._is_hf_initialized = True
    torch.save({"t": t, "p": p}, tmp_path / "attrs.pt")
    r = ember.load(tmp_path / "attrs.pt")
    assert r["t"].note == 3 and r["p"]._is_hf_initialized is True and isinstance(r["p"], enn.Parameter)


def test_checkpoint_cannot_set_ember_tensor_internals(tmp_path):
    t = torch.ones(2)
    t._data = 5   # meaningless to PyTorch, but it is where an ember tensor keeps its array
    torch.save(t, tmp_path / "internals.pt")
    assert torch.load(tmp_path / "internals.pt")._data == 5
    with pytest.raises(RuntimeError, match="may not set the tensor attribute '_data'"):
        ember.load(tmp_path / "internals.pt")


def test_rebuild_from_type_calls_only_tensor_rebuilders():
    # _rebuild_from_type_v2(torch.FloatTensor, torch.Tensor, (4,), {}) would hand out uninitialised memory
    evil = (b"\x80\x02ctorch._tensor\n_rebuild_from_type_v2\n(ctorch\nFloatTensor\nctorch\nTensor\nK\x04\x85}tR.")
    with pytest.raises(RuntimeError, match="cannot rebuild a tensor with"):
        ember.load(io.BytesIO(cm.archive({"data.pkl": evil})))
