"""torch.from_file: a tensor over a memory-mapped file, shared (writes reach the file) or copy-on-write."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_from_file(lib, tmp_path):
    path = str(tmp_path / "data.bin")
    np.arange(6, dtype=np.float32).tofile(path)
    assert lib.from_file(path, size=4).tolist() == [0, 1, 2, 3]
    assert lib.from_file(path, size=3, dtype=lib.float64).dtype == lib.float64
    private = lib.from_file(path, shared=False, size=6)
    private[0] = 9
    assert np.fromfile(path, np.float32)[0] == 0
    shared = lib.from_file(path, shared=True, size=6, dtype=lib.int32)
    shared[1] = 7
    assert np.fromfile(path, np.int32)[1] == 7
    assert tuple(lib.from_file(path).shape) == (0,)
    grown = str(tmp_path / "new.bin")
    assert lib.from_file(grown, shared=True, size=3).tolist() == [0, 0, 0]
    assert len(open(grown, "rb").read()) == 12


def test_errors_as_torch(tmp_path):
    path = str(tmp_path / "data.bin")
    np.arange(6, dtype=np.float32).tofile(path)
    for args in ((path,), (str(tmp_path / "missing.bin"),)):
        messages = []
        for lib in (ember, torch):
            with pytest.raises(RuntimeError) as info:
                lib.from_file(*args, size=10)
            messages.append(str(info.value))
        assert messages[0] == messages[1]
