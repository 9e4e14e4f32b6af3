"""Stage 2, search: a document's text cut into passages and ranked for a question.

``passages`` cuts paragraph-aware passages that keep their offsets; ``index`` is the
SQLite FTS5 keyword index (bm25) that pre-ranks them, for a document or a library.
"""
