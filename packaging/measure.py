"""Measure a built bundle: size, cold `ask` time and cold time to the first window.

    xvfb-run -a python packaging/measure.py packaging/dist/desktop-qa --pdf FILE

"Cold" means the bundle's files are dropped from the OS page cache first
(posix_fadvise DONTNEED; Linux), so the program loads from disk as on a first launch.
The window time is from starting the program (no arguments: an empty window) to its
top-level window being mapped on the X display, polled with `xdotool` (apt-get install
xdotool) every 10 ms. Each run uses an empty HOME and DESKTOP_QA_* folders and
PATH=/usr/bin:/bin, so no Python and no user model pack are involved; DISPLAY and
the display's authority (XAUTHORITY, or the real HOME's ~/.Xauthority, as an
absolute path) are passed through, so an authenticated X server such as
xvfb-run's accepts the program.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def drop_cache(root: Path) -> None:
    if not hasattr(os, "posix_fadvise"):
        return
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def x_authority() -> str | None:
    """The display's authority file, as an absolute path that survives a fresh HOME.

    ``$XAUTHORITY`` when set (xvfb-run sets it), else the default ``~/.Xauthority``
    of the *current* HOME, which X clients would otherwise look for in the fresh one
    and fail with "could not connect to display".
    """
    path = os.environ.get("XAUTHORITY") or os.path.join(os.path.expanduser("~"), ".Xauthority")
    return str(Path(path).resolve()) if os.path.isfile(path) else None


def clean_env(tmp: Path) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp / "home"), "LANG": "C.UTF-8"}
    for name in ("DATA", "CONFIG", "CACHE"):
        env[f"DESKTOP_QA_{name}_DIR"] = str(tmp / name.lower())
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "QT_QPA_PLATFORM"):
        if key in os.environ:
            env[key] = os.environ[key]
    authority = x_authority()
    if env.get("DISPLAY") and authority:
        env["XAUTHORITY"] = authority
    (tmp / "home").mkdir(parents=True, exist_ok=True)
    return env


def time_ask(exe: Path, pdf: Path, question: str, cold: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        if cold:
            drop_cache(exe.parent)
        t = time.perf_counter()
        subprocess.run(
            [str(exe), "ask", str(pdf), question, "--json"],
            env=clean_env(Path(tmp)),
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t


def window_shown(pid: int) -> bool:
    out = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--pid", str(pid)], capture_output=True, text=True
    )
    return out.returncode == 0 and bool(out.stdout.strip())


def time_window(exe: Path, cold: bool, timeout: float = 60) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        if cold:
            drop_cache(exe.parent)
        t = time.perf_counter()
        proc = subprocess.Popen(
            [str(exe)], env=clean_env(Path(tmp)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            while not window_shown(proc.pid):
                if proc.poll() is not None:
                    raise SystemExit(f"error: the program exited: {proc.stderr.read().decode()}")
                if time.perf_counter() - t > timeout:
                    raise SystemExit("error: no window within the timeout")
                time.sleep(0.01)
            return time.perf_counter() - t
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("bundle", type=Path, help="the one-folder bundle (dist/desktop-qa)")
    p.add_argument("--pdf", type=Path, help="document for the ask timing")
    p.add_argument("--question", default="What is the launch code?")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    exe = args.bundle / ("desktop-qa.exe" if sys.platform == "win32" else "desktop-qa")
    models = args.bundle / "_internal" / "models"
    print(
        f"bundle {args.bundle}: {folder_size(args.bundle) / 2**20:.1f} MiB "
        f"(models {folder_size(models) / 2**20 if models.is_dir() else 0:.1f} MiB)"
    )
    if args.pdf:
        cold = [time_ask(exe, args.pdf, args.question, True) for _ in range(args.runs)]
        warm = [time_ask(exe, args.pdf, args.question, False) for _ in range(args.runs)]
        print(
            f"ask: cold {statistics.median(cold):.2f} s, warm {statistics.median(warm):.2f} s "
            f"(median of {args.runs}; cold runs {', '.join(f'{x:.2f}' for x in cold)})"
        )
    if os.environ.get("DISPLAY") and shutil.which("xdotool"):
        cold = [time_window(exe, True) for _ in range(args.runs)]
        warm = [time_window(exe, False) for _ in range(args.runs)]
        print(
            f"first window: cold {statistics.median(cold):.2f} s, warm "
            f"{statistics.median(warm):.2f} s (median of {args.runs}; cold runs "
            f"{', '.join(f'{x:.2f}' for x in cold)})"
        )
    else:
        print("first window: skipped (needs DISPLAY, e.g. xvfb-run -a, and xdotool)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
