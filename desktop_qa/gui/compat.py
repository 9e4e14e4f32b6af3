"""Work-arounds for Qt binding bugs; every signal the app emits goes through ``emit``.

PySide6 6.12.0 ``SignalInstance.emit()`` returns ``True`` without taking a
reference, so each emit from Python drops one reference to ``True``. On
Python 3.11 (where ``True`` is not immortal) a session of a few thousand
emits ends in "Fatal Python error: bool_dealloc". ``emit`` measures the leak
once at import and gives the reference back, so it is a no-op on fixed
versions and on Python >= 3.12.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 8


class _Probe(QObject):
    ping = Signal()


def _measure_leak() -> int:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    return lost // _PROBES if lost > 0 and lost % _PROBES == 0 else 0


_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None

LEAK_PER_EMIT = _measure_leak()
for _ in range(LEAK_PER_EMIT * _PROBES):  # give back what the probe took
    _incref(True)


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)``, minus the binding's reference leak."""
    result = signal.emit(*args)
    if LEAK_PER_EMIT and isinstance(result, bool):
        for _ in range(LEAK_PER_EMIT):
            _incref(result)


def emit_from(owner: QObject, name: str, *args: Any) -> None:
    """Emit ``owner.<name>`` from a pool thread, or drop it once Qt deleted ``owner``.

    The window may close (and Qt delete the signals' object) while a pool
    thread finishes; the outcome then has nobody to reach, and raising
    RuntimeError there would only print a traceback from the pool thread.
    """
    if not shiboken6.isValid(owner):
        return
    try:
        emit(getattr(owner, name), *args)
    except RuntimeError:
        if shiboken6.isValid(owner):  # not the deleted object: a real error
            raise
