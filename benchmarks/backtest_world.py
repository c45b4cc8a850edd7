"""Backtest a simulated war whose truth is known: do the as-of fits hold the truth, and do they
predict the claims that came later?

Draws an independent test world (``reconcile.worlds``; its truth shares nothing with the model),
runs ``reconcile.backtest.backtest`` on its claims, and sets two checks side by side:

* **truth**: the share of vintages' 90% (and 50%) intervals of the cumulative losses *at the
  vintage's own day* (the nowcast, with only the claims known then) that hold the true figure,
  over every vintage, population and category;
* **later claims**: the share of claims reported after each vintage inside the vintage's 90%
  (and 50%) posterior predictive intervals, by horizon (``forecast_coverage.csv``): the only check
  a real war allows, where no truth is known.

    python benchmarks/backtest_world.py --world ministry-500 --every 30 --out analyses/backtest-ministry-500

Writes into ``--out`` the backtest's own outputs, ``world/`` (claims and truth), ``truth_check.csv``
(one row per vintage, population and category), ``summary.json`` and ``COMMAND.txt``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import pandas as pd


def truth_check(vintages: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The vintages' estimates at their own day beside the truth of that day."""
    now = vintages[vintages["at_vintage"].astype(str).isin(["True", "true", "1"]) & vintages["q50"].notna()]
    truth = truth.assign(date=pd.to_datetime(truth["date"]).dt.strftime("%Y-%m-%d"))
    long = truth.melt(
        id_vars=["population", "date"],
        value_vars=["cum_killed", "cum_wounded", "cum_casualties"],
        var_name="category",
        value_name="truth",
    )
    long["category"] = long["category"].str.removeprefix("cum_")
    out = now.merge(long, on=["population", "date", "category"], how="inner")
    out["in50"] = (out["q25"] <= out["truth"]) & (out["truth"] <= out["q75"])
    out["in90"] = (out["q05"] <= out["truth"]) & (out["truth"] <= out["q95"])
    return out[
        ["vintage", "population", "category", "date", "truth", "q05", "q25", "q50", "q75", "q95", "in50", "in90"]
    ]


def main(argv: list[str] | None = None) -> int:
    from reconcile.backtest import backtest
    from reconcile.claims import read_claims
    from reconcile.config import load_config
    from reconcile.worlds import make_world, write_world

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", default="ministry-500")
    parser.add_argument("--world-seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=30, help="days between vintages")
    parser.add_argument("--seed", type=int, default=1, help="root seed of the fits")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path, help="a model configuration (TOML) instead of the defaults")
    args = parser.parse_args(argv)

    out = args.out
    (out / "world").mkdir(parents=True, exist_ok=True)
    claims_path, truth_path = out / "world" / "claims.csv", out / "world" / "truth.csv"
    write_world(make_world(args.world, seed=args.world_seed), claims_path, truth_path)
    started = time.perf_counter()
    table = backtest(
        read_claims(claims_path),
        load_config(args.config),
        every=args.every,
        out_dir=out,
        seed=args.seed,
        workers=args.workers,
    )
    seconds = time.perf_counter() - started
    check = truth_check(table, pd.read_csv(truth_path))
    check.to_csv(out / "truth_check.csv", index=False)
    coverage = table.attrs["forecast_coverage"]
    fitted = table.drop_duplicates("vintage")
    summary = {
        "world": args.world,
        "world_seed": args.world_seed,
        "every_days": args.every,
        "config": str(args.config) if args.config else None,
        "vintages": int(fitted["vintage"].nunique()),
        "vintages_converged": int((fitted["converged"] == True).sum()),  # noqa: E712
        "truth_n": int(len(check)),
        "truth_coverage50": float(check["in50"].mean()),
        "truth_coverage90": float(check["in90"].mean()),
        "later_claims": {
            f"{r.by}:{r.group}": {"n": int(r.n), "coverage50": r.coverage_50, "coverage90": r.coverage_90}
            for r in coverage.itertuples()
        },
        "wall_seconds": round(seconds, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "COMMAND.txt").write_text(
        "python benchmarks/backtest_world.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])) + "\n",
        encoding="utf-8",
    )
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
