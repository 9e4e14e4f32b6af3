"""Keyword pre-ranking: safe MATCH syntax, and recall on a generated 300-page fact set."""

from __future__ import annotations

import bisect
import sqlite3
import threading

import pytest

from desktop_qa.core.search.index import (
    TOKENIZERS,
    TOP_PASSAGES,
    PassageIndex,
    SqliteKeywordIndex,
    match_expression,
)
from desktop_qa.core.search.keywords import query_stems, query_terms, word_stems
from desktop_qa.core.search.passages import make_passages
from desktop_qa.core.search.sentences import best_sentence
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


def test_best_sentence_holding_as_many_words_is_the_one_with_the_kind_asked_for() -> None:
    # Both hold "lease" and "ends", side by side: only the second holds a date.
    text = "The lease ends as agreed by both parties. The lease ends on 4 May 2031."
    a, b = best_sentence(text, 0, len(text), "When does the lease end?")
    assert text[a:b] == "The lease ends on 4 May 2031."


def test_best_sentence_holding_as_many_words_is_the_one_where_they_stand_close() -> None:
    text = "The lease is long, and the term of it ends in spring. The lease ends in spring."
    a, b = best_sentence(text, 0, len(text), "Where does the lease end?")
    assert text[a:b] == "The lease ends in spring."


def test_a_date_without_the_question_words_does_not_make_a_sentence_the_best() -> None:
    text = "It was signed on 4 May 2031. The lease is long."
    a, b = best_sentence(text, 0, len(text), "When is the lease?")
    assert text[a:b] == "The lease is long."


def test_stems_match_whatever_the_case() -> None:
    assert word_stems("The LEASE Terminates") == {"the", "lease", "termi"}
    assert query_stems("When does the LEASE terminate?") == {"lease", "termi"}


# -- terms, tokenizers, the stored index (fast, in-process: mutation testing runs these) --------
def test_terms_keep_one_letter_words_strip_underscores_and_are_bounded() -> None:
    assert query_terms("Where is plan B?") == ["plan", "b"]
    assert query_terms("Who am I?") == ["who", "am", "i"]  # all stop words, one letter too
    assert query_terms("What does __init__ call?") == ["init", "call"]
    assert query_terms("lease LEASE lease") == ["lease"]
    many = " ".join(f"word{i}" for i in range(40))
    assert query_terms(many) == [f"word{i}" for i in range(32)]
    assert match_expression("the fox", "trigram") == '"fox"'  # 3 characters: a trigram


def one_passage_each(*paragraphs: str) -> tuple[str, list]:
    text = "\n\n".join(
        p + " " + "Filler words about the weather and nothing else. " * 15 for p in paragraphs
    )
    passages = make_passages(text)
    assert len(passages) == len(paragraphs)
    return text, passages


def test_each_tokenizer_is_the_one_the_index_uses() -> None:
    text, passages = one_passage_each("The depot lease terminates in May.", "The xylophone.")
    porter = PassageIndex.build(text, passages)
    plain = PassageIndex.build(text, passages, tokenizer="unicode61")
    trigram = PassageIndex.build(text, passages, tokenizer="trigram")
    assert (porter.tokenizer, plain.tokenizer, trigram.tokenizer) == (
        "porter",
        "unicode61",
        "trigram",
    )
    assert [h.passage for h in porter.search("When does it terminate?")] == [0]  # stemmed
    assert plain.search("When does it terminate?") == []  # whole words only
    assert [h.passage for h in plain.search("When does it terminates?")] == [0]
    assert [h.passage for h in trigram.search("xylo")] == [1]  # substrings
    assert porter.search("xylo") == []


def test_search_limit_scores_and_a_folder_needs_narrowing() -> None:
    text, passages = one_passage_each("lease lease lease", "the lease", "lease and rent")
    index = PassageIndex.build(text, passages)
    hits = index.search("lease", 3)
    assert len(hits) == 3 and all(h.score > 0 for h in hits)
    assert hits[0].passage == 0  # the most mentions ranks first
    assert [h.passage for h in index.search("lease", 1)] == [0]
    assert index.search("lease", 0) == []
    with pytest.raises(ValueError, match="^this index does not know where its documents are$"):
        index.keywords.search("lease", 3, "/somewhere/")


def test_removed_passages_are_no_longer_found() -> None:
    text, passages = one_passage_each("The lease ends in May.", "The rent is due in June.")
    index = PassageIndex.build(text, passages)
    keywords = SqliteKeywordIndex(index.conn)
    assert keywords.size() == 2
    keywords.remove([(0, text[passages[0].start : passages[0].end])])
    assert keywords.size() == 1
    assert index.search("lease") == []
    assert [h.passage for h in index.search("rent")] == [1]
    keywords.add([(0, "a new lease")])
    assert [h.passage for h in index.search("lease")] == [0]


def stored_index(path, tokenizer: str = "trigram") -> tuple[str, list]:  # type: ignore[no-untyped-def]
    text, passages = one_passage_each("The xylophone.", "The lease ends in May.")
    conn = sqlite3.connect(path)
    PassageIndex.create_schema(conn, tokenizer)
    PassageIndex.fill(conn, text, passages, tokenizer)
    conn.commit()
    conn.close()
    return text, passages


# The path goes into a URI: a space, and the characters a URI reads otherwise ("%20" is
# not a space here, "#" and "?" do not end the path), as in a user name or a cache folder.
@pytest.mark.parametrize("name", ["entry sqlite", "100%20 sure #2 ?.sqlite"])
def test_a_stored_index_opens_read_only_with_its_tokenizer_from_any_thread(tmp_path, name) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    _, passages = stored_index(path)
    index = PassageIndex.open(path)
    assert index.passages == passages
    assert index.tokenizer == "trigram"
    assert [h.passage for h in index.search("xylo")] == [0]  # the stored tokenizer
    with pytest.raises(sqlite3.OperationalError):  # opened read-only
        index.conn.execute("DELETE FROM passage")
    found: list = []
    worker = threading.Thread(target=lambda: found.extend(index.search("lease")))
    worker.start()
    worker.join()
    assert [h.passage for h in found] == [1]  # searched from a reading thread
    index.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_an_in_memory_index_is_searched_from_another_thread() -> None:
    text, passages = one_passage_each("The lease ends in May.")
    index = PassageIndex.build(text, passages)
    found: list = []
    worker = threading.Thread(target=lambda: found.extend(index.search("lease")))
    worker.start()
    worker.join()
    assert [h.passage for h in found] == [0]


@pytest.mark.parametrize("damage", ["tokenizer", "ids"])
def test_an_inconsistent_stored_index_is_refused(tmp_path, damage: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "entry.sqlite"
    stored_index(path, "porter")
    conn = sqlite3.connect(path)
    if damage == "tokenizer":
        conn.execute("UPDATE index_meta SET value = 'snowball' WHERE key = 'tokenizer'")
    else:
        conn.execute("UPDATE passage SET id = 5 WHERE id = 1")
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.DatabaseError, match="^index tables are inconsistent$"):
        PassageIndex.open(path)


# -- the sentence a keyword answer shows ------------------------------------------------------
def shown(text: str, question: str, start: int = 0, end: int | None = None) -> str:
    a, b = best_sentence(text, start, len(text) if end is None else end, question)
    return text[a:b]


def test_the_sentence_shown_is_trimmed_earliest_on_ties_and_never_empty() -> None:
    assert shown("\nThe weather was fine. It rained.", "zebra") == "The weather was fine."
    assert shown("Heading\nThe lease ends.\n", "lease heading") == "Heading"  # earliest of ties
    assert shown("Rent is 500 EUR\nThe end.", "rent") == "Rent is 500 EUR"
    assert shown("It rained. The leased depot.", "When was it leased?") == "The leased depot."
    assert shown("It rained. The lease ended.", "Who leased it?") == "The lease ended."
    assert best_sentence("x   \n  y", 1, 5, "x") == (1, 5)  # only blanks: the range itself


def test_the_sentence_shown_stays_inside_the_passage() -> None:
    text = "The weather was fine. The depot lease ends in May. The lease of the depot."
    end = text.index(" The depot")
    assert shown(text, "depot lease", end=end) == "The weather was fine."
    runon = "The depot " + "and more words " * 40 + "the end."
    text = runon + " The lease of the depot, the lease of the yard, lease lease."
    a, b = best_sentence(text, 0, len(runon), "depot lease")
    assert (a, b) == (0, len(runon[:400].rsplit(" ", 1)[0]))


def test_a_run_on_sentence_is_cut_around_its_words_at_word_boundaries() -> None:
    filler = "and more words " * 60  # 900 characters, one "sentence"
    text = f"Intro words {filler}the zebra stood here {filler}the end"
    part = shown(text, "Where is the zebra?")
    assert "zebra" in part and len(part) <= 400
    z = text.index("zebra")
    a = text.index(part)
    assert 90 <= z - a <= 100  # the words before it: a quarter of the cut
    assert text[a - 1] == " " and text[a + len(part)] == " "  # whole words at both ends
    assert part.startswith("and ") and len(part) > 350
    # Two far apart: the earliest is shown; both near the end: the cut ends with the sentence.
    twice = f"Intro words {filler}a zebra {filler}a zebra {filler}the end"
    a, b = best_sentence(twice, 0, len(twice), "zebra")
    assert a < twice.index("zebra") < b
    late = f"Intro words {filler}the zebra ends it"
    assert shown(late, "zebra").endswith("the zebra ends it")
    early = f"Zebra words {filler}the end"
    assert shown(early, "zebra").startswith("Zebra words")


def test_a_sentence_of_exactly_the_limit_is_shown_whole_and_a_short_one_never_cut() -> None:
    sentence = ("word " * 70 + "zebra").ljust(399, "x") + "."
    assert len(sentence) == 400
    assert shown("Some intro. " + sentence, "zebra") == sentence
    short = "Many words come first here and then the zebra " + "word " * 20 + "done."
    text = "Intro. " * 80 + short
    assert shown(text, "zebra") == short


def test_a_run_on_without_spaces_stays_inside_its_sentence() -> None:
    table = "\t".join(f"cell{i}" for i in range(150))  # a table: tabs, no spaces
    text = "Before it. " + table.replace("cell120", "zebra")
    a, b = best_sentence(text, 0, len(text), "zebra")
    assert "zebra" in text[a:b] and b - a <= 400 and a >= len("Before it. ")
