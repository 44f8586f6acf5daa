"""Model zoo: networks built only from ``nerve.nn``."""
from .cnn import CNN
from .mlp import MLP
from .sequence import (
    GPT,
    BagOfWordsClassifier,
    CharRNN,
    RNNClassifier,
    RNNForecaster,
    Seq2SeqRNN,
    Seq2SeqTransformer,
    TransformerClassifier,
)

__all__ = [
    "CNN",
    "GPT",
    "MLP",
    "BagOfWordsClassifier",
    "CharRNN",
    "RNNClassifier",
    "RNNForecaster",
    "Seq2SeqRNN",
    "Seq2SeqTransformer",
    "TransformerClassifier",
]
