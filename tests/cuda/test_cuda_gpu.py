"""ember on a real GPU (CuPy): moves, errors, memory, streams, RNG, checkpoints, mixed precision, training.

CI has no GPU, so these are skipped there (the no-GPU answers are tests/test_cuda_device_model.py); ``make
test-cuda`` runs them with the device-generic op/nn/optim tables on a machine whose GPU CuPy sees.
"""
import io

import numpy as np
import pytest
import torch

import ember

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a GPU that CuPy sees (CI has none)")


def test_moves_keep_values_and_report_the_device():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = ember.from_numpy(a).cuda()
    assert x.is_cuda and not x.is_cpu and x.device == ember.device("cuda", 0) and x.get_device() == 0
    assert str(x.device) == "cuda:0" and x.to("cuda") is x and x.cuda() is x
    np.testing.assert_array_equal(x.cpu().numpy(), a)
    assert x.sum().item() == 66.0 and x.tolist() == a.tolist() and "device='cuda:0'" in repr(x)
    with pytest.raises(TypeError, match=r"can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu\(\)"):
        x.numpy()
    assert ember.ones(2, device="cuda").is_cuda and ember.zeros_like(x).is_cuda and ember.ones(2, device=0).is_cuda
    with ember.device("cuda"):
        assert ember.randn(3).is_cuda and ember.arange(4).is_cuda
    assert ember.tensor([1.0, 2.0]).to(ember.device("cuda:0"), ember.float64).dtype == ember.float64


def test_mixed_devices_raise_torchs_error_and_cpu_scalars_pass():
    x = ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at least two "
                                           "devices, cuda:0 and cpu!"):
        x + ember.ones(3)
    assert (x * ember.tensor(2.0)).is_cuda and (ember.tensor(2.0) * x).cpu().tolist() == [2.0, 2.0, 2.0]


def test_gradients_flow_across_a_move():
    w = ember.randn(4, 3, requires_grad=True)
    (w.cuda() ** 2).sum().backward()
    assert w.grad.device.type == "cpu"
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.detach().numpy(), rtol=1e-6)


def test_module_cuda_moves_parameters_in_place_and_trains_like_cpu():
    ember.manual_seed(0)
    cpu_model = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Linear(16, 3))
    gpu_model = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Linear(16, 3))
    gpu_model.load_state_dict(cpu_model.state_dict())
    params = list(gpu_model.parameters())
    opt_gpu = ember.optim.Adam(gpu_model.parameters(), lr=1e-2)   # built before the move, as programs do
    assert gpu_model.cuda() is gpu_model and [id(p) for p in gpu_model.parameters()] == [id(p) for p in params]
    opt_cpu = ember.optim.Adam(cpu_model.parameters(), lr=1e-2)
    x, y = ember.randn(32, 8), ember.randint(0, 3, (32,))
    for _ in range(20):
        for model, opt, xb, yb in ((cpu_model, opt_cpu, x, y), (gpu_model, opt_gpu, x.cuda(), y.cuda())):
            opt.zero_grad()
            ember.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    assert all(p.is_cuda for p in gpu_model.parameters())
    assert all(v.is_cuda for s in opt_gpu.state.values() for v in s.values() if isinstance(v, ember.Tensor) and v.ndim)
    for pc, pg in zip(cpu_model.parameters(), gpu_model.parameters()):
        np.testing.assert_allclose(pg.detach().cpu().numpy(), pc.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("map_location", [None, "cuda", "cpu", {"cuda:0": "cpu"}, "FN_CPU", "FN_CUDA"])
def test_checkpoints_move_both_ways(map_location):
    state = {"w": ember.arange(6.0).reshape(2, 3).cuda(), "c": ember.ones(2)}
    buf = io.BytesIO()
    ember.save(state, buf)
    loc = {"FN_CPU": lambda s, l: s, "FN_CUDA": lambda s, l: s.cuda()}.get(map_location, map_location)
    got = ember.load(io.BytesIO(buf.getvalue()), map_location=loc)
    want_w = "cuda" if map_location in (None, "cuda", "FN_CUDA") else "cpu"
    assert got["w"].device.type == want_w and got["w"].cpu().tolist() == [[0, 1, 2], [3, 4, 5]]
    if map_location == "cuda":
        assert got["c"].is_cuda
    # PyTorch reads ember's CUDA checkpoint as one written from CUDA tensors
    t = torch.load(io.BytesIO(buf.getvalue()), map_location="cpu")
    assert t["w"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_memory_counters_follow_the_pool():
    ember.cuda.empty_cache()
    ember.cuda.reset_peak_memory_stats()
    before = ember.cuda.memory_allocated()
    x = ember.empty(2 ** 20, device="cuda")   # 4 MiB
    assert ember.cuda.memory_allocated() >= before + 4 * 2 ** 20
    assert ember.cuda.max_memory_allocated() >= ember.cuda.memory_allocated()
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del x
    assert ember.cuda.memory_allocated() == before
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total == ember.cuda.get_device_properties(0).total_memory


def test_out_of_memory_is_torchs_error_and_the_process_survives():
    total = ember.cuda.get_device_properties(0).total_memory
    with pytest.raises(ember.cuda.OutOfMemoryError, match="CUDA out of memory"):
        ember.empty(total // 2 + 2 ** 30, 2, dtype=ember.uint8, device="cuda")
    assert issubclass(ember.cuda.OutOfMemoryError, RuntimeError) and ember.ones(3, device="cuda").sum().item() == 3


def test_device_queries_streams_and_events():
    assert ember.cuda.device_count() >= 1 and ember.cuda.current_device() == 0
    assert ember.cuda.get_device_name() == ember.cuda.get_device_properties().name
    assert len(ember.cuda.get_device_capability()) == 2 and ember.accelerator.current_accelerator().type == "cuda"
    s = ember.cuda.Stream()
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    with ember.cuda.stream(s):
        start.record()
        y = ember.randn(512, 512, device="cuda") @ ember.randn(512, 512, device="cuda")
        end.record()
    end.synchronize()
    assert ember.cuda.current_stream() != s and start.elapsed_time(end) >= 0 and y.shape == (512, 512)
    ember.cuda.synchronize()
    with ember.cuda.device(0):
        assert ember.cuda.current_device() == 0


def test_seeded_runs_repeat_and_match_the_cpu_stream():
    ember.cuda.manual_seed(123)
    a = ember.randn(100, device="cuda")
    state = ember.cuda.get_rng_state()
    b = ember.rand(50, device="cuda")
    ember.cuda.set_rng_state(state)
    assert ember.equal(ember.rand(50, device="cuda"), b)
    ember.cuda.manual_seed(123)
    assert ember.equal(ember.randn(100, device="cuda"), a)
    ember.manual_seed(7)
    c = ember.randn(10)
    ember.manual_seed(7)   # seeds CUDA too; CUDA draws ember's CPU stream
    np.testing.assert_array_equal(ember.randn(10, device="cuda").cpu().numpy(), c.numpy())


def test_pinned_memory_and_loader():
    x = ember.arange(10.0).pin_memory()
    assert x.is_pinned() and not ember.arange(3.0).is_pinned()
    assert x.cuda(non_blocking=True).cpu().tolist() == list(map(float, range(10)))
    ds = ember.utils.data.TensorDataset(ember.randn(8, 3), ember.arange(8))
    xb, yb = next(iter(ember.utils.data.DataLoader(ds, batch_size=4, pin_memory=True)))
    assert xb.is_pinned() and yb.is_pinned()


def test_bfloat16_cannot_live_on_cuda():
    with pytest.raises(TypeError, match="no bfloat16"):
        ember.ones(2, dtype=ember.bfloat16).cuda()
    assert ember.cuda.is_bf16_supported() is False


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_autocast_cuda(dtype):
    a, b = ember.randn(64, 32, device="cuda"), ember.randn(32, 16, device="cuda")
    with ember.autocast("cuda", dtype=getattr(ember, dtype)):
        y = a @ b
    exact = (a.cpu().double() @ b.cpu().double()).numpy()
    # float16 storage in float16; bfloat16 compute keeps float32 storage (CuPy has no bfloat16 arrays)
    assert y.dtype == (ember.float16 if dtype == "float16" else ember.float32)
    np.testing.assert_allclose(y.float().cpu().numpy(), exact, rtol=0.05, atol=0.1)
    scaler = ember.amp.GradScaler("cuda")
    assert scaler.is_enabled()
    w = ember.randn(32, 16, device="cuda", requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.1)
    with ember.autocast("cuda", dtype=getattr(ember, dtype)):
        loss = (a @ w).float().pow(2).mean()
    scaler.scale(loss).backward()
    before = w.detach().clone()
    scaler.step(opt)
    scaler.update()
    assert not ember.equal(before, w.detach())


def test_tf32_precision_flag_reaches_cupy():
    from cupy._core import _routines_linalg as linalg
    try:
        ember.set_float32_matmul_precision("high")
        assert linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_TF32
    finally:
        ember.set_float32_matmul_precision("highest")
    assert linalg.get_compute_type(np.float32) != linalg.COMPUTE_TYPE_TF32
