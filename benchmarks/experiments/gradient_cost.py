"""What one evaluation of a war's log density and its gradient costs, compiled with numba (the
function nutpie calls at every leapfrog step), and its value, to check two trees compute the same.

    python benchmarks/experiments/gradient_cost.py CLAIMS.csv [CALLS]

The point is the model's initial point plus N(0, 0.1) noise (seed 0); 5 rounds of CALLS calls
(default 100), the median per call is reported, one JSON line. Used for benchmarks/RESULTS.md
("the walk's rotation block by block"): alternate two trees with ``PYTHONPATH=<tree>/src``::

    for r in 1 2 3; do for tree in /path/before /path/after; do
        PYTHONPATH=$tree/src python benchmarks/experiments/gradient_cost.py long-2000.csv 50
    done; done
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> None:
    import numpy as np

    import reconcile
    from reconcile.claims import read_claims
    from reconcile.config import load_config
    from reconcile.fitting import quiet_libraries
    from reconcile.model import build_model

    calls = int(argv[1]) if len(argv) > 1 else 100
    with quiet_libraries():
        model = build_model(read_claims(argv[0]), load_config())
        start = model.initial_point()
        point = np.concatenate([np.ravel(start[v.name]) for v in model.value_vars])
        point = point + 0.1 * np.random.default_rng(0).standard_normal(point.size)
        began = time.perf_counter()
        function = model.logp_dlogp_function(ravel_inputs=True, mode="NUMBA")
        function.set_extra_values({})
        logp, grad = function(point)
        compiled = time.perf_counter() - began
    rounds = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(calls):
            function(point)
        rounds.append((time.perf_counter() - began) / calls * 1e3)
    print(
        json.dumps(
            {
                "tree": reconcile.__file__,
                "claims": argv[0],
                "compile_s": round(compiled, 1),
                "ms_per_call_median": round(float(np.median(rounds)), 3),
                "ms_per_call": [round(r, 3) for r in rounds],
                "logp": float(logp),
                "grad_norm": float(np.linalg.norm(grad)),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
