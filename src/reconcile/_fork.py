"""Short-lived forked helpers: a second process that does part of a run's work on the other core
(drawing figures, compiling a model's second function), without ever outliving the run.

A helper is forked only where that is safe (:func:`fork_is_safe`: Linux, the main thread, not a
worker of a pool whose workers already use the cores). It is forked with signals held back and
the spinner's thread stopped, so it inherits no lock of the terminal; it ignores SIGINT and SIGHUP
(the parent handles interrupts and kills it), dies with its parent (even one killed outright), and
writes nothing to the parent's streams (:func:`quiet_child`). It holds no copy of the output lock:
``reconcile._io`` closes those at every fork. A helper that fails, dies or cannot be forked costs
only time: whoever forked it does its work itself.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from typing import Callable, NoReturn

from . import _signals
from ._progress import paused

__all__ = ["fork_is_safe", "cpus", "fork", "quiet_child", "kill_and_reap"]

#: Python 3.12+ warns when a process with threads forks; a helper here only works and leaves
_FORK_WARNING = r".*use of fork\(\) may lead to deadlocks"


def fork_is_safe() -> bool:
    """Linux, in the main thread of a process that is not itself a worker of a pool (a batch's
    workers already use the cores; Dask's run tasks in threads)."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and threading.current_thread() is threading.main_thread()
        and multiprocessing.parent_process() is None
    )


#: cgroup v2's CPU quota of this process's group ("max 100000", or "150000 100000": 1.5 CPUs)
CPU_MAX = "/sys/fs/cgroup/cpu.max"


def cpus() -> int:
    """How many CPUs this process may keep busy: those it may run on (``os.sched_getaffinity``),
    fewer if a container's CPU quota (cgroup v2 ``cpu.max``) allows fewer whole CPUs (at least
    one)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        with open(CPU_MAX, encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(quota) // int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        pass
    return n


def fork(child: Callable[[int], NoReturn]) -> int | None:
    """Fork a helper that runs ``child(parent_pid)``, which must end the process with
    ``os._exit`` (status 0 when its work is done); returns the helper's pid, or None when no
    process could be had (memory, a limit on processes). Signals that arrive while forking are
    held back until the caller can register the helper (and, in the helper, until ``child`` has set
    its own handlers: :func:`quiet_child`); objects that exist now are never collected in the
    helper."""
    parent = os.getpid()
    with _signals.deferred(), paused(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_FORK_WARNING, category=DeprecationWarning)
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            return None
        finally:
            if os.getpid() == parent:
                gc.unfreeze()
        if pid == 0:  # the helper: its whole life, then leave without running anything of the parent's
            try:
                child(parent)
            finally:
                os._exit(1)
    return pid


def quiet_child(parent: int) -> None:
    """In a helper: the parent handles interrupts (and kills it); the helper dies with its parent,
    even one killed outright (SIGKILL), so it never writes into a staging directory that the next
    run is cleaning; whatever it would print (warnings) goes nowhere, and the parent's streams,
    with the locks their threads may have held at the fork, are not touched."""
    import ctypes

    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Linux: SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG = 1); without it, leave
    if ctypes.CDLL(None, use_errno=True).prctl(1, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0) != 0:
        os._exit(1)
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives until os._exit
    sys.stdout = sys.stderr = devnull
    os.dup2(devnull.fileno(), 1)
    os.dup2(devnull.fileno(), 2)


def kill_and_reap(pid: int) -> None:
    """End a helper now and collect it (nothing if it is already gone)."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
