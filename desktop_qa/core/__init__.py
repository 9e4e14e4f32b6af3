"""Qt-free core: documents, passages, model packs, the reader and answer ranking.

Importing this package must never import Qt (or torch); the CLI, the GUI and
the tests all stand on it. The one way to ask is ``engine.answer(scope,
query, reader)``: a generator that yields ``Progress`` and returns the final
``QueryResult``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. They load on first use (PEP 562): importing
# ``desktop_qa.core.system.paths`` or ``errors`` must not load numpy, PyMuPDF's helpers,
# the reader and the library, which cost a CLI start 0.3-0.6 s before any question.
_PUBLIC = {
    "Box": "documents.document",
    "Document": "documents.document",
    "load_document": "documents.document",
    "OpenedDocument": "reading.engine",
    "answer": "reading.engine",
    "final": "reading.engine",
    "open_document": "storage.opening",
    "Cancelled": "errors",
    "UserError": "errors",
    "ModelPack": "reading.pack",
    "find_pack": "reading.pack",
    "load_pack": "reading.pack",
    "Passage": "search.passages",
    "make_passages": "search.passages",
    "Scope": "reading.loop",
    "Query": "reading.query",
    "Reader": "reading.reader",
    "Answer": "reading.results",
    "Progress": "reading.results",
    "QueryResult": "reading.results",
    "Read": "reading.results",
    "ReadingState": "reading.results",
}

if TYPE_CHECKING:
    from desktop_qa.core.documents.document import Box, Document, load_document
    from desktop_qa.core.errors import Cancelled, UserError
    from desktop_qa.core.reading.engine import OpenedDocument, answer, final
    from desktop_qa.core.reading.loop import Scope
    from desktop_qa.core.reading.pack import ModelPack, find_pack, load_pack
    from desktop_qa.core.reading.query import Query
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.core.reading.results import Answer, Progress, QueryResult, Read, ReadingState
    from desktop_qa.core.search.passages import Passage, make_passages
    from desktop_qa.core.storage.opening import open_document


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Answer",
    "Box",
    "Cancelled",
    "Document",
    "ModelPack",
    "OpenedDocument",
    "Passage",
    "Progress",
    "Query",
    "QueryResult",
    "Read",
    "Reader",
    "ReadingState",
    "Scope",
    "UserError",
    "answer",
    "final",
    "find_pack",
    "load_document",
    "load_pack",
    "make_passages",
    "open_document",
]
