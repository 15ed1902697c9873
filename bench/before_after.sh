#!/bin/bash
# Whole-process runs of one shipped case, alternating between an earlier commit's code and this
# checkout, fresh processes; timings_s of each run.json are the numbers (bench/README.md, "PNP
# transients and the half cell on TS").
#
#   bench/before_after.sh COMMIT CASE PAIRS [RUN ARGUMENTS...]
#
# RUN ARGUMENTS go to both sides' `electrolyx run` (e.g. --set overrides). RANKS=N in the
# environment runs both sides under `mpiexec -n N` (results under CASE-nN).
#
# COMMIT's electrolyx, forms, meshes, postprocess and cases are unpacked under
# /tmp/before-after-COMMIT/site/electrolyx (the layout of the installed package) and put first on
# PYTHONPATH for the "base" runs; the "new" runs use this checkout's editable install. Pair 0 is
# a warm-up (form compilation). Results and a log with the load average go to
# /tmp/before-after-COMMIT/CASE/.
set -euo pipefail
commit=$1; case=$2; pairs=$3; shift 3
unset PYTHONDONTWRITEBYTECODE  # both sides with their bytecode written, as installed
root=$(git rev-parse --show-toplevel)
base=/tmp/before-after-$commit
if [ ! -d $base/site/electrolyx ]; then
  mkdir -p $base/site
  git -C $root archive $commit electrolyx forms meshes postprocess cases | tar -x -C $base
  mv $base/electrolyx $base/site/
  mv $base/forms $base/meshes $base/postprocess $base/cases $base/site/electrolyx/
fi
ranks=${RANKS:-1}; launcher=(); out=$base/$case
if [ "$ranks" -gt 1 ]; then launcher=($root/.venv/bin/mpiexec -n $ranks); out=$out-n$ranks; fi
mkdir -p $out; log=$out/log.txt; : > $log
for i in $(seq 0 $pairs); do
  for which in base new; do
    # Each side compiles into a form cache of its own, filled by the warm-up pair: FFCx lists
    # the whole cache directory for every form it loads, so a shared, large one would slow
    # whichever side uses it (this machine's ~/.cache/fenics: 36,000 files, 1.9 s a run).
    if [ $which = base ]; then
      export PYTHONPATH=$base/site XDG_CACHE_HOME=$base/base-cache; dir=$base/site/electrolyx/cases/$case
    else
      unset PYTHONPATH XDG_CACHE_HOME; export ELECTROLYX_FORM_CACHE=$base/new-forms; dir=$root/cases/$case
    fi
    rm -rf $out/$which-$i
    load0=$(cut -d' ' -f1 /proc/loadavg); start=$(date +%s.%N)
    (cd /tmp && "${launcher[@]}" $root/.venv/bin/python -m electrolyx run $dir --out $out/$which-$i --quiet "$@")
    end=$(date +%s.%N)
    echo "$which $i wall=$(echo "$end - $start" | bc) load=$load0/$(cut -d' ' -f1 /proc/loadavg)" \
      "$(date -u +%H:%M:%S)" >> $log
  done
done
