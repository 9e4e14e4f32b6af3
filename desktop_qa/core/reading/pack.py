"""Model packs (format 1, see shared/design/model-pack.md): find, verify, describe.

A pack is the only way models enter the app, so every check that protects the
user from a broken or tampered model lives here. Writing packs (manifest,
checksums, copying, file modes) is the build side's job: ``desktop_qa.packs.write``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_qa.core.errors import UserError
from desktop_qa.core.system import paths, portable
from desktop_qa.core.system.files import open_nofollow, sha256_stream

FORMAT = 1
MANIFEST = "model.json"
REQUIRED_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
KNOWN_INPUTS = frozenset(REQUIRED_INPUTS)
REQUIRED_OUTPUTS = ("start_logits", "end_logits")

DEFAULTS: dict[str, Any] = {
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


MAX_MANIFEST_BYTES = 1 << 20  # a real manifest is ~2 KB; anything near this is not one
MAX_FILES = 100
_SHA256 = frozenset("0123456789abcdef")
# External-data entries of an ONNX TensorProto: StringStringEntryProto{key: "location"}.
_LOCATION_KEY = b"\x0a\x08location\x12"
_MAX_LOCATION = 4096


class _LocationScan:
    """The external-data locations a graph names, found block by block as it is hashed
    (None for an entry that cannot be read)."""

    def __init__(self) -> None:
        self.found: list[bytes | None] = []
        self.buf = b""

    def feed(self, block: bytes) -> None:
        eof = not block
        buf = self.buf + block
        pos = keep = 0
        while True:
            i = buf.find(_LOCATION_KEY, pos)
            if i < 0:
                keep = max(pos, len(buf) - len(_LOCATION_KEY) + 1)
                break
            length, j = _varint(buf, i + len(_LOCATION_KEY))
            if length is not None and length > _MAX_LOCATION:
                self.found.append(None)
                pos = i + 1
                continue
            if length is None or j + length > len(buf):
                if eof:
                    self.found.append(None)
                    keep = len(buf)
                else:
                    keep = i  # wait for the rest of the entry
                break
            self.found.append(buf[j : j + length])
            pos = j + length
        self.buf = buf[keep:]


def _hash_and_scan(path: Path, scan: bool) -> tuple[str, list[bytes | None]]:
    """sha256 of a pack file (never through a symlink) and, for the graph, the
    external-data locations it names."""
    scanner = _LocationScan() if scan else None
    with os.fdopen(open_nofollow(path), "rb") as fh:
        digest = sha256_stream(fh, scanner.feed if scanner is not None else None)
    return digest, scanner.found if scanner is not None else []


def _varint(buf: bytes, i: int) -> tuple[int | None, int]:
    value = shift = 0
    while i < len(buf) and shift < 64:
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            return value, i
        shift += 7
    return None, i


def pack_error(path: Path, problem: str) -> UserError:
    """The one-line error for a pack that cannot be used (each front end says how to
    choose another: the ``other_pack`` hint)."""
    return UserError(f"model pack {path}: {problem}", hint="other_pack")


def safe_name(name: object) -> str | None:
    """``name`` if it is a plain relative file name inside a pack, else None.

    A pack is a closed folder: no absolute names, drive letters, ``..``, ``.``,
    backslashes, control characters or over-long components; and it installs on
    Windows too: no component ending in a dot or a space, no device name (``con``).
    """
    if not isinstance(name, str) or not 0 < len(name) <= 1024:
        return None
    if any(ord(ch) < 32 or ch in '\\:*?"<>|' for ch in name):
        return None
    parts = name.split("/")
    if len(parts) > 8:
        return None
    for part in parts:
        if part in ("", ".", "..") or len(part.encode("utf-8", "surrogatepass")) > 255:
            return None
        if portable.windows_name_problem(part) is not None:
            return None
    return name


def pack_file(root: Path, name: str) -> Path:
    """The regular file ``root/name``, with no symlink anywhere below ``root``."""
    current = root
    mode = 0
    for part in name.split("/"):
        current = current / part
        mode = current.lstat().st_mode  # raises FileNotFoundError
        if stat.S_ISLNK(mode):
            raise OSError(errno.ELOOP, f"{name} is a symbolic link")
    if not stat.S_ISREG(mode):
        raise OSError(errno.EISDIR, f"{name} is not a regular file")
    return current


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as a dict: size-limited, strict JSON (no NaN/Infinity), no symlink."""
    manifest_path = path / MANIFEST
    st = None
    try:
        is_dir = path.is_dir()
        if is_dir:
            st = manifest_path.lstat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UserError(
            f"model pack {path}: cannot read the folder ({exc.strerror or exc})",
            hint="pack_folder",
        ) from None
    if not is_dir:
        raise UserError(f"model pack {path} not found", hint="pack_missing")
    if st is None:
        raise pack_error(path, f"no {MANIFEST} in the folder")
    if stat.S_ISLNK(st.st_mode):
        raise pack_error(path, f"{MANIFEST} is a symbolic link (a pack is a closed folder)")
    if not stat.S_ISREG(st.st_mode):
        raise pack_error(path, f"{MANIFEST} is not a file")
    if st.st_size > MAX_MANIFEST_BYTES:
        raise pack_error(
            path, f"{MANIFEST} is {st.st_size} bytes, over the {MAX_MANIFEST_BYTES} limit"
        )
    try:
        with os.fdopen(open_nofollow(manifest_path), "rb") as fh:
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise pack_error(path, f"{MANIFEST} cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise pack_error(path, f"{MANIFEST} is over the {MAX_MANIFEST_BYTES} byte limit")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise pack_error(path, f"{MANIFEST} is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise pack_error(path, f"{MANIFEST} is not a JSON object")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# The manifest schema: key -> (type, range or None). Window fields that depend
# on max_seq_length are checked after the types.
_STR = "a string"
_BOOL = "true or false"
_INT = "an integer"
_NUM = "a finite number"
_SCHEMA: dict[str, tuple[str, tuple[float, float] | None]] = {
    "name": (_STR, None),
    "architecture": (_STR, None),
    "task": (_STR, None),
    "onnx": (_STR, None),
    "tokenizer": (_STR, None),
    "do_lower_case": (_BOOL, None),
    "max_seq_length": (_INT, (8, 4096)),
    "doc_stride": (_INT, (0, 2048)),
    "max_query_length": (_INT, (1, 4096)),
    "max_answer_length": (_INT, (1, 4096)),
    "null_threshold": (_NUM, (-1e6, 1e6)),
    "quantization": (_STR, None),
    "trained": (_BOOL, None),
    "source": (_STR, None),
    "license": (_STR, None),
    "batch_size": (_INT, (1, 256)),
}


def _check_value(key: str, value: Any) -> str | None:
    """What is wrong with one manifest value, or None."""
    kind, bounds = _SCHEMA[key]
    if kind == _STR:
        ok = isinstance(value, str) and len(value) <= 4096
    elif kind == _BOOL:
        ok = isinstance(value, bool)
    elif kind == _INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and _finite(value)
    if not ok:
        shown = (
            json.dumps(value)[:40]
            if isinstance(value, (str, int, float, bool))
            else type(value).__name__
        )
        return f"{key} must be {kind} (got {shown})"
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        return f"{key} {value} is out of range ({bounds[0]:g} to {bounds[1]:g})"
    return None


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer of hundreds of digits
        return False


def validate_manifest(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Check every known field's type and range; return the values with defaults."""
    fmt = data.get("format")
    if fmt != FORMAT or isinstance(fmt, bool):
        shown = json.dumps(fmt)[:40] if isinstance(fmt, (str, int, float)) else type(fmt).__name__
        raise pack_error(path, f"format {shown} is not supported (expected {FORMAT})")
    for key in _SCHEMA:
        if key in data:
            problem = _check_value(key, data[key])
            if problem:
                raise pack_error(path, problem)
    if data.get("task", "extractive-qa") != "extractive-qa":
        raise pack_error(path, f"task {data.get('task')!r} is not extractive-qa")
    values = {**DEFAULTS, **{k: v for k, v in data.items() if k in DEFAULTS}}
    values["null_threshold"] = float(values["null_threshold"])
    seq = values["max_seq_length"]
    if values["doc_stride"] > seq // 2:
        raise pack_error(path, f"doc_stride {values['doc_stride']} is too large for the window")
    if values["max_query_length"] >= seq - 4:
        raise pack_error(path, "max_query_length leaves no room for the document")
    if values["max_answer_length"] > seq:
        raise pack_error(
            path, f"max_answer_length {values['max_answer_length']} exceeds the window"
        )
    for key in ("onnx", "tokenizer"):
        if safe_name(values[key]) is None:
            raise pack_error(
                path, f"{key} name {values[key]!r} is not a plain file name inside the pack"
            )
    return values


def _check_files(path: Path, files: Any) -> dict[str, str]:
    if not isinstance(files, dict) or not files:
        raise pack_error(path, "the manifest lists no file checksums")
    if len(files) > MAX_FILES:
        raise pack_error(path, f"the manifest lists {len(files)} files (at most {MAX_FILES})")
    for name, digest in files.items():
        if safe_name(name) is None or name == MANIFEST:
            raise pack_error(path, f"file name {name!r} is not a plain file name inside the pack")
        if not (isinstance(digest, str) and len(digest) == 64 and set(digest.lower()) <= _SHA256):
            raise pack_error(path, f"the checksum of {name} is not a sha256 hex string")
    return {name: digest.lower() for name, digest in files.items()}


def load_pack(path: str | os.PathLike[str], *, verify: bool = True) -> ModelPack:
    """Read and check a pack; raise UserError with a clear line if anything is off.

    A pack is a closed folder: every name in the manifest is a plain relative
    name, no listed file is (or sits below) a symbolic link, and the graph's
    external data, if any, is a file listed (so checksummed) in the pack.
    """
    try:
        path = Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise UserError(f"model pack {path}: cannot resolve the folder ({exc})") from None
    data = read_manifest(path)
    values = validate_manifest(path, data)
    files = _check_files(path, data.get("files"))
    for needed in (values["onnx"], values["tokenizer"]):
        if needed not in files:
            raise pack_error(path, f"{needed} has no checksum in the manifest")
    if verify:
        for name, expected in files.items():
            digest, locations = _verified_read(path, name, scan=name == values["onnx"])
            if digest != expected:
                raise pack_error(path, f"{name} does not match its checksum (damaged or modified)")
            for raw in locations:
                location = _decode(raw)
                if location is None or safe_name(location) is None or location not in files:
                    shown = repr(location) if location is not None else "an unreadable name"
                    raise pack_error(
                        path,
                        f"{name} loads external data from {shown[:80]}, which is not a file "
                        "listed in the pack",
                    )
    extra = {
        k: v for k, v in data.items() if k not in DEFAULTS and k not in ("format", "files", "name")
    }
    name = str(data.get("name") or path.name)
    return ModelPack(path=path, name=name, files=files, extra=extra, **values)


def pack_file_digest(path: Path, name: str) -> str:
    """sha256 of the listed file ``name`` of the pack at ``path``; UserError if unusable."""
    return _verified_read(path, name, scan=False)[0]


def _verified_read(path: Path, name: str, *, scan: bool) -> tuple[str, list[bytes | None]]:
    try:
        return _hash_and_scan(pack_file(path, name), scan=scan)
    except FileNotFoundError:
        raise pack_error(path, f"{name} is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problem = f"{name} is a symbolic link (a pack is a closed folder)"
        elif exc.errno == errno.EISDIR:
            problem = f"{name} is not a regular file"
        else:
            problem = f"{name} cannot be read ({exc.strerror or exc})"
        raise pack_error(path, problem) from None


def file_state(root: Path, name: object, expected: object) -> str:
    """OK, MISSING, MISMATCH, UNSAFE (name leaves the pack, or a symlink) or UNREADABLE."""
    if safe_name(name) is None or name == MANIFEST:
        return "UNSAFE"
    try:
        digest = _hash_and_scan(pack_file(root, str(name)), scan=False)[0]
    except FileNotFoundError:
        return "MISSING"
    except OSError as exc:
        return "UNSAFE" if exc.errno == errno.ELOOP else "UNREADABLE"
    return "OK" if digest == str(expected).lower() else "MISMATCH"


def _decode(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def candidate_dirs(explicit: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """(origin, folder) where a pack may be, in the documented order of precedence: the
    folder the caller was given (``--model``, the app's chosen folder), $DESKTOP_QA_MODEL,
    the user's packs, the bundled ones."""
    found: list[tuple[str, Path]] = []
    if explicit:
        return [("given", Path(explicit))]
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
    """First matching pack: the folder given, $DESKTOP_QA_MODEL, user data folder, bundled."""
    candidates = candidate_dirs(explicit)
    if not candidates:
        raise UserError("no model pack installed", hint="install_pack")
    return load_pack(candidates[0][1])
