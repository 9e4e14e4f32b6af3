"""The core says what is wrong; the CLI and the app say what to do, each in its own terms.

Each library message that once quoted a command keeps the CLI's line byte for byte
(``commands/messages.py``) and reads in menus and buttons in the app
(``gui/messages.py``), never a command line.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.commands import messages as cli_messages
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import export
from desktop_qa.core.reading.evaluate import _limit
from desktop_qa.core.storage import content
from desktop_qa.core.storage.content import ContentError
from desktop_qa.core.storage.library import Library, database_path
from desktop_qa.core.storage.library import store as library_store
from desktop_qa.core.storage.library.connection import _marker, store_error
from desktop_qa.core.storage.library.store import Store
from desktop_qa.gui import messages as gui_messages

STORE = Path("/data/library.sqlite")


def _empty(tmp_path: Path) -> UserError:
    with pytest.raises(UserError) as caught:
        Store(tmp_path / "none.sqlite", read_only=True)
    return caught.value


def _not_a_folder(tmp_path: Path) -> UserError:
    with Library() as lib, pytest.raises(UserError) as caught:
        lib.remove_folder(tmp_path)
    return caught.value


def _locked(_tmp: Path) -> UserError:
    error = store_error(sqlite3.OperationalError("database is locked"), STORE)
    assert error is not None
    return error


def _damaged_mid_run(tmp_path: Path) -> UserError:
    error = store_error(sqlite3.DatabaseError("malformed"), tmp_path / "library.sqlite")
    assert error is not None
    return error


def _damaged_read_only(_tmp: Path) -> UserError:
    with Library():
        pass
    _marker(database_path()).touch()  # an earlier run met a damaged page
    with pytest.raises(UserError) as caught:
        Library(read_only=True)
    return caught.value


def _damaged_content(tmp_path: Path) -> UserError:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("The launch code is Alpha Bravo.\n")
    with Library() as lib:
        lib.add_folder(tmp_path / "docs")
        for _ in lib.update(workers=1):
            pass
        doc = lib.documents()[0]

        def broken(*_a: object, **_k: object) -> None:
            raise ContentError("checksum mismatch")

        real, content.decode = content.decode, broken  # type: ignore[assignment]
        try:
            with pytest.raises(UserError) as caught:
                lib.load(doc.id)
        finally:
            content.decode = real  # type: ignore[assignment]
    return caught.value


def _limit_zero(_tmp: Path) -> UserError:
    with pytest.raises(UserError) as caught:
        _limit([], 0)
    return caught.value


def _hub_offline(_tmp: Path) -> UserError:
    from desktop_qa.packs.hub import offline_error

    return offline_error("offline mode is on")


def _hub_gated(_tmp: Path) -> UserError:
    from huggingface_hub.errors import GatedRepoError

    from desktop_qa.packs import hub

    exc = GatedRepoError.__new__(GatedRepoError)  # what huggingface_hub raises for a gated repo
    return hub.HfHub()._http_errors(exc, "org/name", "model")


# (make the error, the CLI's line as it has always been, words of the app's own line)
CASES: list[tuple[Callable[[Path], UserError], str, str]] = [
    (
        _empty,
        "the library is empty; add a folder with 'desktop-qa library add DIR'",
        "add a folder (Library ▸ Add Folder…)",
    ),
    (
        _not_a_folder,
        "{tmp} is not a library folder; see 'desktop-qa library list'",
        "the Library panel lists its folders",
    ),
    (
        _locked,
        f"{STORE}: the library is locked by another process (another desktop-qa is "
        "updating it); wait for it or stop it, then run again",
        "wait for it to finish, then try again",
    ),
    (
        _damaged_mid_run,
        "{tmp}/library.sqlite: the library database is damaged (malformed); it is rebuilt "
        "from its folders by the next 'desktop-qa library update' or ask",
        "by the next update (Library ▸ Update Library)",
    ),
    (
        _damaged_read_only,
        "{db}: the library database is damaged (an earlier run found damaged pages); run "
        "'desktop-qa library update' to rebuild it from its folders",
        "update the library (Library ▸ Update Library)",
    ),
    (
        _damaged_content,
        "{db}: the library's stored content of {tmp}/docs/a.txt is damaged (checksum "
        "mismatch); it is rebuilt from its folders by the next 'desktop-qa library update' "
        "or ask",
        "by the next update (Library ▸ Update Library)",
    ),
    (_limit_zero, "--limit must be at least 1 (got 0)", "the number of questions must be"),
    (
        _hub_offline,
        "cannot reach the model hub (offline mode is on); download a pack elsewhere and "
        "install it with 'desktop-qa model install DIR'",
        "copy its folder here and choose it (Tools ▸ Choose Model Pack Folder…)",
    ),
    (
        _hub_gated,
        "model org/name is gated; accept its terms on the hub and log in with 'hf auth "
        "login', or download a pack elsewhere and install it with 'desktop-qa model install DIR'",
        ", or download a pack on a computer that can reach it",
    ),
]


def _no_command_line(line: str) -> None:
    assert "desktop-qa library" not in line and "desktop-qa model" not in line, line
    assert not re.search(r"(^|\s)--[a-z]", line), line


@pytest.mark.parametrize("make, cli_line, app_words", CASES, ids=[c[0].__name__ for c in CASES])
def test_the_cli_line_is_unchanged_and_the_app_words_its_own(
    tmp_path: Path, make: Callable[[Path], UserError], cli_line: str, app_words: str
) -> None:
    exc = make(tmp_path)
    expected = cli_line.format(tmp=tmp_path, db=database_path())
    assert cli_messages.user_message(exc) == expected
    app = gui_messages.user_message(exc)
    assert app_words in app, app
    _no_command_line(app)
    _no_command_line(exc.message)  # the core's own line names no front end's step


def test_every_cli_hint_has_the_apps_words_without_a_command_line() -> None:
    cli_keys = set(cli_messages.HINTS) | {"install_pack"}
    assert cli_keys <= set(gui_messages.HINTS)
    for line in gui_messages.HINTS.values():
        _no_command_line(line)


def _skipped_result() -> dict:
    return {
        "document": "library",
        "question": "Q?",
        "answers": [],
        "no_answer": True,
        "message": "No answer.",
        "skipped": [{"document": "a.pdf", "error": "x"}, {"document": "b.pdf", "error": "y"}],
        "seconds": 0.5,
        "mode": "keyword",
    }


def test_skipped_files_are_counted_and_each_front_end_says_where_to_look() -> None:
    data = _skipped_result()
    cli = export.render(data, "text", None, cli_messages.HINTS)
    assert "(2 files could not be read: 'desktop-qa library status --failed')\n" in cli
    core = export.render(data, "text")
    assert "(2 files could not be read)\n" in core
    app = export.render(data, "text", None, gui_messages.HINTS)
    assert "(2 files could not be read: see the Library panel (Failed only))\n" in app
    for fmt in ("markdown", "csv", "json"):  # the files both write say no front end's step
        _no_command_line(export.render(data, fmt))


def test_cli_lines_of_the_library_commands_are_unchanged(tmp_path: Path, capsys) -> None:
    assert main(["library", "list"]) == 0
    out = capsys.readouterr().out
    assert out == "the library is empty; add a folder with 'desktop-qa library add DIR'\n"
    assert main(["library", "update"]) == 0
    assert capsys.readouterr().out == out
    assert main(["ask", "--library", "What is it?"]) == 2
    assert capsys.readouterr().err == (
        "error: the library is empty; add a folder with 'desktop-qa library add DIR'\n"
    )
    assert main(["eval", str(tmp_path / "dev.json"), "--limit", "0"]) == 2
    assert capsys.readouterr().err == "error: --limit must be at least 1 (got 0)\n"
    assert main(["library", "remove", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path} is not a library folder; see 'desktop-qa library list'\n"
    )


def test_ask_text_names_the_status_command_for_skipped_files(
    tmp_path: Path, oracle_pack: Path, capsys
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The launch code is Alpha Bravo.\n")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    code = main(["ask", str(docs), "What is the launch code?", "--model", str(oracle_pack)])
    out = capsys.readouterr().out
    assert code == 0
    assert "(1 file could not be read: 'desktop-qa library status --failed')\n" in out


def test_the_window_says_a_locked_library_in_its_own_words(
    qtbot, make_window, tmp_path: Path, monkeypatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    with Library() as lib:
        lib.add_folder(docs)
    monkeypatch.setattr(library_store, "BUSY_TIMEOUT", 0.3)
    window = make_window()
    holder = sqlite3.connect(database_path(), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of an update
        window.library.panel.add(str(tmp_path))
    finally:
        holder.close()
    shown = window.library.panel.summary.text()
    assert "the library is locked by another process" in shown, shown
    assert "(another desktop-qa window or command is updating it)" in shown, shown
    assert "try again" in shown and "run again" not in shown, shown


def test_times_read_the_same_in_the_read_more_button_and_the_indexing_line() -> None:
    """75 s is "75 s" everywhere (it once said "1 min" under the answers), minutes past 90 s."""
    from desktop_qa.core.storage.library import IndexProgress
    from desktop_qa.gui.indexing import progress_text

    words = gui_messages.duration_text
    # The number and its unit joined by a no-break space (never wrapped apart).
    assert [words(s).replace("\u00a0", " ") for s in (0.2, 40, 75, 89.4, 90, 150, 600)] == [
        "1 s",
        "40 s",
        "75 s",
        "89 s",
        "2 min",
        "2 min",
        "10 min",
    ]
    progress = IndexProgress(done=3, total=10, pages=0, seconds=9.0)
    line = progress_text(progress, eta=75).replace("\u00a0", " ")
    assert line == "Indexing 3 of 10 documents · about 75 s left"
