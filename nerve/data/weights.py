"""Class and sample weights for imbalanced classification."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import wrap
from ._utils import as_labels, encode_labels

__all__ = ["class_weights", "sample_weights"]


def _class_counts(y, num_classes, where):
    """``(counts per class, class index of each sample)``: integer labels are class indices, other
    labels are numbered in sorted order (as :class:`LabelEncoder` does)."""
    labels = as_labels(y, where)
    if labels.dtype.kind in "iub" or (labels.dtype.kind == "f" and labels.size and
                                      np.all(labels == np.round(labels))):
        codes = labels.astype(np.int64)
        if codes.size and codes.min() < 0:
            raise ValueError(f"{where}: class indices must be non-negative, got {int(codes.min())}")
        k = int(codes.max()) + 1 if codes.size else 0
        if num_classes is not None:
            if k > num_classes:
                raise ValueError(f"{where}: y has class index {k - 1}, but num_classes={num_classes}")
            k = num_classes
    else:
        if labels.dtype.kind == "f":
            raise ValueError(f"{where}: y holds non-integer numbers; class labels must be integers or strings")
        classes, codes = encode_labels(labels, where)
        k = classes.size
        if num_classes is not None and num_classes != k:
            raise ValueError(f"{where}: y has {k} distinct labels, but num_classes={num_classes}")
    counts = np.bincount(codes, minlength=k)
    if k == 0:
        raise ValueError(f"{where}: y is empty")
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(f"{where}: class {int(empty[0])} has no samples in y (counts per class: "
                         f"{counts.tolist()[:20]}); its weight would be infinite. Pass the labels of the training "
                         "split and the right num_classes")
    return counts, codes


def class_weights(y, mode: str = "balanced", num_classes: int | None = None):
    """Per-class weights that make every class count equally: ``n_samples / (n_classes * count[c])``.

    That is scikit-learn's ``compute_class_weight('balanced', ...)``. The result, a float32 tensor of
    shape ``(n_classes,)``, goes to ``nn.CrossEntropyLoss(weight=...)``. Integer labels are class
    indices (``num_classes`` fixes the length; every class must occur); strings are numbered in
    sorted order. Compute the weights on the training labels.

    Example:
        >>> w = class_weights(y_train)           # y_train = [0, 0, 0, 1] -> [0.6667, 2.0]
        >>> loss_fn = nn.CrossEntropyLoss(weight=w)
    """
    if mode != "balanced":
        raise ValueError(f"class_weights: mode must be 'balanced', got {mode!r}")
    counts, codes = _class_counts(y, num_classes, "class_weights")
    return wrap((codes.size / (counts.size * counts)).astype(np.float32))


def sample_weights(y, mode: str = "balanced", num_classes: int | None = None):
    """Each sample's class weight (:func:`class_weights`), a float32 tensor of shape ``(n_samples,)``.

    Feed it to ``WeightedRandomSampler`` to draw every class equally often.

    Example:
        >>> sampler = WeightedRandomSampler(sample_weights(y_train), num_samples=len(y_train))
    """
    if mode != "balanced":
        raise ValueError(f"sample_weights: mode must be 'balanced', got {mode!r}")
    counts, codes = _class_counts(y, num_classes, "sample_weights")
    w = codes.size / (counts.size * counts)
    return wrap(w[codes].astype(np.float32))
