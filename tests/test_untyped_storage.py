"""Tensor.untyped_storage(): the allocation's bytes, shared by every view, as torch's UntypedStorage."""
import numpy as np
import pytest
import torch

import ember


def _views(lib):
    base = lib.arange(12, dtype=lib.float32).reshape(3, 4)
    return base, [base, base[1:], base.t(), base[:, 1], base.reshape(12)[3:7]]


def test_every_view_reports_the_allocation():
    for lib in (ember, torch):
        base, views = _views(lib)
        storages = [v.untyped_storage() for v in views]
        assert {s.data_ptr() for s in storages} == {base.data_ptr()}
        assert [s.nbytes() for s in storages] == [48] * 5
    e_base, _ = _views(ember)
    t_base, _ = _views(torch)
    e, t = e_base[1:].untyped_storage(), t_base[1:].untyped_storage()
    assert (len(e), e.size(), e.element_size(), e.tolist(), e[4], e[-1], str(e.device), e.get_device()) == \
        (len(t), t.size(), t.element_size(), t.tolist(), t[4], t[-1], str(t.device), t.get_device())
    assert e.is_cuda is False and e.is_sparse is False


def test_writes_through_the_storage_reach_the_tensor():
    for lib in (ember, torch):
        x = lib.zeros(2, dtype=lib.float32)
        s = x[1:].untyped_storage()
        s.fill_(0)
        s[7] = 0x3F   # high byte of float32 1.875 at element 1 (little endian): 0x3F000000 -> 0.5
        s[6] = 0x00
        assert x.tolist() == [0.0, 0.5]
        c = s.clone()
        c.fill_(1)
        assert x.tolist() == [0.0, 0.5]
        s.copy_(c)
        assert x.view(lib.uint8).tolist() == [1] * 8


def test_errors_as_torch():
    """ember's memory belongs to NumPy arrays: its storages are not resizable, as torch's over from_numpy."""
    for lib in (ember, torch):
        s = lib.from_numpy(np.ones(2, np.float32)).untyped_storage()
        assert s.resizable() is False
        with pytest.raises(IndexError):
            s[8]
        with pytest.raises(RuntimeError, match="not resizable"):
            s.resize_(100)
    np.testing.assert_equal(ember.ones(3).untyped_storage().is_shared(), False)


def test_new_untyped_storages():
    for lib in (ember, torch):
        assert (lib.UntypedStorage().nbytes(), lib.UntypedStorage(5).nbytes(), str(lib.UntypedStorage(3, device="cpu").device)) == (0, 5, "cpu")
    e, t = ember.UntypedStorage([1, 2, 255]), torch.UntypedStorage([1, 2, 255])
    assert e.tolist() == t.tolist() and repr(e) == repr(t) and e[1:].tolist() == t[1:].tolist()
    e[1:][0] = 9
    assert e.tolist() == [1, 9, 255]
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Expected a sequence type, but got Tensor"):
            lib.UntypedStorage(lib.ones(2))
        with pytest.raises(RuntimeError, match="size does not match, self was 3 bytes but src was 4 bytes"):
            lib.UntypedStorage(3).copy_(lib.UntypedStorage(4))


def test_offsets_into_the_storage_after_set_and_as_strided():
    seen = {}
    for lib in (ember, torch):
        a = lib.arange(10.)
        b = lib.empty(0)
        b.set_(a.untyped_storage(), 2, (3,), (2,))
        c = a.as_strided((2, 2), (1, 2), 3)
        seen[lib] = [(t.storage_offset(), t.untyped_storage().nbytes(), t.stride(), t.tolist()) for t in (b, c, c[1])]
    assert seen[ember] == seen[torch]
