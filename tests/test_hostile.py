"""Hostile model packs, documents, caches and arguments (issue 9).

Each case builds its hostile input in ``tmp_path`` beside a "victim" folder
(a bashrc, a 0600 private key, a 0700 private folder) and asserts: exit 0 or
2 with exactly one ``error:`` line and no traceback; the victim's bytes and
modes are unchanged; and no Python-level open, chmod, rename, remove, mkdir
or copy touched it (an audit hook records every such call, following
symlinks to their targets). Large inputs are sparse files (``truncate``),
measured in a child process (its VmHWM, or ``resource.getrusage``; limit below).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from desktop_qa import cli
from desktop_qa.core.documents.document import load_document
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.storage import cache, opening
from desktop_qa.core.system import paths
from desktop_qa.core.system.files import sha256_file
from desktop_qa.packs.write import write_manifest
from tests.pdfgen import write_pdf

REPO = Path(__file__).resolve().parents[1]
# Peak RSS allowed for a child that refuses a huge input (python + numpy +
# PyMuPDF imports take ~35 MB; reading a 2 GiB file took 4.2 GB).
MAX_RSS_MB = 200
GIB = 1 << 30

# -- watching the victim ---------------------------------------------------------
_WATCHED: list[tuple[str, list[tuple[str, str]]]] = []
_EVENTS = {
    "open": 0,
    "os.chmod": 0,
    "os.rename": 0,
    "os.remove": 0,
    "os.rmdir": 0,
    "os.mkdir": 0,
    "os.truncate": 0,
    "os.utime": 0,
    "shutil.copyfile": 0,
    "os.listdir": 0,
    "os.scandir": 0,
}


def _audit(event: str, args: tuple) -> None:
    if not _WATCHED or event not in _EVENTS or not args:
        return
    raw = args[0]
    if isinstance(raw, int) or raw is None:
        return
    try:
        path = os.fsdecode(raw)
    except TypeError:
        return
    names = {os.path.normpath(os.path.abspath(path)), os.path.realpath(path)}
    for root, hits in _WATCHED:
        if any(n == root or n.startswith(root + os.sep) for n in names):
            hits.append((event, path))


sys.addaudithook(_audit)


@contextmanager
def untouched(victim: Path) -> Iterator[list[tuple[str, str]]]:
    """Record every Python-level file operation on ``victim`` (through symlinks too)."""
    before = _snapshot(victim)
    hits: list[tuple[str, str]] = []
    entry = (os.path.realpath(victim), hits)
    _WATCHED.append(entry)
    try:
        yield hits
    finally:
        _WATCHED.remove(entry)
    assert hits == [], f"touched outside the pack: {hits[:5]}"
    assert _snapshot(victim) == before


def _snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p)] = (stat.S_IMODE(st.st_mode), p.read_bytes() if p.is_file() else None)
    return out


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    root = tmp_path / "victim"
    root.mkdir()
    (root / "bashrc").write_text("echo hello\n")
    key = root / "id_ed25519"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o600)
    private = root / "private"
    private.mkdir()
    (private / "notes.txt").write_text("mine\n")
    private.chmod(0o700)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.out, captured.err.splitlines()


def one_error(code: int, lines: list[str], *needles: str) -> str:
    assert code == 2, (code, lines)
    errors = [line for line in lines if line.startswith("error:")]
    others = [line for line in lines if not line.startswith(("error:", "warning:"))]
    assert len(errors) == 1 and others == [], lines
    assert lines[-1] == errors[0], lines
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _sha(path: Path) -> str:
    return sha256_file(path)


def clone(oracle_pack: Path, dest: Path) -> Path:
    shutil.copytree(oracle_pack, dest)
    return dest


def manifest(pack: Path) -> dict:
    return json.loads((pack / "model.json").read_text())


def save(pack: Path, data: dict | str) -> None:
    text = data if isinstance(data, str) else json.dumps(data)
    (pack / "model.json").write_text(text)


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "doc.txt"
    path.write_text("The code is alpha one bravo.\n\nNothing else here.\n")
    return path


# -- 1, 4: a pack is a closed folder ------------------------------------------------
def _traversal_name(pack: Path, victim: Path) -> str:
    return os.path.relpath(victim / "bashrc", pack)


@pytest.mark.parametrize("kind", ["climb", "absolute", "onnx-climb", "tokenizer-absolute"])
def test_names_leaving_the_pack_are_refused(
    kind: str, oracle_pack: Path, tmp_path: Path, victim: Path, doc: Path, capsys
):
    pack = clone(oracle_pack, tmp_path / "pack")
    data = manifest(pack)
    outside = victim / "bashrc"
    if kind == "climb":
        data["files"][_traversal_name(pack, victim)] = _sha(outside)
    elif kind == "absolute":
        data["files"][str(outside)] = _sha(outside)
    elif kind == "onnx-climb":
        shutil.copyfile(pack / "model.onnx", victim / "model.onnx")
        victim_onnx = victim / "model.onnx"
        name = os.path.relpath(victim_onnx, pack)
        data["onnx"] = name
        data["files"][name] = _sha(victim_onnx)
    else:
        shutil.copyfile(pack / "tokenizer.json", victim / "tokenizer.json")
        data["tokenizer"] = str(victim / "tokenizer.json")
        data["files"][data["tokenizer"]] = _sha(victim / "tokenizer.json")
    save(pack, data)
    with untouched(victim):
        code, _, lines = run(capsys, "model", "install", str(pack))
        one_error(code, lines, "not a plain file name inside the pack")
        code, _, lines = run(capsys, "ask", str(doc), "code?", "--model", str(pack))
        one_error(code, lines, "not a plain file name inside the pack")
        code, out, _ = run(capsys, "model", "info", str(pack), "--json")
        assert code == 1 and not json.loads(out)["valid"]
    assert not (paths.user_models_dir() / "oracle-test").exists()


@pytest.mark.parametrize("link", ["tokenizer.json", "model.onnx", "model.json", "folder"])
def test_symlinks_in_a_pack_are_refused(
    link: str, oracle_pack: Path, tmp_path: Path, victim: Path, doc: Path, capsys
):
    pack = clone(oracle_pack, tmp_path / "pack")
    if link == "folder":  # a listed file below a symlinked folder
        (victim / "private" / "tokenizer.json").write_bytes((pack / "tokenizer.json").read_bytes())
        (pack / "sub").symlink_to(victim / "private")
        data = manifest(pack)
        data["tokenizer"] = "sub/tokenizer.json"
        data["files"]["sub/tokenizer.json"] = data["files"].pop("tokenizer.json")
        save(pack, data)
    else:
        target = victim / link
        shutil.move(pack / link, target)
        (pack / link).symlink_to(target)
    with untouched(victim):
        code, _, lines = run(capsys, "model", "install", str(pack))
        one_error(code, lines, "symbolic link")
        code, _, lines = run(capsys, "ask", str(doc), "code?", "--model", str(pack))
        one_error(code, lines, "symbolic link")
    assert not (paths.user_models_dir() / "oracle-test").exists()


def _external_data_pack(oracle_pack: Path, pack: Path) -> Path:
    """The oracle pack with its tables in ``weights.bin`` (ONNX external data)."""
    import onnx
    from onnx.external_data_helper import convert_model_to_external_data

    clone(oracle_pack, pack)
    model = onnx.load(str(pack / "model.onnx"))
    convert_model_to_external_data(model, location="weights.bin", size_threshold=0)
    onnx.save_model(model, str(pack / "model.onnx"))
    data = manifest(pack)
    data.pop("files")
    data["extra_files"] = ["weights.bin"]
    write_manifest(pack, data)
    return pack


def test_external_data_inside_the_pack_loads(oracle_pack: Path, tmp_path: Path, doc: Path, capsys):
    pack = _external_data_pack(oracle_pack, tmp_path / "pack")
    code, out, _ = run(capsys, "ask", str(doc), "code?", "--model", str(pack), "--json")
    assert code == 0 and json.loads(out)["answers"][0]["text"] == "alpha one bravo"


@pytest.mark.parametrize("where", ["climb", "absolute", "unlisted"])
def test_external_data_outside_the_pack_is_refused(
    where: str, oracle_pack: Path, tmp_path: Path, victim: Path, doc: Path, capsys
):
    import onnx

    pack = _external_data_pack(oracle_pack, tmp_path / "pack")
    shutil.copyfile(pack / "weights.bin", victim / "weights.bin")
    location = {
        "climb": os.path.relpath(victim / "weights.bin", pack),
        "absolute": str(victim / "weights.bin"),
        "unlisted": "other.bin",
    }[where]
    if where == "unlisted":
        shutil.copyfile(pack / "weights.bin", pack / "other.bin")
    model = onnx.load(str(pack / "model.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save_model(model, str(pack / "model.onnx"))
    data = manifest(pack)
    data.pop("files")
    data["extra_files"] = ["weights.bin"]
    write_manifest(pack, data)  # checksums right: only the reference is hostile
    with untouched(victim):
        code, _, lines = run(capsys, "ask", str(doc), "code?", "--model", str(pack))
        one_error(code, lines, "external data", "not a file listed in the pack")
        code, _, lines = run(capsys, "model", "install", str(pack))
        one_error(code, lines, "external data")


# -- 3: make_readable never follows links --------------------------------------------
def test_calibrate_leaves_linked_files_and_folders_alone(
    oracle_pack: Path, tmp_path: Path, victim: Path, capsys
):
    pack = clone(oracle_pack, tmp_path / "pack")
    (pack / "key").symlink_to(victim / "id_ed25519")
    (pack / "private").symlink_to(victim / "private")
    data = tmp_path / "dev.json"
    qa = {"id": "q1", "question": "What is the code?", "answers": [], "is_impossible": True}
    paragraph = {"context": "The code is alpha one bravo.", "qas": [qa]}
    data.write_text(json.dumps({"version": "v2.0", "data": [{"paragraphs": [paragraph]}]}))
    with untouched(victim):
        code, _, _ = run(capsys, "eval", str(data), "--model", str(pack), "--calibrate")
        assert code == 0
    assert stat.S_IMODE((victim / "id_ed25519").stat().st_mode) == 0o600
    assert stat.S_IMODE((victim / "private").stat().st_mode) == 0o700
    assert stat.S_IMODE((pack / "model.onnx").stat().st_mode) == 0o644


# -- 5, 8: damaged manifests ----------------------------------------------------------
MANIFEST_CASES = {
    "deep-nesting": ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    "huge-number": ('{"format": 1, "max_seq_length": 1e400}', "max_seq_length must be"),
    "nan-literal": ('{"format": 1, "null_threshold": NaN}', "not valid JSON"),
    "infinity": ('{"format": 1, "null_threshold": -Infinity}', "not valid JSON"),
    "inf-threshold": ('{"format": 1, "null_threshold": 1e999}', "null_threshold must be"),
    "huge-int": ('{"format": 1, "null_threshold": 1' + "0" * 400 + "}", "null_threshold must"),
    "string-number": ({"max_seq_length": "384"}, "max_seq_length must be an integer"),
    "list-number": ({"doc_stride": [128]}, "doc_stride must be an integer"),
    "float-length": ({"max_answer_length": 30.5}, "max_answer_length must be an integer"),
    "negative-query": ({"max_query_length": -5}, "max_query_length -5 is out of range"),
    "zero-answer": ({"max_answer_length": 0}, "out of range"),
    "string-false": ({"trained": "false"}, "trained must be true or false"),
    "string-threshold": ({"null_threshold": "nan"}, "null_threshold must be a finite number"),
    "bool-format": ({"format": True}, "format true is not supported"),
    "files-list": ({"files": ["model.onnx"]}, "lists no file checksums"),
    "bad-checksum": ({"files": {"model.onnx": "x", "tokenizer.json": "y"}}, "not a sha256"),
    "stride-too-big": ({"doc_stride": 60}, "doc_stride 60 is too large"),
    "batch-size": ({"batch_size": 0}, "batch_size 0 is out of range"),
    "name-object": ({"name": {"a": 1}}, "name must be a string"),
}


@pytest.mark.parametrize("case", sorted(MANIFEST_CASES))
def test_damaged_manifest_is_one_error_line(
    case: str, oracle_pack: Path, tmp_path: Path, doc: Path, capsys
):
    change, needle = MANIFEST_CASES[case]
    pack = clone(oracle_pack, tmp_path / "pack")
    if isinstance(change, str):
        save(pack, change)
    else:
        save(pack, {**manifest(pack), **change})
    code, _, lines = run(capsys, "ask", str(doc), "code?", "--model", str(pack))
    one_error(code, lines, str(pack), needle)
    code, _, lines = run(capsys, "model", "install", str(pack))
    one_error(code, lines, needle)


def test_string_false_is_not_trained_in_model_info(oracle_pack: Path, tmp_path: Path, capsys):
    pack = clone(oracle_pack, tmp_path / "pack")
    save(pack, {**manifest(pack), "trained": "false"})
    code, out, _ = run(capsys, "model", "info", str(pack))
    assert code == 1 and "UNTRAINED" in out and "NOT USABLE" in out


def _set_graph(pack: Path, graph: bytes) -> Path:
    (pack / "model.onnx").write_bytes(graph)
    data = manifest(pack)
    data.pop("files")
    write_manifest(pack, data)
    return pack


def _graph(
    input_type: int | None = None, out_rank: int = 2, shorter: bool = False, vocab: int = 0
) -> bytes:
    """A look-up graph like the oracle's with one thing wrong."""
    from onnx import TensorProto, helper, numpy_helper

    from desktop_qa.packs.vocab import base_vocab

    size = vocab or len(base_vocab(["alpha", "bravo"]))
    in_type = input_type or TensorProto.INT64
    inputs = [
        helper.make_tensor_value_info(n, in_type, ["batch", "sequence"])
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    nodes = []
    ids = "input_ids"
    if in_type == TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.INT64))
        ids = "ids"
    shape = {1: ["batch"], 2: ["batch", "sequence"], 3: ["batch", "sequence", 1]}[out_rank]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, shape)
        for n in ("start_logits", "end_logits")
    ]
    inits = [numpy_helper.from_array(np.ones(size, np.float32), "table")]
    for name in ("start_logits", "end_logits"):
        raw = f"{name}_raw"
        nodes.append(helper.make_node("Gather", ["table", ids], [raw], axis=0))
        if out_rank == 1:
            nodes.append(helper.make_node("ReduceMax", [raw], [name], keepdims=0, axes=[1]))
        elif out_rank == 3:
            inits.append(numpy_helper.from_array(np.array([2], np.int64), f"{name}_ax"))
            nodes.append(helper.make_node("Unsqueeze", [raw, f"{name}_ax"], [name]))
        elif shorter:
            for k, v in (("s", 1), ("e", 1 << 30), ("a", 1)):
                inits.append(numpy_helper.from_array(np.array([v], np.int64), f"{name}_{k}"))
            args = [raw, f"{name}_s", f"{name}_e", f"{name}_a"]
            nodes.append(helper.make_node("Slice", args, [name]))
        else:
            nodes.append(helper.make_node("Identity", [raw], [name]))
    graph = helper.make_graph(nodes, "hostile", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def _graph_cases() -> dict[str, tuple]:
    from onnx import TensorProto

    return {
        "int32-inputs": (lambda: _graph(input_type=TensorProto.INT32), "is tensor(int32)"),
        "float-inputs": (lambda: _graph(input_type=TensorProto.FLOAT), "is tensor(float)"),
        "1d-outputs": (lambda: _graph(out_rank=1), "has rank 1"),
        "3d-outputs": (lambda: _graph(out_rank=3), "has rank 3"),
        "shorter-outputs": (lambda: _graph(shorter=True), "returned logits of shape"),
        "fails-at-run-time": (lambda: _graph(vocab=3), "the model failed while reading"),
        "not-onnx": (lambda: b"\x08\x07garbage" * 10, "not a loadable ONNX graph"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "int32-inputs",
        "float-inputs",
        "1d-outputs",
        "3d-outputs",
        "shorter-outputs",
        "fails-at-run-time",
        "not-onnx",
    ],
)
def test_hostile_graph_is_one_error_line_naming_the_pack(
    case: str, oracle_pack: Path, tmp_path: Path, doc: Path, capsys
):
    make, needle = _graph_cases()[case]
    pack = _set_graph(clone(oracle_pack, tmp_path / "pack"), make())
    code, out, lines = run(capsys, "ask", str(doc), "code?", "--model", str(pack), "--json")
    one_error(code, lines, f"model pack {pack}", needle)
    assert out == ""  # no onnxruntime "EP Error" banner on stdout


def test_tokenizer_template_that_leaves_no_room(
    oracle_pack: Path, tmp_path: Path, doc: Path, capsys
):
    from tokenizers import Tokenizer, processors

    pack = clone(oracle_pack, tmp_path / "pack")
    tok = Tokenizer.from_file(str(pack / "tokenizer.json"))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A " + "[SEP] " * 300 + "$B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.save(str(pack / "tokenizer.json"))
    data = manifest(pack)
    data.pop("files")
    write_manifest(pack, data)
    code, _, lines = run(capsys, "ask", str(doc), "code?", "--model", str(pack))
    one_error(code, lines, "adds 302 special tokens", "leaves 0 of 64 tokens")


# -- 6: large inputs in bounded memory (child process) ---------------------------------
# The child's own peak: VmHWM of its address space. ru_maxrss would do on
# macOS, but on Linux it keeps the peak of the process before execve (here the
# forked pytest process, often 1 GB), so it is only the fallback.
_CHILD = """
import json, resource, sys
from desktop_qa.cli import main
code = main(sys.argv[2:])
try:
    status = open("/proc/self/status").read()
    peak_kb = int(status.split("VmHWM:")[1].split()[0])
except (OSError, IndexError):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
open(sys.argv[1], "w").write(json.dumps({"code": code, "rss_mb": peak_kb / 1024}))
"""


def run_child(tmp_path: Path, *argv: str, env: dict | None = None) -> tuple[int, float, list[str]]:
    report = tmp_path / "child.json"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(report), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    result = json.loads(report.read_text())
    return result["code"], result["rss_mb"], proc.stderr.splitlines()


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def _zip_bomb_epub(path: Path, markup_mb: int) -> Path:
    """A valid EPUB whose one chapter inflates to ``markup_mb`` MB (about 1000:1)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        z.writestr(
            "content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
            '<metadata/><manifest><item id="c" href="c.xhtml" '
            'media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c"/>'
            "</spine></package>",
        )
        block = b"<p>alpha bravo " + b"a" * 1000 + b"</p>\n"
        chunk = block * 1024
        info = zipfile.ZipInfo("c.xhtml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w") as fh:
            fh.write(b'<html xmlns="http://www.w3.org/1999/xhtml"><body>')
            written = 0
            while written < markup_mb << 20:
                fh.write(chunk)
                written += len(chunk)
            fh.write(b"</body></html>")
    return path


def test_large_inputs_are_refused_in_bounded_memory(
    tmp_path: Path, oracle_pack: Path, victim: Path
):
    text = _sparse(tmp_path / "huge.txt", 2 * GIB)
    data = _sparse(tmp_path / "huge.dat", 2 * GIB)
    bomb = tmp_path / "bomb.epub"
    big_manifest = clone(oracle_pack, tmp_path / "bigpack")
    _sparse(big_manifest / "model.json", 1 * GIB)
    try:
        _zip_bomb_epub(bomb, 200)
        assert bomb.stat().st_size < 2 << 20  # < 2 MB on disk, 200 MB unpacked
        cases = [
            (("ask", str(text), "q?", "--model", str(oracle_pack)), "over the 128 MB limit"),
            (("ask", str(data), "q?", "--model", str(oracle_pack)), "unsupported file type"),
            (("ask", str(bomb), "q?", "--model", str(oracle_pack)), "zip bomb"),
            (("ask", str(bomb), "q?", "--model", str(big_manifest)), "over the 1048576 limit"),
            (("model", "install", str(big_manifest)), "over the 1048576 limit"),
        ]
        for argv, needle in cases:
            code, rss_mb, lines = run_child(tmp_path, *argv)
            one_error(code, lines, needle)
            assert rss_mb < MAX_RSS_MB, (argv, rss_mb)
    finally:
        for p in (text, data, big_manifest / "model.json"):
            p.unlink(missing_ok=True)


def test_cache_never_stores_an_entry_over_its_limit(tmp_path: Path, monkeypatch):
    small = tmp_path / "small.txt"
    small.write_text("The code is alpha one bravo.\n")
    big = tmp_path / "big.txt"
    big.write_text("Some words that repeat here. " * 2000)
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 100_000)
    with opening.open_document(big) as opened:
        assert "repeat" in opened.doc.text
        assert not cache.entry_path(sha256_file(big)).exists()  # indexed in memory
        assert opened.search("repeat", 1)  # and still searchable
    opening.open_document(small).close()
    entry = cache.entry_path(sha256_file(small))
    assert entry.exists() and entry.stat().st_size <= 100_000
    # A limit under the written size (SQLite pages, index) but over the
    # estimate: the written entry is measured and dropped too.
    cache.clear()
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 1_000)
    with opening.open_document(small) as opened:
        assert opened.search("code", 1)
    assert not entry.exists() and list(cache.documents_dir().iterdir()) == []


def test_document_text_over_the_limit_is_one_error_line(
    tmp_path: Path, oracle_pack: Path, capsys, monkeypatch
):
    from desktop_qa.core.documents import inputs

    pages = [[[f"Page {i} holds some words about alpha and bravo."]] for i in range(30)]
    pdf = write_pdf(tmp_path / "long.pdf", pages)
    monkeypatch.setattr(inputs, "MAX_DOCUMENT_CHARS", 500)  # ~10 pages' worth
    code, _, lines = run(capsys, "ask", str(pdf), "code?", "--model", str(oracle_pack))
    one_error(code, lines, str(pdf), "more than 500 characters", "of 30")


# -- 6, issue 10: damaged containers are one line --------------------------------------
def _broken_page_tree(path: Path) -> Path:
    """A PDF whose page tree claims -5 pages (MuPDF: "code=7: Invalid number of pages")."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count -5 >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_broken_page_tree_is_one_error_line(tmp_path: Path, oracle_pack: Path, capsys):
    pdf = _broken_page_tree(tmp_path / "pages.pdf")
    with pytest.raises(RuntimeError, match="Invalid number of pages"):
        pymupdf.open(str(pdf)).page_count  # noqa: B018 - what MuPDF does with it
    code, _, lines = run(capsys, "ask", str(pdf), "q?", "--model", str(oracle_pack))
    one_error(code, lines, str(pdf), "Invalid number of pages", "damaged")


# -- 7: very long names -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["component", "path"])
def test_over_long_names_are_one_error_line(kind: str, tmp_path: Path, oracle_pack: Path, capsys):
    if kind == "component":
        target = tmp_path / ("n" * 300 + ".pdf")
    else:
        target = tmp_path.joinpath(*["d" * 200] * 25, "doc.pdf")
    code, _, lines = run(capsys, "ask", str(target), "q?", "--model", str(oracle_pack))
    one_error(code, lines, "too long")
    code, _, lines = run(capsys, "ask", str(tmp_path / "doc.txt"), "q?", "--model", str(target))
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:")


# -- 9: read-only cache folder: --json stays JSON -------------------------------------
def test_unusable_cache_folder_keeps_json_clean(tmp_path: Path, oracle_pack: Path, doc: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_qa", "ask", str(doc), "code?"]
        + ["--model", str(oracle_pack), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **{k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"},
            "PYTHONPATH": str(REPO),
            "DESKTOP_QA_CACHE_DIR": str(blocker / "c"),
            "HOME": str(blocker / "home"),  # no writable ~/.cache either
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["answers"][0]["text"] == "alpha one bravo"
    assert [ln for ln in proc.stderr.splitlines() if not ln.startswith("warning:")] == []


# -- 10: the type check runs even when the cache holds the bytes -----------------------
def test_type_check_runs_on_cached_bytes(tmp_path: Path, oracle_pack: Path, doc: Path, capsys):
    code, _, _ = run(capsys, "ask", str(doc), "code?", "--model", str(oracle_pack))
    assert code == 0
    assert cache.entry_path(sha256_file(doc)).exists()  # cached now
    for fake in ("fake.docx", "fake.pdf"):
        shutil.copyfile(doc, tmp_path / fake)
        code, _, lines = run(
            capsys, "ask", str(tmp_path / fake), "code?", "--model", str(oracle_pack)
        )
        one_error(code, lines, fake)


# -- 11: a document that changes while it is read ---------------------------------------
def test_pdf_truncated_while_read_says_so(tmp_path: Path):
    pages = [[[f"Page {i} text about alpha and bravo."]] for i in range(12)]
    pdf = write_pdf(tmp_path / "growing.pdf", pages)
    size = pdf.stat().st_size

    def truncate(done: int, total: int) -> None:
        if done == 1:
            os.truncate(pdf, size // 2)

    with pytest.raises(UserError, match="changed while it was read"):
        load_document(pdf, progress=truncate)


# -- 12: usage errors ------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [["ask"], ["ask", "f.pdf"], ["ask", "f", "q", "--top-k", "x"], ["model"], ["--bogus"]],
)
def test_usage_errors_are_one_line(argv: list[str], capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:"), err
    assert "usage:" not in err[0]


def test_negative_threshold_is_a_value(oracle_pack: Path, doc: Path, capsys):
    code, out, _ = run(
        capsys, "ask", str(doc), "where?", "--model", str(oracle_pack), "--threshold", "-1e9"
    )
    assert code == 0
    data_code, data, _ = run(
        capsys,
        "ask",
        str(doc),
        "where?",
        "--model",
        str(oracle_pack),
        "--threshold",
        "-1e9",
        "--json",
    )
    assert data_code == 0 and json.loads(data)["threshold"] == -1e9


def test_unexpected_exception_is_one_line_exit_3(monkeypatch, doc: Path, capsys):
    from desktop_qa.commands import ask

    def boom(args: object) -> int:
        raise KeyError("internal")

    monkeypatch.setattr(ask, "run", boom)
    code = cli.main(["ask", str(doc), "q?"])
    err = capsys.readouterr().err.splitlines()
    assert code == cli.EXIT_BUG == 3
    assert len(err) == 1 and err[0].startswith("error: internal error") and "bug" in err[0]
    log = paths.cache_dir() / "crash.log"
    assert "Traceback" in log.read_text() and "boom" in log.read_text()


# -- 13: the saved optimized graph belongs to the pack's own model.onnx -----------------
def test_swapped_optimized_graph_is_not_trusted(oracle_pack: Path, tmp_path: Path, doc: Path):
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.packs.oracle import build_oracle_pack

    other = build_oracle_pack(tmp_path / "other", {"one": 10.0}, {"one": 10.0}, null_score=0.0)
    Reader(load_pack(other))  # saves the other pack's optimized graph
    (foreign,) = (paths.cache_dir() / "models").glob("*.onnx")
    pack = load_pack(oracle_pack)
    Reader(pack)
    (mine,) = [p for p in (paths.cache_dir() / "models").glob("*.onnx") if p != foreign]
    shutil.copyfile(foreign, mine)  # swap in the other graph with its own checksum file
    shutil.copyfile(foreign.with_suffix(".sha256"), mine.with_suffix(".sha256"))
    reader = Reader(pack)
    start, _ = reader.run(reader.windows("code?", [(0, 0, "The code is alpha one bravo.")]))
    assert (
        start.max() == 10.0
        and json.loads(mine.with_suffix(".sha256").read_text())["source"]
        == pack.files["model.onnx"]
    )


# -- 2: onnxruntime telemetry stays off -------------------------------------------------
def test_onnxruntime_is_imported_only_through_the_runtime_helper():
    """The switch must precede every import; a stray ``import onnxruntime`` would not."""
    offenders = []
    for folder in ("desktop_qa", "benchmarks", "tests", "packaging"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "runtime.py":
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                code = line.split("#", 1)[0].strip()
                if code.startswith(("import onnxruntime", "from onnxruntime")):
                    prev = path.read_text(encoding="utf-8").split(line, 1)[0]
                    if "import_onnxruntime()" not in prev[-300:]:
                        offenders.append(f"{path.relative_to(REPO)}: {code}")
    assert offenders == []


_TELEMETRY_CHILD = """
import sys, time
from desktop_qa.cli import main
code = main(sys.argv[2:])
assert "pymupdf" in sys.modules, "the run never opened the PDF with PyMuPDF"
loaded = "onnxruntime" in sys.modules
assert loaded == (sys.argv[1] == "pack"), f"onnxruntime loaded: {loaded}"
time.sleep(11)  # the uploader starts within seconds of the first session
sys.exit(code)
"""


def _telemetry_env(home: Path) -> dict[str, str]:
    """The environment of a user who never heard of the switch: no variable of ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "DESKTOP_QA_", "ORT_")) and k != "PYTHONPATH"
    }
    return {**env, "HOME": str(home), "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}


@pytest.fixture(scope="module")
def long_runs(tmp_path_factory: pytest.TempPathFactory, oracle_pack: Path) -> dict:
    """Runs of a user's HOME opening a PDF, side by side (under strace if any): the CLI with a
    pack and in keyword mode (more than 10 s each), the window (12 s) and a library worker."""
    root = tmp_path_factory.mktemp("telemetry")
    home = root / "home"
    home.mkdir()
    folder = root / "docs"
    folder.mkdir()
    doc = write_pdf(folder / "doc.pdf", [[["The code is alpha one bravo."]]])
    # Its own document (other text: the cache is keyed by content), so the keyword run
    # cannot find the one the pack run is caching and answer without opening a PDF.
    (root / "own").mkdir()
    own = write_pdf(root / "own" / "doc.pdf", [[["The code is alpha two charlie."]]])
    env = _telemetry_env(home)
    strace = shutil.which("strace")
    runs = {
        "cli": [sys.executable, "-c", _TELEMETRY_CHILD, "pack", "ask", str(doc), "code?"]
        + ["--model", str(oracle_pack)],
        "keyword": [sys.executable, "-c", _TELEMETRY_CHILD, "keyword", "ask", str(own), "code?"],
        "gui": [sys.executable, "-m", "desktop_qa", "gui", str(doc)]
        + ["--model", str(oracle_pack), "--ask", "code?"],
        "library": [sys.executable, "-m", "desktop_qa", "library", "add", str(folder)],
    }
    procs = {}
    for name, argv in runs.items():
        run_env = env
        if name in ("cli", "gui"):
            run_env = {**env, "ORT_DISABLE_TELEMETRY": "0"}  # an inherited "0" must not win
        if strace:
            trace = root / f"{name}.strace"
            argv = [strace, "-f", "-qq", "-e", "trace=connect", "-o", str(trace), *argv]
        procs[name] = subprocess.Popen(
            argv, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    time.sleep(12)
    gui = procs["gui"]
    loaded = False
    for pid in _descendants(gui.pid) + [gui.pid]:
        try:
            loaded |= "onnxruntime" in Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            pass
    for pid in _descendants(gui.pid):  # the app itself when strace runs it
        os.kill(pid, 15)
    gui.terminate()
    outputs = {}
    for name, proc in procs.items():
        try:
            outputs[name] = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            outputs[name] = proc.communicate()
    return {
        "root": root,
        "home": home,
        "env": env,
        "codes": {name: proc.returncode for name, proc in procs.items()},
        "outputs": outputs,
        "gui_loaded_onnxruntime": loaded,
        "strace": strace,
        "names": list(runs),
    }


def _descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    out = [int(c) for c in children]
    for child in list(out):
        out += _descendants(child)
    return out


def _telemetry_stores(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if "onnxruntime" in p.name.lower()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_telemetry_store_is_never_created(long_runs: dict):
    """A PDF opened from the CLI (pack and keyword mode), the window and a library worker."""
    for name in ("cli", "keyword", "library"):
        assert long_runs["codes"][name] == 0, (name, long_runs["outputs"][name])
    assert "1 read" in long_runs["outputs"]["library"][0]  # a worker read the PDF
    assert long_runs["gui_loaded_onnxruntime"], long_runs["outputs"]["gui"]
    assert _telemetry_stores(long_runs["home"]) == []


def test_without_the_switch_this_onnxruntime_would_write_a_store(long_runs: dict):
    """The control: the check above looks where this onnxruntime writes its store."""
    home = long_runs["root"] / "control-home"
    home.mkdir()
    env = {**long_runs["env"], "HOME": str(home)}
    # The store is written from a background thread: give it time before the process exits
    # (under load a bare import sometimes exited first, and this control skipped).
    code = "import onnxruntime, time; time.sleep(3)"
    subprocess.run([sys.executable, "-c", code], env=env, timeout=60, check=True)
    if not _telemetry_stores(home):
        pytest.skip("this onnxruntime build keeps no telemetry store")
    assert (home / ".cache" / "Microsoft" / "DeveloperTools" / ".onnxruntime").is_dir()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_no_connection_leaves_the_machine(long_runs: dict):
    remote = []
    for name in long_runs["names"]:
        for line in (long_runs["root"] / f"{name}.strace").read_text().splitlines():
            if "connect(" not in line or "AF_INET" not in line:
                continue
            if 'inet_addr("127.' in line or "::1" in line:
                continue
            remote.append(f"{name}: {line}")
    assert remote == []
