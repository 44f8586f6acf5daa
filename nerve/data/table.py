"""``Table``: named columns of a tabular data set, each a 1-D NumPy array.

A column is *numeric* (an integer, float or bool array; missing values are NaN, so an integer
column with missing values is stored as float64) or *categorical* (an object array of strings, or
of any hashable values; missing values are ``None``).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["Table"]

NUMERIC = "numeric"
CATEGORICAL = "categorical"


def _is_missing_scalar(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, np.floating) and np.isnan(v))


def as_column(values, name: str, where: str = "Table") -> tuple[np.ndarray, str]:
    """``values`` as a 1-D column array and its kind (``'numeric'`` or ``'categorical'``)."""
    if isinstance(values, Tensor):
        values = values.numpy(force=True)
    if isinstance(values, np.ndarray):
        arr = values
    else:
        values = list(values)
        present = [v for v in values if not _is_missing_scalar(v)]
        if all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in present):
            if present and len(present) == len(values) and all(isinstance(v, numbers.Integral) for v in values):
                arr = np.asarray(values, dtype=np.int64)
            else:
                arr = np.array([np.nan if _is_missing_scalar(v) else v for v in values], dtype=np.float64)
        elif all(isinstance(v, (bool, np.bool_)) for v in present) and len(present) == len(values):
            arr = np.asarray(values, dtype=bool)
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = [None if _is_missing_scalar(v) else v for v in values]
    if arr.ndim != 1:
        raise ValueError(f"{where}: column {name!r} must be 1-D, got an array of shape {tuple(arr.shape)}")
    if arr.dtype.kind in "biuf":
        return arr, NUMERIC
    if arr.dtype.kind in "USO":
        out = np.empty(arr.shape[0], dtype=object)
        out[:] = [None if _is_missing_scalar(v) else (str(v) if isinstance(v, np.str_) else v) for v in arr.tolist()]
        return out, CATEGORICAL
    raise TypeError(f"{where}: column {name!r} has unsupported dtype {arr.dtype}; "
                    "use numbers (int/float/bool) or strings")


def is_missing(col: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing entries of a column (NaN for numbers, None/NaN for objects)."""
    if col.dtype.kind == "f":
        return np.isnan(col)
    if col.dtype.kind == "O":
        return np.fromiter((_is_missing_scalar(v) for v in col), dtype=bool, count=col.shape[0])
    return np.zeros(col.shape, dtype=bool)


class Table:
    """Named columns of equal length: the in-memory form of a CSV file (see :func:`read_csv`).

    ``table['age']`` is a column (a NumPy array), ``table[['age', 'sex']]`` a Table of those columns,
    ``table[indices]`` / ``table.take(indices)`` a Table of those rows (an int array, slice or bool mask).
    Split a Table with :func:`nerve.data.train_test_split`, fit preprocessing on the training rows and
    turn each split into a Dataset with :meth:`to_dataset`.

    Args:
        data: a mapping column name -> values (a list, NumPy array or Tensor); lists with ``None`` or
            NaN entries become float columns (numbers) or object columns (strings).
        target: the name of the target column, used by :meth:`to_dataset` when it gets none.

    Example:
        >>> t = Table({"age": [31, 45, None], "city": ["Oslo", None, "Rome"]}, target="city")
        >>> t.kinds
        {'age': 'numeric', 'city': 'categorical'}
        >>> t["age"]
        array([31., 45., nan])
    """

    def __init__(self, data: Mapping | None = None, *, target: str | None = None):
        self._data: dict[str, np.ndarray] = {}
        self._kinds: dict[str, str] = {}
        n = None
        for name, values in (data or {}).items():
            if not isinstance(name, str):
                raise TypeError(f"Table: column names must be strings, got {name!r}")
            arr, kind = as_column(values, name)
            if n is not None and arr.shape[0] != n:
                first = next(iter(self._data))
                raise ValueError(f"Table: column {name!r} has {arr.shape[0]} rows, but column {first!r} has {n}")
            n = arr.shape[0]
            self._data[name] = arr
            self._kinds[name] = kind
        self._n = n or 0
        self.target = None
        if target is not None:
            self._check_names([target], "Table")
            self.target = target

    @classmethod
    def _from_checked(cls, data: dict, kinds: dict, n: int, target=None) -> "Table":
        t = cls.__new__(cls)
        t._data, t._kinds, t._n = data, kinds, n
        t.target = target if target in data else None
        return t

    # ---- shape and columns -------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._data)

    @property
    def kinds(self) -> dict[str, str]:
        """Column name -> ``'numeric'`` or ``'categorical'``."""
        return dict(self._kinds)

    @property
    def numeric_columns(self) -> list[str]:
        return [c for c, k in self._kinds.items() if k == NUMERIC]

    @property
    def categorical_columns(self) -> list[str]:
        return [c for c, k in self._kinds.items() if k == CATEGORICAL]

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (self._n, len(self._data))

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name) -> bool:
        return name in self._data

    def __iter__(self):
        return iter(self._data)

    def _check_names(self, names, where: str) -> None:
        for c in names:
            if c not in self._data:
                raise KeyError(f"{where}: no column named {c!r}; the columns are {self.columns}")

    # ---- selection ---------------------------------------------------------------------------
    def __getitem__(self, key):
        if isinstance(key, str):
            self._check_names([key], "Table")
            return self._data[key]
        if isinstance(key, (list, tuple)) and key and all(isinstance(k, str) for k in key):
            return self.select(key)
        return self.take(key)

    def __setitem__(self, name: str, values) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Table: column names must be strings, got {name!r}")
        arr, kind = as_column(values, name)
        if self._data and arr.shape[0] != self._n:
            raise ValueError(f"Table: new column {name!r} has {arr.shape[0]} rows, the table has {self._n}")
        if not self._data:
            self._n = arr.shape[0]
        self._data[name] = arr
        self._kinds[name] = kind

    def select(self, columns) -> "Table":
        """A Table of the given columns (names), in that order."""
        columns = [columns] if isinstance(columns, str) else list(columns)
        self._check_names(columns, "Table.select")
        if len(set(columns)) != len(columns):
            raise ValueError(f"Table.select: duplicate column names in {columns}")
        return Table._from_checked({c: self._data[c] for c in columns}, {c: self._kinds[c] for c in columns},
                                   self._n, self.target)

    def drop(self, columns) -> "Table":
        """A Table without the given columns."""
        columns = [columns] if isinstance(columns, str) else list(columns)
        self._check_names(columns, "Table.drop")
        return self.select([c for c in self._data if c not in set(columns)])

    def take(self, indices) -> "Table":
        """A Table of the rows at ``indices`` (int array or list, slice, bool mask, or int Tensor)."""
        if isinstance(indices, Tensor):
            indices = indices.numpy(force=True)
        if not isinstance(indices, slice):
            indices = np.asarray(indices)
            if indices.dtype.kind == "b":
                if indices.shape != (self._n,):
                    raise IndexError(f"Table.take: boolean mask of shape {tuple(indices.shape)} does not match "
                                     f"the {self._n} rows")
            elif indices.size == 0:
                indices = indices.astype(np.intp)
            elif indices.dtype.kind not in "iu":
                raise TypeError(f"Table.take: row indices must be integers, a slice or a boolean mask, "
                                f"got dtype {indices.dtype}")
            else:
                indices = indices.reshape(-1)
                lo, hi = int(indices.min()), int(indices.max())
                if hi >= self._n or lo < -self._n:
                    raise IndexError(f"Table.take: row index {hi if hi >= self._n else lo} is out of range "
                                     f"for a table of {self._n} rows")
        data = {c: a[indices] for c, a in self._data.items()}
        n = next(iter(data.values())).shape[0] if data else np.arange(self._n)[indices].shape[0]
        return Table._from_checked(data, dict(self._kinds), n, self.target)

    def head(self, n: int = 5) -> "Table":
        return self.take(slice(0, n))

    def copy(self) -> "Table":
        return Table._from_checked({c: a.copy() for c, a in self._data.items()}, dict(self._kinds), self._n,
                                   self.target)

    # ---- conversion --------------------------------------------------------------------------
    def missing_counts(self) -> dict[str, int]:
        """Column name -> number of missing values (NaN / None)."""
        return {c: int(is_missing(a).sum()) for c, a in self._data.items()}

    def to_numpy(self, columns=None, dtype=np.float32) -> np.ndarray:
        """The numeric ``columns`` (default: all) as an ``(rows, columns)`` array of ``dtype``.

        Categorical columns must be encoded first (:class:`OneHotEncoder`, :class:`ColumnTransformer`).
        """
        columns = self.columns if columns is None else ([columns] if isinstance(columns, str) else list(columns))
        self._check_names(columns, "Table.to_numpy")
        cat = [c for c in columns if self._kinds[c] != NUMERIC]
        if cat:
            raise TypeError(f"Table.to_numpy: columns {cat} are categorical (strings); encode them first, e.g. "
                            "with OneHotEncoder or a ColumnTransformer")
        out = np.empty((self._n, len(columns)), dtype=dtype)
        for j, c in enumerate(columns):
            out[:, j] = self._data[c]
        return out

    def to_dict(self) -> dict[str, list]:
        """Column name -> list of Python values (None for missing values)."""
        out = {}
        for c, a in self._data.items():
            if a.dtype.kind == "f":
                out[c] = [None if v != v else v for v in a.tolist()]
            else:
                out[c] = a.tolist()
        return out

    def to_dataset(self, target=None, features=None, transform=None, **kwargs):
        """This table as a :class:`TabularDataset` (see there); ``target`` defaults to ``self.target``."""
        from .dataset import TabularDataset  # noqa: PLC0415
        return TabularDataset(self, target, features, transform, **kwargs)

    def __eq__(self, other):
        if not isinstance(other, Table) or self.columns != other.columns or self._n != other._n:
            return False
        for c in self._data:
            a, b = self._data[c], other._data[c]
            if self._kinds[c] != other._kinds[c]:
                return False
            if a.dtype.kind in "f" or b.dtype.kind in "f":
                if not np.array_equal(a, b, equal_nan=True):
                    return False
            elif a.tolist() != b.tolist():
                return False
        return True

    __hash__ = None

    def __repr__(self):
        head = f"Table({self._n} rows x {len(self._data)} columns" + \
               (f", target={self.target!r})" if self.target else ")")
        if not self._data:
            return head
        show = min(self._n, 5)
        cells = [[c for c in self._data], [self._describe(c) for c in self._data]]
        for i in range(show):
            cells.append([self._fmt(self._data[c][i]) for c in self._data])
        widths = [max(len(r[j]) for r in cells) for j in range(len(self._data))]
        lines = ["  " + "  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
        if self._n > show:
            lines.append(f"  ... ({self._n - show} more rows)")
        return head + "\n" + "\n".join(lines)

    def _describe(self, c):
        a = self._data[c]
        return f"<{a.dtype}>" if self._kinds[c] == NUMERIC else "<cat>"

    @staticmethod
    def _fmt(v):
        if v is None:
            return "None"
        if isinstance(v, (float, np.floating)):
            return "NaN" if v != v else f"{v:.6g}"
        s = str(v)
        return s if len(s) <= 20 else s[:17] + "..."
