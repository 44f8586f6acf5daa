"""nerve.train.fit / evaluate / predict / Model: data forms, losses, optimizers, penalties, modes, logs."""
import math
import os
import re

import numpy as np
import pytest

import nerve
from nerve import nn
from nerve.train import Model, evaluate, fit, predict
from nerve.train import callbacks as C
from nerve.train import metrics as M
from nerve.utils.data import DataLoader, Dataset, TensorDataset


def blobs(n=240, d=6, c=3, seed=0):
    """A linearly separable-ish classification problem."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    centers = rng.normal(0, 3, size=(c, d))
    X = (centers[y] + rng.normal(0, 1, size=(n, d))).astype(np.float32)
    return X, y


def mlp(d=6, c=3, hidden=16, seed=0, dropout=0.0):
    nerve.manual_seed(seed)
    layers = [nn.Linear(d, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, c))


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------ basics
def test_fit_learns_and_history_is_keras_like():
    X, y = blobs()
    model = mlp()
    h = fit(model, (X, y), validation_split=0.25, loss="cross_entropy", optimizer="adam",
            optimizer_kwargs={"lr": 0.02}, metrics=["accuracy"], epochs=4, batch_size=32, verbose=0)
    assert h.epoch == [0, 1, 2, 3]
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert all(len(v) == 4 for v in h.history.values())
    assert all(isinstance(v, float) for v in h.history["loss"])
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] > 0.9
    assert h.history["lr"] == [0.02] * 4
    assert h.params == {"epochs": 4, "steps": 6, "verbose": 0}
    assert h.model is model
    assert model.training  # left in train mode, as a PyTorch loop leaves it


def test_data_forms_give_the_same_result():
    """Tensors, arrays, a Dataset, and a DataLoader without shuffling all train identically."""
    X, y = blobs(n=96)
    runs = {}
    kw = dict(loss="cross_entropy", optimizer="sgd", epochs=2, batch_size=16, shuffle=False, verbose=0)
    for name, data in [
        ("arrays", (X, y)),
        ("tensors", (nerve.from_numpy(X), nerve.from_numpy(y))),
        ("dataset", TensorDataset(nerve.from_numpy(X), nerve.from_numpy(y))),
        ("loader", DataLoader(TensorDataset(nerve.from_numpy(X), nerve.from_numpy(y)), batch_size=16)),
    ]:
        model = mlp()
        fit(model, data, **kw)
        runs[name] = weights(model)
    for name in ("tensors", "dataset", "loader"):
        for k in runs["arrays"]:
            np.testing.assert_array_equal(runs[name][k], runs["arrays"][k], err_msg=f"{name} {k}")


class PairDataset(Dataset):
    """A plain map-style Dataset without __getbatch__: samples are (x1, x2, y), collated by default_collate."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i, :3], self.X[i, 3:], int(self.y[i])


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 8)
        self.b = nn.Linear(3, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x1, x2):
        return self.out((self.a(x1) + self.b(x2)).relu())


def test_multi_input_models():
    X, y = blobs(n=64)
    nerve.manual_seed(0)
    m1 = TwoInputs()
    fit(m1, ((X[:, :3], X[:, 3:]), y), loss="cross_entropy", optimizer="sgd", epochs=1, batch_size=16,
        shuffle=False, verbose=0)
    nerve.manual_seed(0)
    m2 = TwoInputs()
    fit(m2, PairDataset(X, y), loss="cross_entropy", optimizer="sgd", epochs=1, batch_size=16, shuffle=False,
        verbose=0)
    for k, v in weights(m1).items():
        np.testing.assert_allclose(weights(m2)[k], v, rtol=1e-6, atol=1e-7)
    out = predict(m1, ((X[:, :3], X[:, 3:]),))
    assert out.shape == (64, 3)


def test_validation_split_holds_out_the_last_fraction():
    X, y = blobs(n=100)
    seen = {}

    class Grab(C.Callback):
        def on_train_end(self, logs=None):
            seen["val"] = self.trainer.val_src

    fit(mlp(), (X, y), validation_split=0.2, loss="cross_entropy", optimizer="sgd", verbose=0, callbacks=[Grab()])
    src = seen["val"]
    np.testing.assert_array_equal(src.y, y[80:])
    np.testing.assert_array_equal(src.xs[0], X[80:])
    # a Dataset is split the same way
    ds = TensorDataset(nerve.from_numpy(X), nerve.from_numpy(y))
    fit(mlp(), ds, validation_split=0.2, loss="cross_entropy", optimizer="sgd", verbose=0, callbacks=[Grab()])
    assert list(seen["val"].dataset.indices) == list(range(80, 100))


def test_train_mode_for_training_eval_and_no_grad_for_validation():
    calls = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(6, 3)

        def forward(self, x):
            calls.append((self.training, nerve.is_grad_enabled()))
            return self.lin(x)

    X, y = blobs(n=40)
    model = Spy()
    model.eval()
    fit(model, (X, y), validation_split=0.5, loss="cross_entropy", optimizer="sgd", batch_size=10, verbose=0)
    assert calls == [(True, True)] * 2 + [(False, False)] * 2


def test_shuffle_order_is_a_function_of_seed_and_epoch():
    n = 20
    X = np.arange(n, dtype=np.float32)[:, None]
    y = np.zeros(n, dtype=np.int64)
    order = []

    class Rec(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 2)

        def forward(self, x):
            if self.training:
                order.extend(x.numpy()[:, 0].astype(int).tolist())
            return self.lin(x)

    fit(Rec(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2, batch_size=6, seed=5, verbose=0)
    expected = [np.random.default_rng([5, e]).permutation(n).tolist() for e in (0, 1)]
    assert order == expected[0] + expected[1]
    order.clear()
    fit(Rec(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1, batch_size=6, shuffle=False, verbose=0)
    assert order == list(range(n))


def test_seed_none_follows_manual_seed():
    X, y = blobs(n=64)
    res = []
    for _ in range(2):
        model = mlp(dropout=0.2)
        nerve.manual_seed(42)
        fit(model, (X, y), loss="cross_entropy", optimizer="adam", epochs=2, batch_size=16, verbose=0)
        res.append(weights(model))
    for k in res[0]:
        np.testing.assert_array_equal(res[0][k], res[1][k])


# ------------------------------------------------------------------------------------ losses, optimizers
def test_loss_names_adapt_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    yreg = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3  # float64, (N,) against (N, 1) outputs
    nerve.manual_seed(0)
    model = nn.Linear(4, 1)
    h = fit(model, (X, yreg), loss="mse", optimizer="adam", optimizer_kwargs={"lr": 0.1}, metrics=["mae", "r2"],
            epochs=30, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < 0.05
    assert h.history["r2"][-1] > 0.95
    ybin = (X[:, 0] > 0).astype(np.int64)  # integer labels for a BCE loss
    nerve.manual_seed(0)
    model = nn.Linear(4, 1)
    h = fit(model, (X, ybin), loss="bce_with_logits", optimizer="adam", optimizer_kwargs={"lr": 0.1},
            metrics=["accuracy", "precision"], epochs=10, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.9  # read element-wise on logits (not an argmax over one column)
    assert 0.8 < h.history["precision"][-1] <= 1.0


def test_loss_module_and_function_are_used_as_given():
    X, y = blobs(n=48)
    m1, m2 = mlp(), mlp()
    fit(m1, (X, y), loss=nn.CrossEntropyLoss(), optimizer="sgd", epochs=1, batch_size=16, seed=1, verbose=0)
    fit(m2, (X, y), loss=nn.functional.cross_entropy, optimizer="sgd", epochs=1, batch_size=16, seed=1, verbose=0)
    for k, v in weights(m1).items():
        np.testing.assert_array_equal(weights(m2)[k], v)


def test_optimizer_forms():
    X, y = blobs(n=48)
    class Grab(C.Callback):
        def on_train_end(self, logs=None):
            self.opt = self.trainer.optimizer

    for opt, kw, cls, lr in [("sgd", {}, nerve.optim.SGD, 0.01), ("adam", {}, nerve.optim.Adam, 1e-3),
                             ({"name": "rmsprop", "lr": 0.005}, {}, nerve.optim.RMSprop, 0.005),
                             ("adamw", {"learning_rate": 0.002, "weight_decay": 0.1}, nerve.optim.AdamW, 0.002)]:
        grab = Grab()
        h = fit(mlp(), (X, y), loss="cross_entropy", optimizer=opt, optimizer_kwargs=kw, epochs=1, verbose=0,
                callbacks=[grab])
        assert type(grab.opt) is cls
        assert h.history["lr"] == [lr]
    grab = Grab()
    fit(mlp(), (X, y), loss="cross_entropy", optimizer=nerve.optim.RMSprop, optimizer_kwargs={"lr": 0.003},
        epochs=1, verbose=0, callbacks=[grab])
    assert type(grab.opt) is nerve.optim.RMSprop and grab.opt.param_groups[0]["lr"] == 0.003
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="adamm", verbose=0)


def test_l2_and_l1_penalties_apply_to_weights_only():
    X, y = blobs(n=32)
    lr, l1, l2 = 0.1, 0.01, 0.05
    for kind in ("l1", "l2"):
        model = mlp()
        ref = mlp()
        w0 = weights(model)
        kw = {kind: l1 if kind == "l1" else l2}
        h = fit(model, (X, y), loss="cross_entropy", optimizer="sgd", optimizer_kwargs={"lr": lr}, epochs=1,
                batch_size=32, shuffle=False, verbose=0, **kw)
        # by hand: the gradient of the data loss plus the penalty's, for ndim >= 2 only
        out = ref(nerve.from_numpy(X))
        nn.functional.cross_entropy(out, nerve.from_numpy(y)).backward()
        penalty = 0.0
        for name, p in ref.named_parameters():
            g = p.grad.numpy().astype(np.float64)
            w = w0[name].astype(np.float64)
            if p.ndim >= 2:
                g = g + (l1 * np.sign(w) if kind == "l1" else 2 * l2 * w)
                penalty += l1 * np.abs(w).sum() if kind == "l1" else l2 * (w * w).sum()
            np.testing.assert_allclose(weights(model)[name], w - lr * g, rtol=1e-5, atol=1e-6, err_msg=name)
        assert h.history["reg_loss"][0] == pytest.approx(penalty, rel=1e-5)
        assert "reg_loss" in h.history


def test_grad_clip_matches_clip_grad_norm():
    X, y = blobs(n=32)
    model, ref = mlp(), mlp()
    fit(model, (X, y), loss="cross_entropy", optimizer="sgd", optimizer_kwargs={"lr": 0.5}, epochs=1,
        batch_size=32, verbose=0, grad_clip=0.1)
    opt = nerve.optim.SGD(ref.parameters(), lr=0.5)
    nn.functional.cross_entropy(ref(nerve.from_numpy(X)), nerve.from_numpy(y)).backward()
    nn.utils.clip_grad_norm_(ref.parameters(), 0.1)
    opt.step()
    for k, v in weights(ref).items():
        np.testing.assert_allclose(weights(model)[k], v, rtol=1e-6, atol=1e-7)


def test_scheduler_steps_per_epoch_or_per_batch():
    X, y = blobs(n=64)
    model = mlp()
    opt = nerve.optim.SGD(model.parameters(), lr=0.1)
    sched = nerve.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, (X, y), loss="cross_entropy", optimizer=opt, scheduler=sched, epochs=3, batch_size=16, verbose=0)
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    model = mlp()
    opt = nerve.optim.SGD(model.parameters(), lr=0.1)
    sched = nerve.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=8)
    fit(model, (X, y), loss="cross_entropy", optimizer=opt, scheduler=sched, epochs=2, batch_size=16, verbose=0)
    assert sched.last_epoch == 8  # stepped after each of the 8 batches
    model = mlp()
    opt = nerve.optim.SGD(model.parameters(), lr=0.1)
    plateau = nerve.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, threshold=10.0, threshold_mode="abs")
    h = fit(model, (X, y), loss="cross_entropy", optimizer=opt, scheduler=plateau, epochs=3, verbose=0)
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.01])  # no "improvement" of 10x: cut after epoch 2


# ------------------------------------------------------------------------------------ evaluate / predict
def test_evaluate_and_predict():
    X, y = blobs(n=70)
    model = mlp(dropout=0.5)
    fit(model, (X, y), loss="cross_entropy", optimizer="adam", epochs=2, verbose=0)
    res = evaluate(model, (X, y), "cross_entropy", ["accuracy", M.F1Score(average="weighted")], batch_size=16)
    assert list(res) == ["loss", "accuracy", "f1_score"]
    model.eval()
    with nerve.no_grad():
        out = model(nerve.from_numpy(X))
    model.train()
    assert res["loss"] == pytest.approx(nn.functional.cross_entropy(out, nerve.from_numpy(y)).item(), rel=1e-5)
    assert res["accuracy"] == pytest.approx(M.accuracy(out, y))
    pred = predict(model, X, batch_size=16)  # eval mode: dropout off, so it equals the full-batch output
    np.testing.assert_allclose(pred.numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    assert not pred.requires_grad
    pred2 = predict(model, TensorDataset(nerve.from_numpy(X), nerve.from_numpy(y)), batch_size=32)  # target ignored
    np.testing.assert_allclose(pred2.numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    assert model.training


def test_float64_arrays_are_cast_to_the_model_dtype():
    X, y = blobs(n=32)
    model = mlp()
    fit(model, (X.astype(np.float64), y.astype(np.int32)), loss="cross_entropy", optimizer="sgd", verbose=0)
    assert model[0].weight.dtype == nerve.float32
    model64 = mlp().double()
    fit(model64, (X, y), loss="cross_entropy", optimizer="sgd", verbose=0)  # float32 data, float64 model
    assert model64[0].weight.dtype == nerve.float64


def test_model_wrapper_keras_style():
    X, y = blobs()
    nerve.manual_seed(0)
    m = Model(nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)))
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"], optimizer_kwargs={"lr": 0.02})
    h = m.fit(X, y, epochs=3, batch_size=32, validation_split=0.2, verbose=0)
    assert h.history["val_accuracy"][-1] > 0.85
    opt = m.optimizer
    m.fit(X, y, epochs=1, verbose=0)
    assert m.optimizer is opt and opt.state  # the optimizer's state carries over between fit calls
    res = m.evaluate(X, y)
    assert set(res) == {"loss", "accuracy"}
    assert m.predict(X).shape == (240, 3)
    assert m(nerve.from_numpy(X[:2])).shape == (2, 3)
    assert len(m.state_dict()) == 4  # attribute access reaches the module
    with pytest.raises(RuntimeError, match="call compile"):
        Model(nn.Linear(2, 2)).fit(X, y)


# ------------------------------------------------------------------------------------ progress output
def test_one_line_per_epoch_when_not_a_terminal(capsys):
    X, y = blobs(n=64)
    fit(mlp(), (X, y), validation_split=0.25, loss="cross_entropy", optimizer="adam", metrics=["accuracy"],
        epochs=3, batch_size=16, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    pat = (r"epoch {}/3 - \d+\.\ds - loss: \d+\.\d{{4}} - accuracy: \d\.\d{{4}} - val_loss: \d+\.\d{{4}} - "
           r"val_accuracy: \d\.\d{{4}} - lr: 0\.001$")
    for i, line in enumerate(lines):
        assert re.match(pat.format(i + 1), line), line
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="adam", epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------------------------------ errors
def test_errors_are_clear():
    X, y = blobs(n=32)
    with pytest.raises(TypeError, match=r"pass an instance, e.g. CrossEntropyLoss\(\)"):
        fit(mlp(), (X, y), loss=nn.CrossEntropyLoss, optimizer="sgd", verbose=0)
    with pytest.raises(ValueError, match="unknown loss 'crossentropyy'"):
        fit(mlp(), (X, y), loss="crossentropyy", optimizer="sgd", verbose=0)
    with pytest.raises(ValueError, match="32 input samples but 31 targets"):
        fit(mlp(), (X, y[:31]), loss="cross_entropy", optimizer="sgd", verbose=0)
    with pytest.raises(TypeError, match="data must be a tuple"):
        fit(mlp(), {"x": X}, loss="cross_entropy", optimizer="sgd", verbose=0)
    with pytest.raises(ValueError, match="the loss must be a scalar"):
        fit(mlp(), (X, y), loss=nn.CrossEntropyLoss(reduction="none"), optimizer="sgd", verbose=0)
    loader = DataLoader(TensorDataset(nerve.from_numpy(X), nerve.from_numpy(y)), batch_size=8)
    with pytest.raises(ValueError, match="validation_split needs tuple"):
        fit(mlp(), loader, validation_split=0.2, loss="cross_entropy", optimizer="sgd", verbose=0)
    with pytest.raises(ValueError, match="reserved log key"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", metrics=[M.Accuracy(name="loss")], verbose=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be a float"):
        fit(mlp(), (X, y), validation_split=1.5, loss="cross_entropy", optimizer="sgd", verbose=0)
    with pytest.raises(TypeError, match="wrap a function with LambdaCallback"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", callbacks=[print], verbose=0)
    other = nerve.optim.SGD(mlp().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="different optimizer"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd",
            scheduler=nerve.optim.lr_scheduler.StepLR(other, 1), verbose=0)


def test_duplicate_metric_names_get_suffixes():
    X, y = blobs(n=32)
    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", metrics=["accuracy", M.Accuracy()], verbose=0)
    assert "accuracy" in h.history and "accuracy_1" in h.history


def test_metric_objects_given_by_the_caller_are_not_mutated():
    X, y = blobs(n=32)
    acc = M.Accuracy()
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", metrics=[acc], verbose=0)
    assert acc.total == 0


# ------------------------------------------------------------------------------------ real data
FMNIST = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(FMNIST), reason="Fashion-MNIST is not installed")
def test_fashion_mnist_slice():
    from nerve.utils.data import Subset
    from nerve.vision import transforms as T
    from nerve.vision.datasets import FashionMNIST

    ds = FashionMNIST(FMNIST, train=True, transform=T.Compose([T.ToTensor(), T.Normalize((0.286,), (0.353,))]))
    data = Subset(ds, range(2000))
    nerve.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    h = fit(model, data, validation_split=0.2, loss="cross_entropy", optimizer="adam", metrics=["accuracy", "f1"],
            epochs=2, batch_size=64, seed=0, verbose=0)
    assert h.history["val_accuracy"][-1] > 0.7
    assert h.history["loss"][1] < h.history["loss"][0]
    assert not math.isnan(h.history["val_f1"][-1])
