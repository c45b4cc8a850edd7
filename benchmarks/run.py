"""Time `reconcile fit` end to end on the cases the project promises figures for.

    python benchmarks/run.py                  # the five default cases, default settings (~25 min)
    python benchmarks/run.py --case sim-2000  # one case (repeatable)
    python benchmarks/run.py --case sim-2000 --seed 1 --seed 2 --seed 3  # three simulated wars
    python benchmarks/run.py --cold           # each case with an empty PyTensor/numba cache
    python benchmarks/run.py --compare        # default sampler vs PyMC's NUTS, weekly grid vs others
    python benchmarks/run.py --scaling        # time vs claims and vs days: scaling.png + scaling.jsonl

Each case runs the installed ``reconcile fit`` command in a fresh process, exactly as a user
would (import, validation, compilation, sampling, writing every output), and reports:

* wall time of the whole command, and the sampler's own split from diagnostics.json
  (``compile_seconds``: nutpie's numba compilation; ``sampling_seconds``: tuning + draws);
* peak memory of that case alone: the peak resident set of its process (``os.wait4``, which
  reports the one child waited for, not the cumulative maximum over every earlier case), and, when
  psutil is installed, the peak of the sum over the process and its children (PyMC's NUTS
  samples in worker processes);
* ESS per second (bulk ESS of the headline quantities over wall time): the lowest ESS among
  the last cumulative casualties of each population, the killed shares and the source biases;
* divergences, the largest R-hat, the lowest bulk and tail ESS (over every free parameter and
  headline quantity, as the fit's own verdict), mean tree depth, leapfrog steps (gradient
  evaluations) per draw, milliseconds per gradient evaluation, and the size of posterior.nc.

Cases: the shipped data, and simulated wars (``reconcile simulate``, seed 1) of 80 claims
(2 populations, 260 days), 500 (3, 730), 2,000 (3, 1,000) and 10,000 (4, 1,500). Every case
has a timeout (``--timeout``, default: per case, below); a case that exceeds it is killed
and reported as such, and the run goes on.

``--cold`` points PyTensor and numba at an empty compile directory, so nothing compiled by an
earlier run helps (a user's very first fit); without it, the caches of earlier runs are reused
(every later fit on the same machine).

Results are printed as a Markdown table (ready to paste into benchmarks/RESULTS.md) and
appended as JSON lines to benchmarks/results.jsonl (``--scaling``: benchmarks/scaling.jsonl).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"

# name: (claims, populations, days, sources); sources grow with the war (a big war is reported
# on by many bodies: ~1 source per 25 claims, at least 8)
SIMULATED = {
    "sim-80": (80, 2, 260, 8),
    "sim-500": (500, 3, 730, 20),
    "sim-2000": (2000, 3, 1000, 80),
    "sim-10000": (10000, 4, 1500, 400),
}
DEFAULT_CASES = ("shipped", "sim-80", "sim-500", "sim-2000", "sim-10000")
# the targets (seconds of wall time, compilation included, default settings, 2 cores)
TARGETS = {"shipped": 30.0, "sim-2000": 300.0, "sim-10000": 1200.0}
MEMORY_TARGETS = {"sim-2000": 4096.0}  # MiB
TIMEOUTS = {"shipped": 600, "sim-80": 600, "sim-500": 900, "sim-2000": 1800, "sim-10000": 3600}

# --compare: each variant is (extra `reconcile fit` arguments, [time] settings or None)
VARIANTS = {
    "nutpie, weekly (default)": ([], None),
    "pymc NUTS, weekly": (["--sampler", "pymc"], None),
    "nutpie, daily, uncapped": ([], {"step_days": 1, "max_steps": 10000}),
    "nutpie, weekly, uncapped": ([], {"step_days": 7, "max_steps": 10000}),
    "nutpie, 14 days, max 20": ([], {"step_days": 14, "max_steps": 20}),
    "nutpie, weekly, max 80": ([], {"step_days": 7, "max_steps": 80}),
}
COMPARE_CASES = ("shipped", "sim-500", "sim-2000", "sim-10000")
# variants not run on a case, and why (reported in the table)
SKIP = {
    ("sim-10000", "pymc NUTS, weekly"): "skipped: PyMC's NUTS sampled the shipped data 7x slower than nutpie",
    ("sim-10000", "nutpie, daily, uncapped"): "skipped: 6,000 daily steps",
    ("sim-2000", "nutpie, daily, uncapped"): "skipped: 3,000 daily steps",
}

# --scaling: time vs claims (3 populations, 1,000 days) and vs days (2,000 claims, 3 populations),
# the latter with the default capped grid and with an uncapped weekly grid (cost per step)
SCALING_CLAIMS = (250, 500, 1000, 2000, 4000, 8000)
SCALING_DAYS = (260, 500, 1000, 1500)


def simulate(workdir: Path, name: str, claims: int, pops: int, days: int, sources: int, seed: int = 1) -> Path:
    tag = name if seed == 1 else f"{name}-seed{seed}"
    path = workdir / f"{tag}.csv"
    if not path.exists():
        subprocess.run(
            [
                "reconcile",
                "simulate",
                "--out",
                str(path),
                "--truth",
                str(workdir / f"{tag}-truth.csv"),
                "--seed",
                str(seed),
                "--populations",
                str(pops),
                "--days",
                str(days),
                "--claims",
                str(claims),
                "--sources",
                str(sources),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    return path


def case_args(name: str, workdir: Path, seed: int = 1) -> list[str]:
    if name == "shipped":
        return [str(ROOT / "data/claims.csv"), "--config", str(ROOT / "models/kursk.toml")]
    claims, pops, days, sources = SIMULATED[name]
    return [str(simulate(workdir, name, claims, pops, days, sources, seed))]


def with_time_settings(args: list[str], time_settings: dict | None, workdir: Path, tag: str) -> list[str]:
    """The same fit with other [time] settings: the case's own configuration plus a [time] table."""
    if not time_settings:
        return list(args)
    base = ""
    args = list(args)
    if "--config" in args:
        k = args.index("--config")
        base = Path(args[k + 1]).read_text(encoding="utf-8")
        del args[k : k + 2]
    table = "\n[time]\n" + "".join(f"{key} = {value}\n" for key, value in time_settings.items())
    path = workdir / f"config-{tag}.toml"
    path.write_text(base + table, encoding="utf-8")
    return [*args, "--config", str(path)]


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_case(name: str, args: list[str], workdir: Path, cold: bool, timeout: float, label: str = "") -> dict:
    out = workdir / f"out-{name}-{abs(hash(label)) % 10**8}"
    env = dict(os.environ)
    if cold:
        cache = Path(tempfile.mkdtemp(prefix="pytensor-cold-"))
        env["PYTENSOR_FLAGS"] = f"base_compiledir={cache}"
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    cmd = ["reconcile", "fit", *args, "--out", str(out), "--seed", "1", "--quiet"]
    row = {
        "case": name,
        "variant": label or "default",
        "cold_cache": cold,
        "target_seconds": TARGETS.get(name) if not label or label.endswith("(default)") else None,
    }
    try:
        import psutil  # noqa: F401

        poll = True
    except ImportError:
        poll = False
    started = time.perf_counter()
    stderr_path = workdir / f"stderr-{name}.txt"
    with open(stderr_path, "w") as stderr:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        tree_peak, status, usage, timed_out = 0, None, None, False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            if poll:
                tree_peak = max(tree_peak, _tree_rss(proc.pid))
            time.sleep(0.25)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    row.update(
        wall_seconds=round(wall, 1),
        peak_memory_mib=round(usage.ru_maxrss / 1024),  # Linux: KiB, this child (and its waited-for children) only
        peak_tree_memory_mib=round(tree_peak / 2**20) if poll else None,
    )
    if timed_out:
        row["status"] = f"timeout after {timeout:.0f} s"
        return row
    if proc.returncode not in (0, 3):
        tail = stderr_path.read_text(errors="replace")[-2000:]
        row["status"] = f"failed (exit {proc.returncode}): {tail.strip().splitlines()[-1] if tail.strip() else ''}"
        return row
    diag = json.loads((out / "diagnostics.json").read_text())
    row.update(
        status="ok",
        fit_seconds=diag["seconds"],
        compile_seconds=diag.get("compile_seconds"),
        sampling_seconds=diag.get("sampling_seconds"),
        divergences=diag["divergences"],
        max_rhat=round(diag["max_rhat"], 4),
        min_ess_bulk=round(diag["min_ess_bulk"]),
        min_ess_tail=round(diag["min_ess_tail"]),
        mean_tree_depth=None if diag.get("mean_tree_depth") is None else round(diag["mean_tree_depth"], 2),
        converged=diag["converged"],
        sampler=diag["sampler"],
        draws=diag.get("draws"),
        chains=diag.get("chains"),
        posterior_nc_mib=round((out / "posterior.nc").stat().st_size / 2**20, 1),
    )
    row.update(_from_posterior(out, diag))
    row["ess_per_second"] = round(row["headline_ess_bulk"] / wall, 1) if row.get("headline_ess_bulk") else None
    shutil.rmtree(out, ignore_errors=True)
    return row


def _from_posterior(out: Path, diag: dict) -> dict:
    """Headline ESS and gradient evaluations, read from posterior.nc without loading it whole."""
    import arviz as az
    import numpy as np
    import xarray as xr

    nc = out / "posterior.nc"
    with xr.open_dataset(nc, group="posterior", engine="h5netcdf") as post:
        names = [v for v in ("cumulative_casualties", "killed_share", "bias") if v in post]
        sub = post[names].load()
    # the last estimate of each population (the headline figure), not every date of the grid
    cum = sub["cumulative_casualties"].values  # (chain, draw, estimate)
    last = _last_estimate_index(out)
    headline = {"cumulative_casualties": cum[..., last] if last is not None else cum}
    headline.update({v: sub[v].values for v in names if v != "cumulative_casualties"})
    ess = []
    for values in headline.values():
        values = values.reshape(values.shape[0], values.shape[1], -1)
        for k in range(values.shape[-1]):
            if np.ptp(values[..., k]) > 0:  # a pinned bias is constant
                ess.append(float(az.ess(values[..., k], method="bulk")))
    row = {"headline_ess_bulk": round(min(ess)) if ess else None}
    with xr.open_dataset(nc, group="sample_stats", engine="h5netcdf") as stats:
        name = "n_steps" if "n_steps" in stats else ("tree_size" if "tree_size" in stats else None)
        if name:
            per_draw = float(stats[name].mean())
            row["gradients_per_draw"] = round(per_draw, 1)
            # tuning draws are not saved: assume they cost as much per draw as the kept ones
            total = per_draw * diag.get("chains", 0) * (diag.get("draws", 0) + _tune(out))
            sampling = diag.get("sampling_seconds")
            if sampling and total:
                # seconds of sampling wall time per gradient, times the cores working in parallel
                cores = min(diag.get("chains", 1), os.cpu_count() or 1)
                row["ms_per_gradient"] = round(1000 * sampling * cores / total, 3)
    return row


def _tune(out: Path) -> int:
    import xarray as xr

    with xr.open_dataset(out / "posterior.nc", group="posterior", engine="h5netcdf") as post:
        config = json.loads(post.attrs.get("config", "{}"))
    return int(config.get("sampler", {}).get("tune", 0))


def _last_estimate_index(out: Path):
    import pandas as pd

    est = pd.read_csv(out / "estimates.csv")
    cas = est[est["category"] == "casualties"].reset_index(drop=True)
    # estimates.csv lists casualties per population in date order, as the model's estimate axis
    return cas.groupby("population", sort=False).tail(1).index.to_numpy()


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def load_average() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return ""


def _fmt(value, spec: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and spec:
        return format(value, spec)
    return str(value)


def table(results: list[dict], compare: bool = False) -> str:
    head = (
        ["case"]
        + (["variant"] if compare else [])
        + [
            "cache",
            "wall s",
            "compile s",
            "sampling s",
            "target s",
            "peak MiB",
            "tree peak MiB",
            "headline ESS",
            "ESS/s",
            "divergences",
            "max R-hat",
            "min ESS bulk/tail",
            "tree depth",
            "grad/draw",
            "ms/grad",
            "posterior.nc MiB",
            "converged",
        ]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in results:
        cells = [r["case"]] + ([r["variant"]] if compare else []) + ["cold" if r["cold_cache"] else "warm"]
        if r.get("status") != "ok":
            cells += [
                _fmt(r.get("wall_seconds")),
                "",
                "",
                _fmt(r.get("target_seconds")),
                _fmt(r.get("peak_memory_mib")),
                _fmt(r.get("peak_tree_memory_mib")),
                r.get("status", ""),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "-" if str(r.get("status", "")).startswith("skipped") else "no",
            ]
        else:
            cells += [
                _fmt(r["wall_seconds"]),
                _fmt(r.get("compile_seconds")),
                _fmt(r.get("sampling_seconds")),
                _fmt(r.get("target_seconds")),
                _fmt(r["peak_memory_mib"]),
                _fmt(r.get("peak_tree_memory_mib")),
                _fmt(r.get("headline_ess_bulk")),
                _fmt(r.get("ess_per_second")),
                _fmt(r["divergences"]),
                _fmt(r["max_rhat"]),
                f"{r['min_ess_bulk']}/{r['min_ess_tail']}",
                _fmt(r.get("mean_tree_depth")),
                _fmt(r.get("gradients_per_draw")),
                _fmt(r.get("ms_per_gradient")),
                _fmt(r.get("posterior_nc_mib")),
                "yes" if r["converged"] else "**no**",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def record(results: list[dict], path: Path, stamp: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps({"when": stamp, "machine": machine(), **r}) + "\n")


def scaling(workdir: Path, cold: bool, timeout: float, claims_list, days_list, uncapped_days_list) -> list[dict]:
    rows = []
    points = [("claims", n, 3, 1000, max(8, n // 25), None) for n in claims_list]
    points += [("days", 2000, 3, d, 80, None) for d in days_list]
    # the default grid is capped at 40 steps per population: with the cap lifted, cost vs steps
    uncapped = {"step_days": 7, "max_steps": 10000}
    points += [("days, weekly uncapped", 2000, 3, d, 80, uncapped) for d in uncapped_days_list]
    # a case in two sweeps (2,000 claims over 1,000 days is in both "claims" and "days") runs once
    done: dict[tuple, dict] = {}
    for sweep, n, pops, days, sources, time_settings in points:
        key = (n, pops, days, sources, json.dumps(time_settings, sort_keys=True))
        if key in done:
            done[key]["sweeps"].append(sweep)
            continue
        name = f"scale-{n}c-{pops}p-{days}d" + ("-uncapped" if time_settings else "")
        path = simulate(workdir, name, n, pops, days, sources)
        args = with_time_settings([str(path)], time_settings, workdir, name)
        row = run_case(name, args, workdir, cold, timeout, label=sweep)
        row.update(sweep=sweep, sweeps=[sweep], claims=n, populations=pops, days=days, sources=sources)
        done[key] = row
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def _sweeps(r: dict) -> list[str]:
    """The sweeps a scaling row belongs to (rows written before 2026-11-21 name only one)."""
    return r.get("sweeps", [r.get("sweep")])


def _verdict(r: dict) -> str:
    if r.get("status") != "ok":
        return f"no ({r.get('status', '')})"
    if r.get("converged"):
        return "yes"
    return f"no ({r.get('divergences')} div., R-hat {_fmt(r.get('max_rhat'))}, ESS {r.get('min_ess_bulk')}/{r.get('min_ess_tail')})"


def plot_scaling(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, (sweeps, x, label) in zip(
        axes,
        [
            (("claims",), "claims", "claims (3 populations, 1,000 days)"),
            (("days", "days, weekly uncapped"), "days", "days of war (2,000 claims, 3 populations)"),
        ],
    ):
        for sweep in sweeps:
            pts = sorted(
                ((r[x], r) for r in rows if sweep in _sweeps(r) and r.get("status") == "ok"), key=lambda p: p[0]
            )
            if not pts:
                continue
            xs = [p[0] for p in pts]
            for key, style, what in (
                ("wall_seconds", "o-", "wall"),
                ("sampling_seconds", "s--", "sampling"),
                ("compile_seconds", "^:", "compile"),
            ):
                ys = [p[1].get(key) for p in pts]
                if all(y is not None for y in ys):
                    ax.plot(xs, ys, style, label=f"{what} ({sweep})" if len(sweeps) > 1 else what)
        used = [r for r in rows if set(_sweeps(r)) & set(sweeps) and r.get("status") == "ok"]
        xs_all = [r[x] for r in used]
        ws = [r["wall_seconds"] for r in used]
        if xs_all:
            # a line through the smallest case's wall time, proportional to x: linear cost
            k = min(range(len(xs_all)), key=lambda i: xs_all[i])
            lo, hi = min(xs_all), max(xs_all)
            ax.plot([lo, hi], [ws[k], ws[k] * hi / lo], color="grey", lw=0.8, label="linear from the smallest")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted(set(xs_all))
        ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel(label)
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"reconcile fit, default settings: {machine()}", fontsize=9)
    fig.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--case", action="append", choices=["shipped", *SIMULATED], help="run only this case (repeatable)"
    )
    parser.add_argument("--cold", action="store_true", help="empty compile cache for every case")
    parser.add_argument(
        "--seed",
        type=int,
        action="append",
        metavar="S",
        help="simulate the wars with this seed (repeatable; default 1); the fit's seed stays 1",
    )
    parser.add_argument("--compare", action="store_true", help="run every sampler/grid variant on the cases")
    parser.add_argument(
        "--variant", action="append", choices=list(VARIANTS), help="with --compare: only this variant (repeatable)"
    )
    parser.add_argument(
        "--scaling", action="store_true", help="time vs claims and vs days; writes benchmarks/scaling.png"
    )
    parser.add_argument("--scaling-claims", type=int, nargs="+", default=list(SCALING_CLAIMS), metavar="N")
    parser.add_argument("--scaling-days", type=int, nargs="+", default=list(SCALING_DAYS), metavar="D")
    parser.add_argument(
        "--scaling-uncapped-days",
        type=int,
        nargs="*",
        default=list(SCALING_DAYS),
        metavar="D",
        help="days of the uncapped weekly-grid sweep (none: skip it)",
    )
    parser.add_argument(
        "--replot",
        action="store_true",
        help="with --scaling: redraw scaling.png from the last run in scaling.jsonl, fitting nothing",
    )
    parser.add_argument("--timeout", type=float, help="seconds per case (default: per case, 10-60 minutes)")
    parser.add_argument("--workdir", type=Path, help="keep simulated claims here (default: a temporary directory)")
    args = parser.parse_args()
    if args.scaling and args.replot:
        lines = [json.loads(line) for line in (HERE / "scaling.jsonl").read_text(encoding="utf-8").splitlines() if line]
        last = lines[-1]["when"]
        plot_scaling([r for r in lines if r["when"] == last], HERE / "scaling.png")
        print(f"Plot: {HERE / 'scaling.png'} (run of {last})")
        return 0
    if shutil.which("reconcile") is None:
        raise SystemExit("the `reconcile` command is not installed: pip install . first")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    print(f"Machine: {machine()}; {load_average()} at start ({stamp})", file=sys.stderr, flush=True)

    if args.scaling:
        rows = scaling(
            workdir, args.cold, args.timeout or 3600, args.scaling_claims, args.scaling_days, args.scaling_uncapped_days
        )
        record(rows, HERE / "scaling.jsonl", stamp)
        plot_scaling(rows, HERE / "scaling.png")
        print(f"\nMachine: {machine()}  ({stamp}; {load_average()} at the end)\n")
        print(
            "| sweep | claims | populations | days | wall s | compile s | sampling s | peak MiB | tree depth | converged |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(
                f"| {' + '.join(_sweeps(r))} | {r['claims']} | {r['populations']} | {r['days']} | {r['wall_seconds']} | "
                f"{_fmt(r.get('compile_seconds'))} | {_fmt(r.get('sampling_seconds'))} | {r['peak_memory_mib']} | "
                f"{_fmt(r.get('mean_tree_depth'))} | {_verdict(r)} |"
            )
        print(f"\nPlot: {HERE / 'scaling.png'}; data: {HERE / 'scaling.jsonl'}")
        return 0

    names = args.case or (COMPARE_CASES if args.compare else DEFAULT_CASES)
    variants = (
        {k: v for k, v in VARIANTS.items() if not args.variant or k in args.variant}
        if args.compare
        else {"": ([], None)}
    )
    results = []
    seeds = args.seed or [1]
    for name, seed in [(n, s) for n in names for s in (seeds if n != "shipped" else [1])]:
        base = case_args(name, workdir, seed)
        for label, (extra, time_settings) in variants.items():
            if (name, label) in SKIP:
                results.append({"case": name, "variant": label, "cold_cache": args.cold, "status": SKIP[name, label]})
                continue
            fit_args = with_time_settings(base, time_settings, workdir, f"{name}-{len(results)}") + extra
            row = run_case(name, fit_args, workdir, args.cold, args.timeout or TIMEOUTS[name], label=label)
            if seed != 1:
                row["case"], row["simulation_seed"] = f"{name} (seed {seed})", seed
            if name in MEMORY_TARGETS:
                row["target_memory_mib"] = MEMORY_TARGETS[name]
            results.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    record([r for r in results if "wall_seconds" in r], HERE / "results.jsonl", stamp)
    print(f"\nMachine: {machine()}  ({stamp}; {load_average()} at the end)\n")
    print(table(results, compare=args.compare))
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
