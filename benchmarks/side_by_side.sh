#!/usr/bin/env bash
# Side by side, one run: the shipped data (warm caches) and long-2000 (world seed 0), old model
# (66cd6b5, before issue 17) against the new one (main), alternating. Fit seed 1, default settings.
set -u
OLD=${OLD:?set OLD to the reconcile command of the old model (e.g. a venv in a worktree at 66cd6b5)}
NEW=${NEW:-reconcile}
W=${W:-$(mktemp -d)}; mkdir -p $W
cd "$(dirname "$0")/.."
python -c "from reconcile.worlds import make_world, write_world; write_world(make_world('long-2000', seed=0), '$W/long.csv', '$W/long-truth.csv')"
for i in 0 1 2 3; do   # run 0 warms both caches and is not counted
  for m in old new; do
    bin=$OLD; [ $m = new ] && bin=$NEW
    rm -rf $W/ship-$m-$i
    s=$(date +%s.%N); $bin fit data/claims.csv --config models/kursk.toml --out $W/ship-$m-$i --seed 1 --quiet; rc=$?
    e=$(date +%s.%N)
    echo "shipped $m run$i rc=$rc wall=$(echo "$e - $s" | bc) $(python3 -c "import json;d=json.load(open('$W/ship-$m-$i/diagnostics.json'));print('rhat',round(d['max_rhat'],4),'ess',round(d['min_ess_bulk']),round(d['min_ess_tail']),'div',d['divergences'],'compile',d.get('compile_seconds'),'sampling',d.get('sampling_seconds'))")"
  done
done
for m in old new; do
  bin=$OLD; [ $m = new ] && bin=$NEW
  rm -rf $W/long-$m
  s=$(date +%s.%N); $bin fit $W/long.csv --out $W/long-$m --seed 1 --quiet; rc=$?
  e=$(date +%s.%N)
  echo "long-2000 $m rc=$rc wall=$(echo "$e - $s" | bc) $(python3 -c "import json;d=json.load(open('$W/long-$m/diagnostics.json'));print('rhat',round(d['max_rhat'],4),'ess',round(d['min_ess_bulk']),round(d['min_ess_tail']),'div',d['divergences'],'compile',d.get('compile_seconds'),'sampling',d.get('sampling_seconds'))")"
done
