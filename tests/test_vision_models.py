"""nerve.vision.models: the CNN zoo against torchvision's known facts and PyTorch twins.

Every model builds in one call, maps a batch of 2 images to (2, num_classes) and fills every parameter's
gradient. Where torchvision has the network, parameter counts and state-dict keys are torchvision's.
For the rest, the same architecture is written here with torch.nn; nerve's weights (and BatchNorm running
statistics, after one training-mode step) are loaded into it through ``state_dict`` and the logits, the
input gradient and every parameter gradient are compared.
"""
from __future__ import annotations

import math
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn

import nerve
import nerve.nn.functional as NF
from nerve.vision import models

TOL = {"rtol": 1e-4, "atol": 1e-5}


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------- build + run

SMALL = {
    "lenet5": lambda c, k: models.LeNet5(num_classes=k, in_channels=c),
    "lenet5_tanh_avg": lambda c, k: models.LeNet5(num_classes=k, in_channels=c, activation="tanh", pool="avg"),
    "vgg_small": lambda c, k: models.vgg_small(num_classes=k, in_channels=c),
    "alexnet_small": lambda c, k: models.alexnet_small(num_classes=k, in_channels=c),
    "resnet18_small": lambda c, k: models.resnet18(num_classes=k, in_channels=c, small_input=True, width=8),
    "resnet34_small": lambda c, k: models.resnet34(num_classes=k, in_channels=c, small_input=True, width=4),
    "resnet50_small": lambda c, k: models.resnet50(num_classes=k, in_channels=c, small_input=True, width=4),
    "mobilenet_small": lambda c, k: models.mobilenet_small(num_classes=k, in_channels=c, width_mult=0.25),
    "inception_small": lambda c, k: models.inception_small(num_classes=k, in_channels=c, width=0.5),
}


def _check_forward_backward(model, shape, num_classes):
    model.train()
    x = nerve.randn(*shape)
    out = model(x)
    assert tuple(out.shape) == (shape[0], num_classes)
    assert np.isfinite(out.detach().numpy()).all()
    out.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert tuple(p.grad.shape) == tuple(p.shape), name
        assert np.isfinite(p.grad.numpy()).all(), name


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 32, 32)], ids=["28x28x1", "32x32x3"])
@pytest.mark.parametrize("name", list(SMALL))
def test_small_models_forward_backward(name, shape):
    nerve.manual_seed(0)
    model = SMALL[name](shape[1], 7)
    _check_forward_backward(model, shape, 7)


def test_resnet18_default_stem_forward_backward():
    nerve.manual_seed(0)
    model = models.resnet18(num_classes=5)
    _check_forward_backward(model, (2, 3, 64, 64), 5)


def test_default_widths_forward():
    """The default (full-width) small models run on MNIST-sized input."""
    for make in (models.vgg_small, models.alexnet_small, models.mobilenet_small, models.inception_small):
        out = make(10, 1).eval()(nerve.randn(2, 1, 28, 28))
        assert tuple(out.shape) == (2, 10)


# ------------------------------------------------------------------------------------- torchvision's facts

@pytest.mark.parametrize("make,count", [(models.resnet18, 11_689_512), (models.resnet34, 21_797_672),
                                        (models.resnet50, 25_557_032)], ids=["resnet18", "resnet34", "resnet50"])
def test_resnet_parameter_counts_match_torchvision(make, count):
    assert _n_params(make(num_classes=1000, in_channels=3)) == count


def test_mobilenet_v1_parameter_count_matches_keras():
    # keras.applications.MobileNet(alpha=1.0): 4,253,864 weights, of which 21,888 are BN running statistics.
    assert _n_params(models.MobileNetV1(num_classes=1000, in_channels=3)) == 4_253_864 - 21_888


def test_resnet18_state_dict_keys_follow_torchvision():
    sd = models.resnet18().state_dict()
    for key in ["conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
                "layer1.1.bn2.bias", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
                "layer2.0.downsample.1.running_var", "layer4.1.conv2.weight", "fc.weight", "fc.bias"]:
        assert key in sd, key
    assert "layer1.0.downsample.0.weight" not in sd          # stage 1 keeps width and stride: no downsample
    assert tuple(sd["conv1.weight"].shape) == (64, 3, 7, 7)
    assert tuple(sd["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert tuple(sd["fc.weight"].shape) == (1000, 512)
    # torchvision's resnet18 state dict: 62 parameters + 60 BN buffers (mean, var, count for 20 BNs).
    assert len(sd) == 122
    assert len(models.resnet50().state_dict()) == 320


def test_resnet_stem_options_and_init():
    nerve.manual_seed(0)
    small = models.resnet18(num_classes=10, in_channels=1, small_input=True, width=16, zero_init_residual=True)
    assert tuple(small.conv1.weight.shape) == (16, 1, 3, 3)
    assert small.conv1.stride == (1, 1) and isinstance(small.maxpool, nerve.nn.Identity)
    assert tuple(small.fc.weight.shape) == (10, 128)
    for blk in [small.layer1[0], small.layer3[1]]:
        assert (blk.bn2.weight.detach().numpy() == 0).all() and (blk.bn1.weight.detach().numpy() == 1).all()
    assert (small.bn1.bias.detach().numpy() == 0).all()
    # kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out_channels * kh * kw)).
    big = models.resnet18()
    w = big.layer3[0].conv1.weight.detach().numpy()
    std = math.sqrt(2.0 / (w.shape[0] * 9))
    assert abs(w.std() / std - 1) < 0.05 and abs(w.mean()) < 0.05 * std
    assert big.layer3[0].conv1.bias is None


def test_mobilenet_depthwise_structure():
    m = models.mobilenet_small(10, 3, width_mult=0.5)
    blk = m.features[1]
    dw, pw = blk.depthwise[0], blk.pointwise[0]
    assert dw.groups == dw.in_channels == dw.out_channels == 16 and tuple(dw.weight.shape) == (16, 1, 3, 3)
    assert tuple(pw.weight.shape) == (32, 16, 1, 1)
    assert isinstance(blk.depthwise[2], nerve.nn.ReLU6)
    assert m.out_channels == 256
    with pytest.raises(ValueError, match="width_mult"):
        models.mobilenet_small(width_mult=0)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="activation"):
        models.LeNet5(activation="swish")
    with pytest.raises(ValueError, match="layers"):
        models.ResNet(models.BasicBlock, [2, 2, 2])
    with pytest.raises(ValueError, match="widths"):
        models.alexnet_small(widths=(1, 2))


# ------------------------------------------------------------------------------------------ PyTorch twins

class TLeNet5(tnn.Module):
    def __init__(self, num_classes, in_channels):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(in_channels, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2, 2),
                                       tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2))
        self.avgpool = tnn.AdaptiveAvgPool2d((5, 5))
        self.classifier = tnn.Sequential(tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                                         tnn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TVGG(tnn.Module):
    """torchvision's VGG with a given cfg, classifier width and adaptive-pool size."""

    def __init__(self, cfg, in_channels, num_classes, hidden, dropout, pool, batch_norm):
        super().__init__()
        layers = []
        for v in cfg:
            if v == "M":
                layers.append(tnn.MaxPool2d(2, 2))
            else:
                layers += [tnn.Conv2d(in_channels, v, 3, padding=1)] + ([tnn.BatchNorm2d(v)] if batch_norm else [])
                layers.append(tnn.ReLU(inplace=True))
                in_channels = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d(pool)
        self.classifier = tnn.Sequential(
            tnn.Linear(in_channels * pool[0] * pool[1], hidden), tnn.ReLU(True), tnn.Dropout(dropout),
            tnn.Linear(hidden, hidden), tnn.ReLU(True), tnn.Dropout(dropout), tnn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TAlexNetSmall(tnn.Module):
    def __init__(self, num_classes, in_channels, widths=(32, 96, 192, 128, 128), hidden=512):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.features = tnn.Sequential(
            tnn.Conv2d(in_channels, c1, 3, padding=1), tnn.ReLU(True), tnn.MaxPool2d(2, 2),
            tnn.Conv2d(c1, c2, 3, padding=1), tnn.ReLU(True), tnn.MaxPool2d(2, 2),
            tnn.Conv2d(c2, c3, 3, padding=1), tnn.ReLU(True), tnn.Conv2d(c3, c4, 3, padding=1), tnn.ReLU(True),
            tnn.Conv2d(c4, c5, 3, padding=1), tnn.ReLU(True), tnn.MaxPool2d(2, 2))
        self.avgpool = tnn.AdaptiveAvgPool2d((2, 2))
        self.classifier = tnn.Sequential(tnn.Dropout(), tnn.Linear(c5 * 4, hidden), tnn.ReLU(True), tnn.Dropout(),
                                         tnn.Linear(hidden, hidden), tnn.ReLU(True), tnn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TBasicBlock(tnn.Module):
    """torchvision.models.resnet.BasicBlock."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TResNet(tnn.Module):
    """torchvision.models.resnet.ResNet (BasicBlock), with in_channels / small_input / width."""

    def __init__(self, layers, num_classes, in_channels, small_input, width):
        super().__init__()
        self.inplanes = width
        if small_input:
            self.conv1 = tnn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        else:
            self.conv1 = tnn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.Identity() if small_input else tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(width, layers[0], 1)
        self.layer2 = self._make_layer(width * 2, layers[1], 2)
        self.layer3 = self._make_layer(width * 4, layers[2], 2)
        self.layer4 = self._make_layer(width * 8, layers[3], 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(width * 8, num_classes)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = tnn.Sequential(tnn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                        tnn.BatchNorm2d(planes))
        layers = [TBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [TBasicBlock(planes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _t_conv_bn_relu6(cin, cout, k, stride=1, groups=1):
    return tnn.Sequential(tnn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                          tnn.BatchNorm2d(cout), tnn.ReLU6(inplace=True))


class TMobileNetSmall(tnn.Module):
    def __init__(self, num_classes, in_channels, widths):
        super().__init__()
        strides = [1, 2, 1, 2, 1, 2, 1]
        layers = [_t_conv_bn_relu6(in_channels, widths[0], 3, 1)]
        for cin, cout, s in zip(widths[:-1], widths[1:], strides):
            layers.append(tnn.Sequential(OrderedDict(depthwise=_t_conv_bn_relu6(cin, cin, 3, s, groups=cin),
                                                     pointwise=_t_conv_bn_relu6(cin, cout, 1))))
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(widths[-1], num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TBasicConv2d(tnn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = tnn.BatchNorm2d(cout, eps=0.001)
        self.relu = tnn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class TInception(tnn.Module):
    """torchvision.models.googlenet.Inception with a 5x5 wide branch."""

    def __init__(self, cin, c1, c3r, c3, c5r, c5, cp):
        super().__init__()
        self.branch1 = TBasicConv2d(cin, c1, kernel_size=1)
        self.branch2 = tnn.Sequential(TBasicConv2d(cin, c3r, kernel_size=1), TBasicConv2d(c3r, c3, kernel_size=3,
                                                                                           padding=1))
        self.branch3 = tnn.Sequential(TBasicConv2d(cin, c5r, kernel_size=1), TBasicConv2d(c5r, c5, kernel_size=5,
                                                                                           padding=2))
        self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, 1, 1, ceil_mode=True), TBasicConv2d(cin, cp, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TInceptionNet(tnn.Module):
    def __init__(self, num_classes, in_channels, width):
        super().__init__()

        def c(n):
            return max(1, round(n * width))

        self.conv1 = TBasicConv2d(in_channels, c(32), kernel_size=3, padding=1)
        self.conv2 = TBasicConv2d(c(32), c(64), kernel_size=3, padding=1)
        self.maxpool1 = tnn.MaxPool2d(2, 2)
        self.inception3a = TInception(c(64), c(32), c(32), c(48), c(8), c(16), c(16))
        o = c(32) + c(48) + c(16) + c(16)
        self.inception3b = TInception(o, c(48), c(48), c(64), c(16), c(32), c(32))
        o = c(48) + c(64) + c(32) + c(32)
        self.maxpool2 = tnn.MaxPool2d(2, 2)
        self.inception4a = TInception(o, c(64), c(48), c(96), c(16), c(32), c(32))
        o = c(64) + c(96) + c(32) + c(32)
        self.inception4b = TInception(o, c(80), c(56), c(112), c(16), c(32), c(32))
        o = c(80) + c(112) + c(32) + c(32)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.dropout = tnn.Dropout(0.2)
        self.fc = tnn.Linear(o, num_classes)

    def forward(self, x):
        x = self.maxpool1(self.conv2(self.conv1(x)))
        x = self.maxpool2(self.inception3b(self.inception3a(x)))
        x = self.avgpool(self.inception4b(self.inception4a(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))


TWINS = {
    "lenet5": (lambda: models.LeNet5(10, 1), lambda: TLeNet5(10, 1), (2, 1, 28, 28)),
    "lenet5_32x32": (lambda: models.LeNet5(10, 3), lambda: TLeNet5(10, 3), (2, 3, 32, 32)),
    "vgg_small": (lambda: models.vgg_small(10, 1, widths=(8, 16, 32), hidden=32),
                  lambda: TVGG([8, 8, "M", 16, 16, "M", 32, 32, "M"], 1, 10, 32, 0.3, (1, 1), True),
                  (2, 1, 28, 28)),
    "vgg_small_nobn": (lambda: models.vgg_small(5, 3, widths=(8, 16), batch_norm=False, convs_per_stage=1,
                                                hidden=16, pool_size=2),
                       lambda: TVGG([8, "M", 16, "M"], 3, 5, 16, 0.3, (2, 2), False), (2, 3, 32, 32)),
    "alexnet_small": (lambda: models.alexnet_small(10, 1, widths=(8, 16, 16, 8, 8), hidden=16),
                      lambda: TAlexNetSmall(10, 1, (8, 16, 16, 8, 8), 16), (2, 1, 28, 28)),
    "resnet18_small": (lambda: models.resnet18(10, 1, small_input=True, width=4),
                       lambda: TResNet([2, 2, 2, 2], 10, 1, True, 4), (2, 1, 28, 28)),
    "resnet34_stem": (lambda: models.resnet34(6, 3, width=4), lambda: TResNet([3, 4, 6, 3], 6, 3, False, 4),
                      (2, 3, 32, 32)),
    "mobilenet_small": (lambda: models.mobilenet_small(10, 1, width_mult=0.25),
                        lambda: TMobileNetSmall(10, 1, [8, 16, 32, 32, 64, 64, 128, 128]), (2, 1, 28, 28)),
    "inception_small": (lambda: models.inception_small(10, 3, width=0.25), lambda: TInceptionNet(10, 3, 0.25),
                        (2, 3, 32, 32)),
}


@pytest.mark.parametrize("name", ["lenet5", "vgg_small", "vgg_small_nobn", "alexnet_small", "resnet18_small",
                                  "resnet34_stem", "inception_small"])
def test_repr_matches_torch_twin(name):
    """Printed module trees read like torchvision's (twin classes here are prefixed with T)."""
    make, make_twin, _ = TWINS[name]
    expected = re.sub(r"\bT([A-Z]\w*)\(", r"\1(", repr(make_twin()))
    assert repr(make()) == expected


def test_torch_weights_load_into_nerve():
    torch.manual_seed(0)
    twin = TResNet([2, 2, 2, 2], 3, 3, False, 4)
    with torch.no_grad():
        twin(torch.randn(4, 3, 32, 32) * 2 + 1)      # move the BN running statistics off (0, 1)
    twin.eval()
    model = models.resnet18(num_classes=3, in_channels=3, width=4).eval()
    model.load_state_dict({k: nerve.tensor(v.numpy()) for k, v in twin.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = twin(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model(nerve.tensor(x)).detach().numpy(), expected, **TOL)


def _load_into_torch(model, twin):
    sd = {k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()}
    assert set(sd) == set(twin.state_dict()), set(sd) ^ set(twin.state_dict())
    twin.load_state_dict(sd, strict=True)


@pytest.mark.parametrize("name", list(TWINS))
def test_matches_torch_twin(name):
    make, make_twin, shape = TWINS[name]
    nerve.manual_seed(0)
    model, twin = make(), make_twin()
    assert _n_params(model) == sum(p.numel() for p in twin.parameters())
    # One training-mode step moves the BatchNorm running statistics away from (0, 1) before they are copied.
    model.train()
    with nerve.no_grad():
        model(nerve.randn(*shape) * 2 + 0.5)
    _load_into_torch(model, twin)
    model.eval()
    twin.eval()
    x_np = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    x = nerve.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    out, tout = model(x), twin(tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), **TOL)
    w = np.random.default_rng(2).standard_normal(tuple(out.shape)).astype(np.float32)
    (out * nerve.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-5)
    tgrads = dict(twin.named_parameters())
    for pname, p in model.named_parameters():
        g, tg = p.grad.numpy(), tgrads[pname].grad.numpy()
        scale = max(np.abs(tg).max(), 1e-6)
        np.testing.assert_allclose(g, tg, rtol=1e-3, atol=1e-4 * scale, err_msg=pname)


def test_resnet_train_mode_matches_torch_twin():
    """Training mode (batch statistics, running-stat updates) through the residual blocks."""
    nerve.manual_seed(0)
    model, twin = models.resnet18(4, 3, small_input=True, width=4), TResNet([2, 2, 2, 2], 4, 3, True, 4)
    _load_into_torch(model, twin)
    x_np = np.random.default_rng(3).standard_normal((4, 3, 16, 16)).astype(np.float32)
    out, tout = model(nerve.tensor(x_np)), twin(torch.tensor(x_np))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-4)
    out.square().sum().backward()
    tout.square().sum().backward()
    tgrads = dict(twin.named_parameters())
    for pname, p in model.named_parameters():
        g, tg = p.grad.numpy(), tgrads[pname].grad.numpy()
        np.testing.assert_allclose(g, tg, rtol=1e-3, atol=1e-4 * max(np.abs(tg).max(), 1e-6), err_msg=pname)
    tsd = twin.state_dict()
    for k, v in model.state_dict().items():
        if "running" in k:
            np.testing.assert_allclose(v.numpy(), tsd[k].numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


# ------------------------------------------------------------------------------------------ training

def test_lenet5_overfits_a_tiny_batch():
    nerve.manual_seed(0)
    model = models.LeNet5(num_classes=4, in_channels=1)
    x = nerve.randn(8, 1, 28, 28)
    y = nerve.tensor(np.arange(8) % 4)
    opt = nerve.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = NF.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.1 * first
    assert (model(x).argmax(1).numpy() == y.numpy()).all()
