"""Build the desktop-qa one-folder bundle, and on Linux its .tar.gz and .deb.

    pip install -c constraints.txt -e ".[package]"
    python packaging/build.py                  # bundle the packs in models/, plus archives
    python packaging/build.py --model DIR      # bundle this pack (repeatable)
    python packaging/build.py --no-model       # bundle no pack
    python packaging/build.py --bundle-only    # skip the .tar.gz/.deb

Outputs (gitignored): packaging/dist/desktop-qa/ (the bundle; macOS: also desktop-qa.app),
packaging/dist/desktop-qa-<version>-linux-<arch>.tar.gz and desktop-qa_<version>_<arch>.deb.
The version comes from desktop_qa.__version__. See packaging/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"
SPEC = PACKAGING / "desktop-qa.spec"
NAME = "desktop-qa"
MAINTAINER = "desktop-qa maintainers <maintainers@desktop-qa.invalid>"
DESCRIPTION = "Offline find-in-document question answering for PDF and text files"
# System libraries the bundled Qt loads but PyInstaller does not ship (X11/Wayland, GL, fonts).
DEB_DEPENDS = (
    "libc6 (>= 2.31), libgl1, libegl1, libfontconfig1, libfreetype6, libdbus-1-3, "
    "libxkbcommon0, libxkbcommon-x11-0, libxcb1, libxcb-cursor0, libxcb-icccm4, "
    "libxcb-keysyms1, libxcb-image0, libxcb-render-util0, libxcb-shape0, libxcb-randr0, "
    "libxcb-xkb1, libx11-xcb1, libwayland-client0, libwayland-cursor0"
)


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from desktop_qa import __version__

    return __version__


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(n: int) -> str:
    return f"{n / 1048576:.1f} MiB"


def _pack_folder_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return safe[:100] or "pack"


def stage_models(sources: list[Path], staging: Path) -> list[str]:
    """Verify each pack (checksums) and copy it to staging/<pack name>/."""
    sys.path.insert(0, str(ROOT))
    from desktop_qa.core.errors import UserError
    from desktop_qa.core.reading.pack import load_pack
    from desktop_qa.packs.write import make_readable

    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    names = []
    for src in sources:
        try:
            pack = load_pack(src)
        except UserError as exc:
            raise SystemExit(f"error: {exc.message}") from None
        dest = staging / _pack_folder_name(pack.name)
        if dest.exists():
            raise SystemExit(f"error: two packs named {pack.name!r}; bundle one of them")
        dest.mkdir()
        for name in ["model.json", *pack.files]:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(pack.path / name, dest / name)
        make_readable(dest)  # the bundle installs under /opt for every user
        names.append(f"{dest.name} ({mib(folder_size(dest))}, {pack.describe()})")
    return names


def default_packs() -> list[Path]:
    models = ROOT / "models"
    if not models.is_dir():
        return []
    return [p for p in sorted(models.iterdir()) if (p / "model.json").is_file()]


def run_pyinstaller(dist: Path, work: Path, staging: Path, clean: bool, onnx: bool) -> None:
    env = dict(os.environ, DESKTOP_QA_BUNDLE_MODELS=str(staging))
    env["DESKTOP_QA_BUNDLE_ONNX"] = "1" if onnx else "0"
    if sys.platform == "win32":
        env["DESKTOP_QA_WINDOWS_VERSION_FILE"] = str(work.parent / "windows-version.txt")
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    cmd += ["--distpath", str(dist), "--workpath", str(work)]
    if clean:
        cmd.append("--clean")
    cmd.append(str(SPEC))
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)


def write_windows_version_file(path: Path, ver: str) -> None:
    """A VSVersionInfo for desktop-qa.exe (file properties in Explorer)."""
    nums = [int(x) for x in re.findall(r"\d+", ver)[:4]] + [0, 0, 0, 0]
    t = tuple(nums[:4])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={t}, prodvers={t}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', 'desktop-qa'),
      StringStruct('FileDescription', 'desktop-qa'),
      StringStruct('FileVersion', '{ver}'),
      StringStruct('InternalName', 'desktop-qa'),
      StringStruct('LegalCopyright', 'AGPL-3.0-or-later'),
      StringStruct('OriginalFilename', 'desktop-qa.exe'),
      StringStruct('ProductName', 'desktop-qa'),
      StringStruct('ProductVersion', '{ver}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])]
)
""",
        encoding="utf-8",
    )


def check_bundle(bundle: Path, ver: str) -> None:
    exe = bundle / (NAME + ".exe" if sys.platform == "win32" else NAME)
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    if out.returncode != 0 or ver not in out.stdout:
        raise SystemExit(f"error: {exe} --version failed: {out.stdout}{out.stderr}")
    log(f"checked: {out.stdout.strip()}")
    internal = bundle / "_internal"
    tessdata = (internal if internal.is_dir() else bundle) / "share" / "tessdata"
    if not (tessdata / "eng.traineddata").is_file():
        raise SystemExit(f"error: {tessdata} has no eng.traineddata: OCR would not work")
    langs = sorted(p.stem for p in tessdata.glob("*.traineddata"))
    log(f"checked: OCR languages {', '.join(langs)}")


# --- Linux archives ------------------------------------------------------------------------------


def deb_arch() -> str:
    if shutil.which("dpkg"):
        out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf"}.get(machine, machine)


def _icon_files() -> list[tuple[Path, str]]:
    """(source, path under share/icons/hicolor) for every icon size, and the SVG."""
    out = [(RESOURCES / "desktop-qa.svg", "scalable/apps/desktop-qa.svg")]
    for png in sorted((RESOURCES / "icons").glob("*x*/desktop-qa.png")):
        out.append((png, f"{png.parent.name}/apps/desktop-qa.png"))
    return out


INSTALL_SH = """#!/bin/sh
# Add desktop-qa to your applications menu (per user; no root needed).
# Run it from the unpacked folder; it points the menu entry at this folder.
set -e
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$HOME/.local/bin"
cp -R "$here/share/icons" "$data/"
sed -e "s|^Exec=.*|Exec=\\"$here/desktop-qa\\" %f|" -e "s|^TryExec=.*|TryExec=$here/desktop-qa|" \\
    "$here/share/applications/desktop-qa.desktop" > "$data/applications/desktop-qa.desktop"
ln -sf "$here/desktop-qa" "$HOME/.local/bin/desktop-qa"
update-desktop-database "$data/applications" 2>/dev/null || true
echo "desktop-qa added to the menu; 'desktop-qa' is linked into ~/.local/bin"
"""


def tarball_readme(ver: str) -> str:
    """README.txt of the .tar.gz: how to run it and the system libraries a minimal install lacks."""
    sys.path.insert(0, str(ROOT))
    from desktop_qa.gui.syslibs import XCB_LIBRARIES

    deb = " ".join(sorted({d for d, _ in XCB_LIBRARIES.values()}))
    rpm = " ".join(sorted({r for _, r in XCB_LIBRARIES.values()}))
    return f"""desktop-qa {ver}: offline find-in-document question answering

Run it from this folder:

    ./desktop-qa                     the window
    ./desktop-qa FILE                the window on a document (--page N to open at a page)
    ./desktop-qa ask FILE QUESTION   the answer on the command line
    ./install-desktop-entry.sh       menu entry and ~/.local/bin/desktop-qa for this user

System libraries. The window uses Qt's X11 (xcb) platform, which needs X11/xcb
libraries from the system; a minimal install often lacks libxcb-cursor0,
libxcb-icccm4 and libxcb-keysyms1. desktop-qa checks before Qt starts and
names what is missing in one line (exit code 2). Install them all with:

    Debian/Ubuntu:  sudo apt install {deb}
    Fedora:         sudo dnf install {rpm}

(The .deb package declares them, so apt installs them with it.) Without a
display, `desktop-qa ask` needs none of them, and
`QT_QPA_PLATFORM=offscreen ./desktop-qa gui FILE --screenshot out.png` works too.

License: AGPL-3.0-or-later (_internal/licenses/).
"""


def make_tarball(bundle: Path, dist: Path, ver: str, arch: str) -> Path:
    top = f"{NAME}-{ver}"
    out = dist / f"{NAME}-{ver}-linux-{arch}.tar.gz"
    tmp = out.with_suffix(".tmp")

    def add_text(tar: tarfile.TarFile, name: str, text: str, mode: int) -> None:
        import io

        data = text.encode("utf-8")
        info = tarfile.TarInfo(f"{top}/{name}")
        info.size, info.mode, info.mtime = len(data), mode, int(time.time())
        tar.addfile(info, io.BytesIO(data))

    def norm(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=norm)
        tar.add(
            RESOURCES / "desktop-qa.desktop",
            f"{top}/share/applications/desktop-qa.desktop",
            filter=norm,
        )
        for src, rel in _icon_files():
            tar.add(src, f"{top}/share/icons/hicolor/{rel}", filter=norm)
        tar.add(RESOURCES / "desktop-qa.png", f"{top}/desktop-qa.png", filter=norm)
        add_text(tar, "install-desktop-entry.sh", INSTALL_SH, 0o755)
        add_text(tar, "README.txt", tarball_readme(ver), 0o644)
    os.replace(tmp, out)
    return out


def make_deb(bundle: Path, dist: Path, work: Path, ver: str, arch: str, compression: str) -> Path:
    if not shutil.which("dpkg-deb"):
        raise SystemExit("error: dpkg-deb not found (apt-get install dpkg); or pass --no-deb")
    root = work / "deb-root"
    if root.exists():
        shutil.rmtree(root)
    opt = root / "opt" / NAME
    shutil.copytree(bundle, opt, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    os.symlink(f"/opt/{NAME}/{NAME}", root / "usr" / "bin" / NAME)
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(RESOURCES / "desktop-qa.desktop", apps / "desktop-qa.desktop")
    for src, rel in _icon_files():
        dest = root / "usr" / "share" / "icons" / "hicolor" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    doc = root / "usr" / "share" / "doc" / NAME
    doc.mkdir(parents=True)
    shutil.copy2(PACKAGING / "licenses" / "agpl-3.0.txt", doc / "agpl-3.0.txt")
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {NAME}\n\nFiles: *\nLicense: AGPL-3.0-or-later\n"
        " The bundle includes PyMuPDF/MuPDF (AGPL-3.0), Qt and PySide6 (LGPL-3.0, dynamically\n"
        " linked under /opt/desktop-qa/_internal/PySide6), ONNX Runtime (MIT), NumPy (BSD),\n"
        " tokenizers (Apache-2.0), Tesseract language data (Apache-2.0, _internal/share/tessdata)\n"
        " and the model packs under /opt/desktop-qa/_internal/models\n"
        " (license in each pack's model.json). The AGPL text is in\n"
        " /usr/share/doc/desktop-qa/agpl-3.0.txt; third-party license files are in\n"
        " /opt/desktop-qa/_internal/licenses/.\n",
        encoding="utf-8",
    )
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if os.access(path, os.X_OK) else 0o644)
    installed_kib = (folder_size(root) + 1023) // 1024
    debian = root / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(
        f"Package: {NAME}\n"
        f"Version: {ver}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {DEB_DEPENDS}\n"
        "Section: text\n"
        "Priority: optional\n"
        f"Description: {DESCRIPTION}\n"
        " Ask a PDF, EPUB, XPS or text file a question and get the answer highlighted\n"
        " on the page, with a local extractive question-answering model. Nothing\n"
        " leaves the computer. Includes a command-line interface (desktop-qa ask).\n",
        encoding="utf-8",
    )
    out = dist / f"{NAME}_{ver}_{arch}.deb"
    cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(root), str(out)]
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(root)
    return out


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    models = p.add_mutually_exclusive_group()
    models.add_argument(
        "--model",
        metavar="DIR",
        action="append",
        type=Path,
        help="model pack folder to bundle (repeatable; default: the packs in models/)",
    )
    models.add_argument("--no-model", action="store_true", help="bundle no model pack")
    p.add_argument("--dist", type=Path, default=PACKAGING / "dist", help="output folder")
    p.add_argument("--work", type=Path, default=PACKAGING / "build", help="scratch folder")
    p.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    p.add_argument("--bundle-only", action="store_true", help="no .tar.gz or .deb")
    p.add_argument("--no-deb", action="store_true", help="no .deb (Linux)")
    p.add_argument(
        "--deb-compression",
        default="zstd",
        choices=["xz", "gzip", "zstd", "none"],
        help="dpkg-deb compressor (zstd: seconds; xz: 25%% smaller, minutes)",
    )
    p.add_argument(
        "--without-onnx",
        action="store_true",
        help="leave out onnx and onnxruntime.quantization (-15 MB); the installed app's\n"
        "'model download' then cannot quantize a downloaded fp32 model",
    )
    p.add_argument(
        "--skip-check", action="store_true", help="do not run the built program's --version"
    )
    args = p.parse_args(argv)

    started = time.perf_counter()
    ver = version()
    dist, work = args.dist.resolve(), args.work.resolve()
    packs = [] if args.no_model else (args.model or default_packs())
    staging = work / "models"
    bundled = stage_models([Path(m) for m in packs], staging)
    log(f"desktop-qa {ver}; model packs: {', '.join(bundled) if bundled else 'none'}")
    if not bundled and not args.no_model:
        log("warning: no model pack in models/; the bundle will ask users to install one")

    if sys.platform == "win32":
        write_windows_version_file(work / "windows-version.txt", ver)
    run_pyinstaller(dist, work / "pyinstaller", staging, args.clean, not args.without_onnx)
    bundle = dist / NAME
    if not args.skip_check:
        check_bundle(bundle, ver)
    log(
        f"bundle: {bundle} ({mib(folder_size(bundle))}, of which models "
        f"{mib(folder_size(bundle / '_internal' / 'models')) if bundled else '0'}) "
        f"in {time.perf_counter() - started:.0f} s"
    )

    if sys.platform.startswith("linux") and not args.bundle_only:
        arch = deb_arch()
        t = time.perf_counter()
        tarball = make_tarball(bundle, dist, ver, arch)
        log(f"tarball: {tarball} ({mib(tarball.stat().st_size)}, {time.perf_counter() - t:.0f} s)")
        if not args.no_deb:
            t = time.perf_counter()
            deb = make_deb(bundle, dist, work, ver, arch, args.deb_compression)
            log(f"deb: {deb} ({mib(deb.stat().st_size)}, {time.perf_counter() - t:.0f} s)")
    elif sys.platform == "darwin":
        log(f"app: {dist / (NAME + '.app')} (make a .dmg: see packaging/README.md)")
    elif sys.platform == "win32":
        log("installer: iscc packaging\\windows\\desktop-qa.iss (see packaging/README.md)")
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
