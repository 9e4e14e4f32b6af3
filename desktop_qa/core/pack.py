"""Model packs (format 1, see shared/design/model-pack.md): find, verify, describe.

A pack is the only way models enter the app, so every check that protects the
user from a broken or tampered model lives here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_qa.core import paths
from desktop_qa.core.errors import UserError

FORMAT = 1
MANIFEST = "model.json"
REQUIRED_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
KNOWN_INPUTS = frozenset(REQUIRED_INPUTS)
REQUIRED_OUTPUTS = ("start_logits", "end_logits")

_DEFAULTS: dict[str, Any] = {
    "architecture": "unknown",
    "task": "extractive-qa",
    "onnx": "model.onnx",
    "tokenizer": "tokenizer.json",
    "do_lower_case": True,
    "max_seq_length": 384,
    "doc_stride": 128,
    "max_query_length": 64,
    "max_answer_length": 30,
    "null_threshold": 0.0,
    "quantization": "none",
    "trained": True,
    "source": "unknown",
    "license": "unknown",
}


@dataclass(frozen=True)
class ModelPack:
    """A verified pack on disk: the manifest's fields plus its folder."""

    path: Path
    name: str
    architecture: str
    task: str
    onnx: str
    tokenizer: str
    do_lower_case: bool
    max_seq_length: int
    doc_stride: int
    max_query_length: int
    max_answer_length: int
    null_threshold: float
    quantization: str
    trained: bool
    source: str
    license: str
    files: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def onnx_path(self) -> Path:
        return self.path / self.onnx

    @property
    def tokenizer_path(self) -> Path:
        return self.path / self.tokenizer

    def describe(self) -> str:
        """One line for status bars and CLI headers; untrained packs say so."""
        label = f"{self.name} ({self.quantization})"
        return label if self.trained else f"{label} [UNTRAINED test model: answers are meaningless]"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fail(path: Path, problem: str) -> UserError:
    return UserError(
        f"model pack {path}: {problem}; reinstall the pack or pass another with --model DIR"
    )


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise UserError(
            f"model pack {path} not found; pass a pack folder with --model DIR "
            f"(it holds {MANIFEST}, model.onnx and tokenizer.json)"
        )
    if not manifest_path.is_file():
        raise _fail(path, f"no {MANIFEST} in the folder")
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"{MANIFEST} is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise _fail(path, f"{MANIFEST} is not a JSON object")
    return data


def load_pack(path: str | os.PathLike[str], *, verify: bool = True) -> ModelPack:
    """Read and check a pack; raise UserError with a clear line if anything is off."""
    path = Path(path).expanduser().resolve()
    data = read_manifest(path)
    if data.get("format") != FORMAT:
        raise _fail(path, f"format {data.get('format')!r} is not supported (expected {FORMAT})")
    if data.get("task", "extractive-qa") != "extractive-qa":
        raise _fail(path, f"task {data.get('task')!r} is not extractive-qa")
    values = {**_DEFAULTS, **{k: v for k, v in data.items() if k in _DEFAULTS}}
    try:
        for key in ("max_seq_length", "doc_stride", "max_query_length", "max_answer_length"):
            values[key] = int(values[key])
        values["null_threshold"] = float(values["null_threshold"])
        values["trained"] = bool(values["trained"])
        values["do_lower_case"] = bool(values["do_lower_case"])
    except (TypeError, ValueError):
        raise _fail(path, "a numeric field in the manifest is not a number") from None
    if not 8 <= values["max_seq_length"] <= 4096:
        raise _fail(path, f"max_seq_length {values['max_seq_length']} is out of range")
    if not 0 <= values["doc_stride"] < values["max_seq_length"] // 2 + 1:
        raise _fail(path, f"doc_stride {values['doc_stride']} is too large for the window")
    if values["max_query_length"] >= values["max_seq_length"] - 4:
        raise _fail(path, "max_query_length leaves no room for the document")
    files = data.get("files")
    if not isinstance(files, dict) or not files:
        raise _fail(path, "the manifest lists no file checksums")
    for needed in (values["onnx"], values["tokenizer"]):
        if needed not in files:
            raise _fail(path, f"{needed} has no checksum in the manifest")
    if verify:
        for name, expected in files.items():
            file_path = path / name
            if not file_path.is_file():
                raise _fail(path, f"{name} is missing")
            if sha256_file(file_path) != str(expected).lower():
                raise _fail(path, f"{name} does not match its checksum (damaged or modified)")
    extra = {
        k: v for k, v in data.items() if k not in _DEFAULTS and k not in ("format", "files", "name")
    }
    name = str(data.get("name") or path.name)
    return ModelPack(path=path, name=name, files=dict(files), extra=extra, **values)


def make_readable(path: Path) -> None:
    """Folder 0755, files 0644: packs built through temp files would otherwise be
    0600/0700, unreadable by other users once installed system-wide (/opt)."""
    path.chmod(0o755)
    for child in path.rglob("*"):
        child.chmod(0o755 if child.is_dir() else 0o644)


def write_manifest(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Fill in defaults and checksums of the pack's files and write model.json."""
    data = {"format": FORMAT, **_DEFAULTS, **manifest}
    files = [data["onnx"], data["tokenizer"], *manifest.get("extra_files", [])]
    data.pop("extra_files", None)
    data["files"] = {name: sha256_file(path / name) for name in files}
    tmp = path / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path / MANIFEST)
    make_readable(path)
    return data


def candidate_dirs(explicit: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """Places a pack may be, in the documented order of precedence."""
    found: list[tuple[str, Path]] = []
    if explicit:
        return [("--model", Path(explicit))]
    env = os.environ.get("DESKTOP_QA_MODEL")
    if env:
        return [("DESKTOP_QA_MODEL", Path(env))]
    for origin, root in (
        ("user", paths.user_models_dir()),
        ("bundled", paths.bundled_models_dir()),
    ):
        if root.is_dir():
            for child in sorted(root.iterdir()):
                # Dot-folders are staging areas of installs and builds in progress.
                if not child.name.startswith(".") and (child / MANIFEST).is_file():
                    found.append((origin, child))
    return found


def find_pack(explicit: str | os.PathLike[str] | None = None) -> ModelPack:
    """First matching pack: --model, $DESKTOP_QA_MODEL, user data folder, bundled packs."""
    candidates = candidate_dirs(explicit)
    if not candidates:
        raise UserError(
            "no model pack installed; run 'desktop-qa model download', or pass a pack "
            f"folder with --model DIR (or copy one into {paths.user_models_dir()})"
        )
    return load_pack(candidates[0][1])
