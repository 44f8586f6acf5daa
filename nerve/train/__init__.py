"""Keras-style training on nerve modules: ``fit``, ``evaluate``, ``predict``, callbacks and metrics.

Example:
    >>> from nerve.train import fit, callbacks
    >>> history = fit(model, (x, y), validation_split=0.1, loss="cross_entropy", optimizer="adam",
    ...               metrics=["accuracy"], epochs=10, callbacks=[callbacks.EarlyStopping(patience=2)])
    >>> history.history["val_accuracy"]

``nerve.train.fit`` is the function; the module that defines it is ``nerve.train.fit`` in
``sys.modules`` too, so ``from nerve.train.fit import Trainer`` works.
"""
from . import callbacks, checkpoint, metrics  # noqa: F401
from .callbacks import (  # noqa: F401
    Callback, CallbackList, CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, LRScheduler,
    ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
)
from .checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint  # noqa: F401
from .fit import Model, Trainer, evaluate, fit, get_loss, get_optimizer, predict  # noqa: F401
from .history import History  # noqa: F401
from .progress import ProgbarLogger  # noqa: F401

__all__ = [
    "fit", "evaluate", "predict", "Model", "Trainer", "History", "get_loss", "get_optimizer", "callbacks", "metrics",
    "Callback", "CallbackList", "CSVLogger", "EarlyStopping", "LambdaCallback", "LearningRateScheduler",
    "LRScheduler", "ModelCheckpoint", "ReduceLROnPlateau", "TerminateOnNaN", "ProgbarLogger", "checkpoint",
    "save_checkpoint", "load_checkpoint", "capture_rng_state", "restore_rng_state",
]
