"""The tasks ``nerve train`` runs, one module each: what data a config's dataset gives, which model it
builds, which loss and metrics train it, and how the finished model is scored and reported.

========  ============================  ==============================================================
task      datasets                      scored by
========  ============================  ==============================================================
image     fashion-mnist, mnist          test accuracy, macro precision/recall/F1, confusion matrix
charlm    fortunes-chars                validation/test bits per character; generated samples
topic     fortunes-topic                test accuracy vs a bag-of-words logistic-regression baseline
seq2seq   number-words, dates           exact-match accuracy of greedy decoding
forecast  seattle-weather               test RMSE vs the naive last-value forecast
========  ============================  ==============================================================

A task object is made from a validated config (and, when a run is reloaded, the ``task.json`` it
wrote: vocabularies, scaling), so ``nerve evaluate`` / ``predict`` rebuild exactly the trained model.
"""
from __future__ import annotations

import importlib

from .. import config as _config
from .base import Task  # noqa: F401

_MODULES = {"image": "image", "charlm": "charlm", "topic": "topic", "seq2seq": "seq2seq", "forecast": "forecast"}


def get(cfg, info=None) -> Task:
    """The task object for a validated config; ``info`` is a reloaded run's ``task.json``."""
    mod = importlib.import_module(f".{_MODULES[_config.task_of(cfg)]}", __name__)
    return mod.TASK(cfg, info)
