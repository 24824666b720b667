"""Tensor.storage() and TypedStorage: the allocation read as elements of one dtype, as torch's (deprecated) API."""
import warnings

import pytest
import torch

import ember
import ember._storage


def _reset_once_warnings():
    torch.storage._warn_typed_storage_removal.__dict__["has_warned"] = False
    ember._storage._warned[0] = False


@pytest.mark.parametrize("make", [lambda lib: lib.ones(2).storage(), lambda lib: lib.FloatStorage(2),
                                  lambda lib: lib.TypedStorage(2, dtype=lib.int8)])
def test_deprecation_warned_once_per_process(make):
    messages = []
    for lib in (ember, torch):
        _reset_once_warnings()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            make(lib)
            make(lib)
        assert [w.filename for w in caught] == [__file__]
        messages.append([(w.category, str(w.message)) for w in caught])
    assert messages[0] == messages[1]


def _both(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(ember), fn(torch)


def test_tensor_storage_reads_the_allocation():
    def probe(lib):
        x = lib.arange(6, dtype=lib.float32)
        s = x[2:].storage()
        s[-1] = 9.5
        return (type(s) is lib.TypedStorage, s.size(), len(s), s.dtype == lib.float32, s.tolist(), list(s), s[1],
                type(s[1]), s.data_ptr() == x.data_ptr(), s.element_size(), s.nbytes(), str(s.device), s.is_shared(),
                s.is_cuda, s.get_device(), s.pickle_storage_type(), s.type(), s.untyped().nbytes(),
                s._untyped_storage is s.untyped(), repr(s).replace("torch.", "").replace("ember.", ""),
                x.tolist(), isinstance(s, lib.FloatStorage), isinstance(s, lib.DoubleStorage), lib.is_storage(s),
                lib.is_storage(x))
    e, t = _both(probe)
    assert e == t


@pytest.mark.parametrize("name", ["ByteStorage", "CharStorage", "ShortStorage", "IntStorage", "LongStorage",
                                  "HalfStorage", "BFloat16Storage", "FloatStorage", "DoubleStorage", "BoolStorage",
                                  "ComplexFloatStorage", "ComplexDoubleStorage"])
def test_legacy_classes(name):
    def probe(lib):
        cls = getattr(lib, name)
        s = cls([1, 0, 1])
        return (str(cls.dtype), str(s.dtype), type(s) is lib.TypedStorage, s.tolist(), cls(4).size(),
                cls(wrap_storage=lib.UntypedStorage(8)).size(), s.pickle_storage_type(),
                lib.ones(1, dtype=cls.dtype).storage_type().__name__)
    e, t = _both(probe)
    assert e == t
    with pytest.raises(RuntimeError, match="Keyword argument 'dtype' cannot be specified"):
        getattr(ember, name)(2, dtype=ember.float32)
    assert ember.Storage is ember.FloatStorage


def test_typed_storage_construction_and_edits():
    def probe(lib):
        s = lib.TypedStorage([1, 2, 3], dtype=lib.int16)
        c = s.clone()
        c[0] = 7
        out = [s.tolist(), c.tolist(), lib.TypedStorage(2).dtype == lib.float32, lib.TypedStorage().size(),
               lib.TypedStorage(wrap_storage=lib.UntypedStorage(7), dtype=lib.int32).size(),
               lib.TypedStorage(4, dtype=lib.int8, device="cpu").size(), s.fill_(5).tolist(),
               lib.TypedStorage(3, dtype=lib.int16).copy_(s).tolist(), s[-3],
               lib.TypedStorage([1 + 2j], dtype=lib.complex64)[0], lib.HalfStorage([1.5]).tolist(),
               str(s)]
        for bad in (lambda: s[1.5], lambda: s[-4], lambda: s[0:2], lambda: lib.TypedStorage(2, dtype=lib.int16).copy_(s)):
            with pytest.raises((RuntimeError, IndexError)) as info:
                bad()
            out.append((info.type, str(info.value).replace("torch.storage", "ember._storage")))
        return out
    e, t = _both(probe)
    assert e == t


def test_unsigned_storages_have_no_legacy_class():
    def probe(lib):
        s = lib.ones(2, dtype=lib.uint16).storage()
        with pytest.raises(KeyError) as info:
            s.pickle_storage_type()
        return lib.ones(2, dtype=lib.uint32).storage_type(), s.type().replace("torch.", ""), str(info.value), s.tolist()
    e, t = _both(probe)
    assert e == t


def test_set_to_a_storage():
    def probe(lib):
        x = lib.arange(4.)
        whole, from_bytes, part = lib.empty(0), lib.empty(0), lib.zeros(6)
        whole.set_(x.storage())
        from_bytes.set_(x.untyped_storage())
        part.set_(x.storage(), 1, (2,), (1,))
        part[0] = 7
        with pytest.raises(RuntimeError) as info:
            lib.zeros(1, dtype=lib.float64).set_(x.storage())
        return whole.tolist(), from_bytes.tolist(), part.tolist(), x.tolist(), str(info.value)
    e, t = _both(probe)
    assert e == t


def test_as_strided_of_a_dtype_view_reads_bytes():
    for lib in (ember, torch):
        x = lib.tensor([1., 2.])
        assert x.view(lib.uint8).as_strided((4,), (1,), 4).tolist() == [0, 0, 0, 64]
        assert x.view(lib.uint8)[4:].as_strided((2,), (1,), 6).tolist() == [0, 64]
