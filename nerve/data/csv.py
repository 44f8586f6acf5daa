"""``read_csv``: a CSV file as a :class:`Table`, parsed with the standard library's ``csv`` module."""
from __future__ import annotations

import csv as _csv
import io
import os

import numpy as np

from .table import CATEGORICAL, NUMERIC, Table

__all__ = ["read_csv"]

_NUMERIC_SPECS = {"numeric": np.float64, "number": np.float64, "float": np.float64, "float64": np.float64,
                  "double": np.float64, "float32": np.float32, "float16": np.float16,
                  "int": np.int64, "int64": np.int64, "long": np.int64, "int32": np.int32, "int16": np.int16,
                  "int8": np.int8, "uint8": np.uint8}
_CATEGORICAL_SPECS = {"categorical", "category", "str", "string", "object"}


def _parse_spec(spec, column):
    """A dtype declaration as (kind, numpy dtype or None)."""
    if spec is str or spec is object:
        return CATEGORICAL, None
    if spec is float:
        return NUMERIC, np.float64
    if spec is int:
        return NUMERIC, np.int64
    if isinstance(spec, str) and spec.lower() in _CATEGORICAL_SPECS:
        return CATEGORICAL, None
    if isinstance(spec, str) and spec.lower() in _NUMERIC_SPECS:
        return NUMERIC, _NUMERIC_SPECS[spec.lower()]
    try:
        dt = np.dtype(spec)
    except TypeError:
        dt = None
    if dt is not None and dt.kind in "iuf":
        return NUMERIC, dt.type
    raise ValueError(f"read_csv: unknown dtype {spec!r} for column {column!r}; use 'numeric', 'float', 'int', "
                     "'float32' (or a NumPy number dtype), or 'categorical' / str")


def read_csv(path, *, target: str | None = None, columns=None, delimiter: str = ",", header=True,
             na_values=("", "NA", "NaN", "nan", "?"), dtype=None, encoding: str = "utf-8-sig",
             quotechar: str = '"') -> Table:
    """Read a CSV file into a :class:`Table`, inferring for each column whether it is numeric or categorical.

    Fields are parsed by Python's ``csv`` module (quoted fields may hold the delimiter, quotes doubled
    as ``""`` and line breaks) and stripped of surrounding spaces. A column is numeric when every
    non-missing field parses as a number: int64 when all are integers and none is missing, float64
    otherwise (missing values become NaN). Any other column is categorical: an object array of
    strings, with ``None`` for missing values. Blank lines are skipped.

    Args:
        path: a file name, a ``os.PathLike`` or an open text file.
        target: the name of the target column; checked to exist and recorded as ``table.target``.
        columns: the columns to keep (names, or 0-based positions), in this order; default: all.
        delimiter: the field separator (``','``; ``'\\t'`` for TSV, ``';'``...).
        header: True when the first row holds the column names; False when there is none (the
            columns are then named ``'0'``, ``'1'``, ...); or a list of names for a file without header.
        na_values: the fields (after stripping spaces) that mean "missing".
        dtype: a declared kind for every column (``'numeric'``, ``'float32'``, ``'int'``, ``float``,
            ``'categorical'``, ``str``...) or a dict column -> kind. A field of a column declared
            numeric that is no number raises ``ValueError`` naming the file, line and column.
        encoding: the file's text encoding (``'utf-8-sig'`` reads UTF-8 with or without a BOM).
        quotechar: the quote character.

    Returns:
        A :class:`Table`.

    Example:
        >>> table = read_csv("penguins.csv", target="species", na_values=("", "NA"))
        >>> table.kinds["bill_length_mm"], table.kinds["species"]
        ('numeric', 'categorical')
    """
    if isinstance(path, (str, os.PathLike)):
        name = os.fspath(path)
        try:
            f = open(path, newline="", encoding=encoding)
        except FileNotFoundError:
            raise FileNotFoundError(f"read_csv: no such file: {name!r}") from None
        with f:
            return _read(f, name, target, columns, delimiter, header, na_values, dtype, quotechar)
    if isinstance(path, io.IOBase) or hasattr(path, "read"):
        return _read(path, getattr(path, "name", "<stream>"), target, columns, delimiter, header, na_values,
                     dtype, quotechar)
    raise TypeError(f"read_csv: expected a file name, a path or an open text file, got {type(path).__name__}")


def _read(f, name, target, columns, delimiter, header, na_values, dtype, quotechar) -> Table:
    reader = _csv.reader(f, delimiter=delimiter, quotechar=quotechar)
    rows: list[list[str]] = []
    lines: list[int] = []
    names = None
    last = 0
    try:
        for record in reader:
            start, last = last + 1, reader.line_num
            if not record:
                continue
            if names is None:
                if header is True:
                    names = _header_names(record, name, start)
                    continue
                if header is False or header is None:
                    names = [str(i) for i in range(len(record))]
                else:
                    names = [str(h) for h in header]
                    if len(set(names)) != len(names):
                        raise ValueError(f"read_csv: duplicate names in header={names}")
            if len(record) != len(names):
                raise ValueError(
                    f"read_csv: {name} line {start} has {len(record)} field{'s' if len(record) != 1 else ''}, "
                    f"but the header has {len(names)} columns ({', '.join(names[:8])}"
                    f"{', ...' if len(names) > 8 else ''}); check the delimiter ({delimiter!r}) and the quoting of "
                    "fields that contain it")
            rows.append(record)
            lines.append(start)
    except _csv.Error as e:
        raise ValueError(f"read_csv: {name} line {reader.line_num}: {e}") from None
    if names is None:
        if header is True or header is False or header is None:
            raise ValueError(f"read_csv: {name} is empty (no header and no rows)")
        names = [str(h) for h in header]

    keep = _select(columns, names, name)
    specs = _specs(dtype, [names[p] for p in keep], name)
    na = set(na_values or ())
    data = {}
    for p in keep:
        col = names[p]
        fields = [r[p].strip() for r in rows]
        data[col] = _column(fields, na, specs.get(col), col, name, lines)
    table = Table(data)
    if target is not None:
        if target not in data:
            raise KeyError(f"read_csv: target column {target!r} is not among the columns of {name}: "
                           f"{list(data)}")
        table.target = target
    return table


def _header_names(record, fname, line):
    names = []
    for i, h in enumerate(record):
        h = h.strip()
        names.append(h if h else f"Unnamed: {i}")
    seen = {}
    for i, h in enumerate(names):
        if h in seen:
            raise ValueError(f"read_csv: {fname} line {line}: duplicate column name {h!r} (columns {seen[h]} and "
                             f"{i}, counting from 0)")
        seen[h] = i
    return names


def _select(columns, names, fname):
    if columns is None:
        return list(range(len(names)))
    columns = [columns] if isinstance(columns, (str, int)) else list(columns)
    keep = []
    for c in columns:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            if not -len(names) <= c < len(names):
                raise IndexError(f"read_csv: column position {c} is out of range for {fname}, which has "
                                 f"{len(names)} columns")
            keep.append(int(c) % len(names))
        elif c in names:
            keep.append(names.index(c))
        else:
            raise KeyError(f"read_csv: no column named {c!r} in {fname}; the columns are {names}")
    if len(set(keep)) != len(keep):
        raise ValueError(f"read_csv: columns={columns} names a column twice")
    return keep


def _specs(dtype, names, fname):
    if dtype is None:
        return {}
    if isinstance(dtype, dict):
        for c in dtype:
            if c not in names:
                raise KeyError(f"read_csv: dtype names column {c!r}, which is not among the columns read from "
                               f"{fname}: {names}")
        return {c: _parse_spec(s, c) for c, s in dtype.items()}
    return {c: _parse_spec(dtype, c) for c in names}


def _column(fields, na, spec, col, fname, lines):
    missing = np.fromiter((v in na for v in fields), dtype=bool, count=len(fields))
    present = [v for v, m in zip(fields, missing) if not m]
    kind, np_dtype = spec if spec is not None else (None, None)
    if kind != CATEGORICAL:
        values = None
        if not missing.any() and (np_dtype is None or np.dtype(np_dtype).kind in "iu"):
            try:
                values = np.array(present, dtype=np.int64)
            except (ValueError, OverflowError):
                values = None
        if values is None:
            try:
                parsed = np.array(present, dtype=np.float64)
            except (ValueError, OverflowError):
                parsed = None
            if parsed is not None:
                values = np.full(len(fields), np.nan)
                values[~missing] = parsed
        if values is not None:
            if np_dtype is not None:
                if np.dtype(np_dtype).kind in "iu" and values.dtype.kind == "f":
                    _bad_int(fields, missing, col, fname, lines)
                values = values.astype(np_dtype)
            return values
        if kind == NUMERIC:
            _bad_number(fields, missing, col, fname, lines)
    out = np.empty(len(fields), dtype=object)
    out[:] = [None if m else v for v, m in zip(fields, missing)]
    return out


def _bad_number(fields, missing, col, fname, lines):
    for i, (v, m) in enumerate(zip(fields, missing)):
        if m:
            continue
        try:
            float(v)
        except ValueError:
            raise ValueError(f"read_csv: {fname} line {lines[i]}, column {col!r} (declared numeric): cannot parse "
                             f"{v!r} as a number; add it to na_values if it means 'missing', or declare the "
                             "column 'categorical'") from None


def _bad_int(fields, missing, col, fname, lines):
    for i, (v, m) in enumerate(zip(fields, missing)):
        if m:
            raise ValueError(f"read_csv: {fname} line {lines[i]}, column {col!r} (declared int): missing value "
                             f"{v!r}; integers have no NaN, so declare the column 'float' to keep missing values")
        try:
            int(v)
        except ValueError:
            raise ValueError(f"read_csv: {fname} line {lines[i]}, column {col!r} (declared int): cannot parse "
                             f"{v!r} as an integer") from None
