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


# RoBERTa's special tokens, in its id order: <s> 0, <pad> 1, </s> 2, <unk> 3, <mask> 4.
BPE_SPECIAL = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

# Built-in English for a byte-level BPE trained on the fly (tests, small random packs).
BPE_SAMPLE = """
The museum opened in 1921. Its first director was Maria Lopez, who ran it for thirty years
before retiring to Lisbon. The lease ends on 31 March 2031, unless the tenant gives notice.
The tenant shall pay the rent to the landlord on the first Monday of each month. The report
names the capital city of the state, which lies on the river between two mountain ranges.
The launch date was moved from April to June after the first test of the system found a
problem. Three parties signed the agreement in December: the landlord, the tenant and the bank.
""".split("\n")


def train_byte_level_bpe(
    texts: Iterable[str], out: Path, vocab_size: int, *, min_frequency: int = 2
) -> Path:
    """Train and save a RoBERTa-style byte-level BPE ``tokenizer.json`` (<s> A </s></s> B </s>).

    Random-weight RoBERTa packs need such a tokenizer and no hub is reachable to
    fetch RoBERTa's own; its pair encodings have all-zero type ids, as RoBERTa's do.
    """
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing

    tok = ByteLevelBPETokenizer(add_prefix_space=False, trim_offsets=True)
    tok.train_from_iterator(
        list(texts),
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=BPE_SPECIAL,
        show_progress=False,
    )
    vocab = tok.get_vocab()
    tok._tokenizer.post_processor = RobertaProcessing(
        ("</s>", vocab["</s>"]), ("<s>", vocab["<s>"]), trim_offsets=True, add_prefix_space=False
    )
    tok.save(str(out))
    return out


def bpe_tokenizer_from_files(vocab_json: Path, merges_txt: Path, out: Path) -> Path:
    """Build ``tokenizer.json`` for RoBERTa-family checkpoints that ship vocab.json + merges.txt."""
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing

    tok = ByteLevelBPETokenizer(str(vocab_json), str(merges_txt), trim_offsets=True)
    vocab = tok.get_vocab()
    bos, eos = ("<s>", "</s>") if "<s>" in vocab else ("<|endoftext|>", "<|endoftext|>")
    tok.add_special_tokens([t for t in (*BPE_SPECIAL, bos, eos) if t in vocab])
    tok._tokenizer.post_processor = RobertaProcessing(
        (eos, vocab[eos]), (bos, vocab[bos]), trim_offsets=True, add_prefix_space=False
    )
    tok.save(str(out))
    return out
