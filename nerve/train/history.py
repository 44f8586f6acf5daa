"""``History``: the record of a :func:`nerve.train.fit` run (Keras' ``keras.callbacks.History``)."""
from __future__ import annotations

import copy

from .callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Records every epoch's logs; :func:`fit` adds one and returns it.

    Attributes:
        history: ``{name: [value per epoch]}`` for ``loss``, each metric, ``val_loss``, each
            ``val_`` metric and ``lr`` (plus ``reg_loss`` with L1/L2 penalties).
        epoch: the indices (0-based) of the epochs recorded, e.g. ``[0, 1, 2]``.
        params: ``{'epochs', 'steps', 'verbose'}`` of the run.
        model: the trained module.

    Example:
        >>> h = fit(model, (x, y), loss="cross_entropy", optimizer="adam", epochs=3, verbose=0)
        >>> h.history["loss"]
        [0.91..., 0.52..., 0.43...]
    """

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": copy.deepcopy(self.history)}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = list(state["epoch"])
        self.history = {k: list(v) for k, v in state["history"].items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
