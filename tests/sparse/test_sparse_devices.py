"""Sparse tensors on every device (``devices.TABLE_DEVICES``): the CPU, CUDA where CuPy sees a GPU (cuSPARSE through
``cupyx.scipy.sparse``), and the tests' tagged NumPy backend ``privateuseone``.

Each test builds its tensors on the device, compares values and gradients with PyTorch on the CPU, and checks that
every result (each index and value array of a sparse one) is on the device: on ``privateuseone`` an array that
fell back to plain NumPy fails.  There ``repeat`` refuses an array of counts, ``concatenate`` a Python list and
``bincount`` an empty array, as CuPy's do, so the code paths CUDA takes are checked here on the CPU.  ``make test-cuda`` runs the ``cuda`` ids.
"""
import io

import numpy as np
import pytest
import torch

import array_backend
import ember
from array_backend import TaggedArray, assert_on_device
from devices import TABLE_DEVICES
from ember.ops import sparse_tensor
from sparse_helpers import dense, random_coo


@pytest.fixture(params=TABLE_DEVICES)
def device(request, monkeypatch):
    """A device to build sparse tensors on; on the tagged test device NumPy's calls CuPy lacks are refused."""
    if request.param == array_backend.DEVICE:
        tagged = array_backend.tagged
        repeat, concatenate, bincount = tagged.repeat, tagged.concatenate, tagged.bincount

        def cupy_repeat(a, repeats, axis=None):
            if isinstance(repeats, np.ndarray):
                raise ValueError("cupy.ndaray cannot be specified as `repeats` argument.")
            return repeat(a, repeats, axis)

        def cupy_concatenate(arrays, *args, **kwargs):
            if any(not isinstance(a, np.ndarray) for a in arrays):
                raise TypeError("Only cupy arrays can be concatenated")
            return concatenate(arrays, *args, **kwargs)

        def cupy_bincount(x, weights=None, minlength=None):
            if not x.size:   # CuPy's takes the maximum of x first
                raise ValueError("zero-size array to reduction operation maximum which has no identity")
            return bincount(x, weights, minlength)

        monkeypatch.setattr(tagged, "repeat", cupy_repeat)
        monkeypatch.setattr(tagged, "concatenate", cupy_concatenate)
        monkeypatch.setattr(tagged, "bincount", cupy_bincount)
    return request.param


def on_device(value, device, where="result"):
    """Assert ``value`` (a tensor of any layout, or nested lists of them) is on ``device``; on the tagged device,
    that every array of it is tagged."""
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            on_device(v, device, f"{where}[{i}]")
        return
    if not (isinstance(value, ember.Tensor) and value._sparse):
        assert_on_device(value, device, where)
        return
    assert value.device.type == ember.device(device).type, f"{where} is on {value.device}, expected {device}"
    s = value._data
    if device == array_backend.DEVICE:
        for name in ("values", "indices", "compressed", "plain"):
            part = getattr(s, name)
            assert part is None or type(part) is TaggedArray, f"{where}.{name} fell back to {type(part).__name__}"


def coo(device, indices, values, size, dtype="float64", requires_grad=False):
    """The same COO tensor in ember on ``device`` (indices and values built there) and in PyTorch on the CPU."""
    v = np.asarray(values, dtype=dtype)
    e = ember.sparse_coo_tensor(ember.tensor(np.asarray(indices), device=device), ember.tensor(v, device=device),
                                size, requires_grad=requires_grad)
    t = torch.sparse_coo_tensor(torch.tensor(np.asarray(indices)), torch.tensor(v), size,
                                requires_grad=requires_grad)
    return e, t


def leaf(device, a):
    """A dense leaf requiring grad on ``device`` and its PyTorch twin."""
    return ember.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)


def same(e, t, rtol=1e-7, atol=1e-9):
    assert str(e.layout) == str(t.layout) and tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    np.testing.assert_allclose(dense(e), dense(t), rtol=rtol, atol=atol)


DUP = ([[2, 0, 1, 0, 2], [1, 3, 0, 3, 1]], [1.0, 2.0, 3.0, 4.0, 5.0], (3, 4))   # unsorted, with duplicates


# ---------------------------------------------------------------------------- construction and layouts
def test_construction_and_coalesce(device):
    e, t = coo(device, *DUP)
    ec, tc = e.coalesce(), t.coalesce()
    on_device([e, ec, ec.indices(), ec.values(), e.to_dense()], device)
    assert not e.is_coalesced() and ec.is_coalesced() and ec._nnz() == tc._nnz() == 3
    np.testing.assert_array_equal(ec.indices().cpu().numpy(), tc.indices().numpy())
    np.testing.assert_array_equal(ec.values().cpu().numpy(), tc.values().numpy())
    same(e, t)
    # lists build on the device named; a hybrid tensor and a 3-D one coalesce through the generic path
    h = ember.sparse_coo_tensor([[1, 0, 1]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (2, 2), device=device)
    th = torch.sparse_coo_tensor([[1, 0, 1]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (2, 2))
    rng = np.random.default_rng(0)
    i3, v3 = random_coo(rng, (3, 4, 5), 30, duplicates=True)
    e3, t3 = coo(device, i3, v3, (3, 4, 5))
    flags = ember.sparse_coo_tensor([[0, 0, 2]], ember.tensor([True, False, True], device=device), (3,))
    tflags = torch.sparse_coo_tensor([[0, 0, 2]], torch.tensor([True, False, True]), (3,))
    for a, b in ((h, th), (e3, t3), (flags, tflags)):
        ac, bc = a.coalesce(), b.coalesce()
        on_device(ac, device)
        assert ac._nnz() == bc._nnz()
        np.testing.assert_array_equal(ac.indices().cpu().numpy(), bc.indices().numpy())
        np.testing.assert_array_equal(ac.values().cpu().numpy(), bc.values().numpy())


def test_layout_conversions(device):
    a = np.array([[0, 1.5, 0, 2], [0, 0, 0, 0], [3, 0, -1, 0]])
    x, tx = ember.tensor(a, device=device), torch.tensor(a)
    for conv in ("to_sparse", "to_sparse_csr", "to_sparse_csc"):
        s, ts = getattr(x, conv)(), getattr(tx, conv)()
        on_device([s, s.to_dense()], device, conv)
        same(s, ts)
        back = s.to_sparse_coo().coalesce()
        on_device(back, device, conv + " -> coo")
        np.testing.assert_array_equal(back.indices().cpu().numpy(), ts.to_sparse_coo().coalesce().indices().numpy())
    csr, tcsr = x.to_sparse_csr(), tx.to_sparse_csr()
    on_device([csr.crow_indices(), csr.col_indices()], device)
    np.testing.assert_array_equal(csr.crow_indices().cpu().numpy(), tcsr.crow_indices().numpy())
    built = ember.sparse_csr_tensor(csr.crow_indices(), csr.col_indices(), csr.values(), (3, 4))
    on_device(built, device)
    same(built, tcsr)
    h = x.to_sparse(1)   # hybrid: one sparse dim, rows as values
    on_device(h, device)
    same(h, tx.to_sparse(1))


def test_empty_and_one_row_tensors(device):
    for a in (np.zeros((2, 3)), np.array([[0.0, 2.0, 0.0]]), np.zeros((0, 3))):
        x, tx = ember.tensor(a, device=device), torch.tensor(a)
        w = np.ones((3, 2))
        for conv in ("to_sparse", "to_sparse_csr", "to_sparse_csc"):
            s, ts = getattr(x, conv)(), getattr(tx, conv)()
            coo_back, product = s.to_sparse_coo().coalesce(), s @ ember.tensor(w, device=device)
            on_device([s, coo_back, product], device, conv)
            same(s, ts)
            assert coo_back._nnz() == ts.to_sparse_coo().coalesce()._nnz()
            np.testing.assert_array_equal(product.cpu().numpy(), (ts @ torch.tensor(w)).numpy())


def test_indices_on_another_device_are_refused():
    """PyTorch's error when indices and values lie on different devices (checked on the tagged device)."""
    values = ember.tensor([1.0, 2.0], device=array_backend.DEVICE)
    with pytest.raises(RuntimeError, match=r"device of indices \(cpu\) must match device of values"):
        ember.sparse_coo_tensor(ember.tensor([[0, 1]]), values, (2,))
    moved = ember.sparse_coo_tensor(ember.tensor([[0, 1]]), ember.tensor([1.0, 2.0]), (2,),
                                    device=array_backend.DEVICE)
    on_device(moved, array_backend.DEVICE)


# ---------------------------------------------------------------------------- elementwise math and reductions
def test_sums_products_and_value_functions(device):
    e, t = coo(device, *DUP, requires_grad=True)
    f, u = coo(device, [[0, 2, 1], [3, 1, 1]], [0.5, -2.0, 4.0], (3, 4), requires_grad=True)
    d, td = leaf(device, np.arange(12.0).reshape(3, 4))
    results = [(e + f, t + u), (e - 2 * f, t - 2 * u), (e * f, t * u), (e * d, t * td), (d + e, td + t),
               (e * 3, t * 3), (e.coalesce().square(), t.coalesce().square()), (-e, -t)]
    for i, (r, tr) in enumerate(results):
        on_device(r, device, f"result {i}")
        same(r, tr)
    total = sum((ember.sparse.sum(r) if r.is_sparse else r.sum()) for r, _ in results)
    ttotal = sum((torch.sparse.sum(tr) if tr.is_sparse else tr.sum()) for _, tr in results)
    total.backward()
    ttotal.backward()
    on_device([e.grad, f.grad, d.grad], device, "gradient")
    np.testing.assert_allclose(dense(d.grad), dense(td.grad))
    for g, tg, pattern in ((e.grad, t.grad, t), (f.grad, u.grad, u)):   # PyTorch's is dense over the pattern
        np.testing.assert_allclose(dense(g), dense(tg.sparse_mask(pattern.detach().coalesce())), rtol=1e-7)


def test_sparse_sum_and_softmax(device):
    rng = np.random.default_rng(1)
    i, v = random_coo(rng, (4, 5), 11)
    e, t = coo(device, i, v, (4, 5), requires_grad=True)
    w = rng.standard_normal((4, 5))
    outs = [(ember.sparse.sum(e, 1), torch.sparse.sum(t, 1)), (ember.sparse.sum(e, 0), torch.sparse.sum(t, 0)),
            (ember.sparse.softmax(e, 1), torch.sparse.softmax(t, 1)),
            (ember.sparse.log_softmax(e, 0), torch.sparse.log_softmax(t, 0))]
    loss, tloss = ember.sparse.sum(e), torch.sparse.sum(t)
    for r, tr in outs:
        on_device(r, device)
        same(r, tr)
        weight = w.ravel()[:r.shape[0]] if r.ndim == 1 else w
        loss = loss + (r.to_dense() * ember.tensor(weight, device=device)).sum()
        tloss = tloss + (tr.to_dense() * torch.tensor(weight)).sum()
    on_device(loss, device)
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
    loss.backward()
    tloss.backward()
    on_device(e.grad, device, "gradient")
    np.testing.assert_allclose(dense(e.grad), dense(t.grad), rtol=1e-7, atol=1e-12)


def test_index_ops(device):
    e, t = coo(device, *DUP)
    idx = ember.tensor([2, 0, 2], device=device)
    for r, tr in ((e.index_select(0, idx), t.index_select(0, torch.tensor([2, 0, 2]))),
                  (e.index_select(1, idx), t.index_select(1, torch.tensor([2, 0, 2]))),
                  (e.narrow_copy(1, 1, 2), t.narrow_copy(1, 1, 2)), (e.t(), t.t()),
                  (e.to_sparse_csr().t(), t.to_sparse_csr().t())):
        on_device(r, device)
        same(r, tr)


# ---------------------------------------------------------------------------- products
@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_mm_gradients_into_dense_and_values(device, layout):
    rng = np.random.default_rng(2)
    i, v = random_coo(rng, (5, 4), 9)
    e, t = coo(device, i, v, (5, 4), requires_grad=True)
    x, tx = leaf(device, rng.standard_normal((4, 3)))
    y, ty = leaf(device, rng.standard_normal((2, 5)))
    bias, tbias = leaf(device, rng.standard_normal((5, 3)))
    s, ts = (e, t) if layout == "coo" else (e.to_sparse_csr(), t.to_sparse_csr())
    outs = [(ember.sparse.mm(s, x), torch.sparse.mm(ts, tx)), (ember.spmm(s, x), torch.spmm(ts, tx)),
            (s @ x, ts @ tx), (y @ s, ty @ ts), (ember.addmm(bias, s, x, beta=0.5, alpha=2.0),
                                                 torch.addmm(tbias, ts, tx, beta=0.5, alpha=2.0)),
            (s @ x[:, 0], ts @ tx[:, 0])]
    for k, (r, tr) in enumerate(outs):
        on_device(r, device, f"product {k}")
        np.testing.assert_allclose(r.detach().cpu().numpy(), tr.detach().numpy(), rtol=1e-10)
    sum(r.pow(2).sum() for r, _ in outs).backward()
    sum(tr.pow(2).sum() for _, tr in outs).backward()
    on_device([e.grad, x.grad, y.grad, bias.grad], device, "gradient")
    for g, tg in ((x.grad, tx.grad), (y.grad, ty.grad), (bias.grad, tbias.grad)):
        np.testing.assert_allclose(g.cpu().numpy(), tg.numpy(), rtol=1e-10)
    assert e.grad.is_sparse and e.grad.coalesce()._nnz() == i.shape[1]   # sampled over the pattern only
    expected = t.grad.sparse_mask(t.detach().coalesce())   # PyTorch's has entries off the pattern too
    np.testing.assert_allclose(dense(e.grad), dense(expected), rtol=1e-10)


def test_sparse_sparse_product_and_sampled_addmm(device):
    rng = np.random.default_rng(3)
    a, ta = coo(device, *random_coo(rng, (4, 5), 8), (4, 5), requires_grad=True)
    b, tb = coo(device, *random_coo(rng, (5, 3), 7), (5, 3), requires_grad=True)
    p, tp = ember.sparse.mm(a, b), torch.sparse.mm(ta, tb)
    on_device(p, device)
    same(p, tp)
    ember.sparse.sum(p * p).backward()
    torch.sparse.sum(tp * tp).backward()
    on_device([a.grad, b.grad], device, "gradient")
    for g, tg, pattern in ((a.grad, ta.grad, ta), (b.grad, tb.grad, tb)):
        np.testing.assert_allclose(dense(g), dense(tg.sparse_mask(pattern.detach().coalesce())), rtol=1e-10)
    mask = np.array([[1.0, 0, 2], [0, 0, 3], [4, 0, 0]])
    m1, tm1 = leaf(device, rng.standard_normal((3, 2)))
    m2, tm2 = leaf(device, rng.standard_normal((2, 3)))
    r = ember.sparse.sampled_addmm(ember.tensor(mask, device=device).to_sparse_csr(), m1, m2, beta=0.5, alpha=2.0)
    tr = torch.sparse.sampled_addmm(torch.tensor(mask).to_sparse_csr(), tm1, tm2, beta=0.5, alpha=2.0)
    on_device(r, device)
    same(r, tr)
    r.values().sum().backward()
    tr.values().sum().backward()
    on_device([m1.grad, m2.grad], device, "gradient")
    np.testing.assert_allclose(m1.grad.cpu().numpy(), tm1.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(m2.grad.cpu().numpy(), tm2.grad.numpy(), rtol=1e-10)


def test_batched_and_hybrid_products(device):
    rng = np.random.default_rng(6)
    i, v = random_coo(rng, (2, 3, 4), 10)
    b3, tb3 = coo(device, i, v, (2, 3, 4), requires_grad=True)
    x, tx = leaf(device, rng.standard_normal((2, 4, 5)))
    a, ta = coo(device, [[2, 0, 2], [1, 3, 0]], [1.0, 2.0, 3.0], (3, 4))
    y, ty = leaf(device, rng.standard_normal((4, 2)))
    r, tr = b3.bmm(x), tb3.bmm(tx)
    h, th = ember.hspmm(a, y), torch.hspmm(ta, ty)
    on_device([r, h], device)
    np.testing.assert_allclose(r.detach().cpu().numpy(), tr.detach().numpy(), rtol=1e-10)
    same(h, th)
    (r.sum() + ember.sparse.sum(h)).backward()
    (tr.sum() + (ta @ ty).sum()).backward()   # PyTorch has no hspmm derivative; its values sum to the product's
    on_device([x.grad, y.grad, b3.grad], device, "gradient")
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(y.grad.cpu().numpy(), ty.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dense(b3.grad), dense(tb3.grad.sparse_mask(tb3.detach().coalesce())), rtol=1e-10)


def test_products_refuse_dtypes_the_library_lacks(monkeypatch):
    """A backend whose sparse library has no integer kernels (cuSPARSE) raises a clear error instead of its
    library's (checked by giving SciPy cuSPARSE's dtype list)."""
    monkeypatch.setitem(sparse_tensor._LIBRARY_DTYPES, "scipy.sparse", "fdFD")
    s = ember.tensor([[1, 0], [0, 2]]).to_sparse()
    with pytest.raises(RuntimeError, match="support floating and complex values, not int64"):
        ember.sparse.mm(s, ember.ones(2, 2, dtype=ember.int64))
    assert ember.tensor([[1, 0], [2, 2]]).to_sparse().coalesce()._nnz() == 3   # coalescing takes another path


def test_segment_ids_equal_numpys_repeat():
    rng = np.random.default_rng(4)
    for counts in (rng.integers(0, 4, 50), np.zeros(3, np.int64), np.array([0, 0, 5]), np.zeros(0, np.int64)):
        np.testing.assert_array_equal(sparse_tensor.segment_ids(np, counts), np.repeat(np.arange(counts.size), counts))


# ---------------------------------------------------------------------------- moves, nn and optim, checkpoints, printing
def test_moves_between_devices_carry_gradients(device):
    e, t = coo("cpu", *DUP, requires_grad=True)
    moved = e.to(device)
    on_device(moved, device)
    assert moved.to(moved.device) is moved and (device == "cpu") == (moved is e)
    back = (moved * 2).to("cpu")
    on_device(back, "cpu")
    csr = e.detach().to_sparse_csr().to(device, ember.float32)
    on_device(csr, device)
    assert csr.dtype == ember.float32 and str(csr.layout) == "torch.sparse_csr"
    ember.sparse.sum(back).backward()
    torch.sparse.sum(t * 2).backward()
    on_device(e.grad, "cpu", "gradient")
    np.testing.assert_allclose(dense(e.grad), dense(t.grad))


def test_embedding_sparse_adam_trajectory(device):
    """Embedding(sparse=True) + SparseAdam on the device: the parameters PyTorch's CPU run reaches."""
    rng = np.random.default_rng(5)
    e = ember.nn.Embedding(10, 3, sparse=True)
    t = torch.nn.Embedding(10, 3, sparse=True)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(e.weight.detach().numpy()))
    e.to(device)
    oe, ot = ember.optim.SparseAdam(e.parameters(), lr=0.05), torch.optim.SparseAdam(t.parameters(), lr=0.05)
    for _ in range(4):
        batch = rng.integers(0, 10, (4, 3))
        target = rng.standard_normal((4, 3, 3)).astype(np.float32)
        for emb, opt, lib, dev in ((e, oe, ember, {"device": device}), (t, ot, torch, {})):
            opt.zero_grad()
            ((emb(lib.tensor(batch, **dev)) - lib.tensor(target, **dev)) ** 2).mean().backward()
            opt.step()
    on_device([e.weight, e.weight.grad, oe.state[e.weight]["exp_avg"]], device)
    np.testing.assert_allclose(e.weight.detach().cpu().numpy(), t.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_checkpoint_of_a_device_tensor_loads_in_pytorch(device, layout):
    """A device sparse tensor saves as PyTorch's does (its index and value storages tagged with the device,
    the bytes fetched through the backend); PyTorch reads it onto the CPU, and ember reads it back (onto the
    device it came from; the tagged test device has no restore function, as in PyTorch, so it goes through
    the CPU)."""
    e, t = coo(device, *DUP)
    e, t = (e.coalesce(), t.coalesce()) if layout == "coo" else (e.to_sparse_csr(), t.to_sparse_csr())
    buf = io.BytesIO()
    ember.save({"adj": e}, buf)
    loaded = torch.load(io.BytesIO(buf.getvalue()), map_location="cpu", weights_only=True)["adj"]
    same(e, loaded)
    restore = {"map_location": "cpu"} if device == array_backend.DEVICE else {}
    back = ember.load(io.BytesIO(buf.getvalue()), weights_only=True, **restore)["adj"].to(device)
    on_device(back, device)
    same(back, t)


def test_printing_names_the_device(device):
    e, _ = coo(device, [[0, 1], [1, 0]], [1.0, 2.0], (2, 2), dtype="float32")
    cpu = repr(e.cpu())
    text = repr(e)
    if device == "cpu":
        assert text == cpu and "device=" not in text
    else:
        assert text == cpu.replace("size=(2, 2)", f"device='{e.device}', size=(2, 2)")
