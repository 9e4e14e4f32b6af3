"""The one entry point the CLI and the GUI share: open documents, answer questions.

It hides *how* (document cache, keyword pre-ranking, exhaustive scan,
reader-less keyword answers) behind two calls, so the front ends hold no QA
logic and speed work changes only this layer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop_qa.core.document import Document, load_document
from desktop_qa.core.qa import Progress, ask_iter
from desktop_qa.core.reader import Reader

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


def open_document(
    path: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Document:
    """Open a document read-only (raises UserError with a one-line message)."""
    return load_document(Path(path), progress=progress, cancel=cancel)


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

    ``reader`` None means no model pack is installed (keyword answers, later);
    ``exhaustive`` reads every window instead of the pre-ranked ones first.
    """
    if reader is None:
        raise NotImplementedError("keyword-only answers need the passage index")
    yield from ask_iter(doc, question, reader, top_k=top_k, threshold=threshold, cancel=cancel)
