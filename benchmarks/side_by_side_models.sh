#!/usr/bin/env bash
# Two models side by side, in one run, alternating: the shipped data and two data-rich worlds
# (world seed 0), fit seed 1, default settings, warm caches (run each model once beforehand).
#   OLD_SRC=/path/to/worktree-at-old-commit/src bash benchmarks/side_by_side_models.sh
# Prints one line per fit: wall, compile and sampling seconds, R-hat, ESS, divergences.
set -u
OLD_SRC=${OLD_SRC:?set OLD_SRC to the src/ of a worktree at the old commit}
ROUNDS=${ROUNDS:-3}
W=${W:-$(mktemp -d)}; mkdir -p "$W"
cd "$(dirname "$0")/.."
for world in ministry-500 two-tallies-495; do
  python -c "from reconcile.worlds import make_world, write_world; write_world(make_world('$world', seed=0), '$W/$world.csv', '$W/$world-truth.csv')"
done
fit() {  # model name, claims, out, extra args...
  local m=$1 claims=$2 out=$3; shift 3
  rm -rf "$out"
  local s e rc
  s=$(date +%s.%N)
  if [ "$m" = old ]; then PYTHONPATH=$OLD_SRC reconcile fit "$claims" --out "$out" --seed 1 --quiet "$@"; else reconcile fit "$claims" --out "$out" --seed 1 --quiet "$@"; fi
  rc=$?; e=$(date +%s.%N)
  echo "$(basename "$claims" .csv) $m rc=$rc wall=$(echo "$e - $s" | bc) $(python3 -c "import json;d=json.load(open('$out/diagnostics.json'));print('compile',d.get('compile_seconds'),'sampling',d.get('sampling_seconds'),'rhat',round(d['max_rhat'],4),'ess',round(d['min_ess_bulk']),round(d['min_ess_tail']),'div',d['divergences'])")"
}
for i in $(seq 1 "$ROUNDS"); do
  for m in old new; do
    fit $m data/claims.csv "$W/ship-$m-$i" --config models/kursk.toml
    for world in ministry-500 two-tallies-495; do fit $m "$W/$world.csv" "$W/$world-$m-$i"; done
  done
done
