"""Keyword pre-ranking: safe MATCH syntax, and recall on a generated 300-page fact set."""

from __future__ import annotations

import bisect

import pytest

from desktop_qa.core.index import (
    TOKENIZERS,
    TOP_PASSAGES,
    PassageIndex,
    best_sentence,
    match_expression,
    query_terms,
)
from desktop_qa.core.passages import make_passages
from tests.factset import FactDocument, generate


def fact_passages(fd: FactDocument, passages: list) -> list[int]:
    """Index of the passage that holds each fact sentence."""
    text = fd.text
    starts, pos = [], 0
    for p in fd.paragraphs:
        starts.append(pos)
        pos += len(p) + 2
    passage_starts = [p.start for p in passages]
    out = []
    for fact in fd.facts:
        offset = text.index(fact.sentence, starts[fact.paragraph])
        out.append(bisect.bisect_right(passage_starts, offset) - 1)
    return out


def test_terms_drop_stop_words_and_quote() -> None:
    assert query_terms("When does the lease END?") == ["lease", "end"]
    assert match_expression("When does the lease end?") == '"lease" OR "end"'
    assert match_expression('say "hi" NEAR(x) AND') == '"say" OR "hi" OR "near" OR "x"'
    assert match_expression("?!") is None
    assert query_terms("Who is it?") == ["who", "is", "it"]  # all stop words: keep them
    assert match_expression("an ox", "trigram") is None  # trigrams need 3 characters


@pytest.mark.parametrize("tokenizer", sorted(TOKENIZERS))
def test_hostile_questions_never_crash(tokenizer: str) -> None:
    """User text is never FTS5 syntax, and the words in it still rank the right passage."""
    filler = "Nothing of note happens in this paragraph, which talks about the weather. " * 12
    paragraphs = [
        f"{filler} The lease ends in May.",
        f'{filler} "Quoted" text; NEAR(a b) and OR * ^ : - col:x.',
        f"{filler} Ünïcödé words and the depot terminates.",
    ]
    text = "\n\n".join(paragraphs)
    passages = make_passages(text)
    assert len(passages) == 3
    index = PassageIndex.build(text, passages, tokenizer=tokenizer)
    for question in [
        '"',
        "'",
        "*",
        "NEAR(lease",
        "lease OR",
        "AND AND",
        "col:lease",
        "^lease",
        "-lease",
        "lease\x00end",
        "(((",
        '""lease""',
        "x" * 5000,
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ünïcödé lease",
        "",
        " ".join(["lease"] * 500),
    ]:
        hits = index.search(question)
        assert len({h.passage for h in hits}) == len(hits) <= 3
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        if "lease" in question and "ünïcödé" not in question:
            assert hits and hits[0].passage == 0, question
    assert index.search("When does the lease end?")[0].passage == 0
    assert index.search("Which depot terminates?")[0].passage == 2


def test_prerank_recall_at_least_95_percent() -> None:
    """The passage holding the fact is among those read first for >= 95% of 240 questions."""
    fd = generate(pages=300, facts=240)
    passages = make_passages(fd.text)
    targets = fact_passages(fd, passages)
    index = PassageIndex.build(fd.text, passages)
    found = sum(
        target in {h.passage for h in index.search(fact.question, TOP_PASSAGES)}
        for fact, target in zip(fd.facts, targets, strict=True)
    )
    assert len(fd.facts) >= 200
    assert found / len(fd.facts) >= 0.95, f"recall {found}/{len(fd.facts)}"


def test_questions_paraphrase_facts() -> None:
    """The generated set is not trivial: questions use other word forms than the facts."""
    fd = generate(pages=20, facts=24)
    differing = sum(
        bool(set(query_terms(f.question)) - set(query_terms(f.sentence))) for f in fd.facts
    )
    assert differing >= len(fd.facts) // 2


def test_best_sentence_is_the_matching_one() -> None:
    text = "The weather was fine. The lease of the depot terminates on 3 May. Nothing else."
    a, b = best_sentence(text, 0, len(text), "When does the depot lease terminate?")
    assert text[a:b] == "The lease of the depot terminates on 3 May."
