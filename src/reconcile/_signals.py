"""Interruptions: SIGINT, SIGTERM and SIGHUP as exceptions, named stages, and a fault-injection hook.

The command line turns SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal or the SSH session
closed) into :class:`Interrupted`, an exception that unwinds through every ``finally`` (so
staging is removed and a running sampler is cancelled) and that no library swallows (it is not a
:class:`KeyboardInterrupt`, which samplers catch to return what they have drawn so far). The
command then exits 130, 143 or 129. A SIGHUP that is ignored when the block starts (a run under
``nohup``) stays ignored.

:func:`checkpoint` names the stage a run has reached; messages say where an interruption came.
For the fault-injection tests it can also signal the process itself: with
``RECONCILE_FAULT_AT=<stage>`` (and ``RECONCILE_FAULT_SIGNAL=INT|TERM|HUP|KILL``, default KILL;
``RECONCILE_FAULT_DELAY=<seconds>`` to send it from another thread a moment later, while the
stage is under way) the process sends itself that signal when it reaches the stage
(``<stage>#<n>``: the n-th time it does); ``RECONCILE_TRACE_STAGES=<file>`` appends the name of
every stage reached to that file. Nothing of this runs unless the variables are set.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator

FAULT_AT = "RECONCILE_FAULT_AT"
FAULT_SIGNAL = "RECONCILE_FAULT_SIGNAL"
FAULT_DELAY = "RECONCILE_FAULT_DELAY"
TRACE = "RECONCILE_TRACE_STAGES"

#: The last stage reached (see :func:`checkpoint`), for messages.
stage = "starting"
#: Set once the results of the current run are in place (the commit's switch is done).
committed = False


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived; ``exit_code`` is 128 + the signal's number (130, 143,
    129)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(signal.Signals(signum).name)


def _raise(signum, frame):  # noqa: ARG001 - the signal module's handler signature
    raise Interrupted(signum)


def _caught() -> tuple[int, ...]:
    """The signals a run turns into :class:`Interrupted`: SIGINT, SIGTERM, and SIGHUP where the
    platform has it and it is not ignored (``nohup`` ignores it so that a run outlives its
    terminal: it must go on doing so)."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None or signal.getsignal(hangup) is signal.SIG_IGN:
        return (signal.SIGINT, signal.SIGTERM)
    return (signal.SIGINT, signal.SIGTERM, hangup)


#: Signals whose :class:`Interrupted` was raised where Python ignores exceptions (a ctypes
#: callback: llvmlite calls one while numba compiles, and prints "Exception ignored"); the next
#: :func:`checkpoint` raises it again.
_swallowed: list[int] = []
#: How many :func:`deferred` blocks are running (a checkpoint inside one raises nothing).
_deferring = 0


def _keep_swallowed(previous):
    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            _swallowed.append(unraisable.exc_value.signum)  # not lost, and no traceback shown
            return
        previous(unraisable)

    return hook


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """While the block runs, SIGINT, SIGTERM and SIGHUP (unless ignored) raise
    :class:`Interrupted` (main thread only; elsewhere the block runs with the handlers as they
    are). An interruption raised where Python swallows exceptions (a ctypes callback during
    numba's compilation) is kept and raised at the next :func:`checkpoint`. The previous handlers
    come back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise) for s in _caught()}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _keep_swallowed(previous_hook)
    _swallowed.clear()
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        _swallowed.clear()
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP (unless ignored) back while the block runs (renames that
    must finish together): one that arrives meanwhile is only recorded, and handled as usual when
    the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _deferring
    arrived: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: arrived.append(signum)) for s in _caught()}
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        for s, handler in previous.items():
            signal.signal(s, handler)
        if arrived:
            handler = previous[arrived[0]]
            if callable(handler):
                handler(arrived[0], None)
            elif handler == signal.SIG_DFL:  # the default: end the process the way the signal would
                signal.raise_signal(arrived[0])


_arrivals: dict[str, int] = {}


def reset() -> None:
    """A new run begins: no stage reached, nothing committed."""
    global stage, committed
    stage, committed = "starting", False
    _arrivals.clear()


def checkpoint(name: str) -> None:
    """Record that the run reached stage ``name``, and raise an interruption that arrived where
    it could not be raised (see :func:`interrupts_raise`); the fault-injection hook may signal here
    (``RECONCILE_FAULT_AT=name``, or ``name#n`` for the n-th time the run reaches it)."""
    global stage
    if _swallowed and not _deferring:  # (raised in the stage it arrived in, which messages name)
        signum = _swallowed[0]
        _swallowed.clear()
        raise Interrupted(signum)
    stage = name
    trace = os.environ.get(TRACE)
    if trace:  # (the tests list the stages a run goes through, to signal at each)
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(name + "\n")
    wanted = os.environ.get(FAULT_AT)
    if not wanted:
        return
    _arrivals[name] = _arrivals.get(name, 0) + 1
    target, _, count = wanted.partition("#")
    if target != name or _arrivals[name] != int(count or 1):
        return
    signum = getattr(signal, "SIG" + os.environ.get(FAULT_SIGNAL, "KILL").upper().removeprefix("SIG"))
    delay = float(os.environ.get(FAULT_DELAY, "0") or 0)
    pid = os.getpid()
    if delay > 0:
        threading.Timer(delay, os.kill, (pid, signum)).start()
    else:
        os.kill(pid, signum)  # (Python runs the handler in the main thread at its next instruction)
