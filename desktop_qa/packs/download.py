"""Download a SQuAD 2.0 model from the Hugging Face Hub and turn it into an installed pack.

Steps: list the repo's files; fetch its ONNX export (or its PyTorch weights,
exported locally through ``packs.export``) and its tokenizer (``tokenizer.json``
or ``vocab.txt``) into the hub cache; check or repair the graph's input and
output names; quantize to int8; write the manifest; answer a built-in question
to prove the pack runs; install atomically.

The hub is reached only through a ``Hub`` object (``HfHub`` by default), so
tests run everything except the network call against a local folder. Without
network every step fails within seconds with one line saying what to do
instead (install a pack copied from elsewhere).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from desktop_qa.core import paths
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.pack import ModelPack, load_pack, write_manifest

DEFAULT_REPO = "csarron/mobilebert-uncased-squad-v2"
SQUAD2_DATASET = "rajpurkar/squad_v2"
SQUAD2_DEV_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json"
# Seconds to wait for the hub before calling it unreachable (DESKTOP_QA_HUB_TIMEOUT overrides).
HUB_TIMEOUT = float(os.environ.get("DESKTOP_QA_HUB_TIMEOUT") or 5)
OFFLINE_HINT = "download a pack elsewhere and install it with 'desktop-qa model install DIR'"

# ONNX variants we never pick: CPU onnxruntime runs them badly or not at all.
_SKIP_ONNX = re.compile(r"(fp16|f16|q4|int4|bnb4|uint4)", re.I)
_QUANTIZED_NAME = re.compile(r"(quantized|int8|uint8|qint8|quant)", re.I)
_QUANTIZED_OPS = frozenset(
    {
        "MatMulInteger",
        "DynamicQuantizeLinear",
        "DynamicQuantizeMatMul",
        "QLinearMatMul",
        "QuantizeLinear",
        "DequantizeLinear",
        "MatMulNBits",
        "QAttention",
        "QGemm",
    }
)
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_CHECKPOINT_EXTRAS = (
    "config.json",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "README.md",
)

# The built-in check: any QA model must return some span; a trained one this one.
VALIDATION_CONTEXT = (
    "The museum opened in 1921. Its first director was Maria Lopez, "
    "who ran it for thirty years before retiring to Lisbon."
)
VALIDATION_QUESTION = "Who was the first director of the museum?"
VALIDATION_EXPECTED = "Maria Lopez"

StepFn = Callable[[str], None]
CancelFn = Callable[[], bool]


@dataclass
class RepoInfo:
    """What the hub says about one repo revision."""

    repo_id: str
    revision: str  # the commit hash when known, so every file comes from one snapshot
    files: list[str]
    license: str = "unknown"
    repo_type: str = "model"
    offline: bool = False  # answered from the local hub cache


class Hub(Protocol):
    """The two calls that touch the network; tests substitute a local folder."""

    def info(self, repo_id: str, revision: str | None, repo_type: str = "model") -> RepoInfo: ...

    def fetch(self, info: RepoInfo, filename: str) -> Path: ...


def offline_error(reason: str) -> UserError:
    return UserError(f"cannot reach the model hub ({reason}); {OFFLINE_HINT}")


def _network_errors() -> tuple[type[BaseException], ...]:
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    errors: list[type[BaseException]] = [
        OfflineModeIsEnabled,
        LocalEntryNotFoundError,
        ConnectionError,
        TimeoutError,
    ]
    for module in ("httpx2", "httpx", "requests"):
        try:
            mod = __import__(module)
        except ImportError:
            continue
        for attr in ("TransportError", "TimeoutException", "ConnectionError", "Timeout"):
            exc = getattr(mod, attr, None)
            if isinstance(exc, type) and issubclass(exc, BaseException):
                errors.append(exc)
    return tuple(errors)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if "OfflineModeIsEnabled" in type(exc).__name__ or "offline" in text.lower():
        return "offline mode is on (HF_HUB_OFFLINE)"
    text = text[:120] if text else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _card_license(card_data: Any, tags: Sequence[str] | None) -> str:
    value = None
    if card_data is not None:
        value = card_data.get("license") if hasattr(card_data, "get") else None
    if not value:
        for tag in tags or ():
            if tag.startswith("license:"):
                value = tag.split(":", 1)[1]
                break
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return str(value) if value else "unknown"


def readme_license(readme: Path) -> str:
    """License from a model card's YAML front matter; 'unknown' when it names none."""
    try:
        text = readme.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown"
    front = re.match(r"\A---\s*\n(.*?)\n---", text, re.S)
    if front:
        found = re.search(r"^license:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", front.group(1), re.M)
        if found:
            return found.group(1)
    return "unknown"


def _quiet_tqdm() -> type:
    """huggingface_hub's tqdm, switched off: scripts and logs get no byte counters."""
    from huggingface_hub.utils import tqdm as hf_tqdm

    class QuietTqdm(hf_tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return QuietTqdm


class HfHub:
    """The real hub through huggingface_hub: its cache, resume, HF_HOME, HF_HUB_OFFLINE, tqdm."""

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        timeout: float = HUB_TIMEOUT,
        cache_dir: str | os.PathLike[str] | None = None,
        progress_bars: bool = True,
    ) -> None:
        self.endpoint = endpoint  # None: HF_ENDPOINT or huggingface.co
        self.timeout = timeout
        self.cache_dir = cache_dir
        self.progress_bars = progress_bars

    def _http_errors(self, exc: BaseException, repo_id: str, what: str) -> UserError:
        from huggingface_hub.errors import (
            GatedRepoError,
            HfHubHTTPError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        if isinstance(exc, GatedRepoError):
            return UserError(
                f"{what} {repo_id} is gated; accept its terms on the hub and log in "
                f"with 'hf auth login', or {OFFLINE_HINT}"
            )
        if isinstance(exc, RepositoryNotFoundError):
            return UserError(f"{what} {repo_id} not found on the model hub (check the name)")
        if isinstance(exc, RevisionNotFoundError):
            return UserError(f"{what} {repo_id} has no such revision (check --revision)")
        if isinstance(exc, HfHubHTTPError):
            status = getattr(getattr(exc, "response", None), "status_code", None)
            return offline_error(f"HTTP {status}" if status else _reason(exc))
        return offline_error(_reason(exc))

    def _cached(self, repo_id: str, revision: str | None, repo_type: str) -> RepoInfo | None:
        """The snapshot already in the hub cache, for re-installs without network.

        We fetch by commit hash (every file from one snapshot), which leaves no
        ``refs/main`` behind, so without a revision the newest snapshot is used.
        """
        from huggingface_hub import constants
        from huggingface_hub.file_download import repo_folder_name

        root = Path(self.cache_dir or constants.HF_HUB_CACHE) / repo_folder_name(
            repo_id=repo_id, repo_type=repo_type
        )
        snapshots = root / "snapshots"
        if not snapshots.is_dir():
            return None
        ref = root / "refs" / (revision or "main")
        folder: Path | None = None
        if ref.is_file():
            folder = snapshots / ref.read_text(encoding="utf-8").strip()
        elif revision:
            folder = snapshots / revision
        else:
            folders = [p for p in snapshots.iterdir() if p.is_dir()]
            folder = max(folders, key=lambda p: p.stat().st_mtime) if folders else None
        if folder is None or not folder.is_dir():
            return None
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        if not files:
            return None
        return RepoInfo(
            repo_id=repo_id,
            revision=folder.name,
            files=files,
            license=readme_license(folder / "README.md"),
            repo_type=repo_type,
            offline=True,
        )

    def info(self, repo_id: str, revision: str | None, repo_type: str = "model") -> RepoInfo:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.endpoint)
        what = "dataset" if repo_type == "dataset" else "model"
        try:
            if repo_type == "dataset":
                info = api.dataset_info(repo_id, revision=revision, timeout=self.timeout)
            else:
                info = api.model_info(repo_id, revision=revision, timeout=self.timeout)
        except _network_errors() as exc:
            cached = self._cached(repo_id, revision, repo_type)
            if cached is not None:
                return cached
            raise offline_error(_reason(exc)) from None
        except Exception as exc:  # noqa: BLE001 - hub errors become one user line
            raise self._http_errors(exc, repo_id, what) from None
        files = [s.rfilename for s in (info.siblings or [])]
        return RepoInfo(
            repo_id=repo_id,
            revision=info.sha or revision or "main",
            files=files,
            license=_card_license(getattr(info, "card_data", None), getattr(info, "tags", None)),
            repo_type=repo_type,
        )

    def fetch(self, info: RepoInfo, filename: str) -> Path:
        from huggingface_hub import hf_hub_download

        try:
            return Path(
                hf_hub_download(
                    info.repo_id,
                    filename,
                    revision=info.revision,
                    repo_type=info.repo_type,
                    cache_dir=self.cache_dir,
                    endpoint=self.endpoint,
                    etag_timeout=self.timeout,
                    local_files_only=info.offline,
                    tqdm_class=None if self.progress_bars else _quiet_tqdm(),
                )
            )
        except _network_errors() as exc:
            raise offline_error(_reason(exc)) from None
        except Exception as exc:  # noqa: BLE001
            raise self._http_errors(exc, info.repo_id, "model") from None


# ---------------------------------------------------------------- choosing files


@dataclass
class Plan:
    """Which repo files make the pack."""

    onnx: str | None = None
    onnx_data: list[str] = field(default_factory=list)
    tokenizer: str | None = None
    vocab: str | None = None
    weights: str | None = None
    extras: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        names = [self.onnx, *self.onnx_data, self.tokenizer, self.vocab, self.weights, *self.extras]
        return list(dict.fromkeys(n for n in names if n))


def _parent(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def _in_dirs(files: Sequence[str], basename: str, dirs: Sequence[str]) -> str | None:
    present = set(files)
    for d in dirs:
        candidate = f"{d}/{basename}" if d else basename
        if candidate in present:
            return candidate
    return None


def choose_onnx(files: Sequence[str]) -> str | None:
    """The repo's ONNX export: fp32 ``model.onnx`` first (we quantize it ourselves)."""
    onnx = [f for f in files if f.lower().endswith(".onnx") and not _SKIP_ONNX.search(f)]
    if not onnx:
        return None

    def rank(name: str) -> tuple[int, int, int, int]:
        base = name.rsplit("/", 1)[-1].lower()
        return (
            bool(_QUANTIZED_NAME.search(name)),
            base != "model.onnx",
            name.count("/"),
            len(name),
        )

    return sorted(onnx, key=rank)[0]


def plan_files(files: Sequence[str], *, allow_export: bool = True) -> Plan:
    """Pick the files to fetch, or say clearly why this repo cannot become a pack."""
    plan = Plan()
    plan.onnx = choose_onnx(files)
    dirs: list[str] = [""]
    if plan.onnx:
        dirs = list(dict.fromkeys([_parent(plan.onnx), ""]))
        plan.onnx_data = [
            f
            for f in files
            if f != plan.onnx and f.startswith(plan.onnx) and "data" in f[len(plan.onnx) :]
        ]
    plan.tokenizer = _in_dirs(files, "tokenizer.json", dirs)
    if plan.tokenizer is None:
        plan.vocab = _in_dirs(files, "vocab.txt", dirs)
    if plan.tokenizer is None and plan.vocab is None:
        raise UserError(
            "the repo has neither tokenizer.json nor vocab.txt, so its text cannot be tokenized"
        )
    for extra in ("config.json", "tokenizer_config.json", "README.md"):
        found = _in_dirs(files, extra, dirs)
        if found:
            plan.extras.append(found)
    if plan.onnx is None:
        plan.weights = next((w for w in _WEIGHTS if w in files), None)
        if plan.weights is None:
            raise UserError(
                "the repo has neither an ONNX export nor PyTorch weights "
                "(model.safetensors or pytorch_model.bin)"
            )
        if not allow_export:
            raise UserError(
                "the repo has no ONNX export; exporting its PyTorch weights needs the export "
                'extra: pip install -e ".[export]"'
            )
        plan.extras += [f for f in _CHECKPOINT_EXTRAS if f in files and f not in plan.files]
    return plan


# ---------------------------------------------------------------- graph checks

_OUTPUT_ALIASES = {
    "start_logits": (
        "start_logits",
        "start_scores",
        "start",
        "output_start_logits",
        "logits_start",
    ),
    "end_logits": ("end_logits", "end_scores", "end", "output_end_logits", "logits_end"),
}


def _canonical_output(name: str) -> str | None:
    low = name.lower().split(":")[0]
    for canonical, aliases in _OUTPUT_ALIASES.items():
        if low in aliases:
            return canonical
    return None


def fix_graph_io(onnx_path: Path) -> dict[str, str]:
    """Check the graph's IO names against the pack contract; rename known output aliases.

    Returns the renames made. Inputs must be the BERT trio (``token_type_ids``
    optional); anything else is refused, because feeding a graph by guessed
    names would silently give wrong answers.
    """
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in initializers]
    outputs = [o.name for o in graph.output]
    where = f"the repo's ONNX graph ({onnx_path.name})"
    unknown = [n for n in inputs if n not in ("input_ids", "attention_mask", "token_type_ids")]
    if unknown or "input_ids" not in inputs or "attention_mask" not in inputs:
        raise UserError(
            f"{where} has inputs {inputs}; a pack needs input_ids, attention_mask "
            "(and optionally token_type_ids)"
        )
    if sorted(outputs) == ["end_logits", "start_logits"]:
        return {}
    renames = {}
    for name in outputs:
        canonical = _canonical_output(name)
        if canonical:
            renames[name] = canonical
    if sorted(renames.values()) != ["end_logits", "start_logits"] or len(outputs) != 2:
        raise UserError(
            f"{where} has outputs {outputs}; a pack needs start_logits and end_logits "
            "(export the checkpoint with 'desktop-qa model build' instead)"
        )
    renames = {old: new for old, new in renames.items() if old != new}
    taken = {n for node in graph.node for n in node.output} | initializers | set(inputs)
    clash = [new for new in renames.values() if new in taken and new not in renames]
    if clash:
        raise UserError(f"{where} already uses the names {clash} for other values")
    for node in graph.node:
        node.output[:] = [renames.get(n, n) for n in node.output]
        node.input[:] = [renames.get(n, n) for n in node.input]
    for out in graph.output:
        out.name = renames.get(out.name, out.name)
    onnx.save(model, str(onnx_path))
    return renames


def is_quantized(onnx_path: Path) -> bool:
    """Whether the graph already holds quantized ops (then we do not quantize again)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    return any(node.op_type in _QUANTIZED_OPS for node in model.graph.node)


# ---------------------------------------------------------------- the pipeline


def pack_name(repo_id: str, quantization: str) -> str:
    base = repo_id.rsplit("/", 1)[-1].lower()
    suffix = "int8" if quantization.startswith("int8") else "fp32"
    return base if base.endswith(suffix) else f"{base}-{suffix}"


def _json(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _lower_case(repo_id: str, tok_config: dict[str, Any]) -> bool:
    if "do_lower_case" in tok_config:
        return bool(tok_config["do_lower_case"])
    name = repo_id.lower()
    return "uncased" in name or "cased" not in name


def validate_pack(pack_dir: Path) -> dict[str, Any]:
    """Answer the built-in question; refuse a pack that cannot produce a span at all."""
    from desktop_qa.core.document import Document
    from desktop_qa.core.engine import OpenedDocument, answer, final
    from desktop_qa.core.query import Query
    from desktop_qa.core.reader import Reader
    from desktop_qa.core.squad import compute_exact

    pack = load_pack(pack_dir)
    try:
        reader = Reader(pack)
        doc = Document.from_text(VALIDATION_CONTEXT, name="validation")
        with OpenedDocument.from_document(doc) as scope:
            result = final(answer(scope, Query(VALIDATION_QUESTION, top_k=1), reader))
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises many kinds
        raise UserError(
            f"the downloaded model does not run ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]})"
        ) from None
    guess = result.best_guess
    if guess is None or not guess.text.strip():
        raise UserError("the downloaded model returns no answer span for a simple question")
    return {
        "question": VALIDATION_QUESTION,
        "best_guess": guess.text,
        "expected": VALIDATION_EXPECTED,
        "correct": bool(compute_exact(VALIDATION_EXPECTED, guess.text)),
        "no_answer": result.no_answer,
    }


def _check(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def _pack_from_onnx(
    info: RepoInfo, plan: Plan, local: dict[str, Path], out: Path, step: StepFn
) -> dict[str, Any]:
    """Pack folder ``out`` from the repo's ONNX export; returns the manifest values."""
    try:
        import onnx  # noqa: F401  (checking and quantizing the graph need it)

        from desktop_qa.packs.quantize import agreement, quantize_int8
    except ImportError:
        raise UserError(
            "this installation cannot check or quantize a downloaded model (the onnx package "
            "is missing); run 'pip install onnx', or install a ready pack with "
            "'desktop-qa model install DIR'"
        ) from None
    from desktop_qa.packs.vocab import tokenizer_from_vocab_txt

    assert plan.onnx is not None
    work = out / ".work"
    work.mkdir(parents=True)
    fp32 = work / plan.onnx.rsplit("/", 1)[-1]
    shutil.copyfile(local[plan.onnx], fp32)
    for data in plan.onnx_data:  # external weights must sit beside the graph, same name
        shutil.copyfile(local[data], work / data.rsplit("/", 1)[-1])
    config = _json(
        local.get(
            next(
                (
                    e
                    for e in plan.extras
                    if e.endswith("config.json") and not e.endswith("tokenizer_config.json")
                ),
                "",
            ),
            None,
        )
    )
    tok_config = _json(
        local.get(next((e for e in plan.extras if e.endswith("tokenizer_config.json")), ""), None)
    )
    lower = _lower_case(info.repo_id, tok_config)
    if plan.tokenizer:
        shutil.copyfile(local[plan.tokenizer], out / "tokenizer.json")
    else:
        assert plan.vocab is not None
        tokenizer_from_vocab_txt(local[plan.vocab], out / "tokenizer.json", lower)

    renames = fix_graph_io(fp32)
    if renames:
        step(f"renamed graph outputs {renames}")
    values: dict[str, Any] = {}
    if is_quantized(fp32):
        step("the repo's ONNX export is already quantized; using it as is")
        if plan.onnx_data:
            raise UserError(
                "the repo's quantized ONNX keeps its weights in a separate file; not supported"
            )
        shutil.copyfile(fp32, out / "model.onnx")
        values["quantization"] = "int8 (from the hub)"
    else:
        step("quantizing to int8")
        quantize_int8(fp32, out / "model.onnx")
        values["quantization"] = "int8-dynamic"
    max_len = min(384, int(config.get("max_position_embeddings") or 512))
    if values["quantization"] == "int8-dynamic":
        step("measuring int8 against fp32")
        values["agreement"] = agreement(
            fp32, out / "model.onnx", out / "tokenizer.json", max_seq_length=max_len
        )
    shutil.rmtree(work)
    values.update(
        architecture=str(config.get("model_type") or "unknown"),
        do_lower_case=lower,
        max_seq_length=max_len,
        doc_stride=min(128, max_len // 2),
        max_query_length=min(64, max_len // 2),
    )
    return values


def _pack_from_weights(
    info: RepoInfo, plan: Plan, local: dict[str, Path], out: Path, step: StepFn
) -> dict[str, Any]:
    """Pack folder ``out`` by exporting the repo's PyTorch checkpoint (export extra)."""
    from desktop_qa.packs import export

    checkpoint = out.parent / info.repo_id.rsplit("/", 1)[-1]
    checkpoint.mkdir()
    for name in plan.files:
        shutil.copyfile(local[name], checkpoint / name.rsplit("/", 1)[-1])
    step("exporting the PyTorch weights to ONNX (takes a minute)")
    built, _report = export.build_pack_from_checkpoint(checkpoint, out / "built", quantize=True)
    manifest = json.loads((built / "model.json").read_text(encoding="utf-8"))
    for name in manifest.get("files", {}):
        shutil.move(str(built / name), str(out / name))
    shutil.rmtree(built)
    shutil.rmtree(checkpoint)
    keep = (
        "architecture",
        "do_lower_case",
        "max_seq_length",
        "doc_stride",
        "max_query_length",
        "quantization",
        "agreement",
        "onnx",
        "tokenizer",
    )
    return {k: manifest[k] for k in keep if k in manifest}


def _export_available() -> bool:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def download_pack(
    repo_id: str = DEFAULT_REPO,
    *,
    revision: str | None = None,
    progress: StepFn | None = None,
    cancel: CancelFn | None = None,
    hub: Hub | None = None,
    name: str | None = None,
) -> ModelPack:
    """Fetch ``repo_id`` from the hub, build a verified int8 pack and install it.

    ``progress`` gets one line per step (byte progress comes from
    huggingface_hub's own bars); ``cancel`` is polled between steps.
    """
    from desktop_qa.packs.install import install_pack

    step = progress or (lambda _msg: None)
    hub = hub or HfHub()
    step(f"looking up {repo_id}")
    info = hub.info(repo_id, revision)
    _check(cancel)
    try:
        plan = plan_files(info.files, allow_export=True)
    except UserError as exc:
        raise UserError(f"model {repo_id}: {exc.message}") from None
    if plan.onnx is None and not _export_available():
        raise UserError(
            f"model {repo_id} has no ONNX export; exporting its PyTorch weights needs the "
            'export extra: pip install -e ".[export]"'
        )
    local: dict[str, Path] = {}
    for filename in plan.files:
        _check(cancel)
        step(f"fetching {filename}")
        local[filename] = hub.fetch(info, filename)
    _check(cancel)

    staging = paths.cache_dir() / "downloads"
    staging.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pack-", dir=staging))
    try:
        out = work / "pack"
        out.mkdir()
        if plan.onnx:
            values = _pack_from_onnx(info, plan, local, out, step)
        else:
            values = _pack_from_weights(info, plan, local, out, step)
        _check(cancel)
        manifest: dict[str, Any] = {
            "name": name or pack_name(repo_id, values.get("quantization", "")),
            **values,
            "null_threshold": 0.0,
            "trained": True,
            "source": f"hf://{repo_id}@{info.revision}",
            "license": info.license,
        }
        write_manifest(out, manifest)
        step("checking that the model answers a question")
        manifest["validation"] = validate_pack(out)
        write_manifest(out, manifest)
        _check(cancel)
        step("installing")
        return install_pack(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- SQuAD 2.0 dev set


def rows_to_squad(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Hub parquet rows (id, title, context, question, answers) -> SQuAD 2.0 JSON."""
    articles: dict[str, dict[str, Any]] = {}
    paragraphs: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        title = str(row.get("title") or "")
        context = str(row["context"])
        article = articles.setdefault(title, {"title": title, "paragraphs": []})
        key = (title, context)
        if key not in paragraphs:
            paragraphs[key] = {"context": context, "qas": []}
            article["paragraphs"].append(paragraphs[key])
        answers = row.get("answers") or {}
        texts = list(answers.get("text") or [])
        starts = list(answers.get("answer_start") or [])
        paragraphs[key]["qas"].append(
            {
                "id": str(row["id"]),
                "question": str(row["question"]),
                "answers": [
                    {"text": str(t), "answer_start": int(s)}
                    for t, s in zip(texts, starts + [-1] * (len(texts) - len(starts)), strict=True)
                ],
                "is_impossible": not texts,
            }
        )
    return {"version": "v2.0", "data": list(articles.values())}


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(
            "reading the hub's parquet copy of SQuAD 2.0 needs pyarrow (pip install pyarrow); "
            f"or download {SQUAD2_DEV_URL} and pass it as DATA.json"
        ) from None
    return pq.read_table(path).to_pylist()


def fetch_squad2_dev(*, hub: Hub | None = None, progress: StepFn | None = None) -> Path:
    """The official SQuAD 2.0 dev set as SQuAD JSON, cached under the app's cache folder."""
    target = paths.cache_dir() / "squad2" / "dev-v2.0.json"
    if target.is_file():
        return target
    step = progress or (lambda _msg: None)
    hub = hub or HfHub()
    step(f"looking up dataset {SQUAD2_DATASET}")
    info = hub.info(SQUAD2_DATASET, None, repo_type="dataset")
    parquet = sorted(
        f for f in info.files if f.endswith(".parquet") and "validation" in f.rsplit("/", 1)[-1]
    )
    if not parquet:
        raise UserError(
            f"dataset {SQUAD2_DATASET} has no validation parquet file; "
            f"download {SQUAD2_DEV_URL} and pass it as DATA.json"
        )
    step(f"fetching {parquet[0]}")
    rows = _read_parquet(hub.fetch(info, parquet[0]))
    data = rows_to_squad(rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, target)
    return target
