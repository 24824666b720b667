"""ember.utils.tensorboard.SummaryWriter against torch.utils.tensorboard: the same calls are made on
both writers, both folders are read back with TensorBoard's own EventAccumulator, and what TensorBoard
sees (values, histograms, decoded image pixels, plugin data, graphs, projector files) is compared."""
import io
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.util import tensor_util
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import ember
from ember.utils.tensorboard import SummaryWriter

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")
ALL = {"images": 0, "histograms": 0, "scalars": 0, "tensors": 0, "audio": 0, "compressedHistograms": 0}


def accumulator(folder):
    ea = EventAccumulator(str(folder), size_guidance=ALL)
    ea.Reload()
    return ea


def both(tmp_path, log):
    """Run ``log(writer, lib)`` with an ember writer and a torch writer; their accumulators (ember, torch)."""
    out = []
    for lib, cls in ((ember, SummaryWriter), (torch, TorchWriter)):
        folder = tmp_path / lib.__name__
        with cls(str(folder)) as w:
            log(w, lib)
        out.append(accumulator(folder))
    return out


def test_scalars_match_torch(tmp_path):
    def log(w, lib):
        w.add_scalar("loss", 0.25, 0, walltime=10.0)
        w.add_scalar("loss", lib.tensor(0.125), 1, walltime=11.0)
        w.add_scalar("loss", np.float32(1 / 3), 2, walltime=12.0)
        w.add_scalar("acc", lib.tensor([[0.5]], dtype=lib.float64), 7)
        w.add_scalar("new", 1 / 3, 3, new_style=True)
        w.add_scalar("new64", 1 / 3, 3, new_style=True, double_precision=True)
    e, t = both(tmp_path, log)
    assert e.Tags()["scalars"] == t.Tags()["scalars"] == ["loss", "acc"]
    for tag in ("loss", "acc"):
        assert [(s.step, s.value) for s in e.Scalars(tag)] == [(s.step, s.value) for s in t.Scalars(tag)]
    assert [s.wall_time for s in e.Scalars("loss")] == [10.0, 11.0, 12.0]
    assert e.Tags()["tensors"] == t.Tags()["tensors"] == ["new", "new64"]   # new style: scalar tensors
    for tag in ("new", "new64"):
        assert _tensor_events(e, tag) == _tensor_events(t, tag)
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)
    assert _tensor_events(e, "new64") == [(3, 1 / 3)]   # kept in float64


def test_add_scalars_writes_one_run_per_key(tmp_path):
    def log(w, lib):
        for step in range(3):
            w.add_scalars("run/a", {"sin": np.sin(step), "cos": lib.tensor(np.cos(step))}, step)
    both(tmp_path, log)
    for sub in ("run_a_sin", "run_a_cos"):
        e, t = accumulator(tmp_path / "ember" / sub), accumulator(tmp_path / "torch" / sub)
        assert e.Tags()["scalars"] == t.Tags()["scalars"] == ["run/a"]
        assert [(s.step, s.value) for s in e.Scalars("run/a")] == [(s.step, s.value) for s in t.Scalars("run/a")]


def test_histograms_match_torch(tmp_path):
    rng = np.random.RandomState(0)
    data = {"normal": rng.randn(1000).astype(np.float32), "ints": rng.randint(-5, 50, (20, 7)),
            "const": np.full(10, 3.0)}

    def log(w, lib):
        for name, arr in data.items():
            w.add_histogram(name, lib.tensor(arr), 1)
            w.add_histogram(name + "_10", arr, 2, bins=10)
            w.add_histogram(name + "_auto", lib.tensor(arr), 3, bins="auto", max_bins=5)
        w.add_histogram_raw("raw", 0, 4, 6, 10, 30, [1, 2, 4], [2, 2, 2], 5)
    e, t = both(tmp_path, log)
    tags = e.Tags()["histograms"]
    assert tags == t.Tags()["histograms"] and len(tags) == 10
    for tag in tags:
        (he,), (ht,) = e.Histograms(tag), t.Histograms(tag)
        assert he.step == ht.step
        assert he.histogram_value == ht.histogram_value, tag
    assert e.Histograms("normal")[0].histogram_value.num == 1000
    with pytest.raises(ValueError, match="The input has no element."):
        SummaryWriter(str(tmp_path / "x")).add_histogram("empty", np.array([]))


def _pixels(image_event):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(image_event.encoded_image_string)))


def test_images_match_torch(tmp_path):
    rng = np.random.RandomState(1)
    chw = rng.rand(3, 9, 7).astype(np.float32) * 1.2 - 0.1   # clipped to [0, 1]
    hwc_u8 = rng.randint(0, 256, (6, 5, 3)).astype(np.uint8)
    hw = rng.rand(4, 6)
    gray = rng.rand(1, 5, 5).astype(np.float32)
    rgba = rng.rand(4, 3, 3).astype(np.float32)
    batch = rng.rand(10, 1, 4, 3).astype(np.float32)
    nhwc = rng.randint(0, 256, (3, 4, 4, 3)).astype(np.uint8)

    def log(w, lib):
        w.add_image("chw", lib.tensor(chw), 0)
        w.add_image("hwc_u8", lib.tensor(hwc_u8), 1, dataformats="HWC")
        w.add_image("hw", hw, 2, dataformats="HW")
        w.add_image("gray", lib.tensor(gray), 3)
        w.add_image("rgba", lib.tensor(rgba), 4)
        w.add_images("batch", lib.tensor(batch), 5)
        w.add_images("nhwc", lib.tensor(nhwc), 6, dataformats="NHWC")
    e, t = both(tmp_path, log)
    assert e.Tags()["images"] == t.Tags()["images"]
    for tag in e.Tags()["images"]:
        (ie,), (it,) = e.Images(tag), t.Images(tag)
        assert (ie.step, ie.width, ie.height) == (it.step, it.width, it.height)
        np.testing.assert_array_equal(_pixels(ie), _pixels(it), err_msg=tag)
    assert _pixels(e.Images("batch")[0]).shape == (8, 24, 3)   # 10 images, 8 per row, gray -> RGB
    np.testing.assert_array_equal(_pixels(e.Images("hwc_u8")[0]), hwc_u8)
    with pytest.raises(AssertionError, match="size of input tensor and input format are different"):
        SummaryWriter(str(tmp_path / "x")).add_image("bad", ember.tensor(chw), dataformats="HW")


def test_figure_matches_torch(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure():
        fig = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1, 2], [2, 0, 1])
        return fig

    def log(w, lib):
        fig = figure()
        w.add_figure("one", fig, 1)
        assert not plt.fignum_exists(fig.number)   # closed after rendering
        w.add_figure("two", [figure(), figure()], 2)
    e, t = both(tmp_path, log)
    for tag in ("one", "two"):
        (ie,), (it,) = e.Images(tag), t.Images(tag)
        assert (ie.width, ie.height) == (it.width, it.height)
        np.testing.assert_array_equal(_pixels(ie), _pixels(it))
    assert (e.Images("one")[0].width, e.Images("one")[0].height) == (100, 75)


def test_boxes_audio_and_mesh_match_torch(tmp_path):
    rng = np.random.RandomState(5)
    img = rng.rand(3, 40, 50).astype(np.float32)
    boxes = np.array([[2, 3, 30, 20], [10, 12, 45, 38]], dtype=np.float32)
    sound = np.sin(np.linspace(0, 40, 800)) * 1.3   # clipped to [-1, 1]
    verts = rng.randn(1, 4, 3).astype(np.float32)
    colors = rng.randint(0, 256, (1, 4, 3)).astype(np.int32)
    faces = np.array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], dtype=np.int32)

    def log(w, lib):
        w.add_image_with_boxes("boxes", lib.tensor(img), lib.tensor(boxes), 1, labels=["cat", "dog"])
        w.add_image_with_boxes("boxes2", lib.tensor(img), lib.tensor(boxes), 2, rescale=2, labels="one label")
        w.add_audio("sound", lib.tensor(sound).unsqueeze(0), 3, sample_rate=8000)
        w.add_mesh("mesh", lib.tensor(verts), colors=lib.tensor(colors), faces=lib.tensor(faces),
                   config_dict={"camera": {"cls": "PerspectiveCamera", "fov": 75}}, global_step=4)
    e, t = both(tmp_path, log)
    for tag in ("boxes", "boxes2"):
        (ie,), (it,) = e.Images(tag), t.Images(tag)
        assert (ie.width, ie.height) == (it.width, it.height) == (50, 40)
        np.testing.assert_array_equal(_pixels(ie), _pixels(it), err_msg=tag)
    assert _pixels(e.Images("boxes2")[0]).shape == (80, 100, 3)
    (ae,), (at,) = e.Audio("sound"), t.Audio("sound")
    assert ae.encoded_audio_string == at.encoded_audio_string and ae.sample_rate == 8000
    assert e.Tags()["tensors"] == t.Tags()["tensors"] == ["mesh_VERTEX", "mesh_FACE", "mesh_COLOR"]
    for tag in e.Tags()["tensors"]:
        assert _tensor_events(e, tag)[0][0] == 4
        np.testing.assert_array_equal(_tensor_events(e, tag)[0][1], _tensor_events(t, tag)[0][1])
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)


def test_video_is_an_animated_gif_of_the_clips_tiled(tmp_path):
    from PIL import Image
    clips = np.zeros((5, 3, 3, 4, 6), dtype=np.uint8)   # 5 clips of 3 frames: padded to 8, in 2 rows of 4
    for k in range(5):
        for t in range(3):
            clips[k, t, k % 3] = 255 - 60 * t   # clip k is red, green or blue, darker each frame
    with SummaryWriter(str(tmp_path)) as w:
        w.add_video("clip", ember.tensor(clips), 1, fps=10)
    (ev,) = accumulator(tmp_path).Images("clip")
    assert (ev.width, ev.height) == (24, 8)
    gif = Image.open(io.BytesIO(ev.encoded_image_string))
    assert gif.n_frames == 3 and gif.info["duration"] == 100
    frame = np.asarray(gif.convert("RGB"))
    expected = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 0], [0, 255, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    for k, rgb in enumerate(expected):
        np.testing.assert_array_equal(frame[4 * (k // 4), 6 * (k % 4)], rgb, err_msg=str(k))


def _tensor_events(ea, tag):
    return [(ev.step, tensor_util.make_ndarray(ev.tensor_proto)) for ev in ea.Tensors(tag)]


def test_text_pr_curve_custom_scalars_and_tensor_match_torch(tmp_path):
    rng = np.random.RandomState(2)
    labels, preds = rng.randint(0, 2, 200), rng.rand(200)
    weights = rng.rand(200)
    layout = {"Losses": {"both": ["Multiline", ["loss/train", "loss/test"]],
                         "band": ["Margin", ["acc", "acc_lo", "acc_hi"]]}}

    def log(w, lib):
        w.add_text("notes", "**bold** and é", 3)
        w.add_pr_curve("pr", lib.tensor(labels), lib.tensor(preds), 4)
        w.add_pr_curve("pr_w", labels, preds, 5, num_thresholds=500, weights=weights)
        w.add_custom_scalars(layout)
        w.add_custom_scalars_multilinechart(["a", "b"], category="cat", title="ab")
        w.add_tensor("tensor", lib.tensor([[1.5, -2.0], [0.25, 8.0]]), 6)
        w.add_tensor("ints", lib.arange(5), 7)
    e, t = both(tmp_path, log)
    assert e.Tags()["tensors"] == t.Tags()["tensors"]
    for tag in e.Tags()["tensors"]:
        for (se, ae), (st, at) in zip(_tensor_events(e, tag), _tensor_events(t, tag), strict=True):
            assert se == st
            np.testing.assert_array_equal(ae, at, err_msg=tag)
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag), tag
    assert _tensor_events(e, "notes/text_summary")[0][1][0].decode() == "**bold** and é"
    pr = _tensor_events(e, "pr")[0][1]
    assert pr.shape == (6, 127) and pr[0, 0] == labels.sum()   # every positive is above threshold 0


def test_hparams_match_torch(tmp_path):
    def log(w, lib):
        w.add_hparams({"lr": 0.1, "bs": 32, "opt": "adam", "bn": True, "skip": None, "t": lib.tensor([0.5])},
                      {"hparam/acc": 0.9}, hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="hp",
                      global_step=2)
    both(tmp_path, log)
    e, t = accumulator(tmp_path / "ember" / "hp"), accumulator(tmp_path / "torch" / "hp")
    content = e.PluginTagToContent("hparams")
    assert content == t.PluginTagToContent("hparams") and len(content) == 3
    assert [(s.step, s.value) for s in e.Scalars("hparam/acc")] == [(2, pytest.approx(0.9))]
    w = SummaryWriter(str(tmp_path / "bad"))
    with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary."):
        w.add_hparams([("lr", 0.1)], {})
    with pytest.raises(ValueError, match="value should be one of int, float, str, bool, or torch.Tensor"):
        w.add_hparams({"x": [1]}, {}, run_name="r")
    w.close()


def make_net(lib):
    """Submodules, a view op outside them, and a reduction at the top, built with ``lib``."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.head = nn.Sequential(nn.Linear(8, 4), nn.ReLU())

        def forward(self, x):
            return self.head(self.conv(x).flatten(1)).sum(1)
    return Net()


@pytest.mark.filterwarnings("ignore:`torch.jit.trace")
def test_graph_has_the_module_tree_and_ops(tmp_path):
    x = np.random.RandomState(3).randn(2, 1, 4, 4).astype(np.float32)
    models = {"ember": make_net(ember), "torch": make_net(torch)}
    models["ember"].train()

    def log(w, lib):
        w.add_graph(models[lib.__name__], lib.tensor(x))
    e, t = both(tmp_path, log)
    ge, gt = {n.name: n for n in e.Graph().node}, {n.name: n for n in t.Graph().node}

    def shape(n):
        return [[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape]
    for io_name in ("input/x", "output/output.1"):
        assert shape(ge[io_name]) == shape(gt[io_name])
    op_scopes = {n.rsplit("/", 1)[0] for n, d in ge.items() if d.op not in ("IO Node", "Parameter")}
    torch_scopes = {n.rsplit("/", 1)[0] for n, d in gt.items() if d.op.startswith("aten::")}
    assert op_scopes == torch_scopes == {"Net/Conv2d[conv]", "Net/Sequential[head]/Linear[0]",
                                         "Net/Sequential[head]/ReLU[1]", "Net"}
    conv = next(d for n, d in ge.items() if d.op == "Convolution")
    assert list(conv.input) == ["input/x", "Net/Conv2d[conv]/weight", "Net/Conv2d[conv]/bias"]
    assert shape(conv) == [[2, 2, 2, 2]] and shape(ge["Net/Conv2d[conv]/weight"]) == [[2, 1, 3, 3]]
    relu = next(d for d in ge.values() if d.op == "Relu")
    assert shape(relu) == [[2, 4]] and ge[relu.input[0]].op == "Addmm"
    assert list(ge["output/output.1"].input) == [next(n for n, d in ge.items() if d.op == "Sum")]
    assert e.RunMetadata("step1") == t.RunMetadata("step1")
    m = models["ember"]
    assert m.training and all(p.grad is None for p in m.parameters())   # mode restored, grads untouched


def test_embedding_files_match_torch(tmp_path):
    rng = np.random.RandomState(4)
    mat = rng.randn(5, 3).astype(np.float32)
    imgs = rng.rand(5, 3, 4, 4).astype(np.float32)
    rows = [["a", 1], ["b", 2], ["c", 3], ["d", 4], ["e", 5]]

    def log(w, lib):
        w.add_embedding(lib.tensor(mat), metadata=list("vwxyz"), label_img=lib.tensor(imgs), tag="fe/at")
        w.add_embedding(mat, metadata=rows, metadata_header=["name", "n"], global_step=3)
    both(tmp_path, log)
    e, t = tmp_path / "ember", tmp_path / "torch"
    files = ["projector_config.pbtxt", "00000/fe%2fat/tensors.tsv", "00000/fe%2fat/metadata.tsv",
             "00003/default/tensors.tsv", "00003/default/metadata.tsv"]
    for f in files:
        assert (e / f).read_bytes() == (t / f).read_bytes(), f
    from PIL import Image
    sprite = np.asarray(Image.open(e / "00000/fe%2fat/sprite.png"))
    np.testing.assert_array_equal(sprite, np.asarray(Image.open(t / "00000/fe%2fat/sprite.png")))
    assert sprite.shape == (12, 12, 3)


def test_writer_lifecycle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = {th.ident for th in threading.enumerate()}
    w = SummaryWriter(comment="_lr0.1", flush_secs=3600)
    assert len({th.ident for th in threading.enumerate()} - before) == 1   # the background writer thread
    (run,) = os.listdir(tmp_path / "runs")
    import socket
    assert run.endswith("_" + socket.gethostname() + "_lr0.1") and run == os.path.basename(w.get_logdir())
    event_file = os.path.join(w.get_logdir(), os.listdir(w.get_logdir())[0])
    w.add_scalar("x", 1.0, 0)
    # the version record is on disk; the scalar may or may not be yet (the writer thread races this read)
    assert [e.step for e in EventFileLoader(event_file).Load()] in ([0], [0, 0])
    w.flush()
    assert len(list(EventFileLoader(event_file).Load())) == 2
    w.close()
    w.close()   # a second close does nothing
    assert {th.ident for th in threading.enumerate()} == before
    w.add_scalar("x", 2.0, 1)   # a closed writer opens a new event file
    w.close()
    files = os.listdir(w.get_logdir())
    assert len(files) == 2
    # read each file on its own: tensorboard numbers files with a process-wide counter, so by name '.10' sorts
    # before '.9' and an accumulator over the folder may read them out of order
    values = [s.value for f in files for s in accumulator(os.path.join(w.get_logdir(), f)).Scalars("x")]
    assert sorted(values) == [1.0, 2.0]


def test_purge_step_events_match_torch(tmp_path):
    kinds = []
    for lib, cls in ((ember, SummaryWriter), (torch, TorchWriter)):
        folder = tmp_path / lib.__name__
        with cls(str(folder), purge_step=5, filename_suffix=".sfx") as w:
            w.add_scalar("x", 1.0, 6)
        (name,) = os.listdir(folder)
        assert name.endswith(".sfx")
        kinds.append([(ev.step, ev.WhichOneof("what"), ev.session_log.status)
                      for ev in EventFileLoader(str(folder / name)).Load()])
    assert kinds[0] == kinds[1] and kinds[0][1:3] == [(5, "file_version", 0), (5, "session_log", 1)]


def test_scalar_errors_match_torch(tmp_path):
    w = SummaryWriter(str(tmp_path))
    with pytest.raises(AssertionError, match="Tensor should contain one element"):
        w.add_scalar("x", ember.ones(3))
    with pytest.raises(NotImplementedError, match="numpy array or torch tensor are expected"):
        w.add_scalar("x", [1.0])
    w.close()


def _run(code):
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_import_is_lazy_and_missing_package_names_the_extra():
    r = _run("import sys, ember; ember.utils.data; print('tensorboard' in sys.modules)")
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr
    blocker = ("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] == 'tensorboard': raise ModuleNotFoundError(name)\n"
               "sys.meta_path.insert(0, Block())\n"
               "import ember\n"
               "try:\n"
               "    from ember.utils.tensorboard import SummaryWriter\n"
               "except ImportError as e:\n"
               "    print(type(e).__name__, e)\n")
    r = _run(blocker)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ImportError") and "ember[tensorboard]" in r.stdout
