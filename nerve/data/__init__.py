"""Tabular data: CSV files as tables and datasets, preprocessing fitted on the training split, splits,
cross-validation folds and class weights (NumPy only; no pandas or scikit-learn needed).

Example:
    >>> import nerve, nerve.data as nd
    >>> table = nd.read_csv("adult.csv", target="income")
    >>> train, val, test = nd.train_val_test_split(table, val_size=0.1, test_size=0.2,
    ...                                            stratify=table["income"], seed=0)
    >>> pre = nd.ColumnTransformer([
    ...     (nd.Pipeline([nd.SimpleImputer(strategy="median"), nd.StandardScaler()]), train.numeric_columns),
    ...     (nd.Pipeline([nd.SimpleImputer(strategy="most_frequent"), nd.OneHotEncoder(handle_unknown="ignore")]),
    ...      [c for c in train.categorical_columns if c != "income"]),
    ... ]).fit(train)                                  # statistics from the training rows only
    >>> train_ds = nd.TabularDataset(train, "income", transform=pre)
    >>> val_ds = nd.TabularDataset(val, "income", transform=pre, classes=train_ds.classes)
    >>> loss_fn = nerve.nn.CrossEntropyLoss(weight=nd.class_weights(train_ds.targets))
    >>> pre.save("preprocessing.json")              # beside the model's weights
"""
from . import csv, preprocessing, seq2seq, split, table, timeseries, weights  # noqa: F401
from .csv import read_csv
from .dataset import TabularDataset
from .preprocessing import (
    ColumnTransformer, LabelEncoder, MinMaxScaler, NotFittedError, OneHotEncoder, Pipeline, SimpleImputer,
    StandardScaler, Transformer, drop_missing_rows, load_transformer,
)
from .seq2seq import (
    DateFormatDataset, NumberWordsDataset, Seq2SeqDataset, char_vocab, exact_match, format_date, number_to_words,
    words_to_number,
)
from .split import KFold, StratifiedKFold, cross_validate, train_test_split, train_val_test_split
from .table import Table
from .timeseries import (
    Standardizer, WindowDataset, chronological_split, load_series_csv, mae, naive_forecast, rmse, seasonal_naive,
    seattle_weather,
)
from .weights import class_weights, sample_weights

__all__ = [
    "ColumnTransformer", "KFold", "LabelEncoder", "MinMaxScaler", "NotFittedError", "OneHotEncoder", "Pipeline",
    "SimpleImputer", "StandardScaler", "StratifiedKFold", "Table", "TabularDataset", "Transformer", "class_weights",
    "cross_validate", "drop_missing_rows", "load_transformer", "read_csv", "sample_weights", "train_test_split",
    "train_val_test_split",
    # sequence tasks: time series windows and character-level seq2seq
    "DateFormatDataset", "NumberWordsDataset", "Seq2SeqDataset", "Standardizer", "WindowDataset", "char_vocab",
    "chronological_split", "exact_match", "format_date", "load_series_csv", "mae", "naive_forecast",
    "number_to_words", "rmse", "seasonal_naive", "seattle_weather", "words_to_number",
]
