"""Random streams equal to PyTorch's: after the same seed every sampler gives PyTorch's CPU numbers bit for
bit and leaves the generator in PyTorch's state (compared as ``get_rng_state()`` bytes); Generator objects,
global seeding, state layout, fork_rng, and seeded layer initialisation."""
import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from parity import check_raises

SEEDS = (0, 7, 2 ** 40 + 3)
SIZES = (0, 1, 15, 16, 17, 1000)


def _np(t):
    t = t.detach()
    if t.dtype in (ember.bfloat16, torch.bfloat16):
        t = t.float()
    return t.numpy()


def assert_same_stream(fn, seeds=SEEDS):
    """``fn(lib)`` gives the same values, dtype and shape under ember and torch after ``manual_seed``, and
    leaves both default generators in the same state."""
    for s in seeds:
        ember.manual_seed(s)
        torch.manual_seed(s)
        got, want = fn(ember), fn(torch)
        got, want = (got if isinstance(got, tuple) else (got,)), (want if isinstance(want, tuple) else (want,))
        for g, w in zip(got, want):
            assert str(g.dtype) == str(w.dtype) and tuple(g.shape) == tuple(w.shape)
            np.testing.assert_array_equal(_np(g), _np(w), err_msg=f"seed {s}")
        np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy(),
                                      err_msg=f"generator state after seed {s}")


FLOATS = ("float32", "float64", "float16", "bfloat16")


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", FLOATS + ("complex64",))
def test_rand_and_randn_equal_torch(n, dtype):
    assert_same_stream(lambda m: m.rand(n, dtype=getattr(m, dtype)))
    assert_same_stream(lambda m: m.randn(n, dtype=getattr(m, dtype)))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_uniform_and_normal_in_place_equal_torch(n, dtype):
    assert_same_stream(lambda m: m.empty(n, dtype=getattr(m, dtype)).uniform_(-0.37, 2.5))
    assert_same_stream(lambda m: m.empty(n, dtype=getattr(m, dtype)).normal_(0.3, 2.7))
    assert_same_stream(lambda m: m.normal(-1.5, 0.25, (n,), dtype=getattr(m, dtype)))


def test_normal_cache_and_strided_targets_equal_torch():
    # fewer than 16 elements (or a strided target) take the scalar path, whose second sample waits in the
    # generator for the next draw; 16 or more contiguous elements take the block path, which leaves it there
    def mixed(m):
        return (m.randn(3, dtype=m.float64), m.randn(1), m.randn(40), m.randn(2, 5),
                m.empty(9, 7).t().normal_(1, 2), m.empty(9, 7).t().uniform_(), m.zeros(9, 8)[:, ::2].uniform_(),
                m.randn(4, 5, 6).permute(2, 0, 1).contiguous())
    assert_same_stream(mixed)
    assert_same_stream(lambda m: m.randn(3, 33, dtype=m.complex128))


@pytest.mark.parametrize("n", SIZES)
def test_integer_samplers_equal_torch(n):
    assert_same_stream(lambda m: m.randint(-5, 17, (n,)))
    assert_same_stream(lambda m: m.randint(0, 2 ** 40, (n,)))            # range >= 2**28: 64-bit draws
    assert_same_stream(lambda m: m.randint(3, 10, (n,), dtype=m.int32))
    assert_same_stream(lambda m: m.randperm(n))
    assert_same_stream(lambda m: m.randperm(n, dtype=m.float32))
    assert_same_stream(lambda m: m.randint_like(m.zeros(n, 2), 10))


@pytest.mark.parametrize("dtype", ("int8", "int16", "int32", "int64", "uint8", "float32", "float64", "float16",
                                   "bfloat16", "bool"))
def test_random_in_place_equal_torch(dtype):
    assert_same_stream(lambda m: m.empty(100, dtype=getattr(m, dtype)).random_())
    if dtype != "bool":
        assert_same_stream(lambda m: m.empty(100, dtype=getattr(m, dtype)).random_(3, 50))
        assert_same_stream(lambda m: m.empty(100, dtype=getattr(m, dtype)).random_(50))


@pytest.mark.parametrize("n", SIZES)
def test_bernoulli_equal_torch(n):
    assert_same_stream(lambda m: m.empty(n).bernoulli_(0.3))                          # double draws
    assert_same_stream(lambda m: m.empty(n, dtype=m.int32).bernoulli_(0.7))
    assert_same_stream(lambda m: m.bernoulli(m.full((n,), 0.4)))                      # float p: 24-bit draws
    assert_same_stream(lambda m: m.bernoulli(m.full((n,), 0.4, dtype=m.float64)))     # double p: 53-bit draws
    assert_same_stream(lambda m: m.bernoulli(m.full((n,), 0.4, dtype=m.float16)))
    assert_same_stream(lambda m: m.bernoulli(m.zeros(n), 0.3))


def test_bernoulli_broadcast_and_strided_probabilities_equal_torch():
    assert_same_stream(lambda m: m.empty(6, 5).bernoulli_(m.linspace(0, 1, 5)))
    assert_same_stream(lambda m: m.bernoulli(m.rand(5, 6).t()))


W = np.random.default_rng(0).random((4, 10)).astype(np.float32)
W[0, 3] = 0


@pytest.mark.parametrize("replacement", (False, True))
@pytest.mark.parametrize("k", (1, 3, 10))
@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.float16))
def test_multinomial_equal_torch(replacement, k, dtype):
    w = W.astype(dtype)
    assert_same_stream(lambda m: m.multinomial(m.tensor(w), k, replacement))
    assert_same_stream(lambda m: m.multinomial(m.tensor(w[1]), k, replacement))


def test_multinomial_many_samples_with_replacement_equal_torch():
    assert_same_stream(lambda m: m.multinomial(m.tensor(W), 1000, True))


def test_normal_with_tensor_arguments_equal_torch():
    rng = np.random.default_rng(1)
    mean, std = rng.random((3, 40)).astype(np.float32), rng.random((3, 40)).astype(np.float32)
    assert_same_stream(lambda m: m.normal(m.tensor(mean), m.tensor(std)))
    assert_same_stream(lambda m: m.normal(m.tensor(mean), 0.7))
    assert_same_stream(lambda m: m.normal(0.4, m.tensor(std)))
    assert_same_stream(lambda m: m.normal(m.tensor(mean[0, :5]), m.tensor(std[0, :5])))


@pytest.mark.parametrize("dtype", ("float32", "float64", "float16"))
def test_continuous_in_place_samplers_equal_torch(dtype):
    def all_of(m):
        dt = getattr(m, dtype)
        return (m.empty(100, dtype=dt).exponential_(1.7), m.empty(17, dtype=dt).geometric_(0.3),
                m.empty(100, dtype=dt).cauchy_(0.5, 2.0), m.empty(33, dtype=dt).log_normal_(0.5, 0.7),
                m.empty(20, dtype=m.int32).geometric_(0.2))
    assert_same_stream(all_of)


def test_generator_argument_draws_from_that_generator_only():
    def with_gen(m):
        g = m.Generator().manual_seed(77)
        return (m.randn(20, generator=g), m.rand(3, generator=g), m.randperm(9, generator=g),
                m.randint(0, 5, (4,), generator=g), m.empty(5).normal_(generator=g),
                m.bernoulli(m.full((6,), 0.5), generator=g), m.multinomial(m.ones(5), 2, generator=g),
                m.randn(3))
    assert_same_stream(with_gen)


def test_seeded_layers_start_from_torch_weights():
    def layers(m):
        mods = (m.nn.Linear(20, 30), m.nn.Conv2d(3, 8, 3), m.nn.LSTM(10, 16, 2), m.nn.Embedding(11, 5),
                m.nn.GRU(4, 6), m.nn.Linear(5, 5, bias=False), m.nn.ConvTranspose2d(4, 2, 3),
                m.nn.MultiheadAttention(8, 2))
        return tuple(p for mod in mods for p in mod.parameters())
    assert_same_stream(layers)


def test_nn_init_functions_equal_torch():
    def inits(m):
        w = m.empty(30, 40)
        I = m.nn.init
        return tuple(f(w).clone() for f in (
            I.xavier_uniform_, I.xavier_normal_, I.kaiming_uniform_,
            lambda t: I.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
            lambda t: I.trunc_normal_(t, std=0.02), lambda t: I.trunc_normal_(t, a=0.5, b=3.0),
            lambda t: I.uniform_(t, -2, 3), lambda t: I.normal_(t, 1, 3), lambda t: I.sparse_(t, 0.3)))
    assert_same_stream(inits)


def test_seeded_training_run_follows_torch():
    # a seeded MLP with masks drawn by bernoulli_ and minibatches by randperm: same weights, same masks,
    # same batches as PyTorch, so the losses agree up to the float32 rounding of the arithmetic
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((64, 10)).astype(np.float32), rng.integers(0, 3, 64)

    def run(m):
        m.manual_seed(0)
        net = m.nn.Sequential(m.nn.Linear(10, 32), m.nn.ReLU(), m.nn.Linear(32, 3))
        opt = m.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        x, y = m.tensor(X), m.tensor(Y)
        losses = []
        for _ in range(3):
            for idx in m.randperm(64).split(16):
                h = net[1](net[0](x[idx]))
                h = h * m.empty_like(h).bernoulli_(0.8) / 0.8
                loss = m.nn.functional.cross_entropy(net[2](h), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return np.array(losses)
    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-5, atol=1e-6)


def test_seeded_training_with_dropout_follows_torch():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((32, 10)).astype(np.float32)

    def run(m):
        m.manual_seed(0)
        net = m.nn.Sequential(m.nn.Linear(10, 32), m.nn.ReLU(), m.nn.Dropout(0.3), m.nn.Linear(32, 1))
        opt = m.optim.Adam(net.parameters(), lr=0.01)
        losses = []
        for _ in range(5):
            loss = net(m.tensor(X)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return np.array(losses)
    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- Generator objects and state
def test_generator_object_api():
    g, tg = ember.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert g.manual_seed(7) is g and g.initial_seed() == 7
    assert str(g.device) == str(tg.device) == "cpu"
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and g.initial_seed() == s
    assert g.manual_seed(-1).initial_seed() == tg.manual_seed(-1).initial_seed()
    check_raises(lambda: ember.Generator().manual_seed(2 ** 64), lambda: torch.Generator().manual_seed(2 ** 64))
    check_raises(lambda: ember.Generator().manual_seed("3"), lambda: torch.Generator().manual_seed("3"))
    for name in ("get_offset", "graphsafe_get_state"):
        check_raises(lambda: getattr(ember.Generator(), name)(), lambda: getattr(torch.Generator(), name)())
    check_raises(lambda: ember.Generator().set_offset(3), lambda: torch.Generator().set_offset(3))
    assert "Generator" in repr(g)
    with pytest.raises((RuntimeError, AssertionError)):
        ember.Generator(device="cuda")


def test_state_layout_is_torchs_both_ways():
    g, tg = ember.Generator().manual_seed(42), torch.Generator().manual_seed(42)
    np.testing.assert_array_equal(g.get_state().numpy(), tg.get_state().numpy())
    ember.randn(5, generator=g, dtype=ember.float64)      # leaves a cached normal in the state
    torch.randn(5, generator=tg, dtype=torch.float64)
    state = g.get_state()
    assert state.dtype is ember.uint8 and tuple(state.shape) == (5056,)
    np.testing.assert_array_equal(state.numpy(), tg.get_state().numpy())
    # a state saved by torch continues here as torch continues, and the other way round
    tg2 = torch.Generator().set_state(torch.from_numpy(state.numpy()))
    torch_state = torch.Generator().manual_seed(9)
    torch.rand(700, generator=torch_state)
    g2 = ember.Generator().set_state(ember.from_numpy(torch_state.get_state().numpy()))
    np.testing.assert_array_equal(_np(ember.randn(3, generator=g, dtype=ember.float64)),
                                  _np(torch.randn(3, generator=tg2, dtype=torch.float64)))
    np.testing.assert_array_equal(_np(ember.rand(20, generator=g2)), _np(torch.rand(20, generator=torch_state)))


def test_state_with_unusual_counters_loads_as_in_torch():
    # PyTorch accepts any left/next within bounds: it reads key[next:next+left-1] before regenerating
    raw = torch.Generator().manual_seed(5).get_state().numpy().copy()
    raw[8:12] = np.array([200], np.int32).view(np.uint8)
    raw[16:24] = np.array([3], np.uint64).view(np.uint8)
    g = ember.Generator().set_state(ember.from_numpy(raw))
    tg = torch.Generator().set_state(torch.from_numpy(raw))
    np.testing.assert_array_equal(g.get_state().numpy(), tg.get_state().numpy())
    np.testing.assert_array_equal(_np(ember.randn(1000, generator=g)), _np(torch.randn(1000, generator=tg)))
    np.testing.assert_array_equal(g.get_state().numpy(), tg.get_state().numpy())


def test_set_state_errors_match_torch():
    bad_counter = torch.Generator().get_state().numpy().copy()
    bad_counter[8:12] = 0
    for bad in (lambda m: m.zeros(5056), lambda m: m.zeros(10, dtype=m.uint8), lambda m: 5,
                lambda m: m.from_numpy(bad_counter.copy())):
        check_raises(lambda: ember.Generator().set_state(bad(ember)), lambda: torch.Generator().set_state(bad(torch)))


def test_clone_pickle_and_copy_keep_the_stream():
    g = ember.Generator().manual_seed(3)
    ember.randn(3, generator=g, dtype=ember.float64)
    for twin in (g.clone_state(), pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert isinstance(twin, ember.Generator) and twin.initial_seed() == 3
        np.testing.assert_array_equal(twin.get_state().numpy(), g.get_state().numpy())
    a = ember.randn(5, generator=g.clone_state(), dtype=ember.float64)
    np.testing.assert_array_equal(a.numpy(), ember.randn(5, generator=g, dtype=ember.float64).numpy())


def test_global_state_functions_and_fork_rng():
    ember.manual_seed(11)
    torch.manual_seed(11)
    with ember.random.fork_rng():
        ember.rand(10)
    with ember.random.fork_rng(enabled=False):
        ember.rand(3)
    torch.rand(3)

    @ember.random.fork_rng()
    def drawn():
        return ember.randn(50)
    drawn()
    np.testing.assert_array_equal(ember.rand(4).numpy(), torch.rand(4).numpy())
    s = ember.seed()
    assert ember.initial_seed() == s
    state = ember.get_rng_state()
    a = ember.rand(4)
    ember.set_rng_state(state)
    np.testing.assert_array_equal(ember.rand(4).numpy(), a.numpy())
    assert ember.manual_seed(1) is ember.default_generator
    assert ember.random.thread_safe_generator() is torch.random.thread_safe_generator() is None


def test_generators_are_independent():
    ref = ember.rand(5, generator=ember.Generator().manual_seed(1)).tolist()
    g = ember.Generator().manual_seed(1)
    ember.manual_seed(99)
    ember.rand(100)
    assert ember.rand(5, generator=g).tolist() == ref


def test_unseeded_process_starts_from_a_fresh_seed():
    # as PyTorch 2.13: each process's default generator is seeded from 64 bits of entropy; Generator() keeps
    # the fixed seed
    code = "import {m}; print({m}.initial_seed(), {m}.Generator().initial_seed(), {m}.rand(3).tolist())"
    runs = {}
    for lib in ("ember", "torch"):
        outs = [subprocess.run([sys.executable, "-c", code.format(m=lib)], capture_output=True, text=True,
                               check=True).stdout.split(" ", 2) for _ in range(2)]
        assert outs[0][0] != outs[1][0] and outs[0][2] != outs[1][2]
        assert outs[0][1] == outs[1][1]
        runs[lib] = outs
    assert runs["ember"][0][1] == runs["torch"][0][1]


def test_sampler_errors_match_torch():
    for f in (lambda m: m.randn(3, dtype=m.int64), lambda m: m.rand(3, dtype=m.int64),
              lambda m: m.empty(3, dtype=m.int64).normal_(), lambda m: m.empty(3).exponential_(0),
              lambda m: m.empty(3, dtype=m.int32).cauchy_(), lambda m: m.empty(3).bernoulli_(1.5),
              lambda m: m.empty(3).uniform_(2, 1), lambda m: m.empty(3).geometric_(1.0),
              lambda m: m.multinomial(m.ones(3), 4), lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1),
              lambda m: m.normal(m.zeros(3), -m.ones(3)), lambda m: m.randint(0, size=(1,)),
              lambda m: m.ones(2, requires_grad=True).normal_()):
        check_raises(lambda: f(ember), lambda: f(torch))


DROPOUTS = [("dropout", (7, 13)), ("dropout", (16,)), ("dropout2d", (3, 4, 5, 5)), ("dropout1d", (2, 3, 7)),
            ("dropout3d", (2, 3, 2, 2, 2)), ("alpha_dropout", (5, 9)), ("feature_alpha_dropout", (2, 3, 4, 4))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("p", [0.0, 0.15, 0.5, 0.999, 1.0])
@pytest.mark.parametrize("name,shape", DROPOUTS, ids=[f"{n}{len(s)}d" for n, s in DROPOUTS])
def test_dropout_masks_equal_torch(name, shape, p, dtype):
    """Every dropout draws PyTorch's numbers (53-bit uniforms, kept below 1 - p; one per channel for the feature
    forms; none for p = 1) and scales as PyTorch (1/(1-p) in float32, double for float64): equal values and the
    generator where PyTorch leaves it."""
    x = np.random.default_rng(0).standard_normal(shape)
    outs = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        t = lib.tensor(x).to(getattr(lib, dtype)).requires_grad_()
        y = getattr(lib.nn.functional, name)(t, p, training=True)
        y.float().sum().backward()
        outs.append((y.detach().float().numpy(), t.grad.float().numpy(), lib.rand(2).numpy()))
    for e, t in zip(*outs):
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
@pytest.mark.parametrize("bounds", [(1 / 8, 1 / 3), (0.1, 0.9)])
def test_rrelu_training_slopes_equal_torch(bounds, dtype):
    """Training rrelu draws one 53-bit uniform per element <= 0, in order (PyTorch's slopes, its error for
    float16 on the CPU)."""
    x = np.random.default_rng(1).standard_normal((9, 31))
    x[:, :2] = 0
    outs = []
    for lib in (ember, torch):
        lib.manual_seed(5)
        t = lib.tensor(x).to(getattr(lib, dtype)).requires_grad_()
        try:
            y = lib.nn.functional.rrelu(t, *bounds, training=True)
        except NotImplementedError as e:
            outs.append(str(e))
            continue
        y.float().sum().backward()
        outs.append((y.detach().float().numpy(), t.grad.float().numpy(), lib.rand(2).numpy()))
    if isinstance(outs[1], str):
        assert outs[0] == outs[1]
        return
    for e, t in zip(*outs):
        np.testing.assert_array_equal(e, t)


def test_many_small_draws_equal_torch():
    # up to 16 values the samplers compute in Python floats: many short draws, cached normals in between
    def small(m):
        return tuple(f(m) for k in range(1, 17) for f in (
            lambda m: m.randn(k), lambda m: m.rand(k, dtype=m.float64), lambda m: m.randn(k, dtype=m.float64),
            lambda m: m.rand(k), lambda m: m.randn(k, 1, dtype=m.float16)))
    assert_same_stream(small)


def test_runs_of_small_draws_across_key_ends_equal_torch():
    # runs of small draws read words the engine took ahead: across regenerations of the key (every 624 words),
    # between large draws, and with the state read and restored inside a run
    def run(m):
        out = []
        for i in range(240):
            out += [m.randn(3), m.rand(2, dtype=m.float64), m.randint(0, 7, (1,))]
            if i % 61 == 0:
                out.append(m.randn(700))
            if i % 50 == 7:
                out.append(m.get_rng_state())
            if i == 120:
                state = m.get_rng_state()
                m.rand(5)
                m.set_rng_state(state)
        return tuple(out)
    assert_same_stream(run)


def _float_uniforms(words):
    return ((words & 0xFFFFFF).astype(np.float32) * np.float32(2.0 ** -24)).astype(np.float32)


def test_numpy_samplers_and_generators_share_the_stream():
    # NumPy samplers (poisson, binomial, numpy_generator()) draw from the engine's own stream, also while small
    # draws hold words taken ahead: the words after them are the stream's next ones
    g = ember.Generator().manual_seed(4)
    ref = np.random.MT19937(0)
    ref._legacy_seeding(4)
    for _ in range(5):
        np.testing.assert_array_equal(ember.rand(3, generator=g).numpy(), _float_uniforms(ref.random_raw(3)))
    draws = ember.poisson(ember.full((400,), 3.0, dtype=ember.float64), generator=g)   # past the key's end
    np.testing.assert_array_equal(draws.numpy(), np.random.Generator(ref).poisson(np.full(400, 3.0)))
    for _ in range(3):
        np.testing.assert_array_equal(ember.rand(3, generator=g).numpy(), _float_uniforms(ref.random_raw(3)))
    handed = g.numpy_generator()
    for k in (2, 3, 700, 3, 2):
        np.testing.assert_array_equal(ember.rand(k, generator=g).numpy(), _float_uniforms(ref.random_raw(k)))
        np.testing.assert_array_equal(handed.bit_generator.random_raw(k + 600), ref.random_raw(k + 600))
