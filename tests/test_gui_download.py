"""The first-run panel's *Download model…*: success, offline failure, cancel, offscreen.

The download runs the real pipeline (``packs.download.download_pack``) against
the local stand-in hub of ``test_model_commands`` (a folder laid out like hub
repos, built from the oracle graph); the offline test uses the real
huggingface_hub client against an endpoint that refuses connections.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

from desktop_qa import cli
from desktop_qa.gui.session import Session
from desktop_qa.gui.window import MainWindow
from desktop_qa.packs.download import DEFAULT_REPO
from desktop_qa.packs.hub import RepoInfo
from desktop_qa.packs.install import list_packs
from tests.gui_helpers import isolate
from tests.test_model_commands import UNREACHABLE, FolderHub, _set_endpoint, make_repo

WAIT = 20000
PACK_NAME = "mobilebert-uncased-squad-v2-int8"  # pack_name(DEFAULT_REPO, "int8-dynamic")


class SlowHub(FolderHub):
    """The stand-in hub, slow enough per file to watch the UI while it downloads."""

    def __init__(self, root: Path, delay: float = 0.1) -> None:
        super().__init__(root)
        self.delay = delay
        self.threads: set[int] = set()

    def info(self, repo_id: str, revision: str | None, repo_type: str = "model") -> RepoInfo:
        self.threads.add(threading.get_ident())
        return super().info(repo_id, revision, repo_type)

    def fetch(self, info: RepoInfo, filename: str) -> Path:
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        return super().fetch(info, filename)


class BlockingHub(FolderHub):
    """Holds the first fetch until the test releases it (so Cancel lands mid-download)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.entered = threading.Event()
        self.release = threading.Event()

    def fetch(self, info: RepoInfo, filename: str) -> Path:
        self.entered.set()
        self.release.wait(WAIT / 1000)
        return super().fetch(info, filename)


class BuggyHub(FolderHub):
    def info(self, repo_id: str, revision: str | None, repo_type: str = "model") -> RepoInfo:
        raise RuntimeError("hub exploded")


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    isolate(monkeypatch, tmp_path / "user")
    # Never the real hub, its cache, nor packs bundled in the source tree.
    _set_endpoint(monkeypatch, UNREACHABLE)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(
        "desktop_qa.core.system.paths.bundled_models_dir", lambda: tmp_path / "bundled"
    )
    return tmp_path / "user"


@pytest.fixture
def make_window(qtbot, make_window, user_dirs):  # type: ignore[no-untyped-def]
    """A window over a Session with the given hub, showing the first-run panel."""

    def make(hub: object = None) -> MainWindow:
        window = make_window(session=Session(hub=hub), size=None)
        with qtbot.waitSignal(window.session.modelMissing, timeout=WAIT):
            window.session.load_model()
        assert not window.first_run.isHidden()
        return window

    return make


def _hub(tmp_path: Path, cls: type[FolderHub] = FolderHub) -> FolderHub:
    hub = cls(tmp_path / "hub")
    make_repo(hub.root, DEFAULT_REPO)
    return hub


def _assert_initial(window: MainWindow, error: str = "") -> None:
    panel = window.first_run
    assert not panel.downloading and panel.busy.isHidden() and panel.step.isHidden()
    assert panel.download.isEnabled() and panel.choose.isEnabled()
    assert panel.error.text() == error
    assert panel.error.isVisibleTo(window) == bool(error)


def _installed(user_dirs: Path) -> list[str]:
    models = user_dirs / "data" / "models"
    if not models.exists():
        return []
    return sorted(p.name for p in models.iterdir() if p.name != ".staging")


def test_download_installs_and_loads_the_pack_off_the_ui_thread(
    qtbot, make_window, user_dirs, tmp_path
):
    hub = _hub(tmp_path, SlowHub)
    window = make_window(hub)
    panel = window.first_run
    _assert_initial(window)
    assert DEFAULT_REPO in panel.download.toolTip()

    steps: list[str] = []
    window.session.downloadProgress.connect(steps.append)
    ticks: list[float] = []  # a 20 ms timer on the UI thread: its gaps show stalls
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    with qtbot.waitSignal(window.session.modelChanged, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.download, Qt.MouseButton.LeftButton)
        assert panel.downloading and window.session.downloading
        assert not panel.download.isEnabled() and not panel.choose.isEnabled()
        assert panel.cancel.isEnabled()
        assert panel.progress.maximum() == 0  # indeterminate
        assert DEFAULT_REPO in panel.step.text()
        qtbot.waitUntil(lambda: "Fetching" in panel.step.text(), timeout=WAIT)
    timer.stop()

    pack = blocker.args[0]
    assert pack.name == PACK_NAME and pack.trained
    assert pack.path == (user_dirs / "data" / "models" / PACK_NAME).resolve()
    assert window.session.pack is pack and window.session.reader is not None
    assert hub.threads and threading.get_ident() not in hub.threads
    assert any(s.startswith("fetching") for s in steps)
    assert any("quantizing" in s for s in steps) and "installing" in steps
    # As after choosing a pack folder: status bar names it, the panel gives way.
    assert PACK_NAME in window.model_label.text()
    assert window.first_run.isHidden() and not window.results.isHidden()
    assert not window.banner.isVisibleTo(window)  # a trained pack
    _assert_initial(window)
    assert not window.session.downloading
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 10 and max(gaps) < 0.5, max(gaps, default=None)


def test_offline_download_says_what_is_wrong_in_the_apps_words_and_stays_usable(
    qtbot, make_window, user_dirs, capsys
):
    # What `desktop-qa model download` prints offline...
    assert cli.main(["model", "download"]) == 2
    cli_line = capsys.readouterr().err.strip()
    assert cli_line.startswith("error: cannot reach the model hub")

    window = make_window()  # no hub given: the real huggingface_hub client
    panel = window.first_run
    for _attempt in range(2):  # the button works again after a failure
        started = time.monotonic()
        with qtbot.waitSignal(window.session.downloadFailed, timeout=WAIT) as blocker:
            qtbot.mouseClick(panel.download, Qt.MouseButton.LeftButton)
        assert time.monotonic() - started < 10
        # ...is the problem the panel shows, with what to do in the app's words.
        shown = blocker.args[0]
        problem = cli_line.removeprefix("error: ").split("); ")[0] + ")"
        assert shown.startswith(problem) and "Choose Model Pack Folder" in shown
        assert "desktop-qa model" not in shown and "desktop-qa model install DIR" in cli_line
        _assert_initial(window, error=shown)
        assert not panel.isHidden()
        assert window.session.pack is None and _installed(user_dirs) == []
    qtbot.wait(50)  # the event loop still runs; the window is still there
    assert window.isVisible()
    assert "Download failed" in window.statusBar().currentMessage()


def test_unexpected_hub_error_becomes_a_message(qtbot, make_window, tmp_path):
    window = make_window(BuggyHub(tmp_path / "hub"))
    with qtbot.waitSignal(window.session.downloadFailed, timeout=WAIT) as blocker:
        qtbot.mouseClick(window.first_run.download, Qt.MouseButton.LeftButton)
    assert "unexpected error" in blocker.args[0] and "hub exploded" in blocker.args[0]
    _assert_initial(window, error=blocker.args[0])


def test_cancel_installs_nothing_and_resets_the_panel(qtbot, make_window, user_dirs, tmp_path):
    hub = _hub(tmp_path, BlockingHub)
    window = make_window(hub)
    panel = window.first_run
    qtbot.mouseClick(panel.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(hub.entered.is_set, timeout=WAIT)
    qtbot.mouseClick(panel.cancel, Qt.MouseButton.LeftButton)
    assert not panel.cancel.isEnabled() and "Cancelling" in panel.step.text()
    assert panel.downloading  # until the worker has really stopped
    with qtbot.waitSignal(window.session.downloadCancelled, timeout=WAIT):
        hub.release.set()  # the running step ends; the next check stops the download
    _assert_initial(window)
    assert not panel.isHidden()
    assert window.session.pack is None and not window.session.downloading
    assert _installed(user_dirs) == [] and list_packs() == []
    downloads = user_dirs / "cache" / "downloads"
    assert not downloads.exists() or list(downloads.iterdir()) == []
    assert "nothing was installed" in window.statusBar().currentMessage()

    # Esc cancels too (while the panel shows), and a later download still succeeds.
    hub.entered.clear()
    hub.release.clear()
    qtbot.mouseClick(panel.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(hub.entered.is_set, timeout=WAIT)
    window.cancel()
    assert "Cancelling" in panel.step.text()
    with qtbot.waitSignal(window.session.downloadCancelled, timeout=WAIT):
        hub.release.set()
    assert _installed(user_dirs) == []
    with qtbot.waitSignal(window.session.modelChanged, timeout=WAIT):
        qtbot.mouseClick(panel.download, Qt.MouseButton.LeftButton)
    assert _installed(user_dirs) == [PACK_NAME]
    assert window.first_run.isHidden() and not window.results.isHidden()


def test_a_build_without_onnx_says_what_to_do_in_the_apps_words(
    qtbot, make_window, user_dirs, tmp_path, monkeypatch, capsys
):
    """`packaging/build.py --without-onnx` leaves out what quantizing needs: one clear line.

    The command line keeps its line (pip, or `model install`); the panel names the
    app's ways (the full build, or a pack folder from elsewhere), never a command.
    """
    import sys

    from desktop_qa.packs import hub as hub_module

    hub = _hub(tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` fails, as in such a build
    monkeypatch.setattr(hub_module, "HfHub", lambda **_: hub)
    assert cli.main(["model", "download"]) == 2
    cli_line = capsys.readouterr().err.strip()
    problem = "cannot check or quantize a downloaded model (the onnx package is missing)"
    assert problem in cli_line and cli_line.endswith(
        "; run 'pip install onnx', or install a ready pack with 'desktop-qa model install DIR'"
    )
    window = make_window(hub)
    with qtbot.waitSignal(window.session.downloadFailed, timeout=WAIT) as blocker:
        qtbot.mouseClick(window.first_run.download, Qt.MouseButton.LeftButton)
    shown = blocker.args[0]
    assert problem in shown and "Choose Model Pack Folder" in shown
    assert "pip" not in shown and "desktop-qa model" not in shown
    _assert_initial(window, error=shown)
    assert _installed(user_dirs) == []
