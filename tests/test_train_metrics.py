"""nerve.train.metrics: hand-computed values, scikit-learn where installed, streaming == one-shot."""
import json
import math

import numpy as np
import pytest

import nerve
from nerve.train import metrics as M

try:
    from sklearn import metrics as skm
except ImportError:  # pragma: no cover - optional reference
    skm = None

needs_sklearn = pytest.mark.skipif(skm is None, reason="scikit-learn is not installed")


def _data(n=300, c=5, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)).astype(np.float32)
    y = rng.integers(0, c, n)
    logits[np.arange(n), y] += 0.8  # better than chance, so every class gets predictions
    return logits, y


# ------------------------------------------------------------------------------------ hand-computed
def test_accuracy_by_hand():
    logits = nerve.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 1.0]])
    y = nerve.tensor([0, 2, 2, 1])
    assert M.accuracy(logits, y) == 0.5
    assert M.accuracy(logits.softmax(1), y) == 0.5  # probabilities give the same argmax
    assert M.accuracy(nerve.tensor([0, 1, 2, 2]), y) == 0.5  # labels against labels
    assert M.accuracy(logits, y, top_k=2) == 0.75
    assert M.top_k_accuracy(logits, y, k=3) == 1.0
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 2, 1]]
    assert M.accuracy(logits, onehot) == 0.5


def test_binary_accuracy_threshold_and_logits():
    p = np.array([0.1, 0.6, 0.4, 0.9], dtype=np.float32)
    y = np.array([0, 1, 1, 1])
    assert M.accuracy(p, y) == 0.75
    assert M.accuracy(p, y, threshold=0.35) == 1.0
    assert M.accuracy(p[:, None], y) == 0.75  # (N, 1) against (N,)
    logits = np.array([-2.0, 0.5, -0.1, 3.0], dtype=np.float32)
    assert M.accuracy(logits, y) == 0.75  # values outside [0, 1]: read as logits
    assert M.accuracy(np.array([0.2, 0.3]), np.array([1, 1]), from_logits=True) == 1.0  # sigmoid(0.2) > 0.5
    # multi-label, element-wise
    pm = np.array([[0.9, 0.2], [0.4, 0.7]])
    ym = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert M.accuracy(pm, ym, task="multilabel") == 0.75


def test_precision_recall_f1_by_hand():
    # classes 0,1,2; cm rows=true: [[2,1,0],[0,1,1],[1,0,2]]
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    p = np.array([0, 0, 1, 1, 2, 0, 2, 2])
    cm = M.confusion_matrix(p, y)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
    prec = np.array([2 / 3, 1 / 2, 2 / 3])
    rec = np.array([2 / 3, 1 / 2, 2 / 3])
    f1 = 2 * prec * rec / (prec + rec)
    np.testing.assert_allclose(M.precision(p, y, average=None), prec)
    np.testing.assert_allclose(M.recall(p, y, average=None), rec)
    np.testing.assert_allclose(M.f1_score(p, y, average=None), f1)
    assert M.precision(p, y) == pytest.approx(prec.mean())
    assert M.f1_score(p, y, average="micro") == pytest.approx(5 / 8)
    assert M.precision_recall_f1(p, y) == pytest.approx((prec.mean(), rec.mean(), f1.mean()))


def test_zero_division_gives_zero_and_absent_classes_are_not_averaged():
    y = np.array([0, 0, 1, 1])
    p = np.array([0, 0, 0, 0])  # class 1 never predicted: precision 0/0 -> 0
    np.testing.assert_allclose(M.precision(p, y, average=None), [0.5, 0.0])
    # class 2 exists (num_classes=3) but never appears: the per-class array has it, macro ignores it
    assert M.precision(p, y, average=None, num_classes=3).shape == (3,)
    assert M.precision(p, y, num_classes=3) == pytest.approx(0.25)


def test_regression_by_hand():
    p = np.array([1.0, 2.0, 4.0])
    t = np.array([1.0, 3.0, 2.0])
    assert M.mean_absolute_error(p, t) == pytest.approx(1.0)
    assert M.mean_squared_error(p, t) == pytest.approx(5 / 3)
    assert M.root_mean_squared_error(p, t) == pytest.approx(math.sqrt(5 / 3))
    ss_tot = ((t - t.mean()) ** 2).sum()
    assert M.r2_score(p, t) == pytest.approx(1 - 5 / ss_tot)
    assert M.r2_score(p[:, None], t) == pytest.approx(1 - 5 / ss_tot)  # (N, 1) preds, (N,) target
    assert M.r2_score(t, t) == 1.0
    assert M.r2_score(np.array([1.0, 2.0]), np.array([3.0, 3.0])) == 0.0  # constant target, imperfect fit


def test_empty_metric_is_nan():
    assert math.isnan(M.Accuracy().compute())
    assert math.isnan(M.MeanAbsoluteError().compute())
    assert math.isnan(M.R2Score().compute())


# ------------------------------------------------------------------------------------ scikit-learn
@needs_sklearn
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
def test_prf_match_sklearn(average):
    logits, y = _data()
    pred = logits.argmax(1)
    for ours, theirs in ((M.precision, skm.precision_score), (M.recall, skm.recall_score),
                         (M.f1_score, skm.f1_score)):
        np.testing.assert_allclose(ours(logits, y, average=average),
                                   theirs(y, pred, average=average, zero_division=0), rtol=1e-12)


@needs_sklearn
def test_prf_match_sklearn_with_missing_classes():
    rng = np.random.default_rng(3)
    y = rng.choice([0, 2, 5], 80)
    p = rng.choice([0, 1, 2], 80)
    for average in ("macro", "weighted", "micro"):
        assert M.f1_score(p, y, average=average) == pytest.approx(
            skm.f1_score(y, p, average=average, zero_division=0), abs=1e-12)
        assert M.precision(p, y, average=average) == pytest.approx(
            skm.precision_score(y, p, average=average, zero_division=0), abs=1e-12)
    np.testing.assert_allclose(M.recall(p, y, average=None, num_classes=6),
                               skm.recall_score(y, p, average=None, labels=range(6), zero_division=0))


@needs_sklearn
def test_binary_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    prob = rng.random(200)
    y = (prob + rng.normal(0, 0.3, 200) > 0.5).astype(int)
    pred = (prob > 0.5).astype(int)
    assert M.accuracy(prob, y) == pytest.approx(skm.accuracy_score(y, pred))
    assert M.precision(prob, y, average="binary") == pytest.approx(skm.precision_score(y, pred))
    assert M.recall(prob, y, average="binary") == pytest.approx(skm.recall_score(y, pred))
    assert M.f1_score(prob, y, average="binary") == pytest.approx(skm.f1_score(y, pred))
    np.testing.assert_array_equal(M.confusion_matrix(prob, y), skm.confusion_matrix(y, pred))


@needs_sklearn
def test_accuracy_confusion_topk_match_sklearn():
    logits, y = _data(c=7)
    assert M.accuracy(logits, y) == pytest.approx(skm.accuracy_score(y, logits.argmax(1)))
    np.testing.assert_array_equal(M.confusion_matrix(logits, y), skm.confusion_matrix(y, logits.argmax(1)))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(logits, y, normalize=norm),
                                   skm.confusion_matrix(y, logits.argmax(1), normalize=norm))
    for k in (1, 2, 3):
        assert M.top_k_accuracy(logits, y, k=k) == pytest.approx(skm.top_k_accuracy_score(y, logits, k=k))


@needs_sklearn
@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", "variance_weighted"])
def test_regression_matches_sklearn(multioutput):
    rng = np.random.default_rng(2)
    t = rng.normal(3.0, 2.0, size=(150, 3))
    p = t + rng.normal(0, 1.0, size=t.shape)
    np.testing.assert_allclose(M.r2_score(p, t, multioutput=multioutput),
                               skm.r2_score(t, p, multioutput=multioutput), rtol=1e-12)
    assert M.mean_absolute_error(p, t) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-12)
    assert M.root_mean_squared_error(p, t) == pytest.approx(math.sqrt(skm.mean_squared_error(t, p)), rel=1e-12)


# ------------------------------------------------------------------------------------ streaming
@pytest.mark.parametrize("make", [
    lambda: M.Accuracy(), lambda: M.TopKAccuracy(3), lambda: M.Precision(), lambda: M.Recall(average="weighted"),
    lambda: M.F1Score(), lambda: M.F1Score(average=None), lambda: M.ConfusionMatrix(),
])
def test_classification_streaming_equals_one_shot(make):
    logits, y = _data(n=257)
    m = make()
    for i in range(0, 257, 32):
        m.update(nerve.tensor(logits[i:i + 32]), nerve.tensor(y[i:i + 32]))
    np.testing.assert_allclose(m.compute(), make()(logits, y), rtol=1e-12)


@pytest.mark.parametrize("make", [M.MeanAbsoluteError, M.MeanSquaredError, M.RootMeanSquaredError, M.R2Score])
def test_regression_streaming_equals_one_shot(make):
    rng = np.random.default_rng(4)
    t = rng.normal(1e3, 1.0, size=(301, 2))  # a large mean: a naive sum-of-squares R2 would cancel
    p = t + rng.normal(0, 0.5, size=t.shape)
    m = make()
    for i in range(0, 301, 17):
        m.update(p[i:i + 17], t[i:i + 17])
    assert m.compute() == pytest.approx(make()(p, t), rel=1e-9)


def test_reset_and_state_dict_roundtrip_through_json():
    logits, y = _data(n=100)
    for make in (M.Accuracy, M.F1Score, M.ConfusionMatrix, M.R2Score, M.MeanAbsoluteError, M.TopKAccuracy):
        m = make()
        if make is M.R2Score or make is M.MeanAbsoluteError:
            a, b = logits[:, 0], logits[:, 1]
        else:
            a, b = logits, y
        m.update(a[:60], b[:60])
        state = json.loads(json.dumps(m.state_dict()))
        m2 = make()
        m2.load_state_dict(state)
        m.update(a[60:], b[60:])
        m2.update(a[60:], b[60:])
        np.testing.assert_array_equal(m.compute(), m2.compute())
        m.reset()
        assert m.state_dict() == make().state_dict()


def test_confusion_matrix_grows_and_checks_num_classes():
    m = M.ConfusionMatrix()
    m.update(np.array([0, 1]), np.array([0, 1]))
    m.update(np.array([3]), np.array([2]))
    assert m.compute().shape == (4, 4)
    assert m.compute()[2, 3] == 1
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        M.confusion_matrix(np.array([0, 2]), np.array([0, 1]), num_classes=2)


def test_inputs_lists_tensors_arrays():
    assert M.accuracy([0, 1, 1], [0, 1, 0]) == pytest.approx(2 / 3)
    assert M.mean_absolute_error(nerve.tensor([1.0, 2.0]), [1.0, 4.0]) == 1.0
    x = nerve.tensor([[1.0, 0.0]], requires_grad=True)
    assert M.accuracy(x * 2, nerve.tensor([0])) == 1.0  # a graph tensor is read, not recorded


def test_errors_are_clear():
    with pytest.raises(ValueError, match=r"scores of shape \(4, 3\) need class indices of shape \(4,\), got target of shape \(5,\)"):
        M.accuracy(np.zeros((4, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="class-index targets must be integers"):
        M.accuracy(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"same shape"):
        M.mean_squared_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        M.get("acuracy")
    with pytest.raises(ValueError, match="average must be one of"):
        M.Precision(average="samples")
    with pytest.raises(TypeError, match="must be a nerve Tensor"):
        M.accuracy(object(), [1])


def test_get_names():
    assert isinstance(M.get("accuracy"), M.Accuracy)
    assert M.get("acc").name == "acc"
    top = M.get("top5_accuracy")
    assert isinstance(top, M.TopKAccuracy) and top.k == 5 and top.name == "top5_accuracy"
    assert M.get("sparse_top_3_categorical_accuracy").k == 3
    assert isinstance(M.get("f1"), M.F1Score) and M.get("f1").average == "macro"
    b = M.get("precision", binary=True, from_logits=True)
    assert b.task == "binary" and b.average == "binary" and b.from_logits is True
    assert isinstance(M.get("rmse"), M.RootMeanSquaredError)
    m = M.Accuracy()
    assert M.get(m) is m
    w = M.get(lambda p, t: 1.0)
    assert isinstance(w, M.MeanMetricWrapper)


def test_mean_metric_wrapper_weights_batches_by_size():
    w = M.MeanMetricWrapper(lambda p, t: float(np.mean(p == t)), name="eq")
    w.update(np.array([1, 1, 1]), np.array([1, 1, 1]))  # 1.0 on 3 samples
    w.update(np.array([0]), np.array([1]))  # 0.0 on 1 sample
    assert w.compute() == 0.75
