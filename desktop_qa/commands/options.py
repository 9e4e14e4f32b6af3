"""Options several commands share, defined once so they read alike in every ``--help``."""

from __future__ import annotations

import argparse


def add_model_option(p: argparse.ArgumentParser) -> None:
    """``--model DIR``: the pack folder (else the discovery order of ``core.reading.pack``)."""
    p.add_argument("--model", metavar="DIR", help="model pack folder")


def add_threshold_option(p: argparse.ArgumentParser) -> None:
    """``--threshold X``: the no-answer threshold, overriding the pack's calibrated one."""
    p.add_argument(
        "--threshold",
        type=float,
        metavar="X",
        help="no-answer threshold in logits (default: the pack's null_threshold)",
    )


def add_open_options(p: argparse.ArgumentParser) -> None:
    """``--password``, ``--ocr``, ``--ocr-lang``: how a document is opened (find, text)."""
    from desktop_qa.core.documents.ocr.pages import DEFAULT_LANGUAGES, MODES

    p.add_argument(
        "--password",
        metavar="PASSWORD",
        help="password of a protected PDF (without it, you are asked when stdin is a terminal)",
    )
    p.add_argument(
        "--ocr", choices=MODES, default="auto", help="OCR of pages without a text layer (auto)"
    )
    p.add_argument("--ocr-lang", default=DEFAULT_LANGUAGES, metavar="LANGS", help="OCR languages")
