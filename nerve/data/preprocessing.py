"""Preprocessing for tabular data, with scikit-learn's ``fit`` / ``transform`` API.

Fit every transformer on the **training split only** and apply the fitted transformer to each split:
statistics computed on validation or test rows leak them into training. A fitted transformer's
``get_state()`` is a JSON-serialisable dict (``save(path)`` writes it), so the preprocessing can be
stored beside a model's weights and rebuilt with ``from_state`` / :func:`load_transformer`.

Inputs are 2-D NumPy arrays, nerve Tensors or :class:`Table` s (whose column names are recorded at
fit and checked at transform). Outputs are NumPy arrays (Tensors for Tensor inputs).

Example:
    >>> pre = ColumnTransformer([
    ...     (Pipeline([SimpleImputer(strategy="median"), StandardScaler()]), ["age", "income"]),
    ...     (Pipeline([SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")]), ["city"]),
    ... ])
    >>> X_train = pre.fit_transform(train_table)     # float32 (n, 2 + number of cities)
    >>> X_test = pre.transform(test_table)
    >>> pre.get_feature_names_out()
    ['age', 'income', 'city_Oslo', 'city_Rome']
    >>> pre.save("model.preprocessing.json")
"""
from __future__ import annotations

import inspect
import json
import warnings

import numpy as np

from ..autograd.tensor import Tensor, wrap
from .table import Table, is_missing

__all__ = [
    "NotFittedError", "Transformer", "StandardScaler", "MinMaxScaler", "SimpleImputer", "OneHotEncoder",
    "LabelEncoder", "ColumnTransformer", "Pipeline", "drop_missing_rows", "load_transformer",
]

_REGISTRY: dict[str, type] = {}
_STATE_FORMAT = 1


class NotFittedError(ValueError, AttributeError):
    """A transformer was used before ``fit`` (a ``ValueError`` and an ``AttributeError``, as in scikit-learn)."""


# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------

def _to_numpy(X):
    return X.numpy(force=True) if isinstance(X, Tensor) else X


def _array_2d(X, where):
    arr = np.asarray(_to_numpy(X))
    if arr.ndim != 2:
        hint = " Reshape your data with X.reshape(-1, 1) if it has a single feature." if arr.ndim == 1 else ""
        raise ValueError(f"{where}: expected a 2-D array (samples, features), got shape {tuple(arr.shape)}.{hint}")
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    return arr


def _matrix(X, where, min_samples=0):
    """``(float array (n, f), column names or None, input was a Tensor)`` for numeric transformers."""
    was_tensor = isinstance(X, Tensor)
    if isinstance(X, Table):
        cat = X.categorical_columns
        if cat:
            raise TypeError(f"{where}: columns {cat} are categorical (strings); this transformer needs numeric "
                            "columns. Encode categorical columns with OneHotEncoder (a ColumnTransformer sends "
                            "each group of columns to its own transformer)")
        arr, names = X.to_numpy(dtype=np.float64), X.columns
    else:
        arr, names = _array_2d(X, where), None
        if arr.dtype.kind == "O":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"{where}: X holds non-numeric values (strings?); this transformer needs numbers. "
                                "Encode categorical columns with OneHotEncoder") from None
        else:
            arr = arr.astype(np.float64)
    if arr.shape[0] < min_samples:
        raise ValueError(f"{where}: found array with {arr.shape[0]} sample(s) (shape={tuple(arr.shape)}) while a "
                         f"minimum of {min_samples} is required")
    return arr, names, was_tensor


def _columns(X, where, min_samples=0):
    """``(list of 1-D columns, names or None, input was a Tensor)`` for per-column transformers."""
    was_tensor = isinstance(X, Tensor)
    if isinstance(X, Table):
        cols, names = [X[c] for c in X.columns], X.columns
        n = len(X)
    else:
        arr = _array_2d(X, where)
        cols, names, n = [arr[:, j] for j in range(arr.shape[1])], None, arr.shape[0]
    if n < min_samples:
        raise ValueError(f"{where}: found {n} sample(s) while a minimum of {min_samples} is required")
    return cols, names, was_tensor


def _output(arr, was_tensor):
    return wrap(np.ascontiguousarray(arr)) if was_tensor else arr


def _stack_columns(cols, n, float_dtype=np.float64):
    """Columns as one matrix: float when all are numeric, object otherwise."""
    if all(c.dtype.kind in "biuf" for c in cols):
        out = np.empty((n, len(cols)), dtype=float_dtype)
    else:
        out = np.empty((n, len(cols)), dtype=object)
    for j, c in enumerate(cols):
        out[:, j] = c
    return out


def _is_nan(v) -> bool:
    return isinstance(v, (float, np.floating)) and v != v


def _py(v):
    """A NumPy scalar as the Python scalar JSON can hold."""
    return v.item() if isinstance(v, np.generic) else v


def _enc_array(a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return {"dtype": str(a.dtype), "values": [None if v != v else v for v in a.tolist()]}
    return {"dtype": "object" if a.dtype.kind in "OUS" else str(a.dtype), "values": [_py(v) for v in a.tolist()]}


def _dec_array(d):
    if d is None:
        return None
    if d["dtype"] == "object":
        out = np.empty(len(d["values"]), dtype=object)
        out[:] = d["values"]
        return out
    return np.array([np.nan if v is None else v for v in d["values"]], dtype=d["dtype"])


def _fmt_list(values, k=10):
    values = list(values)
    return repr(values[:k])[:-1] + (f", ... ({len(values)} in all)]" if len(values) > k else "]")


# ---------------------------------------------------------------------------------------------
# base class
# ---------------------------------------------------------------------------------------------

class Transformer:
    """Base class of the preprocessing transformers: ``fit`` learns statistics, ``transform`` applies them.

    Subclasses list their constructor arguments in ``_params`` and the attributes ``fit`` sets in
    ``_fitted`` (the first one tells whether the transformer is fitted); ``get_state`` / ``from_state``
    then serialise them. Numeric fitted arrays are stored as lists, NaN as ``null``.
    """

    _params: tuple = ()
    _fitted: tuple = ("n_features_in_",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    # -- sklearn API ----------------------------------------------------------------------------
    def fit(self, X, y=None):
        raise NotImplementedError

    def transform(self, X):
        raise NotImplementedError

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X)

    def inverse_transform(self, X):
        raise NotImplementedError(f"{type(self).__name__} does not support inverse_transform")

    @property
    def is_fitted(self) -> bool:
        return getattr(self, self._fitted[0], None) is not None

    def _check_fitted(self, method: str):
        if not self.is_fitted:
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet: call fit(X_train) before "
                                 f"{method}(). Fit preprocessing on the training split only, then transform "
                                 "every split with the fitted transformer.")

    def _record_input(self, names, n_features):
        self.n_features_in_ = int(n_features)
        self.feature_names_in_ = None if names is None else list(names)

    def _check_input(self, names, n_features, where):
        """The column order that matches the fitted columns (None: as given); raises on a mismatch."""
        fitted = self.feature_names_in_
        if names is not None and fitted is not None and list(names) != fitted:
            missing = [c for c in fitted if c not in names]
            extra = [c for c in names if c not in fitted]
            if missing or extra:
                raise ValueError(f"{where}: the columns do not match those seen in fit: missing {missing}, "
                                 f"unexpected {extra} (fitted on {fitted})")
            return [list(names).index(c) for c in fitted]
        if n_features != self.n_features_in_:
            cols = f" ({fitted})" if fitted is not None else ""
            raise ValueError(f"{where}: X has {n_features} features, but {type(self).__name__} was fitted with "
                             f"{self.n_features_in_} features{cols}")
        return None

    def _input_names(self, input_features=None):
        if input_features is not None:
            input_features = [str(c) for c in input_features]
            if self.is_fitted and len(input_features) != self.n_features_in_:
                raise ValueError(f"{type(self).__name__}.get_feature_names_out: input_features has "
                                 f"{len(input_features)} names, but the transformer was fitted with "
                                 f"{self.n_features_in_} features")
            return input_features
        self._check_fitted("get_feature_names_out")
        if self.feature_names_in_ is not None:
            return list(self.feature_names_in_)
        return [f"x{i}" for i in range(self.n_features_in_)]

    def get_feature_names_out(self, input_features=None) -> list[str]:
        """The output column names (the input names for column-wise transformers)."""
        return self._input_names(input_features)

    def get_params(self) -> dict:
        return {p: getattr(self, p) for p in self._params}

    def __repr__(self):
        # like scikit-learn: only the arguments that differ from their defaults
        sig = inspect.signature(type(self).__init__).parameters
        shown = []
        for k, v in self.get_params().items():
            default = sig[k].default if k in sig else inspect.Parameter.empty
            if isinstance(v, type) and issubclass(v, np.generic):
                same = default is not inspect.Parameter.empty and np.dtype(v) == np.dtype(default)
                v = np.dtype(v).name
            else:
                try:
                    same = default is not inspect.Parameter.empty and (v is default or bool(v == default)) \
                        and type(v) is type(default)
                except (TypeError, ValueError):
                    same = False
                if _is_nan(v) and _is_nan(default):
                    same = True
            if not same:
                shown.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- state ----------------------------------------------------------------------------------
    def _params_state(self) -> dict:
        return {p: _py(getattr(self, p)) for p in self._params}

    def _fitted_state(self) -> dict:
        return {"n_features_in_": self.n_features_in_, "feature_names_in_": self.feature_names_in_}

    def _load_fitted(self, d: dict) -> None:
        self.n_features_in_ = d["n_features_in_"]
        self.feature_names_in_ = d["feature_names_in_"]

    def get_state(self) -> dict:
        """The configuration and (when fitted) the learned statistics as a JSON-serialisable dict."""
        return {"type": type(self).__name__, "format": _STATE_FORMAT, "params": self._params_state(),
                "fitted": self._fitted_state() if self.is_fitted else None}

    @classmethod
    def from_state(cls, state: dict) -> "Transformer":
        """Rebuild a transformer from :meth:`get_state`'s dict (``Transformer.from_state`` takes any type)."""
        if not isinstance(state, dict) or "type" not in state or "params" not in state:
            raise TypeError(f"{cls.__name__}.from_state expects a dict made by get_state(), got "
                            f"{type(state).__name__}")
        kind = _REGISTRY.get(state["type"])
        if kind is None:
            raise ValueError(f"{cls.__name__}.from_state: unknown transformer type {state['type']!r}; known: "
                             f"{sorted(_REGISTRY)}")
        if not issubclass(kind, cls):
            raise TypeError(f"{cls.__name__}.from_state: the state describes a {state['type']}")
        if state.get("format", _STATE_FORMAT) > _STATE_FORMAT:
            raise ValueError(f"{cls.__name__}.from_state: state format {state['format']} is newer than this "
                             f"version of nerve understands ({_STATE_FORMAT})")
        obj = kind._from_params(state["params"])
        if state.get("fitted") is not None:
            obj._load_fitted(state["fitted"])
        return obj

    @classmethod
    def _from_params(cls, params: dict):
        return cls(**params)

    def save(self, path) -> None:
        """Write :meth:`get_state` as JSON to ``path`` (atomically: a temporary file, fsync, rename)."""
        from ..serialization import atomic_write  # noqa: PLC0415 - only needed when saving
        atomic_write(path, json.dumps(self.get_state(), indent=1, allow_nan=False))


def load_transformer(path) -> Transformer:
    """Load a transformer saved with :meth:`Transformer.save`."""
    with open(path, encoding="utf-8") as f:
        return Transformer.from_state(json.load(f))


# ---------------------------------------------------------------------------------------------
# scalers
# ---------------------------------------------------------------------------------------------

def _float_out(arr, like_dtype):
    return arr.astype(like_dtype, copy=False) if like_dtype == np.float32 else arr


def _in_dtype(X):
    d = getattr(X, "dtype", None)
    if isinstance(X, Tensor):
        return np.float32 if str(d).endswith("float32") else np.float64
    return np.float32 if d == np.float32 else np.float64


class StandardScaler(Transformer):
    """Standardize features: ``(x - mean) / std`` with the training mean and (population, ddof=0) std.

    Constant columns get scale 1 (they become 0 instead of NaN). NaNs are ignored in ``fit`` and kept
    in ``transform``. float32 inputs stay float32; other inputs give float64.

    Attributes:
        mean_, var_, scale_ (None when ``with_std=False``), n_samples_seen_ (per column).

    Example:
        >>> sc = StandardScaler().fit(X_train)
        >>> X_train, X_test = sc.transform(X_train), sc.transform(X_test)
    """

    _params = ("with_mean", "with_std")
    _fitted = ("mean_", "var_", "scale_", "n_samples_seen_", "n_features_in_", "feature_names_in_")

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std
        self.mean_ = None

    def fit(self, X, y=None):
        """Compute the per-column mean and std of ``X`` (the training data)."""
        arr, names, _ = _matrix(X, "StandardScaler.fit", min_samples=1)
        nan = np.isnan(arr)
        count = (~nan).sum(axis=0)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(arr, axis=0) if nan.any() else arr.mean(axis=0)
            var = np.nanvar(arr, axis=0) if nan.any() else arr.var(axis=0)
        self._record_input(names, arr.shape[1])
        self.n_samples_seen_ = count.astype(np.int64)
        self.mean_ = mean
        self.var_ = var
        if self.with_std:
            # scikit-learn's test for a constant column: a variance within float rounding of zero
            eps = np.finfo(np.float64).eps
            constant = var <= count * eps * var + (count * mean * eps) ** 2
            self.scale_ = np.where(constant | np.isnan(var), 1.0, np.sqrt(var))
        else:
            self.scale_ = None
        return self

    def transform(self, X):
        """``(X - mean_) / scale_``."""
        self._check_fitted("transform")
        arr, names, was_tensor = _matrix(X, "StandardScaler.transform")
        order = self._check_input(names, arr.shape[1], "StandardScaler.transform")
        if order is not None:
            arr = arr[:, order]
        out = arr - self.mean_ if self.with_mean else arr.copy()
        if self.with_std:
            out /= self.scale_
        return _output(_float_out(out, _in_dtype(X)), was_tensor)

    def inverse_transform(self, X):
        """``X * scale_ + mean_``."""
        self._check_fitted("inverse_transform")
        arr, _, was_tensor = _matrix(X, "StandardScaler.inverse_transform")
        self._check_input(None, arr.shape[1], "StandardScaler.inverse_transform")
        out = arr * self.scale_ if self.with_std else arr.copy()
        if self.with_mean:
            out += self.mean_
        return _output(_float_out(out, _in_dtype(X)), was_tensor)

    def _fitted_state(self):
        return {**super()._fitted_state(), "mean_": _enc_array(self.mean_), "var_": _enc_array(self.var_),
                "scale_": None if self.scale_ is None else _enc_array(self.scale_),
                "n_samples_seen_": _enc_array(self.n_samples_seen_)}

    def _load_fitted(self, d):
        super()._load_fitted(d)
        self.mean_, self.var_ = _dec_array(d["mean_"]), _dec_array(d["var_"])
        self.scale_, self.n_samples_seen_ = _dec_array(d["scale_"]), _dec_array(d["n_samples_seen_"])


class MinMaxScaler(Transformer):
    """Scale each feature to ``feature_range`` using the training min and max:
    ``x_scaled = (x - min) / (max - min) * (hi - lo) + lo``.

    Constant columns get scale 1 (they map to ``lo``). NaNs are ignored in ``fit`` and kept in
    ``transform``. With ``clip=True`` test values outside the training range are clipped into it.

    Attributes:
        data_min_, data_max_, data_range_, scale_, min_ (``transform(x) = x * scale_ + min_``).
    """

    _params = ("feature_range", "clip")
    _fitted = ("scale_", "min_", "data_min_", "data_max_", "data_range_", "n_features_in_", "feature_names_in_")

    def __init__(self, feature_range=(0, 1), clip: bool = False):
        feature_range = tuple(feature_range)
        if len(feature_range) != 2 or not feature_range[0] < feature_range[1]:
            raise ValueError(f"MinMaxScaler: minimum of desired feature range must be smaller than maximum. Got "
                             f"{feature_range}.")
        self.feature_range = feature_range
        self.clip = clip
        self.scale_ = None

    def _params_state(self):
        return {"feature_range": [_py(v) for v in self.feature_range], "clip": self.clip}

    def fit(self, X, y=None):
        """Compute the per-column min and max of ``X`` (the training data)."""
        arr, names, _ = _matrix(X, "MinMaxScaler.fit", min_samples=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dmin, dmax = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0)
        lo, hi = self.feature_range
        rng = dmax - dmin
        safe = np.where((np.abs(rng) < 10 * np.finfo(np.float64).eps) | np.isnan(rng), 1.0, rng)
        self._record_input(names, arr.shape[1])
        self.data_min_, self.data_max_, self.data_range_ = dmin, dmax, rng
        self.scale_ = (hi - lo) / safe
        self.min_ = lo - dmin * self.scale_
        return self

    def transform(self, X):
        """``X * scale_ + min_`` (clipped to ``feature_range`` when ``clip``)."""
        self._check_fitted("transform")
        arr, names, was_tensor = _matrix(X, "MinMaxScaler.transform")
        order = self._check_input(names, arr.shape[1], "MinMaxScaler.transform")
        if order is not None:
            arr = arr[:, order]
        out = arr * self.scale_ + self.min_
        if self.clip:
            np.clip(out, self.feature_range[0], self.feature_range[1], out=out)
        return _output(_float_out(out, _in_dtype(X)), was_tensor)

    def inverse_transform(self, X):
        """``(X - min_) / scale_``."""
        self._check_fitted("inverse_transform")
        arr, _, was_tensor = _matrix(X, "MinMaxScaler.inverse_transform")
        self._check_input(None, arr.shape[1], "MinMaxScaler.inverse_transform")
        return _output(_float_out((arr - self.min_) / self.scale_, _in_dtype(X)), was_tensor)

    def _fitted_state(self):
        return {**super()._fitted_state(), **{k: _enc_array(getattr(self, k)) for k in self._fitted[:5]}}

    def _load_fitted(self, d):
        super()._load_fitted(d)
        for k in self._fitted[:5]:
            setattr(self, k, _dec_array(d[k]))


# ---------------------------------------------------------------------------------------------
# missing values
# ---------------------------------------------------------------------------------------------

def _missing_mask(col, missing_values):
    if col.dtype.kind == "O":
        mask = is_missing(col)
        if not _is_nan(missing_values) and missing_values is not None:
            mask |= np.fromiter((v == missing_values for v in col), dtype=bool, count=col.shape[0])
        return mask
    if _is_nan(missing_values) or missing_values is None:
        return np.isnan(col) if col.dtype.kind == "f" else np.zeros(col.shape, dtype=bool)
    if isinstance(missing_values, str):
        return np.zeros(col.shape, dtype=bool)
    return col == missing_values


def _numeric_values(col, where, name):
    """An object column of numbers as float64 (None -> NaN); None when it holds anything else."""
    if col.dtype.kind in "biuf":
        return col.astype(np.float64)
    try:
        return np.array([np.nan if v is None else v for v in col], dtype=np.float64)
    except (TypeError, ValueError):
        return None


class SimpleImputer(Transformer):
    """Replace missing values (NaN, and None in categorical columns) column by column.

    Args:
        missing_values: the placeholder for a missing value (NaN by default; None in object columns
            always counts as missing).
        strategy: ``'mean'`` / ``'median'`` (numeric columns), ``'most_frequent'`` (ties: the smallest
            value) or ``'constant'`` (``fill_value``).
        fill_value: the value for ``strategy='constant'``; default 0 for numbers and
            ``'missing_value'`` for strings.

    A column without any observed value in ``fit`` gets 0 (``'missing_value'`` for strings) and a
    warning. ``inverse_transform`` returns its input (the imputed entries cannot be told apart).
    A :class:`Table` input gives a Table with the same columns, so the next step of a
    :class:`Pipeline` (an encoder, a scaler) still sees the column names; other inputs give an array
    (float when every column is numeric, object otherwise).

    Attributes:
        statistics_: the fill value of each column.
    """

    _params = ("missing_values", "strategy", "fill_value")
    _fitted = ("statistics_", "n_features_in_", "feature_names_in_")
    _strategies = ("mean", "median", "most_frequent", "constant")

    def __init__(self, missing_values=np.nan, strategy: str = "mean", fill_value=None):
        if strategy not in self._strategies:
            raise ValueError(f"SimpleImputer: strategy must be one of {self._strategies}, got {strategy!r}")
        self.missing_values = missing_values
        self.strategy = strategy
        self.fill_value = fill_value
        self.statistics_ = None

    def _params_state(self):
        mv = self.missing_values
        return {"missing_values": None if _is_nan(mv) else _py(mv), "strategy": self.strategy,
                "fill_value": _py(self.fill_value)}

    @classmethod
    def _from_params(cls, params):
        params = dict(params)
        if params.get("missing_values") is None:
            params["missing_values"] = np.nan
        return cls(**params)

    def fit(self, X, y=None):
        """Compute each column's fill value from the observed (non-missing) training values."""
        cols, names, _ = _columns(X, "SimpleImputer.fit", min_samples=1)
        stats = []
        for j, col in enumerate(cols):
            name = names[j] if names is not None else f"column {j}"
            mask = _missing_mask(col, self.missing_values)
            numeric = _numeric_values(col, "SimpleImputer.fit", name)
            if self.strategy == "constant":
                fill = self.fill_value
                if fill is None:
                    fill = 0 if numeric is not None else "missing_value"
                elif numeric is not None and col.dtype.kind != "O" and isinstance(fill, str):
                    raise ValueError(f"SimpleImputer.fit: fill_value={fill!r} is invalid for numeric column "
                                     f"{name!r}; expected a number when imputing numerical data")
                stats.append(_py(fill))
                continue
            if self.strategy in ("mean", "median") and numeric is None:
                raise TypeError(f"SimpleImputer(strategy={self.strategy!r}).fit: column {name!r} holds strings; "
                                "use strategy='most_frequent' or 'constant' for categorical columns")
            observed = col[~mask]
            if observed.size == 0:
                warnings.warn(f"SimpleImputer.fit: column {name!r} has no observed values in the training data; "
                              "its missing values are filled with " + ("0" if numeric is not None
                                                                        else "'missing_value'"), stacklevel=2)
                stats.append(0 if numeric is not None else "missing_value")
                continue
            if self.strategy == "mean":
                stats.append(float(numeric[~mask].mean()))
            elif self.strategy == "median":
                stats.append(float(np.median(numeric[~mask])))
            else:
                try:
                    values, counts = np.unique(observed if col.dtype.kind != "O" else observed.astype(object),
                                               return_counts=True)
                except TypeError:
                    raise TypeError(f"SimpleImputer.fit: column {name!r} mixes strings and numbers") from None
                stats.append(_py(values[int(np.argmax(counts))]))  # ties: the smallest value, like sklearn
        self._record_input(names, len(cols))
        self.statistics_ = stats
        return self

    def transform(self, X):
        """``X`` with each column's missing entries replaced by its fill value."""
        self._check_fitted("transform")
        cols, names, was_tensor = _columns(X, "SimpleImputer.transform")
        order = self._check_input(names, len(cols), "SimpleImputer.transform")
        if order is not None:
            cols = [cols[i] for i in order]
        out = []
        for col, fill in zip(cols, self.statistics_):
            mask = _missing_mask(col, self.missing_values)
            if isinstance(fill, str) or col.dtype.kind == "O":
                if col.dtype.kind != "O":
                    col = col.astype(object)
                c = col.copy()
                c[mask] = fill
                numeric = None if isinstance(fill, str) else _numeric_values(c, "", "")
                out.append(c if numeric is None else numeric)
            else:
                c = col.astype(np.float64)
                c[mask] = fill
                out.append(c)
        if isinstance(X, Table):
            res = Table(dict(zip(self._input_names(), out)))
            res.target = X.target if X.target in res else None
            return res
        n = cols[0].shape[0] if cols else 0
        res = _stack_columns(out, n, _in_dtype(X))
        return _output(res, was_tensor and res.dtype != object)

    def inverse_transform(self, X):
        """``X`` unchanged: which entries were imputed is not recorded."""
        self._check_fitted("inverse_transform")
        return X

    def _fitted_state(self):
        return {**super()._fitted_state(), "statistics_": [None if _is_nan(v) else _py(v) for v in self.statistics_]}

    def _load_fitted(self, d):
        super()._load_fitted(d)
        self.statistics_ = list(d["statistics_"])


def drop_missing_rows(X, *others, columns=None):
    """Drop the rows that have a missing value (NaN, or None in categorical columns).

    A row is dropped when ``X`` or any of ``others`` (e.g. the labels ``y``) has a missing value in it;
    all are filtered with the same mask. ``columns`` limits the check to those columns of a Table ``X``.

    Returns:
        the filtered ``X`` alone, or a tuple ``(X, *others)``.

    Example:
        >>> table = drop_missing_rows(table, columns=["target"])
        >>> X, y = drop_missing_rows(X, y)
    """
    from ._utils import num_samples, take  # noqa: PLC0415
    arrays = (X, *others)
    n = num_samples(X, "drop_missing_rows")
    keep = np.ones(n, dtype=bool)
    for k, a in enumerate(arrays):
        if num_samples(a, "drop_missing_rows") != n:
            raise ValueError(f"drop_missing_rows: found input arrays with inconsistent numbers of samples: "
                             f"{[num_samples(b, 'drop_missing_rows') for b in arrays]}")
        if isinstance(a, Table):
            cols = a.columns if (columns is None or k > 0) else \
                ([columns] if isinstance(columns, str) else list(columns))
            a._check_names(cols, "drop_missing_rows")
            for c in cols:
                keep &= ~is_missing(a[c])
            continue
        if columns is not None and k == 0:
            raise TypeError("drop_missing_rows: columns= needs X to be a Table")
        arr = np.asarray(_to_numpy(a))
        if arr.dtype.kind in "US" or arr.ndim == 0:
            continue
        if arr.dtype.kind == "O":
            flat = arr.reshape(n, -1)
            m = np.zeros(n, dtype=bool)
            for j in range(flat.shape[1]):
                m |= is_missing(flat[:, j])
        elif arr.dtype.kind == "f":
            m = np.isnan(arr.reshape(n, -1)).any(axis=1)
        else:
            continue
        keep &= ~m
    idx = np.flatnonzero(keep)
    out = tuple(take(a, idx) for a in arrays)
    return out[0] if not others else out


# ---------------------------------------------------------------------------------------------
# categorical encoders
# ---------------------------------------------------------------------------------------------

def _categories_of(col, where, name):
    miss = is_missing(col)
    if miss.any():
        raise ValueError(f"{where}: column {name!r} has {int(miss.sum())} missing values (None/NaN); impute them "
                         "first, e.g. Pipeline([SimpleImputer(strategy='most_frequent'), OneHotEncoder()]), or "
                         "make 'missing' a category of its own with SimpleImputer(strategy='constant', "
                         "fill_value='missing')")
    if col.dtype.kind == "O":
        vals = col.tolist()
        if vals and all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in vals):
            ints = all(isinstance(v, (int, np.integer)) for v in vals)
            col = np.array(vals, dtype=np.int64 if ints else np.float64)
    try:
        return np.unique(col)
    except TypeError:
        raise TypeError(f"{where}: column {name!r} mixes strings and numbers; make it one type "
                        "(e.g. all strings)") from None


def _lookup(col, cats):
    """Index of each value of ``col`` in ``cats`` (sorted), -1 where absent or missing."""
    if col.dtype.kind in "biuf" and cats.dtype.kind in "biuf":
        if cats.size == 0:
            return np.full(col.shape, -1, dtype=np.intp)
        pos = np.clip(np.searchsorted(cats, col), 0, cats.size - 1)
        return np.where(cats[pos] == col, pos, -1).astype(np.intp)
    index = {_py(c): i for i, c in enumerate(cats.tolist())}
    return np.fromiter((-1 if _is_nan(v) else index.get(_py(v), -1) for v in col.tolist()),
                       dtype=np.intp, count=col.shape[0])


class OneHotEncoder(Transformer):
    """Encode each categorical column as one 0/1 column per category (sorted, as learned in ``fit``).

    Args:
        categories: ``'auto'`` (learn them from the training data) or a list with each column's categories.
        drop: None (keep every category), ``'first'`` (drop each column's first category, for models that
            need no redundant columns) or ``'if_binary'`` (drop the first category of two-category columns).
        handle_unknown: ``'error'``: a category not seen in ``fit`` raises ``ValueError`` naming the column
            and value; ``'ignore'``: encode it as all zeros.
        dtype: the output dtype (float32).

    Missing values (None/NaN) must be imputed first (the error says how).

    Attributes:
        categories_: each column's categories (arrays); drop_idx_: the dropped category's index per column.

    Example:
        >>> enc = OneHotEncoder(handle_unknown="ignore").fit(train.select(["color"]))
        >>> enc.get_feature_names_out()
        ['color_blue', 'color_red']
    """

    _params = ("categories", "drop", "handle_unknown", "dtype")
    _fitted = ("categories_", "drop_idx_", "n_features_in_", "feature_names_in_")

    def __init__(self, categories="auto", drop=None, handle_unknown: str = "error", dtype=np.float32):
        if handle_unknown not in ("error", "ignore"):
            raise ValueError(f"OneHotEncoder: handle_unknown must be 'error' or 'ignore', got {handle_unknown!r}")
        if drop not in (None, "first", "if_binary"):
            raise ValueError(f"OneHotEncoder: drop must be None, 'first' or 'if_binary', got {drop!r}")
        if not (isinstance(categories, str) and categories == "auto"):
            categories = [list(c) for c in categories]
        self.categories = categories
        self.drop = drop
        self.handle_unknown = handle_unknown
        self.dtype = np.dtype(dtype).type
        self.categories_ = None

    def _params_state(self):
        cats = self.categories if isinstance(self.categories, str) else [[_py(v) for v in c] for c in self.categories]
        return {"categories": cats, "drop": self.drop, "handle_unknown": self.handle_unknown,
                "dtype": np.dtype(self.dtype).name}

    def fit(self, X, y=None):
        """Learn each column's categories from ``X`` (the training data)."""
        cols, names, _ = _columns(X, "OneHotEncoder.fit", min_samples=1)
        names_ = names or [f"x{j}" for j in range(len(cols))]
        if isinstance(self.categories, str):
            cats = [_categories_of(col, "OneHotEncoder.fit", names_[j]) for j, col in enumerate(cols)]
        else:
            if len(self.categories) != len(cols):
                raise ValueError(f"OneHotEncoder.fit: categories lists {len(self.categories)} columns, X has "
                                 f"{len(cols)}")
            cats = []
            for j, (col, given) in enumerate(zip(cols, self.categories)):
                arr = np.asarray(given)
                arr = arr.astype(object) if arr.dtype.kind in "US" else arr
                if arr.dtype.kind != "O" and np.any(arr[1:] < arr[:-1]):
                    raise ValueError(f"OneHotEncoder.fit: the categories given for column {names_[j]!r} must be "
                                     "sorted for numeric data")
                if self.handle_unknown == "error":
                    unknown = col[_lookup(col, arr) < 0]
                    if unknown.size:
                        raise ValueError(f"OneHotEncoder.fit: found unknown categories "
                                         f"{_fmt_list(sorted(set(unknown.tolist()), key=str))} in column "
                                         f"{names_[j]!r} during fit")
                cats.append(arr)
        drop_idx = []
        for c in cats:
            if self.drop == "first" or (self.drop == "if_binary" and c.size == 2):
                drop_idx.append(0 if c.size else None)
            else:
                drop_idx.append(None)
        self._record_input(names, len(cols))
        self.categories_ = cats
        self.drop_idx_ = drop_idx
        return self

    def _maps(self):
        """For each column: category index -> output column offset (-1: dropped), and the block width."""
        maps, widths = [], []
        for c, d in zip(self.categories_, self.drop_idx_):
            m = np.arange(c.size, dtype=np.intp)
            if d is not None:
                m[d] = -1
                m[d + 1:] -= 1
            maps.append(m)
            widths.append(c.size - (d is not None))
        return maps, widths

    def transform(self, X):
        """The one-hot matrix ``(n, sum of the columns' category counts)`` of ``dtype``."""
        self._check_fitted("transform")
        cols, names, was_tensor = _columns(X, "OneHotEncoder.transform")
        order = self._check_input(names, len(cols), "OneHotEncoder.transform")
        if order is not None:
            cols = [cols[i] for i in order]
        n = cols[0].shape[0] if cols else 0
        maps, widths = self._maps()
        out = np.zeros((n, sum(widths)), dtype=self.dtype)
        offset = 0
        in_names = self._input_names()
        unknown_cols = []
        for j, (col, cats) in enumerate(zip(cols, self.categories_)):
            idx = _lookup(col, cats)
            bad = idx < 0
            if bad.any():
                if self.handle_unknown == "error":
                    r = int(np.flatnonzero(bad)[0])
                    v = col[r]
                    what = "a missing value (None/NaN)" if (v is None or _is_nan(v)) else f"unknown category {_py(v)!r}"
                    raise ValueError(
                        f"OneHotEncoder.transform: column {in_names[j]!r} has {what} (first at row {r}, "
                        f"{int(bad.sum())} rows in all), not seen in fit; known categories: "
                        f"{_fmt_list([_py(c) for c in cats.tolist()])}. Pass handle_unknown='ignore' to encode "
                        "unseen categories as all zeros")
                unknown_cols.append(in_names[j])
            rows = np.flatnonzero(~bad)
            pos = maps[j][idx[rows]]
            keep = pos >= 0
            out[rows[keep], offset + pos[keep]] = 1
            offset += widths[j]
        if unknown_cols and any(d is not None for d in self.drop_idx_):
            warnings.warn(f"OneHotEncoder.transform: found unknown categories in columns {unknown_cols}; they are "
                          "encoded as all zeros, the same as each column's dropped category", stacklevel=2)
        return _output(out, was_tensor)

    def inverse_transform(self, X):
        """The categories back from a one-hot matrix (None for an all-zero block of an unknown category)."""
        self._check_fitted("inverse_transform")
        arr = _array_2d(X, "OneHotEncoder.inverse_transform")
        _, widths = self._maps()
        if arr.shape[1] != sum(widths):
            raise ValueError(f"OneHotEncoder.inverse_transform: X has {arr.shape[1]} columns, expected {sum(widths)}")
        n = arr.shape[0]
        out_cols = []
        offset = 0
        for cats, d, w in zip(self.categories_, self.drop_idx_, widths):
            block = arr[:, offset:offset + w].astype(np.float64)
            offset += w
            col = np.empty(n, dtype=object)
            kept = np.flatnonzero(np.arange(cats.size) != (d if d is not None else -1))
            if w:
                hot = block.argmax(axis=1)
                col[:] = [_py(v) for v in cats[kept[hot]].tolist()]
                zero = block.max(axis=1) <= 0
            else:
                zero = np.ones(n, dtype=bool)
            col[zero] = _py(cats[d]) if d is not None else None
            out_cols.append(col)
        return _stack_columns(out_cols, n) if out_cols else np.empty((n, 0), dtype=object)

    def get_feature_names_out(self, input_features=None) -> list[str]:
        """``'<column>_<category>'`` for every output column."""
        names = self._input_names(input_features)
        self._check_fitted("get_feature_names_out")
        maps, _ = self._maps()
        return [f"{name}_{_py(c)}" for name, cats, m in zip(names, self.categories_, maps)
                for c, k in zip(cats.tolist(), m) if k >= 0]

    def _fitted_state(self):
        return {**super()._fitted_state(), "categories_": [_enc_array(c) for c in self.categories_],
                "drop_idx_": list(self.drop_idx_)}

    def _load_fitted(self, d):
        super()._load_fitted(d)
        self.categories_ = [_dec_array(c) for c in d["categories_"]]
        self.drop_idx_ = list(d["drop_idx_"])


class LabelEncoder(Transformer):
    """Encode target labels as class indices ``0..n_classes-1`` (the sorted distinct training labels).

    Works on a 1-D array, list, Tensor or one-column Table; Tensor inputs give int64 Tensors.

    Attributes:
        classes_: the labels in index order.

    Example:
        >>> le = LabelEncoder().fit(["cat", "dog", "cat", "bird"])
        >>> le.classes_.tolist(), le.transform(["dog", "bird"]).tolist()
        (['bird', 'cat', 'dog'], [2, 0])
    """

    _fitted = ("classes_",)

    def __init__(self):
        self.classes_ = None

    def fit(self, y, X=None):
        """Learn the sorted distinct labels of ``y``."""
        from ._utils import as_labels, encode_labels  # noqa: PLC0415
        arr = as_labels(y, "LabelEncoder.fit")
        self.classes_, _ = encode_labels(arr, "LabelEncoder.fit")
        return self

    def fit_transform(self, y, X=None):
        return self.fit(y).transform(y)

    def transform(self, y):
        """The index of each label in ``classes_`` (int64)."""
        from ._utils import as_labels  # noqa: PLC0415
        self._check_fitted("transform")
        arr = as_labels(y, "LabelEncoder.transform")
        idx = _lookup(arr, self.classes_)
        if (idx < 0).any():
            unseen = sorted({_py(v) for v in arr[idx < 0].tolist()}, key=str)
            raise ValueError(f"LabelEncoder.transform: y contains previously unseen labels: {_fmt_list(unseen)}; "
                             f"known labels: {_fmt_list([_py(c) for c in self.classes_.tolist()])}")
        return _output(idx.astype(np.int64), isinstance(y, Tensor))

    def inverse_transform(self, y):
        """The labels of class indices ``y``."""
        self._check_fitted("inverse_transform")
        idx = np.asarray(_to_numpy(y)).reshape(-1)
        if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= self.classes_.size):
            raise ValueError(f"LabelEncoder.inverse_transform: y contains values outside the class indices "
                             f"0..{self.classes_.size - 1}: {_fmt_list(sorted(set(idx.tolist())))}")
        return self.classes_[idx.astype(np.intp)]

    def get_feature_names_out(self, input_features=None):
        raise AttributeError("LabelEncoder encodes targets and has no feature names")

    def _fitted_state(self):
        return {"classes_": _enc_array(self.classes_)}

    def _load_fitted(self, d):
        self.classes_ = _dec_array(d["classes_"])


# ---------------------------------------------------------------------------------------------
# composition
# ---------------------------------------------------------------------------------------------

def _auto_names(objs):
    names, seen = [], {}
    for o in objs:
        base = o if isinstance(o, str) else type(o).__name__.lower()
        seen[base] = seen.get(base, 0) + 1
        names.append(base)
    counts = dict.fromkeys(seen, 0)
    out = []
    for n in names:
        if seen[n] > 1:
            counts[n] += 1
            out.append(f"{n}-{counts[n]}")
        else:
            out.append(n)
    return out


def _numeric_block(out, where):
    if isinstance(out, Table):
        if out.categorical_columns:
            raise TypeError(f"{where}: produced categorical (string) columns {out.categorical_columns}; encode "
                            "them, e.g. Pipeline([SimpleImputer(strategy='most_frequent'), OneHotEncoder()])")
        return out.to_numpy(dtype=np.float64)
    arr = np.asarray(_to_numpy(out))
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"{where}: produced an array of shape {tuple(arr.shape)}; expected (samples, features)")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: produced non-numeric (string) output; encode categorical columns, e.g. "
                            "Pipeline([SimpleImputer(strategy='most_frequent'), OneHotEncoder()])") from None
    return arr


class ColumnTransformer(Transformer):
    """Send groups of columns to their own transformers and concatenate the results into one float matrix.

    Args:
        transformers: a list of ``(transformer, columns)`` or ``(name, transformer, columns)``. The
            transformer is a :class:`Transformer` (a :class:`Pipeline` for several steps), ``'passthrough'``
            (numeric columns copied as they are) or ``'drop'``. ``columns`` are names (a Table input), 0-based
            positions (an array input), one name, or a callable ``table -> names`` (e.g.
            ``lambda t: t.numeric_columns``), resolved at fit.
        remainder: what happens to the columns no transformer lists: ``'drop'`` (default),
            ``'passthrough'`` or a transformer.
        dtype: the output dtype (float32).

    ``transform`` takes a Table that has (at least) the fitted columns, by name, or an array with the
    fitted number of columns. ``get_feature_names_out()`` names every output column.

    Example:
        >>> ct = ColumnTransformer([(StandardScaler(), ["age", "fare"]),
        ...                         (OneHotEncoder(handle_unknown="ignore"), ["sex", "embarked"])])
        >>> X_train = ct.fit_transform(train)        # float32 matrix
        >>> ct.get_feature_names_out()
        ['age', 'fare', 'sex_female', 'sex_male', 'embarked_C', 'embarked_Q', 'embarked_S']
    """

    _fitted = ("output_names_", "n_features_in_", "feature_names_in_")

    def __init__(self, transformers, remainder="drop", dtype=np.float32):
        items = []
        for k, item in enumerate(transformers):
            if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
                raise TypeError(f"ColumnTransformer: transformers[{k}] must be (transformer, columns) or "
                                f"(name, transformer, columns), got {item!r}")
            name, trans, cols = (None, *item) if len(item) == 2 else item
            self._check_transformer(trans, f"transformers[{k}]")
            items.append([name, trans, cols])
        for item, auto in zip(items, _auto_names([t for _, t, _ in items])):
            item[0] = item[0] if item[0] is not None else auto
        names = [i[0] for i in items]
        if len(set(names)) != len(names):
            raise ValueError(f"ColumnTransformer: transformer names must be unique, got {names}")
        self._check_transformer(remainder, "remainder")
        self.transformers = [tuple(i) for i in items]
        self.remainder = remainder
        self.dtype = np.dtype(dtype).type
        self.output_names_ = None

    @staticmethod
    def _check_transformer(t, where):
        if isinstance(t, str):
            if t not in ("passthrough", "drop"):
                raise ValueError(f"ColumnTransformer: {where} must be a transformer, 'passthrough' or 'drop', "
                                 f"got {t!r}")
        elif not (hasattr(t, "fit") and hasattr(t, "transform")):
            raise TypeError(f"ColumnTransformer: {where} must have fit and transform methods, got "
                            f"{type(t).__name__}")

    def get_params(self):
        return {"transformers": self.transformers, "remainder": self.remainder}

    def __repr__(self):
        inner = ",\n".join(f"    ({n!r}, {t!r}, {c!r})" for n, t, c in self.transformers)
        rem = f", remainder={self.remainder!r}" if self.remainder != "drop" else ""
        return f"ColumnTransformer([\n{inner}\n]{rem})"

    # -- column resolution ----------------------------------------------------------------------
    def _resolve(self, cols, X, names, n_features, where):
        if callable(cols) and not isinstance(cols, str):
            if not isinstance(X, Table):
                raise TypeError(f"{where}: columns given as a callable need a Table input")
            cols = cols(X)
        cols = [cols] if isinstance(cols, (str, int, np.integer)) else list(cols)
        out = []
        for c in cols:
            if isinstance(c, str):
                if names is None:
                    raise TypeError(f"{where}: column {c!r} is a name, but X is an array without column names; "
                                    "pass a Table, or select columns by position")
                if c not in names:
                    raise KeyError(f"{where}: no column named {c!r}; the columns are {names}")
                out.append(c)
            elif isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not -n_features <= c < n_features:
                    raise IndexError(f"{where}: column position {c} is out of range for {n_features} columns")
                out.append(names[c] if names is not None else int(c) % n_features)
            else:
                raise TypeError(f"{where}: columns must be names or positions, got {c!r}")
        return out

    @staticmethod
    def _subset(X, arr, cols):
        if isinstance(X, Table):
            return X.select(cols)
        return arr[:, cols]

    def fit(self, X, y=None):
        """Fit every transformer on its columns of ``X`` (the training data)."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        """Fit every transformer on its columns and return the concatenated float matrix."""
        was_tensor = isinstance(X, Tensor)
        if isinstance(X, Table):
            arr, names, nfeat, n = None, X.columns, len(X.columns), len(X)
        else:
            arr = _array_2d(X, "ColumnTransformer.fit")
            names, nfeat, n = None, arr.shape[1], arr.shape[0]
        resolved, used = [], set()
        for name, trans, cols in self.transformers:
            rc = self._resolve(cols, X, names, nfeat, f"ColumnTransformer.fit ({name})")
            resolved.append((name, trans, rc))
            used.update(rc)
        all_cols = names if names is not None else list(range(nfeat))
        remainder_cols = [c for c in all_cols if c not in used]
        if self.remainder != "drop" and remainder_cols:
            resolved.append(("remainder", self.remainder, remainder_cols))
        blocks, out_names, widths = [], [], []
        for name, trans, rc in resolved:
            if trans == "drop":
                continue
            sub = self._subset(X, arr, rc)
            where = f"ColumnTransformer ({name!r} on columns {rc})"
            in_names = [str(c) if names is not None else f"x{c}" for c in rc]
            if trans == "passthrough":
                if isinstance(sub, Table) and sub.categorical_columns:
                    raise TypeError(f"{where}: passthrough columns {sub.categorical_columns} are categorical; "
                                    "encode them (OneHotEncoder) or drop them")
                block = sub.to_numpy(dtype=np.float64) if isinstance(sub, Table) else _numeric_block(sub, where)
                block_names = in_names
            else:
                block = _numeric_block(trans.fit_transform(sub), where)
                fn = getattr(trans, "get_feature_names_out", None)
                try:
                    block_names = list(fn(in_names)) if fn is not None else None
                except (TypeError, ValueError, AttributeError):
                    block_names = None
                if block_names is None or len(block_names) != block.shape[1]:
                    block_names = [f"{name}{i}" for i in range(block.shape[1])]
            if block.shape[0] != n:
                raise ValueError(f"{where}: produced {block.shape[0]} rows for {n} input rows")
            blocks.append(block)
            out_names.extend(block_names)
            widths.append(block.shape[1])
        self._resolved = [(nm, rc) for nm, _, rc in resolved]
        self._record_input(names, nfeat)
        self.output_names_ = out_names
        self.output_widths_ = widths
        self.remainder_columns_ = remainder_cols
        out = np.concatenate(blocks, axis=1).astype(self.dtype, copy=False) if blocks else \
            np.empty((n, 0), dtype=self.dtype)
        return _output(out, was_tensor)

    def _fitted_transformer(self, name):
        if name == "remainder":
            return self.remainder
        return next(t for nm, t, _ in self.transformers if nm == name)

    def transform(self, X):
        """Apply the fitted transformers to their columns and concatenate the results (``dtype``)."""
        self._check_fitted("transform")
        was_tensor = isinstance(X, Tensor)
        if isinstance(X, Table):
            arr, n = None, len(X)
            if self.feature_names_in_ is None:  # fitted on an array: select by position
                if len(X.columns) != self.n_features_in_:
                    raise ValueError(f"ColumnTransformer.transform: X has {len(X.columns)} columns, but the "
                                     f"transformer was fitted with {self.n_features_in_}")
                X = X.select(X.columns)
            needed = [c for _, rc in self._resolved for c in rc]
            if self.feature_names_in_ is not None:
                lacking = [c for c in dict.fromkeys(needed) if c not in X]
                if lacking:
                    raise ValueError(f"ColumnTransformer.transform: the table lacks columns {lacking} that the "
                                     f"transformers were fitted on (it has {X.columns})")
        else:
            arr = _array_2d(X, "ColumnTransformer.transform")
            n = arr.shape[0]
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(f"ColumnTransformer.transform: X has {arr.shape[1]} columns, but the transformer "
                                 f"was fitted with {self.n_features_in_}"
                                 + (f" ({self.feature_names_in_})" if self.feature_names_in_ else ""))
        blocks = []
        for name, rc in self._resolved:
            trans = self._fitted_transformer(name)
            if trans == "drop":
                continue
            if isinstance(X, Table):
                cols = rc if self.feature_names_in_ is not None else [X.columns[i] for i in rc]
                sub = X.select(cols)
            else:
                if self.feature_names_in_ is not None:
                    rc = [self.feature_names_in_.index(c) for c in rc]
                sub = arr[:, rc]
            where = f"ColumnTransformer ({name!r} on columns {rc})"
            if trans == "passthrough":
                blocks.append(sub.to_numpy(dtype=np.float64) if isinstance(sub, Table) else _numeric_block(sub, where))
                continue
            try:
                out = trans.transform(sub)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from e
            blocks.append(_numeric_block(out, where))
        out = np.concatenate(blocks, axis=1).astype(self.dtype, copy=False) if blocks else \
            np.empty((n, 0), dtype=self.dtype)
        return _output(out, was_tensor)

    def get_feature_names_out(self, input_features=None) -> list[str]:
        """The name of every output column, in order."""
        self._check_fitted("get_feature_names_out")
        return list(self.output_names_)

    # -- state ----------------------------------------------------------------------------------
    def _params_state(self):
        items = []
        for name, trans, cols in self.transformers:
            if callable(cols) and not isinstance(cols, str):
                if not self.is_fitted:
                    raise TypeError(f"ColumnTransformer.get_state: the columns of {name!r} are a callable, which "
                                    "cannot be saved before fit")
                cols = next(rc for nm, rc in self._resolved if nm == name)
            cols = [cols] if isinstance(cols, (str, int, np.integer)) else [_py(c) for c in cols]
            items.append({"name": name, "transformer": trans if isinstance(trans, str) else trans.get_state(),
                          "columns": cols})
        rem = self.remainder if isinstance(self.remainder, str) else self.remainder.get_state()
        return {"transformers": items, "remainder": rem, "dtype": np.dtype(self.dtype).name}

    @classmethod
    def _from_params(cls, params):
        items = [(d["name"], d["transformer"] if isinstance(d["transformer"], str)
                  else Transformer.from_state(d["transformer"]), d["columns"]) for d in params["transformers"]]
        rem = params["remainder"]
        rem = rem if isinstance(rem, str) else Transformer.from_state(rem)
        return cls(items, remainder=rem, dtype=params["dtype"])

    def _fitted_state(self):
        return {**super()._fitted_state(), "output_names_": self.output_names_,
                "output_widths_": self.output_widths_, "remainder_columns_": self.remainder_columns_,
                "resolved": [[nm, [_py(c) for c in rc]] for nm, rc in self._resolved]}

    def _load_fitted(self, d):
        super()._load_fitted(d)
        self.output_names_ = d["output_names_"]
        self.output_widths_ = d["output_widths_"]
        self.remainder_columns_ = d["remainder_columns_"]
        self._resolved = [(nm, rc) for nm, rc in d["resolved"]]


class Pipeline(Transformer):
    """Transformers applied one after the other: ``fit`` fits each on the previous one's output.

    Args:
        steps: a list of transformers or ``(name, transformer)`` pairs.

    Example:
        >>> num = Pipeline([SimpleImputer(strategy="median"), StandardScaler()])
        >>> cat = Pipeline([SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")])
    """

    def __init__(self, steps):
        steps = list(steps)
        if not steps:
            raise ValueError("Pipeline: steps must not be empty")
        named = []
        for k, s in enumerate(steps):
            name, t = s if isinstance(s, (tuple, list)) else (None, s)
            if not (hasattr(t, "fit") and hasattr(t, "transform")):
                raise TypeError(f"Pipeline: step {k} must have fit and transform methods, got {type(t).__name__}")
            named.append([name, t])
        for item, auto in zip(named, _auto_names([t for _, t in named])):
            item[0] = item[0] if item[0] is not None else auto
        names = [n for n, _ in named]
        if len(set(names)) != len(names):
            raise ValueError(f"Pipeline: step names must be unique, got {names}")
        self.steps = [tuple(i) for i in named]

    @property
    def named_steps(self) -> dict:
        return dict(self.steps)

    def __getitem__(self, i):
        if isinstance(i, str):
            return self.named_steps[i]
        if isinstance(i, slice):
            return Pipeline(self.steps[i])
        return self.steps[i][1]

    def __len__(self):
        return len(self.steps)

    def get_params(self):
        return {"steps": self.steps}

    def __repr__(self):
        return "Pipeline([" + ", ".join(f"({n!r}, {t!r})" for n, t in self.steps) + "])"

    @property
    def is_fitted(self) -> bool:
        return all(getattr(t, "is_fitted", True) for _, t in self.steps)

    @property
    def n_features_in_(self):
        return getattr(self.steps[0][1], "n_features_in_", None)

    @property
    def feature_names_in_(self):
        return getattr(self.steps[0][1], "feature_names_in_", None)

    def fit(self, X, y=None):
        """Fit each step on the output of the previous (fitted) steps."""
        for _, t in self.steps[:-1]:
            X = t.fit_transform(X)
        self.steps[-1][1].fit(X)
        return self

    def fit_transform(self, X, y=None):
        for _, t in self.steps:
            X = t.fit_transform(X)
        return X

    def transform(self, X):
        """Apply every step in order."""
        self._check_fitted("transform")
        for _, t in self.steps:
            X = t.transform(X)
        return X

    def inverse_transform(self, X):
        """Apply every step's ``inverse_transform`` in reverse order."""
        self._check_fitted("inverse_transform")
        for _, t in reversed(self.steps):
            X = t.inverse_transform(X)
        return X

    def get_feature_names_out(self, input_features=None) -> list[str]:
        names = input_features
        for _, t in self.steps:
            names = t.get_feature_names_out(names)
        return list(names)

    def get_state(self):
        return {"type": "Pipeline", "format": _STATE_FORMAT,
                "params": {"steps": [{"name": n, "transformer": t.get_state()} for n, t in self.steps]},
                "fitted": None}

    @classmethod
    def _from_params(cls, params):
        return cls([(d["name"], Transformer.from_state(d["transformer"])) for d in params["steps"]])
