"""What every task of ``nerve train`` provides (see nerve/tasks/__init__.py)."""
from __future__ import annotations

from pathlib import Path


class Task:
    """One kind of problem ``nerve train`` solves.

    Subclasses set ``name`` and implement ``build_data``, ``build_model`` and ``evaluate``; the
    defaults here fit classification. ``info`` is whatever the task learns from the training data
    that the model depends on (a vocabulary, feature scaling); it is saved as the run's
    ``task.json`` and given back when the run is reloaded.
    """

    name = "task"
    eval_batch_size = 256

    def __init__(self, cfg, info=None):
        self.cfg = cfg
        self.info = dict(info or {})

    # -- data and model
    def build_data(self):
        """(train, val or None, test): datasets ``nerve.train.fit`` accepts. Fills ``self.info``."""
        raise NotImplementedError

    def build_model(self):
        raise NotImplementedError

    def loss(self):
        from .. import nn  # noqa: PLC0415
        return nn.CrossEntropyLoss(label_smoothing=self.cfg.train.label_smoothing)

    def metrics(self) -> list:
        m = self.cfg.train.metrics
        return list(m) if m is not None else self.default_metrics()

    def default_metrics(self) -> list:
        return ["accuracy"]

    def monitor(self, has_val: bool):
        """(metric, mode) the best checkpoint is chosen by."""
        return ("val_accuracy" if has_val else "accuracy"), "max"

    # -- after training
    def evaluate(self, model, test, out: Path | None = None) -> dict:
        """Test metrics (keys ``test_*``) and, under ``_report``, extra report sections; writes extra files
        (generated samples, plots) into ``out`` when given and lists them under ``_files``."""
        raise NotImplementedError

    def predict(self, model, inputs: list[str], text: bool = False) -> list[dict]:
        """Predictions for user inputs (file paths, or texts when ``text``) as rows of a table."""
        raise NotImplementedError(f"nerve predict is not available for the {self.name} task")

    def format_row(self, row: dict) -> str:
        return "  ".join(f"{k}: {v}" for k, v in row.items())
