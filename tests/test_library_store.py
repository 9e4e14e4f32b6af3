"""The library store (issue 16): private, damage detected and rebuilt, one line for a full
disk, a lock or a read-only folder, and listing and asking still work on a read-only store."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core.storage import content
from desktop_qa.core.storage.library import Library, database_path, schema
from desktop_qa.core.storage.library import store as library_store
from desktop_qa.core.storage.library import workers as library_workers

QUESTION = "What is the launch code?"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "secret.txt").write_text("The launch code is Alpha Bravo.\n", encoding="utf-8")
    for i in range(3):
        (root / f"note-{i}.md").write_text(f"# Note {i}\n\nRivers and mountains {i}.\n")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str, *words: str) -> None:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "this is a bug" not in err and "remove it" not in err, err
    for word in words:
        assert word in err, err


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_its_folder_and_wal_files_are_private_whatever_the_umask(
    folder: Path, capsys
) -> None:
    old = os.umask(0o022)
    try:
        assert run(capsys, "library", "add", str(folder))[0] == 0
        db = database_path()
        assert mode(db.parent) == 0o700 and mode(db) == 0o600
        with Library() as lib:  # WAL and shared memory exist while a connection is open
            lib.folders()
            wal, shm = (db.with_name(db.name + s) for s in ("-wal", "-shm"))
            assert mode(wal) == 0o600 and mode(shm) == 0o600
        # A library made before this fix (0644 in a 0755 folder) is made private on open.
        os.chmod(db.parent, 0o755)
        os.chmod(db, 0o644)
        assert run(capsys, "library", "list")[0] == 0
        assert mode(db.parent) == 0o700 and mode(db) == 0o600
    finally:
        os.umask(old)


def corrupt_page_of(table: str) -> None:
    """Flip bytes in a leaf page of ``table``: its rows go out of order, silently lost."""
    db = database_path()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        page = root.fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * size)
        data = bytearray(fh.read(size))
        for i in range(200, size, 7):
            data[i] ^= 0x55
        fh.seek((page - 1) * size)
        fh.write(bytes(data))


def test_damaged_table_page_is_one_line_then_rebuilt_from_the_folders(folder: Path, capsys) -> None:
    assert run(capsys, "library", "add", str(folder))[0] == 0
    corrupt_page_of("passage")
    code, _, err = run(capsys, "library", "status")
    assert code == 2
    one_error(err, "damaged", "library update")
    code, out, err = run(capsys, "ask", "--library", QUESTION, "--json")
    assert code == 0, err
    assert "was damaged" in err and "moved it to library.sqlite.damaged-" in err
    result = json.loads(out)
    assert "Alpha Bravo" in result["answers"][0]["text"]
    assert result["library"]["extracted"] == 4  # read again from the files
    assert list(database_path().parent.glob("library.sqlite.damaged-*"))
    code, out, _ = run(capsys, "library", "list")
    assert code == 0 and str(folder) in out  # the folder list was kept


def test_lost_passages_are_found_not_silent_no_answers(folder: Path, capsys) -> None:
    """A table that lost rows (no SQLite error at all) must not answer "nothing" for ever."""
    assert run(capsys, "library", "add", str(folder))[0] == 0
    with sqlite3.connect(database_path()) as conn:
        conn.execute("DELETE FROM passage")
    conn.close()
    code, out, err = run(capsys, "ask", "--library", QUESTION, "--json")
    assert code == 0, err
    assert "was damaged" in err
    assert "Alpha Bravo" in json.loads(out)["answers"][0]["text"]


def test_full_disk_is_one_line_saying_to_free_space(folder: Path, capsys, monkeypatch) -> None:
    """SQLite says SQLITE_FULL when the store may not grow (max_page_count, as a full disk)."""
    assert run(capsys, "library", "add", str(folder))[0] == 0
    big = folder / "big.txt"
    big.write_text(" ".join(f"word{i:07x}" for i in range(200_000)), encoding="utf-8")
    connect = Library._connect

    def full(self: Library) -> None:
        connect(self)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count = {pages + 4}")

    monkeypatch.setattr(Library, "_connect", full)
    code, _, err = run(capsys, "library", "update")
    assert code == 2
    one_error(err, "disk holding the library is full", "free space")


def test_full_tmpfs_is_one_line_saying_to_free_space(
    folder: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """A real full disk: the data folder on a 1 MiB tmpfs (needs mount rights: root)."""
    data = tmp_path / "small"
    data.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("no mount rights for a tmpfs")
    try:
        monkeypatch.setenv("DESKTOP_QA_DATA_DIR", str(data))
        big = folder / "big.txt"
        big.write_text(" ".join(f"word{i:07x}" for i in range(200_000)), encoding="utf-8")
        code, _, err = run(capsys, "library", "add", str(folder))
        assert code == 2
        one_error(err, "disk holding the library is full", "free space")
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_a_locked_store_is_waited_for_then_named_and_reading_never_waits(
    folder: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    assert run(capsys, "library", "add", str(folder))[0] == 0
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setattr(library_store, "BUSY_TIMEOUT", 0.3)
    holder = sqlite3.connect(database_path(), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of an update
        code, out, err = run(capsys, "library", "list")
        assert code == 0 and str(folder) in out, err
        code, out, err = run(capsys, "library", "status")
        assert code == 0 and "secret.txt" in out, err
        code, _, err = run(capsys, "library", "add", str(other))
        assert code == 2
        one_error(err, "locked by another process", "wait for it or stop it")
    finally:
        holder.close()


@pytest.fixture()
def read_only_library(folder: Path, capsys) -> Path:
    """The data folder made read-only: a read-only bind mount as root, else chmod."""
    assert run(capsys, "library", "add", str(folder))[0] == 0
    data = database_path().parent
    if os.geteuid() != 0:
        os.chmod(database_path(), 0o400)
        os.chmod(data, 0o500)
        yield data
        os.chmod(data, 0o700)
        return
    bind = subprocess.run(["mount", "--bind", str(data), str(data)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("no mount rights for a read-only bind mount")
    try:
        ro = subprocess.run(["mount", "-o", "remount,ro,bind", str(data)], capture_output=True)
        if ro.returncode != 0:
            pytest.skip("cannot remount read-only")
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_read_only_store_still_lists_and_answers_and_says_what_is_wrong(
    read_only_library: Path, folder: Path, capsys
) -> None:
    code, out, err = run(capsys, "library", "list")
    assert code == 0 and f"{folder}: 4 documents, 4 indexed" in out, err
    code, out, err = run(capsys, "library", "status")
    assert code == 0 and "4 documents (4 indexed" in out, err
    code, out, err = run(capsys, "ask", "--library", QUESTION, "--json")
    assert code == 0, err
    assert "read-only" in err and "error" not in err
    result = json.loads(out)
    assert "Alpha Bravo" in result["answers"][0]["text"]
    assert result["library"]["read_only"] is True
    code, _, err = run(capsys, "library", "update")
    assert code == 2
    one_error(err, "read-only", "writable")


# -- stored content and the extraction pipeline (issue 17) --------------------------------------
_PIPELINE = content.PIPELINE_VERSION
_READ_JOB = library_workers._read_job


def read_with_the_next_pipeline(job, note):  # type: ignore[no-untyped-def]
    """A worker's job (forked or spawned, so module-level): extract as the next pipeline
    would. A spawned worker imports ``content`` afresh, without the parent's patch."""
    content.PIPELINE_VERSION = _PIPELINE + 1
    return _READ_JOB(job, note)


def test_content_of_an_older_extraction_pipeline_is_read_again(
    folder: Path, capsys, monkeypatch
) -> None:
    """An extraction fix (a new pipeline version) reaches a library built before it."""
    assert run(capsys, "library", "add", str(folder))[0] == 0
    code, out, _ = run(capsys, "library", "update", "--json")
    assert code == 0 and (json.loads(out)["extracted"], json.loads(out)["unchanged"]) == (0, 4)
    monkeypatch.setattr(content, "PIPELINE_VERSION", _PIPELINE + 1)  # in this process
    monkeypatch.setattr(library_workers, "_read_job", read_with_the_next_pipeline)  # workers
    code, out, _ = run(capsys, "library", "update", "--json")
    assert code == 0 and (json.loads(out)["extracted"], json.loads(out)["unchanged"]) == (4, 0)
    code, out, _ = run(capsys, "library", "update", "--json")  # now of this pipeline
    assert code == 0 and (json.loads(out)["extracted"], json.loads(out)["unchanged"]) == (0, 4)
    code, out, _ = run(capsys, "ask", "--library", QUESTION, "--json")
    assert code == 0 and "Alpha Bravo" in json.loads(out)["answers"][0]["text"]


def test_a_library_of_schema_1_keeps_its_content_and_answers(
    folder: Path, capsys, monkeypatch
) -> None:
    """A store made before content carried its pipeline and checksum is upgraded in place:
    nothing is read again, and it answers (read-only too). (As while the pipeline was
    still the one schema-1 stores were built by; once it moved on, they are read again.)"""
    assert run(capsys, "library", "add", str(folder))[0] == 0
    monkeypatch.setattr(content, "PIPELINE_VERSION", schema.SCHEMA_1_PIPELINE)
    conn = sqlite3.connect(database_path())
    conn.execute("DROP INDEX IF EXISTS content_pipeline")  # schema 1 had no pipeline column
    conn.execute("ALTER TABLE content DROP COLUMN pipeline")
    conn.execute("ALTER TABLE content DROP COLUMN checksum")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    with Library(read_only=True) as lib:  # as asked from a read-only store: not upgraded
        doc = lib.load(lib.documents()[0].id)
        assert "Rivers" in doc.text or "Alpha" in doc.text
    code, out, _ = run(capsys, "library", "update", "--json")
    assert code == 0 and (json.loads(out)["extracted"], json.loads(out)["unchanged"]) == (0, 4)
    code, out, _ = run(capsys, "ask", "--library", QUESTION, "--json")
    assert code == 0 and "Alpha Bravo" in json.loads(out)["answers"][0]["text"]
    conn = sqlite3.connect(database_path())
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "2"
    assert {r[0] for r in conn.execute("SELECT pipeline FROM content")} == {3}
    conn.close()


def test_a_document_is_found_by_the_path_an_answer_names(folder: Path, capsys) -> None:
    """The window opens a library answer's document by its path (no SQL in the GUI)."""
    odd = os.fsdecode(os.fsencode(folder) + b"/caf\xe9.txt")  # not UTF-8: stored escaped
    with open(os.fsencode(odd), "w", encoding="utf-8") as f:
        f.write("The cafe opens at nine.\n")
    assert run(capsys, "library", "add", str(folder))[0] == 0
    with Library(read_only=True) as lib:
        row = lib.document_by_path(folder / "secret.txt")
        assert row is not None and row.state == "indexed"
        assert "Alpha Bravo" in lib.load(row.id).text
        odd_row = lib.document_by_path(odd)
        assert odd_row is not None and odd_row.path == odd and odd_row.id != row.id
        assert lib.document_by_path(folder / "missing.txt") is None
