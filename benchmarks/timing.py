"""Timing one question through the one door, shared by the benchmark scripts."""

from __future__ import annotations

import time
from typing import Any

from desktop_qa.core import Query, QueryResult
from desktop_qa.core.reading import engine


def answer_timed(scope: Any, query: Query, reader: Any) -> tuple[float, float, QueryResult]:
    """(seconds to the first snapshot with answers, seconds to the final result, the result)."""
    started = time.perf_counter()
    first = None
    steps = engine.answer(scope, query, reader)
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            result = stop.value
            break
        if first is None and step.result is not None:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    return (total if first is None else first), total, result
