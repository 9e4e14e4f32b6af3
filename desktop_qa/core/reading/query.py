"""One question, validated once: what every front end hands to ``engine.answer``.

The CLI, the GUI, ``eval`` and the pack check all build a ``Query``; its
constructor normalises the question and checks the options with the one-line
messages users see, so no later layer re-cleans or re-checks anything.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace

from desktop_qa.core.errors import UserError

# How far down the bm25 ranking a question with no answer in the first
# index.TOP_PASSAGES passages is read before saying "no answer in the n
# best-matching passages".
# Measured on human-written questions over a 446-page document: the answer
# passage is among the 12 best 98.4%, the 24 best 99.5%, the 48 best 99.6%; on the
# generated 300-page fact set (benchmarks/bounded.py) 100% at 24 and 48. 24 halves
# a bounded no-answer's reading for 0.1% of the answers (docs/performance.md).
DEFAULT_DEPTH = 24
MAX_TOP_K = 1000
MAX_QUESTION_CHARS = 2000

EMPTY_QUESTION = "the question is empty; type a question such as 'When does the lease end?'"


def clean_text(text: str) -> str:
    """Whitespace collapsed, control characters removed; UserError on undecodable bytes."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cs":  # a byte that was not UTF-8 (surrogateescape'd argv)
            raise UserError(
                "the question is not valid UTF-8 text; type it again or check your "
                "terminal's encoding"
            )
        if category != "Cc" or ch.isspace():
            kept.append(ch)
    return " ".join("".join(kept).split())


@dataclass(frozen=True)
class Query:
    """A normalised question and how to read for it.

    ``depth``: passages of the bm25 ranking read at most before a bounded
    "no answer" (``exhaustive`` reads the whole scope instead).
    ``threshold``: the no-answer threshold in logits; None means the pack's.
    """

    question: str
    top_k: int = 5
    threshold: float | None = None
    depth: int = DEFAULT_DEPTH
    exhaustive: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.question, str):
            raise UserError(EMPTY_QUESTION)
        question = clean_text(self.question)
        if not question or not any(ch.isalnum() for ch in question):
            raise UserError(EMPTY_QUESTION)
        if len(question) > MAX_QUESTION_CHARS:
            raise UserError(
                f"the question is {len(question)} characters long; ask it in at most "
                f"{MAX_QUESTION_CHARS}"
            )
        object.__setattr__(self, "question", question)
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int):
            raise UserError(f"must be a whole number (got {self.top_k!r})", setting="top_k")
        if not 1 <= self.top_k <= MAX_TOP_K:
            raise UserError(
                f"must be between 1 and {MAX_TOP_K} (got {self.top_k})", setting="top_k"
            )
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 1:
            raise UserError(
                f"must be a whole number of at least 1 (got {self.depth!r})", setting="depth"
            )
        if self.threshold is not None:
            try:
                value = float(self.threshold)
            except (TypeError, ValueError):
                raise UserError(
                    f"must be a number (got {self.threshold!r})", setting="threshold"
                ) from None
            if not math.isfinite(value):
                raise UserError(
                    f"must be a finite number of logits (got {self.threshold!r})",
                    setting="threshold",
                )
            object.__setattr__(self, "threshold", value)
        object.__setattr__(self, "exhaustive", bool(self.exhaustive))

    def deeper(self) -> Query:
        """The same question, reading the whole scope ("Read the whole document")."""
        return replace(self, exhaustive=True)
