"""Topic classification of Debian's fortunes: which file (topic) a fortune comes from.

Models: ``rnn_classifier`` (GRU/LSTM over the tokens), ``transformer_classifier`` (BERT-style encoder),
``bag_of_words`` (multinomial logistic regression on word counts). Beside the model, a bag-of-words
logistic regression trains on the same data (``data.baseline_epochs``) and its test accuracy is
reported as ``test_baseline_accuracy``: the bar a sequence model has to clear.
"""
from __future__ import annotations

import numpy as np

from ._text import PaddedSequences, limited, split_fractions, tokenizer_from_info, tokenizer_to_info
from .base import Task


class TopicTask(Task):
    name = "topic"

    def _splits(self):
        from ..text import Fortunes  # noqa: PLC0415
        d = self.cfg.data
        fr = split_fractions(d)
        return {s: Fortunes(d.root, split=s, split_fractions=fr, seed=d.split_seed, topics=d.topics,
                            max_len=d.max_chars) for s in ("train", "val", "test")}

    def tokenizer(self):
        return tokenizer_from_info(self.info["tokenizer"])

    def _encode(self, texts):
        tok, n = self.tokenizer(), self.cfg.data.max_len
        return [(tok.encode(t) or [tok.unk_id])[:n] for t in texts]

    def build_data(self):
        from ..text import CharTokenizer, WordTokenizer  # noqa: PLC0415
        d = self.cfg.data
        sp = self._splits()
        if "tokenizer" not in self.info:
            cls = WordTokenizer if d.tokenizer == "word" else CharTokenizer
            tok = cls.from_texts(sp["train"].texts, min_freq=d.min_freq, max_size=d.max_vocab, lower=d.lowercase)
            self.info["tokenizer"] = tokenizer_to_info(tok)
            self.info["topics"] = list(sp["train"].topics)
        if list(sp["train"].topics) != self.info["topics"]:
            raise ValueError(f"fortunes-topic: the topics found ({', '.join(sp['train'].topics)}) differ from the "
                             f"ones the model was trained on ({', '.join(self.info['topics'])})")
        out = [PaddedSequences(self._encode(sp[s].texts), np.asarray(sp[s].targets, dtype=np.int64))
               for s in ("train", "val", "test")]
        return limited(out[0], d.limit), out[1], out[2]

    def _bag_of_words(self, binary: bool = False):
        from .. import models  # noqa: PLC0415
        return models.BagOfWordsClassifier(len(self.tokenizer()), len(self.info["topics"]), binary=binary)

    def build_model(self):
        from .. import models  # noqa: PLC0415
        m = self.cfg.model
        vocab, k = len(self.tokenizer()), len(self.info["topics"])
        if m.type == "bag_of_words":
            return self._bag_of_words(m.binary)
        if m.type == "transformer_classifier":
            return models.TransformerClassifier(vocab, k, max_len=self.cfg.data.max_len, d_model=m.d_model,
                                                n_layers=m.n_layers, n_heads=m.n_heads, d_ff=m.d_ff,
                                                dropout=m.dropout, pooling=m.pooling)
        return models.RNNClassifier(vocab, k, embed_dim=m.embed_dim, hidden_size=m.hidden_size,
                                    num_layers=m.num_layers, cell=m.cell, bidirectional=m.bidirectional,
                                    dropout=m.dropout)

    def _scores(self, model, ds) -> dict:
        from .image import evaluate_model  # noqa: PLC0415
        return evaluate_model(model, ds, self.loss(), batch_size=self.eval_batch_size)

    def baseline(self, train, val, test) -> dict:
        """Test scores of a bag-of-words logistic regression trained (Adam, ``data.baseline_epochs``) on ``train``."""
        import tempfile  # noqa: PLC0415

        from .. import manual_seed, optim  # noqa: PLC0415
        from ..train import callbacks as C, fit  # noqa: PLC0415
        from ..train.checkpoint import load_checkpoint  # noqa: PLC0415
        manual_seed(self.cfg.train.seed)
        model = self._bag_of_words()
        with tempfile.TemporaryDirectory() as tmp:
            best = C.ModelCheckpoint(f"{tmp}/best", monitor="val_accuracy", mode="max", save_best_only=True)
            fit(model, train, val, loss=self.loss(), optimizer=optim.Adam(model.parameters(), lr=0.01),
                epochs=self.cfg.data.baseline_epochs, batch_size=64, metrics=["accuracy"], callbacks=[best],
                seed=self.cfg.train.seed, verbose=0)
            load_checkpoint(f"{tmp}/best", model=model)
        return self._scores(model, test)

    def evaluate(self, model, test, out=None) -> dict:
        res = self._scores(model, test)
        names = self.info["topics"]
        notes = []
        if out is not None and self.cfg.data.baseline_epochs and self.cfg.model.type != "bag_of_words":
            train, val, _ = self.build_data()
            base = self.baseline(train, val, test)
            res["test_baseline_accuracy"] = base["test_accuracy"]
            res["test_baseline_f1_macro"] = base["test_f1_macro"]
            verdict = "beats" if res["test_accuracy"] > base["test_accuracy"] else "does not beat"
            notes = ["## Against the bag-of-words baseline", "",
                     f"The {self.cfg.model.type} model's test accuracy {res['test_accuracy']:.4f} {verdict} the "
                     f"bag-of-words logistic regression's {base['test_accuracy']:.4f} "
                     f"({self.cfg.data.baseline_epochs} epochs of Adam on the same training fortunes)."]
        cm, per_class = res.pop("_confusion_matrix"), res.pop("_per_class")
        files = []
        if out is not None:
            from ..train.report import plot_confusion_matrix, write_json  # noqa: PLC0415
            if self.cfg.output.plots and plot_confusion_matrix(cm, names, out / "confusion_matrix.png"):
                files.append("confusion_matrix.png")
            write_json(out / "confusion_matrix.json", {"classes": names, "matrix": cm})
            files.append("confusion_matrix.json")
        res["_report"] = {"class_names": names, "per_class": per_class, "notes": notes}
        res["_files"] = files
        res["_confusion_matrix"] = cm
        return res

    def predict(self, model, inputs, text=False):
        """The topic of each text (``--text``) or text file."""
        from pathlib import Path  # noqa: PLC0415

        import numpy as np  # noqa: PLC0415

        import nerve  # noqa: PLC0415
        texts = list(inputs) if text else [Path(f).read_text() for f in inputs]
        ds = PaddedSequences(self._encode(texts), np.zeros(len(texts), dtype=np.int64))
        with nerve.no_grad():
            probs = nerve.softmax(model(ds.__getbatch__(range(len(ds)))[0]), dim=1).numpy()
        names = self.info["topics"]
        return [{"input": src if not text else src[:60], "topic": names[int(p.argmax())],
                 "probability": float(p.max())} for src, p in zip(inputs, probs)]

    def format_row(self, row):
        return f"{row['input']}: {row['topic']} ({row['probability']:.3f})"


TASK = TopicTask
