"""nerve.text: vocabulary and tokenizers, padding, the fortunes corpus, sampling, generation, word2vec.

Padding conventions are checked against torch's ``pad_sequence``; sampling distributions statistically
with a seeded generator; ``top_k_top_p_filtering`` against a copy of Hugging Face's reference code
run in torch; word2vec on a corpus with planted co-occurrence structure and on a slice of fortunes.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
import torch

import nerve
import nerve.nn as nnn
import nerve.text as T
from nerve.utils.data import DataLoader

FORTUNES = "/usr/share/games/fortunes"
needs_fortunes = pytest.mark.skipif(not os.path.isdir(FORTUNES),
                                    reason=f"{FORTUNES} missing (apt-get install fortunes)")
try:
    import tokenizers  # noqa: F401
    HAS_TOKENIZERS = True
except ImportError:
    HAS_TOKENIZERS = False
needs_tokenizers = pytest.mark.skipif(not HAS_TOKENIZERS, reason="tokenizers not installed (pip install nerve[text])")

TEXTS = ["The quick brown fox jumps over the lazy dog.", "Don't panic! The answer is 42, isn't it?",
         "the end (of the story)."]


# ============================================================================ Vocab
def test_vocab_specials_order_and_limits():
    v = T.Vocab.build([["b", "a", "b"], ["c", "a", "b", "d"]])
    assert v.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert (T.PAD_ID, T.UNK_ID, T.BOS_ID, T.EOS_ID) == (0, 1, 2, 3)
    assert [v.stoi[s] for s in T.SPECIAL_TOKENS] == [0, 1, 2, 3]
    assert v.itos[4:] == ["b", "a", "c", "d"]          # by frequency, ties alphabetical
    assert v.counts[4:] == [3, 2, 1, 1]
    assert len(v) == 8
    assert v.lookup("a") == 5 and v.lookup(["c", "zzz"]) == [6, 1] and v["nope"] == T.UNK_ID
    assert v.lookup_tokens([4, 1]) == ["b", "<unk>"]
    with pytest.raises(IndexError, match="out of range"):
        v.lookup_tokens([99])
    assert T.Vocab.build([["b", "a", "b"], ["c", "a", "b"]], min_freq=2).itos[4:] == ["b", "a"]
    assert T.Vocab.build([["b", "a", "b"], ["c", "a", "b"]], max_size=1).itos == list(T.SPECIAL_TOKENS) + ["b"]
    # special tokens in the data do not get a second id
    assert T.Vocab.build([["<pad>", "x", "<unk>"]]).itos == list(T.SPECIAL_TOKENS) + ["x"]


def test_vocab_save_load_atomic(tmp_path):
    v = T.Vocab.build([list("hello world")])
    p = tmp_path / "sub" / "vocab.json"
    v.save(p)
    assert sorted(os.listdir(p.parent)) == ["vocab.json"]   # no temp file left behind
    w = T.Vocab.load(p)
    assert w == v and w.counts == v.counts and w.stoi == v.stoi
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"itos": ["a", "b"]}))
    with pytest.raises(ValueError, match="special tokens"):
        T.Vocab.load(bad)
    bad.write_text("not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        T.Vocab.load(bad)
    with pytest.raises(FileNotFoundError, match="no file"):
        T.Vocab.load(tmp_path / "missing.json")


# ============================================================================ tokenizers
def test_char_tokenizer_round_trip_unknowns_specials(tmp_path):
    tok = T.CharTokenizer.from_texts(TEXTS)
    for t in TEXTS:
        ids = tok.encode(t)
        assert len(ids) == len(t) and min(ids) >= 4
        assert tok.decode(ids) == t
    ids = tok.encode("fox@", add_bos=True, add_eos=True)
    assert ids[0] == T.BOS_ID and ids[-1] == T.EOS_ID and ids[-2] == T.UNK_ID   # '@' is unknown
    assert tok.decode(ids) == "fox"
    assert tok.decode(ids, skip_special_tokens=False) == "<bos>fox<unk><eos>"
    assert tok.decode(nerve.tensor(tok.encode("dog"))) == "dog"
    low = T.CharTokenizer.from_texts(TEXTS, lower=True)
    assert low.decode(low.encode("THE")) == "the"
    p = tmp_path / "char.json"
    tok.save(p)
    tok2 = T.CharTokenizer.load(p)
    assert tok2.vocab == tok.vocab and tok2.encode(TEXTS[1]) == tok.encode(TEXTS[1])
    assert isinstance(T.load_tokenizer(p), T.CharTokenizer)
    with pytest.raises(ValueError, match="not a WordTokenizer"):
        T.WordTokenizer.load(p)


def test_word_tokenizer(tmp_path):
    wt = T.WordTokenizer(lower=False)
    assert wt.tokenize("Don't panic! (It's 42.)") == ["Don't", "panic", "!", "(", "It's", "42", ".", ")"]
    tok = T.WordTokenizer.from_texts(TEXTS, lower=True)
    assert tok.tokenize("Hello, World!") == ["hello", ",", "world", "!"]
    for t in TEXTS:
        ids = tok.encode(t)
        assert T.UNK_ID not in ids
        assert tok.encode(tok.decode(ids)) == ids          # equal up to whitespace
    assert tok.decode(tok.encode("the fox, the dog.")) == "the fox, the dog."
    assert tok.encode("the zebra") == [tok.vocab["the"], T.UNK_ID]
    p = tmp_path / "w.json"
    tok.save(p)
    tok2 = T.load_tokenizer(p)
    assert isinstance(tok2, T.WordTokenizer) and tok2.lower and tok2.pattern == tok.pattern
    assert tok2.encode(TEXTS[0]) == tok.encode(TEXTS[0])
    # min_freq / max_size reach the vocabulary
    assert len(T.WordTokenizer.from_texts(TEXTS, min_freq=2)) < len(tok)
    assert len(T.WordTokenizer.from_texts(TEXTS, max_size=3)) == 7


@needs_tokenizers
def test_bpe_tokenizer(tmp_path):
    texts = TEXTS * 20 + ["naïve café — ünïcödé ✓"]
    bpe = T.BPETokenizer.train(texts, vocab_size=300, min_frequency=2)
    assert [bpe.token_to_id(s) for s in T.SPECIAL_TOKENS] == [0, 1, 2, 3]
    assert 256 + 4 < bpe.vocab_size <= 300
    for t in texts[-4:] + ["never seen: ✗ Ω 日本"]:
        ids = bpe.encode(t)
        assert bpe.decode(ids) == t                        # byte-level: exact, no <unk>
    assert len(bpe.encode("the quick brown fox")) < len("the quick brown fox")   # merges learned
    ids = bpe.encode("fox", add_bos=True, add_eos=True)
    assert ids[0] == T.BOS_ID and ids[-1] == T.EOS_ID and bpe.decode(ids) == "fox"
    p = tmp_path / "bpe.json"
    bpe.save(p)
    b2 = T.BPETokenizer.load(p)
    assert b2.encode(TEXTS[1]) == bpe.encode(TEXTS[1]) and b2.vocab_size == bpe.vocab_size
    assert isinstance(T.load_tokenizer(p), T.BPETokenizer)


def test_bpe_missing_library_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(ImportError, match=r"pip install nerve\[text\]"):
        T.BPETokenizer.train(["abc"], vocab_size=300)


# ============================================================================ batching
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("padding_value", [0, -1])
def test_pad_batch_matches_pad_sequence(batch_first, padding_value):
    seqs = [[5, 6, 7], [8], [9, 10, 11, 12], []]
    ids, lengths = T.pad_batch(seqs, padding_value=padding_value, batch_first=batch_first)
    ref = torch.nn.utils.rnn.pad_sequence([torch.tensor(s, dtype=torch.long) for s in seqs],
                                          batch_first=batch_first, padding_value=padding_value)
    assert ids.dtype == nerve.int64 and lengths.dtype == nerve.int64
    np.testing.assert_array_equal(ids.numpy(), ref.numpy())
    np.testing.assert_array_equal(lengths.numpy(), [3, 1, 4, 0])
    mask = T.padding_mask(lengths)
    assert mask.dtype == nerve.bool and tuple(mask.shape) == (4, 4)
    # True at pads: exactly where pad_sequence wrote padding (key_padding_mask convention)
    ref_ids = ref if batch_first else ref.T
    ones = torch.nn.utils.rnn.pad_sequence([torch.ones(len(s)) for s in seqs], batch_first=True)
    np.testing.assert_array_equal(mask.numpy(), (ones == 0).numpy())
    assert (ref_ids.numpy()[mask.numpy()] == padding_value).all()


def test_pad_batch_max_len_left_and_mask_in_attention():
    ids, lengths = T.pad_batch([nerve.tensor([1, 2, 3, 4]), np.array([5, 6])], max_len=3)
    np.testing.assert_array_equal(ids.numpy(), [[1, 2, 3], [5, 6, 0]])
    np.testing.assert_array_equal(lengths.numpy(), [3, 2])
    ids, lengths = T.pad_batch([[1, 2, 3], [5]], padding_side="left")
    np.testing.assert_array_equal(ids.numpy(), [[1, 2, 3], [0, 0, 5]])
    np.testing.assert_array_equal(T.padding_mask(lengths, padding_side="left").numpy(),
                                  [[False, False, False], [True, True, False]])
    np.testing.assert_array_equal(T.padding_mask([2, 0], max_len=3).numpy(), [[0, 0, 1], [1, 1, 1]])
    # the mask works as torch's key_padding_mask: padded keys get no attention weight
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True)
    x = torch.randn(2, 3, 4)
    mask = torch.from_numpy(T.padding_mask([3, 2]).numpy())
    _, w = mha(x, x, x, key_padding_mask=mask)
    assert torch.all(w[1, :, 2] == 0) and torch.all(w[0, :, 2] > 0)
    with pytest.raises(ValueError, match="1-D"):
        T.pad_batch([[[1, 2]]])


def test_collate_with_dataloader():
    data = [([4, 5, 6], 1), ([7], 0), ([8, 9], 2)]
    (ids, lengths, labels), = list(DataLoader(data, batch_size=3, collate_fn=T.collate))
    np.testing.assert_array_equal(ids.numpy(), [[4, 5, 6], [7, 0, 0], [8, 9, 0]])
    np.testing.assert_array_equal(lengths.numpy(), [3, 1, 2])
    assert labels.dtype == nerve.int64 and labels.tolist() == [1, 0, 2]
    ids, lengths = T.PadCollate(padding_value=T.PAD_ID, max_len=2)([[1, 2, 3], [4]])
    np.testing.assert_array_equal(ids.numpy(), [[1, 2], [4, 0]])


# ============================================================================ fortunes
@needs_fortunes
def test_fortunes_real_corpus_topics_and_splits():
    full = T.Fortunes(split="all")
    assert {"computers", "fortunes", "science", "linux"} <= set(full.topics)
    assert not any(t.endswith((".dat", ".u8")) or t == "off" for t in full.topics)
    assert full.topics == sorted(full.topics)
    assert len(full) > 10000
    text, topic = full[0]
    assert isinstance(text, str) and text.strip() and 0 <= topic < len(full.topics)
    assert not any("\n%\n" in t or t.startswith("%\n") or "\x08" in t for t in full.texts)
    splits = {s: T.Fortunes(split=s) for s in ("train", "val", "test")}
    n = {s: len(d) for s, d in splits.items()}
    assert sum(n.values()) == len(full)
    assert 0.75 < n["train"] / len(full) < 0.85 and 0.07 < n["val"] / len(full) < 0.13
    keys = {s: set(zip(d.texts, d.targets)) for s, d in splits.items()}
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"] and not keys["val"] & keys["test"]
    # deterministic, seed-dependent, and independent of the other options (no leakage when filtering)
    again = T.Fortunes(split="val")
    assert again.texts == splits["val"].texts and again.targets == splits["val"].targets
    assert T.Fortunes(split="val", seed=1).texts != splits["val"].texts
    comp = T.Fortunes(split="val", topics=["computers"], max_len=200)
    assert comp.topics == ["computers"] and set(comp.targets) == {0}
    assert set(comp.texts) <= set(splits["val"].texts) and all(len(t) <= 200 for t in comp.texts)
    mid = T.Fortunes(split="all", min_len=50, max_len=100)
    assert all(50 <= len(t) <= 100 for t in mid.texts) and 0 < len(mid) < len(full)
    with pytest.raises(ValueError, match="unknown topic"):
        T.Fortunes(topics=["computers", "no-such-topic"])


def test_fortunes_user_root_and_missing(tmp_path):
    (tmp_path / "jokes").write_text("First joke\nline two\n%\nSecond joke\n%\n\n%\nThird _\bu_\bn_\bd_\be_\br\n")
    (tmp_path / "quotes.txt").write_text("A quote\n%\nAnother quote")
    (tmp_path / "jokes.dat").write_bytes(b"\x00\x01binary")
    (tmp_path / "jokes.u8").write_text("copy\n%\ncopy2")
    (tmp_path / "off").mkdir()
    (tmp_path / "off" / "rude").write_text("not read\n%\n")
    ds = T.Fortunes(root=tmp_path, split="all")
    assert ds.topics == ["jokes", "quotes"]
    assert ds.texts == ["First joke\nline two", "Second joke", "Third under", "A quote", "Another quote"]
    assert ds.targets == [0, 0, 0, 1, 1]
    assert ds[1] == ("Second joke", 0)
    enc = T.Fortunes(root=tmp_path, split="all", transform=len, target_transform=lambda t: ds.topics[t])
    assert enc[3] == (7, "quotes")
    with pytest.raises(IndexError, match="out of range"):
        ds[5]
    missing = tmp_path / "nowhere"
    with pytest.raises(RuntimeError) as e:
        T.Fortunes(root=missing)
    assert str(missing) in str(e.value)


def test_fortunes_missing_message_names_apt(monkeypatch, tmp_path):
    monkeypatch.setattr(T.datasets, "FORTUNES_DIRS", (str(tmp_path / "a"), str(tmp_path / "b")))
    monkeypatch.delenv("NERVE_DATA", raising=False)
    with pytest.raises(RuntimeError) as e:
        T.Fortunes()
    msg = str(e.value)
    assert "apt-get install fortunes" in msg and str(tmp_path / "a") in msg and str(tmp_path / "b") in msg


# ============================================================================ char LM data
def test_char_lm_dataset_windows():
    text = "hello world, hello fortunes"
    tok = T.CharTokenizer.from_texts([text])
    ds = T.CharLMDataset(text, tok, seq_len=5)
    ids = tok.encode(text)
    assert len(ds) == (len(ids) - 1) // 5
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.dtype == nerve.int64 and tuple(x.shape) == (5,)
        assert x.tolist() == ids[5 * i:5 * i + 5] and y.tolist() == ids[5 * i + 1:5 * i + 6]
    assert tok.decode(ds[0][0]) == "hello" and tok.decode(ds[0][1]) == "ello "
    ov = T.CharLMDataset(ids, seq_len=4, stride=1)
    assert len(ov) == len(ids) - 4
    xb, yb = next(iter(DataLoader(ov, batch_size=7, shuffle=False)))
    assert tuple(xb.shape) == (7, 4)
    np.testing.assert_array_equal(xb.numpy()[3], ov[3][0].numpy())
    np.testing.assert_array_equal(yb.numpy()[:, :-1], xb.numpy()[:, 1:])
    assert len(T.CharLMDataset([1, 2, 3], seq_len=3)) == 0
    with pytest.raises(ValueError, match="tokenizer"):
        T.CharLMDataset("abc", seq_len=2)


@needs_fortunes
def test_fortunes_text_split():
    train, val = T.fortunes_text_split(val_fraction=0.1, topics=["computers", "science"])
    assert 0.05 < len(val) / (len(train) + len(val)) < 0.15
    tr, va = set(train.split("\n\n")), set(val.split("\n\n"))
    comp = T.Fortunes(split="all", topics=["computers", "science"])
    # every fortune is wholly in one of the two texts
    assert all((f in train) or (f in val) for f in comp.texts[:200])
    assert len(tr & va) < 5   # only paragraphs shared by different fortunes can appear in both
    assert T.fortunes_text_split(val_fraction=0.1, topics=["computers", "science"]) == (train, val)


# ============================================================================ sampling
def _counts(samples, V):
    return np.bincount(samples.reshape(-1), minlength=V)


def test_sample_next_greedy_and_determinism():
    logits = nerve.tensor([[0.1, 2.0, -1.0, 2.0], [5.0, 0.0, 0.0, 0.0]])
    assert T.sample_next(logits, temperature=0).tolist() == [1, 0]      # argmax, first on ties
    assert T.sample_next(logits[0], temperature=0).dim() == 0
    a = T.sample_next(nerve.randn(100, 50), generator=nerve.Generator().manual_seed(3))
    torch_like = nerve.randn(100, 50)
    s1 = T.sample_next(torch_like, top_k=10, generator=nerve.Generator().manual_seed(7))
    s2 = T.sample_next(torch_like, top_k=10, generator=nerve.Generator().manual_seed(7))
    assert s1.tolist() == s2.tolist() and a.shape == (100,)
    assert T.sample_next(torch_like, generator=5).tolist() == T.sample_next(torch_like, generator=5).tolist()
    with pytest.raises(ValueError, match="temperature"):
        T.sample_next(logits, temperature=-1)


def test_sample_next_distribution_temperature_topk_topp():
    rng = np.random.default_rng(0)
    V, N = 8, 40000
    z = rng.normal(size=V) * 1.5
    g = nerve.Generator().manual_seed(0)
    big = np.tile(z, (N, 1))

    def softmax(x):
        e = np.exp(x - x[np.isfinite(x)].max())
        e[~np.isfinite(x)] = 0
        return e / e.sum()

    def check(samples, p):
        freq = _counts(samples, V) / N
        assert np.all(freq[p == 0] == 0)
        se = np.sqrt(p * (1 - p) / N) + 1e-12
        assert np.all(np.abs(freq - p) < 5 * se + 1e-9), (freq, p)

    # plain and tempered softmax
    for temp in (1.0, 0.5, 2.0):
        check(T.sample_next(nerve.tensor(big), temperature=temp, generator=g).numpy(), softmax(z / temp))
    # top-k: never outside the k largest; renormalised softmax inside
    order = np.argsort(-z)
    for k in (1, 3):
        p = np.zeros(V)
        p[order[:k]] = softmax(z[order[:k]])
        s = T.sample_next(nerve.tensor(big), top_k=k, generator=g).numpy()
        assert set(np.unique(s)) <= set(order[:k].tolist())
        check(s, p)
    # top-p: the smallest set of most likely tokens with mass >= p
    probs = softmax(z)
    for top_p in (0.3, 0.6, 0.75, 0.9):
        cum = np.cumsum(probs[order])
        m = int(np.searchsorted(cum, top_p - 1e-12) + 1)   # smallest m with cum[m-1] >= top_p
        keep = order[:m]
        assert probs[keep].sum() >= top_p - 1e-9 and (m == 1 or probs[order[:m - 1]].sum() < top_p)
        p = np.zeros(V)
        p[keep] = probs[keep] / probs[keep].sum()
        check(T.sample_next(nerve.tensor(big), top_p=top_p, generator=g).numpy(), p)
    # a tiny top_p keeps at least one token (the argmax)
    s = T.sample_next(nerve.tensor(big[:100]), top_p=1e-6, generator=g).numpy()
    assert np.all(s == order[0])


def _hf_top_k_top_p_filtering(logits, top_k=0, top_p=1.0, filter_value=-float("inf"), min_tokens_to_keep=1):
    """Hugging Face transformers' reference implementation (v4.x), run in torch."""
    if top_k > 0:
        top_k = min(max(top_k, min_tokens_to_keep), logits.size(-1))
        indices_to_remove = logits < torch.topk(logits, top_k)[0][..., -1, None]
        logits = logits.masked_fill(indices_to_remove, filter_value)
    if top_p < 1.0:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative_probs = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
        sorted_indices_to_remove = cumulative_probs > top_p
        if min_tokens_to_keep > 1:
            sorted_indices_to_remove[..., :min_tokens_to_keep] = 0
        sorted_indices_to_remove[..., 1:] = sorted_indices_to_remove[..., :-1].clone()
        sorted_indices_to_remove[..., 0] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
        logits = logits.masked_fill(indices_to_remove, filter_value)
    return logits


@pytest.mark.parametrize("top_k,top_p", [(5, 1.0), (0, 0.7), (10, 0.5), (1, 0.9), (0, 0.05), (30, 0.95)])
def test_top_k_top_p_filtering_matches_hf(top_k, top_p):
    torch.manual_seed(top_k)
    z = torch.randn(6, 20, dtype=torch.float64) * 2
    ref = _hf_top_k_top_p_filtering(z.clone(), top_k=top_k, top_p=top_p)
    out = T.top_k_top_p_filtering(nerve.tensor(z.numpy()), top_k=top_k, top_p=top_p)
    np.testing.assert_array_equal(np.isinf(out.numpy()), np.isinf(ref.numpy()))
    np.testing.assert_allclose(out.numpy()[np.isfinite(out.numpy())], ref.numpy()[np.isfinite(ref.numpy())])


# ============================================================================ generation
class NextTokenModel(nnn.Module):
    """Logits favour token (t + 1) % V after token t; records the calls it gets."""

    def __init__(self, V=6, context_len=None):
        super().__init__()
        self.V, self.context_len, self.calls = V, context_len, []
        self.scale = nnn.Parameter(nerve.tensor(10.0))

    def forward(self, ids):
        assert ids.dtype == nerve.int64 and ids.dim() == 2
        if self.context_len is not None:
            assert ids.shape[1] <= self.context_len
        self.calls.append((ids.shape[1], self.training, nerve.is_grad_enabled()))
        nxt = (ids + 1) % self.V
        return nerve.nn.functional.one_hot(nxt, self.V).float() * self.scale


def test_generate_greedy_eval_mode_no_grad_and_context():
    m = NextTokenModel(V=6, context_len=3)
    m.train()
    out = T.generate(m, [2], max_new_tokens=7, temperature=0, context_len=3)
    assert out.tolist() == [2, 3, 4, 5, 0, 1, 2, 3]
    assert m.training                                         # mode restored
    assert all(not tr and not ge for _, tr, ge in m.calls)    # eval mode, no grad
    assert [c[0] for c in m.calls] == [1, 2, 3, 3, 3, 3, 3]   # cropped to context_len
    m.eval()
    T.generate(m, [2], max_new_tokens=1, temperature=0)
    assert not m.training
    # batched prompts, eos stops finished rows (padded with eos) and the loop
    m2 = NextTokenModel(V=6)
    out = T.generate(m2, nerve.tensor([[4, 4], [1, 2]]), max_new_tokens=10, temperature=0, eos_id=5)
    assert out.tolist() == [[4, 4, 5, 5, 5], [1, 2, 3, 4, 5]]
    assert T.generate(m2, [1], max_new_tokens=0).tolist() == [1]


def test_generate_sampling_deterministic_and_top_k():
    m = NextTokenModel(V=6)
    m.scale.data = nerve.tensor(1.0)   # soft: sampling matters
    a = T.generate(m, [[0]] * 4, 20, temperature=1.0, generator=nerve.Generator().manual_seed(1))
    b = T.generate(m, [[0]] * 4, 20, temperature=1.0, generator=nerve.Generator().manual_seed(1))
    c = T.generate(m, [[0]] * 4, 20, temperature=1.0, generator=nerve.Generator().manual_seed(2))
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    greedy_like = T.generate(m, [0], 10, top_k=1, generator=0)
    assert greedy_like.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4]


def test_generate_rnn_stateful():
    V = 5
    seen = []

    def step(ids, state):
        # state = number of tokens consumed; logits favour (state + last id) % V
        n = 0 if state is None else state
        seen.append(ids.shape[1])
        n += ids.shape[1]
        nxt = (ids[:, -1:] + n) % V
        return nerve.nn.functional.one_hot(nxt, V).float() * 20, n

    out = T.generate_rnn(step, [[1, 1, 1]], max_new_tokens=4, temperature=0)
    assert seen == [3, 1, 1, 1]                       # prompt once, then one token per step
    # after prompt: n=3 -> (1+3)%5=4; n=4 -> (4+4)%5=3; n=5 -> 3; n=6 -> (3+6)%5=4
    assert out.tolist() == [[1, 1, 1, 4, 3, 3, 4]]
    rnn = nnn.GRU(4, 8, batch_first=True) if hasattr(nnn, "GRU") else None
    if rnn is not None:
        emb, head = nnn.Embedding(V, 4), nnn.Linear(8, V)

        def rnn_step(ids, h):
            y, h = rnn(emb(ids), h)
            return head(y), h

        a = T.generate_rnn(rnn_step, [2, 3], 6, generator=4)
        assert a.shape == (8,) and a.tolist() == T.generate_rnn(rnn_step, [2, 3], 6, generator=4).tolist()


# ============================================================================ word2vec
def test_skipgram_pairs():
    ids = [4, 5, 6, 7]
    (c, o), = list(T.skipgram_pairs(ids, window=1, subsample=None, shrink_window=False, shuffle=False))
    assert sorted(zip(c.tolist(), o.tolist())) == [(4, 5), (5, 4), (5, 6), (6, 5), (6, 7), (7, 6)]
    # sentences: windows never cross them
    (c, o), = list(T.skipgram_pairs([[4, 5], [6, 7]], window=3, subsample=None, shrink_window=False))
    assert sorted(zip(c.tolist(), o.tolist())) == [(4, 5), (5, 4), (6, 7), (7, 6)]
    # window 2 without shrinking: every pair at distance <= 2
    (c, o), = list(T.skipgram_pairs(list(range(10)), window=2, subsample=None, shrink_window=False))
    assert len(c) == 2 * (9 + 8) and np.all(np.abs(c - o) <= 2) and np.all(c != o)
    # shrinking windows weight near pairs more
    (c, o), = list(T.skipgram_pairs(list(range(2000)), window=4, subsample=None, seed=0))
    d = np.bincount(np.abs(c - o), minlength=5)[1:]
    assert np.all(np.diff(d) < 0)
    # batches and determinism
    b1 = list(T.skipgram_pairs(list(range(100)), 3, batch_size=32, seed=1))
    b2 = list(T.skipgram_pairs(list(range(100)), 3, batch_size=32, seed=1))
    assert all(len(c) <= 32 for c, _ in b1) and all((x[0] == y[0]).all() for x, y in zip(b1, b2))
    # subsampling drops frequent words much more than rare ones
    rng = np.random.default_rng(0)
    corpus = np.where(rng.random(20000) < 0.5, 4, rng.integers(5, 2000, 20000))
    (c, o), = list(T.skipgram_pairs(corpus, window=1, subsample=1e-3, shrink_window=False, seed=0))
    frac_frequent = np.mean(c == 4)
    assert frac_frequent < 0.15


def test_skipgram_loss_matches_formula():
    m = T.SkipGram(10, 4)
    nnn.init.normal_(m.out_embed.weight)
    c, o, neg = np.array([1, 2, 3]), np.array([4, 5, 6]), np.array([[7, 8], [9, 1], [2, 2]])
    loss = m(nerve.tensor(c), nerve.tensor(o), nerve.tensor(neg))
    V, U = m.in_embed.weight.detach().numpy().astype(np.float64), m.out_embed.weight.detach().numpy().astype(np.float64)
    ls = lambda x: -np.log1p(np.exp(-x))
    ref = -(ls((U[o] * V[c]).sum(-1)) + ls(-(U[neg] * V[c][:, None]).sum(-1)).sum(-1)).mean()
    np.testing.assert_allclose(loss.item(), ref, rtol=1e-5)
    loss.backward()
    assert m.in_embed.weight.grad is not None and m.out_embed.weight.grad is not None
    assert np.all(m.in_embed.weight.grad.numpy()[[0, 4, 5]] == 0)   # rows not used get no gradient
    p = T.noise_distribution([0, 0, 1, 16])
    np.testing.assert_allclose(p, np.array([0, 0, 1, 8]) / 9)


def test_word2vec_planted_neighbours():
    rng = np.random.default_rng(0)
    groups = [[f"g{g}w{i}" for i in range(4)] for g in range(6)]
    sents = [list(rng.choice(groups[rng.integers(6)], size=8)) for _ in range(600)]
    model, vocab = T.train_word2vec(sents, dim=16, window=3, negatives=5, epochs=3, lr=0.02, batch_size=512,
                                    seed=0, subsample=None)
    assert len(vocab) == 4 + 24 and model.vocab is vocab
    assert model.loss_history[-1] < 0.8 * model.loss_history[0]
    hits = 0
    for g in groups:
        for w in g:
            nb = [x for x, _ in model.nearest(w, k=3)]
            hits += sum(x in g for x in nb)
    assert hits / (24 * 3) > 0.9
    # reproducible
    m2, _ = T.train_word2vec(sents, dim=16, window=3, negatives=5, epochs=3, lr=0.02, batch_size=512, seed=0,
                             subsample=None)
    np.testing.assert_array_equal(m2.embeddings.numpy(), model.embeddings.numpy())


@needs_fortunes
def test_word2vec_on_fortunes_slice():
    wt = T.WordTokenizer(lower=True)
    ds = T.Fortunes(split="all", topics=["computers"])
    sents = [wt.tokenize(t) for t in ds.texts]
    model, vocab = T.train_word2vec(sents, dim=32, window=4, negatives=5, epochs=2, lr=0.01, batch_size=1024,
                                    seed=0, min_count=3)
    assert model.loss_history[1] < model.loss_history[0] < 4.0   # log(2) * 6 = 4.16 at the start
    nb = model.nearest("computer", k=8)
    assert len(nb) == 8 and all(w != "computer" and w not in T.SPECIAL_TOKENS for w, _ in nb)
    sims = [s for _, s in nb]
    assert sims == sorted(sims, reverse=True) and all(-1 <= s <= 1 for s in sims)
    # the same as the module function on the raw vectors
    assert T.nearest(model.embeddings, "computer", k=8, vocab=vocab) == nb
    with pytest.raises(KeyError, match="not in the vocabulary"):
        model.nearest("qwertyuiopasdf")


@pytest.mark.slow
@needs_fortunes
def test_word2vec_full_fortunes_semantics():
    """One epoch over all fortunes (~15 s): pronouns end up next to pronouns."""
    wt = T.WordTokenizer(lower=True)
    sents = [wt.tokenize(t) for t in T.Fortunes(split="all").texts]
    model, _ = T.train_word2vec(sents, dim=50, window=5, epochs=1, seed=0, min_count=5)
    near = [w for w, _ in model.nearest("he", k=10)]
    assert {"she", "him", "himself"} & set(near), near
