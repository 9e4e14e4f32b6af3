"""Where the time of one `ask` goes: import, extraction, cache, session, tokens, model.

    python benchmarks/ask_breakdown.py DOC.pdf PACK_DIR ["question"]

Prints one JSON object. The document cache goes to a temporary folder, so the
"cold" figures are cold; "model_s" is the time inside onnxruntime alone.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

os.environ["DESKTOP_QA_CACHE_DIR"] = tempfile.mkdtemp(prefix="dqa-breakdown-")
t0 = time.perf_counter()
from timing import answer_timed  # noqa: E402  (benchmarks/timing.py)

from desktop_qa.core import Query, Reader, load_document, load_pack, make_passages  # noqa: E402
from desktop_qa.core.storage.opening import open_document  # noqa: E402

IMPORT_S = time.perf_counter() - t0


def main() -> None:
    pdf, pack_dir = sys.argv[1], sys.argv[2]
    question = sys.argv[3] if len(sys.argv) > 3 else "What is the launch code?"
    pack = load_pack(pack_dir)
    t = time.perf_counter()
    doc = load_document(pdf)
    extract = time.perf_counter() - t
    t = time.perf_counter()
    cached_doc = open_document(pdf)  # extract + passages + index + cache write
    open_cold = time.perf_counter() - t
    t = time.perf_counter()
    open_document(pdf)
    open_cached = time.perf_counter() - t
    t = time.perf_counter()
    reader = Reader(pack)
    reader_load = time.perf_counter() - t
    items = [(p.index, p.start, doc.text[p.start : p.end]) for p in make_passages(doc.text)]
    t = time.perf_counter()
    windows = len(reader.encode(question, items))
    tokenize = time.perf_counter() - t

    model_s = 0.0
    run = reader.run

    def timed(batch):  # type: ignore[no-untyped-def]
        nonlocal model_s
        start = time.perf_counter()
        out = run(batch)
        model_s += time.perf_counter() - start
        return out

    reader.run = timed  # type: ignore[method-assign]
    modes = {}
    for exhaustive in (False, True):
        model_s = 0.0
        query = Query(question, exhaustive=exhaustive)
        first, total, result = answer_timed(cached_doc, query, reader)
        modes["exhaustive" if exhaustive else "ranked"] = {
            "total_s": round(total, 3),
            "first_answer_s": round(first, 3),
            "model_s": round(model_s, 3),
            "windows": result.read.windows,
            "passages": result.read.passages,
        }
    print(
        json.dumps(
            {
                "pages": doc.page_count,
                "words": len(doc.text.split()),
                "windows_whole_document": windows,
                "import_s": round(IMPORT_S, 3),
                "extract_s": round(extract, 3),
                "open_cold_s": round(open_cold, 3),
                "open_cached_s": round(open_cached, 3),
                "reader_load_s": round(reader_load, 3),
                "tokenize_all_s": round(tokenize, 3),
                **modes,
            }
        )
    )


if __name__ == "__main__":
    main()
