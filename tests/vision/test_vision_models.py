"""ember.vision.models against torchvision: module names (state_dict keys, shapes, dtypes), parameter counts and
reprs equal; given torchvision's weights, outputs match in eval mode (and gradients in train mode); init
distributions match; weight enums, the registry, the legacy ``pretrained`` interface and the offline errors."""
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import ember
import ember.vision as ev
from tv_oracle import import_torchvision

tv = import_torchvision()
EM, TM = ev.models, tv.models


def to_ember_state(t_model):
    return {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in t_model.state_dict().items()}


def randomize_bn_stats(t_model, seed=0):
    """Non-trivial running statistics and affine parameters, so eval-mode BN is really exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in t_model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def same_structure(e_model, t_model):
    e_sd, t_sd = e_model.state_dict(), t_model.state_dict()
    assert list(e_sd) == list(t_sd)
    for k in t_sd:
        assert tuple(e_sd[k].shape) == tuple(t_sd[k].shape), k
        assert str(e_sd[k].dtype) == str(t_sd[k].dtype), k
    assert [n for n, _ in e_model.named_parameters()] == [n for n, _ in t_model.named_parameters()]
    assert [n for n, _ in e_model.named_buffers()] == [n for n, _ in t_model.named_buffers()]
    assert sum(p.numel() for p in e_model.parameters()) == sum(p.numel() for p in t_model.parameters())
    assert [(n, type(m).__name__) for n, m in e_model.named_modules()] == \
        [(n, type(m).__name__) for n, m in t_model.named_modules()]
    assert repr(e_model) == repr(t_model)


# (builder, input side): every model the issue names, plus a few relatives (grouped convs, SqueezeNet 1.1);
# side None: structure only (VGG's 100M-weight classifier makes each forward comparison cost seconds)
MODELS = [("resnet18", 64), ("resnet34", 48), ("resnet50", 64), ("vgg11", None), ("vgg11_bn", 32), ("vgg16", 32),
          ("vgg16_bn", None), ("alexnet", 63), ("mobilenet_v2", 64), ("squeezenet1_0", 64), ("squeezenet1_1", 48),
          ("resnext50_32x4d", 48)]


@pytest.mark.parametrize("name,side", MODELS, ids=[m[0] for m in MODELS])
def test_structure_and_eval_forward_match_torchvision(name, side):
    torch.manual_seed(0)
    t_model = TM.get_model(name, weights=None)
    e_model = EM.get_model(name, weights=None)
    same_structure(e_model, t_model)
    assert type(e_model).__module__ == type(t_model).__module__.replace("torchvision", "ember.vision")
    if side is None:
        return
    randomize_bn_stats(t_model)
    result = e_model.load_state_dict(to_ember_state(t_model))
    assert not result.missing_keys and not result.unexpected_keys
    t_model.eval()
    e_model.eval()
    x = np.random.default_rng(1).standard_normal((2, 3, side, side)).astype(np.float32)
    with torch.no_grad():
        ref = t_model(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        out = e_model(ember.from_numpy(x))
    assert tuple(out.shape) == ref.shape == (2, 1000) and out.dtype is ember.float32
    scale = np.abs(ref).max()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-3, atol=1e-4 * scale)


def _train_step(lib, model, x, y):
    loss = lib.nn.functional.cross_entropy(model(lib.from_numpy(x)), lib.from_numpy(y))
    loss.backward()
    return loss.item()


def test_train_mode_forward_backward_and_running_stats_match():
    # Gradients are compared in float64: a float32 ReLU network has pre-activations within rounding of zero
    # (here one of 12,800 at ~6e-6 in layer2), and any change in summation order flips such a ReLU, which moves
    # every gradient upstream of it by ~1% -- noise, not a bug.  float32 is checked on the loss and the running
    # statistics, which such a flip does not move.
    torch.manual_seed(0)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 40, 40)).astype(np.float32)
    y = rng.integers(0, 7, 4)
    for dtype in (np.float32, np.float64):
        t_model = TM.resnet18(num_classes=7).to(getattr(torch, np.dtype(dtype).name))
        e_model = EM.resnet18(num_classes=7).to(getattr(ember, np.dtype(dtype).name))
        e_model.load_state_dict(to_ember_state(t_model))
        t_loss = _train_step(torch, t_model, x.astype(dtype), y)
        e_loss = _train_step(ember, e_model, x.astype(dtype), y)
        np.testing.assert_allclose(e_loss, t_loss, rtol=1e-4 if dtype == np.float32 else 1e-10)
        e_bufs = dict(e_model.named_buffers())
        for name, b in t_model.named_buffers():
            np.testing.assert_allclose(e_bufs[name].numpy(), b.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    e_params = dict(e_model.named_parameters())
    for name, p in t_model.named_parameters():
        g = p.grad.numpy()
        np.testing.assert_allclose(e_params[name].grad.numpy(), g, rtol=1e-7, atol=1e-9 * np.abs(g).max(),
                                   err_msg=name)


@pytest.mark.parametrize("name", ["resnet18", "vgg11_bn", "alexnet", "mobilenet_v2", "squeezenet1_0"])
def test_initialisation_matches_torchvision_distributions(name):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e_sd, t_sd = EM.get_model(name).state_dict(), TM.get_model(name).state_dict()
    for k, tv_value in t_sd.items():
        # statistics on (up to) the first 50,000 values: enough to tell the distributions apart, and fast
        t = tv_value.numpy().ravel()[:50000].astype(np.float64)
        e = e_sd[k].numpy().ravel()[:50000].astype(np.float64)
        if t.min() == t.max():  # constants (BN weights/biases, zeroed biases, buffers)
            np.testing.assert_array_equal(e, t, err_msg=k)
            continue
        assert e.min() != e.max(), k
        if t.size >= 2000:
            assert 0.93 < e.std() / t.std() < 1.07, (k, e.std(), t.std())
            assert abs(e.mean() - t.mean()) < 5 * t.std() / np.sqrt(t.size) + 1e-4, k
            # same family: kurtosis 1.8 for uniform, 3 for normal (the maximum of a normal sample is too noisy)
            kurt = [np.mean((v - v.mean()) ** 4) / v.var() ** 2 for v in (e, t)]
            assert abs(kurt[0] - kurt[1]) < 0.4, (k, kurt)


def test_zero_init_residual_and_seeded_builds_repeat():
    m = EM.resnet18(zero_init_residual=True)
    assert all(float(b.bn2.weight.detach().abs().sum()) == 0 for layer in (m.layer1, m.layer2) for b in layer)
    m50 = EM.resnet50(zero_init_residual=True, num_classes=3)
    assert float(m50.layer3[0].bn3.weight.detach().abs().sum()) == 0 and m50.fc.out_features == 3
    ember.manual_seed(7)
    a = EM.mobilenet_v2().state_dict()
    ember.manual_seed(7)
    b = EM.mobilenet_v2().state_dict()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_model_kwargs_match_torchvision():
    for name, kwargs in [("resnet18", {"num_classes": 10}),
                         ("vgg11", {"num_classes": 5, "dropout": 0.1, "init_weights": False}),
                         ("alexnet", {"num_classes": 3}), ("mobilenet_v2", {"width_mult": 0.5, "num_classes": 4}),
                         ("squeezenet1_1", {"num_classes": 2}),
                         ("resnet50", {"replace_stride_with_dilation": [False, True, True], "num_classes": 6})]:
        same_structure(EM.get_model(name, **kwargs), TM.get_model(name, **kwargs))


def test_small_models_train_step_runs():
    model = EM.mobilenet_v2(num_classes=3)
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = ember.randn(2, 3, 32, 32), ember.tensor([0, 2])
    loss = ember.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    opt.step()


def test_registry_matches_torchvision():
    names = EM.list_models()
    assert set(names) <= set(TM.list_models())
    assert names == TM.list_models(include=names)
    for want in ("resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "alexnet",
                 "mobilenet_v2", "squeezenet1_0"):
        assert want in names
    assert EM.list_models(include="resnet*", exclude=["resnet1*"]) == ["resnet34", "resnet50"]
    assert EM.list_models(module=EM.vgg) == TM.list_models(module=TM.vgg)
    assert EM.get_model_builder("ResNet18") is EM.resnet18
    assert EM.get_model_weights("resnet50") is EM.ResNet50_Weights
    assert EM.get_model_weights(EM.vgg16) is EM.VGG16_Weights
    assert EM.get_weight("ResNet50_Weights.IMAGENET1K_V2") is EM.ResNet50_Weights.IMAGENET1K_V2
    for call in (lambda M: M.get_model("resnet1000"), lambda M: M.get_weight("nodots"),
                 lambda M: M.get_weight("Nope_Weights.X")):
        with pytest.raises(ValueError) as t_err:
            call(TM)
        with pytest.raises(ValueError, match=str(t_err.value).replace("(", r"\(").replace(")", r"\)")):
            call(EM)


WEIGHT_ENUMS = ["ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights",
                "ResNeXt50_32X4D_Weights", "ResNeXt101_32X8D_Weights", "ResNeXt101_64X4D_Weights",
                "Wide_ResNet50_2_Weights", "Wide_ResNet101_2_Weights", "VGG11_Weights", "VGG11_BN_Weights",
                "VGG13_Weights", "VGG13_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights",
                "VGG19_BN_Weights", "AlexNet_Weights", "MobileNet_V2_Weights", "SqueezeNet1_0_Weights",
                "SqueezeNet1_1_Weights"]


def _meta(w):
    return {k: v for k, v in w.meta.items() if k != "_docs"}


@pytest.mark.parametrize("enum", WEIGHT_ENUMS)
def test_weight_enums_match_torchvision(enum):
    e_enum, t_enum = getattr(EM, enum), getattr(TM, enum)
    assert [w._name_ for w in e_enum] == [w._name_ for w in t_enum]
    assert e_enum.DEFAULT._name_ == t_enum.DEFAULT._name_
    for e, t in zip(e_enum, t_enum):
        assert e.url == t.url and repr(e) == repr(t)
        em, tm = _meta(e), _meta(t)
        nan = em["_metrics"]["ImageNet-1K"]["acc@1"] != em["_metrics"]["ImageNet-1K"]["acc@1"]
        if nan:  # NaN metrics never compare equal
            em, tm = dict(em, _metrics=None), dict(tm, _metrics=None)
        assert em == tm
        assert e.transforms.keywords == t.transforms.keywords
        assert repr(e.transforms()) == repr(t.transforms())
    assert e_enum.verify("IMAGENET1K_V1") is e_enum.IMAGENET1K_V1
    assert e_enum.verify(f"{enum}.DEFAULT") is e_enum.DEFAULT
    assert e_enum.verify(None) is None


def test_weights_transforms_preprocess_like_torchvision():
    img = Image.fromarray(np.random.default_rng(3).integers(0, 256, (300, 280, 3), dtype=np.uint8))
    e = EM.ResNet50_Weights.IMAGENET1K_V2.transforms()(img)
    t = TM.ResNet50_Weights.IMAGENET1K_V2.transforms()(img)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)
    batch = np.random.default_rng(4).integers(0, 256, (2, 3, 260, 270), dtype=np.uint8)
    e = EM.ResNet18_Weights.DEFAULT.transforms()(ember.from_numpy(batch))
    t = TM.ResNet18_Weights.DEFAULT.transforms()(torch.from_numpy(batch))
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=2e-2)  # uint8 resize may round differently
    assert EM.ResNet18_Weights.DEFAULT.transforms().describe() == TM.ResNet18_Weights.DEFAULT.transforms().describe()


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("call", [
    lambda: EM.resnet18(weights="IMAGENET1K_V1"),
    lambda: EM.resnet18(weights=EM.ResNet18_Weights.DEFAULT),
    lambda: EM.get_model("resnet18", weights="DEFAULT"),
    lambda: EM.resnet18(pretrained=True),
    lambda: EM.resnet18(True),
])
def test_named_weights_raise_clear_offline_error(empty_hub, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as info:
            call()
    msg = str(info.value)
    assert "offline" in msg and "https://download.pytorch.org/models/resnet18-f37072fd.pth" in msg
    assert "resnet18-f37072fd.pth" in msg and "load_state_dict" in msg and "resnet18(weights=None)" in msg
    assert str(empty_hub) in msg


def test_named_weights_load_from_the_hub_cache(empty_hub):
    """A checkpoint placed where the error message says (saved by real torch) is loaded by ``weights=``."""
    torch.manual_seed(3)
    t_model = TM.squeezenet1_1()
    randomize_bn_stats(t_model)
    folder = empty_hub / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(t_model.state_dict(), folder / "squeezenet1_1-b8a52dc0.pth")
    e_model = EM.squeezenet1_1(weights=EM.SqueezeNet1_1_Weights.DEFAULT).eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 40, 40)).astype(np.float32)
    with torch.no_grad():
        ref = t_model.eval()(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        np.testing.assert_allclose(e_model(ember.from_numpy(x)).numpy(), ref, rtol=1e-4, atol=1e-5)
    with pytest.warns(UserWarning) as caught:
        legacy = EM.squeezenet1_1(pretrained=True)
    assert "'pretrained' is deprecated" in str(caught[0].message) and "weights=SqueezeNet1_1_Weights.DEFAULT" in \
        str(caught[1].message)
    np.testing.assert_array_equal(legacy.features[0].weight.detach().numpy(),
                                  t_model.features[0].weight.detach().numpy())


@pytest.mark.parametrize("name,enum", [("vgg16_bn", "VGG16_BN_Weights"), ("alexnet", "AlexNet_Weights"),
                                       ("mobilenet_v2", "MobileNet_V2_Weights"),
                                       ("squeezenet1_0", "SqueezeNet1_0_Weights"), ("resnet50", "ResNet50_Weights")])
def test_offline_error_for_each_model(empty_hub, name, enum):
    with pytest.raises(RuntimeError, match=getattr(EM, enum).DEFAULT.url.rsplit("/", 1)[1].replace(".", r"\.")):
        EM.get_model(name, weights=getattr(EM, enum).DEFAULT)


def test_legacy_pretrained_warnings_match_torchvision(empty_hub):
    def messages(fn):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fn()
            except RuntimeError as exc:  # ember's offline error, after the deprecation warnings
                assert "offline" in str(exc)
        return [str(w.message) for w in caught]

    assert messages(lambda: EM.alexnet(pretrained=False)) == messages(lambda: TM.alexnet(pretrained=False))
    assert messages(lambda: EM.squeezenet1_1(False)) == messages(lambda: TM.squeezenet1_1(False))
    # torchvision would download here; its warnings are known text
    assert messages(lambda: EM.alexnet(pretrained=True)) == [
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please use 'weights' "
        "instead.",
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may be removed in "
        "the future. The current behavior is equivalent to passing `weights=AlexNet_Weights.IMAGENET1K_V1`. You can "
        "also use `weights=AlexNet_Weights.DEFAULT` to get the most up-to-date weights."]


def test_weight_argument_errors_match_torchvision(empty_hub):
    cases = [lambda M: M.resnet18(weights=M.VGG11_Weights.DEFAULT),
             lambda M: M.resnet18(weights="IMAGENET1K_V9"),
             lambda M: M.resnet18(weights="IMAGENET1K_V1", num_classes=10),
             lambda M: M.resnext50_32x4d(groups=2),
             lambda M: M.resnet18(replace_stride_with_dilation=[True]),
             lambda M: M.mobilenet_v2(inverted_residual_setting=[[1, 2]]),
             lambda M: M.squeezenet.SqueezeNet(version="2_0"),
             lambda M: M.resnet.BasicBlock(4, 4, groups=2)]
    for case in cases:
        with pytest.raises(Exception) as t_err:
            case(TM)
        with pytest.raises(type(t_err.value)) as e_err:
            case(EM)
        assert str(e_err.value) == str(t_err.value)


def test_conv_norm_activation_matches_torchvision():
    from torchvision.ops.misc import Conv2dNormActivation as TorchCNA
    for kwargs in ({}, {"kernel_size": 1, "activation_layer": None}, {"stride": 2, "groups": 4, "norm_layer": None},
                   {"kernel_size": (3, 5), "dilation": 2}):
        same_structure(ev.ops.Conv2dNormActivation(8, 16, **kwargs), TorchCNA(8, 16, **kwargs))
