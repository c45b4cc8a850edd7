"""Where a fit's divergent transitions go: refit a claims file with nutpie storing each divergent
transition's start and end, and print, for each, the unconstrained parameters that moved most
(in posterior standard deviations), how far from the posterior mean it started, which terms of the
log density fell most between its start and its end, and which coordinates pulled hardest at its
start (gradient times posterior sd).

    python benchmarks/experiments/divergence_locations.py CLAIMS.csv SEED [CONFIG.toml]

Used for benchmarks/WORLDS.md ("Where `long-2000` diverges", "The killed share's knots ...").
It patches ``nutpie.sample`` (``store_divergences``, ``store_unconstrained``) and calls
``reconcile.fitting.fit``; the unconstrained vector is laid out in ``model.value_vars`` order.
"""

from __future__ import annotations

import sys

import numpy as np
import nutpie
from pymc.blocking import DictToArrayBijection, RaveledVars

from reconcile.claims import read_claims
from reconcile.config import load_config
from reconcile.fitting import fit
from reconcile.model import build_model

_sample = nutpie.sample


def _storing(*args, **kwargs):
    kwargs["store_divergences"] = True
    kwargs["store_unconstrained"] = True
    kwargs["store_gradient"] = True
    return _sample(*args, **kwargs)


def main(argv: list[str]) -> None:
    path, seed = argv[0], int(argv[1])
    config = load_config(argv[2] if len(argv) > 2 else None)
    claims = read_claims(path)
    nutpie.sample = _storing
    result = fit(claims, config, seed=seed)
    stats = result.idata.sample_stats
    diverging = stats["diverging"].values
    print(f"{int(diverging.sum())} divergent transitions")
    model = build_model(claims, config)
    point = model.initial_point()
    labels = [f"{v.name}[{i}]" for v in model.value_vars for i in range(point[v.name].size)]
    terms = model.compile_logp(sum=False)
    term_names = [model.values_to_rvs[v].name for v in model.value_vars] + [
        v.name for v in [*model.observed_RVs, *model.potentials]
    ]
    # the unconstrained vector back into the value variables, as PyMC lays it out
    layout = DictToArrayBijection.map({v.name: point[v.name] for v in model.value_vars}).point_map_info

    def values(flat):
        return DictToArrayBijection.rmap(RaveledVars(flat, layout))

    draws = stats["unconstrained_draw"].values
    flat = draws.reshape(-1, draws.shape[-1])
    mean, sd = flat.mean(axis=0), flat.std(axis=0)
    start, end = stats["divergence_start"].values, stats["divergence_end"].values
    for chain, draw in zip(*np.nonzero(diverging)):
        move = np.abs(end[chain, draw] - start[chain, draw]) / sd
        z = (start[chain, draw] - mean) / sd
        top = np.argsort(move)[::-1][:10]
        print(f"chain {chain}, draw {draw}: start's largest |z| {np.abs(z).max():.1f}; moved most:")
        for i in top:
            print(f"    {labels[i]:40s} moved {move[i]:.2f} sd (started at z = {z[i]:+.2f})")
        before, after = terms(values(start[chain, draw])), terms(values(end[chain, draw]))
        change = sorted((float(np.sum(b) - np.sum(a)), name) for a, b, name in zip(before, after, term_names))
        print("  log density, start to end, by term: " + ", ".join(f"{n} {c:+.1f}" for c, n in change))
        pull = stats["divergence_start_gradient"].values[chain, draw] * sd
        print(
            "  pulled hardest at the start (gradient x sd): "
            + ", ".join(f"{labels[i]} {pull[i]:+.0f}" for i in np.argsort(-np.abs(pull))[:6])
        )


if __name__ == "__main__":
    main(sys.argv[1:])
