"""Asking through the one door (``engine.answer``) in tests."""

from __future__ import annotations

from typing import Any

from desktop_qa.core import Document, OpenedDocument, Query, QueryResult, Reader, answer, final


def ask_text(text: str | Document, question: str, reader: Reader, **query: Any) -> QueryResult:
    """The final result for a question about a string, as the app would answer it."""
    doc = Document.from_text(text) if isinstance(text, str) else text
    with OpenedDocument.from_document(doc) as scope:
        return final(answer(scope, Query(question, **query), reader))
