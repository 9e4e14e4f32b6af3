"""Windows and macOS file names, path case and held files (``core.system.portable``), on Linux.

The Windows and macOS branches are pure logic given a platform name, so they are tested
here; what needs a real Windows (a sharing violation, a replace onto an open file) is
faked at the one OSError it raises.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path, PureWindowsPath

import pytest

from desktop_qa.core.documents import inputs
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.pack import safe_name
from desktop_qa.core.storage.library import Library
from desktop_qa.core.system import portable
from desktop_qa.packs.install import folder_name

HOSTILE = [
    "a:b?.pdf",
    'say "hi" <now>|later*',
    "CON",
    "nul.txt",
    "com1.tar.gz",
    "LPT9",
    "Lpt¹",
    "report. ",
    "notes...",
    "  spaced  ",
    "back\\slash/and/slash",
    "tab\tnew\nline\x7f",
    "..",
    "",
    "…" * 300,
    "x" * 99 + ".y",
]


def test_windows_names_are_refused_for_what_windows_refuses() -> None:
    for name in ("a:b", "a?", "a*", 'a"', "a<b>", "a|b", "a/b", "a\\b", "a\x01"):
        assert "it holds" in portable.windows_name_problem(name), name
    for name in ("CON", "con", "nul.txt", "Com1.tar.gz", "lpt9", "aux .txt", "COM¹", "conin$"):
        assert "device name" in (portable.windows_name_problem(name) or ""), name
    assert portable.windows_name_problem("a.") == "it ends in a dot or a space"
    assert portable.windows_name_problem("a ") == "it ends in a dot or a space"
    for name in ("CONSOLE", "con-notes.txt", "com10", "nullable.md", "report.pdf", "élan"):
        assert portable.windows_name_problem(name) is None, name


@pytest.mark.parametrize("name", HOSTILE)
def test_a_portable_name_is_valid_on_windows_and_stays_close_to_the_original(name: str) -> None:
    safe = portable.portable_name(name, "answers")
    assert portable.windows_name_problem(safe) is None
    assert 0 < len(safe) <= 100
    assert PureWindowsPath(safe).name == safe  # one component: no drive, no folder
    if portable.windows_name_problem(name.strip(" ")) is None and len(name) <= 100:
        assert safe == name.strip(" ")  # a name that was fine is kept


def test_portable_names_say_what_they_replace() -> None:
    assert portable.portable_name("a:b?.pdf") == "a-b-.pdf"
    assert portable.portable_name("CON") == "_CON"
    assert portable.portable_name("nul.txt") == "_nul.txt"
    assert portable.portable_name("report. ") == "report"
    assert portable.portable_name("..", "answers") == "answers"
    assert portable.portable_name("x" * 99 + ".y") == "x" * 99  # no trailing dot once cut


@pytest.mark.parametrize("name", ["CON", "nul", "com3.v2", "x" * 99 + ".-y", "a:b"])
def test_a_pack_installs_into_a_folder_windows_can_make(name: str) -> None:
    folder = folder_name(name)
    assert portable.windows_name_problem(folder) is None, folder
    assert folder.strip("_")  # still the pack's name, not a blank


def test_a_pack_whose_file_names_windows_cannot_hold_is_refused_everywhere() -> None:
    for name in ("con", "sub/nul.bin", "model.onnx.", "vocab.txt ", "aux.json"):
        assert safe_name(name) is None, name
    for name in ("model.onnx", "sub/vocab.txt", "console.json"):
        assert safe_name(name) == name


def test_paths_compare_without_case_on_windows_and_macos_only() -> None:
    assert portable.same_path("C:\\Docs", "c:/docs/", "win32")
    assert portable.same_path(PureWindowsPath("C:/Docs/Sub"), "c:\\DOCS\\sub", "win32")
    assert not portable.same_path("C:\\Docs", "D:\\Docs", "win32")
    assert portable.same_path("/Users/me/Docs", "/users/ME/docs", "darwin")
    assert portable.same_path("/Users/me/Caf\u00e9", "/users/me/cafe\u0301", "darwin")  # NFD
    assert not portable.same_path("/home/me/Docs", "/home/me/docs", "linux")
    assert portable.is_under("c:\\docs\\Sub\\a.pdf", "C:\\Docs", "win32")
    assert not portable.is_under("C:\\Docs2\\a.pdf", "C:\\Docs", "win32")
    assert portable.is_under("/users/me/docs/a.pdf", "/Users/me/Docs/", "darwin")
    assert not portable.is_under("/home/me/docs/a.pdf", "/home/me/Docs", "linux")
    assert portable.case_insensitive("win32") and portable.case_insensitive("darwin")
    assert not portable.case_insensitive("linux")


@pytest.fixture()
def two_spellings(tmp_path: Path) -> tuple[Path, Path]:
    """``Docs`` and ``docs``: on Linux two folders, on Windows and macOS two names of one."""
    upper, lower = tmp_path / "Docs", tmp_path / "docs"
    for folder in (upper, lower):
        (folder / "sub").mkdir(parents=True, exist_ok=True)
    return upper, lower


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_a_library_folder_added_in_another_case_is_the_same_folder(
    two_spellings: tuple[Path, Path], platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upper, lower = two_spellings
    with Library() as lib:
        lib.add_folder(upper)
        monkeypatch.setattr(sys, "platform", platform)
        assert lib.add_folder(lower) == upper  # as first added
        assert lib.folders() == [str(upper)]
        assert lib.covering_folder(lower / "sub") == str(upper)
        assert lib.spelt_as_added(lower / "sub") == upper / "sub"
        assert lib.spelt_as_added(lower) == upper
        assert lib.remove_folder(lower) == 0
        assert lib.folders() == []


def test_on_linux_folders_that_differ_in_case_stay_two(
    two_spellings: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    upper, lower = two_spellings
    if lower.samefile(upper):
        pytest.skip("this file system ignores case")
    monkeypatch.setattr(sys, "platform", "linux")
    with Library() as lib:
        lib.add_folder(upper)
        assert lib.add_folder(lower) == lower
        assert lib.folders() == sorted([str(upper), str(lower)])
        assert lib.covering_folder(lower / "sub") == str(lower)
        assert lib.spelt_as_added(lower / "sub") == lower / "sub"


def sharing_violation() -> OSError:
    """What Windows raises opening a file another program holds without sharing it."""
    exc = PermissionError(
        errno.EACCES,
        "The process cannot access the file because it is being used by another process",
    )
    exc.winerror = portable.ERROR_SHARING_VIOLATION  # type: ignore[attr-defined]
    return exc


def test_a_document_another_program_holds_is_one_line_saying_to_close_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "budget.txt"
    doc.write_text("The budget is 4,000 euros.\n", encoding="utf-8")

    def held(*args: object, **kwargs: object) -> object:
        raise sharing_violation()

    messages = []
    with monkeypatch.context() as m:
        m.setattr(os, "stat", held)  # refused at the first look
        with pytest.raises(UserError) as caught:
            inputs.check_input(doc)
        messages.append(caught.value.message)
    monkeypatch.setattr(inputs, "open", held, raising=False)  # refused when read
    with pytest.raises(UserError) as caught:
        inputs.check_input(doc)
    messages.append(caught.value.message)
    for message in messages:
        assert message.startswith(f"{doc}: another program has the file open")
        assert "close it there" in message and "\n" not in message
        assert "permission" not in message  # EACCES on Windows, but no permission is missing
    plain = portable.unreadable(doc, PermissionError(errno.EACCES, "Permission denied"))
    assert plain.message == f"{doc}: cannot read the file (Permission denied); check it"


def test_a_replace_onto_a_file_held_for_a_moment_is_retried_on_windows_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    refusals = 2

    def replace(src: str, dst: str) -> None:
        nonlocal refusals
        calls.append((src, dst))
        if refusals:
            refusals -= 1
            raise PermissionError(errno.EACCES, "Access is denied")

    monkeypatch.setattr(portable.os, "replace", replace)
    portable.replace("a", "b", platform="win32", pause=0)
    assert len(calls) == 3  # two refusals, then done
    calls.clear()
    refusals = 1
    with pytest.raises(PermissionError):
        portable.replace("a", "b", platform="linux", pause=0)  # POSIX: a real problem
    assert len(calls) == 1
    calls.clear()
    refusals = 99
    with pytest.raises(PermissionError):
        portable.replace("a", "b", platform="win32", attempts=4, pause=0)
    assert len(calls) == 4


def test_a_replace_onto_an_open_file_works_here(tmp_path: Path) -> None:
    """POSIX replaces a file another reader has open (it keeps reading the old one)."""
    dst, src = tmp_path / "settings.json", tmp_path / ".settings-new"
    dst.write_text("old", encoding="utf-8")
    src.write_text("new", encoding="utf-8")
    with open(dst, encoding="utf-8") as reader:
        if os.name == "nt":
            pytest.skip("Windows refuses this without FILE_SHARE_DELETE; see the test above")
        portable.replace(src, dst)
        assert reader.read() == "old"
    assert dst.read_text(encoding="utf-8") == "new"


def test_tests_that_need_posix_or_linux_skip_elsewhere_saying_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import conftest

    tmpfs = "tests/test_library_store.py::test_full_tmpfs_is_one_line_saying_to_free_space"
    fifo = "tests/test_library_hostile.py::test_a_fifo_swapped_in_after_the_walk_does_not_block"
    plain = "tests/test_portable.py::test_portable_names_say_what_they_replace"
    monkeypatch.setattr(sys, "platform", "linux")
    assert [conftest._platform_skip(n) for n in (tmpfs, fifo, plain)] == [None] * 3
    monkeypatch.setattr(sys, "platform", "darwin")
    assert conftest._platform_skip(tmpfs) == "Linux only: mounts a tmpfs"
    assert conftest._platform_skip(fifo) is None
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "name", "nt")
    assert conftest._platform_skip(fifo) == "POSIX only: FIFOs"
    assert conftest._platform_skip(plain) is None
