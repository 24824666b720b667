"""Views share memory and the version counter with their base exactly where torch's do."""
import numpy as np
import pytest
import torch

import ember


def ver(t):
    """The version counter's value: torch's ``t._version``; ember keeps the shared counter cell in
    ``_version`` and its value in ``_version_count``."""
    return t._version if isinstance(t, torch.Tensor) else t._version_count
from parity import assert_same, check_raises

A = np.arange(24, dtype=np.float64).reshape(2, 3, 4)

# (name, fn(lib, x)) -> a result that torch makes a view for (checked: torch's ._is_view())
VIEW_OPS = [
    ("view", lambda m, x: x.view(6, 4)),
    ("view_minus1", lambda m, x: x.view(-1)),
    ("view_as", lambda m, x: x.view_as(m.zeros(4, 6))),
    ("reshape_contig", lambda m, x: x.reshape(4, 6)),
    ("flatten", lambda m, x: x.flatten()),
    ("flatten_partial", lambda m, x: x.flatten(1)),
    ("unflatten", lambda m, x: x.unflatten(2, (2, 2))),
    ("squeeze", lambda m, x: x.unsqueeze(0).squeeze()),
    ("squeeze_dim", lambda m, x: x.unsqueeze(1).squeeze(1)),
    ("unsqueeze", lambda m, x: x.unsqueeze(-1)),
    ("transpose", lambda m, x: x.transpose(0, 2)),
    ("swapaxes", lambda m, x: x.swapaxes(1, 2)),
    ("t", lambda m, x: x[0].t()),
    ("permute", lambda m, x: x.permute(2, 0, 1)),
    ("movedim", lambda m, x: x.movedim(0, -1)),
    ("expand", lambda m, x: x[:, :1].expand(2, 5, 4)),
    ("expand_as", lambda m, x: x[:1].expand_as(x)),
    ("narrow", lambda m, x: x.narrow(2, 1, 2)),
    ("select", lambda m, x: x.select(1, 2)),
    ("unbind", lambda m, x: x.unbind(1)[1]),
    ("split", lambda m, x: x.split(2, dim=2)[1]),
    ("split_sizes", lambda m, x: x.split([1, 3], dim=2)[1]),
    ("chunk", lambda m, x: x.chunk(3, dim=1)[2]),
    ("diagonal", lambda m, x: x.diagonal(0, 1, 2)),
    ("diagonal_offset", lambda m, x: x.diagonal(1, 1, 2)),
    ("unfold", lambda m, x: x.unfold(2, 2, 1)),
    ("slice", lambda m, x: x[:, 1:]),
    ("slice_step", lambda m, x: x[..., ::2]),
    ("int_index", lambda m, x: x[1]),
    ("int_slice_mix", lambda m, x: x[1, :, 2:]),
    ("none_ellipsis", lambda m, x: x[None, ..., 1]),
    ("T", lambda m, x: x[0].T),
    ("mT", lambda m, x: x.mT),
    ("detach", lambda m, x: x.detach()),
    ("real_view_alias", lambda m, x: x[...]),
]

# results that torch copies (not views)
COPY_OPS = [
    ("reshape_noncontig", lambda m, x: x.transpose(0, 1).reshape(-1)),
    ("flatten_noncontig", lambda m, x: x.transpose(0, 2).flatten()),
    ("int_list", lambda m, x: x[[0, 1]]),
    ("int_tensor", lambda m, x: x[:, m.tensor([0, 2])]),
    ("bool_mask", lambda m, x: x[x > 5]),
    ("clone", lambda m, x: x.clone()),
    ("contiguous_noncontig", lambda m, x: x.t().contiguous() if x.dim() == 2 else x.transpose(0, 1).contiguous()),
    ("index_select", lambda m, x: x.index_select(1, m.tensor([0, 2]))),
]


def pair():
    return ember.from_numpy(A.copy()), torch.from_numpy(A.copy())


@pytest.mark.parametrize("name,fn", VIEW_OPS, ids=[n for n, _ in VIEW_OPS])
def test_view_shares_memory_and_version(name, fn):
    e, t = pair()
    ve, vt = fn(ember, e), fn(torch, t)
    assert vt._is_view() or name == "detach"
    assert_same(ve, vt)
    assert ve.stride() == vt.stride() and ve.storage_offset() == vt.storage_offset()
    if ve.numel() == 0:
        return
    # writing through the base shows in the view
    e.add_(1)
    t.add_(1)
    assert_same(ve, vt)
    assert ver(ve) == ver(vt) == ver(e) == ver(t) == 1
    # writing through the view shows in the base (expand has overlapping memory: torch refuses in-place writes)
    if name not in ("expand", "expand_as", "unfold"):
        ve.mul_(2)
        vt.mul_(2)
        assert_same(e, t)
        assert ver(e) == ver(t) == ver(ve) == ver(vt) == 2
        ve[(0,) * ve.dim()] = -1
        vt[(0,) * vt.dim()] = -1
        assert_same(e, t)
        assert ver(e) == ver(t) == 3


@pytest.mark.parametrize("name,fn", COPY_OPS, ids=[n for n, _ in COPY_OPS])
def test_copies_do_not_share(name, fn):
    e, t = pair()
    ce, ct = fn(ember, e), fn(torch, t)
    assert not ct._is_view()
    assert_same(ce, ct)
    ce.add_(100)
    ct.add_(100)
    assert_same(e, t)
    assert ver(e) == ver(t) == 0


def test_view_requires_compatible_strides():
    e, t = pair()
    exc = check_raises(lambda: e.transpose(0, 1).view(-1), lambda: t.transpose(0, 1).view(-1))
    assert ".reshape(" in str(exc)
    assert "view size is not compatible" in str(exc)
    check_raises(lambda: e.view(5, 5), lambda: t.view(5, 5))
    check_raises(lambda: e.view(-1, -1), lambda: t.view(-1, -1))
    # views that torch allows on non-contiguous input
    assert_same(e.transpose(0, 1).view(3, 2, 2, 2), t.transpose(0, 1).view(3, 2, 2, 2))
    assert_same(e[:, :, 1:3].view(6, 2), t[:, :, 1:3].view(6, 2))


def test_version_counter_rules():
    e, t = pair()
    for op in [lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.zero_(), lambda x: x.fill_(3),
               lambda x: x.clamp_(0, 5), lambda x: x.exp_(), lambda x: x.copy_(x * 0),
               lambda x: x.__setitem__(0, 1.0), lambda x: x.__iadd__(1), lambda x: x.normal_(),
               lambda x: x.uniform_(), lambda x: x.masked_fill_(x > 0, 1.0), lambda x: x.requires_grad_(False),
               lambda x: x.detach_(), lambda x: x.abs_(), lambda x: x.sub_(1, alpha=2), lambda x: x.div_(2)]:
        op(e)
        op(t)
        assert ver(e) == ver(t)
    # out-of-place ops and reads do not bump
    (e + 1, e.sum(), e.view(-1), e[0], e.clone())
    (t + 1, t.sum(), t.view(-1), t[0], t.clone())
    assert ver(e) == ver(t)
    # data and detach share the counter
    d_e, d_t = e.detach(), t.detach()
    d_e.add_(1)
    d_t.add_(1)
    assert ver(e) == ver(t)
    e.data.add_(1)
    t.data.add_(1)
    assert ver(e) == ver(t)


def test_expand_writes_rejected():
    e = ember.ones(3, 1).expand(3, 4)
    t = torch.ones(3, 1).expand(3, 4)
    check_raises(lambda: e.add_(1), lambda: t.add_(1))


def test_base_attribute():
    e, t = pair()
    ve, vt = e[0], t[0]
    assert (ve._base is e) == (vt._base is t)
    vve, vvt = ve.view(-1), vt.view(-1)
    assert (vve._base is e) == (vvt._base is t)
    assert e._base is None and t._base is None


def test_unbind_split_chunk_views_and_gradients():
    data = np.random.default_rng(0).standard_normal((4, 6))
    for fn in [lambda x: x.unbind(0), lambda x: x.split(4, 1), lambda x: x.chunk(3, 0), lambda x: x.split([1, 5], 1)]:
        xe = ember.tensor(data, requires_grad=True)
        xt = torch.tensor(data, requires_grad=True)
        pe, pt = fn(xe), fn(xt)
        assert len(pe) == len(pt)
        for a, b in zip(pe, pt):
            assert_same(a, b)
            assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
        sum((p * (i + 1)).sum() for i, p in enumerate(pe)).backward()
        sum((p * (i + 1)).sum() for i, p in enumerate(pt)).backward()
        assert_same(xe.grad, xt.grad)


def test_multi_output_views_refuse_inplace_with_history():
    def message(lib, fn):
        x = lib.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
        y = x * 1
        with pytest.raises(RuntimeError) as info:
            fn(lib, y)
        return str(info.value)

    cases = [lambda m, y: y.unbind(0)[1].mul_(2), lambda m, y: y.chunk(2)[1].add_(1),
             lambda m, y: y.split([1, 3])[0].zero_(), lambda m, y: y.split(2)[1].clamp_(0, 1)]
    for fn in cases:
        assert message(ember, fn) == message(torch, fn)

    # changed under no_grad (or through the base): using the view afterwards raises, as torch
    def stale(lib, y):
        a, b = y.split(2)
        with lib.no_grad():
            b.mul_(2)
        return (a * 1).sum()
    e = message(ember, stale)
    assert "its base or another view of its base has been modified inplace" in e
    # without autograd history the pieces are ordinary views
    z = ember.arange(6.0).view(3, 2)
    z.unbind(0)[1].mul_(10)
    assert z.tolist() == [[0.0, 1.0], [20.0, 30.0], [4.0, 5.0]]
