"""The one entry point the CLI and the GUI share: open documents, answer questions.

It hides *how* (document cache, keyword pre-ranking, exhaustive scan,
reader-less keyword answers) behind two calls, so the front ends hold no QA
logic and speed work changes only this layer:

* ``open_document`` reads a document through the cache (``cache``): the first
  open extracts and indexes it, later opens of the same bytes load the result.
* ``answer_iter`` reads the windows of the ``TOP_PASSAGES`` passages that bm25
  ranks best (a second or two instead of minutes on a long document);
  ``exhaustive=True`` reads those first, then every other passage, refining
  the answers as it goes. Without a reader it answers from the keyword index.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop_qa.core import cache
from desktop_qa.core.document import Document, load_document
from desktop_qa.core.errors import Cancelled
from desktop_qa.core.index import TOP_PASSAGES, PassageIndex, best_sentence
from desktop_qa.core.ocr import OcrOptions
from desktop_qa.core.passages import make_passages
from desktop_qa.core.qa import (
    Answer,
    Progress,
    QueryResult,
    ask_iter,
    clean_question,
    make_answer,
)
from desktop_qa.core.reader import Reader

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
KEYWORD_MODEL_NAME = "keyword index"

# Document -> its index. Keyed by id() (Document is an unhashable dataclass);
# weakref.finalize drops the entry and closes the connection with the document.
_indexes: dict[int, PassageIndex] = {}
_lock = threading.Lock()


def _forget(key: int) -> None:
    with _lock:
        index = _indexes.pop(key, None)
    if index is not None:
        index.close()


def _register(doc: Document, index: PassageIndex) -> None:
    with _lock:
        old = _indexes.get(id(doc))
        _indexes[id(doc)] = index
    if old is None:
        weakref.finalize(doc, _forget, id(doc))
    elif old is not index:
        old.close()


def document_index(doc: Document) -> PassageIndex:
    """The passage index of a document; built in memory for documents not opened here."""
    with _lock:
        index = _indexes.get(id(doc))
    if index is None:
        index = PassageIndex.build(doc.text, make_passages(doc.text))
        _register(doc, index)
    return index


def open_document(
    path: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    ocr: OcrOptions | None = None,
) -> Document:
    """Open a document read-only, from the cache when its bytes were seen before.

    ``ocr``: when and how scanned pages are OCR'd (default auto, English); a
    cache entry made with other OCR settings is not reused. Raises UserError
    with a one-line message (missing, damaged, no text, ...).
    """
    path = Path(path).expanduser()
    ocr = OcrOptions() if ocr is None else ocr
    variant = ocr.signature()
    digest = _hash(path)
    if digest:
        if cancel is not None and cancel():
            raise Cancelled()
        hit = cache.load(digest, path, variant=variant)
        if hit is not None:
            doc, index = hit
            _register(doc, index)
            if progress is not None:
                pages = max(doc.page_count, 1)
                progress(pages, pages)
            return doc
    doc = load_document(path, progress=progress, cancel=cancel, ocr=ocr.with_key(digest or ""))
    passages = make_passages(doc.text)
    # Store only if the file did not change while it was read (else key and content differ).
    if digest and _hash(path) == digest:
        doc.content_hash = digest
        index = cache.store(doc, passages, variant=variant)
    else:
        index = None
    if index is None:
        index = PassageIndex.build(doc.text, passages)
    _register(doc, index)
    return doc


def _hash(path: Path) -> str | None:
    try:
        return cache.file_sha256(path) if path.is_file() else None
    except OSError:
        return None  # load_document reports the problem in its own words


def answer_iter(
    doc: Document,
    question: str,
    reader: Reader | None,
    *,
    top_k: int = 5,
    threshold: float | None = None,
    exhaustive: bool = False,
    cancel: CancelFn | None = None,
) -> Iterator[Progress]:
    """Yield progress with the answers so far; the last item is final.

    ``reader`` None means no model pack is installed: one item with keyword
    answers (``QueryResult.mode == "keyword"``). Otherwise the pre-ranked
    passages are read first and, if they hold an answer, that is final; if
    they do not, or ``exhaustive`` is set, every window is read
    (``QueryResult.whole_document`` says which was done).
    """
    question = clean_question(question, top_k)
    index = document_index(doc)
    if reader is None:
        yield keyword_answers(doc, question, index, top_k=top_k)
        return
    with _lock:
        hits = index.search(question, TOP_PASSAGES)
    ranked = [index.passages[h.passage] for h in hits]
    seen = {p.index for p in ranked}
    everything = ranked + [p for p in index.passages if p.index not in seen]
    # A short document is read whole at once.
    whole = exhaustive or len(index.passages) <= TOP_PASSAGES
    final = None
    if not whole:
        for step in ask_iter(
            doc, question, reader, top_k=top_k, threshold=threshold, passages=ranked, cancel=cancel
        ):
            if step.result is not None:
                step.result.whole_document = False
                final = step.result
            if step.done < step.total or final is None or not final.no_answer:
                yield step
        if final is not None and not final.no_answer:
            return
        # "Not in this document" must mean the document was read: when the
        # best-matching passages hold no answer (or no passage shares a word
        # with the question), go on through all of it, best-matching first.
    for step in ask_iter(
        doc, question, reader, top_k=top_k, threshold=threshold, passages=everything, cancel=cancel
    ):
        if step.result is not None:
            step.result.whole_document = True
        yield step


def keyword_answers(
    doc: Document, question: str, index: PassageIndex, *, top_k: int = 5
) -> Progress:
    """The best-matching sentence of each of the ``top_k`` best bm25 passages.

    What the app can still offer with no model pack: find-in-document by
    meaning-ish keywords (stemmed), labelled ``mode="keyword"``. ``score`` is
    the passage's bm25 (higher is better) and ``probability`` its share of the
    listed scores, not a model probability.
    """
    started = time.perf_counter()
    with _lock:
        hits = index.search(question, top_k)
    total = sum(h.score for h in hits) or 1.0
    answers: list[Answer] = []
    for hit in hits:
        passage = index.passages[hit.passage]
        start, end = best_sentence(doc.text, passage.start, passage.end, question)
        answers.append(make_answer(doc, start, end, hit.score, hit.score / total))
    result = QueryResult(
        question=question,
        document=str(doc.path) if doc.path else doc.name,
        model_name=KEYWORD_MODEL_NAME,
        trained=False,
        no_answer=not answers,
        null_score=None,
        best_span_score=answers[0].score if answers else None,
        threshold=0.0,
        answers=answers,
        candidates=list(answers),
        seconds=time.perf_counter() - started,
        mode="keyword",
        whole_document=True,
    )
    return Progress(1, 1, result)
