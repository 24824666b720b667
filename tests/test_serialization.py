"""save / load: PyTorch's checkpoint format both ways, round trips, weights_only, atomic writes."""
import collections

import numpy as np
import pickle
import pytest
import torch

import ember
import ember.nn as enn
from parity import assert_same

rng = np.random.default_rng(0)


def _arrays():
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "i64": np.arange(6).reshape(2, 3),
        "u8": np.arange(4, dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def test_ember_checkpoint_loads_in_torch(tmp_path):
    arrays = _arrays()
    obj = {k: ember.from_numpy(v.copy()) for k, v in arrays.items()}
    obj["strided"] = ember.from_numpy(arrays["f32"].copy()).t()[1:]
    obj["bf16"] = ember.from_numpy(arrays["f32"].copy()).to(ember.bfloat16)
    obj["meta"] = {"epoch": 3, "name": "run", "lrs": [0.1, 0.01]}
    ember.save(obj, tmp_path / "e.pt")
    loaded = torch.load(tmp_path / "e.pt")
    for k, v in arrays.items():
        assert_same(obj[k], loaded[k])
    assert_same(obj["strided"], loaded["strided"])
    assert loaded["bf16"].dtype == torch.bfloat16
    np.testing.assert_array_equal(obj["bf16"].float().numpy(), loaded["bf16"].float().numpy())
    assert loaded["meta"] == obj["meta"]


def test_torch_checkpoint_loads_in_ember(tmp_path):
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(tm.parameters(), lr=0.01)
    tm(torch.randn(5, 3)).sum().backward()
    opt.step()
    base = torch.arange(10.0)
    torch.save({"model": tm.state_dict(), "opt": opt.state_dict(), "view": base[2:8:2],
                "param": torch.nn.Parameter(torch.ones(2)), "step": 7}, tmp_path / "t.pt")
    ck = ember.load(tmp_path / "t.pt")
    em = enn.Sequential(enn.Linear(3, 4), enn.BatchNorm1d(4), enn.Linear(4, 2))
    result = em.load_state_dict(ck["model"])
    assert not result.missing_keys and not result.unexpected_keys
    x = rng.standard_normal((6, 3)).astype(np.float32)
    tm.eval(), em.eval()
    assert_same(em(ember.from_numpy(x)), tm(torch.from_numpy(x)).detach())
    assert isinstance(ck["model"], collections.OrderedDict)
    assert ck["opt"]["param_groups"][0]["lr"] == 0.01
    assert_same(ck["opt"]["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert ck["view"].tolist() == [2.0, 4.0, 6.0]
    assert isinstance(ck["param"], enn.Parameter) and ck["param"].requires_grad
    assert ck["step"] == 7


def test_round_trip_keeps_types_and_flags(tmp_path):
    p = enn.Parameter(ember.randn(3))
    t = ember.randn(2, requires_grad=True)
    y = t * 2
    ember.save([p, t, y, (1, "a")], tmp_path / "r.pt")
    p2, t2, y2, rest = ember.load(tmp_path / "r.pt")
    assert isinstance(p2, enn.Parameter) and p2.requires_grad
    assert t2.requires_grad and t2.is_leaf and y2.requires_grad and y2.is_leaf
    np.testing.assert_array_equal(y2.detach().numpy(), y.detach().numpy())
    assert rest == (1, "a")


def test_weights_only(tmp_path):
    model = enn.Sequential(enn.Linear(2, 3), enn.ReLU())
    ember.save(model, tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(tmp_path / "m.pt")
    again = ember.load(tmp_path / "m.pt", weights_only=False)
    assert str(again) == str(model)
    assert_same(again[0].weight, torch.from_numpy(model[0].weight.detach().numpy()))


def test_failed_save_leaves_old_file(tmp_path):
    path = tmp_path / "keep.pt"
    ember.save({"a": ember.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(Exception):
        ember.save({"bad": lambda: 0}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pt"]


def test_file_objects(tmp_path):
    import io
    buf = io.BytesIO()
    ember.save(ember.arange(4), buf)
    buf.seek(0)
    assert ember.load(buf).tolist() == [0, 1, 2, 3]
    buf.seek(0)
    assert torch.load(buf).tolist() == [0, 1, 2, 3]
