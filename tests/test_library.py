"""The library: a folder asked as one, kept up to date incrementally, failures with reasons."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.cli import main
from desktop_qa.core.documents.document import load_document
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import engine, export
from desktop_qa.core.reading.query import Query
from desktop_qa.core.storage.library import FAILED, INDEXED, Library, LibraryScope, walk
from tests.pdfgen import handbook, page_lines, write_pdf

QUESTION = "What is the launch code?"


def make_folder(root: Path, count: int = 24) -> Path:
    """``count`` one-page PDFs of filler, a text note, and a 20-page PDF with the fact on p. 17."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        write_pdf(root / f"filler-{i:02d}.pdf", [[page_lines(1000 + i)]])
    (root / "notes.md").write_text("# Notes\n\nRivers and mountains of the old world.\n")
    (root / "deep").mkdir()
    handbook(root / "deep" / "manual.pdf", pages=20, answer_page=17)
    return root


@pytest.fixture(scope="module")
def folder_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder(tmp_path_factory.mktemp("template") / "docs")


@pytest.fixture()
def folder(tmp_path: Path, folder_template: Path) -> Path:
    target = tmp_path / "docs"
    shutil.copytree(folder_template, target)
    return target


def ask_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["ask", *argv, "--json"]) == 0
    out, _ = capsys.readouterr()
    return json.loads(out)


def test_ask_folder_answers_with_document_page_and_boxes(
    folder: Path, oracle_pack: Path, capsys
) -> None:
    result = ask_json(capsys, str(folder), QUESTION, "--model", str(oracle_pack))
    best = result["answers"][0]
    manual = folder / "deep" / "manual.pdf"
    assert best["text"] == "Alpha Bravo"
    assert best["document"] == str(manual.resolve())
    assert best["page"] == 17
    with pymupdf.open(manual) as pdf:
        expected = pdf[16].search_for("Alpha Bravo")[0]
    (box,) = best["boxes"]
    assert all(abs(a - b) < 1.5 for a, b in zip(box, expected, strict=True))
    assert result["read"]["documents"] == 26
    assert result["skipped"] == []
    assert result["library"]["extracted"] == 26 and result["library"]["unchanged"] == 0


def test_new_file_is_found_without_rereading_others_and_deleted_file_is_gone(
    folder: Path, oracle_pack: Path, capsys
) -> None:
    args = (QUESTION, "--model", str(oracle_pack), "--top-k", "10")
    ask_json(capsys, str(folder), *args)
    extra = handbook(folder / "extra.pdf", pages=3, answer_page=2)
    result = ask_json(capsys, str(folder), *args)
    assert result["library"]["extracted"] == 1  # only the new file was read
    assert result["library"]["unchanged"] == 26
    found = {(a["document"], a["page"]) for a in result["answers"] if a["text"] == "Alpha Bravo"}
    assert (str(extra.resolve()), 2) in found
    extra.unlink()
    result = ask_json(capsys, str(folder), *args)
    assert result["library"]["removed"] == 1 and result["library"]["extracted"] == 0
    assert all(a["document"] != str(extra.resolve()) for a in result["answers"])
    assert result["read"]["documents"] == 26


def bad_files(folder: Path) -> list[Path]:
    broken = folder / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    locked = folder / "locked.pdf"
    with pymupdf.open() as pdf:
        pdf.new_page().insert_text((72, 72), "The launch code is Alpha Bravo.")
        pdf.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    scan = folder / "scan.pdf"
    with pymupdf.open() as pdf:
        page = pdf.new_page()
        pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
        pix.clear_with(200)
        page.insert_image(page.rect, pixmap=pix)
        pdf.save(scan)
    return [broken, locked, scan]


def test_broken_encrypted_and_image_only_files_are_skipped_with_their_reasons(
    folder: Path, oracle_pack: Path, capsys
) -> None:
    expected = {}
    for path in bad_files(folder):
        try:
            load_document(path)
        except UserError as exc:  # whatever the document reader says is the reason
            expected[str(path.resolve())] = exc.message
    assert len(expected) >= 2  # broken and encrypted never read
    result = ask_json(capsys, str(folder), QUESTION, "--model", str(oracle_pack))
    assert {s["document"]: s["error"] for s in result["skipped"]} == expected
    assert result["answers"][0]["text"] == "Alpha Bravo"  # the rest answer
    assert main(["library", "status", "--failed"]) == 0
    out = capsys.readouterr().out
    for path, reason in expected.items():  # each path once, its reason without it
        assert out.count(path) == 1, out
        assert f"{path}  {export.listed_reason(path, reason)}" in out
        assert "open a document" not in out and "open it again" not in out
    # The closing hint is worded for a library, once.
    assert out.strip().splitlines()[-1] == (
        f"{len(expected)} could not be read: fix or replace them, then run "
        "'desktop-qa library update --retry'"
    )


def test_moved_file_is_recognised_by_hash(folder: Path) -> None:
    with Library() as lib:
        lib.add_folder(folder)
        engine.final(lib.update(workers=2))
        (folder / "deep" / "manual.pdf").rename(folder / "renamed.pdf")
        report = engine.final(lib.update(workers=2))
        assert (report.reused, report.extracted, report.removed) == (1, 0, 0)
        scope = LibraryScope(lib)
        hits = engine.keyword_answers(scope, Query("launch code Alpha Bravo")).answers
        assert hits[0].document == str((folder / "renamed.pdf").resolve())
        assert hits[0].page == 17
        # Touched but unchanged: the hash says so and nothing is read.
        os.utime(folder / "renamed.pdf")
        report = engine.final(lib.update(workers=2))
        assert (report.unchanged, report.extracted) == (26, 0)


def test_cancelled_update_resumes_where_it_stopped(folder: Path) -> None:
    with Library() as lib:
        lib.add_folder(folder)
        done = []
        steps = lib.update(workers=1, cancel=lambda: len(done) >= 3)
        for progress in steps:
            done = [None] * progress.done
        indexed = len(lib.documents(state=INDEXED))
        assert 3 <= indexed < 26  # committed file by file, stopped early
        report = engine.final(lib.update(workers=2))
        assert report.extracted == 26 - indexed and report.unchanged == indexed
        assert len(lib.documents(state=INDEXED)) == 26


def test_a_file_past_the_time_limit_is_failed_and_the_run_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "slow"
    folder.mkdir()
    handbook(folder / "long.pdf", pages=30)
    write_pdf(folder / "short.pdf", [[page_lines(1)]])
    with Library() as lib:
        lib.add_folder(folder)
        # 30 two-column pages take far more than 0.05 s to read: the worker is killed.
        report = engine.final(lib.update(workers=1, time_limit=0.05))
        failed = {Path(r.path).name: r.error or "" for r in lib.documents(state=FAILED)}
        assert "longer than 0 s" in failed["long.pdf"]
        # The run went on: the next file was read by a new worker (or failed in its turn).
        assert report.failed + report.extracted == 2


def test_walk_skips_hidden_folders_and_symlink_loops(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a" / "b" / "x.txt").write_text("x")
    (root / ".hidden" / "y.txt").write_text("y")
    (root / "a" / "z.xyz").write_text("not supported")  # a kind not read here
    (root / "a" / "b" / "loop").symlink_to(root, target_is_directory=True)
    assert [p.relative_to(root).as_posix() for p in walk(root)] == ["a/b/x.txt"]


def test_library_commands(folder: Path, capsys) -> None:
    assert main(["library", "add", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["extracted"] == 26
    assert main(["library", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["path"] == str(folder.resolve()) and row["indexed"] == 26
    assert main(["library", "update", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 26
    assert main(["ask", "--library", "launch code Alpha Bravo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "keyword" and out["answers"][0]["page"] == 17
    assert main(["library", "remove", str(folder)]) == 0
    assert "26 documents removed" in capsys.readouterr().out
    code = main(["ask", "--library", QUESTION])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and "library is empty" in err[0]


def test_bad_folder_input_is_one_error_line(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv in (["ask", str(empty), QUESTION], ["library", "add", str(tmp_path / "missing")]):
        code = main(argv)
        err = capsys.readouterr().err.splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    with Library() as lib:
        assert lib.folders() == []  # a folder with nothing to ask is not kept


def test_update_watch_reindexes_a_new_file(tmp_path: Path) -> None:
    import select
    import subprocess
    import sys

    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "a.txt").write_text("Rivers and mountains.\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    assert main(["library", "add", str(folder)]) == 0
    cmd = [sys.executable, "-m", "desktop_qa", "library", "update", "--watch", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)

    def next_line(timeout: float = 20) -> dict:
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        assert ready, "no output from --watch"
        return json.loads(proc.stdout.readline())

    try:
        assert next_line()["unchanged"] == 1  # the first update, then watching
        (folder / "b.md").write_text("The launch code is Alpha Bravo.\n")
        report = next_line()
        assert report["extracted"] == 1 and report["unchanged"] == 1
        (folder / "b.md").unlink()
        assert next_line()["removed"] == 1
    finally:
        proc.terminate()
        proc.wait(10)


def test_killed_indexer_loses_only_files_in_flight(folder: Path) -> None:
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    from desktop_qa.core.storage.library import database_path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    cmd = [sys.executable, "-m", "desktop_qa", "library", "add", str(folder)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = 0
    deadline = time.monotonic() + 60
    while done < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if database_path().is_file():
            with sqlite3.connect(database_path(), timeout=5) as conn:
                try:
                    done = conn.execute("SELECT count(*) FROM document").fetchone()[0]
                except sqlite3.OperationalError:  # tables not made yet
                    done = 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert done >= 3

    def orphans() -> list[str]:  # worker processes of the killed indexer still running
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(folder) in text:
                found.append(text)
        return found

    deadline = time.monotonic() + 10
    while orphans() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert orphans() == []  # workers stop when their parent dies
    with Library() as lib:
        kept = len(lib.documents(state=INDEXED))
        assert kept >= done  # every committed file survived the kill
        report = engine.final(lib.update(workers=2))
        assert report.unchanged == kept and report.extracted == 26 - kept
        hits = engine.keyword_answers(LibraryScope(lib), Query("launch code Alpha Bravo")).answers
        assert hits[0].page == 17


def test_asking_a_folder_never_answers_from_another_library_folder(
    tmp_path: Path, oracle_pack: Path, capsys
) -> None:
    """Two library folders; the answer is only in the other one (whose name extends this one's)."""
    mine = tmp_path / "docs"
    mine.mkdir()
    for i in range(16):  # more passages than the first step reads: the ranking is used
        write_pdf(mine / f"filler-{i:02d}.pdf", [[page_lines(2000 + i)]])
    other = tmp_path / "docs-other"
    other.mkdir()
    handbook(other / "manual.pdf", pages=3, answer_page=2)
    assert main(["library", "add", str(other)]) == 0
    capsys.readouterr()
    args = (QUESTION, "--model", str(oracle_pack), "--top-k", "10")
    everywhere = ask_json(capsys, "--library", *args)
    assert everywhere["answers"][0]["text"] == "Alpha Bravo"  # the library holds the answer
    result = ask_json(capsys, str(mine), *args)
    assert result["read"]["documents"] == 16
    assert result["read"]["total_passages"] > 12
    assert all(a["document"].startswith(str(mine.resolve()) + os.sep) for a in result["answers"])
    assert all(a["text"] != "Alpha Bravo" for a in result["answers"])
    assert result["best_guess"] is None or "Alpha" not in result["best_guess"]["text"]
    # The whole library now holds both folders, and still answers from the other.
    everywhere = ask_json(capsys, "--library", *args)
    assert everywhere["answers"][0]["document"] == str((other / "manual.pdf").resolve())
