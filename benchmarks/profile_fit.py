"""Where the time and memory of one fit go, stage by stage (not a benchmark: a profile).

    python benchmarks/profile_fit.py CLAIMS.csv [--config FILE] [--out DIR]

Wraps the stages of ``reconcile.fit`` and ``Fit.save`` with timers and reports, for each stage,
its seconds and the process's peak resident memory when it ended (``ru_maxrss``), plus the
sampler's own numbers (gradient evaluations per draw, mean tree depth) and the size of every
large array of the posterior.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROWS: list[tuple[str, float, float]] = []


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(module, name: str, label: str | None = None) -> None:
    original = getattr(module, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            ROWS.append((label or name, time.perf_counter() - started, _peak_mib()))

    setattr(module, name, wrapper)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("claims")
    parser.add_argument("--config")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    import reconcile
    from reconcile import fitting, report, summary

    ROWS.append(("import reconcile", time.perf_counter() - started, _peak_mib()))
    for mod, name in [
        (fitting, "prepare"),
        (fitting, "build_model"),
        (fitting, "_sample_nutpie"),
        (fitting, "_sample_pymc"),
        (fitting, "_log_likelihood"),
        (fitting, "diagnose"),
        (fitting, "_posterior_predictive"),
        (summary, "estimates"),
        (summary, "sources"),
        (summary, "claims_check"),
        (report, "write_report"),
    ]:
        timed(mod, name)
    import arviz as az

    original_to_netcdf = az.InferenceData.to_netcdf

    def to_netcdf(self, *a, **k):
        t = time.perf_counter()
        try:
            return original_to_netcdf(self, *a, **k)
        finally:
            ROWS.append(("posterior.nc", time.perf_counter() - t, _peak_mib()))

    az.InferenceData.to_netcdf = to_netcdf
    claims = reconcile.read_claims(args.claims)
    config = reconcile.load_config(args.config) if args.config else reconcile.load_config()
    t = time.perf_counter()
    result = reconcile.fit(claims, config, seed=args.seed, progress=False)
    ROWS.append(("fit() total", time.perf_counter() - t, _peak_mib()))
    out = args.out or Path(tempfile.mkdtemp(prefix="reconcile-profile-"))
    t = time.perf_counter()
    result.save(out)
    ROWS.append(("save() total", time.perf_counter() - t, _peak_mib()))
    d = result.diagnostics
    stats = result.idata.sample_stats
    print(
        f"claims {len(result.inputs.loss.claim_id)}, steps {int(result.inputs.grid.n_steps.sum())}, "
        f"sources {len(result.inputs.sources)}, draws {d.draws} x {d.chains} chains"
    )
    print("| stage | seconds | peak MiB after |\n| --- | --- | --- |")
    for name, seconds, peak in ROWS:
        print(f"| {name} | {seconds:.2f} | {peak:.0f} |")
    print(
        f"\ncompile {d.compile_seconds} s, sampling {d.sampling_seconds} s, mean tree depth {d.mean_tree_depth}, "
        f"gradient evaluations per draw {float(stats['n_steps'].mean()) if 'n_steps' in stats else None}, "
        f"divergences {d.divergences}, max R-hat {d.max_rhat:.4f}, min ESS {d.min_ess_bulk:.0f}/{d.min_ess_tail:.0f}"
    )
    sizes = {
        f"{g}/{v}": result.idata[g][v].nbytes / 2**20 for g in result.idata.groups() for v in result.idata[g].data_vars
    }
    print(
        "largest arrays (MiB):",
        json.dumps({k: round(v, 1) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:6]}),
    )
    print("posterior.nc MiB:", round((out / "posterior.nc").stat().st_size / 2**20, 1), "in", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
