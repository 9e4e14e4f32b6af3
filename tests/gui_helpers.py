"""Helpers for the GUI tests: readers that are slow or broken on purpose, small documents."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from desktop_qa.core.reading.reader import Reader, Window


class SlowReader(Reader):
    """A real reader that sleeps before every batch, so a query lasts long enough to cancel."""

    delay = 0.02

    def run(self, batch: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
        time.sleep(self.delay)
        return super().run(batch)


class BrokenReader(Reader):
    """A reader with a bug: the worker must turn it into a message, not a crash."""

    def run(self, batch: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
        raise RuntimeError("boom in the reader")


def isolate(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Point settings, cache and installed packs at ``root`` (never the real user folders)."""
    for name in ("DATA", "CONFIG", "CACHE"):
        monkeypatch.setenv(f"DESKTOP_QA_{name}_DIR", str(root / name.lower()))
    monkeypatch.delenv("DESKTOP_QA_MODEL", raising=False)


def env_for_subprocess(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    for name in ("DATA", "CONFIG", "CACHE"):
        env[f"DESKTOP_QA_{name}_DIR"] = str(root / name.lower())
    env.pop("DESKTOP_QA_MODEL", None)
    return env
