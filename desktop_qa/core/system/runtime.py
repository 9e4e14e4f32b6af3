"""The one way the app imports onnxruntime: with its telemetry switched off first.

onnxruntime (1.2x+) ships a telemetry uploader on Linux and macOS too: importing
the module writes a device id and an event database under
``$XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime/`` (``~/.cache/...``)
and a background thread resolves and contacts
``mobile.events.data.microsoft.com``. The switch that stops both is the
environment variable ``ORT_DISABLE_TELEMETRY=1``, read when the native module
loads; ``onnxruntime.disable_telemetry_events()`` called after the import is
too late (measured: the store is created and the upload thread still starts).
So every module of the app, the benchmarks and the tests that needs
onnxruntime calls ``import_onnxruntime()`` instead of ``import onnxruntime``
(``tests/test_hostile.py`` checks that no other import exists).
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import ModuleType
from typing import Any

TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"


def disable_telemetry() -> None:
    """Set the switch onnxruntime reads at load time (overrides an inherited ``0``)."""
    os.environ[TELEMETRY_ENV] = "1"


def telemetry_disabled_in_time() -> bool:
    """False when onnxruntime was loaded by someone else before the switch was set."""
    return "onnxruntime" not in sys.modules or os.environ.get(TELEMETRY_ENV) == "1"


def import_onnxruntime() -> ModuleType:
    """``import onnxruntime`` with telemetry off (env switch before, API call after)."""
    disable_telemetry()
    import onnxruntime

    # Belt and braces: also off for any environment created later.
    with contextlib.suppress(Exception):
        onnxruntime.disable_telemetry_events()
    return onnxruntime


def session_options(threads: int | None = None, level: Any = None, *, quiet: bool = False) -> Any:
    """Options every session of the app uses: one inference thread pool, sequential.

    ``level`` is a GraphOptimizationLevel (default: onnxruntime's, ENABLE_ALL);
    ``quiet`` logs fatal errors only (3 = errors only, otherwise), for sessions
    whose failure is expected and handled, so a read-only cache folder prints
    nothing.
    """
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if level is not None:
        options.graph_optimization_level = level
    options.log_severity_level = 4 if quiet else 3
    return options


def new_session(path: str | os.PathLike[str], options: Any = None) -> Any:
    """The one session factory: a CPU InferenceSession whose failures stay exceptions.

    onnxruntime's Python wrapper, when creating a session fails, prints an "EP
    Error ... Falling back" banner on stdout (it would break ``ask --json``) and
    retries with the same CPU provider. ``enable_fallback=0`` turns both off at
    the source: the exception is the caller's to turn into one ``error:`` line.
    (Swapping ``sys.stdout`` to hide the banner changed it for every thread of
    the process, from the window's worker threads too.)
    """
    ort = import_onnxruntime()
    options = session_options() if options is None else options
    return ort.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"], enable_fallback=0
    )


def physical_cores() -> int:
    """Physical cores where psutil knows them; int8 GEMMs gain nothing from SMT siblings."""
    try:
        import psutil

        count = psutil.cpu_count(logical=False)
        if count:
            return int(count)
    except (ImportError, OSError):  # psutil is optional (not a dependency)
        pass
    return os.cpu_count() or 1
