"""Keyword mode (no model pack): an honest score, and "no answer" when the words are not there."""

from __future__ import annotations

from desktop_qa.core import engine
from desktop_qa.core.document import Document
from desktop_qa.core.engine import KEYWORD_COVERAGE, OpenedDocument
from desktop_qa.core.query import Query
from tests.factset import generate

LAUNCH = "The launch code of the Zephyr rocket is alpha seven bravo."


def facts_scope(extra: str = "") -> tuple[OpenedDocument, object]:
    fd = generate(pages=300, facts=240)
    text = fd.text + ("\n\n" + extra if extra else "")
    return OpenedDocument.from_document(Document.from_text(text, "facts")), fd


def test_keyword_score_is_the_share_of_question_words_whatever_is_listed():
    """The top match reads the same alone or among five: no share of the listed scores."""
    scope, fd = facts_scope()
    for fact in fd.facts:
        alone = engine.keyword_answers(scope, Query(fact.question, top_k=1))
        if alone.answers and fact.sentence in alone.answers[0].text:
            break
    among = engine.keyword_answers(scope, Query(fact.question, top_k=5))
    assert alone.mode == "keyword" and not alone.no_answer and len(among.answers) == 5
    assert alone.answers[0].text == among.answers[0].text
    assert alone.answers[0].probability == among.answers[0].probability > KEYWORD_COVERAGE
    assert all(0 < a.probability <= 1 for a in among.answers)


def test_keyword_mode_says_no_answer_with_the_best_guess_kept():
    """Half a question's words in the best sentence is no answer, worded as keyword search."""
    scope, _fd = facts_scope("Congress has already launched proceedings on the rocket.")
    result = engine.keyword_answers(scope, Query("What is the launch code?", top_k=5))
    assert result.no_answer and result.answers == ()
    assert result.best_guess is not None and "launched" in result.best_guess.text
    assert result.best_guess.probability < 1.0
    message = result.to_json()["message"]
    assert "keyword search" in message and "no model read it" in message
    assert result.threshold == KEYWORD_COVERAGE


def test_keyword_no_answer_loses_at_most_one_percent_of_answerable_questions():
    """240 paraphrased fact questions: of those whose fact sentence is listed, <= 1% lose it."""
    scope, fd = facts_scope()
    text = scope.doc.text
    starts, pos = [], 0
    for p in fd.paragraphs:
        starts.append(pos)
        pos += len(p) + 2
    answerable = lost = 0
    for fact in fd.facts:
        at = text.index(fact.sentence, starts[fact.paragraph])
        result = engine.keyword_answers(scope, Query(fact.question, top_k=5))
        listed = [
            a for a in result.candidates if a.start <= at + len(fact.sentence) and a.end >= at
        ]
        if not listed:
            continue
        answerable += 1
        if not any(a in result.answers for a in listed):
            lost += 1
    assert answerable >= 200
    assert lost <= answerable // 100, f"{lost} of {answerable} answerable questions lost"
