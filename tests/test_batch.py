"""The batch runner behind calibrate, loso and sensitivity: seeds, resume, errors, private
compile directories, local processes and a Dask LocalCluster (tiny jobs: ``reconcile.batch.probe``
compiles and runs a real PyTensor function in the worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from reconcile.batch import Job, job_path, probe, run_jobs, spawn_seeds, worker_compiledir
from reconcile.errors import BatchError, BatchWarning


def _jobs(n=3, extra=None, compile=False):
    """Probe jobs; ``compile=True``: each imports PyTensor and compiles a function in its worker."""
    extra = extra or {}
    return [Job(f"job {i}", probe, {"sleep": 0.2, "compile": compile, **extra.get(i, {})}) for i in range(n)]


def test_seeds_are_spawned_deterministically_from_the_root():
    assert spawn_seeds(7, 5) == spawn_seeds(7, 5)
    assert spawn_seeds(7, 3) == spawn_seeds(7, 5)[:3]  # a child's seed does not depend on the count
    assert spawn_seeds(8, 3) != spawn_seeds(7, 3)
    assert len(set(spawn_seeds(7, 50))) == 50


def test_local_run_persists_results_and_a_rerun_skips_finished_jobs(tmp_path):
    jobs = _jobs(3)
    first = run_jobs(jobs, tmp_path, root_seed=3, workers=2, progress=False)
    assert first.complete and first.reused == 0
    assert list(first.results) == [j.key for j in jobs]  # job order, whatever the finishing order
    assert [r["seed"] for r in first.results.values()] == spawn_seeds(3, 3)
    files = {j.key: job_path(tmp_path, j.key) for j in jobs}
    saved = {k: json.loads(p.read_text()) for k, p in files.items()}
    assert all(s["result"]["seed"] == first.results[k]["seed"] for k, s in saved.items())
    stamps = {k: p.stat().st_mtime_ns for k, p in files.items()}

    again = run_jobs(jobs, tmp_path, root_seed=3, workers=2, progress=False)
    assert again.reused == 3 and again.results == first.results
    assert {k: p.stat().st_mtime_ns for k, p in files.items()} == stamps  # nothing was redone

    changed = _jobs(3, {1: {"sleep": 0.6}})  # one job's arguments changed: only it runs again
    third = run_jobs(changed, tmp_path, root_seed=3, workers=2, progress=False)
    assert third.reused == 2
    assert files["job 1"].stat().st_mtime_ns != stamps["job 1"]
    assert files["job 0"].stat().st_mtime_ns == stamps["job 0"]


def test_each_worker_process_compiles_in_its_own_directory(tmp_path):
    result = run_jobs(
        _jobs(4, {i: {"sleep": 1.0} for i in range(4)}, compile=True), tmp_path, workers=2, progress=False
    )
    pids = {r["pid"] for r in result.results.values()}
    assert len(pids) == 2
    for r in result.results.values():
        # PyTensor in the worker really uses the private directory (set before it was imported) ...
        assert r["compiledir"] == str(worker_compiledir(r["pid"]))
    assert len({r["compiledir"] for r in result.results.values()}) == 2
    # ... while base_compiledir (and with it numba's cache) stays shared
    assert len({r["base_compiledir"] for r in result.results.values()}) == 1


def test_an_error_in_one_job_is_reported_and_retried_on_rerun(tmp_path):
    jobs = _jobs(3, {1: {"fail": True}})
    with pytest.warns(BatchWarning):
        result = run_jobs(jobs, tmp_path, workers=2, progress=False)
    assert set(result.failures) == {"job 1"}
    assert "ValueError: probe asked to fail" in result.failures["job 1"]
    assert set(result.results) == {"job 0", "job 2"}
    assert not job_path(tmp_path, "job 1").exists()  # a failure is not a finished job
    fixed = _jobs(3)
    rerun = run_jobs(fixed, tmp_path, workers=2, progress=False)
    assert rerun.complete and rerun.reused == 2


def test_duplicate_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_jobs([Job("a", probe), Job("a", probe)], tmp_path, progress=False)


def test_dask_local_cluster_runs_the_same_jobs(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        jobs = _jobs(4, {3: {"fail": True}}, compile=True)
        with pytest.warns(BatchWarning):
            result = run_jobs(jobs, tmp_path, root_seed=5, scheduler=cluster.scheduler_address, progress=False)
    assert set(result.results) == {"job 0", "job 1", "job 2"}
    assert "probe asked to fail" in result.failures["job 3"]
    assert [r["seed"] for r in result.results.values()] == spawn_seeds(5, 4)[:3]  # same seeds as locally
    for r in result.results.values():
        assert r["compiledir"] == str(worker_compiledir(r["pid"]))  # the worker plugin's private directory
    assert not result.warnings
    # results persisted as with local processes: a local rerun reuses them
    again = run_jobs(_jobs(3, compile=True), tmp_path, root_seed=5, workers=1, progress=False)
    assert again.reused == 3


def test_a_batch_in_which_every_job_failed_raises(tmp_path):
    jobs = _jobs(2, {0: {"fail": True}, 1: {"fail": True}}, compile=False)
    with pytest.raises(
        BatchError, match=r"every one of the 2 fits failed(.|\n)*job 0: ValueError: probe asked to fail"
    ):
        run_jobs(jobs, tmp_path, workers=1, progress=False, description="fits")
    assert not list((tmp_path / "jobs").glob("*.json"))


def test_a_batch_in_which_some_jobs_failed_warns(tmp_path):
    jobs = _jobs(2, {1: {"fail": True}}, compile=False)
    with pytest.warns(BatchWarning, match="1 of the 2 fits failed"):
        result = run_jobs(jobs, tmp_path, workers=1, progress=False, description="fits")
    assert set(result.results) == {"job 0"}


def test_one_worker_runs_the_jobs_in_this_process(tmp_path):
    result = run_jobs(_jobs(3, compile=False), tmp_path, workers=1, progress=False)
    assert {r["pid"] for r in result.results.values()} == {os.getpid()}
    assert result.complete and not result.warnings
    again = run_jobs(_jobs(3, compile=False), tmp_path, workers=1, progress=False)
    assert again.reused == 3


UNGUARDED = """
from reconcile.batch import Job, probe, run_jobs
print("script ran", flush=True)
run_jobs([Job(f"job {i}", probe, {"compile": False}) for i in range(2)], OUT, workers=2, progress=False)
"""

GUARDED = """
from reconcile.batch import Job, probe, run_jobs

def main():
    result = run_jobs([Job(f"job {i}", probe, {"compile": False}) for i in range(2)], OUT, workers=2, progress=False)
    print(sorted(result.results), flush=True)

if __name__ == "__main__":
    main()
"""


def test_a_script_without_the_main_guard_is_told_the_cure_before_any_process_starts(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED.replace("OUT", repr(str(tmp_path / "out"))))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'if __name__ == "__main__":' in proc.stderr and "line 4 of" in proc.stderr
    assert "nothing was started" in proc.stderr
    assert proc.stdout.count("script ran") == 1  # no worker re-ran the script
    assert "bootstrapping" not in proc.stderr


def test_a_guarded_script_runs_its_workers(tmp_path):
    script = tmp_path / "guarded.py"
    script.write_text(GUARDED.replace("OUT", repr(str(tmp_path / "out"))))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "['job 0', 'job 1']" in proc.stdout
