"""SQuAD 2.0 span scoring as small numpy functions (after Hugging Face's QA post-processing).

Kept free of tokenizers and onnxruntime so each rule is unit-testable on
hand-written logits.
"""

from __future__ import annotations

import numpy as np


def null_score(start_logits: np.ndarray, end_logits: np.ndarray) -> float:
    """The "no answer" score of a window: start + end logit of [CLS] at position 0."""
    return float(start_logits[0] + end_logits[0])


def masked(logits: np.ndarray, context_mask: np.ndarray) -> np.ndarray:
    """Logits with every non-context position (question, specials, padding) at -inf."""
    out = np.asarray(logits, dtype=np.float32).copy()
    out[~np.asarray(context_mask, dtype=bool)] = -np.inf
    return out


def top_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    context_mask: np.ndarray,
    max_answer_length: int,
    k: int = 20,
) -> list[tuple[int, int, float]]:
    """Best k (start, end, score) token spans inside the context, best first.

    Only the top-k start and top-k end positions are combined (the rest
    cannot form a top-k span), which keeps the matrix at k x k.
    """
    start = masked(start_logits, context_mask)
    end = masked(end_logits, context_mask)
    finite = np.flatnonzero(np.isfinite(start))
    if not len(finite):
        return []
    k_pos = min(k, len(finite))
    starts = finite[np.argsort(-start[finite], kind="stable")[:k_pos]]
    ends = finite[np.argsort(-end[finite], kind="stable")[:k_pos]]
    scores = start[starts][:, None] + end[ends][None, :]
    length = ends[None, :] - starts[:, None]
    scores = np.where((length >= 0) & (length < max_answer_length), scores, -np.inf)
    flat = np.argsort(-scores, axis=None, kind="stable")[:k]
    out = []
    for f in flat:
        si, ei = np.unravel_index(f, scores.shape)
        score = scores[si, ei]
        if not np.isfinite(score):
            break
        out.append((int(starts[si]), int(ends[ei]), float(score)))
    return out


def softmax_of(scores: np.ndarray, all_scores: np.ndarray) -> np.ndarray:
    """Softmax probabilities of ``scores`` within the population ``all_scores``.

    Lets the caller price only the answers it shows while normalising over
    every candidate (and the null answer), without sorting them all.
    """
    all_scores = np.asarray(all_scores, dtype=np.float64)
    top = all_scores.max() if len(all_scores) else -np.inf
    if not np.isfinite(top):
        return np.zeros(np.shape(scores))
    log_z = top + np.log(np.exp(all_scores - top).sum())
    return np.exp(np.asarray(scores, dtype=np.float64) - log_z)
