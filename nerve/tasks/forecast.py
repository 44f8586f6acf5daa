"""Forecasting a daily series: Seattle's weather (``vega_datasets``) or a CSV of your own, with an
LSTM/GRU (``rnn_forecaster``) over the last ``data.input_len`` days (plus, with
``data.calendar_features``, the day of the year as a sin/cos pair).

The series is split in time order (train, validation, test; nothing shuffled), standardised with
the training part's statistics, and cut into windows. Scored by the test RMSE and MAE in the
series' own units, against the naive forecast (the last observed value) on the same windows.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Task


def calendar_features(dates) -> np.ndarray:
    """(T, 2) float32: sin and cos of the day of the year (the yearly cycle, continuous across new year)."""
    d = np.asarray(dates, dtype="datetime64[D]")
    doy = (d - d.astype("datetime64[Y]")).astype(np.float64)
    angle = 2 * np.pi * doy / 365.25
    return np.stack([np.sin(angle), np.cos(angle)], axis=1).astype(np.float32)


class ForecastTask(Task):
    name = "forecast"

    def _series(self):
        from ..data.timeseries import seattle_weather  # noqa: PLC0415
        d = self.cfg.data
        if d.root and Path(d.root).is_file():
            return seattle_weather(columns=d.columns, path=d.root)
        return seattle_weather(columns=d.columns, root=d.root)

    def build_data(self):
        from ..data.timeseries import Standardizer, WindowDataset, chronological_split  # noqa: PLC0415
        d = self.cfg.data
        values, dates = self._series()
        if d.calendar_features:
            values = np.concatenate([values, calendar_features(dates)], axis=1)
        train, val, test = chronological_split(values, d.validation_split, d.test_split, context=d.input_len)
        if "scaler" not in self.info:
            self.info["scaler"] = Standardizer().fit(train).to_dict()
            self.info["columns"] = list(d.columns)
        scaler = Standardizer.from_dict(self.info["scaler"])
        cols = [d.columns.index(t) for t in d.target]
        parts = [WindowDataset(scaler.transform(p), d.input_len, horizon=d.horizon, target_columns=cols)
                 for p in (train, val, test)]
        for name, ds in zip(("training", "validation", "test"), parts):
            if len(ds) == 0:
                raise ValueError(f"{d.dataset}: the {name} part is too short for data.input_len={d.input_len} and "
                                 f"data.horizon={d.horizon}")
        tr = parts[0]
        if d.limit and d.limit < len(tr):
            from ..utils.data import Subset  # noqa: PLC0415
            tr = Subset(tr, range(len(tr) - d.limit, len(tr)))  # the most recent training windows
        return tr, parts[1], parts[2]

    def build_model(self):
        from .. import models  # noqa: PLC0415
        m, d = self.cfg.model, self.cfg.data
        inputs = len(d.columns) + (2 if d.calendar_features else 0)
        return models.RNNForecaster(inputs, hidden_size=m.hidden_size, num_layers=m.num_layers,
                                    horizon=d.horizon, output_size=len(d.target), cell=m.cell, dropout=m.dropout)

    def loss(self):
        from .. import nn  # noqa: PLC0415
        return nn.MSELoss()

    def default_metrics(self):
        return []

    def monitor(self, has_val):
        return ("val_loss" if has_val else "loss"), "min"

    def evaluate(self, model, test, out=None) -> dict:
        from ..data.timeseries import Standardizer, mae, naive_forecast, rmse  # noqa: PLC0415
        from ..train import predict  # noqa: PLC0415
        d = self.cfg.data
        scaler = Standardizer.from_dict(self.info["scaler"])
        cols = [d.columns.index(t) for t in d.target]
        pred = scaler.inverse_transform(predict(model, test, batch_size=self.eval_batch_size).numpy(), columns=cols)
        target = scaler.inverse_transform(np.asarray(test.targets), columns=cols)
        naive = scaler.inverse_transform(naive_forecast(test), columns=cols)
        res = {"test_rmse": rmse(pred, target), "test_mae": mae(pred, target),
               "test_naive_rmse": rmse(naive, target), "test_naive_mae": mae(naive, target),
               "test_samples": len(test)}
        res["test_skill"] = 1.0 - res["test_rmse"] / res["test_naive_rmse"]
        verdict = "beats" if res["test_rmse"] < res["test_naive_rmse"] else "does not beat"
        res["_report"] = {"notes": [
            "## Against the naive forecast", "",
            f"Forecasting {', '.join(d.target)} {d.horizon} day(s) ahead from {d.input_len} days of "
            f"{', '.join(d.columns)}: test RMSE {res['test_rmse']:.3f} {verdict} the last-value forecast's "
            f"{res['test_naive_rmse']:.3f} (skill {res['test_skill']:.3f}; MAE {res['test_mae']:.3f} vs "
            f"{res['test_naive_mae']:.3f})."]}
        res["_files"] = []
        return res


TASK = ForecastTask
