"""Word recall of the text questions run on, against each Office file's own XML.

For every file of a folder (recursively) whose format has a hook in ``HOOKS``,
the reference is the text the file's XML holds (Word: every ``w:t``; slides:
every ``a:t``; grouped per paragraph, runs joined, line breaks and tabs as
spaces; tracked deletions and the VML fallback copies of text boxes left out,
since they are not what a reader sees), and "ours" is ``Document.text`` as
``load_document`` makes it (the text questions and find run on, headers and
footers included). Both are cut into words (``\\w+``, NFKC, case folded);
recall is the share of the reference's words (as a multiset) found in ours.
Precision (the share of our words the reference holds) is printed too: a text
box read twice shows there.

    python benchmarks/office_recall.py /tmp/office-corpus          # every format
    python benchmarks/office_recall.py DIR --only .docx,.pptx --worst 10 --json out.json
    python benchmarks/office_recall.py DIR --checkout OTHER_CHECKOUT   # the same, before

Prints, per format: files, read (opened without an error), median and worst
recall, the share of files at 0.95 or more, median precision; then the worst
files. A file refused by the app counts as recall 0. Each file is read in a
worker process with a time limit (``--timeout``). Legacy ``.doc``/``.ppt``
files (converted by LibreOffice when installed) are counted as read or
refused only: their XML is not theirs.

Per-format hooks: ``HOOKS[suffix] = reference_function(path) -> str | None``
(None: the file has no readable XML, and is left out). The spreadsheet
formats are added beside these by whoever owns them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import statistics
import sys
import time
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
STRICT_W = "{http://purl.oclc.org/ooxml/wordprocessingml/main}"
STRICT_A = "{http://purl.oclc.org/ooxml/drawingml/main}"
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Words as compared: NFKC, case folded, runs of word characters."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _xml(data: bytes):  # noqa: ANN202
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, recover=True)
    return etree.fromstring(data, parser)


def _paragraph_text(root, p_tags: tuple[str, ...], t_tags, breaks, skipped) -> str:  # noqa: ANN001
    """Each innermost paragraph's text (runs joined, breaks as spaces), one per line."""
    out: dict[object, list[str]] = {}
    order: list[object] = []
    for element in root.iter(*t_tags, *breaks):
        ancestors = list(element.iterancestors())
        if any(a.tag in skipped for a in ancestors):
            continue
        para = next((a for a in ancestors if a.tag in p_tags), None)
        if para not in out:
            out[para] = []
            order.append(para)
        out[para].append(" " if element.tag in breaks else (element.text or ""))
    return "\n".join("".join(out[p]) for p in order)


def _names(path: Path, pattern: str) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return sorted(n for n in archive.namelist() if re.fullmatch(pattern, n))


def _members(path: Path, pattern: str) -> list[bytes]:
    with zipfile.ZipFile(path) as archive:
        return [archive.read(n) for n in _names(path, pattern)]


STRICT = False  # --strict: every part's text, shown by Word or not


def _shown_furniture(path: Path) -> set[str]:
    """The header and footer parts Word shows: referenced as a section's default, as its
    first page's when it has a title page, as even pages' when the document has them."""
    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        rels = _xml(archive.read("word/_rels/document.xml.rels"))
        document = _xml(archive.read("word/document.xml"))
        settings = _xml(archive.read("word/settings.xml")) if "word/settings.xml" in names else None
    targets = {r.get("Id"): "word/" + (r.get("Target") or "").lstrip("/").removeprefix("word/")
               for r in rels}  # fmt: skip
    even = settings is not None and any(
        etree.QName(e).localname == "evenAndOddHeaders" for e in settings.iter()
    )
    shown = set()
    for sectpr in document.iter(f"{W}sectPr", f"{STRICT_W}sectPr"):
        title = any(etree.QName(e).localname == "titlePg" for e in sectpr)
        for ref in sectpr:
            if etree.QName(ref).localname not in ("headerReference", "footerReference"):
                continue
            kind = next((v for k, v in ref.attrib.items() if k.endswith("}type")), "default")
            rid = next((v for k, v in ref.attrib.items() if k.endswith("}id")), "")
            if kind == "default" or (kind == "first" and title) or (kind == "even" and even):
                shown.add(targets.get(rid, ""))
    return shown


def word_reference(path: Path) -> str | None:
    """Every w:t of the body, notes, comments, SmartArt data (a:t) and the headers and
    footers Word shows (``--strict``: every header and footer part)."""
    try:
        parts = _members(
            path,
            r"word/(document\d*|footnotes|endnotes|comments)\.xml|word/diagrams/data\d+\.xml",
        )
        furniture = _members(path, r"word/(header|footer)\d+\.xml")
        if not STRICT:
            shown = _shown_furniture(path)
            furniture = [
                data
                for name, data in zip(_names(path, r"word/(header|footer)\d+\.xml"), furniture,
                                      strict=True)
                if name in shown
            ]  # fmt: skip
        parts += furniture
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    texts = []
    for data in parts:
        root = _xml(data)
        if root is None:
            continue
        skipped = {f"{W}del", f"{W}moveFrom", f"{MC}Fallback", f"{STRICT_W}del"}
        texts.append(
            _paragraph_text(
                root,
                (f"{W}p", f"{A}p", f"{STRICT_W}p", f"{STRICT_A}p"),
                (f"{W}t", f"{A}t", f"{STRICT_W}t", f"{STRICT_A}t"),
                (
                    f"{W}tab",
                    f"{W}ptab",
                    f"{W}br",
                    f"{W}cr",
                    f"{A}br",
                    f"{STRICT_W}tab",
                    f"{STRICT_W}br",
                ),  # fmt: skip
                skipped,
            )
        )
    return "\n".join(texts)


NOTES_PAGE = ("dt", "ftr", "hdr", "sldNum", "sldImg")  # a notes page's own furniture


def slide_reference(path: Path) -> str | None:
    """Every a:t of the slides, their speaker notes and SmartArt data (``--strict``: also
    the notes pages' own date, number, header and footer placeholders, not notes)."""
    try:
        names = _names(
            path, r"ppt/(slides/slide\d+|notesSlides/notesSlide\d+|diagrams/data\d+)\.xml"
        )
        parts = _members(
            path, r"ppt/(slides/slide\d+|notesSlides/notesSlide\d+|diagrams/data\d+)\.xml"
        )
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    texts = []
    for name, data in zip(names, parts, strict=True):
        root = _xml(data)
        if root is None:
            continue
        if "notesSlides" in name and not STRICT:
            for ph in list(root.iter("{*}ph")):
                if ph.get("type") in NOTES_PAGE:
                    shape = next((a for a in ph.iterancestors() if a.tag.endswith("}sp")), None)
                    if shape is not None and shape.getparent() is not None:
                        shape.getparent().remove(shape)
        texts.append(
            _paragraph_text(
                root,
                (f"{A}p", f"{STRICT_A}p"),
                (f"{A}t", f"{STRICT_A}t"),
                (f"{A}br", f"{STRICT_A}br"),
                {f"{MC}Fallback"},
            )
        )
    return "\n".join(texts)


HOOKS: dict[str, Callable[[Path], str | None]] = {
    **dict.fromkeys((".docx", ".docm", ".dotx", ".dotm"), word_reference),
    **dict.fromkeys((".pptx", ".pptm", ".ppsx", ".potx", ".ppsm", ".potm"), slide_reference),
}
LEGACY = (".doc", ".ppt", ".msg")  # read or refused only (the reader is the reference)


def _ours(path: str) -> tuple[str | None, str | None, float]:
    """(text, error line, seconds): the text questions run on, as the app makes it."""
    import os
    import tempfile

    from desktop_qa.core.documents.document import load_document
    from desktop_qa.core.errors import UserError

    started = time.perf_counter()
    saved = os.dup(2)  # anything written to stderr while reading (warnings, C libraries)
    with tempfile.TemporaryFile() as err:
        os.dup2(err.fileno(), 2)
        try:
            doc = load_document(path)
            text, error = doc.text, None
        except UserError as exc:
            text, error = None, str(exc).splitlines()[0][:200]
        except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported per file
            text, error = None, f"CRASH {type(exc).__name__}: {exc}"[:200]
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        err.seek(0)
        noise = err.read().decode("utf-8", "replace").strip()
    if noise:
        error = (error or "") + f" STDERR: {noise.splitlines()[0][:120]}"
    return text, error, time.perf_counter() - started


def recall(reference: list[str], ours: list[str]) -> tuple[float, float]:
    """(recall, precision) of two word multisets."""
    ref, got = Counter(reference), Counter(ours)
    common = sum((ref & got).values())
    return (common / max(sum(ref.values()), 1), common / max(sum(got.values()), 1))


def _use(checkout: str) -> None:
    """A worker reads with this checkout's code."""
    sys.path.insert(0, checkout)


def _pool(checkout: Path):  # noqa: ANN202
    return mp.get_context("spawn").Pool(
        1, initializer=_use, initargs=(str(checkout),), maxtasksperchild=50
    )


def measure(files: list[Path], timeout: float, checkout: Path = HERE) -> list[dict]:
    rows: list[dict] = []
    pool = _pool(checkout)
    try:
        for path in files:
            suffix = path.suffix.lower()
            reference = None
            if suffix in HOOKS:
                reference = HOOKS[suffix](path)
                if reference is None or not words(reference):
                    continue  # no XML words to compare with
            job = pool.apply_async(_ours, (str(path),))
            try:
                text, error, seconds = job.get(timeout)
            except mp.TimeoutError:
                pool.terminate()
                pool = _pool(checkout)
                text, error, seconds = None, f"TIMEOUT after {timeout:.0f} s", timeout
            row = {"file": str(path), "format": suffix, "seconds": round(seconds, 2)}
            row["stderr"] = bool(error and "STDERR: " in error)
            if row["stderr"] and text is not None:
                print(f"  stderr: {path.name}: {error}", file=sys.stderr)
                error = None
            row["error"] = error
            if reference is not None:
                ref_words = words(reference)
                r, p = recall(ref_words, words(text or ""))
                missing = Counter(ref_words) - Counter(words(text or ""))
                row.update(
                    words=len(ref_words),
                    recall=round(r, 4),
                    precision=round(p, 4) if text is not None else None,
                    missing=[w for w, _ in missing.most_common(8)],
                )
            rows.append(row)
            print(
                f"  {row.get('recall', '-')!s:>6} {seconds:5.1f}s {path.name}"
                + (f"  [{error[:90]}]" if error else ""),
                file=sys.stderr,
                flush=True,
            )
    finally:
        pool.terminate()
    return rows


def report(rows: list[dict], worst: int) -> None:
    by_format: dict[str, list[dict]] = {}
    for row in rows:
        by_format.setdefault(row["format"], []).append(row)
    print(
        f"{'format':8} {'files':>5} {'read':>5} {'median':>7} {'worst':>6} {'>=0.95':>7} "
        f"{'precision':>9}"
    )
    everything = [r["recall"] for r in rows if "recall" in r]
    for suffix, group in sorted(by_format.items()):
        read = sum(1 for r in group if r["error"] is None)
        values = [r["recall"] for r in group if "recall" in r]
        if values:
            precisions = [r["precision"] for r in group if r.get("precision") is not None]
            print(
                f"{suffix:8} {len(group):5d} {read:5d} {statistics.median(values):7.3f} "
                f"{min(values):6.3f} {sum(v >= 0.95 for v in values) / len(values):7.1%} "
                f"{statistics.median(precisions) if precisions else 0:9.3f}"
            )
        else:
            print(f"{suffix:8} {len(group):5d} {read:5d} {'(legacy: read or refused only)':>32}")
    if everything:
        print(
            f"{'all':8} {len(everything):5d} {'':5} {statistics.median(everything):7.3f} "
            f"{min(everything):6.3f} {sum(v >= 0.95 for v in everything) / len(everything):7.1%}"
        )
    noisy = [r for r in rows if r.get("stderr")]
    print(f"files that wrote to stderr while read: {len(noisy)} of {len(rows)}")
    for row in noisy[:worst]:
        print(f"  {Path(row['file']).name}")
    print(f"\nworst {worst}:")
    scored = sorted((r for r in rows if "recall" in r), key=lambda r: r["recall"])
    for row in scored[:worst]:
        why = row["error"] or "missing: " + " ".join(row["missing"])
        print(f"  {row['recall']:.3f} {row['words']:6d} words  {Path(row['file']).name}  {why}")
    refused = [r for r in rows if r["error"] and "recall" not in r]
    if refused:
        print("\nlegacy files refused:")
        for row in refused[:worst]:
            print(f"  {Path(row['file']).name}  {row['error']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--only", default="", help="suffixes, comma-separated (.docx,.pptx)")
    parser.add_argument(
        "--legacy",
        action="store_true",
        help="also .doc/.ppt (LibreOffice) and .msg: read or refused",
    )
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--worst", type=int, default=12)
    parser.add_argument("--json", type=Path, help="write every file's row here")
    parser.add_argument(
        "--checkout", type=Path, default=HERE, help="measure another checkout's code (before)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="count every header, footer and notes-page placeholder, shown or not",
    )
    args = parser.parse_args(argv)
    global STRICT
    STRICT = args.strict
    wanted = {s.strip().lower() for s in args.only.split(",") if s.strip()}
    suffixes = set(HOOKS) | (set(LEGACY) if args.legacy else set())
    files = sorted(
        p
        for p in args.folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
        and (not wanted or p.suffix.lower() in wanted)
    )
    started = time.perf_counter()
    rows = measure(files, args.timeout, args.checkout.resolve())
    report(rows, args.worst)
    print(f"\n{len(rows)} files in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
