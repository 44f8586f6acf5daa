"""Text (``torchtext``-like): tokenizers, padding, the fortunes corpus, sampling and word2vec.

- Vocabulary and tokenizers: :class:`Vocab` (``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3 in every
  vocabulary), :class:`CharTokenizer`, :class:`WordTokenizer` (regex words + punctuation tokens),
  :class:`BPETokenizer` (byte-level BPE; needs ``pip install nerve[text]``); all ``encode`` / ``decode``
  and ``save`` / ``load`` as JSON.
- Batching: :func:`pad_batch` (``pad_sequence`` + lengths), :func:`padding_mask` (True at pads, the
  ``key_padding_mask`` convention), :func:`collate` / :class:`PadCollate` for a DataLoader.
- Data: :class:`Fortunes` (Debian's ``fortunes`` package, ``apt-get install fortunes``, or your own
  files), :func:`fortunes_text_split`, :class:`CharLMDataset` (next-token windows).
- Generation: :func:`sample_next` (temperature, top-k, top-p), :func:`generate` (GPT-style models),
  :func:`generate_rnn` (stateful models).
- Word vectors: :class:`SkipGram`, :func:`skipgram_pairs`, :func:`train_word2vec`, :func:`nearest`.

Example:
    >>> from nerve.text import CharTokenizer, CharLMDataset, fortunes_text_split, generate
    >>> train_text, val_text = fortunes_text_split()
    >>> tok = CharTokenizer.from_texts([train_text])
    >>> loader = DataLoader(CharLMDataset(train_text, tok, seq_len=128), batch_size=64, shuffle=True)
    >>> ...  # train a model mapping (B, T) ids to (B, T, V) logits
    >>> print(tok.decode(generate(model, tok.encode("The "), 200, temperature=0.8, top_k=20)))
"""
from .batching import PadCollate, collate, pad_batch, padding_mask
from .datasets import (
    FORTUNES_DIRS,
    CharLMDataset,
    Fortunes,
    fortunes_text_split,
    read_fortune_file,
)
from .generation import generate, generate_rnn, sample_next, top_k_top_p_filtering
from .tokenizers import (
    WORD_PATTERN,
    BPETokenizer,
    CharTokenizer,
    WordTokenizer,
    load_tokenizer,
)
from .vocab import (
    BOS,
    BOS_ID,
    EOS,
    EOS_ID,
    PAD,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK,
    UNK_ID,
    Vocab,
)
from .word2vec import (
    SkipGram,
    nearest,
    noise_distribution,
    skipgram_pairs,
    train_word2vec,
)

__all__ = [
    "BOS",
    "BOS_ID",
    "EOS",
    "EOS_ID",
    "FORTUNES_DIRS",
    "PAD",
    "PAD_ID",
    "SPECIAL_TOKENS",
    "UNK",
    "UNK_ID",
    "WORD_PATTERN",
    "BPETokenizer",
    "CharLMDataset",
    "CharTokenizer",
    "Fortunes",
    "PadCollate",
    "SkipGram",
    "Vocab",
    "WordTokenizer",
    "collate",
    "fortunes_text_split",
    "generate",
    "generate_rnn",
    "load_tokenizer",
    "nearest",
    "noise_distribution",
    "pad_batch",
    "padding_mask",
    "read_fortune_file",
    "sample_next",
    "skipgram_pairs",
    "top_k_top_p_filtering",
    "train_word2vec",
]
