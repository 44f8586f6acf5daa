"""Time series: a real daily series (Seattle weather), sliding windows as (input, target) samples, a
chronological split, a standardizer fit on the training part, and the naive baselines a forecaster
must beat.

The usual pipeline (no shuffling before the split; statistics from the training part only)::

    >>> import nerve.data as nd
    >>> values, dates = nd.seattle_weather(columns=("temp_max", "temp_min"))     # (1461, 2) float32
    >>> train, val, test = nd.chronological_split(values, 0.15, 0.15, context=30)
    >>> scaler = nd.Standardizer().fit(train)
    >>> train_ds = nd.WindowDataset(scaler.transform(train), input_len=30, horizon=7, target_columns=[0])
    >>> val_ds = nd.WindowDataset(scaler.transform(val), input_len=30, horizon=7, target_columns=[0])
    >>> x, y = train_ds[0]                    # (30, 2), (7, 1) float32 tensors
    >>> nd.rmse(nd.naive_forecast(val_ds), val_ds.targets)    # the score to beat
"""
from __future__ import annotations

import importlib.util
import json
import math
import numbers
import os

import numpy as np

from ..autograd.tensor import Tensor, wrap
from ..utils.data.dataset import Dataset, _index_array
from .table import NUMERIC

__all__ = [
    "seattle_weather", "load_series_csv", "WindowDataset", "chronological_split", "Standardizer",
    "naive_forecast", "seasonal_naive", "rmse", "mae",
]

SEATTLE_WEATHER_FILE = "seattle-weather.csv"
SEATTLE_WEATHER_COLUMNS = ("precipitation", "temp_max", "temp_min", "wind")


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.numpy(force=True)
    return np.asarray(x)


# --------------------------------------------------------------------------------------------- loading

def _parse_dates(fields, path, column) -> np.ndarray:
    """Date strings (``2012-01-31``, ``2012/01/31``, ``20120131``, optionally with a time) as datetime64."""
    out = []
    for i, v in enumerate(fields):
        s = "" if v is None else str(v).strip()
        try:
            if len(s) == 8 and s.isdigit():
                s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
            out.append(np.datetime64(s.replace("/", "-").replace(" ", "T", 1)))
        except ValueError:
            raise ValueError(f"load_series_csv: {path}: row {i + 1} of column {column!r} holds {v!r}, which is not "
                             "a date (expected YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD, optionally with a time)") from None
    if not out:
        return np.array([], dtype="datetime64[D]")
    return np.array(out)


def load_series_csv(path, columns=None, date_column: str = "date", *, missing: str = "raise"):
    """Read a time series from a CSV file with a date column and numeric columns.

    The rows are put in date order (a stable sort: files listed newest first come back oldest first).

    Args:
        path: a CSV file name (or open text file) with a header row.
        columns: the numeric column(s) to return, a name or a sequence of names; default: every numeric
            column except the date column.
        date_column: the name of the column of dates (``YYYY-MM-DD``, ``YYYY/MM/DD`` or ``YYYYMMDD``,
            optionally followed by a time); None when the file has none (the dates are then row numbers).
        missing: what to do with missing values (empty fields, ``NA``...): ``'raise'`` (default),
            ``'ffill'`` (carry the last observed value forward; a leading gap takes the first value) or
            ``'interpolate'`` (linear in the row index, constant at the ends).

    Returns:
        ``(values, dates)``: a float32 array ``(T, F)`` and a datetime64 array ``(T,)`` (int64 row numbers
        without a date column).
    """
    from .csv import read_csv  # noqa: PLC0415
    dtype = {date_column: str} if date_column is not None else None
    try:
        table = read_csv(path, dtype=dtype)
    except KeyError:
        table = read_csv(path)
        raise KeyError(f"load_series_csv: {path}: no date column {date_column!r} among {table.columns}; pass "
                       "date_column=<name> (or None when the file has no dates)") from None
    if columns is None:
        columns = [c for c in table.columns if c != date_column and table.kinds[c] == NUMERIC]
        if not columns:
            raise ValueError(f"load_series_csv: {path} has no numeric columns besides {date_column!r} "
                             f"(columns: {table.kinds})")
    else:
        columns = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in columns if c not in table.columns]
        if unknown:
            raise KeyError(f"load_series_csv: {path}: no column(s) {unknown}; the file has "
                           f"{[c for c in table.columns if c != date_column]}")
        cat = [c for c in columns if table.kinds[c] != NUMERIC]
        if cat:
            raise TypeError(f"load_series_csv: {path}: column(s) {cat} are not numeric (e.g. {table[cat[0]][0]!r}); "
                            f"numeric columns: {[c for c in table.numeric_columns if c != date_column]}")
    values = table.to_numpy(columns, dtype=np.float64)
    if date_column is not None:
        dates = _parse_dates(table[date_column], path, date_column)
        order = np.argsort(dates, kind="stable")
        if (order != np.arange(order.size)).any():
            values, dates = values[order], dates[order]
    else:
        dates = np.arange(values.shape[0], dtype=np.int64)
    values = _fill_missing(values, missing, columns, path)
    return values.astype(np.float32), dates


def _fill_missing(values, missing, columns, path):
    nan = np.isnan(values)
    if not nan.any():
        return values
    if missing == "raise":
        j = int(np.flatnonzero(nan.any(axis=0))[0])
        rows = np.flatnonzero(nan[:, j])
        raise ValueError(f"load_series_csv: {path}: column {columns[j]!r} has {rows.size} missing values (rows "
                         f"{rows[:5].tolist()}{', ...' if rows.size > 5 else ''} in date order); pass "
                         "missing='ffill' or missing='interpolate' to fill them")
    if missing not in ("ffill", "interpolate"):
        raise ValueError(f"load_series_csv: missing must be 'raise', 'ffill' or 'interpolate', got {missing!r}")
    out = values.copy()
    t = np.arange(values.shape[0])
    for j in range(values.shape[1]):
        ok = ~nan[:, j]
        if not ok.any():
            raise ValueError(f"load_series_csv: {path}: column {columns[j]!r} has no values at all")
        if missing == "interpolate":
            out[:, j] = np.interp(t, t[ok], values[ok, j])
        else:
            last = np.maximum.accumulate(np.where(ok, t, -1))
            last[last < 0] = int(np.flatnonzero(ok)[0])
            out[:, j] = values[last, j]
    return out


def _vega_data_dir():
    """The folder of CSV files shipped inside the ``vega_datasets`` package, found without importing it
    (importing it imports pandas)."""
    spec = importlib.util.find_spec("vega_datasets")
    if spec is None:
        return None
    for loc in spec.submodule_search_locations or []:
        d = os.path.join(loc, "_data")
        if os.path.isfile(os.path.join(d, SEATTLE_WEATHER_FILE)):
            return d
    import vega_datasets  # noqa: PLC0415 - unusual layout: ask the package
    return os.path.dirname(vega_datasets.local_data.seattle_weather.filepath)


def seattle_weather(columns=("temp_max",), root=None, *, path=None, date_column: str = "date",
                    missing: str = "raise"):
    """The daily weather of Seattle, 2012-01-01 to 2015-12-31 (1461 days), from the CSV file that the
    ``vega_datasets`` package ships (read locally; nothing is downloaded).

    Columns: ``precipitation`` (mm), ``temp_max`` and ``temp_min`` (degrees C), ``wind`` (m/s); the
    categorical ``weather`` column (``'rain'``, ``'sun'``...) is not numeric and cannot be returned.

    Args:
        columns: a column name or a sequence of names (default ``('temp_max',)``); None: all four.
        root: a folder holding your own copy of ``seattle-weather.csv`` (then vega_datasets is not needed).
        path: any CSV file with a date column and numeric columns, read instead (see
            :func:`load_series_csv`; ``columns=None`` then takes all its numeric columns).
        date_column: the name of the date column of a ``path`` file.
        missing: ``'raise'``, ``'ffill'`` or ``'interpolate'`` (for user files with gaps).

    Returns:
        ``(values, dates)``: float32 ``(T, F)`` with one column per requested name, in that order, and
        datetime64[D] ``(T,)``.

    Raises:
        ImportError: vega_datasets is not installed (``pip install nerve[series]``) and neither ``root``
            nor ``path`` was given.

    Example:
        >>> values, dates = seattle_weather(["temp_max", "temp_min"])
        >>> values.shape, dates[0], dates[-1]
        ((1461, 2), numpy.datetime64('2012-01-01'), numpy.datetime64('2015-12-31'))
    """
    if path is not None and root is not None:
        raise ValueError("seattle_weather: pass either root= (a folder with seattle-weather.csv) or path= "
                         "(a CSV file), not both")
    if path is None:
        if root is not None:
            path = os.path.join(os.fspath(root), SEATTLE_WEATHER_FILE)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"seattle_weather: no {SEATTLE_WEATHER_FILE} in {os.fspath(root)!r}; pass "
                                        "the folder holding it, or path= to the file itself")
        else:
            d = _vega_data_dir()
            if d is None:
                env = os.environ.get("NERVE_DATA")
                if env and os.path.isfile(os.path.join(env, SEATTLE_WEATHER_FILE)):
                    d = env
                else:
                    raise ImportError("seattle_weather: the data file ships with the vega_datasets package, which "
                                      "is not installed: pip install nerve[series] (or pip install vega_datasets); "
                                      f"or pass root= a folder holding {SEATTLE_WEATHER_FILE}, or path= any CSV "
                                      "file with a date column")
            path = os.path.join(d, SEATTLE_WEATHER_FILE)
        if columns is None:
            columns = SEATTLE_WEATHER_COLUMNS
    return load_series_csv(path, columns, date_column, missing=missing)


# --------------------------------------------------------------------------------------------- windows

def _series_2d(series, where) -> np.ndarray:
    arr = _to_numpy(series)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{where}: expected a series of shape (T,) or (T, features), got shape {tuple(arr.shape)}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: the series must be numeric, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32 if arr.dtype != np.float64 else np.float64)


def _positive_int(v, name, where, minimum=1):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {v!r}")
    return int(v)


def _columns_index(target_columns, n_features, where):
    if target_columns is None:
        return np.arange(n_features)
    cols = [target_columns] if isinstance(target_columns, numbers.Integral) else list(target_columns)
    if not cols or any(isinstance(c, bool) or not isinstance(c, numbers.Integral) for c in cols):
        raise TypeError(f"{where}: target_columns must be an int or a non-empty list of ints (feature "
                        f"positions), got {target_columns!r}")
    bad = [c for c in cols if not -n_features <= c < n_features]
    if bad:
        raise IndexError(f"{where}: target_columns {bad} out of range for a series with {n_features} features")
    return np.asarray([c % n_features for c in cols], dtype=np.intp)


class WindowDataset(Dataset):
    """Sliding windows over a series: sample ``i`` is ``(x, y)`` with

    * ``x = series[s : s + input_len]``, shape ``(input_len, F)``, the inputs;
    * ``y = series[s + input_len : s + input_len + horizon, target_columns]``, shape ``(horizon, F_target)``,
      the values that follow, to forecast;

    where ``s = i * stride``. There are ``(T - input_len - horizon) // stride + 1`` samples. A 1-D series
    counts as one feature. The data are kept float32 (float64 stays float64); a DataLoader fetches a
    batch with one fancy index (``__getbatch__``).

    Args:
        series: an array or tensor ``(T,)`` or ``(T, F)`` (standardize it first, see :class:`Standardizer`).
        input_len: the length of each input window.
        horizon: how many future steps each target holds.
        target_columns: the feature position(s) to forecast (an int or a list of ints); default: all.
        stride: the step between window starts.

    Attributes:
        series: the float array ``(T, F)``; ``inputs`` ``(N, input_len, F)`` and ``targets``
        ``(N, horizon, F_target)`` as NumPy arrays (computed on access); ``target_start(i)`` the time index
        of sample ``i``'s first target step (``dates[ds.target_start(i)]`` is its date).

    Example:
        >>> ds = WindowDataset(np.arange(10.0), input_len=3)
        >>> x, y = ds[0]        # x = [[0], [1], [2]], y = [[3]]
    """

    def __init__(self, series, input_len: int, horizon: int = 1, target_columns=None, stride: int = 1):
        where = "WindowDataset"
        self.series = _series_2d(series, where)
        self.input_len = _positive_int(input_len, "input_len", where)
        self.horizon = _positive_int(horizon, "horizon", where)
        self.stride = _positive_int(stride, "stride", where)
        self.target_columns = _columns_index(target_columns, self.series.shape[1], where)
        t = self.series.shape[0]
        need = self.input_len + self.horizon
        if t < need:
            raise ValueError(f"WindowDataset: the series has {t} steps, too few for one window of input_len="
                             f"{self.input_len} plus horizon={self.horizon} ({need} steps); use a shorter window "
                             "or a longer part (for val/test parts, chronological_split(..., context=input_len) "
                             "prepends the history their first windows need)")
        self._n = (t - need) // self.stride + 1

    def __len__(self):
        return self._n

    @property
    def num_features(self) -> int:
        return self.series.shape[1]

    @property
    def num_targets(self) -> int:
        return int(self.target_columns.size)

    def target_start(self, index: int) -> int:
        """The time index (row of ``series``) of sample ``index``'s first target step."""
        i = int(_index_array([index], self._n, "WindowDataset")[0]) % self._n
        return i * self.stride + self.input_len

    def _gather(self, idx: np.ndarray):
        starts = idx.astype(np.intp) * self.stride
        rows_x = starts[:, None] + np.arange(self.input_len)
        rows_y = starts[:, None] + self.input_len + np.arange(self.horizon)
        x = self.series[rows_x]
        y = self.series[rows_y[:, :, None], self.target_columns[None, None, :]]
        return x, y

    @property
    def inputs(self) -> np.ndarray:
        return self._gather(np.arange(self._n))[0]

    @property
    def targets(self) -> np.ndarray:
        return self._gather(np.arange(self._n))[1]

    @property
    def tensors(self) -> tuple:
        """``(inputs, targets)`` as whole-dataset tensors, for full-batch training or evaluation."""
        x, y = self._gather(np.arange(self._n))
        return wrap(x), wrap(y)

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.numpy(force=True)
        if isinstance(index, slice):
            index = np.arange(self._n)[index]
        scalar = np.ndim(index) == 0
        idx = _index_array(index, self._n, "WindowDataset") % max(self._n, 1)
        x, y = self._gather(idx)
        if scalar:
            return wrap(x[0]), wrap(y[0])
        return wrap(x), wrap(y)

    def __getbatch__(self, indices):
        idx = _index_array(indices, self._n, "WindowDataset") % max(self._n, 1)
        x, y = self._gather(idx)
        return [wrap(x), wrap(y)]

    def __repr__(self):
        return (f"WindowDataset({len(self)} windows, input_len={self.input_len}, horizon={self.horizon}, "
                f"features={self.num_features}, target_columns={self.target_columns.tolist()}, "
                f"stride={self.stride})")


# --------------------------------------------------------------------------------------------- split

def _part_size(size, n, name):
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"chronological_split: {name} must be a fraction in [0, 1) or a number of steps, got {size!r}")
    if isinstance(size, numbers.Integral):
        if not 0 <= size < n:
            raise ValueError(f"chronological_split: {name}={size} steps must be in [0, {n}) for a series of {n} steps")
        return int(size)
    if not 0 <= size < 1:
        raise ValueError(f"chronological_split: {name}={size} must be a fraction in [0, 1) or a number of steps")
    return int(round(size * n))


def chronological_split(series, val_fraction=0.1, test_fraction=0.2, *, context: int = 0):
    """Split a series in time order: the oldest steps for training, then validation, then test. Nothing is
    shuffled, so no future value leaks into an earlier part.

    Args:
        series: an array, tensor or list whose first axis is time (values, or the matching dates: the same
            arguments cut both at the same steps).
        val_fraction, test_fraction: each part's share of the steps (rounded to the nearest step), or a number
            of steps; the training part gets the rest.
        context: prepend the last ``context`` steps of the previous part to the validation and test parts, as
            history for their first windows (pass ``context=input_len``: every target of
            ``WindowDataset(part, input_len)`` then still lies inside its own part, and the first val/test
            step is already a target).

    Returns:
        ``(train, val, test)``, slices of the same type as ``series`` (views for arrays).

    Example:
        >>> train, val, test = chronological_split(np.arange(10), 0.2, 0.2)
        >>> train, val, test
        (array([0, 1, 2, 3, 4, 5]), array([6, 7]), array([8, 9]))
    """
    try:
        n = len(series)
    except TypeError:
        raise TypeError(f"chronological_split: expected an array, tensor or list, got {type(series).__name__}") \
            from None
    n_val = _part_size(val_fraction, n, "val_fraction")
    n_test = _part_size(test_fraction, n, "test_fraction")
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise ValueError(f"chronological_split: with {n} steps, val {n_val} and test {n_test} steps leave no training "
                         "steps; lower val_fraction / test_fraction")
    context = _positive_int(context, "context", "chronological_split", minimum=0)
    if context > n_train:
        raise ValueError(f"chronological_split: context={context} is longer than the training part ({n_train} "
                         "steps)")
    a, b = n_train, n_train + n_val
    return series[:a], series[max(a - context, 0):b], series[max(b - context, 0):]


# --------------------------------------------------------------------------------------------- scaling

class Standardizer:
    """Per-feature standardization ``(x - mean) / std`` whose statistics come from the training part only.

    The last axis is the feature axis: ``fit`` accepts ``(T, F)`` (or ``(T,)``: one feature) and also
    windows ``(N, L, F)``; the statistics are taken over every other axis. A constant feature gets std 1
    (it is centred, not blown up). ``transform`` / ``inverse_transform`` return what they are given (a
    NumPy array or a tensor, in float32 unless float64 came in).

    Example:
        >>> scaler = Standardizer().fit(train)
        >>> train_z, val_z = scaler.transform(train), scaler.transform(val)
        >>> pred = scaler.inverse_transform(model(x), columns=[0])   # back to degrees, feature 0 only
        >>> json.dump(scaler.to_dict(), f); Standardizer.from_dict(json.load(f))
    """

    def __init__(self, mean=None, std=None):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64).reshape(-1)
        self.std = None if std is None else np.asarray(std, dtype=np.float64).reshape(-1)
        if (self.mean is None) != (self.std is None):
            raise ValueError("Standardizer: give both mean and std, or neither")
        if self.mean is not None and self.mean.shape != self.std.shape:
            raise ValueError(f"Standardizer: mean has {self.mean.size} features but std has {self.std.size}")

    def fit(self, x) -> "Standardizer":
        arr = _to_numpy(x).astype(np.float64)
        if arr.ndim == 0 or arr.size == 0:
            raise ValueError(f"Standardizer.fit: need a non-empty (T, F) series, got shape {tuple(arr.shape)}")
        arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr.reshape(-1, arr.shape[-1])
        if np.isnan(arr).any():
            raise ValueError("Standardizer.fit: the data hold NaN; fill the missing values first")
        self.mean = arr.mean(axis=0)
        std = arr.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    @property
    def num_features(self) -> int | None:
        return None if self.mean is None else self.mean.size

    def _stats(self, x, columns, where):
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{where}: not fitted yet; call fit(train) first")
        mean, std = self.mean, self.std
        if columns is not None:
            idx = _columns_index(columns, mean.size, f"Standardizer.{where}")
            mean, std = mean[idx], std[idx]
        shape = tuple(x.shape)
        feats = 1 if len(shape) <= 1 else shape[-1]
        if feats != mean.size:
            hint = "" if columns is not None else "; pass columns=[...] for a subset of the features"
            raise ValueError(f"Standardizer.{where}: input of shape {shape} has {feats} features, the standardizer "
                             f"{mean.size}{hint}")
        if len(shape) <= 1:
            mean, std = mean[0], std[0]
        return mean, std

    def _apply(self, x, columns, where, forward):
        mean, std = self._stats(x, columns, where)
        if isinstance(x, Tensor):
            dt = x.dtype
            m = wrap(np.asarray(mean, dtype=x._data.dtype))
            s = wrap(np.asarray(std, dtype=x._data.dtype))
            out = (x - m) / s if forward else x * s + m
            return out if out.dtype == dt else out.to(dt)
        arr = np.asarray(x)
        dt = np.float64 if arr.dtype == np.float64 else np.float32
        out = (arr - mean) / std if forward else arr * std + mean
        return out.astype(dt)

    def transform(self, x, columns=None):
        """``(x - mean) / std``; ``columns`` picks the statistics of a subset of the features."""
        return self._apply(x, columns, "transform", True)

    def inverse_transform(self, x, columns=None):
        """``x * std + mean``, back to the original units; ``columns`` as for a ``WindowDataset``'s
        ``target_columns`` when ``x`` holds only those features (e.g. a model's forecasts)."""
        return self._apply(x, columns, "inverse_transform", False)

    def to_dict(self) -> dict:
        if self.mean is None:
            raise RuntimeError("Standardizer.to_dict: not fitted yet")
        return {"type": "Standardizer", "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Standardizer":
        if not isinstance(d, dict) or "mean" not in d or "std" not in d:
            raise ValueError("Standardizer.from_dict: expected a dict with 'mean' and 'std' lists (from to_dict())")
        return cls(d["mean"], d["std"])

    def save(self, path) -> None:
        """Write :meth:`to_dict` as JSON (atomically)."""
        from ..serialization import atomic_write  # noqa: PLC0415
        atomic_write(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path) -> "Standardizer":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def __eq__(self, other):
        if not isinstance(other, Standardizer):
            return NotImplemented
        if self.mean is None or other.mean is None:
            return self.mean is None and other.mean is None
        return np.array_equal(self.mean, other.mean) and np.array_equal(self.std, other.std)

    def __repr__(self):
        if self.mean is None:
            return "Standardizer()"
        return f"Standardizer(mean={np.round(self.mean, 4).tolist()}, std={np.round(self.std, 4).tolist()})"


# --------------------------------------------------------------------------------------------- baselines

def _windows_args(windows, horizon, target_columns, where):
    """Input windows ``(N, L, F)`` plus the horizon and target columns, from an array or a WindowDataset."""
    if isinstance(windows, WindowDataset):
        horizon = windows.horizon if horizon is None else horizon
        if target_columns is None:
            target_columns = windows.target_columns
        windows = windows.inputs
    arr = _to_numpy(windows)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"{where}: expected input windows of shape (N, input_len) or (N, input_len, F), or a "
                         f"WindowDataset; got shape {tuple(arr.shape)}")
    horizon = _positive_int(1 if horizon is None else horizon, "horizon", where)
    cols = _columns_index(target_columns, arr.shape[2], where)
    return arr, horizon, cols


def naive_forecast(windows, horizon=None, target_columns=None) -> np.ndarray:
    """The persistence forecast: each window's last value, repeated ``horizon`` times.

    Args:
        windows: input windows ``(N, L, F)`` (or ``(N, L)``), or a :class:`WindowDataset` (its horizon and
            target columns are then the defaults).
        horizon: the number of steps to forecast (default 1).
        target_columns: the features to forecast (default: all).

    Returns:
        a NumPy array ``(N, horizon, F_target)``, comparable with ``WindowDataset.targets``.
    """
    arr, horizon, cols = _windows_args(windows, horizon, target_columns, "naive_forecast")
    last = arr[:, -1, cols]
    return np.repeat(last[:, None, :], horizon, axis=1)


def seasonal_naive(windows, season: int, horizon=None, target_columns=None) -> np.ndarray:
    """The seasonal naive forecast: the value one season earlier, ``y[t + h] = y[t + h - k * season]`` with
    the smallest ``k >= 1`` that reaches into the input window (so horizons longer than a season repeat the
    last observed season). ``season=1`` is :func:`naive_forecast`.

    Args:
        windows: as for :func:`naive_forecast`; each window needs at least ``season`` steps.
        season: the season length in steps (7 for a weekly pattern in daily data, 24 for hourly...).
    """
    arr, horizon, cols = _windows_args(windows, horizon, target_columns, "seasonal_naive")
    season = _positive_int(season, "season", "seasonal_naive")
    length = arr.shape[1]
    if season > length:
        raise ValueError(f"seasonal_naive: season={season} is longer than the input windows ({length} steps); the "
                         "windows must hold at least one full season")
    h = np.arange(1, horizon + 1)
    k = (h - 1) // season + 1
    rows = length - 1 + h - k * season
    return arr[:, rows][:, :, cols]


def _pair(pred, target, where):
    p = _to_numpy(pred).astype(np.float64)
    t = _to_numpy(target).astype(np.float64)
    if p.shape != t.shape:
        raise ValueError(f"{where}: pred has shape {tuple(p.shape)} but target {tuple(t.shape)}; they must match")
    if p.size == 0:
        raise ValueError(f"{where}: empty inputs")
    return p, t


def rmse(pred, target) -> float:
    """Root mean squared error over all elements (a Python float, computed in float64)."""
    p, t = _pair(pred, target, "rmse")
    return float(math.sqrt(np.mean((p - t) ** 2)))


def mae(pred, target) -> float:
    """Mean absolute error over all elements (a Python float, computed in float64)."""
    p, t = _pair(pred, target, "mae")
    return float(np.mean(np.abs(p - t)))

