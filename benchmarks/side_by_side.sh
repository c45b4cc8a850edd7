#!/usr/bin/env bash
# Side by side, one run: the shipped data (warm caches), long-2000 and, with HUGE=1, huge-10000
# (world seed 0), old model (66cd6b5, before issue 17) against the new one (main), alternating.
# Fit seed 1, default settings. The old model reads its own configuration of the shipped data:
#   git worktree add /tmp/old 66cd6b5
#   OLD="env PYTHONPATH=/tmp/old/src python -c 'import sys; from reconcile.cli import main; sys.exit(main())'"
#   OLD_CONFIG=/tmp/old/models/kursk.toml HUGE=1 bash benchmarks/side_by_side.sh
set -u
OLD=${OLD:?set OLD to the reconcile command of the old model (e.g. a venv in a worktree at 66cd6b5)}
NEW=${NEW:-reconcile}
OLD_CONFIG=${OLD_CONFIG:-models/kursk.toml}
W=${W:-$(mktemp -d)}; mkdir -p $W
cd "$(dirname "$0")/.."
verdict() {  # a fit directory's R-hat, ESS, divergences, compile and sampling seconds
  python3 -c "import json,sys;d=json.load(open(sys.argv[1]+'/diagnostics.json'));print('rhat',round(d['max_rhat'],4),'ess',round(d['min_ess_bulk']),round(d['min_ess_tail']),'div',d['divergences'],'compile',d.get('compile_seconds'),'sampling',d.get('sampling_seconds'))" "$1"
}
for i in 0 1 2 3; do   # run 0 warms both caches and is not counted
  for m in old new; do
    bin=$OLD; cfg=$OLD_CONFIG; [ $m = new ] && bin=$NEW && cfg=models/kursk.toml
    rm -rf $W/ship-$m-$i
    s=$(date +%s.%N); eval "$bin" fit data/claims.csv --config $cfg --out $W/ship-$m-$i --seed 1 --quiet; rc=$?
    e=$(date +%s.%N)
    echo "shipped $m run$i rc=$rc wall=$(echo "$e - $s" | bc) $(verdict $W/ship-$m-$i)"
  done
done
worlds="long-2000"; [ "${HUGE:-0}" = 1 ] && worlds="long-2000 huge-10000"
for world in $worlds; do
  python -c "from reconcile.worlds import make_world, write_world; write_world(make_world('$world', seed=0), '$W/$world.csv', '$W/$world-truth.csv')"
  for m in old new; do
    bin=$OLD; [ $m = new ] && bin=$NEW
    rm -rf $W/$world-$m
    s=$(date +%s.%N); eval "$bin" fit $W/$world.csv --out $W/$world-$m --seed 1 --quiet; rc=$?
    e=$(date +%s.%N)
    echo "$world $m rc=$rc wall=$(echo "$e - $s" | bc) $(verdict $W/$world-$m)"
  done
done
