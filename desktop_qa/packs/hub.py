"""The model hub client: the two calls that touch the network (list a repo, fetch a file).

Everything that downloads (models for ``download``, the SQuAD 2.0 dev set for
``squad2``) goes through a ``Hub``; ``HfHub`` is the real one
(``huggingface_hub``: its cache, resume, ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``).
Tests substitute a local folder. Without network every call fails within
seconds with one line saying what to do instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from desktop_qa.core.errors import UserError

# Seconds to wait for the hub before calling it unreachable (DESKTOP_QA_HUB_TIMEOUT overrides).
HUB_TIMEOUT = float(os.environ.get("DESKTOP_QA_HUB_TIMEOUT") or 5)

StepFn = Callable[[str], None]  # one line per step of a download


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
    """The hub is out of reach: what is wrong; each front end says how to get a pack
    another way (hint ``model_offline``)."""
    return UserError(f"cannot reach the model hub ({reason})", hint="model_offline")


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
                "with 'hf auth login'",
                hint="model_elsewhere",
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
