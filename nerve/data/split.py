"""Train/validation/test splits and k-fold cross-validation, optionally stratified by class.

Every function takes arrays, Tensors, :class:`Table` s, lists or datasets (a dataset's rows come
back as a ``Subset``), and is reproducible with ``seed`` (an int; None draws from nerve's default
generator, so ``nerve.manual_seed`` fixes it too).

Stratified splits give every class ``round(n_class * fraction)`` members in each part, within one
sample of the exact proportion, while the parts keep their requested sizes.
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections import deque

import numpy as np

from ._utils import as_labels, encode_labels, num_samples, numpy_rng, take

__all__ = ["train_test_split", "train_val_test_split", "KFold", "StratifiedKFold", "cross_validate"]


def _check_lengths(arrays, where):
    if not arrays:
        raise ValueError(f"{where}: at least one array required as input")
    lengths = [num_samples(a, where) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"{where}: found input variables with inconsistent numbers of samples: {lengths}")
    return lengths[0]


def _count(size, n, name, where, rounding):
    """A split size (a fraction in (0, 1) or a count) as a number of samples."""
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"{where}: {name} must be a float in (0, 1) or an int, got {size!r}")
    if isinstance(size, numbers.Integral):
        if not 0 <= size <= n:
            raise ValueError(f"{where}: {name}={size} should be either positive and smaller than the number of "
                             f"samples {n} or a float in the (0, 1) range")
        return int(size)
    if not 0 < size < 1:
        raise ValueError(f"{where}: {name}={size} should be either positive and smaller than the number of "
                         f"samples {n} or a float in the (0, 1) range")
    return rounding(size * n)


def _allocate(class_counts: np.ndarray, sizes: list[int], rng) -> np.ndarray:
    """Integer matrix ``A[class, part]`` with row sums ``class_counts`` and column sums ``sizes`` whose
    entries are the floor or ceil of the proportional share ``class_counts * sizes / n``.

    Start from the floors and hand out the missing units with a max flow (each class gives at most one
    extra unit to each part, and only where its share has a fractional part); such a rounding always
    exists (Bacharach 1966). Ties are broken at random by ``rng``.
    """
    n = int(class_counts.sum())
    exact = class_counts[:, None] * np.asarray(sizes, dtype=np.float64)[None, :] / max(n, 1)
    floor = np.floor(exact + 1e-9).astype(np.int64)
    frac = exact - floor
    row_need = class_counts - floor.sum(axis=1)
    col_need = np.asarray(sizes) - floor.sum(axis=0)
    k, p = floor.shape
    # nodes: 0 source, 1..k classes, k+1..k+p parts, k+p+1 sink
    src, sink = 0, k + p + 1
    cap: dict[tuple[int, int], int] = {}
    adj: list[list[int]] = [[] for _ in range(k + p + 2)]

    def edge(u, v, c):
        if (u, v) not in cap:
            adj[u].append(v)
            adj[v].append(u)
            cap[(v, u)] = cap.get((v, u), 0)
        cap[(u, v)] = cap.get((u, v), 0) + c

    for c in rng.permutation(k):
        if row_need[c] > 0:
            edge(src, 1 + c, int(row_need[c]))
        for j in rng.permutation(p):
            if frac[c, j] > 1e-9:
                edge(1 + c, k + 1 + j, 1)
    for j in range(p):
        if col_need[j] > 0:
            edge(k + 1 + j, sink, int(col_need[j]))
    need = int(col_need.clip(min=0).sum())
    flow = 0
    while flow < need:
        parent = {src: None}
        queue = deque([src])
        while queue and sink not in parent:
            u = queue.popleft()
            for v in adj[u]:
                if v not in parent and cap[(u, v)] > 0:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            break
        v = sink
        while parent[v] is not None:
            u = parent[v]
            cap[(u, v)] -= 1
            cap[(v, u)] += 1
            v = u
        flow += 1
    alloc = floor.copy()
    for c in range(k):
        for j in range(p):
            alloc[c, j] += cap.get((k + 1 + j, 1 + c), 0)  # the residual of the reverse edge is the flow
    if flow < need or (alloc.sum(axis=1) != class_counts).any():  # cannot happen; keep the split valid anyway
        raise RuntimeError("stratified split: could not allocate the classes to the parts")
    return alloc


def _stratified_parts(y, sizes, rng, where, part_names):
    labels = as_labels(y, where, "stratify")
    classes, codes = encode_labels(labels, where)
    counts = np.bincount(codes, minlength=classes.size)
    need = sum(1 for s, pn in zip(sizes, part_names) if s > 0 and pn != "unused")
    if counts.min() < max(need, 2):
        c = int(np.argmin(counts))
        m = int(counts[c])
        label = classes[c].item() if isinstance(classes[c], np.generic) else classes[c]
        raise ValueError(f"{where}: the least populated class in y ({label!r}) has only {m} "
                         f"member{'s' if m != 1 else ''}, which is too few. The minimum number of groups for any "
                         f"class cannot be less than {max(need, 2)} (one for each of "
                         f"{', '.join(p for p in part_names if p != 'unused')})")
    for s, pn in zip(sizes, part_names):
        if 0 < s < classes.size and pn != "unused":
            raise ValueError(f"{where}: the {pn} size = {s} should be greater or equal to the number of classes = "
                             f"{classes.size}")
    alloc = _allocate(counts, sizes, rng)
    parts = [[] for _ in sizes]
    for c in range(classes.size):
        members = rng.permutation(np.flatnonzero(codes == c))
        start = 0
        for j, cnt in enumerate(alloc[c]):
            parts[j].append(members[start:start + cnt])
            start += cnt
    return [rng.permutation(np.concatenate(p)) for p in parts]


def _split(arrays, sizes, part_names, stratify, shuffle, seed, where):
    n = _check_lengths(arrays, where)
    rng = numpy_rng(seed, where)
    if stratify is not None:
        if not shuffle:
            raise ValueError(f"{where}: stratified splitting requires shuffle=True")
        if num_samples(stratify, where) != n:
            raise ValueError(f"{where}: stratify has {num_samples(stratify, where)} labels for {n} samples")
        parts = _stratified_parts(stratify, sizes, rng, where, part_names)
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        bounds = np.cumsum([0, *sizes])
        parts = [order[bounds[i]:bounds[i + 1]] for i in range(len(sizes))]
    return [take(a, p.astype(np.intp)) for a in arrays for p in parts]


def train_test_split(*arrays, test_size=0.2, train_size=None, stratify=None, shuffle: bool = True, seed=None):
    """Split arrays (same number of rows) into random train and test parts.

    Args:
        *arrays: NumPy arrays, Tensors, Tables, lists or datasets (-> ``Subset``), all split the same way.
        test_size: a fraction in (0, 1) (rounded up, as scikit-learn) or a number of samples.
        train_size: likewise; default: the rest.
        stratify: class labels (e.g. ``y``): each class then keeps its proportion in both parts (to within
            one sample). Every class needs at least 2 members.
        shuffle: shuffle before splitting; False takes the first rows for training, the next for testing.
        seed: an int for a reproducible split (None: nerve's default generator).

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]``.

    Example:
        >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
        >>> train_table, test_table = train_test_split(table, stratify=table["label"], seed=0)
    """
    where = "train_test_split"
    n = _check_lengths(arrays, where)
    n_test = _count(test_size, n, "test_size", where, math.ceil)
    n_train = _count(train_size, n, "train_size", where, math.floor)
    if n_test is None and n_train is None:
        n_test = math.ceil(0.2 * n)
    if n_train is None:
        n_train = n - n_test
    elif n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(f"{where}: the sum of train_size and test_size = {n_train + n_test}, should be smaller "
                         f"than the number of samples {n}. Reduce test_size and/or train_size.")
    if n_train == 0 or n_test == 0:
        raise ValueError(f"{where}: with n_samples={n}, test_size={test_size} and train_size={train_size}, the "
                         f"resulting {'train' if n_train == 0 else 'test'} set will be empty. Adjust any of the "
                         "aforementioned parameters.")
    sizes, names = [n_train, n_test], ["train", "test"]
    if n_train + n_test < n:  # the rows left out form a third part, discarded
        sizes.append(n - n_train - n_test)
        names.append("unused")
    out = _split(arrays, sizes, names, stratify, shuffle, seed, where)
    if len(sizes) == 3:
        out = [o for i, o in enumerate(out) if i % 3 != 2]
    return out


def train_val_test_split(*arrays, val_size=0.1, test_size=0.2, stratify=None, shuffle: bool = True, seed=None):
    """Split arrays into train, validation and test parts (sizes as fractions or counts; the rest is train).

    With ``stratify``, each class keeps its proportion in all three parts, to within one sample.

    Returns:
        ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``.

    Example:
        >>> tr, va, te = train_val_test_split(table, val_size=0.15, test_size=0.15, stratify=table["y"], seed=0)
    """
    where = "train_val_test_split"
    n = _check_lengths(arrays, where)
    n_val = _count(val_size, n, "val_size", where, math.ceil)
    n_test = _count(test_size, n, "test_size", where, math.ceil)
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise ValueError(f"{where}: with n_samples={n}, val_size={val_size} and test_size={test_size}, the "
                         "resulting train set will be empty. Adjust any of the aforementioned parameters.")
    return _split(arrays, [n_train, n_val, n_test], ["train", "val", "test"], stratify, shuffle, seed, where)


class KFold:
    """K-fold cross-validation: the samples are cut into ``n_splits`` consecutive folds (after an
    optional shuffle); each fold is the test set once. The first ``n % n_splits`` folds hold one
    sample more. Without shuffle the folds are those of scikit-learn's ``KFold``.

    Example:
        >>> for train_idx, test_idx in KFold(5, shuffle=True, seed=0).split(X):
        ...     ...
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed=None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise TypeError(f"{type(self).__name__}: the number of folds must be of Integral type. {n_splits!r} "
                             f"of type {type(n_splits).__name__} was passed.")
        if n_splits < 2:
            raise ValueError(f"{type(self).__name__}: k-fold cross-validation requires at least one train/test "
                             f"split by setting n_splits=2 or more, got n_splits={n_splits}.")
        if not shuffle and seed is not None:
            raise ValueError(f"{type(self).__name__}: setting a seed has no effect since shuffle is False. Leave "
                             "seed at its default (None), or set shuffle=True.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.seed = seed

    def __repr__(self):
        return f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, seed={self.seed!r})"

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _rng(self):
        return numpy_rng(self.seed, type(self).__name__)

    def _check_n(self, n):
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: cannot have number of splits n_splits={self.n_splits} greater "
                             f"than the number of samples: n_samples={n}.")

    def split(self, X, y=None, groups=None):
        """Yield ``(train_indices, test_indices)`` (int64 arrays) for each fold."""
        n = num_samples(X, "KFold.split")
        self._check_n(n)
        indices = self._rng().permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            test = indices[start:start + size]
            mask = np.ones(n, dtype=bool)
            mask[test] = False
            yield np.flatnonzero(mask).astype(np.int64), test.astype(np.int64)
            start += size


class StratifiedKFold(KFold):
    """K-fold cross-validation where every fold keeps each class's proportion (to within one sample).

    Uses scikit-learn's allocation (without shuffle the folds are identical to its ``StratifiedKFold``):
    the classes, in order of first appearance, are dealt round-robin over the folds. Raises when no
    class has ``n_splits`` members; warns when the least populated class has fewer.

    Example:
        >>> for train_idx, test_idx in StratifiedKFold(5, shuffle=True, seed=0).split(X, y):
        ...     ...
    """

    def split(self, X, y=None, groups=None):
        """Yield ``(train_indices, test_indices)`` (int64 arrays, sorted) for each fold."""
        where = "StratifiedKFold.split"
        if y is None:
            raise ValueError(f"{where}: y (the class labels) is required for stratified folds")
        n = num_samples(X, where)
        labels = as_labels(y, where)
        if labels.shape[0] != n:
            raise ValueError(f"{where}: found input variables with inconsistent numbers of samples: "
                             f"[{n}, {labels.shape[0]}]")
        self._check_n(n)
        _, codes = encode_labels(labels, where)
        # classes numbered in order of first appearance, as scikit-learn
        _, first = np.unique(codes, return_index=True)
        rank = np.empty(first.size, dtype=np.intp)
        rank[np.argsort(first, kind="stable")] = np.arange(first.size)
        y_enc = rank[codes]
        n_classes = first.size
        counts = np.bincount(y_enc, minlength=n_classes)
        if np.all(self.n_splits > counts):
            raise ValueError(f"{where}: n_splits={self.n_splits} cannot be greater than the number of members in "
                             "each class.")
        if self.n_splits > counts.min():
            warnings.warn(f"{where}: the least populated class in y has only {counts.min()} members, which is less "
                          f"than n_splits={self.n_splits}.", UserWarning, stacklevel=2)
        y_order = np.sort(y_enc)
        allocation = np.asarray([np.bincount(y_order[i::self.n_splits], minlength=n_classes)
                                 for i in range(self.n_splits)])
        rng = self._rng() if self.shuffle else None
        test_folds = np.empty(n, dtype=np.intp)
        for k in range(n_classes):
            folds_for_class = np.arange(self.n_splits).repeat(allocation[:, k])
            if rng is not None:
                folds_for_class = rng.permutation(folds_for_class)
            test_folds[y_enc == k] = folds_for_class
        for i in range(self.n_splits):
            yield np.flatnonzero(test_folds != i).astype(np.int64), np.flatnonzero(test_folds == i).astype(np.int64)


def cross_validate(make_model_fn, train_fn, X, y=None, folds=5, *, seed=None):
    """Train and evaluate a fresh model on each cross-validation fold.

    For each fold: ``model = make_model_fn()``, then ``train_fn(model, X_train, y_train, X_test, y_test)``
    (which trains, evaluates and returns a score, a dict of scores, or anything else). Fit any
    preprocessing inside ``train_fn`` on ``X_train`` only.

    Args:
        folds: a number of folds (``KFold(folds, shuffle=True, seed=seed)``), a splitter with
            ``split(X, y)`` (e.g. ``StratifiedKFold``), or an iterable of ``(train_idx, test_idx)``.

    Returns:
        the list of ``train_fn``'s results, one per fold.

    Example:
        >>> scores = cross_validate(lambda: nn.Linear(4, 3), fit_and_score, X, y, StratifiedKFold(5, True, seed=0))
        >>> sum(scores) / len(scores)
    """
    if isinstance(folds, numbers.Integral) and not isinstance(folds, bool):
        folds = KFold(int(folds), shuffle=True, seed=seed)
    splits = folds.split(X, y) if hasattr(folds, "split") else folds
    results = []
    for train_idx, test_idx in splits:
        train_idx, test_idx = np.asarray(train_idx, dtype=np.intp), np.asarray(test_idx, dtype=np.intp)
        y_tr = None if y is None else take(y, train_idx)
        y_te = None if y is None else take(y, test_idx)
        results.append(train_fn(make_model_fn(), take(X, train_idx), y_tr, take(X, test_idx), y_te))
    return results
