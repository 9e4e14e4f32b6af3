"""Span scoring rules on hand-written logits."""

from __future__ import annotations

import numpy as np

from desktop_qa.core.reading import spans


def test_null_score_is_cls_start_plus_end():
    assert spans.null_score(np.array([1.5, 0, 0]), np.array([2.0, 0, 0])) == 3.5


def test_top_spans_respect_mask_order_and_length():
    start = np.array([9.0, 0, 5, 1, 0, 8])
    end = np.array([9.0, 0, 1, 6, 0, 0])
    mask = np.array([False, True, True, True, True, False])  # [CLS] and last token excluded
    got = spans.top_spans(start, end, mask, max_answer_length=3, k=3)
    assert got[0] == (2, 3, 11.0)  # best pair inside the context
    assert all(mask[s] and mask[e] and s <= e < s + 3 for s, e, _ in got)
    assert [g[2] for g in got] == sorted((g[2] for g in got), reverse=True)


def test_end_before_start_and_too_long_spans_are_never_returned():
    start = np.array([0.0, 0, 0, 10])
    end = np.array([0.0, 10, 0, 0])
    mask = np.array([False, True, True, True])
    got = spans.top_spans(start, end, mask, max_answer_length=2, k=10)
    assert (3, 1, 20.0) not in got
    assert all(s <= e and e - s < 2 for s, e, _ in got)


def test_no_context_gives_no_spans():
    assert spans.top_spans(np.ones(4), np.ones(4), np.zeros(4, bool), 5) == []


def test_softmax_of_normalises_over_the_population():
    population = np.array([2.0, 1.0, 0.0])
    probs = spans.softmax_of(population, population)
    assert np.isclose(probs.sum(), 1.0)
    assert np.allclose(probs, np.exp(population) / np.exp(population).sum())
    assert np.isclose(spans.softmax_of(np.array([2.0]), population)[0], probs[0])


def test_max_answer_length_counts_tokens_and_is_an_exclusive_bound():
    """A span of exactly ``max_answer_length`` tokens is allowed; one token more is not."""
    start = np.array([0.0, 10, 0, 0, 0])
    end = np.array([0.0, 0, 0, 10, 0])
    mask = np.array([False, True, True, True, True])
    # Tokens 1..3 are three tokens: allowed at 3, the best span.
    assert spans.top_spans(start, end, mask, max_answer_length=3, k=1) == [(1, 3, 20.0)]
    # At 2 it is one token too long: never returned, the best allowed span wins instead.
    got = spans.top_spans(start, end, mask, max_answer_length=2, k=5)
    assert (1, 3, 20.0) not in got and got and all(e - s <= 1 for s, e, _ in got)


def test_a_one_token_answer_is_allowed():
    """ "Paris": start and end on the same token is a span of length one, not an empty one."""
    start = np.array([0.0, 0, 10, 0])
    end = np.array([0.0, 0, 10, 0])
    mask = np.array([False, True, True, True])
    assert spans.top_spans(start, end, mask, max_answer_length=3, k=1) == [(2, 2, 20.0)]
