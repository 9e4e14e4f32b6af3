"""Reader speed on the book for each recommended architecture, one JSON object.

    python benchmarks/readers.py [--book PDF] [--only NAME ...] [--questions N]

A random-initialised pack of each architecture ``model download --list``
recommends (weights do not change the speed; no hub is reachable for trained
ones) is built once through the real export and quantization path into
``benchmarks/out/readers/`` (gitignored) and reused:

* ``mobilebert`` (csarron/mobilebert-uncased-squad-v2) and ``minilm``
  (deepset/minilm-uncased-squad2) with BERT's uncased WordPiece vocabulary
  (``../shared/models/bert-base-uncased-vocab.txt``), the one both models use;
* ``tinyroberta`` (deepset/tinyroberta-squad2) with a byte-level BPE of RoBERTa's
  size (50,265) trained here on the text of ``../shared/corpora/pymupdf-tests``
  (not the book), since RoBERTa's own merges cannot be fetched. Its tokens per
  word on the book are printed beside WordPiece's, so the window counts can be
  judged.

For each pack, on the book (opened once, as ``ask`` does):

* ``tokens_per_word``: the tokenizer's tokens per whitespace word of the book;
* ``ms_per_window``: median milliseconds per full window (384 tokens), batches of
  the reader's size, read from the book's own windows;
* ``answer_s``: median seconds for a question answered from the ranked passages
  (threshold -1e9, the bounded reading ``ask`` does), and ``first_s`` to its
  first answer;
* ``whole_windows`` and ``whole_read_s``: the book's full windows with this
  tokenizer and what reading them all takes at ``ms_per_window``.

The load average at start and end is printed beside: other work skews every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from timing import answer_timed  # noqa: E402  (benchmarks/timing.py)

from desktop_qa.core import Query, Reader, load_pack  # noqa: E402
from desktop_qa.core.storage import opening  # noqa: E402
from desktop_qa.core.system.runtime import physical_cores  # noqa: E402

# ../shared beside the checkout (a worktree may sit one folder deeper).
SHARED = next((p / "shared" for p in REPO.parents if (p / "shared" / "corpora").is_dir()), REPO)
BOOK = SHARED / "corpora" / "books" / "freeculture.pdf"
BERT_VOCAB = SHARED / "models" / "bert-base-uncased-vocab.txt"
BPE_CORPUS = SHARED / "corpora" / "pymupdf-tests"
OUT = REPO / "benchmarks" / "out" / "readers"
QUESTIONS = [
    "What did Walt Disney copy from Buster Keaton?",
    "When was Steamboat Willie released?",
    "Who invented FM radio?",
    "What did the Sonny Bono Copyright Term Extension Act do?",
    "Why did Jesse Jordan pay the recording industry?",
    "What is the public domain?",
    "How long did the first copyright term last in 1790?",
    "What did Eldred want to publish on the internet?",
]
PACKS = ("mobilebert", "minilm", "tinyroberta")


def _bpe_tokenizer() -> Path:
    """A RoBERTa-size byte-level BPE trained on the shared PDF corpus (not the book)."""
    out = OUT / "bpe-pymupdf-tests.json"
    if out.is_file():
        return out
    import pymupdf

    from desktop_qa.packs.vocab import train_byte_level_bpe

    texts: list[str] = []
    for pdf in sorted(BPE_CORPUS.glob("*.pdf")):
        try:
            with pymupdf.open(pdf) as doc:
                texts.extend(page.get_text() for page in doc)
        except Exception:  # noqa: BLE001 - the corpus holds deliberately broken files
            continue
    out.parent.mkdir(parents=True, exist_ok=True)
    return train_byte_level_bpe(texts, out, 50265)


def get_pack(name: str) -> Path:
    """The cached random int8 pack of architecture ``name``; built if absent."""
    path = OUT / f"random-{name}"
    try:
        load_pack(path)
        return path
    except Exception:  # noqa: BLE001 - any problem with the cache means rebuild
        pass
    from desktop_qa.packs.export import build_random_pack

    started = time.perf_counter()
    if name == "tinyroberta":
        build_random_pack(name, path, tokenizer_file=_bpe_tokenizer())
    else:
        build_random_pack(name, path, vocab_file=BERT_VOCAB)
    print(f"built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def measure(pack_dir: Path, opened: Any, questions: list[str]) -> dict[str, Any]:
    pack = load_pack(pack_dir)
    reader = Reader(pack)
    text = opened.doc.text
    words = len(text.split())
    tokens = len(reader.tokenizer.encode(text, add_special_tokens=False).ids)
    # Full windows of the book's passages, as reading the whole book makes them.
    passages = [(p.index, p.start, text[p.start : p.end]) for p in opened.index.passages]
    encoded = reader.encode("What is the public domain?", passages)
    full = [reader.window(*e) for e in encoded]
    long = sorted(full, key=lambda w: -len(w.ids))[: reader.batch_size * 6]
    reader.run(long[: reader.batch_size])  # warm-up
    times = []
    for i in range(0, len(long), reader.batch_size):
        batch = long[i : i + reader.batch_size]
        started = time.perf_counter()
        reader.run(batch)
        times.append((time.perf_counter() - started) / len(batch))
    ms = statistics.median(times) * 1000
    answer_timed(opened, Query(questions[0], threshold=-1e9), reader)  # warm-up
    firsts, totals = [], []
    for question in questions:
        first, total, _ = answer_timed(opened, Query(question, threshold=-1e9), reader)
        firsts.append(first)
        totals.append(total)
    return {
        "architecture": pack.architecture,
        "size_mb": round(pack.onnx_path.stat().st_size / 1e6, 1),
        "vocabulary": pack.extra.get("vocabulary"),
        "tokens_per_word": round(tokens / max(words, 1), 3),
        "window_tokens": max(len(w.ids) for w in long),
        "ms_per_window": round(ms, 1),
        "first_s": round(statistics.median(firsts), 3),
        "answer_s": round(statistics.median(totals), 3),
        "whole_windows": len(full),
        "whole_read_s": round(len(full) * ms / 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, default=BOOK)
    parser.add_argument("--only", nargs="*", choices=PACKS, default=list(PACKS))
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args(argv)
    load_start = [round(v, 2) for v in os.getloadavg()]
    dirs = {name: get_pack(name) for name in args.only}
    opened = opening.open_document(args.book)
    results = {}
    for name, path in dirs.items():
        results[name] = measure(path, opened, QUESTIONS[: args.questions])
        print(f"{name}: {results[name]}", file=sys.stderr)
    base = results.get("mobilebert")
    if base:
        for row in results.values():
            row["answer_vs_mobilebert"] = round(row["answer_s"] / base["answer_s"], 2)
            row["window_vs_mobilebert"] = round(row["ms_per_window"] / base["ms_per_window"], 2)
    print(
        json.dumps(
            {
                "benchmark": "readers",
                "book": args.book.name,
                "total_passages": opened.total_passages,
                "threads": physical_cores(),
                "load_avg_start": load_start,
                "packs": results,
                "load_avg_end": [round(v, 2) for v in os.getloadavg()],
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
