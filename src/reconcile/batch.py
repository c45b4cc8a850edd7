"""Many independent fits, in parallel: local processes by default, or an existing Dask cluster.

Calibration, leave-one-source-out and sensitivity analyses are lists of independent *jobs*. A job
is a top-level function of this package called as ``func(seed=..., **kwargs)`` with plain-data
arguments (claims as CSV text, configurations as JSON, numbers) that returns a JSON-able dict. It
depends on nothing in the parent process: it can run in a fresh local process or on a remote
Dask worker.

:func:`run_jobs` runs a list of jobs and persists each finished one as JSON under
``out_dir/jobs/`` (atomically), together with a fingerprint of what was asked (function,
arguments, seed). A rerun with the same jobs skips every job whose file is there with the same
fingerprint, so an interrupted run resumes without redoing finished fits; a job whose arguments
changed is run again.

Seeds: job ``i`` gets ``SeedSequence(root_seed).spawn(n)[i]`` (as a 32-bit integer). A child's
seed depends only on the root seed and its position, not on how many jobs there are: the first
50 simulations of a 100-simulation calibration are the 50 simulations of a 50-simulation one.

Compilation: PyTensor's compile directory is not safe to share between processes compiling at
the same time, so every worker process gets its own (``<tmp>/reconcile-pytensor-<uid>/worker-<pid>``,
set through ``PYTENSOR_FLAGS`` before PyTensor is imported in that process) while
``base_compiledir`` stays shared, so numba's cache (``<base_compiledir>/numba``, whose writes are
atomic) is shared and warm. On Dask, a worker plugin does the same when the client connects,
and every task checks it again before importing anything heavy. A worker process runs one job at
a time (start Dask workers with ``--nthreads 1`` and ``--nworkers K`` for K concurrent fits).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ._io import atomic_write_text, writable_directory
from .errors import BatchError

__all__ = ["Job", "BatchResult", "run_jobs", "spawn_seeds", "worker_compiledir"]

JOBS_DIR = "jobs"
_RESULT_FORMAT = 1
_ONE_AT_A_TIME = threading.Lock()  # one job at a time per worker process (Dask threads)


@dataclass(frozen=True)
class Job:
    """One independent unit of work: ``func(seed=<spawned seed>, **kwargs)`` -> JSON-able dict."""

    key: str
    func: Callable[..., dict]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    """What a batch produced: results by key (in job order), failures by key, and how many
    results were reused from an earlier run."""

    results: dict[str, dict]
    failures: dict[str, str]
    reused: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures


def spawn_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` independent seeds spawned from one root seed (numpy ``SeedSequence``)."""
    children = np.random.SeedSequence(int(root_seed)).spawn(int(n))
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


# --------------------------------------------------------------------------- worker side


def worker_compiledir(pid: int | None = None) -> Path:
    """The private PyTensor compile directory of a worker process."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    base = Path(os.environ.get("RECONCILE_WORKER_COMPILEDIR", Path(tempfile.gettempdir()) / f"reconcile-pytensor-{uid}"))
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


def _init_worker() -> None:
    """ProcessPoolExecutor initializer: runs in each fresh worker before any job."""
    use_private_compiledir()


def _sanitize(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): _sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitize(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_sanitize(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def execute(func: Callable[..., dict], kwargs: Mapping[str, Any], seed: int) -> dict:
    """Run one job in this (worker) process; errors come back as values, never as exceptions."""
    compiledir, private = use_private_compiledir()
    with _ONE_AT_A_TIME:
        started = time.perf_counter()
        try:
            out = dict(func(seed=seed, **kwargs))
            error = None
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its job
            out = {}
            last = traceback.extract_tb(exc.__traceback__)[-1:] or [None]
            where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last[0] is not None else ""
            error = f"{type(exc).__name__}: {exc}{where}"
        return {
            "result": _sanitize(out),
            "error": error,
            "worker": {
                "pid": os.getpid(),
                "host": os.uname().nodename if hasattr(os, "uname") else "",
                "compiledir": compiledir,
                "private_compiledir": private,
                "seconds": round(time.perf_counter() - started, 3),
            },
        }


def probe(*, seed: int, fail: bool = False, sleep: float = 0.0, compile: bool = True) -> dict:
    """A tiny job that checks a worker: compiles and runs a PyTensor function, and reports the
    compile directory it used (``fail=True`` raises, to check error reporting; ``compile=False``
    skips PyTensor, to check the plumbing alone)."""
    time.sleep(sleep)
    if fail:
        raise ValueError(f"probe asked to fail (seed {seed})")
    if not compile:
        return {"seed": seed, "pid": os.getpid()}
    import pytensor
    import pytensor.tensor as pt

    x = pt.dscalar("x")
    f = pytensor.function([x], 2 * x + 1, mode="FAST_COMPILE")  # python linker: no C compilation
    return {"seed": seed, "value": float(f(float(seed % 1000))), "pid": os.getpid(),
            "compiledir": str(pytensor.config.compiledir), "base_compiledir": str(pytensor.config.base_compiledir)}


# --------------------------------------------------------------------------- parent side


def _func_name(func: Callable) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def fingerprint(job: Job, seed: int) -> str:
    text = json.dumps({"func": _func_name(job.func), "kwargs": _sanitize(job.kwargs), "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def job_path(out_dir: Path, key: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("_")[:60] or "job"
    return Path(out_dir) / JOBS_DIR / f"{slug}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:8]}.json"


def _load_done(path: Path, fp: str) -> dict | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if saved.get("format") != _RESULT_FORMAT or saved.get("fingerprint") != fp or saved.get("error"):
        return None
    return saved


class _Progress:
    """A progress bar on standard error (rich), or nothing."""

    def __init__(self, enabled: bool, total: int, description: str, done: int):
        self._bar = None
        if enabled and total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]}"),
                TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=False,
            )
            self._task = self._bar.add_task(description, total=total, completed=done, failed="")
            self._bar.start()
        self._failed = 0

    def advance(self, failed: bool) -> None:
        self._failed += bool(failed)
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=f"({self._failed} failed)" if self._failed else "")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _local_runner(workers: int):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Workers are not recycled: ``max_tasks_per_child`` deadlocks on Python 3.11 once a worker
    # reaches its limit with tasks queued (CPython gh-115634, fixed only in later versions). A
    # worker that compiles a new model per fit grows (numba never frees compiled code): ~2.5 GB
    # after ~40 calibration fits.
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_init_worker)

    def submit(job: Job, seed: int):
        return executor.submit(execute, job.func, dict(job.kwargs), seed)

    def shutdown(cancel: bool) -> None:
        if cancel:  # interrupted or failed: stop the fits under way too (finished ones are saved)
            for process in list(getattr(executor, "_processes", {}).values()):
                process.terminate()
        executor.shutdown(wait=not cancel, cancel_futures=cancel)

    return submit, as_completed, shutdown


def _dask_runner(address: str):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BatchError(
            "--scheduler needs dask.distributed: pip install 'reconcile[dask]'"
        ) from None
    from ._dask import PrivateCompiledir

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {address!r} ({exc})") from None
    client.register_plugin(PrivateCompiledir(), name="reconcile-private-compiledir")

    def submit(job: Job, seed: int):
        return client.submit(execute, job.func, dict(job.kwargs), seed, pure=False, key=f"reconcile-{job.key}-{seed}-{time.time_ns()}")

    def shutdown(cancel: bool) -> None:
        client.close()

    return submit, as_completed, shutdown


def run_jobs(
    jobs: Iterable[Job],
    out_dir,
    *,
    root_seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    description: str = "fits",
) -> BatchResult:
    """Run ``jobs`` (each with a spawned seed) and persist each result under ``out_dir/jobs/``.

    ``workers``: local processes (default: the number of CPU cores, at most the number of jobs
    to run); ``scheduler``: address of an existing Dask scheduler (``tcp://host:8786``), used
    instead of local processes. Finished jobs of an earlier run with the same arguments are
    reused. Failures do not stop the batch: they are returned in ``BatchResult.failures``.
    """
    jobs = list(jobs)
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("job keys must be unique")
    out = writable_directory(out_dir)
    (out / JOBS_DIR).mkdir(exist_ok=True)
    seeds = spawn_seeds(root_seed, len(jobs))
    fps = [fingerprint(j, s) for j, s in zip(jobs, seeds)]
    results: dict[str, dict] = {}
    failures: dict[str, str] = {}
    warnings: list[str] = []
    todo = []
    for job, seed, fp in zip(jobs, seeds, fps):
        saved = _load_done(job_path(out, job.key), fp)
        if saved is not None:
            results[job.key] = saved["result"]
        else:
            todo.append((job, seed, fp))
    reused = len(results)
    bar = _Progress(progress, len(jobs), description, reused)
    if todo:
        if scheduler:
            submit, as_completed, shutdown = _dask_runner(scheduler)
        else:
            n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
            submit, as_completed, shutdown = _local_runner(n)
        cancel = True
        try:
            pending = {submit(job, seed): (job, seed, fp) for job, seed, fp in todo}
            for future in as_completed(list(pending)):
                job, seed, fp = pending[future]
                try:
                    done = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker died, a task was lost, ...
                    done = {"result": {}, "error": f"{type(exc).__name__}: {exc} (the worker running it failed)", "worker": {}}
                if done["error"]:
                    failures[job.key] = done["error"]
                else:
                    results[job.key] = done["result"]
                    if not done["worker"].get("private_compiledir", True):
                        warnings.append(
                            f"{job.key}: PyTensor was already imported in worker {done['worker'].get('pid')} "
                            f"(compile directory {done['worker'].get('compiledir')} may be shared)"
                        )
                    record = {"format": _RESULT_FORMAT, "key": job.key, "fingerprint": fp, "seed": seed, **done}
                    atomic_write_text(job_path(out, job.key), json.dumps(record, indent=1, sort_keys=True) + "\n")
                bar.advance(failed=bool(done["error"]))
            cancel = False
        finally:
            bar.close()
            shutdown(cancel)
    else:
        bar.close()
    ordered = {k: results[k] for k in keys if k in results}
    return BatchResult(results=ordered, failures=failures, reused=reused, warnings=warnings)


def job_seeds(jobs: list[Job], root_seed: int) -> dict[str, int]:
    """The seed each job of ``jobs`` gets from ``root_seed`` (as :func:`run_jobs` assigns them)."""
    return dict(zip((j.key for j in jobs), spawn_seeds(root_seed, len(jobs))))
