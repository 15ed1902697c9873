#!/bin/bash
# Whole-process runs of one shipped case, alternating between another installation's electrolyx
# (e.g. the main checkout's, before a change) and this checkout's, fresh processes; the wall time
# of each process and the load average before/after are written to OUT/log.txt.
#
#   bench/old_vs_new.sh OLD_ELECTROLYX CASE PAIRS OUT [--set KEY=VALUE ...]
#
# Each side runs the case folder of its own checkout (OLD_ELECTROLYX/../../cases/CASE). Pair 0
# is a warm-up (form compilation) and is not counted; the medians of pairs 1..PAIRS are printed.
set -euo pipefail
old=$1; case=$2; pairs=$3; out=$4; shift 4
root=$(git rev-parse --show-toplevel)
old_root=$(cd "$(dirname "$old")/../.." && pwd)
mkdir -p "$out"; log=$out/log.txt; : > "$log"
for i in $(seq 0 "$pairs"); do
  for which in old new; do
    if [ $which = old ]; then exe=$old; dir=$old_root/cases/$case
    else exe=$root/.venv/bin/electrolyx; dir=$root/cases/$case; fi
    rm -rf "$out/$which-$i"
    load0=$(cut -d' ' -f1 /proc/loadavg); start=$(date +%s.%N)
    (cd /tmp && "$exe" run "$dir" --out "$out/$which-$i" --quiet "$@")
    end=$(date +%s.%N)
    echo "$which $i wall=$(echo "$end - $start" | bc) load=$load0/$(cut -d' ' -f1 /proc/loadavg)" \
      "$(date -u +%H:%M:%S)" >> "$log"
  done
done
python3 - "$log" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for which in ("old", "new"):
    walls = [float(r[2][5:]) for r in rows if r[0] == which and r[1] != "0"]
    print(f"{which}: median {statistics.median(walls):.2f} s over {len(walls)} runs", walls)
PY
