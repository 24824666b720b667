"""Dataset classes and random_split against torch."""
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as T

import ember
import ember.utils.data as E


def errors_match(make_e, make_t):
    with pytest.raises(Exception) as te:
        make_t()
    with pytest.raises(type(te.value)) as ee:
        make_e()
    assert str(ee.value) == str(te.value)


class ListDS(E.Dataset):
    def __init__(self, items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class TListDS(T.Dataset):
    def __init__(self, items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class Stream(E.IterableDataset):
    def __init__(self, items):
        self.items = list(items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


class TStream(T.IterableDataset):
    def __iter__(self):
        return iter([1])


def test_dataset_base():
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__"):
        E.Dataset()[0]
    both = ListDS([1, 2]) + ListDS([3])
    assert isinstance(both, E.ConcatDataset) and list(both) == [1, 2, 3]
    chained = Stream([1]) + Stream([2, 3])
    assert isinstance(chained, E.ChainDataset) and list(chained) == [1, 2, 3]


def test_tensor_dataset():
    x = ember.from_numpy(np.arange(12, dtype=np.float32).reshape(6, 2))
    y = ember.from_numpy(np.arange(6))
    ds = E.TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8.0, 9.0] and b.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        E.TensorDataset(x, ember.from_numpy(np.arange(5)))


def test_tensor_dataset_loader_matches_torch():
    xs = np.random.default_rng(0).random((10, 3)).astype(np.float32)
    ys = np.arange(10)
    e = list(E.DataLoader(E.TensorDataset(ember.from_numpy(xs), ember.from_numpy(ys)), batch_size=4))
    t = list(T.DataLoader(T.TensorDataset(torch.from_numpy(xs), torch.from_numpy(ys)), batch_size=4))
    assert len(e) == len(t) == 3
    for (ex, ey), (tx, ty) in zip(e, t):
        np.testing.assert_array_equal(ex.numpy(), tx.numpy())
        np.testing.assert_array_equal(ey.numpy(), ty.numpy())
        assert str(ex.dtype) == str(tx.dtype) and str(ey.dtype) == str(ty.dtype)
    with pytest.raises(IndexError):
        list(E.DataLoader(E.TensorDataset(ember.from_numpy(xs)), sampler=[[20]], batch_size=None))


def test_concat_dataset():
    parts = [list(range(3)), list(range(10, 12)), list(range(20, 24))]
    e = E.ConcatDataset([ListDS(p) for p in parts])
    t = T.ConcatDataset([TListDS(p) for p in parts])
    assert len(e) == len(t) == 9
    assert e.cumulative_sizes == t.cumulative_sizes
    assert [e[i] for i in range(-9, 9)] == [t[i] for i in range(-9, 9)]
    errors_match(lambda: e[-10], lambda: t[-10])
    errors_match(lambda: E.ConcatDataset([]), lambda: T.ConcatDataset([]))
    errors_match(lambda: E.ConcatDataset([Stream([1])]), lambda: T.ConcatDataset([TStream()]))
    with pytest.warns(FutureWarning):
        assert e.cummulative_sizes == [3, 5, 9]


def test_chain_dataset():
    c = E.ChainDataset([Stream([1, 2]), Stream([3])])
    assert list(c) == [1, 2, 3] and len(c) == 3
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(E.ChainDataset([ListDS([1])]))


def test_stack_dataset():
    a, b = ListDS([1, 2, 3]), ListDS(["x", "y", "z"])
    s = E.StackDataset(a, b)
    assert s[1] == (2, "y") and len(s) == 3
    assert s.__getitems__([0, 2]) == [(1, "x"), (3, "z")]
    d = E.StackDataset(num=a, letter=b)
    assert d[2] == {"num": 3, "letter": "z"}
    assert d.__getitems__([1]) == [{"num": 2, "letter": "y"}]
    errors_match(lambda: E.StackDataset(), lambda: T.StackDataset())
    errors_match(lambda: E.StackDataset(a, ListDS([1])), lambda: T.StackDataset(TListDS([1, 2, 3]), TListDS([1])))
    errors_match(lambda: E.StackDataset(a, x=b), lambda: T.StackDataset(TListDS([1]), x=TListDS([1])))

    class Short(ListDS):
        def __getitems__(self, idx):
            return [0]

    errors_match(lambda: E.StackDataset(Short([1, 2])).__getitems__([0, 1]),
                 lambda: T.StackDataset(type("S", (TListDS,), {"__getitems__": lambda s, i: [0]})([1, 2]))
                 .__getitems__([0, 1]))
    loader = E.DataLoader(E.StackDataset(a, a), batch_size=2)
    assert [[t.tolist() for t in b] for b in loader] == [[[1, 2], [1, 2]], [[3], [3]]]


def test_subset():
    base = ListDS(range(10, 20))
    s = E.Subset(base, [9, 0, 4])
    assert len(s) == 3 and [s[i] for i in range(3)] == [19, 10, 14]
    assert s.__getitems__([2, 0]) == [14, 19]

    class Bad(E.Subset):
        def __getitem__(self, i):
            return 0

    ember_bad = Bad

    class Bad(T.Subset):  # same class name as the ember one, so the messages are comparable
        def __getitem__(self, i):
            return 0

    errors_match(lambda: ember_bad(base, [0]), lambda: Bad(TListDS([1]), [0]))


@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (30, [0.3, 0.3, 0.4]), (10, [0.33, 0.33, 0.34]),
                                       (7, [0.5, 0.5]), (5, [1.0]), (11, [0.1, 0.9])])
def test_random_split_sizes_match_torch(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = E.random_split(ListDS(range(n)), lengths, generator=ember.Generator().manual_seed(0))
        t = T.random_split(TListDS(range(n)), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in e] == [len(p) for p in t]
    everything = sorted(x for p in e for x in (p[i] for i in range(len(p))))
    assert everything == list(range(n))


def test_random_split_warns_and_errors():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        E.random_split(ListDS(range(2)), [1.0, 0.0])
    errors_match(lambda: E.random_split(ListDS(range(5)), [2, 2]), lambda: T.random_split(TListDS(range(5)), [2, 2]))
    errors_match(lambda: E.random_split(ListDS(range(5)), [1.2, -0.2]),
                 lambda: T.random_split(TListDS(range(5)), [1.2, -0.2]))


def test_random_split_reproducible():
    ds = ListDS(range(50))
    a = E.random_split(ds, [20, 30], generator=ember.Generator().manual_seed(42))
    b = E.random_split(ds, [20, 30], generator=ember.Generator().manual_seed(42))
    assert a[0].indices == b[0].indices
    ember.manual_seed(1)
    c = E.random_split(ds, [25, 25])
    ember.manual_seed(1)
    d = E.random_split(ds, [25, 25])
    assert c[1].indices == d[1].indices
