"""Library changes are transactions (issue 30.6): a kill or Ctrl+C at any moment of
``library remove`` leaves the library as it was before or after, never half (a folder
gone with its documents still listed, answerable and kept by update)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_qa.core.reading.engine import final
from desktop_qa.core.storage.library import Library, database_path
from desktop_qa.core.storage.library.store import Store

REPO = Path(__file__).resolve().parents[1]
TEXTS = 30  # distinct contents; the other files are copies (indexed without reading)


def _note(i: int) -> str:
    return f"Note {i % TEXTS}. The quokka number {i % TEXTS} lives on island zanzibar{i % TEXTS}.\n"


def make_library(folder: Path, n: int) -> None:
    """``n`` small text files in ``folder``, indexed: ``TEXTS`` read, the rest copies."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(TEXTS):
        (folder / f"note{i:05d}.txt").write_text(_note(i), encoding="utf-8")
    with Library() as lib:
        lib.add_folder(folder)
        final(lib.update(workers=1))
        for i in range(TEXTS, n):
            (folder / f"note{i:05d}.txt").write_text(_note(i), encoding="utf-8")
        report = final(lib.update(workers=1))
        assert report.reused == n - TEXTS


def state(path: Path) -> tuple[int, int, int, int]:
    """(folders, documents, passages, passages in the keyword index) as stored."""
    with sqlite3.connect(path) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return (
            one("SELECT count(*) FROM folder"),
            one("SELECT count(*) FROM document"),
            one("SELECT count(*) FROM passage"),
            one("SELECT count(*) FROM passage_fts_docsize"),
        )


def search(path: Path, words: str) -> int:
    """Passages the keyword index finds for ``words`` (what ``ask --library`` reads)."""
    with Store(path, read_only=True) as store:
        return len(store.index.search(words, 10_000))


def test_ctrl_c_in_the_middle_of_a_removal_leaves_the_library_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notes"
    make_library(folder, 60)
    path = database_path()
    before = state(path)
    assert before[:2] == (1, 60) and before[2] == before[3] > 0
    dropped = 0
    real = Store._unindex

    def interrupted(self: Store, doc_id: int, content_hash: str | None) -> None:
        nonlocal dropped
        if dropped == 25:  # the folder's row is gone, 25 documents too
            raise KeyboardInterrupt
        dropped += 1
        real(self, doc_id, content_hash)

    with monkeypatch.context() as patch:
        patch.setattr(Store, "_unindex", interrupted)
        with Library() as lib, pytest.raises(KeyboardInterrupt):
            lib.remove_folder(folder)
    assert dropped == 25
    assert state(path) == before  # as before: the folder is still there to remove
    assert search(path, "quokka zanzibar7") > 0
    with Library() as lib:
        assert lib.folders() == [str(folder)]
        assert lib.remove_folder(folder) == 60
    assert state(path) == (0, 0, 0, 0)
    assert search(path, "quokka") == 0


def test_kill_9_at_random_points_of_a_3000_document_removal(tmp_path: Path):
    """``kill -9`` of ``desktop-qa library remove`` at random moments: each time the store
    is whole (before: 3,000 documents and their folder; after: none), and the next command
    removes what is left."""
    folder = tmp_path / "notes"
    make_library(folder, 3000)
    path = database_path()
    template = tmp_path / "template"
    shutil.copytree(path.parent, template)
    before = state(path)
    assert before[:2] == (1, 3000)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "desktop_qa", "library", "remove", str(folder)]

    def fresh() -> None:
        shutil.rmtree(path.parent)
        shutil.copytree(template, path.parent)

    # How long a whole run takes here, so the kills fall all along it.
    started = time.monotonic()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    whole = time.monotonic() - started
    assert state(path) == (0, 0, 0, 0)
    rng = random.Random(30)
    outcomes = set()
    for _ in range(8):
        fresh()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, whole))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        after = state(path)  # opening it recovers the WAL: an unfinished removal is undone
        assert after in (before, (0, 0, 0, 0)), after
        outcomes.add(after == before)
        if after == before:  # the next command finishes the job
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            assert out.returncode == 0, out.stderr
            assert out.stdout.startswith("3000 documents removed")
        assert state(path) == (0, 0, 0, 0)
        assert search(path, "quokka") == 0
