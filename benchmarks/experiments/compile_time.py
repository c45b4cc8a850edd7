"""How long a war's model takes to build and compile in a fresh process, and the cache key of its
compiled log density (the same key in every process means the second compile loads from disk).

    python benchmarks/experiments/compile_time.py CLAIMS.csv [CONFIG.toml]

Used for benchmarks/RESULTS.md ("a war compiled once"): run it twice on a war, or alternate two
trees with ``PYTHONPATH=<tree>/src``. Nothing is written but the compile caches.
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    from reconcile._nutpie import compile_model
    from reconcile.claims import read_claims
    from reconcile.config import load_config
    from reconcile.fitting import quiet_libraries
    from reconcile.model import build_model

    with quiet_libraries():
        model = build_model(read_claims(argv[0]), load_config(argv[1] if len(argv) > 1 else None))
        built = time.perf_counter()
        compiled = compile_model(model)
        done = time.perf_counter()
    key = CACHED_SRC_FUNCTIONS.get(getattr(compiled.logp_func.vm.jit_fn, "py_func", None))
    print(f"build {built - started:.1f} s  compile {done - built:.1f} s  logp key {key}")


if __name__ == "__main__":
    main(sys.argv[1:])
