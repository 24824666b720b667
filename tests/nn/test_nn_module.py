"""Module and container behaviour against torch: registration, iteration, state_dict / load_state_dict
(keys, messages), hooks (forward, pre, full backward, legacy backward), repr, __dir__, pickling, to/float/double,
apply, zero_grad, train/eval, get_submodule & co."""
import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.optim  # noqa: F401
from nn_helpers import copy_state
from parity import assert_same


def both(fn):
    return fn(ember), fn(torch)


def raises_like(fn):
    """Both libraries raise the same exception type with the same message."""
    with pytest.raises(Exception) as et:
        fn(torch)
    with pytest.raises(type(et.value)) as ee:
        fn(ember)
    return str(ee.value), str(et.value)


class Net:
    """The same model definition for both libraries."""

    @staticmethod
    def build(L):
        class Model(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = L.nn.Linear(4, 3)
                self.act = L.nn.ReLU()
                self.block = L.nn.Sequential(OrderedDict([("lin", L.nn.Linear(3, 3)), ("bn", L.nn.BatchNorm1d(3))]))
                self.register_buffer("scale", L.ones(3))
                self.register_buffer("tmp", L.zeros(2), persistent=False)
                self.alpha = L.nn.Parameter(L.tensor(0.5))

            def forward(self, x):
                return self.block(self.act(self.fc1(x))) * self.scale * self.alpha
        return Model()


def test_registration_iteration_and_state_dict_keys():
    e, t = both(Net.build)
    for attr in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(e, attr)()] == [n for n, _ in getattr(t, attr)()], attr
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert str(e) == str(t)
    assert e.state_dict()._metadata.keys() == t.state_dict()._metadata.keys()
    sd = e.state_dict()
    assert not sd["fc1.weight"].requires_grad and sd["fc1.weight"].data_ptr() == e.fc1.weight.data_ptr()
    assert e.state_dict(keep_vars=True)["fc1.weight"] is e.fc1.weight
    assert list(e.state_dict(prefix="p.")) == list(t.state_dict(prefix="p."))


def test_attribute_assignment_rules():
    for L in (ember, torch):
        m = L.nn.Linear(2, 2)
        m.bias = None
        assert "bias" in m._parameters and m.bias is None
        m.extra = L.nn.Parameter(L.zeros(1))
        assert "extra" in dict(m.named_parameters())
        m.sub = L.nn.Linear(1, 1)
        m.sub = None
        assert m._modules["sub"] is None
        del m.extra
        assert "extra" not in dict(m.named_parameters())
        m.buf = L.nn.Buffer(L.ones(2), persistent=False)
        assert "buf" in m._buffers and "buf" not in m.state_dict()
        m.buf = L.zeros(3)
        assert m.buf.shape == (3,) and "buf" not in m.state_dict()
    msgs = raises_like(lambda L: setattr(L.nn.Linear(2, 2), "weight", L.zeros(2, 2)))
    assert msgs[0] == msgs[1]
    msgs = raises_like(lambda L: L.nn.Linear(2, 2).register_parameter("a.b", None))
    assert msgs[0] == msgs[1]
    msgs = raises_like(lambda L: L.nn.Linear(2, 2).register_buffer("weight", L.zeros(1)))
    assert msgs[0] == msgs[1]
    msgs = raises_like(lambda L: L.nn.Linear(2, 2).add_module("x", 3))
    assert msgs[0].replace("ember", "torch") == msgs[1] or "is not a Module subclass" in msgs[0]

    class Early(ember.nn.Module):
        def __init__(self):
            self.fc = ember.nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__"):
        Early()
    with pytest.raises(AttributeError, match="object has no attribute 'nope'"):
        ember.nn.Linear(1, 1).nope


def test_tied_weights():
    def build(L):
        m = L.nn.Sequential(L.nn.Embedding(5, 3), L.nn.Linear(3, 5, bias=False))
        m[1].weight = m[0].weight
        return m
    e, t = both(build)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()] == ["0.weight"]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == ["0.weight", "1.weight"]
    assert list(e.state_dict()) == list(t.state_dict()) == ["0.weight", "1.weight"]


def test_load_state_dict_messages_and_result():
    e, t = both(Net.build)
    copy_state(e, t)
    res = e.load_state_dict(e.state_dict())
    assert str(res) == str(t.load_state_dict(t.state_dict())) == "<All keys matched successfully>"

    def bad(L):
        m = Net.build(L)
        sd = dict(m.state_dict())
        del sd["fc1.bias"]
        sd["fc1.weight"] = L.zeros(5, 4)
        sd["nope"] = L.zeros(1)
        sd["block.nope"] = L.zeros(1)
        m.load_state_dict(sd)
    me, mt = raises_like(bad)
    assert me == mt
    assert 'Missing key(s) in state_dict: "fc1.bias"' in me
    assert "size mismatch for fc1.weight: copying a param with shape torch.Size([5, 4])" in me

    def nonstrict(L):
        m = Net.build(L)
        sd = dict(m.state_dict())
        del sd["alpha"]
        sd["extra"] = L.zeros(1)
        return m.load_state_dict(sd, strict=False)
    re, rt = both(nonstrict)
    assert re.missing_keys == rt.missing_keys and re.unexpected_keys == rt.unexpected_keys
    assert repr(re) == repr(rt)


def test_load_state_dict_copies_in_place_and_assign():
    m = ember.nn.Linear(3, 2)
    w = m.weight
    new = ember.randn(2, 3)
    m.load_state_dict({"weight": new, "bias": ember.zeros(2)})
    assert m.weight is w and np.allclose(m.weight.detach().numpy(), new.numpy())
    m.load_state_dict({"weight": new, "bias": ember.zeros(2)}, assign=True)
    assert isinstance(m.weight, ember.nn.Parameter) and m.weight.requires_grad
    assert m.weight.data_ptr() == new.data_ptr()


def test_forward_hooks_and_kwargs():
    for L in (ember, torch):
        log = []
        m = L.nn.Linear(2, 2)
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        h3 = m.register_forward_pre_hook(lambda mod, args, kwargs: log.append(("pre", kwargs)) or None,
                                         with_kwargs=True, prepend=True)
        h4 = m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("post", len(args))),
                                     with_kwargs=True)
        x = L.ones(1, 2)
        with torch.no_grad(), ember.no_grad():
            m.weight.copy_(L.eye(2))
            m.bias.zero_()
        out = m(x)
        assert out.tolist() == [[3.0, 3.0]]
        assert log == [("pre", {}), ("post", 1)]
        for h in (h1, h2, h3, h4):
            h.remove()
        assert m(x).tolist() == [[1.0, 1.0]]
        with m.register_forward_hook(lambda *a: L.zeros(1)):
            assert m(x).tolist() == [0.0]
        assert m(x).tolist() == [[1.0, 1.0]]


def test_always_call_forward_hook():
    class Boom(ember.nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    seen = []
    b = Boom()
    b.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        b(ember.ones(1))
    assert seen == [None]


def _hook_trace(L):
    log = []
    m = L.nn.Sequential(L.nn.Linear(3, 2), L.nn.Tanh()).double()
    with torch.no_grad(), ember.no_grad():
        m[0].weight.copy_(L.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        m[0].bias.fill_(0.1)

    def pre(mod, gout):
        log.append(("pre", [g.tolist() for g in gout]))
        return (gout[0] * 2,)

    def full(mod, gin, gout):
        log.append(("full", [None if g is None else np.round(np.array(g.tolist()), 10).tolist() for g in gin],
                    [np.round(np.array(g.tolist()), 10).tolist() for g in gout]))
    m[0].register_full_backward_pre_hook(pre)
    m[0].register_full_backward_hook(full)
    m.register_full_backward_hook(lambda mod, gin, gout: log.append(("outer", len(gin))))
    x = L.tensor([[1.0, 2.0, 3.0]], requires_grad=True, dtype=L.float64)
    m(x).sum().backward()
    log.append(("xgrad", np.round(np.array(x.grad.tolist()), 10).tolist()))
    return log


def test_full_backward_hooks_match_torch():
    le, lt = _hook_trace(ember), _hook_trace(torch)
    assert len(le) == len(lt)
    for a, b in zip(le, lt):
        assert repr(a) == repr(b), (a, b)


def test_full_backward_hook_without_input_grad_and_legacy_hook():
    for L in (ember, torch):
        m = L.nn.Linear(2, 2)
        got = []
        m.register_full_backward_hook(lambda mod, gin, gout: got.append((gin, tuple(g.shape for g in gout))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m(L.ones(1, 2)).sum().backward()
        assert got == [((None,), ((1, 2),))]
    for L in (ember, torch):
        m = L.nn.Linear(2, 2)
        got = []
        m.register_backward_hook(lambda mod, gin, gout: got.append(len(gout)))
        m(L.ones(1, 2, requires_grad=True)).sum().backward()
        assert got == [1]
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
            m.register_full_backward_hook(lambda *a: None)


def test_global_forward_hook():
    seen = []
    h = ember.nn.modules.module.register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    try:
        ember.nn.Sequential(ember.nn.ReLU())(ember.ones(1))
    finally:
        h.remove()
    ember.nn.ReLU()(ember.ones(1))
    assert seen == ["ReLU", "Sequential"]


def test_state_dict_hooks():
    m = ember.nn.Linear(2, 2)
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd.__setitem__(prefix + "extra", ember.ones(1)))
    assert "extra" in m.state_dict()
    calls = []
    m.register_load_state_dict_post_hook(lambda mod, keys: calls.append(list(keys.unexpected_keys)))
    m.load_state_dict(m.state_dict(), strict=False)
    assert calls == [["extra"]]


def test_extra_state():
    class WithExtra(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state):
            self.value = state["value"]
    a, b = WithExtra(), WithExtra()
    a.value = 7
    assert list(a.state_dict()) == ["_extra_state"]
    b.load_state_dict(a.state_dict())
    assert b.value == 7


def test_repr_matches_torch():
    def build(L):
        return L.nn.Sequential(OrderedDict([
            ("features", L.nn.Sequential(L.nn.Linear(2, 2), L.nn.ReLU(inplace=True), L.nn.Dropout(0.2))),
            ("heads", L.nn.ModuleList([L.nn.Linear(2, 2) for _ in range(3)] + [L.nn.Identity()])),
            ("d", L.nn.ModuleDict({"a": L.nn.Tanh(), "b": L.nn.Sigmoid()})),
            ("empty", L.nn.ModuleList()),
            ("bn", L.nn.BatchNorm2d(4)),
        ]))
    e, t = both(build)
    assert str(e) == str(t)
    e, t = both(lambda L: L.nn.ParameterList([L.nn.Parameter(L.zeros(2, 3)), L.zeros(1)]))
    assert str(e) == str(t)
    e, t = both(lambda L: L.nn.ParameterDict({"b": L.nn.Parameter(L.zeros(2, 3)), "a": L.zeros(1, dtype=L.float64)}))
    assert str(e) == str(t)


def test_sequential_api():
    def ops(L):
        s = L.nn.Sequential(L.nn.Linear(1, 2), L.nn.ReLU(), L.nn.Linear(2, 3))
        out = [len(s), type(s[-1]).__name__, str(s[1:]), type(s[0:1]).__name__]
        s.append(L.nn.Tanh())
        s.insert(1, L.nn.Sigmoid())
        s.extend([L.nn.Identity()])
        del s[2]
        out.append([n for n, _ in s.named_children()])
        out.append(type(s.pop(0)).__name__)
        out.append(str(s + L.nn.Sequential(L.nn.ReLU())))
        out.append(len(s * 2))
        s[0] = L.nn.ELU()
        out.append(str(s))
        out.append([type(m).__name__ for m in s])
        return out
    assert ops(ember) == ops(torch)
    msgs = raises_like(lambda L: L.nn.Sequential(L.nn.ReLU())[3])
    assert msgs[0] == msgs[1]


def test_modulelist_moduledict_parameterlist_parameterdict():
    def ops(L):
        ml = L.nn.ModuleList([L.nn.ReLU(), L.nn.Tanh()])
        ml.append(L.nn.Identity())
        ml.insert(0, L.nn.Sigmoid())
        ml += [L.nn.ELU()]
        del ml[1]
        out = [str(ml), len(ml), str(ml[1:3]), [n for n, _ in ml.named_children()]]
        md = L.nn.ModuleDict([("x", L.nn.ReLU()), ("y", L.nn.Tanh())])
        md["z"] = L.nn.Identity()
        out += [list(md.keys()), "y" in md, type(md.pop("x")).__name__, str(md)]
        pl = L.nn.ParameterList([L.zeros(2)])
        pl.append(L.ones(3))
        out += [len(pl), [type(p).__name__ for p in pl], [n for n, _ in pl.named_parameters()]]
        pd = L.nn.ParameterDict({"b": L.zeros(1), "a": L.ones(2)})
        pd["c"] = L.nn.Parameter(L.zeros(3))
        out += [list(pd.keys()), [n for n, _ in pd.named_parameters()], type(pd["a"]).__name__, "c" in pd,
                list((pd | L.nn.ParameterDict({"d": L.zeros(1)})).keys())]
        return out
    assert ops(ember) == ops(torch)


def test_train_eval_requires_grad_zero_grad_apply():
    m = Net.build(ember)
    assert m.training and m.block.bn.training
    m.eval()
    assert not m.training and not m.block.bn.training
    m.train()
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")
    m.block.requires_grad_(False)
    assert not m.block.lin.weight.requires_grad and m.fc1.weight.requires_grad
    m(ember.randn(5, 4)).sum().backward()
    assert m.fc1.weight.grad is not None and m.block.lin.weight.grad is None
    m.zero_grad(set_to_none=False)
    assert m.fc1.weight.grad is not None and not m.fc1.weight.grad.any()
    m.zero_grad()
    assert m.fc1.weight.grad is None
    names = []
    m.apply(lambda mod: names.append(type(mod).__name__))
    assert names == ["Linear", "ReLU", "Linear", "BatchNorm1d", "Sequential", "Model"]


def test_to_float_double_half_cuda():
    m = Net.build(ember)
    p = m.fc1.weight
    m(ember.randn(5, 4)).sum().backward()
    assert m.double() is m
    assert m.fc1.weight is p and p.dtype == ember.float64 and p.grad.dtype == ember.float64
    assert m.block.bn.num_batches_tracked.dtype == ember.int64
    m.to(ember.float32)
    assert p.dtype == ember.float32
    m.half()
    assert p.dtype == ember.float16
    m.to("cpu", dtype=ember.float32)
    assert m.scale.dtype == ember.float32
    m.to(ember.zeros(1, dtype=ember.float64))
    assert p.dtype == ember.float64
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes"):
        m.to(ember.int32)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        m.cuda()
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        m.to("cuda")
    assert ember.nn.ReLU().cuda() is not None  # no tensors: nothing to move, as in torch


def test_pickle_deepcopy_and_dir():
    m = Net.build(ember)
    m2 = copy.deepcopy(m)
    assert m2.fc1.weight is not m.fc1.weight
    assert np.array_equal(m2.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    seq = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3))
    seq.register_forward_hook(_named_hook)
    s2 = pickle.loads(pickle.dumps(seq))
    assert str(s2) == str(seq) and isinstance(s2[0].weight, ember.nn.Parameter)
    assert len(s2._forward_hooks) == 1
    assert list(s2.state_dict()) == list(seq.state_dict())
    d = dir(m)
    assert "fc1" in d and "alpha" in d and "scale" in d and "forward" in d
    assert not [k for k in dir(seq) if k[0].isdigit()]


def _named_hook(m, a, o):
    return None


def test_get_submodule_parameter_buffer():
    for L in (ember, torch):
        m = Net.build(L)
        assert m.get_submodule("block.bn") is m.block.bn
        assert m.get_parameter("block.lin.weight") is m.block.lin.weight
        assert m.get_buffer("block.bn.running_mean") is m.block.bn.running_mean
        m.set_submodule("block.lin", L.nn.Identity())
        assert type(m.block.lin).__name__ == "Identity"
    msgs = raises_like(lambda L: Net.build(L).get_submodule("block.nope"))
    assert msgs[0] == msgs[1]
    msgs = raises_like(lambda L: Net.build(L).get_parameter("block.bn.running_mean"))
    assert msgs[0] == msgs[1]
    msgs = raises_like(lambda L: Net.build(L).get_buffer("fc1.weight"))
    assert msgs[0] == msgs[1]


def test_parameter_and_buffer_types():
    p = ember.nn.Parameter(ember.randn(2, 2))
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    assert type(p * 2) is ember.Tensor and type(p.data) is ember.Tensor and type(p.detach()) is ember.Tensor
    assert repr(p).startswith("Parameter containing:\ntensor(")
    q = ember.nn.Parameter(ember.randn(2), requires_grad=False)
    assert not q.requires_grad
    assert ember.nn.Parameter().shape == (0,)
    b = ember.nn.Buffer(ember.ones(2))
    assert isinstance(b, ember.nn.Buffer) and not isinstance(ember.ones(1), ember.nn.Buffer)
    assert pickle.loads(pickle.dumps(p)).__class__ is ember.nn.Parameter
    assert ember.nn.modules.linear.Linear is ember.nn.Linear
    assert ember.nn.modules.container.Sequential is ember.nn.Sequential
    assert ember.nn.modules.activation.MultiheadAttention is ember.nn.MultiheadAttention
    assert ember.nn.modules.loss.CrossEntropyLoss is ember.nn.CrossEntropyLoss
    assert ember.nn.Linear.__module__ == "ember.nn.modules.linear"


def test_module_call_speed_path_does_not_break_on_missing_forward():
    msgs = raises_like(lambda L: L.nn.Module()(L.ones(1)))
    assert msgs[0].startswith(msgs[1])


def test_lazy_linear_matches_torch():
    runs = []
    for L in (ember, torch):
        m = L.nn.LazyLinear(4)
        before = (repr(m), type(m.weight).__name__, list(m.state_dict()))
        opt = L.optim.SGD(m.parameters(), lr=0.1)
        m(L.ones(2, 7)).sum().backward()
        opt.step()
        after = (repr(m), type(m).__name__, type(m.weight).__name__, tuple(m.weight.shape))
        m2 = L.nn.LazyLinear(4)
        m2.load_state_dict(m.state_dict())
        runs.append((before, after, type(m2).__name__, tuple(m2.weight.shape)))
    assert runs[0] == runs[1]
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        ember.nn.LazyLinear(3).weight.shape


def test_embedding_from_pretrained():
    w = np.arange(12.0).reshape(4, 3)
    for L in (ember, torch):
        e = L.nn.Embedding.from_pretrained(L.tensor(w), padding_idx=1)
        assert not e.weight.requires_grad and e.padding_idx == 1
        assert e(L.tensor([2])).tolist() == [[6.0, 7.0, 8.0]]
        e2 = L.nn.Embedding.from_pretrained(L.tensor(w), freeze=False)
        assert e2.weight.requires_grad
        b = L.nn.EmbeddingBag.from_pretrained(L.tensor(w), mode="sum")
        assert b(L.tensor([[0, 1]])).tolist() == [[3.0, 5.0, 7.0]]
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        ember.nn.Embedding.from_pretrained(ember.zeros(3))


def test_lazy_norms_sync_batchnorm_and_data_parallel():
    for name, shape in (("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm2d", (2, 3, 4, 4)), ("LazyBatchNorm3d", (2, 3, 2, 2, 2)),
                        ("LazyInstanceNorm1d", (2, 3, 5)), ("LazyInstanceNorm2d", (2, 3, 4, 4)),
                        ("LazyInstanceNorm3d", (2, 3, 2, 2, 2))):
        reprs = []
        for L in (ember, torch):
            m = getattr(L.nn, name)()
            before = repr(m)
            m(L.ones(*shape))
            reprs.append((before, repr(m), type(m).__name__, list(m.state_dict())))
        assert reprs[0] == reprs[1], name

    def conv(L):
        s = L.nn.SyncBatchNorm.convert_sync_batchnorm(L.nn.Sequential(L.nn.Linear(3, 3), L.nn.BatchNorm1d(3)))
        return s
    e, t = both(conv)
    assert str(e) == str(t)
    copy_state(e, t)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_same(e(ember.from_numpy(x.copy())), t(torch.from_numpy(x.copy())), rtol=1e-5, atol=1e-6)
    e, t = both(lambda L: L.nn.DataParallel(L.nn.Linear(2, 2)))
    assert str(e) == str(t) and list(e.state_dict()) == list(t.state_dict())
    copy_state(e, t)
    assert_same(e(ember.ones(1, 2)), t(torch.ones(1, 2)))


def test_linear_parameter_attributes_follow_module_lookup():
    """Linear.weight / .bias read ``_parameters`` through a class attribute (ParameterAttribute): every lookup that
    Module.__getattr__ gives must stay the same, against torch."""
    def reassigned(L):   # a reparametrization's pattern: the parameter removed, a plain tensor set instead
        m = L.nn.Linear(3, 2)
        w = m._parameters.pop("weight")
        m.weight = w.detach() * 2
        return m.weight.shape, "weight" in m._parameters, "weight" in m.__dict__

    def as_buffer(L):
        m = L.nn.Linear(3, 2, bias=False)
        del m.bias
        m.register_buffer("bias", L.ones(2))
        return m.bias.tolist(), [n for n, _ in m.named_buffers()]

    def class_has(L):
        return hasattr(L.nn.Linear, "weight"), hasattr(L.nn.Linear(2, 2, bias=False), "bias")

    for fn in (reassigned, as_buffer, class_has):
        e, t = both(fn)
        assert e == t, fn.__name__
    msg_e, msg_t = raises_like(_deleted_weight)
    assert msg_e == msg_t
    m = ember.nn.Linear(3, 3)
    ember.nn.utils.parametrize.register_parametrization(m, "weight", _Symmetric())
    assert (m.weight - m.weight.mT).abs().max().item() == 0   # the parametrization's property wins


def _deleted_weight(L):
    m = L.nn.Linear(2, 2)
    del m.weight
    return m.weight


class _Symmetric(ember.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT
