"""Render resources/desktop-qa.svg into the icon files the installers need.

    python packaging/make_icons.py

writes, next to the SVG (the outputs are committed, so a build never needs this):

* ``resources/icons/<N>x<N>/desktop-qa.png`` for N in 16 ... 512 (freedesktop hicolor sizes);
* ``resources/desktop-qa.png`` (256 px, the window icon and the .tar.gz/.deb icon);
* ``resources/desktop-qa.ico`` (Windows: PNG-compressed entries, 16 ... 256);
* ``resources/desktop-qa.icns`` (macOS: PNG entries, 16 ... 1024).

Rendering uses Qt's SVG renderer (PySide6.QtSvg, part of PySide6-Essentials), or a
plain QPainter drawing of the same picture when QtSvg is missing. The .ico and
.icns containers are written by hand (both formats just wrap PNG files), so no
Pillow or iconutil is needed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
SVG = RESOURCES / "desktop-qa.svg"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS entry type -> pixel size (PNG payloads; macOS 10.7+).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication(sys.argv[:1])


def _draw_fallback(painter, size: int) -> None:
    """The SVG's picture in QPainter calls (used only without QtSvg)."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen

    painter.scale(size / 256, size / 256)
    navy, ink = QColor("#2b4c7e"), QColor("#1d3557")
    page = QPainterPath()
    page.addRoundedRect(QRectF(40, 20, 164, 216), 12, 12)
    painter.setPen(QPen(navy, 8))
    painter.setBrush(QBrush(QColor("#f4f7fb")))
    painter.drawPath(page)
    painter.setPen(QPen(QColor("#8aa2c4"), 10, Qt.SolidLine, Qt.RoundCap))
    for x2, y in ((124, 62), (176, 94), (112, 126), (96, 158), (100, 190)):
        painter.drawLine(QPointF(66, y), QPointF(x2, y))
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor("#ffd23f"))
    painter.drawRoundedRect(QRectF(124, 146, 64, 24), 7, 7)
    painter.setPen(QPen(ink, 22, Qt.SolidLine, Qt.RoundCap))
    painter.drawLine(QPointF(190, 194), QPointF(232, 236))
    painter.setPen(QPen(ink, 14))
    painter.setBrush(QColor(170, 210, 248, 115))
    painter.drawEllipse(QPointF(156, 158), 48, 48)


def render_png(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter

    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.SmoothPixmapTransform)
    try:
        from PySide6.QtSvg import QSvgRenderer

        renderer = QSvgRenderer(str(SVG))
        if not renderer.isValid():
            raise SystemExit(f"error: {SVG} is not a valid SVG")
        renderer.render(painter)
    except ImportError:
        _draw_fallback(painter, size)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    image.save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, payload = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        payload += data
    return header + entries + payload


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    body = b""
    for kind, s in ICNS_TYPES:
        data = pngs[s]
        body += kind + struct.pack(">I", len(data) + 8) + data
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main() -> int:
    _app()
    wanted = sorted({*PNG_SIZES, *ICO_SIZES, *(s for _, s in ICNS_TYPES)})
    pngs = {s: render_png(s) for s in wanted}
    for s in PNG_SIZES:
        out = RESOURCES / "icons" / f"{s}x{s}" / "desktop-qa.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pngs[s])
    (RESOURCES / "desktop-qa.png").write_bytes(pngs[256])
    (RESOURCES / "desktop-qa.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (RESOURCES / "desktop-qa.icns").write_bytes(icns_bytes(pngs))
    print(f"wrote icons for sizes {', '.join(map(str, wanted))} under {RESOURCES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
