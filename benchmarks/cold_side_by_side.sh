#!/bin/bash
# A first fit with empty caches, side by side: for each tree in turn (alternated, ROUNDS rounds),
# an empty HOME and TMPDIR (so no PyTensor or numba cache of the project's model), then
#   PYTHONPATH=<tree>/src python -m reconcile fit data/claims.csv --config models/kursk.toml --out OUT --seed 1
# Usage: BEFORE=<worktree> AFTER=<worktree> [ROUNDS="1 2"] [WORK=/tmp/cold] benchmarks/cold_side_by_side.sh
# Prints one line per run: wall, when sampling started (the end of compiling), convergence.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
WORK=${WORK:-/tmp/cold}
for round in ${ROUNDS:-1 2}; do for tree in before after; do
  if [ $tree = before ]; then src=$BEFORE/src; else src=$AFTER/src; fi
  d=$WORK/$tree-$round; rm -rf "$d"; mkdir -p "$d/home" "$d/tmp"
  start=$(date +%s.%N)
  HOME=$d/home TMPDIR=$d/tmp PYTHONPATH=$src $PY -m reconcile fit data/claims.csv --config models/kursk.toml --out "$d/out" --seed 1 > "$d/log" 2>&1
  rc=$?; end=$(date +%s.%N)
  echo "$tree round $round rc $rc wall $(echo "$end - $start" | bc) $(grep -o 'sampling... ([0-9]* s)' "$d/log") $(grep Converged "$d/log")"
done; done
