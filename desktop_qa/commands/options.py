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
