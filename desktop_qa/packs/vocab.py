"""WordPiece tokenizer files for generated packs, and from a checkpoint's vocab.txt."""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path

from tokenizers import BertWordPieceTokenizer

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Enough everyday English that generated documents tokenize at a realistic
# rate (about 1.3 tokens a word) instead of falling back to characters.
COMMON_WORDS = """
the of and to a in is was that for it as with be on by he at this from his an or are not
which but have had they you were their one all we can her has there been if more when will
would who so no what out up into do than time only could new about other some them these
may then its our most over such also after first two any years where many well made way
even how back down because being each both work between before through three during under
while same last year must part place long since life still world might state great own
should old very home use day end date lease term code launch answer question document page
section chapter contract agreement party parties tenant landlord shall rent payment notice
following provided including without within upon said herein thereof period month months
alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar
papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu january february march
april june july august september october december monday tuesday wednesday thursday friday
saturday sunday report table figure data system value number name city river mountain capital
""".split()


def base_vocab(words: Iterable[str] = ()) -> list[str]:
    """Special tokens, every printable ASCII character (alone and as ##suffix), then words."""
    vocab: list[str] = list(SPECIAL)
    seen = set(vocab)

    def add(token: str) -> None:
        if token not in seen:
            seen.add(token)
            vocab.append(token)

    chars = [c for c in string.printable if not c.isspace() and not c.isupper()]
    for c in chars:
        add(c)
    for c in chars:
        if c.isalnum():
            add("##" + c)
    for word in [*COMMON_WORDS, *words]:
        word = word.lower()
        if word and word.isascii() and not any(ch.isspace() for ch in word):
            add(word)
    return vocab


def pad_vocab(vocab: list[str], size: int) -> list[str]:
    """Grow a vocab to ``size`` entries (random-weight models need their config's size)."""
    out = list(vocab)
    i = 0
    while len(out) < size:
        out.append(f"[unused{i}]")
        i += 1
    return out[:size] if len(out) > size else out


def write_tokenizer(vocab: list[str], out: Path, lowercase: bool = True) -> Path:
    """Save a BERT WordPiece ``tokenizer.json`` (pair template [CLS] A [SEP] B [SEP])."""
    tok = BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}, lowercase=lowercase)
    tok.save(str(out))
    return out


def tokenizer_from_vocab_txt(vocab_txt: Path, out: Path, lowercase: bool = True) -> Path:
    """Build ``tokenizer.json`` for checkpoints that ship only ``vocab.txt``."""
    tok = BertWordPieceTokenizer(str(vocab_txt), lowercase=lowercase)
    tok.save(str(out))
    return out
