"""Pieces the text tasks share: a flattening sequence loss, batches padded per batch, tokenizer storage."""
from __future__ import annotations

import numpy as np

from .. import nn
from ..utils.data import Dataset


class SequenceCrossEntropyLoss(nn.Module):
    """Cross-entropy over every position: logits ``(B, T, V)`` against targets ``(B, T)``.

    Positions whose target is ``ignore_index`` (padding) are left out of the mean.
    """

    def __init__(self, ignore_index: int = -100, label_smoothing: float = 0.0):
        super().__init__()
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, logits, target):
        from ..nn import functional as F  # noqa: PLC0415
        if logits.ndim != 3 or tuple(target.shape) != tuple(logits.shape[:2]):
            raise ValueError(f"SequenceCrossEntropyLoss: logits of shape {tuple(logits.shape)} must be (B, T, V) "
                             f"with targets (B, T), got targets of shape {tuple(target.shape)}")
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                               ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)


class PaddedSequences(Dataset):
    """Token-id sequences with one target each; a batch is padded (with 0, ``<pad>``) to its longest row.

    Items ``(ids (L,), target)``. ``targets`` is the LongTensor of all targets (the image task's evaluation
    reads the same attribute).
    """

    def __init__(self, seqs, targets, pad_id: int = 0):
        from .. import tensor  # noqa: PLC0415
        self.seqs = [np.asarray(s, dtype=np.int64) for s in seqs]
        if any(s.size == 0 for s in self.seqs):
            raise ValueError("PaddedSequences: every sequence needs at least one token")
        self._targets = np.asarray(targets)
        self.targets = tensor(self._targets)
        self.pad_id = pad_id

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, i):
        from .. import tensor  # noqa: PLC0415
        return tensor(self.seqs[i]), tensor(self._targets[i])

    def __getbatch__(self, indices):
        from .. import tensor  # noqa: PLC0415
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        rows = [self.seqs[i] for i in idx]
        out = np.full((len(rows), max(r.size for r in rows)), self.pad_id, dtype=np.int64)
        for j, r in enumerate(rows):
            out[j, :r.size] = r
        return [tensor(out), tensor(self._targets[idx])]


def tokenizer_to_info(tok) -> dict:
    return tok.to_dict()


def tokenizer_from_info(d: dict):
    """The tokenizer a run saved in task.json (plain JSON, nothing executed)."""
    from ..text import CharTokenizer, WordTokenizer  # noqa: PLC0415
    kinds = {"CharTokenizer": CharTokenizer, "WordTokenizer": WordTokenizer}
    kind = d.get("type")
    if kind not in kinds:
        raise ValueError(f"task.json: unknown tokenizer type {kind!r} (expected one of {', '.join(kinds)})")
    return kinds[kind]._from_dict(d, "task.json")


def split_fractions(d) -> tuple:
    """(train, validation, test) fractions of a sequence dataset's config."""
    return (1.0 - d.validation_split - d.test_split, d.validation_split, d.test_split)


def limited(ds, limit):
    """The first ``limit`` samples of ``ds`` (all when None)."""
    if not limit or limit >= len(ds):
        return ds
    from ..utils.data import Subset  # noqa: PLC0415
    return Subset(ds, range(limit))
