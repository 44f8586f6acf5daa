"""``TabularDataset``: the rows of a :class:`Table` as (features, target) samples."""
from __future__ import annotations

import os

import numpy as np

from ..autograd.tensor import Tensor, wrap
from ..utils.data.dataset import Dataset, _index_array
from .table import CATEGORICAL, Table, is_missing

__all__ = ["TabularDataset"]


def _is_fitted_transformer(obj) -> bool:
    return hasattr(obj, "transform") and hasattr(obj, "fit")


class TabularDataset(Dataset):
    """A map-style dataset over the rows of a table: sample ``i`` is ``(features[i], target[i])``.

    The features are a float32 tensor of shape ``(n_features,)``. The target is, for classification,
    an int64 class index into ``classes`` (a 0-d tensor, what ``CrossEntropyLoss`` expects) and, for
    regression, a float32 0-d tensor (shape ``(k,)`` when ``target`` lists ``k`` columns). Features
    and targets are converted once, at construction; a DataLoader then fetches a whole batch with one
    fancy index (``__getbatch__``), like ``TensorDataset``.

    Args:
        table_or_path: a :class:`Table` or a CSV file name (read with :func:`read_csv`).
        target: the target column name (or a list of names for multi-output regression); default:
            ``table.target``; None there too gives an unlabelled dataset whose samples are just features.
        features: the feature columns; default: every column but the target(s).
        transform: either a *fitted* preprocessing transformer (:class:`ColumnTransformer`,
            :class:`Pipeline`, :class:`StandardScaler`...), applied once to the feature columns to make
            the feature matrix (categorical columns must be encoded this way), or a callable applied to
            each sample's feature tensor (the batched fast path is then off).
        task: ``'classification'`` or ``'regression'``; default: classification for a categorical,
            bool or integer-typed target column (a CSV column of integers without missing values),
            regression for a float column (``'2.5'``, ``'3.0'``). Pass ``task`` when that guess is wrong,
            e.g. ``task='regression'`` for an integer count.
        classes: the class labels, in index order, for classification; default: the sorted distinct
            target values. Pass ``train_ds.classes`` to the validation/test datasets so every split
            uses the same indices.

    Attributes:
        data: the float32 feature matrix ``(n, n_features)`` (NumPy).
        targets: int64 class indices ``(n,)`` or float32 values ``(n,)`` / ``(n, k)`` (NumPy); None
            without target.
        feature_names, classes, class_to_idx, task, target_name.

    Example:
        >>> table = read_csv("iris.csv", target="species")
        >>> train, test = train_test_split(table, test_size=0.2, stratify=table["species"], seed=0)
        >>> pre = StandardScaler().fit(train.drop("species"))
        >>> train_ds = TabularDataset(train, "species", transform=pre)
        >>> test_ds = TabularDataset(test, "species", transform=pre, classes=train_ds.classes)
        >>> x, y = train_ds[0]          # float32 (4,), int64 ()
    """

    def __init__(self, table_or_path, target=None, features=None, transform=None, *, task: str | None = None,
                 classes=None):
        if isinstance(table_or_path, (str, os.PathLike)):
            from .csv import read_csv  # noqa: PLC0415
            table = read_csv(table_or_path, target=target if isinstance(target, str) else None)
        elif isinstance(table_or_path, Table):
            table = table_or_path
        else:
            raise TypeError(f"TabularDataset: expected a Table or a CSV path, got {type(table_or_path).__name__}; "
                            "wrap arrays with Table({...}) or use TensorDataset")
        if target is None:
            target = table.target
        targets = [] if target is None else ([target] if isinstance(target, str) else list(target))
        table._check_names(targets, "TabularDataset (target)")
        if features is None:
            features = [c for c in table.columns if c not in set(targets)]
        else:
            features = [features] if isinstance(features, str) else list(features)
            table._check_names(features, "TabularDataset (features)")
            both = [c for c in features if c in targets]
            if both:
                raise ValueError(f"TabularDataset: column(s) {both} are both a feature and the target")
        if task not in (None, "classification", "regression"):
            raise ValueError(f"TabularDataset: task must be 'classification', 'regression' or None, got {task!r}")

        self.table_columns = features
        self.transform = None
        self.target_name = target
        self.classes = None
        self.class_to_idx = None
        if transform is not None and _is_fitted_transformer(transform):
            feats = transform.transform(table.select(features))
            if isinstance(feats, Table):
                feats.to_numpy()  # raises for categorical columns, which need encoding
                feats = feats.to_numpy(dtype=np.float64)
            feats = feats.numpy(force=True) if isinstance(feats, Tensor) else np.asarray(feats)
            if feats.ndim != 2 or feats.dtype.kind not in "biuf":
                raise TypeError(f"TabularDataset: transform {type(transform).__name__} returned an array of "
                                f"dtype {feats.dtype} and shape {tuple(feats.shape)}; it must give a numeric "
                                "(rows, features) matrix (encode categorical columns with OneHotEncoder)")
            self.data = np.ascontiguousarray(feats, dtype=np.float32)
            names = getattr(transform, "get_feature_names_out", None)
            self.feature_names = list(names()) if names is not None else [str(i) for i in range(feats.shape[1])]
        else:
            if transform is not None and not callable(transform):
                raise TypeError(f"TabularDataset: transform must be a fitted transformer or a callable, got "
                                f"{type(transform).__name__}")
            self.transform = transform
            cat = [c for c in features if table.kinds[c] == CATEGORICAL]
            if cat:
                raise TypeError(f"TabularDataset: feature columns {cat} are categorical (strings); encode them "
                                "with a fitted transformer, e.g. transform=ColumnTransformer([(OneHotEncoder(), "
                                f"{cat}), ...]).fit(train_table), or leave them out with features=[...]")
            self.data = table.to_numpy(features, dtype=np.float32)
            self.feature_names = list(features)
        bad = [c for j, c in enumerate(self.feature_names) if np.isnan(self.data[:, j]).any()]
        if bad:
            raise ValueError(f"TabularDataset: features {bad[:10]} have missing values (NaN); impute them "
                             "(SimpleImputer) or drop those rows (drop_missing_rows) first")

        self.task = None
        self.targets = None
        if targets:
            self._make_targets(table, targets, task, classes)

    def _make_targets(self, table, targets, task, classes):
        if len(targets) > 1:
            if task == "classification":
                raise ValueError("TabularDataset: several target columns are supported for regression only")
            cat = [c for c in targets if table.kinds[c] == CATEGORICAL]
            if cat:
                raise TypeError(f"TabularDataset: target columns {cat} are categorical; multi-column targets "
                                "must be numeric (regression)")
            self.task = "regression"
            self.targets = table.to_numpy(targets, dtype=np.float32)
            if np.isnan(self.targets).any():
                raise ValueError(f"TabularDataset: target columns {targets} have missing values; drop those rows "
                                 f"first: drop_missing_rows(table, columns={targets})")
            return
        name = targets[0]
        col = table[name]
        miss = is_missing(col)
        if miss.any():
            rows = np.flatnonzero(miss)[:5].tolist()
            raise ValueError(f"TabularDataset: target column {name!r} has {int(miss.sum())} missing values "
                             f"(rows {rows}{', ...' if miss.sum() > 5 else ''}); drop them first: "
                             f"drop_missing_rows(table, columns=[{name!r}])")
        kind = table.kinds[name]
        if task is None:
            task = "classification" if kind == CATEGORICAL or col.dtype.kind in "biu" or classes is not None \
                else "regression"
        if task == "regression":
            if kind == CATEGORICAL:
                raise TypeError(f"TabularDataset: target column {name!r} is categorical; task='regression' needs "
                                "numbers")
            self.task = "regression"
            self.targets = col.astype(np.float32)
            return
        self.task = "classification"
        if col.dtype.kind == "f":
            if not np.all(col == np.round(col)):
                raise ValueError(f"TabularDataset: target column {name!r} has non-integer values; a numeric "
                                 "classification target must hold integer labels (or use task='regression')")
            col = col.astype(np.int64)
        values = col.tolist()
        if classes is None:
            try:
                classes = sorted(set(values))
            except TypeError:
                raise TypeError(f"TabularDataset: target column {name!r} mixes types that cannot be sorted; "
                                "pass classes=[...] explicitly") from None
        classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
        index = {c: i for i, c in enumerate(classes)}
        if len(index) != len(classes):
            raise ValueError(f"TabularDataset: classes has duplicate labels: {classes}")
        try:
            self.targets = np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
        except KeyError:
            unknown = sorted({v for v in values if v not in index}, key=str)
            raise ValueError(f"TabularDataset: target column {name!r} has labels {unknown[:10]} that are not in "
                             f"classes {classes[:20]}; build every split with the training set's classes and "
                             "make sure each class occurs there") from None
        self.classes = classes
        self.class_to_idx = index

    @property
    def num_features(self) -> int:
        return self.data.shape[1]

    @property
    def num_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)

    @property
    def tensors(self) -> tuple:
        """``(features, targets)`` as whole-dataset tensors (``(features,)`` without a target), for full-batch
        training."""
        return (wrap(self.data),) if self.targets is None else (wrap(self.data), wrap(self.targets))

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.numpy(force=True)
        x = wrap(np.asarray(self.data[index]))
        if self.transform is not None:
            x = self.transform(x)
        if self.targets is None:
            return x
        return x, wrap(np.asarray(self.targets[index]))

    def __getitems__(self, indices):
        return [self[i] for i in indices]

    def __getbatch__(self, indices):
        if self.transform is not None:
            return NotImplemented
        idx = _index_array(indices, len(self), "TabularDataset")
        x = wrap(self.data[idx])
        if self.targets is None:
            return x
        return [x, wrap(self.targets[idx])]

    def __repr__(self):
        s = f"TabularDataset({len(self)} samples, {self.num_features} features"
        if self.target_name is not None:
            s += f", target={self.target_name!r} ({self.task}"
            s += f", {len(self.classes)} classes)" if self.classes is not None else ")"
        return s + ")"
