"""A question's keywords, and what makes a sentence the answer to them.

A question's content words (``query_terms``) rank passages in the keyword
index; their stems, weights and the kind of answer asked for pick the sentence
that keyword answers show (no model pack) and the one the reader's first,
short window is centred on (``sentences.best_sentence``).

A sentence is scored by what people ask, measured on real SQuAD 2.0 questions
(benchmarks/squad_questions.py, docs/performance.md §2): the share of the
question's words it holds (weighted by rarity), those words standing close
together, and an answer of the kind the question asks for (when: a date or a
time; how many or how much: a number; who: a name; where: a place) among its
*other* words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sized
from dataclasses import dataclass
from typing import Protocol

# -- the words of a question -------------------------------------------------------------------
# At most this many words of a question are searched for.
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)

# Function words and question words: they match nearly every passage, so they
# only dilute bm25. Content words of the question do the ranking.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each either
    else ever every few for from further had has have having he her here hers herself him
    himself his how however i if in into is it its itself just let me might more most much
    must my myself no nor not now of off on once only or other our ours ourselves out over own
    please same shall she should since so some such tell than that the their theirs them
    themselves then there these they this those through thus to too under until up upon us
    very was we were what whatever when whenever where whereas wherever whether which while
    who whom whose why will with within without would yet you your yours yourself yourselves
    s t d ll m re ve
    """.split()
)


def query_terms(question: str, *, min_length: int = 1) -> list[str]:
    """Content words of a question, lower-cased, de-duplicated, in order."""
    words = [w.lower() for w in _WORD.findall(question)]
    words = [w.strip("_") for w in words]
    content = [w for w in words if w and w not in STOP_WORDS and len(w) >= min_length]
    if not content:  # "Who is it?": better a weak query than none
        content = [w for w in words if w and len(w) >= min_length]
    seen: dict[str, None] = {}
    for w in content:
        seen.setdefault(w, None)
    return list(seen)[:MAX_TERMS]


def stem(word: str) -> str:
    """A crude stem for picking a sentence: the first five letters ("terminat" ~ "termin")."""
    return word[:5]


def query_stems(question: str) -> set[str]:
    """Crude stems of the question's content words."""
    return {stem(t) for t in query_terms(question)}


def word_stems(text: str) -> set[str]:
    """Crude stems of every word of ``text``."""
    return {stem(w.lower()) for w in _WORD.findall(text)}


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


def held_keys(text: str, keys: Mapping[str, float]) -> set[str]:
    """The question keys (``word_key``) that any word of ``text`` is a form of."""
    words = {w.lower() for w in _WORD.findall(text)}
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


# -- a question's keywords ---------------------------------------------------------------------
# Up to this many passages are counted per question word to weigh it (rarer weighs more).
RARITY_SAMPLE = 200
# A sentence's score: the share of the question's words it holds (weighted by rarity), plus
# CLOSE_WEIGHT times how close together they stand and KIND_WEIGHT when it holds the kind
# of answer asked for (a date for "when", ...). Tuned on the tuning split of
# benchmarks/squad_questions.py (docs/performance.md §2), with the passage's prior
# (``engine.PRIOR_WEIGHT``).
CLOSE_WEIGHT = 0.2
KIND_WEIGHT = 0.3


class Searchable(Protocol):
    """What weighing a question's words needs of a scope (``reading.loop.Scope`` has it)."""

    @property
    def total_passages(self) -> int: ...

    def search(self, question: str, limit: int) -> Sized: ...


@dataclass(frozen=True)
class Keywords:
    """The keyword view of one question: its words' keys and weights, stems, kind asked."""

    weights: Mapping[str, float]
    stems: frozenset[str]
    kind: str | None


@dataclass(frozen=True)
class Scored:
    """A sentence's keyword score (higher is better) and the share of the question's
    weighted words it holds."""

    score: float
    share: float


NO_WORDS = Keywords({}, frozenset(), None)


def keyword_weights(scope: Searchable, question: str) -> dict[str, float]:
    """The question's content words (as prefixes), each weighted 1-2 by rarity in the scope.

    A word in ``df`` of ``N`` passages weighs ``1 + log(1 + N/df) / log(1 + N)``:
    a word in every passage 1, a word in one passage about 2 (``df`` is counted
    up to ``RARITY_SAMPLE``; a word the scope never holds weighs 1, since it
    cannot tell passages apart). A one-passage scope has nothing to compare:
    every word weighs the same (2), held or not, without a search.
    """
    total = max(scope.total_passages, 1)
    weights: dict[str, float] = {}
    for term in query_terms(question):
        key = word_key(term)
        if key in weights:
            continue
        df = len(scope.search(term, RARITY_SAMPLE)) if total > 1 else 1
        weights[key] = 1.0 + (math.log(1 + total / df) / math.log(1 + total) if df else 0.0)
    return weights


def keywords_of(scope: Searchable, question: str) -> Keywords:
    """The question's weighted words, stems and kind, as every sentence is scored by them."""
    return Keywords(
        keyword_weights(scope, question), frozenset(query_stems(question)), question_kind(question)
    )


def unweighted(question: str) -> Keywords:
    """The question's words, each weighing 1 (a passage's best sentence is picked without
    a search of the scope), its stems and kind."""
    weights = {word_key(t): 1.0 for t in query_terms(question)}
    return Keywords(weights, frozenset(query_stems(question)), question_kind(question))


def sentence_value(words: Keywords, piece: str) -> float:
    """How well a sentence points to the answer, for the reader's first window: the
    question's words it holds, plus how close together they stand and whether it holds
    the kind of answer asked for (0 when it holds none)."""
    keys = words.weights
    held = len(held_keys(piece, keys))
    return held + (closeness(piece, keys) + has_kind(words.kind, piece, keys) if held else 0)


def keyword_coverage(weights: Mapping[str, float], text: str) -> tuple[float, float]:
    """(share of the weight, share of the words) of the question that ``text`` holds."""
    if not weights:
        return 0.0, 0.0
    held = held_keys(text, weights)
    # fsum: exact, so the share does not depend on the set's (hash-seeded) order, and a
    # sentence holding every word is 1.0, not 0.9999999999999999 in some runs.
    total = math.fsum(weights.values())
    return math.fsum(weights[k] for k in held) / total, len(held) / len(weights)


def score(keywords: Keywords, piece: str) -> Scored | None:
    """A sentence's keyword score, or None when it holds none of the question's words."""
    weights = keywords.weights
    share, count = keyword_coverage(weights, piece)
    if count == 0:
        return None
    close = closeness(piece, weights) if count * len(weights) > 1 else 0.0
    kind = has_kind(keywords.kind, piece, weights)
    return Scored(share + CLOSE_WEIGHT * close + KIND_WEIGHT * kind, share)
