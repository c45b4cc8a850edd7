#!/usr/bin/env bash
# Warm fits of the shipped data, two source trees alternated in one run (fresh process each,
# PYTHONPATH at the tree), one warm-up round then four counted:
#   BASE=/path/to/worktree/src HEAD=/path/to/tree/src benchmarks/warm_side_by_side.sh
# Prints one line per run: wall seconds, the fit's own seconds, R-hat and divergences; each run's
# progress lines (when each stage began, in whole seconds) are kept in $W/<tree>-<run>.log.
# `python -m reconcile` (what the console script runs), so that each tree's own entry point runs.
set -u
BASE=${BASE:?set BASE to the src/ of the tree measured first (e.g. a git worktree)}
HEAD=${HEAD:-$(cd "$(dirname "$0")/.." && pwd)/src}
W=${W:-$(mktemp -d)}; mkdir -p "$W"
cd "$(dirname "$0")/.."
for i in 0 1 2 3 4; do for tree in base head; do
  src=$HEAD; [ $tree = base ] && src=$BASE
  out=$W/$tree-$i; rm -rf "$out"
  s=$(date +%s.%N)
  PYTHONPATH=$src python -m reconcile fit data/claims.csv --config models/kursk.toml --out "$out" --seed 1 >/dev/null 2>"$out.log"; rc=$?
  e=$(date +%s.%N)
  echo "$tree run$i rc=$rc wall=$(echo "$e - $s" | bc) $(python -c "import json;d=json.load(open('$out/diagnostics.json'));print('fit',d.get('seconds'),'rhat',round(d['max_rhat'],4),'div',d['divergences'])")"
done; done
