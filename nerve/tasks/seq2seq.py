"""Sequence to sequence: spelled-out numbers -> digits (``number-words``) or date formats -> ISO dates
(``dates``), with an LSTM/GRU encoder-decoder with attention (``seq2seq_rnn``) or a Transformer
(``seq2seq_transformer``). Trained with teacher forcing; scored by the exact-match accuracy of greedy
decoding on held-out pairs.
"""
from __future__ import annotations

from ._text import SequenceCrossEntropyLoss
from .base import Task


class Seq2SeqTask(Task):
    name = "seq2seq"

    def _parts(self):
        from ..data.seq2seq import DateFormatDataset, NumberWordsDataset  # noqa: PLC0415
        d = self.cfg.data
        kw = dict(seed=d.split_seed, val_fraction=d.validation_split, test_fraction=d.test_split)
        if d.dataset == "number-words":
            whole = NumberWordsDataset(d.samples, max_value=d.max_value, **kw)
        else:
            whole = DateFormatDataset(d.samples, **kw)
        self._whole = whole
        return whole.split()

    @staticmethod
    def _arrays(part):
        """((source, decoder input), decoder target): the target shifted by one, pads ignored by the loss."""
        src, tgt = (t.numpy() for t in part.tensors)
        return (src, tgt[:, :-1]), tgt[:, 1:]

    def build_data(self):
        train, val, test = self._parts()
        self.info.update(source_vocab=len(train.source_vocab), target_vocab=len(train.target_vocab),
                         target_len=int(train.target_len))
        self._test_part = test
        (s, ti), to = self._arrays(train)
        n = self.cfg.data.limit
        if n:
            s, ti, to = s[:n], ti[:n], to[:n]
        return ((s, ti), to), self._arrays(val), test

    def build_model(self):
        from .. import models  # noqa: PLC0415
        m, i = self.cfg.model, self.info
        if m.type == "seq2seq_transformer":
            return models.Seq2SeqTransformer(i["source_vocab"], i["target_vocab"], d_model=m.d_model, nhead=m.nhead,
                                             num_encoder_layers=m.num_encoder_layers,
                                             num_decoder_layers=m.num_decoder_layers,
                                             dim_feedforward=m.dim_feedforward, dropout=m.dropout,
                                             max_len=max(256, i["target_len"] + 1))
        return models.Seq2SeqRNN(i["source_vocab"], i["target_vocab"], embed_dim=m.embed_dim,
                                 hidden_size=m.hidden_size, num_layers=m.num_layers, cell=m.cell,
                                 attention=m.attention, dropout=m.dropout,
                                 bidirectional_encoder=m.bidirectional_encoder)

    def loss(self):
        return SequenceCrossEntropyLoss(ignore_index=0, label_smoothing=self.cfg.train.label_smoothing)

    def default_metrics(self):
        return []

    def monitor(self, has_val):
        return ("val_loss" if has_val else "loss"), "min"

    def translate(self, model, part, sources: list[str]) -> list[str]:
        """Greedy decoding of ``sources`` (strings) to strings."""
        import nerve  # noqa: PLC0415

        from ..data.seq2seq import BOS_ID, EOS_ID  # noqa: PLC0415
        out = []
        model.eval()
        with nerve.no_grad():
            for i in range(0, len(sources), self.eval_batch_size):
                src = nerve.tensor(part.encode_source(sources[i:i + self.eval_batch_size]))
                ids = model.greedy_decode(src, max_len=self.info["target_len"], bos_id=BOS_ID, eos_id=EOS_ID)
                out += part.decode_target(ids.numpy())
        return out

    def evaluate(self, model, test, out=None) -> dict:
        from ..data.seq2seq import exact_match  # noqa: PLC0415
        from ..train import evaluate  # noqa: PLC0415
        preds = self.translate(model, test, test.sources)
        loss = evaluate(model, self._arrays(test), loss=self.loss(), batch_size=self.eval_batch_size)["loss"]
        res = {"test_exact_match": exact_match(preds, test.targets), "test_loss": loss, "test_samples": len(test)}
        wrong = [(s, p, t) for s, p, t in zip(test.sources, preds, test.targets) if p != t]
        notes = ["## Examples (test set)", "", "| source | prediction | target |", "|---|---|---|"]
        notes += [f"| {s} | {p} | {t} |" for s, p, t in list(zip(test.sources, preds, test.targets))[:5]]
        if wrong:
            notes += ["", f"First errors ({len(wrong)} of {len(test)}):", "", "| source | prediction | target |",
                      "|---|---|---|"] + [f"| {s} | {p} | {t} |" for s, p, t in wrong[:5]]
        res["_report"] = {"notes": notes}
        res["_files"] = []
        return res

    def predict(self, model, inputs, text=False):
        """Translate each text (``--text``) or each line of each file."""
        from pathlib import Path  # noqa: PLC0415
        if text:
            sources = list(inputs)
        else:
            sources = [line.strip() for f in inputs for line in Path(f).read_text().splitlines() if line.strip()]
        if not hasattr(self, "_whole"):
            self._parts()
        preds = self.translate(model, self._whole, sources)
        return [{"source": s, "prediction": p} for s, p in zip(sources, preds)]

    def format_row(self, row):
        return f"{row['source']} -> {row['prediction']}"


TASK = Seq2SeqTask
