"""``desktop-qa model ...`` and the hub download path, without any network.

The download tests run the real pipeline (file choice, tokenizer from
vocab.txt, IO check, quantization, manifest, validation, atomic install)
against a local stand-in repo folder; only the two hub calls are replaced.
The offline tests use the real huggingface_hub client against an endpoint
that refuses connections.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from desktop_qa import cli
from desktop_qa.core import Reader, find_pack, load_pack
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.packs import download, squad2
from desktop_qa.packs import hub as hub_module
from desktop_qa.packs.download import download_pack
from desktop_qa.packs.hub import RepoInfo, readme_license
from desktop_qa.packs.install import install_pack, list_packs, remove_pack
from desktop_qa.packs.oracle import build_oracle_pack
from desktop_qa.packs.squad2 import rows_to_squad
from tests.asking import ask_text

REPO = "tester/mobilebert-uncased-squad-v2"
UNREACHABLE = "http://127.0.0.1:9"


def _set_endpoint(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """What HF_ENDPOINT=url does when set before huggingface_hub is imported."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", url)
    template = url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("DESKTOP_QA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESKTOP_QA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DESKTOP_QA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DESKTOP_QA_MODEL", raising=False)
    # Never the real hub nor the real hub cache.
    _set_endpoint(monkeypatch, UNREACHABLE)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    # Packs bundled in the source tree must not leak into "model list" here.
    monkeypatch.setattr(
        "desktop_qa.core.system.paths.bundled_models_dir", lambda: tmp_path / "bundled"
    )


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


# ---------------------------------------------------------------- install, list, info, remove


def test_install_list_info_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = build_oracle_pack(tmp_path / "src", name="oracle-a")
    code, out, err = _run(["model", "install", str(src)], capsys)
    assert code == 0, err
    dest = tmp_path / "data" / "models" / "oracle-a"
    assert "installed oracle-a (none) [UNTRAINED" in out
    assert "UNTRAINED" in err
    assert load_pack(dest).name == "oracle-a"
    assert (src / "model.json").is_file()  # the source is left alone
    assert find_pack().path == dest.resolve()

    code, out, _ = _run(["model", "list", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["packs"]
    assert [(r["name"], r["origin"], r["ok"], r["active"]) for r in rows] == [
        ("oracle-a", "user", True, True)
    ]
    code, out, _ = _run(["model", "list"], capsys)
    assert "* oracle-a" in out and "UNTRAINED" in out

    code, out, _ = _run(["model", "info", "oracle-a"], capsys)
    assert code == 0
    assert "OK       model.onnx" in out and "OK       tokenizer.json" in out
    assert "UNTRAINED" in out and "pack OK" in out
    assert "null_threshold    0.0" in out

    # A damaged file shows up in info (MISMATCH, exit 1) and in list (BROKEN).
    (dest / "model.onnx").write_bytes(b"tampered")
    code, out, _ = _run(["model", "info", str(dest), "--json"], capsys)
    info = json.loads(out)
    assert code == 1
    assert info["checksums"] == {"model.onnx": "MISMATCH", "tokenizer.json": "OK"}
    assert "does not match its checksum" in info["problem"]
    assert info["manifest"]["trained"] is False
    code, out, _ = _run(["model", "list"], capsys)
    assert "BROKEN" in out

    # Reinstalling replaces the broken copy.
    assert _run(["model", "install", str(src)], capsys)[0] == 0
    assert load_pack(dest).name == "oracle-a"

    code, out, _ = _run(["model", "remove", "oracle-a"], capsys)
    assert code == 0 and "removed" in out
    assert not dest.exists()
    assert list_packs() == []
    code, _, err = _run(["model", "remove", "oracle-a"], capsys)
    assert code == 2
    assert "no installed model pack named 'oracle-a'" in _one_error_line(err)


def test_install_refuses_a_broken_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = build_oracle_pack(tmp_path / "src", name="oracle-b")
    (src / "tokenizer.json").write_text("{}", encoding="utf-8")
    code, _, err = _run(["model", "install", str(src)], capsys)
    assert code == 2
    assert "tokenizer.json does not match its checksum" in _one_error_line(err)
    assert not (tmp_path / "data" / "models" / "oracle-b").exists()
    code, _, err = _run(["model", "install", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "not found" in _one_error_line(err)


def test_install_replaces_old_version_and_leaves_no_staging(tmp_path: Path) -> None:
    first = install_pack(build_oracle_pack(tmp_path / "v1", name="same", null_score=1.0))
    second = install_pack(build_oracle_pack(tmp_path / "v2", name="same", null_score=2.0))
    assert first.path == second.path
    assert load_pack(second.path).files == load_pack(tmp_path / "v2").files
    staging = tmp_path / "data" / "models" / ".staging"
    assert list(staging.iterdir()) == []
    assert [p.name for p in (tmp_path / "data" / "models").iterdir()] == [".staging", "same"]
    remove_pack("same")
    with pytest.raises(UserError):
        remove_pack("same")


def test_info_without_packs_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["model", "info"], capsys)
    assert code == 2
    assert "desktop-qa model download" in _one_error_line(err)
    code, out, _ = _run(["model", "list"], capsys)
    assert code == 0 and "no model packs" in out


# ---------------------------------------------------------------- download against a stand-in


class FolderHub:
    """A local folder laid out as ``<root>/<owner>/<name>/<files>``, standing in for the hub."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fetched: list[str] = []

    def info(self, repo_id: str, revision: str | None, repo_type: str = "model") -> RepoInfo:
        repo = self.root / repo_id
        if not repo.is_dir():
            raise UserError(f"model {repo_id} not found on the model hub (check the name)")
        files = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())
        return RepoInfo(
            repo_id=repo_id,
            revision=revision or "0123abcd",
            files=files,
            license=readme_license(repo / "README.md"),
            repo_type=repo_type,
        )

    def fetch(self, info: RepoInfo, filename: str) -> Path:
        self.fetched.append(filename)
        return self.root / info.repo_id / filename


def _vocab_txt(tokenizer_json: Path, out: Path) -> None:
    vocab = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    out.write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n", encoding="utf-8")


def _rename_outputs(onnx_path: Path, mapping: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(onnx_path))
    for node in model.graph.node:
        node.output[:] = [mapping.get(n, n) for n in node.output]
    for out in model.graph.output:
        out.name = mapping.get(out.name, out.name)
    onnx.save(model, str(onnx_path))


def make_repo(
    root: Path,
    repo_id: str = REPO,
    *,
    tokenizer: str = "vocab.txt",
    onnx_name: str | None = "onnx/model.onnx",
    outputs: dict[str, str] | None = None,
) -> Path:
    """A hub-like repo built from the oracle graph: ONNX export + vocab.txt + card."""
    oracle = build_oracle_pack(root / ".oracle" / repo_id.replace("/", "_"))
    repo = root / repo_id
    repo.mkdir(parents=True)
    (repo / "README.md").write_text(
        "---\nlicense: mit\ntags:\n- question-answering\n---\n# A model\n", encoding="utf-8"
    )
    (repo / "config.json").write_text(
        json.dumps({"model_type": "mobilebert", "max_position_embeddings": 512}), encoding="utf-8"
    )
    (repo / "tokenizer_config.json").write_text('{"do_lower_case": true}', encoding="utf-8")
    if tokenizer == "vocab.txt":
        _vocab_txt(oracle / "tokenizer.json", repo / "vocab.txt")
    elif tokenizer == "tokenizer.json":
        shutil.copyfile(oracle / "tokenizer.json", repo / "tokenizer.json")
    if onnx_name:
        target = repo / onnx_name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(oracle / "model.onnx", target)
        if outputs:
            _rename_outputs(target, outputs)
    return repo


def test_download_end_to_end_from_stand_in(tmp_path: Path) -> None:
    hub = FolderHub(tmp_path / "hub")
    make_repo(hub.root)
    # Decoys the file choice must skip: fp16 and an already-quantized variant.
    (hub.root / REPO / "onnx" / "model_fp16.onnx").write_bytes(b"x")
    (hub.root / REPO / "onnx" / "model_quantized.onnx").write_bytes(b"x")
    steps: list[str] = []
    pack = download_pack(REPO, hub=hub, progress=steps.append)

    assert (
        pack.path == (tmp_path / "data" / "models" / "mobilebert-uncased-squad-v2-int8").resolve()
    )
    assert "onnx/model.onnx" in hub.fetched and "vocab.txt" in hub.fetched
    assert not any("fp16" in f or "quantized" in f for f in hub.fetched)
    manifest = json.loads((pack.path / "model.json").read_text(encoding="utf-8"))
    assert manifest["source"] == f"hf://{REPO}@0123abcd"
    assert manifest["license"] == "mit"
    assert manifest["trained"] is True
    assert manifest["null_threshold"] == 0.0
    assert manifest["quantization"] == "int8-dynamic"
    assert manifest["architecture"] == "mobilebert"
    assert manifest["max_seq_length"] == 384
    assert manifest["agreement"]["best_span_agreement"] == 1.0
    assert manifest["validation"]["best_guess"]  # the check ran and got a span
    assert sorted(manifest["files"]) == ["model.onnx", "tokenizer.json"]
    assert any("quantizing" in s for s in steps)
    assert list((tmp_path / "cache" / "downloads").iterdir()) == []  # work folder cleaned

    # The installed pack is the one the app now finds, and it answers.
    reader = Reader(find_pack())
    result = ask_text("The code word is alpha bravo today.", "Code?", reader)
    assert not result.no_answer and result.answers[0].text == "alpha bravo"


def test_download_cli_with_tokenizer_json_and_renamed_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = FolderHub(tmp_path / "hub")
    make_repo(
        hub.root,
        "other/qa-model",
        tokenizer="tokenizer.json",
        onnx_name="model.onnx",
        outputs={"start_logits": "start_scores", "end_logits": "end_scores"},
    )
    monkeypatch.setattr(hub_module, "HfHub", lambda **_: hub)
    code, out, err = _run(
        ["model", "download", "other/qa-model", "--revision", "v1", "--json"], capsys
    )
    assert code == 0, err
    info = json.loads(out)
    assert info["name"] == "qa-model-int8"
    assert info["source"] == "hf://other/qa-model@v1"
    pack = load_pack(info["path"])
    from desktop_qa.core.system.runtime import import_onnxruntime

    ort = import_onnxruntime()

    session = ort.InferenceSession(str(pack.onnx_path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["start_logits", "end_logits"]


def test_download_refuses_unusable_repos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = FolderHub(tmp_path / "hub")
    make_repo(hub.root, "a/no-tokenizer", tokenizer="none")
    with pytest.raises(UserError, match="neither tokenizer.json nor vocab.txt"):
        download_pack("a/no-tokenizer", hub=hub)

    make_repo(hub.root, "a/nothing", onnx_name=None)
    with pytest.raises(UserError, match="neither an ONNX export nor PyTorch weights"):
        download_pack("a/nothing", hub=hub)

    repo = make_repo(hub.root, "a/weights-only", onnx_name=None)
    (repo / "model.safetensors").write_bytes(b"weights")
    monkeypatch.setattr(download, "_export_available", lambda: False)
    with pytest.raises(UserError, match=r"export extra"):
        download_pack("a/weights-only", hub=hub)

    make_repo(hub.root, "a/odd-outputs", outputs={"start_logits": "out0", "end_logits": "out1"})
    with pytest.raises(UserError, match="needs start_logits and end_logits"):
        download_pack("a/odd-outputs", hub=hub)

    make_repo(hub.root, "a/good")
    with pytest.raises(Cancelled):
        download_pack("a/good", hub=hub, cancel=lambda: True)
    assert not (tmp_path / "data" / "models").exists() or list_packs() == []


# ---------------------------------------------------------------- the real client, local server

COMMIT = "c0ffee" + "0" * 34


def _hub_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    """The three hub endpoints huggingface_hub needs: model info, HEAD and GET of a file."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _resolve(self) -> None:
            parts = self.path.split("?")[0].strip("/").split("/")
            target = root.joinpath(*parts[:2], *parts[4:]) if len(parts) > 4 else None
            if parts[2:3] != ["resolve"] or target is None or not target.is_file():
                self._send(404, headers={"X-Error-Code": "EntryNotFound"})
                return
            data = target.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest() + '"'
            self._send(200, data, {"X-Repo-Commit": COMMIT, "ETag": etag})

        do_HEAD = _resolve

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if not path.startswith("/api/models/"):
                self._resolve()
                return
            owner, name = path[len("/api/models/") :].split("/")[:2]
            repo = root / owner / name
            if not repo.is_dir():
                self._send(404, headers={"X-Error-Code": "RepoNotFound"})
                return
            files = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())
            body = json.dumps(
                {
                    "id": f"{owner}/{name}",
                    "sha": COMMIT,
                    "siblings": [{"rfilename": f} for f in files],
                    "cardData": {"license": "apache-2.0"},
                }
            ).encode()
            self._send(200, body, {"Content-Type": "application/json"})

    return Handler


@pytest.fixture
def local_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:

    root = tmp_path / "served"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _hub_handler(root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _set_endpoint(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()


def test_real_client_downloads_then_reinstalls_offline_from_cache(
    tmp_path: Path,
    local_hub: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from huggingface_hub import constants

    make_repo(local_hub)
    code, out, err = _run(["model", "download", REPO, "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["source"] == f"hf://{REPO}@{COMMIT}"
    assert info["license"] == "apache-2.0"
    assert (tmp_path / "hf-cache" / "models--tester--mobilebert-uncased-squad-v2").is_dir()

    assert _run(["model", "remove", info["name"]], capsys)[0] == 0
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    code, out, err = _run(["model", "download", REPO, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["source"] == f"hf://{REPO}@{COMMIT}"
    assert json.loads(out)["license"] == "mit"  # offline: from the cached model card

    code, _, err = _run(["model", "download", "tester/missing"], capsys)
    assert code == 2 and "cannot reach the model hub" in _one_error_line(err)


def test_real_client_reports_missing_repo(
    local_hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["model", "download", "nobody/nothing"], capsys)
    assert code == 2
    assert "model nobody/nothing not found on the model hub" in _one_error_line(err)


# ---------------------------------------------------------------- no network


def test_download_offline_fails_fast_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code, out, err = _run(["model", "download"], capsys)
    elapsed = time.monotonic() - started
    assert code == 2
    line = _one_error_line(err)
    assert line.startswith("error: cannot reach the model hub")
    assert "desktop-qa model install DIR" in line
    assert out == ""
    assert elapsed < 10


def test_download_offline_mode_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    code, _, err = _run(["model", "download", REPO], capsys)
    assert code == 2
    assert "cannot reach the model hub (offline mode is on" in _one_error_line(err)


def test_squad2_dev_offline_fails_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = build_oracle_pack(tmp_path / "pack")
    started = time.monotonic()
    code, _, err = _run(["eval", "--squad2-dev", "--model", str(pack), "--json"], capsys)
    assert code == 2
    assert _one_error_line(err).startswith("error: cannot reach the model hub")
    assert time.monotonic() - started < 10


def test_squad2_dev_from_stand_in_parquet_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {
            "id": "a1",
            "title": "T",
            "context": "The code word is alpha bravo today.",
            "question": "What is the code word?",
            "answers": {"text": ["alpha bravo", "alpha bravo"], "answer_start": [17, 17]},
        },
        {
            "id": "a2",
            "title": "T",
            "context": "The code word is alpha bravo today.",
            "question": "What is the password?",
            "answers": {"text": [], "answer_start": []},
        },
    ]
    data = rows_to_squad(rows)
    assert len(data["data"]) == 1 and len(data["data"][0]["paragraphs"]) == 1
    qas = data["data"][0]["paragraphs"][0]["qas"]
    assert qas[1] == {
        "id": "a2",
        "question": "What is the password?",
        "answers": [],
        "is_impossible": True,
    }
    assert qas[0]["answers"][0] == {"text": "alpha bravo", "answer_start": 17}

    hub = FolderHub(tmp_path / "hub")
    parquet = hub.root / "rajpurkar" / "squad_v2" / "squad_v2" / "validation-00000-of-00001.parquet"
    parquet.parent.mkdir(parents=True)
    parquet.write_bytes(b"PAR1")
    monkeypatch.setattr(hub_module, "HfHub", lambda **_: hub)
    monkeypatch.setattr(squad2, "_read_parquet", lambda path: rows)
    pack = build_oracle_pack(tmp_path / "pack")
    code, out, err = _run(["eval", "--squad2-dev", "--model", str(pack), "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["total"] == 2 and report["exact"] == 50.0
    assert (tmp_path / "cache" / "squad2" / "dev-v2.0.json").is_file()  # cached for next time


# ---------------------------------------------------------------- with the export extra


def test_download_exports_pytorch_weights_when_no_onnx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from desktop_qa.packs.export import random_model
    from desktop_qa.packs.vocab import base_vocab

    hub = FolderHub(tmp_path / "hub")
    repo = hub.root / "t" / "tiny-qa"
    random_model("tiny", 0).save_pretrained(repo)
    (repo / "vocab.txt").write_text("\n".join(base_vocab()) + "\n", encoding="utf-8")
    pack = download_pack("t/tiny-qa", hub=hub)
    assert "model.safetensors" in hub.fetched and "config.json" in hub.fetched
    assert pack.name == "tiny-qa-int8"
    assert pack.quantization == "int8-dynamic"
    assert pack.architecture == "mobilebert"
    assert pack.source == "hf://t/tiny-qa@0123abcd"
    assert pack.extra["validation"]["best_guess"]
    assert 0.0 <= pack.extra["agreement"]["best_span_agreement"] <= 1.0

    # The same checkpoint through "model build CHECKPOINT_DIR OUT_DIR".
    code, out, err = _run(["model", "build", str(repo), str(tmp_path / "built"), "--json"], capsys)
    assert code == 0, err
    built = json.loads(out)
    assert built["name"] == "tiny-qa-int8" and built["trained"] is True
    assert set(built["agreement"]) >= {"max_logit_diff", "best_span_agreement"}
    assert load_pack(tmp_path / "built").source == str(repo.resolve())


def test_build_random_init_prints_agreement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    out_dir = tmp_path / "built"
    code, out, err = _run(
        ["model", "build", "--random-init", "tiny", str(out_dir), "--name", "rnd", "--install"],
        capsys,
    )
    assert code == 0, err
    assert "best-span agreement" in out
    assert "UNTRAINED" in err
    pack = load_pack(out_dir)
    assert pack.name == "rnd" and not pack.trained
    assert sorted(pack.files) == ["model.onnx", "tokenizer.json"]  # fp32 graph dropped
    assert "max_logit_diff" in pack.extra["agreement"]
    assert load_pack(tmp_path / "data" / "models" / "rnd").name == "rnd"
    code, _, err = _run(["model", "build", "ckpt", "out", "--random-init", "tiny"], capsys)
    assert code == 2 and "only OUT_DIR" in _one_error_line(err)
    code, _, err = _run(["model", "build", "out"], capsys)
    assert code == 2 and "CHECKPOINT_DIR OUT_DIR" in _one_error_line(err)


def test_build_random_init_with_a_vocab_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--vocab FILE`` gives the pack that vocabulary (words stay whole), checked first."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from desktop_qa.packs.export import RANDOM_CONFIGS
    from desktop_qa.packs.vocab import base_vocab, pad_vocab

    size = int(RANDOM_CONFIGS["tiny"]["vocab_size"])
    tokens = ["photosynthesis", "chlorophyll"]
    vocab = [t for t in pad_vocab(base_vocab(), size) if t not in tokens][: size - len(tokens)]
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join([*vocab, *tokens]) + "\n", encoding="utf-8")
    out_dir = tmp_path / "built"
    argv = ["model", "build", "--random-init", "tiny", "--vocab", str(vocab_file), str(out_dir)]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    from tokenizers import Tokenizer

    pack = load_pack(out_dir)
    tok = Tokenizer.from_file(str(pack.tokenizer_path))
    assert tok.encode("Photosynthesis", add_special_tokens=False).tokens == ["photosynthesis"]
    assert "vocab.txt (sha256" in pack.extra["vocabulary"]
    # A vocabulary of another size, or not a vocab.txt: one error line, before any export.
    short = tmp_path / "short.txt"
    short.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nword\n", encoding="utf-8")
    code, _, err = _run([*argv[:5], str(short), str(tmp_path / "x")], capsys)
    assert code == 2 and "has 5 entries but this model config has" in _one_error_line(err)
    words = tmp_path / "words.txt"
    words.write_text("a\nb\n", encoding="utf-8")
    code, _, err = _run([*argv[:5], str(words), str(tmp_path / "y")], capsys)
    assert code == 2 and "is not a WordPiece vocab.txt" in _one_error_line(err)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
