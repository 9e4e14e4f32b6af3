"""Watching the library's folders for changes (watchdog), through absences and limits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from desktop_qa.core.storage.library.walk import SUFFIXES

# -- watching ----------------------------------------------------------------------------------
WATCH_POLL = 2.0  # seconds between checks that each watched folder is still there (or back)


def watch_limit_message(folder: str) -> str:
    """What to do when inotify has no watch left (watchdog's OSError ENOSPC)."""
    return (
        f"{folder}: not watched for changes: the system's inotify watch limit is reached; "
        "raise fs.inotify.max_user_watches (e.g. sudo sysctl fs.inotify.max_user_watches=524288)"
        "; watching starts by itself once there is room"
    )


class FolderWatcher:
    """Calls ``on_change()`` (from a watchdog thread) when a supported file under the folders
    is created, modified, moved or deleted, and ``on_status(line)`` when a folder stops or
    starts being watched (gone, back, or no inotify watch left).

    watchdog rather than Qt's QFileSystemWatcher: Qt needs one watch per folder
    (added by hand for every new sub-folder, and silently failing past the
    inotify limit), while watchdog's observers watch a whole tree recursively
    (inotify on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows) and
    work without Qt, so the CLI's ``library update --watch`` uses the same code.

    A watch ends with its folder (deleted, or an unplugged disk), so a thread
    checks every ``poll`` seconds that each folder is there and watched, and
    watches it again when it is back (then calls ``on_change``: files may have
    changed meanwhile). A folder that cannot be watched is tried again there too.
    """

    def __init__(
        self,
        folders: Iterable[str],
        on_change: Callable[[], None],
        on_status: Callable[[str], None] | None = None,
        *,
        poll: float = WATCH_POLL,
    ) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                names = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
                if event.is_directory or any(
                    Path(n).suffix.lower() in SUFFIXES for n in names if n
                ):
                    on_change()

        self.on_change = on_change
        self.on_status = on_status
        self.poll = poll
        self.handler = Handler()
        self.observer = Observer()
        self.observer.daemon = True
        self.observer.start()
        self._watches: dict[str, Any] = {str(f): None for f in folders}
        self._said: dict[str, str] = {}  # folder: the last state reported ("absent", "limit")
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        for folder in self._watches:
            self._check(folder, first=True)
        self._thread = threading.Thread(target=self._keep_watching, daemon=True)
        self._thread.start()

    @property
    def watching(self) -> list[str]:
        """The folders watched now."""
        with self._lock:
            return [f for f, w in self._watches.items() if w is not None]

    def _say(self, folder: str, state: str, line: str) -> None:
        if self._said.get(folder) == state:
            return
        self._said[folder] = state
        if self.on_status is not None:
            self.on_status(line)

    def _alive(self, watch: Any) -> bool:
        return any(e.watch == watch and e.is_alive() for e in self.observer.emitters)

    def _check(self, folder: str, first: bool = False) -> None:
        with self._lock:
            watch = self._watches[folder]
            there = Path(folder).is_dir()
            if watch is not None:
                if there and self._alive(watch):
                    return
                try:
                    self.observer.unschedule(watch)
                except Exception:  # the emitter ended with its folder
                    pass
                self._watches[folder] = None
            if not there:
                self._say(
                    folder,
                    "absent",
                    f"{folder}: folder absent; its documents are kept and watching resumes "
                    "when it is back",
                )
                return
            try:
                self._watches[folder] = self.observer.schedule(self.handler, folder, recursive=True)
            except OSError as exc:
                if exc.errno == 28:  # ENOSPC: "inotify watch limit reached"
                    self._say(folder, "limit", watch_limit_message(folder))
                else:
                    self._say(
                        folder, "error", f"{folder}: not watched for changes ({exc.strerror})"
                    )
                return
            came_back = self._said.pop(folder, None) is not None
        if came_back and not first:
            if self.on_status is not None:
                self.on_status(f"{folder}: watching again")
        if not first:
            self.on_change()  # files may have changed while it was not watched

    def _keep_watching(self) -> None:
        while not self._stopped.wait(self.poll):
            for folder in list(self._watches):
                try:
                    self._check(folder)
                except Exception:  # never let the checker die: try again next time
                    pass

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        self.observer.stop()
        self.observer.join(5)
