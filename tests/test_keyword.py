"""Keyword mode (no model pack): an honest score, and "no answer" when the words are not there."""

from __future__ import annotations

import math

import pytest

from desktop_qa.core.documents.document import Document
from desktop_qa.core.reading import engine
from desktop_qa.core.reading.engine import KEYWORD_COVERAGE, OpenedDocument
from desktop_qa.core.reading.query import Query
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


# -- word forms, rarity weights and the exact coverage boundary --------------------------------
FILL = "river mountain capital table figure system value number monday tuesday".split()


def _passages_scope(*heads: str) -> OpenedDocument:
    """One passage per head (each over 600 characters, so no two share a passage)."""
    paras = [
        head + " " + " ".join(FILL[(i + j) % len(FILL)] for j in range(90)) + "."
        for i, head in enumerate(heads)
    ]
    scope = OpenedDocument.from_document(Document.from_text("\n\n".join(paras), "words"))
    assert scope.total_passages == len(heads)
    return scope


def _holds(question_word: str, text: str) -> bool:
    scope = _passages_scope("One passage.", "Another passage.")
    weights = engine.keyword_weights(scope, question_word)
    assert len(weights) == 1
    share, count = engine.keyword_coverage(weights, text)
    assert share == count
    return count == 1.0


def test_a_question_word_matches_its_forms_but_not_other_words():
    """What `_word_key` promises: "launch" ~ "launched", "sign" ~ "signed"; plurals drop
    their "s"; a short word or a different word sharing a few letters does not match."""
    assert _holds("launch", "The rocket launched at dawn.")
    assert _holds("launched", "They launch it at dawn.")
    assert _holds("priced", "The price went up.")
    assert _holds("sign", "The treaty was signed.")
    assert _holds("signs", "The treaty was signed.")
    assert _holds("maps", "A map of the city.")
    assert _holds("Launched", "LAUNCH day.")
    assert not _holds("launched", "The laundry was done.")
    assert not _holds("sign", "A sight to see.")
    assert not _holds("signs", "A sight to see.")
    assert not _holds("bus", "But they walked.")
    assert not _holds("rocket", "A pocket knife.")


def test_rarer_question_words_weigh_more():
    """1 + log(1 + N/df) / log(1 + N): a word of one passage 2, of every passage least,
    a word the scope never holds 1 (it tells no passage apart)."""
    scope = _passages_scope("A comet passed.", "Nothing here.", "Still nothing.", "Nor here.")
    n = scope.total_passages
    weights = engine.keyword_weights(scope, "comet comets river quasar")
    assert weights == {
        "comet": pytest.approx(2.0),
        "river": pytest.approx(1 + math.log(2) / math.log(1 + n)),
        "quasa": 1.0,
    }
    assert weights["comet"] > weights["river"] > weights["quasa"]
    # Two passages of four: between the two.
    scope = _passages_scope("A comet passed.", "A comet again.", "Nothing here.", "Nor here.")
    weights = engine.keyword_weights(scope, "comet")
    assert weights == {"comet": pytest.approx(1 + math.log(3) / math.log(5))}
    # A one-passage scope tells nothing apart: every question word weighs the same there,
    # held or not (the share of the weight is the share of the words).
    one = OpenedDocument.from_document(Document.from_text("A comet and a river.", "one"))
    weights = engine.keyword_weights(one, "comet river quasar")
    assert weights == {"comet": 2.0, "river": 2.0, "quasa": 2.0}


def test_a_sentence_holding_exactly_half_the_weight_and_most_words_is_an_answer():
    """The rule: more than half of the question's words and at least KEYWORD_COVERAGE (half)
    of their weight. "launched" and "painted" are in no passage (weight 1 each) but the
    sentence holds their forms; "zephyr", "comet" and "nebula" each in one passage (2)."""
    scope = _passages_scope("The launcher met the painter of zephyr.", "A comet and a nebula.")
    question = "launched painted zephyr comet nebula?"
    weights = engine.keyword_weights(scope, question)
    assert sorted(weights.values()) == [1.0, 1.0, 2.0, 2.0, 2.0]
    share, count = engine.keyword_coverage(weights, "The launcher met the painter of zephyr.")
    assert (share, count) == (KEYWORD_COVERAGE, 3 / 5)
    result = engine.keyword_answers(scope, Query(question, top_k=2))
    assert not result.no_answer
    held = {a.text: a.probability for a in result.answers}
    # The other passage holds half the weight too, but two words of five.
    assert held == {
        "The launcher met the painter of zephyr.": KEYWORD_COVERAGE,
        "A comet and a nebula.": KEYWORD_COVERAGE,
    }
    # Without the sentence that holds most words, no answer.
    alone = engine.keyword_answers(scope, Query("comet nebula launched painted zephyrs?", top_k=1))
    assert alone.candidates[0].text == "A comet and a nebula." and alone.no_answer
    # Half the weight but only half the words: no answer.
    result = engine.keyword_answers(scope, Query("zephyr comet?", top_k=2))
    assert result.no_answer and result.answers == ()
    assert {a.probability for a in result.candidates} == {0.5}
    # Most of the words but less than half the weight: no answer.
    result = engine.keyword_answers(scope, Query("launched painted comet?", top_k=2))
    assert result.no_answer
