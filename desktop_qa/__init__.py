"""desktop-qa: offline find-in-document question answering.

Importing the package is the first thing every entry point does (the CLI,
``python -m desktop_qa``, the window, the installers' launcher, and the
library's spawned workers, which unpickle a function of this package; forked
workers inherit the environment). So the two process-wide guards live here,
before anything can load onnxruntime:

* ``ORT_DISABLE_TELEMETRY=1``: onnxruntime reads it once, when its native
  module loads, and otherwise writes a device id and an event store under
  ``~/.cache/Microsoft/DeveloperTools/`` and contacts Microsoft's collector.
  An inherited ``0`` is overridden. ``core/system/runtime.py`` sets it again for code
  that imports onnxruntime through it.
* PyMuPDF 2.0's ``import pymupdf`` also imports its layout analyser
  (``pymupdf.layout``, which builds three ONNX sessions) and ``pymupdf4llm``
  (which imports onnxruntime, tqdm and psutil): ``import pymupdf`` took
  0.61 s with them and 0.10 s without (``python -X importtime``, three runs
  each), and, before this guard, they started onnxruntime's telemetry on
  every opened PDF. desktop-qa calls neither ``Page.get_layout()`` nor
  ``pymupdf4llm``, and text extraction does not depend on them, so their
  auto-import is turned off (importing them raises ImportError, which
  PyMuPDF expects and handles). Code that wants them imports them on purpose
  with ``load_optional_pymupdf(name)``.
"""

import os as _os
import sys as _sys

__version__ = "0.1.0"

_os.environ["ORT_DISABLE_TELEMETRY"] = "1"
OPTIONAL_PYMUPDF = ("pymupdf.layout", "pymupdf4llm")
for _name in OPTIONAL_PYMUPDF:
    _sys.modules.setdefault(_name, None)  # type: ignore[arg-type]


def load_optional_pymupdf(name: str) -> object:
    """Import ``pymupdf.layout`` or ``pymupdf4llm`` on purpose (off at startup; see above)."""
    import importlib

    if name not in OPTIONAL_PYMUPDF:
        raise ValueError(f"{name} is not one of {OPTIONAL_PYMUPDF}")
    if name in _sys.modules and _sys.modules[name] is None:
        del _sys.modules[name]
    return importlib.import_module(name)
