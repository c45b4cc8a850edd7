"""Time `reconcile fit` end to end on the cases the project promises figures for.

    python benchmarks/run.py                 # all cases, warm compile cache
    python benchmarks/run.py --cold          # each case with an empty PyTensor/numba cache
    python benchmarks/run.py --case shipped  # one case

Each case runs the installed ``reconcile fit`` command in a fresh process, exactly as a user
would (import, validation, compilation, sampling, writing every output), and reports its wall
time, the sampler's own split (compile+sampling, from diagnostics.json), the peak memory of the
process, ESS per second of the headline quantities, divergences, R-hat and the verdict.
``--cold`` points PyTensor at an empty compile directory, so nothing compiled by an earlier
run helps (a user's very first fit); without it, the per-operation numba cache of earlier runs
is reused (every later fit on the same machine).

Results are printed as a Markdown table and appended as JSON lines to benchmarks/results.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"shipped": 30.0, "sim-80": 60.0}


def cases(workdir: Path) -> dict[str, list[str]]:
    sim = workdir / "sim-80.csv"
    subprocess.run(
        ["reconcile", "simulate", "--out", str(sim), "--truth", str(workdir / "sim-80-truth.csv"),
         "--seed", "1", "--populations", "2", "--days", "260", "--claims", "80"],
        check=True,
    )
    return {
        "shipped": [str(ROOT / "data/claims.csv"), "--config", str(ROOT / "models/kursk.toml")],
        "sim-80": [str(sim)],
    }


def run_case(name: str, args: list[str], workdir: Path, cold: bool) -> dict:
    out = workdir / f"out-{name}"
    env = dict(os.environ)
    if cold:
        cache = Path(tempfile.mkdtemp(prefix="pytensor-cold-"))
        env["PYTENSOR_FLAGS"] = f"base_compiledir={cache}"
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    cmd = ["reconcile", "fit", *args, "--out", str(out), "--seed", "1", "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"{name}: reconcile fit failed ({proc.returncode}):\n{proc.stderr}")
    diag = json.loads((out / "diagnostics.json").read_text())
    ess = _headline_ess(out)
    return {
        "case": name,
        "cold_cache": cold,
        "wall_seconds": round(wall, 1),
        "fit_seconds": diag["seconds"],
        "peak_memory_mib": round(max(peak_kib, before) / 1024),
        "min_ess_bulk_headline": round(ess, 0),
        "ess_per_second": round(ess / wall, 1),
        "divergences": diag["divergences"],
        "max_rhat": round(diag["max_rhat"], 4),
        "min_ess_tail": round(diag["min_ess_tail"], 0),
        "mean_tree_depth": diag.get("mean_tree_depth"),
        "converged": diag["converged"],
        "target_seconds": TARGETS.get(name),
    }


def _headline_ess(out: Path) -> float:
    """Lowest bulk ESS among the headline quantities (cumulative casualties, biases)."""
    import arviz as az

    idata = az.from_netcdf(out / "posterior.nc")
    ess = az.ess(idata, var_names=["cumulative_casualties", "bias"], method="bulk")
    values = [float(ess[v].min()) for v in ess.data_vars]
    return min(values)


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    parser.add_argument("--cold", action="store_true", help="empty compile cache for every case")
    args = parser.parse_args()
    if shutil.which("reconcile") is None:
        raise SystemExit("the `reconcile` command is not installed: pip install . first")
    workdir = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    results = []
    for name, case_args in cases(workdir).items():
        if args.case and name not in args.case:
            continue
        results.append(run_case(name, case_args, workdir, args.cold))
        print(json.dumps(results[-1]), file=sys.stderr)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with open(ROOT / "benchmarks/results.jsonl", "a", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps({"when": stamp, "machine": machine(), **r}) + "\n")
    print(f"\nMachine: {machine()}  ({stamp})\n")
    print("| case | cache | wall s | fit s | target s | peak MiB | min ESS (headline) | ESS/s | divergences | max R-hat | tree depth | converged |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['case']} | {'cold' if r['cold_cache'] else 'warm'} | {r['wall_seconds']} | {r['fit_seconds']} | "
            f"{r['target_seconds']} | {r['peak_memory_mib']} | {r['min_ess_bulk_headline']:.0f} | {r['ess_per_second']} | "
            f"{r['divergences']} | {r['max_rhat']} | {r['mean_tree_depth']:.2f} | {r['converged']} |"
        )
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
