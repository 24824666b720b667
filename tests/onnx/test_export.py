"""ember.onnx.export: every exported model passes the ONNX checker (full_check), runs in ONNX Runtime and
matches ember's own output on the export input and on an input with other sizes along the dynamic axes;
API semantics and errors are compared with PyTorch 2.13."""
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.onnx  # noqa: E402
import ember.vision.models as vm  # noqa: E402
from ember.onnx.errors import UnsupportedOperatorError, OnnxExporterError  # noqa: E402
from ember.onnx._trace import tensors_in  # noqa: E402

from _models import (MLP, CNN, LeNet, TwoOutputs, MaskedPool, RNNLM, TransformerLM, Encoder,  # noqa: E402
                     GPTBlock)

ort.set_default_logger_severity(3)


def _split(args):
    args = args if isinstance(args, tuple) else (args,)
    if isinstance(args[-1], dict):
        return args[:-1], args[-1]
    return args, {}


def export_and_check(model, args, others=(), **kw):
    """Export, check (full_check), and compare ONNX Runtime with ember on ``args`` and each of ``others``."""
    f = io.BytesIO()
    ember.onnx.export(model, args, f, dynamo=False, **kw)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(f.getvalue())
    names = [i.name for i in sess.get_inputs()]
    model.eval()
    for a in (args,) + tuple(others):
        pos, kwargs = _split(a)
        with ember.no_grad():
            ref = tensors_in(model(*pos, **kwargs))
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, tensors_in(list(pos)) + tensors_in(kwargs))})
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert g.shape == tuple(r.shape)
            np.testing.assert_allclose(g, r.numpy(), rtol=1e-4, atol=1e-5)
    return proto


def _randomize_bn(model):
    """Random running stats and affine params, so a fresh vision model's output is not near zero."""
    g = np.random.default_rng(0)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(ember.tensor(g.normal(0, 0.1, c), dtype=ember.float32))
            m.running_var.copy_(ember.tensor(g.uniform(0.5, 1.5, c), dtype=ember.float32))
            m.weight.data.copy_(ember.tensor(g.uniform(0.5, 1.5, c), dtype=ember.float32))
            m.bias.data.copy_(ember.tensor(g.normal(0, 0.1, c), dtype=ember.float32))
    return model


def _mask(b, t):
    m = ember.rand(b, t) > 0.3
    m[:, 0] = True
    return m


CASES = {
    "mlp": lambda: (MLP(), ember.randn(3, 6), [ember.randn(5, 6)], ["x"], ["y"], {"x": {0: "b"}, "y": {0: "b"}}),
    "cnn_bn_pool": lambda: (CNN(), ember.randn(2, 3, 16, 16), [ember.randn(3, 3, 24, 20)], ["x"], ["y"],
                            {"x": {0: "b", 2: "h", 3: "w"}, "y": {0: "b"}}),
    "lenet": lambda: (LeNet(), ember.randn(2, 1, 32, 32), [ember.randn(5, 1, 32, 32)], ["x"], ["y"],
                      {"x": [0], "y": [0]}),
    "two_outputs": lambda: (TwoOutputs(), ember.randn(3, 5), [ember.randn(6, 5)], ["x"], ["probs", "value"],
                            {"x": {0: "b"}, "probs": {0: "b"}, "value": {0: "b"}}),
    "kwargs_mask": lambda: (MaskedPool(), (ember.randn(2, 5, 4), {"mask": _mask(2, 5)}),
                            [(ember.randn(3, 7, 4), {"mask": _mask(3, 7)})], ["x", "mask"], ["y"],
                            {"x": {0: "b", 1: "t"}, "mask": {0: "b", 1: "t"}}),
    "kwargs_default": lambda: (MaskedPool(), (ember.randn(2, 5, 4),), [(ember.randn(3, 7, 4),)], ["x"], ["y"],
                               {"x": {0: "b", 1: "t"}}),
    "lstm_lm": lambda: (RNNLM("LSTM"), (ember.randint(0, 20, (5, 2)), (ember.randn(2, 2, 12), ember.randn(2, 2, 12))),
                        [(ember.randint(0, 20, (7, 3)), (ember.randn(2, 3, 12), ember.randn(2, 3, 12)))],
                        ["tokens", "h0", "c0"], ["logp", "hn", "cn"],
                        {"tokens": {0: "t", 1: "b"}, "h0": {1: "b"}, "c0": {1: "b"}}),
    "gru_lm": lambda: (RNNLM("GRU"), (ember.randint(0, 20, (5, 2)), ember.randn(2, 2, 12)),
                       [(ember.randint(0, 20, (7, 3)), ember.randn(2, 3, 12))], ["tokens", "h0"], ["logp", "hn"],
                       {"tokens": {0: "t", 1: "b"}, "h0": {1: "b"}}),
    "transformer_encoder": lambda: (Encoder(), (ember.randn(2, 5, 16), {"src_key_padding_mask": ~_mask(2, 5)}),
                                    [(ember.randn(3, 7, 16), {"src_key_padding_mask": ~_mask(3, 7)})],
                                    ["x", "pad"], ["y"], {"x": {0: "b", 1: "t"}, "pad": {0: "b", 1: "t"}}),
    "gpt_block": lambda: (GPTBlock(), ember.randn(2, 5, 16), [ember.randn(3, 7, 16)], ["x"], ["y"],
                          {"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}}),
    "resnet18": lambda: (_randomize_bn(vm.resnet18(num_classes=10)), ember.randn(2, 3, 64, 64),
                         [ember.randn(3, 3, 48, 56)], ["x"], ["y"], {"x": {0: "b", 2: "h", 3: "w"}}),
    "mobilenet_v2": lambda: (_randomize_bn(vm.mobilenet_v2(num_classes=10)), ember.randn(2, 3, 64, 64),
                             [ember.randn(3, 3, 64, 64)], ["x"], ["y"], {"x": {0: "b"}}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_model_exports_and_matches_onnxruntime(case):
    ember.manual_seed(0)
    model, args, others, ins, outs, dyn = CASES[case]()
    proto = export_and_check(model, args, others, input_names=ins, output_names=outs, dynamic_axes=dyn)
    assert [i.name for i in proto.graph.input] == ins
    assert [o.name for o in proto.graph.output] == outs
    inits = {i.name for i in proto.graph.initializer}
    assert inits <= set(model.state_dict())          # parameters and buffers keep their state_dict names
    assert any(n.endswith("weight") for n in inits)
    for name, axes in dyn.items():
        vi = next(v for v in list(proto.graph.input) + list(proto.graph.output) if v.name == name)
        dims = vi.type.tensor_type.shape.dim
        for a in (axes if isinstance(axes, list) else axes):
            assert dims[a].dim_param, (name, a)


@pytest.mark.parametrize("kind", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU", "Transformer"])
def test_word_language_model_onnx_export_path(kind):
    # main.py --onnx-export: eval model, LongTensor(seq_len * batch).zero_().view(-1, batch), init_hidden
    ember.manual_seed(0)
    model = TransformerLM() if kind == "Transformer" else RNNLM(kind)
    model.eval()
    dummy = ember.LongTensor(7 * 2).zero_().view(-1, 2)
    args = (dummy,) if kind == "Transformer" else (dummy, model.init_hidden(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = export_and_check(model, args, [tuple(ember.randint(0, 20, (7, 2)) if i == 0 else a
                                                     for i, a in enumerate(args))])
    ops = {n.op_type for n in proto.graph.node}
    assert {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU", "Transformer": "Softmax"}[kind] in ops


def test_transformer_lm_len_warns_and_unrolls():
    model = TransformerLM().eval()
    with pytest.warns(ember.jit.TracerWarning, match="Python length"):
        ember.onnx.export(model, (ember.randint(0, 20, (7, 2)),), io.BytesIO(), dynamo=False)


@pytest.mark.parametrize("opset", [13, 16, 17, 20])
def test_opsets(opset):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6, 8),
                          nn.LayerNorm(8), nn.Hardswish())
    proto = export_and_check(model, ember.randn(2, 3, 6), [ember.randn(4, 3, 6)], opset_version=opset,
                             input_names=["x"], dynamic_axes={"x": {0: "n"}})
    assert proto.opset_import[0].version == opset
    assert ("LayerNormalization" in {n.op_type for n in proto.graph.node}) == (opset >= 17)


def test_upsample_pad_and_interpolate_modes():
    class M(nn.Module):
        def forward(self, x):
            a = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
            b = nn.functional.interpolate(x, size=(8, 10), mode="bilinear", align_corners=False)
            c = nn.functional.interpolate(x, size=(8, 10), mode="bilinear", align_corners=True)
            d = nn.functional.pad(x, (1, 2, 0, 1), mode="reflect")
            e = nn.functional.pad(x, (1, 1, 2, 0), value=0.5)
            return a, b + c, d.sum((2, 3)) + e.mean((2, 3))
    export_and_check(M(), ember.randn(2, 3, 4, 5), [ember.randn(1, 3, 4, 5)], input_names=["x"],
                     dynamic_axes={"x": [0]})


def test_indexing_joining_and_reductions():
    class M(nn.Module):
        def forward(self, x, idx):
            a = x[:, 1:, ::2] * 2 - x[:, :-1, ::2]
            b = ember.cat([x[..., 0], x[:, 0]], dim=1).unsqueeze(-1)
            parts = x.chunk(2, dim=2)
            c = ember.stack(parts, 0).permute(1, 0, 3, 2).reshape(x.shape[0], -1)
            d = ember.gather(x, 2, idx).amax(-1) + x.index_select(1, ember.tensor([0, 2])).std(1).mean(-1, True)
            e = ember.where(x > 0, x, x.exp() - 1).var(dim=(1, 2), keepdim=True).squeeze()
            f = x.max(dim=1).values + x.argmax(1) / 3 + x.softmax(-1).log_softmax(1)[:, 0]
            return a.flatten(1), b, c, d, e, f, x.transpose(1, 2).contiguous().view(x.shape[0], 4, -1)
    x = ember.randn(2, 3, 4)
    idx = ember.randint(0, 4, (2, 3, 4))
    export_and_check(M(), (x, idx), [(ember.randn(5, 3, 4), ember.randint(0, 4, (5, 3, 4)))],
                     input_names=["x", "idx"], dynamic_axes={"x": [0], "idx": [0]})


def test_export_to_path_and_file_object_and_returns(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "m.onnx"
    assert ember.onnx.export(model, (ember.randn(4, 3),), str(path), dynamo=False) is None
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    prog = ember.onnx.export(model, ember.randn(4, 3))
    assert isinstance(prog, ember.onnx.ONNXProgram)
    buf = io.BytesIO()
    prog.save(buf)
    assert onnx.load_from_string(buf.getvalue()) == prog.model_proto


def test_export_params_and_initializers_as_inputs():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    x = ember.randn(5, 3)
    f = io.BytesIO()
    ember.onnx.export(model, x, f, export_params=False, dynamo=False)
    proto = onnx.load_from_string(f.getvalue())
    assert not proto.graph.initializer
    assert {"0.weight", "1.running_mean"} <= {i.name for i in proto.graph.input}
    f = io.BytesIO()
    ember.onnx.export(model, x, f, keep_initializers_as_inputs=True, dynamo=False)
    proto = onnx.load_from_string(f.getvalue())
    assert {i.name for i in proto.graph.initializer} <= {i.name for i in proto.graph.input}
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias", "1.weight", "1.bias",
                                                        "1.running_mean", "1.running_var"}


def test_constant_folding():
    class M(nn.Module):
        def forward(self, x):
            return x + ember.arange(4.0).cumsum(0).exp()
    folded = export_and_check(M(), ember.randn(2, 4))
    kept = export_and_check(M(), ember.randn(2, 4), do_constant_folding=False)
    assert "CumSum" not in {n.op_type for n in folded.graph.node}
    assert {"CumSum", "Exp"} <= {n.op_type for n in kept.graph.node}


def test_verbose_prints_graph(capsys):
    ember.onnx.export(nn.Linear(3, 2), ember.randn(1, 3), io.BytesIO(), verbose=True, dynamo=False)
    assert "Gemm" in capsys.readouterr().out


def test_mode_is_eval_during_export_and_restored():
    seen = []

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.9)

        def forward(self, x):
            seen.append((self.training, ember.onnx.is_in_onnx_export()))
            return self.drop(x) * 2
    m = M().train()
    proto = export_and_check(m, ember.ones(3, 4))
    assert seen[0] == (False, True)
    assert not ember.onnx.is_in_onnx_export()
    m.train()
    ember.onnx.export(m, ember.ones(3, 4), io.BytesIO(), dynamo=False)
    assert m.training
    assert {n.op_type for n in proto.graph.node} <= {"Mul", "Identity", "Constant"}
    with ember.onnx.select_model_mode_for_export(m, ember.onnx.TrainingMode.EVAL):
        assert not m.training
    assert m.training


def test_tracer_warning_for_python_control_flow():
    class M(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x * 2
            return x - 1
    with pytest.warns(ember.jit.TracerWarning, match="Python boolean"):
        proto = export_and_check(M(), ember.ones(2, 2))
    assert "Sub" not in {n.op_type for n in proto.graph.node}     # the branch taken is unrolled


def test_custom_op_symbolic_register_and_unregister():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())

    def clip_relu(g, input):
        return g.op("Clip", input, g.const(np.float32(0)), g.const(np.float32(0.5)))
    x = ember.randn(4, 3)
    ember.onnx.register_custom_op_symbolic("aten::relu", clip_relu, 13)
    try:
        f = io.BytesIO()
        ember.onnx.export(model, x, f, dynamo=False)
        ops = {n.op_type for n in onnx.load_from_string(f.getvalue()).graph.node}
        assert "Clip" in ops and "Relu" not in ops
    finally:
        ember.onnx.unregister_custom_op_symbolic("aten::relu", 13)
    proto = export_and_check(model, x)
    assert "Relu" in {n.op_type for n in proto.graph.node}


def test_unsupported_operator_names_op_and_module():
    class Act(nn.Module):
        def forward(self, x):
            return ember.erfinv(x.tanh())
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(Act()))
    with pytest.raises(UnsupportedOperatorError, match=r"'aten::erfinv' to ONNX opset version 18 is not supported"
                       r".*module '1\.0' \(Act\)"):
        ember.onnx.export(model, ember.randn(2, 3), io.BytesIO(), dynamo=False)


def test_opset_below_first_support_says_which():
    with pytest.raises(UnsupportedOperatorError, match="added in version 14"):
        ember.onnx.export(GPTBlock(), ember.randn(2, 5, 16), io.BytesIO(), opset_version=13, dynamo=False)


torch = pytest.importorskip("torch")


def _torch_error(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            fn()
    return info


def test_error_types_match_pytorch():
    assert issubclass(UnsupportedOperatorError, OnnxExporterError) and issubclass(OnnxExporterError, RuntimeError)
    assert issubclass(torch.onnx.errors.UnsupportedOperatorError, torch.onnx.errors.OnnxExporterError)
    assert issubclass(torch.onnx.errors.OnnxExporterError, RuntimeError)
    tm, em = torch.nn.Linear(3, 2), nn.Linear(3, 2)
    tx, ex = torch.randn(4, 3), ember.randn(4, 3)
    for kw in (dict(opset_version=30), dict(input_names=["x"], dynamic_axes={"x": [5]})):
        t = _torch_error(lambda: torch.onnx.export(tm, (tx,), io.BytesIO(), dynamo=False, **kw))
        with pytest.raises(type(t.value)) as e:
            ember.onnx.export(em, (ex,), io.BytesIO(), dynamo=False, **kw)
        assert str(e.value) == str(t.value).splitlines()[0]
    t = _torch_error(lambda: torch.onnx.register_custom_op_symbolic("relu", lambda g, x: x, 13))
    with pytest.raises(OnnxExporterError) as e:
        ember.onnx.register_custom_op_symbolic("relu", lambda g, x: x, 13)
    assert type(t.value).__name__ == type(e.value).__name__ and str(e.value) == str(t.value)


def test_unknown_dynamic_axes_name_warns_as_pytorch():
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        torch.onnx.export(torch.nn.Linear(3, 2), (torch.randn(4, 3),), io.BytesIO(), dynamo=False,
                          input_names=["x"], dynamic_axes={"bogus": [0]})
    with pytest.warns(UserWarning) as ew:
        ember.onnx.export(nn.Linear(3, 2), (ember.randn(4, 3),), io.BytesIO(), dynamo=False,
                          input_names=["x"], dynamic_axes={"bogus": [0]})
    expected = [str(w.message) for w in tw if "bogus for dynamic axes" in str(w.message)]
    assert expected and expected[0] in [str(w.message) for w in ew]


def test_jit_names_point_to_onnx_export():
    import ember.jit
    for fn in (ember.jit.trace, ember.jit.script):
        with pytest.raises(NotImplementedError, match=r"ember\.onnx\.export"):
            fn(nn.Linear(2, 2))
    assert ember.jit.is_scripting() is False and issubclass(ember.jit.TracerWarning, Warning)


def test_import_ember_does_not_import_onnx():
    code = "import sys, ember; import ember.nn; print('onnx' in sys.modules or 'onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_layer_zoo():
    class Zoo(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)
            self.inorm = nn.InstanceNorm2d(4, affine=True)
            self.c3 = nn.Conv3d(1, 2, (1, 3, 3), padding=(0, 1, 1))
            self.pool1 = nn.MaxPool1d(2)
            self.ada = nn.AdaptiveAvgPool2d((2, 2))
            self.prelu = nn.PReLU(4)
            self.acts = nn.ModuleList([nn.ELU(), nn.SELU(), nn.Softplus(beta=2.0), nn.Mish(), nn.Hardtanh(-0.5, 0.5),
                                       nn.Hardsigmoid(), nn.ReLU6(), nn.Sigmoid(), nn.Softsign(), nn.CELU(),
                                       nn.LogSigmoid(), nn.Tanhshrink(), nn.GLU(1)])

        def forward(self, x):
            y = self.prelu(self.inorm(self.up(x)))
            z = self.c3(x[:, :1].unsqueeze(1)).squeeze(1)
            w = self.pool1(x.flatten(2))
            feats = [self.ada(y).flatten(1), z.mean((2, 3)), w.amax(-1)]
            return [a(y) for a in self.acts] + feats
    export_and_check(Zoo(), ember.randn(2, 3, 4, 6), [ember.randn(3, 3, 4, 6)], input_names=["x"],
                     dynamic_axes={"x": {0: "n"}})


def test_transformer_decoder_and_attention_weights():
    class Dec(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerDecoderLayer(16, 2, 24, dropout=0.1, norm_first=True)
            self.dec = nn.TransformerDecoder(layer, 2)
            self.mha = nn.MultiheadAttention(16, 4, kdim=8, vdim=8)

        def forward(self, tgt, memory, side):
            out = self.dec(tgt, memory)
            att, weights = self.mha(out, side, side)
            return att, weights
    args = (ember.randn(5, 2, 16), ember.randn(6, 2, 16), ember.randn(4, 2, 8))
    others = [(ember.randn(7, 3, 16), ember.randn(3, 3, 16), ember.randn(5, 3, 8))]
    export_and_check(Dec(), args, others, input_names=["tgt", "memory", "side"],
                     dynamic_axes={"tgt": [0, 1], "memory": {0: "s", 1: "tgt_dynamic_axes_2"},
                                   "side": {0: "k", 1: "tgt_dynamic_axes_2"}})


def test_item_assignment():
    class Fill(nn.Module):
        def forward(self, x):
            bias = ember.zeros(4)
            bias[1:3] = 2.0                # on a constant: folds into the constant
            return x + bias

    class Write(nn.Module):
        def forward(self, x):
            x = x.clone()
            x[:, 0] = 0.0                  # on a traced value: refused, not silently dropped
            return x
    export_and_check(Fill(), ember.randn(2, 4))
    with pytest.raises(UnsupportedOperatorError, match="aten::__setitem__"):
        ember.onnx.export(Write(), ember.randn(2, 4), io.BytesIO(), dynamo=False)
