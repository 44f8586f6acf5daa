"""nerve.data: CSV tables, TabularDataset, preprocessing (vs scikit-learn when installed), splits, folds,
class weights, and an end-to-end CSV -> split -> preprocess -> train run."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

import nerve
import nerve.data as nd
from nerve.utils.data import DataLoader, Subset, default_collate

try:
    import sklearn
    from sklearn import model_selection as skms
    from sklearn import preprocessing as skp
    from sklearn.impute import SimpleImputer as SkImputer
    from sklearn.utils.class_weight import compute_class_weight
except ImportError:  # scikit-learn is a test-only reference
    sklearn = None

try:
    import pandas as pd
except ImportError:
    pd = None

needs_sklearn = pytest.mark.skipif(sklearn is None, reason="scikit-learn not installed")
needs_pandas = pytest.mark.skipif(pd is None, reason="pandas not installed")

CSV = '''id,age,city,income,member,label
1,31,Oslo,"1,200.5",yes,a
2,45,"Rome, ""IT""",NA,no,b
3,?,Oslo,300,yes,a

4,22,,400,no,c
5,58,"Paris
FR",nan,yes,b
'''


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

def test_read_csv_types_quotes_missing(tmp_path):
    t = nd.read_csv(write(tmp_path, CSV), target="label")
    assert t.columns == ["id", "age", "city", "income", "member", "label"]
    assert t.shape == (5, 6) and len(t) == 5 and t.target == "label"
    assert t.kinds == {"id": "numeric", "age": "numeric", "city": "categorical", "income": "categorical",
                       "member": "categorical", "label": "categorical"}
    assert t["id"].dtype == np.int64 and t["id"].tolist() == [1, 2, 3, 4, 5]
    assert t["age"].dtype == np.float64
    np.testing.assert_array_equal(t["age"], [31, 45, np.nan, 22, 58])
    # quoted delimiter, doubled quotes, a line break inside quotes; empty field -> None
    assert t["city"].tolist() == ["Oslo", 'Rome, "IT"', "Oslo", None, "Paris\nFR"]
    assert t["income"].tolist() == ["1,200.5", None, "300", "400", None]
    assert t.missing_counts() == {"id": 0, "age": 1, "city": 1, "income": 2, "member": 0, "label": 0}
    assert t.numeric_columns == ["id", "age"] and "label" in t.categorical_columns


def test_read_csv_options(tmp_path):
    text = "zip;score;name\n01234;1.5;x\n98765;2;y\n"
    t = nd.read_csv(write(tmp_path, text), delimiter=";", dtype={"zip": "categorical", "score": "float32"})
    assert t["zip"].tolist() == ["01234", "98765"]
    assert t["score"].dtype == np.float32 and t["score"].tolist() == [1.5, 2.0]
    t = nd.read_csv(write(tmp_path, text), delimiter=";", columns=["name", 0])
    assert t.columns == ["name", "zip"] and t["zip"].tolist() == [1234, 98765]
    t = nd.read_csv(io.StringIO("1,a\n2,b\n"), header=False)
    assert t.columns == ["0", "1"] and t["0"].tolist() == [1, 2]
    t = nd.read_csv(io.StringIO("1,a\n2,b\n"), header=["x", "y"], na_values=("b",))
    assert t["y"].tolist() == ["a", None]
    # a UTF-8 byte-order mark is not part of the first column name
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffa,b\n1,2\n".encode())
    assert nd.read_csv(p).columns == ["a", "b"]
    t = nd.read_csv(io.StringIO("a,b\n1,2\n"), dtype="float")
    assert t["a"].dtype == np.float64


def test_read_csv_errors(tmp_path):
    p = write(tmp_path, 'a,b,c\n1,2,3\n\n"x\ny",5,6\n7,8\n')
    with pytest.raises(ValueError, match=r"data.csv line 6 has 2 fields, but the header has 3 columns"):
        nd.read_csv(p)
    p = write(tmp_path, "a,b\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match=r"data.csv line 3, column 'b' \(declared numeric\): cannot parse 'oops'"):
        nd.read_csv(p, dtype={"b": "numeric"})
    assert nd.read_csv(p).kinds["b"] == "categorical"  # undeclared: inferred as categorical
    with pytest.raises(ValueError, match="declared int.*missing"):
        nd.read_csv(io.StringIO("a\n1\nNA\n"), dtype={"a": int})
    with pytest.raises(ValueError, match="duplicate column name 'a'"):
        nd.read_csv(io.StringIO("a,b,a\n1,2,3\n"))
    with pytest.raises(KeyError, match="target column 'y'"):
        nd.read_csv(io.StringIO("a,b\n1,2\n"), target="y")
    with pytest.raises(KeyError, match="no column named 'z'"):
        nd.read_csv(io.StringIO("a,b\n1,2\n"), columns=["z"])
    with pytest.raises(ValueError, match="unknown dtype"):
        nd.read_csv(io.StringIO("a,b\n1,2\n"), dtype={"a": "complex-ish"})
    with pytest.raises(FileNotFoundError, match="no such file"):
        nd.read_csv(tmp_path / "nope.csv")


@needs_pandas
def test_read_csv_matches_pandas(tmp_path):
    p = write(tmp_path, CSV)
    t = nd.read_csv(p)
    df = pd.read_csv(p, na_values=["", "NA", "NaN", "nan", "?"], keep_default_na=False)
    assert list(df.columns) == t.columns
    for c in t.columns:
        if t.kinds[c] == "numeric":
            np.testing.assert_array_equal(t[c], df[c].to_numpy(dtype=np.float64))
        else:
            assert t[c].tolist() == [None if v is None or v != v else v for v in df[c].tolist()]


def test_table_ops():
    t = nd.Table({"x": [1, 2, 3, 4], "y": [0.5, None, 1.5, 2.0], "c": ["a", None, "b", "a"]}, target="c")
    assert t.kinds == {"x": "numeric", "y": "numeric", "c": "categorical"}
    assert t["x"].dtype == np.int64 and np.isnan(t["y"][1]) and t["c"][1] is None
    sub = t.take([3, 0])
    assert sub["x"].tolist() == [4, 1] and sub.target == "c"
    assert t[np.array([True, False, True, False])]["c"].tolist() == ["a", "b"]
    assert t[["c", "x"]].columns == ["c", "x"] and t.drop("y").columns == ["x", "c"]
    np.testing.assert_array_equal(t.to_numpy(["x", "y"]), np.array([[1, .5], [2, np.nan], [3, 1.5], [4, 2]],
                                                                     dtype=np.float32))
    with pytest.raises(TypeError, match="categorical"):
        t.to_numpy()
    with pytest.raises(KeyError, match="no column named 'q'"):
        t["q"]
    with pytest.raises(ValueError, match="has 2 rows"):
        nd.Table({"a": [1, 2, 3], "b": [1, 2]})
    with pytest.raises(IndexError, match="out of range"):
        t.take([4])
    t["z"] = np.arange(4.0)
    assert t.columns[-1] == "z"
    assert t == t.copy() and t != t.take([0, 1])
    assert "4 rows x 4 columns" in repr(t)


# ---------------------------------------------------------------------------------------------
# TabularDataset
# ---------------------------------------------------------------------------------------------

def test_tabular_dataset_classification_and_batches():
    t = nd.Table({"f1": [0.0, 1, 2, 3, 4], "f2": [5, 6, 7, 8, 9], "y": ["b", "a", "b", "c", "a"]})
    ds = nd.TabularDataset(t, "y")
    assert ds.classes == ["a", "b", "c"] and ds.task == "classification" and ds.feature_names == ["f1", "f2"]
    x, y = ds[3]
    assert x.dtype == nerve.float32 and tuple(x.shape) == (2,) and x.tolist() == [3.0, 8.0]
    assert y.dtype == nerve.int64 and y.item() == 2
    idx = [4, 0, 2]
    fast = ds.__getbatch__(idx)
    slow = default_collate([ds[i] for i in idx])
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())
    batches = list(DataLoader(ds, batch_size=2))
    assert [tuple(b[0].shape) for b in batches] == [(2, 2), (2, 2), (1, 2)]
    sub = Subset(ds, [1, 3])
    xb, yb = sub.__getbatch__([1, 0])
    assert yb.tolist() == [2, 0] and xb.tolist() == [[3, 8], [1, 6]]
    X, Y = ds.tensors
    assert tuple(X.shape) == (5, 2) and Y.tolist() == [1, 0, 1, 2, 0]
    # integer labels: classification with classes in sorted order; a float target: regression
    t["k"] = [3, 1, 3, 2, 1]
    ds = nd.TabularDataset(t, "k", features=["f1"])
    assert ds.classes == [1, 2, 3] and ds.targets.tolist() == [2, 0, 2, 1, 0]
    reg = nd.TabularDataset(t, "f1", features=["f2"])
    assert reg.task == "regression" and reg.targets.dtype == np.float32
    assert nd.TabularDataset(t, "k", features=["f1"], task="regression").task == "regression"
    multi = nd.TabularDataset(t, ["f1", "f2"], features=["k"])
    assert multi.targets.shape == (5, 2) and multi[0][1].dtype == nerve.float32
    unlabeled = nd.TabularDataset(t.drop(["y"]), features=["f1", "f2"])
    assert tuple(unlabeled.__getbatch__([0, 1]).shape) == (2, 2)


def test_tabular_dataset_errors_and_classes():
    t = nd.Table({"f": [0.0, 1, 2], "c": ["u", "v", "u"], "y": ["a", "b", "b"]})
    with pytest.raises(TypeError, match=r"feature columns \['c'\] are categorical"):
        nd.TabularDataset(t, "y")
    ds = nd.TabularDataset(t, "y", features=["f"], classes=["b", "a", "z"])
    assert ds.targets.tolist() == [1, 0, 0] and ds.num_classes == 3
    with pytest.raises(ValueError, match=r"labels \['b'\] that are not in classes"):
        nd.TabularDataset(t, "y", features=["f"], classes=["a"])
    t2 = nd.Table({"f": [0.0, 1, 2], "y": ["a", None, "b"]})
    with pytest.raises(ValueError, match="target column 'y' has 1 missing values"):
        nd.TabularDataset(t2, "y")
    t3 = nd.Table({"f": [0.0, np.nan, 2], "y": [0, 1, 0]})
    with pytest.raises(ValueError, match="missing values"):
        nd.TabularDataset(t3, "y")
    with pytest.raises(KeyError, match="no column named 'nope'"):
        nd.TabularDataset(t, "nope")
    # a per-sample callable transform is applied and turns the batched fast path off
    ds = nd.TabularDataset(t, "y", features=["f"], transform=lambda x: x * 2)
    assert ds[2][0].tolist() == [4.0] and ds.__getbatch__([0]) is NotImplemented


def test_tabular_dataset_from_csv_path(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")
    ds = nd.TabularDataset(p, "y")
    assert len(ds) == 2 and ds.classes == [0, 1] and ds.data.dtype == np.float32


# ---------------------------------------------------------------------------------------------
# preprocessing
# ---------------------------------------------------------------------------------------------

def _data(seed=0, n=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1, 10, 0.1, 3] + [0, 5, -2, 100]
    X[:, 3] = 7.0  # a constant column
    return X


def test_standard_scaler_hand_computed():
    X = np.array([[1.0, 10], [3, 10], [5, 10]])
    sc = nd.StandardScaler().fit(X)
    np.testing.assert_allclose(sc.mean_, [3, 10])
    np.testing.assert_allclose(sc.var_, [8 / 3, 0])  # ddof=0
    np.testing.assert_allclose(sc.scale_, [np.sqrt(8 / 3), 1])  # constant column -> scale 1
    np.testing.assert_allclose(sc.transform(X), [[-1.224744871, 0], [0, 0], [1.224744871, 0]], rtol=1e-8)
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(X)), X)
    out = sc.transform(X.astype(np.float32))
    assert out.dtype == np.float32
    tout = sc.transform(nerve.tensor(X, dtype=nerve.float32))
    assert isinstance(tout, nerve.Tensor) and tout.dtype == nerve.float32
    mm = nd.MinMaxScaler((-1, 1)).fit(X)
    np.testing.assert_allclose(mm.transform(X), [[-1, -1], [0, -1], [1, -1]])
    np.testing.assert_allclose(mm.transform([[7.0, 10]]), [[2, -1]])
    np.testing.assert_allclose(nd.MinMaxScaler((-1, 1), clip=True).fit(X).transform([[7.0, 10]]), [[1, -1]])


@needs_sklearn
def test_scalers_match_sklearn():
    X = _data()
    X[3, 0] = np.nan
    X[7, 2] = np.nan
    for ours, ref in [(nd.StandardScaler(), skp.StandardScaler()),
                      (nd.StandardScaler(with_mean=False), skp.StandardScaler(with_mean=False)),
                      (nd.MinMaxScaler(), skp.MinMaxScaler()),
                      (nd.MinMaxScaler((-2, 3), clip=True), skp.MinMaxScaler((-2, 3), clip=True))]:
        Xt = ours.fit_transform(X[:30])
        np.testing.assert_allclose(Xt, ref.fit_transform(X[:30]), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.transform(X[30:]), ref.transform(X[30:]), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.inverse_transform(Xt), ref.inverse_transform(Xt), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
    X32 = X.astype(np.float32)
    assert nd.StandardScaler().fit_transform(X32).dtype == skp.StandardScaler().fit_transform(X32).dtype


@needs_sklearn
def test_imputer_matches_sklearn():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, size=(30, 3)).astype(float)
    X[rng.random(X.shape) < 0.2] = np.nan
    for strategy in ["mean", "median", "most_frequent", "constant"]:
        kw = {"fill_value": -1.0} if strategy == "constant" else {}
        ours = nd.SimpleImputer(strategy=strategy, **kw).fit(X[:20])
        ref = SkImputer(strategy=strategy, **kw).fit(X[:20])
        np.testing.assert_allclose(ours.statistics_, ref.statistics_.astype(float))
        np.testing.assert_allclose(ours.transform(X[20:]), ref.transform(X[20:]))
    S = np.array([["a", "x"], [None, "y"], ["b", None], ["b", "y"], ["a", "x"]], dtype=object)
    ours = nd.SimpleImputer(strategy="most_frequent").fit(S)
    ref = SkImputer(strategy="most_frequent", missing_values=None).fit(S)
    assert ours.statistics_ == list(ref.statistics_) == ["a", "x"]  # ties -> the smallest value
    assert ours.transform(S).tolist() == ref.transform(S).tolist()
    c = nd.SimpleImputer(strategy="constant", fill_value="missing").fit_transform(S)
    assert c[1, 0] == "missing" and c[2, 1] == "missing"
    with pytest.raises(TypeError, match="strategy='most_frequent' or 'constant'"):
        nd.SimpleImputer(strategy="mean").fit(S)


@needs_sklearn
def test_one_hot_and_label_encoder_match_sklearn():
    train = np.array([["red", "S", 1], ["blue", "M", 2], ["green", "S", 1], ["red", "L", 3]], dtype=object)
    test = np.array([["green", "M", 3], ["blue", "L", 2]], dtype=object)
    for kw in [{}, {"drop": "first"}, {"drop": "if_binary"}, {"handle_unknown": "ignore"}]:
        ours = nd.OneHotEncoder(**kw).fit(train)
        ref = skp.OneHotEncoder(sparse_output=False, **kw).fit(train)
        np.testing.assert_array_equal(ours.transform(test), ref.transform(test))
        assert ours.get_feature_names_out() == list(ref.get_feature_names_out())
        assert [c.tolist() for c in ours.categories_] == [c.tolist() for c in ref.categories_]
        enc = ours.transform(train)
        assert ours.inverse_transform(enc).tolist() == ref.inverse_transform(enc).tolist()
    unseen = np.array([["purple", "S", 1]], dtype=object)
    ign = nd.OneHotEncoder(handle_unknown="ignore").fit(train)
    np.testing.assert_array_equal(ign.transform(unseen),
                                  skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train)
                                  .transform(unseen))
    y = ["cat", "dog", "cat", "bird"]
    le, ref = nd.LabelEncoder().fit(y), skp.LabelEncoder().fit(y)
    assert le.classes_.tolist() == ref.classes_.tolist()
    assert le.transform(["dog", "bird"]).tolist() == ref.transform(["dog", "bird"]).tolist()
    assert le.inverse_transform([0, 2]).tolist() == ["bird", "dog"]
    tl = nd.LabelEncoder().fit(nerve.tensor([3, 1, 3])).transform(nerve.tensor([1, 3]))
    assert isinstance(tl, nerve.Tensor) and tl.dtype == nerve.int64 and tl.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"previously unseen labels: \['fish'\]"):
        le.transform(["fish"])


def test_one_hot_encoder_hand_computed_and_errors():
    t = nd.Table({"color": ["red", "blue", "red"], "size": [1, 2, 2]})
    enc = nd.OneHotEncoder().fit(t)
    assert enc.get_feature_names_out() == ["color_blue", "color_red", "size_1", "size_2"]
    np.testing.assert_array_equal(enc.transform(t), [[0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 0, 1]])
    assert enc.transform(t).dtype == np.float32
    bad = nd.Table({"color": ["blue", "purple"], "size": [1, 2]})
    with pytest.raises(ValueError, match=r"column 'color' has unknown category 'purple' \(first at row 1.*"
                                         r"known categories: \['blue', 'red'\].*handle_unknown='ignore'"):
        enc.transform(bad)
    with pytest.raises(ValueError, match="missing values.*SimpleImputer"):
        nd.OneHotEncoder().fit(nd.Table({"c": ["a", None]}))
    dropped = nd.OneHotEncoder(drop="first", handle_unknown="ignore").fit(t)
    with pytest.warns(UserWarning, match="unknown categories"):
        np.testing.assert_array_equal(dropped.transform(bad), [[0, 0], [0, 1]])


def test_not_fitted_and_column_checks():
    for tr in [nd.StandardScaler(), nd.MinMaxScaler(), nd.SimpleImputer(), nd.OneHotEncoder(), nd.LabelEncoder(),
               nd.ColumnTransformer([(nd.StandardScaler(), [0])]), nd.Pipeline([nd.StandardScaler()])]:
        with pytest.raises(nd.NotFittedError, match=f"This {type(tr).__name__} instance is not fitted yet"):
            tr.transform(np.zeros((2, 1)))
    sc = nd.StandardScaler().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X has 3 features, but StandardScaler was fitted with 2 features"):
        sc.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expected a 2-D array"):
        sc.transform(np.zeros(3))
    t = nd.Table({"a": [1.0, 2, 3], "b": [10.0, 20, 40]})
    sc = nd.StandardScaler().fit(t)
    np.testing.assert_allclose(sc.transform(t[["b", "a"]]), sc.transform(t))  # matched by name
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \['c'\]"):
        sc.transform(nd.Table({"a": [1.0], "c": [2.0]}))
    with pytest.raises(TypeError, match="categorical"):
        nd.StandardScaler().fit(nd.Table({"a": ["x", "y"]}))


def test_fit_on_train_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    X[80:] += 5.0  # the held-out rows come from a shifted distribution
    train, test = X[:80], X[80:]
    sc = nd.StandardScaler().fit(train)
    everything = nd.StandardScaler().fit(X)
    np.testing.assert_allclose(sc.mean_, train.mean(0))
    assert np.abs(sc.mean_ - everything.mean_).min() > 0.5  # statistics of all rows would leak the test rows
    assert np.abs(sc.transform(test).mean(0) - 5.0 / train.std(0)).max() < 1.0
    assert np.abs(sc.transform(train).mean(0)).max() < 1e-12
    mm = nd.MinMaxScaler().fit(train)
    assert mm.transform(test).max() > 1.0  # test values beyond the training range are not squeezed in


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    age[rng.random(n) < 0.1] = np.nan
    city = rng.choice(["Oslo", "Rome", "Lima"], n).astype(object)
    city[rng.random(n) < 0.1] = None
    return nd.Table({"age": age, "income": rng.normal(50, 10, n), "city": city,
                     "y": rng.choice(["no", "yes"], n, p=[0.7, 0.3])}, target="y")


def _pre():
    return nd.ColumnTransformer([
        (nd.Pipeline([nd.SimpleImputer(strategy="median"), nd.StandardScaler()]), ["age", "income"]),
        (nd.Pipeline([nd.SimpleImputer(strategy="most_frequent"), nd.OneHotEncoder(handle_unknown="ignore")]),
         ["city"]),
    ])


def test_column_transformer_and_pipeline():
    t = _table()
    train, test = t.take(np.arange(40)), t.take(np.arange(40, 60))
    pre = _pre()
    Xtr = pre.fit_transform(train)
    assert Xtr.dtype == np.float32 and Xtr.shape == (40, 5)
    assert pre.get_feature_names_out() == ["age", "income", "city_Lima", "city_Oslo", "city_Rome"]
    np.testing.assert_array_equal(pre.transform(train), Xtr)
    # the same result by hand
    med = np.nanmedian(train["age"])
    age = np.where(np.isnan(train["age"]), med, train["age"])
    np.testing.assert_allclose(Xtr[:, 0], (age - age.mean()) / age.std(), rtol=1e-5, atol=1e-6)
    assert np.all(Xtr[:, 2:].sum(1) == 1)
    Xte = pre.transform(test)  # extra columns (the target) are ignored
    assert Xte.shape == (20, 5)
    with pytest.raises(ValueError, match=r"lacks columns \['city'\]"):
        pre.transform(test.drop("city"))
    pt = nd.ColumnTransformer([(nd.OneHotEncoder(), ["city"])], remainder="passthrough")
    with pytest.raises(TypeError, match="categorical"):
        pt.fit(nd.drop_missing_rows(train.drop("age")))  # 'y' is categorical and would pass through
    ct = nd.ColumnTransformer([(nd.StandardScaler(), [0]), ("passthrough", [2])])
    out = ct.fit_transform(np.arange(12.).reshape(4, 3))
    np.testing.assert_allclose(out[:, 1], [2, 5, 8, 11])
    sel = nd.ColumnTransformer([(nd.StandardScaler(), lambda tb: [c for c in tb.numeric_columns])])
    assert sel.fit(train).get_feature_names_out() == ["age", "income"]
    p = nd.Pipeline([nd.SimpleImputer(), nd.MinMaxScaler()])
    Xi = p.fit_transform(np.array([[1.0], [np.nan], [3.0]]))
    np.testing.assert_allclose(Xi, [[0], [0.5], [1]])
    np.testing.assert_allclose(p.inverse_transform(Xi), [[1], [2], [3]])


@needs_sklearn
def test_column_transformer_matches_sklearn():
    from sklearn.compose import ColumnTransformer as SkCT
    from sklearn.pipeline import make_pipeline
    t = _table()
    train, test = t.take(np.arange(40)), t.take(np.arange(40, 60))
    df_train = pd.DataFrame(train.to_dict()) if pd is not None else None
    if df_train is None:
        pytest.skip("pandas not installed")
    df_test = pd.DataFrame(test.to_dict())
    ref = SkCT([("num", make_pipeline(SkImputer(strategy="median"), skp.StandardScaler()), ["age", "income"]),
                ("cat", make_pipeline(SkImputer(strategy="most_frequent"),
                                      skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False)), ["city"])],
               verbose_feature_names_out=False)
    pre = _pre()
    np.testing.assert_allclose(pre.fit_transform(train), ref.fit_transform(df_train), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pre.transform(test), ref.transform(df_test), rtol=1e-5, atol=1e-6)
    assert pre.get_feature_names_out() == list(ref.get_feature_names_out())


def test_state_round_trip(tmp_path):
    t = _table()
    train, test = t.take(np.arange(40)), t.take(np.arange(40, 60))
    X = np.random.default_rng(0).normal(size=(10, 3))
    X[2, 1] = np.nan
    S = np.array([["a", 1], ["b", 2], ["a", 3]], dtype=object)
    cases = [(nd.StandardScaler(), X), (nd.MinMaxScaler((-1, 2)), X), (nd.SimpleImputer(strategy="median"), X),
             (nd.SimpleImputer(strategy="most_frequent"), S), (nd.OneHotEncoder(drop="first"), S),
             (_pre(), train)]
    for tr, data in cases:
        before = tr.get_state()
        assert before["fitted"] is None
        assert type(nd.Transformer.from_state(json.loads(json.dumps(before)))) is type(tr)
        tr.fit(data)
        state = json.loads(json.dumps(tr.get_state(), allow_nan=False))  # strict JSON
        rebuilt = type(tr).from_state(state)
        a, b = tr.transform(data), rebuilt.transform(data)
        if a.dtype == object:
            assert a.tolist() == b.tolist()
        else:
            np.testing.assert_array_equal(a, b)
        assert rebuilt.get_state() == state
    pre = cases[-1][0]
    pre.save(tmp_path / "pre.json")
    loaded = nd.load_transformer(tmp_path / "pre.json")
    np.testing.assert_array_equal(loaded.transform(test), pre.transform(test))
    assert loaded.get_feature_names_out() == pre.get_feature_names_out()
    le = nd.LabelEncoder().fit(["x", "y"])
    assert nd.Transformer.from_state(json.loads(json.dumps(le.get_state()))).transform(["y"]).tolist() == [1]
    with pytest.raises(TypeError, match="describes a MinMaxScaler"):
        nd.StandardScaler.from_state(nd.MinMaxScaler().get_state())


def test_drop_missing_rows():
    t = _table(20)
    clean = nd.drop_missing_rows(t)
    assert clean.missing_counts() == dict.fromkeys(t.columns, 0)
    assert len(clean) == int((~np.isnan(t["age"]) & np.array([c is not None for c in t["city"]])).sum())
    assert len(nd.drop_missing_rows(t, columns=["y"])) == 20
    X = np.array([[1.0, 2], [np.nan, 3], [4, 5]])
    y = np.array([0.0, 1, np.nan])
    Xc, yc = nd.drop_missing_rows(X, y)
    assert Xc.tolist() == [[1, 2]] and yc.tolist() == [0]


# ---------------------------------------------------------------------------------------------
# splits
# ---------------------------------------------------------------------------------------------

def _labels(n_per_class=(50, 30, 7, 13), seed=0):
    y = np.concatenate([np.full(k, c) for c, k in enumerate(n_per_class)])
    return np.random.default_rng(seed).permutation(y)


@pytest.mark.parametrize("test_size", [0.2, 0.33, 0.5, 17])
def test_train_test_split_sizes_and_stratification(test_size):
    y = _labels()
    X = np.arange(len(y) * 2).reshape(-1, 2)
    Xtr, Xte, ytr, yte = nd.train_test_split(X, y, test_size=test_size, stratify=y, seed=1)
    if sklearn is not None:
        ref = skms.train_test_split(X, y, test_size=test_size, stratify=y, random_state=0)
        assert (len(Xtr), len(Xte)) == (len(ref[0]), len(ref[1]))
    assert sorted(np.concatenate([Xtr[:, 0], Xte[:, 0]]).tolist()) == X[:, 0].tolist()
    np.testing.assert_array_equal(y[Xtr[:, 0] // 2], ytr)
    frac = len(yte) / len(y)
    counts = np.bincount(y)
    for c in range(4):
        assert abs(np.sum(yte == c) - counts[c] * frac) < 1
        assert abs(np.sum(ytr == c) - counts[c] * (1 - frac)) < 1
    again = nd.train_test_split(X, y, test_size=test_size, stratify=y, seed=1)
    np.testing.assert_array_equal(again[1], Xte)
    other = nd.train_test_split(X, y, test_size=test_size, stratify=y, seed=2)
    assert not np.array_equal(other[1], Xte)


def test_train_test_split_containers_and_errors():
    t = _table(30)
    tr, te = nd.train_test_split(t, test_size=0.3, seed=0)
    assert isinstance(tr, nd.Table) and (len(tr), len(te)) == (21, 9)
    x = nerve.arange(10.)
    a, b = nd.train_test_split(x, shuffle=False, test_size=0.3)
    assert a.tolist() == list(range(7)) and b.tolist() == [7.0, 8.0, 9.0]
    ds = nd.TabularDataset(t.drop("city"), "y", features=["income"])
    dtr, dte = nd.train_test_split(ds, test_size=0.2, stratify=ds.targets, seed=0)
    assert isinstance(dtr, Subset) and len(dtr) + len(dte) == 30
    lst = nd.train_test_split(list("abcdefghij"), test_size=2, seed=0)
    assert len(lst[1]) == 2 and isinstance(lst[1], list)
    nerve.manual_seed(3)
    s1 = nd.train_test_split(np.arange(20))[1]
    nerve.manual_seed(3)
    np.testing.assert_array_equal(s1, nd.train_test_split(np.arange(20))[1])
    with pytest.raises(ValueError, match=r"least populated class in y \(2\) has only 1 member, which is too few"):
        nd.train_test_split(np.arange(5), stratify=[0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[5, 4\\]"):
        nd.train_test_split(np.arange(5), np.arange(4))
    with pytest.raises(ValueError, match="test_size=1.5 should be"):
        nd.train_test_split(np.arange(5), test_size=1.5)
    with pytest.raises(ValueError, match="train set will be empty"):
        nd.train_test_split(np.arange(1), test_size=0.2)


def test_train_val_test_split_stratified():
    y = _labels((40, 25, 9, 6))
    X = np.arange(len(y))
    tr, va, te, ytr, yva, yte = nd.train_val_test_split(X, y, val_size=0.15, test_size=0.25, stratify=y, seed=0)
    n = len(y)
    assert (len(va), len(te), len(tr)) == (int(np.ceil(0.15 * n)), int(np.ceil(0.25 * n)),
                                         n - int(np.ceil(0.15 * n)) - int(np.ceil(0.25 * n)))
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(n))
    counts = np.bincount(y)
    for part in (ytr, yva, yte):
        frac = len(part) / n
        for c in range(4):
            assert abs(np.sum(part == c) - counts[c] * frac) < 1, (c, np.bincount(part), counts * frac)
    with pytest.raises(ValueError, match="has only 2 members.*cannot be less than 3"):
        nd.train_val_test_split(np.arange(9), stratify=[0] * 7 + [1] * 2)


def test_kfold_coverage_and_sklearn():
    n = 23
    for kf in [nd.KFold(5), nd.KFold(4, shuffle=True, seed=0)]:
        seen = np.zeros(n, dtype=int)
        for tr, te in kf.split(np.zeros(n)):
            assert np.intersect1d(tr, te).size == 0 and len(tr) + len(te) == n
            seen[te] += 1
        assert np.all(seen == 1)
    if sklearn is not None:
        for (a, b), (c, d) in zip(nd.KFold(5).split(np.zeros(n)), skms.KFold(5).split(np.zeros(n))):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of samples: n_samples=3"):
        list(nd.KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match="has no effect since shuffle is False"):
        nd.KFold(3, seed=0)


def test_stratified_kfold():
    y = _labels((20, 13, 7))
    X = np.zeros((len(y), 2))
    counts = np.bincount(y)
    for skf in [nd.StratifiedKFold(5), nd.StratifiedKFold(5, shuffle=True, seed=1)]:
        seen = np.zeros(len(y), dtype=int)
        for _, te in skf.split(X, y):
            seen[te] += 1
            for c in range(3):
                assert abs(np.sum(y[te] == c) - counts[c] / 5) < 1
        assert np.all(seen == 1)
    if sklearn is not None:
        for (a, b), (c, d) in zip(nd.StratifiedKFold(4).split(X, y), skms.StratifiedKFold(4).split(X, y)):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)
    s1 = [te.tolist() for _, te in nd.StratifiedKFold(3, shuffle=True, seed=7).split(X, y)]
    s2 = [te.tolist() for _, te in nd.StratifiedKFold(3, shuffle=True, seed=7).split(X, y)]
    assert s1 == s2
    with pytest.raises(ValueError, match="cannot be greater than the number of members in each class"):
        list(nd.StratifiedKFold(3).split(np.zeros(4), [0, 0, 1, 1]))
    with pytest.warns(UserWarning, match="least populated class in y has only 2 members"):
        list(nd.StratifiedKFold(3).split(np.zeros(7), [0, 0, 0, 0, 0, 1, 1]))


def test_cross_validate():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) % 2

    def train_fn(model, Xtr, ytr, Xte, yte):
        assert np.intersect1d(Xtr[:, 0], Xte[:, 0]).size == 0
        return len(Xte) + model

    assert nd.cross_validate(lambda: 100, train_fn, X, y, folds=5, seed=0) == [102] * 5
    assert nd.cross_validate(lambda: 0, train_fn, X, y, folds=nd.StratifiedKFold(2)) == [5, 5]


# ---------------------------------------------------------------------------------------------
# class weights
# ---------------------------------------------------------------------------------------------

def test_class_weights():
    y = np.array([0, 0, 0, 1, 2, 2])
    w = nd.class_weights(y)
    assert w.dtype == nerve.float32
    np.testing.assert_allclose(w.numpy(), [6 / 9, 2, 1], rtol=1e-6)
    if sklearn is not None:
        np.testing.assert_allclose(w.numpy(), compute_class_weight("balanced", classes=np.arange(3), y=y), rtol=1e-6)
        ys = np.array(["b", "a", "b", "c"])
        np.testing.assert_allclose(nd.class_weights(ys).numpy(),
                                   compute_class_weight("balanced", classes=np.unique(ys), y=ys), rtol=1e-6)
    sw = nd.sample_weights(nerve.tensor(y))
    np.testing.assert_allclose(sw.numpy(), w.numpy()[y], rtol=1e-6)
    assert float((sw.numpy()[:, None] * (y[:, None] == np.arange(3))).sum(0).std()) < 1e-6  # classes weigh equally
    with pytest.raises(ValueError, match="class 1 has no samples"):
        nd.class_weights([0, 2, 2])
    with pytest.raises(ValueError, match="num_classes=2"):
        nd.class_weights([0, 2, 2], num_classes=2)
    loss = nerve.nn.CrossEntropyLoss(weight=w)(nerve.zeros(6, 3), nerve.tensor(y))
    assert np.isfinite(loss.item())
    sampler = nerve.utils.data.WeightedRandomSampler(sw, num_samples=6000, generator=nerve.Generator().manual_seed(0))
    drawn = np.bincount(y[np.fromiter(iter(sampler), dtype=int)], minlength=3) / 6000
    assert np.abs(drawn - 1 / 3).max() < 0.03


# ---------------------------------------------------------------------------------------------
# end to end
# ---------------------------------------------------------------------------------------------

def test_end_to_end_csv_to_training(tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    x1 = rng.normal(0, 10, n)
    x2 = rng.normal(100, 30, n)
    color = rng.choice(["red", "green", "blue"], n)
    score = x1 / 10 + (x2 - 100) / 30 + np.where(color == "red", 1.5, np.where(color == "green", -1.5, 0))
    label = np.where(score > 0.5, "high", np.where(score < -0.5, "low", "mid"))
    lines = ["x1,x2,color,label"]
    for i in range(n):
        a = "" if i % 37 == 0 else f"{x1[i]:.4f}"  # a few missing values
        lines.append(f'{a},{x2[i]:.4f},"{color[i]}",{label[i]}')
    path = write(tmp_path, "\n".join(lines) + "\n", "train.csv")

    table = nd.read_csv(path, target="label")
    assert table.kinds == {"x1": "numeric", "x2": "numeric", "color": "categorical", "label": "categorical"}
    train, test = nd.train_test_split(table, test_size=0.25, stratify=table["label"], seed=0)
    pre = nd.ColumnTransformer([
        (nd.Pipeline([nd.SimpleImputer(strategy="mean"), nd.StandardScaler()]), ["x1", "x2"]),
        (nd.OneHotEncoder(handle_unknown="ignore"), ["color"]),
    ]).fit(train)
    train_ds = nd.TabularDataset(train, transform=pre)
    test_ds = test.to_dataset(transform=pre, classes=train_ds.classes)
    assert train_ds.classes == ["high", "low", "mid"] and train_ds.feature_names == \
        ["x1", "x2", "color_blue", "color_green", "color_red"]
    assert abs(float(train_ds.data[:, 1].mean())) < 1e-5 and abs(float(test_ds.data[:, 1].mean())) > 1e-4

    nerve.manual_seed(0)
    model = nerve.nn.Sequential(nerve.nn.Linear(5, 16), nerve.nn.ReLU(), nerve.nn.Linear(16, 3))
    loss_fn = nerve.nn.CrossEntropyLoss(weight=nd.class_weights(train_ds.targets))
    opt = nerve.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    Xte, yte = test_ds.tensors

    def test_loss():
        with nerve.no_grad():
            return loss_fn(model(Xte), yte).item()

    first = test_loss()
    loader = DataLoader(train_ds, batch_size=32, shuffle=True, generator=nerve.Generator().manual_seed(0))
    for _ in range(15):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    last = test_loss()
    assert last < 0.6 * first, (first, last)
    with nerve.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    assert acc > 0.8
    pre.save(tmp_path / "pre.json")  # the fitted preprocessing, saved beside the model, gives the same features
    again = nd.TabularDataset(test, transform=nd.load_transformer(tmp_path / "pre.json"), classes=train_ds.classes)
    np.testing.assert_array_equal(again.data, test_ds.data)
