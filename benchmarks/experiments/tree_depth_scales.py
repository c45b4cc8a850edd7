"""What keeps NUTS at its maximum tree depth: run nutpie's warm-up alone on a claims file (diagonal
mass matrix, stored each draw) and print, per group of unconstrained values, the spread of the
adapted posterior variances and of the warm-up draws: a group whose variances span orders of
magnitude, or whose draws have not moved, is what the sampler cannot scale.

    python benchmarks/experiments/tree_depth_scales.py CLAIMS.csv [TUNE] [CONFIG.toml]

Used for benchmarks/WORLDS.md (`huge-10000`). Two chains, TUNE warm-up draws (default 150) and
ten draws after; nothing is written. The unconstrained vector is laid out in
``model.value_vars`` order.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import nutpie

from reconcile._nutpie import compile_model
from reconcile.claims import read_claims
from reconcile.config import load_config
from reconcile.model import build_model


def main(argv: list[str]) -> None:
    path = argv[0]
    tune = int(argv[1]) if len(argv) > 1 else 150
    config = load_config(argv[2] if len(argv) > 2 else None)
    model = build_model(read_claims(path), config)
    point = model.initial_point()
    groups = [(v.name, int(np.size(point[v.name]))) for v in model.value_vars]
    started = time.perf_counter()
    compiled = compile_model(model)
    print(f"compiled in {time.perf_counter() - started:.0f} s; {sum(n for _, n in groups)} unconstrained values")
    started = time.perf_counter()
    trace = nutpie.sample(
        compiled,
        draws=10,
        tune=tune,
        chains=2,
        cores=2,
        seed=1,
        save_warmup=True,
        store_mass_matrix=True,
        store_unconstrained=True,
        progress_bar=False,
    )
    print(f"sampled in {time.perf_counter() - started:.0f} s")
    stats = trace.warmup_sample_stats
    depth = stats["depth"].values
    step = stats["step_size"].values
    for chain in range(depth.shape[0]):
        medians = [int(np.median(depth[chain, i : i + 25])) for i in range(0, tune, 25)]
        print(f"tree depth by 25 warm-up draws (chain {chain}):", medians)
    print("step size at the end of warm-up:", step[:, -1].round(4).tolist())
    inv_mass = stats["mass_matrix_inv"].values[:, -1]  # (chain, value): the adapted variances
    draws = stats["unconstrained_draw"].values  # (chain, draw, value)
    moved = draws[:, tune // 2 :].std(axis=1)  # how far each value moved over the warm-up's second half
    print(f"{'group':28s} {'n':>5s} {'variance min':>12s} {'median':>10s} {'max':>10s} {'moved median':>12s}")
    at = 0
    for name, n in groups:
        v = inv_mass[:, at : at + n].mean(axis=0)
        m = moved[:, at : at + n].mean(axis=0)
        print(f"{name:28s} {n:5d} {v.min():12.2e} {np.median(v):10.2e} {v.max():10.2e} {np.median(m):12.2e}")
        at += n
    v = inv_mass.mean(axis=0)
    print(f"all: variances from {v.min():.2e} to {v.max():.2e} (ratio {v.max() / v.min():.1e})")


if __name__ == "__main__":
    main(sys.argv[1:])
