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
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ._compiledir import use_private_compiledir, worker_compiledir
from ._io import atomic_write_text, writable_directory
from .errors import BatchError, BatchWarning

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
    return _run_job(func, kwargs, seed, compiledir, private)


def _run_job(func: Callable[..., dict], kwargs: Mapping[str, Any], seed: int, compiledir: str, private: bool) -> dict:
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
    return {
        "seed": seed,
        "value": float(f(float(seed % 1000))),
        "pid": os.getpid(),
        "compiledir": str(pytensor.config.compiledir),
        "base_compiledir": str(pytensor.config.base_compiledir),
    }


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
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
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


def _inline_runner():
    """``workers=1``: each job runs here, in this process, one after the other (no processes to
    start, and the fits use this process's compile cache)."""
    from concurrent.futures import Future

    def submit(job: Job, seed: int):
        future: Future = Future()
        future.set_result(_run_job(job.func, dict(job.kwargs), seed, "", True))
        return future

    def in_order(futures):
        return iter(futures)

    def shutdown(cancel: bool) -> None:
        pass

    return submit, in_order, shutdown


#: Why spawned workers fail from a script, and the cure (said in one sentence).
SPAWN_RERUNS_SCRIPT = (
    "reconcile starts its worker processes with 'spawn', which re-runs your script in each of them, "
    'so a script must call reconcile\'s parallel helpers under `if __name__ == "__main__":` '
    "(or pass workers=1 to run the fits in this process)"
)


def _dask_runner(address: str):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BatchError("--scheduler needs dask.distributed: pip install 'reconcile[dask]'") from None
    from ._dask import PrivateCompiledir

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {address!r} ({exc})") from None
    client.register_plugin(PrivateCompiledir(), name="reconcile-private-compiledir")

    def submit(job: Job, seed: int):
        return client.submit(
            execute, job.func, dict(job.kwargs), seed, pure=False, key=f"reconcile-{job.key}-{seed}-{time.time_ns()}"
        )

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
        elif workers == 1:
            submit, as_completed, shutdown = _inline_runner()
        else:
            line = _unguarded_script_line()
            if line is not None:
                raise BatchError(
                    f"line {line} of {sys.modules['__main__'].__file__} would start worker processes "
                    f"unguarded: {SPAWN_RERUNS_SCRIPT}; nothing was started"
                )
            n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
            submit, as_completed, shutdown = _local_runner(n)
        cancel = True
        try:
            if workers == 1 and not scheduler:
                # each job runs as it is submitted and is saved before the next starts
                done_futures = ((submit(job, seed), (job, seed, fp)) for job, seed, fp in todo)
            else:
                pending = {submit(job, seed): (job, seed, fp) for job, seed, fp in todo}
                done_futures = ((future, pending[future]) for future in as_completed(list(pending)))
            for n_done, (future, (job, seed, fp)) in enumerate(done_futures):
                done = _outcome(future, first=n_done == 0)
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
    if failures:
        first = next(iter(failures))
        if not ordered:
            shown = [f"  {key}: {message}" for key, message in list(failures.items())[:10]]
            more = [f"  ... and {len(failures) - 10} more"] if len(failures) > 10 else []
            raise BatchError(
                "\n".join([f"every one of the {len(failures)} {description} failed; nothing was kept:", *shown, *more])
            )
        import warnings as _warnings

        _warnings.warn(
            f"{len(failures)} of the {len(jobs)} {description} failed (the first, {first}: "
            f"{failures[first]}); the others are kept in {out}: rerun the same call to retry only "
            "the failed ones",
            BatchWarning,
            stacklevel=2,
        )
    return BatchResult(results=ordered, failures=failures, reused=reused, warnings=warnings)


def _outcome(future, first: bool) -> dict:
    """A finished job's record. A pool broken before its first job came back, started from a
    script, is one whose processes could not start: that stops the batch with the cure."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        if first and _started_from_a_script():
            raise BatchError(f"the worker processes could not start: {SPAWN_RERUNS_SCRIPT}") from None
        return {
            "result": {},
            "error": "BrokenProcessPool: the worker running it died (out of memory? killed?)",
            "worker": {},
        }
    except Exception as exc:  # noqa: BLE001 - a worker died, a task was lost, ...
        return {"result": {}, "error": f"{type(exc).__name__}: {exc} (the worker running it failed)", "worker": {}}


def _unguarded_script_line() -> int | None:
    """The line of the main script that led here, when that line is not under
    ``if __name__ == "__main__":`` (a spawned worker would re-run it); None otherwise (guarded,
    an interactive session, a notebook, ``python -m``, or the script cannot be read)."""
    if not _started_from_a_script():
        return None
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__"
    ):
        frame = frame.f_back
    if frame is None:
        return None
    import ast

    try:
        tree = ast.parse(Path(frame.f_code.co_filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    line = frame.f_lineno
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            if node.body[0].lineno <= line <= (node.body[-1].end_lineno or line):
                return None
    return line


def _is_main_guard(test: Any) -> bool:
    import ast

    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [n for n in sides if isinstance(n, ast.Name) and n.id == "__name__"]
    mains = [n for n in sides if isinstance(n, ast.Constant) and n.value == "__main__"]
    return bool(names) and bool(mains)


def _started_from_a_script() -> bool:
    """Whether the main module is a script file that each spawned worker re-runs (not an
    interactive session, a notebook or ``python -m``)."""
    main = sys.modules.get("__main__")
    return getattr(main, "__file__", None) is not None and getattr(main, "__spec__", None) is None


def job_seeds(jobs: list[Job], root_seed: int) -> dict[str, int]:
    """The seed each job of ``jobs`` gets from ``root_seed`` (as :func:`run_jobs` assigns them)."""
    return dict(zip((j.key for j in jobs), spawn_seeds(root_seed, len(jobs))))
