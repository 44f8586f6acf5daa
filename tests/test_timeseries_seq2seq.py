"""Datasets for the sequence tasks: time series windows, splits, scaling and baselines (nerve.data.timeseries);
the number-words and date-format seq2seq tasks (nerve.data.seq2seq)."""
import datetime
import importlib.util
import json
import math

import numpy as np
import pytest

import nerve
import nerve.data as nd
from nerve.data import seq2seq as s2s
from nerve.data import timeseries as ts
from nerve.utils.data import DataLoader

HAS_VEGA = importlib.util.find_spec("vega_datasets") is not None


# ============================================================================================ time series

def test_window_dataset_lines_up_with_series():
    series = np.arange(20, dtype=np.float32).reshape(10, 2)  # row t = [2t, 2t + 1]
    ds = nd.WindowDataset(series, input_len=3)
    assert len(ds) == 7
    x, y = ds[0]
    assert isinstance(x, nerve.Tensor) and x.dtype == nerve.float32
    np.testing.assert_array_equal(x.numpy(), series[0:3])
    np.testing.assert_array_equal(y.numpy(), series[3:4])  # the target is the next value
    for i in range(len(ds)):
        x, y = ds[i]
        np.testing.assert_array_equal(x.numpy(), series[i:i + 3])
        np.testing.assert_array_equal(y.numpy(), series[i + 3:i + 4])
        assert ds.target_start(i) == i + 3
    x, y = ds[-1]
    np.testing.assert_array_equal(y.numpy(), series[9:10])


def test_window_dataset_horizon_stride_target_columns():
    series = np.arange(30, dtype=np.float64).reshape(10, 3)
    ds = nd.WindowDataset(series, input_len=4, horizon=2, target_columns=[2, 0], stride=2)
    assert len(ds) == (10 - 4 - 2) // 2 + 1 == 3
    assert ds.inputs.shape == (3, 4, 3) and ds.targets.shape == (3, 2, 2)
    assert ds.inputs.dtype == np.float64
    for i in range(len(ds)):
        s = 2 * i
        np.testing.assert_array_equal(ds.inputs[i], series[s:s + 4])
        np.testing.assert_array_equal(ds.targets[i], series[s + 4:s + 6][:, [2, 0]])
    # a 1-D series is one feature; the DataLoader's batched path gives the same windows
    ds1 = nd.WindowDataset(np.arange(12), input_len=5, horizon=3)
    assert ds1[0][0].shape == (5, 1) and ds1[0][1].shape == (3, 1) and ds1[0][0].dtype == nerve.float32
    xb, yb = next(iter(DataLoader(ds1, batch_size=4)))
    assert xb.shape == (4, 5, 1) and yb.shape == (4, 3, 1)
    np.testing.assert_array_equal(yb.numpy()[:, :, 0], [[5, 6, 7], [6, 7, 8], [7, 8, 9], [8, 9, 10]])
    x_all, y_all = ds1.tensors
    np.testing.assert_array_equal(x_all.numpy(), ds1.inputs)
    with pytest.raises(ValueError, match="too few"):
        nd.WindowDataset(np.arange(5), input_len=5)
    with pytest.raises(IndexError, match="target_columns"):
        nd.WindowDataset(series, input_len=2, target_columns=[3])
    with pytest.raises(IndexError):
        ds[3]


def test_chronological_split_no_shuffle_no_leakage():
    t = np.arange(100)
    train, val, test = nd.chronological_split(t, 0.1, 0.2)
    np.testing.assert_array_equal(np.concatenate([train, val, test]), t)  # order kept, nothing lost
    assert (len(train), len(val), len(test)) == (70, 10, 20)
    assert train.max() < val.min() and val.max() < test.min()
    # counts, and the same cut for the dates
    dates = np.datetime64("2020-01-01") + np.arange(100)
    d_train, d_val, d_test = nd.chronological_split(dates, 10, 20)
    assert d_val[0] == dates[70] and d_test[0] == dates[80]
    # context: val/test get history for their first windows, yet every target stays in its own part
    train, val, test = nd.chronological_split(t, 0.1, 0.2, context=5)
    assert val[0] == 65 and test[0] == 75
    targets = [nd.WindowDataset(p, input_len=5).targets.reshape(-1) for p in (train, val, test)]
    assert targets[0].max() < 70 and targets[1].min() == 70 and targets[1].max() == 79 and targets[2].min() == 80
    assert sum(len(tg) for tg in targets) == 100 - 5  # every step after the first window is forecast once
    with pytest.raises(ValueError, match="no training"):
        nd.chronological_split(t, 0.5, 0.5)


def test_standardizer_fit_on_train_only():
    rng = np.random.default_rng(0)
    series = np.concatenate([rng.normal(10, 2, (80, 2)), rng.normal(50, 9, (20, 2))]).astype(np.float32)
    train, _, test = nd.chronological_split(series, 0.0, 0.2)
    sc = nd.Standardizer().fit(train)
    np.testing.assert_allclose(sc.mean, train.astype(np.float64).mean(0))
    np.testing.assert_allclose(sc.std, train.astype(np.float64).std(0))
    assert not np.allclose(sc.mean, series.mean(0), atol=1)  # not the whole series' statistics
    z = sc.transform(train)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-5)
    assert sc.transform(test).mean() > 5  # the test part keeps its (shifted) scale: no peeking
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(test)), test, rtol=1e-5)
    # windows (N, L, F), a column subset, tensors, JSON round trip
    ds = nd.WindowDataset(z, input_len=4, target_columns=[1])
    pred = nerve.tensor(ds.targets)
    back = sc.inverse_transform(pred, columns=[1])
    assert isinstance(back, nerve.Tensor) and back.dtype == nerve.float32
    np.testing.assert_allclose(back.numpy()[:, 0, 0], train[4:, 1], rtol=1e-5)
    sc2 = nd.Standardizer.from_dict(json.loads(json.dumps(sc.to_dict())))
    assert sc2 == sc
    np.testing.assert_array_equal(sc2.transform(test), sc.transform(test))
    const = nd.Standardizer().fit(np.ones((5, 1)))
    np.testing.assert_array_equal(const.transform(np.ones((2, 1))), 0)  # std 0 -> 1, no division by zero
    with pytest.raises(ValueError, match="columns"):
        sc.transform(np.zeros((3, 1)))
    with pytest.raises(RuntimeError, match="not fitted"):
        nd.Standardizer().transform(train)


def test_naive_baselines_hand_checked():
    series = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    ds = nd.WindowDataset(series, input_len=2)  # windows [1,2]->4, [2,4]->7, [4,7]->11, [7,11]->16
    pred = nd.naive_forecast(ds)
    np.testing.assert_array_equal(pred[:, 0, 0], [2, 4, 7, 11])
    # errors 2, 3, 4, 5: RMSE = sqrt((4 + 9 + 16 + 25) / 4) = sqrt(13.5), MAE = 3.5
    assert nd.rmse(pred, ds.targets) == pytest.approx(math.sqrt(13.5))
    assert nd.mae(pred, ds.targets) == pytest.approx(3.5)
    assert nd.rmse(nerve.tensor(pred), nerve.tensor(ds.targets)) == pytest.approx(math.sqrt(13.5))
    # horizon 3: the last value repeated
    ds3 = nd.WindowDataset(series, input_len=2, horizon=3)
    np.testing.assert_array_equal(nd.naive_forecast(ds3)[:, :, 0], [[2, 2, 2], [4, 4, 4]])
    # seasonal naive, season 3, on a period-3 pattern: perfect, also past one season
    periodic = np.tile([1.0, 5.0, 3.0], 5)
    dsp = nd.WindowDataset(periodic, input_len=4, horizon=5)
    sp = nd.seasonal_naive(dsp, season=3)
    np.testing.assert_array_equal(sp, dsp.targets)
    assert nd.rmse(sp, dsp.targets) == 0.0
    np.testing.assert_array_equal(nd.seasonal_naive(dsp.inputs, 1, horizon=5), nd.naive_forecast(dsp))
    # hand check: window [a, b, c, d] with season 2 forecasts c, d, c, d
    np.testing.assert_array_equal(nd.seasonal_naive(np.array([[1.0, 2.0, 3.0, 4.0]]), 2, horizon=4)[0, :, 0],
                                  [3, 4, 3, 4])
    with pytest.raises(ValueError, match="season"):
        nd.seasonal_naive(dsp, season=5)
    with pytest.raises(ValueError, match="shape"):
        nd.rmse(np.zeros(3), np.zeros(4))


def test_load_series_csv(tmp_path):
    p = tmp_path / "s.csv"
    # newest first, with a gap and a text column
    p.write_text("date,a,b,label\n2020-01-04,4,40,x\n2020-01-03,,30,y\n2020/01/02,2,20,z\n2020-01-01,1,10,w\n")
    with pytest.raises(ValueError, match="missing"):
        nd.load_series_csv(p)
    values, dates = nd.load_series_csv(p, missing="interpolate")
    assert values.dtype == np.float32 and values.shape == (4, 2)
    np.testing.assert_array_equal(dates, np.datetime64("2020-01-01") + np.arange(4))  # sorted oldest first
    np.testing.assert_array_equal(values, [[1, 10], [2, 20], [3, 30], [4, 40]])
    values, _ = nd.load_series_csv(p, ["a"], missing="ffill")
    np.testing.assert_array_equal(values[:, 0], [1, 2, 2, 4])
    values, dates = nd.seattle_weather(["b", "a"], path=p, missing="ffill")  # a user's own file
    np.testing.assert_array_equal(values[:, 0], [10, 20, 30, 40])
    with pytest.raises(TypeError, match="not numeric"):
        nd.load_series_csv(p, ["label"])
    with pytest.raises(KeyError, match="no column"):
        nd.load_series_csv(p, ["c"])


def test_seattle_weather_missing_package(monkeypatch):
    monkeypatch.setattr(ts, "_vega_data_dir", lambda: None)
    monkeypatch.delenv("NERVE_DATA", raising=False)
    with pytest.raises(ImportError, match=r"pip install nerve\[series\]"):
        nd.seattle_weather()


@pytest.mark.skipif(not HAS_VEGA, reason="vega_datasets not installed (pip install nerve[series])")
def test_seattle_weather_loads(tmp_path):
    values, dates = nd.seattle_weather()
    assert values.shape == (1461, 1) and values.dtype == np.float32
    assert dates[0] == np.datetime64("2012-01-01") and dates[-1] == np.datetime64("2015-12-31")
    assert (np.diff(dates) == np.timedelta64(1, "D")).all()  # daily, no gaps, 2012-2015
    assert values[0, 0] == pytest.approx(12.8)  # 2012-01-01 temp_max in the file
    assert -10 < values.min() and values.max() < 40
    all_values, _ = nd.seattle_weather(columns=None)
    assert all_values.shape == (1461, 4)
    both, _ = nd.seattle_weather(["temp_min", "temp_max"])
    assert (both[:, 1] >= both[:, 0]).all()
    # root= a folder holding a copy of the file
    (tmp_path / "seattle-weather.csv").write_text(open(ts.os.path.join(ts._vega_data_dir(),
                                                                       "seattle-weather.csv")).read())
    v2, d2 = nd.seattle_weather(root=tmp_path)
    np.testing.assert_array_equal(v2, values)
    # the whole pipeline: persistence beats nothing, but is a sane number of degrees
    train, val, _ = nd.chronological_split(values, 0.15, 0.15, context=14)
    sc = nd.Standardizer().fit(train)
    val_ds = nd.WindowDataset(sc.transform(val), input_len=14)
    err = nd.rmse(sc.inverse_transform(nd.naive_forecast(val_ds)), sc.inverse_transform(val_ds.targets))
    assert 1 < err < 5


# ============================================================================================ seq2seq

NUMBER_WORDS = {
    0: "zero",
    7: "seven",
    13: "thirteen",
    20: "twenty",
    21: "twenty-one",
    100: "one hundred",
    101: "one hundred and one",
    115: "one hundred and fifteen",
    999: "nine hundred and ninety-nine",
    1000: "one thousand",
    1001: "one thousand and one",
    20000: "twenty thousand",
    342105: "three hundred and forty-two thousand one hundred and five",
    999999: "nine hundred and ninety-nine thousand nine hundred and ninety-nine",
}


@pytest.mark.parametrize("n", sorted(NUMBER_WORDS))
def test_number_to_words_table(n):
    assert nd.number_to_words(n) == NUMBER_WORDS[n]
    assert nd.words_to_number(NUMBER_WORDS[n]) == n


def test_number_to_words_more():
    assert nd.number_to_words(1100) == "one thousand one hundred"
    assert nd.number_to_words(1000100) == "one million one hundred"
    assert nd.number_to_words(2000005) == "two million and five"
    assert nd.number_to_words(101, use_and=False) == "one hundred one"
    # round trip over a stride of the whole default range
    for v in range(0, 1_000_000, 997):
        assert nd.words_to_number(nd.number_to_words(v)) == v
    with pytest.raises(ValueError):
        nd.number_to_words(-1)
    with pytest.raises(TypeError):
        nd.number_to_words(1.5)
    with pytest.raises(ValueError, match="not a number word"):
        nd.words_to_number("one zillion")


def test_number_words_dataset_deterministic_and_disjoint():
    ds = nd.NumberWordsDataset(2000, max_value=999999, seed=3)
    again = nd.NumberWordsDataset(2000, 999999, 3)
    assert ds.pairs == again.pairs and len(ds) == 2000
    assert nd.NumberWordsDataset(2000, seed=4).pairs != ds.pairs
    for src, tgt in ds:
        assert nd.words_to_number(src) == int(tgt) and 0 <= int(tgt) <= 999999 and tgt == str(int(tgt))
    train, val, test = ds.split()
    assert (len(train), len(val), len(test)) == (1600, 200, 200)
    assert train.pairs + val.pairs + test.pairs == ds.pairs
    sets = [set(p.targets) for p in (train, val, test)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    srcs = [set(p.sources) for p in (train, val, test)]
    assert not (srcs[0] & srcs[1] or srcs[0] & srcs[2] or srcs[1] & srcs[2])
    # split= in the constructor gives the same parts
    assert nd.NumberWordsDataset(2000, seed=3, split="val").pairs == val.pairs
    np.testing.assert_array_equal(test.numbers, [int(t) for t in test.targets])
    small = nd.NumberWordsDataset(10, max_value=9, seed=0)
    assert sorted(small.numbers.tolist()) == list(range(10))
    with pytest.raises(ValueError, match="distinct"):
        nd.NumberWordsDataset(11, max_value=9)
    with pytest.raises(ValueError, match="split"):
        train.split()


def test_vocab_and_encoding():
    ds = nd.NumberWordsDataset(200, seed=0)
    for vocab in (ds.source_vocab, ds.target_vocab):
        assert [vocab[t] for t in ("<pad>", "<unk>", "<bos>", "<eos>")] == [0, 1, 2, 3]
        assert sorted(vocab.values()) == list(range(len(vocab)))
    assert (s2s.PAD_ID, s2s.UNK_ID, s2s.BOS_ID, s2s.EOS_ID) == (0, 1, 2, 3)
    assert len(ds.target_vocab) == 14 and set(ds.target_vocab) >= set("0123456789")
    train, val, _ = ds.split()
    assert train.source_vocab == val.source_vocab and train.source_len == val.source_len == ds.source_len
    src, tgt = ds.encode_pair("one hundred and five", "105")
    assert src.dtype == np.int64 and src.shape == (ds.source_len,) and tgt.shape == (ds.target_len,)
    assert tgt[:5].tolist() == [2, ds.target_vocab["1"], ds.target_vocab["0"], ds.target_vocab["5"], 3]
    assert (tgt[5:] == 0).all() and (src[len("one hundred and five"):] == 0).all()
    assert ds.decode_source(src) == "one hundred and five" and ds.decode_target(tgt) == "105"
    assert ds.encode_source("one!")[3] == s2s.UNK_ID
    # collate for a DataLoader: padded to the longest in the batch
    s, t = ds.collate([("one", "1"), ("twenty-two", "22")])
    assert s.shape == (2, 10) and t.shape == (2, 4) and s.dtype == nerve.int64
    assert t.numpy().tolist() == [[2, ds.target_vocab["1"], 3, 0], [2, ds.target_vocab["2"], ds.target_vocab["2"], 3]]
    sb, tb = next(iter(DataLoader(ds, batch_size=8, collate_fn=ds.collate)))
    assert ds.decode_target(tb) == ds.targets[:8]
    xs, ys = ds.tensors
    assert xs.shape == (200, ds.source_len) and ys.shape == (200, ds.target_len)
    with pytest.raises(ValueError, match="does not fit"):
        ds.encode_pair("x" * (ds.source_len + 1), "1")


def test_date_format_dataset_round_trips_through_datetime():
    ds = nd.DateFormatDataset(600, seed=1)
    assert ds.pairs == nd.DateFormatDataset(600, 1).pairs
    seen_formats = set()
    for (src, tgt), d, f in zip(ds, ds.dates, ds.format_ids):
        assert datetime.date.fromisoformat(tgt) == d and d.isoformat() == tgt
        pattern, case = s2s.DATE_FORMATS[f]
        fmt = (pattern.replace("{dd}", "%d").replace("{d}", "%d").replace("{B}", "%B").replace("{b}", "%b")
               .replace("{A}", "%A").replace("{a}", "%a").replace("{Y}", "%Y"))
        assert datetime.datetime.strptime(src, fmt).date() == d, (src, fmt)
        if "{A}" in pattern:  # the weekday is the true one
            assert src.lower().startswith(d.strftime("%A").lower())
        seen_formats.add(int(f))
    assert len(seen_formats) == len(s2s.DATE_FORMATS)
    assert nd.format_date(datetime.date(2026, 11, 21)) == "21 November 2026"
    assert nd.format_date("2026-11-21", "{b} {d}, {Y}") == "Nov 21, 2026"
    assert nd.format_date("2026-11-21", "{A}, {B} {d}, {Y}", "lower") == "saturday, november 21, 2026"
    train, val, test = ds.split()
    parts = [set(p.targets) for p in (train, val, test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(set(ds.targets)) == 600  # every day once
    assert nd.DateFormatDataset(600, seed=1, split="test").pairs == test.pairs
    assert all(c in ds.source_vocab for s in ds.sources for c in s)
    assert all(c in ds.target_vocab for t in ds.targets for c in t)
    only = nd.DateFormatDataset(20, seed=0, formats=[("{d} {B} {Y}", "title")], start="2000-01-01",
                                end="2000-12-31")
    assert all(datetime.datetime.strptime(s, "%d %B %Y").year == 2000 for s in only.sources)


def test_exact_match():
    assert nd.exact_match(["1", "22", "3"], ["1", "2", "3"]) == pytest.approx(2 / 3)
    assert nd.exact_match("2026-11-21", "2026-11-21") == 1.0
    with pytest.raises(ValueError, match="predictions"):
        nd.exact_match(["1"], ["1", "2"])
