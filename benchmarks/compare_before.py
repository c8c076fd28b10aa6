"""Another source tree's engine, measured like bench_engine (same ledgers), for a same-window ratio on a
shared machine:

    git archive a273737 src | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before/src python benchmarks/compare_before.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import all_distinct, base_ledger, ledger, timed, transaction  # noqa: E402

from carveout import api  # noqa: E402
from carveout.engine import evaluate  # noqa: E402


def emit(**kw) -> None:
    print(json.dumps(kw), flush=True)


def main() -> None:
    emit(kind="load", loadavg_1min=round(os.getloadavg()[0], 2))
    base = base_ledger()
    evaluate(base.head(50), screen=False)
    for n in (100_000, 1_000_000):
        frame = ledger(n, base)
        dt = timed(lambda f=frame: evaluate(f, screen=False), 3 if n < 1_000_000 else 2)
        emit(kind="evaluate_before", rows=n, seconds=round(dt, 4), rows_per_s=round(n / dt))
    frame = all_distinct(ledger(100_000, base))
    dt = timed(lambda f=frame: evaluate(f, screen=False), 1)
    emit(kind="evaluate_all_distinct_before", rows=100_000, seconds=round(dt, 4), rows_per_s=round(100_000 / dt))
    rows = ledger(20_000, base)
    txns = [transaction(r) for r in rows[random.Random(5).sample(range(rows.height), 100)].to_dicts()]
    api.check(txns[0])
    ts = []
    for x in txns:
        t = time.perf_counter()
        api.check(x)
        ts.append(time.perf_counter() - t)
    ts.sort()
    emit(kind="check_before", n=100, median_ms=round(1000 * statistics.median(ts), 2), p99_ms=round(1000 * ts[98], 2))


if __name__ == "__main__":
    main()
