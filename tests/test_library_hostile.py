"""The library against hostile folders (issue 16): links leading out, names that are not
UTF-8 or not in the BMP, huge sparse files, pipes swapped in, and names that hold terminal
escapes. Each runs the program as a user does (``desktop-qa library ...`` / ``ask``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core.errors import UserError
from desktop_qa.core.storage.library import FAILED, INDEXED, Library, extract, hash_document

SECRET = "BEGIN OPENSSH PRIVATE KEY quokka"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ask_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(capsys, "ask", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def texts(result: dict) -> list[str]:
    return [a["context"] for a in result["answers"]]


# -- 2. links leading outside the folders -------------------------------------------------------
def test_links_leaving_the_folders_are_not_followed_and_are_listed(tmp_path: Path, capsys):
    secret = tmp_path / "home" / ".ssh"
    secret.mkdir(parents=True)
    (secret / "id_ed25519").write_text(SECRET + "\n")
    (tmp_path / "beside.txt").write_text("beside the folder: wombat\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "real.md").write_text("the real note: platypus\n")
    (docs / "notes.md").symlink_to(secret / "id_ed25519")  # a document name, a key behind it
    (docs / "up").symlink_to("..", target_is_directory=True)  # the parent and all beside it
    (docs / "ssh").symlink_to(secret, target_is_directory=True)
    (docs / "again.md").symlink_to(docs / "real.md")  # inside: indexed once, as real.md
    assert run(capsys, "library", "add", str(docs))[0] == 0

    for question in ("OPENSSH PRIVATE KEY quokka", "wombat beside"):
        result = ask_json(capsys, "--library", question)
        assert not any("quokka" in t or "wombat" in t for t in texts(result)), result
    rows = {Path(r.path).name: r for r in Library().documents()}
    assert rows["real.md"].state == INDEXED
    assert sorted(rows) == ["notes.md", "real.md", "ssh", "up"]  # again.md is real.md
    code, out, _ = run(capsys, "library", "status", "--failed")
    assert code == 0
    for name in ("notes.md", "up", "ssh"):
        (line,) = [x for x in out.splitlines() if f"{docs / name}  " in x]
        assert line.startswith(FAILED) and "outside the library folders; not followed" in line


def test_a_file_swapped_for_a_link_out_is_never_read(tmp_path: Path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    note = docs / "note.txt"
    note.write_text("an ordinary note about otters\n")
    (docs / "other.txt").write_text("another note about rivers\n")
    assert run(capsys, "library", "add", str(docs))[0] == 0
    assert any("otters" in t for t in texts(ask_json(capsys, "--library", "otters")))

    # Between two updates: the walk sees a link, records it, and the old text leaves.
    note.unlink()
    note.symlink_to(secret)
    code, out, _ = run(capsys, "library", "update")
    assert code == 0 and "not followed" in out
    for question in ("otters", "OPENSSH quokka"):
        assert texts(ask_json(capsys, "--library", question)) == []

    # After the walk, before it is read: neither the hash nor the worker follows it.
    with pytest.raises(UserError, match="symbolic link"):
        hash_document(str(note))
    with pytest.raises(UserError, match="symbolic link"):
        extract(str(note))


# -- 4. names that are not UTF-8 ---------------------------------------------------------------
def test_a_name_that_is_not_utf8_is_indexed_and_shown_escaped(tmp_path: Path, capsys):
    docs = tmp_path / "d"
    docs.mkdir()
    raw = os.fsencode(docs) + b"/caf\xe9.txt"
    with open(raw, "wb") as fh:
        fh.write(b"the cafe serves quokka coffee\n")
    (docs / "z.txt").write_text("after it: a note about wombats\n")  # sorted after caf\xe9
    code, out, err = run(capsys, "library", "add", str(docs))
    assert code == 0, err
    assert "2 read" in out and "0 failed" in out

    result = ask_json(capsys, "--library", "quokka coffee")
    assert os.fsencode(result["answers"][0]["document"]) == raw  # the bytes come back
    assert any("wombats" in t for t in texts(ask_json(capsys, str(docs), "wombats")))
    code, out, _ = run(capsys, "library", "status")
    assert code == 0 and "caf\\xe9.txt" in out
    code, out, _ = run(capsys, "library", "status", "--json")
    rows = json.loads(out)["rows"]
    assert {os.fsencode(r["document"]) for r in rows} == {raw, os.fsencode(docs / "z.txt")}
    assert run(capsys, "library", "update")[1].count("2 unchanged") == 1  # stored as found


# -- 5. names above U+FFFF ---------------------------------------------------------------------
def test_emoji_names_are_inside_their_folder(tmp_path: Path, capsys):
    docs, other = tmp_path / "docs", tmp_path / "other"
    docs.mkdir()
    other.mkdir()
    (docs / "\U0001f600 notes.txt").write_text("the emoji note names a quokka\n")
    (docs / "plain.txt").write_text("a plain note about rivers\n")
    (other / "o.txt").write_text("another folder about mountains\n")
    assert run(capsys, "library", "add", str(docs), str(other))[0] == 0

    assert any("quokka" in t for t in texts(ask_json(capsys, str(docs), "quokka")))
    code, out, _ = run(capsys, "library", "list", "--json")
    counts = {r["path"]: r["documents"] for r in json.loads(out)}
    assert counts == {str(docs): 2, str(other): 1}
    code, out, _ = run(capsys, "library", "remove", str(docs))
    assert code == 0 and "2 documents removed" in out
    assert texts(ask_json(capsys, "--library", "quokka")) == []
    assert [Path(r.path).name for r in Library().documents()] == ["o.txt"]


# -- 6. files that would hang the update -------------------------------------------------------
def test_huge_sparse_file_is_failed_at_once_and_the_rest_is_indexed(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    big = docs / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n")
    os.truncate(big, 1 << 40)  # 1 TiB, sparse: no disk used
    (docs / "small.txt").write_text("a small note about otters\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "desktop_qa", "library", "add", str(docs), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["extracted"] == 1 and report["failed"] == 1
    (error,) = report["errors"]
    assert error["document"] == str(big)
    # Refused from its size before a byte is read (so it names all 1 TiB of it).
    assert "is 1048576 MB, over the 4096 MB limit" in error["error"]
    ask = [sys.executable, "-m", "desktop_qa", "ask", str(big), "question?"]
    done = subprocess.run(ask, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: ") and "over the 4096 MB limit" in done.stderr


def test_a_fifo_swapped_in_after_the_walk_does_not_block(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    pipe = docs / "a.txt"  # sorted first: swapped before any file is hashed
    pipe.write_text("soon a pipe\n")
    (docs / "b.txt").write_text("a note about otters\n")

    def swap() -> bool:  # called by the update between the walk and each hash
        if pipe.is_file():
            pipe.unlink()
            os.mkfifo(pipe)
        return False

    library = Library()
    library.add_folder(docs)
    box: dict = {}

    def update() -> None:
        steps = library.update(cancel=swap, workers=1)
        try:
            while True:
                next(steps)
        except StopIteration as stop:
            box["report"] = stop.value

    thread = threading.Thread(target=update, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():  # blocked in open(): give it a writer so the thread can end
        os.close(os.open(pipe, os.O_RDWR))
        thread.join(5)
        pytest.fail("the update blocked on a FIFO swapped in after the walk")
    library.close()
    report = box["report"]
    assert report.extracted == 1 and report.failed == 1
    assert "not a regular file" in dict(report.errors)[str(pipe)]
    with pytest.raises(UserError, match="not a regular file"):
        hash_document(str(pipe))


# -- 10. names that hold terminal escapes ------------------------------------------------------
EVIL = "\x1b]0;PWNED\x1b\\\x1b[2J"
FORGED = "x\nindexed      9 p  forged"


def test_names_with_escapes_or_line_breaks_cannot_reach_the_terminal(tmp_path: Path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"{EVIL}title.txt").write_text("a note that retitles the terminal\n")
    (docs / f"{FORGED}.txt").write_text("")  # empty: a failed: line quoting the name
    code, out, _ = run(capsys, "library", "add", str(docs))
    assert code == 0
    assert "\x1b" not in out and out.count("\n") == 2  # the summary and one failed: line
    assert "failed: " in out and "forged.txt is empty" in out
    code, out, _ = run(capsys, "library", "status")
    assert code == 0 and "\x1b" not in out
    # Two documents, the totals and the closing hint (one failed): no forged row.
    assert out.count("\n") == 4 and out.splitlines()[-1].startswith("1 could not be read: ")
    assert sorted(x.split()[0] for x in out.splitlines()[:2]) == [FAILED, INDEXED]
    code, out, _ = run(capsys, "library", "list")
    assert "\x1b" not in out and out.count("\n") == 1

    # error: lines quote what the user typed (here a name that is no library folder).
    code, _, err = run(capsys, "library", "remove", str(docs / f"{EVIL}{FORGED}"))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "\x1b" not in err and "x indexed 9 p forged is not a library folder" in err
