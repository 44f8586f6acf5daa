"""Run configurations for ``nerve train``: a validated schema, built-in configs, overrides.

A config is YAML (or JSON) with four sections: ``data``, ``model``, ``train`` and ``output``.
It is validated with pydantic (an optional extra: ``pip install nerve[train]``); an unknown key
or a bad value raises ``ConfigError`` naming the key, e.g.
``train.optimizer.lr: Input should be greater than 0 (got -1)``.

Built-in configs live in ``nerve/configs/NAME.yaml`` (``fashion-mlp``, ``fashion-cnn``,
``fashion-resnet``); ``nerve train`` with no argument runs ``fashion-mlp``.

``data.dataset`` picks the task, and with it the keys the ``data`` section takes:

* ``fashion-mnist`` (the default), ``mnist``: image classification (``root``, ``normalize``,
  ``validation_split``, ``limit``, ``augment``).
* ``fortunes-chars``: a character language model on Debian's fortunes (``seq_len``, ``stride``);
  reports validation/test bits per character and writes generated samples.
* ``fortunes-topic``: classify a fortune's topic (its file); ``tokenizer`` word/char, ``max_len``,
  ``topics``; a bag-of-words logistic-regression baseline trains beside the model.
* ``number-words``, ``dates``: seq2seq translation of spelled-out numbers / date formats to digits /
  ISO dates (``samples``, ``max_value``); reports exact-match accuracy of greedy decoding.
* ``seattle-weather``: forecast daily weather (``columns``, ``target``, ``input_len``, ``horizon``);
  reports RMSE against the naive last-value baseline.

The sequence datasets take ``root`` (your own files), ``validation_split`` / ``test_split``
fractions, ``split_seed`` and ``limit``.

``model.type`` picks the network, and with it the keys the ``model`` section takes (each task's
first type is its default):

* ``mlp`` (the default): ``hidden``, ``activation``, ``dropout``, ``batch_norm``.
* ``cnn``: a VGG-style net, ``channels`` (one 3x3 conv + BatchNorm + activation each),
  ``pool_every`` (a 2x2 max-pool after every N convs), ``kernel_size``, ``batch_norm``,
  ``activation``, then ``hidden`` Linear layers with ``dropout``.
* ``resnet``: ``nerve.vision.models.resnet{depth}`` with ``depth`` 18/34/50, base ``width``,
  ``small_input`` (3x3 stride-1 stem, no max-pool) and ``zero_init_residual``.
* ``zoo``: ``name`` (any constructor of ``nerve.vision.models``: lenet5, vgg_small, resnet18 ...)
  and its keyword ``args``.
* ``vit``: a Vision Transformer (``patch_size``, ``d_model``, ``depth``, ``n_heads``, ``mlp_dim``).
* language models: ``char_rnn`` (LSTM/GRU, ``cell``, ``hidden_size``, ``num_layers``), ``gpt``
  (decoder-only Transformer; its context is ``data.seq_len``).
* topic classifiers: ``rnn_classifier`` (GRU/LSTM), ``transformer_classifier`` (BERT-style
  encoder), ``bag_of_words`` (logistic regression).
* seq2seq: ``seq2seq_rnn`` (encoder-decoder with ``attention``), ``seq2seq_transformer``.
* forecasting: ``rnn_forecaster``.

Input channels, image size and the number of classes come from the dataset. A key of another
model type is reported as such: ``model.channels: unknown key for model type 'mlp' (...);
'channels' belongs to model type cnn``.

``data.augment`` lists random transforms for the training batches (never validation or test),
applied to whole batches to the [0, 1] images before normalisation::

    augment:
      - {name: random_crop, padding: 2}        # size defaults to the image size
      - {name: random_horizontal_flip, p: 0.5}

(a bare name takes the defaults; a mapping ``{random_crop: {padding: 2}}`` works too). Names:
random_crop, random_horizontal_flip, random_vertical_flip, random_rotation, random_affine,
random_erasing, gaussian_noise, color_jitter, with the arguments of the ``nerve.vision.transforms``
class of the same name.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT = "fashion-mlp"


class ConfigError(ValueError):
    """A config problem; the message names the key and what would fit."""


# Input images of each dataset: (channels, height, width), and the number of classes.
IMAGE_SHAPES = {"fashion-mnist": (1, 28, 28), "mnist": (1, 28, 28)}
NUM_CLASSES = {"fashion-mnist": 10, "mnist": 10}

# The task each dataset poses, and the model types that fit each task (the first is the default).
TASKS = {"fashion-mnist": "image", "mnist": "image", "fortunes-chars": "charlm", "fortunes-topic": "topic",
         "number-words": "seq2seq", "dates": "seq2seq", "seattle-weather": "forecast"}
TASK_MODELS = {"image": ("mlp", "cnn", "resnet", "zoo", "vit"), "charlm": ("char_rnn", "gpt"),
               "topic": ("rnn_classifier", "transformer_classifier", "bag_of_words"),
               "seq2seq": ("seq2seq_rnn", "seq2seq_transformer"), "forecast": ("rnn_forecaster",)}


def task_of(cfg) -> str:
    """The task of a validated config: image, charlm, topic, seq2seq or forecast."""
    return TASKS[cfg.data.dataset]


# model.type: zoo -> model.name: constructors of nerve.vision.models.
ZOO = {"lenet5": "LeNet5", "vgg_small": "vgg_small", "alexnet_small": "alexnet_small", "resnet18": "resnet18",
       "resnet34": "resnet34", "resnet50": "resnet50", "mobilenet_small": "mobilenet_small",
       "inception_small": "inception_small"}

# data.augment: name -> transform class of nerve.vision.transforms.
AUGMENT_TRANSFORMS = {"random_crop": "RandomCrop", "random_horizontal_flip": "RandomHorizontalFlip",
                      "random_vertical_flip": "RandomVerticalFlip", "random_rotation": "RandomRotation",
                      "random_affine": "RandomAffine", "random_erasing": "RandomErasing",
                      "gaussian_noise": "GaussianNoise", "color_jitter": "ColorJitter"}
# The pydantic classes of each model type / transform (filled in when the schema is built).
MODEL_CLASSES: dict = {}
DATA_CLASSES: dict = {}
_DATA_SCHEMAS: dict = {}  # the data union's tags -> schema
AUGMENT_CLASSES: dict = {}


def _zoo_constructor(name: str):
    from .vision import models  # noqa: PLC0415
    return getattr(models, ZOO[name])


def _tag(field, default=None):
    """The discriminator of a tagged union: ``field`` of a raw mapping or of a validated model."""
    def get(v):
        return v.get(field, default) if isinstance(v, dict) else getattr(v, field, default)
    return get


_model_tag = _tag("type", "mlp")  # model.type (default 'mlp') picks which model schema validates the section
_DATA_TAGS = {"fashion-mnist": "image", "mnist": "image", "number-words": "seq2seq", "dates": "seq2seq"}


def _data_tag(v):
    """data.dataset (default fashion-mnist) picks the data schema: image datasets share one, as do seq2seq ones."""
    name = _tag("dataset", "fashion-mnist")(v)
    return _DATA_TAGS.get(name, name)
_aug_tag = _tag("name")           # data.augment[i].name picks the transform's schema


def _augment_items(v):
    """data.augment as a list of ``{name: ..., arg: ...}`` mappings.

    Also accepted: a bare name (``random_horizontal_flip``) for the defaults, and a mapping
    ``{random_crop: {padding: 2}, random_horizontal_flip: {}}`` (in its order).
    """
    if v is None:
        return []
    if isinstance(v, dict):
        items = []
        for name, args in v.items():
            if args is None:
                args = {}
            if not isinstance(args, dict):
                raise ValueError(f"{name}: expected a mapping of arguments, got {args!r}")
            items.append({"name": name, **args})
        return items
    if isinstance(v, (list, tuple)):
        return [{"name": e} if isinstance(e, str) else e for e in v]
    return v


def build_transform(spec, image_size=(28, 28)):
    """The ``nerve.vision.transforms`` object for one validated data.augment entry."""
    from .vision import transforms as T  # noqa: PLC0415
    kwargs = spec.transform_kwargs()
    if spec.name == "random_crop" and kwargs.get("size") is None:
        kwargs["size"] = tuple(image_size)
    return getattr(T, AUGMENT_TRANSFORMS[spec.name])(**kwargs)


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

    class Aug(Strict):
        """Base of the augmentation specs; after validation it builds its transform once to check the values."""

        def transform_kwargs(self) -> dict:
            return {k: v for k, v in self.model_dump().items() if k != "name"}

        @pd.model_validator(mode="after")
        def _constructible(self):
            try:
                build_transform(self, image_size=(28, 28))
            except (TypeError, ValueError) as e:
                raise ValueError(f"{self.name}: {e}") from None
            return self

    Pair = tuple[float, float]

    class RandomCrop(Aug):
        name: Literal["random_crop"]
        size: Optional[Union[int, tuple[int, int]]] = Field(None, description="output size; default the image size")
        padding: Optional[Union[int, list[int]]] = None
        pad_if_needed: bool = False
        fill: float = 0.0
        padding_mode: Literal["constant", "edge", "reflect", "symmetric"] = "constant"

    class RandomHorizontalFlip(Aug):
        name: Literal["random_horizontal_flip"]
        p: float = Field(0.5, ge=0.0, le=1.0)

    class RandomVerticalFlip(Aug):
        name: Literal["random_vertical_flip"]
        p: float = Field(0.5, ge=0.0, le=1.0)

    class RandomRotation(Aug):
        name: Literal["random_rotation"]
        degrees: Union[float, Pair]
        interpolation: Literal["nearest", "bilinear"] = "nearest"
        fill: float = 0.0

    class RandomAffine(Aug):
        name: Literal["random_affine"]
        degrees: Union[float, Pair] = 0.0
        translate: Optional[Pair] = None
        scale: Optional[Pair] = None
        shear: Optional[Union[float, Pair, tuple[float, float, float, float]]] = None
        interpolation: Literal["nearest", "bilinear"] = "nearest"
        fill: float = 0.0

    class RandomErasing(Aug):
        name: Literal["random_erasing"]
        p: float = Field(0.5, ge=0.0, le=1.0)
        scale: Pair = (0.02, 0.33)
        ratio: Pair = (0.3, 3.3)
        value: Union[float, Literal["random"]] = 0.0

    class GaussianNoise(Aug):
        name: Literal["gaussian_noise"]
        mean: float = 0.0
        sigma: float = Field(0.1, ge=0.0)
        clip: bool = True

    class ColorJitter(Aug):
        name: Literal["color_jitter"]
        brightness: Union[float, Pair] = 0.0
        contrast: Union[float, Pair] = 0.0

    aug_classes = {c.model_fields["name"].annotation.__args__[0]: c
                   for c in (RandomCrop, RandomHorizontalFlip, RandomVerticalFlip, RandomRotation, RandomAffine,
                             RandomErasing, GaussianNoise, ColorJitter)}
    AugSpec = Annotated[
        Union[tuple(Annotated[c, pd.Tag(n)] for n, c in aug_classes.items())],
        pd.Discriminator(_aug_tag, custom_error_type="nerve_augment_name",
                         custom_error_message="unknown transform name; valid names: " + ", ".join(aug_classes)),
    ]

    class Data(Strict):
        """Images (Fashion-MNIST, MNIST): the image classification task."""
        dataset: Literal["fashion-mnist", "mnist"] = "fashion-mnist"
        root: Optional[str] = None
        normalize: bool = True
        validation_split: float = Field(0.0, ge=0.0, lt=1.0)
        limit: Optional[int] = Field(None, gt=0, description="use only the first N training samples")
        num_workers: int = Field(0, ge=0)
        augment: list[AugSpec] = Field(default_factory=list,
                                       description="random transforms applied to training batches only")

        @pd.field_validator("augment", mode="before")
        @classmethod
        def _augment_list(cls, v):
            return _augment_items(v)

    class SplitData(Strict):
        """Base of the sequence datasets: held-out fractions and a sample limit."""
        root: Optional[str] = Field(None, description="a folder (or file) of your own data instead of the default")
        validation_split: float = Field(0.05, gt=0.0, lt=0.5, description="fraction held out for validation")
        test_split: float = Field(0.05, gt=0.0, lt=0.5, description="fraction held out for the test")
        limit: Optional[int] = Field(None, gt=0, description="use only the first N training samples")
        split_seed: int = Field(0, description="seed of the train/validation/test split")

    class CharsData(SplitData):
        """fortunes-chars: character language modelling on Debian's fortunes (split by fortune)."""
        dataset: Literal["fortunes-chars"]
        seq_len: int = Field(128, gt=1, description="characters per training window")
        stride: Optional[int] = Field(None, gt=0, description="step between training windows (default seq_len)")

    class TopicData(SplitData):
        """fortunes-topic: which fortunes file (topic) a fortune comes from."""
        dataset: Literal["fortunes-topic"]
        topics: Optional[list[str]] = Field(None, description="topic files to use (default: all)")
        tokenizer: Literal["word", "char"] = "word"
        lowercase: bool = True
        min_freq: int = Field(2, gt=0)
        max_vocab: int = Field(30000, gt=4)
        max_len: int = Field(128, gt=0, description="tokens kept per fortune (longer ones are truncated)")
        max_chars: Optional[int] = Field(None, gt=0, description="skip fortunes longer than this")
        baseline_epochs: int = Field(10, ge=0, description="epochs of the bag-of-words logistic-regression "
                                                           "baseline trained beside the model (0: none)")

    class Seq2SeqData(SplitData):
        """number-words (spelled-out numbers -> digits) or dates (date formats -> ISO)."""
        dataset: Literal["number-words", "dates"]
        samples: int = Field(30000, gt=10, description="distinct pairs generated")
        max_value: int = Field(999999, gt=0, description="number-words: largest number")
        validation_split: float = Field(0.1, gt=0.0, lt=0.5)
        test_split: float = Field(0.1, gt=0.0, lt=0.5)

    class SeriesData(SplitData):
        """seattle-weather: forecast daily series (vega_datasets' Seattle weather, or your own CSV as root)."""
        dataset: Literal["seattle-weather"]
        columns: list[str] = Field(default_factory=lambda: ["temp_max", "temp_min", "precipitation", "wind"],
                                   description="input series")
        target: list[str] = Field(default_factory=lambda: ["temp_max"], description="series to forecast")
        input_len: int = Field(30, gt=0, description="days of history per sample")
        horizon: int = Field(1, gt=0, description="days ahead to forecast")
        calendar_features: bool = Field(True, description="add sin/cos of the day of the year as inputs")
        validation_split: float = Field(0.15, gt=0.0, lt=0.5)
        test_split: float = Field(0.15, gt=0.0, lt=0.5)

        @pd.model_validator(mode="after")
        def _target_in_columns(self):
            missing = [t for t in self.target if t not in self.columns]
            if missing:
                raise ValueError(f"target {missing} must be among columns {self.columns}")
            return self

    data_classes = {"fashion-mnist": Data, "mnist": Data, "fortunes-chars": CharsData, "fortunes-topic": TopicData,
                    "number-words": Seq2SeqData, "dates": Seq2SeqData, "seattle-weather": SeriesData}
    DataSpec = Annotated[
        Union[tuple(Annotated[c, pd.Tag(n)] for n, c in
                    {"image": Data, "fortunes-chars": CharsData, "fortunes-topic": TopicData, "seq2seq": Seq2SeqData,
                     "seattle-weather": SeriesData}.items())],
        pd.Discriminator(_data_tag, custom_error_type="nerve_dataset",
                         custom_error_message="unknown dataset; valid datasets: " + ", ".join(data_classes)),
    ]

    activations = Literal["relu", "gelu", "silu", "tanh", "leaky_relu", "elu"]

    def _positive_list(v, what, allow_empty=False):
        if (not v and not allow_empty) or any(h <= 0 for h in v):
            raise ValueError(f"{what} must be a {'' if allow_empty else 'non-empty '}list of positive integers")
        return v

    class MLPModel(Strict):
        type: Literal["mlp"] = "mlp"
        hidden: list[int] = Field(default_factory=lambda: [512, 512])
        activation: activations = "relu"
        dropout: float = Field(0.0, ge=0.0, lt=1.0)
        batch_norm: bool = False

        @pd.field_validator("hidden")
        @classmethod
        def _positive(cls, v):
            return _positive_list(v, "hidden sizes")

    class CNNModel(Strict):
        type: Literal["cnn"]
        channels: list[int] = Field(default_factory=lambda: [32, 32, 64, 64],
                                    description="output channels of each 3x3 conv (+ BatchNorm + activation)")
        pool_every: int = Field(2, ge=0, description="a 2x2 max-pool after every N convs (0: none)")
        kernel_size: int = Field(3, gt=0)
        batch_norm: bool = True
        activation: activations = "relu"
        hidden: list[int] = Field(default_factory=lambda: [256], description="fully connected layers after Flatten")
        dropout: float = Field(0.0, ge=0.0, lt=1.0)

        @pd.field_validator("channels")
        @classmethod
        def _channels(cls, v):
            return _positive_list(v, "channels")

        @pd.field_validator("hidden")
        @classmethod
        def _hidden(cls, v):
            return _positive_list(v, "hidden sizes", allow_empty=True)

        @pd.field_validator("kernel_size")
        @classmethod
        def _odd(cls, v):
            if v % 2 == 0:
                raise ValueError("kernel_size must be odd (padding k // 2 keeps the image size)")
            return v

    class ResNetModel(Strict):
        type: Literal["resnet"]
        depth: Literal[18, 34, 50] = 18
        width: int = Field(64, gt=0, description="base channels (64 in the paper; stages use w, 2w, 4w, 8w)")
        small_input: bool = Field(True, description="3x3/stride-1 stem without max-pool, for 28x28 images")
        zero_init_residual: bool = False

    class ZooModel(Strict):
        type: Literal["zoo"]
        name: Literal[tuple(ZOO)]
        args: dict[str, Any] = Field(default_factory=dict,
                                     description="keyword arguments of the constructor (num_classes and "
                                                 "in_channels come from the dataset)")

        @pd.model_validator(mode="after")
        def _known_args(self):
            import inspect  # noqa: PLC0415
            fn = _zoo_constructor(self.name)
            params = inspect.signature(fn).parameters
            accepted = [p for p in params if p not in ("num_classes", "in_channels", "kwargs", "self")]
            takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
            for k in self.args:
                if k in ("num_classes", "in_channels"):
                    raise ValueError(f"args.{k}: set by the dataset, leave it out")
                if k not in accepted and not takes_kwargs:
                    raise ValueError(f"args.{k}: not an argument of {self.name} (accepted: {', '.join(accepted)})")
            return self

    class ViTModel(Strict):
        type: Literal["vit"]
        patch_size: int = Field(7, gt=0, description="square patches; must divide the image size")
        d_model: int = Field(64, gt=0)
        depth: int = Field(4, gt=0, description="encoder layers")
        n_heads: int = Field(4, gt=0)
        mlp_dim: int = Field(128, gt=0)
        dropout: float = Field(0.1, ge=0.0, lt=1.0)
        pool: Literal["cls", "mean"] = "cls"

    cells = Literal["lstm", "gru", "rnn"]

    class CharRNNModel(Strict):
        type: Literal["char_rnn"]
        cell: cells = "lstm"
        embed_dim: int = Field(128, gt=0)
        hidden_size: int = Field(256, gt=0)
        num_layers: int = Field(2, gt=0)
        dropout: float = Field(0.0, ge=0.0, lt=1.0)
        tie_weights: bool = False

    class GPTModel(Strict):
        type: Literal["gpt"]
        d_model: int = Field(128, gt=0)
        n_layers: int = Field(4, gt=0)
        n_heads: int = Field(4, gt=0)
        d_ff: Optional[int] = Field(None, gt=0, description="feed-forward width (default 4 * d_model)")
        dropout: float = Field(0.1, ge=0.0, lt=1.0)
        tie_weights: bool = True

    class RNNClassifierModel(Strict):
        type: Literal["rnn_classifier"]
        cell: Literal["gru", "lstm", "rnn"] = "gru"
        embed_dim: int = Field(128, gt=0)
        hidden_size: int = Field(128, gt=0)
        num_layers: int = Field(1, gt=0)
        bidirectional: bool = True
        dropout: float = Field(0.0, ge=0.0, lt=1.0)

    class TransformerClassifierModel(Strict):
        type: Literal["transformer_classifier"]
        d_model: int = Field(128, gt=0)
        n_layers: int = Field(2, gt=0)
        n_heads: int = Field(4, gt=0)
        d_ff: Optional[int] = Field(None, gt=0)
        dropout: float = Field(0.1, ge=0.0, lt=1.0)
        pooling: Literal["cls", "mean"] = "cls"

    class BagOfWordsModel(Strict):
        type: Literal["bag_of_words"]
        binary: bool = False

    class Seq2SeqRNNModel(Strict):
        type: Literal["seq2seq_rnn"]
        cell: Literal["lstm", "gru"] = "lstm"
        embed_dim: int = Field(64, gt=0)
        hidden_size: int = Field(128, gt=0)
        num_layers: int = Field(1, gt=0)
        attention: Literal["bahdanau", "luong", "none"] = "bahdanau"
        bidirectional_encoder: bool = True
        dropout: float = Field(0.0, ge=0.0, lt=1.0)

    class Seq2SeqTransformerModel(Strict):
        type: Literal["seq2seq_transformer"]
        d_model: int = Field(128, gt=0)
        nhead: int = Field(4, gt=0)
        num_encoder_layers: int = Field(2, gt=0)
        num_decoder_layers: int = Field(2, gt=0)
        dim_feedforward: int = Field(256, gt=0)
        dropout: float = Field(0.1, ge=0.0, lt=1.0)

    class RNNForecasterModel(Strict):
        type: Literal["rnn_forecaster"]
        cell: Literal["lstm", "gru"] = "lstm"
        hidden_size: int = Field(64, gt=0)
        num_layers: int = Field(2, gt=0)
        dropout: float = Field(0.0, ge=0.0, lt=1.0)

    model_classes = {"mlp": MLPModel, "cnn": CNNModel, "resnet": ResNetModel, "zoo": ZooModel, "vit": ViTModel,
                     "char_rnn": CharRNNModel, "gpt": GPTModel, "rnn_classifier": RNNClassifierModel,
                     "transformer_classifier": TransformerClassifierModel, "bag_of_words": BagOfWordsModel,
                     "seq2seq_rnn": Seq2SeqRNNModel, "seq2seq_transformer": Seq2SeqTransformerModel,
                     "rnn_forecaster": RNNForecasterModel}
    ModelSpec = Annotated[
        Union[tuple(Annotated[c, pd.Tag(n)] for n, c in model_classes.items())],
        pd.Discriminator(_model_tag, custom_error_type="nerve_model_type",
                         custom_error_message="unknown model type; valid types: " + ", ".join(model_classes)),
    ]

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
        warmup_epochs: float = Field(0.0, ge=0.0, description="cosine: linear warm-up from 1% of the lr first")

    class EarlyStopping(Strict):
        monitor: str = "val_loss"
        patience: int = Field(5, ge=0)
        min_delta: float = Field(0.0, ge=0.0)
        restore_best_weights: bool = True

    class Train(Strict):
        epochs: int = Field(10, gt=0)
        batch_size: int = Field(128, gt=0)
        seed: int = 0
        loss: Literal["cross_entropy", "mse"] = Field("cross_entropy", description="the loss of the "
                                                       "classification and sequence tasks; mse for forecasting")
        label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
        l1: float = Field(0.0, ge=0.0)
        l2: float = Field(0.0, ge=0.0)
        grad_clip: Optional[float] = Field(None, gt=0.0)
        optimizer: Optimizer = Field(default_factory=Optimizer)
        scheduler: Scheduler = Field(default_factory=Scheduler)
        early_stopping: Optional[EarlyStopping] = None
        checkpoint_every: Optional[int] = Field(500, gt=0, description="steps between resumable checkpoints")
        metrics: Optional[list[str]] = Field(None, description="fit's metrics (default: the task's)")

    class Output(Strict):
        dir: Optional[str] = None
        plots: bool = True
        samples: int = Field(5, ge=0, description="language models: generated samples written to samples.txt")
        sample_length: int = Field(300, gt=0, description="characters per generated sample")
        prompt: str = Field("", description="text each generated sample starts from")
        temperature: float = Field(0.8, ge=0.0, description="sampling temperature (0: greedy)")
        top_k: Optional[int] = Field(None, gt=0)
        top_p: Optional[float] = Field(None, gt=0.0, le=1.0)

    class RunConfig(Strict):
        name: str = DEFAULT
        description: str = ""
        data: DataSpec = Field(default_factory=Data)
        model: ModelSpec = Field(default_factory=MLPModel)
        train: Train = Field(default_factory=Train)
        output: Output = Field(default_factory=Output)

    MODEL_CLASSES.update(model_classes)
    DATA_CLASSES.update(data_classes)
    _DATA_SCHEMAS.update({"image": Data, "fortunes-chars": CharsData, "fortunes-topic": TopicData,
                          "seq2seq": Seq2SeqData, "seattle-weather": SeriesData})
    AUGMENT_CLASSES.update(aug_classes)
    return RunConfig


_SCHEMA = None


def schema():
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _schema()
    return _SCHEMA


def _extra_hint(kind, tag, key) -> str:
    """Why a key is unknown: the keys this model type / transform takes, and which model type has it."""
    if kind == "model":
        valid = list(MODEL_CLASSES[tag].model_fields)
        owners = [t for t, c in MODEL_CLASSES.items() if t != tag and key in c.model_fields]
        hint = f" for model type '{tag}' (its keys: {', '.join(valid)})"
        if owners:
            hint += f"; '{key}' belongs to model type {' / '.join(owners)}"
        return hint
    if kind == "data":
        valid = [k for k in _DATA_SCHEMAS[tag].model_fields if k != "dataset"]
        owners = sorted({n for n, c in DATA_CLASSES.items() if c is not _DATA_SCHEMAS[tag] and key in c.model_fields})
        hint = f" for dataset '{tag}' (its keys: {', '.join(valid)})"
        if owners:
            hint += f"; '{key}' belongs to dataset {' / '.join(owners)}"
        return hint
    if kind == "augment":
        valid = [k for k in AUGMENT_CLASSES[tag].model_fields if k != "name"]
        return f" (its arguments: {', '.join(valid) or 'none'})"
    return ""


def _format_errors(err, source: str) -> str:
    lines = []
    for e in err.errors():
        loc = list(e["loc"])
        typ, msg, got = e["type"], e["msg"], e.get("input")
        # A tagged union (model.type, data.augment[i].name) puts the tag in the location: drop it.
        kind = tag = None
        if len(loc) >= 2 and loc[0] == "model" and loc[1] in MODEL_CLASSES:
            kind, tag = "model", loc.pop(1)
        elif len(loc) >= 2 and loc[0] == "data" and loc[1] in _DATA_SCHEMAS:
            kind, tag = "data", loc.pop(1)
            if kind == "data" and len(loc) >= 4 and loc[1] == "augment" and isinstance(loc[2], int) \
                    and loc[3] in AUGMENT_CLASSES:
                kind, tag = "augment", loc.pop(3)
        elif (len(loc) >= 4 and loc[:2] == ["data", "augment"] and isinstance(loc[2], int)
              and loc[3] in AUGMENT_CLASSES):
            kind, tag = "augment", loc.pop(3)
        shown = typ not in ("extra_forbidden", "missing")
        if typ == "extra_forbidden":
            msg = (f"unknown argument of {tag}" if kind == "augment" else "unknown key") + _extra_hint(kind, tag, loc[-1])
        elif typ == "nerve_model_type":
            loc.append("type")
            got = _model_tag(got)
        elif typ == "nerve_dataset":
            loc.append("dataset")
            got = _tag("dataset")(got)
        elif typ == "nerve_augment_name":
            got = _aug_tag(got)
            loc.append("name")
            if got is None:
                msg, shown = f"each transform needs a name ({', '.join(AUGMENT_TRANSFORMS)})", False
        elif typ == "value_error":
            msg = msg.removeprefix("Value error, ")
            if kind == "augment":  # the transform refused a value: its message says which
                shown = False
            if kind == "model" and msg.startswith("args."):  # a zoo constructor argument
                sub, msg = msg.split(": ", 1)
                loc += sub.split(".")
                got = None
                shown = False
        key = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"  {key}: {msg}" + (f" (got {got!r})" if shown else ""))
    return f"invalid config {source}:\n" + "\n".join(lines)


def _check_shapes(cfg, source: str) -> None:
    """Checks across sections: the model type fits the dataset's task, augmentation keeps the image size,
    the CNN's max-pools and the ViT's patches fit it, attention heads divide the width."""
    def bad(key, msg):
        raise ConfigError(f"invalid config {source}:\n  {key}: {msg}")

    task, m = task_of(cfg), cfg.model
    if m.type not in TASK_MODELS[task]:
        bad("model.type", f"'{m.type}' does not fit dataset {cfg.data.dataset} (a {task} task); model types for it: "
                          + ", ".join(TASK_MODELS[task]))
    want_loss = "mse" if task == "forecast" else "cross_entropy"
    if cfg.train.loss != want_loss:
        bad("train.loss", f"'{cfg.train.loss}' does not fit dataset {cfg.data.dataset}; use {want_loss}")
    heads = {"gpt": "n_heads", "transformer_classifier": "n_heads", "vit": "n_heads", "seq2seq_transformer": "nhead"}
    if m.type in heads and m.d_model % getattr(m, heads[m.type]):
        bad(f"model.{heads[m.type]}", f"{getattr(m, heads[m.type])} heads must divide d_model={m.d_model}")
    if task != "image":
        return
    _, h, w = IMAGE_SHAPES[cfg.data.dataset]
    for i, a in enumerate(cfg.data.augment):
        size = a.size if a.name == "random_crop" else None
        if size is not None and tuple(size if isinstance(size, (tuple, list)) else (size, size)) != (h, w):
            bad(f"data.augment.{i}.size", f"the training images must keep the {h}x{w} size of the test images "
                                          f"(got {size!r}); leave size out, and let padding set the shift range")
    if m.type == "cnn" and m.pool_every:
        pools = len(m.channels) // m.pool_every
        if min(h, w) >> pools < 1:
            bad("model.channels", f"{len(m.channels)} convs with a max-pool every {m.pool_every} halve the {h}x{w} "
                                  f"images of {cfg.data.dataset} {pools} times, below 1x1; use fewer convs or a larger "
                                  "model.pool_every")
    if m.type == "vit" and (h % m.patch_size or w % m.patch_size):
        bad("model.patch_size", f"{m.patch_size} must divide the {h}x{w} images of {cfg.data.dataset}")


def _default_model_type(raw: dict) -> dict:
    """A model section without ``type`` gets the first model type of the dataset's task (mlp for images)."""
    data, model = raw.get("data"), raw.get("model")
    dataset = data.get("dataset") if isinstance(data, dict) else None
    task = TASKS.get(dataset) if isinstance(dataset, str) else None
    if task is None or task == "image" or (isinstance(model, dict) and "type" in model):
        return raw
    if model is not None and not isinstance(model, dict):
        return raw
    return {**raw, "model": {**(model or {}), "type": TASK_MODELS[task][0]}}


def validate(raw: dict, source: str = "") -> Any:
    """Validate a config mapping; raises ConfigError naming every bad key."""
    pd = _pydantic()
    if not isinstance(raw, dict):
        raise ConfigError(f"config {source}: expected a mapping at the top level, got {type(raw).__name__}")
    raw = _default_model_type(raw)
    try:
        cfg = schema().model_validate(raw)
    except pd.ValidationError as e:
        raise ConfigError(_format_errors(e, source)) from None
    _check_shapes(cfg, source)
    return cfg


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
        overrides: ``{"train.epochs": 3, ...}``; each key must exist in the schema. Overriding
            ``model.type`` with another type drops the file's other model keys (they belong to its type).
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
    overrides = dict(overrides or {})
    model = raw.get("model")
    if "model.type" in overrides and isinstance(model, dict) and model.get("type", "mlp") != overrides["model.type"]:
        # Another model type: the file's model keys belong to its own type; start from the new type's defaults.
        raw["model"] = {}
    for key, value in overrides.items():
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
