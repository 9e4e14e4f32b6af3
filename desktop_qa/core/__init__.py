"""Qt-free core: documents, passages, model packs, the reader and answer ranking.

Importing this package must never import Qt (or torch); the CLI, the GUI and
the tests all stand on it. The one way to ask is ``engine.answer(scope,
query, reader)``: a generator that yields ``Progress`` and returns the final
``QueryResult``.
"""

from desktop_qa.core.document import Box, Document, load_document
from desktop_qa.core.engine import OpenedDocument, answer, final, open_document
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.pack import ModelPack, find_pack, load_pack
from desktop_qa.core.passages import Passage, make_passages
from desktop_qa.core.qa import Scope
from desktop_qa.core.query import Query
from desktop_qa.core.reader import Reader
from desktop_qa.core.results import Answer, Progress, QueryResult, Read, ReadingState

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
