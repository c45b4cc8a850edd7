"""A private PyTensor compile directory per worker process (for :mod:`reconcile.batch`'s process
pool and :mod:`reconcile._dask`'s workers): concurrent compiles in one shared directory wait on
its lock or collide."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["worker_compiledir", "use_private_compiledir"]


def worker_compiledir(pid: int | None = None) -> Path:
    """The private PyTensor compile directory of a worker process."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    base = Path(
        os.environ.get("RECONCILE_WORKER_COMPILEDIR", Path(tempfile.gettempdir()) / f"reconcile-pytensor-{uid}")
    )
    return base / f"worker-{os.getpid() if pid is None else pid}"


def _with_flag(flags: str, name: str, value: str) -> str:
    kept = [f for f in flags.split(",") if f.strip() and not f.strip().startswith(f"{name}=")]
    return ",".join([*kept, f"{name}={value}"])


def use_private_compiledir() -> tuple[str, bool]:
    """Give this process its own PyTensor compile directory, if PyTensor is not imported yet.

    Returns (the compile directory in effect, whether it is private to this process). Call it
    before importing PyTensor (or anything that does: PyMC, reconcile's fitting modules).
    """
    target = worker_compiledir()
    if "pytensor" not in sys.modules:
        os.environ["PYTENSOR_FLAGS"] = _with_flag(os.environ.get("PYTENSOR_FLAGS", ""), "compiledir", str(target))
        if not getattr(use_private_compiledir, "_cleanup", False):
            import atexit

            atexit.register(shutil.rmtree, target, True)
            use_private_compiledir._cleanup = True  # type: ignore[attr-defined]
        return str(target), True
    import pytensor

    current = str(pytensor.config.compiledir)
    return current, current == str(target)
