"""The CUDA device model where there is no GPU (CI): ember.cuda and every move to CUDA answer as PyTorch's CPU
build does, and checkpoints written from CUDA tensors load with map_location.  The same behaviour with a GPU
is tested in tests/cuda/ (run there by ``make test-cuda``)."""
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

import ember

NO_GPU = not ember.cuda.is_available() and not torch.cuda.is_available()
pytestmark = pytest.mark.skipif(not NO_GPU, reason="tests the answers of a machine without a GPU")


def outcome(fn):
    """``("ok", repr(result))`` or ``(exception type name, message)``."""
    try:
        return "ok", repr(fn())
    except BaseException as e:  # noqa: BLE001  AssertionError is what both raise without CUDA
        return type(e).__name__, str(e)


def same(fn_e, fn_t):
    got, want = outcome(fn_e), outcome(fn_t)
    assert got[0] == want[0], (got, want)
    if got[0] != "ok":
        assert got[1] == want[1]
    return got


@pytest.mark.parametrize("call", [
    lambda m: m.cuda.is_available(), lambda m: m.cuda.device_count(), lambda m: m.cuda.current_device(),
    lambda m: m.cuda.set_device(0), lambda m: m.cuda.device(0).__enter__(), lambda m: m.cuda.get_device_name(),
    lambda m: m.cuda.get_device_properties(0), lambda m: m.cuda.get_device_capability(),
    lambda m: m.cuda.synchronize(), lambda m: m.cuda.Stream(), lambda m: m.cuda.current_stream(),
    lambda m: m.cuda.Event(enable_timing=True), lambda m: m.cuda.manual_seed(1), lambda m: m.cuda.manual_seed_all(1),
    lambda m: m.cuda.seed(), lambda m: m.cuda.get_rng_state(), lambda m: m.cuda.get_rng_state_all(),
    lambda m: m.cuda.set_rng_state(m.zeros(10, dtype=m.uint8)), lambda m: m.cuda.initial_seed(),
    lambda m: m.cuda.memory_allocated(), lambda m: m.cuda.max_memory_allocated(),
    lambda m: m.cuda.reset_peak_memory_stats(), lambda m: m.cuda.memory_reserved(), lambda m: m.cuda.empty_cache(),
    lambda m: m.cuda.mem_get_info(), lambda m: m.cuda.is_bf16_supported(), lambda m: m.cuda.is_initialized(),
    lambda m: m.cuda.init(), lambda m: dict(m.cuda.memory_stats()), lambda m: m.cuda.stream(None).__enter__(),
    lambda m: issubclass(m.cuda.OutOfMemoryError, RuntimeError),
])
def test_ember_cuda_answers_as_torch_cpu_build(call):
    same(lambda: call(ember), lambda: call(torch))


@pytest.mark.parametrize("move", [
    lambda m: m.ones(2).cuda(), lambda m: m.ones(2).cuda(non_blocking=True), lambda m: m.ones(2).cuda(0),
    lambda m: m.ones(2).cuda(1), lambda m: m.ones(2).cuda("cpu"), lambda m: m.ones(2).cuda("cuda:0"),
    lambda m: m.ones(2).cuda(m.device("cuda")), lambda m: m.ones(2).cuda(-1), lambda m: m.ones(2).to("cuda:1"),
    lambda m: m.ones(2).to(0), lambda m: m.ones(2, device=0), lambda m: m.ones(2, device="cuda"),
    lambda m: m.device(0), lambda m: m.device("cuda", 0), lambda m: m.nn.Linear(2, 2).cuda(),
    lambda m: m.nn.Linear(2, 2).cuda(0), lambda m: m.nn.Linear(2, 2).to(0), lambda m: m.nn.Linear(2, 2).to("cuda"),
    lambda m: m.ones(2).pin_memory(), lambda m: m.ones(2).is_pinned(), lambda m: m.ones(2).is_cuda,
    lambda m: m.ones(2).get_device(), lambda m: m.ones(2).cpu().is_cpu,
])
def test_moves_to_cuda_raise_torch_errors(move):
    same(lambda: move(ember), lambda: move(torch))


def test_module_cuda_error_is_torchs_assertion():
    kind, message = same(lambda: ember.nn.Linear(2, 2).cuda(), lambda: torch.nn.Linear(2, 2).cuda())
    assert kind == "AssertionError" and message == "Torch not compiled with CUDA enabled"


def test_import_ember_does_not_import_cupy():
    code = "import sys, ember; ember.ones(2) + 1; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_device_pattern_of_seed_programs_picks_cpu():
    e = ember.device("cuda" if ember.cuda.is_available() else "cpu")
    t = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert repr(e) == repr(t) == "device(type='cpu')"
    assert ember.accelerator.is_available() is torch.accelerator.is_available() is False


# ------------------------------------------------------------------------------------------ checkpoints
def cuda_tagged_checkpoint(obj):
    """What PyTorch writes for ``obj`` saved from CUDA tensors: the same archive as a CPU save, with every
    storage's location tag 'cuda:0' instead of 'cpu' (torch.save pickles the tag as a BINUNICODE string)."""
    src, dst = io.BytesIO(), io.BytesIO()
    torch.save(obj, src)
    with zipfile.ZipFile(io.BytesIO(src.getvalue())) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("/data.pkl"):
                assert data.count(b"X\x03\x00\x00\x00cpu") >= 1
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            zout.writestr(info.filename, data)
    return dst.getvalue()


def _state():
    lin = torch.nn.Linear(3, 2)
    return {"model": lin.state_dict(), "step": torch.tensor(7), "half": torch.arange(4, dtype=torch.float16)}


@pytest.mark.parametrize("map_location", ["cpu", "CPU_DEVICE", "DICT", "FUNCTION"])
def test_checkpoint_saved_from_cuda_loads_on_cpu(map_location):
    state = _state()
    blob = cuda_tagged_checkpoint(state)
    seen = []

    def locations(lib):
        return {"cpu": "cpu", "CPU_DEVICE": lib.device("cpu"), "DICT": {"cuda:0": "cpu"},
                "FUNCTION": lambda storage, loc: seen.append(loc) or storage}[map_location]

    want = torch.load(io.BytesIO(blob), map_location=locations(torch))   # PyTorch reads the crafted file
    got = ember.load(io.BytesIO(blob), map_location=locations(ember))
    assert got["model"].keys() == want["model"].keys()
    for k in want["model"]:
        assert got["model"][k].device.type == "cpu"
        np.testing.assert_array_equal(got["model"][k].numpy(), want["model"][k].numpy())
    assert got["step"].item() == 7 and got["half"].dtype == ember.float16
    if map_location == "FUNCTION":
        assert set(seen) == {"cuda:0"}


@pytest.mark.parametrize("map_location", [None, "cuda", "CUDA_DEVICE", {"cuda:0": "cuda:1"}])
def test_checkpoint_saved_from_cuda_without_map_location_raises_torchs_error(map_location):
    blob = cuda_tagged_checkpoint(_state())

    def load(lib):
        loc = lib.device("cuda") if map_location == "CUDA_DEVICE" else map_location
        return lib.load(io.BytesIO(blob), map_location=loc)

    kind, message = same(lambda: load(ember), lambda: load(torch))
    assert kind == "RuntimeError" and "torch.cuda.is_available() is False" in message


def test_module_state_from_cuda_checkpoint_trains_on_cpu():
    blob = cuda_tagged_checkpoint(_state())
    model = ember.nn.Linear(3, 2)
    model.load_state_dict(ember.load(io.BytesIO(blob), map_location="cpu")["model"])
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().clone()
    model(ember.ones(4, 3)).sum().backward()
    opt.step()
    assert not ember.equal(before, model.weight)


# ------------------------------------------------------------------------------------------ flags
def test_matmul_precision_flags_follow_torch():
    for lib in (ember, torch):
        lib.set_float32_matmul_precision("high")
    assert ember.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is True
    ember.backends.cuda.matmul.allow_tf32 = False
    assert ember.get_float32_matmul_precision() == "highest"
    for lib in (ember, torch):
        lib.set_float32_matmul_precision("highest")
    assert ember.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is False
    same(lambda: ember.backends.cuda.matmul.no_such_flag, lambda: torch.backends.cuda.matmul.no_such_flag)
    ember.backends.cudnn.benchmark = True   # accepted: programs set it before training
    ember.backends.cudnn.benchmark = False


def test_autocast_and_grad_scaler_for_cuda_warn_and_disable_without_gpu():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        with ember.autocast("cuda", dtype=ember.bfloat16):
            y = ember.ones(2, 2) @ ember.ones(2, 2)
    assert y.dtype == ember.float32
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = ember.amp.GradScaler("cuda")
    assert not scaler.is_enabled()


def test_views_of_a_device_tensor_share_one_storage_in_a_checkpoint():
    """Views of one tensor of another device (the tagged test device standing for CUDA) are saved as one storage
    tagged with that device, as CPU views are, and load on the CPU as views of one tensor again."""
    from array_backend import DEVICE, register
    register()
    base = ember.arange(12.0, device=DEVICE).reshape(3, 4)
    views = {"base": base, "row": base[1], "column": base[:, 2], "t": base.t(), "tail": base.reshape(-1)[5:]}

    def archive(state):
        buf = io.BytesIO()
        ember.save(state, buf)
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
            storages = [n for n in z.namelist() if "/data/" in n]
            pickled = z.read([n for n in z.namelist() if n.endswith("data.pkl")][0])
        return buf.getvalue(), storages, pickled

    blob, storages, pickled = archive(views)
    assert len(storages) == 1 and f"{DEVICE}:0".encode() in pickled
    got = ember.load(io.BytesIO(blob), map_location="cpu")
    for k, v in views.items():
        assert got[k].device.type == "cpu"
        np.testing.assert_array_equal(got[k].numpy(), v.cpu().numpy())
    got["base"][1, 2] = -1.0   # one storage: every view sees the write
    assert got["row"][2].item() == got["column"][1].item() == got["t"][2, 1].item() == got["tail"][1].item() == -1.0
