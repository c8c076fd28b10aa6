"""Peak memory of a 10M-row ledger: in one frame, and streamed from Parquet in row chunks.

    python benchmarks/bench_memory.py                   # 10M rows, chunks of 1M
    python benchmarks/bench_memory.py --rows 2000000 --chunk 500000

Each measurement runs in a fresh subprocess (peak RSS = resource.getrusage(RUSAGE_SELF).ru_maxrss of that
process only); the input Parquet file is written first by a separate subprocess. Prints one JSON object per
measurement and the ratio streamed / in-memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # pragma: no cover
        return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_write(path: str, rows: int) -> dict:
    sys.path.insert(0, str(HERE))
    from bench_engine import ledger

    t = time.perf_counter()
    ledger(rows).write_parquet(path, row_group_size=256_000)
    return dict(step="write_input", rows=rows, seconds=round(time.perf_counter() - t, 2),
                file_mb=round(os.path.getsize(path) / 2**20, 1), peak_rss_mb=round(peak_mb()))


def child_in_memory(path: str) -> dict:
    import polars as pl

    from carveout.engine import evaluate

    frame = pl.read_parquet(path)
    loaded = rss_mb()
    t = time.perf_counter()
    out = evaluate(frame, screen=False)
    dt = time.perf_counter() - t
    return dict(step="in_memory", rows=out.height, seconds=round(dt, 2), rows_per_s=round(out.height / dt),
                rss_after_load_mb=round(loaded), peak_rss_mb=round(peak_mb()),
                output_mb=round(out.estimated_size() / 2**20))


def child_streamed(path: str, chunk: int) -> dict:
    import polars as pl

    from carveout.engine import evaluate

    out_dir = Path(tempfile.mkdtemp(prefix="carveout-stream-"))
    lf = pl.scan_parquet(path)
    total = lf.select(pl.len()).collect().item()
    t = time.perf_counter()
    for i, start in enumerate(range(0, total, chunk)):
        part = lf.slice(start, chunk).collect()
        part = part.with_columns(row=pl.int_range(start, start + part.height, dtype=pl.UInt32))
        evaluate(part, screen=False).drop("day").write_parquet(out_dir / f"part-{i:05d}.parquet")
    dt = time.perf_counter() - t
    rows = pl.scan_parquet(out_dir / "*.parquet").select(pl.len()).collect().item()
    for p in out_dir.iterdir():
        p.unlink()
    out_dir.rmdir()
    return dict(step="streamed", rows=rows, chunk=chunk, seconds=round(dt, 2), rows_per_s=round(rows / dt),
                peak_rss_mb=round(peak_mb()))


def run_child(*args: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.child:
        what, *rest = args.child
        fn = {"write": lambda: child_write(rest[0], int(rest[1])), "memory": lambda: child_in_memory(rest[0]),
              "stream": lambda: child_streamed(rest[0], int(rest[1]))}[what]
        print(json.dumps(fn()))
        return 0
    with tempfile.TemporaryDirectory(prefix="carveout-bench-") as d:
        path = str(Path(d) / "ledger.parquet")
        results = [run_child("write", path, str(args.rows))]
        results.append(run_child("memory", path))
        results.append(run_child("stream", path, str(args.chunk)))
    for r in results:
        print(json.dumps(r), flush=True)
    mem, stream = results[1], results[2]
    print(f"\nsummary: {args.rows:,} rows — in memory peak {mem['peak_rss_mb']:,} MB "
          f"({mem['rows_per_s']:,} rows/s); streamed in {args.chunk:,}-row chunks peak {stream['peak_rss_mb']:,} MB "
          f"({stream['rows_per_s']:,} rows/s): {stream['peak_rss_mb'] / mem['peak_rss_mb']:.2f} x the memory, "
          f"{stream['rows_per_s'] / mem['rows_per_s']:.2f} x the speed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
