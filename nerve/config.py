"""Run configurations for ``nerve train``: a validated schema, built-in configs, overrides.

A config is YAML (or JSON) with four sections: ``data``, ``model``, ``train`` and ``output``.
It is validated with pydantic (an optional extra: ``pip install nerve[train]``); an unknown key
or a bad value raises ``ConfigError`` naming the key, e.g.
``train.optimizer.lr: Input should be greater than 0 (got -1)``.

Built-in configs live in ``nerve/configs/NAME.yaml``; ``nerve train`` with no argument runs
``fashion-mlp``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Optional, Union

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT = "fashion-mlp"


class ConfigError(ValueError):
    """A config problem; the message names the key and what would fit."""


def _pydantic():
    try:
        import pydantic  # noqa: PLC0415 - optional extra
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ConfigError("nerve train needs pydantic and PyYAML: pip install 'nerve[train]'") from e
    return pydantic


def _schema():
    """Build the pydantic models (imported lazily: pydantic is an optional extra)."""
    pd = _pydantic()
    Field = pd.Field

    class Strict(pd.BaseModel):
        model_config = pd.ConfigDict(extra="forbid", validate_assignment=True)

    class Data(Strict):
        dataset: Literal["fashion-mnist", "mnist"] = "fashion-mnist"
        root: Optional[str] = None
        normalize: bool = True
        validation_split: float = Field(0.0, ge=0.0, lt=1.0)
        limit: Optional[int] = Field(None, gt=0, description="use only the first N training samples")
        num_workers: int = Field(0, ge=0)

    class Model(Strict):
        type: Literal["mlp"] = "mlp"
        hidden: list[int] = Field(default_factory=lambda: [512, 512])
        activation: Literal["relu", "gelu", "silu", "tanh", "leaky_relu", "elu"] = "relu"
        dropout: float = Field(0.0, ge=0.0, lt=1.0)
        batch_norm: bool = False

        @pd.field_validator("hidden")
        @classmethod
        def _positive(cls, v):
            if not v or any(h <= 0 for h in v):
                raise ValueError("hidden sizes must be a non-empty list of positive integers")
            return v

    class Optimizer(Strict):
        name: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad"] = "sgd"
        lr: float = Field(0.1, gt=0.0)
        momentum: float = Field(0.0, ge=0.0, lt=1.0)
        nesterov: bool = False
        weight_decay: float = Field(0.0, ge=0.0)
        betas: tuple[float, float] = (0.9, 0.999)

    class Scheduler(Strict):
        name: Literal["none", "onecycle", "cosine", "step", "exponential", "plateau"] = "none"
        max_lr: Optional[float] = Field(None, gt=0.0)
        pct_start: float = Field(0.25, gt=0.0, lt=1.0)
        step_size: int = Field(10, gt=0)
        gamma: float = Field(0.1, gt=0.0)
        patience: int = Field(3, ge=0)
        eta_min: float = Field(0.0, ge=0.0)

    class EarlyStopping(Strict):
        monitor: str = "val_loss"
        patience: int = Field(5, ge=0)
        min_delta: float = Field(0.0, ge=0.0)
        restore_best_weights: bool = True

    class Train(Strict):
        epochs: int = Field(10, gt=0)
        batch_size: int = Field(128, gt=0)
        seed: int = 0
        loss: Literal["cross_entropy"] = "cross_entropy"
        label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
        l1: float = Field(0.0, ge=0.0)
        l2: float = Field(0.0, ge=0.0)
        grad_clip: Optional[float] = Field(None, gt=0.0)
        optimizer: Optimizer = Field(default_factory=Optimizer)
        scheduler: Scheduler = Field(default_factory=Scheduler)
        early_stopping: Optional[EarlyStopping] = None
        checkpoint_every: Optional[int] = Field(500, gt=0, description="steps between resumable checkpoints")
        metrics: list[str] = Field(default_factory=lambda: ["accuracy"])

    class Output(Strict):
        dir: Optional[str] = None
        plots: bool = True

    class RunConfig(Strict):
        name: str = DEFAULT
        description: str = ""
        data: Data = Field(default_factory=Data)
        model: Model = Field(default_factory=Model)
        train: Train = Field(default_factory=Train)
        output: Output = Field(default_factory=Output)

    return RunConfig


_SCHEMA = None


def schema():
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _schema()
    return _SCHEMA


def _format_errors(err, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        got = e.get("input")
        shown = "" if e["type"] in ("extra_forbidden", "missing") else f" (got {got!r})"
        lines.append(f"  {key}: {msg}{shown}")
    return f"invalid config {source}:\n" + "\n".join(lines)


def validate(raw: dict, source: str = "") -> Any:
    """Validate a config mapping; raises ConfigError naming every bad key."""
    pd = _pydantic()
    if not isinstance(raw, dict):
        raise ConfigError(f"config {source}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return schema().model_validate(raw)
    except pd.ValidationError as e:
        raise ConfigError(_format_errors(e, source)) from None


def builtin_names() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def _read(path: Path) -> dict:
    text = path.read_text()
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"config {path}: invalid JSON at line {e.lineno}: {e.msg}") from None
    try:
        import yaml  # noqa: PLC0415 - optional extra
    except ImportError as e:  # pragma: no cover
        raise ConfigError("YAML configs need PyYAML: pip install 'nerve[train]'") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"config {path}: invalid YAML: {e}") from None
    return data if data is not None else {}


def load(name_or_path: Optional[str] = None, overrides: Optional[dict] = None) -> Any:
    """Load a built-in config by name or a YAML/JSON file, apply dotted overrides, validate.

    Args:
        name_or_path: ``None`` (the default ``fashion-mlp``), a built-in name, or a file path.
        overrides: ``{"train.epochs": 3, ...}``; each key must exist in the schema.
    """
    name_or_path = name_or_path or DEFAULT
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist")
        raw, source = _read(path), str(path)
    else:
        builtin = CONFIG_DIR / f"{name_or_path}.yaml"
        if not builtin.exists():
            raise ConfigError(f"unknown config '{name_or_path}': not a file, and not a built-in config "
                              f"(built-ins: {', '.join(builtin_names())})")
        raw, source = _read(builtin), f"'{name_or_path}'"
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value)
    return validate(raw, source)


def _set_dotted(raw: dict, key: str, value) -> None:
    parts = key.split(".")
    node = raw
    for p in parts[:-1]:
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        if not isinstance(nxt, dict):
            raise ConfigError(f"override {key}: '{p}' is not a section")
        node = nxt
    node[parts[-1]] = value


def parse_value(text: str) -> Union[int, float, bool, str, list, None]:
    """Turn a ``--set key=value`` string into a typed value (YAML scalars/lists when available)."""
    try:
        import yaml  # noqa: PLC0415
        return yaml.safe_load(text)
    except Exception:
        return text


def to_dict(cfg) -> dict:
    return cfg.model_dump(mode="json")
