"""The page view at its highest zoom on a HiDPI screen: memory, and CPU while left untouched.

    QT_QPA_PLATFORM=offscreen python benchmarks/render_rest.py [PDF] [--scale-factor 2]
        [--page 150] [--rest 15] [--size 1280x800]

Opens the window as the app does (offscreen; ``QT_SCALE_FACTOR`` is set to
``--scale-factor`` before Qt starts, so the device pixel ratio is 2 as on most
laptops), goes to ``--page``, zooms in step by step to the maximum as a user
pressing Ctrl++ would, waits until the view is drawn, then leaves the window
alone for ``--rest`` seconds with its event loop running. Printed (one JSON
line): the CPU seconds used at rest by the app and by its drawing child, the
resident memory of each (MB) at the end, and the draws made at rest (0 when
nothing is drawn again and again). Targets (issue 26): under 0.5 s CPU in 15 s
and under 800 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BOOK = next(
    (
        p / "shared" / "corpora" / "books" / "freeculture.pdf"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "corpora").is_dir()
    ),
    Path("freeculture.pdf"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", nargs="?", default=str(BOOK))
    parser.add_argument("--scale-factor", default="2")
    parser.add_argument("--page", type=int, default=150)
    parser.add_argument("--rest", type=float, default=15.0)
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args()
    os.environ["QT_SCALE_FACTOR"] = args.scale_factor
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("DESKTOP_QA_CONFIG_DIR", "/tmp/render_rest/config")

    try:
        import psutil
    except ImportError:
        sys.exit("error: this benchmark needs psutil: pip install psutil")
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_qa.gui.session import Session
    from desktop_qa.gui.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = Session()
    window = MainWindow(session, restore_geometry=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    view = window.pdf_view

    def spin(seconds: float, until: object = None) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if until is not None and until():  # type: ignore[operator]
                return True
            time.sleep(0.01)
        return False

    loaded: list[object] = []
    session.documentLoaded.connect(lambda doc: loaded.append(doc))
    window.open_file(args.pdf)
    if not spin(300, lambda: bool(loaded)):
        sys.exit(f"error: {args.pdf} did not open; name a PDF that opens in the app")
    window.go_to_page(args.page)
    spin(1.0)
    steps = 0
    while view.zoom < 5.999 and steps < 40:
        view.zoom_in()
        steps += 1
        spin(0.15)
    settled = spin(120, window.render_idle)
    me = psutil.Process()

    def drawing_child() -> psutil.Process | None:
        """The drawing child: the PageDrawer's process, else the largest child."""
        held = getattr(view.renderer.drawer, "_child", None)
        if held is not None:
            return psutil.Process(held.process.pid)
        kids = me.children(recursive=True)
        return max(kids, key=lambda p: p.memory_info().rss) if kids else None

    def cpu(p: psutil.Process | None) -> float:
        if p is None:
            return 0.0
        try:
            t = p.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    kid = drawing_child()
    renders = view.renderer.renders
    app_cpu, kid_cpu = cpu(me), cpu(kid)
    rest = QEventLoop()  # the app's own event loop, not a polling one: what a user's runs
    QTimer.singleShot(int(args.rest * 1000), rest.quit)
    rest.exec()
    app_rest, kid_rest = cpu(me) - app_cpu, cpu(kid) - kid_cpu
    rss = me.memory_info().rss / 1e6
    kid_rss = kid.memory_info().rss / 1e6 if kid is not None and kid.is_running() else 0.0
    print(
        json.dumps(
            {
                "document": Path(args.pdf).name,
                "page": args.page,
                "zoom": round(view.zoom, 3),
                "device_pixel_ratio": view.devicePixelRatioF(),
                "settled": settled,
                "rest_seconds": args.rest,
                "app_cpu_at_rest_s": round(app_rest, 3),
                "child_cpu_at_rest_s": round(kid_rest, 3),
                "draws_at_rest": view.renderer.renders - renders,
                "app_rss_mb": round(rss, 1),
                "child_rss_mb": round(kid_rss, 1),
                "zoom_steps": steps,
            }
        )
    )
    window.close()
    session.shutdown()
    app.quit()


if __name__ == "__main__":
    main()
