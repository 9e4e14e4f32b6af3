"""Sentences of a passage, and what makes one the answer to a question's keywords.

Keyword answers (no model pack) show one sentence, and the reader's first,
short window is centred on one: both pick it here. Boundaries come from
``sentencex`` (Wikimedia, MIT), which knows abbreviations ("Disney, Inc.",
"U.S.", "e.g.", "Dr.", "No. 5"), so a sentence is not cut at them; a short
line without closing punctuation (a heading, a table row) ends where it ends.

A sentence is scored by what people ask, measured on real SQuAD 2.0 questions
(benchmarks/squad_questions.py, docs/performance.md §2): the share of the
question's words it holds (weighted by rarity), those words standing close
together, and an answer of the kind the question asks for (when: a date or a
time; how many or how much: a number; who: a name; where: a place) among its
*other* words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import sentencex

_WORD = re.compile(r"\w+", re.UNICODE)
# A line this short without closing punctuation ends a sentence where it ends (a heading,
# a list item, a table row): prose wraps at longer lines.
HEADING_LINE = 50
_CLOSED = tuple(".,;:!?-–—(\"“‘'")

# -- what a question asks for -----------------------------------------------------------------
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "number",
        re.compile(
            r"\bhow (many|much|long|far|old|large|big|tall|high|wide|deep|heavy|fast|often)\b"
            r"|\bwhat (percentage|percent|proportion|number|amount|share|fraction|size|age)\b",
            re.I,
        ),
    ),
    (
        "when",
        re.compile(
            r"\bwhen\b|\b(what|which|in what|in which) (year|years|date|day|month|century|decade|"
            r"time|period|era|season)\b",
            re.I,
        ),
    ),
    ("who", re.compile(r"\b(who|whom|whose)\b|\b(what|which) (person|people|man|woman)\b", re.I)),
    (
        "where",
        re.compile(
            r"\bwhere\b|\b(what|which|in what|in which) (country|city|town|place|region|state|"
            r"province|county|continent|area|location|island|river|street|building)\b",
            re.I,
        ),
    ),
)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|half|"
    "third|quarter|percent|twice|once"
)
_ANSWERS: dict[str, re.Pattern[str]] = {
    "when": re.compile(
        rf"\b(1\d{{3}}|20\d{{2}})s?\b|\b({_MONTHS}|{_DAYS})\b|\b\d{{1,2}}(st|nd|rd|th)\b"
        r"|\b\d{1,2}[:.]\d{2}\b|\bcentur(y|ies)\b|\b(BC|AD|BCE|CE)\b|\b(today|yesterday|"
        r"tomorrow|morning|evening|night|noon|midnight)\b",
        re.I,
    ),
    "number": re.compile(rf"\d|%|[$€£¥]|\b({_NUMBER_WORDS})\b", re.I),
    # A capitalised word that does not start the sentence: a name, a place.
    "who": re.compile(r"(?<=[\w,;:)] )[A-Z][\w'’.-]+"),
    "where": re.compile(r"(?<=[\w,;:)] )[A-Z][\w'’.-]+"),
}


def question_kind(question: str) -> str | None:
    """What the question asks for: "when", "number", "who", "where", or None."""
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return None


def word_key(term: str) -> str:
    """A prefix that stands for a word's forms: "launch" ~ "launched", "sign" ~ "signed"."""
    if len(term) > 5:
        return term[:5]
    return term[:-1] if len(term) > 3 and term.endswith("s") else term


def _held(word: str, keys: Mapping[str, float]) -> str | None:
    """The question key a word is a form of (the longest), or None."""
    lower = word.lower()
    for n in range(min(len(lower), 5), 0, -1):  # keys are at most 5 characters long
        if lower[:n] in keys:
            return lower[:n]
    return None


def held_keys(words: Iterable[str], keys: Mapping[str, float]) -> set[str]:
    """The question keys (``word_key``) that any of ``words`` (lower-cased) is a form of."""
    lengths = {len(k) for k in keys}
    return {w[:n] for w in words for n in lengths if w[:n] in keys}


def has_kind(kind: str | None, text: str, keys: Mapping[str, float]) -> bool:
    """Whether ``text`` holds an answer of the kind asked for among words not of the question."""
    pattern = _ANSWERS.get(kind or "")
    if pattern is None:
        return False
    return any(_held(m.group(), keys) is None for m in pattern.finditer(text))


def closeness(text: str, keys: Mapping[str, float]) -> float:
    """How close together the question's words stand: distinct words held over the
    fewest words spanning them all (1 when adjacent; 0 with fewer than two held)."""
    seen: list[tuple[int, str]] = []
    for i, m in enumerate(_WORD.finditer(text)):
        key = _held(m.group(), keys)
        if key is not None:
            seen.append((i, key))
    distinct = {k for _, k in seen}
    if len(distinct) < 2:
        return 0.0
    best = len(seen) and seen[-1][0] - seen[0][0] + 1
    counts: dict[str, int] = {}
    left = 0
    for pos, key in seen:  # the shortest run of words holding every key
        counts[key] = counts.get(key, 0) + 1
        while len(counts) == len(distinct):
            best = min(best, pos - seen[left][0] + 1)
            lkey = seen[left][1]
            counts[lkey] -= 1
            if not counts[lkey]:
                del counts[lkey]
            left += 1
    return len(distinct) / best


# -- sentence boundaries ----------------------------------------------------------------------
def split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentences of ``text[start:end]`` as (start, end) offsets, whitespace trimmed."""
    out: list[tuple[int, int]] = []
    pos = start
    for segment in sentencex.segment("en", text[start:end]):
        piece = segment.strip()
        if not piece:
            continue
        at = text.find(piece, pos, end)
        if at < 0:  # the segmenter changed the text: keep what is left as one piece
            at, piece = pos, text[pos:end].strip()
            if not piece:
                break
            at = text.find(piece, pos, end)
        out.extend(_lines(text, at, at + len(piece)))
        pos = at + len(piece)
    return out


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a sentence after short lines that close nothing (headings, rows, list items)."""
    out = []
    a = line_start = start
    while True:
        nl = text.find("\n", line_start, end)
        if nl < 0:
            break
        line = text[line_start:nl].rstrip()
        if line and len(line) < HEADING_LINE and not line.endswith(_CLOSED):
            if line_start + len(line) > a:
                out.append((a, line_start + len(line)))
            a = nl + 1
            while a < end and text[a].isspace():
                a += 1
        line_start = nl + 1
    if a < end:
        out.append((a, end))
    return out
