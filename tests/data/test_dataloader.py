"""DataLoader against torch: lengths, argument errors, batches, IterableDataset sharding, warnings."""
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as T

import ember
import ember.utils.data as E
from data_helpers import PidDataset, make_classes

EC, TC = make_classes(ember), make_classes(torch)


def as_np(x):
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return x.numpy()
    if isinstance(x, dict):
        return {k: as_np(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(as_np(v) for v in x) if not hasattr(x, "_fields") else type(x)(*map(as_np, x))
    return x


def assert_batches_equal(e_batches, t_batches):
    assert len(e_batches) == len(t_batches)
    for eb, tb in zip(e_batches, t_batches):
        _eq(eb, tb)


def _eq(e, t):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor)
        assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for k in t:
            _eq(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            _eq(a, b)
    else:
        assert e == t


# ---- len ---------------------------------------------------------------------------------------

LEN_CASES = [
    dict(),
    dict(batch_size=3),
    dict(batch_size=3, drop_last=True),
    dict(batch_size=4, drop_last=True),
    dict(batch_size=7, shuffle=True),
    dict(batch_size=None),
    dict(batch_size=6, sampler=list(range(0, 20, 2))),
    dict(batch_sampler=[[0, 1], [2], [3, 4, 5]]),
    dict(batch_size=50),
    dict(batch_size=50, drop_last=True),
]


@pytest.mark.parametrize("kwargs", LEN_CASES, ids=str)
def test_len_map_style_matches_torch(kwargs):
    e = E.DataLoader(EC["Squares"](20), **kwargs)
    t = T.DataLoader(TC["Squares"](20), **kwargs)
    assert len(e) == len(t)
    assert len(list(e)) == len(list(t)) == len(e)


@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None)], ids=str)
def test_len_iterable_matches_torch(kwargs):
    e = E.DataLoader(EC["Range"](0, 10), **kwargs)
    t = T.DataLoader(TC["Range"](0, 10), **kwargs)
    assert len(e) == len(t)
    assert_batches_equal(list(e), list(t))


# ---- argument conflicts ------------------------------------------------------------------------

class _Ctx:
    pass


CONFLICTS = [
    ("map", dict(num_workers=-1)),
    ("map", dict(timeout=-1)),
    ("map", dict(prefetch_factor=2)),
    ("map", dict(num_workers=1, prefetch_factor=-1)),
    ("map", dict(persistent_workers=True)),
    ("iter", dict(shuffle=True)),
    ("iter", dict(sampler=[0, 1])),
    ("iter", dict(batch_sampler=[[0, 1]])),
    ("map", dict(sampler=[0, 1], shuffle=True)),
    ("map", dict(batch_sampler=[[0, 1]], batch_size=2)),
    ("map", dict(batch_sampler=[[0, 1]], shuffle=True)),
    ("map", dict(batch_sampler=[[0, 1]], sampler=[0, 1])),
    ("map", dict(batch_sampler=[[0, 1]], drop_last=True)),
    ("map", dict(batch_size=None, drop_last=True)),
    ("map", dict(batch_size=0)),
    ("map", dict(batch_size=2, drop_last=1)),
    ("map", dict(num_workers=0, multiprocessing_context="fork")),
    ("map", dict(num_workers=1, multiprocessing_context="bogus")),
    ("map", dict(num_workers=1, multiprocessing_context=3)),
]


@pytest.mark.parametrize("kind,kwargs", CONFLICTS, ids=str)
def test_argument_conflicts_match_torch(kind, kwargs):
    name = "Squares" if kind == "map" else "Range"
    args = () if kind == "map" else (0, 4)
    with pytest.raises(Exception) as t_err:
        T.DataLoader(TC[name](*args), **kwargs)
    with pytest.raises(type(t_err.value)) as e_err:
        E.DataLoader(EC[name](*args), **kwargs)
    assert str(e_err.value) == str(t_err.value)


@pytest.mark.parametrize("attr", ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                  "persistent_workers"])
def test_setting_attributes_after_init(attr):
    with pytest.raises(ValueError) as t_err:
        setattr(T.DataLoader(TC["Squares"]()), attr, None)
    with pytest.raises(ValueError) as e_err:
        setattr(E.DataLoader(EC["Squares"]()), attr, None)
    assert str(e_err.value) == str(t_err.value)
    loader = E.DataLoader(EC["Squares"]())
    loader.num_workers = 0  # other attributes stay settable
    loader.collate_fn = E.default_collate


def test_timeout_without_workers_is_an_assertion_like_torch():
    with pytest.raises(AssertionError, match="requires timeout == 0"):
        iter(E.DataLoader(EC["Squares"](), timeout=1))
    with pytest.raises(AssertionError, match="requires timeout == 0"):
        iter(T.DataLoader(TC["Squares"](), timeout=1))


def test_iterator_cannot_be_pickled():
    import pickle
    with pytest.raises(NotImplementedError):
        pickle.dumps(iter(E.DataLoader(EC["Squares"]())))


def test_pin_memory_warnings_match_torch():
    def messages(mod, cls, **kw):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            next(iter(mod.DataLoader(cls(), pin_memory=True, **kw)))
        return [str(x.message) for x in w]
    assert messages(E, EC["Squares"]) == messages(T, TC["Squares"])
    assert messages(E, EC["Squares"], pin_memory_device="cpu") == messages(T, TC["Squares"], pin_memory_device="cpu")


def test_too_many_workers_warning_matches_torch():
    import os
    n = len(os.sched_getaffinity(0)) + 1
    with pytest.warns(UserWarning) as tw:
        T.DataLoader(TC["Squares"](), num_workers=n)
    with pytest.warns(UserWarning) as ew:
        E.DataLoader(EC["Squares"](), num_workers=n)
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]


# ---- batches -----------------------------------------------------------------------------------

BATCH_CASES = [
    dict(batch_size=4),
    dict(batch_size=4, drop_last=True),
    dict(batch_size=None),
    dict(batch_size=3, sampler=[5, 1, 2, 19, 0]),
    dict(batch_sampler=[[3, 1], [2], [7, 8, 9]]),
    dict(batch_size=2, collate_fn=lambda b: [x[1] * 10 for x in b]),
]


@pytest.mark.parametrize("kwargs", BATCH_CASES, ids=lambda k: str(sorted(k)))
@pytest.mark.parametrize("workers", [0, 2])
def test_batches_match_torch(kwargs, workers):
    t = list(T.DataLoader(TC["Squares"](20), **kwargs))
    e = list(E.DataLoader(EC["Squares"](20), num_workers=workers, **kwargs))
    assert_batches_equal(e, t)


def test_dict_samples_and_writable_batches_from_workers():
    class DictDS(E.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return {"x": np.full(3, i, np.float32), "name": f"s{i}", "label": i % 3}

    batches = list(E.DataLoader(DictDS(), batch_size=4, num_workers=2))
    assert [b["name"] for b in batches] == [["s0", "s1", "s2", "s3"], ["s4", "s5", "s6", "s7"], ["s8", "s9"]]
    x = batches[1]["x"]
    assert str(x.dtype) == "torch.float32" and tuple(x.shape) == (4, 3)
    assert x.numpy()[:, 0].tolist() == [4, 5, 6, 7]
    x.numpy()[0, 0] = -1  # batches are ordinary writable memory
    assert str(batches[0]["label"].dtype) == "torch.int64"


def test_shuffle_uses_generator_and_global_seed():
    def order(**kw):
        return [b.tolist() for b in E.DataLoader(np.arange(30), batch_size=10, shuffle=True, **kw)]
    a = order(generator=ember.Generator().manual_seed(1))
    assert a == order(generator=ember.Generator().manual_seed(1))
    assert sorted(sum(a, [])) == list(range(30))
    ember.manual_seed(4)
    b = order()
    ember.manual_seed(4)
    assert b == order()
    assert order() != b  # a new epoch, a new order


def test_tensor_dataset_with_workers_and_negative_index():
    x = ember.from_numpy(np.arange(40, dtype=np.float32).reshape(20, 2))
    y = ember.from_numpy(np.arange(20))
    ds = E.TensorDataset(x, y)
    out = list(E.DataLoader(ds, batch_size=8, num_workers=2, sampler=list(range(19, -1, -1))))
    assert out[0][1].tolist() == list(range(19, 11, -1))
    neg = list(E.DataLoader(ds, batch_size=2, sampler=[-1, -2]))
    assert neg[0][1].tolist() == [19, 18]


# ---- IterableDataset -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=2), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None)], ids=str)
def test_iterable_sharded_with_workers_matches_torch(kwargs):
    t = list(T.DataLoader(TC["Range"](3, 14), num_workers=2, **kwargs))
    e = list(E.DataLoader(EC["Range"](3, 14), num_workers=2, **kwargs))
    assert_batches_equal(e, t)


def test_iterable_without_sharding_duplicates_per_worker():
    class Plain(E.IterableDataset):
        def __iter__(self):
            return iter(range(4))

    out = sorted(b.item() for b in E.DataLoader(Plain(), num_workers=2))
    assert out == [0, 0, 1, 1, 2, 2, 3, 3]


def test_iterable_worker_init_fn_sharding():
    class Span(E.IterableDataset):
        def __init__(self):
            self.lo, self.hi = 0, 9

        def __iter__(self):
            return iter(range(self.lo, self.hi))

    out = sorted(b.item() for b in E.DataLoader(Span(), num_workers=2, worker_init_fn=_shard_span))
    assert out == list(range(9))


def _shard_span(worker_id):
    info = E.get_worker_info()
    ds = info.dataset
    per = 5
    ds.lo, ds.hi = worker_id * per, min((worker_id + 1) * per, 9)


def test_iterable_len_warning_when_more_samples_than_len():
    class Liar(E.IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 3

    loader = E.DataLoader(Liar())
    assert len(loader) == 3
    with pytest.warns(UserWarning, match="was reported to be 3"):
        list(loader)


def test_get_worker_info_is_none_in_main_and_frozen_in_worker():
    assert E.get_worker_info() is None
    infos = list(E.DataLoader(_InfoDS(), num_workers=2, batch_size=None))
    # default_convert turns the tuple samples into lists, as in torch
    assert sorted(infos) == [[0, 2, "multiprocessing", True], [1, 2, "multiprocessing", True]]


class _InfoDS(E.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        info = E.get_worker_info()
        try:
            info.id = 5
            frozen = False
        except AttributeError:
            frozen = True
        return (info.id, info.num_workers, info.worker_method, frozen)


def test_workers_read_their_own_dataset_copy():
    out = list(E.DataLoader(PidDataset(8), batch_size=2, num_workers=2))
    pids = {p for _, batch_pids in out for p in batch_pids.tolist()}
    import os
    assert len(pids) == 2 and os.getpid() not in pids
    assert sum((b[0].tolist() for b in out), []) == list(range(8))
