"""Fit the independent test worlds (``reconcile.worlds``) and check the fits against their truth.

Each (world, fit seed) runs ``reconcile fit CLAIMS --out DIR --seed S --quiet`` in a fresh
process with the default configuration, then compares the saved fit with the world's truth
(``reconcile.evaluation``): coverage of the 50% and 90% intervals of cumulative killed, wounded
and casualties at 25/50/75/100% of each population's span, and each source's bias against the
side of 1 the world gave it. One JSON row per fit is appended to ``benchmarks/worlds.jsonl``.

    python benchmarks/worlds.py                                  # every world up to 2,000 claims, fit seeds 1-3
    python benchmarks/worlds.py --world ministry-500 --seeds 1   # one world, one seed
    python benchmarks/worlds.py --world huge-10000 --seeds 1
    python benchmarks/worlds.py --report                         # the table of what is recorded

The world itself is drawn with ``--world-seed`` (default 0); the fit seeds vary the sampler only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "worlds.jsonl"
UP_TO_2000 = ("sparse-20", "kursk-like-60", "meta-124", "ministry-500", "two-tallies-495", "long-2000")


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=HERE.parent, capture_output=True, text=True
        ).stdout
        return out.stdout.strip() + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_one(world_name: str, world_seed: int, fit_seed: int, workdir: Path, extra: list[str]) -> dict:
    from reconcile.evaluation import bias_check, checkpoint_coverage, summarise
    from reconcile.fitting import load_fit
    from reconcile.worlds import make_world, write_world

    world = make_world(world_name, seed=world_seed)
    claims = workdir / f"{world_name}-{world_seed}.csv"
    write_world(world, claims, workdir / f"{world_name}-{world_seed}-truth.csv")
    out = workdir / f"{world_name}-{world_seed}-fit{fit_seed}"
    started = time.perf_counter()
    proc = subprocess.run(
        ["reconcile", "fit", str(claims), "--out", str(out), "--seed", str(fit_seed), "--quiet", *extra],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    row = {
        "world": world_name,
        "world_seed": world_seed,
        "fit_seed": fit_seed,
        "n_claims": int(len(world.claims)),
        "extra_args": extra,
        "wall_seconds": round(wall, 1),
        "exit_code": proc.returncode,
        "commit": _git_commit(),
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    if proc.returncode != 0:
        row["error"] = proc.stderr[-2000:]
        return row
    diag = json.loads((out / "diagnostics.json").read_text())
    row.update(
        {
            k: diag.get(k)
            for k in (
                "max_rhat",
                "min_ess_bulk",
                "min_ess_tail",
                "divergences",
                "converged",
                "compile_seconds",
                "sampling_seconds",
                "mean_tree_depth",
            )
        }
    )
    result = load_fit(out)
    checks = checkpoint_coverage(result, world.truth)
    biases = bias_check(result, world.sources)
    row.update(summarise(checks))
    row["checkpoints"] = checks.to_dict("records")
    directional = biases[(biases["stance"].isin(["adversary", "own"]))]
    row["bias_same_side"] = float(directional["same_side"].mean()) if len(directional) else None
    row["bias_stance_side"] = stance_side(biases.to_dict("records"))
    row["bias_in90"] = float(biases["in90"].mean()) if len(biases) else None
    row["biases"] = biases.to_dict("records")
    row["grid_steps"] = [int(n) for n in result.inputs.grid.n_steps]
    row["drift_series"] = int(len(result.inputs.drift.series))
    return row


def _percent(share: float | None) -> str:
    return "" if share is None or share != share else f"{share:.0%}"


def stance_side(biases: list[dict]) -> float | None:
    """Share of the sources the world pushed the way their stance says (an adversary's true bias
    above 1, an own side's below 1) whose posterior median is on that side; from a row's stored
    biases, so rows recorded before ``bias_stance_side`` existed get it too."""
    import pandas as pd

    from reconcile.evaluation import stance_sides

    if not biases:
        return None
    pushed, on_side = stance_sides(pd.DataFrame(biases))
    return float(on_side[pushed].mean()) if pushed.any() else None


def war_bootstrap(wars, draws: int = 4000, seed: int = 0) -> tuple[float, float, float, float]:
    """5% and 95% quantiles of the pooled 90% and of the pooled 50% coverage when the wars are
    resampled with replacement (``wars``: per war, the ``sum`` and ``count`` of ``in90`` and
    ``in50`` over its checkpoints and fits). Seeded: the same rows give the same interval."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(wars), size=(draws, len(wars)))
    out = []
    for name in ("in90", "in50"):
        inside, total = wars[(name, "sum")].to_numpy()[pick].sum(1), wars[(name, "count")].to_numpy()[pick].sum(1)
        out += list(np.quantile(inside / total, [0.05, 0.95]))
    return out[0], out[1], out[2], out[3]


def report(rows: list[dict]) -> str:
    import pandas as pd

    if not rows:
        return "nothing recorded"
    frame = pd.DataFrame(rows)
    lines = [
        "| world | world seed | fit seed | claims | wall s | R-hat | ESS bulk/tail | div. | 90% | 50% | bias side "
        "| stance side | biases in 90% |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    if "world_seed" not in frame:
        frame["world_seed"] = 0
    frame["world_seed"] = frame["world_seed"].fillna(0).astype(int)
    for r in frame.itertuples():
        who = f"| {r.world} | {r.world_seed} | {r.fit_seed} | {r.n_claims} |"
        if getattr(r, "exit_code", 0) != 0:
            lines.append(f"{who} {r.wall_seconds} | failed | | | | | | | |")
            continue
        lines.append(
            f"{who} {r.wall_seconds:.0f} | {r.max_rhat:.3f} | "
            f"{r.min_ess_bulk:.0f}/{r.min_ess_tail:.0f} | {r.divergences} | {r.coverage90:.0%} | {r.coverage50:.0%} | "
            f"{(r.bias_same_side if r.bias_same_side == r.bias_same_side and r.bias_same_side is not None else float('nan')):.0%} | "
            f"{_percent(stance_side(r.biases) if isinstance(r.biases, list) else None)} | "
            f"{_percent(getattr(r, 'bias_in90', None))} |"
        )
    ok = frame[frame.get("exit_code", 0) == 0]
    if len(ok):
        checks = pd.concat(
            [
                pd.DataFrame(c).assign(war=f"{w} {s}")
                for c, w, s in zip(ok["checkpoints"], ok["world"], ok["world_seed"])
            ]
        )
        lines.append("")
        lines.append(
            f"Pooled over {len(ok)} fits ({len(checks)} checkpoint values): 90% intervals cover "
            f"{checks['in90'].mean():.1%}, 50% intervals {checks['in50'].mean():.1%}; "
            + ", ".join(f"{c} {p['in90'].mean():.0%}" for c, p in checks.groupby("category"))
            + f". Converged: {int(ok['converged'].sum())} of {len(ok)}; divergences: {int(ok['divergences'].sum())}."
        )
        wars = checks.groupby("war")[["in90", "in50"]].agg(["sum", "count"])
        if len(wars) > 1:
            low90, high90, low50, high50 = war_bootstrap(wars)
            lines.append(
                f"The pooled coverage's uncertainty over the {len(wars)} wars (world, world seed) fitted, "
                f"resampled with replacement: 90% intervals {low90:.1%}-{high90:.1%}, 50% intervals "
                f"{low50:.1%}-{high50:.1%} (90% bootstrap intervals; a war's checkpoints and fit seeds "
                "move together, so the wars, not the values, are the units)."
            )
        biases = [b for listed in ok["biases"] if isinstance(listed, list) for b in listed]
        if biases:
            lines.append(
                f"Source biases ({len(biases)} values, every (source, stance) pair and running count the "
                f"world knows): inside their 90% intervals {sum(bool(b['in90']) for b in biases) / len(biases):.1%}."
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--world", action="append", help="a named world (repeatable; default: every world up to 2,000 claims)"
    )
    parser.add_argument("--seeds", default="1,2,3", help="fit seeds, comma-separated (default 1,2,3)")
    parser.add_argument("--world-seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--report", action="store_true", help="print the table of recorded rows and exit")
    parser.add_argument("--tag", default="", help="a label stored with each row (e.g. the variant measured)")
    parser.add_argument("extra", nargs="*", help="extra arguments for `reconcile fit` (after --)")
    args = parser.parse_args(argv)
    if args.report:
        rows = (
            [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
            if args.results.exists()
            else []
        )
        if args.tag:
            rows = [r for r in rows if r.get("tag") == args.tag]
        print(report(rows))
        return 0
    worlds = args.world or list(UP_TO_2000)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reconcile-worlds-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in worlds:
        for seed in seeds:
            row = run_one(name, args.world_seed, seed, workdir, args.extra)
            row["tag"] = args.tag
            rows.append(row)
            with args.results.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, default=str) + "\n")
            summary = {
                k: row.get(k)
                for k in (
                    "world",
                    "fit_seed",
                    "wall_seconds",
                    "max_rhat",
                    "min_ess_bulk",
                    "min_ess_tail",
                    "divergences",
                    "coverage90",
                    "coverage50",
                    "bias_same_side",
                    "bias_stance_side",
                    "exit_code",
                )
            }
            print(json.dumps(summary), flush=True)
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
