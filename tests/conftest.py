"""Shared fixtures: isolated user folders and a rule-based model pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_qa.packs.oracle import build_oracle_pack
from tests.pdfgen import handbook

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpora" / "pymupdf-tests"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test reads or writes the real settings, cache or installed packs."""
    root = tmp_path_factory.mktemp("user")
    for name in ("DATA", "CONFIG", "CACHE"):
        monkeypatch.setenv(f"DESKTOP_QA_{name}_DIR", str(root / name.lower()))
    monkeypatch.delenv("DESKTOP_QA_MODEL", raising=False)


@pytest.fixture(scope="session")
def oracle_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ "alpha" starts and "bravo" ends an answer (logit 10 each); null score 10."""
    return build_oracle_pack(tmp_path_factory.mktemp("packs") / "oracle")


@pytest.fixture(scope="session")
def handbook_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 pages, two columns; "Alpha Bravo" on page 41."""
    return handbook(tmp_path_factory.mktemp("docs") / "handbook.pdf")
