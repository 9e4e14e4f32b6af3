"""Smoke test of the installer bundle: build it with PyInstaller, run it with no Python around.

The bundle is built once per session (packaging/build.py --bundle-only, into a tmp folder)
with a generated rule-based pack, then run in a clean environment: PATH=/usr/bin:/bin (no
venv), no PYTHONPATH, HOME and the DESKTOP_QA_* folders in tmp (no user packs), no
DESKTOP_QA_MODEL, so `ask` can only answer with the pack bundled inside. About a minute on
two cores.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

pytest.importorskip(
    "PyInstaller", reason="PyInstaller is not installed (pip install -e '.[package]')"
)

from desktop_qa import __version__  # noqa: E402
from desktop_qa.packs.oracle import build_oracle_pack  # noqa: E402
from tests.xserver import App, keyboard_session, missing_tools, x_display  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUILD_PY = REPO / "packaging" / "build.py"
EXE_NAME = "desktop-qa.exe" if sys.platform == "win32" else "desktop-qa"
PACK_NAME = "bundled-oracle"
QUESTION = "What is the launch code?"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIB = 1 << 20


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bundle")
    pack = build_oracle_pack(root / "src-packs" / "oracle", name=PACK_NAME)
    cmd = [sys.executable, str(BUILD_PY), "--model", str(pack), "--bundle-only"]
    cmd += ["--dist", str(root / "dist"), "--work", str(root / "work")]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, f"build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    out = root / "dist" / "desktop-qa"
    print(f"\nbundle built in {seconds:.0f} s: {_folder_size(out) / MIB:.0f} MiB")
    return out


@pytest.fixture()
def clean_env(tmp_path: Path) -> dict[str, str]:
    """No venv, no PYTHON*, no user packs: only what the bundle carries."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "USERPROFILE": str(home),
        "LANG": "C.UTF-8",
        "DESKTOP_QA_DATA_DIR": str(tmp_path / "data"),
        "DESKTOP_QA_CONFIG_DIR": str(tmp_path / "config"),
        "DESKTOP_QA_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(tmp_path / "runtime"),
        "TMPDIR": str(tmp_path),
    }
    (tmp_path / "runtime").mkdir(mode=0o700)
    if sys.platform == "win32":
        system_root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        env.update(SYSTEMROOT=system_root, PATH=rf"{system_root}\System32", TEMP=str(tmp_path))
    else:
        env["PATH"] = "/usr/bin:/bin"
    return env


def _run(bundle: Path, env: dict[str, str], *args: str, timeout: float = 120):
    return subprocess.run(
        [str(bundle / EXE_NAME), *args],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def launch_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pymupdf

    path = tmp_path_factory.mktemp("docs") / "launch.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Nothing to see on the first page.")
    doc.new_page().insert_text((72, 72), "The launch code is Alpha Bravo.")
    doc.save(path)
    doc.close()
    return path


def test_version(bundle, clean_env):
    proc = _run(bundle, clean_env, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"desktop-qa {__version__}"


def test_ask_uses_the_bundled_pack(bundle, clean_env, launch_pdf):
    started = time.perf_counter()
    proc = _run(bundle, clean_env, "ask", str(launch_pdf), QUESTION, "--json")
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["model"]["name"] == PACK_NAME
    assert result["no_answer"] is False
    best = result["answers"][0]
    assert best["text"] == "Alpha Bravo"
    assert best["page"] == 2
    assert best["boxes"]
    print(f"\ncold ask from the bundle: {seconds:.2f} s")


def test_bundle_keeps_onnxruntime_telemetry_off(bundle, clean_env, launch_pdf):
    """The bundle goes through desktop_qa/core/system/runtime.py too: no telemetry store appears."""
    env = {**clean_env, "ORT_DISABLE_TELEMETRY": "0"}  # an inherited "0" must not win
    proc = _run(bundle, env, "ask", str(launch_pdf), QUESTION, "--json")
    assert proc.returncode == 0, proc.stderr
    roots = [Path(env["HOME"]), Path(env["DESKTOP_QA_CACHE_DIR"])]
    stores = [p for root in roots for p in root.rglob("*") if "onnxruntime" in p.name.lower()]
    assert stores == []


def test_ask_ocrs_a_scanned_page(bundle, clean_env, tmp_path):
    """Image-only PDF: the bundle's own Tesseract and language data read it."""
    from tests import pdfgen

    src = pdfgen.write_pdf(tmp_path / "src.pdf", [[["The launch code is Alpha Bravo."]]])
    scan = pdfgen.scan_pdf(src, tmp_path / "scan.pdf", dpi=200)
    proc = _run(bundle, clean_env, "ask", str(scan), QUESTION, "--json")
    assert proc.returncode == 0, proc.stderr
    best = json.loads(proc.stdout)["answers"][0]
    assert (best["text"], best["page"], best["ocr"]) == ("Alpha Bravo", 1, True)
    assert best["boxes"]


def test_no_pack_is_a_clear_error_without_the_bundled_one(bundle, clean_env, launch_pdf):
    """The bundled pack is the only one; pointing at an empty pack folder fails cleanly."""
    empty = Path(clean_env["HOME"]) / "empty"
    empty.mkdir()
    proc = _run(bundle, clean_env, "ask", str(launch_pdf), QUESTION, "--model", str(empty))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def _gui_missing() -> str | None:
    for module in ("desktop_qa.commands.gui", "desktop_qa.gui.app"):
        if importlib.util.find_spec(module) is None:
            return f"the GUI is not written yet ({module} is missing)"
    return None


def test_gui_screenshot_offscreen(bundle, clean_env, launch_pdf, tmp_path):
    missing = _gui_missing()
    if missing:
        pytest.skip(missing)
    shot = tmp_path / "window.png"
    env = dict(clean_env, QT_QPA_PLATFORM="offscreen")
    proc = _run(bundle, env, "gui", str(launch_pdf), "--ask", QUESTION, "--screenshot", str(shot))
    assert proc.returncode == 0, proc.stderr
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000


@pytest.mark.x11
def test_keyboard_walk_on_the_bundle_under_a_real_x_server(
    bundle, clean_env, handbook_pdf, tmp_path
):
    """The bundle under Xvfb + openbox, driven by keys only (tests/xserver.py)."""
    missing = _gui_missing() or missing_tools()
    if missing:
        pytest.skip(missing)
    with x_display(tmp_path) as display:
        env = dict(clean_env, DISPLAY=display)
        app = App([str(bundle / EXE_NAME), str(handbook_pdf), "--page", "3"], env, tmp_path)
        seen = keyboard_session(
            app,
            document="handbook.pdf",
            start_page=3,
            question=QUESTION,
            answer="Alpha Bravo",
            answer_page=41,
        )
    assert seen["answered"]["highlight"]["page"] == 41
    assert seen["answered"]["header"].startswith("Answer 1 of 5")
    assert seen["next"]["header"].startswith("Answer 2 of 5")
    assert seen["next"]["highlight"] != seen["answered"]["highlight"]
    assert seen["exit"] == 0, app.output()


def test_bundle_contents(bundle):
    internal = bundle / "_internal"
    root = internal if internal.is_dir() else bundle
    # The pack the app finds as its bundled default.
    manifest = json.loads((root / "models" / PACK_NAME / "model.json").read_text("utf-8"))
    assert manifest["name"] == PACK_NAME
    # Installed under /opt, every user must be able to read the bundled model.
    for item in (root / "models" / PACK_NAME).iterdir():
        assert item.stat().st_mode & 0o044 == 0o044, item
    # Icons for the window and the About dialog (desktop_qa.resources).
    assert (root / "resources" / "desktop-qa.png").is_file()
    assert (root / "resources" / "desktop-qa.svg").is_file()
    # The AGPL text and the third-party licenses (LGPL Qt notice in README.txt).
    assert "GNU AFFERO" in (root / "licenses" / "desktop-qa" / "agpl-3.0.txt").read_text("utf-8")
    assert "LGPL" in (root / "licenses" / "README.txt").read_text("utf-8")
    # OCR language data for the Tesseract inside PyMuPDF.
    assert (root / "share" / "tessdata" / "eng.traineddata").is_file()
    # Build-time-only packages stay out.
    for name in ("torch", "transformers", "pymupdf/layout", "pymupdf4llm"):
        assert not (root / name).exists(), f"{name} must not be bundled"
    # ... but `model download` quantizes on the user's machine: onnx must be there.
    # (onnxruntime.quantization is pure Python: it sits in the PYZ archive, not a folder.)
    assert (root / "onnx").is_dir()
    if sys.platform.startswith("linux"):
        qt = root / "PySide6" / "Qt"
        for plugin in ("libqxcb.so", "libqoffscreen.so", "libqminimal.so"):
            assert (qt / "plugins" / "platforms" / plugin).is_file(), plugin
        assert (qt / "plugins" / "imageformats" / "libqsvg.so").is_file()
        libs = {p.name for p in (qt / "lib").iterdir()}
        for unwanted in ("Qt6WebEngineCore", "Qt6Qml", "Qt6Quick", "Qt6Network", "Qt63D"):
            assert not any(unwanted in lib for lib in libs), f"{unwanted} must not be bundled"
    # A size guard: a stray torch or QtWebEngine would add hundreds of MiB.
    assert _folder_size(bundle) < 450 * MIB


def _load_build_module():
    spec = importlib.util.spec_from_file_location("desktop_qa_build", BUILD_PY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux archives")
def test_linux_tarball_and_deb(bundle, tmp_path):
    build = _load_build_module()
    arch = build.deb_arch()
    tarball = build.make_tarball(bundle, tmp_path, __version__, arch)
    top = f"desktop-qa-{__version__}"
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        exe = tar.getmember(f"{top}/desktop-qa")
        assert exe.mode & 0o111
    for name in (
        "share/applications/desktop-qa.desktop",
        "share/icons/hicolor/scalable/apps/desktop-qa.svg",
        "share/icons/hicolor/48x48/apps/desktop-qa.png",
        f"_internal/models/{PACK_NAME}/model.json",
        "install-desktop-entry.sh",
        "README.txt",
    ):
        assert f"{top}/{name}" in names, name
    with tarfile.open(tarball) as tar:
        readme = tar.extractfile(f"{top}/README.txt").read().decode("utf-8")
    # A minimal install lacks these; the README names them and how to install them.
    for needle in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "sudo apt install"):
        assert needle in readme, needle
    assert "sudo dnf install" in readme and "xcb-util-cursor" in readme

    if not build.shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is not installed")
    deb = build.make_deb(bundle, tmp_path, tmp_path / "work", __version__, arch, "zstd")
    info = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert f"Version: {__version__}" in info.stdout and "Package: desktop-qa" in info.stdout
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    assert "./usr/bin/desktop-qa -> /opt/desktop-qa/desktop-qa" in listing
    for path in (
        "./opt/desktop-qa/desktop-qa",
        "./usr/share/applications/desktop-qa.desktop",
        "./usr/share/icons/hicolor/256x256/apps/desktop-qa.png",
        "./usr/share/doc/desktop-qa/agpl-3.0.txt",
        f"./opt/desktop-qa/_internal/models/{PACK_NAME}/model.json",
    ):
        assert path in listing, path
