"""Config schema of ``nerve train``: model types (mlp, cnn, resnet, zoo), data.augment, schedulers."""
import math
from pathlib import Path

import numpy as np
import pytest

import nerve
from nerve import cli
from nerve import config as C

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
needs_data = pytest.mark.skipif(not DEBIAN.exists(), reason="apt-get install dataset-fashion-mnist")


def load(name=None, **overrides):
    return C.load(name, {k.replace("__", "."): v for k, v in overrides.items()})


# ============================================================================ built-in configs
def test_builtin_configs_are_valid_and_listed(capsys):
    names = C.builtin_names()
    assert {"fashion-mlp", "fashion-cnn", "fashion-resnet"} <= set(names)
    for n in names:
        cfg = C.load(n)
        assert cfg.name == n and cfg.description
        # what a run directory stores reloads to the same config
        assert C.to_dict(C.validate(C.to_dict(cfg))) == C.to_dict(cfg)
    cli.main(["configs"])
    assert capsys.readouterr().out.split() == names


def test_fashion_cnn_config():
    cfg = C.load("fashion-cnn")
    m = cfg.model
    assert (m.type, m.channels, m.pool_every, m.hidden, m.batch_norm) == ("cnn", [32, 32, 64, 64], 2, [256], True)
    assert [a.name for a in cfg.data.augment] == ["random_crop", "random_horizontal_flip"]
    assert cfg.train.scheduler.name in ("onecycle", "cosine")
    net = cli.build_model(cfg)
    convs = [mod for mod in net.modules() if isinstance(mod, nerve.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64]
    assert all(c.bias is None and c.padding == (1, 1) for c in convs)
    assert sum(isinstance(mod, nerve.nn.MaxPool2d) for mod in net.modules()) == 2
    assert sum(isinstance(mod, nerve.nn.BatchNorm2d) for mod in net.modules()) == 4
    assert any(isinstance(mod, nerve.nn.Dropout) and mod.p == m.dropout for mod in net.modules())


def test_fashion_resnet_config():
    cfg = C.load("fashion-resnet")
    assert cfg.model.type == "resnet" and cfg.model.small_input and cfg.data.augment
    net = cli.build_model(cfg)
    assert isinstance(net, nerve.vision.models.ResNet)
    assert isinstance(net.maxpool, nerve.nn.Identity) and net.conv1.in_channels == 1
    assert net.conv1.out_channels == cfg.model.width and net.fc.out_features == 10


# ============================================================================ model types
def test_model_type_defaults_to_mlp():
    cfg = C.validate({"model": {"hidden": [16]}})
    assert cfg.model.type == "mlp" and cfg.model.hidden == [16]
    assert C.validate({}).model.type == "mlp"


def test_model_types_build_and_run():
    x = nerve.randn(2, 1, 28, 28)
    specs = [
        {"type": "mlp", "hidden": [8]},
        {"type": "cnn", "channels": [4, 8], "hidden": [16], "dropout": 0.3},
        {"type": "cnn", "channels": [4, 4, 4], "pool_every": 0, "hidden": [], "batch_norm": False,
         "activation": "gelu", "kernel_size": 5},
        {"type": "zoo", "name": "lenet5"},
        {"type": "zoo", "name": "vgg_small", "args": {"widths": [4, 8], "hidden": 16}},
    ]
    for spec in specs:
        cfg = C.validate({"model": spec})
        net = cli.build_model(cfg)
        assert net(x).shape == (2, 10), spec
        # a run directory's config.yaml rebuilds the same network (evaluate / predict)
        again = cli.build_model(C.validate(C.to_dict(cfg)))
        assert list(again.state_dict()) == list(net.state_dict()), spec
        assert [v.shape for v in again.state_dict().values()] == [v.shape for v in net.state_dict().values()]


def test_resnet_type_runs_one_training_batch():
    cfg = C.validate({"model": {"type": "resnet", "width": 4}, "train": {"batch_size": 4}})
    net = cli.build_model(cfg)
    opt = cli.build_optimizer(cfg, net)
    x, y = nerve.randn(4, 1, 28, 28), nerve.tensor([0, 1, 2, 3])
    before = net.fc.weight.detach().clone()
    loss = cli._loss(cfg)(net(x), y)
    loss.backward()
    opt.step()
    assert math.isfinite(loss.item()) and not nerve.equal(before, net.fc.weight)
    assert net.layer4[0].conv1.out_channels == 32  # 8 * width
    deep = cli.build_model(C.validate({"model": {"type": "resnet", "depth": 34, "width": 4}}))
    assert len(deep.layer3) == 6


@pytest.mark.parametrize("override, pattern", [
    ({"model.type": "transformer"}, r"model\.type: unknown model type; valid types: mlp, cnn, resnet, zoo, vit, "
                                    r"char_rnn, .*rnn_forecaster \(got 'transformer'\)"),
    ({"model.channels": [8]}, r"model\.channels: unknown key for model type 'mlp' .*belongs to model type cnn"),
    ({"model": {"type": "cnn", "widths": [8]}}, r"model\.widths: unknown key for model type 'cnn' \(its keys: type, "
                                                r"channels"),
    ({"model": {"type": "cnn", "batch_norm": True, "depth": 18}}, r"model\.depth: .*belongs to model type resnet"),
    ({"model": {"type": "cnn", "channels": []}}, r"model\.channels: .*non-empty list of positive integers"),
    ({"model": {"type": "cnn", "channels": [8, -1]}}, r"model\.channels: "),
    ({"model": {"type": "cnn", "kernel_size": 4}}, r"model\.kernel_size: kernel_size must be odd"),
    ({"model": {"type": "cnn", "channels": [8] * 10}}, r"model\.channels: 10 convs .* 5 times, below 1x1"),
    ({"model": {"type": "cnn", "dropout": 1.5}}, r"model\.dropout: Input should be less than 1"),
    ({"model": {"type": "resnet", "depth": 20}}, r"model\.depth: Input should be 18, 34 or 50"),
    ({"model": {"type": "resnet", "width": 0}}, r"model\.width: Input should be greater than 0"),
    ({"model": {"type": "zoo", "name": "vgg"}}, r"model\.name: Input should be 'lenet5', 'vgg_small'"),
    ({"model": {"type": "zoo", "name": "vgg_small", "args": {"depth": 3}}},
     r"model\.args\.depth: not an argument of vgg_small \(accepted: widths"),
    ({"model": {"type": "zoo", "name": "lenet5", "args": {"num_classes": 3}}}, r"model\.args\.num_classes: set by "),
])
def test_model_errors_name_the_key(override, pattern):
    with pytest.raises(C.ConfigError, match=pattern):
        C.load(None, override)


# ============================================================================ data.augment
def test_augment_forms_normalise_to_a_list():
    as_list = C.load(None, {"data.augment": [{"name": "random_crop", "padding": 2}, "random_horizontal_flip"]})
    as_map = C.load(None, {"data.augment": {"random_crop": {"padding": 2}, "random_horizontal_flip": None}})
    assert C.to_dict(as_list)["data"]["augment"] == C.to_dict(as_map)["data"]["augment"]
    aug = C.to_dict(as_list)["data"]["augment"]
    assert [a["name"] for a in aug] == ["random_crop", "random_horizontal_flip"] and aug[1]["p"] == 0.5
    assert C.load(None).data.augment == []


def test_every_augment_transform_builds_and_runs_on_batches():
    from nerve.vision import transforms as T
    from nerve.vision.transforms import _apply_batch, _batchable
    specs = [{"name": "random_crop", "padding": 2}, {"name": "random_horizontal_flip"},
             {"name": "random_vertical_flip", "p": 0.3}, {"name": "random_rotation", "degrees": 10},
             {"name": "random_affine", "degrees": 5, "translate": [0.1, 0.1], "scale": [0.9, 1.1], "shear": 5},
             {"name": "random_erasing", "p": 0.5, "value": "random"}, {"name": "gaussian_noise", "sigma": 0.05},
             {"name": "color_jitter", "brightness": 0.2, "contrast": 0.2}]
    assert {s["name"] for s in specs} == set(C.AUGMENT_TRANSFORMS)
    cfg = C.load(None, {"data.augment": specs})
    tf = cli.build_transform(cfg, augment=True)
    assert [type(t).__name__ for t in tf.transforms] == ["ToTensor", *C.AUGMENT_TRANSFORMS.values(), "Normalize"]
    assert _batchable(tf)  # whole batches at once: no per-image Python loop
    nerve.manual_seed(0)
    out = _apply_batch(tf, np.random.default_rng(0).integers(0, 256, (8, 28, 28), dtype=np.uint8))
    assert out.shape == (8, 1, 28, 28) and out.dtype == np.float32 and np.isfinite(out).all()
    assert [type(t) for t in cli.build_transform(cfg).transforms] == [T.ToTensor, T.Normalize]


@pytest.mark.parametrize("augment, pattern", [
    (["flip"], r"data\.augment\.0\.name: unknown transform name; valid names: random_crop, random_horizontal_flip, "
               r".*gaussian_noise.* \(got 'flip'\)"),
    ([{"padding": 2}], r"data\.augment\.0\.name: each transform needs a name"),
    ([{"name": "random_crop", "paddin": 2}],
     r"data\.augment\.0\.paddin: unknown argument of random_crop \(its arguments: size, padding"),
    (["random_horizontal_flip", {"name": "random_erasing", "p": 2}], r"data\.augment\.1\.p: Input should be less"),
    ([{"name": "random_rotation"}], r"data\.augment\.0\.degrees: Field required"),
    ([{"name": "random_rotation", "degrees": -3}], r"data\.augment\.0: random_rotation: If degrees is a single "),
    ([{"name": "random_affine", "degrees": 0, "translate": [2, 0]}], r"data\.augment\.0: random_affine: transl"),
    ({"random_crop": 3}, r"data\.augment: .*random_crop: expected a mapping of arguments"),
    (["random_horizontal_flip", {"name": "random_crop", "size": 24}], r"data\.augment\.1\.size: the training images "
                                                                      r"must keep the 28x28 size"),
])
def test_augment_errors_name_the_key(augment, pattern):
    with pytest.raises(C.ConfigError, match=pattern):
        C.load(None, {"data.augment": augment})


@needs_data
def test_augmentation_applies_to_training_batches_only():
    cfg = C.load(None, {"data.augment": [{"name": "random_horizontal_flip", "p": 1.0}], "data.limit": 100,
                        "data.validation_split": 0.2})
    train, val = cli.build_train_val(cfg)
    assert (len(train), len(val)) == (80, 20)
    plain = cli.build_data(C.load(None, {"data.limit": 100}), train=True)
    xp, _ = plain.__getbatch__(list(range(100)))
    xt, _ = train.__getbatch__(list(range(80)))
    xv, _ = val.__getbatch__(list(range(20)))
    np.testing.assert_array_equal(xt.numpy(), xp.numpy()[:80, :, :, ::-1])  # every training image mirrored
    np.testing.assert_array_equal(xv.numpy(), xp.numpy()[80:])  # validation images untouched
    test = cli.build_data(cfg, train=False, augment=True)
    assert [type(t).__name__ for t in test.transform.transforms] == ["ToTensor", "Normalize"]
    # through a DataLoader too (the path fit takes): the batch transform, not a per-image fallback
    xs = nerve.cat([b[0] for b in nerve.utils.data.DataLoader(train, batch_size=32)])
    np.testing.assert_array_equal(xs.numpy(), xt.numpy())


# ============================================================================ schedulers
def test_cosine_with_warmup():
    cfg = C.load(None, {"train.scheduler": {"name": "cosine", "warmup_epochs": 1, "eta_min": 0.001},
                        "train.epochs": 3, "train.optimizer.lr": 0.1})
    opt = cli.build_optimizer(cfg, nerve.nn.Linear(2, 2))
    sched, interval = cli.build_scheduler(cfg, opt, steps_per_epoch=10)
    assert interval == "batch"
    lrs = []
    for _ in range(30):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.001) and lrs[10] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:11])) and all(a > b for a, b in zip(lrs[10:29], lrs[11:30]))
    assert lrs[-1] > 0.001 and opt.param_groups[0]["lr"] == pytest.approx(0.001)
    cfg = C.load(None, {"train.scheduler": {"name": "cosine"}})
    sched, _ = cli.build_scheduler(cfg, cli.build_optimizer(cfg, nerve.nn.Linear(2, 2)), steps_per_epoch=10)
    assert type(sched).__name__ == "CosineAnnealingLR" and sched.T_max == 10 * cfg.train.epochs


class _Stop(Exception):
    pass


@needs_data
def test_augmented_run_resumes_exactly(tmp_path):
    """The augmentation draws come from nerve's default generator, which checkpoints save: an interrupted
    augmented run (cosine schedule with warm-up) resumes to the same weights as an uninterrupted one."""
    from nerve.train import callbacks as CB
    from nerve.train import fit

    cfg = C.load("fashion-cnn", {"model.channels": [2], "model.hidden": [], "data.limit": 96,
                                 "train.batch_size": 16, "train.epochs": 2,
                                 "train.scheduler": {"name": "cosine", "warmup_epochs": 0.5},  # SequentialLR state
                                 "data.augment": [{"name": "random_crop", "padding": 2}, "random_horizontal_flip",
                                                  {"name": "random_erasing", "p": 0.5}]})

    class StopAt(CB.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.trainer.global_step == 8:
                raise _Stop

    def run(ckpt, stop=False, resume=False):
        nerve.manual_seed(cfg.train.seed + resume)  # a resumed run takes weights and RNG states from the checkpoint
        train, _ = cli.build_train_val(cfg)
        model = cli.build_model(cfg)
        opt = cli.build_optimizer(cfg, model)
        sched, interval = cli.build_scheduler(cfg, opt, len(train) // 16)
        fit(model, train, loss=cli._loss(cfg), optimizer=opt, epochs=2, batch_size=16, scheduler=sched,
            scheduler_interval=interval, checkpoint_dir=str(ckpt), checkpoint_every=3, seed=0, verbose=0,
            callbacks=[StopAt()] if stop else [], resume=str(ckpt) if resume else None)
        return model

    full = run(tmp_path / "full")
    with pytest.raises(_Stop):
        run(tmp_path / "part", stop=True)
    resumed = run(tmp_path / "part", resume=True)
    for (k, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
