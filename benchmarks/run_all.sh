#!/usr/bin/env bash
# Run every benchmark; each prints JSON lines (kept in benchmarks/out/) and a summary with its ratios.
#   benchmarks/run_all.sh            # full: 10k..10M rows, 10M-row memory run (~10 min on 2 cores, ~12 GB RAM)
#   QUICK=1 benchmarks/run_all.sh    # smoke: 10k and 100k rows, 1M-row memory run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=benchmarks/out
mkdir -p "$OUT"
{
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true
  grep -m1 MemTotal /proc/meminfo || true
  "$PY" -c 'import polars, sys; print("python", sys.version.split()[0], "polars", polars.__version__)'
} | tee "$OUT/machine.txt"
if [[ "${QUICK:-0}" == "1" ]]; then
  ENGINE_ARGS=(--sizes 10000,100000 --distinct 100000 --baseline 60)
  MEMORY_ARGS=(--rows 1000000 --chunk 250000)
else
  ENGINE_ARGS=()
  MEMORY_ARGS=()
fi
echo "== bench_engine.py ${ENGINE_ARGS[*]:-}"
"$PY" benchmarks/bench_engine.py "${ENGINE_ARGS[@]}" | tee "$OUT/engine.jsonl"
echo "== bench_memory.py ${MEMORY_ARGS[*]:-}"
"$PY" benchmarks/bench_memory.py "${MEMORY_ARGS[@]}" | tee "$OUT/memory.jsonl"
if [[ "${QUICK:-0}" == "1" ]]; then
  FRONTIER_ARGS=(--rows 100000 --combos 50)
  SERVICE_ARGS=(--seconds 5)
else
  FRONTIER_ARGS=(--rows 1000000 --combos 1000)
  SERVICE_ARGS=(--seconds 30)
fi
echo "== bench_screening.py"
"$PY" benchmarks/bench_screening.py | tee "$OUT/screening.txt"
echo "== bench_frontier.py ${FRONTIER_ARGS[*]}"
"$PY" benchmarks/bench_frontier.py "${FRONTIER_ARGS[@]}" | tee "$OUT/frontier.txt"
echo "== bench_service.py ${SERVICE_ARGS[*]}"
"$PY" benchmarks/bench_service.py "${SERVICE_ARGS[@]}" | tee "$OUT/service.txt"
echo "== bench_shock.py"
"$PY" benchmarks/bench_shock.py | tee "$OUT/shock.jsonl"
