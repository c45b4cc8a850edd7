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

import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Callable, NoReturn

import numpy as np

from . import _signals
from ._progress import paused

__all__ = [
    "fork_is_safe",
    "cpus",
    "spare_cpu",
    "fork",
    "finished",
    "release",
    "quiet_child",
    "kill_and_reap",
    "ArrayHelper",
]

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


def spare_cpu() -> bool:
    """Whether a helper (a forked process or a second thread) would have a core of its own here:
    forking is safe (:func:`fork_is_safe`: also, not a worker of a pool that already uses the
    cores) and this process may keep two CPUs or more busy (:func:`cpus`)."""
    return fork_is_safe() and cpus() >= 2


#: cgroups' file system: under cgroup v2 each group's CPU quota is its ``cpu.max`` ("max 100000",
#: or "150000 100000": 1.5 CPUs); under v1, ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` in the
#: ``cpu`` controller's mount below it; a process is held to the smallest quota on its group's path
CGROUP_ROOT = "/sys/fs/cgroup"
#: which groups this process is in ("0::/path/of/its/group" under cgroup v2,
#: "4:cpu,cpuacct:/path" for a v1 controller)
PROC_CGROUP = "/proc/self/cgroup"


def _smallest_quota(root: Path, group: str, read: Callable[[Path], int | None]) -> int | None:
    """The smallest whole-CPU quota ``read`` finds in ``group``'s directory under ``root`` or in
    any directory above it up to ``root`` (None if none holds one)."""
    here = (root / group.lstrip("/")).resolve()
    found: int | None = None
    for directory in [here, *here.parents]:
        try:
            allowed = read(directory)
        except (OSError, ValueError, IndexError, ZeroDivisionError):  # unreadable: no quota there
            allowed = None
        if allowed is not None:
            found = allowed if found is None else min(found, allowed)
        if directory == root or root not in directory.parents:
            break
    return found


def _v2_quota(directory: Path) -> int | None:
    quota, period = (directory / "cpu.max").read_text(encoding="ascii").split()[:2]
    return None if quota == "max" else max(1, int(quota) // int(period))


def _v1_quota(directory: Path) -> int | None:
    quota = int((directory / "cpu.cfs_quota_us").read_text(encoding="ascii").split()[0])
    period = int((directory / "cpu.cfs_period_us").read_text(encoding="ascii").split()[0])
    return None if quota <= 0 else max(1, quota // period)


def _quota_cpus() -> int | None:
    """Whole CPUs this process's cgroup allows: the smallest quota on the way from its group up to
    the root, read from cgroup v2's ``cpu.max`` or, on a cgroup v1 host, from the ``cpu``
    controller's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (None where no quota is set or none
    can be read)."""
    try:
        lines = Path(PROC_CGROUP).read_text(encoding="ascii").splitlines()
    except (OSError, ValueError):
        lines = []
    entries = [line.split(":", 2) for line in lines if line.count(":") >= 2]
    v2 = next((path for hierarchy, _, path in entries if hierarchy == "0"), "/")
    quotas = [_smallest_quota(Path(CGROUP_ROOT).resolve(), v2, _v2_quota)]
    v1 = next(((names, path) for _, names, path in entries if "cpu" in names.split(",")), None)
    if v1 is not None:
        # the controller's mount (cpu,cpuacct or cpu) under the root; a container sees its own
        # group at the mount's top while /proc names the host's path, which is then not there:
        # the walk up from it reaches the mount's top
        names, path = v1
        mounts = (Path(CGROUP_ROOT) / name for name in (names, "cpu", "cpu,cpuacct"))
        mount = next((m for m in mounts if m.is_dir()), None)
        if mount is not None:
            quotas.append(_smallest_quota(mount.resolve(), path, _v1_quota))
    found = [q for q in quotas if q is not None]
    return min(found) if found else None


def cpus() -> int:
    """How many CPUs this process may keep busy: those it may run on (``os.sched_getaffinity``),
    fewer if a container's CPU quota (cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``, on its
    group or above) allows fewer whole CPUs (at least one)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _quota_cpus()
    return n if quota is None else min(n, quota)


#: each live helper's pid file descriptor (Linux 5.3+): a signal sent through it reaches that
#: process or none, never another that was given its pid after it was reaped
_pidfds: dict[int, int] = {}


def fork(child: Callable[[int], NoReturn], register: Callable[[int], None]) -> int | None:
    """Fork a helper that runs ``child(parent_pid)``, which must end the process with
    ``os._exit`` (status 0 when its work is done); ``register(pid)`` runs in this process before
    any signal that arrived meanwhile is handled, so that whoever forked it can kill it whatever
    happens next. Returns the helper's pid, or None when no process could be had (memory, a
    limit on processes). In the helper, signals are held back until ``child`` has set its own
    handlers (:func:`quiet_child`); objects that exist now are never collected there."""
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
        with contextlib.suppress(AttributeError, OSError):
            _pidfds[pid] = os.pidfd_open(pid)
        register(pid)
    return pid


def finished(pid: int, deadline: float) -> bool:
    """Wait for the helper ``pid`` until ``deadline`` (a ``time.perf_counter()`` value); past it,
    kill it (a helper stuck for any reason costs only time). Reaped either way, and then released
    by the caller (:func:`release`: until then a kill reaches the helper or nothing); True if it
    finished its work (exit status 0), False if it failed, was killed, or was reaped by someone
    else (SIGCHLD ignored: its outcome unknown)."""
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            if time.perf_counter() >= deadline:
                break
            time.sleep(0.02)
    except ChildProcessError:
        return False
    kill_and_reap(pid)
    return False


def release(pid: int) -> None:
    """The helper ``pid`` was reaped: forget it."""
    fd = _pidfds.pop(pid, None)
    if fd is not None:
        os.close(fd)


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
    """End a helper now and collect it (nothing if it is already gone, even reaped by someone
    else and its pid given to another process: the signal goes through the helper's pid file
    descriptor where Linux has them)."""
    fd = _pidfds.pop(pid, None)
    try:
        if fd is not None:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, ChildProcessError):
        pass
    finally:
        if fd is not None:
            os.close(fd)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


class ArrayHelper:
    """An array computed by a forked helper while this process goes on with other work.

    ``with ArrayHelper(compute) as helper: ...; value = helper.result()``: where a helper is worth
    forking (:func:`spare_cpu`), ``compute()`` runs in it at once and its
    result comes back through a ``.npy`` file (no pickle); otherwise, or if the helper fails, dies
    or is not done within ``patience`` seconds of being asked, :meth:`result` computes it here. The
    helper is given the same objects as this process, so the value is the same either way (a
    seeded draw draws the same numbers). Leaving the block kills and reaps a helper still at work
    and removes its file.
    """

    def __init__(self, compute: Callable[[], np.ndarray], *, patience: float = 60.0) -> None:
        self._compute = compute
        self._patience = patience
        self._pid: int | None = None
        self._path: str | None = None

    def __enter__(self) -> ArrayHelper:
        if spare_cpu():
            fd, self._path = tempfile.mkstemp(prefix="reconcile-helper-", suffix=".npy")
            os.close(fd)
            path, compute = self._path, self._compute

            def child(parent: int) -> NoReturn:
                quiet_child(parent)
                value = np.asarray(compute())
                with open(path, "wb") as file:
                    np.save(file, value, allow_pickle=False)
                os._exit(0)

            fork(child, register=lambda pid: setattr(self, "_pid", pid))
        return self

    def result(self) -> np.ndarray:
        """The helper's array, or the same computed here."""
        pid, self._pid = self._pid, None
        if pid is not None:
            done = finished(pid, time.perf_counter() + self._patience)
            release(pid)
            if done and self._path is not None:
                with contextlib.suppress(OSError, ValueError):
                    return np.load(self._path, allow_pickle=False)
        return np.asarray(self._compute())

    def __exit__(self, *exc_info) -> None:
        pid, self._pid = self._pid, None
        if pid is not None:
            with _signals.deferred():
                kill_and_reap(pid)
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
