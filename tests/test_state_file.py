"""``gui --state-file``: any document name, atomic writes leaving nothing, bad paths said."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json

import pytest

WAIT = 15000


def test_a_name_that_is_not_utf8_is_written_as_json_escapes(qtbot, tmp_path, make_window):
    """A document named with Latin-1 bytes: the state names it (``\\udce9``), the file is valid."""
    from desktop_qa.gui.state import StateFile

    name = os.fsdecode(b"caf\xe9.txt")
    doc = tmp_path / name
    doc.write_text("The lease ends in March.\n", encoding="utf-8")
    window = make_window()
    state = tmp_path / "state.json"
    keeper = StateFile(window, state)
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.session.open_document(str(doc))
    keeper.schedule()
    keeper.flush()
    raw = state.read_bytes()
    raw.decode("ascii")  # escapes only: readable as UTF-8 by anyone
    data = json.loads(raw)
    assert os.fsencode(data["document"]) == b"caf\xe9.txt"
    assert keeper.write_error is None


def test_a_failed_write_leaves_no_temporary_file(tmp_path, make_window):
    """The path turned into a folder while the window runs: no ``.state-*`` file is left."""
    from desktop_qa.gui.state import StateFile

    window = make_window()
    state = tmp_path / "state.json"
    keeper = StateFile(window, state)
    keeper.flush()
    state.unlink()
    state.mkdir()
    for _ in range(3):
        keeper.write()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    assert keeper.write_error is not None


@pytest.mark.parametrize("kind", ["folder", "unwritable"])
def test_a_folder_or_unwritable_path_is_said_in_one_line(tmp_path, capsys, monkeypatch, kind):
    import desktop_qa.gui.app
    from desktop_qa.cli import main

    def opened(*_args: object, **_kwargs: object) -> int:
        raise AssertionError("the window opened on a state file it cannot write")

    monkeypatch.setattr(desktop_qa.gui.app, "run_app", opened)

    if kind == "folder":
        path = tmp_path / "here"
        path.mkdir()
    else:
        blocker = tmp_path / "notes.txt"  # a file where the folder should be
        blocker.write_text("x")
        path = blocker / "state.json"
    assert main(["gui", "--state-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert str(path) in err
    assert "folder" in err if kind == "folder" else "cannot write" in err
    assert not [p for p in tmp_path.rglob(".state-*")]
